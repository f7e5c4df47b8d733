"""Observations and global state of the multi-market envs (DESIGN §3.1).

Dims: E envs, N members, G incumbents, H forecast hours. Every feature is scaled by
the scenario's own sizes (price limits, peak loads, capacities; :mod:`envs.sim.scales`) so
it is of order one for any valid config, and uses only what is known at decision time:
forecasts, last cleared prices, own state. Observations are float32 and clipped to
[-OBS_BOUND, OBS_BOUND]. "price scale" is the larger of the price cap and -floor; "system
scale" the larger of the background peak load and its solar + wind capacity.

Layout (feature order within each vector):

- common (all agents), ``10 + 2H``: sin/cos hour of day, sin/cos day of week,
  sin/cos day of year, episode progress t/T, last spot price / price scale, last reserve
  price / reserve scarcity price, capacity price / curve cap, then the system load
  forecast (H) and the system renewables forecast (H), both / system scale;
- coalition, common + ``2H + 5``: members' total load forecast (H) and total
  renewables forecast (H) / the larger of total peak load and
  total renewables capacity, stored energy / total battery energy,
  flexible-load debt / total flex energy, last imbalance / q_max, capacity award /
  firm capacity, capacity-auction-now flag;
- member, common + ``H + 6``: own net-load forecast (load - PV - wind, H) / the larger of own
  peak and a quarter of own PV + wind,
  state of charge / battery energy, flex debt / flex energy, battery energy / peak,
  battery power / peak, flex power / peak, last hour's saving / (peak * price scale);
- incumbent, common + 6: capacity / background peak, marginal cost / price scale,
  last dispatch / capacity, residual supply index now, capacity award / capacity,
  emission factor (t/MWh).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import prange
from numpy.typing import NDArray

from envs.sim import forecast as fc
from envs.sim.kernel import compiled

if TYPE_CHECKING:
    from envs.sim.core import MarketCore

OBS_BOUND = 10.0
TWO_PI = 2.0 * np.pi


def common_size(horizon_h: int) -> int:
    """Length of the common features that open every agent's observation, ``10 + 2H``."""
    return 10 + 2 * horizon_h


def index(horizon_h: int) -> dict[str, dict[str, int]]:
    """Start index of each named feature (forecasts span ``horizon_h`` entries), by group;
    the layout in this module's docstring. Policies use it to read observations."""
    h = horizon_h
    c = common_size(h)
    common = {"hour_sin": 0, "price": 7, "reserve_price": 8, "capacity_price": 9,
              "system_load_fc": 10, "system_renewables_fc": 10 + h}  # fmt: skip
    return {
        "coalition": {**common, "load_fc": c, "renewables_fc": c + h, "soc": c + 2 * h,
                      "flex_debt": c + 2 * h + 1, "imbalance": c + 2 * h + 2,
                      "capacity_award": c + 2 * h + 3, "capacity_auction": c + 2 * h + 4},
        "members": {**common, "net_fc": c, "soc": c + h, "flex_debt": c + h + 1,
                    "battery_mwh": c + h + 2, "battery_mw": c + h + 3, "flex_mw": c + h + 4,
                    "saving": c + h + 5},
        "incumbents": {**common, "capacity": c, "marginal_cost": c + 1, "dispatch": c + 2,
                       "rsi": c + 3, "capacity_award": c + 4, "emission_factor": c + 5},
    }  # fmt: skip


def hour_of_day(obs: NDArray[np.floating]) -> int:
    """Hour of day (0..23) from any agent's observation (its first two features)."""
    return round(float(np.arctan2(obs[0], obs[1])) / TWO_PI * 24) % 24


def sizes(core: MarketCore) -> dict[str, int]:
    """Observation length of each group."""
    h = core.dims.H
    common = common_size(h)
    return {
        "coalition": common + 2 * h + 5,
        "members": common + h + 6,
        "incumbents": common + 6,
    }


