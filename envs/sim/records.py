"""The scenario's static records of :class:`envs.sim.core.MarketCore`, each built once from
its config section: the sizes, the action layout, the accredited fleet, the coalition's
action codec, the background demand, the settlement layout and the step's constants.

Dims: E envs, G generators, K tranches, N members, H forecast hours, T episode hours,
B background demand blocks (the inelastic block first), M markets, P participants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from envs.actors import coalition as coalition_codec
from envs.actors import fleet as fl
from envs.actors.members import MemberArrays
from envs.config.scenario import ScenarioConfig, SpotConfig
from envs.market import capacity as cap_mkt
from envs.market import settlement as st
from envs.sim import kernel as kn

F64 = NDArray[np.float64]


class Dims(NamedTuple):
    """The batch's sizes."""

    E: int  # envs
    G: int  # generators
    N: int  # members
    K: int  # tranches per generator
    H: int  # forecast hours
    T: int  # episode hours

    @classmethod
    def of(cls, cfg: ScenarioConfig, num_envs: int) -> Dims:
        """The sizes of ``num_envs`` envs of scenario ``cfg``."""
        return cls(E=int(num_envs), G=len(cfg.fleet.generators), N=cfg.members.count,
                   K=cfg.fleet.tranches, H=cfg.forecast.horizon_h, T=cfg.hours)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ActionLayout:
    """Sizes and slices of each group's action vector (all in [-1, 1])."""

    coalition: int
    member: int
    incumbent: int
    reserve: bool
    capacity: bool
    drives_members: bool

    @classmethod
    def from_config(cls, cfg: ScenarioConfig) -> ActionLayout:
        """Coalition: spot (q, p), [reserve (q, p)], [capacity (q, p)], [battery, flex]."""
        res, cap = cfg.reserve.enabled, cfg.capacity.enabled
        drives = not cfg.members.agents
        return cls(
            coalition=len(coalition_codec.slots(res, cap, drives)),
            member=2,
            incumbent=fl.bid_action_size(cfg.fleet.tranches, res, cap),
            reserve=res,
            capacity=cap,
            drives_members=drives,
        )


class BookLayout(NamedTuple):
    """The blocks of the day-ahead book. Demand: the background's bid, (B,) each: the
    inelastic share at the price cap, then the elastic share split evenly over prices from
    high to low (the coalition's buy bid is added by the step). Supply: unit g's tranche k
    at g * (K + 1) + k, then the renewables, then the coalition's sale (S,); reserve: each
    unit's offer, then the coalition's (G + 1,)."""

    demand_prices: F64  # (B,) EUR/MWh
    demand_shares: F64  # (B,) shares of the hour's forecast background load, summing to 1
    supply_unit: NDArray[np.int64]  # (S,) unit of each energy supply block, -1: none
    reserve_unit: NDArray[np.int64]  # (G + 1,) unit of each reserve offer (coalition: -1)

    @classmethod
    def of(cls, sp: SpotConfig, dims: Dims) -> BookLayout:
        """The blocks of the spot section ``sp`` and of ``dims.G`` units of ``dims.K``
        tranches."""
        nb, G, K = sp.demand_blocks, dims.G, dims.K
        high, low = sp.demand_price_high_eur_per_mwh, sp.demand_price_low_eur_per_mwh
        return cls(
            demand_prices=np.concatenate([[sp.price_cap_eur_per_mwh], np.linspace(high, low, nb)]),
            demand_shares=np.concatenate(
                [[1.0 - sp.demand_elastic_share], np.full(nb, sp.demand_elastic_share / nb)]
            ),
            supply_unit=np.concatenate([np.repeat(np.arange(G), K + 1), [-1, -1]]),
            reserve_unit=np.concatenate([np.arange(G), [-1]]),
        )


class Settlement(NamedTuple):
    """The participant axis of the flow matrices (:mod:`envs.market.settlement`)."""

    cols: st.Columns  # index helpers (slices) for Python readers
    flow_cols: st.FlowColumns  # the same columns as integers, for the compiled step
    participants: tuple[str, ...]  # (P,) names in column order

    @classmethod
    def of(cls, dims: Dims) -> Settlement:
        """The layout of ``dims.G`` incumbents and ``dims.N`` members."""
        return cls(st.Columns(dims.G, dims.N), st.FlowColumns.of(dims.G, dims.N),
                   st.participants(dims.G, dims.N))  # fmt: skip


