"""Shipped scenarios: they load, ``default`` equals the code defaults, overrides work,
and ``large_coalition`` is big enough to move the price (issue 2, build item 4)."""

from __future__ import annotations

import numpy as np
import pytest

import envs
from envs.config.scenario import ScenarioConfig, load_scenario

SCENARIOS = envs.list_scenarios("multimarket_v1")
REQUIRED = {
    "default",
    "sunny_summer",
    "windy_winter",
    "dark_doldrums",
    "heatwave_scarcity",
    "high_price_cap",
    "no_capacity_market",
    "community_discount",
    "carbon_price",
    "battery_rich",
    "large_coalition",
    "strategic_incumbents",
}


def test_required_scenarios_are_shipped():
    assert REQUIRED <= set(SCENARIOS)


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_loads_and_resets(name):
    cfg = load_scenario(name)
    assert cfg.name == name and cfg.description
    env = envs.make("multimarket_v1", scenario=name, days=1)
    obs, _ = env.reset(seed=0)
    assert set(obs) == set(env.possible_agents)
    assert all(env.observation_space(a).contains(o) for a, o in obs.items())


def test_default_scenario_equals_code_defaults():
    cfg = load_scenario("default")
    assert cfg == ScenarioConfig(name="default", description=cfg.description)
    assert load_scenario() == cfg  # None means default
    # The minimum sizes: >= 8 incumbents, 20 members, members agents, incumbents scripted.
    assert len(cfg.fleet.generators) >= 8 and cfg.members.count == 20
    assert cfg.members.agents and not cfg.fleet.controlled


def test_overrides_by_keyword_and_dotted_path():
    env = envs.make(
        "multimarket_v1", scenario="windy_winter", days=3, overrides={"members.count": 50}
    )
    assert env.cfg.name == "windy_winter" and env.cfg.days == 3
    assert len(env.agent_groups["members"]) == 50
    env.reset(seed=0)
    steps = 0
    while env.agents:
        env.step({a: np.zeros(env.action_space(a).shape, np.float32) for a in env.agents})
        steps += 1
    assert steps == 72
    # Overrides leave the rest of the scenario as shipped.
    base = load_scenario("windy_winter")
    assert env.cfg.weather == base.weather and env.cfg.fleet == base.fleet
    # A dotted override of a top-level field works like the keyword.
    assert load_scenario("windy_winter", {"days": 3}) == load_scenario("windy_winter", days=3)


def test_spot_v1_closes_reserve_and_capacity():
    env = envs.make("spot_v1", scenario="default", days=1)
    assert not env.cfg.reserve.enabled and not env.cfg.capacity.enabled
    assert env.action_space("coalition_0").shape == (2,)


def _price_response(scenario: str) -> np.ndarray:
    """Per hour of one day: |price when the coalition buys its whole net position at the
    cap - price when it bids nothing|, everything else equal (members idle, same seed)."""
    buy, none = (envs.make("multimarket_v1", scenario=scenario, days=1) for _ in range(2))
    buy.reset(seed=0)
    none.reset(seed=0)
    gaps = []
    while buy.agents:
        core = buy.core
        position = max(
            float((core.episode.load[0, core.t] - core.episode.ren[0, core.t]).sum()), 0.0
        )
        acts = {a: np.zeros(buy.action_space(a).shape, np.float32) for a in buy.agents}
        idle = {a: v.copy() for a, v in acts.items()}
        acts["coalition_0"][:2] = [
            position / core.coalition.q_max_mw,
            1.0,
        ]  # q * q_max MW at 1^3 * cap
        p_buy = buy.step(acts)[4]["coalition_0"]["market/price_eur_per_mwh"]
        p_none = none.step(idle)[4]["coalition_0"]["market/price_eur_per_mwh"]
        gaps.append(abs(p_buy - p_none))
    return np.array(gaps)


def test_large_coalition_moves_the_price_default_barely_does():
    large, default = _price_response("large_coalition"), _price_response("default")
    # The coalition's bid moves the price in most hours (not in the windy night hours when
    # renewables and must-run output cover its purchase too).
    assert (large > 0).mean() >= 0.8
    assert (default > 0).mean() <= 0.25  # a 20-member coalition rarely does
    assert large.mean() > 5 * default.mean()
