"""Hand-worked golden examples of the three markets, each citing where its rule comes from.

Every number below is worked out by hand in the comments; the code must reproduce it.
"""

from __future__ import annotations

import numpy as np
import pytest

from envs.actors import fleet as fl
from envs.market import VrrCurve, clear_capacity, clear_reserve, clear_spot, vrr_price

FLOOR, CAP = -500.0, 3000.0


def _spot(sq, sp, dq, dp, pricing="uniform"):
    return clear_spot(
        np.array([sq], float),
        np.array([sp], float),
        np.array([dq], float),
        np.array([dp], float),
        price_floor_eur_per_mwh=FLOOR,
        price_cap_eur_per_mwh=CAP,
        pricing=pricing,
    )


# ------------------------------------------------------------------ merit order
def test_golden_merit_order_uniform_price():
    """Uniform-price (pay-as-clear) merit-order dispatch: Kirschen & Strbac,
    *Fundamentals of Power System Economics*, §5.3 (and DESIGN §3.3).

    Offers (MW @ EUR/MWh), listed out of order on purpose:
        C 100 @ 20, A 200 @ 12, D 50 @ 30, B 150 @ 15;  inelastic demand 400 MW (bid at the cap).
    Merit order A, B, C, D:
        A 200 (cum 200), B 150 (cum 350), C 50 of 100 (cum 400) -> demand met, D 0.
    C is the marginal (partly accepted) block, so the price is 20 EUR/MWh.
    Payments at 20: A 4000, B 3000, C 1000; buyers pay 400 * 20 = 8000 EUR.
    """
    r = _spot([100, 200, 50, 150], [20, 12, 30, 15], [400], [CAP])
    assert r.price_eur_per_mwh[0] == 20.0
    np.testing.assert_allclose(r.supply_mw[0], [50, 200, 0, 150])
    np.testing.assert_allclose(r.demand_mw[0], [400])
    np.testing.assert_allclose(
        r.supply_mw[0] * r.supply_price_eur_per_mwh[0], [1000, 4000, 0, 3000]
    )
    assert r.demand_mw[0].sum() * r.demand_price_eur_per_mwh[0] == 8000.0
    assert r.unserved_mw[0] == 0.0


def test_golden_price_set_by_bid_on_vertical_step():
    """Same rule (Kirschen & Strbac §5.3): when supply and demand cross on a vertical
    step of the supply curve, the marginal *bid* sets the price.

    Offers A 200 @ 12, B 150 @ 15, C 100 @ 20; bids 350 MW at the cap and 100 MW @ 18.
    A + B = 350 MW are offered at <= 15; C (20) is dearer than the 18 EUR bid, so 350 MW
    trade and the 18 EUR bid is left unfilled. Lowest market-clearing price:
    max(dearest accepted offer 15, dearest unfilled bid 18) = 18 EUR/MWh.
    """
    r = _spot([200, 150, 100], [12, 15, 20], [350, 100], [CAP, 18])
    assert r.price_eur_per_mwh[0] == 18.0
    np.testing.assert_allclose(r.supply_mw[0], [200, 150, 0])
    np.testing.assert_allclose(r.demand_mw[0], [350, 0])


def test_golden_scarcity_price_at_cap_with_unserved_energy():
    """Price cap and unserved energy (DESIGN §3.3): 300 MW offered (100 @ 20, 200 @ 50),
    inelastic demand 350 MW at the cap. All 300 MW run; the 50 MW left unfilled bid at
    the cap sets the price at the cap, 3000 EUR/MWh, and 50 MW is unserved."""
    r = _spot([100, 200], [20, 50], [350], [CAP])
    assert r.price_eur_per_mwh[0] == CAP
    np.testing.assert_allclose(r.supply_mw[0], [100, 200])
    assert r.unserved_mw[0] == 50.0


def test_golden_pay_as_bid_balances():
    """Pay-as-bid (discriminatory) pricing, the alternative to pay-as-clear discussed
    in Kirschen & Strbac §5.3: each accepted offer is paid its own price.

    First example's dispatch: A 200 @ 12 = 2400, B 150 @ 15 = 2250, C 50 @ 20 = 1000,
    total 5650 EUR; buyers pay the volume-weighted average 5650 / 400 = 14.125 EUR/MWh,
    so payments balance.
    """
    r = _spot([100, 200, 50, 150], [20, 12, 30, 15], [400], [CAP], pricing="pay_as_bid")
    np.testing.assert_allclose(r.supply_price_eur_per_mwh[0][[0, 1, 3]], [20, 12, 15])
    np.testing.assert_allclose((r.supply_mw * r.supply_price_eur_per_mwh).sum(), 5650.0)
    np.testing.assert_allclose(r.demand_price_eur_per_mwh[0], 14.125)


