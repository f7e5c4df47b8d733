"""Streamlit page: episode viewer (one multi-market episode, hour by hour)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

import agents
import envs
import envs.registry
from envs.errors import ActionError, ConfigError, UnknownNameError
from envs.registry import MARKET_FAMILY
from evaluation.app import episode as epi

__all__ = ["render"]

#: Built-in agents that play the coalition and members of the market envs.
MARKET_AGENTS = (
    "rule",
    "individual",
    "mpc",
    "oracle",
    "admm",
    "ppo",
    "mappo",
    "mappo_mpc_start",
    "random",
)


def _preset() -> None:
    """Apply a link's ``?env=&scenario=&seed=&days=&agent=`` once per session.

    A link names the episode to look at (``/episode?scenario=heatwave_scarcity&days=2``);
    a name or number the page cannot use is reported in the page, and the widget keeps
    its default.
    """
    ss, query = st.session_state, st.query_params
    if ss.get("ep_preset_done"):
        return
    ss.ep_preset_done = True
    problems = []
    env_id = query.get("env", MARKET_FAMILY[0])
    if env_id in MARKET_FAMILY:
        ss.ep_env = env_id
    else:
        problems.append(f"unknown env {env_id!r}; valid envs: {', '.join(MARKET_FAMILY)}")
        env_id = MARKET_FAMILY[0]
    if "scenario" in query:
        try:
            envs.registry.scenario_file(query["scenario"], env_id)
        except UnknownNameError as exc:
            problems.append(str(exc))
        else:
            ss.ep_scenario = query["scenario"]
    for key, low in (("seed", 0), ("days", 1)):
        if key in query:
            try:
                value = int(query[key])
                if value < low:
                    raise ValueError
            except ValueError:
                problems.append(f"{key}={query[key]!r}; expected a whole number >= {low}")
            else:
                ss[f"ep_{key}"] = value
    if query.get("agent") in MARKET_AGENTS:
        ss.ep_kind, ss.ep_builtin = "built-in", query["agent"]
    elif "agent" in query:
        problems.append(f"unknown agent {query['agent']!r}; built-ins: {', '.join(MARKET_AGENTS)}")
    ss.ep_link_problems = problems


def _inputs() -> tuple[str, str, int, int, str] | None:
    """The run's settings; None (after showing why) when the agent cannot be named."""
    _preset()
    for problem in st.session_state.get("ep_link_problems", []):
        st.error(f"This link's setting was not used: {problem}")
    c1, c2, c3, c4 = st.columns([1, 2, 1, 1])
    env_id = c1.selectbox("Env", list(MARKET_FAMILY), key="ep_env")
    names = envs.list_scenarios(env_id)
    if st.session_state.get("ep_scenario") not in names:  # e.g. after switching env
        st.session_state.ep_scenario = "default" if "default" in names else names[0]
    scenario = c2.selectbox(
        "Scenario", names, key="ep_scenario", help="a shipped scenario (configs/scenarios)"
    )
    for key, default in (("ep_seed", 1000), ("ep_days", 2)):
        st.session_state.setdefault(key, default)
    seed = c3.number_input("Seed", min_value=0, step=1, key="ep_seed")
    days = c4.number_input("Days", min_value=1, max_value=14, step=1, key="ep_days")
    a1, a2, a3 = st.columns([1, 2, 2])
    kind = a1.radio("Agent", ["built-in", "class path", "checkpoint"], key="ep_kind")
    checkpoint = ""
    if kind == "built-in":
        value = a2.selectbox(
            "Built-in agent", [a for a in MARKET_AGENTS if a in agents.BUILTINS], key="ep_builtin"
        )
    elif kind == "class path":
        value = a2.text_input(
            "Class path",
            "agents.simple:RulePolicy",
            key="ep_class",
            help="any importable policy class, package.module:Class",
        )
    else:
        value = a2.selectbox("Learned policy", ["mappo", "ppo"], key="ep_learned")
        checkpoint = a3.text_input(
            "Checkpoint (.pt)", "agents/checkpoints/mappo.pt", key="ep_checkpoint"
        )
    try:
        name = epi.agent_name(kind, value or "", checkpoint)
    except ValueError as exc:
        st.error(str(exc))
        return None
    return env_id, str(scenario or ""), int(seed), int(days), name


