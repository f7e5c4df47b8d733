"""Seeding, run folders, the batched envs of a config and the run loop shared by the algorithms."""

from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

import envs
from agents.learned import coalition_slots
from envs.errors import ConfigError
from training.checkpoint import save_checkpoint
from training.config import TrainConfig
from training.mix import MixedVectorEnv, split_envs

__all__ = [
    "TrainingInterrupted",
    "coalition_mask",
    "make_envs",
    "resolve_device",
    "run_dir_for",
    "seed_everything",
    "slots_of",
    "timed_loop",
]


def seed_everything(seed: int, threads: int) -> None:
    """Seed ``random``, numpy's legacy generator (SB3 draws minibatch orders from it) and
    torch, and fix torch's thread count (CPU reductions, hence results, depend on it)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - stable-baselines3 reads the global generator
    torch.manual_seed(seed)
    torch.set_num_threads(threads)


def resolve_device(name: str) -> torch.device:
    """The torch device of a config's ``device`` (``cpu``, ``cuda`` or ``auto``).

    Raises:
        ConfigError: ``cuda`` where torch sees no GPU (a CPU build of torch, or none
            present), naming the field, the value and what to pass instead.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"device: 'cuda' asked for, but torch {torch.__version__} sees no GPU (a CPU "
            "build, or no device); expected 'cpu' or 'auto' here"
        )
    return torch.device(name)


def run_dir_for(cfg: TrainConfig, out: str | None) -> Path:
    """``out`` or ``runs/{env_id}__{algo}__{seed}__{unix_time}`` (STYLE §9)."""
    if out:
        return Path(out)
    return Path("runs") / f"{cfg.env.env_id}__{cfg.algo}__{cfg.seed}__{int(time.time())}"


def make_envs(cfg: TrainConfig) -> list[Any]:
    """One :class:`envs.adapters.vector.VectorMarketEnv` per scenario of ``cfg.env``.

    Raises:
        ConfigError: the scenarios' groups, observation, state or action sizes differ
            (naming the first scenario that differs and how).
    """
    spec = cfg.env
    sizes = ([spec.num_envs] * len(spec.scenarios) if spec.mix == "iteration"
             else split_envs(spec.num_envs, len(spec.scenarios)))  # fmt: skip
    venvs = [envs.make_vector(spec.env_id, scenario=s, num_envs=n, days=spec.days,
                              overrides=spec.overrides_for(s))
             for s, n in zip(spec.scenarios, sizes, strict=True)]  # fmt: skip
    ref = layout_of(venvs[0])
    for s, v in zip(spec.scenarios[1:], venvs[1:], strict=True):
        mine = layout_of(v)
        if mine != ref:
            diff = {k: (ref[k], mine[k]) for k in ref if ref[k] != mine[k]}
            raise ConfigError(
                f"env.scenarios: {s!r} has another layout than {spec.scenarios[0]!r} "
                f"({diff}); train scenarios with the same markets and member count together"
            )
    return venvs if spec.mix == "iteration" else [MixedVectorEnv(venvs, list(spec.scenarios))]


def layout_of(venv: Any) -> dict[str, Any]:
    """Groups, observation/action sizes per group and the state size of a batched env."""
    out: dict[str, Any] = {"state": venv.state_size, "groups": tuple(venv.agent_groups)}
    for g in venv.agent_groups:
        out[f"{g}.obs"] = venv.observation_spaces[g].shape
        out[f"{g}.act"] = venv.action_spaces[g].shape
    return out


def slots_of(venv: Any) -> list[str]:
    """The coalition's action entry names in this env's layout."""
    lay = venv.core.layout
    return coalition_slots(lay.reserve, lay.capacity, lay.drives_members)


def coalition_mask(slots: list[str], fixed: tuple[str, ...]) -> torch.Tensor:
    """(A,) 1.0 for coalition entries the actor moves, 0.0 for ``fixed`` ones.

    Raises:
        ConfigError: a fixed name that is not an entry of this layout.
    """
    unknown = sorted(set(fixed) - set(slots))
    if unknown:
        raise ConfigError(
            f"fixed_coalition_entries names {unknown}; the coalition's entries here are {slots}"
        )
    return torch.tensor([0.0 if s in fixed else 1.0 for s in slots])


class TrainingInterrupted(Exception):
    """Ctrl-C stopped a run; its checkpoint holds every finished iteration.

    Attributes:
        iteration: iterations finished (and saved).
        checkpoint: the checkpoint's path.
    """

    def __init__(self, iteration: int, checkpoint: Path) -> None:
        super().__init__(f"interrupted after iteration {iteration}; checkpoint {checkpoint}")
        self.iteration, self.checkpoint = iteration, checkpoint


class _StopAfterIteration:
    """While active, the first Ctrl-C only asks the loop to stop after the iteration
    it is in (so the checkpoint holds a whole iteration and resuming stays exact); a
    second one raises KeyboardInterrupt at once."""

    def __init__(self) -> None:
        self.requested = False
        self._old: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        # Only a flag: an iteration takes seconds, and the CLI prints the one line
        # (what was saved, how to resume) when the loop has stopped.
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> _StopAfterIteration:
        # Signal handlers can only be set from the main thread; elsewhere Ctrl-C keeps
        # Python's default (KeyboardInterrupt), and the loop saves what it has.
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def timed_loop(
    cfg: TrainConfig,
    start_iteration: int,
    step_fn: Callable[[int], dict[str, float]],
    payload_fn: Callable[[int], dict[str, Any]],
    run_dir: Path,
    logger: Any,
) -> dict[str, float]:
    """Run iterations ``start_iteration .. cfg.iterations - 1``.

    ``step_fn(i)`` does one rollout and update and returns its scalars; this adds
    ``time/sps`` (env steps of the iteration / its wall time, rollout and learning),
    writes them, advances the bar and checkpoints every ``cfg.checkpoint_every``
    iterations and at the end (``payload_fn(i + 1)`` gives the checkpoint).

    Ctrl-C (SIGINT) finishes the iteration under way, writes the checkpoint and raises
    :class:`TrainingInterrupted`, so no finished iteration is lost and ``--resume`` ends
    where an uninterrupted run would; a second Ctrl-C stops at once (KeyboardInterrupt),
    losing only the iterations since the last checkpoint.

    Returns:
        The last iteration's scalars (empty when nothing was left to do).

    Raises:
        TrainingInterrupted: after Ctrl-C, once the checkpoint is written.
    """
    per_it = cfg.steps_per_iteration
    last: dict[str, float] = {}
    path = run_dir / "checkpoint.pt"
    with _StopAfterIteration() as stop:
        for it in range(start_iteration, cfg.iterations):
            t0 = time.perf_counter()
            scalars = step_fn(it)
            scalars["time/sps"] = per_it / max(time.perf_counter() - t0, 1e-9)
            step = (it + 1) * per_it
            logger.scalars(scalars, step)
            logger.progress(per_it, scalars.get("market/coalition_saving_eur"))
            done = it + 1 == cfg.iterations
            if (it + 1) % cfg.checkpoint_every == 0 or done or stop.requested:
                save_checkpoint(payload_fn(it + 1), path)
            last = scalars
            if stop.requested and not done:
                raise TrainingInterrupted(it + 1, path)
    return last
