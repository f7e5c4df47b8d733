"""The simplest baselines: random actions and the rule-based coalition.

:class:`RulePolicy` (issue 3): members run their batteries for self-consumption on
their own forecast of this hour; the coalition bids the members' forecast net position
after those batteries at a reference price (price-taking by default: buy at the cap,
sell at the floor) and offers no reserve or capacity. It reads only observations,
plus static scenario constants (peak loads, action scales) at reset.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.base import MarketPolicy
from envs.actors.coalition import price_entry, spot_entries
from envs.adapters.parallel import COALITION_ID
from envs.sim import observe as ob

__all__ = ["RandomPolicy", "RulePolicy"]


class RandomPolicy(MarketPolicy):
    """Uniform random actions in each agent's box, from a seeded Generator."""

    groups = ("coalition", "members", "incumbents")

    def act(self, observations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """A uniform draw in each controlled agent's action box."""
        out = {}
        for a in self.controls:
            if a in observations:
                space = self.env.action_space(a)
                out[a] = self.rng.uniform(space.low, space.high).astype(space.dtype)
        return out


class RulePolicy(MarketPolicy):
    """Self-consumption batteries and a price-taking coalition bid.

    Args:
        controls: agent ids (default: the coalition and every member agent).
        limit_price_eur_per_mwh: the coalition's limit price; ``None`` = price-taker.
    """

    def __init__(
        self, controls: list[str] | None = None, limit_price_eur_per_mwh: float | None = None
    ):
        super().__init__(controls)
        self.limit_price = limit_price_eur_per_mwh

    def reset(self, env: Any, seed: int | None = None) -> None:
        """Read static scales: peak loads, the coalition's quantity scale, the price map."""
        super().reset(env, seed)
        core = self.env.core
        self.at = ob.index(core.H)
        self.peak = core.members.peak_load_mw
        self.peak_total = float(self.peak.sum())
        self.q_max = core.q_max_mw
        self.drives_members = core.layout.drives_members
        sp = core.cfg.spot
        self.floor, self.cap = sp.price_floor_eur_per_mwh, sp.price_cap_eur_per_mwh
        self.n_coalition = core.layout.coalition
        self.member_ids = self.env.agent_groups.get("members", [])
        self.eta = core.members.eta  # static: sqrt of round-trip efficiency

    def act(self, observations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Members first (self-consumption), then the coalition bids what remains."""
        am, out = self.at["members"], {}
        net_mw = 0.0
        for i, a in enumerate(self.member_ids):
            o = observations.get(a)
            if o is None:
                continue
            # Everything in units of the member's own peak load (MW / MW).
            net = float(o[am["net_fc"]])
            power, energy = float(o[am["battery_mw"]]), float(o[am["battery_mwh"]])
            stored = float(o[am["soc"]]) * energy
            charge = min(power, (energy - stored) / self.eta[i])
            discharge = min(power, stored * self.eta[i])
            target = float(np.clip(-net, -discharge, charge))
            batt = 0.0 if power <= 0 else target / power
            if a in self.controls:
                out[a] = np.array([batt, 0.0], dtype=np.float32)
            net_mw += (net + batt * power) * self.peak[i]
        if COALITION_ID in self.controls and COALITION_ID in observations:
            o = observations[COALITION_ID]
            if not self.member_ids:  # members driven by the coalition: use its totals
                ac = self.at["coalition"]
                net_mw = float(o[ac["load_fc"]] - o[ac["renewables_fc"]]) * self.peak_total
            act = -np.ones(self.n_coalition, dtype=np.float32)
            act[0], act[1] = spot_entries(net_mw, self.q_max)
            if self.limit_price is not None:
                act[1] = price_entry(self.limit_price, self.floor, self.cap)
            if self.drives_members:
                act[-2:] = 0.0
            out[COALITION_ID] = act
        return out
