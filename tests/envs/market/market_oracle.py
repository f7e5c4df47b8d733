"""An independent numpy statement of the market-clearing rules, kept as a test oracle.

The simulator and the public ``envs.market`` API run the compiled rules of
``envs/market/*.py``; these vectorised numpy versions were written separately (sorting
and cumulative sums instead of loops) and ``tests/envs/market/test_market_oracle.py`` pins the two
together on random books. Rules and units: see the docstrings in ``envs/market``.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
_EPS = 1e-9


def _unsort(sorted_values: F64, rows: NDArray[np.intp], order: NDArray[np.intp]) -> F64:
    out = np.empty_like(sorted_values)
    out[rows, order] = sorted_values
    return out


def _pro_rata(q: F64, price: F64, acc: F64) -> F64:
    """EUPHEMIA's rationing: blocks at one price share that level's total pro rata to MW."""
    same = (price[:, :, None] == price[:, None, :]).astype(float)  # (E, n, n)
    level_acc = np.einsum("eij,ej->ei", same, acc)
    level_q = np.einsum("eij,ej->ei", same, q)
    return np.where(level_q > 0.0, q * level_acc / np.where(level_q > 0.0, level_q, 1.0), 0.0)


def clear_spot(
    supply_q_mw: F64,
    supply_p_eur_per_mwh: F64,
    demand_q_mw: F64,
    demand_p_eur_per_mwh: F64,
    *,
    price_floor_eur_per_mwh: float,
    price_cap_eur_per_mwh: float,
    pricing: str = "uniform",
) -> SimpleNamespace:
    """Oracle of :func:`envs.market.clear_spot` (same arguments and results)."""
    floor, cap = float(price_floor_eur_per_mwh), float(price_cap_eur_per_mwh)
    # Plain ufuncs and fancy indexing rather than np.clip/take_along_axis: at E = 1
    # a step is dominated by per-call overhead (DESIGN §6).
    sp = np.minimum(np.maximum(supply_p_eur_per_mwh, floor), cap)
    dp = np.minimum(np.maximum(demand_p_eur_per_mwh, floor), cap)
    rows = np.arange(sp.shape[0])[:, None]
    s_order = np.argsort(sp, axis=-1, kind="stable")
    d_order = np.argsort(-dp, axis=-1, kind="stable")
    ps = sp[rows, s_order]
    qs = supply_q_mw[rows, s_order]
    pd = dp[rows, d_order]
    qd = demand_q_mw[rows, d_order]

    # Demand willing to pay at least each supply block's price: (E, S).
    demand_at = ((pd[:, None, :] >= ps[:, :, None]) * qd[:, None, :]).sum(axis=-1)
    s_start = np.cumsum(qs, axis=-1) - qs
    acc_s = np.minimum(np.maximum(demand_at - s_start, 0.0), qs)
    traded = acc_s.sum(axis=-1)
    d_start = np.cumsum(qd, axis=-1) - qd
    acc_d = np.minimum(np.maximum(traded[:, None] - d_start, 0.0), qd)

    # Lowest market-clearing price: no accepted offer above it and no bid left
    # (partly) unfilled above it, so the marginal block sets it.
    neg = -np.inf
    price = np.maximum(
        np.max(np.where(acc_s > _EPS, ps, neg), axis=-1, initial=neg),
        np.max(np.where(qd - acc_d > _EPS, pd, neg), axis=-1, initial=neg),
    )
    price = np.where(np.isfinite(price), price, ps[:, 0] if ps.shape[-1] else floor)
    price = np.clip(price, floor, cap)

    unserved = np.sum(np.where(pd >= cap, qd - acc_d, 0.0), axis=-1)
    supply_mw = _pro_rata(supply_q_mw, sp, _unsort(acc_s, rows, s_order))
    if pricing == "uniform":
        supply_price = np.broadcast_to(price[:, None], supply_mw.shape).copy()
        demand_price = price
    elif pricing == "pay_as_bid":
        supply_price = np.where(supply_mw > 0.0, sp, price[:, None])
        paid = np.sum(supply_mw * supply_price, axis=-1)
        demand_price = np.where(traded > _EPS, paid / np.maximum(traded, _EPS), price)
    else:
        raise ValueError(f"spot.pricing={pricing!r}; expected 'uniform' or 'pay_as_bid'")
    return SimpleNamespace(
        price_eur_per_mwh=price,
        supply_mw=supply_mw,
        demand_mw=_pro_rata(demand_q_mw, dp, _unsort(acc_d, rows, d_order)),
        supply_price_eur_per_mwh=supply_price,
        demand_price_eur_per_mwh=demand_price,
        unserved_mw=unserved,
    )


def clear_reserve(
    offer_q_mw: F64,
    offer_p_eur_per_mw: F64,
    requirement_mw: F64,
    *,
    scarcity_price_eur_per_mw: float,
) -> SimpleNamespace:
    """Oracle of :func:`envs.market.clear_reserve` (same arguments and results)."""
    cap = float(scarcity_price_eur_per_mw)
    price_in = np.minimum(np.maximum(offer_p_eur_per_mw, 0.0), cap)
    rows = np.arange(price_in.shape[0])[:, None]
    order = np.argsort(price_in, axis=-1, kind="stable")
    p = price_in[rows, order]
    q = offer_q_mw[rows, order]
    start = np.cumsum(q, axis=-1) - q
    acc = np.minimum(np.maximum(requirement_mw[:, None] - start, 0.0), q)
    shortfall = np.maximum(requirement_mw - acc.sum(axis=-1), 0.0)
    marginal = np.max(np.where(acc > _EPS, p, 0.0), axis=-1, initial=0.0)
    price = np.where(shortfall > _EPS, cap, marginal)
    award = np.empty_like(acc)
    award[rows, order] = acc
    award = _pro_rata(offer_q_mw, price_in, award)
    return SimpleNamespace(price_eur_per_mw=price, award_mw=award, shortfall_mw=shortfall)


def vrr_price(quantity_mw: F64, requirement_mw: F64, *, curve) -> F64:
    """Oracle of :func:`envs.market.vrr_price` (same arguments and results): np.interp
    through the points, flat left of a, zero right of c, clipped to the cap."""
    v = curve
    x = np.asarray(quantity_mw, float) / np.maximum(np.asarray(requirement_mw, float), 1e-300)
    price = np.interp(x, [v.a_share, v.b_share, v.c_share], [v.a_eur, v.b_eur, v.c_eur])
    price = np.where(x > v.c_share * (1.0 + 1e-12), 0.0, price)
    price = np.clip(price, 0.0, v.cap_eur)
    return np.where(np.asarray(requirement_mw) > 0.0, price, 0.0)


def clear_capacity(offer_q_mw: F64, offer_p_eur_per_mw_day: F64, requirement_mw: F64, *,
                   curve) -> SimpleNamespace:  # fmt: skip
    """Oracle of :func:`envs.market.clear_capacity` (same arguments and results): each
    offer is accepted up to the largest quantity where the curve pays its price, found by
    bisection on the curve (not by inverting its segments)."""
    v = curve
    cap = float(v.cap_eur)
    price_in = np.minimum(np.maximum(offer_p_eur_per_mw_day, 0.0), cap)
    rows = np.arange(price_in.shape[0])[:, None]
    order = np.argsort(price_in, axis=-1, kind="stable")
    p = price_in[rows, order]
    q = offer_q_mw[rows, order]
    req = np.asarray(requirement_mw, float)
    lo = np.zeros_like(p)
    hi = np.broadcast_to((v.c_share * req)[:, None], p.shape).copy()
    ok_hi = vrr_price(hi, req[:, None], curve=v) >= p - 1e-12
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        pays = vrr_price(mid, req[:, None], curve=v) >= p - 1e-12
        lo, hi = np.where(pays, mid, lo), np.where(pays, hi, mid)
    q_at_p = np.where(ok_hi, v.c_share * req[:, None], lo)
    q_at_p = np.where(vrr_price(np.zeros_like(p), req[:, None], curve=v) >= p - 1e-12, q_at_p, 0.0)
    start = np.cumsum(q, axis=-1) - q
    acc = np.clip(q_at_p - start, 0.0, q)
    acc = np.where(req[:, None] > 0.0, acc, 0.0)
    cleared = acc.sum(axis=-1)
    price = vrr_price(cleared, req, curve=v)
    award = np.empty_like(acc)
    award[rows, order] = acc
    return SimpleNamespace(price_eur_per_mw_day=price, award_mw=award, cleared_mw=cleared)
