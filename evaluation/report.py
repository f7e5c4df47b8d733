"""The README's result tables, regenerated from results files (so they cannot go stale).

Usage::

    python -m evaluation.report                 # print the sections
    python -m evaluation.report --write-readme  # rewrite them in the README pages
    python -m evaluation.report --check         # exit 1 if a page is stale

The sections live in several pages (:data:`PAGES`: the top README holds the short
``headline`` table, ``evaluation/README.md`` the leaderboard, ``training/README.md`` the
training tables); each section is written into whichever page holds its markers.

Sources: the leaderboard's ``results.csv`` (``python -m evaluation.compare --out DIR``;
the shipped one is ``evaluation/results/default``, the full default grid) and the shipped
policies' ``agents/checkpoints/{name}_training.json`` (``python -m training.ship``). Each
section sits between ``<!-- report:NAME:begin -->`` and ``<!-- report:NAME:end -->``:

- ``headline``: the short ranking of the top README (score IQM and mean, P(> mpc), the
  members' saving per member and week);
- ``leaderboard``: the ranking (normalised score IQM and mean with 95% stratified
  bootstrap intervals, P(> mpc)) and the markets table, as ``evaluation.compare`` prints;
- ``scenarios``: members' saving by scenario and agent, EUR per week [95% CI over seeds];
- ``bound``: the oracle-as-upper-bound check (:func:`bound_violations`);
- ``wins``: what wins where, each agent's gain over ``rule`` per scenario and market
  (:mod:`evaluation.wins`);
- ``mappo_vs_mpc``: MAPPO from scratch against the MPC per scenario and market
  (:func:`evaluation.wins.versus_markdown`);
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
from evaluation.leaderboard import MARKET_VIEW, ci_text, excluded_runs, markdown, summarise
from evaluation.money import loss_reasons, scenario_markdown, scenario_money
from evaluation.results_files import read_frame
from evaluation.wins import (
    deviations_markdown,
    gains_over_reference,
    versus_markdown,
    wins_markdown,
)

__all__ = ["bound_violations", "check_readme", "render", "write_readme"]

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "evaluation" / "results" / "default"
INCUMBENTS = ROOT / "evaluation" / "results" / "incumbents"
CHECKPOINTS = ROOT / "agents" / "checkpoints"
SECTIONS = ("headline", "leaderboard", "scenarios", "bound", "wins", "mappo_vs_mpc", "training",
            "incumbents")  # fmt: skip
#: The pages the sections are written into (each section into the page with its markers).
PAGES = (ROOT / "README.md", ROOT / "evaluation" / "README.md", ROOT / "training" / "README.md")
LOW, HIGH, BASELINE = "individual", "oracle", "mpc"


def load(results_dir: Path) -> pd.DataFrame:
    """The leaderboard's rows (``results.csv``) as ``evaluation.compare`` wrote them,
    checked (:func:`evaluation.results_files.read_frame`: a bad file or field is a
    :class:`~evaluation.results_files.ResultsFileError` naming both); ``error`` is text,
    ``""`` where none."""
    path = Path(results_dir) / "results.csv"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found; run python -m evaluation.compare --out {results_dir} first"
        )
    return read_frame(path)


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


def _headline_text(summary: list[dict], head: str) -> str:
    """The top README's short ranking: one line per agent, four columns."""
    lines = [head, "", "| rank | agent | score IQM [95% CI] | score mean [95% CI] | "
             f"P(> {BASELINE}) | saving EUR/member-week |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for rank, r in enumerate(summary, 1):
        lines.append(f"| {rank} | `{r['agent']}` | {ci_text(r, 'normalised_score_iqm')} | "
                     f"{ci_text(r, 'normalised_score_mean')} | "
                     f"{'baseline' if r['agent'] == BASELINE else ci_text(r, 'p_improve')} | "
                     f"{r['members_saving_eur_per_member_week']:,.0f} |")  # fmt: skip
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
    gains = gains_over_reference(df, order)  # both of the wins section's tables read them
    return {
        "headline": _headline_text(summary, head),
        "leaderboard": head + "\n\n" + board,
        "scenarios": scenario_markdown(money, order, loss_reasons(df, order)),
        "bound": _bound_text(df),
        "wins": wins_markdown(gains)
        + "\n\n"
        + "Do the policies play the exploit audit's flagged deviations?\n\n"
        + deviations_markdown(df, order, gains),
        "mappo_vs_mpc": versus_markdown(df, "mappo", BASELINE),
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

        def fill(m: re.Match[str], b: str = body) -> str:
            return m.group(1) + b.rstrip() + "\n" + m.group(3)

        text = pat.sub(fill, text)
    return text


def by_page(pages: list[Path], sections: dict[str, str]) -> dict[Path, dict[str, str]]:
    """Which of ``sections`` each page holds markers for.

    Raises:
        ValueError: a section whose markers are in none of the pages, or in several.
    """
    found: dict[Path, dict[str, str]] = {Path(p): {} for p in pages}
    for name, body in sections.items():
        holders = [p for p in found if _pattern(name).search(p.read_text(encoding="utf-8"))]
        if len(holders) != 1:
            where = ", ".join(map(str, holders)) or "none of " + ", ".join(map(str, pages))
            raise ValueError(f"section {name!r}: expected its <!-- report:{name}:begin/end --> "
                             f"markers in exactly one page, found in {where}")  # fmt: skip
        found[holders[0]][name] = body
    return found


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
    g.add_argument("--write-readme", metavar="PAGE", nargs="*",
                   help="rewrite the marked sections in these pages (default: the project's "
                   "README pages)")  # fmt: skip
    g.add_argument("--check", metavar="PAGE", nargs="*",
                   help="exit 1 if a marked section of these pages is stale (default: the "
                   "project's README pages)")  # fmt: skip
    args = p.parse_args(argv)
    sections = render(Path(args.results), Path(args.checkpoints), Path(args.incumbents))
    if args.check is not None:
        pages = by_page([Path(x) for x in args.check] or list(PAGES), sections)
        stale = {str(page): check_readme(page, s) for page, s in pages.items()}
        stale = {page: names for page, names in stale.items() if names}
        if stale:
            print(f"stale sections {stale}; run python -m evaluation.report --write-readme",
                  file=sys.stderr)  # fmt: skip
            return 1
        print("every report section is current")
        return 0
    if args.write_readme is not None:
        pages = by_page([Path(x) for x in args.write_readme] or list(PAGES), sections)
        for page, mine in pages.items():
            if mine:
                page.write_text(write_readme(page, mine), encoding="utf-8")
                print(f"rewrote {', '.join(mine)} in {page}")
        return 0
    for name, body in sections.items():
        print(f"## {name}\n\n{body}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
