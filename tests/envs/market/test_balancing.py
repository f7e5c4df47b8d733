"""Real-time balancing (envs.market.balancing): merit order, single price, shedding last."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envs.market.balancing import balance

FLOOR, CAP = -500.0, 3000.0


def run(imb, up_q, up_p, dn_q, dn_p, unit, room, da=50.0):
    r = balance(np.array([imb]), np.array([up_q], float), np.array([up_p], float),
                np.array([dn_q], float), np.array([dn_p], float), unit=np.array(unit),
                unit_room_mw=np.array([room], float), day_ahead_price_eur_per_mwh=np.array([da]),
                price_floor_eur_per_mwh=FLOOR, price_cap_eur_per_mwh=CAP)  # fmt: skip
    return r.price_eur_per_mwh[0], r.activated_mw[0], r.shed_mw[0], r.excess_mw[0]


def test_short_system_activates_the_cheapest_upward_energy_first():
    # 30 MW short; 20 MW left at 60, 40 MW at 80 (unit 0), 50 MW at 70 (unit 1).
    price, act, shed, _ = run(30.0, [20, 40, 50], [60, 80, 70], [0, 0, 0], [60, 80, 70],
                              [0, 0, 1], [100, 100])  # fmt: skip
    assert price == 70.0 and shed == 0.0
    np.testing.assert_allclose(act, [20.0, 0.0, 10.0])


def test_a_units_room_limits_its_blocks_together():
    # Unit 0 has two cheap blocks but only 15 MW of room left (ramp, capacity): the dearer
    # unit 1 sets the price.
    price, act, _, _ = run(30.0, [20, 20, 50], [60, 61, 90], [0, 0, 0], [0, 0, 0],
                           [0, 0, 1], [15, 100])  # fmt: skip
    np.testing.assert_allclose(act, [15.0, 0.0, 15.0])
    assert price == 90.0


def test_load_is_shed_only_when_upward_energy_runs_out_and_then_the_price_is_the_cap():
    price, act, shed, _ = run(100.0, [20, 30], [60, 80], [0, 0], [0, 0], [0, 1], [100, 100])
    np.testing.assert_allclose(act, [20.0, 30.0])
    assert shed == pytest.approx(50.0) and price == CAP


def test_long_system_decrements_the_dearest_accepted_energy_first():
    # 25 MW long; accepted 50 MW must-run at the floor, 30 MW at 40, 20 MW at 90.
    price, act, _, excess = run(-25.0, [0, 0, 0], [FLOOR, 40, 90], [50, 30, 20],
                                [FLOOR, 40, 90], [0, 1, 2], [0, 0, 0])  # fmt: skip
    np.testing.assert_allclose(act, [0.0, -5.0, -20.0])
    assert price == 40.0 and excess == 0.0


def test_tied_blocks_share_the_activation_pro_rata():
    price, act, _, _ = run(30.0, [10, 30, 50], [60, 70, 70], [0, 0, 0], [0, 0, 0],
                           [0, 1, 2], [100, 100, 100])  # fmt: skip
    # 20 MW left after the 60 EUR block, shared 30:50 by the two 70 EUR blocks.
    np.testing.assert_allclose(act, [10.0, 7.5, 12.5])
    assert price == 70.0


def test_balanced_system_keeps_the_day_ahead_price():
    price, act, shed, excess = run(0.0, [10], [60], [10], [60], [0], [100], da=42.0)
    assert price == 42.0 and shed == excess == 0.0 and not act.any()


@settings(max_examples=200, deadline=None)
@given(
    st.floats(-300, 300),
    st.lists(
        st.tuples(
            st.floats(0, 60),
            st.sampled_from([-500.0, 0.0, 20.0, 50.0, 90.0]),
            st.floats(0, 60),
            st.integers(-1, 2),
        ),
        min_size=1,
        max_size=8,
    ),
    st.lists(st.floats(0, 80), min_size=3, max_size=3),
)
def test_activation_covers_the_imbalance_in_merit_order_within_every_limit(imb, blocks, room):
    up_q = [b[0] for b in blocks]
    prices = [b[1] for b in blocks]
    dn_q = [b[2] for b in blocks]
    unit = [b[3] for b in blocks]
    price, act, shed, excess = run(imb, up_q, prices, dn_q, prices, unit, room)
    assert FLOOR <= price <= CAP
    assert shed >= 0.0 and excess >= 0.0
    # Energy: what is activated plus what is shed (or minus the surplus) is the imbalance.
    assert act.sum() + shed - excess == pytest.approx(imb, abs=1e-6)
    assert np.all(act <= np.array(up_q) + 1e-9) and np.all(act >= -np.array(dn_q) - 1e-9)
    used = np.zeros(3)
    for a, u in zip(act, unit, strict=True):
        if u >= 0 and a > 0:
            used[u] += a
    assert np.all(used <= np.array(room) + 1e-6)
    p = np.array(prices)
    if imb > 1e-6:
        assert np.all(act >= -1e-12)
        # Merit order: nothing dearer than the price is activated.
        assert np.all(act[p > price + 1e-9] <= 1e-9)
        if shed > 1e-6:
            assert price == CAP
    elif imb < -1e-6:
        assert np.all(act <= 1e-12)
        assert np.all(act[p < price - 1e-9] >= -1e-9)
