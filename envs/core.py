"""The batched multi-market simulator (DESIGN §3): one hourly step for E envs at once.

Dims: E envs, G generators, K tranches, N members, H forecast hours, T episode hours.
All episodes in a batch start together and last T steps, so the time index is shared.

:class:`MarketCore` holds the state arrays and steps them with array operations only:
no Python loop over envs, members or generators. Observations are built in
:mod:`envs.observe`, money in :mod:`envs.market.settlement` and the ledger in
:mod:`envs.ledger`. A step computes everything into locals and commits the state at
the end, so a step that raises leaves the simulator as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from envs.actors import fleet as fl
from envs.actors.members import (
    INITIAL_SOC,
    MemberArrays,
    battery_bounds,
    flex_bounds,
    self_consumption_power,
    soc_after,
)
from envs.errors import EpisodeOverError
from envs.ledger import Ledger
from envs.market import clear_capacity, clear_reserve, clear_spot
from envs.market import settlement as st
from envs.profiles import make_profiles
from envs.scenario import ScenarioConfig
from envs.settle import settle

F64 = NDArray[np.float64]

COALITION_PRICE_HINT = "limit price: a^3 * cap for a >= 0, a^3 * |floor| for a < 0"


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
            coalition=2 + 2 * int(res) + 2 * int(cap) + 2 * int(drives),
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
    cash: F64  # (E, M, P) EUR by market and participant
    info: dict[str, F64]  # per-step accounting, each (E,) unless noted
    terminated: bool


def _cube_price(a: F64, floor: float, cap: float) -> F64:
    """Map [-1, 1] to [floor, cap] with fine resolution near zero (cubic)."""
    a3 = a * a * a
    return np.where(a >= 0.0, a3 * cap, a3 * abs(floor))


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
        #: Coalition's derated (firm) capacity, MW: batteries by duration, PV and wind by credit.
        self.coalition_firm_mw = float(
            np.sum(m.battery_mw * np.minimum(1.0, duration / cc.battery_full_credit_h))
            + cc.solar_credit * m.pv_mw.sum()
            + cc.wind_credit * m.wind_mw.sum()
        )
        lead = np.arange(self.H, dtype=np.float64)
        self._lead_scale = np.sqrt((lead + 1.0) / self.H)  # forecast error growth with lead
        self._lead_scale32 = self._lead_scale.astype(np.float32)
        #: Reciprocals and static member features used by observations (0 where no device).
        self.inv_battery_mwh = np.divide(
            1.0, m.battery_mwh, out=np.zeros(self.N), where=m.battery_mwh > 0
        )
        self.inv_flex_mwh = np.divide(1.0, m.flex_mwh, out=np.zeros(self.N), where=m.flex_mwh > 0)
        self.member_static = np.stack(
            [
                m.battery_mwh / m.peak_load_mw,
                m.battery_mw / m.peak_load_mw,
                m.flex_mw / m.peak_load_mw,
            ],
            axis=-1,
        )
        sp = cfg.spot
        nb = sp.demand_blocks
        self._demand_prices = np.concatenate(
            [
                [sp.price_cap_eur_per_mwh],
                np.linspace(sp.demand_price_high_eur_per_mwh, sp.demand_price_low_eur_per_mwh, nb),
                [0.0],  # placeholder for the coalition's buy bid
            ]
        )
        self._demand_shares = np.concatenate(
            [[1.0 - sp.demand_elastic_share], np.full(nb, sp.demand_elastic_share / nb)]
        )
        self._tariff_energy = self._tariff_by_hour()
        self.ledger = Ledger(self, enabled=record_ledger)
        self.t = 0
        self._ready = False

    # ------------------------------------------------------------------ set-up
    def _tariff_by_hour(self) -> F64:
        """Retail energy price of the counterfactual by hour of day, EUR/MWh (24,)."""
        tf = self.cfg.tariff
        price = np.full(24, tf.energy_eur_per_mwh)
        if tf.time_of_use:
            peak = np.isin(np.arange(24), tf.peak_hours)
            price = np.where(
                peak,
                tf.energy_eur_per_mwh * tf.peak_multiplier,
                tf.energy_eur_per_mwh * tf.offpeak_multiplier,
            )
        return price

    def reset(self, rng: np.random.Generator) -> None:
        """Draw a new episode's weather, loads, forecast errors and activations from ``rng``."""
        cfg, E, T, H, m = self.cfg, self.E, self.T, self.H, self.members
        w = cfg.weather
        prof = make_profiles(
            rng,
            num_envs=E,
            hours=T + H,
            start_hour_of_year=(cfg.start_day_of_year - 1) * 24,
            sector_idx=m.sector_idx,
            peak_load_mw=m.peak_load_mw,
            pv_mw=m.pv_mw,
            wind_mw=m.wind_mw,
            system_peak_load_mw=cfg.background.peak_load_mw,
            latitude_deg=w.latitude_deg,
            cloudiness_mean=w.cloudiness_mean,
            cloudiness_persistence=w.cloudiness_persistence,
            wind_mean_speed_m_s=w.wind_mean_speed_m_s,
            wind_weibull_k=w.wind_weibull_k,
            wind_persistence=w.wind_persistence,
            temperature_anomaly_c=w.temperature_anomaly_c,
            load_noise_std=w.load_noise_std,
        )
        bg = cfg.background
        self.load = prof.load_mw  # (E, T+H, N)
        self.ren = prof.pv_mw + prof.wind_mw  # (E, T+H, N) member renewables
        # Member-major float32 copies for observations: (E, N, T+H).
        self.load_nm = np.ascontiguousarray(np.swapaxes(self.load, 1, 2), dtype=np.float32)
        self.ren_nm = np.ascontiguousarray(np.swapaxes(self.ren, 1, 2), dtype=np.float32)
        self.sys_load = prof.system_load_mw  # (E, T+H)
        self.sys_ren = bg.solar_mw * prof.solar_cf + bg.wind_mw * prof.wind_cf  # (E, T+H)
        self.ppa_mw = cfg.ppa.volume_mw * prof.wind_cf  # (E, T+H) PPA delivery (wind shape)
        fc = cfg.forecast
        # Forecast errors: one shock per target hour, scaled by lead time (see ForecastConfig).
        self.z_load = fc.load_error * rng.standard_normal((E, T + H, self.N))
        self.z_ren = fc.renewable_error * rng.standard_normal((E, T + H, self.N))
        self.z_sys_load = 0.5 * fc.load_error * rng.standard_normal((E, T + H))
        self.z_sys_ren = fc.renewable_error * rng.standard_normal((E, T + H))
        # Errors are bounded below by -100% so that forecasts stay >= 0 without clipping;
        # observations keep actual * error (member-major, float32) to cost two passes.
        np.maximum(self.z_load, -1.0, out=self.z_load)
        np.maximum(self.z_ren, -1.0, out=self.z_ren)
        self.z_load_nm = self.load_nm * np.swapaxes(self.z_load, 1, 2).astype(np.float32)
        self.z_ren_nm = self.ren_nm * np.swapaxes(self.z_ren, 1, 2).astype(np.float32)
        rc = cfg.reserve
        active = rng.random((E, T)) < rc.activation_probability
        self.activation = np.where(active, rc.activation_fraction_max * rng.random((E, T)), 0.0)
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
        scale = self._lead_scale if window.ndim == 2 else self._lead_scale[:, None]
        return np.maximum(window * (1.0 + scale * shock[:, t : t + self.H]), 0.0)

    def forecast_members(self, actual_nm: F64, actual_err_nm: F64, t: int | None = None) -> F64:
        """Members' forecasts for hours t..t+H-1, (E, N, H) float32, from member-major
        actuals and actual * error (the same forecast as :meth:`forecast`)."""
        t = self.t if t is None else t
        fc = np.multiply(actual_err_nm[:, :, t : t + self.H], self._lead_scale32)
        fc += actual_nm[:, :, t : t + self.H]
        return fc

    def system_rsi(self, t: int | None = None) -> F64:
        """Residual supply index of each incumbent on this hour's forecasts, (E, G)."""
        t = self.t if t is None else t
        load = self.sys_load[:, t] * (1.0 + self._lead_scale[0] * self.z_sys_load[:, t])
        ren = self.sys_ren[:, t] * (1.0 + self._lead_scale[0] * self.z_sys_ren[:, t])
        return fl.residual_supply_index(self.fleet.capacity_mw, np.maximum(ren, 0.0), load)

    def is_capacity_auction(self, t: int | None = None) -> bool:
        """Whether the capacity auction clears at step t."""
        t = self.t if t is None else t
        period = self.cfg.capacity.period_h
        return self.layout.capacity and (t == 0 if period == 0 else t % period == 0)

    # ------------------------------------------------------------------ step
    def scripted_incumbent_bids(self) -> fl.BidParams:
        """Bids of the scenario's scripted strategy for this hour."""
        return fl.scripted_bids(self.cfg.fleet, self.system_rsi(), self.K)

    def step(self, coalition: F64, members: F64 | None, incumbents: F64 | None) -> StepResult:
        """Advance all envs by one hour.

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
        cfg, m, fleet, lay = self.cfg, self.members, self.fleet, self.layout
        t, E = self.t, self.E
        sp = cfg.spot
        floor, cap = sp.price_floor_eur_per_mwh, sp.price_cap_eur_per_mwh
        hour = t % 24
        info: dict[str, Any] = {}

        # --- members' set-points, projected onto physical limits -------------------
        if lay.drives_members:
            sig = coalition[:, -2:]
            members = np.broadcast_to(sig[:, None, :], (E, self.N, 2))
        if members is None:
            raise ValueError("members' actions are required when members.agents is true")
        ch_max, dis_max = battery_bounds(self.soc, m)
        cmd = members[..., 0] * m.battery_mw
        batt = np.clip(cmd, -dis_max, ch_max)
        f_lo, f_hi = flex_bounds(self.debt, m, hour == 23)
        fcmd = members[..., 1] * m.flex_mw
        flex = np.clip(fcmd, f_lo, f_hi)
        projected = (np.abs(batt - cmd) > 1e-9).sum(-1) + (
            (np.abs(flex - fcmd) > 1e-9) & (hour != 23)
        ).sum(-1)

        # --- coalition bids ------------------------------------------------------
        q_spot = coalition[:, 0] * self.q_max_mw
        p_spot = _cube_price(coalition[:, 1], floor, cap)
        i = 2
        if lay.reserve:
            res_q = (coalition[:, i] + 1.0) * 0.5 * m.battery_mw.sum()
            res_p = ((coalition[:, i + 1] + 1.0) * 0.5) ** 3 * cfg.reserve.scarcity_price_eur_per_mw
            i += 2
        if lay.capacity:
            cap_q = (coalition[:, i] + 1.0) * 0.5 * self.coalition_firm_mw
            cap_p = ((coalition[:, i + 1] + 1.0) * 0.5) * cfg.capacity.price_cap_eur_per_mw_day

        # --- incumbents' bids ----------------------------------------------------
        if incumbents is None:
            bids = self.scripted_incumbent_bids()
        else:
            bids = fl.decode_bid_action(
                incumbents,
                cfg.fleet,
                reserve=lay.reserve,
                capacity=lay.capacity,
                capacity_cap_eur_per_mw_day=cfg.capacity.price_cap_eur_per_mw_day,
            )

        # --- reserve market --------------------------------------------------------
        fc_load0 = self.sys_load[:, t] * (1.0 + self._lead_scale[0] * self.z_sys_load[:, t])
        fc_ren0 = np.maximum(
            self.sys_ren[:, t] * (1.0 + self._lead_scale[0] * self.z_sys_ren[:, t]), 0.0
        )
        if lay.reserve:
            rc = cfg.reserve
            requirement = (
                rc.requirement_share_of_load * fc_load0
                + rc.requirement_share_of_renewables * fc_ren0
            )
            rq_g, rp_g = fl.reserve_offers(bids, fleet, self.prev_dispatch)
            rres = clear_reserve(
                np.concatenate([rq_g, res_q[:, None]], axis=-1),
                np.concatenate([rp_g, res_p[:, None]], axis=-1),
                requirement,
                scarcity_price_eur_per_mw=rc.scarcity_price_eur_per_mw,
            )
            award_g, award_c = rres.award_mw[:, :-1], rres.award_mw[:, -1]
            res_price, res_short = rres.price_eur_per_mw, rres.shortfall_mw
        else:
            award_g, award_c = np.zeros((E, self.G)), np.zeros(E)
            res_price = res_short = requirement = np.zeros(E)

        # --- spot market -------------------------------------------------------------
        eq, ep = fl.energy_offers(bids, fleet, self.prev_dispatch, award_g, floor)
        sys_load, sys_ren = self.sys_load[:, t], self.sys_ren[:, t]
        sell, buy = np.maximum(-q_spot, 0.0), np.maximum(q_spot, 0.0)
        s_q = np.concatenate([eq.reshape(E, -1), sys_ren[:, None], sell[:, None]], axis=-1)
        s_p = np.concatenate(
            [
                ep.reshape(E, -1),
                np.full((E, 1), cfg.background.renewable_offer_eur_per_mwh),
                p_spot[:, None],
            ],
            axis=-1,
        )
        d_q = np.concatenate([sys_load[:, None] * self._demand_shares, buy[:, None]], axis=-1)
        d_p = np.broadcast_to(self._demand_prices, d_q.shape).copy()
        d_p[:, -1] = p_spot
        spot = clear_spot(
            s_q,
            s_p,
            d_q,
            d_p,
            price_floor_eur_per_mwh=floor,
            price_cap_eur_per_mwh=cap,
            pricing=sp.pricing,
        )
        price = spot.price_eur_per_mwh
        n_gen_blocks = self.G * (self.K + 1)
        gen_blocks = spot.supply_mw[:, :n_gen_blocks].reshape(E, self.G, self.K + 1)
        dispatch = gen_blocks.sum(-1)
        gen_spot_cash = (
            gen_blocks * spot.supply_price_eur_per_mwh[:, :n_gen_blocks].reshape(E, self.G, -1)
        ).sum(-1)
        ren_mw, sold = spot.supply_mw[:, -2], spot.supply_mw[:, -1]
        ren_cash = ren_mw * spot.supply_price_eur_per_mwh[:, -2]
        sold_cash = sold * spot.supply_price_eur_per_mwh[:, -1]
        bg_mw, bought = spot.demand_mw[:, :-1].sum(-1), spot.demand_mw[:, -1]
        buyer_price = spot.demand_price_eur_per_mwh

        # --- realisation: activation, batteries, metering ----------------------------
        act = self.activation[:, t]
        act_g = award_g * act[:, None]
        act_req_c = award_c * act
        head = batt + dis_max  # extra discharge available beyond the set-point
        head_sum = head.sum(-1)
        share = np.minimum(1.0, act_req_c / np.maximum(head_sum, 1e-12))
        delivered_i = head * share[:, None]
        act_c = delivered_i.sum(-1)
        act_short = np.maximum(act_req_c - act_c, 0.0)
        batt_final = batt - delivered_i
        net = self.load[:, t] + flex + batt_final - self.ren[:, t]
        curt_m = np.maximum(-m.export_limit_mw - net, 0.0)
        net = net + curt_m
        metered = net.sum(-1)  # coalition's metered net import, MW
        position = bought - sold
        ppa_mw = self.ppa_mw[:, t]
        imbalance = metered - (position + ppa_mw - act_c)  # + = drew more than scheduled

        # --- capacity market -----------------------------------------------------------
        if lay.capacity and self.is_capacity_auction(t):
            cc = cfg.capacity
            period = cc.period_h or self.T
            target = cc.target_share_of_peak * self.sys_load[:, t : t + period].max(-1)
            cq_g, cp_g = fl.capacity_offers(bids, fleet)
            cres = clear_capacity(
                np.concatenate([cq_g, cap_q[:, None]], -1),
                np.concatenate([cp_g, cap_p[:, None]], -1),
                target,
                cap_eur_per_mw_day=cc.price_cap_eur_per_mw_day,
                lower=cc.curve_lower,
                upper=cc.curve_upper,
            )
            cap_award_g, cap_award_c, cap_price = (
                cres.award_mw[:, :-1],
                cres.award_mw[:, -1],
                cres.price_eur_per_mw_day,
            )
            info["capacity_cleared_mw"] = cres.cleared_mw
        else:
            cap_award_g, cap_award_c, cap_price = self.cap_award_g, self.cap_award_c, self.cap_price
        scarcity = (
            (price >= sp.scarcity_price_share * cap)
            | (spot.unserved_mw > 1e-9)
            | (res_short > 1e-9)
        )
        perf_g = np.where(scarcity[:, None], np.maximum(cap_award_g - dispatch - award_g, 0.0), 0.0)
        delivered_c = np.maximum(-batt_final, 0.0).sum(-1) + award_c
        perf_c = np.where(scarcity, np.maximum(cap_award_c - delivered_c, 0.0), 0.0)

        # --- settlement --------------------------------------------------------------
        flows = settle(
            self.cfg,
            self.cols,
            self.permutations,
            price=price,
            buyer_price=buyer_price,
            dispatch=dispatch,
            gen_spot_cash=gen_spot_cash,
            ren_mw=ren_mw,
            ren_cash=ren_cash,
            sold=sold,
            sold_cash=sold_cash,
            bought=bought,
            bg_mw=bg_mw,
            act_g=act_g,
            act_c=act_c,
            act_short=act_short,
            imbalance=imbalance,
            award_g=award_g,
            award_c=award_c,
            res_price=res_price,
            cap_award_g=cap_award_g,
            cap_award_c=cap_award_c,
            cap_price=cap_price,
            perf_g=perf_g,
            perf_c=perf_c,
            net=net,
            metered=metered,
            ppa_mw=ppa_mw,
        )
        cash, energy = flows["cash"], flows["energy"]
        c = self.cols
        alloc = cash[:, st.M_ALLOCATION, c.members]

        # --- counterfactual: each member alone, self-consumption battery, retail tariff
        net_cf0 = self.load[:, t] - self.ren[:, t]
        cf_batt = self_consumption_power(net_cf0, self.cf_soc, m)
        net_cf = np.maximum(net_cf0 + cf_batt, -m.export_limit_mw)
        tf = cfg.tariff
        retail = self._tariff_energy[hour] + tf.network_eur_per_mwh + tf.taxes_eur_per_mwh
        bill_cf = (
            np.maximum(net_cf, 0.0) * retail - np.maximum(-net_cf, 0.0) * tf.feed_in_eur_per_mwh
        )
        saving = bill_cf + alloc  # bill in the coalition is -alloc

        # --- rewards -----------------------------------------------------------------
        gen_energy = dispatch + act_g
        profit = cash[:, :, c.gens].sum(1) - fleet.marginal_cost_eur_per_mwh * gen_energy
        mean_saving = saving.mean(-1, keepdims=True)
        mc = cfg.members
        if mc.reward == "individual":
            r_members = saving
        elif mc.reward == "team":
            r_members = np.broadcast_to(mean_saving, saving.shape).copy()
        else:
            r_members = (1.0 - mc.reward_mix) * saving + mc.reward_mix * mean_saving

        # --- accounting --------------------------------------------------------------
        emissions_g = fleet.emission_t_per_mwh * gen_energy
        total_gen = gen_energy.sum(-1) + ren_mw
        avg_ef = emissions_g.sum(-1) / np.maximum(total_gen, 1e-9)
        running = dispatch > 1e-6
        marg_idx = np.argmax(np.where(running, fleet.marginal_cost_eur_per_mwh, -np.inf), axis=-1)
        mc_marg = np.where(running.any(-1), fleet.marginal_cost_eur_per_mwh[marg_idx], 0.0)
        ef_marg = np.where(running.any(-1), fleet.emission_t_per_mwh[marg_idx], 0.0)
        imports = np.maximum(metered, 0.0)
        coal_ef = avg_ef if cfg.emissions_accounting == "average" else ef_marg
        clean_grid = ((fleet.emission_t_per_mwh == 0.0) * gen_energy).sum(-1) + ren_mw
        cfe_share = clean_grid / np.maximum(total_gen, 1e-9)
        consumption = (self.load[:, t] + flex).sum(-1)
        own_ren = (self.ren[:, t] - curt_m).sum(-1)
        cfe = np.minimum(
            1.0,
            (np.minimum(own_ren, consumption) + cfe_share * imports)
            / np.maximum(consumption, 1e-9),
        )
        rsi = fl.residual_supply_index(
            fleet.capacity_mw, sys_ren, sys_load + np.maximum(position, 0.0)
        )
        clipped_cmd = projected.astype(np.float64)
        info.update(
            price_eur_per_mwh=price,
            reserve_price_eur_per_mw=res_price,
            capacity_price_eur_per_mw_day=cap_price,
            reserve_requirement_mw=requirement,
            reserve_shortfall_mw=res_short,
            unserved_energy_mwh=spot.unserved_mw,
            curtailment_mwh=(sys_ren - ren_mw) + curt_m.sum(-1),
            emissions_t=emissions_g.sum(-1),
            coalition_emissions_t=imports * coal_ef,
            coalition_cfe=cfe,
            lerner_index=np.where(price > 0, (price - mc_marg) / np.maximum(price, 1e-9), 0.0),
            residual_supply_index=rsi.min(-1),
            scarcity=scarcity.astype(np.float64),
            coalition_position_mw=position,
            coalition_metered_mw=metered,
            coalition_imbalance_mwh=imbalance,
            reserve_activation_share=act,
            reserve_not_delivered_mwh=act_short,
            members_saving_eur=saving.sum(-1),
            counterfactual_bill_eur=bill_cf.sum(-1),
            coalition_result_eur=alloc.sum(-1),
            n_projected=clipped_cmd,
            welfare_eur=self._welfare(price, bg_mw, gen_energy, fleet),
        )
        info["_bill_cf"] = bill_cf
        info["_saving"] = saving
        info["_dispatch"] = dispatch
        info["_profit"] = profit
        info["_markup"] = np.where(
            running,
            (price[:, None] - fleet.marginal_cost_eur_per_mwh)
            / np.maximum(fleet.marginal_cost_eur_per_mwh, 1.0),
            0.0,
        )
        info["_net"] = net

        # --- commit ------------------------------------------------------------------
        self.ledger.record(t, energy, flows["reserve_mw"], flows["capacity_mw"], cash, bill_cf)
        self.soc = soc_after(self.soc, batt_final, m)
        self.cf_soc = soc_after(self.cf_soc, cf_batt, m)
        self.debt = self.debt - flex
        self.prev_dispatch = dispatch
        self.last_price, self.last_reserve_price = price, res_price
        self.cap_award_g, self.cap_award_c, self.cap_price = cap_award_g, cap_award_c, cap_price
        self.last_imbalance = imbalance
        self.last_saving = saving
        self.t = t + 1
        terminated = self.t >= self.T
        if terminated:
            self._ready = False
        return StepResult(
            reward_coalition=saving.sum(-1),
            reward_members=r_members,
            reward_incumbents=profit,
            cash=cash,
            info=info,
            terminated=terminated,
        )

    def _welfare(self, price: F64, bg_mw: F64, gen_energy: F64, fleet: fl.FleetArrays) -> F64:
        """Producers' surplus plus the value of served background load at the cap, minus
        what it paid: a proxy of total welfare for logging, EUR."""
        cost = (fleet.marginal_cost_eur_per_mwh * gen_energy).sum(-1)
        return bg_mw * self.cfg.spot.price_cap_eur_per_mwh - cost
