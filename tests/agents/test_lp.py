"""The planning LP's market terms on hand-solved cases, the price-impact segments, the
merit order and teams of policies."""

import numpy as np
import pytest

import agents
import envs
from agents.forecast import MeritOrder
from agents.lp import SEGMENTS, CoalitionLP, MarketInputs, impact_prices


def _one_battery(h: int, reserve: bool = True) -> CoalitionLP:
    # One member, 1 MW / 1 MWh, lossless, no flexible load, no import charge.
    one = np.array([1.0])
    return CoalitionLP(one, one, one, np.array([0.0]), np.array([0.0]), horizon_h=h,
                       q_max_mw=10.0, import_charge_eur_per_mwh=0.0, reserve=reserve)  # fmt: skip


def test_activation_drains_the_battery_and_is_paid_the_balancing_price():
    # Full battery, one hour, energy dear to buy (1000 EUR/MWh) and worthless to sell:
    # holding r MW of reserve of which half is called leaves 1 - r/2 MWh, which must
    # still cover r (r <= eta s): r = 2/3, a = 1/3, worth 10 r + 100 * r / 2.
    lp = _one_battery(1)
    mk = MarketInputs(
        activation=0.5,
        balancing_price=100.0,
        buy_price=np.full((1, SEGMENTS), 1000.0),
        sell_price=np.zeros((1, SEGMENTS)),
    )
    sol = lp.solve(np.zeros((1, 1)), np.array([1.0]), np.array([0.0]), np.zeros(1), 10.0,
                   np.array([False]), terminal_value_share=0.0, market=mk)  # fmt: skip
    assert sol["r"][0] == pytest.approx(2.0 / 3.0)
    assert sol["a"][0, 0] == pytest.approx(1.0 / 3.0)
    assert sol["s"][0, 0] == pytest.approx(2.0 / 3.0)
    assert lp.h.getInfo().objective_function_value == pytest.approx(-(10 + 50) * 2.0 / 3.0)


@pytest.mark.parametrize(("value", "committed"), [(50.0, 0.0), (150.0, 1.0)])
def test_capacity_commitment_weighs_revenue_against_non_performance(value, committed):
    # An empty battery in the one scarcity hour delivers nothing: each committed MW earns
    # `value` and is charged 100 EUR/MWh short. Commit all firm MW only if it pays.
    lp = _one_battery(1, reserve=False)
    mk = MarketInputs(scarcity=1.0, capacity_value=value, firm_mw=1.0, penalty_eur_per_mwh=100.0)
    sol = lp.solve(np.zeros((1, 1)), np.array([0.0]), np.array([0.0]), np.zeros(1), 0.0,
                   np.array([False]), terminal_value_share=0.0, market=mk)  # fmt: skip
    assert float(sol["K"]) == pytest.approx(committed)
    assert sol["u"][0] == pytest.approx(committed)


def test_committed_capacity_keeps_energy_for_the_scarcity_hour():
    # 1 MW committed; hour 1 is a scarcity hour at the rate 1000. Selling the stored MWh at
    # 200 in hour 0 would leave nothing to deliver: the plan keeps it and discharges in the
    # scarcity hour at 150 instead (150 > 200 - 1000).
    lp = _one_battery(2, reserve=False)
    mk = MarketInputs(scarcity=np.array([0.0, 1.0]), committed_mw=1.0, penalty_eur_per_mwh=1000.0)
    sol = lp.solve(np.zeros((1, 2)), np.array([1.0]), np.array([0.0]), np.array([200.0, 150.0]),
                   0.0, np.array([False, False]), terminal_value_share=0.0, market=mk)  # fmt: skip
    np.testing.assert_allclose(sol["d"][0], [0.0, 1.0], atol=1e-9)
    assert sol["u"][1] == pytest.approx(0.0, abs=1e-9)


