"""The capacity market after PJM's RPM: VRR curve, clearing, accreditation, Capacity
Performance (balancing ratio, stop-loss, bonuses funded by charges) and the scenarios."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from envs.actors.coalition import slots
from envs.actors.fleet import (
    CAPACITY_BASE_PRICE_EUR_PER_MW_DAY,
    BidParams,
    FleetArrays,
    energy_offers,
    must_offer_mw,
)
from envs.config.scenario import CapacityConfig, load_scenario
from envs.errors import ConfigError
from envs.market import settlement as sm
from envs.market.capacity import (
    VrrCurve,
    accredit,
    assess_performance,
    clear_capacity,
    mopr_offer,
    storage_rating,
    vrr_price,
)
from envs.sim.build import build_core
from envs.sim.clearing import unit_limits_row
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
    down = -0.5 * dispatch[:3]  # units dispatched down in balancing are excused
    sm.settle_capacity(cs, cm, cols, cap[:3].copy(), float(cap[3]), price, dispatch[:3].copy(),
                       down, award, scarce, perf_c, 300.0, 20.0, 3000.0, stop,
                       cum * 0.0 + np.minimum(cum, stop * cap), cum_out, share,
                       1.0 - share)  # fmt: skip
    assert abs(cs[sm.M_CAPACITY].sum()) < 1e-9 * max(1.0, np.abs(cs).sum())
    assert cs[sm.M_CAPACITY, cols.operator] == 0.0
    assert np.all(cum_out <= stop * cap + 1e-9)


def _competitive_auction(name: str, overrides: dict | None = None) -> tuple[MarketCore, float]:
    core = build_core(load_scenario(name, overrides, days=1), 1, record_ledger=False)
    core.reset(np.random.default_rng(0))
    coalition = np.zeros((1, core.layout.coalition))
    members = None if core.layout.drives_members else np.zeros((1, core.dims.N, 2))
    r = core.step(coalition, members, None)
    return core, float(r.info["capacity_price_eur_per_mw_day"][0])


def test_competitive_fleet_prices_the_auction_by_its_shortage_or_surplus():
    """The scripted fleet offers its accredited MW at its avoidable cost (competitive). The
    default system's accredited fleet (~812 MW) exceeds 0.94 * its forecast coincident
    peak (a realised 800 MW background peak): the auction clears below the cap, on the
    VRR curve's surplus side. With the background's peak at 950 MW the fleet falls short
    of the requirement and the auction clears at the cap (point a), as the curve prices a
    shortage."""
    core, price = _competitive_auction("default")
    assert core.cfg.fleet.strategy == "competitive"
    assert np.all(core.scripted_incumbent_bids().capacity_price_eur_per_mw_day
                  == CAPACITY_BASE_PRICE_EUR_PER_MW_DAY)  # fmt: skip
    fleet_ucap = float((core.fleet.capacity_mw * core.fleet.derating).sum())
    requirement = float(core.capacity_requirement(0)[0])
    assert fleet_ucap > core.cfg.capacity.point_a_share * requirement
    assert 0.0 < price < core.cfg.capacity.price_cap_eur_per_mw_day
    core, price = _competitive_auction("default", {"background.peak_load_mw": 950.0})
    fleet_ucap = float((core.fleet.capacity_mw * core.fleet.derating).sum())
    assert fleet_ucap < core.cfg.capacity.point_a_share * float(core.capacity_requirement(0)[0])
    assert price == core.cfg.capacity.price_cap_eur_per_mw_day


def test_requirement_is_the_forecast_coincident_net_peak():
    """By hand: two hours, background forecast 100 then 90 MW, members' load 30 then 50 MW
    and their PV 20 then 0 MW. Non-coincident gross peaks would give 100 + 50 = 150 MW; the
    coincident net peak is max(100 + 30 - 20, 90 + 50 - 0) = 140 MW in hour 1, where the
    members' net load is 50 MW: requirement 1.1 * 140 = 154, obligation 1.1 * 50 = 55 MW."""
    core = build_core(load_scenario("default", {"capacity.reserve_margin": 0.1,
                                                "capacity.period_h": 2}, days=1),
                      1, record_ledger=False)  # fmt: skip
    core.reset(np.random.default_rng(0))
    for name in ("z_sys_load", "total_load_err", "total_ren_err"):
        getattr(core.episode, name)[:] = 0.0  # perfect forecasts: the hand numbers are exact
    core.episode.sys_load[0, :2], core.episode.total_load[0, :2], core.episode.total_ren[0, :2] = (
        [100.0, 90.0], [30.0, 50.0], [20.0, 0.0])  # fmt: skip
    core.episode.sys_load[0, 2:] = 1e4  # outside the auction's period: not counted
    req, obligation = core.capacity_forecast(0)
    np.testing.assert_allclose(req, [154.0])
    np.testing.assert_allclose(obligation, [55.0])
    assert core.capacity_period(0) == (0, 2)


