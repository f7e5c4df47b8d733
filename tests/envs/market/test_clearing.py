"""Properties of the pure clearing functions (issue 2, STYLE §7).

Quantities are drawn on a coarse grid (whole MW) and prices on whole EUR so that ties
occur often: every property below must hold with tied blocks rationed pro rata.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from envs.market import VrrCurve, clear_capacity, clear_reserve, clear_spot, vrr_price

FLOOR, CAP = -500.0, 3000.0
RES_CAP = 500.0
CAP_CAP = 300.0
# A three-segment VRR curve (points a/b/c of PJM's, in shares of the requirement).
CURVE = VrrCurve(CAP_CAP, 0.95, CAP_CAP, 1.03, 150.0, 1.10, 0.0)
TOL = 1e-6


def _qty(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return arrays(np.float64, shape, elements=st.integers(0, 100).map(float))


def _price(shape: tuple[int, ...], lo: float, hi: float, unique: bool = False):
    return arrays(
        np.float64, shape, elements=st.integers(int(lo), int(hi)).map(float), unique=unique
    )


@st.composite
def spot_books(draw, unique: bool = False, max_e: int = 3):
    """(supply_q, supply_p, demand_q, demand_p) with shapes (E, S) and (E, B)."""
    e = draw(st.integers(1, max_e))
    s = draw(st.integers(1, 6))
    b = draw(st.integers(1, 6))
    lo, hi = (FLOOR, CAP) if unique else (FLOOR - 100, CAP + 100)  # also exercise clipping
    return (
        draw(_qty((e, s))),
        draw(_price((e, s), lo, hi, unique)),
        draw(_qty((e, b))),
        draw(_price((e, b), lo, hi, unique)),
    )


def spot(sq, sp, dq, dp, pricing="uniform"):
    return clear_spot(
        sq, sp, dq, dp, price_floor_eur_per_mwh=FLOOR, price_cap_eur_per_mwh=CAP, pricing=pricing
    )


@st.composite
def offer_books(draw, hi: float, unique: bool = False, min_need: int = 0):
    """(q, p) offers of shape (E, R) and a requirement/target (E,) for reserve or capacity."""
    e = draw(st.integers(1, 3))
    r = draw(st.integers(1, 6))
    q = draw(_qty((e, r)))
    p = draw(_price((e, r), 0, hi, unique))
    need = draw(arrays(np.float64, (e,), elements=st.integers(min_need, 400).map(float)))
    return q, p, need


def reserve(q, p, req):
    return clear_reserve(q, p, req, scarcity_price_eur_per_mw=RES_CAP)


def capacity(q, p, target):
    return clear_capacity(q, p, target, curve=CURVE)


def _assert_merit(price: np.ndarray, q: np.ndarray, acc: np.ndarray, ascending: bool) -> None:
    """No accepted block is priced worse than a block left (partly) unaccepted, per env."""
    for e in range(q.shape[0]):
        taken = acc[e] > TOL
        left = q[e] - acc[e] > TOL
        if taken.any() and left.any():
            if ascending:
                assert price[e][taken].max() <= price[e][left].min()
            else:
                assert price[e][taken].min() >= price[e][left].max()


# ------------------------------------------------------------------------- spot
@given(spot_books())
def test_spot_dispatch_within_offers_and_balanced(book):
    sq, sp, dq, dp = book
    r = spot(sq, sp, dq, dp)
    assert np.all(r.supply_mw >= -TOL) and np.all(r.supply_mw <= sq + TOL)
    assert np.all(r.demand_mw >= -TOL) and np.all(r.demand_mw <= dq + TOL)
    np.testing.assert_allclose(r.supply_mw.sum(-1), r.demand_mw.sum(-1), atol=TOL)
    assert np.all(r.unserved_mw >= -TOL)


@given(spot_books())
def test_spot_merit_order_and_price_bounds(book):
    sq, sp, dq, dp = book
    r = spot(sq, sp, dq, dp)
    p = r.price_eur_per_mwh
    assert np.all((p >= FLOOR) & (p <= CAP))
    spc, dpc = np.clip(sp, FLOOR, CAP), np.clip(dp, FLOOR, CAP)
    _assert_merit(spc, sq, r.supply_mw, ascending=True)
    _assert_merit(dpc, dq, r.demand_mw, ascending=False)
    # Uniform price: accepted offers at or below it, accepted bids at or above it.
    for e in range(sq.shape[0]):
        assert np.all(spc[e][r.supply_mw[e] > TOL] <= p[e])
        assert np.all(dpc[e][r.demand_mw[e] > TOL] >= p[e])
        np.testing.assert_array_equal(r.supply_price_eur_per_mwh[e], p[e])
        assert r.demand_price_eur_per_mwh[e] == p[e]


@given(spot_books(), st.integers(0, 300), st.integers(0, 300))
def test_spot_price_non_decreasing_in_inelastic_demand(book, d1, d2):
    sq, sp, dq, dp = book
    lo, hi = sorted((float(d1), float(d2)))
    e = sq.shape[0]

    def price(d: float) -> np.ndarray:
        q = np.concatenate([np.full((e, 1), d), dq], -1)
        pr = np.concatenate([np.full((e, 1), CAP), dp], -1)
        return spot(sq, sp, q, pr).price_eur_per_mwh

    assert np.all(price(lo) <= price(hi) + TOL)


@given(spot_books(unique=True), st.randoms(use_true_random=False))
def test_spot_permuting_offers_permutes_result(book, rnd):
    sq, sp, dq, dp = book
    ps = np.array(rnd.sample(range(sq.shape[1]), sq.shape[1]))
    pd = np.array(rnd.sample(range(dq.shape[1]), dq.shape[1]))
    r0 = spot(sq, sp, dq, dp)
    r1 = spot(sq[:, ps], sp[:, ps], dq[:, pd], dp[:, pd])
    np.testing.assert_allclose(r1.price_eur_per_mwh, r0.price_eur_per_mwh, atol=TOL)
    np.testing.assert_allclose(r1.supply_mw, r0.supply_mw[:, ps], atol=TOL)
    np.testing.assert_allclose(r1.demand_mw, r0.demand_mw[:, pd], atol=TOL)


@given(spot_books(), st.sampled_from(["uniform", "pay_as_bid"]))
def test_spot_batch_clears_like_each_env_alone_and_keeps_inputs(book, pricing):
    sq, sp, dq, dp = book
    before = [a.copy() for a in book]
    r = spot(sq, sp, dq, dp, pricing)
    for a, b in zip(book, before, strict=True):
        np.testing.assert_array_equal(a, b)
    for e in range(sq.shape[0]):
        one = spot(sq[e : e + 1], sp[e : e + 1], dq[e : e + 1], dp[e : e + 1], pricing)
        for field in (
            "price_eur_per_mwh",
            "supply_mw",
            "demand_mw",
            "supply_price_eur_per_mwh",
            "demand_price_eur_per_mwh",
            "unserved_mw",
        ):
            np.testing.assert_array_equal(getattr(one, field)[0], getattr(r, field)[e])


def _step_price(q: np.ndarray, p: np.ndarray, x: float) -> float:
    """Price of the stepwise curve (blocks already in merit order) at quantity x."""
    edges = np.cumsum(q)
    i = int(np.searchsorted(edges, x, side="right"))
    return float(p[min(i, len(p) - 1)])


@given(spot_books(max_e=1))
def test_spot_matches_brute_force_traded_quantity(book):
    """Reference: traded = the largest Q at which the supply curve's price is at or below
    the demand curve's (checked at every whole MW, quantities being whole MW)."""
    sq, sp, dq, dp = (a[0] for a in book)
    spc, dpc = np.clip(sp, FLOOR, CAP), np.clip(dp, FLOOR, CAP)
    so, do = np.argsort(spc, kind="stable"), np.argsort(-dpc, kind="stable")
    qs, ps, qd, pd = sq[so], spc[so], dq[do], dpc[do]
    best = 0
    for q in range(1, int(min(qs.sum(), qd.sum())) + 1):
        if _step_price(qs, ps, q - 0.5) <= _step_price(qd, pd, q - 0.5):
            best = q
    r = spot(*book)
    assert abs(r.supply_mw.sum() - best) < TOL


