"""Observations and global state of the multi-market envs (DESIGN §3.1).

Dims: E envs, N members, G incumbents, H forecast hours. Every feature is scaled by
config constants (price cap, peak loads, capacities) so it is of order one, and uses
only what is known at decision time: forecasts, last cleared prices, own state.
Observations are float32 and clipped to [-OBS_BOUND, OBS_BOUND].

Layout (feature order within each vector):

- common (all agents), ``10 + 2H``: sin/cos hour of day, sin/cos day of week,
  sin/cos day of year, episode progress t/T, last spot price / cap, last reserve
  price / reserve scarcity price, capacity price / curve cap, then the system load
  forecast (H) and the system renewables forecast (H), both / background peak load;
- coalition, common + ``2H + 5``: members' total load forecast (H) and total
  renewables forecast (H) / total peak load, stored energy / total battery energy,
  flexible-load debt / total flex energy, last imbalance / q_max, capacity award /
  firm capacity, capacity-auction-now flag;
- member, common + ``2H + 6``: own load and renewables forecast (H each) / own peak,
  state of charge / battery energy, flex debt / flex energy, battery energy / peak,
  battery power / peak, flex power / peak, last hour's saving / (peak * price cap);
- incumbent, common + 6: capacity / background peak, marginal cost / price cap,
  last dispatch / capacity, residual supply index now, capacity award / capacity,
  emission factor (t/MWh).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from envs.core import MarketCore

OBS_BOUND = 10.0
TWO_PI = 2.0 * np.pi


def sizes(core: MarketCore) -> dict[str, int]:
    """Observation length of each group."""
    common = 10 + 2 * core.H
    return {
        "coalition": common + 2 * core.H + 5,
        "members": common + 2 * core.H + 6,
        "incumbents": common + 6,
    }


def _common(core: MarketCore) -> NDArray[np.float64]:
    cfg, t, E = core.cfg, min(core.t, core.T - 1), core.E
    hour = t % 24
    day = t // 24
    doy = cfg.start_day_of_year - 1 + day
    dow = doy % 7
    cal = np.array(
        [
            np.sin(TWO_PI * hour / 24),
            np.cos(TWO_PI * hour / 24),
            np.sin(TWO_PI * dow / 7),
            np.cos(TWO_PI * dow / 7),
            np.sin(TWO_PI * doy / 365),
            np.cos(TWO_PI * doy / 365),
            core.t / core.T,
        ]
    )
    peak = cfg.background.peak_load_mw
    prices = np.stack(
        [
            core.last_price / cfg.spot.price_cap_eur_per_mwh,
            core.last_reserve_price / cfg.reserve.scarcity_price_eur_per_mw,
            core.cap_price / cfg.capacity.price_cap_eur_per_mw_day,
        ],
        axis=-1,
    )
    return np.concatenate(
        [
            np.broadcast_to(cal, (E, cal.size)),
            prices,
            core.forecast(core.sys_load, core.z_sys_load, t) / peak,
            core.forecast(core.sys_ren, core.z_sys_ren, t) / peak,
        ],
        axis=-1,
    )


def observe(core: MarketCore) -> dict[str, NDArray[np.float32]]:
    """Observations of every group: ``{"coalition": (E, 1, D), "members": (E, N, D),
    "incumbents": (E, G, D)}``, float32."""
    m, fleet, t, E = core.members, core.fleet, min(core.t, core.T - 1), core.E
    common = _common(core)
    load_fc = core.forecast(core.load, core.z_load, t)  # (E, H, N)
    ren_fc = core.forecast(core.ren, core.z_ren, t)
    peak_total = m.peak_load_mw.sum()
    coal = np.concatenate(
        [
            common,
            load_fc.sum(-1) / peak_total,
            ren_fc.sum(-1) / peak_total,
            np.stack(
                [
                    core.soc.sum(-1) / max(m.battery_mwh.sum(), 1e-9),
                    core.debt.sum(-1) / max(m.flex_mwh.sum(), 1e-9),
                    core.last_imbalance / core.q_max_mw,
                    core.cap_award_c / max(core.coalition_firm_mw, 1e-9),
                    np.full(E, float(core.is_capacity_auction(t))),
                ],
                axis=-1,
            ),
        ],
        axis=-1,
    )[:, None, :]
    peak = m.peak_load_mw
    own = np.stack(
        [
            np.divide(
                core.soc, m.battery_mwh, out=np.zeros_like(core.soc), where=m.battery_mwh > 0
            ),
            np.divide(core.debt, m.flex_mwh, out=np.zeros_like(core.debt), where=m.flex_mwh > 0),
            np.broadcast_to(m.battery_mwh / peak, core.soc.shape),
            np.broadcast_to(m.battery_mw / peak, core.soc.shape),
            np.broadcast_to(m.flex_mw / peak, core.soc.shape),
            core.last_saving / (peak * core.cfg.spot.price_cap_eur_per_mwh),
        ],
        axis=-1,
    )
    mem = np.concatenate(
        [
            np.broadcast_to(common[:, None, :], (E, core.N, common.shape[-1])),
            np.swapaxes(load_fc, 1, 2) / peak[:, None],
            np.swapaxes(ren_fc, 1, 2) / peak[:, None],
            own,
        ],
        axis=-1,
    )
    cfg = core.cfg
    cap = fleet.capacity_mw
    inc_own = np.stack(
        [
            np.broadcast_to(cap / cfg.background.peak_load_mw, (E, core.G)),
            np.broadcast_to(
                fleet.marginal_cost_eur_per_mwh / cfg.spot.price_cap_eur_per_mwh, (E, core.G)
            ),
            core.prev_dispatch / cap,
            core.system_rsi(t),
            core.cap_award_g / cap,
            np.broadcast_to(fleet.emission_t_per_mwh, (E, core.G)),
        ],
        axis=-1,
    )
    inc = np.concatenate(
        [np.broadcast_to(common[:, None, :], (E, core.G, common.shape[-1])), inc_own], axis=-1
    )
    return {
        "coalition": np.clip(coal, -OBS_BOUND, OBS_BOUND).astype(np.float32),
        "members": np.clip(mem, -OBS_BOUND, OBS_BOUND).astype(np.float32),
        "incumbents": np.clip(inc, -OBS_BOUND, OBS_BOUND).astype(np.float32),
    }


def state_size(core: MarketCore) -> int:
    """Length of the global state vector."""
    return sizes(core)["coalition"] + 3 * core.N + core.G


def state(
    core: MarketCore, obs: dict[str, NDArray[np.float32]] | None = None
) -> NDArray[np.float32]:
    """Global state for centralised critics, (E, S) float32: the coalition's observation,
    every member's state of charge share, flex debt share and next-hour net load
    forecast / peak, and every incumbent's last dispatch / capacity."""
    obs = observe(core) if obs is None else obs
    m = core.members
    member_obs = obs["members"]
    h = core.H
    base = 10 + 2 * h
    net_next = member_obs[:, :, base] - member_obs[:, :, base + h]
    s = np.concatenate(
        [
            obs["coalition"][:, 0],
            member_obs[:, :, base + 2 * h],
            member_obs[:, :, base + 2 * h + 1],
            net_next,
            (core.prev_dispatch / core.fleet.capacity_mw).astype(np.float32),
        ],
        axis=-1,
    )
    del m
    return np.clip(s, -OBS_BOUND, OBS_BOUND).astype(np.float32)
