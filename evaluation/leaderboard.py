"""From cell results to ``results.csv``, the per-agent summary and the Markdown leaderboard.

One row per cell (agent x scenario x seed) in :func:`results_frame`; :func:`summarise`
aggregates each agent over scenarios and seeds (mean and IQM with stratified 95%
bootstrap intervals, probability of improvement over the baseline agent), and
:func:`markdown` prints the ranked table. Rows are in a deterministic order: by the
ranking metric (best first, failed agents last), then by name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evaluation.aggregate import probability_of_improvement, stratified_bootstrap
from evaluation.metrics import normalised_score

__all__ = ["MARKET_VIEW", "REX_VIEW", "View", "markdown", "results_frame", "summarise"]

ID_COLUMNS = ("env", "agent", "scenario", "split", "seed", "days", "status", "error", "wall_s")


@dataclass(frozen=True)
class View:
    """What a leaderboard shows for one env family.

    Attributes:
        rank_by: metric ranked on (higher is better); gets mean and IQM with intervals.
        improve_on: metric that P(improvement over the baseline) compares, per scenario.
        columns: (metric, header, decimals) shown as means over all cells.
    """

    rank_by: str
    rank_header: str
    improve_on: str
    columns: tuple[tuple[str, str, int], ...]


MARKET_VIEW = View(
    rank_by="normalised_score",
    rank_header="score",
    improve_on="members_saving_eur",
    columns=(
        ("members_saving_eur", "saving EUR", 0),
        ("members_saving_pct", "saving %", 1),
        ("share_better_off_pct", "better off %", 0),
        ("gini_savings", "Gini", 2),
        ("coalition_revenue_spot_eur", "spot EUR", 0),
        ("coalition_revenue_reserve_eur", "reserve EUR", 0),
        ("coalition_revenue_capacity_eur", "capacity EUR", 0),
        ("emissions_t", "CO2 t", 0),
        ("cfe_pct", "CFE %", 1),
        ("lerner_index", "Lerner", 3),
        ("incumbent_markup", "markup", 2),
        ("unserved_energy_mwh", "unserved MWh", 1),
    ),
)

REX_VIEW = View(
    rank_by="allocative_efficiency",
    rank_header="alloc. efficiency",
    improve_on="allocative_efficiency",
    columns=(
        ("spread_eur_per_mwh", "spread EUR/MWh", 2),
        ("depth_mw", "depth MW", 2),
        ("fill_ratio", "fill ratio", 3),
        ("volatility_near_gate_eur_per_mwh", "vol. last hour EUR/MWh", 2),
        ("volatility_early_eur_per_mwh", "vol. earlier EUR/MWh", 2),
        ("imbalance_mwh", "imbalance MWh/agent", 2),
        ("traders_net_eur", "traders' net EUR", 0),
    ),
)


def results_frame(results: list[dict[str, Any]], *, low: str, high: str) -> pd.DataFrame:
    """One row per cell: identity columns, every metric, and (multi-market) the score.

    Args:
        results: cell results from :func:`evaluation.grid.run_grid`.
        low, high: the agents mapped to score 0 and 1 (multi-market envs only).
    """
    rows = []
    for r in results:
        row = {k: r.get(k) for k in ID_COLUMNS}
        row |= r.get("metrics") or {}
        rows.append(row)
    df = pd.DataFrame(rows)
    if not df.empty and "members_saving_eur" in df:
        df["normalised_score"] = normalised_score(df, low=low, high=high)
    return df


def _strata(ok: pd.DataFrame, metric: str, scenarios: list[str]) -> list[np.ndarray]:
    """One array of per-seed values for each scenario (empty where the agent has none)."""
    return [ok.loc[ok.scenario == s, metric].to_numpy(dtype=np.float64) for s in scenarios]


def summarise(
    df: pd.DataFrame, view: View, *, baseline: str, n_resamples: int = 2000
) -> list[dict[str, Any]]:
    """Per-agent aggregates, ranked (best first; agents with no finished cell last).

    Returns:
        One dict per agent: ``agent``, ``cells``, ``failed``, ``error`` (first failure),
        ``<rank_by>_mean``/``_iqm`` each with ``_low``/``_high`` (95% interval),
        ``<rank_by>_iqm_heldout`` (held-out scenarios), ``p_improve`` (+ interval) over
        ``baseline``, and the mean of every ``view.columns`` metric.
    """
    scenarios = sorted(df.scenario.unique())
    out = []
    base = df[(df.agent == baseline) & (df.status == "ok")]
    for agent in df.agent.unique():
        mine = df[df.agent == agent]
        ok = mine[mine.status == "ok"]
        failed = mine[mine.status != "ok"]
        row: dict[str, Any] = {
            "agent": agent,
            "cells": len(mine),
            "failed": len(failed),
            "error": failed.error.iloc[0] if len(failed) else None,
        }
        key = view.rank_by
        values = ok[key] if key in ok else pd.Series(dtype=float)
        for stat in ("mean", "iqm"):
            point, lo, hi = (
                stratified_bootstrap(_strata(ok, key, scenarios), stat, n_resamples=n_resamples)
                if len(values)
                else (math.nan,) * 3
            )
            row |= {f"{key}_{stat}": point, f"{key}_{stat}_low": lo, f"{key}_{stat}_high": hi}
        held = ok[ok.split == "heldout"]
        row[f"{key}_iqm_heldout"] = (
            stratified_bootstrap(
                _strata(held, key, sorted(held.scenario.unique())), "iqm", n_resamples=200
            )[0]
            if len(held) and key in held
            else math.nan
        )
        if agent != baseline and len(ok) and len(base):
            p = probability_of_improvement(
                _strata(ok, view.improve_on, scenarios),
                _strata(base, view.improve_on, scenarios),
                n_resamples=n_resamples,
            )
        else:
            p = (math.nan,) * 3
        row |= {"p_improve": p[0], "p_improve_low": p[1], "p_improve_high": p[2]}
        for metric, _, _ in view.columns:
            row[metric] = float(ok[metric].mean()) if len(ok) and metric in ok else math.nan
        out.append(row)

    def order(r: dict[str, Any]) -> tuple:
        # Ranking metric's IQM, then its mean, then (when no score can be computed, e.g.
        # without the reference agents) the compared quantity itself; NaN sorts last.
        keys = (r[f"{view.rank_by}_iqm"], r[f"{view.rank_by}_mean"], r.get(view.improve_on))
        keys = tuple(math.nan if k is None else float(k) for k in keys)
        return (
            r["cells"] == r["failed"],
            *((math.isnan(k), 0.0 if math.isnan(k) else -k) for k in keys),
            r["agent"],
        )

    return sorted(out, key=order)


def _fmt(x: Any, decimals: int) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:,.{decimals}f}"


def _ci(row: dict[str, Any], key: str, decimals: int = 2) -> str:
    point, lo, hi = row[key], row[f"{key}_low"], row[f"{key}_high"]
    if math.isnan(point):
        return "n/a"
    return f"{point:.{decimals}f} [{lo:.{decimals}f}, {hi:.{decimals}f}]"


def markdown(summary: list[dict[str, Any]], view: View, *, baseline: str) -> str:
    """The ranked leaderboard as a Markdown table (failed cells and errors below it)."""
    key, head = view.rank_by, view.rank_header
    # The held-out column only where some scenario of the grid is held out.
    held = any(not math.isnan(r[f"{key}_iqm_heldout"]) for r in summary)
    headers = [
        "rank", "agent", f"{head} IQM [95% CI]", f"{head} mean [95% CI]",
        *([f"{head} IQM held-out"] if held else []),
        f"P(> {baseline})", *(h for _, h, _ in view.columns), "failed",
    ]  # fmt: skip
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    notes = []
    for i, r in enumerate(summary, 1):
        cells = [
            str(i),
            f"`{r['agent']}`",
            _ci(r, f"{key}_iqm"),
            _ci(r, f"{key}_mean"),
            *([_fmt(r[f"{key}_iqm_heldout"], 2)] if held else []),
            _ci(r, "p_improve"),
            *(_fmt(r[m], d) for m, _, d in view.columns),
            f"{r['failed']}/{r['cells']}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
        if r["failed"]:
            notes.append(f"- `{r['agent']}` failed {r['failed']}/{r['cells']} cells: {r['error']}")
    return "\n".join(lines + (["", *notes] if notes else []))