@given(spot_books())
def test_spot_pay_as_bid_money_balances(book):
    sq, sp, dq, dp = book
    r = spot(sq, sp, dq, dp, "pay_as_bid")
    u = spot(sq, sp, dq, dp, "uniform")
    paid = (r.supply_mw * r.supply_price_eur_per_mwh).sum(-1)
    np.testing.assert_allclose(paid, r.demand_mw.sum(-1) * r.demand_price_eur_per_mwh, atol=1e-5)
    np.testing.assert_allclose(r.supply_mw, u.supply_mw, atol=TOL)
    # No seller is paid more than the uniform price under pay-as-bid.
    taken = r.supply_mw > TOL
    assert np.all(
        np.where(taken, r.supply_price_eur_per_mwh, -np.inf) <= u.price_eur_per_mwh[:, None] + TOL
    )


# ---------------------------------------------------------------------- reserve
@given(offer_books(RES_CAP + 100))
def test_reserve_award_within_offers_and_meets_requirement(book):
    q, p, req = book
    r = reserve(q, p, req)
    assert np.all(r.award_mw >= -TOL) and np.all(r.award_mw <= q + TOL)
    np.testing.assert_allclose(r.award_mw.sum(-1), np.minimum(req, q.sum(-1)), atol=TOL)
    np.testing.assert_allclose(r.shortfall_mw, np.maximum(req - q.sum(-1), 0.0), atol=TOL)


