"""Incumbent fleet: unit data, bid construction, scripted strategies, action decoding.

Dims: E envs, G generators, K tranches. MW, EUR/MWh, EUR/MW (reserve, per hour),
EUR/MW-day (capacity).

A strategy (scripted here, or an RL agent through :func:`decode_bid_action`) decides
:class:`BidParams`; :func:`energy_offers`, :func:`reserve_offers` and
:func:`capacity_offers` turn any ``BidParams`` into offers. The scripted incumbents
of the simulator and the incumbent policies in ``agents/incumbents.py`` share this
code, so a bid is built one way only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from envs.scenario import FleetConfig

F64 = NDArray[np.float64]

#: Capacity offer price of an existing unit with no markup, EUR/MW-day (a stand-in for
#: its avoidable going-forward cost, the default offer cap of PJM's market seller rules).
CAPACITY_BASE_PRICE_EUR_PER_MW_DAY = 20.0


@dataclass(frozen=True, slots=True)
class FleetArrays:
    """Unit data as arrays, (G,) each; marginal cost includes the carbon price."""

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


@dataclass(frozen=True, slots=True)
class BidParams:
    """What an incumbent's strategy decides each hour.

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


def scripted_bids(fleet_cfg: FleetConfig, rsi: F64, tranches: int) -> BidParams:
    """Bids of the scripted strategy named by ``fleet_cfg.strategy``.

    - competitive: every tranche at marginal cost, all capacity offered;
    - markup: tranche k at marginal cost * (1 + markup * (k+1)/K);
    - withholding: competitive unless pivotal (RSI below ``rsi_threshold``), then
      ``withhold_fraction`` of capacity is withheld and the rest marked up by
      ``pivotal_markup`` (the textbook exercise of unilateral market power).

    Args:
        fleet_cfg: the fleet section of the scenario.
        rsi: (E, G) residual supply index of each unit.
        tranches: K.
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
    else:  # withholding
        pivotal = rsi < fleet_cfg.rsi_threshold
        markup_level = np.where(pivotal, fleet_cfg.pivotal_markup, 0.0)
        withhold = np.where(pivotal, fleet_cfg.withhold_fraction, 0.0)
        markup = np.broadcast_to(markup_level[..., None], (*shape, tranches))
    return BidParams(
        markup=np.array(markup),
        withhold=withhold,
        reserve_fraction=zeros + 1.0,
        reserve_markup=markup_level,
        capacity_fraction=zeros + 1.0,
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


def energy_offers(
    bids: BidParams,
    fleet: FleetArrays,
    prev_dispatch_mw: F64,
    reserve_award_mw: F64,
    price_floor: float,
) -> tuple[F64, F64]:
    """Energy offers of the fleet: a must-run tranche plus K priced tranches.

    Available energy = min(capacity * (1 - withhold), previous dispatch + ramp)
    minus the reserve award of the same hour (reserve held cannot be sold twice,
    DESIGN §3.3). The must-run part, max(min output, previous dispatch - ramp), is
    offered at the price floor (self-scheduled); the rest is split evenly into K
    tranches at marginal cost * (1 + markup_k).

    Args:
        prev_dispatch_mw: (E, G) last hour's dispatch.
        reserve_award_mw: (E, G) reserve awarded this hour.

    Returns:
        (q, p), each (E, G, K+1): tranche 0 is must-run.
    """
    upper = np.minimum(
        fleet.capacity_mw * (1.0 - bids.withhold), prev_dispatch_mw + fleet.ramp_mw_per_h
    )
    avail = np.maximum(upper - reserve_award_mw, 0.0)
    must = np.minimum(
        np.maximum(fleet.min_output_mw, prev_dispatch_mw - fleet.ramp_mw_per_h), avail
    )
    k = bids.markup.shape[-1]
    flex = ((avail - must) / k)[..., None]
    q = np.concatenate([must[..., None], np.broadcast_to(flex, bids.markup.shape)], axis=-1)
    p_tr = fleet.marginal_cost_eur_per_mwh[None, :, None] * (1.0 + bids.markup)
    p = np.concatenate([np.full(must.shape, price_floor)[..., None], p_tr], axis=-1)
    return q, p


def reserve_offers(bids: BidParams, fleet: FleetArrays, prev_dispatch_mw: F64) -> tuple[F64, F64]:
    """Reserve offers, (E, G) each: share of reserve-capable headroom, at cost * (1 + markup).

    Headroom = min(reserve_share * capacity, ramp, capacity - must-run output).
    """
    must = np.maximum(fleet.min_output_mw, prev_dispatch_mw - fleet.ramp_mw_per_h)
    head = np.minimum(
        np.minimum(fleet.reserve_share * fleet.capacity_mw, fleet.ramp_mw_per_h),
        np.maximum(fleet.capacity_mw * (1.0 - bids.withhold) - must, 0.0),
    )
    q = bids.reserve_fraction * head
    p = fleet.reserve_cost_eur_per_mw * (1.0 + bids.reserve_markup)
    return q, np.broadcast_to(p, q.shape)


def capacity_offers(bids: BidParams, fleet: FleetArrays) -> tuple[F64, F64]:
    """Capacity offers, (E, G) each: share of derated capacity at the bid price."""
    return (
        bids.capacity_fraction * fleet.capacity_mw * fleet.derating,
        bids.capacity_price_eur_per_mw_day,
    )
