"""``python -m training.throughput``: MAPPO training throughput as a run logs it.

Runs :func:`training.mappo_run.train_mappo` with ``configs/training/mappo.yaml`` for a few
iterations (no warm start: it runs once per run and is not in ``time/sps``) into a
temporary folder and prints, as one JSON object, the ``time/sps`` it logs: env steps of
an iteration (E = 64 envs x ``days`` x 24 h) over the wall time of its rollout and update,
exactly what a run writes to TensorBoard. ``python -m evaluation.benchmark`` calls it in a
fresh process.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from training.common import resolve_device, seed_everything
from training.config import load_config
from training.mappo_run import train_mappo


class _Recorder:
    """The part of :class:`training.logger.RunLogger` a training loop calls, keeping the
    scalars in memory (no event files, no progress bar of its own)."""

    show_progress = False

    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []

    def scalars(self, values: dict[str, float], step: int) -> None:
        self.rows.append(dict(values))

    def progress(self, steps: int, mean_return: float | None) -> None:
        """No bar: the benchmark shows its own progress."""

    def note(self, line: str) -> None:
        """Notes are not benchmark output."""


def mappo_train_steps_per_s(iterations: int = 5, days: int = 7) -> dict[str, float | str]:
    """MAPPO training throughput measured by the training loop itself.

    Runs :func:`training.mappo_run.train_mappo` with ``configs/training/mappo.yaml`` for
    ``iterations`` iterations (no warm start: it runs once per run and is not in
    ``time/sps``) into a temporary folder and reads back the ``time/sps`` it logs: env
    steps of an iteration (E = 64 envs x ``days`` x 24 h) over the wall time of its
    rollout and update, exactly what a run writes to TensorBoard.

    Returns:
        ``mappo_train_steps_per_s``: median ``time/sps`` over the iterations after the
        first; ``mappo_first_iteration_steps_per_s``: the first iteration's (it pays for
        torch's and numba's warm-up, which a long run spreads over thousands of
        iterations, hence the median); ``mappo_train_device``: where the networks ran
        (the config's ``device``; the simulator runs on the CPU).
    """
    path = Path(__file__).resolve().parents[1] / "configs" / "training" / "mappo.yaml"
    sets: dict[str, Any] = {"env.days": days, "mappo.imitate": ""}
    cfg = load_config(path, sets)
    cfg = load_config(path, {**sets, "total_steps": iterations * cfg.steps_per_iteration})
    seed_everything(cfg.seed, cfg.threads)
    rec = _Recorder()
    with tempfile.TemporaryDirectory(prefix="benchmark_mappo_") as run_dir:
        train_mappo(cfg, Path(run_dir), rec)
    sps = [r["time/sps"] for r in rec.rows if "time/sps" in r]
    return {
        "mappo_train_steps_per_s": float(np.median(sps[1:] if len(sps) > 1 else sps)),
        "mappo_first_iteration_steps_per_s": float(sps[0]),
        "mappo_train_device": str(resolve_device(cfg.device)),
    }


def main(argv: list[str] | None = None) -> int:
    """CLI: print MAPPO training steps/s as one JSON object (see the module docstring)."""
    p = argparse.ArgumentParser(prog="python -m training.throughput",
                                description=__doc__.splitlines()[0])  # fmt: skip
    p.add_argument("--iterations", type=int, default=5, help="training iterations (default 5)")
    p.add_argument("--days", type=int, default=7, help="episode length, days (default 7)")
    args = p.parse_args(argv)
    if args.iterations < 1 or args.days < 1:
        p.error("--iterations and --days must be at least 1")
    print(json.dumps(mappo_train_steps_per_s(args.iterations, args.days)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
