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

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]

__all__ = ["forecast_of", "lead_scale"]


def lead_scale(horizon_h: int, leads: int | None = None) -> F64:
    """``s_h`` for leads 0..``leads``-1 (default H), (leads,): the error's growth with lead
    time, held at 1 (the longest lead's) past the horizon."""
    lead = np.arange(horizon_h if leads is None else leads, dtype=np.float64)
    return np.sqrt(np.minimum((lead + 1.0) / horizon_h, 1.0))


def forecast_of(actual: F64, shock: F64, scale: F64 | float) -> F64:
    """Forecast ``actual * (1 + scale * shock)`` (shapes broadcast; MW in, MW out)."""
    return actual * (1.0 + scale * shock)
