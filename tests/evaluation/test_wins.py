"""What wins where (evaluation/wins.py): each agent's gain over `rule`, paired by seed and
split exactly into the markets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.metrics import LEDGER_MARKETS
from evaluation.report import RESULTS, load
from evaluation.wins import (
    deviations_markdown,
    gains_over_reference,
    versus_markdown,
    wins_markdown,
)


def _row(agent: str, seed: int, spot: float, capacity: float, days: int = 7) -> dict:
    cash = {f"coalition_revenue_{m}_eur": 0.0 for m in LEDGER_MARKETS}
    cash |= {"coalition_revenue_spot_eur": spot, "coalition_revenue_capacity_eur": capacity}
    return {"scenario": "s", "agent": agent, "seed": seed, "days": days, "status": "ok",
            "members_saving_eur": 100.0 + spot + capacity} | cash  # fmt: skip


def test_gains_are_paired_by_seed_and_split_by_market():
    """`ppo` beats `rule` by 10 EUR of spot cash on seed 0 and 30 of capacity cash on seed
    1; a seed `rule` did not finish (2) is left out rather than compared with nothing."""
    df = pd.DataFrame([
        _row("rule", 0, -50.0, 0.0), _row("rule", 1, -70.0, 5.0),
        _row("ppo", 0, -40.0, 0.0), _row("ppo", 1, -70.0, 35.0), _row("ppo", 2, 999.0, 0.0),
    ])  # fmt: skip
    g = gains_over_reference(df, ["rule", "ppo"])
    assert g.agent.tolist() == ["ppo"] and g.seeds.tolist() == [2]
    assert g.spot.iloc[0] == pytest.approx(5.0) and g.capacity.iloc[0] == pytest.approx(15.0)
    assert g.total.iloc[0] == pytest.approx(20.0)
    text = wins_markdown(g)
    assert "| `ppo` | +20 |" in text and "**+15**" in text


def test_gains_scale_to_a_week():
    df = pd.DataFrame([_row("rule", 0, 0.0, 0.0, days=2), _row("mpc", 0, 20.0, 0.0, days=2)])
    assert gains_over_reference(df, ["mpc"]).total.iloc[0] == pytest.approx(20.0 * 7 / 2)


def test_shipped_gains_sum_to_the_saving_difference():
    df = load(RESULTS)
    g = gains_over_reference(df, sorted(df.agent.unique()))
    markets = [m for m in LEDGER_MARKETS if m in g]
    np.testing.assert_allclose(g[markets].sum(axis=1), g.total, atol=1e-6)
    assert set(g.agent) == set(df.agent) - {"rule"}


def test_the_deviation_check_reads_real_time_purchases_and_capacity_cash():
    """Agent `ppo` buys 840 MWh more in real time a week than `rule` (the audit's
    `underbuy_5mw`) and earns 30 EUR more of capacity cash on its one seed."""
    df = pd.DataFrame([_row("rule", 0, -50.0, 0.0), _row("ppo", 0, -50.0, 30.0)])
    df["coalition_imbalance_bought_mwh"] = [5.0, 845.0]
    text = deviations_markdown(df, ["rule", "ppo"])
    assert "| `ppo` | 845 | 845 | +30 |" in text and "| `rule` | 5 | 5 | - |" in text


def test_versus_table_has_a_row_per_scenario_and_the_median():
    df = pd.DataFrame([_row("mpc", 0, -50.0, 0.0), _row("mappo", 0, -40.0, -4.0)])
    text = versus_markdown(df, "mappo", "mpc")
    assert "| `s` | +6 | +10 | -4 |" in text and "| median | +6 | +10 | -4 |" in text
    assert versus_markdown(df, "ppo", "mpc").startswith("No paired cells")
