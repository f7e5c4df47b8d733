"""The README's result tables, regenerated from results files (so they cannot go stale).

Usage::

    python -m evaluation.report                          # print the sections
    python -m evaluation.report --write-readme README.md # rewrite them in the README
    python -m evaluation.report --check README.md        # exit 1 if the README is stale

Sources: the leaderboard's ``results.csv`` (``python -m evaluation.compare --out DIR``;
the shipped one is ``evaluation/results/default``, the full default grid) and the shipped
policies' ``agents/checkpoints/{name}_training.json`` (``python -m training.ship``). Each
section sits between ``<!-- report:NAME:begin -->`` and ``<!-- report:NAME:end -->``:

- ``leaderboard``: the ranking (normalised score IQM and mean with 95% stratified
  bootstrap intervals, P(> mpc)) and the markets table, as ``evaluation.compare`` prints;
- ``scenarios``: members' saving by scenario and agent, EUR per week [95% CI over seeds];
- ``bound``: the oracle-as-upper-bound check (:func:`bound_violations`);
- ``training``: the shipped policies' training steps and time;
- ``incumbents``: the coalition's policies against scripted and learning incumbents in
  ``strategic_incumbents`` (``evaluation/results/incumbents``).

Aggregates are recomputed from the rows with the leaderboard's own functions and seeded
bootstrap, so the same file gives the same text.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import pandas as pd

from envs.cli import cli_main
from evaluation.aggregate import stratified_bootstrap
from evaluation.leaderboard import MARKET_VIEW, excluded_runs, markdown, summarise
from evaluation.money import loss_reasons, scenario_markdown, scenario_money

__all__ = ["bound_violations", "check_readme", "render", "write_readme"]

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "evaluation" / "results" / "default"
INCUMBENTS = ROOT / "evaluation" / "results" / "incumbents"
CHECKPOINTS = ROOT / "agents" / "checkpoints"
SECTIONS = ("leaderboard", "scenarios", "bound", "training", "incumbents")
LOW, HIGH, BASELINE = "individual", "oracle", "mpc"


def load(results_dir: Path) -> pd.DataFrame:
    """The leaderboard's rows (``results.csv``) as ``evaluation.compare`` wrote them."""
    path = Path(results_dir) / "results.csv"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found; run python -m evaluation.compare --out {results_dir} first"
        )
    df = pd.read_csv(path, dtype={"error": object})
    if "error" in df:
        df["error"] = df["error"].fillna("")
    return df


def bound_violations(df: pd.DataFrame, high: str = HIGH, n_resamples: int = 2000) -> list[dict]:
    """(scenario, agent) pairs whose members save more than with ``high`` beyond the 95%
    bootstrap interval: the mean over seeds of (agent's saving - ``high``'s saving, paired
    by seed) has its lower bound above 0. A price-taking upper bound has none.

    Returns:
        One dict per pair that beats ``high`` on some seed: scenario, agent, seeds won,
        mean EUR by which it beat ``high`` [low, high], and ``violation`` (the interval
        lies above 0).
    """
    ok = df[df.status == "ok"]
    wide = ok.pivot_table(index=["scenario", "seed"], columns="agent", values="members_saving_eur")
    if high not in wide:
        return []
    out = []
    for agent in (a for a in wide.columns if a != high):
        for scenario, rows in wide[[agent, high]].dropna().groupby(level=0):
            diff = (rows[agent] - rows[high]).to_numpy()
            if not (diff > 0).any():
                continue
            mean, lo, hi = stratified_bootstrap([diff], "mean", n_resamples=n_resamples)
            out.append({"scenario": scenario, "agent": agent, "seeds_won": int((diff > 0).sum()),
                        "seeds": int(diff.size), "mean_eur": mean, "low_eur": lo, "high_eur": hi,
                        "violation": bool(lo > 0)})  # fmt: skip
    return out


def _bound_text(df: pd.DataFrame) -> str:
    rows = bound_violations(df)
    n_pairs = df[df.agent != HIGH].groupby(["scenario", "agent"]).ngroups
    bad = [r for r in rows if r["violation"]]
    lines = [
        f"Oracle as upper bound: {len(bad)} of {n_pairs} (scenario, agent) pairs save the "
        f"members more than `{HIGH}` beyond the 95% bootstrap interval over seeds"
        + ("" if rows else f", and no agent saves more than `{HIGH}` in any scenario-seed run")
        + " (`python -m evaluation.report`, from the leaderboard's rows)."
    ]
    if rows:
        lines += ["", "| scenario | agent | seeds above the oracle | mean excess EUR [95% CI] |",
                  "|---|---|---|---|"]  # fmt: skip
        for r in rows:
            flag = " **beyond the interval**" if r["violation"] else ""
            excess = f"{r['mean_eur']:,.0f} [{r['low_eur']:,.0f}, {r['high_eur']:,.0f}]"
            lines.append(f"| `{r['scenario']}` | `{r['agent']}` | {r['seeds_won']} of "
                         f"{r['seeds']} | {excess}{flag} |")  # fmt: skip
    return "\n".join(lines)


