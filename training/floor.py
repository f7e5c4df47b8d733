"""``python -m training.floor``: a MAPPO iteration's wall time against its compute floor.

The floor of one training iteration is what no loop can avoid: the batched simulator
stepping the iteration's env steps, plus the same networks' arithmetic on the same
samples. Everything else an iteration spends (Python, copies, per-group calls, buffers,
scripted actions, normalisers, GAE, diagnostics) is above it. Measured in one process
for ``configs/training/mappo.yaml`` (E = ``env.num_envs``, ``days``-day episodes), each
repetition timing, one after the other (interleaved, so that the machine's load drifts
out of the ratio):

- ``iteration``: one training iteration as :func:`training.mappo_run.train_mappo` runs
  it (:func:`training.rollout.collect` of the iteration's scenario, then
  :meth:`training.mappo.MappoLearner.update`), with the rollout and the update timed
  apart; iteration ``k`` plays scenario ``k % len(env.scenarios)``, as a run does;
- ``sim``: the same scenario's batched env alone: ``reset`` and ``T = days * 24`` steps
  with one preallocated action batch (the scripted actions of hour 0) and the global
  ``state()`` the loop reads every hour;
- ``nets``: a copy of the learner's actors and critics (same sizes, same optimiser) on
  synthetic tensors of the rollout's shapes: ``T`` calls of ``act`` on (E, n, D) under
  ``torch.inference_mode``, then ``epochs x minibatches`` steps of the clipped-surrogate
  and value loss (without the diagnostics), ``backward``, the gradient-norm clip and
  Adam, on pre-sliced minibatches (no gathers).

Iteration 0 is a warm-up (numba's and torch's first calls) and is not counted. The
networks' copy samples on a forked torch RNG, so iteration ``k`` here is iteration ``k`` of
a run with the same config and seed (same draws, same returns).
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from agents.learned import GaussianActor, margin_statics
from training.common import seed_everything
from training.config import TrainConfig, load_config
from training.mappo import MappoLearner
from training.mappo_run import build
from training.rollout import collect, iteration_seed

__all__ = ["floor_config", "mappo_floor"]

#: Keys of :func:`mappo_floor`, all in milliseconds per iteration but the ratio.
KEYS = (
    "mappo_train_over_floor",
    "mappo_iteration_ms",
    "mappo_rollout_ms",
    "mappo_update_ms",
    "mappo_floor_ms_per_iter",
    "mappo_floor_sim_ms_per_iter",
    "mappo_floor_nets_ms_per_iter",
    "mappo_floor_nets_rollout_ms_per_iter",
    "mappo_floor_nets_update_ms_per_iter",
)


def floor_config(
    days: int = 7, sets: dict[str, Any] | None = None, name: str = "mappo"
) -> TrainConfig:
    """``configs/training/<name>.yaml`` with ``days``-day episodes, no warm start (MAPPO)
    and the dotted overrides ``sets`` (e.g. ``{"env.num_envs": 4}``)."""
    path = Path(__file__).resolve().parents[1] / "configs" / "training" / f"{name}.yaml"
    no_warm_start = {"mappo.imitate": ""} if name == "mappo" else {}
    return load_config(path, {"env.days": days, **no_warm_start, **(sets or {})})


class _Nets:
    """A copy of ``learner``'s networks and optimiser with synthetic tensors of one
    rollout's shapes (T hours, E envs); :meth:`run` does one iteration's arithmetic."""

    def __init__(self, learner: MappoLearner, T: int, E: int, state_dim: int) -> None:
        self.net = copy.deepcopy(learner)  # the learner's weights stay as training left them
        self.T, self.cfg = T, learner.cfg
        gen = torch.Generator().manual_seed(0)

        def randn(*shape: int) -> torch.Tensor:
            return torch.randn(*shape, generator=gen)

        self.step_obs = {g: randn(E, n, d) for g, (n, d, a) in self.net.groups.items()}
        self.step_state = randn(E, state_dim)
        size = T * E
        mb = max(1, size // self.cfg.minibatches)
        state = randn(size, state_dim)
        self.minibatches: list[tuple[torch.Tensor, dict[str, tuple[torch.Tensor, ...]]]] = []
        per_group = {}
        for g, (n, d, a) in self.net.groups.items():
            obs, act = randn(size, n, d), randn(size, n, a) * self.net.masks[g]
            with torch.inference_mode():  # a plausible logp_old keeps the ratios finite
                dist = cast(GaussianActor, self.net.actors[g]).dist(obs)
                logp = (dist.log_prob(act) * self.net.masks[g]).sum(-1)
            per_group[g] = (obs, act, logp.clone(), randn(size, n), randn(size, n), randn(size, n))
        for start in range(0, size, mb):
            part = {g: tuple(x[start : start + mb] for x in t) for g, t in per_group.items()}
            self.minibatches.append((state[start : start + mb], part))

    def rollout(self) -> None:
        """The rollout's forward passes: ``act`` once per hour on (E, n, D) per group."""
        with torch.inference_mode():
            for _ in range(self.T):
                self.net.act(self.step_obs, self.step_state)

    def update(self) -> None:
        """The update's epochs x minibatches of loss, backward, clip and Adam."""
        net, cfg = self.net, self.cfg
        params = list(net.actors.parameters()) + list(net.critics.parameters())
        for _ in range(cfg.epochs):
            for state, part in self.minibatches:
                loss = torch.zeros(())
                for g, (obs, act, logp_old, adv, ret, old_v) in part.items():
                    dist = cast(GaussianActor, net.actors[g]).dist(obs)
                    ratio = ((dist.log_prob(act) * net.masks[g]).sum(-1) - logp_old).exp()
                    clipped = ratio.clamp(1 - cfg.clip, 1 + cfg.clip)
                    pg = -torch.min(ratio * adv, clipped * adv).mean()
                    entropy = (dist.entropy() * net.masks[g]).sum(-1).mean()
                    v = net._values(g, obs, state, denorm=False)
                    v_loss = (v - ret) ** 2
                    if cfg.value_clip > 0:
                        v_c = old_v + (v - old_v).clamp(-cfg.value_clip, cfg.value_clip)
                        v_loss = torch.max(v_loss, (v_c - ret) ** 2)
                    loss = loss + pg - cfg.ent_coef * entropy + cfg.vf_coef * 0.5 * v_loss.mean()
                net.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
                net.optimizer.step()


