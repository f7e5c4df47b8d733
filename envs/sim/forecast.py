"""The forecast model, stated once: what every forecast in the simulator is.

A forecast of an actual series ``x`` (load or renewables, MW) issued ``h`` hours ahead
is ``x * (1 + s_h * z)``: one standard-normal shock ``z`` per target hour (drawn at
reset, scaled by the scenario's ``forecast.*_error``, bounded below by -1 so forecasts
stay >= 0 for members), its size growing with lead time as ``s_h = sqrt((h + 1) / H)``
(see :class:`envs.config.scenario.ForecastConfig`). The members' observations use the
expanded form ``x + s_h * (x * z)`` on precomputed ``x * z`` (``envs.sim.kernel``), which
is the same model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from envs.sim.draw import Episode

F64 = NDArray[np.float64]

__all__ = ["capacity", "forecast_of", "lead_scale", "members_net", "system", "total_window",
           "window"]  # fmt: skip


def lead_scale(horizon_h: int, leads: int | None = None) -> F64:
    """``s_h`` for leads 0..``leads``-1 (default H), (leads,): the error's growth with lead
    time, held at 1 (the longest lead's) past the horizon."""
    lead = np.arange(horizon_h if leads is None else leads, dtype=np.float64)
    return np.sqrt(np.minimum((lead + 1.0) / horizon_h, 1.0))


def forecast_of(actual: F64, shock: F64, scale: F64 | float) -> F64:
    """Forecast ``actual * (1 + scale * shock)`` (shapes broadcast; MW in, MW out)."""
    return actual * (1.0 + scale * shock)


def window(actual: F64, shock: F64, lead: F64, t: int) -> F64:
    """Forecast of ``actual`` (E, T+H[, N]) for hours t..t+H-1, issued at t, under shocks
    ``shock`` (same shape) and lead scales ``lead`` (H,): (E, H[, N]) MW, >= 0."""
    horizon = lead.shape[0]
    actual_h = actual[:, t : t + horizon]
    scale = lead if actual_h.ndim == 2 else lead[:, None]
    return np.maximum(forecast_of(actual_h, shock[:, t : t + horizon], scale), 0.0)


def total_window(total: F64, total_err: F64, lead: F64, t: int) -> F64:
    """Forecast of a members' total for hours t..t+H-1, (E, H) MW: the sum of the members'
    own forecasts (actual + lead-scaled actual * error; ``total_err``: the sum of actual *
    error), from (E, T+H) totals."""
    horizon = lead.shape[0]
    return total[:, t : t + horizon] + lead * total_err[:, t : t + horizon]


def system(ep: Episode, lead0: float, t: int) -> tuple[F64, F64]:
    """Hour t's forecast background load and system renewables (>= 0), issued an hour
    ahead (lead scale ``lead0``), MW, (E,) each: what the reserve requirement and the
    incumbents' pivotal test are set on."""
    load = forecast_of(ep.sys_load[:, t], ep.z_sys_load[:, t], lead0)
    ren = forecast_of(ep.sys_ren[:, t], ep.z_sys_ren[:, t], lead0)
    return load, np.maximum(ren, 0.0)


def members_net(ep: Episode, lead0: float, t: int) -> F64:
    """Members' forecast net load for hour t before batteries, MW (E, N)."""
    load = forecast_of(ep.load[:, t], ep.z_load[:, t], lead0)
    ren = forecast_of(ep.ren[:, t], ep.z_ren[:, t], lead0)
    return np.maximum(load, 0.0) - np.maximum(ren, 0.0)


def capacity(
    ep: Episode, horizon_h: int, start: int, stop: int, reserve_margin: float
) -> tuple[F64, F64]:
    """Reliability requirement of a capacity auction delivering in hours ``[start, stop)``
    and the coalition's obligation, (E,) accredited MW each, forecast at ``start``.

    Requirement = (1 + reserve margin) * the forecast *coincident* peak over the delivery
    hours of background load plus the members' load net of their own PV and wind (PJM RPM:
    the pool's coincident peak forecast times its Forecast Pool Requirement;
    behind-the-meter generation nets load as in PJM's load forecast). Obligation =
    (1 + reserve margin) * the members' net load in that peak hour (their peak load
    contribution), >= 0. Leads past the horizon take the longest lead's error.
    """
    scale = lead_scale(horizon_h, stop - start)
    hours = slice(start, stop)
    load = forecast_of(ep.sys_load[:, hours], ep.z_sys_load[:, hours], scale)
    background = np.maximum(load, 0.0)
    # The members' totals as the sum of their own forecasts (total_window's model).
    own_load = ep.total_load[:, hours] + scale * ep.total_load_err[:, hours]
    own_ren = ep.total_ren[:, hours] + scale * ep.total_ren_err[:, hours]
    members = own_load - own_ren
    peak_hour = np.argmax(background + members, axis=1)  # (E,)
    rows = np.arange(members.shape[0])
    margin = 1.0 + reserve_margin
    requirement = margin * (background + members)[rows, peak_hour]
    return np.maximum(requirement, 0.0), margin * np.maximum(members[rows, peak_hour], 0.0)
