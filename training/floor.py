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
  ``torch.inference_mode``, then ``epochs x minibatches`` steps of the learner's own
  clipped-surrogate and value loss, ``backward``, the gradient-norm clip and Adam, on
  pre-sliced minibatches (no gathers).

Iteration 0 is a warm-up (numba's and torch's first calls) and is not counted. The
networks' copy samples on a forked torch RNG, so iteration ``k`` here is iteration ``k`` of
a run with the same config and seed (same draws, same returns).
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from collections.abc import Callable
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

__all__ = ["fixed_actions", "floor_config", "interleaved", "mappo_floor", "sim_episode"]

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

        shared = self.net.shared
        self.step_obs = {g: (randn(E, shared[g]), randn(E, n, d - shared[g]))
                         for g, (n, d, a) in self.net.groups.items()}  # fmt: skip
        self.step_state = randn(E, state_dim)
        size = T * E
        mb = max(1, size // self.cfg.minibatches)
        state = randn(size, state_dim)
        self.minibatches: list[tuple[torch.Tensor, dict[str, tuple[torch.Tensor, ...]]]] = []
        per_group = {}
        for g, (n, d, a) in self.net.groups.items():
            common, own = randn(size, shared[g]), randn(size, n, d - shared[g])
            act = randn(size, n, a) * self.net.masks[g]
            with torch.inference_mode():  # a plausible logp_old keeps the ratios finite
                dist = cast(GaussianActor, self.net.actors[g]).dist_split(common, own)
                logp = (dist.log_prob(act) * self.net.masks[g]).sum(-1)
            per_group[g] = (common, own, act, logp.clone(), randn(size, n), randn(size, n),
                            randn(size, n))  # fmt: skip
        for start in range(0, size, mb):
            part = {g: tuple(x[start : start + mb] for x in t) for g, t in per_group.items()}
            self.minibatches.append((state[start : start + mb], part))

    def rollout(self) -> None:
        """The rollout's forward passes: ``act`` once per hour on (E, n, D) per group."""
        with torch.inference_mode():
            for _ in range(self.T):
                self.net.act(self.step_obs, self.step_state)

    def update(self) -> None:
        """The update's epochs x minibatches of loss (the learner's own
        :meth:`~training.mappo.MappoLearner._loss`), backward, clip and Adam."""
        net, cfg = self.net, self.cfg
        params = list(net.actors.parameters()) + list(net.critics.parameters())
        for _ in range(cfg.epochs):
            for state, part in self.minibatches:
                loss = torch.zeros(())
                for g, (common, own, act, logp_old, adv, ret, old_v) in part.items():
                    terms = net._loss(g, common, own, act, logp_old, adv, ret, old_v, state)
                    loss = loss + terms["loss"]
                net.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
                net.optimizer.step()


#: The parts every floor measurement times, seconds per iteration.
PARTS = ("rollout", "update", "sim", "nets_rollout", "nets_update")


def _seconds(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def fixed_actions(venvs: list[Any]) -> list[dict[str, np.ndarray]]:
    """Each env's scripted actions of hour 0 (seed 0): the sim's preallocated batch."""
    out = []
    for v in venvs:
        v.reset(seed=0)
        out.append({g: np.array(a, dtype=np.float64) for g, a in v.scripted_actions().items()})
    return out


def sim_episode(venv: Any, actions: dict[str, np.ndarray], seed: int, read_state: bool) -> float:
    """Seconds of ``venv`` resetting and stepping one episode with fixed ``actions``
    (``read_state``: also the global ``state()`` a centralised critic reads every hour)."""
    t0 = time.perf_counter()
    venv.reset(seed=seed)
    for _ in range(venv.core.dims.T):
        venv.step(actions)
        if read_state:
            venv.state()
    return time.perf_counter() - t0


def interleaved(
    prefix: str,
    repeats: int,
    iteration: Callable[[int], tuple[float, float]],
    sim: Callable[[int], float],
    nets: Any,
) -> dict[str, float]:
    """Warm up, then ``repeats`` rounds of (iteration k, sim k, nets), one after the other.

    Args:
        prefix: ``mappo`` or ``ppo``, the keys' prefix.
        iteration: k -> (rollout s, update s) of training iteration k.
        sim: k -> seconds of the simulator alone for iteration k's env steps.
        nets: an object whose ``rollout()`` and ``update()`` do the networks' arithmetic;
            ``rollout`` samples on a forked torch RNG, so the run's draws stay its own.

    Returns:
        ``<prefix>_train_over_floor`` (iteration time over floor time) and the means over
        the repeats, ms per iteration: the iteration, its rollout and update, the floor
        and its parts (sim + nets = floor; nets = its rollout part + its update part).
    """
    iteration(0)  # warm-up (numba's, torch's and the library's first calls), not counted
    sim(0)
    with torch.random.fork_rng(devices=[]):
        nets.rollout()
    nets.update()
    t = dict.fromkeys(PARTS, 0.0)
    for k in range(1, repeats + 1):
        roll, upd = iteration(k)
        t["rollout"] += roll
        t["update"] += upd
        t["sim"] += sim(k)
        with torch.random.fork_rng(devices=[]):
            t["nets_rollout"] += _seconds(nets.rollout)
        t["nets_update"] += _seconds(nets.update)
    ms = {k: v * 1e3 / repeats for k, v in t.items()}
    nets_ms = ms["nets_rollout"] + ms["nets_update"]
    iteration_ms = ms["rollout"] + ms["update"]
    return {
        f"{prefix}_train_over_floor": iteration_ms / (ms["sim"] + nets_ms),
        f"{prefix}_iteration_ms": iteration_ms,
        f"{prefix}_rollout_ms": ms["rollout"],
        f"{prefix}_update_ms": ms["update"],
        f"{prefix}_floor_ms_per_iter": ms["sim"] + nets_ms,
        f"{prefix}_floor_sim_ms_per_iter": ms["sim"],
        f"{prefix}_floor_nets_ms_per_iter": nets_ms,
        f"{prefix}_floor_nets_rollout_ms_per_iter": ms["nets_rollout"],
        f"{prefix}_floor_nets_update_ms_per_iter": ms["nets_update"],
    }


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
    nets = _Nets(learner, venvs[0].core.dims.T, venvs[0].num_envs, venvs[0].state_size)
    fixed = fixed_actions(venvs)

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
        k = it % len(venvs)
        return sim_episode(venvs[k], fixed[k], iteration_seed(cfg.seed, it), read_state=True)

    out = interleaved("mappo", repeats, iteration, sim, nets)
    if profile > 0:
        _profile(lambda: iteration(repeats + 1), profile)
    return out


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
