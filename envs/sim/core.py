"""The batched multi-market simulator (DESIGN §3): one hourly step for E envs at once.

Dims: E envs, G generators, K tranches, N members, H forecast hours, T episode hours.
All episodes in a batch start together and last T steps, so the time index is shared.

:class:`MarketCore` holds the state arrays and steps them with array operations only:
no Python loop over envs, members or generators. The step itself runs in the
compiled :mod:`envs.sim.kernel`; observations are built in :mod:`envs.sim.observe` and the
ledger in :mod:`envs.sim.ledger`. A step computes everything into locals and commits the state at
the end, so a step that raises leaves the simulator as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import numba
import numpy as np
from numpy.typing import NDArray

from envs.actors import coalition as coalition_codec
from envs.actors import fleet as fl
from envs.actors.members import INITIAL_SOC, MemberArrays, MemberParams
from envs.actors.withholding import mitigate, profitable_withholding, three_pivotal_fail
from envs.config.scenario import FleetConfig, ScenarioConfig
from envs.data.episode import episode_profiles
from envs.errors import EpisodeOverError
from envs.market import capacity as cap_mkt
from envs.market import settlement as st
from envs.sim import clearing as cl
from envs.sim import kernel as kn
from envs.sim.forecast import forecast_of, lead_scale
from envs.sim.ledger import Ledger
from envs.sim.scripted import member_forecast_net
from envs.sim.tariff import energy_price

F64 = NDArray[np.float64]


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


class MarketCore:
    """Batched simulator of spot, reserve and capacity markets with a coalition.

    Args:
        cfg: the scenario.
        num_envs: E.
        record_ledger: keep every step's flows for :meth:`ledger` (memory grows as
            E * T * markets * participants; off for large batches).
    """

    def __init__(
        self, cfg: ScenarioConfig, num_envs: int = 1, *, record_ledger: bool = True
    ) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs={num_envs}; expected a positive integer")
        self.cfg = cfg
        self.E = int(num_envs)
        self.fleet = fl.FleetArrays.from_config(cfg.fleet, cfg.carbon_price_eur_per_t)
        self.members = MemberArrays.from_config(cfg.members)
        self.G, self.N, self.K = len(cfg.fleet.generators), cfg.members.count, cfg.fleet.tranches
        self.H, self.T = cfg.forecast.horizon_h, cfg.hours
        self.layout = ActionLayout.from_config(cfg)
        self.cols = st.Columns(self.G, self.N)
        self.participants = st.participants(self.G, self.N)
        m = self.members
        #: Largest coalition spot position, MW (scales the quantity action).
        self.q_max_mw = float(np.sum(m.peak_load_mw + m.battery_mw + m.pv_mw + m.wind_mw))
        duration = np.divide(
            m.battery_mwh, m.battery_mw, out=np.zeros(self.N), where=m.battery_mw > 0
        )
        cc = cfg.capacity
        # Accreditation by ELCC class (envs.market.capacity.accredit): the fleet's offers are
        # its accredited MW, so the units' capacity-market derating is replaced by the class
        # ratings of their technologies (their own derating where a technology has none).
        gens = cfg.fleet.generators
        techs = tuple(g.technology for g in gens)
        self.fleet = self.fleet._replace(
            derating=cap_mkt.accredit(techs, np.ones(self.G), self.fleet.derating, cc.elcc)
        )
        #: Coalition's accredited capacity, MW: its batteries by duration class. Its PV and
        #: wind net the members' load in the requirement (behind-the-meter generation, as in
        #: PJM's load forecast, :meth:`capacity_forecast`), so they are not sold twice.
        self.coalition_firm_mw = float(
            np.sum(m.battery_mw * cap_mkt.storage_rating(duration, cc.storage_classes_h,
                                                         cc.storage_elcc))
        )  # fmt: skip
        self._init_observation_scales()
        sp = cfg.spot
        nb = sp.demand_blocks
        self.demand_prices = np.concatenate(
            [
                [sp.price_cap_eur_per_mwh],
                np.linspace(sp.demand_price_high_eur_per_mwh, sp.demand_price_low_eur_per_mwh, nb),
            ]
        )  # background demand blocks; the coalition's buy bid is added by the kernel
        self.demand_shares = np.concatenate(
            [[1.0 - sp.demand_elastic_share], np.full(nb, sp.demand_elastic_share / nb)]
        )
        self.ledger = Ledger(self.participants, hours=self.T, num_envs=self.E, n_members=self.N,
                             enabled=record_ledger)  # fmt: skip
        self.t = 0
        self._ready = False
        self._static_bids: fl.BidParams | None = None
        self._init_kernel_params()

    # ------------------------------------------------------------------ set-up
    def _init_observation_scales(self) -> None:
        """The forecast error's growth with lead, and the reciprocals, scales and static
        member features the observations divide by (envs.sim.observe)."""
        cfg, m = self.cfg, self.members
        self.lead_scale = lead_scale(self.H)  # forecast error growth with lead (envs.sim.forecast)
        self.lead_scale32 = self.lead_scale.astype(np.float32)
        #: Reciprocals and static member features used by observations (0 where no device).
        self.inv_battery_mwh = np.divide(
            1.0, m.battery_mwh, out=np.zeros(self.N), where=m.battery_mwh > 0
        )
        self.inv_flex_mwh = np.divide(1.0, m.flex_mwh, out=np.zeros(self.N), where=m.flex_mwh > 0)
        self.inv_peak = 1.0 / m.peak_load_mw
        # Observation scales of the scenario's own sizes. Each keeps the fixed scale the
        # shipped policies were trained on wherever that keeps the feature inside the
        # observation Box, and grows with the scenario only where it would not (a member
        # whose PV dwarfs its load, a system with 1 MW of load and 10 GW of wind, a price
        # floor deeper than the cap), so the default scenarios' observations are unchanged.
        sp, bg = cfg.spot, cfg.background
        #: EUR/MWh dividing prices, marginal costs and savings: the larger price limit.
        self.obs_price_eur_per_mwh = max(sp.price_cap_eur_per_mwh, -sp.price_floor_eur_per_mwh)
        #: MW dividing the system load and renewables forecasts.
        self.obs_system_mw = max(bg.peak_load_mw, bg.solar_mw + bg.wind_mw)
        #: MW dividing the members' total load and renewables forecasts.
        self.obs_members_mw = float(max(m.peak_load_mw.sum(), (m.pv_mw + m.wind_mw).sum()))
        #: 1 / MW dividing each member's net-load forecast: its peak until its renewables
        #: exceed 4x the peak (a net export of 4x peak plus forecast error stays in the Box).
        self.inv_net_mw = 1.0 / np.maximum(m.peak_load_mw, (m.pv_mw + m.wind_mw) / 4.0)
        self.member_static = np.stack(
            [
                m.battery_mwh / m.peak_load_mw,
                m.battery_mw / m.peak_load_mw,
                m.flex_mw / m.peak_load_mw,
            ],
            axis=-1,
        )

    def _init_kernel_params(self) -> None:
        """The scenario's constants as the step's named records (once per core)."""
        cfg, m, E = self.cfg, self.members, self.E
        sp, rc, cc, tf = cfg.spot, cfg.reserve, cfg.capacity, cfg.tariff
        self._params = kn.StepParams(
            price_floor_eur_per_mwh=float(sp.price_floor_eur_per_mwh),
            price_cap_eur_per_mwh=float(sp.price_cap_eur_per_mwh),
            renewables_offer_eur_per_mwh=float(cfg.background.renewable_offer_eur_per_mwh),
            scarcity_share_of_cap=float(sp.scarcity_price_share),
            reserve_share_of_load=float(rc.requirement_share_of_load),
            reserve_share_of_renewables=float(rc.requirement_share_of_renewables),
            reserve_scarcity_eur_per_mw=float(rc.scarcity_price_eur_per_mw),
            reserve_demand_blocks=int(rc.demand_curve_steps),
            reserve_penalty_eur_per_mwh=float(rc.non_delivery_penalty_eur_per_mwh),
            vrr_curve=np.array(cap_mkt.VrrCurve.of(cc), dtype=np.float64),
            non_performance_eur_per_mwh=float(cc.non_performance_rate_eur_per_mwh),
            stop_loss_eur_per_mw=float(cc.stop_loss_eur_per_mw_year * self.T / 8760.0),
            network_eur_per_mwh=float(tf.network_eur_per_mwh),
            taxes_eur_per_mwh=float(tf.taxes_eur_per_mwh),
            community_discount_share=float(tf.community_discount),
            ppa_price_eur_per_mwh=float(cfg.ppa.price_eur_per_mwh),
            feed_in_eur_per_mwh=float(tf.feed_in_eur_per_mwh),
            reward_mean_weight=float(cfg.members.reward_mix),
            pay_as_bid=sp.pricing == "pay_as_bid",
            reserve_cooptimised=rc.clearing == "cooptimised",
            retail_dynamic=tf.mode == "dynamic",
            retail_adder_eur_per_mwh=float(
                tf.margin_eur_per_mwh + tf.network_eur_per_mwh + tf.taxes_eur_per_mwh
            ),
            reserve_market_on=bool(self.layout.reserve),
            capacity_market_on=bool(self.layout.capacity),
            drives_members=bool(self.layout.drives_members),
            allocation_rule=kn.ALLOCATION_RULES.index(cfg.coalition.allocation),
            ir_true_up=bool(cfg.coalition.individually_rational),
            reward_mode=kn.REWARD_MODES.index(cfg.members.reward),
            marginal_emissions=cfg.emissions_accounting == "marginal",
            ordc_adder_on=cfg.balancing.scarcity_adder == "ordc",
            dual_pricing=cfg.balancing.imbalance_pricing == "dual",
            spot_coupling=bool(cfg.balancing.spot_coupling),
            ordc_min_reserve_share=float(cfg.balancing.ordc_min_reserve_share),
            background_block_shares=self.demand_shares,
            background_bid_eur_per_mwh=self.demand_prices,
            supply_block_unit=np.concatenate([np.repeat(np.arange(self.G), self.K + 1), [-1, -1]]),
            reserve_offer_unit=np.concatenate([np.arange(self.G), [-1]]),
        )
        self.codec = coalition_codec.CoalitionCodec(
            q_max_mw=self.q_max_mw,
            price_floor_eur_per_mwh=float(sp.price_floor_eur_per_mwh),
            price_cap_eur_per_mwh=float(sp.price_cap_eur_per_mwh),
            reserve_max_mw=float(m.battery_mw.sum()),
            reserve_price_max_eur_per_mw=float(rc.scarcity_price_eur_per_mw),
            firm_mw=self.coalition_firm_mw,
            capacity_price_max_eur_per_mw_day=float(cc.price_cap_eur_per_mw_day),
            reserve=bool(self.layout.reserve),
            capacity=bool(self.layout.capacity),
            capacity_floor=float(cc.mopr_floor_eur_per_mw_day),
        )
        self._member_params = MemberParams.of(m)
        self._flow_cols = st.FlowColumns.of(self.G, self.N)
        self.retail_by_hour = self._tariff_by_hour()
        self._zeros_e = np.zeros(E)
        self._no_member_actions = np.zeros((E, self.N, 2))
        # One (M, P) row of flows per env for the ledger, else one per block of envs
        # (kernel.Outputs): 4 blocks a thread in parallel, so that a thread slowed by
        # another process leaves fewer envs waiting. Every entry the kernel writes is
        # written every step, so these are zeroed once.
        parallel = E >= 64
        # numba.config sets its NUMBA_* names through globals() at runtime: mypy cannot see them.
        rows = min(E, 4 * numba.config.NUMBA_NUM_THREADS) if parallel else 1  # type: ignore[attr-defined]
        shape = (E if self.ledger.enabled else rows, len(st.MARKETS), len(self.participants))
        # The first four fields of kn.Outputs: cash, energy, reserve_mw, capacity_mw.
        self._flows = cast("tuple[F64, F64, F64, F64]", tuple(np.zeros(shape) for _ in range(4)))
        self._kernel = kn.CompiledStep(parallel=parallel)

    def _outputs(self) -> kn.Outputs:
        """Fresh arrays for one step's results (the flows are reused: every entry the
        kernel writes is written every step)."""
        E, N, G = self.E, self.N, self.G
        return kn.Outputs(
            *self._flows,
            soc=np.empty((E, N)), cf_soc=np.empty((E, N)), debt=np.empty((E, N)),
            dispatch=np.empty((E, G)), cap_g=np.empty((E, G)), cap_c=np.empty(E),
            cap_price=np.empty(E), cap_charge=np.empty((E, G + 1)),
            period_saving=np.empty((E, N)), saving=np.empty((E, N)), bill=np.empty((E, N)),
            r_members=np.empty((E, N)), profit=np.empty((E, G)), markup=np.empty((E, G)),
            net=np.empty((E, N)), info=np.empty((E, len(kn.INFO_KEYS))),
        )  # fmt: skip

    def _kernel_args(self, t: int, coalition: F64, members: F64, bids: fl.BidParams,
                     target: tuple[F64, F64], auction: bool, out: kn.Outputs) -> tuple:  # fmt: skip
        """The step's arguments for hour t: the scenario's records, this hour's data, the
        state and the actions, every array C-contiguous (:class:`envs.sim.kernel.CompiledStep`);
        ``target``: the capacity requirement and the coalition's obligation (auction hours)."""
        c = np.ascontiguousarray
        fc_load, fc_ren = self.system_forecast(t)
        hour = kn.Hour(
            load=c(self.load[:, t]), ren=c(self.ren[:, t]), sys_load=c(self.sys_load[:, t]),
            sys_ren=c(self.sys_ren[:, t]),
            fc_load0=fc_load, fc_ren0=fc_ren,
            price_fc=c(self.last_price), ppa=c(self.ppa_mw[:, t]), cap_target=c(target[0]),
            cap_obligation=c(target[1]),
            retail=float(self.retail_by_hour[t % 24]), auction=bool(auction),
            payback=t % 24 == 23,
            bill_end=(t + 1) % self.cfg.coalition.billing_period_h == 0 or t + 1 == self.T,
        )  # fmt: skip
        state = kn.State(self.soc, self.cf_soc, self.debt, self.prev_dispatch,
                         self.cap_award_g, self.cap_award_c, self.cap_price,
                         self.cap_charge, self.period_saving)  # fmt: skip
        return (self._params, self.fleet, self._member_params, self.codec,
                self._flow_cols, bids.contiguous(), hour, state,
                c(coalition, dtype=np.float64), c(members, dtype=np.float64),
                self.permutations, out)  # fmt: skip

    def _tariff_by_hour(self) -> F64:
        """Full retail price of the counterfactual by hour of day: energy part (time-of-use
        where the scenario says so) + network + taxes, EUR/MWh (24,)."""
        tf = self.cfg.tariff
        energy = energy_price(self.cfg)
        price = np.full(24, energy)
        if tf.time_of_use:
            peak = np.isin(np.arange(24), tf.peak_hours)
            price = np.where(peak, energy * tf.peak_multiplier, energy * tf.offpeak_multiplier)
        return price + tf.network_eur_per_mwh + tf.taxes_eur_per_mwh

    def reset(self, rng: np.random.Generator) -> None:
        """Draw a new episode's weather, loads, forecast errors and activations from ``rng``."""
        cfg, E, T, H, m = self.cfg, self.E, self.T, self.H, self.members
        # Realised peaks = the stated ones (envs.data.episode: PJM Manual 19's metered peak).
        prof = episode_profiles(cfg, m, rng, E)
        bg = cfg.background
        self.load = prof.load_mw  # (E, T+H, N)
        self.ren = prof.pv_mw + prof.wind_mw  # (E, T+H, N) member renewables
        self.sys_load = prof.system_load_mw  # (E, T+H)
        self.sys_ren = bg.solar_mw * prof.solar_cf + bg.wind_mw * prof.wind_cf  # (E, T+H)
        self.ppa_mw = cfg.ppa.volume_mw * prof.wind_cf  # (E, T+H) PPA delivery (wind shape)
        fc = cfg.forecast
        # Forecast errors: one shock per target hour, scaled by lead time (see ForecastConfig).
        self.z_load = fc.load_error * rng.standard_normal((E, T + H, self.N))
        self.z_ren = fc.renewable_error * rng.standard_normal((E, T + H, self.N))
        self.z_sys_load = 0.5 * fc.load_error * rng.standard_normal((E, T + H))
        self.z_sys_ren = fc.renewable_error * rng.standard_normal((E, T + H))
        # Errors are bounded below by -100% so that load and renewable forecasts stay >= 0.
        np.maximum(self.z_load, -1.0, out=self.z_load)
        np.maximum(self.z_ren, -1.0, out=self.z_ren)
        # For observations: members' net load (load - renewables) and its error term
        # (actual * error), time-major float32 (T+H, E, N), so that an hour's forecast window
        # is one contiguous block and a forecast costs one multiply-add (envs.sim.kernel); and the
        # coalition's totals of load and renewables with their error terms, (E, T+H).
        load_err, ren_err = self.load * self.z_load, self.ren * self.z_ren
        self.net_tm = self._time_major(self.load - self.ren)
        self.net_err_tm = self._time_major(load_err - ren_err)
        self.total_load, self.total_load_err = self.load.sum(-1), load_err.sum(-1)
        self.total_ren, self.total_ren_err = self.ren.sum(-1), ren_err.sum(-1)
        n_perm = cfg.coalition.shapley_permutations
        self.permutations = np.argsort(rng.random((n_perm, self.N)), axis=-1)
        z = np.zeros((E, self.N))
        self.soc = m.battery_mwh * INITIAL_SOC + z
        self.cf_soc = self.soc.copy()
        self.debt = z.copy()
        self.prev_dispatch = np.broadcast_to(self.fleet.min_output_mw, (E, self.G)).copy()
        self.last_price = np.zeros(E)
        self.last_reserve_price = np.zeros(E)
        self.cap_price = np.zeros(E)
        self.cap_award_g = np.zeros((E, self.G))
        self.cap_award_c = np.zeros(E)
        #: (E, G + 1) non-performance charges so far this episode (coalition last), EUR.
        self.cap_charge = np.zeros((E, self.G + 1))
        #: (E, N) each member's saving so far this billing period, EUR (envs.market.billing).
        self.period_saving = z.copy()
        self.last_imbalance = np.zeros(E)
        self.last_saving = z.copy()
        self.t = 0
        self._ready = True
        self.ledger.clear()

    # ------------------------------------------------------------- forecasts
    def forecast(self, actual: F64, shock: F64, t: int | None = None) -> F64:
        """Forecast of ``actual`` for hours t..t+H-1, issued at t: (E, H[, N]), >= 0."""
        t = self.t if t is None else t
        window = actual[:, t : t + self.H]
        scale = self.lead_scale if window.ndim == 2 else self.lead_scale[:, None]
        return np.maximum(forecast_of(window, shock[:, t : t + self.H], scale), 0.0)

    @staticmethod
    def _time_major(a: F64) -> NDArray[np.float32]:
        """(E, T+H, N) float64 -> contiguous (T+H, E, N) float32."""
        return np.ascontiguousarray(np.swapaxes(a, 0, 1), dtype=np.float32)

    def forecast_total(self, total: F64, total_err: F64, t: int | None = None) -> F64:
        """Forecast of a members' total for hours t..t+H-1, (E, H) MW: the sum of the
        members' own forecasts (actual + lead-scaled actual * error)."""
        t = self.t if t is None else t
        return total[:, t : t + self.H] + self.lead_scale * total_err[:, t : t + self.H]

    def system_forecast(self, t: int | None = None) -> tuple[F64, F64]:
        """Hour t's forecast background load and system renewables (>= 0), MW, (E,) each:
        what the reserve requirement and the incumbents' pivotal test are set on."""
        t = self.t if t is None else t
        load = forecast_of(self.sys_load[:, t], self.z_sys_load[:, t], self.lead_scale[0])
        ren = forecast_of(self.sys_ren[:, t], self.z_sys_ren[:, t], self.lead_scale[0])
        return load, np.maximum(ren, 0.0)

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
        members = member_forecast_net(self).sum(-1) - self.ppa_mw[:, self.t]
        return load + np.maximum(members, 0.0), ren

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
            must_offer_mw=fl.must_offer_mw(self.fleet, self.cap_award_g))  # fmt: skip

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
        return t, self.T if period == 0 else min(t + period, self.T)

    def capacity_forecast(self, t: int | None = None) -> tuple[F64, F64]:
        """Reliability requirement of the auction at step t and the coalition's obligation,
        (E,) accredited MW each (the rules of :mod:`envs.market.capacity`).

        Requirement = (1 + reserve margin) * the forecast *coincident* peak over the
        auction's delivery hours of background load plus the members' load net of their
        own PV and wind (PJM RPM: the pool's coincident peak forecast times its Forecast
        Pool Requirement; behind-the-meter generation nets load as in PJM's load forecast).
        Obligation = (1 + reserve margin) * the members' net load in that peak hour (their
        peak load contribution), >= 0. Forecasts follow :mod:`envs.sim.forecast`, issued at
        t, the error of leads past the horizon that of the longest lead.
        """
        start, stop = self.capacity_period(t)
        scale = lead_scale(self.H, stop - start)
        window = slice(start, stop)
        load = forecast_of(self.sys_load[:, window], self.z_sys_load[:, window], scale)
        background = np.maximum(load, 0.0)
        # The members' totals as the sum of their own forecasts (forecast_total's model).
        own_load = self.total_load[:, window] + scale * self.total_load_err[:, window]
        own_ren = self.total_ren[:, window] + scale * self.total_ren_err[:, window]
        members = own_load - own_ren
        peak_hour = np.argmax(background + members, axis=1)  # (E,)
        rows = np.arange(self.E)
        margin = 1.0 + self.cfg.capacity.reserve_margin
        requirement = margin * (background + members)[rows, peak_hour]
        return np.maximum(requirement, 0.0), margin * np.maximum(members[rows, peak_hour], 0.0)

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
            return fl.scripted_bids(self.cfg.fleet, rsi, self.K, strategic)
        if self._static_bids is None:
            ones = np.ones((self.E, self.G))
            self._static_bids = fl.scripted_bids(self.cfg.fleet, ones, self.K).contiguous()
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
        t, E, G = self.t, self.E, self.G
        bids = self.incumbent_bids(incumbents).contiguous()
        auction = self.is_capacity_auction(t)
        target = self.capacity_forecast(t) if auction else (self._zeros_e, self._zeros_e)
        args = self._kernel_args(t, coalition, self._no_member_actions, bids, target, auction,
                                 self._outputs())  # fmt: skip
        p, fp, codec, hour, state, k_out = args[0], args[1], args[3], args[6], args[7], args[-1]
        S, B = p.blk_unit.shape[0], p.bg_shares.shape[0] + 1
        out = {k: np.empty((E, S)) for k in ("supply_q", "supply_p", "supply_acc")}
        out |= {k: np.empty((E, B)) for k in ("demand_q", "demand_p", "demand_acc")}
        out["reserve_award"], out["price"], out["reserve_price"] = (
            np.empty((E, G + 1)), np.empty(E), np.empty(E))  # fmt: skip
        coal = np.ascontiguousarray(coalition, dtype=np.float64)
        for e in range(E):
            decoded = coalition_codec.decode_row(coal[e], codec)
            q_spot, p_spot, res_q, res_p, cap_q, cap_p = decoded
            kn.capacity_phase(p, fp, bids, codec, e, hour, state, cap_q, cap_p, k_out)
            paid, ulim = np.empty(S), np.empty(G)
            price, _, _, res_price, _, _ = cl.day_ahead_phase(
                p, fp, bids, e, hour, self.prev_dispatch[e], k_out.cap_g[e], q_spot,
                p_spot, res_q, res_p,
                out["supply_q"][e], out["supply_p"][e], out["supply_acc"][e], paid, ulim,
                out["reserve_award"][e], out["demand_acc"][e])  # fmt: skip
            out["price"][e], out["reserve_price"][e] = price, res_price
            out["demand_q"][e, :-1] = hour.fc_load0[e] * p.bg_shares
            out["demand_p"][e, :-1] = p.bg_prices
            out["demand_q"][e, -1], out["demand_p"][e, -1] = max(q_spot, 0.0), p_spot
        out["supply_unit"] = p.blk_unit
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
        out = self._outputs()
        self._kernel(*self._kernel_args(t, coalition, members, bids, target, auction, out))
        info: dict[str, Any] = dict(zip(kn.INFO_KEYS, out.info.T, strict=True))
        # --- commit ------------------------------------------------------------------
        self.ledger.record(t, out.energy, out.reserve_mw, out.capacity_mw, out.cash, out.bill)
        self.soc, self.cf_soc, self.debt = out.soc, out.cf_soc, out.debt
        self.prev_dispatch = out.dispatch
        self.last_price = info["price_eur_per_mwh"]
        self.last_reserve_price = info["reserve_price_eur_per_mw"]
        self.cap_award_g, self.cap_award_c, self.cap_price = out.cap_g, out.cap_c, out.cap_price
        self.cap_charge = out.cap_charge
        self.period_saving = out.period_saving
        self.last_imbalance = info["coalition_imbalance_mwh"]
        self.last_saving = out.saving
        self.t = t + 1
        terminated = self.t >= self.T
        if terminated:
            self._ready = False
        return StepResult(
            reward_coalition=info["members_saving_eur"],
            reward_members=out.r_members,
            reward_incumbents=out.profit,
            cash=out.cash if self.ledger.enabled else None,
            info=info,
            info_array=out.info,
            terminated=terminated,
            saving=out.saving,
            bill_alone=out.bill,
            dispatch=out.dispatch,
            markup=out.markup,
            net=out.net,
        )
