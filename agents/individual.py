"""The individual-actor baseline: every member optimises alone against the retail tariff.

Each member runs its own small MPC over the next H hours (its battery and flexible
load, from its own forecast), minimising its retail bill: imports at the retail price
(energy + network + taxes, time-of-use where the scenario says so) and exports at the
feed-in tariff. Stronger than the counterfactual's plain self-consumption rule. The
members' problems are independent, so they are solved as one block-diagonal LP (the
:class:`agents.mpc.CoalitionLP` with the coalition's price set to the feed-in tariff and
the import charge to retail minus feed-in: for a member with net ``y`` and import
``m >= y``, ``retail*m - feed_in*(m - y) = (retail - feed_in)*m + feed_in*y``).
The coalition, which still exists in the env, bids the members' planned net position as
a price-taker.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.base import MarketPolicy
from agents.mpc import CoalitionLP, plan_actions
from envs.sim import observe as ob

__all__ = ["IndividualPolicy"]


class IndividualPolicy(MarketPolicy):
    """Members minimise their own retail bills; the coalition follows as a price-taker.

    Args:
        horizon_h: each member's planning horizon.
        controls: agent ids (default: the coalition and every member).
    """

    def __init__(self, horizon_h: int = 24, controls: list[str] | None = None) -> None:
        super().__init__(controls)
        self.horizon_h = horizon_h

    def reset(self, env: Any, seed: int | None = None) -> None:
        """Read static constants (tariff, members) and build the LP once."""
        super().reset(env, seed)
        core = self.env.core
        if "members" not in self.env.agent_groups:
            raise ValueError("IndividualPolicy needs members as agents (members.agents: true)")
        if not 1 <= self.horizon_h <= core.dims.H:
            raise ValueError(f"horizon_h={self.horizon_h}; expected 1..{core.dims.H}")
        m, tf = core.members, core.cfg.tariff
        self.m, self.at, self.q_max = m, ob.index(core.dims.H), core.coalition.q_max_mw
        self.retail = core.tariff.retail_by_hour  # (24,) EUR/MWh, the counterfactual's tariff
        self.feed_in = tf.feed_in_eur_per_mwh
        self.layout = core.layout
        self.member_ids = self.env.agent_groups["members"]
        self.lp = CoalitionLP(
            m.battery_mw, m.battery_mwh, m.eta, m.flex_mw, m.flex_mwh, horizon_h=self.horizon_h,
            q_max_mw=core.coalition.q_max_mw, import_charge_eur_per_mwh=0.0, reserve=False,
        )  # fmt: skip

    def act(self, observations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Each member's first planned hour; the coalition bids the resulting net."""
        if not all(a in observations for a in self.member_ids):
            return {}
        m, am, h = self.m, self.at["members"], self.horizon_h
        obs_m = np.stack([observations[a] for a in self.member_ids]).astype(np.float64)
        hour = ob.hour_of_day(obs_m[0])
        hours = (hour + np.arange(h)) % 24
        net = obs_m[:, am["net_fc"] : am["net_fc"] + h] * m.peak_load_mw[:, None]
        sol = self.lp.solve(
            net, obs_m[:, am["soc"]] * m.battery_mwh, obs_m[:, am["flex_debt"]] * m.flex_mwh,
            np.full(h, self.feed_in), 0.0, hours == 23,
            import_charge=self.retail[hours] - self.feed_in,
        )  # fmt: skip
        out = plan_actions(sol, 0, self.member_ids, m, self.q_max, self.layout)
        return {a: v for a, v in out.items() if a in self.controls}