@given(offer_books(RES_CAP + 100))
def test_reserve_merit_order_and_price(book):
    q, p, req = book
    r = reserve(q, p, req)
    pc = np.clip(p, 0.0, RES_CAP)
    _assert_merit(pc, q, r.award_mw, ascending=True)
    price = r.price_eur_per_mw
    assert np.all((price >= 0.0) & (price <= RES_CAP))
    short = r.shortfall_mw > TOL
    np.testing.assert_array_equal(price[short], RES_CAP)
    marginal = np.where(r.award_mw > TOL, pc, 0.0).max(-1)
    np.testing.assert_array_equal(price[~short], marginal[~short])


@given(offer_books(RES_CAP), st.integers(0, 200))
def test_reserve_price_non_decreasing_in_requirement(book, extra):
    q, p, req = book
    lo = reserve(q, p, req).price_eur_per_mw
    hi = reserve(q, p, req + float(extra)).price_eur_per_mw
    assert np.all(lo <= hi + TOL)


@given(offer_books(RES_CAP, unique=True), st.randoms(use_true_random=False))
def test_reserve_permutation_batch_and_inputs(book, rnd):
    q, p, req = book
    before = [a.copy() for a in book]
    r = reserve(q, p, req)
    for a, b in zip(book, before, strict=True):
        np.testing.assert_array_equal(a, b)
    perm = np.array(rnd.sample(range(q.shape[1]), q.shape[1]))
    rp = reserve(q[:, perm], p[:, perm], req)
    np.testing.assert_allclose(rp.award_mw, r.award_mw[:, perm], atol=TOL)
    np.testing.assert_allclose(rp.price_eur_per_mw, r.price_eur_per_mw, atol=TOL)
    for e in range(q.shape[0]):
        one = reserve(q[e : e + 1], p[e : e + 1], req[e : e + 1])
        np.testing.assert_array_equal(one.award_mw[0], r.award_mw[e])
        assert one.price_eur_per_mw[0] == r.price_eur_per_mw[e]
        assert one.shortfall_mw[0] == r.shortfall_mw[e]


# --------------------------------------------------------------------- capacity
@given(offer_books(CAP_CAP + 50, min_need=1))
def test_capacity_award_within_offers_and_price_on_curve(book):
    q, p, target = book
    r = capacity(q, p, target)
    assert np.all(r.award_mw >= -TOL) and np.all(r.award_mw <= q + TOL)
    np.testing.assert_allclose(r.cleared_mw, r.award_mw.sum(-1), atol=TOL)
    price = r.price_eur_per_mw_day
    assert np.all((price >= 0.0) & (price <= CAP_CAP))
    expected = vrr_price(r.cleared_mw, target, curve=CURVE)
    np.testing.assert_allclose(price, expected, atol=TOL)
    pc = np.clip(p, 0.0, CAP_CAP)
    _assert_merit(pc, q, r.award_mw, ascending=True)
    for e in range(q.shape[0]):
        # Accepted offers are at or below the price; offers left out are at or above it.
        assert np.all(pc[e][r.award_mw[e] > TOL] <= price[e] + 1e-6)
        assert np.all(pc[e][q[e] - r.award_mw[e] > TOL] >= price[e] - 1e-6)


@given(offer_books(CAP_CAP, min_need=1), st.integers(0, 200))
def test_capacity_price_non_decreasing_in_target(book, extra):
    q, p, target = book
    lo = capacity(q, p, target).price_eur_per_mw_day
    hi = capacity(q, p, target + float(extra)).price_eur_per_mw_day
    assert np.all(lo <= hi + 1e-6)


@given(offer_books(CAP_CAP, unique=True, min_need=1), st.randoms(use_true_random=False))
def test_capacity_permutation_batch_and_inputs(book, rnd):
    q, p, target = book
    before = [a.copy() for a in book]
    r = capacity(q, p, target)
    for a, b in zip(book, before, strict=True):
        np.testing.assert_array_equal(a, b)
    perm = np.array(rnd.sample(range(q.shape[1]), q.shape[1]))
    rp = capacity(q[:, perm], p[:, perm], target)
    np.testing.assert_allclose(rp.award_mw, r.award_mw[:, perm], atol=TOL)
    np.testing.assert_allclose(rp.price_eur_per_mw_day, r.price_eur_per_mw_day, atol=TOL)
    for e in range(q.shape[0]):
        one = capacity(q[e : e + 1], p[e : e + 1], target[e : e + 1])
        np.testing.assert_array_equal(one.award_mw[0], r.award_mw[e])
        assert one.price_eur_per_mw_day[0] == r.price_eur_per_mw_day[e]


def test_capacity_zero_target_price_not_above_rejected_offer():
    r = capacity(np.array([[1.0]]), np.array([[0.0]]), np.array([0.0]))
    assert r.cleared_mw[0] == 0.0
    assert r.price_eur_per_mw_day[0] <= 0.0
