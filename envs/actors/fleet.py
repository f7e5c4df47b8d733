"""Incumbent fleet: unit data, bid construction, scripted strategies, action decoding.

Dims: E envs, G generators, K tranches. MW, EUR/MWh, EUR/MW (reserve, per hour),
EUR/MW-day (capacity).

A strategy (scripted here, or an RL agent through :func:`decode_bid_action`) decides
:class:`BidParams`; the offers they make are stated once, as the compiled
:func:`reserve_offers_row`, :func:`energy_offers_row` and :func:`capacity_offers_row`
(one env, called by the simulator's step), with :func:`reserve_offers`,
:func:`energy_offers` and :func:`capacity_offers` their batched wrappers for policies
and users, so a bid is built one way only.

**Must-offer of committed capacity** (PJM RAA Schedule / OATT Attachment DD §6.6: a
capacity resource offers its committed capacity into the energy market). A unit's
withheld share cannot take away the MW it committed in the capacity market: the capacity
it offers to energy and reserve is max(capacity * (1 - withhold), committed MW) within its
capacity, the committed accredited MW counted in installed MW (committed / accreditation
rating, :func:`must_offer_row`), since accreditation already discounts the unit's
expected unavailability.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from envs.config.scenario import FleetConfig

F64 = NDArray[np.float64]

#: Capacity offer price of an existing unit with no markup, EUR/MW-day (a stand-in for
#: its avoidable going-forward cost, the default offer cap of PJM's market seller rules).
CAPACITY_BASE_PRICE_EUR_PER_MW_DAY = 20.0


class FleetArrays(NamedTuple):
    """Unit data as arrays, (G,) each; marginal cost includes the carbon price. A named
    record, so the compiled step takes it as it is."""

    capacity_mw: F64
    marginal_cost_eur_per_mwh: F64
    ramp_mw_per_h: F64
    emission_t_per_mwh: F64
    min_output_mw: F64
    derating: F64
    reserve_cost_eur_per_mw: F64
    reserve_share: F64

    @classmethod
    def from_config(cls, fleet: FleetConfig, carbon_price_eur_per_t: float) -> FleetArrays:
        """Stack the generators of ``fleet``; carbon is priced into marginal cost."""
        gens = fleet.generators

        def arr(attr: str) -> F64:
            return np.array([getattr(g, attr) for g in gens], dtype=np.float64)

        ef = arr("emission_t_per_mwh")
        return cls(
            capacity_mw=arr("capacity_mw"),
            marginal_cost_eur_per_mwh=arr("marginal_cost_eur_per_mwh")
            + carbon_price_eur_per_t * ef,
            ramp_mw_per_h=arr("ramp_mw_per_h"),
            emission_t_per_mwh=ef,
            min_output_mw=arr("min_output_mw"),
            derating=arr("capacity_derating"),
            reserve_cost_eur_per_mw=arr("reserve_cost_eur_per_mw"),
            reserve_share=arr("reserve_share"),
        )


class BidParams(NamedTuple):
    """What an incumbent's strategy decides each hour (a named record the compiled step
    takes as it is, once :meth:`contiguous`).

    Attributes:
        markup: (E, G, K) markup of each tranche over marginal cost (0.2 = +20%).
        withhold: (E, G) share of capacity withheld from the energy market, [0, 1].
        reserve_fraction: (E, G) share of reserve-capable headroom offered, [0, 1].
        reserve_markup: (E, G) markup over the unit's reserve cost.
        capacity_fraction: (E, G) share of derated capacity offered, [0, 1].
        capacity_price_eur_per_mw_day: (E, G) capacity offer price.
    """

    markup: F64
    withhold: F64
    reserve_fraction: F64
    reserve_markup: F64
    capacity_fraction: F64
    capacity_price_eur_per_mw_day: F64

    def contiguous(self) -> BidParams:
        """The same bids as C-contiguous float64 arrays (what the compiled step takes)."""
        if all(
            isinstance(v, np.ndarray) and v.dtype == np.float64 and v.flags.c_contiguous
            for v in self
        ):
            return self  # the scripted bids, built contiguous once per core
        return BidParams(*(np.ascontiguousarray(v, dtype=np.float64) for v in self))


def residual_supply_index(capacity_mw: F64, other_supply_mw: F64, demand_mw: F64) -> F64:
    """Residual supply index of each unit: supply without it over demand, (E, G).

    RSI_g = (sum of capacity - capacity_g + other supply) / demand (Sheffrin 2002,
    CAISO); below ~1.1 the unit is considered pivotal.

    Args:
        capacity_mw: (G,) unit capacity.
        other_supply_mw: (E,) supply from outside the fleet (renewables).
        demand_mw: (E,) demand to be met.
    """
    total = capacity_mw.sum() + other_supply_mw
    return (total[:, None] - capacity_mw[None, :]) / np.maximum(demand_mw, 1e-9)[:, None]


def scripted_bids(
    fleet_cfg: FleetConfig, rsi: F64, tranches: int, strategic: tuple[F64, F64] | None = None
) -> BidParams:
    """Bids of the scripted strategy named by ``fleet_cfg.strategy``.

    - competitive: every tranche at marginal cost, all capacity offered;
    - markup: tranche k at marginal cost * (1 + markup * (k+1)/K);
    - withholding: competitive, except the most pivotal unit, which withholds and marks
      up what pays (``strategic``, from
      :func:`envs.actors.withholding.profitable_withholding`). To keep that option, every
      unit offers the capacity market only the share it will not withhold (``1 -
      withhold_fraction``): committed MW must be offered in energy (must-offer), so a
      supplier that means to withhold forgoes the capacity pay on what it withholds.

    Args:
        fleet_cfg: the fleet section of the scenario.
        rsi: (E, G) residual supply index of each unit (its shape sets the batch).
        tranches: K.
        strategic: (withheld share, markup), (E, G) each, for ``withholding``.
    """
    shape = rsi.shape
    zeros = np.zeros(shape)
    steps = (np.arange(1, tranches + 1) / tranches)[None, None, :]
    if fleet_cfg.strategy == "competitive":
        markup_level = zeros
        withhold = zeros
        markup = np.zeros((*shape, tranches))
    elif fleet_cfg.strategy == "markup":
        markup_level = zeros + fleet_cfg.markup
        withhold = zeros
        markup = fleet_cfg.markup * np.broadcast_to(steps, (*shape, tranches))
    else:  # withholding: the shares and markups chosen by envs.actors.withholding
        if strategic is None:
            raise ValueError("the withholding strategy needs the strategic (withhold, markup)")
        withhold, markup_level = strategic
        markup = np.broadcast_to(markup_level[..., None], (*shape, tranches))
    committable = 1.0 - (fleet_cfg.withhold_fraction if fleet_cfg.strategy == "withholding"
                         else 0.0)  # fmt: skip
    return BidParams(
        markup=np.array(markup),
        withhold=withhold,
        reserve_fraction=zeros + 1.0,
        reserve_markup=markup_level,
        capacity_fraction=zeros + committable,
        capacity_price_eur_per_mw_day=CAPACITY_BASE_PRICE_EUR_PER_MW_DAY * (1.0 + markup_level),
    )


def bid_action_size(tranches: int, reserve: bool, capacity: bool) -> int:
    """Length of an incumbent's action vector for the enabled markets."""
    return tranches + 1 + 2 * int(reserve) + 2 * int(capacity)


