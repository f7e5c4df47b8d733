"""Train PPO, MAPPO or IPPO on the batched market env.

Usage::

    python -m training.train --config configs/training/mappo.yaml [--set key=value ...]
        [--total-steps N] [--seed S] [--out DIR] [--resume DIR] [--no-progress]

The run folder (``--out``, default ``runs/{env_id}__{algo}__{seed}__{unix_time}``)
gets ``config.yaml`` (the resolved config), TensorBoard event files and
``checkpoint.pt`` (state dicts, config, RNG states and the exported policy that
``agents.load("mappo", checkpoint=...)`` reads). ``--resume DIR`` continues the run in
``DIR`` from its checkpoint and gives the same result as an uninterrupted run with the
same seed (``--total-steps`` may raise the target; other ``--set`` changes that alter
the networks are refused with a clear error).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from envs.cli import cli_main
from envs.errors import ConfigError, UnknownNameError
from training.checkpoint import CheckpointMismatchError, load_checkpoint
from training.common import TrainingInterrupted, run_dir_for, seed_everything
from training.config import TrainConfig, config_dict, load_config, parse_sets, save_config
from training.logger import RunLogger

__all__ = ["main", "run"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m training.train",
        description="Train PPO (SB3, coalition), MAPPO or IPPO on the batched market env.",
    )
    p.add_argument("--config", help="training YAML, e.g. configs/training/mappo.yaml "
                   "(required unless --resume)")  # fmt: skip
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field by dotted path, e.g. --set mappo.lr=0.001 "
                   "--set env.num_envs=32 (repeatable)")  # fmt: skip
    p.add_argument("--total-steps", type=int, help="env steps to train for, summed over the "
                   "E envs (one iteration = E * days * 24 steps)")  # fmt: skip
    p.add_argument("--seed", type=int, help="run seed (overrides the config's)")
    p.add_argument("--device", choices=("cpu", "cuda", "auto"),
                   help="where the networks and the update run (overrides the config's "
                   "device; the simulator stays on the CPU)")  # fmt: skip
    p.add_argument("--out", help="run folder (default runs/{env_id}__{algo}__{seed}__{time})")
    p.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its checkpoint")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                   help="show a progress bar with ETA and the latest members' saving")  # fmt: skip
    return p


def run(
    cfg: TrainConfig, run_dir: Path, resume: dict | None = None, progress: bool = True
) -> dict[str, float]:
    """Train ``cfg`` into ``run_dir`` (continuing ``resume`` if given); returns the last
    iteration's scalars."""
    run_dir.mkdir(parents=True, exist_ok=True)
    save_config(cfg, run_dir / "config.yaml")
    seed_everything(cfg.seed, cfg.threads)
    start = int(resume["global_step"]) if resume else 0
    logger = RunLogger(run_dir, config_dict(cfg), cfg.iterations * cfg.steps_per_iteration,
                       start, progress)  # fmt: skip
    try:
        if cfg.algo == "ppo":
            from training.ppo_sb3 import train_ppo

            return train_ppo(cfg, run_dir, logger, resume)
        from training.mappo_run import train_mappo

        return train_mappo(cfg, run_dir, logger, resume)
    finally:
        logger.close()


@cli_main
def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit status (0 ok, 2 bad input)."""
    args = _parser().parse_args(argv)
    try:
        sets = parse_sets(args.set)
        if args.total_steps is not None:
            sets["total_steps"] = args.total_steps
        if args.seed is not None:
            sets["seed"] = args.seed
        if args.device is not None:
            sets["device"] = args.device
        resume = None
        if args.resume:
            resume = load_checkpoint(args.resume)
            cfg = load_config(None, {**_flat(resume["config"]), **sets})
            run_dir = Path(args.resume)
        else:
            if not args.config:
                raise ConfigError("--config is required (or --resume DIR)")
            cfg = load_config(args.config, sets)
            run_dir = run_dir_for(cfg, args.out)
        t0 = time.perf_counter()
        last = run(cfg, run_dir, resume, args.progress)
    except (ConfigError, UnknownNameError, CheckpointMismatchError, FileNotFoundError,
            ValueError) as exc:  # fmt: skip
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TrainingInterrupted as stop:
        print(f"interrupted: {stop.iteration} of {cfg.iterations} iterations saved in "
              f"{stop.checkpoint}; continue with: python -m training.train --resume {run_dir}",
              file=sys.stderr)  # fmt: skip
        return 130
    except KeyboardInterrupt:  # a second Ctrl-C: stopped inside an iteration
        saved = run_dir / "checkpoint.pt"
        where = (
            f"the last checkpoint, {saved}; continue with: python -m training.train --resume "
            f"{run_dir}"
            if saved.is_file()
            else "no checkpoint (none was written yet)"
        )
        print(f"interrupted inside an iteration: kept {where}", file=sys.stderr)
        return 130
    saving = last.get("market/coalition_saving_eur")
    print(f"run folder: {run_dir}  ({time.perf_counter() - t0:.0f} s)")
    if saving is not None:
        print(f"last episode: members' saving {saving:,.0f} EUR, {last['time/sps']:,.0f} steps/s")
    return 0


def _flat(d: dict, prefix: str = "") -> dict:
    """Nested config dict -> dotted overrides (sections that are dicts of values stay whole)."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and k in ("env", "mappo", "ppo"):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    raise SystemExit(main())
