"""The capacity market after PJM's RPM: VRR curve, clearing, accreditation, Capacity
Performance (balancing ratio, stop-loss, bonuses funded by charges) and the scenarios."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from envs.actors.fleet import CAPACITY_BASE_PRICE_EUR_PER_MW_DAY
from envs.config.scenario import CapacityConfig, load_scenario
from envs.errors import ConfigError
from envs.market import settlement as sm
from envs.market.capacity import (
    VrrCurve,
    accredit,
    assess_performance,
    clear_capacity,
    storage_rating,
    vrr_price,
)
from envs.sim.core import MarketCore

# Net CONE 200 EUR/MW-day, a = (99 %, 1.5 NC), b = (104 %, 0.75 NC), c = (110 %, 0.2 NC).
CFG = CapacityConfig(net_cone_eur_per_mw_day=200.0, point_a_share=0.99, point_a_net_cone=1.5,
                     point_b_share=1.04, point_b_net_cone=0.75, point_c_share=1.10,
                     point_c_net_cone=0.2, price_cap_eur_per_mw_day=300.0)  # fmt: skip
CURVE = VrrCurve.of(CFG)


@pytest.mark.parametrize(
    ("q", "price"),
    [
        (50.0, 300.0),
        (99.0, 300.0),
        (101.5, 225.0),
        (104.0, 150.0),
        (107.0, 95.0),
        (110.0, 40.0),
        (110.5, 0.0),
    ],
)
def test_vrr_curve_through_points_a_b_c(q, price):
    """By hand (requirement 100 MW): flat at 1.5 * 200 = 300 up to a (99 MW); half-way
    a-b (101.5 MW) 300 - 0.5 * 150 = 225; b (104 MW) 150; half-way b-c (107 MW)
    150 - 0.5 * 110 = 95; c (110 MW) 0.2 * 200 = 40; beyond c the curve ends (0)."""
    got = vrr_price(np.array([q]), np.array([100.0]), curve=CURVE)
    np.testing.assert_allclose(got, [price], atol=1e-9)


def test_vrr_cap_clips_point_a():
    low_cap = CURVE._replace(cap_eur=250.0)
    got = vrr_price(np.array([90.0, 101.5]), np.array([100.0]), curve=low_cap)
    np.testing.assert_allclose(got, [250.0, 225.0])


def test_clearing_hand_worked_book():
    """Requirement 100 MW: 60 MW at 20, 40 MW at 100, 20 MW at 120. The first two
    (100 MW) are below the curve (it pays 300 at 100 MW... 225 at 101.5); the third is
    accepted until the curve falls to 120 on b-c: 104 + (150 - 120) / 110 * 6 =
    105.636... MW, so 5.636... MW of it, and it sets the price, 120."""
    r = clear_capacity(np.array([[60.0, 40.0, 20.0]]), np.array([[20.0, 100.0, 120.0]]),
                       np.array([100.0]), curve=CURVE)  # fmt: skip
    q3 = 104.0 + 30.0 / 110.0 * 6.0 - 100.0
    np.testing.assert_allclose(r.award_mw, [[60.0, 40.0, q3]], atol=1e-9)
    np.testing.assert_allclose(r.price_eur_per_mw_day, [120.0], atol=1e-9)
    # Supply stops short at 102 MW (a vertical step): the curve sets the price on a-b.
    r = clear_capacity(np.array([[60.0, 42.0]]), np.array([[20.0, 100.0]]), np.array([100.0]),
                       curve=CURVE)  # fmt: skip
    np.testing.assert_allclose(r.price_eur_per_mw_day, [300.0 - 150.0 * 3.0 / 5.0], atol=1e-9)


@given(
    arrays(np.float64, (2, 5), elements=st.floats(0, 60)),
    arrays(np.float64, (2, 5), elements=st.floats(-50, 400)),
    st.floats(1.0, 200.0),
    st.integers(0, 4),
    st.floats(0.0, 100.0),
)
def test_price_within_cap_and_monotone_in_offers(q, p, req, k, bump):
    target = np.array([req, req])
    base = clear_capacity(q, p, target, curve=CURVE).price_eur_per_mw_day
    assert np.all((base >= 0.0) & (base <= CURVE.cap_eur))
    dearer = p.copy()
    dearer[:, k] += bump
    hi = clear_capacity(q, dearer, target, curve=CURVE).price_eur_per_mw_day
    assert np.all(hi >= base - 1e-6)  # dearer offers never lower the price
    more = q.copy()
    more[:, k] += bump
    lo = clear_capacity(more, p, target, curve=CURVE).price_eur_per_mw_day
    assert np.all(lo <= base + 1e-6)  # more capacity offered never raises it


def test_accreditation_by_class_and_storage_duration():
    np.testing.assert_allclose(accredit(("gas_ct", "hydro"), np.array([100.0, 50.0]),
                                        np.array([0.95, 0.8]), {"gas_ct": 0.62}),
                               [62.0, 40.0])  # fmt: skip
    np.testing.assert_allclose(storage_rating(np.array([1.0, 4.0, 9.0]), (4.0, 8.0), (0.6, 0.7)),
                               [0.15, 0.6, 0.7])  # fmt: skip


def test_performance_balancing_ratio_stop_loss_and_bonuses():
    """Committed 100, 100, 0 MW (the third uncommitted); load 150 + reserve 30 MW:
    BR = 180 / 200 = 0.9, expected 90, 90, 0. Delivered 40, 95, 10: the first is 50 MW
    short at 3,000 EUR/MWh = 150,000 EUR but has 80,000 of its stop-loss (1,000 EUR/MW *
    100 MW) used already, so pays 20,000; the second is 5 MW over, the third 10 MW: they
    get 20,000 * 5/15 and 20,000 * 10/15."""
    r = assess_performance(np.array([[100.0, 100.0, 0.0]]), np.array([[40.0, 95.0, 10.0]]),
                           np.array([150.0]), np.array([30.0]),
                           np.array([[80_000.0, 0.0, 0.0]]), rate_eur_per_mwh=3000.0,
                           stop_loss_eur_per_mw=1000.0)  # fmt: skip
    np.testing.assert_allclose(r.balancing_ratio, [0.9])
    np.testing.assert_allclose(r.charge_eur, [[20_000.0, 0.0, 0.0]])
    np.testing.assert_allclose(r.bonus_eur, [[0.0, 20_000.0 / 3.0, 40_000.0 / 3.0]])
    assert abs(r.bonus_eur.sum() - r.charge_eur.sum()) < 1e-9
    # BR is capped at 1 and nobody over-performs: the charges go back to load.
    r = assess_performance(np.array([[100.0]]), np.array([[50.0]]), np.array([500.0]),
                           np.array([0.0]), np.zeros((1, 1)), rate_eur_per_mwh=10.0,
                           stop_loss_eur_per_mw=1e9)  # fmt: skip
    np.testing.assert_allclose(r.balancing_ratio, [1.0])
    np.testing.assert_allclose(r.to_load_eur, r.charge_eur.sum(-1))


@given(arrays(np.float64, (4,), elements=st.floats(0, 200)),
       arrays(np.float64, (4,), elements=st.floats(0, 200)),
       arrays(np.float64, (4,), elements=st.floats(0, 50)),
       st.floats(0, 300), st.floats(0, 2000), st.floats(0, 1), st.booleans())  # fmt: skip
def test_settle_capacity_conserves_money(cap, dispatch, cum, perf_c, price, share, scarce):
    """The capacity market's cash sums to zero every hour (charges fund bonuses or go back
    to load; the operator keeps nothing) and no cumulative charge passes its stop-loss."""
    cols = sm.FlowColumns.of(3, 2)
    n_p = sm.Columns(3, 2).size
    cs, cm = np.zeros((len(sm.MARKETS), n_p)), np.zeros((len(sm.MARKETS), n_p))
    award = np.array([5.0, 0.0, 10.0, 3.0])
    cum_out = np.empty(4)
    stop = 2.0
    sm.settle_capacity(cs, cm, cols, cap[:3].copy(), float(cap[3]), price, dispatch[:3].copy(),
                       award, scarce, perf_c, 300.0, 20.0, 3000.0, stop, cum * 0.0 + np.minimum(
                           cum, stop * cap), cum_out, share, 1.0 - share)  # fmt: skip
    assert abs(cs[sm.M_CAPACITY].sum()) < 1e-9 * max(1.0, np.abs(cs).sum())
    assert cs[sm.M_CAPACITY, cols.operator] == 0.0
    assert np.all(cum_out <= stop * cap + 1e-9)


def _competitive_auction(name: str) -> tuple[MarketCore, float]:
    core = MarketCore(load_scenario(name, days=1), 1, record_ledger=False)
    core.reset(np.random.default_rng(0))
    coalition = np.zeros((1, core.layout.coalition))
    members = None if core.layout.drives_members else np.zeros((1, core.N, 2))
    r = core.step(coalition, members, None)
    return core, float(r.info["capacity_price_eur_per_mw_day"][0])


def test_default_auction_no_longer_clears_at_the_cap():
    """The scripted fleet offers its accredited MW at its avoidable cost (competitive)."""
    core, price = _competitive_auction("default")
    assert core.cfg.fleet.strategy == "competitive"
    assert np.all(core.scripted_incumbent_bids().capacity_price_eur_per_mw_day
                  == CAPACITY_BASE_PRICE_EUR_PER_MW_DAY)  # fmt: skip
    assert 0.0 < price < core.cfg.capacity.price_cap_eur_per_mw_day


def test_large_coalition_requirement_includes_members_load():
    core = MarketCore(load_scenario("large_coalition", days=1), 1, record_ledger=False)
    cc = core.cfg.capacity
    members = float(core.members.peak_load_mw.sum())
    assert members > 100.0
    expected = (1.0 + cc.reserve_margin) * (core.cfg.background.peak_load_mw + members)
    np.testing.assert_allclose(core.capacity_requirement(0), [expected])


def test_config_rejects_points_out_of_order():
    with pytest.raises(ConfigError, match="point_a_share"):
        CapacityConfig(point_a_share=1.05, point_b_share=1.0)
    with pytest.raises(ConfigError, match="storage_elcc"):
        CapacityConfig(storage_elcc=(0.5,))