def _training_text(checkpoints: Path) -> str:
    lines = ["| policy | algorithm | env steps | iterations | training time (2 cores) | "
             "median env-steps/s | scenarios |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    for path in sorted(Path(checkpoints).glob("*_training.json")):
        r = json.loads(path.read_text(encoding="utf-8"))
        name = path.name.removesuffix("_training.json")
        lines.append(f"| `{name}` | {r['algo']} | {r['env_steps'] / 1e6:.2f}M | "
                     f"{r['iterations']} | "
                     f"{(r['train_s'] + r.get('warm_start_s', 0.0)) / 60:.1f} min | "
                     f"{r['median_sps']:,.0f} | "
                     f"{', '.join(r['scenarios'])} |")  # fmt: skip
    return "\n".join(lines)


def _incumbents_text(results_dir: Path) -> str:
    """Per agent (team): members' saving, the price the coalition paid in the spot market,
    the incumbents' markup and Lerner index, unserved energy; means over seeds."""
    df = load(results_dir)
    ok = df[df.status == "ok"].copy()
    week = 7.0 / ok.days.astype(float)
    ok["saving"] = ok.members_saving_eur * week
    ok["unserved"] = ok.unserved_energy_mwh * week
    lines = ["| coalition policy + incumbents | members' saving EUR/week [95% CI] | "
             "spot price paid EUR/MWh | incumbents' markup | Lerner | unserved MWh/week |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for agent, g in ok.groupby("agent", sort=False):
        mean, lo, hi = stratified_bootstrap([g.saving.to_numpy()], "mean")
        paid = g.coalition_spot_bought_eur.sum() / max(g.coalition_spot_bought_mwh.sum(), 1e-9)
        team = agent if "+" in agent else f"{agent}+scripted"
        lines.append(f"| `{team}` | {mean:,.0f} [{lo:,.0f}, {hi:,.0f}] | {paid:,.1f} | "
                     f"{g.incumbent_markup.mean():.3f} | {g.lerner_index.mean():.3f} | "
                     f"{g.unserved.mean():,.1f} |")  # fmt: skip
    seeds = sorted(ok.seed.unique())
    lines.append("")
    lines.append(f"Scenario `{ok.scenario.iloc[0]}`, seeds {seeds[0]}-{seeds[-1]}, "
                 f"{int(ok.days.max())}-day episodes; `+scripted`: the scenario's scripted "
                 "withholding incumbents.")  # fmt: skip
    return "\n".join(lines)


def render(results_dir: Path = RESULTS, checkpoints: Path = CHECKPOINTS,
           incumbents_dir: Path = INCUMBENTS) -> dict[str, str]:  # fmt: skip
    """Each section's Markdown, by name (:data:`SECTIONS`)."""
    df = load(results_dir)
    if "normalised_score" not in df:
        raise ValueError(f"{results_dir}/results.csv has no normalised_score (not a market grid)")
    excluded = excluded_runs(df, low=LOW, high=HIGH)
    summary = summarise(df, MARKET_VIEW, baseline=BASELINE, exclude=excluded)
    order = [r["agent"] for r in summary]
    ok = df[df.status == "ok"]
    head = (f"{len(df)} cells ({ok.agent.nunique()} agents x {ok.scenario.nunique()} "
            f"scenarios x {ok.seed.nunique()} seeds x {int(df.days.max())} days), "
            f"{int((df.status != 'ok').sum())} failed.")  # fmt: skip
    board = markdown(summary, MARKET_VIEW, baseline=BASELINE, low=LOW, high=HIGH,
                     excluded=excluded)  # fmt: skip
    money = scenario_money(df, order)
    return {
        "leaderboard": head + "\n\n" + board,
        "scenarios": scenario_markdown(money, order, loss_reasons(df, order)),
        "bound": _bound_text(df),
        "training": _training_text(checkpoints),
        "incumbents": _incumbents_text(incumbents_dir),
    }


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- report:{name}:begin -->\n)(.*?)(<!-- report:{name}:end -->)", re.S)


def write_readme(readme: Path, sections: dict[str, str]) -> str:
    """The README's text with each marked section replaced.

    Raises:
        ValueError: a section's markers are missing from the README.
    """
    text = Path(readme).read_text(encoding="utf-8")
    for name, body in sections.items():
        pat = _pattern(name)
        if not pat.search(text):
            raise ValueError(f"{readme} has no <!-- report:{name}:begin/end --> markers")
        text = pat.sub(lambda m, b=body: m.group(1) + b.rstrip() + "\n" + m.group(3), text)
    return text


def check_readme(readme: Path, sections: dict[str, str]) -> list[str]:
    """Names of the README's sections that differ from ``sections``."""
    text = Path(readme).read_text(encoding="utf-8")
    stale = []
    for name, body in sections.items():
        m = _pattern(name).search(text)
        if m is None or m.group(2) != body.rstrip() + "\n":
            stale.append(name)
    return stale


@cli_main
def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    p = argparse.ArgumentParser(prog="python -m evaluation.report",
                                description=__doc__.split("\n")[0])  # fmt: skip
    p.add_argument("--results", default=str(RESULTS), help="folder holding results.csv")
    p.add_argument("--incumbents", default=str(INCUMBENTS),
                   help="folder of the learning-incumbents comparison's results.csv")  # fmt: skip
    p.add_argument("--checkpoints", default=str(CHECKPOINTS),
                   help="folder holding the shipped policies' *_training.json")  # fmt: skip
    g = p.add_mutually_exclusive_group()
    g.add_argument("--write-readme", metavar="README", help="rewrite the marked sections")
    g.add_argument("--check", metavar="README", help="exit 1 if a marked section is stale")
    args = p.parse_args(argv)
    sections = render(Path(args.results), Path(args.checkpoints), Path(args.incumbents))
    if args.check:
        stale = check_readme(Path(args.check), sections)
        if stale:
            print(f"{args.check}: stale sections {stale}; run python -m evaluation.report "
                  f"--write-readme {args.check}", file=sys.stderr)  # fmt: skip
            return 1
        print(f"{args.check}: every report section is current")
        return 0
    if args.write_readme:
        Path(args.write_readme).write_text(write_readme(Path(args.write_readme), sections),
                                           encoding="utf-8")  # fmt: skip
        print(f"rewrote {', '.join(sections)} in {args.write_readme}")
        return 0
    for name, body in sections.items():
        print(f"## {name}\n\n{body}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
