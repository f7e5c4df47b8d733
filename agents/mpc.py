"""Model-predictive control of the coalition: the planning LP of :mod:`agents.lp`, solved
by HiGHS every hour.

Dims: N members, H horizon hours. MW (= MWh per hour), MWh, EUR/MWh.

Each hour the coalition plans the next H hours from what it observes only, applies the
first hour and plans again (rolling horizon):

- members' net loads: their own forecasts (members' observations);
- spot prices: :mod:`agents.forecast` (ridge on the published residual load), and the
  coalition's own price impact: its purchases add to the residual demand the fleet must
  cover (its sales take from it), which moves the price along the fleet's competitive
  merit order (:class:`agents.forecast.MeritOrder`, from static scenario constants);
- the co-optimised reserve price: the median of the last 24 cleared reserve prices (the
  auction prices the energy margin a unit forgoes, so it spikes with the energy price; a
  spike carried forward would hold the batteries back from the spot market);
- capacity performance: the committed MW (observed after the auction) must be delivered
  in scarcity hours; an hour ahead is expected to be one with probability 1 where the
  price forecast reaches the scarcity threshold, else with the share of the days seen so
  far in which that hour of day was one; a shortfall costs the non-performance rate;
- activations: not forecast (nothing observed tells them); the rolling plan absorbs them.

Large coalitions (``aggregate``): members of one persona are scaled copies of it (sizes
0.8-1.2x, one load shape, :meth:`envs.actors.members.MemberArrays.from_config`), so the LP
plans one virtual member per persona, with the persona's summed batteries, flexible load,
net load, state of charge and debt, and each member follows its persona's plan pro rata
to its power (the same normalised set-point). The LP then has 7 virtual members instead
of N; what it gives up is the members' own load noise and forecast errors within a
persona, and network charges on one member's imports that another member's exports of
the same persona would net (the aggregate LP nets them, so it is a relaxation).

Capacity auctions: in an auction hour the LP also chooses the MW to commit, K, against
the capacity cash it expects, the charges it expects in scarcity hours and the energy and
reserve that delivering K displaces (:mod:`agents.capacity_offer`, which states the price
forecast, the horizon's scaling and the stop-loss); ``capacity_share`` set instead offers
that fixed share of the firm capacity (the behaviour before the offer was optimised).

Actions: the first hour's battery and shift set-points for every member; the coalition
bids its planned net position as a price-taker, offers ``r_0`` of reserve at 0 EUR/MW
(the co-optimised auction prices the opportunity cost) and, in auction hours, K MW of
its firm capacity at 0 EUR/MW-day (a net-short coalition's offer is raised to the MOPR
floor by the auction).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from types import SimpleNamespace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from agents.base import MarketPolicy
from agents.capacity_offer import CapacityOutlook, choose_commitment
from agents.forecast import (
    MeritOrder,
    coalition_price_forecast,
    make_forecaster,
    reserve_shares,
    system_forecasts,
)
from agents.lp import SEGMENTS, CoalitionLP, MarketInputs, impact_prices
from envs.actors.coalition import capacity_entry, reserve_entry, spot_entries
from envs.actors.members import battery_bounds, flex_bounds
from envs.adapters.parallel import COALITION_ID
from envs.sim import observe as ob

F64 = NDArray[np.float64]

IMPACT_MODES = ("auto", "merit", "none")
#: ``price_impact="auto"`` plans with the own price impact from this share of the background
#: peak. The merit order is coarse at its kinks: for the 20-member scenarios (largest trade
#: 48 MW, 6% of an 850 MW peak) it cost 2k (default) and 114k EUR/week (dark_doldrums) on
#: seed 1000 against a price-taker; for large_coalition (996 MW against 500 MW) it turned
#: -7.7M and -18.8M EUR/week into +0.93M and +0.57M on seeds 1000 and 1001.
IMPACT_SHARE = 0.25
AGGREGATE_MODES = ("auto", "persona", "none")
#: ``aggregate="auto"`` plans one virtual member per persona above this many members: at 200
#: members the member-by-member LP took 270 ms a decision (``evaluation.benchmark``'s
#: ``mpc_step_ms_200``), at 20 it takes 8 ms and stays exact.
AGGREGATE_ABOVE = 50

__all__ = ["CoalitionLP", "MPCPolicy", "plan_actions"]


def plan_actions(
    plan: dict[str, F64], t: int, member_ids: list[str], members: Any, q_max_mw: float,
    layout: Any, capacity_share: float = 0.0,
    split: Callable[[F64, F64], tuple[F64, F64]] | None = None,
) -> dict[str, np.ndarray]:  # fmt: skip
    """Normalised actions for hour ``t`` of an LP plan (the env's action layout).

    Members: battery ``(c - d) / P`` and shift ``f / F``; with ``split`` the plan's rows
    are virtual members, and ``split(batt, flex)`` gives each member's MW from theirs
    (:func:`split_by_headroom`). Coalition: the planned net
    position ``b - x`` as a price-taker (buy at the cap, sell at the floor), reserve ``r``
    at 0 EUR/MW when that market is open, and ``capacity_share`` of firm capacity at
    0 EUR/MW-day when the capacity market is open (-1 = no offer).
    """
    m = members
    batt = plan["c"][:, t] - plan["d"][:, t]
    flex = plan["f"][:, t]
    if split is not None:
        batt, flex = split(batt, flex)
    a_b = np.divide(batt, m.battery_mw, out=np.zeros_like(batt), where=m.battery_mw > 0)
    a_f = np.divide(flex, m.flex_mw, out=np.zeros_like(flex), where=m.flex_mw > 0)
    out = {
        a: np.clip([a_b[i], a_f[i]], -1.0, 1.0).astype(np.float32) for i, a in enumerate(member_ids)
    }
    q = float(plan["b"][t] - plan["x"][t])
    act = -np.ones(layout.coalition, dtype=np.float32)  # no offer in unused markets
    act[0], act[1] = spot_entries(q, q_max_mw)
    j = 2
    if layout.reserve:
        act[j] = reserve_entry(plan["r"][t], m.battery_mw)
        j += 2
    if layout.capacity:
        act[j] = capacity_entry(capacity_share)
    out[COALITION_ID] = act
    return out


def group_sum(groups: NDArray[np.int64], k: int, x: F64) -> F64:
    """Sums of ``x`` (N, ...) over the members of each of ``k`` groups, (k, ...)."""
    out = np.zeros((k, *x.shape[1:]))
    np.add.at(out, groups, x)
    return out


def persona_groups(m: Any, mode: str) -> tuple[NDArray[np.int64] | None, Any]:
    """The members the LP plans: ``(None, m)`` member by member, or ``(groups, virtual)``
    with ``groups`` (N,) each member's persona index and ``virtual`` one member per
    persona (summed power, energy and flexible load; the persona's efficiency). See
    :data:`AGGREGATE_MODES`."""
    n = len(m.persona)
    if mode == "none" or (mode == "auto" and n <= AGGREGATE_ABOVE):
        return None, m
    names, groups = np.unique(np.asarray(m.persona), return_inverse=True)
    k = len(names)
    eta = np.zeros(k)
    eta[groups] = m.eta  # one efficiency per persona (the persona's battery)
    sums = {f: group_sum(groups, k, getattr(m, f))
            for f in ("battery_mw", "battery_mwh", "flex_mw", "flex_mwh")}  # fmt: skip
    virtual = SimpleNamespace(**sums, eta=eta)
    return groups.astype(np.int64), virtual


def split_by_headroom(groups: NDArray[np.int64], batt: F64, flex: F64, m: Any, soc: F64,
                      debt: F64) -> tuple[F64, F64]:  # fmt: skip
    """Members' battery and shift MW (N,) from their groups' planned ``batt``, ``flex``
    (k,): each member takes its group's set-point in proportion to the room it has in
    that direction this hour (charge or discharge limit from its state of charge; flexible
    load from its debt; the env's own limits, :mod:`envs.actors.members`), so that no
    member is asked for more than it can do while another of its group has room."""
    k = batt.shape[0]
    charge, discharge = battery_bounds(soc, m)
    lo, hi = flex_bounds(debt, m)
    out = []
    for plan, up, down in ((batt, charge, discharge), (flex, hi, -lo)):
        mine = plan[groups]  # each member's group's set-point
        room = np.where(mine > 0.0, up, down)
        total = group_sum(groups, k, room)[groups]
        share = np.divide(room, total, out=np.zeros_like(room), where=total > 0)
        out.append(mine * share)
    return out[0], out[1]


class MPCPolicy(MarketPolicy):
    """Rolling-horizon MPC of the coalition and its members (controls both groups).

    Args:
        horizon_h: planning horizon H (at most the env's forecast horizon).
        forecaster: ``ridge`` or ``seasonal_naive`` price forecast.
        capacity_share: share of firm capacity offered in capacity auctions, in [0, 1];
            None (the default): the LP chooses the MW (:mod:`agents.capacity_offer`).
        price_impact: ``merit`` (plan with the own price impact on the fleet's merit
            order), ``none`` (a price-taker) or ``auto``: ``merit`` where the coalition's
            largest trade is at least :data:`IMPACT_SHARE` of the background's peak load.
        aggregate: ``persona`` (plan one virtual member per persona, module docstring),
            ``none`` (member by member) or ``auto``: ``persona`` above
            :data:`AGGREGATE_ABOVE` members.
        controls: agent ids (default: the coalition and every member).
    """

    def __init__(self, horizon_h: int = 24, forecaster: str = "ridge",
                 capacity_share: float | None = None, price_impact: str = "auto",
                 aggregate: str = "auto", controls: list[str] | None = None) -> None:  # fmt: skip
        super().__init__(controls)
        if capacity_share is not None and not 0.0 <= capacity_share <= 1.0:
            raise ValueError(f"capacity_share={capacity_share}; expected None or 0..1")
        if aggregate not in AGGREGATE_MODES:
            raise ValueError(f"aggregate={aggregate!r}; expected one of {AGGREGATE_MODES}")
        self.aggregate = aggregate
        make_forecaster(forecaster, 1)  # fail at construction on a bad name
        if price_impact not in IMPACT_MODES:
            raise ValueError(f"price_impact={price_impact!r}; expected one of {IMPACT_MODES}")
        self.price_impact = price_impact
        self.horizon_h, self.forecaster_name, self.capacity_share = (
            horizon_h,
            forecaster,
            capacity_share,
        )

    def reset(self, env: Any, seed: int | None = None) -> None:
        """Read static constants, build the LP once and reset the forecasters."""
        super().reset(env, seed)
        core = self.env.core
        if "members" not in self.env.agent_groups:
            raise ValueError("MPCPolicy needs members as agents (members.agents: true)")
        if not 1 <= self.horizon_h <= core.dims.H:
            raise ValueError(
                f"horizon_h={self.horizon_h}; expected 1..{core.dims.H} (the forecast horizon)"
            )
        m, cfg = core.members, core.cfg
        self.m, self.cfg, self.at = m, cfg, ob.index(core.dims.H)
        self.q_max, self.layout = core.coalition.q_max_mw, core.layout
        self.member_ids = self.env.agent_groups["members"]
        self.firm_mw, self.members_mw = core.coalition.firm_mw, core.scales.members_mw
        self.system_mw = core.scales.system_mw  # the system forecasts' scale
        self.merit = MeritOrder(core.fleet.capacity_mw, core.fleet.marginal_cost_eur_per_mwh,
                                cfg.spot.price_cap_eur_per_mwh)  # fmt: skip
        self.impact = self.price_impact == "merit" or (
            self.price_impact == "auto" and self.q_max >= IMPACT_SHARE * cfg.background.peak_load_mw
        )
        self.reserve_shares = reserve_shares(core)
        self.scarce_eur = cfg.spot.scarcity_price_share * cfg.spot.price_cap_eur_per_mwh
        self.npcr = cfg.capacity.non_performance_rate_eur_per_mwh if core.layout.capacity else 0.0
        charge = cfg.tariff.network_eur_per_mwh + cfg.tariff.taxes_eur_per_mwh
        self.persona_of, self.plan_members = persona_groups(m, self.aggregate)
        pm = self.plan_members
        self.lp = CoalitionLP(
            pm.battery_mw, pm.battery_mwh, pm.eta, pm.flex_mw, pm.flex_mwh,
            horizon_h=self.horizon_h, q_max_mw=self.q_max, import_charge_eur_per_mwh=charge,
            reserve=core.layout.reserve,
        )  # fmt: skip
        self.forecaster = make_forecaster(self.forecaster_name, self.horizon_h)
        self.outlook = CapacityOutlook.of(core) if core.layout.capacity else None
        self.reserve_seen: list[float] = []  # reserve prices cleared so far, EUR/MW per hour
        self.scarce, self.seen = np.zeros(24), np.zeros(24)  # scarcity hours seen, by hour of day
        self._first = True

    def market_inputs(self, co: F64, hour: int, price: F64) -> tuple[float, MarketInputs]:
        """The reserve price forecast and what the coalition expects of capacity
        performance, from its observation ``co`` (float64) and the price forecast.

        Scarcity probability of each hour ahead: 1 where the price forecast reaches the
        scarcity threshold, else the share of the days observed so far in which that hour
        of day was a scarcity hour (the last cleared price at or above the threshold).
        """
        at, h = self.at["coalition"], self.horizon_h
        if not self._first:  # record what the last hour (hour - 1) cleared at
            self.reserve_seen.append(
                float(co[at["reserve_price"]]) * self.cfg.reserve.scarcity_price_eur_per_mw
            )
            last = float(co[at["price"]]) * self.cfg.spot.price_cap_eur_per_mwh
            self.seen[(hour - 1) % 24] += 1.0
            self.scarce[(hour - 1) % 24] += float(last >= self.scarce_eur)
        # The median of the last day's reserve prices: a spike (a scarcity hour) neither
        # persists for a whole horizon nor returns at the same hour next day. Measured on
        # seeds 1000-1001: the last price held flat lost 107k EUR/week in dark_doldrums,
        # the same hour yesterday 39k in strategic_incumbents; the median neither.
        reserve = float(np.median(self.reserve_seen[-24:])) if self.reserve_seen else 0.0
        hours = (hour + np.arange(h)) % 24
        freq = np.divide(self.scarce, self.seen, out=np.zeros(24), where=self.seen > 0)
        scarcity = np.maximum((price >= self.scarce_eur).astype(float), freq[hours])
        ren = co[at["renewables_fc"] : at["renewables_fc"] + h] * self.members_mw
        committed = float(co[at["capacity_award"]]) * self.firm_mw
        buy, sell = self.impact_prices(co, price) if self.impact else (None, None)
        market = MarketInputs(scarcity=scarcity, own_renewables=np.maximum(ren, 0.0),
                              committed_mw=committed, penalty_eur_per_mwh=self.npcr,
                              buy_price=buy, sell_price=sell)  # fmt: skip
        return reserve, market

    def impact_prices(self, co: F64, price: F64) -> tuple[F64, F64]:
        """The marginal prices of the coalition's buy and sell segments, (H, SEGMENTS)
        each: its purchase (sale) adds to (takes from) the residual demand the fleet must
        cover, and moves the price along the fleet's competitive merit order from where the
        forecast puts it; the reserve requirement holds capacity back from energy."""
        at, h = self.at["coalition"], self.horizon_h
        load, sys_ren = (x * self.system_mw for x in system_forecasts(co, at, h))
        demand = load - sys_ren + self.reserve_shares @ np.stack([load, sys_ren])
        pos = self.q_max * np.arange(SEGMENTS + 1) / SEGMENTS
        base = self.merit.price(demand)[:, None]
        lo, hi = self.cfg.spot.price_floor_eur_per_mwh, self.cfg.spot.price_cap_eur_per_mwh
        return impact_prices(
            np.clip(price[:, None] + self.merit.price(demand[:, None] + pos) - base, lo, hi),
            np.clip(price[:, None] + self.merit.price(demand[:, None] - pos) - base, lo, hi),
        )

    def act(self, observations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Plan H hours, act on the first."""
        if COALITION_ID not in observations:
            return {}
        cfg, m, am, h = self.cfg, self.m, self.at["members"], self.horizon_h
        co = observations[COALITION_ID].astype(np.float64)
        hour = ob.hour_of_day(co)
        price = coalition_price_forecast(self.forecaster, co, self.at["coalition"], hour, h,
                                         cfg.spot.price_cap_eur_per_mwh, self._first)  # fmt: skip
        res_price, market = self.market_inputs(co, hour, price)
        self._first = False
        obs_m = np.stack([observations[a] for a in self.member_ids]).astype(np.float64)
        net = obs_m[:, am["net_fc"] : am["net_fc"] + h] * m.peak_load_mw[:, None]
        soc = obs_m[:, am["soc"]] * m.battery_mwh
        debt = obs_m[:, am["flex_debt"]] * m.flex_mwh
        payback = (hour + np.arange(h)) % 24 == 23
        split = None
        if self.persona_of is not None:  # plan the personas' sums; split back by room
            split = partial(split_by_headroom, self.persona_of, m=m, soc=soc, debt=debt)
            net, soc, debt = (group_sum(self.persona_of, len(self.plan_members.eta), x)
                              for x in (net, soc, debt))  # fmt: skip
        solve = partial(self.lp.solve, net, soc, debt, price, res_price, payback)
        auction = self.outlook is not None and co[self.at["coalition"]["capacity_auction"]] > 0.5
        share = self.capacity_share
        if share is None and auction:
            sol = self.commit(co, market, solve)
            share = float(sol["K"]) / self.firm_mw if self.firm_mw > 0 else 0.0
        else:
            sol = solve(market=market)
        out = plan_actions(sol, 0, self.member_ids, m, self.q_max, self.layout, share or 0.0,
                           split)  # fmt: skip
        return {a: v for a, v in out.items() if a in self.controls}

    def commit(self, co: F64, market: MarketInputs,
               solve: Callable[..., dict[str, F64]]) -> dict[str, F64]:  # fmt: skip
        """The plan of an auction hour, ``["K"]`` the commitment (MW) the LP chooses against
        the capacity cash, the expected charges and the displaced energy and reserve
        (:mod:`agents.capacity_offer`); ``co``: the coalition's observation (float64);
        ``solve(market=...)``: this hour's LP solve."""
        if self.outlook is None:  # commit runs in auction hours, when the market is open
            raise RuntimeError("MPCPolicy.commit: no capacity market in this scenario")
        ol, at, h = self.outlook, self.at["coalition"], self.horizon_h
        price = ol.price(float(co[at["capacity_price"]]) * ol.cap_eur_per_mw_day)
        value = ol.value(price, self.consumer_share(co), h)
        expected = replace(market, scarcity=np.maximum(market.scarcity, ol.scarcity_prior))
        k = float(choose_commitment(self.lp, lambda mk: solve(market=mk), expected, value,
                                    ol.stop_loss_eur_per_mw_h * h, self.firm_mw)["K"])  # fmt: skip
        # The hour's actions: planned with K committed and the scarcity it expects in every
        # other hour, as the hours after the auction plan with the award (the prior prices
        # the commitment's risk; acting on it for one hour only would charge the batteries
        # for a risk the next hour's plan no longer holds them for).
        return solve(market=replace(market, committed_mw=k, capacity_value=None))

    def consumer_share(self, co: F64) -> float:
        """The coalition's expected share of consumption over the horizon (what it pays of
        the consumers' capacity bill, :func:`envs.market.settlement.consumer_shares`): its
        members' forecast net imports against those plus the background's forecast load."""
        at, h = self.at["coalition"], self.horizon_h
        load = (
            co[at["load_fc"] : at["load_fc"] + h]
            - co[at["renewables_fc"] : at["renewables_fc"] + h]
        )
        imports = float(np.maximum(load, 0.0).sum()) * self.members_mw
        background = float(system_forecasts(co, at, h)[0].sum()) * self.system_mw
        total = imports + max(background, 0.0)
        return imports / total if total > 0 else 0.0
