"""Metrics on hand-made ledgers with known answers, and the bootstrap wrapper on known data."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

import envs
from evaluation import aggregate, metrics
from evaluation.episode import build_policy, run_episode


def _ledger(rows: list[tuple]) -> pd.DataFrame:
    cols = ["step", "market", "participant", "energy_mwh", "reserve_mw", "capacity_mw", "cash_eur"]
    return pd.DataFrame(rows, columns=cols)


@pytest.fixture
def hand_made() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Two steps, two members, one incumbent (marginal cost 40 EUR/MWh).

    Alone, member_0 pays 60 + 40 = 100 EUR and member_1 50 + 50 = 100 EUR. In the
    coalition member_0 pays 70 EUR (saves 30) and member_1 110 EUR (loses 10).
    """
    ledger = _ledger(
        [
            (0, "spot", "coalition", -1.0, 0, 0, -50.0),  # bought 1 MWh at 50 EUR/MWh
            (0, "spot", "incumbent_0", 1.0, 0, 0, 50.0),
            (0, "reserve", "coalition", 0, 2.0, 0, 8.0),
            (0, "reserve", "background_load", 0, 0, 0, -8.0),
            (0, "allocation", "member_0", 0, 0, 0, -40.0),
            (0, "allocation", "member_1", 0, 0, 0, -60.0),
            (0, "allocation", "coalition", 0, 0, 0, 100.0),
            (1, "spot", "incumbent_0", 3.0, 0, 0, 300.0),  # sold 3 MWh at 100 EUR/MWh
            (1, "spot", "background_load", -3.0, 0, 0, -300.0),
            (1, "capacity", "coalition", 0, 0, 1.0, 12.0),
            (1, "capacity", "background_load", 0, 0, 0, -12.0),
            (1, "allocation", "member_0", 0, 0, 0, -30.0),
            (1, "allocation", "member_1", 0, 0, 0, -50.0),
            (1, "allocation", "coalition", 0, 0, 0, 80.0),
        ]
    )
    cf = pd.DataFrame(
        {
            "step": [0, 0, 1, 1],
            "member": ["member_0", "member_1"] * 2,
            "bill_eur": [60.0, 50.0, 40.0, 50.0],
        }
    )
    record = pd.DataFrame(
        {
            "step": [0, 1],
            "price_eur_per_mwh": [50.0, 100.0],
            "emissions_t": [1.5, 2.5],
            "coalition_emissions_t": [0.25, 0.5],
            "coalition_cfe": [0.5, 1.0],
            "lerner_index": [0.2, 0.6],
            "markup_energy_weighted": [0.1, 0.5],
            "unserved_energy_mwh": [0.0, 4.0],
        }
    )
    fleet = pd.DataFrame({"participant": ["incumbent_0"], "marginal_cost_eur_per_mwh": [40.0]})
    return ledger, cf, record, fleet


def test_metrics_of_a_hand_made_ledger(hand_made):
    ledger, cf, record, fleet = hand_made
    per = metrics.member_savings(ledger, cf)
    assert per.saving_eur.to_dict() == {"member_0": 30.0, "member_1": -10.0}
    m = metrics.cell_metrics(ledger, cf, record, fleet)
    assert m["members_alone_eur"] == 200.0
    assert m["members_cost_eur"] == 180.0
    assert m["members_saving_eur"] == 20.0
    assert m["members_saving_pct"] == pytest.approx(10.0)
    assert m["share_better_off_pct"] == 50.0
    # |30 - (-10)| * 2 ordered pairs / (2 * 2^2 * mean 10) = 80 / 80
    assert m["gini_savings"] == pytest.approx(1.0)
    assert m["coalition_revenue_spot_eur"] == -50.0
    assert m["coalition_revenue_reserve_eur"] == 8.0
    assert m["coalition_revenue_capacity_eur"] == 12.0
    assert m["emissions_t"] == 4.0
    assert m["coalition_emissions_t"] == 0.75
    assert m["cfe_pct"] == pytest.approx(75.0)
    assert m["lerner_index"] == pytest.approx(0.4)
    assert m["unserved_energy_mwh"] == 4.0
    # Hourly offer markups weighted by the fleet's MWh sold: (1 x 0.1 + 3 x 0.5) / 4
    assert m["incumbent_markup"] == pytest.approx((0.1 + 1.5) / 4)


def test_gini_known_values():
    assert metrics.gini(np.full(5, 3.0)) == 0.0
    assert metrics.gini(np.array([0.0, 0.0, 0.0, 4.0])) == pytest.approx(0.75)
    assert metrics.gini(np.array([1.0, 2.0, 3.0])) == pytest.approx(2.0 / 9.0)
    assert np.isnan(metrics.gini(np.array([-1.0, 1.0])))


