"""Strategic incumbents (envs.actors.withholding): withholding only where it pays."""

import numpy as np
import pytest

from envs.actors.fleet import BidParams, FleetArrays, encode_bid_params, must_offer_mw
from envs.actors.withholding import (
    COST_ADDER,
    merit_price,
    mitigate,
    profitable_withholding,
    three_pivotal_fail,
)
from envs.config.scenario import load_scenario
from envs.sim.build import build_core
from envs.sim.core import MarketCore


def fleet(cap, mc):
    g = len(cap)
    z = np.zeros(g)
    return FleetArrays(np.array(cap, float), np.array(mc, float), z + 1e3, z, z, z + 1.0, z, z)


# A 100 MW at 10, B 50 MW at 50, C 50 MW at 100 EUR/MWh.
FLEET = fleet([100.0, 50.0, 50.0], [10.0, 50.0, 100.0])


def rsi(demand):
    cap = FLEET.capacity_mw
    return ((cap.sum() - cap) / demand)[None]


def test_merit_price_by_hand():
    cap = np.array([[100.0, 50.0, 50.0]])
    offer = np.array([[10.0, 50.0, 100.0]])
    assert merit_price(cap, offer, np.array([120.0]), 3000.0)[0] == 50.0
    assert merit_price(cap, offer, np.array([160.0]), 3000.0)[0] == 100.0
    assert merit_price(cap, offer, np.array([250.0]), 3000.0)[0] == 3000.0  # short: the cap


def test_the_pivotal_unit_withholds_only_when_it_pays():
    demand = np.array([160.0])
    # Up to 30% withheld, supply never falls short: the price stays at C's 100 EUR/MWh and
    # withholding only loses A output, so A stays competitive.
    w, m = profitable_withholding(FLEET, rsi(160.0), demand, np.zeros(1), threshold=1.1,
                                  max_share=0.3, max_markup=1.0, price_cap=3000.0)  # fmt: skip
    assert not w.any() and not m.any()
    # Up to 50% (candidates in steps of 1/12): withholding 5/12 leaves 158.3 MW against 160,
    # the price goes to the cap and A earns (3000 - 10) * 58.3 = 174,400 against 9,000 (and
    # against 149,500 for withholding half): the least withholding that makes the system short.
    w, _ = profitable_withholding(FLEET, rsi(160.0), demand, np.zeros(1), threshold=1.1,
                                  max_share=0.5, max_markup=1.0, price_cap=3000.0)  # fmt: skip
    np.testing.assert_allclose(w, [[5.0 / 12.0, 0.0, 0.0]])


def test_a_markup_is_chosen_where_the_unit_sets_the_price():
    # Demand 120: B is marginal at 50. B is not the most pivotal (A is), so nobody marks up;
    # with A alone able to act, a markup on A's offer below B's cost changes nothing.
    w, m = profitable_withholding(FLEET, rsi(120.0), np.array([120.0]), np.zeros(1),
                                  threshold=1.1, max_share=0.3, max_markup=1.0,
                                  price_cap=3000.0)  # fmt: skip
    assert not m.any()
    # A monopolist that cannot make the system short (it may withhold 10%, demand is 80 of
    # its 100 MW) sets the price with its own offer: it marks up as far as it may.
    one = fleet([100.0], [10.0])
    w, m = profitable_withholding(one, np.array([[0.0]]), np.array([80.0]), np.zeros(1),
                                  threshold=1.1, max_share=0.1, max_markup=1.0,
                                  price_cap=3000.0)  # fmt: skip
    assert m[0, 0] == pytest.approx(1.0)
    # Allowed 30%, it withholds 2/9 or more to make the system short (price at the cap).
    w, m = profitable_withholding(one, np.array([[0.0]]), np.array([80.0]), np.zeros(1),
                                  threshold=1.1, max_share=0.3, max_markup=1.0,
                                  price_cap=3000.0)  # fmt: skip
    assert 0.2 < w[0, 0] <= 0.3


def test_no_one_withholds_without_a_pivotal_unit_and_at_most_one_does():
    w, m = profitable_withholding(FLEET, rsi(60.0), np.array([60.0]), np.zeros(1),
                                  threshold=1.1, max_share=0.5, max_markup=1.0,
                                  price_cap=3000.0)  # fmt: skip
    assert not w.any() and not m.any()  # RSI of A = 100 / 60 > 1.1
    demand = np.array([160.0, 190.0, 100.0])
    r = (FLEET.capacity_mw.sum() - FLEET.capacity_mw)[None] / demand[:, None]
    w, m = profitable_withholding(FLEET, r, demand, np.zeros(3), threshold=1.1,
                                  max_share=0.5, max_markup=1.0, price_cap=3000.0)  # fmt: skip
    assert ((w > 0) | (m > 0)).sum(axis=1).max() <= 1


