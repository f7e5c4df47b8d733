"""The exploit audit: does the market model pay for tricks a real market would not?

Usage::

    python -m evaluation.audit                          # rule and mpc, every scenario, 3 seeds
    python -m evaluation.audit --references rule --scenarios default --seeds 2 --days 2
    python -m evaluation.audit --write-readme evaluation/README.md   # rewrite its table

For each reference policy (``rule``, ``mpc``), scenario and seed it plays the reference
and each deviation of :mod:`evaluation.deviations` (the same seed: the same weather,
loads and forecasts) and records the members' saving against acting alone. A
deviation's gain is its saving less the reference's, in EUR per week and in % of the
members' bills alone, with a 95% bootstrap interval over seeds. A deviation that gains
more than :data:`FLAG_PCT` % of the bills alone is flagged with the market rule that pays
for it: in an RL benchmark a learner finds such a rule and the leaderboard then ranks
who exploits the model best.

Outputs in ``--out`` (default ``results/audit``): ``audit.csv`` (one row per reference x
scenario x seed x deviation, ``reference`` rows included) and ``audit.md`` (the table,
also printed). The shipped audit is ``evaluation/results/audit``.
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from envs.cli import cli_main
from envs.errors import ConfigError, UnknownNameError
from evaluation.aggregate import stratified_bootstrap
from evaluation.deviations import DEVIATIONS, DeviatingPolicy, Slots, deviation

__all__ = ["FLAG_PCT", "Job", "gains", "markdown", "play", "run", "write_readme"]

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "evaluation" / "results" / "audit"
#: A deviation gaining more than this share of the members' bills alone is flagged, %.
FLAG_PCT = 0.5
REFERENCE = "reference"
#: The env the audit plays (its id carries the market model's version; written in audit.csv).
ENV_ID = "multimarket_v1"


@dataclass(frozen=True)
class Job:
    """One reference x scenario x seed: the reference and every deviation, played."""

    reference: str
    scenario: str
    seed: int
    days: int
    deviations: tuple[str, ...]


def play(job: Job) -> list[dict[str, Any]]:
    """Play ``job``'s episodes; one row per episode (the reference's first).

    Rows: env (the id, its version included), reference, scenario, seed, days, deviation
    (``"reference"`` for the reference itself), applies (whether the deviation had
    anything to change there), members_alone_eur and members_saving_eur (the episode's, EUR).
    """
    import envs
    from evaluation.episode import build_policy, run_episode
    from evaluation.metrics import cell_metrics

    rows: list[dict[str, Any]] = []
    for name in (REFERENCE, *job.deviations):
        env = envs.make(ENV_ID, scenario=job.scenario, days=job.days)
        policy = build_policy(job.reference)
        applies = True
        if name != REFERENCE:
            dev = deviation(name)
            applies = dev.applies(Slots.of(env))
            policy = DeviatingPolicy(policy, dev)
        if not applies:  # nothing to change: the reference's outcome, without replaying it
            rows.append({**rows[0], "deviation": name, "applies": False})
            continue
        ep = run_episode(env, policy, job.seed)
        m = cell_metrics(ep.ledger, ep.counterfactual, ep.record, ep.fleet)
        rows.append({"env": ENV_ID, "reference": job.reference, "scenario": job.scenario,
                     "seed": job.seed, "days": job.days, "deviation": name, "applies": True,
                     "members_alone_eur": m["members_alone_eur"],
                     "members_saving_eur": m["members_saving_eur"]})  # fmt: skip
    return rows


def run(jobs: list[Job], workers: int = 1, progress: bool = True) -> pd.DataFrame:
    """Play every job (``workers`` processes) and return the rows in job order."""
    from tqdm import tqdm

    bar = tqdm(total=len(jobs), desc="audit", unit="job", file=sys.stderr, disable=not progress)
    out: list[list[dict[str, Any]]] = []
    if workers <= 1:
        for job in jobs:
            out.append(play(job))
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for rows in pool.map(play, jobs):
                out.append(rows)
                bar.update()
    bar.close()
    return pd.DataFrame([r for rows in out for r in rows])


def gains(df: pd.DataFrame) -> pd.DataFrame:
    """Each deviation's gain over its reference, per reference and scenario.

    Returns:
        One row per reference x scenario x deviation: ``gain_eur_week`` (mean over seeds
        of saving - reference's saving, x 7 / days) with ``low``/``high`` (95% bootstrap
        interval over seeds), ``gain_pct`` (the mean gain in % of the mean bills alone),
        ``applies`` and ``flag`` (``gain_pct`` > :data:`FLAG_PCT`).
    """
    key = ["reference", "scenario", "seed"]
    ref = df[df.deviation == REFERENCE].set_index(key)
    ref = ref[["members_saving_eur"]].rename(columns={"members_saving_eur": "saving_ref"})
    dev = df[df.deviation != REFERENCE].merge(ref, left_on=key, right_index=True)
    week = 7.0 / dev.days.astype(float)
    dev = dev.assign(gain=(dev.members_saving_eur - dev.saving_ref) * week,
                     alone=dev.members_alone_eur * week)  # fmt: skip
    rows = []
    for (reference, scenario, name), g in dev.groupby(["reference", "scenario", "deviation"],
                                                     sort=False):  # fmt: skip
        mean, lo, hi = stratified_bootstrap([g.gain.to_numpy()], "mean")
        pct = 100.0 * mean / g.alone.mean() if g.alone.mean() > 0 else float("nan")
        rows.append({"reference": reference, "scenario": scenario, "deviation": name,
                     "gain_eur_week": mean, "low": lo, "high": hi, "gain_pct": pct,
                     "applies": bool(g.applies.all()), "seeds": len(g),
                     "flag": bool(pct > FLAG_PCT)})  # fmt: skip
    return pd.DataFrame(rows)


def _money(x: float) -> str:
    if abs(x) >= 1e6:
        return f"{x / 1e6:.1f}M"
    return f"{x / 1e3:.1f}k" if abs(x) >= 1e3 else f"{x:.0f}"


def markdown(df: pd.DataFrame, g: pd.DataFrame | None = None) -> str:
    """The audit's tables: gain in % of the bills alone by deviation and scenario (one
    table per reference), then per deviation where it is flagged, its largest gain in
    EUR/week and the rule that pays it. ``g``: :func:`gains` of ``df`` if already computed."""
    g = gains(df) if g is None else g
    seeds, days = sorted(df.seed.unique()), int(df.days.max())
    envs_played = ", ".join(f"`{e}`" for e in dict.fromkeys(df["env"])) if "env" in df else "?"
    lines = [f"{len(df)} episodes of {envs_played}: seeds {seeds[0]}-{seeds[-1]}, {days}-day "
             "episodes. Cells: "
             "the deviation's gain over its reference, in % of the members' bills alone "
             f"(mean over seeds); **bold**: above {FLAG_PCT}% (flagged); `-`: the market is "
             "closed there.", ""]  # fmt: skip
    scenarios = list(dict.fromkeys(g.scenario))
    for reference, mine in g.groupby("reference", sort=False):
        lines += [f"Reference `{reference}`:", "",
                  "| deviation | " + " | ".join(f"`{s}`" for s in scenarios) + " |",
                  "|---|" + "---:|" * len(scenarios)]  # fmt: skip
        for name, row in mine.groupby("deviation", sort=False):
            by = row.set_index("scenario")
            cells = []
            for s in scenarios:
                r = by.loc[s]
                text = "-" if not r.applies else f"{r.gain_pct:+.1f}"
                cells.append(f"**{text}**" if r.flag and r.applies else text)
            lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
        lines.append("")
    flagged = g[g.flag & g.applies]
    lines.append(
        f"Flagged: {len(flagged)} of {int(g.applies.sum())} (reference, scenario, "
        "deviation) triples. Per deviation, where it is flagged and its largest gain:"
    )
    lines += ["", "| deviation | flagged scenarios | largest gain: where, EUR/week [95% CI], % "
              "of bills alone | the rule that pays it |", "|---|---|---|---|"]  # fmt: skip
    for name, mine in g[g.applies].groupby("deviation", sort=False):
        hits = mine[mine.flag]
        count = ", ".join(f"{ref} {int(h.flag.sum())}/{len(h)}"
                          for ref, h in mine.groupby("reference", sort=False))  # fmt: skip
        if len(hits):
            r = hits.loc[hits.gain_pct.idxmax()]
            ci = f"{_money(r.gain_eur_week)} [{_money(r.low)}, {_money(r.high)}]"
            top = f"`{r.reference}` in `{r.scenario}`: {ci}, {r.gain_pct:.1f}%"
        else:
            top = "none above the limit"
        lines.append(f"| `{name}` | {count} | {top} | {DEVIATIONS[name].rule} |")
    return "\n".join(lines) + "\n"


def write_readme(page: Path, table: str) -> str:
    """``page``'s text with the audit section (``<!-- report:audit:begin/end -->``) replaced,
    as :func:`evaluation.report.write_readme` replaces every report section.

    Raises:
        ValueError: the page has no audit markers.
    """
    from evaluation.report import write_readme as write_sections

    return write_sections(page, {"audit": table})


def _jobs(args: argparse.Namespace) -> list[Job]:
    from envs.registry import list_scenarios

    known = list_scenarios(ENV_ID)
    scenarios = args.scenarios or known
    bad = [s for s in scenarios if s not in known]
    if bad:
        raise UnknownNameError(f"--scenarios: unknown {', '.join(bad)}; expected any of "
                         f"{', '.join(known)}")  # fmt: skip
    for name in args.deviations:
        deviation(name)  # UnknownNameError listing the known ones
    seeds = range(args.seed_start, args.seed_start + args.seeds)
    return [Job(r, s, seed, args.days, tuple(args.deviations))
            for r in args.references for s in scenarios for seed in seeds]  # fmt: skip


@cli_main
def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    p = argparse.ArgumentParser(prog="python -m evaluation.audit",
                                description=__doc__.split("\n")[0])  # fmt: skip
    p.add_argument(
        "--references",
        nargs="+",
        default=["rule", "mpc"],
        help="reference policies the deviations start from (default: rule mpc)",
    )
    p.add_argument(
        "--deviations",
        nargs="+",
        default=list(DEVIATIONS),
        help=f"deviations to play (default: all: {', '.join(DEVIATIONS)})",
    )
    p.add_argument(
        "--scenarios",
        nargs="+",
        default=None,
        help="multimarket_v1 scenarios (default: every shipped one)",
    )
    p.add_argument("--seeds", type=int, default=3, help="seeds per scenario (default 3)")
    p.add_argument("--seed-start", type=int, default=1000, help="first seed (default 1000)")
    p.add_argument("--days", type=int, default=7, help="episode length, days (default 7)")
    p.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    p.add_argument("--out", default="results/audit", help="output folder")
    p.add_argument(
        "--write-readme",
        metavar="PAGE",
        default=None,
        help="also rewrite the audit table between the page's report:audit markers",
    )
    p.add_argument(
        "--from-csv",
        metavar="CSV",
        default=None,
        help="render the tables from an audit.csv instead of playing",
    )
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True)
    args = p.parse_args(argv)  # fmt: skip
    if min(args.seeds, args.days, args.workers) < 1:
        raise ConfigError(f"--seeds={args.seeds}, --days={args.days} and --workers="
                         f"{args.workers}; expected at least 1 each")  # fmt: skip
    if args.from_csv:
        df = pd.read_csv(args.from_csv)
    else:
        jobs = _jobs(args)
        df = run(jobs, workers=min(args.workers, os.cpu_count() or 1), progress=args.progress)
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        df.to_csv(out / "audit.csv", index=False, float_format="%.6f")
    g = gains(df)
    table = markdown(df, g)
    if not args.from_csv:
        (Path(args.out) / "audit.md").write_text(table, encoding="utf-8")
    print(table)
    if args.write_readme:
        page = Path(args.write_readme)
        page.write_text(write_readme(page, table), encoding="utf-8")
        print(f"rewrote the audit table in {page}", file=sys.stderr)
    flagged = int((g.flag & g.applies).sum())
    print(f"{flagged} deviation(s) above {FLAG_PCT}% of the bills alone", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
