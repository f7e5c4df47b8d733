"""Streamlit page: leaderboard explorer over a ``python -m evaluation.compare`` folder."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from evaluation.app import RESULTS_ENV
from evaluation.app import leaderboard as lb
from evaluation.latest import FULL_OUT

__all__ = ["render"]


def _ci(point: float, low: float, high: float, decimals: int = 2) -> str:
    """``point [low, high]`` as the CLI's leaderboard.md writes it; ``n/a`` for NaN."""
    if math.isnan(point):
        return "n/a"
    return f"{point:.{decimals}f} [{low:.{decimals}f}, {high:.{decimals}f}]"


def _ranking(res: lb.Results) -> None:
    rank = lb.ranking(res)
    suite = res.summary.get("suite", {})
    label = res.view.rank_header
    st.subheader("Ranking")
    st.caption(
        f"{label}: IQM and mean over {suite.get('n_seeds', '?')} seeds x "
        f"{len(res.scenarios)} scenarios with 95% stratified bootstrap intervals"
        + (
            f"; 0 = `{suite.get('low')}`, 1 = `{suite.get('high')}`; P(> `{suite.get('baseline')}`)"
            " compares savings."
            if res.view is lb.MARKET_VIEW
            else "."
        )
    )
    shown = pd.DataFrame(
        {
            "rank": rank["rank"],
            "agent": rank.agent,
            f"{label} IQM [95% CI]": [
                _ci(r.iqm, r["iqm low"], r["iqm high"]) for _, r in rank.iterrows()
            ],
            f"{label} mean [95% CI]": [
                _ci(r["mean"], r["mean low"], r["mean high"]) for _, r in rank.iterrows()
            ],
            f"P(> {suite.get('baseline', 'baseline')})": [
                _ci(r["P(> baseline)"], r["P low"], r["P high"]) for _, r in rank.iterrows()
            ],
            "failed": rank.failed,
        }
    ).set_index("rank")
    st.table(shown)
    fig = go.Figure()
    for stat, symbol in (("iqm", "circle"), ("mean", "square")):
        fig.add_trace(
            go.Scatter(
                x=rank[stat],
                y=rank.agent,
                mode="markers",
                name=stat.upper(),
                marker_symbol=symbol,
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": rank[f"{stat} high"] - rank[stat],
                    "arrayminus": rank[stat] - rank[f"{stat} low"],
                },
            )
        )
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(xaxis_title=f"{label} (95% CI)", height=120 + 40 * len(rank))
    st.plotly_chart(fig)


def _heatmap(res: lb.Results) -> None:
    table = lb.heatmap_table(res)
    st.subheader(f"Scenario x agent: mean {res.view.rank_header}")
    values = table.to_numpy(dtype=float)
    text = [["" if math.isnan(v) else f"{v:.2f}" for v in row] for row in values]
    fig = go.Figure(
        go.Heatmap(
            z=values,
            x=list(table.columns),
            y=list(table.index),
            text=text,
            texttemplate="%{text}",
            colorscale="Viridis",
            colorbar={"title": res.view.rank_header},
        )
    )
    fig.update_layout(height=max(320, 160 + 35 * len(table)))
    st.plotly_chart(fig)


def _drilldown(res: lb.Results) -> None:
    st.subheader("One scenario")
    scenario = st.selectbox("Scenario", res.scenarios, key="lb_scenario")
    if scenario is None:
        return
    value = res.view.improve_on
    seeds = lb.per_seed(res, scenario)
    if seeds.empty:
        st.warning(f"No finished cell on {scenario}.")
        return
    st.markdown(f"**Per seed: {value}**")
    st.table(seeds.map(lambda v: "n/a" if math.isnan(v) else f"{v:,.0f}"))
    fig = go.Figure(
        [go.Bar(name=str(seed), x=seeds.columns, y=row) for seed, row in seeds.iterrows()]
    )
    fig.update_layout(barmode="group", yaxis_title=value, legend_title="seed", height=350)
    st.plotly_chart(fig)
    sav = lb.member_savings(res, scenario)
    left, right = st.columns(2)
    with left:
        st.markdown("**Members' savings against acting alone** (EUR per member and episode)")
        if sav.empty:
            st.info("The cells hold no per-member savings (exchange results).")
        else:
            fig = go.Figure(
                [
                    go.Box(y=g.saving_eur, name=a, boxpoints="all", jitter=0.4)
                    for a, g in sav.groupby("agent", sort=False)
                ]
            )
            fig.add_hline(y=0.0, line_color="black", line_width=1)
            fig.update_layout(showlegend=False, yaxis_title="saving EUR", height=380)
            st.plotly_chart(fig)
    with right:
        rev = lb.revenue_by_market(res, scenario)
        st.markdown("**Coalition's cash by market** (EUR, mean over seeds; + = received)")
        if rev.empty or rev.shape[1] == 0:
            st.info("No market revenue in these results.")
        else:
            fig = go.Figure([go.Bar(name=m, x=rev.index, y=rev[m]) for m in rev.columns])
            fig.update_layout(barmode="group", yaxis_title="EUR", height=380)
            st.plotly_chart(fig)
    worse = lb.worse_off(res, scenario)
    if not worse.empty:
        st.markdown("**Members worse off than alone** (member-episodes with saving < 0)")
        st.table(
            worse.set_index("agent").style.format(
                {"worse_off_pct": "{:.1f}", "loss_eur": "{:,.0f}", "worst_eur": "{:,.0f}"}
            )
        )


def _pair(res: lb.Results) -> None:
    st.subheader("Two agents side by side")
    if len(res.agents) < 2:
        st.info("The folder ranks a single agent.")
        return
    left, right = st.columns(2)
    a = left.selectbox("Agent A", res.agents, index=0, key="lb_a")
    b = right.selectbox("Agent B", res.agents, index=1, key="lb_b")
    if a == b:
        st.info("Pick two different agents.")
        return
    table, (p, lo, hi) = lb.compare_agents(res, a, b)
    st.metric(f"P({a} > {b}) on {res.view.improve_on}", _ci(p, lo, hi))
    st.table(table.map(lambda v: "n/a" if pd.isna(v) else f"{v:,.2f}"))


def render() -> None:
    """Draw the page."""
    st.title("Leaderboard explorer")
    default = os.environ.get(RESULTS_ENV, str(FULL_OUT))
    folder = st.text_input(
        "Results folder (python -m evaluation.compare --out DIR)", value=default, key="lb_folder"
    )
    st.caption(f"Showing results from `{Path(folder).resolve()}`")
    try:
        res = lb.load_results(folder)
    except lb.ResultsError as exc:
        st.error(str(exc))
        return
    if res.summary.get("smoke_run"):
        st.warning(
            "Smoke run (`python -m evaluation.compare --quick`): it checks that every agent "
            "runs, it cannot rank them; the order is not significant where the 95% intervals "
            "overlap. Rank agents with the full grid."
        )
    suite = res.summary.get("suite", {})
    st.caption(
        f"{suite.get('env', '?')}: {len(res.agents)} agents x {len(res.scenarios)} scenarios x "
        f"{suite.get('n_seeds', '?')} seeds, {suite.get('days', '?')}-day episodes; "
        f"{int((res.frame.status == 'ok').sum())}/{len(res.frame)} cells ok."
    )
    _ranking(res)
    _heatmap(res)
    _drilldown(res)
    _pair(res)
