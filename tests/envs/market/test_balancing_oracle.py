"""Real-time balancing (envs.market.balancing): merit order, pro-rata ties, units' room.

The compiled rule finds price levels one at a time instead of sorting the book; the
oracle here is the sorted form of the same rule (a stable sort of the blocks, then each
tied level water-filled), and the two must agree on books with many ties, blocks of no
MW and units whose room binds, for either sign of the imbalance.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from envs.market.balancing import balance

FLOOR, CAP = -500.0, 3000.0
EPS = 1e-9


def _oracle_fill(need, q, p, unit, room, ascending):
    """The sorted form of the rule: levels in price order, each water-filled pro rata."""
    out = np.zeros(q.shape[0])
    order = np.argsort(p if ascending else -p, kind="mergesort")
    filled, marginal, i = 0.0, np.nan, 0
    while i < q.shape[0] and need - filled > EPS:
        k = i
        while k < q.shape[0] and p[order[k]] == p[order[i]]:
            k += 1
        left = need - filled
        for _ in range(k - i + 1):

            def room_of(j):
                c = q[j] - out[j]
                return min(c, room[unit[j]]) if unit[j] >= 0 else c

            live = [order[jj] for jj in range(i, k) if room_of(order[jj]) > EPS]
            total = sum(q[j] for j in live)
            if total <= 0.0 or left <= EPS:
                break
            given = 0.0
            for j in live:
                x = min(left * q[j] / total, room_of(j))
                out[j] += x
                if unit[j] >= 0:
                    room[unit[j]] -= x
                given += x
            left -= given
            filled += given
            if given > 0.0:
                marginal = p[order[i]]
            if given <= EPS:
                break
        i = k
    return filled, marginal, out


def _oracle(imb, up_q, up_p, dn_q, dn_p, unit, room, da):
    if imb > EPS:
        filled, marginal, out = _oracle_fill(imb, up_q, up_p, unit, room.copy(), True)
        price = marginal if np.isfinite(marginal) else da
        shed = max(imb - filled, 0.0)
        return (CAP if shed > EPS else price), out, shed, 0.0
    if imb < -EPS:
        big = np.full(room.shape[0], np.inf)
        filled, marginal, out = _oracle_fill(-imb, dn_q, dn_p, unit, big, False)
        price = marginal if np.isfinite(marginal) else da
        excess = max(-imb - filled, 0.0)
        return (FLOOR if excess > EPS else price), -out, 0.0, excess
    return da, np.zeros(up_q.shape[0]), 0.0, 0.0


@st.composite
def _books(draw):
    n_u = draw(st.integers(1, 4))
    n = draw(st.integers(1, 10))
    # Few price values and MW that are often 0: levels with several blocks, empty ones.
    mw = st.sampled_from([0.0, 0.0, 5.0, 10.0, 12.5, 40.0])
    price = st.sampled_from([-500.0, 0.0, 20.0, 20.0, 35.0, 80.0])
    up_q = np.array(draw(st.lists(mw, min_size=n, max_size=n)))
    up_p = np.array(draw(st.lists(price, min_size=n, max_size=n)))
    dn_q = np.array(draw(st.lists(mw, min_size=n, max_size=n)))
    dn_p = np.array(draw(st.lists(price, min_size=n, max_size=n)))
    unit = np.array(draw(st.lists(st.integers(-1, n_u - 1), min_size=n, max_size=n)))
    room = np.array(draw(st.lists(st.sampled_from([0.0, 7.0, 15.0, 100.0]),
                                  min_size=n_u, max_size=n_u)))  # fmt: skip
    imb = draw(st.sampled_from([-60.0, -12.5, -3.0, 0.0, 3.0, 12.5, 27.0, 60.0, 400.0]))
    return imb, up_q, up_p, dn_q, dn_p, unit, room


@settings(max_examples=300, deadline=None)
@given(_books())
def test_balance_matches_the_sorted_rule(book):
    imb, up_q, up_p, dn_q, dn_p, unit, room = book
    r = balance(np.array([imb]), up_q[None], up_p[None], dn_q[None], dn_p[None], unit=unit,
                unit_room_mw=room[None], day_ahead_price_eur_per_mwh=np.array([42.0]),
                price_floor_eur_per_mwh=FLOOR, price_cap_eur_per_mwh=CAP)  # fmt: skip
    price, act, shed, excess = _oracle(imb, up_q, up_p, dn_q, dn_p, unit, room, 42.0)
    np.testing.assert_allclose(r.activated_mw[0], act, rtol=1e-12, atol=1e-9)
    assert float(r.price_eur_per_mwh[0]) == min(max(price, FLOOR), CAP)
    assert abs(float(r.shed_mw[0]) - shed) <= 1e-9
    assert abs(float(r.excess_mw[0]) - excess) <= 1e-9
    # The rule itself: within each block and each unit's room, and balanced unless shed.
    a = r.activated_mw[0]
    assert np.all(a >= -dn_q - 1e-9) and np.all(a <= up_q + 1e-9)
    for u in range(room.shape[0]):
        assert a[(unit == u) & (a > 0)].sum() <= room[u] + 1e-9
    assert abs(a.sum() + r.shed_mw[0] - r.excess_mw[0] - imb) <= 1e-6


def test_short_system_activates_the_cheapest_level_pro_rata():
    """25 MW short; two blocks tied at 20 (10 and 30 MW) share 20 MW pro rata once the
    5 MW at 0 is used: 5 and 15 MW, the price is 20."""
    r = balance(np.array([25.0]), np.array([[10.0, 30.0, 5.0, 50.0]]),
                np.array([[20.0, 20.0, 0.0, 80.0]]), np.zeros((1, 4)), np.zeros((1, 4)),
                unit=np.array([0, 1, -1, 0]), unit_room_mw=np.array([[100.0, 100.0]]),
                day_ahead_price_eur_per_mwh=np.array([50.0]), price_floor_eur_per_mwh=FLOOR,
                price_cap_eur_per_mwh=CAP)  # fmt: skip
    np.testing.assert_allclose(r.activated_mw, [[5.0, 15.0, 5.0, 0.0]])
    assert float(r.price_eur_per_mwh[0]) == 20.0 and float(r.shed_mw[0]) == 0.0