def test_large_coalition_requirement_counts_its_members_at_the_coincident_peak():
    """The members' load counts, at the pool's peak hour and net of their PV and wind: less
    than the sum of the background's and the members' stated (non-coincident) peaks."""
    core = build_core(load_scenario("large_coalition", days=7), 2, record_ledger=False)
    core.reset(np.random.default_rng(0))
    cc = core.cfg.capacity
    req, obligation = core.capacity_forecast(0)
    assert np.all(obligation > 100.0)  # 200 members at 2x size: a large net-short buyer
    assert np.all(obligation > core.coalition.firm_mw)
    assert np.all(req > (1.0 + cc.reserve_margin) * core.cfg.background.peak_load_mw)
    t = core.dims.T
    s = np.sqrt(np.minimum((np.arange(t) + 1.0) / core.dims.H, 1.0))
    net = (core.episode.sys_load[:, :t] * (1.0 + s * core.episode.z_sys_load[:, :t])
           + core.episode.total_load[:, :t] + s * core.episode.total_load_err[:, :t]
           - core.episode.total_ren[:, :t] - s * core.episode.total_ren_err[:, :t])  # fmt: skip
    np.testing.assert_allclose(req, (1.0 + cc.reserve_margin) * net.max(axis=1))


@pytest.mark.parametrize(
    ("q", "p", "obligation", "price", "raised"),
    [
        (20.0, 0.0, 50.0, 250.0, 1.0),  # net short offering below the floor: raised
        (20.0, 300.0, 50.0, 300.0, 0.0),  # net short above the floor: stands
        (20.0, 0.0, 10.0, 0.0, 0.0),  # net long: stands
        (0.0, 0.0, 50.0, 0.0, 0.0),  # offers nothing: nothing to mitigate
    ],
)
def test_mopr_floor_applies_only_to_a_net_short_seller(q, p, obligation, price, raised):
    got, flag = mopr_offer(np.array([q]), np.array([p]), np.array([obligation]), floor=250.0)
    np.testing.assert_allclose(got, [price])
    np.testing.assert_allclose(flag, [raised])


def test_mopr_in_the_step_raises_the_coalitions_offer_and_counts_it():
    """large_coalition: the coalition offers all its batteries at 0 EUR/MW-day; as a net-short
    buyer its offer is raised to 1.5 * Net CONE, so the price stays where the fleet alone
    puts it, and the info counts the mitigation."""
    prices = {}
    for floor in (0.0, 1.5):
        cfg = load_scenario("large_coalition", {"capacity.mopr_floor_net_cone": floor}, days=7)
        core = build_core(cfg, 1, record_ledger=False)
        core.reset(np.random.default_rng(0))
        a = np.zeros((1, core.layout.coalition))
        names = slots(core.layout.reserve, True, core.layout.drives_members)
        a[0, names.index("c")], a[0, names.index("cp")] = 1.0, -1.0  # all firm MW at 0
        r = core.step(
            a, None if core.layout.drives_members else np.zeros((1, core.dims.N, 2)), None
        )
        prices[floor] = float(r.info["capacity_price_eur_per_mw_day"][0])
        assert r.info["capacity_offer_mitigated"][0] == (1.0 if floor > 0 else 0.0)
        req = float(core.capacity_requirement(0)[0])
    fleet_ucap = float((core.fleet.capacity_mw * core.fleet.derating).sum())
    assert fleet_ucap < core.cfg.capacity.point_a_share * req  # short without the coalition
    assert prices[1.5] == core.cfg.capacity.price_cap_eur_per_mw_day
    assert prices[0.0] < prices[1.5]  # unmitigated, the buyer suppresses the price


def test_performance_excuses_mw_dispatched_down():
    """Committed 100 MW, BR 1 (load 500 MW): a unit delivering 70 MW after the operator
    dispatched it down 20 MW is expected 80 MW, so it is charged 10 MWh, not 30; excused
    MW never push the expectation below 0."""
    kw = {"rate_eur_per_mwh": 1000.0, "stop_loss_eur_per_mw": 1e9}
    args = (np.array([[100.0]]), np.array([[70.0]]), np.array([500.0]), np.array([0.0]),
            np.zeros((1, 1)))  # fmt: skip
    np.testing.assert_allclose(assess_performance(*args, **kw).charge_eur, [[30_000.0]])
    r = assess_performance(*args, **kw, excused_mw=np.array([[20.0]]))
    np.testing.assert_allclose(r.charge_eur, [[10_000.0]])
    r = assess_performance(*args, **kw, excused_mw=np.array([[500.0]]))
    np.testing.assert_allclose(r.charge_eur, [[0.0]])


