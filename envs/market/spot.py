"""Spot (energy) market: a uniform-price double auction on stepwise curves.

Dims: E envs, S supply blocks, B demand blocks. Quantities in MW for one delivery
hour (so MW equals MWh per step), prices in EUR/MWh.

Rules (DESIGN §3.3; the textbook pay-as-clear auction of e.g. Kirschen & Strbac,
*Fundamentals of Power System Economics*, 2nd ed., §2.3 and §5.3):

- supply blocks are accepted in ascending price order, demand blocks in descending
  price order; ties are broken by block index (stable sort), never at random;
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
from typing import Literal

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
_EPS = 1e-9

__all__ = ["SpotResult", "clear_spot"]


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


def _unsort(sorted_values: F64, rows: NDArray[np.intp], order: NDArray[np.intp]) -> F64:
    out = np.empty_like(sorted_values)
    out[rows, order] = sorted_values
    return out


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
    supply_mw = _unsort(acc_s, rows, s_order)
    if pricing == "uniform":
        supply_price = np.broadcast_to(price[:, None], supply_mw.shape).copy()
        demand_price = price
    elif pricing == "pay_as_bid":
        supply_price = np.where(supply_mw > 0.0, sp, price[:, None])
        paid = np.sum(supply_mw * supply_price, axis=-1)
        demand_price = np.where(traded > _EPS, paid / np.maximum(traded, _EPS), price)
    else:
        raise ValueError(f"spot.pricing={pricing!r}; expected 'uniform' or 'pay_as_bid'")
    return SpotResult(
        price_eur_per_mwh=price,
        supply_mw=supply_mw,
        demand_mw=_unsort(acc_d, rows, d_order),
        supply_price_eur_per_mwh=supply_price,
        demand_price_eur_per_mwh=demand_price,
        unserved_mw=unserved,
    )