def test_price_impact_spreads_purchases_across_hours():
    # Two equally cheap hours; buying more than one segment in an hour raises its price.
    # A price-taker may put the whole 2 MWh of charging in one hour; with the impact the
    # plan splits it (the first segments of both hours are cheapest).
    lp = CoalitionLP(np.array([2.0]), np.array([2.0]), np.array([1.0]), np.array([0.0]),
                     np.array([0.0]), horizon_h=3, q_max_mw=8.0,
                     import_charge_eur_per_mwh=0.0, reserve=False)  # fmt: skip
    price = np.array([10.0, 10.0, 100.0])
    steps = np.arange(SEGMENTS + 1) * 1.0  # q_max / SEGMENTS = 1 MW per segment
    buy_at = price[:, None] + 20.0 * steps  # +20 EUR/MWh per MW bought
    sell_at = price[:, None] - 0.0 * steps
    buy, sell = impact_prices(buy_at, sell_at)
    mk = MarketInputs(buy_price=buy, sell_price=sell)
    sol = lp.solve(np.zeros((1, 3)), np.array([0.0]), np.array([0.0]), price, 0.0,
                   np.array([False] * 3), terminal_value_share=0.0, market=mk)  # fmt: skip
    np.testing.assert_allclose(sol["b"][:2], [1.0, 1.0], atol=1e-9)
    assert sol["x"][2] == pytest.approx(2.0)


def test_impact_prices_are_the_marginal_cost_of_uniform_pricing():
    # Price p_j when buying j segments: the j-th segment costs j p_j - (j-1) p_{j-1};
    # non-monotone marginals are lifted to a running max (running min for selling).
    p = np.array([[10.0, 10.0, 20.0, 20.0, 20.0, 40.0, 40.0, 40.0, 40.0]])
    assert p.shape[1] == SEGMENTS + 1
    buy, sell = impact_prices(p, p[:, ::-1] * 0 + 10.0)
    np.testing.assert_allclose(buy[0], [10, 30, 30, 30, 120, 120, 120, 120])
    np.testing.assert_allclose(sell[0], np.full(SEGMENTS, 10.0))


def test_merit_order_price():
    m = MeritOrder(np.array([50.0, 100.0]), np.array([30.0, 10.0]), 3000.0)
    np.testing.assert_allclose(m.price(np.array([-5.0, 50.0, 100.0, 120.0, 150.0, 151.0])),
                               [10.0, 10.0, 10.0, 30.0, 30.0, 3000.0])  # fmt: skip


def test_team_merges_policies_and_refuses_overlaps():
    env = envs.make("multimarket_v1", scenario="strategic_incumbents", days=1)
    obs, _ = env.reset(seed=0)
    team = agents.load("rule+withholding")
    team.reset(env, seed=0)
    assert set(team.controls) == set(env.possible_agents)
    acts = team.act(obs)
    assert set(acts) == set(env.agents)
    with pytest.raises(ValueError, match="controlled by both"):
        agents.load("rule+mpc").reset(env, seed=0)
    with pytest.raises(ValueError, match="no keyword"):
        agents.load("rule+mpc", horizon_h=4)


def test_learned_incumbents_bid_against_the_mpc():
    env = envs.make("multimarket_v1", scenario="strategic_incumbents", days=1)
    obs, _ = env.reset(seed=3)
    team = agents.load("mpc+mappo_incumbents")
    team.reset(env, seed=3)
    scripted = agents.load("withholding")
    scripted.reset(env, seed=3)
    inc = env.agent_groups["incumbents"]
    learned = team.act(obs)
    assert all(np.all(np.abs(learned[a]) <= 1.0) for a in inc)
    # Residual on the scripted bid: some incumbent bids otherwise.
    base = scripted.act(obs)
    assert max(float(np.abs(learned[a] - base[a]).max()) for a in inc) > 1e-3
    with pytest.raises(ValueError, match="incumbents as agents"):
        agents.load("mappo_incumbents").reset(envs.make("multimarket_v1", days=1), seed=0)
