"""A scenario's episode profiles, with the realised peaks equal to the stated ones.

:func:`envs.data.profiles.make_profiles` draws shapes: its ``peak_load_mw`` arguments are
the peaks of the weather-neutral shapes, and weather (heating and cooling degrees) and
noise lift the realised hours above them (by 10-30 % over a week: an April week of the
``default`` scenario peaked at 870-900 MW against its 800 MW). A market's planning
documents state the realised peak instead: PJM's load forecast report gives the
seasonal peak of metered hourly load (PJM Manual 19 §3), the number the capacity
requirement is built on. So a scenario's stated peaks mean the realised ones here:

- ``background.peak_load_mw`` is the largest hourly background load (outside the
  coalition) of the episode's ``T`` hours, weather and noise included;
- each member's ``peak_load_mw`` (persona size times scales) is the largest hourly load of
  that member over the same hours.

:func:`episode_profiles` draws the shapes and scales each series by one factor (per env
and member) so that its maximum over the episode's hours equals the stated peak; the
forecast tail (hours ``T`` to ``T + H``, seen only in forecasts) takes the same factor and
may exceed it. Weather then changes the shape of a week (when it peaks, how flat it is),
not its peak: a scenario states its own week's peak. The system peak (background plus
members, coincident) lies between ``background.peak_load_mw`` and that plus the sum of
the members' peaks (members peak at different hours).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from envs.data.profiles import Profiles, make_profiles

if TYPE_CHECKING:
    from envs.actors.members import MemberArrays
    from envs.config.scenario import ScenarioConfig

__all__ = ["episode_profiles", "scale_to_peak"]

F64 = NDArray[np.float64]


def scale_to_peak(series: F64, peak_mw: F64 | float, hours: int) -> F64:
    """``series`` scaled along axis 1 so that its maximum over hours ``[0, hours)`` is ``peak_mw``.

    Args:
        series: (E, T') or (E, T', N) load, MW, >= 0.
        peak_mw: the stated peak, MW, a scalar or (N,) for (E, T', N) series.
        hours: the episode's hours T <= T' over which the peak is taken.

    Returns:
        Same shape as ``series``, MW; a series that is 0 over the window stays 0.

    Examples:
        >>> scale_to_peak(np.array([[1.0, 2.0, 4.0]]), 10.0, 2).tolist()
        [[5.0, 10.0, 20.0]]
    """
    realised = series[:, :hours].max(axis=1, keepdims=True)
    factor = np.divide(peak_mw, realised, out=np.zeros_like(realised), where=realised > 0.0)
    return series * factor


def episode_profiles(
    cfg: ScenarioConfig, members: MemberArrays, rng: np.random.Generator, num_envs: int
) -> Profiles:
    """A scenario's profiles for ``T + H`` hours, realised peaks as stated (module docstring).

    Args:
        cfg: the scenario (its calendar, weather, background and forecast horizon).
        members: the coalition's members (sectors, peaks, PV and wind capacities).
        rng: the only source of randomness (the draws of :func:`make_profiles`, unchanged).
        num_envs: E >= 1.

    Returns:
        :class:`Profiles` of E envs, ``T + H`` hours and N members; ``system_load_mw`` peaks
        at ``background.peak_load_mw`` and ``load_mw[..., i]`` at ``members.peak_load_mw[i]``
        over the first T hours of each env.
    """
    hours = cfg.hours
    prof = make_profiles(
        rng,
        cfg.weather,
        num_envs=num_envs,
        hours=hours + cfg.forecast.horizon_h,
        start_hour_of_year=(cfg.start_day_of_year - 1) * 24,
        sector_idx=members.sector_idx,
        peak_load_mw=members.peak_load_mw,
        pv_mw=members.pv_mw,
        wind_mw=members.wind_mw,
        system_peak_load_mw=cfg.background.peak_load_mw,
    )
    return replace(
        prof,
        load_mw=scale_to_peak(prof.load_mw, members.peak_load_mw, hours),
        system_load_mw=scale_to_peak(prof.system_load_mw, cfg.background.peak_load_mw, hours),
    )
