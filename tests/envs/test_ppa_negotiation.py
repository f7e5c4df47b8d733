"""ppa_negotiation_v0 and envs.negotiation: protocol rules, votes, the paper's case, CLI."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from pettingzoo.test import api_test

import envs
from agents.negotiation import ConcessionAgent
from envs.errors import ActionError, ConfigError, EpisodeOverError, UnknownNameError
from envs.negotiation import (
    Move,
    NegotiationConfig,
    PartyConfig,
    TariffConfig,
    concession_price,
    cost_report,
    decide,
    new_negotiation,
    rule_passes,
    run_negotiation,
)
from envs.negotiation.team import Members
from envs.ppa_negotiation_v0 import load_config, make_env, ppa_contract
from evaluation import ppa as ppa_cli

RNG = np.random.default_rng
# Our seat ids are the protocol's roles, not <descriptor>_<number>.
pytestmark = pytest.mark.filterwarnings("ignore:We recommend agents to be named")


def _members(delays: list[float]) -> Members:
    n = len(delays)
    return Members(
        consumption_mw=np.ones(n),
        delay_cost_eur_per_mwh=np.asarray(delays, dtype=np.float64),
        deviation_cost_eur_per_mwh=np.full(n, 5.39),
        initial_price_eur_per_mwh=np.full(n, 40.0),
        limit_price_eur_per_mwh=np.full(n, 65.0),
    )


# --- protocol rules ---------------------------------------------------------------------


def test_who_may_offer_when():
    neg = new_negotiation(NegotiationConfig(), RNG(0))
    assert neg.turn == "opponent"  # the mediator asks for a price first (§4.2)
    with pytest.raises(ValueError, match="it is the opponent's turn; the mediator may not move"):
        neg.play("mediator", Move("counter", 40.0, 848.0))
    with pytest.raises(ValueError, match="opponent may not accept: no offer is standing"):
        neg.play("opponent", Move("accept"))
    neg.play("opponent", Move("counter", 60.0, 848.0))
    assert neg.turn == "mediator"
    neg.play("mediator", Move("counter", 40.0, 848.0))
    assert [o.number for o in neg.history] == [1, 1]
    assert neg.turn == "opponent"


def test_deadline_ends_without_agreement():
    cfg = NegotiationConfig(
        mediator=PartyConfig(40.0, 65.0, deadline_proposals=2),
        opponent=PartyConfig(60.0, 36.0, deadline_proposals=2, withdraw_at_limit=False),
    )
    neg = new_negotiation(cfg, RNG(0))
    for price in (60.0, 40.0, 59.0, 41.0):
        neg.play(neg.turn, Move("counter", price, 848.0))
    neg.play("opponent", Move("counter", 58.0, 848.0))  # a third proposal: past its deadline
    assert neg.result().outcome == "deadline"
    with pytest.raises(ValueError, match="the negotiation is over"):
        neg.play("mediator", Move("counter", 42.0, 848.0))


def test_withdrawal_without_zone_of_agreement():
    # The aggregator will not go below 55, the coalition not above 50: no deal exists.
    cfg = NegotiationConfig(
        mediator=PartyConfig(40.0, 50.0, concession_factor=0.5),
        opponent=PartyConfig(60.0, 55.0, concession_factor=0.5),
    )
    res = run_negotiation(cfg, RNG(0))
    assert res.outcome == "withdrawn"
    assert res.withdrawn_by in ("mediator", "opponent")
    assert res.agreed_price_eur_per_mwh is None


def test_concession_tactics_shapes():
    linear = [float(concession_price(60.0, 36.0, k)) for k in range(6)]
    assert linear[5] == pytest.approx(36.0 + 24.0 * 0.9**5)
    early = {
        kind: float(concession_price(60.0, 36.0, 3, kind=kind, deadline=20))
        for kind in ("conceder", "linear", "boulware")
    }
    assert early["conceder"] < early["linear"] < early["boulware"]  # the seller concedes down
    with pytest.raises(ValueError, match="tactic='tough' is not known"):
        concession_price(60.0, 36.0, 2, kind="tough")


# --- votes and decision rules -----------------------------------------------------------


def test_rule_thresholds():
    assert not rule_passes(0.5, "majority") and rule_passes(0.6, "majority")
    assert not rule_passes(0.74, "consensus") and rule_passes(0.75, "consensus")
    assert not rule_passes(0.8, "unanimity") and rule_passes(1.0, "unanimity")


@pytest.mark.parametrize(
    ("rule", "accepted"), [("majority", True), ("consensus", True), ("unanimity", False)]
)
def test_vote_counting(rule, accepted):
    # Offer 51 against counter 50: members with a delay cost >= 1 EUR/MWh prefer to close.
    members = _members([2.0, 2.0, 2.0, 0.0])  # 75% yes
    tariff = TariffConfig()
    mediator = NegotiationConfig().mediator
    d = decide("RM-IDM", rule, members, tariff, 4.0, (51.0, 4.0), (50.0, 4.0), 1, mediator)
    assert d.yes_share == pytest.approx(0.75)
    assert d.accept is accepted
    assert d.messages == 2 * 4  # both proposals out, one vote back per member


def test_fum_needs_unanimity_and_re_decides_alone():
    members = _members([2.0, 2.0, 2.0, 0.0])
    args = (members, TariffConfig(), 4.0, (51.0, 4.0), (50.0, 4.0), 1, NegotiationConfig().mediator)
    assert not decide("FUM", "majority", *args).accept
    re = decide("RE", "majority", *args)
    assert not re.accept and re.messages == 0  # the total cost prefers the counter


@pytest.mark.parametrize("strategy", ["RE", "RM-IDM", "SSV", "SBV", "FUM"])
def test_every_strategy_reaches_the_paper_price(strategy):
    res = run_negotiation(NegotiationConfig(team_strategy=strategy, members=_small()), RNG(0))
    assert res.outcome == "agreement"
    assert res.agreed_price_eur_per_mwh == pytest.approx(50.17, abs=0.01)


def _small():
    return dataclasses.replace(NegotiationConfig().members, count=5)


def test_message_counts_grow_with_team_participation():
    msgs = {
        s: run_negotiation(NegotiationConfig(team_strategy=s, members=_small()), RNG(0)).messages
        for s in ("RE", "RM-IDM", "SSV", "SBV")
    }
    totals = [msgs[s]["within_team"] for s in ("RE", "RM-IDM", "SSV", "SBV")]
    assert totals == sorted(totals) and totals[0] == 5  # RE: members only learn the deal


# --- the paper's case (§4.2, Table 1) ---------------------------------------------------


def test_paper_case_end_to_end():
    res = run_negotiation(load_config("ppa_paper_case"), RNG(0))
    # §4.2: "the CEC accepted the sixth proposal of the aggregator for 50.17 EUR/MWh".
    assert res.outcome == "agreement"
    assert res.agreed_price_eur_per_mwh == pytest.approx(50.17, abs=0.005)
    assert (res.accepted_proposal, res.offered_by, res.accepted_by) == (6, "opponent", "mediator")
    # §4.2: the aggregator opened at 60 and the mediator answered 40.
    assert res.history[0].price_eur_per_mwh == 60.0 and res.history[1].price_eur_per_mwh == 40.0
    rows = {
        r.details if r.player != "Wind Aggregator" else "agg " + r.details: r
        for r in cost_report(TariffConfig(), res.agreed_price_eur_per_mwh)
    }
    # Table 1 values our model reproduces from §4.1's figures:
    assert rows["Regulated tariff"].total_cost_eur_per_mwh == pytest.approx(140.50)
    assert rows["Regulated tariff"].other_part_eur_per_mwh == pytest.approx(69.90)
    assert rows["Market-based"].other_part_eur_per_mwh == pytest.approx(67.40)
    assert rows["PPA"].energy_part_eur_per_mwh == pytest.approx(55.56, abs=0.005)
    assert rows["agg PPA"].remuneration_eur_per_mwh == pytest.approx(50.17, abs=0.005)
    ratio = (
        rows["agg PPA"].remuneration_eur_per_mwh / rows["agg Market-based"].remuneration_eur_per_mwh
    )
    assert ratio == pytest.approx(1.16, abs=0.005)  # "increases its remuneration by 16%"
    # Where we differ: Table 1 prints totals 125.51 (market) and 95.01 (PPA) and a PPA
    # other part of 38.45, but its own parts add to 48.11 + 67.40 = 115.51, and §4.1's
    # 50% discount on 65.90 EUR/MWh of grid access gives 67.40 - 32.95 = 34.45. We compute
    # from the stated rules: 115.51 and 55.56 + 34.45 = 90.01.
    assert rows["Market-based"].total_cost_eur_per_mwh == pytest.approx(115.51)
    assert rows["PPA"].other_part_eur_per_mwh == pytest.approx(34.45)
    # Still the paper's qualitative claim: the PPA coalition pays least (§4.2, §5).
    assert rows["PPA"].total_cost_eur_per_mwh < rows["Market-based"].total_cost_eur_per_mwh


def test_contract_for_multimarket():
    env = make_env("ppa_paper_case", rl_seats=("mediator",))
    env.reset(seed=0)
    pol = ConcessionAgent()
    pol.reset(env, seed=0)
    for agent in env.agent_iter():
        obs, _, term, trunc, _ = env.last()
        env.step(None if term or trunc else pol.act({agent: obs})[agent])
    contract = ppa_contract(env)
    assert contract is not None and contract.shape == "wind" and contract.volume_mw == 848.0
    assert contract.price_eur_per_mwh == pytest.approx(50.17, abs=0.005)


# --- the env ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"action_type": "discrete"}, {"rl_seats": ("opponent",), "negotiate_volume": True}],
)
def test_api(kwargs):
    api_test(make_env(**kwargs), num_cycles=60)


def test_make_api_and_errors():
    with pytest.raises(ValueError, match=r"turn-based .* only has the AEC api"):
        envs.make("ppa_negotiation_v0")
    assert envs.make("ppa_negotiation_v0", api="aec").possible_agents == [
        "mediator_0",
        "opponent_0",
    ]
    with pytest.raises(UnknownNameError, match="unknown scenario 'nope'"):
        make_env("nope")
    with pytest.raises(ConfigError, match=r"unknown key mediator\.reserve"):
        make_env(overrides={"mediator.reserve": 1})
    with pytest.raises(ConfigError, match=r"concession_factor=1\.5"):
        make_env(overrides={"opponent.concession_factor": 1.5})
    env = make_env()
    env.reset(seed=0)
    with pytest.raises(ActionError, match=r"action for opponent_0 .* expected a finite array"):
        env.step(np.array([np.nan, 0.0, 0.0]))
    denv = make_env(action_type="discrete")
    denv.reset(seed=0)
    with pytest.raises(ActionError, match=r"expected an int in Discrete\(103\)"):
        denv.step(500)


def test_env_episode_rewards_and_over():
    env = make_env()
    env.reset(seed=1)
    pol = ConcessionAgent()
    pol.reset(env, seed=1)
    rewards = dict.fromkeys(env.possible_agents, 0.0)
    for agent in env.agent_iter():
        obs, rew, term, trunc, info = env.last()
        rewards[agent] += rew
        env.step(None if term or trunc else pol.act({agent: obs})[agent])
    assert info["outcome"] == "agreement"
    assert rewards["mediator_0"] == pytest.approx((65.0 - 50.17176) / 100.0)
    assert rewards["opponent_0"] == pytest.approx((50.17176 - 36.0) / 100.0)
    with pytest.raises(EpisodeOverError, match="call reset"):
        env.step(None)


def test_heterogeneous_members_are_seeded():
    cfg = load_config(
        overrides={
            "members.delay_cost_eur_per_mwh": 3.0,
            "members.delay_cost_sigma": 1.0,
            "decision_rule": "consensus",
        }
    )
    a, b = (run_negotiation(cfg, RNG(7)) for _ in range(2))
    assert a.yes_shares == b.yes_shares and a.agreed_price_eur_per_mwh == b.agreed_price_eur_per_mwh
    assert 0.0 < max(s for s in a.yes_shares if s < 1.0) < 1.0  # members disagree


# --- CLI --------------------------------------------------------------------------------


def test_cli_json(capsys):
    assert ppa_cli.main(["--scenario", "ppa_paper_case", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["agreed_price_eur_per_mwh"] == pytest.approx(50.17, abs=0.005)
    assert out["accepted_proposal"] == 6 and out["accepted_by"] == "mediator"
    assert (
        out["messages"]["total"]
        == out["messages"]["between_parties"] + out["messages"]["within_team"]
    )


def test_cli_text_and_unknown_scenario(capsys):
    assert ppa_cli.main(["--scenario", "ppa_paper_case", "--strategy", "RE"]) == 0
    assert "| CEC (Consumers) | PPA | 55.56 |" in capsys.readouterr().out
    assert ppa_cli.main(["--scenario", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown scenario 'nope'" in err
