"""The real-time rules of market model v2 on hand cases (envs/market/balancing.py,
envs/sim/clearing.py and the imbalance settlement of envs/market/settlement.py): the ORDC
adder, the coupling of the
imbalance price to the day-ahead price, shedding pro rata, consumers' cost shares and
dual pricing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from envs.config.scenario import load_scenario
from envs.market import balancing as bl
from envs.market import reserve as rs
from envs.market import settlement as sm
from envs.sim import clearing as cl
from envs.sim.build import build_core


def _core(**overrides):
    """The default scenario's core (cap 3000, reserve scarcity 500 EUR/MW-h)."""
    return build_core(load_scenario("default", overrides, days=1), 1, record_ledger=False)


def _adder(core, req, headroom, energy_price):
    """The ORDC adder of ``core``'s rules (:func:`envs.market.balancing.ordc_adder`)."""
    return bl.ordc_adder(core.balancing_rules, core.reserve_rules, core.spot_rules, req,
                         headroom, energy_price)  # fmt: skip


def test_reserve_demand_curve_is_sloped_in_equal_steps():
    rr = _core().reserve_rules
    rdq, rdp = np.empty(rr.demand_blocks), np.empty(rr.demand_blocks)
    rs.demand_curve_row(rr, 40.0, rdq, rdp)
    np.testing.assert_allclose(rdq, [10.0] * 4)
    np.testing.assert_allclose(rdp, [500.0, 375.0, 250.0, 125.0])
    # Held 25 of 40 MW: the third block (20-30 MW) is the first not filled.
    assert rs.ordc_value(rr, 40.0, 25.0) == pytest.approx(250.0)
    assert rs.ordc_value(rr, 40.0, 40.0) == 0.0


def test_ordc_adder_by_hand():
    """Requirement 40 MW, minimum contingency level 20 MW, energy at 100 EUR/MWh, cap
    3000: at 20 MW or less the adder is 3000 - 100; at 30 MW half of that (linear to 0 at
    the requirement), above the sloped curve's 250; at 38 MW the curve's 125 is larger."""
    core = _core()
    assert _adder(core, 40.0, 10.0, 100.0) == pytest.approx(2900.0)
    assert _adder(core, 40.0, 20.0, 100.0) == pytest.approx(2900.0)
    assert _adder(core, 40.0, 30.0, 100.0) == pytest.approx(1450.0)
    assert _adder(core, 40.0, 38.0, 100.0) == pytest.approx(max(290.0, 125.0))
    assert _adder(core, 40.0, 40.0, 100.0) == 0.0
    assert _adder(_core(**{"balancing.scarcity_adder": "none"}), 40.0, 0.0, 100.0) == 0.0


def test_spot_coupling_bounds_the_imbalance_price_by_the_day_ahead():
    br = _core().balancing_rules
    assert bl.spot_coupled(br, 5.0, 115.0, 190.0) == 190.0  # short: at least day-ahead
    assert bl.spot_coupled(br, 5.0, 690.0, 190.0) == 690.0
    assert bl.spot_coupled(br, -5.0, 690.0, 190.0) == 190.0  # long: at most day-ahead
    assert bl.spot_coupled(br, -5.0, 60.0, 190.0) == 60.0
    off = _core(**{"balancing.spot_coupling": False}).balancing_rules
    assert bl.spot_coupled(off, 5.0, 115.0, 190.0) == 115.0


@given(shed=st.floats(0, 1e4), bg=st.floats(0, 1e4), imports=st.floats(0, 1e4))
def test_shedding_is_pro_rata_and_never_exceeds_demand(shed, bg, imports):
    from_bg, from_members = cl.shed_pro_rata(shed, bg, imports)
    assert 0.0 <= from_bg <= bg + 1e-9
    assert 0.0 <= from_members <= imports + 1e-9
    assert from_bg + from_members == pytest.approx(min(shed, bg + imports), abs=1e-9)
    if bg + imports > 1e-9 and shed > 0.0:
        assert from_bg * imports == pytest.approx(from_members * bg, rel=1e-9, abs=1e-6)


@given(bg=st.floats(-1e3, 1e4), imports=st.floats(-1e3, 1e4))
def test_consumer_shares_lie_in_0_1_and_sum_to_1(bg, imports):
    co, bgs = sm.consumer_shares(bg, imports)
    assert 0.0 <= co <= 1.0 and 0.0 <= bgs <= 1.0
    assert co + bgs == pytest.approx(1.0)


def test_dual_prices_never_beat_the_day_ahead():
    assert sm.imbalance_prices(80.0, 100.0, False) == (80.0, 80.0)
    assert sm.imbalance_prices(80.0, 100.0, True) == (100.0, 80.0)
    assert sm.imbalance_prices(150.0, 100.0, True) == (150.0, 100.0)


def test_members_shed_pay_for_the_load_they_lost():
    """A coalition 10 MWh short whose members lost 4 MWh to shedding is charged for 14 MWh
    at the short price (the cap): being cut off is never a saving; the operator balances."""
    cols = sm.FlowColumns.of(2, 3)
    cs, en = np.zeros((len(sm.MARKETS), 2 + 1 + 3 + 5)), np.zeros((len(sm.MARKETS), 11))
    sm.settle_imbalance(cs, en, cols, 10.0, 4.0, -2.0, 1.0, 3000.0, 3000.0)
    assert cs[sm.M_IMBALANCE, cols.coalition] == pytest.approx(-14.0 * 3000.0)
    assert en[sm.M_IMBALANCE, cols.coalition] == -10.0
    assert abs(cs[sm.M_IMBALANCE].sum()) < 1e-9


def test_no_member_shed_without_imports():
    """Without imports the members' part is exactly 0 (the step divides by the imports
    whenever that part is positive: a rounding remainder there was a ZeroDivisionError)."""
    for bg in (0.1, 1.0, 3.0, 7.3, 1234.567):
        assert cl.shed_pro_rata(bg / 3.0, bg, 0.0)[1] == 0.0