def accredited_fleet(cfg: ScenarioConfig) -> fl.FleetArrays:
    """The fleet's units with carbon priced in and their capacity-market derating replaced
    by the ELCC class ratings of their technologies (their own derating where a technology
    has none; :func:`envs.market.capacity.accredit`): the fleet offers its accredited MW."""
    fleet = fl.FleetArrays.from_config(cfg.fleet, cfg.carbon_price_eur_per_t)
    techs = tuple(g.technology for g in cfg.fleet.generators)
    ones = np.ones(len(techs))
    return fleet._replace(derating=cap_mkt.accredit(techs, ones, fleet.derating, cfg.capacity.elcc))


def coalition_record(
    cfg: ScenarioConfig, m: MemberArrays, layout: ActionLayout
) -> coalition_codec.CoalitionCodec:
    """The scales of the coalition's actions: its largest spot position (the members'
    peak load plus all their devices, MW) and its accredited capacity, MW: its batteries
    by duration class. Its PV and wind net the members' load in the capacity requirement
    (behind-the-meter generation, as in PJM's load forecast,
    :meth:`envs.sim.core.MarketCore.capacity_forecast`), so they are not sold twice."""
    sp, rc, cc = cfg.spot, cfg.reserve, cfg.capacity
    n = len(m.battery_mw)
    duration = np.divide(m.battery_mwh, m.battery_mw, out=np.zeros(n), where=m.battery_mw > 0)
    rating = cap_mkt.storage_rating(duration, cc.storage_classes_h, cc.storage_elcc)
    return coalition_codec.CoalitionCodec(
        q_max_mw=float(np.sum(m.peak_load_mw + m.battery_mw + m.pv_mw + m.wind_mw)),
        price_floor_eur_per_mwh=float(sp.price_floor_eur_per_mwh),
        price_cap_eur_per_mwh=float(sp.price_cap_eur_per_mwh),
        reserve_max_mw=float(m.battery_mw.sum()),
        reserve_price_max_eur_per_mw=float(rc.scarcity_price_eur_per_mw),
        firm_mw=float(np.sum(m.battery_mw * rating)),
        capacity_price_max_eur_per_mw_day=float(cc.price_cap_eur_per_mw_day),
        reserve=bool(layout.reserve),
        capacity=bool(layout.capacity),
        capacity_floor_eur_per_mw_day=float(cc.mopr_floor_eur_per_mw_day),
    )


def step_params(cfg: ScenarioConfig, layout: ActionLayout, book: BookLayout) -> kn.StepParams:
    """The scenario's constants no market owns as the step's named record (once per core;
    each market's are its own record: :class:`envs.sim.kernel.StepParams`)."""
    sp, tf = cfg.spot, cfg.tariff
    return kn.StepParams(
        renewables_offer_eur_per_mwh=float(cfg.background.renewable_offer_eur_per_mwh),
        scarcity_share_of_cap=float(sp.scarcity_price_share),
        network_eur_per_mwh=float(tf.network_eur_per_mwh),
        taxes_eur_per_mwh=float(tf.taxes_eur_per_mwh),
        community_discount_share=float(tf.community_discount),
        ppa_price_eur_per_mwh=float(cfg.ppa.price_eur_per_mwh),
        feed_in_eur_per_mwh=float(tf.feed_in_eur_per_mwh),
        reward_mean_weight=float(cfg.members.reward_mix),
        retail_dynamic=tf.mode == "dynamic",
        retail_adder_eur_per_mwh=float(
            tf.margin_eur_per_mwh + tf.network_eur_per_mwh + tf.taxes_eur_per_mwh
        ),
        drives_members=bool(layout.drives_members),
        allocation_rule=kn.ALLOCATION_RULES.index(cfg.coalition.allocation),
        ir_true_up=bool(cfg.coalition.individually_rational),
        reward_mode=kn.REWARD_MODES.index(cfg.members.reward),
        marginal_emissions=cfg.emissions_accounting == "marginal",
        background_block_shares=book.demand_shares,
        background_bid_eur_per_mwh=book.demand_prices,
        supply_block_unit=book.supply_unit,
        reserve_offer_unit=book.reserve_unit,
    )
