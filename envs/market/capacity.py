"""Capacity market after PJM's Reliability Pricing Model (RPM): VRR curve, accreditation,
clearing and Capacity Performance assessment.

Dims: E envs, C capacity offers (resources: G generators then the coalition). Quantities
in accredited MW (UCAP), prices in EUR/MW-day, charges in EUR.

Rules, each stated once as a compiled function of one env (called by the simulator's
step) with a batched public wrapper:

- :func:`vrr_row` / :func:`vrr_price`: the Variable Resource Requirement curve (PJM OATT
  Attachment DD §5.10(a); PJM Manual 18 §2.4): flat at point a's price up to point a,
  linear from a to b and from b to c, zero beyond c; every price clipped to the cap.
  Points are (share of the reliability requirement, EUR/MW-day).
- :func:`clear_capacity_row` / :func:`clear_capacity`: offers accepted in ascending price
  order while the curve still pays their price; the price is the curve's at the cleared
  quantity (so a partly accepted offer sets it, and on a vertical step of supply the curve
  does), as in the RPM Base Residual Auction (PJM Manual 18 §5).
- :func:`accredit`: a unit's accredited MW = capacity * the ELCC class rating of its
  technology (PJM Manual 21A; ELCC class ratings published for each BRA), falling back to
  its own derating where its technology has no class rating; batteries by duration class.
- :func:`performance_row` / :func:`assess_performance`: Capacity Performance (PJM OATT
  Attachment DD §10A; Manual 18 §8.4): in a Performance Assessment Interval, expected
  performance = committed MW * balancing ratio (BR = (load + reserve requirement) /
  committed MW, at most 1), less the MW the operator dispatched the resource down in
  real-time balancing (excused: Attachment DD §10A(c), Manual 18 §8.4A); a shortfall pays
  the Non-Performance Charge Rate per MWh, the cumulative charge of a resource capped at
  its stop-loss; the charges are paid as bonuses to over-performers (committed or not)
  pro rata to their over-performance, and where nobody over-performs, back to load. The
  operator keeps nothing.
- :func:`mopr_row` / :func:`mopr_offer`: buyer-side mitigation after PJM's Minimum Offer
  Price Rule (OATT Attachment DD §5.14(h), the 2021 focused MOPR on buyer-side market
  power): a seller that is net short (its load's capacity obligation exceeds the MW it
  offers) gains from a low clearing price as a buyer, so its offer is raised to the
  floor (``CapacityConfig.mopr_floor_net_cone`` * Net CONE); a net-long seller's offer
  stands.

Where the requirement and the obligations come from (:meth:`envs.sim.core.MarketCore.
capacity_forecast`): the reliability requirement is (1 + reserve margin) * the pool's
forecast *coincident* peak over the auction's delivery period, of background load plus
the members' load net of their own PV and wind (PJM RPM: the 50/50 coincident peak
forecast times the Forecast Pool Requirement; behind-the-meter generation nets load as in
PJM's load forecast, so the coalition's firm capacity offered counts its batteries only,
not the PV and wind already netted). The coalition's obligation is the same margin on the
members' net load in that peak hour (its peak load contribution).

Committed capacity is also bound in the energy market (must-offer, PJM RAA Schedule /
Attachment DD §6.6; :func:`envs.actors.fleet.must_offer_mw`): a committed unit offers at
least its committed MW, in installed MW, whatever share its strategy withholds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

F64 = NDArray[np.float64]

__all__ = ["CapacityResult", "CapacityRules", "PerformanceResult", "VrrCurve", "accredit",
           "assess_performance", "clear_capacity", "clear_capacity_row", "mopr_offer", "mopr_row",
           "performance_row", "storage_rating", "vrr_curve_of_row", "vrr_price",
           "vrr_row"]  # fmt: skip


class VrrCurve(NamedTuple):
    """The VRR curve's points (a named record the compiled step takes as it is).

    Quantities are shares of the reliability requirement; prices EUR/MW-day, with
    ``a_eur >= b_eur >= c_eur >= 0`` and ``a_share <= b_share <= c_share``.
    """

    cap_eur: float  # price cap: no price on the curve exceeds it
    a_share: float
    a_eur: float
    b_share: float
    b_eur: float
    c_share: float
    c_eur: float

    @classmethod
    def of(cls, cfg) -> VrrCurve:
        """The curve of a :class:`envs.config.scenario.CapacityConfig` (points in
        multiples of its Net CONE)."""
        nc = float(cfg.net_cone_eur_per_mw_day)
        return cls(float(cfg.price_cap_eur_per_mw_day),
                   float(cfg.point_a_share), nc * cfg.point_a_net_cone,
                   float(cfg.point_b_share), nc * cfg.point_b_net_cone,
                   float(cfg.point_c_share), nc * cfg.point_c_net_cone)  # fmt: skip


@njit(cache=True)
def vrr_curve_of_row(v):
    """The :class:`VrrCurve` of its array form ``v = np.array(curve)`` (7,), the fields in
    declaration order (the step's parameters carry the curve as an array: numba's parallel
    lowering cannot pass a nested tuple of floats)."""
    return VrrCurve(cap_eur=v[0], a_share=v[1], a_eur=v[2], b_share=v[3], b_eur=v[4],
                    c_share=v[5], c_eur=v[6])  # fmt: skip


class CapacityRules(NamedTuple):
    """The capacity market's constants as the step reads them (its own argument of the
    step; the VRR curve as its array form ``np.array(VrrCurve)``, (7,): numba's parallel
    lowering cannot pass a nested tuple of floats)."""

    on: bool  # the auction clears (enabled, and the coalition's action has a capacity offer)
    vrr_curve: F64  # (7,) the VRR curve, :class:`VrrCurve`'s fields in order
    non_performance_eur_per_mwh: float  # Non-Performance Charge Rate (PJM Capacity Performance)
    stop_loss_eur_per_mw: float  # a resource's largest charges per committed MW in the episode

    @classmethod
    def of(cls, cfg: Any, on: bool, hours: int) -> CapacityRules:
        """The rules of a :class:`envs.config.scenario.CapacityConfig` for an episode of
        ``hours`` hours (the yearly stop-loss prorated to it); ``on``: whether the auction
        clears in this scenario."""
        stop_loss = float(cfg.stop_loss_eur_per_mw_year * hours / 8760.0)
        return cls(on=bool(on), vrr_curve=np.array(VrrCurve.of(cfg), dtype=np.float64),
                   non_performance_eur_per_mwh=float(cfg.non_performance_rate_eur_per_mwh),
                   stop_loss_eur_per_mw=stop_loss)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CapacityResult:
    """Outcome of one capacity auction.

    Attributes:
        price_eur_per_mw_day: (E,) uniform clearing price.
        award_mw: (E, C) accepted accredited capacity of each offer.
        cleared_mw: (E,) total accepted capacity.
    """

    price_eur_per_mw_day: F64
    award_mw: F64
    cleared_mw: F64


@njit(cache=True)
def vrr_row(quantity, requirement, v):
    """Price of the VRR curve ``v`` at ``quantity`` MW for a requirement of
    ``requirement`` MW, EUR/MW-day (0 when the requirement is 0)."""
    if requirement <= 0.0:
        return 0.0
    x = quantity / requirement
    if x <= v.a_share:
        price = v.a_eur
    elif x <= v.b_share:
        price = v.a_eur + (v.b_eur - v.a_eur) * (x - v.a_share) / max(v.b_share - v.a_share, 1e-12)
    elif x <= v.c_share * (1.0 + 1e-12):  # rounding of a sum cleared up to c stays on it
        frac = min((x - v.b_share) / max(v.c_share - v.b_share, 1e-12), 1.0)
        price = v.b_eur + (v.c_eur - v.b_eur) * frac
    else:
        price = 0.0  # the curve ends at point c
    return min(max(price, 0.0), v.cap_eur)


@njit(cache=True)
def _q_at_price(p, requirement, v):
    """Inverse of the curve: the largest quantity (MW) at which the curve pays >= p."""
    if p > min(v.a_eur, v.cap_eur):
        return 0.0
    if p <= v.c_eur:
        x = v.c_share
    elif p <= v.b_eur:  # on segment b-c, where b_eur > c_eur
        x = v.b_share + (v.b_eur - p) / (v.b_eur - v.c_eur) * (v.c_share - v.b_share)
    else:  # on segment a-b, where a_eur > b_eur
        x = v.a_share + (v.a_eur - p) / (v.a_eur - v.b_eur) * (v.b_share - v.a_share)
    return x * requirement


@njit(cache=True)
def clear_capacity_row(q, p, requirement, v, award):
    """Clear one env's accredited capacity offers against the VRR curve ``v``.

    Args:
        q, p: (C,) offered accredited MW and prices, EUR/MW-day (read as clipped to [0, cap]).
        requirement: reliability requirement, MW; v: :class:`VrrCurve`.
        award: output, (C,) accepted MW.

    Returns:
        (price EUR/MW-day, cleared MW).
    """
    pc = np.minimum(np.maximum(p, 0.0), v.cap_eur)
    order = np.argsort(pc, kind="mergesort")
    start = 0.0
    cleared = 0.0
    for kk in range(q.shape[0]):
        k = order[kk]
        acc = min(max(_q_at_price(pc[k], requirement, v) - start, 0.0), q[k])
        if requirement <= 0.0:
            acc = 0.0  # no requirement: nothing is bought
        award[k] = acc
        start += q[k]
        cleared += acc
    return vrr_row(cleared, requirement, v), cleared


@njit(cache=True)
def _vrr_batch(quantity, requirement, v, out):
    for i in range(quantity.shape[0]):
        out[i] = vrr_row(quantity[i], requirement[i], v)


@njit(cache=True)
def _clear_batch(q, p, requirement, v, award, out):
    for e in range(q.shape[0]):
        out[e] = clear_capacity_row(q[e], p[e], requirement[e], v, award[e])


def _curve(curve: VrrCurve) -> VrrCurve:
    return VrrCurve(*(float(x) for x in curve))


def vrr_price(quantity_mw: F64, requirement_mw: F64, *, curve: VrrCurve) -> F64:
    """Price of the VRR curve at ``quantity_mw`` (broadcasts with ``requirement_mw``).

    Example (requirement 100 MW; a = (99 %, 300), b = (104.5 %, 150), c = (110 %, 0)):

    >>> import numpy as np
    >>> v = VrrCurve(300.0, 0.99, 300.0, 1.045, 150.0, 1.10, 0.0)
    >>> vrr_price(np.array([90.0, 101.75, 104.5, 110.0, 111.0]), np.array(100.0),
    ...           curve=v).round(6).tolist()
    [300.0, 225.0, 150.0, 0.0, 0.0]
    """
    q, t = np.broadcast_arrays(np.asarray(quantity_mw, float), np.asarray(requirement_mw, float))
    out = np.empty(q.size)
    _vrr_batch(np.ascontiguousarray(q.ravel()), np.ascontiguousarray(t.ravel()), _curve(curve), out)
    return out.reshape(q.shape)


def clear_capacity(
    offer_q_mw: F64, offer_p_eur_per_mw_day: F64, requirement_mw: F64, *, curve: VrrCurve
) -> CapacityResult:
    """Clear accredited capacity offers against the VRR curve.

    Args:
        offer_q_mw: (E, C) accredited capacity offered, >= 0.
        offer_p_eur_per_mw_day: (E, C) offer prices, read as clipped to [0, cap].
        requirement_mw: (E,) reliability requirement.
        curve: the curve's points.

    Example (the curve of :func:`vrr_price`; 60 MW at 50 and 60 MW at 225: the second
    offer is accepted until the curve falls to 225, at 101.75 MW):

    >>> import numpy as np
    >>> v = VrrCurve(300.0, 0.99, 300.0, 1.045, 150.0, 1.10, 0.0)
    >>> r = clear_capacity(np.array([[60.0, 60.0]]), np.array([[50.0, 225.0]]),
    ...                    np.array([100.0]), curve=v)
    >>> round(float(r.price_eur_per_mw_day[0]), 9), r.award_mw.round(9).tolist()
    (225.0, [[60.0, 41.75]])
    """
    q = np.ascontiguousarray(offer_q_mw, dtype=np.float64)
    p = np.ascontiguousarray(np.broadcast_to(offer_p_eur_per_mw_day, q.shape), dtype=np.float64)
    req = np.ascontiguousarray(np.broadcast_to(requirement_mw, q.shape[:1]), dtype=np.float64)
    award, out = np.empty_like(q), np.empty((q.shape[0], 2))
    _clear_batch(q, p, req, _curve(curve), award, out)
    return CapacityResult(price_eur_per_mw_day=out[:, 0], award_mw=award, cleared_mw=out[:, 1])


def accredit(
    technologies: tuple[str, ...], capacity_mw: F64, derating: F64, elcc: dict[str, float]
) -> F64:
    """Accredited MW of each unit: capacity * its technology's ELCC class rating, or
    capacity * its own ``derating`` where the technology has no rating (PJM Manual 21A).

    >>> import numpy as np
    >>> accredit(("nuclear", "hydro"), np.array([200.0, 100.0]), np.array([0.9, 0.9]),
    ...          {"nuclear": 0.95}).tolist()
    [190.0, 90.0]
    """
    factor = np.array([elcc.get(t, d) for t, d in zip(technologies, derating, strict=True)])
    return np.asarray(capacity_mw, float) * factor


def storage_rating(
    duration_h: F64, classes_h: tuple[float, ...], ratings: tuple[float, ...]
) -> F64:
    """ELCC rating of batteries by duration class: the rating of the longest class the
    battery lasts, pro rata to duration below the shortest class (PJM's 4/6/8/10-hour
    storage classes).

    >>> import numpy as np
    >>> storage_rating(np.array([0.0, 2.0, 4.0, 7.0, 12.0]), (4.0, 6.0), (0.6, 0.7)).tolist()
    [0.0, 0.3, 0.6, 0.7, 0.7]
    """
    d = np.asarray(duration_h, float)
    cls_h, rat = np.asarray(classes_h, float), np.asarray(ratings, float)
    idx = np.searchsorted(cls_h, d, side="right") - 1
    below = rat[0] * np.minimum(d / cls_h[0], 1.0)
    return np.where(idx >= 0, rat[np.maximum(idx, 0)], below)


@njit(cache=True)
def mopr_row(q, p, obligation_mw, floor):
    """The offer price after buyer-side mitigation (the module's MOPR rule), one offer.

    Args:
        q, p: offered accredited MW and price, EUR/MW-day.
        obligation_mw: the seller's load's capacity obligation, accredited MW.
        floor: the minimum offer price, EUR/MW-day.

    Returns:
        (price EUR/MW-day, 1.0 if the floor raised it else 0.0).
    """
    if q > 0.0 and obligation_mw > q and p < floor:
        return floor, 1.0  # net short: it buys more than it sells
    return p, 0.0


@njit(cache=True)
def _mopr_batch(q, p, obligation, floor, out):
    for e in range(q.shape[0]):
        out[e, 0], out[e, 1] = mopr_row(q[e], p[e], obligation[e], floor)


def mopr_offer(
    offer_q_mw: F64, offer_p_eur_per_mw_day: F64, obligation_mw: F64, *, floor: float
) -> tuple[F64, F64]:
    """Batched :func:`mopr_row`: (E,) offers and obligations to (mitigated price, raised).

    A net-short seller (obligation 50 MW, offering 20) at 0 is raised to the floor; a
    net-long one (obligation 10 MW) keeps its offer:

    >>> import numpy as np
    >>> p, raised = mopr_offer(np.array([20.0, 20.0]), np.array([0.0, 0.0]),
    ...                        np.array([50.0, 10.0]), floor=250.0)
    >>> p.tolist(), raised.tolist()
    ([250.0, 0.0], [1.0, 0.0])
    """
    q, p, ob = np.broadcast_arrays(np.asarray(offer_q_mw, float),
                                   np.asarray(offer_p_eur_per_mw_day, float),
                                   np.asarray(obligation_mw, float))  # fmt: skip
    out = np.empty((q.size, 2))
    _mopr_batch(np.ascontiguousarray(q.ravel()), np.ascontiguousarray(p.ravel()),
                np.ascontiguousarray(ob.ravel()), float(floor), out)  # fmt: skip
    return out[:, 0].reshape(q.shape), out[:, 1].reshape(q.shape)


@njit(cache=True)
def performance_row(committed, actual, excused, load_mw, reserve_mw, rate, stop_loss_per_mw,
                    cum, charge, bonus):  # fmt: skip
    """Capacity Performance in one Performance Assessment Interval (one hour), one env.

    Args:
        committed: (C,) committed accredited MW; actual: (C,) delivered energy + reserve, MW.
        excused: (C,) MW the operator dispatched each resource down this hour (>= 0): its
            expected performance is reduced by them (Attachment DD §10A(c)).
        load_mw, reserve_mw: load served and the reserve requirement this hour, MW.
        rate: Non-Performance Charge Rate, EUR/MWh.
        stop_loss_per_mw: a resource's largest cumulative charge per committed MW, EUR/MW.
        cum: (C,) cumulative charges before this hour, EUR.
        charge, bonus: outputs, (C,) EUR charged and paid this hour.

    Returns:
        (balancing ratio, charges collected EUR, of which paid back to load EUR).
    """
    total = 0.0
    for k in range(committed.shape[0]):
        total += committed[k]
    br = min((load_mw + reserve_mw) / total, 1.0) if total > 0.0 else 0.0
    collected = 0.0
    over_sum = 0.0
    for k in range(committed.shape[0]):
        # A resource is not charged for MW the operator took off it (Manual 18 §8.4A).
        expected = max(committed[k] * br - max(excused[k], 0.0), 0.0)
        short = max(expected - actual[k], 0.0)
        room = max(stop_loss_per_mw * committed[k] - cum[k], 0.0)
        charge[k] = min(short * rate, room)
        collected += charge[k]
        over_sum += max(actual[k] - expected, 0.0)
    to_load = 0.0
    for k in range(committed.shape[0]):
        if over_sum > 0.0:
            expected = max(committed[k] * br - max(excused[k], 0.0), 0.0)
            over = max(actual[k] - expected, 0.0)
            bonus[k] = collected * over / over_sum
        else:
            bonus[k] = 0.0
    if over_sum <= 0.0:
        to_load = collected  # nobody over-performed: PJM credits the charges to load
    return br, collected, to_load


@dataclass(frozen=True, slots=True)
class PerformanceResult:
    """Outcome of one Performance Assessment Interval.

    Attributes:
        balancing_ratio: (E,) BR in [0, 1].
        charge_eur: (E, C) non-performance charges; bonus_eur: (E, C) bonuses paid.
        to_load_eur: (E,) charges credited to load (when nobody over-performed).
    """

    balancing_ratio: F64
    charge_eur: F64
    bonus_eur: F64
    to_load_eur: F64


@njit(cache=True)
def _perf_batch(committed, actual, excused, load, reserve, rate, stop, cum, charge, bonus, out):
    for e in range(committed.shape[0]):
        br, _, to_load = performance_row(committed[e], actual[e], excused[e], load[e],
                                         reserve[e], rate, stop, cum[e], charge[e],
                                         bonus[e])  # fmt: skip
        out[e, 0], out[e, 1] = br, to_load


def assess_performance(
    committed_mw: F64,
    actual_mw: F64,
    load_mw: F64,
    reserve_mw: F64,
    cumulative_charge_eur: F64,
    *,
    rate_eur_per_mwh: float,
    stop_loss_eur_per_mw: float,
    excused_mw: F64 | None = None,
) -> PerformanceResult:
    """Charges and bonuses of one Performance Assessment Interval (see :func:`performance_row`);
    ``excused_mw`` (E, C): MW each resource was dispatched down (default none).

    Example: 100 and 50 MW committed, load + reserve 120 MW, so BR = 0.8 and the
    expected performance is 80 and 40 MW; the first delivers 60 MW (20 MW short at
    1,000 EUR/MWh = 20,000 EUR, but its stop-loss of 150 EUR/MW * 100 MW leaves 15,000),
    the second 50 MW and an uncommitted third 5 MW over-perform by 10 and 5 MW and share
    the 15,000 EUR 2:1.

    >>> import numpy as np
    >>> r = assess_performance(np.array([[100.0, 50.0, 0.0]]), np.array([[60.0, 50.0, 5.0]]),
    ...     np.array([100.0]), np.array([20.0]), np.zeros((1, 3)), rate_eur_per_mwh=1000.0,
    ...     stop_loss_eur_per_mw=150.0)
    >>> r.balancing_ratio.tolist(), r.charge_eur.tolist(), r.bonus_eur.tolist()
    ([0.8], [[15000.0, 0.0, 0.0]], [[0.0, 10000.0, 5000.0]])
    """
    c = np.ascontiguousarray(committed_mw, dtype=np.float64)
    a = np.ascontiguousarray(np.broadcast_to(actual_mw, c.shape), dtype=np.float64)
    e_n = c.shape[0]
    load = np.ascontiguousarray(np.broadcast_to(load_mw, (e_n,)), dtype=np.float64)
    res = np.ascontiguousarray(np.broadcast_to(reserve_mw, (e_n,)), dtype=np.float64)
    cum = np.ascontiguousarray(np.broadcast_to(cumulative_charge_eur, c.shape), dtype=np.float64)
    exc = np.zeros_like(c) if excused_mw is None else np.ascontiguousarray(
        np.broadcast_to(excused_mw, c.shape), dtype=np.float64)  # fmt: skip
    charge, bonus, out = np.empty_like(c), np.empty_like(c), np.empty((e_n, 2))
    _perf_batch(c, a, exc, load, res, float(rate_eur_per_mwh), float(stop_loss_eur_per_mw),
                cum, charge, bonus, out)  # fmt: skip
    return PerformanceResult(out[:, 0], charge, bonus, out[:, 1])
