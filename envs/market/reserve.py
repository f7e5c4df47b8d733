"""Reserve (ancillary-service) market: merit order against a fixed requirement.

Dims: E envs, R reserve offers. Quantities in MW of upward reserve held for one hour,
prices in EUR/MW per hour.

Rules (DESIGN §3.3): offers are accepted in ascending price order (ties by index)
until the requirement is met; every accepted MW is paid the uniform price of the
marginal accepted offer. If offers cannot cover the requirement, the shortfall is
recorded and the price is the scarcity price, the flat top of an operating-reserve
demand curve (ORDC, as in ERCOT's scarcity pricing, Hogan 2013). Energy awarded as
reserve is withheld from the same hour's energy offer by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
_EPS = 1e-9

__all__ = ["ReserveResult", "clear_reserve"]


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
    return ReserveResult(price_eur_per_mw=price, award_mw=award, shortfall_mw=shortfall)
