"""Spot (energy) market: a uniform-price double auction on stepwise curves.

The rule is stated once, as the compiled :func:`clear_spot_row` (one env, the form the
simulator's step calls); :func:`clear_spot` is its batched public wrapper.

Dims: E envs, S supply blocks, B demand blocks. Quantities in MW for one delivery
hour (so MW equals MWh per step), prices in EUR/MWh.

Rules (DESIGN §3.3; the textbook pay-as-clear auction of e.g. Kirschen & Strbac,
*Fundamentals of Power System Economics*, 2nd ed., §2.3 and §5.3):

- supply blocks are accepted in ascending price order, demand blocks in descending
  price order; blocks tied at a price share that price level's accepted MW pro rata
  to their MW (EUPHEMIA's rule, :mod:`envs.market.rationing`), never by index or at
  random: several inelastic blocks at the cap are curtailed in the same proportion;
- the traded quantity is where the supply curve meets the demand curve;
- the price is the lowest market-clearing price: the larger of the dearest accepted
  offer and the dearest bid left (partly) unfilled, so a partly accepted block sets
  it, and on a vertical step of supply the highest rejected bid does; with neither
  (no trade and no bid) it is the cheapest offer;
- block prices are read as clipped to [floor, cap], so the price always lies in
  [floor, cap]. Inelastic demand is a demand block at the cap: when supply runs out
  it is partly served, the price is the cap and the rest is *unserved*;
- ``pricing="pay_as_bid"``: each accepted supply block is paid its own offer and
  buyers pay the volume-weighted average of what sellers receive, so payments still
  balance (the operator keeps no surplus).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from envs.market.rationing import ration_row

F64 = NDArray[np.float64]
_EPS = 1e-9

__all__ = ["SpotResult", "SpotRules", "clear_spot", "clear_spot_row", "pay_row", "unserved_row"]


class SpotRules(NamedTuple):
    """The day-ahead spot market's constants as the step reads them (its own argument of
    the step: numba's parallel lowering cannot pass a record nested in another)."""

    price_floor_eur_per_mwh: float  # offers and bids are read in [floor, cap]
    price_cap_eur_per_mwh: float  # the cap: the value of lost load
    pay_as_bid: bool  # accepted offers paid their own price (else the clearing price)

    @classmethod
    def of(cls, cfg: Any) -> SpotRules:
        """The rules of a :class:`envs.config.scenario.SpotConfig`."""
        return cls(price_floor_eur_per_mwh=float(cfg.price_floor_eur_per_mwh),
                   price_cap_eur_per_mwh=float(cfg.price_cap_eur_per_mwh),
                   pay_as_bid=cfg.pricing == "pay_as_bid")  # fmt: skip


@dataclass(frozen=True, slots=True)
class SpotResult:
    """Outcome of one spot clearing.

    Attributes:
        price_eur_per_mwh: (E,) market clearing price.
        supply_mw: (E, S) accepted quantity of each supply block.
        demand_mw: (E, B) accepted quantity of each demand block.
        supply_price_eur_per_mwh: (E, S) price paid to each supply block (the clearing
            price, or the block's own offer under pay-as-bid).
        demand_price_eur_per_mwh: (E,) price paid by every buyer.
        unserved_mw: (E,) demand bid at (or above) the cap that was not served.
    """

    price_eur_per_mwh: F64
    supply_mw: F64
    demand_mw: F64
    supply_price_eur_per_mwh: F64
    demand_price_eur_per_mwh: F64
    unserved_mw: F64


@njit(cache=True)
def clear_spot_row(sq, sp, dq, dp, floor, cap, pay_as_bid, s_acc, d_acc, s_price):
    """Clear one env's curves (the rules in the module docstring).

    Args:
        sq, sp: (S,) offered MW and offer prices, EUR/MWh.
        dq, dp: (B,) bid MW and bid prices, EUR/MWh.
        floor, cap: price floor and cap, EUR/MWh.
        pay_as_bid: pay accepted offers their own price (else the clearing price).
        s_acc, d_acc, s_price: outputs, (S,) accepted supply MW, (B,) accepted demand MW,
            (S,) price paid to each supply block, EUR/MWh.

    Returns:
        (price, buyers' price, unserved MW): EUR/MWh, EUR/MWh, MW.
    """
    n_s, n_b = sq.shape[0], dq.shape[0]
    ps = np.minimum(np.maximum(sp, floor), cap)
    pd = np.minimum(np.maximum(dp, floor), cap)
    s_order = np.argsort(ps, kind="mergesort")
    d_order = np.argsort(-pd, kind="mergesort")
    start = 0.0
    traded = 0.0
    best_acc = -np.inf
    for jj in range(n_s):
        j = s_order[jj]
        demand_at = 0.0
        for i in range(n_b):
            if pd[i] >= ps[j]:
                demand_at += dq[i]
        acc = min(max(demand_at - start, 0.0), sq[j])
        s_acc[j] = acc
        start += sq[j]
        traded += acc
        if acc > _EPS and ps[j] > best_acc:
            best_acc = ps[j]
    d_start = 0.0
    best_unfilled = -np.inf
    for ii in range(n_b):
        i = d_order[ii]
        acc = min(max(traded - d_start, 0.0), dq[i])
        d_acc[i] = acc
        d_start += dq[i]
        if dq[i] - acc > _EPS and pd[i] > best_unfilled:
            best_unfilled = pd[i]
    # Lowest market-clearing price: no accepted offer above it and no bid left
    # (partly) unfilled above it, so the marginal block sets it.
    price = max(best_acc, best_unfilled)
    if not np.isfinite(price):
        price = ps[s_order[0]] if n_s > 0 else floor
    price = min(max(price, floor), cap)
    # Pro-rata among tied blocks: each price level's total, so the price and the
    # unserved MW above, are unchanged.
    ration_row(sq, ps, s_order, s_acc)
    ration_row(dq, pd, d_order, d_acc)
    buyer = pay_row(sp, s_acc, price, floor, cap, pay_as_bid, s_price)
    return price, buyer, unserved_row(dq, dp, d_acc, cap, n_b)