def mappo_floor(
    repeats: int = 7, days: int = 7, sets: dict[str, Any] | None = None, profile: int = 0
) -> dict[str, float]:
    """One process's MAPPO iteration time over its compute floor (module docstring).

    Args:
        repeats: measured iterations (each followed by its sim and nets measurement), after
            one warm-up iteration; 7 plays each training scenario once.
        days: episode length, days.
        sets: dotted config overrides (tests shrink E and the scenarios with them).
        profile: if > 0, print the top ``profile`` functions of one more iteration by
            cumulative time (cProfile) to stderr; not part of the figures.

    Returns:
        :data:`KEYS`: ``mappo_train_over_floor`` (total iteration time over total floor
        time, dimensionless) and means over the repeats in ms per iteration: the
        iteration, its rollout and update, the floor and its parts (sim + nets = floor;
        nets = its rollout part + its update part).
    """
    if repeats < 1 or days < 1:
        raise ValueError(f"repeats={repeats}, days={days}; expected at least 1 each")
    cfg = floor_config(days, sets)
    seed_everything(cfg.seed, cfg.threads)
    venvs, learner, _ = build(cfg)
    statics = [margin_statics(v.core) for v in venvs]
    T, E = venvs[0].core.T, venvs[0].num_envs
    nets = _Nets(learner, T, E, venvs[0].state_size)
    fixed = []
    for v in venvs:
        v.reset(seed=0)
        fixed.append({g: np.array(a, dtype=np.float64) for g, a in v.scripted_actions().items()})

    def iteration(it: int) -> tuple[float, float]:
        """training.mappo_run.train_mappo's step: (rollout s, update s)."""
        venv = venvs[it % len(venvs)]
        learner.statics = statics[it % len(venvs)]
        scale = cfg.mappo.reward_scale * cfg.env.reward_weight(it)
        t0 = time.perf_counter()
        batches, states, _ = collect(venv, learner, iteration_seed(cfg.seed, it), scale)
        t1 = time.perf_counter()
        learner.update(batches, states)
        return t1 - t0, time.perf_counter() - t1

    def sim(it: int) -> float:
        """Seconds of the iteration's scenario stepping one episode with fixed actions."""
        venv, acts = venvs[it % len(venvs)], fixed[it % len(venvs)]
        t0 = time.perf_counter()
        venv.reset(seed=iteration_seed(cfg.seed, it))
        for _ in range(T):
            venv.step(acts)
            venv.state()
        return time.perf_counter() - t0

    def timed(fn: Any) -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    iteration(0)  # warm-up (numba's and torch's first calls), not counted
    sim(0)
    with torch.random.fork_rng(devices=[]):
        nets.rollout()
    nets.update()
    t = {k: 0.0 for k in ("rollout", "update", "sim", "nets_rollout", "nets_update")}
    for it in range(1, repeats + 1):
        roll, upd = iteration(it)
        t["rollout"] += roll
        t["update"] += upd
        t["sim"] += sim(it)
        with torch.random.fork_rng(devices=[]):  # the run's sampling stream stays its own
            t["nets_rollout"] += timed(nets.rollout)
        t["nets_update"] += timed(nets.update)
    if profile > 0:
        _profile(lambda: iteration(repeats + 1), profile)
    ms = {k: v * 1e3 / repeats for k, v in t.items()}
    nets_ms = ms["nets_rollout"] + ms["nets_update"]
    floor_ms = ms["sim"] + nets_ms
    iteration_ms = ms["rollout"] + ms["update"]
    return {
        "mappo_train_over_floor": iteration_ms / floor_ms,
        "mappo_iteration_ms": iteration_ms,
        "mappo_rollout_ms": ms["rollout"],
        "mappo_update_ms": ms["update"],
        "mappo_floor_ms_per_iter": floor_ms,
        "mappo_floor_sim_ms_per_iter": ms["sim"],
        "mappo_floor_nets_ms_per_iter": nets_ms,
        "mappo_floor_nets_rollout_ms_per_iter": ms["nets_rollout"],
        "mappo_floor_nets_update_ms_per_iter": ms["nets_update"],
    }


def _profile(fn: Any, top: int) -> None:
    """cProfile ``fn()`` and print its ``top`` functions by cumulative time to stderr."""
    import cProfile
    import pstats
    import sys

    prof = cProfile.Profile()
    prof.runcall(fn)
    pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    """CLI: print :func:`mappo_floor`'s figures as one JSON object."""
    p = argparse.ArgumentParser(prog="python -m training.floor",
                                description=__doc__.splitlines()[0])  # fmt: skip
    p.add_argument("--repeats", type=int, default=7,
                   help="measured iterations after a warm-up one (default 7)")  # fmt: skip
    p.add_argument("--days", type=int, default=7, help="episode length, days (default 7)")
    p.add_argument("--profile", type=int, default=0, metavar="N",
                   help="also cProfile one more iteration: top N by cumulative time, "
                   "to stderr")  # fmt: skip
    args = p.parse_args(argv)
    if args.repeats < 1 or args.days < 1:
        p.error("--repeats and --days must be at least 1")
    print(json.dumps(mappo_floor(args.repeats, args.days, profile=args.profile)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
