"""Logic of the leaderboard explorer: read a ``python -m evaluation.compare`` folder.

The folder (see :mod:`evaluation.compare`) holds ``results.csv`` (one row per agent x
scenario x seed), ``summary.json`` (the ranked per-agent aggregates with their 95%
intervals, :func:`evaluation.leaderboard.summarise`) and ``cells/`` (each cell's JSON,
:func:`evaluation.grid.cell_path`, with every member's saving). Nothing is recomputed
that the CLI already wrote: the ranking is ``summary.json``'s; the drill-downs are
group-bys of ``results.csv`` and the cells; the pairwise comparison uses
:func:`evaluation.aggregate.probability_of_improvement` as the CLI's P(> baseline) does.

Money in EUR (over one episode of ``days`` days), scores dimensionless (0 = the ``low``
reference agent, 1 = the ``high`` one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation import grid
from evaluation.aggregate import probability_of_improvement
from evaluation.leaderboard import MARKET_VIEW, REX_VIEW, View
from evaluation.metrics import REVENUE_MARKETS, is_worse_off
from evaluation.results_files import ResultsFileError, read_frame, read_summary

__all__ = [
    "Results",
    "ResultsError",
    "compare_agents",
    "heatmap_table",
    "load_results",
    "member_savings",
    "per_seed",
    "ranking",
    "revenue_by_market",
    "worse_off",
]


class ResultsError(ValueError):
    """The folder is not a readable ``evaluation.compare`` output (message says why)."""


@dataclass(frozen=True)
class Results:
    """A results folder, read once.

    Attributes:
        folder: the folder.
        frame: ``results.csv`` (one row per cell).
        summary: ``summary.json`` (suite, rank_by, agents in rank order, failures).
    """

    folder: Path
    frame: pd.DataFrame
    summary: dict[str, Any]

    @property
    def view(self) -> View:
        """What the leaderboard ranks and compares (multi-market or exchange)."""
        return REX_VIEW if self.summary.get("rank_by") == REX_VIEW.rank_by else MARKET_VIEW

    @property
    def agents(self) -> list[str]:
        """Agents in rank order (best first)."""
        return [r["agent"] for r in self.summary["agents"]]

    @property
    def scenarios(self) -> list[str]:
        """Scenarios of the grid, sorted."""
        return sorted(self.frame.scenario.unique())


def load_results(folder: str | Path) -> Results:
    """Read ``results.csv`` and ``summary.json`` of a compare folder.

    Raises:
        ResultsError: the folder is missing, lacks either file, or a file cannot be
            parsed or holds the wrong shape (:mod:`evaluation.results_files`: the message
            names the file, the field and the bad value), or ``summary.json`` ranks an
            agent that ``results.csv`` lacks; the message says how to make a folder.
    """
    folder = Path(folder).expanduser()
    hint = "make one with: python -m evaluation.compare --quick --out " + str(folder)
    if not folder.is_dir():
        raise ResultsError(f"results folder {folder} does not exist; {hint}")
    missing = [n for n in ("results.csv", "summary.json") if not (folder / n).exists()]
    if missing:
        raise ResultsError(f"{folder} has no {missing[0]}: not a compare results folder; {hint}")
    try:
        frame = read_frame(folder / "results.csv")
        summary = read_summary(folder / "summary.json")
    except ResultsFileError as exc:
        raise ResultsError(f"{exc}; {hint}") from None
    unknown = [r["agent"] for r in summary["agents"] if r["agent"] not in set(frame.agent)]
    if unknown:
        raise ResultsError(
            f"{folder / 'summary.json'}: agents ranks {unknown[0]!r}, which has no row in "
            f"results.csv (agents there: {sorted(set(frame.agent))}); {hint}"
        )
    return Results(folder, frame, summary)


def _num(x: Any) -> float:
    """JSON null (NaN written as strict JSON) back to NaN."""
    return math.nan if x is None else float(x)


def ranking(res: Results) -> pd.DataFrame:
    """The leaderboard: rank, agent, IQM and mean of the ranking metric with 95% intervals,
    P(improvement over the baseline) with its interval, failed cells (summary.json's order)."""
    key = res.summary.get("rank_by", res.view.rank_by)
    rows = []
    for i, r in enumerate(res.summary["agents"], 1):
        row: dict[str, Any] = {"rank": i, "agent": r["agent"]}
        for stat in ("iqm", "mean"):
            for part, suffix in (("", ""), (" low", "_low"), (" high", "_high")):
                row[f"{stat}{part}"] = _num(r.get(f"{key}_{stat}{suffix}"))
        row["P(> baseline)"] = _num(r.get("p_improve"))
        row["P low"], row["P high"] = _num(r.get("p_improve_low")), _num(r.get("p_improve_high"))
        row["failed"] = f"{r.get('failed', 0)}/{r.get('cells', 0)}"
        rows.append(row)
    return pd.DataFrame(rows)


def heatmap_table(res: Results) -> pd.DataFrame:
    """Scenario x agent mean of the ranking metric over seeds (agents in rank order; NaN where
    no cell finished or no score exists)."""
    key = res.summary.get("rank_by", res.view.rank_by)
    ok = res.frame[res.frame.status == "ok"]
    if key not in ok:
        return pd.DataFrame(index=res.scenarios, columns=res.agents, dtype=float)
    table = ok.pivot_table(index="scenario", columns="agent", values=key, aggfunc="mean")
    return table.reindex(index=res.scenarios, columns=res.agents)


def _scenario(res: Results, scenario: str) -> pd.DataFrame:
    if scenario not in res.scenarios:
        raise ResultsError(f"unknown scenario {scenario!r}; this folder has {res.scenarios}")
    return res.frame[(res.frame.scenario == scenario) & (res.frame.status == "ok")]


def per_seed(res: Results, scenario: str) -> pd.DataFrame:
    """Seed x agent table of the compared quantity (members' saving EUR on the market envs)."""
    rows = _scenario(res, scenario)
    value = res.view.improve_on
    table = rows.pivot_table(index="seed", columns="agent", values=value, aggfunc="mean")
    return table.reindex(columns=[a for a in res.agents if a in table.columns])


def member_savings(res: Results, scenario: str) -> pd.DataFrame:
    """Every member's saving against acting alone, EUR: columns agent, seed, member, saving_eur.

    Read from the cells' JSON (``member_saving_eur``); cells without it are skipped.
    """
    rows = []
    for r in _scenario(res, scenario).itertuples():
        cell = grid.Cell(str(r.env), str(r.agent), str(r.scenario), int(r.seed), int(r.days))
        data = grid.read_cell(res.folder, cell) or {}
        for member, saving in (data.get("member_saving_eur") or {}).items():
            rows.append(
                {
                    "agent": cell.agent,
                    "seed": cell.seed,
                    "member": member,
                    "saving_eur": float(saving),
                }
            )
    return pd.DataFrame(rows, columns=["agent", "seed", "member", "saving_eur"])


def revenue_by_market(res: Results, scenario: str) -> pd.DataFrame:
    """Agent x market: the coalition's cash from each market, mean over seeds, EUR
    (+ = received; buying energy for the members makes the spot column negative)."""
    rows = _scenario(res, scenario)
    cols = {f"coalition_revenue_{m}_eur": m for m in REVENUE_MARKETS}
    present = [c for c in cols if c in rows]
    table = rows.groupby("agent")[present].mean().rename(columns=cols)
    return table.reindex([a for a in res.agents if a in table.index])


def worse_off(res: Results, scenario: str) -> pd.DataFrame:
    """Per agent: members worse off than alone (:func:`envs.market.billing.is_worse_off`,
    a saving below -1e-6 EUR over the episode), counted over seeds.

    Returns:
        Rows per agent: ``members`` (member-episodes), ``worse_off`` (count), ``worse_off_pct``,
        ``loss_eur`` (sum of the negative savings, EUR, <= 0), ``worst_eur`` (lowest saving).
    """
    sav = member_savings(res, scenario)
    out = []
    for agent in [a for a in res.agents if a in set(sav.agent)]:
        s = sav.loc[sav.agent == agent, "saving_eur"].to_numpy(np.float64)
        bad = is_worse_off(s)
        out.append(
            {
                "agent": agent,
                "members": int(s.size),
                "worse_off": int(bad.sum()),
                "worse_off_pct": 100.0 * float(bad.mean()),
                "loss_eur": float(s[bad].sum()),
                "worst_eur": float(s.min()),
            }
        )
    return pd.DataFrame(
        out, columns=["agent", "members", "worse_off", "worse_off_pct", "loss_eur", "worst_eur"]
    )


def compare_agents(
    res: Results, a: str, b: str, *, n_resamples: int = 1000
) -> tuple[pd.DataFrame, tuple[float, float, float]]:
    """Two agents side by side, per scenario.

    Returns:
        A frame indexed by scenario with, for each agent, the mean over seeds of the
        compared quantity (members' saving EUR on the market envs) and of the ranking
        metric, plus ``difference`` (a - b of the compared quantity); and
        ``P(a > b)`` with its 95% interval over all scenarios (stratified bootstrap, the
        CLI's P(> baseline) statistic), NaN where no scenario has both.
    """
    unknown = [x for x in (a, b) if x not in res.agents]
    if unknown:
        raise ResultsError(f"unknown agent {unknown[0]!r}; this folder has {res.agents}")
    ok = res.frame[res.frame.status == "ok"]
    value, key = res.view.improve_on, res.summary.get("rank_by", res.view.rank_by)
    table = pd.DataFrame(index=pd.Index(res.scenarios, name="scenario"))
    metrics = [m for m in dict.fromkeys((value, key)) if m in ok]
    for agent in (a, b):
        mine = ok[ok.agent == agent].groupby("scenario")[metrics].mean()
        for m in metrics:
            table[f"{agent}: {m}"] = mine[m].reindex(table.index)
    if value in ok:
        table["difference"] = table[f"{a}: {value}"] - table[f"{b}: {value}"]

    def strata(agent: str) -> list[np.ndarray]:
        mine = ok[ok.agent == agent]
        return [mine.loc[mine.scenario == s, value].to_numpy(float) for s in res.scenarios]

    poi = (
        probability_of_improvement(strata(a), strata(b), n_resamples=n_resamples)
        if value in ok
        else (math.nan,) * 3
    )
    return table, poi