def test_three_pivotal_supplier_test_and_mitigation():
    f = fleet([100.0, 90.0, 80.0, 50.0], [10.0, 20.0, 30.0, 40.0])
    # Without the three largest, 50 MW + 20 MW renewables: fails against 100 MW, not 60.
    fail = three_pivotal_fail(f, np.array([100.0, 60.0]), np.array([20.0, 20.0]))
    np.testing.assert_array_equal(fail, [[True, True, True, False], [False] * 4])
    bids = BidParams(markup=np.full((2, 4, 2), 0.5), withhold=np.full((2, 4), 0.2),
                     reserve_fraction=np.ones((2, 4)), reserve_markup=np.full((2, 4), 0.5),
                     capacity_fraction=np.ones((2, 4)),
                     capacity_price_eur_per_mw_day=np.zeros((2, 4)))  # fmt: skip
    m = mitigate(bids, fail)
    np.testing.assert_allclose(m.markup[0, :3], COST_ADDER)
    np.testing.assert_allclose(m.withhold[0], [0.0, 0.0, 0.0, 0.2])
    np.testing.assert_allclose(m.markup[1], 0.5)  # a passing hour is not touched


def _strategic_core(days: int = 2) -> MarketCore:
    core = build_core(load_scenario("strategic_incumbents", days=days), 1, record_ledger=False)
    core.reset(np.random.default_rng(3))
    return core


def _offered_by_unit(core: MarketCore, incumbents: np.ndarray | None) -> np.ndarray:
    """(G,) MW each unit offers to energy this hour, as the step will clear it."""
    book = core.day_ahead_book(np.zeros((1, core.layout.coalition)), incumbents)
    return (
        book["supply_q"][0, : core.dims.G * (core.dims.K + 1)]
        .reshape(core.dims.G, core.dims.K + 1)
        .sum(-1)
    )


def test_strategic_incumbents_offer_at_least_their_committed_mw():
    """strategic_incumbents: every unit offers all its capacity at 0 in the capacity auction
    and withholds everything from energy (a controlled incumbent's action). From the auction
    hour on, each unit still offers its committed MW (in installed MW, within its ramp), and
    the scripted withholder never withholds committed MW (must-offer, Attachment DD §6.6)."""
    core = _strategic_core()
    cfg = core.cfg
    G, K = core.dims.G, core.dims.K
    ones, zeros = np.ones((1, G)), np.zeros((1, G))
    bids = BidParams(markup=np.zeros((1, G, K)), withhold=ones, reserve_fraction=ones,
                     reserve_markup=zeros, capacity_fraction=ones,
                     capacity_price_eur_per_mw_day=zeros)  # fmt: skip
    withhold_all = encode_bid_params(
        bids, cfg.fleet, reserve=core.layout.reserve, capacity=core.layout.capacity,
        capacity_cap_eur_per_mw_day=cfg.capacity.price_cap_eur_per_mw_day)  # fmt: skip
    members = np.zeros((1, core.dims.N, 2))
    r = core.step(np.zeros((1, core.layout.coalition)), members, withhold_all)
    # The auction hour: the day-ahead already binds the commitments it cleared.
    committed = core.state.cap_award_g_mw[0]
    assert committed.sum() > 0.0
    assert r.dispatch.sum() > 0.0  # without must-offer nothing at all would be offered
    must = must_offer_mw(core.fleet, core.state.cap_award_g_mw)[0]
    for _ in range(5):
        room = core.state.prev_dispatch_mw[0] + core.fleet.ramp_mw_per_h
        assert np.all(_offered_by_unit(core, withhold_all) >= np.minimum(must, room) - 1e-9)
        assert np.all(_offered_by_unit(core, withhold_all) >= np.minimum(committed, room) - 1e-9)
        core.step(np.zeros((1, core.layout.coalition)), members, withhold_all)
    # The scripted strategy (the controlled incumbents' fallback) sees its commitments too,
    # and keeps the share it may withhold out of the capacity market (it forgoes that
    # capacity pay), so it still withholds, never committed MW.
    core = _strategic_core()
    withheld = 0
    for _ in range(48):
        must = must_offer_mw(core.fleet, core.state.cap_award_g_mw)[0]
        w, _ = core.strategic_withholding(cfg.fleet)
        assert np.all(core.fleet.capacity_mw * (1.0 - w[0]) >= must - 1e-9)
        forecast = core.system_forecast()
        demand, ren = core.system_demand(forecast)
        free, _ = profitable_withholding(
            core.fleet, core.system_rsi(forecast=forecast), demand, ren,
            threshold=cfg.fleet.rsi_threshold, max_share=cfg.fleet.withhold_fraction,
            max_markup=cfg.fleet.pivotal_markup,
            price_cap=cfg.spot.price_cap_eur_per_mwh)  # fmt: skip
        assert np.all(core.fleet.capacity_mw * (1.0 - free[0]) >= must - 1e-9)
        withheld += int(np.any(w[0] > 0.0))
        core.step(np.zeros((1, core.layout.coalition)), members, None)
    assert withheld > 0  # the option it kept out of the capacity market is used