def _common(core: MarketCore, out: NDArray[np.float32]) -> None:
    """Write the common features into ``out`` (E, 10 + 2H)."""
    cfg, T, sc, ep = core.cfg, core.dims.T, core.scales, core.episode
    t = min(core.t, T - 1)
    hour = t % 24
    doy = cfg.start_day_of_year - 1 + t // 24
    dow = doy % 7
    out[:, :7] = (
        np.sin(TWO_PI * hour / 24),
        np.cos(TWO_PI * hour / 24),
        np.sin(TWO_PI * dow / 7),
        np.cos(TWO_PI * dow / 7),
        np.sin(TWO_PI * doy / 365),
        np.cos(TWO_PI * doy / 365),
        core.t / T,
    )
    out[:, 7] = core.last.price / sc.price_eur_per_mwh
    out[:, 8] = core.last.reserve_price / cfg.reserve.scarcity_price_eur_per_mw
    out[:, 9] = core.state.cap_price_eur_per_mw_day / cfg.capacity.price_cap_eur_per_mw_day
    h = core.dims.H
    inv_peak = 1.0 / sc.system_mw
    out[:, 10 : 10 + h] = fc.window(ep.sys_load, ep.z_sys_load, sc.lead_scale, t)
    out[:, 10 + h : 10 + 2 * h] = fc.window(ep.sys_ren, ep.z_sys_ren, sc.lead_scale, t)
    out[:, 10 : 10 + 2 * h] *= inv_peak
    # Clipped here, not by each group: members copy these features as they are.
    np.clip(out, -OBS_BOUND, OBS_BOUND, out=out)


def observe(
    core: MarketCore, groups: tuple[str, ...] = ("coalition", "members", "incumbents")
) -> dict[str, NDArray[np.float32]]:
    """Observations of the requested groups: ``{"coalition": (E, 1, D), "members": (E, N, D),
    "incumbents": (E, G, D)}``, float32, written into fresh arrays (never reused, so
    returned observations stay valid)."""
    m, fleet, (E, G, N, _, h, T) = core.members, core.fleet, core.dims
    t, sc, ep, state = min(core.t, T - 1), core.scales, core.episode, core.state
    n_common = common_size(h)
    size = sizes(core)
    out: dict[str, NDArray[np.float32]] = {}
    coal = np.empty((E, 1, size["coalition"]), np.float32)
    common = np.empty((E, n_common), np.float32)  # contiguous: the member kernel reads it 20x
    _common(core, common)
    coal[:, 0, :n_common] = common
    peak_total = sc.members_mw
    c = coal[:, 0, n_common:]
    c[:, :h] = fc.total_window(ep.total_load, ep.total_load_err, sc.lead_scale, t) / peak_total
    c[:, h : 2 * h] = fc.total_window(ep.total_ren, ep.total_ren_err, sc.lead_scale, t) / peak_total
    c[:, 2 * h] = state.soc_mwh.sum(-1) / max(m.battery_mwh.sum(), 1e-9)
    c[:, 2 * h + 1] = state.debt_mwh.sum(-1) / max(m.flex_mwh.sum(), 1e-9)
    c[:, 2 * h + 2] = core.last.imbalance / core.coalition.q_max_mw
    c[:, 2 * h + 3] = state.cap_award_c_mw / max(core.coalition.firm_mw, 1e-9)
    c[:, 2 * h + 4] = float(core.is_capacity_auction(t))
    np.clip(coal, -OBS_BOUND, OBS_BOUND, out=coal)
    out["coalition"] = coal
    if "members" in groups:
        mem = np.empty((E, N, size["members"]), np.float32)
        kernel = member_obs_parallel if E >= 64 else member_obs_serial
        kernel(
            ep.net_tm, ep.net_err_tm, t, sc.lead_scale32, sc.inv_net_mw, sc.inv_peak,
            state.soc_mwh, sc.inv_battery_mwh, state.debt_mwh, sc.inv_flex_mwh, sc.member_static,
            core.last.saving, 1.0 / sc.price_eur_per_mwh, common, OBS_BOUND, mem,
        )  # fmt: skip
        out["members"] = mem
    if "incumbents" in groups:
        cfg = core.cfg
        cap = fleet.capacity_mw
        inc = np.empty((E, G, size["incumbents"]), np.float32)
        inc[:, :, :n_common] = common[:, None, :]
        inc[:, :, n_common] = cap / cfg.background.peak_load_mw
        inc[:, :, n_common + 1] = fleet.marginal_cost_eur_per_mwh / sc.price_eur_per_mwh
        inc[:, :, n_common + 2] = state.prev_dispatch_mw / cap
        inc[:, :, n_common + 3] = core.system_rsi(t)
        inc[:, :, n_common + 4] = state.cap_award_g_mw / cap
        inc[:, :, n_common + 5] = fleet.emission_t_per_mwh
        np.clip(inc, -OBS_BOUND, OBS_BOUND, out=inc)
        out["incumbents"] = inc
    return out