def test_normalised_score_maps_references_to_0_and_1():
    df = pd.DataFrame(
        {
            "agent": [
                "individual",
                "oracle",
                "mpc",
                "mpc",
                "individual",
                "rule",
                "individual",
                "oracle",
                "mpc",
            ],
            "scenario": ["a", "a", "a", "b", "b", "a"] + ["c"] * 3,
            "seed": [0] * 9,
            "status": ["ok", "ok", "ok", "ok", "ok", "failed"] + ["ok"] * 3,
            "members_saving_eur": [10.0, 30.0, 25.0, 5.0, 1.0, np.nan, 10.0, 5.0, 20.0],
        }
    )
    score = metrics.normalised_score(df)
    assert score.iloc[:3].tolist() == pytest.approx([0.0, 1.0, 0.75])
    assert np.isnan(score.iloc[3])  # no oracle on scenario b
    assert np.isnan(score.iloc[5])  # failed cell
    assert score.iloc[6:].isna().all()  # oracle below individual: no scale on scenario c


def test_saving_and_markup_match_the_envs_own_infos():
    # The saving (README equation) equals the sum of the env's per-step members_saving_eur,
    # and the leaderboard's markup equals the hourly offer markup weighted by the fleet's
    # day-ahead energy.
    env = envs.make("multimarket_v1", scenario="strategic_incumbents", days=1)
    pol = build_policy("rule")
    obs, _ = env.reset(seed=5)
    pol.reset(env, seed=5)
    saving = 0.0
    hourly = []
    while env.agents:
        actions = pol.act(obs)
        scripted = env.scripted_actions()
        actions |= {a: scripted[a] for a in env.agent_groups["incumbents"]}
        obs, _, _, _, infos = env.step(actions)
        saving += infos["coalition_0"]["members_saving_eur"]
        hourly.append(infos["coalition_0"]["market/markup_energy_weighted"])
    led = env.ledger()
    fleet = led[(led.market == "spot") & led.participant.str.startswith("incumbent_")]
    sold = fleet.groupby("step").energy_mwh.sum().to_numpy()
    num, den = float(np.dot(hourly, sold)), float(sold.sum())
    ep = run_episode(env, build_policy("rule"), seed=5)
    m = metrics.cell_metrics(ep.ledger, ep.counterfactual, ep.record, ep.fleet)
    assert m["members_saving_eur"] == pytest.approx(saving, rel=1e-9)
    assert m["incumbent_markup"] == pytest.approx(num / den, rel=1e-6)


def test_iqm_and_bootstrap_on_known_data():
    x = np.arange(8.0)  # IQM: mean of the middle half, 2..5
    assert aggregate.iqm(x) == pytest.approx(3.5)
    point, lo, hi = aggregate.stratified_bootstrap([np.full(4, 2.0), np.full(3, 2.0)], "iqm")
    assert (point, lo, hi) == (2.0, 2.0, 2.0)  # no spread, no interval
    data = np.arange(100.0)
    point, lo, hi = aggregate.stratified_bootstrap([data], "mean", n_resamples=4000)
    assert point == 49.5
    half = 1.96 * data.std() / np.sqrt(data.size)  # normal approximation, about 5.7
    assert lo == pytest.approx(point - half, abs=1.0)
    assert hi == pytest.approx(point + half, abs=1.0)
    # Strata are pooled for the point estimate; a one-run stratum stays fixed.
    point, lo, hi = aggregate.stratified_bootstrap([np.array([1.0, 2.0, 3.0]), np.array([6.0])])
    assert point == 3.0 and lo >= 2.0 and hi <= 4.0
    assert np.isnan(aggregate.stratified_bootstrap([np.array([np.nan])])[0])


def test_probability_of_improvement_known_values():
    p = aggregate.probability_of_improvement([np.array([2.0, 3.0])], [np.array([1.0, 3.0])])
    assert p[0] == pytest.approx(0.625)  # 2 wins, 1 tie (half), 1 loss of 4 pairs
    p = aggregate.probability_of_improvement(
        [np.array([5.0, 6.0]), np.array([1.0])], [np.array([1.0, 2.0]), np.array([3.0])]
    )
    assert p[0] == pytest.approx(0.5)  # always better on one scenario, never on the other
    assert p[1] == p[2] == 0.5  # no resample changes which side wins
    with pytest.raises(ValueError, match="same scenarios"):
        aggregate.probability_of_improvement([np.ones(2)], [])


def test_docstring_examples():
    for module in (metrics, aggregate):
        assert doctest.testmod(module).failed == 0


def test_saving_is_the_bills_alone_plus_the_coalitions_cash_over_the_markets():
    # The leaderboard's reasons for a loss rest on this identity (issue 20).
    from evaluation.episode import play_cell
    from evaluation.grid import Cell

    res = play_cell(Cell("multimarket_v1", "rule", "default", 1000, 1))
    m = res["metrics"]
    cash = sum(m[f"coalition_revenue_{k}_eur"] for k in metrics.LEDGER_MARKETS)
    assert m["members_alone_eur"] + cash == pytest.approx(m["members_saving_eur"], abs=1e-6)
    assert m["coalition_spot_bought_mwh"] > 0 and m["n_members"] == 20
    dispatch = res["series"]["dispatch_mw"]
    supply = sum(np.asarray(v) for k, v in dispatch.items() if k != "background_load")
    assert supply.shape == (24,) and (supply > 0).all()
    assert "incumbent_0 (nuclear)" in dispatch
