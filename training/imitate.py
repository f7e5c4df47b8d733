"""Behaviour-cloning warm start of the members' actor from a teacher policy.

MAPPO from scratch learns to charge the members' batteries at night only partly: the
exploration it needs to find a full daily cycle (charge ~24 MWh before the morning peak,
as the MPC does) collapses before it pays (the members' log-std falls from -1.5 to -3
within 3M steps). Demonstrations fix the start point instead: the teacher (``mpc``
by default) plays whole episodes of the training scenarios, and the members' actor is
fitted by least squares to the residual the teacher's set-points make over the
self-consumption rule, from the members' own observations only (behaviour
cloning as the warm start of DAPG, Rajeswaran et al. 2018, and of AlphaStar). PPO then
improves on it. The coalition's actor is not cloned (its capacity offers already beat
the MPC's).

Dims: K demonstration hours (episodes x hours), N members, D observation features.
Seeds: teacher episodes reset with SeedSequence draws of (run seed, "imitate"), far
from the evaluation seeds (1000-1004).
"""

from __future__ import annotations

import time
from typing import Any, cast

import numpy as np
import torch
from tqdm.auto import tqdm

import agents
import envs
from agents.learned import GaussianActor, margin_statics
from agents.simple import RulePolicy
from training.config import TrainConfig
from training.mappo import MappoLearner

__all__ = ["collect_demonstrations", "describe", "warm_start"]

#: Tag of the SeedSequence that draws the teachers' reset seeds.
_SEED_TAG = 0x1317


def collect_demonstrations(
    cfg: TrainConfig, teacher: str, episodes: int, progress: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Members' observations and the residual targets of ``teacher``'s set-points.

    Runs ``episodes`` episodes of each training scenario (``cfg.env``, parallel env) with
    ``teacher`` acting for every agent it controls.

    Returns:
        (observations (K, N, D) float32, targets (K, N, 2) = teacher's member actions
        minus the rule's on the same observations, and the scenario's
        :func:`agents.learned.margin_statics` of each row, (K, 1, 3)).

    Raises:
        ValueError: the teacher sends no member actions (it cannot be imitated).
    """
    spec = cfg.env
    seeds = np.random.SeedSequence([cfg.seed, _SEED_TAG]).generate_state(
        episodes * len(spec.scenarios), np.uint32
    )
    obs_rows, targets, statics = [], [], []
    bar = tqdm(total=len(seeds), desc=f"imitate: {teacher} episodes", disable=not progress)
    for k, scenario in enumerate(spec.scenarios):
        env = envs.make(spec.env_id, scenario=scenario, days=spec.days,
                        overrides=spec.overrides_for(scenario))  # fmt: skip
        static = margin_statics(env.core)[None]  # the scenario's, the same every hour
        for j in range(episodes):
            seed = int(seeds[k * episodes + j]) + 1_000_000  # far from evaluation seeds
            obs, _ = env.reset(seed=seed)
            pol, rule = agents.load(teacher), RulePolicy()
            pol.reset(env, seed=seed)
            rule.reset(env, seed=seed)
            ids = env.agent_groups["members"]
            while env.agents:
                act, base = pol.act(obs), rule.act(obs)
                if ids[0] not in act:
                    raise ValueError(f"mappo.imitate={teacher!r} sends no member actions")
                obs_rows.append(np.stack([obs[a] for a in ids]))
                targets.append(np.stack([act[a] - base[a] for a in ids]))
                statics.append(static)
                obs, *_ = env.step(act)
            bar.update()
    bar.close()
    return (np.asarray(obs_rows, np.float32), np.asarray(targets, np.float32),
            np.asarray(statics))  # fmt: skip


def warm_start(cfg: TrainConfig, learner: MappoLearner, progress: bool = False) -> dict[str, float]:
    """Fit the members' actor mean to ``cfg.mappo.imitate``'s demonstrations.

    The members' observation statistics are updated with the demonstrations first (as
    rollouts would), then the actor's mean is fitted by Adam on the squared error over
    ``imitate_epochs`` passes of 4096-row minibatches; the log-std is left as
    configured. Draws come from torch's and numpy's seeded generators (reproducible).

    Returns:
        ``imitate/loss`` (last epoch's mean squared error), ``imitate/loss_rule``
        (the error of the unchanged rule, for scale), ``imitate/hours``, ``imitate/seconds``.
    """
    m = cfg.mappo
    t0 = time.perf_counter()
    obs, target, learner.statics = collect_demonstrations(cfg, m.imitate, m.imitate_episodes,
                                                          progress)  # fmt: skip
    x = torch.from_numpy(learner.normalize_obs("members", obs, update=True)).to(learner.device)
    y = torch.from_numpy(target).to(learner.device).reshape(-1, target.shape[-1])
    x = x.reshape(-1, x.shape[-1])
    actor = cast(GaussianActor, learner.actors["members"])
    opt = torch.optim.Adam(actor.net.parameters(), lr=1e-3)
    size, batch = x.shape[0], 4096
    loss_epoch = float("nan")
    for _ in range(m.imitate_epochs):
        perm, total = torch.randperm(size), 0.0
        for start in range(0, size, batch):
            idx = perm[start : start + batch]
            loss = ((actor(x[idx]) - y[idx]) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        loss_epoch = total / size
    return {
        "imitate/loss": loss_epoch,
        "imitate/loss_rule": float((y**2).mean()),
        "imitate/hours": float(obs.shape[0]),
        "imitate/seconds": time.perf_counter() - t0,
    }


def describe(stats: dict[str, Any]) -> str:
    """One line for the log."""
    return (f"imitate: {stats['imitate/hours']:.0f} teacher hours, squared error "
            f"{stats['imitate/loss']:.4f} (rule {stats['imitate/loss_rule']:.4f}), "
            f"{stats['imitate/seconds']:.0f} s")  # fmt: skip