@njit(cache=True)
def pay_row(sp, s_acc, price, floor, cap, pay_as_bid, s_price):
    """What each accepted supply block is paid and what buyers pay, one env.

    Uniform pricing pays every block the clearing price ``price``; pay-as-bid pays each
    accepted block its own offer (read as clipped to [floor, cap]) and buyers pay the
    volume-weighted average of what sellers receive, so the market pays out exactly what
    it takes (the operator keeps no surplus).

    Args:
        sp: (S,) offer prices, EUR/MWh.
        s_acc: (S,) accepted MW of each block.
        price: the clearing price, EUR/MWh.
        floor, cap: price floor and cap, EUR/MWh.
        pay_as_bid: pay accepted offers their own price (else the clearing price).
        s_price: output, (S,) price paid to each block, EUR/MWh.

    Returns:
        The buyers' price, EUR/MWh.
    """
    paid, traded = 0.0, 0.0
    for j in range(sp.shape[0]):
        own = min(max(sp[j], floor), cap)
        s_price[j] = own if (pay_as_bid and s_acc[j] > 0.0) else price
        paid += s_acc[j] * s_price[j]
        traded += s_acc[j]
    return paid / traded if (pay_as_bid and traded > _EPS) else price


@njit(cache=True)
def unserved_row(dq, dp, d_acc, cap, n):
    """Demand bid at (or above) the cap and not served, MW, over the first ``n`` of the
    blocks ``dq, dp, d_acc`` (B,) (bid MW, bid price EUR/MWh, accepted MW): inelastic load
    left unserved when supply runs out (DESIGN §3.3)."""
    unserved = 0.0
    for b in range(n):
        if dp[b] >= cap:
            unserved += dq[b] - d_acc[b]
    return max(unserved, 0.0)


@njit(cache=True)
def _clear_batch(sq, sp, dq, dp, floor, cap, pay_as_bid, s_acc, d_acc, s_price, out):
    for e in range(sq.shape[0]):
        out[e] = clear_spot_row(sq[e], sp[e], dq[e], dp[e], floor, cap, pay_as_bid, s_acc[e],
                                d_acc[e], s_price[e])  # fmt: skip


def clear_spot(
    supply_q_mw: F64,
    supply_p_eur_per_mwh: F64,
    demand_q_mw: F64,
    demand_p_eur_per_mwh: F64,
    *,
    price_floor_eur_per_mwh: float,
    price_cap_eur_per_mwh: float,
    pricing: Literal["uniform", "pay_as_bid"] = "uniform",
) -> SpotResult:
    """Clear a batch of stepwise supply and demand curves.

    Args:
        supply_q_mw: (E, S) offered quantities, >= 0.
        supply_p_eur_per_mwh: (E, S) offer prices.
        demand_q_mw: (E, B) bid quantities, >= 0.
        demand_p_eur_per_mwh: (E, B) bid prices (inelastic demand: the cap).
        price_floor_eur_per_mwh: lowest admissible price.
        price_cap_eur_per_mwh: highest admissible price.
        pricing: ``"uniform"`` (pay-as-clear) or ``"pay_as_bid"``.

    Returns:
        The frozen :class:`SpotResult`. Inputs are not modified.

    Example (a merit order: 100 MW at 20, 100 MW at 50, 100 MW demand at the cap
    plus 50 MW willing to pay 40; the 20 EUR block is exhausted, the 40 EUR bid sets
    the price on the vertical part of supply):

    >>> import numpy as np
    >>> r = clear_spot(np.array([[100.0, 100.0]]), np.array([[20.0, 50.0]]),
    ...                np.array([[100.0, 50.0]]), np.array([[3000.0, 40.0]]),
    ...                price_floor_eur_per_mwh=-500.0, price_cap_eur_per_mwh=3000.0)
    >>> float(r.price_eur_per_mwh[0]), r.supply_mw.tolist(), r.demand_mw.tolist()
    (40.0, [[100.0, 0.0]], [[100.0, 0.0]])
    """
    if pricing not in ("uniform", "pay_as_bid"):
        raise ValueError(f"spot.pricing={pricing!r}; expected 'uniform' or 'pay_as_bid'")
    arrays = (supply_q_mw, supply_p_eur_per_mwh, demand_q_mw, demand_p_eur_per_mwh)
    sq, sp, dq, dp = (np.ascontiguousarray(a, dtype=np.float64) for a in arrays)
    s_acc, s_price, d_acc = np.empty_like(sq), np.empty_like(sq), np.empty_like(dq)
    out = np.empty((sq.shape[0], 3))
    _clear_batch(sq, sp, dq, dp, float(price_floor_eur_per_mwh), float(price_cap_eur_per_mwh),
                 pricing == "pay_as_bid", s_acc, d_acc, s_price, out)  # fmt: skip
    return SpotResult(
        price_eur_per_mwh=out[:, 0],
        supply_mw=s_acc,
        demand_mw=d_acc,
        supply_price_eur_per_mwh=s_price,
        demand_price_eur_per_mwh=out[:, 1],
        unserved_mw=out[:, 2],
    )