def _run(env_id: str, scenario: str, seed: int, days: int, name: str) -> None:
    bar = st.progress(0.0, text="starting (building the env and the agent)...")

    def progress(done: int, total: int) -> None:
        bar.progress(done / total, text=f"hour {done} of {total}")

    try:
        st.session_state.ep_run = epi.run_viewer_episode(
            env_id, scenario, seed, days, name, progress=progress
        )
    except (UnknownNameError, ConfigError, ActionError, ValueError, ImportError, OSError) as exc:
        st.session_state.ep_run = None
        st.error(f"Cannot run this episode: {exc}")
    finally:
        bar.empty()


def _prices(ep: epi.ViewerEpisode) -> None:
    pr = epi.prices_frame(ep)
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=(
            "spot, EUR/MWh",
            "reserve, EUR/MW",
            "capacity (standing auction price), EUR/MW-day",
        ),
    )
    fig.add_trace(go.Scatter(x=pr.hour, y=pr.spot_eur_per_mwh, name="spot", line_shape="hv"), 1, 1)
    fig.add_trace(
        go.Scatter(x=pr.hour, y=pr.reserve_eur_per_mw, name="reserve", line_shape="hv"), 2, 1
    )
    fig.add_trace(
        go.Scatter(x=pr.hour, y=pr.capacity_eur_per_mw_day, name="capacity", line_shape="hv"), 3, 1
    )
    fig.update_layout(height=560, showlegend=False)
    fig.update_xaxes(title_text="hour", row=3, col=1)
    st.plotly_chart(fig)


def _merit(ep: epi.ViewerEpisode) -> None:
    hours = len(ep.books)
    t = st.slider("Hour", 0, hours - 1, value=min(18, hours - 1), key="ep_hour")
    supply, demand, price = epi.merit_order(ep, t)
    st.metric(f"Spot price, hour {t}", f"{price:,.2f} EUR/MWh")
    accepted = supply.price_eur_per_mwh[supply.accepted_mw > 0]
    top = max(2.0 * price, 1.2 * float(accepted.max()) if len(accepted) else 0.0, 100.0)
    # Blocks rise from the bottom of the view, so zero-priced renewables and must-run output
    # (offered at the price floor, far below) stay visible; the hover gives the true price.
    bottom = min(-20.0, price - 20.0)
    fig = go.Figure()
    x0 = supply.quantity_mw.cumsum() - supply.quantity_mw
    for owner in dict.fromkeys(supply.owner):
        rows = supply.owner == owner
        fig.add_bar(
            x=(x0 + supply.quantity_mw / 2)[rows],
            y=(supply.price_eur_per_mwh[rows].clip(bottom + 8.0, top) - bottom),
            base=bottom,
            width=supply.quantity_mw[rows],
            name=owner,
            # Accepted blocks solid, rejected ones pale.
            marker_opacity=[1.0 if a > 1e-9 else 0.35 for a in supply.accepted_mw[rows]],
            customdata=supply[rows][["block", "quantity_mw", "accepted_mw", "price_eur_per_mwh"]],
            hovertemplate="%{customdata[0]}: %{customdata[1]:.1f} MW offered at "
            "%{customdata[3]:.1f} EUR/MWh, %{customdata[2]:.1f} MW accepted",
        )
    dq = demand.quantity_mw.cumsum()
    fig.add_trace(
        go.Scatter(
            x=[0.0, *dq],
            y=[demand.price_eur_per_mwh.iloc[0], *demand.price_eur_per_mwh],
            mode="lines",
            line_shape="vh",
            name="demand",
            line={"color": "black", "width": 2},
        )
    )
    fig.add_hline(
        y=price,
        line_dash="dash",
        annotation_text=f"clearing price {price:.1f} EUR/MWh",
        annotation_position="top left",
    )
    fig.update_yaxes(range=[bottom, top], title="EUR/MWh")
    fig.update_xaxes(title="MW (cumulative)")
    fig.update_layout(
        bargap=0,
        height=480,
        title=f"Merit order and clearing, hour {t} (pale: not accepted; must-run at the "
        "floor and demand at the cap lie outside the view)",
    )
    st.plotly_chart(fig)