def decode_bid_action(
    action: F64,
    fleet_cfg: FleetConfig,
    *,
    reserve: bool,
    capacity: bool,
    capacity_cap_eur_per_mw_day: float,
) -> BidParams:
    """Map normalised actions in [-1, 1] to :class:`BidParams`.

    Layout along the last axis: K tranche markups (-1 -> 0, +1 -> ``max_markup``),
    withheld share (-1 -> 0, +1 -> 1), then if the reserve market is open its offered
    share and markup, then if the capacity market is open its offered share and price
    (-1 -> 0, +1 -> the curve's cap).

    Args:
        action: (E, G, A) actions already clipped to [-1, 1].
    """
    u = (action + 1.0) * 0.5  # [0, 1]
    k = fleet_cfg.tranches
    e, g = action.shape[:2]
    ones = np.ones((e, g))
    i = k + 1
    res_frac, res_mark = (
        (u[..., i], u[..., i + 1] * fleet_cfg.max_markup) if reserve else (ones * 0, ones * 0)
    )
    i += 2 * int(reserve)
    cap_frac, cap_price = (
        (u[..., i], u[..., i + 1] * capacity_cap_eur_per_mw_day)
        if capacity
        else (ones * 0, ones * 0)
    )
    return BidParams(
        markup=u[..., :k] * fleet_cfg.max_markup,
        withhold=u[..., k],
        reserve_fraction=res_frac,
        reserve_markup=res_mark,
        capacity_fraction=cap_frac,
        capacity_price_eur_per_mw_day=cap_price,
    )


