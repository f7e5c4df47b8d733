"""Ship a trained policy: the small export, its config and a learning curve.

Usage::

    python -m training.ship runs/my_run --name mappo               # into runs/shipped/
    python -m training.ship runs/mappo_shipped --name mappo --dest agents/checkpoints

writes ``{dest}/{name}.pt`` (the actors, observation statistics and action
layout that :mod:`agents.learned` reads, plus the resolved config and signature; no
critic or optimiser state), ``{name}.yaml`` (the resolved training config) and
``{name}_curve.png`` (members' saving per training episode against env steps, from
the run's TensorBoard events) and ``{name}_training.json`` (env steps, iterations, the
training time summed over iterations from their ``time/sps``, and the median
``time/sps``), which ``python -m evaluation.report`` puts in the README.

``--dest`` defaults to :data:`DEFAULT_DEST` (``runs/shipped`` under the current folder),
never into the installed package: load the export with ``agents.load("mappo",
checkpoint="runs/shipped/mappo.pt")`` or compare it as ``mappo=runs/shipped/mappo.pt``.
Maintainers replace a policy shipped with the package with ``--dest agents/checkpoints``
(:data:`PACKAGE_DEST`, in a source checkout).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from envs.cli import cli_main
from training.checkpoint import load_checkpoint, save_checkpoint

__all__ = ["learning_curve", "main", "ship"]

#: Where ``--dest`` points by default: a folder under the current directory.
DEFAULT_DEST = Path("runs/shipped")
#: The package's own shipped policies (what ``agents.load("mappo")`` reads).
PACKAGE_DEST = Path(__file__).resolve().parents[1] / "agents" / "checkpoints"


def events(run_dir: Path) -> Any:
    """The run's TensorBoard event files, read once (resumed runs included)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    ea = EventAccumulator(str(run_dir))
    ea.Reload()
    return ea


def learning_curve(
    run_dir: Path, tag: str = "market/coalition_saving_eur", ea: Any = None
) -> tuple[list, list]:
    """(env steps, values) of ``tag`` from the run's event files (``ea``: :func:`events`
    of ``run_dir`` if the caller has read them)."""
    ea = events(run_dir) if ea is None else ea
    if tag not in ea.Tags()["scalars"]:
        raise ValueError(f"{run_dir} has no scalar {tag!r} (is it a training run folder?)")
    points = {e.step: e.value for e in ea.Scalars(tag)}
    steps = sorted(points)
    return steps, [points[s] for s in steps]


def training_record(run_dir: Path, payload: dict, ea: Any = None) -> dict:
    """Env steps, iterations, training seconds (each iteration's env steps over its
    ``time/sps``, summed: rollouts and updates, not env building), the warm start's
    seconds (``imitate/seconds``: teacher episodes and the fit; 0 without one) and the
    median ``time/sps`` of a run."""
    import numpy as np

    ea = events(run_dir) if ea is None else ea
    steps, sps = learning_curve(run_dir, "time/sps", ea)
    done = np.diff([0, *steps]).astype(float)
    rate = np.asarray(sps, float)
    warm = ea.Scalars("imitate/seconds") if "imitate/seconds" in ea.Tags()["scalars"] else []
    return {
        "env_steps": int(payload["global_step"]), "iterations": len(steps),
        "train_s": round(float(np.sum(done / rate)), 1),
        "warm_start_s": round(float(sum(e.value for e in warm)), 1),
        "median_sps": round(float(np.median(rate)), 1),
        "scenarios": list(payload["config"]["env"]["scenarios"]),
        "algo": payload["config"]["algo"],
    }  # fmt: skip


