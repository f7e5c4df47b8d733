"""The leaderboard's money: per member-week medians, excluded scenarios, the table by
scenario and the reasons for losses, on hand-made results (issue 20)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from evaluation.leaderboard import MARKET_VIEW, excluded_runs, markdown, summarise
from evaluation.metrics import LEDGER_MARKETS, normalised_score
from evaluation.money import loss_reasons, scenario_markdown, scenario_money


def _cell(agent: str, scenario: str, seed: int, saving: float, **cash: float) -> dict:
    """One ok cell of 7 days with 10 members whose bills alone are 1,000 EUR."""
    row = {
        "env": "multimarket_v1", "agent": agent, "scenario": scenario, "split": "train",
        "seed": seed, "days": 7, "status": "ok", "error": None, "n_members": 10.0,
        "members_alone_eur": 1000.0, "members_saving_eur": saving,
        "members_saving_pct": saving / 10.0, "share_better_off_pct": 50.0,
        "gini_savings": 0.3, "coalition_spot_bought_mwh": 10.0,
        "coalition_spot_bought_eur": 2000.0, "coalition_imbalance_bought_mwh": 0.0,
        "coalition_imbalance_bought_eur": 0.0,
    }  # fmt: skip
    # The saving is the bills alone plus the coalition's cash over the markets.
    rest = saving - 1000.0 - sum(cash.values())
    row |= {f"coalition_revenue_{m}_eur": 0.0 for m in LEDGER_MARKETS}
    row |= {f"coalition_revenue_{m}_eur": v for m, v in cash.items()}
    row["coalition_revenue_network_eur"] += rest
    return row


@pytest.fixture
def frame() -> pd.DataFrame:
    rows = []
    for seed, noise in ((0, 0.0), (1, 20.0)):
        # "plain": everybody saves, mpc most; "big": the oracle falls below the
        # individual actors and every saving is a thousand times larger (no score scale).
        rows += [
            _cell("individual", "plain", seed, 100.0 + noise, spot=-600.0),
            _cell("oracle", "plain", seed, 300.0 + noise, spot=-400.0),
            _cell("mpc", "plain", seed, 250.0 + noise, spot=-450.0),
            _cell("bad", "plain", seed, -50.0 + noise, spot=-500.0, capacity=-300.0),
            _cell("individual", "big", seed, -1e5, imbalance=-9e4),
            _cell("oracle", "big", seed, -2e5, imbalance=-1.5e5),
            _cell("mpc", "big", seed, -1.5e5, imbalance=-1.2e5),
            _cell("bad", "big", seed, -3e5, imbalance=-2e5),
        ]
    df = pd.DataFrame(rows)
    df["normalised_score"] = normalised_score(df)
    return df


def test_money_across_scenarios_leaves_out_scenarios_without_a_score_scale(frame):
    excluded = excluded_runs(frame, low="individual", high="oracle")
    assert excluded == [("big", 0), ("big", 1)]
    summary = summarise(frame, MARKET_VIEW, baseline="mpc", n_resamples=200, exclude=excluded)
    by = {r["agent"]: r for r in summary}
    # mpc on "plain": savings 250 and 270 over 10 members and one week -> 26.0
    assert by["mpc"]["members_saving_eur_per_member_week"] == pytest.approx(26.0)
    assert by["bad"]["members_saving_eur_per_member_week"] == pytest.approx(-4.0)
    assert by["mpc"]["coalition_revenue_imbalance_eur_per_member_week"] == 0.0  # not "big"
    assert by["oracle"]["normalised_score_iqm"] == pytest.approx(1.0)
    text = markdown(summary, MARKET_VIEW, baseline="mpc", excluded=excluded)
    assert "leave out the 2 runs without a score scale, for every agent: `big` (2 seeds)" in text
    # every column of both tables is in a legend under it
    for col in (*MARKET_VIEW.columns, *MARKET_VIEW.detail):
        assert f"- *{col.header}*: " in text
    assert "Lerner" in text and "whose offer sets the price" in text


def test_the_table_by_scenario_and_the_reasons_for_losses(frame):
    order = ["oracle", "mpc", "individual", "bad"]
    money = scenario_money(frame, order, n_resamples=200)
    plain = next(m for m in money if m["scenario"] == "plain")
    assert plain["alone_eur_per_week"] == 1000.0 and plain["n_members"] == 10.0
    mpc = plain["agents"]["mpc"]
    assert mpc["saving_eur_per_week"] == pytest.approx(260.0)
    assert mpc["saving_eur_per_week_low"] <= 260.0 <= mpc["saving_eur_per_week_high"]
    assert mpc["saving_pct"] == pytest.approx(26.0)
    reasons = {r["scenario"]: r for r in loss_reasons(frame, order)}
    # Every agent loses on "big": the best (individual) pays most in imbalance.
    big = reasons["big"]
    assert big["agent"] == "individual" and big["reference_agent"] is None
    assert big["market"] == "imbalance" and big["amount_eur_per_week"] == -9e4
    assert "all 4 agents lose" in big["line"] and "imbalance, -90.0k EUR/week" in big["line"]
    # Only "bad" loses on "plain": 300 EUR/week behind the oracle in the capacity market.
    plain = reasons["plain"]
    assert plain["losers"] == ["bad"] and plain["reference_agent"] == "oracle"
    assert plain["market"] == "capacity" and plain["amount_eur_per_week"] == -300.0
    text = scenario_markdown(money, order, list(reasons.values()))
    assert "| `plain` | train | 10 | 1,000 | 310 [300, 320] (31%) |" in text
    assert "- *bills alone EUR/week*: " in text and plain["line"] in text


def test_no_reason_where_nobody_loses(frame):
    ok = frame[(frame.scenario == "plain") & (frame.agent != "bad")]
    assert loss_reasons(ok, ["oracle", "mpc", "individual"]) == []
    assert math.isnan(
        summarise(ok.assign(n_members=math.nan), MARKET_VIEW, baseline="mpc", n_resamples=50)[0][
            "members_saving_eur_per_member_week"
        ]
    )


def test_where_every_agent_loses_the_reason_compares_with_default(frame):
    # "plain" renamed "default": on "big" each agent is compared with itself there.
    df = frame.replace({"scenario": {"plain": "default"}})
    big = next(r for r in loss_reasons(df, ["oracle", "mpc", "individual", "bad"])
               if r["scenario"] == "big")  # fmt: skip
    # individual: imbalance -90k on "big" against 0 on "default"; network changes less
    assert big["reference_scenario"] == "default" and big["reference_agent"] == "individual"
    assert big["market"] == "imbalance" and big["amount_eur_per_week"] == -9e4
    assert "Against its own result on `default` (saving 110 EUR/week)" in big["line"]
