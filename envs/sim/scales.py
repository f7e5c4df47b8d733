"""The scales of the observations (:mod:`envs.sim.observe`) and of the forecasts' error
growth with lead (:mod:`envs.sim.forecast`), built once per scenario.

Each observation scale keeps the fixed scale the shipped policies were trained on wherever
that keeps the feature inside the observation Box, and grows with the scenario only where it
would not (a member whose PV dwarfs its load, a system with 1 MW of load and 10 GW of wind, a
price floor deeper than the cap), so the default scenarios' observations are unchanged.

Dims: N members, H forecast hours.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from envs.actors.members import MemberArrays
from envs.config.scenario import ScenarioConfig
from envs.sim.forecast import lead_scale

F64 = NDArray[np.float64]


class Scales(NamedTuple):
    """Reciprocals, scales and static member features the observations divide by or copy
    (0 where a member has no such device)."""

    lead_scale: F64  # (H,) the forecast error's growth with lead (envs.sim.forecast)
    lead_scale32: NDArray[np.float32]  # (H,) the same in float32 (the members' kernel)
    inv_battery_mwh: F64  # (N,) 1 / MWh
    inv_flex_mwh: F64  # (N,) 1 / MWh
    inv_peak: F64  # (N,) 1 / MW of each member's peak load
    #: EUR/MWh dividing prices, marginal costs and savings: the larger price limit.
    price_eur_per_mwh: float
    #: MW dividing the system load and renewables forecasts.
    system_mw: float
    #: MW dividing the members' total load and renewables forecasts.
    members_mw: float
    #: (N,) 1 / MW dividing each member's net-load forecast: its peak until its renewables
    #: exceed 4x the peak (a net export of 4x peak plus forecast error stays in the Box).
    inv_net_mw: F64
    #: (N, 3) battery MWh, battery MW and flex MW, each / the member's peak load.
    member_static: F64

    @classmethod
    def of(cls, cfg: ScenarioConfig, m: MemberArrays) -> Scales:
        """The scales of scenario ``cfg`` with members ``m``."""
        sp, bg, n = cfg.spot, cfg.background, len(m.peak_load_mw)
        lead = lead_scale(cfg.forecast.horizon_h)
        return cls(
            lead_scale=lead,
            lead_scale32=lead.astype(np.float32),
            inv_battery_mwh=np.divide(1.0, m.battery_mwh, out=np.zeros(n), where=m.battery_mwh > 0),
            inv_flex_mwh=np.divide(1.0, m.flex_mwh, out=np.zeros(n), where=m.flex_mwh > 0),
            inv_peak=1.0 / m.peak_load_mw,
            price_eur_per_mwh=max(sp.price_cap_eur_per_mwh, -sp.price_floor_eur_per_mwh),
            system_mw=max(bg.peak_load_mw, bg.solar_mw + bg.wind_mw),
            members_mw=float(max(m.peak_load_mw.sum(), (m.pv_mw + m.wind_mw).sum())),
            inv_net_mw=1.0 / np.maximum(m.peak_load_mw, (m.pv_mw + m.wind_mw) / 4.0),
            member_static=np.stack(
                [
                    m.battery_mwh / m.peak_load_mw,
                    m.battery_mw / m.peak_load_mw,
                    m.flex_mw / m.peak_load_mw,
                ],
                axis=-1,
            ),
        )