def test_settle_capacity_excuses_the_balancing_turn_down():
    """A peaker committed 20 MW (BR 1) runs 10 MW day-ahead: 10 MW short, 10,000 EUR at
    1,000 EUR/MWh. Turned down those 10 MW in balancing, it delivers 0 yet is still charged
    10,000 EUR: only for what it did not offer, not for what the operator took off it
    (without the excuse: 20,000)."""
    cols = sm.FlowColumns.of(1, 1)
    n_p = sm.Columns(1, 1).size
    charges = []
    for down in (0.0, -10.0):
        cs, cm = np.zeros((len(sm.MARKETS), n_p)), np.zeros((len(sm.MARKETS), n_p))
        cum_out = np.empty(2)
        sm.settle_capacity(cs, cm, cols, np.array([20.0]), 0.0, 100.0, np.array([10.0 + down]),
                           np.array([down]), np.zeros(2), True, 0.0, 500.0, 0.0, 1000.0, 1e9,
                           np.zeros(2), cum_out, 0.5, 0.5)  # fmt: skip
        charges.append(cum_out[0])
    np.testing.assert_allclose(charges, [10_000.0, 10_000.0])


def test_config_rejects_points_out_of_order():
    with pytest.raises(ConfigError, match="point_a_share"):
        CapacityConfig(point_a_share=1.05, point_b_share=1.0)
    with pytest.raises(ConfigError, match="storage_elcc"):
        CapacityConfig(storage_elcc=(0.5,))


def test_must_offer_a_unit_withholding_everything_still_offers_its_committed_mw():
    """Unit A 200 MW rated 0.95 has 190 accredited MW committed: 190 / 0.95 = 200 MW
    installed must be offered, so withholding all of it changes nothing; unit B 100 MW
    rated 0.5 with 20 MW committed (40 MW installed) withholding all offers 40 MW; an
    uncommitted unit withholding all offers nothing. Energy (with its must-run tranche) and
    the shared limit both follow the rule."""
    g = 3
    fp = FleetArrays(np.array([200.0, 100.0, 50.0]), np.array([10.0, 20.0, 30.0]),
                     np.full(g, 1e3), np.zeros(g), np.zeros(g), np.array([0.95, 0.5, 1.0]),
                     np.zeros(g), np.zeros(g))  # fmt: skip
    bids = BidParams(markup=np.zeros((1, g, 2)), withhold=np.ones((1, g)),
                     reserve_fraction=np.ones((1, g)), reserve_markup=np.zeros((1, g)),
                     capacity_fraction=np.ones((1, g)),
                     capacity_price_eur_per_mw_day=np.zeros((1, g)))  # fmt: skip
    committed = np.array([[190.0, 20.0, 0.0]])
    prev = np.array([[200.0, 100.0, 50.0]])
    q, _ = energy_offers(bids, fp, prev, np.zeros((1, g)), -500.0, committed_mw=committed)
    np.testing.assert_allclose(q.sum(-1), [[200.0, 40.0, 0.0]])
    q0, _ = energy_offers(bids, fp, prev, np.zeros((1, g)), -500.0)  # nothing committed
    np.testing.assert_allclose(q0.sum(-1), [[0.0, 0.0, 0.0]])
    ulim = np.empty(g)
    unit_limits_row(fp, bids, 0, prev[0], committed[0], ulim)
    np.testing.assert_allclose(ulim, [200.0, 40.0, 0.0])
    np.testing.assert_allclose(must_offer_mw(fp, committed), [[200.0, 40.0, 0.0]])


@given(arrays(np.float64, (4,), elements=st.floats(0, 1)),
       arrays(np.float64, (4,), elements=st.floats(0, 1)),
       arrays(np.float64, (4,), elements=st.floats(0, 300)))  # fmt: skip
def test_must_offer_invariant(withhold, committed_share, prev):
    """Whatever the withheld shares, each unit offers at least its must-offer MW (within
    its ramp) and never more than its capacity or what it would offer unwithheld."""
    g = 4
    cap, rating, ramp = np.array([200.0, 150.0, 100.0, 60.0]), np.array([0.95, 0.8, 0.6, 1.0]), 50.0
    fp = FleetArrays(cap, np.full(g, 30.0), np.full(g, ramp), np.zeros(g), np.zeros(g), rating,
                     np.zeros(g), np.zeros(g))  # fmt: skip
    bids = BidParams(markup=np.zeros((1, g, 3)), withhold=withhold[None],
                     reserve_fraction=np.ones((1, g)), reserve_markup=np.zeros((1, g)),
                     capacity_fraction=np.ones((1, g)),
                     capacity_price_eur_per_mw_day=np.zeros((1, g)))  # fmt: skip
    committed = (committed_share * cap * rating)[None]
    q, _ = energy_offers(bids, fp, prev[None], np.zeros((1, g)), -500.0, committed_mw=committed)
    free, _ = energy_offers(bids._replace(withhold=np.zeros((1, g))), fp, prev[None],
                           np.zeros((1, g)), -500.0, committed_mw=committed)  # fmt: skip
    offered, room = q[0].sum(-1), prev + ramp
    assert np.all(offered >= np.minimum(committed_share * cap, room) - 1e-9)
    assert np.all(offered <= np.minimum(cap, free[0].sum(-1)) + 1e-9)
