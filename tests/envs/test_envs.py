"""The environments: PettingZoo, Gymnasium and SB3 API checks, full-episode determinism,
the batched env and its SB3 adapter, and ledger invariants over whole episodes."""

from __future__ import annotations

import warnings
from typing import Any

import gymnasium
import numpy as np
import pandas as pd
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pettingzoo.test import api_test, parallel_api_test
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs
from envs.adapters.infos import nested_info
from envs.adapters.sb3 import CoalitionVecEnv
from envs.market.settlement import MARKETS
from tests.conftest import MARKET_IDS, random_actions

#: (scenario, extra make() arguments) used for the API tests.
API_CASES: list[tuple[str, dict[str, Any]]] = [
    ("default", {}),
    ("strategic_incumbents", {}),
    ("large_coalition", {}),
    ("default", {"overrides": {"members.agents": False}}),
]
API_IDS = ["default", "strategic_incumbents", "large_coalition", "members_not_agents"]


@pytest.fixture(autouse=True)
def _quiet_api_test_warnings():
    # PettingZoo's api_test warns about differently shaped observations across groups;
    # that is by design here (coalition, members and incumbents see different features).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module="pettingzoo")
        yield


# ---------------------------------------------------------------- PettingZoo API
@pytest.mark.parametrize("env_id", MARKET_IDS)
@pytest.mark.parametrize(("scenario", "kwargs"), API_CASES, ids=API_IDS)
def test_parallel_api(env_id, scenario, kwargs):
    env = envs.make(env_id, scenario=scenario, days=1, **kwargs)
    parallel_api_test(env, num_cycles=30)
    env.reset(seed=1)
    assert env.state().shape == env.state_space.shape
    assert env.state_space.contains(env.state())
    assert sorted(a for ids in env.agent_groups.values() for a in ids) == sorted(
        env.possible_agents
    )


@pytest.mark.parametrize("env_id", MARKET_IDS)
@pytest.mark.parametrize(("scenario", "kwargs"), API_CASES, ids=API_IDS)
def test_aec_api(env_id, scenario, kwargs):
    env = envs.make(env_id, scenario=scenario, days=1, api="aec", **kwargs)
    api_test(env, num_cycles=30)


def test_agents_follow_the_scenario():
    assert (
        envs.make("multimarket_v1", scenario="strategic_incumbents", days=1).agent_groups[
            "incumbents"
        ][0]
        == "incumbent_0"
    )
    env = envs.make("multimarket_v1", days=1, overrides={"members.agents": False})
    assert env.possible_agents == ["coalition_0"]
    env = envs.make("multimarket_v1", days=1)
    assert set(env.agent_groups) == {"coalition", "members"}
    assert len(env.agent_groups["members"]) == 20


# ------------------------------------------------------------------ determinism
def _rollout(env: Any, seed: int, action_seed: int) -> dict[str, Any]:
    """Run a whole episode with seeded random actions; record everything it returns."""
    rng = np.random.default_rng(action_seed)
    obs, infos = env.reset(seed=seed)
    record: dict[str, list] = {"obs": [obs], "rewards": [], "infos": [infos], "terms": []}
    while env.agents:
        obs, rew, term, trunc, infos = env.step(random_actions(env, rng))
        record["obs"].append(obs)
        record["rewards"].append(rew)
        record["infos"].append(infos)
        record["terms"].append((term, trunc))
    return {**record, "ledger": env.ledger(), "cf": env.counterfactual_bills()}