def plot_curve(run_dir: Path, out: Path, title: str, scenarios: list[str], ea: Any = None,
               labels: dict[str, str] | None = None) -> None:  # fmt: skip
    """PNG of members' saving per training episode (kEUR) against env steps: one panel per
    scenario, each on its own scale (iteration ``i`` rolled out ``scenarios[i % len]``;
    a scarcity scenario's savings are 10x the others'), titled by ``labels`` where given.
    A run with ``env.mix: rollout`` (every rollout holds every scenario) gets one panel:
    pass ``scenarios`` as the one title of it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    steps, values = learning_curve(run_dir, ea=ea)
    k = len(scenarios)
    cols = min(k, 4)
    rows = -(-k // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(max(2.6 * cols, 6.0), 2.1 * rows + 0.9), dpi=110,
                             squeeze=False, sharex=True)  # fmt: skip
    per_it = steps[0] if steps else 1
    for n, name in enumerate(scenarios):
        ax = axes[n // cols][n % cols]
        pts = [(s, v) for s, v in zip(steps, values, strict=True) if (s // per_it - 1) % k == n]
        ax.set_title((labels or {}).get(name, name), fontsize=8)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
        if not pts:
            continue
        x, y = (np.array(c, dtype=float) for c in zip(*pts, strict=True))
        w = max(1, min(10, len(y) // 10))
        ax.plot(x / 1e6, y / 1e3, lw=0.6, color="0.75")
        ax.plot(x[w - 1 :] / 1e6, np.convolve(y, np.ones(w) / w, mode="valid") / 1e3, lw=1.4)
    for n in range(k, rows * cols):
        axes[n // cols][n % cols].axis("off")
    fig.supxlabel("env steps (millions, summed over envs)", fontsize=8)
    fig.supylabel("members' saving, kEUR / episode", fontsize=8)
    fig.suptitle(f"{title}\nstochastic policy, training episodes (grey) and their running mean",
                 fontsize=9)  # fmt: skip
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def ship(run_dir: str | Path, name: str, dest: str | Path = DEFAULT_DEST) -> list[Path]:
    """Write the export, config and curve of ``run_dir`` into ``dest`` (made if missing);
    returns the paths."""
    run_dir, dest = Path(run_dir), Path(dest)
    payload = load_checkpoint(run_dir)
    dest.mkdir(parents=True, exist_ok=True)
    export = {key: payload[key] for key in ("policy", "config", "signature", "global_step")}
    pt = save_checkpoint(export, dest / f"{name}.pt")
    cfg_path = dest / f"{name}.yaml"
    cfg_path.write_text(yaml.safe_dump(payload["config"], sort_keys=False), encoding="utf-8")
    png = dest / f"{name}_curve.png"
    steps = int(payload["global_step"])
    title = f"{name}: members' saving while training ({steps / 1e6:.1f}M env steps)"
    ea = events(run_dir)  # read once for the curve and the record
    env = payload["config"]["env"]
    labels = {  # a scenario trained with overrides: the last part of each key, its value
        s: f"{s} ({', '.join(k.rsplit('.', 1)[-1] + '=' + str(v) for k, v in o.items())})"
        for s, o in env.get("scenario_overrides", {}).items()
    }
    panels = list(env["scenarios"])
    if env.get("mix", "iteration") == "rollout":  # each episode's mean over the mixed envs
        panels = [f"all {len(panels)} scenarios in every rollout (mean over the "
                  f"{env['num_envs']} envs)"]  # fmt: skip
    plot_curve(run_dir, png, title, panels, ea, labels)
    record = dest / f"{name}_training.json"
    record.write_text(json.dumps(training_record(run_dir, payload, ea), indent=1) + "\n",
                      encoding="utf-8")  # fmt: skip
    return [pt, cfg_path, png, record]


@cli_main
def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    p = argparse.ArgumentParser(prog="python -m training.ship", description=__doc__.split("\n")[0])
    p.add_argument("run_dir", help="training run folder (holds checkpoint.pt and event files)")
    p.add_argument("--name", required=True, help="policy name: ppo or mappo")
    p.add_argument(
        "--dest",
        default=str(DEFAULT_DEST),
        help=f"folder to write into (default: {DEFAULT_DEST}, under the current folder; "
        "agents/checkpoints replaces a policy shipped with the package)",
    )
    args = p.parse_args(argv)
    try:
        paths = ship(args.run_dir, args.name, args.dest)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    if paths[0].resolve().parent != PACKAGE_DEST.resolve():
        print(f"not the package's own {args.name}: load it with checkpoint={paths[0]}, e.g. "
              f"agents.load('mappo', checkpoint='{paths[0]}') or python -m evaluation.compare "
              f"--agents mappo={paths[0]}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
