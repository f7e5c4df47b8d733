"""Pro-rata rationing of tied blocks (EUPHEMIA) in the sequential spot and reserve rules.

Prices are drawn from two values so that the marginal price level nearly always holds
several blocks: a rule that fills ties by index fails these.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from envs.market import clear_reserve, clear_spot
from envs.market.rationing import price_order_row

TOL = 1e-9


def _assert_pro_rata(q, price, acc) -> None:
    """Blocks at one price have equal accepted/offered ratios."""
    for p in np.unique(price):
        at = (price == p) & (q > 0)
        ratios = acc[at] / q[at]
        assert ratios.size == 0 or np.ptp(ratios) <= TOL, (p, ratios)


@given(st.lists(st.integers(1, 100), min_size=2, max_size=6),
       st.lists(st.sampled_from([10.0, 20.0]), min_size=6, max_size=6),
       st.lists(st.integers(1, 200), min_size=1, max_size=4))  # fmt: skip
def test_spot_ties_share_pro_rata(sq, sp, dq):
    sq = np.array(sq, float)[None]
    sp = np.array(sp[: sq.shape[1]])[None]
    dq = np.array(dq, float)[None]
    dp = np.full_like(dq, 3000.0)  # several inelastic blocks at the cap: tied too
    r = clear_spot(sq, sp, dq, dp, price_floor_eur_per_mwh=-500.0, price_cap_eur_per_mwh=3000.0)
    _assert_pro_rata(sq[0], sp[0], r.supply_mw[0])
    _assert_pro_rata(dq[0], dp[0], r.demand_mw[0])
    assert abs(r.supply_mw.sum() - min(sq.sum(), dq.sum())) <= 1e-6


def test_spot_inelastic_load_curtailed_in_proportion():
    """100 MW of supply, 100 + 60 MW of load at the cap: each keeps 100/160 of its bid."""
    r = clear_spot(np.array([[100.0]]), np.array([[20.0]]), np.array([[100.0, 60.0]]),
                   np.array([[3000.0, 3000.0]]), price_floor_eur_per_mwh=-500.0,
                   price_cap_eur_per_mwh=3000.0)  # fmt: skip
    np.testing.assert_allclose(r.demand_mw, [[62.5, 37.5]])
    assert float(r.unserved_mw[0]) == 60.0 and float(r.price_eur_per_mwh[0]) == 3000.0


@given(st.lists(st.integers(1, 100), min_size=2, max_size=6),
       st.lists(st.sampled_from([4.0, 9.0]), min_size=6, max_size=6),
       st.integers(0, 400))  # fmt: skip
def test_reserve_ties_share_pro_rata(q, p, req):
    q = np.array(q, float)[None]
    p = np.array(p[: q.shape[1]])[None]
    r = clear_reserve(q, p, np.array([float(req)]), scarcity_price_eur_per_mw=100.0)
    _assert_pro_rata(q[0], p[0], r.award_mw[0])
    assert abs(r.award_mw.sum() - min(q.sum(), req)) <= 1e-6


@given(st.lists(st.sampled_from([-500.0, 0.0, 12.0, 12.0, 30.5, 3000.0]), max_size=40),
       st.booleans())  # fmt: skip
def test_price_order_is_a_stable_sort(prices, descending):
    """The clearings' insertion sort keeps ties in index order, as mergesort does: the
    pro-rata rules need tied blocks contiguous, and the results depend on the order."""
    p = np.array(prices, dtype=float)
    order = np.empty(p.shape[0], np.int64)
    price_order_row(p, descending, order)
    expected = np.argsort(-p if descending else p, kind="mergesort")
    assert order.tolist() == expected.tolist()