def _same(a: Any, b: Any) -> bool:
    """Exact (bitwise for arrays and floats) recursive equality."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b)
    return a == b


@pytest.mark.parametrize("env_id", MARKET_IDS)
def test_full_episode_determinism(env_id):
    env = envs.make(env_id, scenario="default")  # the full 7-day episode
    first = _rollout(env, seed=7, action_seed=11)
    again = _rollout(envs.make(env_id, scenario="default"), seed=7, action_seed=11)
    assert len(first["rewards"]) == 7 * 24
    for key in ("obs", "rewards", "infos", "terms"):
        assert _same(first[key], again[key]), key
    pd.testing.assert_frame_equal(first["ledger"], again["ledger"])
    pd.testing.assert_frame_equal(first["cf"], again["cf"])
    # Resetting the same env object with the same seed gives the same episode too.
    third = _rollout(env, seed=7, action_seed=11)
    assert _same(first["obs"], third["obs"]) and _same(first["rewards"], third["rewards"])
    # A different seed (same actions) gives a different episode.
    other = _rollout(env, seed=8, action_seed=11)
    assert not _same(first["obs"], other["obs"])
    assert not first["ledger"].equals(other["ledger"])


# ------------------------------------------------------------ Gymnasium and SB3
@pytest.mark.parametrize("env_id", MARKET_IDS)
def test_gymnasium_and_sb3_check_env(env_id):
    env = envs.make_gym(env_id, agent="coalition", days=1)
    assert isinstance(env, gymnasium.Env)
    gym_check_env(env, skip_render_check=True)
    sb3_check_env(envs.make_gym(env_id, agent="coalition", days=1), warn=True)


def test_sb3_vecenv_adapter_episode_end_and_ppo():
    from stable_baselines3 import PPO

    venv = CoalitionVecEnv(envs.make_vector("multimarket_v1", num_envs=2, days=1))
    venv.seed(3)
    obs = venv.reset()
    assert obs.shape == (2, *venv.observation_space.shape)
    rng = np.random.default_rng(0)
    for t in range(24):
        act = rng.uniform(-1, 1, (2, *venv.action_space.shape)).astype(np.float32)
        obs, rew, done, infos = venv.step(act)
        assert obs.shape == (2, *venv.observation_space.shape) and rew.shape == (2,)
        assert done.all() == (t == 23) and done.any() == (t == 23)
    assert all("terminal_observation" in i and i["episode"]["l"] == 24 for i in infos)
    assert venv.venv.core.t == 0  # auto-reset SB3-style
    model = PPO("MlpPolicy", venv, n_steps=16, batch_size=32, n_epochs=1, device="cpu", seed=0)
    model.learn(total_timesteps=64)
    assert model.num_timesteps >= 64


# ------------------------------------------------------------------ vector env
def test_vector_env_shapes_autoreset_and_spaces():
    E = 3
    venv = envs.make_vector("multimarket_v1", num_envs=E, days=1)
    single = envs.make("multimarket_v1", days=1)
    obs, _ = venv.reset(seed=0)
    for g, ids in single.agent_groups.items():
        space = single.observation_space(ids[0])
        assert obs[g].shape == (E, len(ids), *space.shape)
        assert venv.action_spaces[g].shape == (len(ids), *single.action_space(ids[0]).shape)
    assert venv.state().shape == (E, single.state_space.shape[0])
    rng = np.random.default_rng(0)
    for t in range(24):
        acts = {
            g: rng.uniform(-1.2, 1.2, (E, *sp.shape)).astype(np.float32)
            for g, sp in venv.action_spaces.items()
        }
        obs, rew, term, trunc, info = venv.step(acts)
        for g in venv.agent_groups:
            assert rew[g].shape == (E, len(venv.agent_groups[g]))
            assert all(venv.observation_spaces[g].contains(obs[g][e]) for e in range(E))
        assert term.shape == trunc.shape == (E,) and not trunc.any()
        assert term.all() == (t == 23)
        assert info["price_eur_per_mwh"].shape == (E,) and info["n_clipped"].shape == (E,)
        assert np.all(info["n_clipped"] > 0)  # actions drawn in [-1.2, 1.2] get clipped
    # NEXT_STEP autoreset: the call after the last step resets and returns zero rewards.
    obs, rew, term, trunc, _ = venv.step(acts)
    assert venv.core.t == 0 and not term.any()
    assert all(np.all(r == 0.0) for r in rew.values())
    assert all(venv.observation_spaces[g].contains(obs[g][0]) for g in venv.agent_groups)


# ------------------------------------------------------------ ledger invariants
def _check_step_invariants(env: Any, infos: dict) -> None:
    cfg, core = env.cfg, env.core
    soc = core.state.soc_mwh
    assert np.all(soc >= -1e-9) and np.all(soc <= core.members.battery_mwh + 1e-9)
    market = nested_info(infos["coalition_0"])["market"]
    assert cfg.spot.price_floor_eur_per_mwh <= market["price_eur_per_mwh"]
    assert market["price_eur_per_mwh"] <= cfg.spot.price_cap_eur_per_mwh
    assert 0.0 <= market["reserve_price_eur_per_mw"] <= cfg.reserve.scarcity_price_eur_per_mw
    assert 0.0 <= market["capacity_price_eur_per_mw_day"] <= cfg.capacity.price_cap_eur_per_mw_day
    assert cfg.spot.price_floor_eur_per_mwh <= market["imbalance_price_eur_per_mwh"]
    assert market["imbalance_price_eur_per_mwh"] <= cfg.spot.price_cap_eur_per_mwh
    # Physical energy balance (DESIGN §3 step 4): injections = withdrawals, no energy from
    # the operator: generation + renewables delivered + the PPA's delivery = background
    # consumption + the members' metered net import (exports negative), to 1e-9 MWh.
    injected = (market["generation_mwh"] + market["renewables_delivered_mwh"]
                + market["ppa_delivery_mwh"])  # fmt: skip
    withdrawn = market["background_consumption_mwh"] + infos["coalition_0"]["coalition_metered_mw"]
    assert injected == pytest.approx(withdrawn, abs=1e-9, rel=1e-12)
    assert market["unabsorbed_surplus_mwh"] <= 1e-9
    assert market["load_shed_mwh"] <= market["unserved_energy_mwh"] + 1e-12


def _check_ledger(env: Any) -> None:
    led = env.ledger()
    assert set(led["market"]) <= set(MARKETS)
    scale = (
        led.assign(cash_abs=led["cash_eur"].abs(), energy_abs=led["energy_mwh"].abs())
        .groupby(["step", "market"])[["cash_eur", "energy_mwh", "cash_abs", "energy_abs"]]
        .sum()
    )
    # Per step and market, cash and energy each sum to zero over participants.
    assert np.all(np.abs(scale["cash_eur"]) <= 1e-9 * scale["cash_abs"] + 1e-6)
    assert np.all(np.abs(scale["energy_mwh"]) <= 1e-9 * scale["energy_abs"] + 1e-6)
    # The operator passes cash, never energy: its energy over all markets nets to zero.
    operator = led[led["participant"] == "market_operator"].groupby("step")["energy_mwh"].sum()
    np.testing.assert_allclose(operator.to_numpy(), 0.0, atol=1e-9)
    # The members' allocations sum to the coalition's result (all its other cash).
    core = env.core
    cash = core.ledger.cash[: core.ledger.steps, 0]
    c = core.settlement.cols
    alloc = cash[:, MARKETS.index("allocation"), c.members].sum(-1)
    result = np.delete(cash[:, :, c.coalition], MARKETS.index("allocation"), axis=1).sum(-1)
    np.testing.assert_allclose(alloc, result, rtol=1e-9, atol=1e-6)


def _run_with_invariants(env: Any, seed: int, actions: Any) -> None:
    env.reset(seed=seed)
    t = 0
    while env.agents:
        _, _, _, _, infos = env.step(actions(env, t))
        _check_step_invariants(env, infos)
        member_alloc = sum(
            infos[a]["cash_eur/allocation"] for a in env.agent_groups.get("members", [])
        )
        if "members" in env.agent_groups:
            assert member_alloc == pytest.approx(infos["coalition_0"]["coalition_result_eur"])
        if "coalition_0" in infos:  # its capacity cash as a figure of its own, as settled
            co = infos["coalition_0"]
            assert co["coalition_capacity_eur"] == co["cash_eur/capacity"]
        t += 1
    assert t == env.cfg.hours
    _check_ledger(env)


@pytest.mark.parametrize("scenario", envs.list_scenarios("multimarket_v1"))
def test_ledger_invariants_every_scenario(scenario):
    env = envs.make("multimarket_v1", scenario=scenario, days=2)
    rng = np.random.default_rng(5)
    _run_with_invariants(env, seed=5, actions=lambda e, t: random_actions(e, rng))


@settings(max_examples=5, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    st.sampled_from(["default", "strategic_incumbents", "heatwave_scarcity", "battery_rich"]),
    st.sampled_from([True, False]),
    st.integers(0, 2**16),
    st.data(),
)
def test_ledger_invariants_hold_for_any_action_sequence(scenario, members_agents, seed, data):
    env = envs.make(
        "multimarket_v1", scenario=scenario, days=1, overrides={"members.agents": members_agents}
    )
    a_c = env.action_space("coalition_0").shape[0]
    # The coalition's whole action sequence from hypothesis (also out of bounds: clipped).
    coalition = data.draw(
        arrays(np.float32, (24, a_c), elements=st.floats(-2.0, 2.0, width=32)), label="coalition"
    )
    rng = np.random.default_rng(seed)

    def actions(e: Any, t: int) -> dict[str, np.ndarray]:
        out = random_actions(e, rng)
        out["coalition_0"] = coalition[t]
        return out

    _run_with_invariants(env, seed=seed, actions=actions)


def test_counterfactual_bills_do_not_depend_on_the_policy():
    frames = []
    for action_seed in (1, 2):
        env = envs.make("multimarket_v1", scenario="default", days=2)
        rng = np.random.default_rng(action_seed)
        env.reset(seed=42)
        while env.agents:
            env.step(random_actions(env, rng))
        frames.append((env.counterfactual_bills(), env.ledger()))
    (cf1, led1), (cf2, led2) = frames
    assert len(cf1) == 48 * 20
    assert not led1.equals(led2)  # the two policies did behave differently
    pd.testing.assert_frame_equal(cf1, cf2)


def test_the_same_seed_gives_the_same_ledger_after_many_episodes():
    # Issue 18 item 2: the spot operator's entry once summed its own previous value, so
    # the ledger drifted from episode to episode of one env.
    env = envs.make("multimarket_v1", days=1)
    ledgers = []
    for _ in range(12):
        env.reset(seed=5)
        while env.agents:
            env.step(env.scripted_actions())
        ledgers.append(env.ledger())
    for led in ledgers[1:]:
        pd.testing.assert_frame_equal(led, ledgers[0], check_exact=True)


def test_the_ledger_keeps_nan_flows():
    from envs.sim.ledger import Ledger

    led = Ledger(("a", "b"), hours=1, num_envs=1, n_members=0)
    flows = np.zeros((1, 8, 2))
    cash = flows.copy()
    cash[0, 0, :] = [np.nan, np.nan]
    led.record(0, flows, flows, flows, cash, np.zeros((1, 0)))
    frame = led.frame()
    assert len(frame) == 2 and frame.cash_eur.isna().all()
    assert np.isnan(frame.cash_eur.sum(skipna=False))
