"""Whole-episode rollouts of the batched env for MAPPO/IPPO.

Dims: T hours per episode, E envs, n agents of a group, D features, A action entries.

Every rollout is one whole episode of all E envs (they end together), reset with a
seed derived from (run seed, iteration) by ``np.random.SeedSequence``; so iteration
``i`` sees the same market draws whether or not the run was interrupted, which is
what makes ``--resume`` reproduce an uninterrupted run.

Groups outside ``learn_groups`` follow their scripted actions (:mod:`envs.sim.scripted`).
With ``residual`` the env action is ``clip(scripted + raw, -1, 1)``; learned member
set-points are projected onto their limits and the coalition's scripted bid is
recomputed on them (what :class:`agents.learned.LearnedPolicy` does from observations).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from agents.learned import feasible_set_points, reserve_headroom
from envs.actors.coalition import reserve_entry, spot_entries
from envs.sim import scripted
from training.common import slots_of
from training.logger import MarketStats
from training.mappo import GroupBatch, MappoLearner

__all__ = ["collect", "iteration_seed"]


def iteration_seed(run_seed: int, iteration: int) -> int:
    """Reset seed of iteration ``iteration``: a 63-bit draw of SeedSequence((seed, it)), far
    from the small integers evaluation uses (seeds >= 1000 passed to the parallel env)."""
    state = np.random.SeedSequence([int(run_seed), int(iteration)]).generate_state(2, np.uint32)
    return int(state[0]) << 31 | int(state[1]) >> 1


def env_actions(
    venv: Any, raw: dict[str, np.ndarray], residual: bool, reserve_base: str = "none"
) -> dict[str, np.ndarray]:
    """Env actions by group from the learning groups' raw actions (E, n, A).

    Scripted groups get their scripted action; learning groups ``clip(raw)`` or, with
    ``residual``, ``clip(scripted + raw)``. Learned member set-points are then made
    feasible as the env would project them, and the coalition's residual base is the
    price-taking bid of the members' forecast net position after those set-points and,
    with ``reserve_base="headroom"``, an offer of their reserve headroom at 0 EUR/MW
    (what :class:`agents.learned.LearnedPolicy` computes from observations).
    """
    core = venv.core
    base = venv.scripted_actions()
    acts: dict[str, np.ndarray] = {}
    net_mw = head_mw = None
    for g in ("members", "incumbents"):
        if g in base:
            if g not in raw:
                acts[g] = base[g]
            else:
                acts[g] = np.clip(base[g] + raw[g] if residual else raw[g], -1.0, 1.0)
    if "members" in raw:
        batt, flex, acts["members"] = feasible_set_points(
            acts["members"],
            core.state.soc_mwh,
            core.state.debt_mwh,
            core.t % 24 == 23,
            core.members,
        )
        net = scripted.member_forecast_net(core) + batt + flex
        net_mw = net.sum(-1) - core.episode.ppa_mw[:, core.t]  # the PPA's delivery is contracted
        if reserve_base == "headroom":
            head_mw = reserve_headroom(batt, core.state.soc_mwh, core.members)
    if "coalition" in raw:
        b = base["coalition"].copy()
        if net_mw is not None:
            b[:, 0, 0], b[:, 0, 1] = spot_entries(net_mw, core.coalition.q_max_mw)
        if head_mw is not None and core.layout.reserve:
            b[:, 0, slots_of(venv).index("r")] = reserve_entry(head_mw, core.members.battery_mw)
        c = raw["coalition"]
        acts["coalition"] = np.clip(b + c if residual else c, -1.0, 1.0)
    else:
        acts["coalition"] = base["coalition"]
    return acts


def collect(
    venv: Any, learner: MappoLearner, seed: int, reward_scale: float
) -> tuple[dict[str, GroupBatch], torch.Tensor, dict[str, float]]:
    """Roll out one whole episode of every env.

    Args:
        venv: a :class:`envs.adapters.vector.VectorMarketEnv`.
        learner: acts for its groups (and updates its observation statistics).
        seed: reset seed of this rollout.
        reward_scale: multiplies rewards (EUR/h) before they are stored.

    Returns:
        (batches by learning group, normalised states (T, E, S), episode scalars:
        ``charts/episodic_return/<group>`` in EUR per agent, ``charts/episodic_length``
        and ``market/*``).
    """
    groups, dev = learner.groups, learner.device
    obs, _ = venv.reset(seed=seed)
    E, T = venv.num_envs, venv.core.dims.T
    buf = {g: GroupBatch.empty(T, E, n, learner.shared[g], d, a, dev)
           for g, (n, d, a) in groups.items()}  # fmt: skip
    states = torch.zeros((T, E, venv.state_size), dtype=torch.float32, device=dev)
    returns = {g: np.zeros((E, len(ids))) for g, ids in venv.agent_groups.items()}
    market = MarketStats()
    for t in range(T):
        for g, b in buf.items():
            common, own = learner.prepare(g, obs[g], update=True)
            b.common[t].copy_(torch.from_numpy(common))
            b.own[t].copy_(torch.from_numpy(own))
        states[t].copy_(torch.from_numpy(learner.normalize_state(venv.state(), update=True)))
        out = learner.act({g: (b.common[t], b.own[t]) for g, b in buf.items()}, states[t])
        raw = {g: out[g][0].cpu().numpy().astype(np.float64) for g in groups}
        acts = env_actions(venv, raw, learner.cfg.residual, learner.cfg.reserve_base)
        obs, rewards, term, trunc, info = venv.step(acts)
        if (term | trunc).any() != (t == T - 1):
            raise RuntimeError(f"episode ended at hour {t}, expected after {T} hours")
        for g, b in buf.items():
            for dst, src in zip((b.actions, b.logp, b.values), out[g], strict=True):
                dst[t].copy_(src)
            b.rewards[t].copy_(torch.from_numpy(rewards[g] * reward_scale))
        for g in returns:
            returns[g] += rewards[g]
        market.add(info)
    for b in buf.values():
        b.dones[T - 1] = 1.0  # rollouts are whole episodes
    scalars = {f"charts/episodic_return/{g}": float(r.mean()) for g, r in returns.items()}
    scalars["charts/episodic_length"] = float(T)
    scalars.update(market.scalars())
    return buf, states, scalars