def encode_bid_params(
    bids: BidParams,
    fleet_cfg: FleetConfig,
    *,
    reserve: bool,
    capacity: bool,
    capacity_cap_eur_per_mw_day: float,
) -> F64:
    """Inverse of :func:`decode_bid_action` (clipped to [-1, 1]): lets a scripted
    strategy act through the controlled-incumbent action space."""
    parts = [bids.markup / fleet_cfg.max_markup, bids.withhold[..., None]]
    if reserve:
        parts += [
            bids.reserve_fraction[..., None],
            (bids.reserve_markup / fleet_cfg.max_markup)[..., None],
        ]
    if capacity:
        parts += [
            bids.capacity_fraction[..., None],
            (bids.capacity_price_eur_per_mw_day / capacity_cap_eur_per_mw_day)[..., None],
        ]
    return np.clip(np.concatenate(parts, axis=-1) * 2.0 - 1.0, -1.0, 1.0)


@njit(cache=True)
def must_offer_row(fp, g, committed):
    """Installed MW unit ``g`` must offer for its committed accredited MW ``committed``
    (G,): committed / its accreditation rating, within its capacity (the must-offer rule of
    the module)."""
    rating = fp.derating[g]
    icap = committed[g] / rating if rating > 0.0 else 0.0
    return min(max(icap, 0.0), fp.capacity_mw[g])


@njit(cache=True)
def offered_capacity_row(fp, bids, e, g, committed):
    """Unit ``g``'s capacity offered to energy and reserve this hour, MW: its capacity
    after withholding, never below its must-offer MW (:func:`must_offer_row`)."""
    kept = fp.capacity_mw[g] * (1.0 - bids.withhold[e, g])
    return max(kept, must_offer_row(fp, g, committed))


def must_offer_mw(fleet: FleetArrays, committed_mw: F64) -> F64:
    """Batched :func:`must_offer_row`: (E, G) committed accredited MW to installed MW.

    >>> import numpy as np
    >>> f = FleetArrays(*(np.array([200.0, 100.0]),) * 5, np.array([0.95, 0.0]),
    ...                 *(np.zeros(2),) * 2)
    >>> must_offer_mw(f, np.array([[190.0, 10.0]])).tolist()
    [[200.0, 0.0]]
    """
    rating = np.asarray(fleet.derating, float)
    icap = np.divide(committed_mw, rating, out=np.zeros(np.shape(committed_mw)),
                     where=rating > 0.0)  # fmt: skip
    return np.clip(icap, 0.0, fleet.capacity_mw)


