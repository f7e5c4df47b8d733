"""What :meth:`envs.sim.core.MarketCore.reset` draws: an episode's weather, loads, forecast
errors and Shapley permutations, as one record.

Dims: E envs, N members, T episode hours, H forecast hours (the profiles run to T + H: the
last hours are seen only in forecasts), R Shapley permutations.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from envs.actors.members import MemberArrays
from envs.config.scenario import ScenarioConfig
from envs.data.episode import episode_profiles
from envs.sim.records import Dims

F64 = NDArray[np.float64]
F32 = NDArray[np.float32]


class Episode(NamedTuple):
    """One episode's exogenous data, MW unless noted; forecast errors follow
    :mod:`envs.sim.forecast` (one shock per target hour, >= -1 for members)."""

    load: F64  # (E, T+H, N) members' load
    ren: F64  # (E, T+H, N) members' PV + wind
    sys_load: F64  # (E, T+H) background load
    sys_ren: F64  # (E, T+H) system renewables available
    ppa_mw: F64  # (E, T+H) the PPA's delivery (wind-shaped)
    z_load: F64  # (E, T+H, N) shocks of the members' load forecasts
    z_ren: F64  # (E, T+H, N) ... of their renewables forecasts
    z_sys_load: F64  # (E, T+H) ... of the background load forecast
    z_sys_ren: F64  # (E, T+H) ... of the system renewables (and the PPA's) forecast
    #: For observations: the members' net load (load - renewables) and its error term
    #: (actual * error), time-major float32 (T+H, E, N), so that an hour's forecast window
    #: is one contiguous block and a forecast costs one multiply-add (envs.sim.observe).
    net_tm: F32
    net_err_tm: F32
    #: The coalition's totals over members of load and renewables and their error terms.
    total_load: F64  # (E, T+H)
    total_load_err: F64  # (E, T+H)
    total_ren: F64  # (E, T+H)
    total_ren_err: F64  # (E, T+H)
    permutations: NDArray[np.int64]  # (R, N) member orders of the Shapley estimate


def _time_major(a: F64) -> F32:
    """(E, T+H, N) float64 -> contiguous (T+H, E, N) float32."""
    return np.ascontiguousarray(np.swapaxes(a, 0, 1), dtype=np.float32)


def draw_episode(
    cfg: ScenarioConfig, m: MemberArrays, dims: Dims, rng: np.random.Generator
) -> Episode:
    """Draw a new episode of ``dims.E`` envs from ``rng`` (profiles, then the forecast
    shocks, then the permutations: the order fixes a seed's episode)."""
    E, T, H, N = dims.E, dims.T, dims.H, dims.N
    # Realised peaks = the stated ones (envs.data.episode: PJM Manual 19's metered peak).
    prof = episode_profiles(cfg, m, rng, E)
    bg, fc = cfg.background, cfg.forecast
    load, ren = prof.load_mw, prof.pv_mw + prof.wind_mw
    # Forecast errors: one shock per target hour, scaled by lead time (see ForecastConfig).
    z_load = fc.load_error * rng.standard_normal((E, T + H, N))
    z_ren = fc.renewable_error * rng.standard_normal((E, T + H, N))
    z_sys_load = 0.5 * fc.load_error * rng.standard_normal((E, T + H))
    z_sys_ren = fc.renewable_error * rng.standard_normal((E, T + H))
    # Errors are bounded below by -100% so that load and renewable forecasts stay >= 0.
    np.maximum(z_load, -1.0, out=z_load)
    np.maximum(z_ren, -1.0, out=z_ren)
    load_err, ren_err = load * z_load, ren * z_ren
    n_perm = cfg.coalition.shapley_permutations
    return Episode(
        load=load,
        ren=ren,
        sys_load=prof.system_load_mw,
        sys_ren=bg.solar_mw * prof.solar_cf + bg.wind_mw * prof.wind_cf,
        ppa_mw=cfg.ppa.volume_mw * prof.wind_cf,
        z_load=z_load,
        z_ren=z_ren,
        z_sys_load=z_sys_load,
        z_sys_ren=z_sys_ren,
        net_tm=_time_major(load - ren),
        net_err_tm=_time_major(load_err - ren_err),
        total_load=load.sum(-1),
        total_load_err=load_err.sum(-1),
        total_ren=ren.sum(-1),
        total_ren_err=ren_err.sum(-1),
        permutations=np.argsort(rng.random((n_perm, N)), axis=-1),
    )
