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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]

__all__ = ["CapacityResult", "clear_capacity", "vrr_price"]


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


def _knees(target_mw: F64, lower: float, upper: float) -> tuple[F64, F64]:
    return target_mw * (1.0 - lower), target_mw * (1.0 + upper)


def vrr_price(
    quantity_mw: F64, target_mw: F64, *, cap_eur_per_mw_day: float, lower: float, upper: float
) -> F64:
    """Price of the VRR demand curve at ``quantity_mw`` (broadcasts with ``target_mw``).

    >>> import numpy as np
    >>> vrr_price(np.array([80.0, 100.0, 120.0]), np.array(100.0), cap_eur_per_mw_day=300.0,
    ...           lower=0.1, upper=0.2).round(6).tolist()
    [300.0, 200.0, 0.0]
    """
    a, c = _knees(target_mw, lower, upper)
    frac = np.clip((quantity_mw - a) / np.maximum(c - a, 1e-12), 0.0, 1.0)
    return cap_eur_per_mw_day * (1.0 - frac)


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
    cap = float(cap_eur_per_mw_day)
    price_in = np.minimum(np.maximum(offer_p_eur_per_mw_day, 0.0), cap)
    rows = np.arange(price_in.shape[0])[:, None]
    order = np.argsort(price_in, axis=-1, kind="stable")
    p = price_in[rows, order]
    q = offer_q_mw[rows, order]
    a, c = _knees(target_mw, lower, upper)
    # Inverse of the curve: the largest quantity at which the curve still pays p.
    q_at_p = a[:, None] + (1.0 - p / max(cap, 1e-12)) * (c - a)[:, None]
    start = np.cumsum(q, axis=-1) - q
    acc = np.clip(q_at_p - start, 0.0, q)
    cleared = acc.sum(axis=-1)
    price = vrr_price(cleared, target_mw, cap_eur_per_mw_day=cap, lower=lower, upper=upper)
    # No requirement: nothing is bought and no offer is worth paying for.
    price = np.where(target_mw > 0.0, price, 0.0)
    award = np.empty_like(acc)
    award[rows, order] = acc
    return CapacityResult(price_eur_per_mw_day=price, award_mw=award, cleared_mw=cleared)