def _dispatch(ep: epi.ViewerEpisode) -> None:
    disp = epi.dispatch_frame(ep)
    fig = go.Figure(
        [
            go.Scatter(
                x=disp.index,
                y=disp[c],
                name=c,
                stackgroup="one",
                line={"width": 0.5},
                line_shape="hv",
            )
            for c in disp.columns
        ]
    )
    fig.update_layout(
        title="Spot energy sold by unit", xaxis_title="hour", yaxis_title="MWh per hour", height=420
    )
    st.plotly_chart(fig)


def _batteries(ep: epi.ViewerEpisode) -> None:
    bat = epi.battery_frame(ep)
    members = [c for c in bat.columns if c.startswith("member_") and bat[c].notna().any()]
    if not members:
        st.info("No member of this scenario has a battery.")
        return
    fig = go.Figure(
        go.Heatmap(
            z=bat[members].T.to_numpy(),
            x=bat.index,
            y=members,
            colorscale="Blues",
            zmin=0,
            zmax=100,
            colorbar={"title": "SoC %"},
        )
    )
    fig.update_layout(
        title="Members' batteries: state of charge (% of capacity) at each hour",
        xaxis_title="hour",
        height=160 + 14 * len(members),
    )
    st.plotly_chart(fig)
    st.line_chart(bat.total_mwh, x_label="hour", y_label="stored energy, all members, MWh")


def _ledger(ep: epi.ViewerEpisode) -> None:
    cash, members = epi.ledger_tables(ep)
    left, right = st.columns([3, 2])
    with left:
        st.markdown(
            "**Ledger: cash by market and participant** (EUR over the episode; + = received)"
        )
        st.dataframe(cash.style.format("{:,.0f}"))
    with right:
        st.markdown("**Counterfactual: each member alone against in the coalition** (EUR)")
        shown = members.rename(
            columns={
                "alone_eur": "bill alone",
                "cost_eur": "cost in coalition",
                "saving_eur": "saving",
            }
        )
        st.dataframe(shown.style.format("{:,.2f}"))


def render() -> None:
    """Draw the page."""
    st.title("Episode viewer")
    st.caption(
        "Play one deterministic episode with any agent (the loop of "
        "`python -m evaluation.compare`'s cells) and look inside it."
    )
    chosen = _inputs()
    if st.button("Run episode", type="primary", key="ep_run_button", disabled=chosen is None):
        st.session_state.ep_link_problems = []
        assert chosen is not None  # the button is disabled without a run's settings
        _run(*chosen)
    ep: epi.ViewerEpisode | None = st.session_state.get("ep_run")
    if ep is None:
        st.info("Pick the env, scenario, seed, days and agent, then press **Run episode**.")
        return
    m = ep.metrics
    st.caption(f"{ep.agent} on {ep.env_id}/{ep.scenario}, seed {ep.seed}, {ep.days} days.")
    cols = st.columns(4)
    cols[0].metric("Members' saving", f"{m['members_saving_eur']:,.0f} EUR")
    cols[1].metric("Saving vs alone", f"{m['members_saving_pct']:.1f} %")
    cols[2].metric("Members better off", f"{m['share_better_off_pct']:.0f} %")
    cols[3].metric(
        "Mean spot price", f"{pd.Series(epi.prices_frame(ep).spot_eur_per_mwh).mean():,.1f} EUR/MWh"
    )
    tabs = st.tabs(["Prices", "Merit order", "Dispatch", "Batteries", "Ledger"])
    with tabs[0]:
        _prices(ep)
    with tabs[1]:
        _merit(ep)
    with tabs[2]:
        _dispatch(ep)
    with tabs[3]:
        _batteries(ep)
    with tabs[4]:
        _ledger(ep)
