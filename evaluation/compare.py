"""Compare agents on a suite of scenarios and seeds; print a ranked Markdown leaderboard.

``python -m evaluation.compare [--quick] [--suite default] [--agents ...] [--out DIR]``

Every agent plays every scenario of the suite for each evaluation seed with deterministic
actions (grid in :mod:`evaluation.grid`, metrics in :mod:`evaluation.metrics`, aggregation
in :mod:`evaluation.aggregate`). Writes ``results.csv`` (one row per agent x scenario x
seed), ``summary.json``, ``leaderboard.md`` and PNG plots to ``--out``; cells land in
``--out/cells`` as they finish, so ``--resume`` continues an interrupted run. An agent that
raises or sends invalid actions is listed as failed with its error; an unknown agent,
scenario, env or suite exits with status 2 and a one-line message listing valid names.
``--env reservation_exchange_v0`` (or ``--suite rex``) compares the exchange's traders on
its market-quality metrics (issue 7).
"""

from __future__ import annotations

import argparse
import logging
import math
import shlex
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import yaml

import agents
import envs
from agents.base import check_class_path
from envs.cli import cli_main
from envs.errors import ConfigError, UnknownNameError
from envs.registry import MARKET_FAMILY
from evaluation import caveats, grid
from evaluation.latest import default_out
from evaluation.leaderboard import (
    MARKET_VIEW,
    REX_VIEW,
    View,
    describe_runs,
    excluded_runs,
    markdown,
    results_frame,
    summarise,
)
from evaluation.money import loss_reasons, scenario_markdown, scenario_money
from evaluation.rex_compare import REX_AGENTS

__all__ = ["main"]

REX_ENV = "reservation_exchange_v0"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m evaluation.compare",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--suite", "--config", dest="suite", default=None,
        help="suite name in configs/eval (default, heldout, quick, rex) or a YAML path "
        "(default: 'default', or 'rex' with --env reservation_exchange_v0)",
    )  # fmt: skip
    p.add_argument("--env", default=None, help="env id (default: the suite's)")
    p.add_argument(
        "--agents", nargs="+", metavar="NAME",
        help="agents to compare (replaces the suite's list): built-in names, the exchange's "
        f"traders ({', '.join(REX_AGENTS)}), class paths 'pkg.mod:Class', or NAME=CHECKPOINT "
        "for a learned policy's weights (e.g. mappo=runs/<run>/checkpoint.pt)",
    )  # fmt: skip
    p.add_argument(
        "--scenarios",
        nargs="+",
        metavar="NAME",
        help="scenarios: shipped names or paths to your own scenario YAML files "
        "(default: the suite's)",
    )
    p.add_argument(
        "--seeds",
        type=int,
        default=None,
        help="seeds per scenario, a count (default: the suite's, 5)",
    )
    p.add_argument(
        "--seed-start",
        type=int,
        default=None,
        help="first evaluation seed (default: the suite's, 1000)",
    )
    p.add_argument(
        "--days", type=int, default=None, help="episode length, days (default: the suite's, 7)"
    )
    p.add_argument(
        "--quick", action="store_true",
        help="smoke run: the 'quick' suite (3 scenarios x 2 seeds x 2 days), or 2 seeds x 1 "
        "day of the exchange; it checks that agents run, its ranking is not significant",
    )  # fmt: skip
    _add_run_arguments(p)
    return p


def _add_run_arguments(p: argparse.ArgumentParser) -> None:
    """Where the results go, how the cells run, and what is drawn."""
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: results/compare; results/quick with --quick); "
        "python -m evaluation.app opens the last one written",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="parallel worker processes, or CPUs of a local Ray instance (default: 1)",
    )
    p.add_argument(
        "--backend",
        choices=("process", "ray"),
        default="process",
        help="where cells run (default: process)",
    )
    p.add_argument(
        "--cell-timeout",
        type=float,
        default=grid.DEFAULT_CELL_TIMEOUT_S,
        metavar="SECONDS",
        help="fail a cell (and kill its worker) after this long; 0: no limit, and with one "
        f"worker cells run in this process (default: {grid.DEFAULT_CELL_TIMEOUT_S:g})",
    )
    p.add_argument("--address", default=None, help="Ray cluster to join (e.g. 'auto'); ray backend")
    p.add_argument("--resume", action="store_true", help="skip cells already finished in --out")
    p.add_argument(
        "--plots",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="write PNG plots (default: on)",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="progress bar on stderr (default: on)",
    )
    p.add_argument(
        "--week-agent", metavar="NAME", default=None,
        help="agent shown in week.png (default: the best-ranked agent other than the "
        "perfect-foresight reference)",
    )  # fmt: skip
    p.add_argument(
        "--resamples",
        type=int,
        default=2000,
        help="bootstrap resamples for the 95%% intervals (default: 2000)",
    )


