"""Streamlit page: pooled procurement (the seed's tool, on :mod:`evaluation.app.pooled`)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from envs.data.real_profiles import BDEW_PROFILES
from envs.errors import ConfigError
from evaluation.app import pooled
from evaluation.app.pooled import EDITOR_COLUMNS, SECTOR_LABELS, PoolRun

__all__ = ["render"]

_COLORS = {"load": "#333333", "solar": "#f2b701", "wind": "#3a86ff"}


def _state() -> st.runtime.state.SessionStateProxy:
    """Session keys of this page, created on first visit."""
    ss = st.session_state
    if "pool_frame" not in ss:  # a test (or a later feature) may preset the table
        ss.pool_frame = pooled.default_frame()
    for key, make in (
        ("pool_editor_v", int),
        ("pool_csvs", dict),
        ("pool_run", lambda: None),
        ("pool_csv_dir", lambda: tempfile.mkdtemp(prefix="coalition_app_csv_")),
    ):
        if key not in ss:
            ss[key] = make()
    return ss


def _replace_frame(frame: pd.DataFrame) -> None:
    """Swap the table shown; a new editor key makes the widget start from ``frame``."""
    ss = st.session_state
    ss.pool_frame = frame.reset_index(drop=True)
    ss.pool_editor_v += 1
    st.rerun()


def _editor() -> pd.DataFrame:
    """The participants table with add/remove/reset controls; returns the edited rows."""
    ss = _state()
    config = {
        "name": st.column_config.TextColumn(EDITOR_COLUMNS["name"], required=True),
        "sector": st.column_config.SelectboxColumn(
            EDITOR_COLUMNS["sector"], options=list(SECTOR_LABELS.values()), required=True
        ),
        "bdew_profile": st.column_config.SelectboxColumn(
            EDITOR_COLUMNS["bdew_profile"],
            options=list(BDEW_PROFILES),
            help="BDEW standard load profile used with real profiles (demandlib)",
        ),
        "baseload_share": st.column_config.NumberColumn(
            EDITOR_COLUMNS["baseload_share"],
            min_value=0.0,
            max_value=1.0,
            step=0.05,
            help="flat share blended into the real load shape (24/7 sites), 0-1",
        ),
    }
    for key in ("annual_load_mwh", "solar_mwh", "wind_mwh"):
        config[key] = st.column_config.NumberColumn(
            EDITOR_COLUMNS[key], min_value=0.0, step=1000.0, format="%.0f"
        )
    for key in ("certificate_price_eur_per_mwh", "shortage_price_eur_per_mwh"):
        config[key] = st.column_config.NumberColumn(EDITOR_COLUMNS[key], min_value=0.0)
    edited = st.data_editor(
        ss.pool_frame,
        key=f"pool_editor_{ss.pool_editor_v}",
        hide_index=True,
        column_config=config,
        num_rows="fixed",
    )
    load = pd.to_numeric(edited["annual_load_mwh"], errors="coerce").sum()
    st.caption(f"{len(edited)} participants in the table, {load:,.0f} MWh of load a year.")
    add, remove_col, remove, reset = st.columns([1, 2, 1, 1], vertical_alignment="bottom")
    if add.button("Add participant", key="pool_add"):
        _replace_frame(pooled.new_participant(edited))
    names = [str(n) for n in edited["name"]]
    gone = remove_col.selectbox("Participant to remove", names, key="pool_remove_name")
    if remove.button("Remove participant", key="pool_remove") and gone is not None:
        ss.pool_csvs.pop(gone, None)
        _replace_frame(edited[edited["name"].astype(str) != gone])
    if reset.button("Shipped six", key="pool_reset", help="back to pooled_procurement.yaml"):
        ss.pool_csvs = {}
        _replace_frame(pooled.default_frame())
    return edited


def _uploads(names: list[str]) -> None:
    """Attach a user's hourly CSV to one participant (validated on upload)."""
    ss = _state()
    with st.expander("Real profiles from your own CSV"):
        st.caption(
            "One row per hour of the year (8 760 rows): `timestamp` (ISO 8601, hourly), "
            "`load_mw`, and optionally `solar_mw`, `wind_mw` (MW >= 0). The file's shapes "
            "replace the participant's; its annual volumes still scale them."
        )
        who = st.selectbox("Participant", names, key="pool_csv_who")
        upload = st.file_uploader("Profile CSV", type=["csv"], key="pool_csv_file")
        if upload is not None and who is not None:
            try:
                path = pooled.validate_user_csv(
                    upload.getvalue(), f"{who}_{upload.name}", Path(ss.pool_csv_dir)
                )
            except ValueError as exc:
                st.error(f"This CSV was not attached: {exc}")
            else:
                ss.pool_csvs[who] = str(path)
                st.success(f"{upload.name} is attached to {who}.")
        attached = {n: p for n, p in ss.pool_csvs.items() if n in names}
        for name, path in attached.items():
            cols = st.columns([4, 1])
            cols[0].write(f"{name}: `{Path(path).name}`")
            if cols[1].button("Detach", key=f"pool_detach_{name}"):
                ss.pool_csvs.pop(name)
                st.rerun()


def _scores(run: PoolRun) -> None:
    pool = run.report
    cols = st.columns(4)
    for col, (key, label) in zip(cols, pooled.SCORES.items(), strict=True):
        col.metric(f"Pool {label}", f"{pool[key]['pool']:.2f} %")
    st.markdown("**Hourly matching by participant** (%)")
    st.dataframe(pooled.scores_table(pool).style.format("{:.2f}"))
    st.markdown("**Financials** (EUR per year; + = received)")
    st.dataframe(pooled.money_table(pool).style.format("{:,.0f}"))