@njit(cache=True)
def reserve_offers_row(fp, bids, e, prev_dispatch, committed, price_fc, q, p):
    """One env's reserve offers: a share of each unit's reserve-capable headroom at its
    reserve cost times (1 + markup), plus, where reserve is auctioned before energy, the
    energy margin the unit expects to forgo, max(price forecast - marginal cost, 0)
    (the opportunity cost a sequential bidder prices in; the co-optimised clearing prices
    it itself, so its caller passes ``price_fc = -inf``), EUR/MW per hour.

    Headroom = min(reserve_share * capacity, ramp, offered capacity - must-run), the
    capacity offered after withholding and must-offer (:func:`offered_capacity_row`),
    must-run = max(min output, previous dispatch - ramp).

    Args:
        fp: :class:`FleetArrays`; bids: :class:`BidParams` (rows of env ``e`` are read).
        prev_dispatch: (G,) last hour's dispatch, MW.
        committed: (G,) accredited MW committed in the capacity market this hour.
        price_fc: the energy price the unit expects this hour, EUR/MWh.
        q, p: outputs, (G,) offered MW and prices (the first G entries are written).
    """
    for g in range(fp.capacity_mw.shape[0]):
        must = max(fp.min_output_mw[g], prev_dispatch[g] - fp.ramp_mw_per_h[g])
        head = min(
            min(fp.reserve_share[g] * fp.capacity_mw[g], fp.ramp_mw_per_h[g]),
            max(offered_capacity_row(fp, bids, e, g, committed) - must, 0.0),
        )
        q[g] = bids.reserve_fraction[e, g] * head
        p[g] = fp.reserve_cost_eur_per_mw[g] * (1.0 + bids.reserve_markup[e, g]) + max(
            price_fc - fp.marginal_cost_eur_per_mwh[g], 0.0
        )


@njit(cache=True)
def energy_offers_row(fp, bids, e, prev_dispatch, committed, reserve_award, floor, q, p):
    """One env's energy offers: per unit a must-run tranche plus K priced tranches.

    Available energy = min(offered capacity, previous dispatch + ramp) minus
    the reserve awarded in the same hour (reserve held cannot be sold twice, DESIGN
    §3.3). The must-run part, max(min output, previous dispatch - ramp), is offered at
    the price floor (self-scheduled); the rest is split evenly into K tranches at
    marginal cost * (1 + markup_k).

    Args:
        fp, bids, e, committed: as in :func:`reserve_offers_row` (the offered capacity:
            :func:`offered_capacity_row`).
        prev_dispatch, reserve_award: (G,) MW.
        floor: the spot price floor, EUR/MWh.
        q, p: outputs, the first G * (K + 1) entries (unit g's tranche k at g*(K+1)+k,
            tranche 0 must-run), MW and EUR/MWh.
    """
    k_n = bids.markup.shape[2]
    for g in range(fp.capacity_mw.shape[0]):
        upper = min(
            offered_capacity_row(fp, bids, e, g, committed),
            prev_dispatch[g] + fp.ramp_mw_per_h[g],
        )
        avail = max(upper - reserve_award[g], 0.0)
        must = min(max(fp.min_output_mw[g], prev_dispatch[g] - fp.ramp_mw_per_h[g]), avail)
        base = g * (k_n + 1)
        q[base] = must
        p[base] = floor
        for k in range(k_n):
            q[base + 1 + k] = (avail - must) / k_n
            p[base + 1 + k] = fp.marginal_cost_eur_per_mwh[g] * (1.0 + bids.markup[e, g, k])


@njit(cache=True)
def capacity_offers_row(fp, bids, e, q, p):
    """One env's capacity offers: a share of derated capacity (MW) at the bid price
    (EUR/MW-day); the first G entries of ``q`` and ``p`` are written."""
    for g in range(fp.capacity_mw.shape[0]):
        q[g] = bids.capacity_fraction[e, g] * fp.capacity_mw[g] * fp.derating[g]
        p[g] = bids.capacity_price_eur_per_mw_day[e, g]