class _BadName(Exception):
    """An unknown name on the command line (exit status 2)."""


def _resolve(args: argparse.Namespace) -> tuple[grid.EvalConfig, str]:
    """The suite (and its name) with the command line's overrides applied and every name
    checked."""
    env_id = args.env
    supported = (*MARKET_FAMILY, REX_ENV)
    if env_id is not None and env_id not in supported:
        raise _BadName(f"unknown env {env_id!r} for comparison; valid envs: {', '.join(supported)}")
    name = args.suite or ("rex" if env_id == REX_ENV else "quick" if args.quick else "default")
    cfg = grid.load_suite(name)
    if env_id is not None and env_id != cfg.env:
        same_family = {env_id, cfg.env} <= set(MARKET_FAMILY)
        if not same_family:  # another env needs its own scenarios and agents
            cfg = replace(
                cfg, scenarios=(), agents=tuple(REX_AGENTS) if env_id == REX_ENV else cfg.agents
            )
        cfg = replace(cfg, env=env_id)
    if args.quick and cfg.env == REX_ENV:
        cfg = replace(cfg, n_seeds=2, days=1)
    changes: dict[str, Any] = {}
    for field, value in (
        ("agents", args.agents), ("scenarios", args.scenarios), ("n_seeds", args.seeds),
        ("seed_start", args.seed_start), ("days", args.days),
    ):  # fmt: skip
        if value is not None:
            changes[field] = tuple(value) if isinstance(value, list) else value
    cfg = replace(cfg, **changes)
    valid_scen = envs.list_scenarios(cfg.env)
    for s in cfg.scenarios:
        if grid.is_scenario_file(s):
            _check_scenario_file(cfg.env, s)
        elif s not in valid_scen:
            raise _BadName(
                f"unknown scenario {s!r} for {cfg.env}; valid scenarios: "
                f"{', '.join(valid_scen)}, or a path to a scenario YAML file"
            )
    if not cfg.scenarios:
        cfg = replace(cfg, scenarios=tuple(valid_scen))
    known = (
        list(REX_AGENTS) if cfg.env == REX_ENV
        else list(dict.fromkeys([*agents.BUILTINS, *grid.DEFAULT_AGENTS]))
    )  # fmt: skip
    parts = (part for entry in cfg.agents for part in entry.split("+"))  # teams: each part
    for a in (part.partition("=")[0] for part in parts):
        if ":" in a:  # a malformed class path ('..:x') is a bad name, not a failed cell
            try:
                check_class_path(a)
            except ValueError as exc:
                raise _BadName(str(exc)) from None
        elif a not in known:
            raise _BadName(
                f"unknown agent {a!r} for {cfg.env}; valid names: {', '.join(known)}, "
                "or a class path 'pkg.mod:Class'"
            )
    return cfg, name


def _check_scenario_file(env_id: str, path: str) -> None:
    """Build the env once from a user's scenario file, so that a bad file stops the run
    before the grid (with the file named) instead of failing every cell."""
    if not Path(path).is_file():
        raise _BadName(f"scenario file {path!r} does not exist")
    try:
        envs.make(env_id, scenario=path)
    except ConfigError as exc:
        text = str(exc)
        raise ConfigError(text if path in text else f"scenario file {path}: {text}") from None
    except (OSError, ValueError, yaml.YAMLError) as exc:  # e.g. a YAML syntax error
        raise ConfigError(f"scenario file {path}: {' '.join(str(exc).split())}") from None


def _splits(cfg: grid.EvalConfig) -> dict[str, str]:
    """Scenario -> 'heldout' (in configs/eval/heldout.yaml), 'train', or 'file' (a user's
    own scenario file, used by no shipped policy); '' on other envs."""
    held = grid.load_suite("heldout")
    if held.env != cfg.env and {held.env, cfg.env} - set(MARKET_FAMILY):
        return dict.fromkeys(cfg.scenarios, "")
    return {
        s: "file" if grid.is_scenario_file(s) else "heldout" if s in held.scenarios else "train"
        for s in cfg.scenarios
    }


