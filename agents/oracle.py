"""Perfect-foresight oracle: the MPC's LP solved once over the whole episode.

The documented exception to "policies read only what their agents observe": at reset
the oracle reads the episode's actual loads and renewables from the simulator and the
prices it will face, and plans every hour at once (price-taking). Prices come from a
rehearsal: a copy of the env is run with the oracle's previous plan (the rule baseline
first) and its clearing prices are kept; ``rehearsals`` rounds of this settle the plan
against the prices its own bids produce. Each plan is then valued at the prices it
really clears at and the cheapest is played. Its ``objective_eur`` (EUR) is valued at
those prices: without reserve activations (``spot_v0``) it equals the coalition's spot,
network and imbalance cash in the ledger plus the LP's throughput cost. With perfect
foresight of net loads the plan has no imbalance; it is an upper bound for the
leaderboard, not a feasible controller. The plan is open loop: after a reserve
activation drains batteries below the plan, the env projects its set-points onto the
limits (counted in ``infos["n_projected"]``).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from agents.base import MarketPolicy
from agents.mpc import CoalitionLP, plan_actions
from agents.simple import RulePolicy

__all__ = ["OraclePolicy"]


class OraclePolicy(MarketPolicy):
    """Plan the whole episode with perfect foresight (controls the coalition and members).

    Args:
        rehearsals: rounds of planning against the prices the previous plan produced (each
            round and the final valuation run one copy of the episode).
        capacity_share: share of firm capacity offered in capacity auctions (at 0 EUR/MW-day).
        controls: agent ids (default: the coalition and every member).
    """

    def __init__(self, rehearsals: int = 2, capacity_share: float = 1.0,
                 controls: list[str] | None = None) -> None:  # fmt: skip
        super().__init__(controls)
        if rehearsals < 1:
            raise ValueError(f"rehearsals={rehearsals}; expected at least 1")
        self.rehearsals = rehearsals
        self.capacity_share = capacity_share

    def reset(self, env: Any, seed: int | None = None) -> None:
        """Read the episode from the simulator and plan it (call after ``env.reset``)."""
        super().reset(env, seed)
        core = self.env.core
        if "members" not in self.env.agent_groups:
            raise ValueError("OraclePolicy needs members as agents (members.agents: true)")
        if core.t != 0:
            raise ValueError("OraclePolicy.reset must follow env.reset (the episode has started)")
        m, cfg, T = core.members, core.cfg, core.T
        charge = cfg.tariff.network_eur_per_mwh + cfg.tariff.taxes_eur_per_mwh
        self.lp = CoalitionLP(
            m.battery_mw, m.battery_mwh, m.eta, m.flex_mw, m.flex_mwh, horizon_h=T,
            q_max_mw=core.q_max_mw, import_charge_eur_per_mwh=charge, reserve=core.layout.reserve,
        )  # fmt: skip
        self.net = np.swapaxes(core.load[0, :T] - core.ren[0, :T], 0, 1)  # (N, T) actual
        ppa = core.ppa_mw[0, :T]
        self.net_position = self.net.sum(0) - ppa  # what the coalition must buy (MW)
        self.payback = np.arange(T) % 24 == 23
        self.member_ids = self.env.agent_groups["members"]
        self.layout = core.layout
        # Each round rehearses the previous plan (the rule first), which gives the prices
        # that plan really clears at, and plans again against them. Where the coalition
        # moves the price, a plan's own prices differ from those it was planned against,
        # so every plan is valued at its own rehearsed prices and the cheapest one is
        # played: ``objective_eur`` is then what the env's ledger will show, whichever of
        # the LP's equally cheap optima the solver returned.
        price, reserve_price = self._rehearse(RulePolicy(), seed)
        rounds = []
        for _ in range(self.rehearsals):
            self.plan = self.lp.solve(self.net, core.soc[0], core.debt[0], price, reserve_price,
                                      self.payback, terminal_value_share=0.0)  # fmt: skip
            planned = float(self.lp.h.getInfo().objective_function_value)
            # The prices this plan clears at: its value, and the next round's forecast.
            price, reserve_price = self._rehearse(_Replay(self), seed)
            cost = self.lp.objective_at(self.plan, price, reserve_price, 0.0)
            rounds.append((cost, planned, self.plan, price, reserve_price))
        best = min(rounds, key=lambda r: r[0])  # the first of equally cheap plans
        self.objective_eur, self.planned_objective_eur, self.plan = best[:3]
        self.price, self.reserve_price = best[3:]
        self.t = 0

    def _rehearse(self, policy: MarketPolicy, seed: int | None) -> tuple[np.ndarray, np.ndarray]:
        """Clearing prices of a copy of the env run with ``policy``."""
        twin = copy.deepcopy(self.env)
        obs = twin.observations()  # the episode as reset, not a new draw
        policy.reset(twin, seed)
        prices, reserve = [], []
        while twin.agents:
            # Agents the oracle does not control (e.g. incumbents that are agents) follow
            # their scripted behaviour, as they do when the leaderboard runs the episode.
            actions = {**twin.scripted_actions(), **policy.act(obs)}
            obs, _, _, _, infos = twin.step(actions)
            prices.append(infos["coalition"]["market"]["price_eur_per_mwh"])
            reserve.append(infos["coalition"]["market"]["reserve_price_eur_per_mw"])
        return np.asarray(prices), np.asarray(reserve)

    def actions_at(self, t: int) -> dict[str, np.ndarray]:
        """The plan's actions for hour t."""
        core = self.env.core
        return plan_actions(self.plan, t, self.member_ids, core.members, core.q_max_mw,
                            self.layout, self.capacity_share)  # fmt: skip

    def act(self, observations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The planned actions of the current hour."""
        planned = self.actions_at(self.t)
        out = {a: v for a, v in planned.items() if a in self.controls and a in observations}
        self.t += 1
        return out


class _Replay(MarketPolicy):
    """Replays an oracle's current plan in a rehearsal."""

    def __init__(self, oracle: OraclePolicy) -> None:
        super().__init__(None)
        self.oracle = oracle

    def reset(self, env: Any, seed: int | None = None) -> None:
        super().reset(env, seed)
        self.t = 0

    def act(self, observations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = self.oracle.actions_at(self.t)
        self.t += 1
        return out