@njit(cache=True)
def _energy_batch(fp, bids, prev, committed, award, floor, q, p):
    for e in range(q.shape[0]):
        energy_offers_row(fp, bids, e, prev[e], committed[e], award[e], floor, q[e], p[e])


@njit(cache=True)
def _reserve_batch(fp, bids, prev, committed, price_fc, q, p):
    for e in range(q.shape[0]):
        reserve_offers_row(fp, bids, e, prev[e], committed[e], price_fc[e], q[e], p[e])


@njit(cache=True)
def _capacity_batch(fp, bids, q, p):
    for e in range(q.shape[0]):
        capacity_offers_row(fp, bids, e, q[e], p[e])


def energy_offers(
    bids: BidParams,
    fleet: FleetArrays,
    prev_dispatch_mw: F64,
    reserve_award_mw: F64,
    price_floor: float,
    committed_mw: F64 | None = None,
) -> tuple[F64, F64]:
    """Energy offers of the fleet (the rule of :func:`energy_offers_row`).

    Args:
        prev_dispatch_mw: (E, G) last hour's dispatch.
        reserve_award_mw: (E, G) reserve awarded this hour.
        committed_mw: (E, G) accredited MW committed in the capacity market (default none).

    Returns:
        (q, p), each (E, G, K+1): tranche 0 is must-run.
    """
    fp, b = fleet, bids.contiguous()
    e, g, k = b.markup.shape
    q, p = np.empty((e, g * (k + 1))), np.empty((e, g * (k + 1)))
    _energy_batch(fp, b, np.ascontiguousarray(prev_dispatch_mw, dtype=np.float64),
                  _committed(committed_mw, (e, g)),
                  np.ascontiguousarray(reserve_award_mw, dtype=np.float64),
                  float(price_floor), q, p)  # fmt: skip
    return q.reshape(e, g, k + 1), p.reshape(e, g, k + 1)


def reserve_offers(
    bids: BidParams, fleet: FleetArrays, prev_dispatch_mw: F64, price_forecast: F64 | None = None,
    committed_mw: F64 | None = None,
) -> tuple[F64, F64]:  # fmt: skip
    """Reserve offers (the rule of :func:`reserve_offers_row`), (E, G) MW and EUR/MW each.

    ``price_forecast`` (E,) EUR/MWh: the energy price a sequential bidder expects (its
    opportunity cost is priced in); ``None``: no opportunity cost (co-optimised clearing).
    ``committed_mw`` (E, G): accredited MW committed in the capacity market (default none).
    """
    fp, b = fleet, bids.contiguous()
    e = b.withhold.shape[0]
    fc = np.full(e, -np.inf) if price_forecast is None else np.broadcast_to(
        np.asarray(price_forecast, dtype=np.float64), (e,)).copy()  # fmt: skip
    q, p = np.empty(b.withhold.shape), np.empty(b.withhold.shape)
    _reserve_batch(fp, b, np.ascontiguousarray(prev_dispatch_mw, dtype=np.float64),
                   _committed(committed_mw, b.withhold.shape), fc, q, p)  # fmt: skip
    return q, p


def _committed(committed_mw: F64 | None, shape: tuple[int, ...]) -> F64:
    """(E, G) committed MW as the compiled rules take them (zeros for None)."""
    if committed_mw is None:
        return np.zeros(shape)
    return np.ascontiguousarray(np.broadcast_to(committed_mw, shape), dtype=np.float64)


def capacity_offers(bids: BidParams, fleet: FleetArrays) -> tuple[F64, F64]:
    """Capacity offers (the rule of :func:`capacity_offers_row`), (E, G) MW and EUR/MW-day."""
    fp, b = fleet, bids.contiguous()
    q, p = np.empty(b.withhold.shape), np.empty(b.withhold.shape)
    _capacity_batch(fp, b, q, p)
    return q, p