def state_size(core: MarketCore) -> int:
    """Length of the global state vector."""
    return sizes(core)["coalition"] + 3 * core.dims.N + core.dims.G


def state_columns(
    core: MarketCore, obs: dict[str, NDArray[np.float32]]
) -> list[NDArray[np.float32]]:
    """The parts of the observations the global state is made of, as views: the
    coalition's observation (E, D) and every member's state of charge share, flex debt
    share and next-hour net load forecast / peak, (E, N) each."""
    at, member_obs = index(core.dims.H)["members"], obs["members"]
    return [obs["coalition"][:, 0], member_obs[:, :, at["soc"]],
            member_obs[:, :, at["flex_debt"]], member_obs[:, :, at["net_fc"]]]  # fmt: skip


def state(
    core: MarketCore, obs: dict[str, NDArray[np.float32]] | None = None,
    columns: list[NDArray[np.float32]] | None = None,
) -> NDArray[np.float32]:  # fmt: skip
    """Global state for centralised critics, (E, S) float32: :func:`state_columns` (of
    ``obs``, or ``columns`` kept from them, or of fresh observations) and every
    incumbent's last dispatch / capacity."""
    if columns is None:
        if obs is None or "members" not in obs:
            obs = observe(core, ("coalition", "members"))
        columns = state_columns(core, obs)
    dispatch = (core.state.prev_dispatch_mw / core.fleet.capacity_mw).astype(np.float32)
    s = np.concatenate([*columns, dispatch], axis=-1)
    return np.clip(s, -OBS_BOUND, OBS_BOUND).astype(np.float32)


def _member_obs_impl(
    net_tm,
    net_err_tm,
    t,
    lead,
    inv_net,
    inv_peak,
    soc,
    inv_batt,
    debt,
    inv_flex,
    static,
    last_saving,
    saving_scale,
    common,
    bound,
    out,
):
    """Members' observations (layout in :mod:`envs.sim.observe`), written in one pass.

    Net-load forecast for hour t+h: actual + lead[h] * actual * error, from time-major
    (T+H, E, N) arrays (:mod:`envs.sim.forecast`'s error model).
    """
    E, N = soc.shape
    H = lead.shape[0]
    C = common.shape[1]
    # Direct indexing (no row views): views cost reference counting per member.
    for e in prange(E):
        for i in range(N):
            for c in range(C):
                out[e, i, c] = common[e, c]
        for h in range(H):
            for i in range(N):
                f = net_tm[t + h, e, i] + lead[h] * net_err_tm[t + h, e, i]
                out[e, i, C + h] = min(max(f * inv_net[i], -bound), bound)
        o = C + H
        for i in range(N):
            out[e, i, o] = min(max(soc[e, i] * inv_batt[i], -bound), bound)
            out[e, i, o + 1] = min(max(debt[e, i] * inv_flex[i], -bound), bound)
            for k in range(3):
                out[e, i, o + 2 + k] = min(max(static[i, k], -bound), bound)
            out[e, i, o + 5] = min(
                max(last_saving[e, i] * inv_peak[i] * saving_scale, -bound), bound
            )


member_obs_serial = compiled(_member_obs_impl, "member_obs_serial", parallel=False)
member_obs_parallel = compiled(_member_obs_impl, "member_obs_parallel", parallel=True)