@cli_main
def main(argv: list[str] | None = None) -> int:
    """Run the comparison; returns the exit status (0 ok, 2 bad names or values, 130
    interrupted)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        cfg, suite = _resolve(args)
    except (_BadName, UnknownNameError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.week_agent is not None and args.week_agent not in cfg.agents:
        print(f"error: --week-agent {args.week_agent!r} is not an agent of this comparison; "
              f"agents: {', '.join(cfg.agents)}", file=sys.stderr)  # fmt: skip
        return 2
    if args.cell_timeout < 0 or args.cell_timeout != args.cell_timeout:
        print(f"error: --cell-timeout={args.cell_timeout}; expected seconds >= 0 "
              "(0: no limit)", file=sys.stderr)  # fmt: skip
        return 2
    if args.workers < 1 or args.resamples < 1:
        print(f"error: --workers={args.workers} and --resamples={args.resamples}; "
              "expected at least 1 each", file=sys.stderr)  # fmt: skip
        return 2
    split = _splits(cfg)
    cells = [
        grid.Cell(cfg.env, a, s, seed, cfg.days, split[s])
        for a in cfg.agents
        for s in cfg.scenarios
        for seed in cfg.seeds
    ]
    out: Path = args.out or default_out(args.quick)
    if out.exists() and not out.is_dir():  # e.g. --out /dev/full or an existing file
        print(f"error: --out {out} is a file, not a folder; expected a folder for the "
              "results (it is made if missing)", file=sys.stderr)  # fmt: skip
        return 2
    out.mkdir(parents=True, exist_ok=True)
    try:
        results = grid.run_grid(
            cells, out, workers=args.workers, backend=args.backend, address=args.address,
            resume=args.resume, progress=args.progress,
            cell_timeout_s=args.cell_timeout if args.cell_timeout > 0 else None,
        )  # fmt: skip
        _report(cfg, suite, args, out, results)
    except ValueError as exc:  # e.g. --backend ray without Ray installed
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # one line and the way on, not a traceback from a worker
        print(_interrupted(cells, out, argv), file=sys.stderr)
        return 130
    return 0


def _interrupted(cells: list[grid.Cell], out: Path, argv: list[str] | None) -> str:
    """The one line printed on Ctrl-C: what finished and how to go on."""
    done = sum(
        1 for c in cells if (r := grid.read_cell(out, c)) is not None and r["status"] == "ok"
    )
    given = sys.argv[1:] if argv is None else list(argv)
    again = shlex.join(
        ["python", "-m", "evaluation.compare", *given, *([] if "--resume" in given else
                                                         ["--resume"])]
    )  # fmt: skip
    return (
        f"interrupted: {done} of {len(cells)} cells finished and saved in {out / 'cells'}; "
        f"continue with: {again}"
    )


def _report(
    cfg: grid.EvalConfig, suite: str, args: argparse.Namespace, out: Path, results: list
) -> None:
    """Tables, summary.json and plots from the finished grid; prints the leaderboard."""
    view = REX_VIEW if cfg.env == REX_ENV else MARKET_VIEW
    files = {s for s in cfg.scenarios if grid.is_scenario_file(s)}
    labels = caveats.scenario_labels(list(cfg.scenarios), files, envs.list_scenarios(cfg.env))
    results = [r | {"scenario": labels.get(r["scenario"], r["scenario"])} for r in results]
    baseline, baseline_note = caveats.present_baseline(cfg.baseline, list(cfg.agents))
    cfg = replace(cfg, baseline=baseline)
    df = results_frame(results, low=cfg.low, high=cfg.high)
    market = view is MARKET_VIEW
    excluded = excluded_runs(df, low=cfg.low, high=cfg.high) if market else []
    summary = summarise(
        df, view, baseline=cfg.baseline, n_resamples=args.resamples, exclude=excluded
    )
    order = [r["agent"] for r in summary]
    text = markdown(
        summary, view, baseline=cfg.baseline, low=cfg.low, high=cfg.high, excluded=excluded
    )
    by_scenario: dict[str, Any] = {}
    if market:
        money = scenario_money(df, order, n_resamples=args.resamples)
        reasons = loss_reasons(df, order)
        text += "\n\n" + scenario_markdown(money, order, reasons)
        by_scenario = {"by_scenario": money, "loss_reasons": reasons}
    grid_words = f"{len(cfg.scenarios)} scenarios x {cfg.n_seeds} seeds x {cfg.days} days"
    caveat = caveats.ranking_notes(
        summary, f"{view.rank_by}_iqm", quick=args.quick, grid=grid_words
    )
    lines = [*caveat[:1], *_notes(df, cfg, view, excluded), *caveat[1:], baseline_note]
    notes = [line for line in lines if line]
    text = "\n".join([*notes, "", text]) if notes else text
    extra = {
        "smoke_run": bool(args.quick),
        "notes": notes,
        "scenario_labels": {s: label for s, label in labels.items() if s != label},
        "excluded_runs": [{"scenario": sc, "seed": seed} for sc, seed in excluded],
        "legend": _legend_doc(view),
        **by_scenario,
    }
    _write_outputs(
        out, df, results, summary, cfg, view, text, extra, plots=args.plots,
        week_agent=args.week_agent, suite=suite,
    )  # fmt: skip
    print(text)
    print(f"\nresults in {out}; browse them with: python -m evaluation.app --results {out}")


def _legend_doc(view: View) -> dict[str, str]:
    """summary.json's legend: summary key -> definition with unit."""
    doc = {
        f"{view.rank_by}_iqm": view.rank_legend,
        f"{view.rank_by}_mean": "the mean of the same runs, with its interval",
        "p_improve": f"P(a run of the agent beats the baseline on {view.improve_on}), "
        "per scenario, mean over scenarios",
    }
    doc |= {c.key: c.legend for c in (*view.columns, *view.detail)}
    if view is MARKET_VIEW:
        doc |= {
            "by_scenario.alone_eur_per_week": "members' bills alone, EUR per week (episode "
            "total x 7 / days), mean over seeds",
            "by_scenario.agents.saving_eur_per_week": "members' saving against acting alone, "
            "EUR per week, mean over seeds, with a 95% bootstrap interval over seeds",
            "by_scenario.agents.saving_pct": "the same saving in % of the bills alone",
            "loss_reasons": "for each scenario where some agent's members lose against acting "
            "alone: the market from the ledger that explains it and by how much, EUR per week",
        }
    return doc


