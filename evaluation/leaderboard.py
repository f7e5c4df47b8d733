"""From cell results to ``results.csv``, the per-agent summary and the Markdown leaderboard.

One row per cell (agent x scenario x seed) in :func:`results_frame`; :func:`summarise`
aggregates each agent over scenarios and seeds (the ranking metric: mean and IQM with
stratified 95% bootstrap intervals; probability of improvement over the baseline agent;
every other column as the view says, see :class:`View`), and :func:`markdown` prints the
ranked tables, each with its legend. Rows are in a deterministic order: by the ranking
metric (best first, failed agents last), then by name. Per-scenario money is in
:mod:`evaluation.money`.

Money across scenarios is only aggregated where it is comparable: per member and per week
(scenarios differ in members, 20 to 200, and episode length), as the median over
scenarios of each scenario's mean, and never over the runs without a score scale
(:func:`excluded_runs`), where the price-taking oracle saves no more than the individual
actors.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evaluation.aggregate import probability_of_improvement, stratified_bootstrap
from evaluation.metrics import normalised_score

__all__ = [
    "MARKET_VIEW",
    "REX_VIEW",
    "Column",
    "View",
    "describe_runs",
    "excluded_runs",
    "legend",
    "markdown",
    "results_frame",
    "scaled",
    "summarise",
]

ID_COLUMNS = ("env", "agent", "scenario", "split", "seed", "days", "status", "error", "wall_s")

HOURS_PER_WEEK = 168.0


@dataclass(frozen=True)
class Column:
    """One column of a leaderboard table.

    Attributes:
        metric: the results.csv column it is computed from.
        header: the table header (carries the unit).
        decimals: decimals shown.
        legend: what the column means, with its unit (printed under the table).
        scale: ``""`` (as is), ``"week"`` (x 7 / episode days) or ``"member_week"``
            (x 7 / episode days / members): makes money comparable across scenarios.
        ci: also show a 95% stratified bootstrap interval.
    """

    metric: str
    header: str
    decimals: int
    legend: str
    scale: str = ""
    ci: bool = False

    @property
    def key(self) -> str:
        """The summary key: the metric, suffixed by its scale."""
        return f"{self.metric}_per_{self.scale}" if self.scale else self.metric


@dataclass(frozen=True)
class View:
    """What a leaderboard shows for one env family.

    Attributes:
        rank_by: metric ranked on (higher is better); gets mean and IQM with intervals.
        rank_header: its header.
        rank_legend: its definition (the legend's first line).
        improve_on: metric that P(improvement over the baseline) compares, per scenario.
        columns: the ranking table's other columns.
        detail: a second table's columns (markets and the system), or none.
        across: how a column aggregates over scenarios: ``"mean"`` (all runs pooled) or
            ``"median"`` (median over scenarios of each scenario's mean over seeds).
    """

    rank_by: str
    rank_header: str
    rank_legend: str
    improve_on: str
    columns: tuple[Column, ...]
    detail: tuple[Column, ...] = ()
    across: str = "mean"


_MED = "median over scenarios of the mean over seeds"

MARKET_VIEW = View(
    rank_by="normalised_score",
    rank_header="score",
    rank_legend=(
        "members' saving against acting alone, rescaled per scenario and seed: "
        "(saving - saving of the low reference) / (saving of the high reference - saving of "
        "the low reference); IQM = interquartile mean over all scenario x seed runs, [95% "
        "stratified bootstrap CI], seeds resampled within each scenario"
    ),
    improve_on="members_saving_eur",
    columns=(
        Column(
            "members_saving_eur", "saving EUR/member-week [95% CI]", 1,
            "members' saving against acting alone (bills alone minus their cost in the "
            f"coalition), EUR per member and week (episode total x 7 / days / members), {_MED}",
            scale="member_week", ci=True,
        ),
        Column(
            "members_saving_pct", "saving %", 1,
            f"the same saving in % of the members' bills alone, {_MED}",
        ),
        Column(
            "share_better_off_pct", "better off %", 0,
            f"share of members whose own saving is positive, %, {_MED}",
        ),
        Column(
            "members_worse_off", "worse off", 1,
            "members worse off than alone: own saving over the episode below -1e-6 EUR "
            f"(envs.market.billing.is_worse_off), {_MED}",
        ),
        Column(
            "gini_savings", "Gini", 2,
            "Gini coefficient of members' savings (0 = equal; n/a where the mean saving is "
            f"not positive), {_MED}",
        ),
    ),
    detail=(
        Column(
            "coalition_revenue_spot_eur", "spot EUR/member-week", 1,
            "the coalition's net cash in the spot market (+ = received, - = paid), EUR per "
            f"member and week, {_MED}", scale="member_week",
        ),
        Column(
            "coalition_revenue_reserve_eur", "reserve EUR/member-week", 1,
            f"its net cash in the reserve market (awards and activations), {_MED}",
            scale="member_week",
        ),
        Column(
            "coalition_revenue_capacity_eur", "capacity EUR/member-week", 1,
            "its net cash in the capacity market (payments minus performance penalties "
            f"in scarcity hours), {_MED}", scale="member_week",
        ),
        Column(
            "coalition_revenue_imbalance_eur", "imbalance EUR/member-week", 1,
            "its imbalance settlement (members' metered deviation from the cleared position "
            f"at the single imbalance price of real-time balancing), {_MED}",
            scale="member_week",
        ),
        Column(
            "emissions_t", "system CO2 t/week", 0,
            f"the whole system's emissions, t CO2 per week, {_MED}", scale="week",
        ),
        Column(
            "cfe_pct", "CFE %", 1,
            f"the coalition's mean hourly carbon-free-energy score, %, {_MED}",
        ),
        Column(
            "lerner_index", "Lerner", 3,
            "system Lerner index (p - c) / p of the spot price p over the marginal cost c of "
            "the incumbent whose offer sets the price (0 when no incumbent sets it or "
            f"p <= 0), mean over hours, {_MED}",
        ),
        Column(
            "incumbent_markup", "markup", 2,
            "incumbents' offer markup over marginal cost on the energy they sold (0 when "
            "they offer at cost, whatever the price), hourly, weighted by the fleet's MWh "
            f"sold, {_MED}",
        ),
        Column(
            "price_markup_competitive", "markup vs competitive", 3,
            "(p - p_c) / max(|p_c|, 1 EUR/MWh) of the spot price p over the price p_c of a "
            "rerun of the same hour with every unit offering all its capacity at marginal "
            f"cost (withholding shows here, not in the offer markup), mean over hours, {_MED}",
        ),
        Column(
            "unserved_energy_mwh", "unserved MWh/week", 1,
            f"the system's unserved energy, MWh per week, {_MED}", scale="week",
        ),
    ),
    across="median",
)  # fmt: skip

REX_VIEW = View(
    rank_by="allocative_efficiency",
    rank_header="alloc. efficiency",
    rank_legend=(
        "allocative efficiency: realised surplus / the surplus of a uniform-price clearing of "
        "the same orders (limit prices as values and costs), mean over delivery hours "
        "(1 = efficient); "
        "[95% stratified bootstrap CI] over seeds"
    ),
    improve_on="allocative_efficiency",
    columns=tuple(
        Column(m, h, d, text)
        for m, h, d, text in (
            ("spread_eur_per_mwh", "spread EUR/MWh", 2,
             "best ask - best bid, EUR/MWh, mean over steps and books with both sides"),
            ("depth_mw", "depth MW", 2, "resting bid + ask volume per open book, MW"),
            ("fill_ratio", "fill ratio", 3, "traded volume / ordered volume"),
            ("volatility_near_gate_eur_per_mwh", "vol. last hour EUR/MWh", 2,
             "std of trade-to-trade price changes in the last hour before gate closure"),
            ("volatility_early_eur_per_mwh", "vol. earlier EUR/MWh", 2,
             "the same, earlier than the last hour"),
            ("imbalance_mwh", "imbalance MWh/agent", 2,
             "total |reservation - realised net load| per participant, MWh per episode"),
            ("traders_net_eur", "traders' net EUR", 0,
             "all prosumers' trade cash and imbalance settlement, EUR per episode"),
        )
    ),
    across="mean",
)  # fmt: skip


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


def scaled(df: pd.DataFrame, column: Column) -> pd.Series:
    """``column``'s values per cell in its unit (per week or per member-week).

    Returns NaN where the frame lacks the metric (or ``n_members`` for a per-member scale).
    """
    if column.metric not in df:
        return pd.Series(np.nan, index=df.index)
    x = df[column.metric].astype(float)
    if column.scale in ("week", "member_week"):
        x = x * HOURS_PER_WEEK / (24.0 * df.days.astype(float))
    if column.scale == "member_week":
        x = x / df.n_members.astype(float) if "n_members" in df else x * np.nan
    return x


def excluded_runs(df: pd.DataFrame, *, low: str, high: str) -> list[tuple[str, int]]:
    """(scenario, seed) runs with no score scale: both references finished and ``high``
    saved no more than ``low``. Their money stays out of cross-scenario aggregates too,
    for every agent (in ``large_coalition`` the price-taking oracle moves the price
    against itself, and the savings there are of another order)."""
    ok = df[df.status == "ok"]
    if ok.empty or "members_saving_eur" not in ok:
        return []
    ref = ok.pivot_table(index=["scenario", "seed"], columns="agent", values="members_saving_eur")
    if not {low, high} <= set(ref.columns):
        return []
    both = ref[[low, high]].dropna()
    return [(str(s), int(seed)) for s, seed in both[both[high] <= both[low]].index]


def describe_runs(runs: list[tuple[str, int]]) -> str:
    """'large_coalition (5 seeds), battery_rich (seed 1004)': runs grouped by scenario."""
    by: dict[str, list[int]] = {}
    for scenario, seed in runs:
        by.setdefault(scenario, []).append(seed)
    order = sorted(by, key=lambda s: (-len(by[s]), s))
    return ", ".join(
        f"`{s}` ({len(by[s])} seeds)" if len(by[s]) > 1 else f"`{s}` (seed {by[s][0]})"
        for s in order
    )


def _strata(ok: pd.DataFrame, values: pd.Series, scenarios: list[str]) -> list[np.ndarray]:
    """One array of per-seed values for each scenario (empty where the agent has none)."""
    return [values[ok.scenario == s].to_numpy(dtype=np.float64) for s in scenarios]


def _median_of_means(*strata: np.ndarray, axis: int = -1) -> np.ndarray:
    """Median over strata of each stratum's mean (vectorised over resamples)."""
    return np.median(np.stack([s.mean(axis=axis) for s in strata]), axis=0)


def _across(
    strata: list[np.ndarray], how: str, ci: bool, n_resamples: int
) -> tuple[float, float, float]:
    """A column's cross-scenario aggregate (and its interval when ``ci``)."""
    data = [s[np.isfinite(s)] for s in strata]
    data = [s for s in data if s.size]
    if not data:
        return (math.nan,) * 3
    stat: str | Callable[..., np.ndarray] = _median_of_means if how == "median" else "mean"
    if ci:
        return stratified_bootstrap(data, stat, n_resamples=n_resamples)
    point = float(_median_of_means(*data) if how == "median" else np.concatenate(data).mean())
    return point, math.nan, math.nan


def summarise(
    df: pd.DataFrame,
    view: View,
    *,
    baseline: str,
    n_resamples: int = 2000,
    exclude: list[tuple[str, int]] | tuple[tuple[str, int], ...] = (),
) -> list[dict[str, Any]]:
    """Per-agent aggregates, ranked (best first; agents with no finished cell last).

    Args:
        df: :func:`results_frame`.
        view: which columns and how they aggregate.
        baseline: the agent P(improvement) compares against.
        n_resamples: bootstrap resamples B.
        exclude: (scenario, seed) runs left out of every column but the ranking metric
            (whose scores are n/a there anyway), for every agent.

    Returns:
        One dict per agent: ``agent``, ``cells``, ``failed``, ``error`` (first failure),
        ``<rank_by>_mean``/``_iqm`` each with ``_low``/``_high`` (95% interval),
        ``<rank_by>_iqm_heldout`` (held-out scenarios), ``p_improve`` (+ interval) over
        ``baseline``, and every column of the view under :attr:`Column.key` (with
        ``_low``/``_high`` where the column has an interval).
    """
    scenarios = sorted(df.scenario.unique())
    base = df[(df.agent == baseline) & (df.status == "ok")]
    rows = [
        _agent_row(df[df.agent == agent], base, view, scenarios, set(exclude), n_resamples,
                   compare=agent != baseline)
        for agent in df.agent.unique()
    ]  # fmt: skip
    return sorted(rows, key=lambda r: _rank_key(r, view))


def _agent_row(
    mine: pd.DataFrame,
    base: pd.DataFrame,
    view: View,
    scenarios: list[str],
    dropped: set[tuple[str, int]],
    n_resamples: int,
    compare: bool,
) -> dict[str, Any]:
    """One agent's row of :func:`summarise` from its cells ``mine`` (``compare``: whether
    P(improvement) over the baseline's finished cells ``base`` is computed)."""
    ok = mine[mine.status == "ok"]
    failed = mine[mine.status != "ok"]
    row: dict[str, Any] = {
        "agent": mine.agent.iloc[0],
        "cells": len(mine),
        "failed": len(failed),
        "error": failed.error.iloc[0] if len(failed) else None,
    }
    key = view.rank_by
    values = ok[key] if key in ok else pd.Series(dtype=float)
    for stat in ("mean", "iqm"):
        point, lo, hi = (
            stratified_bootstrap(_strata(ok, values, scenarios), stat, n_resamples=n_resamples)
            if len(values)
            else (math.nan,) * 3
        )
        row |= {f"{key}_{stat}": point, f"{key}_{stat}_low": lo, f"{key}_{stat}_high": hi}
    held = ok[ok.split == "heldout"]
    row[f"{key}_iqm_heldout"] = (
        stratified_bootstrap(
            _strata(held, held[key], sorted(held.scenario.unique())), "iqm", n_resamples=200
        )[0]
        if len(held) and key in held
        else math.nan
    )
    if compare and len(ok) and len(base):
        p = probability_of_improvement(
            _strata(ok, ok[view.improve_on], scenarios),
            _strata(base, base[view.improve_on], scenarios),
            n_resamples=n_resamples,
        )
    else:
        p = (math.nan,) * 3
    row |= {"p_improve": p[0], "p_improve_low": p[1], "p_improve_high": p[2]}
    runs = zip(ok.scenario, ok.seed, strict=True)
    keep = ok[np.array([(s, int(seed)) not in dropped for s, seed in runs], dtype=bool)]
    for col in (*view.columns, *view.detail):
        point, lo, hi = _across(
            _strata(keep, scaled(keep, col), scenarios), view.across, col.ci, n_resamples
        )
        row[col.key] = point
        if col.ci:
            row |= {f"{col.key}_low": lo, f"{col.key}_high": hi}
    return row


def _rank_key(r: dict[str, Any], view: View) -> tuple:
    """Sort key of a :func:`summarise` row: the ranking metric's IQM, then its mean, then
    (when no score can be computed, e.g. without the reference agents) the compared
    quantity itself; NaN sorts last, agents with no finished cell after all others."""
    cols = [c.key for c in view.columns if c.metric == view.improve_on]
    raw = (r[f"{view.rank_by}_iqm"], r[f"{view.rank_by}_mean"], r.get(cols[0] if cols else ""))
    keys = tuple(math.nan if k is None else float(k) for k in raw)
    return (
        r["cells"] == r["failed"],
        *((math.isnan(k), 0.0 if math.isnan(k) else -k) for k in keys),
        r["agent"],
    )


def _fmt(x: Any, decimals: int) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:,.{decimals}f}"


def ci_text(row: dict[str, Any], key: str, decimals: int = 2) -> str:
    """``row[key]`` with its 95% interval, ``"point [low, high]"`` (``n/a`` where missing)."""
    point, lo, hi = row[key], row[f"{key}_low"], row[f"{key}_high"]
    if point is None or math.isnan(point):
        return "n/a"
    if math.isnan(lo):
        return _fmt(point, decimals)
    return f"{point:,.{decimals}f} [{lo:,.{decimals}f}, {hi:,.{decimals}f}]"


def legend(lines: list[tuple[str, str]]) -> str:
    """A table's legend: one Markdown bullet per ``(header, definition)``."""
    return "\n".join(f"- *{head}*: {text}" for head, text in lines)


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


def markdown(
    summary: list[dict[str, Any]],
    view: View,
    *,
    baseline: str,
    low: str = "individual",
    high: str = "oracle",
    excluded: list[tuple[str, int]] | tuple[tuple[str, int], ...] = (),
) -> str:
    """The ranked leaderboard as Markdown: the ranking table and (if the view has one) the
    markets table, each followed by its legend; failed cells and errors below."""
    key, head = view.rank_by, view.rank_header
    # The held-out column only where some scenario of the grid is held out.
    held = any(not math.isnan(r[f"{key}_iqm_heldout"]) for r in summary)
    headers = [
        "rank", "agent", f"{head} IQM [95% CI]", f"{head} mean [95% CI]",
        *([f"{head} IQM held-out"] if held else []),
        f"P(> {baseline}) [95% CI]", *(c.header for c in view.columns), "failed",
    ]  # fmt: skip
    rows, notes = [], []
    for i, r in enumerate(summary, 1):
        rows.append(
            [
                str(i),
                f"`{r['agent']}`",
                ci_text(r, f"{key}_iqm"),
                ci_text(r, f"{key}_mean"),
                *([_fmt(r[f"{key}_iqm_heldout"], 2)] if held else []),
                ci_text(r, "p_improve"),
                *(ci_text(r, c.key, c.decimals) if c.ci else _fmt(r[c.key], c.decimals)
                  for c in view.columns),
                f"{r['failed']}/{r['cells']}",
            ]
        )  # fmt: skip
        if r["failed"]:
            notes.append(f"- `{r['agent']}` failed {r['failed']}/{r['cells']} cells: {r['error']}")
    rank_text = view.rank_legend
    if view is MARKET_VIEW:
        rank_text = rank_text.replace("the low reference", f"`{low}`").replace(
            "the high reference", f"`{high}`"
        )
    where = (
        f"\n- Money and market columns leave out the {len(excluded)} runs without a score "
        f"scale, for every agent: {describe_runs(list(excluded))}."
        if excluded
        else ""
    )
    better = (
        "saves members more"
        if view.improve_on == "members_saving_eur"
        else f"has a higher {view.improve_on}"
    )
    lines = _table(headers, rows)
    lines += [
        "",
        legend(
            [
                (f"{head} IQM / mean", rank_text),
                *([(f"{head} IQM held-out", "the IQM over held-out scenarios only")]
                  if held else []),
                (f"P(> {baseline})", f"probability that a run of the agent {better} than a "
                 f"run of `{baseline}` on the same scenario (ties count half), mean over "
                 "scenarios"),
                *((c.header, c.legend) for c in view.columns),
                ("failed", "failed cells / cells"),
            ]
        ) + where,
    ]  # fmt: skip
    if view.detail:
        rows = [
            [f"`{r['agent']}`", *(_fmt(r[c.key], c.decimals) for c in view.detail)] for r in summary
        ]
        lines += ["", *_table(["agent", *(c.header for c in view.detail)], rows), ""]
        lines.append(legend([(c.header, c.legend) for c in view.detail]) + where)
    return "\n".join(lines + (["", *notes] if notes else []))