# ------------------------------------------------------------ reserve + energy
def _two_unit_fleet() -> fl.FleetArrays:
    """Two 100 MW units: marginal cost 20 and 40 EUR/MWh, reserve cost 5 and 8 EUR/MW,
    half of capacity reserve-capable, no ramp or minimum-output limits that bind."""
    return fl.FleetArrays(
        capacity_mw=np.array([100.0, 100.0]),
        marginal_cost_eur_per_mwh=np.array([20.0, 40.0]),
        ramp_mw_per_h=np.array([100.0, 100.0]),
        emission_t_per_mwh=np.array([0.4, 0.6]),
        min_output_mw=np.array([0.0, 0.0]),
        derating=np.array([0.9, 0.9]),
        reserve_cost_eur_per_mw=np.array([5.0, 8.0]),
        reserve_share=np.array([0.5, 0.5]),
    )


def _competitive(k: int = 1) -> fl.BidParams:
    z = np.zeros((1, 2))
    return fl.BidParams(
        markup=np.zeros((1, 2, k)),
        withhold=z,
        reserve_fraction=z + 1.0,
        reserve_markup=z,
        capacity_fraction=z + 1.0,
        capacity_price_eur_per_mw_day=z + 20.0,
    )


def test_golden_reserve_award_withheld_from_energy_offer():
    """Reserve and energy from the same unit: capacity held as reserve cannot be sold
    as energy in the same hour, P_g + R_g <= P_g^max (DESIGN §3.3; the joint
    energy-reserve capacity limit of Kirschen & Strbac, ch. 5 on ancillary services).

    Two units (see _two_unit_fleet), last dispatch 50 MW each (ramp 100: no limit).
    Reserve headroom = min(0.5 * 100, ramp 100, 100 - must-run 0) = 50 MW each, offered
    at cost: 50 @ 5 and 50 @ 8. Requirement 60 MW: unit 0 gets 50, unit 1 gets 10 and,
    being marginal, sets the price 8 EUR/MW.
    Energy offers = min(100, 50 + 100) - reserve award: unit 0 50 MW @ 20, unit 1 90 MW
    @ 40 (must-run tranche 0 MW). Demand 100 MW: unit 0 runs 50, unit 1 runs 50 and is
    marginal, price 40 EUR/MWh. Without the reserve award unit 0 alone would serve
    100 MW at 20 EUR/MWh.
    Unit 0 earns 50 * 8 + 50 * 40 = 2400 EUR; unit 1 earns 10 * 8 + 50 * 40 = 2080 EUR.
    """
    fleet, bids, prev = _two_unit_fleet(), _competitive(), np.array([[50.0, 50.0]])
    rq, rp = fl.reserve_offers(bids, fleet, prev)
    np.testing.assert_allclose(rq, [[50.0, 50.0]])
    np.testing.assert_allclose(rp, [[5.0, 8.0]])
    res = clear_reserve(rq, np.array(rp), np.array([60.0]), scarcity_price_eur_per_mw=500.0)
    np.testing.assert_allclose(res.award_mw, [[50.0, 10.0]])
    assert res.price_eur_per_mw[0] == 8.0 and res.shortfall_mw[0] == 0.0

    eq, ep = fl.energy_offers(bids, fleet, prev, res.award_mw, FLOOR)
    np.testing.assert_allclose(eq, [[[0.0, 50.0], [0.0, 90.0]]])
    np.testing.assert_allclose(ep, [[[FLOOR, 20.0], [FLOOR, 40.0]]])
    spot = clear_spot(
        eq.reshape(1, -1),
        ep.reshape(1, -1),
        np.array([[100.0]]),
        np.array([[CAP]]),
        price_floor_eur_per_mwh=FLOOR,
        price_cap_eur_per_mwh=CAP,
    )
    dispatch = spot.supply_mw.reshape(1, 2, 2).sum(-1)
    np.testing.assert_allclose(dispatch, [[50.0, 50.0]])
    assert spot.price_eur_per_mwh[0] == 40.0
    revenue = res.award_mw * res.price_eur_per_mw[:, None] + dispatch * spot.price_eur_per_mwh
    np.testing.assert_allclose(revenue, [[2400.0, 2080.0]])

    # Counterfactual without the reserve award: unit 0 serves all 100 MW at 20 EUR/MWh.
    eq0, ep0 = fl.energy_offers(bids, fleet, prev, np.zeros((1, 2)), FLOOR)
    alone = clear_spot(
        eq0.reshape(1, -1),
        ep0.reshape(1, -1),
        np.array([[100.0]]),
        np.array([[CAP]]),
        price_floor_eur_per_mwh=FLOOR,
        price_cap_eur_per_mwh=CAP,
    )
    np.testing.assert_allclose(alone.supply_mw.reshape(2, 2).sum(-1), [100.0, 0.0])
    assert alone.price_eur_per_mwh[0] == 20.0


