"""Scripted default behaviour of every agent group, as normalised actions.

When an agent is not controlled by a policy (in :func:`envs.make_gym` or the SB3
adapter), it acts as the scenario says:

- members: the self-consumption rule on their own forecast of this hour (charge the
  battery from surplus, discharge to cover deficit), no load shifting;
- coalition: bids its members' forecast net position after those batteries as a
  price-taker (buy at the cap, sell at the floor), no reserve or capacity offers;
- incumbents: the scenario's scripted strategy (:func:`envs.actors.fleet.scripted_bids`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from envs.actors import fleet as fl
from envs.actors.coalition import spot_entries
from envs.actors.members import self_consumption_power
from envs.sim import forecast as fc

if TYPE_CHECKING:
    from envs.sim.core import MarketCore

F64 = NDArray[np.float64]


def member_forecast_net(core: MarketCore) -> F64:
    """Members' forecast net load for this hour before batteries, MW (E, N)."""
    return fc.members_net(core.episode, core.scales.lead_scale[0], core.t)


def member_actions(core: MarketCore) -> F64:
    """Self-consumption set-points as normalised actions, (E, N, 2)."""
    m = core.members
    power = self_consumption_power(member_forecast_net(core), core.state.soc_mwh, m)
    a_batt = np.divide(power, m.battery_mw, out=np.zeros_like(power), where=m.battery_mw > 0)
    return np.stack([a_batt, np.zeros_like(a_batt)], axis=-1)


def coalition_actions(core: MarketCore, members: F64 | None = None) -> F64:
    """Price-taking bid of the forecast net position, (E, A_coalition)."""
    m = core.members
    if core.layout.drives_members:
        # The coalition's drive below holds every battery and flex at 0, so it bids the
        # members' net load as it is (not as self-consumption batteries would leave it).
        members = np.zeros((core.dims.E, core.dims.N, 2))
    elif members is None:
        members = member_actions(core)
    net = member_forecast_net(core) + members[..., 0] * m.battery_mw + members[..., 1] * m.flex_mw
    # The PPA's wind-shaped delivery is already contracted; bid only the rest, at its
    # forecast (the system renewables' forecast shock: the same weather), not its outcome.
    ep, t = core.episode, core.t
    ppa_fc = fc.forecast_of(ep.ppa_mw[:, t], ep.z_sys_ren[:, t], core.scales.lead_scale[0])
    q = net.sum(-1) - np.maximum(ppa_fc, 0.0)
    act = -np.ones((core.dims.E, core.layout.coalition))  # no reserve or capacity offer
    act[:, 0], act[:, 1] = spot_entries(q, core.coalition.q_max_mw)
    if core.layout.drives_members:
        act[:, -2:] = 0.0
    return act


def incumbent_actions(core: MarketCore) -> F64:
    """The scripted strategy expressed in the controlled-incumbent action space, (E, G, A)."""
    lay, cfg = core.layout, core.cfg
    return fl.encode_bid_params(
        core.scripted_incumbent_bids(),
        cfg.fleet,
        reserve=lay.reserve,
        capacity=lay.capacity,
        capacity_cap_eur_per_mw_day=cfg.capacity.price_cap_eur_per_mw_day,
    )
