"""The batched multi-market simulator (DESIGN §3): one hourly step for E envs at once.

Dims: E envs, G generators, K tranches, N members, H forecast hours, T episode hours.
All episodes in a batch start together and last T steps, so the time index is shared.

:class:`MarketCore` is a composition of named records, each built by its own module from
its config section: the sizes and action layout and the step's constants
(:mod:`envs.sim.records`), the fleet and members (:mod:`envs.actors`), the observation
scales (:mod:`envs.sim.scales`), the counterfactual's tariff (:mod:`envs.sim.tariff`,
rehearsed by :func:`envs.sim.build.build_core`, which builds cores), the episode's draws
(:mod:`envs.sim.draw`) and the state the compiled step reads (:class:`envs.sim.kernel.State`).
It steps them with array operations only: no Python loop over envs, members or generators.
The step itself runs in the compiled :mod:`envs.sim.kernel`; observations are built in
:mod:`envs.sim.observe` and the ledger in :mod:`envs.sim.ledger`. A step computes everything
into locals and commits the state at the end, so a step that raises leaves the simulator
as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numba
import numpy as np
from numpy.typing import NDArray

from envs.actors import coalition as coalition_codec
from envs.actors import fleet as fl
from envs.actors.members import INITIAL_SOC, MemberArrays, MemberParams
from envs.actors.withholding import mitigate, profitable_withholding, three_pivotal_fail
from envs.config.scenario import FleetConfig, ScenarioConfig
from envs.errors import EpisodeOverError
from envs.market import settlement as st
from envs.market.balancing import BalancingRules
from envs.market.capacity import CapacityRules
from envs.market.reserve import ReserveRules
from envs.market.spot import SpotRules
from envs.sim import clearing as cl
from envs.sim import forecast as fc
from envs.sim import kernel as kn
from envs.sim import records as rec
from envs.sim.draw import Episode, draw_episode
from envs.sim.ledger import Ledger
from envs.sim.scales import Scales
from envs.sim.tariff import TariffRecord

F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class StepResult:
    """What one step returns to the adapters (arrays with leading axis E)."""

    reward_coalition: F64  # (E,) EUR: members' total saving
    reward_members: F64  # (E, N) EUR
    reward_incumbents: F64  # (E, G) EUR: profit
    cash: F64 | None  # (E, M, P) EUR by market and participant; None without a ledger
    info: dict[str, F64]  # per-step accounting by envs.sim.kernel.INFO_KEYS, each (E,)
    info_array: F64  # (E, len(INFO_KEYS)): the same figures as one array (the dict's views)
    terminated: bool
    saving: F64  # (E, N) EUR: each member's saving against acting alone
    bill_alone: F64  # (E, N) EUR: each member's counterfactual bill
    dispatch: F64  # (E, G) MW
    markup: F64  # (E, G) (price - marginal cost) / marginal cost of dispatched units
    net: F64  # (E, N) MW: members' metered net import


class LastHour(NamedTuple):
    """What the last step cleared that observations and forecasts read, (E,) or (E, N)."""

    price: F64  # (E,) spot price, EUR/MWh (0 before the first step)
    reserve_price: F64  # (E,) EUR/MW
    imbalance: F64  # (E,) the coalition's imbalance, MWh
    saving: F64  # (E, N) each member's saving against acting alone, EUR


class Flows(NamedTuple):
    """The step's flow arrays, (F, M, P) each (:class:`envs.sim.kernel.Outputs`: F = E with
    a ledger, else one row per block of envs); reused, since the step writes every entry
    it writes every step."""

    cash: F64  # EUR
    energy: F64  # MWh
    reserve_mw: F64
    capacity_mw: F64


class MarketCore:
    """Batched simulator of spot, reserve and capacity markets with a coalition.

    Build one with :func:`envs.sim.build.build_core`, which rehearses its ``tariff``.

    Args:
        cfg: the scenario.
        num_envs: E.
        tariff: the counterfactual's retail tariff of ``cfg`` (:mod:`envs.sim.tariff`).
        record_ledger: keep every step's flows for :attr:`ledger` (memory grows as
            E * T * markets * participants; off for large batches).
    """

    episode: Episode  #: this episode's draws (set by :meth:`reset`)
    state: kn.State  #: the state the step reads, (E, ...) (set by :meth:`reset`)
    last: LastHour  #: the last hour's prices, imbalance and savings (set by :meth:`reset`)

    def __init__(
        self, cfg: ScenarioConfig, num_envs: int = 1, *, tariff: TariffRecord,
        record_ledger: bool = True,
    ) -> None:  # fmt: skip
        if num_envs < 1:
            raise ValueError(f"num_envs={num_envs}; expected a positive integer")
        self.cfg, self.tariff = cfg, tariff
        self.dims = d = rec.Dims.of(cfg, num_envs)
        self.layout = rec.ActionLayout.from_config(cfg)
        self.fleet = rec.accredited_fleet(cfg)  # (G,) each, accredited (envs.sim.records)
        self.members: MemberArrays = MemberArrays.from_config(cfg.members)
        self.coalition = rec.coalition_record(cfg, self.members, self.layout)
        self.book = rec.BookLayout.of(cfg.spot, d)
        self.settlement = rec.Settlement.of(d)
        self.scales = Scales.of(cfg, self.members)
        self.params = rec.step_params(cfg, self.layout, self.book)
        # Each market's constants, built by its own module from its config section.
        self.spot_rules = SpotRules.of(cfg.spot)
        self.reserve_rules = ReserveRules.of(cfg.reserve, self.layout.reserve)
        self.capacity_rules = CapacityRules.of(cfg.capacity, self.layout.capacity, d.T)
        self.balancing_rules = BalancingRules.of(cfg.balancing)
        self._member_params = MemberParams.of(self.members)
        self.ledger = Ledger(self.settlement.participants, hours=d.T, num_envs=d.E,
                             n_members=d.N, enabled=record_ledger)  # fmt: skip
        self.t = 0
        self._ready = False
        self._static_bids: fl.BidParams | None = None
        E = d.E
        self._zeros_e = np.zeros(E)
        self._no_member_actions = np.zeros((E, d.N, 2))
        # One (M, P) row of flows per env for the ledger, else one per block of envs
        # (kernel.Outputs): 4 blocks a thread in parallel, so that a thread slowed by
        # another process leaves fewer envs waiting. Every entry the kernel writes is
        # written every step, so these are zeroed once.
        parallel = E >= 64
        # numba.config sets its NUMBA_* names through globals() at runtime: mypy cannot see them.
        rows = min(E, 4 * numba.config.NUMBA_NUM_THREADS) if parallel else 1  # type: ignore[attr-defined]
        participants = self.settlement.participants
        shape = (E if self.ledger.enabled else rows, len(st.MARKETS), len(participants))
        self._flows = Flows(*(np.zeros(shape) for _ in Flows._fields))
        self._kernel = kn.CompiledStep(parallel=parallel)

    def _outputs(self) -> kn.Outputs:
        """Fresh arrays for one step's results (the flows are reused: every entry the
        kernel writes is written every step)."""
        (E, G, N, _, _, _), f = self.dims, self._flows
        return kn.Outputs(
            cash_eur=f.cash, energy_mwh=f.energy, reserve_mw=f.reserve_mw,
            capacity_mw=f.capacity_mw,
            soc_mwh=np.empty((E, N)), cf_soc_mwh=np.empty((E, N)), debt_mwh=np.empty((E, N)),
            dispatch_mw=np.empty((E, G)), cap_g_mw=np.empty((E, G)), cap_c_mw=np.empty(E),
            cap_price_eur_per_mw_day=np.empty(E), cap_charge_eur=np.empty((E, G + 1)),
            period_saving_eur=np.empty((E, N)), saving_eur=np.empty((E, N)),
            bill_eur=np.empty((E, N)), r_members_eur=np.empty((E, N)),
            profit_eur=np.empty((E, G)), markup_eur_per_mwh=np.empty((E, G)),
            net_mw=np.empty((E, N)), info=np.empty((E, len(kn.INFO_KEYS))),
        )  # fmt: skip

    def _hour(self, t: int, target: tuple[F64, F64], auction: bool) -> kn.Hour:
        """Hour t's data for the step, every array C-contiguous; ``target``: the capacity
        requirement and the coalition's obligation (auction hours)."""
        c, ep = np.ascontiguousarray, self.episode
        fc_load, fc_ren = self.system_forecast(t)
        return kn.Hour(
            load_mw=c(ep.load[:, t]), ren_mw=c(ep.ren[:, t]), sys_load_mw=c(ep.sys_load[:, t]),
            sys_ren_mw=c(ep.sys_ren[:, t]),
            fc_load_mw=fc_load, fc_ren_mw=fc_ren,
            price_fc_eur_per_mwh=c(self.last.price), ppa_mw=c(ep.ppa_mw[:, t]),
            cap_target_mw=c(target[0]), cap_obligation_mw=c(target[1]),
            retail_eur_per_mwh=float(self.tariff.retail_by_hour[t % 24]), auction=bool(auction),
            payback=t % 24 == 23,
            bill_end=(t + 1) % self.cfg.coalition.billing_period_h == 0 or t + 1 == self.dims.T,
        )  # fmt: skip

    def reset(self, rng: np.random.Generator) -> None:
        """Draw a new episode's weather, loads, forecast errors and activations from ``rng``."""
        (E, G, N, _, _, _), m = self.dims, self.members
        self.episode = draw_episode(self.cfg, m, self.dims, rng)
        z = np.zeros((E, N))
        soc = m.battery_mwh * INITIAL_SOC + z
        self.state = kn.State(
            soc_mwh=soc, cf_soc_mwh=soc.copy(), debt_mwh=z.copy(),
            prev_dispatch_mw=np.broadcast_to(self.fleet.min_output_mw, (E, G)).copy(),
            cap_award_g_mw=np.zeros((E, G)), cap_award_c_mw=np.zeros(E),
            cap_price_eur_per_mw_day=np.zeros(E), cap_charge_eur=np.zeros((E, G + 1)),
            period_saving_eur=z.copy(),
        )  # fmt: skip
        self.last = LastHour(price=np.zeros(E), reserve_price=np.zeros(E),
                             imbalance=np.zeros(E), saving=z.copy())  # fmt: skip
        self.t = 0
        self._ready = True
        self.ledger.clear()

    # ------------------------------------------------------------- forecasts
    def system_forecast(self, t: int | None = None) -> tuple[F64, F64]:
        """Hour t's forecast background load and system renewables (>= 0), MW, (E,) each:
        what the reserve requirement and the incumbents' pivotal test are set on."""
        t = self.t if t is None else t
        return fc.system(self.episode, self.scales.lead_scale[0], t)

    def system_rsi(self, t: int | None = None, forecast: tuple[F64, F64] | None = None) -> F64:
        """Residual supply index of each incumbent on this hour's forecasts, (E, G).
        ``forecast``: :meth:`system_forecast` if the caller has it."""
        load, ren = self.system_forecast(t) if forecast is None else forecast
        return fl.residual_supply_index(self.fleet.capacity_mw, ren, load)

    def system_demand(self, forecast: tuple[F64, F64] | None = None) -> tuple[F64, F64]:
        """This hour's forecast demand (background load and the members' net load less the
        PPA's delivery) and system renewables, MW, (E,) each: what a strategic incumbent
        expects to face. ``forecast``: :meth:`system_forecast` if the caller has it."""
        load, ren = self.system_forecast() if forecast is None else forecast
        members = fc.members_net(self.episode, self.scales.lead_scale[0], self.t).sum(-1)
        return load + np.maximum(members - self.episode.ppa_mw[:, self.t], 0.0), ren

    def strategic_withholding(
        self, fleet_cfg: FleetConfig, forecast: tuple[F64, F64] | None = None,
        rsi: F64 | None = None,
    ) -> tuple[F64, F64]:  # fmt: skip
        """Withheld shares and markups a pivotal unit finds profitable this hour, (E, G)
        each (:func:`envs.actors.withholding.profitable_withholding`). ``forecast`` and
        ``rsi``: :meth:`system_forecast` and :meth:`system_rsi` if the caller has them
        (the step computes each once an hour)."""
        forecast = self.system_forecast() if forecast is None else forecast
        rsi = self.system_rsi(forecast=forecast) if rsi is None else rsi
        demand, ren = self.system_demand(forecast)
        return profitable_withholding(
            self.fleet, rsi, demand, ren, threshold=fleet_cfg.rsi_threshold,
            max_share=fleet_cfg.withhold_fraction, max_markup=fleet_cfg.pivotal_markup,
            price_cap=self.cfg.spot.price_cap_eur_per_mwh,
            must_offer_mw=fl.must_offer_mw(self.fleet, self.state.cap_award_g_mw))  # fmt: skip

    def is_capacity_auction(self, t: int | None = None) -> bool:
        """Whether the capacity auction clears at step t."""
        t = self.t if t is None else t
        period = self.cfg.capacity.period_h
        return self.layout.capacity and (t == 0 if period == 0 else t % period == 0)

    def capacity_period(self, t: int | None = None) -> tuple[int, int]:
        """The delivery hours ``[start, stop)`` of the auction at step t: its period, or
        the rest of the episode when it clears once."""
        t = self.t if t is None else t
        period = self.cfg.capacity.period_h
        T = self.dims.T
        return t, T if period == 0 else min(t + period, T)

    def capacity_forecast(self, t: int | None = None) -> tuple[F64, F64]:
        """Reliability requirement of the auction at step t and the coalition's obligation,
        (E,) accredited MW each (the rules of :mod:`envs.market.capacity`): the forecast
        coincident peak of its delivery hours (:func:`envs.sim.forecast.capacity`), issued
        at t."""
        start, stop = self.capacity_period(t)
        margin = self.cfg.capacity.reserve_margin
        return fc.capacity(self.episode, self.dims.H, start, stop, margin)

    def capacity_requirement(self, t: int | None = None) -> F64:
        """Reliability requirement of the auction at step t, (E,) accredited MW
        (:meth:`capacity_forecast`)."""
        return self.capacity_forecast(t)[0]

    # ------------------------------------------------------------------ step
    def scripted_incumbent_bids(self) -> fl.BidParams:
        """Bids of the scenario's scripted strategy for this hour.

        Competitive and fixed-markup bids do not depend on the state, so they are built
        once per batch size; withholding depends on this hour's residual supply index.
        """
        if self.cfg.fleet.strategy == "withholding":
            forecast = self.system_forecast()
            rsi = self.system_rsi(forecast=forecast)
            strategic = self.strategic_withholding(self.cfg.fleet, forecast, rsi)
            return fl.scripted_bids(self.cfg.fleet, rsi, self.dims.K, strategic)
        if self._static_bids is None:
            ones = np.ones((self.dims.E, self.dims.G))
            self._static_bids = fl.scripted_bids(self.cfg.fleet, ones, self.dims.K).contiguous()
        return self._static_bids

    def incumbent_bids(self, incumbents: F64 | None) -> fl.BidParams:
        """This hour's bids of the fleet: decoded from the incumbents' actions (E, G, A), or
        the scripted strategy's when None; mitigated where the scenario says so."""
        cfg = self.cfg
        if incumbents is None:
            bids = self.scripted_incumbent_bids()
        else:
            bids = fl.decode_bid_action(
                incumbents, cfg.fleet, reserve=self.layout.reserve, capacity=self.layout.capacity,
                capacity_cap_eur_per_mw_day=cfg.capacity.price_cap_eur_per_mw_day)  # fmt: skip
        if cfg.fleet.mitigation == "three_pivotal":
            demand, ren = self.system_demand()
            bids = mitigate(bids, three_pivotal_fail(self.fleet, demand, ren))
        return bids

    def day_ahead_book(self, coalition: F64, incumbents: F64 | None = None) -> dict[str, F64]:
        """This hour's day-ahead clearing as the step will run it, without stepping
        (:func:`envs.sim.clearing.day_ahead_phase`, for viewers and tests). The units'
        must-offer binds the commitments in force: in an auction hour those the auction
        clears first (:func:`envs.sim.kernel.capacity_phase`, as in the step).

        Returns:
            ``supply_q``, ``supply_p``, ``supply_acc`` (E, S) MW and EUR/MWh in the step's
            block layout (unit g's tranche k at g * (K + 1) + k, then the renewables, then
            the coalition's sale), ``supply_unit`` (S,), ``demand_q``, ``demand_p``,
            ``demand_acc`` (E, B + 1) (the coalition's bid last), ``reserve_award`` (E, G + 1),
            ``price``, ``reserve_price`` (E,).
        """
        t, (E, G, _, _, _, _) = self.t, self.dims
        bids = self.incumbent_bids(incumbents).contiguous()
        auction = self.is_capacity_auction(t)
        target = self.capacity_forecast(t) if auction else (self._zeros_e, self._zeros_e)
        p, fp, codec, state, book = self.params, self.fleet, self.coalition, self.state, self.book
        hour, k_out = self._hour(t, target, auction), self._outputs()
        S, B = book.supply_unit.shape[0], book.demand_shares.shape[0] + 1
        out: dict[str, Any] = {k: np.empty((E, S)) for k in ("supply_q", "supply_p", "supply_acc")}
        out |= {k: np.empty((E, B)) for k in ("demand_q", "demand_p", "demand_acc")}
        out["reserve_award"], out["price"], out["reserve_price"] = (
            np.empty((E, G + 1)), np.empty(E), np.empty(E))  # fmt: skip
        coal = np.ascontiguousarray(coalition, dtype=np.float64)
        for e in range(E):
            decoded = coalition_codec.decode_row(coal[e], codec)
            q_spot, p_spot, res_q, res_p, cap_q, cap_p = decoded
            kn.capacity_phase(self.capacity_rules, fp, bids, codec, e, hour, state, cap_q, cap_p,
                              k_out)  # fmt: skip
            paid, ulim, r_paid = np.empty(S), np.empty(G), np.empty(G + 1)
            price, _, _, res_price, _, _ = cl.day_ahead_phase(
                p, self.spot_rules, self.reserve_rules, fp, bids, e, hour,
                state.prev_dispatch_mw[e], k_out.cap_g_mw[e], q_spot, p_spot, res_q, res_p,
                out["supply_q"][e], out["supply_p"][e], out["supply_acc"][e], paid, ulim,
                out["reserve_award"][e], r_paid, out["demand_acc"][e])  # fmt: skip
            out["price"][e], out["reserve_price"][e] = price, res_price
            out["demand_q"][e, :-1] = hour.fc_load_mw[e] * book.demand_shares
            out["demand_p"][e, :-1] = book.demand_prices
            out["demand_q"][e, -1], out["demand_p"][e, -1] = max(q_spot, 0.0), p_spot
        out["supply_unit"] = book.supply_unit
        return out

    def step(self, coalition: F64, members: F64 | None, incumbents: F64 | None) -> StepResult:
        """Advance all envs by one hour (the rules of DESIGN §3, run by :mod:`envs.sim.kernel`).

        In order: members' battery and flex set-points are projected onto their limits;
        the coalition's and incumbents' bids are built; the reserve market clears and
        its awards are withheld from energy offers; the spot market clears; reserve
        activations draw batteries and metering gives the coalition's imbalance; the
        capacity auction clears in auction hours and penalises non-delivery in scarcity
        hours; every flow is settled;
        the coalition's result is allocated; each member's counterfactual bill alone is
        computed; rewards and accounting follow.

        Args:
            coalition: (E, layout.coalition) actions in [-1, 1].
            members: (E, N, 2) actions in [-1, 1] when members are agents, else None.
            incumbents: (E, G, layout.incumbent) actions in [-1, 1] when incumbents are
                controlled, else None (scripted strategy).

        Raises:
            EpisodeOverError: the episode has ended (or reset was never called).
        """
        if not self._ready:
            raise EpisodeOverError(
                "step() called before reset() or after the episode ended; call reset()"
            )
        lay, t = self.layout, self.t
        if members is None:
            if not lay.drives_members:
                raise ValueError("members' actions are required when members.agents is true")
            members = self._no_member_actions
        bids = self.incumbent_bids(incumbents)
        auction = self.is_capacity_auction(t)
        if auction:
            target = self.capacity_forecast(t)
        else:
            target = (self._zeros_e, self._zeros_e)
        out, c = self._outputs(), np.ascontiguousarray
        self._kernel(self.params, self.spot_rules, self.reserve_rules, self.capacity_rules,
                     self.balancing_rules, self.fleet, self._member_params,
                     self.coalition, self.settlement.flow_cols, bids.contiguous(),
                     self._hour(t, target, auction), self.state,
                     c(coalition, dtype=np.float64), c(members, dtype=np.float64),
                     self.episode.permutations, out)  # fmt: skip
        info: dict[str, Any] = dict(zip(kn.INFO_KEYS, out.info.T, strict=True))
        # --- commit ------------------------------------------------------------------
        self.ledger.record(
            t, out.energy_mwh, out.reserve_mw, out.capacity_mw, out.cash_eur, out.bill_eur
        )
        # In the records' field order (positional: keywords cost ~1 us a step at E = 1).
        self.state = kn.State(out.soc_mwh, out.cf_soc_mwh, out.debt_mwh, out.dispatch_mw,
                              out.cap_g_mw, out.cap_c_mw, out.cap_price_eur_per_mw_day,
                              out.cap_charge_eur, out.period_saving_eur)  # fmt: skip
        self.last = LastHour(info["price_eur_per_mwh"], info["reserve_price_eur_per_mw"],
                             info["coalition_imbalance_mwh"], out.saving_eur)  # fmt: skip
        self.t = t + 1
        terminated = self.t >= self.dims.T
        if terminated:
            self._ready = False
        return StepResult(
            reward_coalition=info["members_saving_eur"],
            reward_members=out.r_members_eur,
            reward_incumbents=out.profit_eur,
            cash=out.cash_eur if self.ledger.enabled else None,
            info=info,
            info_array=out.info,
            terminated=terminated,
            saving=out.saving_eur,
            bill_alone=out.bill_eur,
            dispatch=out.dispatch_mw,
            markup=out.markup_eur_per_mwh,
            net=out.net_mw,
        )
