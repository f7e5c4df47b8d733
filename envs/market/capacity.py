"""Capacity market: a descending demand-curve (VRR-style) auction for firm capacity.

Dims: E envs, C capacity offers. Quantities in MW of derated (firm) capacity, prices
in EUR/MW-day.

The demand curve follows PJM's Variable Resource Requirement (PJM Manual 18 §2.4,
simplified to two segments): the price is the cap up to ``target*(1-lower)``, falls
linearly to zero at ``target*(1+upper)``. Offers are accepted in ascending price
order (ties by index) while their price is at or below the curve; the clearing price
is the curve's price at the cleared quantity, so a partly accepted offer sets it and
on a vertical step of supply the curve sets it. Offers are derated by the caller
(battery by duration, solar/wind by a capacity credit).

Stated once, as the compiled :func:`vrr_row` and :func:`clear_capacity_row` (one env,
called by the simulator's step); :func:`vrr_price` and :func:`clear_capacity` are their
batched public wrappers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

F64 = NDArray[np.float64]

__all__ = ["CapacityResult", "clear_capacity", "clear_capacity_row", "vrr_price", "vrr_row"]


@dataclass(frozen=True, slots=True)
class CapacityResult:
    """Outcome of one capacity auction.

    Attributes:
        price_eur_per_mw_day: (E,) uniform clearing price.
        award_mw: (E, C) accepted derated capacity of each offer.
        cleared_mw: (E,) total accepted capacity.
    """

    price_eur_per_mw_day: F64
    award_mw: F64
    cleared_mw: F64


@njit(cache=True)
def vrr_row(quantity, target, cap, lower, upper):
    """Price of the VRR curve at ``quantity`` MW, EUR/MW-day: the cap up to
    ``target*(1-lower)``, linear to zero at ``target*(1+upper)``."""
    a = target * (1.0 - lower)
    c = target * (1.0 + upper)
    frac = min(max((quantity - a) / max(c - a, 1e-12), 0.0), 1.0)
    return cap * (1.0 - frac)


@njit(cache=True)
def clear_capacity_row(q, p, target, cap, lower, upper, award):
    """Clear one env's derated capacity offers against the VRR curve.

    Args:
        q, p: (C,) offered firm MW and prices, EUR/MW-day (read as clipped to [0, cap]).
        target: reliability requirement, MW; cap: the curve's cap, EUR/MW-day;
        lower, upper: the curve's knees as fractions of the target.
        award: output, (C,) accepted MW.

    Returns:
        (price EUR/MW-day, cleared MW).
    """
    pc = np.minimum(np.maximum(p, 0.0), cap)
    order = np.argsort(pc, kind="mergesort")
    a = target * (1.0 - lower)
    c = target * (1.0 + upper)
    start = 0.0
    cleared = 0.0
    for kk in range(q.shape[0]):
        k = order[kk]
        # Inverse of the curve: the largest quantity at which the curve still pays p.
        q_at_p = a + (1.0 - pc[k] / max(cap, 1e-12)) * (c - a)
        acc = min(max(q_at_p - start, 0.0), q[k])
        award[k] = acc
        start += q[k]
        cleared += acc
    # No requirement: nothing is bought and no offer is worth paying for.
    price = vrr_row(cleared, target, cap, lower, upper) if target > 0.0 else 0.0
    return price, cleared


@njit(cache=True)
def _vrr_batch(quantity, target, cap, lower, upper, out):
    for i in range(quantity.shape[0]):
        out[i] = vrr_row(quantity[i], target[i], cap, lower, upper)


@njit(cache=True)
def _clear_batch(q, p, target, cap, lower, upper, award, out):
    for e in range(q.shape[0]):
        out[e] = clear_capacity_row(q[e], p[e], target[e], cap, lower, upper, award[e])


def vrr_price(
    quantity_mw: F64, target_mw: F64, *, cap_eur_per_mw_day: float, lower: float, upper: float
) -> F64:
    """Price of the VRR demand curve at ``quantity_mw`` (broadcasts with ``target_mw``).

    >>> import numpy as np
    >>> vrr_price(np.array([80.0, 100.0, 120.0]), np.array(100.0), cap_eur_per_mw_day=300.0,
    ...           lower=0.1, upper=0.2).round(6).tolist()
    [300.0, 200.0, 0.0]
    """
    q, t = np.broadcast_arrays(np.asarray(quantity_mw, float), np.asarray(target_mw, float))
    out = np.empty(q.size)
    _vrr_batch(q.ravel(), t.ravel(), float(cap_eur_per_mw_day), float(lower), float(upper), out)
    return out.reshape(q.shape)


def clear_capacity(
    offer_q_mw: F64,
    offer_p_eur_per_mw_day: F64,
    target_mw: F64,
    *,
    cap_eur_per_mw_day: float,
    lower: float,
    upper: float,
) -> CapacityResult:
    """Clear derated capacity offers against the VRR curve.

    Args:
        offer_q_mw: (E, C) derated capacity offered, >= 0.
        offer_p_eur_per_mw_day: (E, C) offer prices, read as clipped to [0, cap].
        target_mw: (E,) reliability requirement (the curve's reference point).
        cap_eur_per_mw_day: price cap of the curve.
        lower: fraction below target where the curve leaves the cap.
        upper: fraction above target where the price reaches zero.

    Example (target 100 MW, cap 300, knees at 90 and 120; 60 MW at 50 and 60 MW at
    250: the second offer is accepted until the curve falls to 250, at 95 MW):

    >>> import numpy as np
    >>> r = clear_capacity(np.array([[60.0, 60.0]]), np.array([[50.0, 250.0]]), np.array([100.0]),
    ...                    cap_eur_per_mw_day=300.0, lower=0.1, upper=0.2)
    >>> float(r.price_eur_per_mw_day[0]), r.award_mw.tolist()
    (250.0, [[60.0, 35.0]])
    """
    q = np.ascontiguousarray(offer_q_mw, dtype=np.float64)
    p = np.ascontiguousarray(np.broadcast_to(offer_p_eur_per_mw_day, q.shape), dtype=np.float64)
    target = np.ascontiguousarray(target_mw, dtype=np.float64)
    award, out = np.empty_like(q), np.empty((q.shape[0], 2))
    _clear_batch(q, p, target, float(cap_eur_per_mw_day), float(lower), float(upper), award, out)
    return CapacityResult(price_eur_per_mw_day=out[:, 0], award_mw=award, cleared_mw=out[:, 1])
