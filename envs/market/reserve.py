"""Reserve (ancillary-service) market: merit order against a fixed requirement.

Dims: E envs, R reserve offers. Quantities in MW of upward reserve held for one hour,
prices in EUR/MW per hour.

Rules (DESIGN §3.3): offers are accepted in ascending price order until the
requirement is met, offers tied at a price sharing that level's MW pro rata to
their MW (EUPHEMIA's rule, :mod:`envs.market.rationing`; never by index or at
random); every accepted MW is paid the uniform price of the
marginal accepted offer. If offers cannot cover the requirement, the shortfall is
recorded and the price is the scarcity price, the flat top of an operating-reserve
demand curve (ORDC, as in ERCOT's scarcity pricing, Hogan 2013). Energy awarded as
reserve is withheld from the same hour's energy offer by the caller.

Stated once, as the compiled :func:`clear_reserve_row` (one env, called by the
simulator's step); :func:`clear_reserve` is its batched public wrapper.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

from envs.market.rationing import ration_row

F64 = NDArray[np.float64]
_EPS = 1e-9

__all__ = ["ReserveResult", "clear_reserve", "clear_reserve_row"]


@dataclass(frozen=True, slots=True)
class ReserveResult:
    """Outcome of one reserve clearing.

    Attributes:
        price_eur_per_mw: (E,) uniform reserve price for the hour.
        award_mw: (E, R) accepted quantity of each offer.
        shortfall_mw: (E,) requirement not covered.
    """

    price_eur_per_mw: F64
    award_mw: F64
    shortfall_mw: F64


@njit(cache=True)
def clear_reserve_row(q, p, requirement, scarcity, award):
    """Clear one env's reserve offers (the rules in the module docstring).

    Args:
        q, p: (R,) offered MW and offer prices, EUR/MW per hour (read as clipped to
            [0, scarcity]).
        requirement: MW to hold.
        scarcity: price when the requirement is not met (and cap), EUR/MW per hour.
        award: output, (R,) accepted MW.

    Returns:
        (price EUR/MW per hour, shortfall MW).
    """
    pc = np.minimum(np.maximum(p, 0.0), scarcity)
    order = np.argsort(pc, kind="mergesort")
    start = 0.0
    total = 0.0
    marginal = 0.0
    for kk in range(q.shape[0]):
        k = order[kk]
        acc = min(max(requirement - start, 0.0), q[k])
        award[k] = acc
        start += q[k]
        total += acc
        if acc > _EPS and pc[k] > marginal:
            marginal = pc[k]
    short = max(requirement - total, 0.0)
    ration_row(q, pc, order, award)  # totals per price level, so the price, unchanged
    return (scarcity if short > _EPS else marginal), short


@njit(cache=True)
def _clear_batch(q, p, requirement, scarcity, award, out):
    for e in range(q.shape[0]):
        out[e] = clear_reserve_row(q[e], p[e], requirement[e], scarcity, award[e])


def clear_reserve(
    offer_q_mw: F64,
    offer_p_eur_per_mw: F64,
    requirement_mw: F64,
    *,
    scarcity_price_eur_per_mw: float,
) -> ReserveResult:
    """Clear reserve offers against the requirement.

    Args:
        offer_q_mw: (E, R) offered reserve, >= 0.
        offer_p_eur_per_mw: (E, R) offer prices, read as clipped to [0, scarcity price].
        requirement_mw: (E,) reserve requirement.
        scarcity_price_eur_per_mw: price when the requirement is not met (and cap).

    Returns:
        The frozen :class:`ReserveResult`; inputs are not modified.

    Example (requirement 60 MW; offers 50 MW at 4 and 50 MW at 9: the second is
    partly accepted and sets the price):

    >>> import numpy as np
    >>> r = clear_reserve(np.array([[50.0, 50.0]]), np.array([[4.0, 9.0]]), np.array([60.0]),
    ...                   scarcity_price_eur_per_mw=1000.0)
    >>> float(r.price_eur_per_mw[0]), r.award_mw.tolist(), float(r.shortfall_mw[0])
    (9.0, [[50.0, 10.0]], 0.0)
    """
    q = np.ascontiguousarray(offer_q_mw, dtype=np.float64)
    p = np.ascontiguousarray(np.broadcast_to(offer_p_eur_per_mw, q.shape), dtype=np.float64)
    req = np.ascontiguousarray(requirement_mw, dtype=np.float64)
    award, out = np.empty_like(q), np.empty((q.shape[0], 2))
    _clear_batch(q, p, req, float(scarcity_price_eur_per_mw), award, out)
    return ReserveResult(price_eur_per_mw=out[:, 0], award_mw=award, shortfall_mw=out[:, 1])
