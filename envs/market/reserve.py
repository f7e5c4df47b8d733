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

Stated once, as compiled functions of one env that the simulator's step calls: the
requirement (:func:`requirement_row`), the operating-reserve demand curve
(:func:`demand_curve_row`, :func:`ordc_value`), the sequential clearing
(:func:`clear_reserve_row`; the co-optimised one is :mod:`envs.market.cooptimise`) and what
each award is paid (:func:`award_payments_row`); :func:`clear_reserve` is the batched public
wrapper. The market's constants are one record, :class:`ReserveRules`, built from its
config section (:meth:`ReserveRules.of`): a change to this market's rules touches this
module, its settlement (:func:`envs.market.settlement.settle_reserve`) and its config.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from envs.market.rationing import ration_row

F64 = NDArray[np.float64]
_EPS = 1e-9

__all__ = ["ReserveResult", "ReserveRules", "award_payments_row", "clear_reserve",
           "clear_reserve_row", "demand_curve_row", "ordc_value", "requirement_row"]  # fmt: skip


class ReserveRules(NamedTuple):
    """The reserve market's constants as the step reads them (its own argument of the
    step: numba's parallel lowering cannot pass a record nested in another)."""

    on: bool  # the market clears (enabled, and the coalition's action has a reserve offer)
    cooptimised: bool  # energy and reserve cleared together (else reserve first, then energy)
    share_of_load_mw_per_mw: float  # requirement per MW of forecast background load
    share_of_renewables_mw_per_mw: float  # ... and per MW of forecast system renewables
    scarcity_eur_per_mw: float  # price when the requirement is short (the cap), EUR/MW per hour
    demand_blocks: int  # equal blocks of the operating-reserve demand curve (1: vertical)
    penalty_eur_per_mwh: float  # on activation the coalition does not deliver

    @classmethod
    def of(cls, cfg: Any, on: bool) -> ReserveRules:
        """The rules of a :class:`envs.config.scenario.ReserveConfig`; ``on``: whether the
        market clears in this scenario."""
        return cls(
            on=bool(on),
            cooptimised=cfg.clearing == "cooptimised",
            share_of_load_mw_per_mw=float(cfg.requirement_share_of_load),
            share_of_renewables_mw_per_mw=float(cfg.requirement_share_of_renewables),
            scarcity_eur_per_mw=float(cfg.scarcity_price_eur_per_mw),
            demand_blocks=int(cfg.demand_curve_steps),
            penalty_eur_per_mwh=float(cfg.non_delivery_penalty_eur_per_mwh),
        )


@njit(cache=True)
def requirement_row(rules, fc_load_mw, fc_ren_mw):
    """The hour's reserve requirement, MW: shares of the forecast background load and of
    the forecast system renewables (0 when the market is off)."""
    if not rules.on:
        return 0.0
    return (rules.share_of_load_mw_per_mw * fc_load_mw
            + rules.share_of_renewables_mw_per_mw * fc_ren_mw)  # fmt: skip


@njit(cache=True)
def demand_curve_row(rules, req, rdq, rdp):
    """The operating-reserve demand curve, one block per step, into ``rdq, rdp`` (K,).

    ``K = rules.demand_blocks`` equal blocks of the requirement ``req`` MW, valued from the
    scarcity price down in equal steps (K = 1: the whole requirement at the scarcity
    price). A sloped curve is PJM's since 2022 (FERC EL19-58: a downward-sloping ORDC in
    place of the vertical requirement) and the shape of ERCOT's: the price of reserve, and
    of energy through the co-optimisation, rises with the shortage instead of jumping to
    the scarcity price at the first MW short, so a buyer moving its bid by a few MW does
    not move the price by the whole scarcity value."""
    n_k = rdq.shape[0]
    for k in range(n_k):
        rdq[k] = req / n_k
        rdp[k] = rules.scarcity_eur_per_mw * (n_k - k) / n_k


@njit(cache=True)
def ordc_value(rules, req, held):
    """The demand curve's value of the last MW when ``held`` MW of the ``req`` MW
    requirement are held, EUR/MW-h (0 once the requirement is met)."""
    if req <= 1e-9 or held >= req - 1e-9:
        return 0.0
    n_k = rules.demand_blocks
    k = int(max(held, 0.0) / (req / n_k))  # the first block not filled
    return rules.scarcity_eur_per_mw * (n_k - k) / n_k


@njit(cache=True)
def award_payments_row(rules, offer_p, award, price, paid):
    """What each award is paid, EUR/MW per hour, into ``paid`` (R,): every accepted MW the
    uniform reserve price ``price`` (the marginal offer's, or the scarcity price), whichever
    clearing set it. ``offer_p`` (R,): the offers' prices; ``award`` (R,): accepted MW."""
    for i in range(award.shape[0]):
        paid[i] = price


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