def test_golden_reserve_scarcity_price():
    """ORDC-style scarcity price (Hogan 2013, as in ERCOT; DESIGN §3.3): offers 50 @ 5 and
    30 @ 8 cannot cover a 100 MW requirement; both are accepted in full, 20 MW is short,
    and the price is the scarcity price, 500 EUR/MW."""
    r = clear_reserve(
        np.array([[50.0, 30.0]]),
        np.array([[5.0, 8.0]]),
        np.array([100.0]),
        scarcity_price_eur_per_mw=500.0,
    )
    np.testing.assert_allclose(r.award_mw, [[50.0, 30.0]])
    assert r.shortfall_mw[0] == 20.0 and r.price_eur_per_mw[0] == 500.0


# -------------------------------------------------------------------- capacity
# The two-segment curve of these examples as points a/b/c (b on the line a-c).
VRR = {"curve": VrrCurve(300.0, 0.95, 300.0, 1.025, 150.0, 1.10, 0.0)}


def test_golden_capacity_auction_partly_accepted_offer_sets_price():
    """Capacity auction on a VRR demand curve (PJM Manual 18 §2.4, simplified to two
    segments): target 100 MW, cap 300 EUR/MW-day, knees at 100 * 0.95 = 95 MW and
    100 * 1.10 = 110 MW; between them price(q) = 300 * (1 - (q - 95) / 15).

    Offers: 50 MW @ 20, 40 MW @ 100, 30 MW @ 150 (derated MW, EUR/MW-day).
    The curve pays 150 up to q = 95 + (1 - 150/300) * 15 = 102.5 MW; the first two offers
    (90 MW) are below the curve, the third is accepted for 102.5 - 90 = 12.5 MW and sets
    the price: price(102.5) = 300 * (1 - 7.5/15) = 150 EUR/MW-day.
    """
    r = clear_capacity(
        np.array([[50.0, 40.0, 30.0]]), np.array([[20.0, 100.0, 150.0]]), np.array([100.0]), **VRR
    )
    np.testing.assert_allclose(r.award_mw, [[50.0, 40.0, 12.5]])
    np.testing.assert_allclose(r.cleared_mw, [102.5])
    np.testing.assert_allclose(r.price_eur_per_mw_day, [150.0])


def test_golden_capacity_auction_curve_sets_price_and_cap():
    """Same curve (PJM Manual 18 §2.4). (a) Offers 50 @ 20 and 48 @ 100 (98 MW in all)
    are all below the curve; supply is vertical at 98 MW so the curve sets the price:
    300 * (1 - (98 - 95)/15) = 240 EUR/MW-day. (b) Only 80 MW offered, left of the
    95 MW knee: everything clears at the cap, 300 EUR/MW-day."""
    r = clear_capacity(
        np.array([[50.0, 48.0]]), np.array([[20.0, 100.0]]), np.array([100.0]), **VRR
    )
    np.testing.assert_allclose(r.award_mw, [[50.0, 48.0]])
    np.testing.assert_allclose(r.price_eur_per_mw_day, [240.0])
    short = clear_capacity(np.array([[80.0]]), np.array([[20.0]]), np.array([100.0]), **VRR)
    np.testing.assert_allclose(short.award_mw, [[80.0]])
    np.testing.assert_allclose(short.price_eur_per_mw_day, [300.0])


@pytest.mark.parametrize(
    ("q", "price"), [(90.0, 300.0), (95.0, 300.0), (102.5, 150.0), (110.0, 0.0), (130.0, 0.0)]
)
def test_golden_vrr_curve_points(q, price):
    """Points of the VRR curve of the examples above (PJM Manual 18 §2.4)."""
    got = vrr_price(np.array([q]), np.array([100.0]), **VRR)
    np.testing.assert_allclose(got, [price], atol=1e-9)