def _notes(df: Any, cfg: grid.EvalConfig, view: Any, excluded: list[tuple[str, int]]) -> list[str]:
    """Header lines: the grid and why a score may be missing."""
    n = len(df)
    ok = int((df.status == "ok").sum())
    lines = [
        f"{cfg.env}: {len(cfg.agents)} agents x {len(cfg.scenarios)} scenarios x "
        f"{cfg.n_seeds} seeds (from {cfg.seed_start}), {cfg.days} days; {ok}/{n} cells ok."
    ]
    if view is MARKET_VIEW:
        lines.append(
            f"score: members' saving against acting alone per scenario and seed, "
            f"0 = `{cfg.low}`, 1 = `{cfg.high}`; P(> {cfg.baseline}) compares savings."
        )
        for ref in (cfg.low, cfg.high):
            done = df[(df.agent == ref) & (df.status == "ok")]
            if len(done) < len(df.drop_duplicates(["scenario", "seed"])):
                lines.append(
                    f"note: `{ref}` is missing or failed on some cells; their scores are n/a."
                )
        if excluded:
            lines.append(
                f"note: `{cfg.high}` saves no more than `{cfg.low}` in {len(excluded)} runs, "
                f"{describe_runs(excluded)}: no score scale there, so their scores are n/a and "
                "their money is left out of the cross-scenario columns of every agent (it "
                "stays in the table by scenario)."
            )
    return lines


def _strict(obj: Any) -> Any:
    """NaN and inf become null, so that summary.json is strict JSON for any reader."""
    if isinstance(obj, dict):
        return {k: _strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_strict(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _write_outputs(
    out: Path, df: Any, results: list[dict[str, Any]], summary: list[dict[str, Any]],
    cfg: grid.EvalConfig, view: Any, text: str, extra: dict[str, Any], *, plots: bool,
    week_agent: str | None, suite: str,
) -> None:  # fmt: skip
    """results.csv, summary.json, leaderboard.md and the plots, each written atomically."""
    tmp = out / ".results.csv.tmp"
    df.to_csv(tmp, index=False)
    grid.replace_file(tmp, out / "results.csv")
    failures = [
        {k: r[k] for k in ("agent", "scenario", "seed", "error")}
        for r in results
        if r["status"] != "ok"
    ]
    summary_doc = {
        "suite_name": suite,
        "suite": asdict(cfg),
        "rank_by": view.rank_by,
        "agents": summary,
        "failures": failures,
        **extra,
    }
    grid.write_json_atomic(out / "summary.json", _strict(summary_doc))
    (out / "leaderboard.md.tmp").write_text(text + "\n", encoding="utf-8")
    grid.replace_file(out / "leaderboard.md.tmp", out / "leaderboard.md")
    if plots:
        from evaluation.plots import plot_all

        label = "normalised score" if view is MARKET_VIEW else view.rank_header
        plot_all(
            df, results, summary, view.rank_by, label, out, cfg=cfg, suite=suite,
            week_agent=week_agent,
            excluded=[(r["scenario"], r["seed"]) for r in extra.get("excluded_runs", [])],
        )  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