def _dispatch_figure(hourly: pd.DataFrame, who: str) -> go.Figure:
    fig = go.Figure()
    for key in ("wind", "solar"):
        fig.add_trace(
            go.Scatter(
                x=hourly.timestamp,
                y=hourly[f"{key}_mwh"],
                name=key,
                stackgroup="gen",
                line={"width": 0},
                fillcolor=_COLORS[key],
            )
        )
    fig.add_trace(
        go.Scatter(x=hourly.timestamp, y=hourly.load_mwh, name="load", line={"color": "black"})
    )
    week = (hourly.timestamp.iloc[4344], hourly.timestamp.iloc[4344 + 167])  # 1-7 July
    fig.update_xaxes(range=week, rangeslider_visible=True)
    fig.update_layout(
        title=f"Hourly dispatch: {who} load against solar and wind",
        yaxis_title="MWh per hour",
        height=450,
    )
    return fig


def _monthly_figure(monthly: pd.DataFrame, who: str) -> go.Figure:
    fig = go.Figure()
    fig.add_bar(
        x=monthly.month,
        y=monthly.load_mwh,
        name="load",
        marker_color=_COLORS["load"],
        offsetgroup="load",
    )
    for key in ("wind", "solar"):
        fig.add_bar(
            x=monthly.month,
            y=monthly[f"{key}_mwh"],
            name=key,
            marker_color=_COLORS[key],
            offsetgroup="gen",
        )
    fig.update_layout(barmode="relative", title=f"Monthly balance: {who}", yaxis_title="MWh")
    return fig


def _net_figure(hourly: pd.DataFrame, who: str) -> go.Figure:
    net = hourly.net_mwh
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=hourly.timestamp,
            y=net.clip(lower=0),
            name="long (surplus)",
            fill="tozeroy",
            line={"width": 0, "color": "seagreen"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=hourly.timestamp,
            y=net.clip(upper=0),
            name="short (deficit)",
            fill="tozeroy",
            line={"width": 0, "color": "firebrick"},
        )
    )
    fig.update_xaxes(rangeslider_visible=True)
    fig.update_layout(
        title=f"Hourly net position (solar + wind - load): {who}",
        yaxis_title="MWh per hour",
        height=450,
    )
    return fig


def _match_figure(report: dict) -> go.Figure:
    long = pooled.match_table(report)
    fig = go.Figure()
    for measure, rows in long.groupby("measure", sort=False):
        fig.add_bar(
            x=rows.participant,
            y=rows.pct,
            name=measure,
            text=rows.pct.round(1),
            textposition="outside",
        )
    fig.update_layout(
        barmode="group",
        yaxis={"title": "% of load matched hourly", "range": [0, 105]},
        title="Individual against pooled hourly match",
    )
    return fig


def _charts(run: PoolRun) -> None:
    who = st.selectbox("Show", ["pool", *run.names], key="pool_who")
    hourly = pooled.hourly_series(run, who)
    tabs = st.tabs(["Hourly dispatch", "Monthly balance", "Net position", "Individual vs pooled"])
    with tabs[0]:
        st.plotly_chart(_dispatch_figure(hourly, who))
    with tabs[1]:
        st.plotly_chart(_monthly_figure(pooled.monthly_balance(run, who), who))
    with tabs[2]:
        st.plotly_chart(_net_figure(hourly, who))
    with tabs[3]:
        st.plotly_chart(_match_figure(run.report))
    st.download_button(
        "Download hourly CSV",
        pooled.hourly_csv_bytes(run),
        file_name="pooled_hourly.csv",
        mime="text/csv",
        help="each participant's hourly load, solar, wind and swaps, MWh (the CLI's --hourly-csv)",
    )


def render() -> None:
    """Draw the page."""
    ss = _state()
    st.title("Pooled procurement")
    st.caption(
        "Buyers pool their load and solar/wind contracts for a year (8 760 h) and swap "
        "surplus certificates hour by hour; the same simulation as "
        "`python -m evaluation.cfe`."
    )
    left, mid, right = st.columns(3)
    source = left.radio(
        "Profiles",
        ["synthetic", "real"],
        horizontal=True,
        key="pool_profiles",
        help="synthetic: seeded shapes; real: pvlib TMY3 weather, demandlib BDEW loads, "
        "windpowerlib turbine curves (the real extra)",
    )
    seed = mid.number_input("Seed (synthetic)", min_value=0, value=0, step=1, key="pool_seed")
    swap = right.number_input(
        "Swap price EUR/MWh", min_value=0.0, value=10.0, step=1.0, key="pool_swap"
    )
    edited = _editor()
    _uploads([str(n) for n in edited["name"]])
    if st.button("Run simulation", type="primary", key="pool_run_button"):
        try:
            cfg = pooled.scenario_from_frame(
                edited,
                profiles=source,
                seed=int(seed),
                swap_price_eur_per_mwh=float(swap),
                csv_paths=ss.pool_csvs,
            )
            with st.spinner("Simulating 8 760 hours..."):
                ss.pool_run = pooled.simulate(cfg)
        except (ConfigError, ValueError, ImportError, FileNotFoundError) as exc:
            ss.pool_run = None
            st.error(f"Cannot run this pool: {exc}")
    run: PoolRun | None = ss.pool_run
    if run is None:
        st.info("Edit the pool, then press **Run simulation**.")
        return
    st.caption(
        f"Results of the last run: {len(run.names)} participants, "
        f"{run.report['profiles']} profiles, seed {run.report['seed']}."
    )
    _scores(run)
    _charts(run)
