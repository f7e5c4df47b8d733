"""Shipped and exported learned policies (agents.learned): loading, layouts, residual base."""

from __future__ import annotations

import numpy as np
import pytest

import agents
import envs
from agents.learned import (
    LearnedPolicy,
    MAPPOPolicy,
    PPOPolicy,
    forecast_features,
    margin_features,
    margin_statics,
)
from envs.sim import observe as ob
from envs.sim import scripted
from training.checkpoint import load_checkpoint


def _episode(env, pol, seed):
    obs, _ = env.reset(seed=seed)
    pol.reset(env, seed=seed)
    total, actions = 0.0, []
    while env.agents:
        act = pol.act(obs)
        for a, x in act.items():
            assert env.action_space(a).contains(x), (a, x)
        actions.append(act["coalition_0"].copy())
        obs, rewards, *_ = env.step(act)
        total += rewards["coalition_0"]
    return total, np.array(actions)


@pytest.mark.parametrize("name", ["ppo", "mappo", "mappo_mpc_start"])
def test_shipped_policies_load_by_name_and_act_deterministically(name):
    pol = agents.load(name)
    assert isinstance(pol, PPOPolicy if name == "ppo" else MAPPOPolicy)
    assert pol.path.name == f"{name}.pt"
    env = envs.make("multimarket_v1", days=1)
    r1, a1 = _episode(env, pol, seed=1000)
    r2, a2 = _episode(env, agents.load(name), seed=1000)
    assert r1 == r2 and np.array_equal(a1, a2)
    assert pol.controls == env.possible_agents  # coalition and every member


def test_sampling_is_seeded_by_reset():
    env = envs.make("multimarket_v1", days=1)
    _, a1 = _episode(env, agents.load("mappo", deterministic=False), seed=3)
    _, a2 = _episode(env, agents.load("mappo", deterministic=False), seed=3)
    _, a3 = _episode(env, agents.load("mappo"), seed=3)
    assert np.array_equal(a1, a2) and not np.array_equal(a1, a3)


@pytest.mark.parametrize("scenario", ["no_capacity_market", "large_coalition"])
def test_shipped_mappo_adapts_to_other_layouts(scenario):
    # Closed capacity market: the policy's capacity entries are dropped (4 coalition
    # entries); 200 members: the shared member actor does not care about the count.
    env = envs.make("multimarket_v1", scenario=scenario, days=1)
    total, actions = _episode(env, agents.load("mappo"), seed=1000)
    assert np.isfinite(total)
    assert actions.shape[1] == env.action_space("coalition_0").shape[0]


def test_observation_layout_mismatch_is_a_clear_error():
    env = envs.make("multimarket_v1", days=1, overrides={"forecast.horizon_h": 12})
    env.reset(seed=0)
    with pytest.raises(
        ValueError, match=r"coalition actor was trained on 111 observation features"
    ):
        agents.load("mappo").reset(env, seed=0)


def test_missing_checkpoint_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"python -m training\.train"):
        LearnedPolicy(checkpoint=tmp_path / "nothing.pt")


def test_policy_rebuilds_the_training_actions_from_observations_alone():
    # In training the residual's bases come from the simulator's arrays
    # (training.rollout.env_actions: scripted members, feasible set-points, the bid on them);
    # the shipped policy rebuilds the same actions from observations and static sizes.
    from types import SimpleNamespace

    from training.rollout import env_actions

    env = envs.make("multimarket_v1", days=2)
    obs, _ = env.reset(seed=4)
    pol = agents.load("mappo")
    pol.reset(env, seed=4)
    core = env.core
    venv = SimpleNamespace(
        core=core,
        scripted_actions=lambda: {
            "coalition": scripted.coalition_actions(core)[:, None],
            "members": scripted.member_actions(core),
        },
    )
    for _ in range(30):  # past the day's last hour (flex payback)
        act = pol.act(obs)
        raw_m = pol._actor_action("members", np.stack([obs[a] for a in pol.member_ids]))
        raw_c = pol._actor_action("coalition", obs["coalition_0"][None])
        raw = {"members": raw_m[None], "coalition": raw_c[:, None]}
        ref = env_actions(venv, raw, True, pol.reserve_base)
        got_m = np.stack([act[a] for a in pol.member_ids])
        np.testing.assert_allclose(got_m, ref["members"][0], atol=1e-5)
        np.testing.assert_allclose(act["coalition_0"], ref["coalition"][0, 0], atol=1e-5)
        obs, _, _, _, infos = env.step(act)
        assert infos["coalition_0"]["n_projected"] == 0  # set-points sent are feasible


def test_forecast_features_place_this_hour_in_the_residual_load_forecast():
    h = 4
    at = ob.index(h)["members"]
    obs = np.zeros((2, 10 + 3 * h + 6))  # a member's layout (envs.sim.observe) for H = 4
    load = np.array([[5.0, 6.0, 7.0, 2.0], [1.0, 1.0, 1.0, 1.0]])
    ren = np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    obs[:, at["system_load_fc"] : at["system_load_fc"] + h] = load
    obs[:, at["system_renewables_fc"] : at["system_renewables_fc"] + h] = ren
    # residual load r = [4, 5, 6, 1]: r0 - mean = 0, r0 - min = 3, max - r0 = 2,
    # one of four hours below r0 (and one of the four within 12 h); a flat forecast: zeros.
    np.testing.assert_allclose(
        forecast_features(obs, h), [[0.0, 3.0, 2.0, 0.25, 0.25], [0.0, 0.0, 0.0, 0.0, 0.0]]
    )
    # batched (E, n, D) like the training rollout
    assert forecast_features(obs[None], h).shape == (1, 2, 5)


def test_margin_features_are_the_fleets_forecast_spare_capacity():
    h = 4
    at = ob.index(h)["members"]
    obs = np.zeros((1, 10 + 3 * h + 6))
    obs[0, at["system_load_fc"] : at["system_load_fc"] + h] = [0.5, 1.0, 0.9, 0.6]
    obs[0, at["system_renewables_fc"] : at["system_renewables_fc"] + h] = [0.2, 0.0, 0.0, 0.5]
    # fleet 1.2, reserve 4% of load and 10% of renewables: margin = 1.2 - 1.04 L + 0.9 R
    # = [0.86, 0.16, 0.264, 1.026]: now 0.86, the next 12 h's and H's minimum 0.16.
    got = margin_features(obs, h, np.array([1.2, 1.04, 0.9]))
    np.testing.assert_allclose(got, [[0.86, 0.16, 0.16]])
    # Per-row statics (the warm start stacks scenarios): (K, 1, 3) against (K, n, D).
    rows = margin_features(
        obs[None].repeat(2, 0), h, np.array([[[1.2, 1.04, 0.9]], [[1.0, 1.0, 1.0]]])
    )
    np.testing.assert_allclose(rows[1, 0], [0.7, 0.0, 0.0])


def test_margin_statics_read_the_fleet_and_the_reserve_rule():
    core = envs.make("multimarket_v1", scenario="heatwave_scarcity", days=1).core
    rc = core.cfg.reserve
    np.testing.assert_allclose(
        margin_statics(core),
        [core.fleet.capacity_mw.sum() / core.scales.system_mw,
         1 + rc.requirement_share_of_load, 1 - rc.requirement_share_of_renewables],
    )  # fmt: skip
    # The fleet is scarcer in the heatwave (a higher peak on the same fleet) than in default.
    assert margin_statics(core)[0] < margin_statics(envs.make("multimarket_v1", days=1).core)[0]
    closed = envs.make("multimarket_v1", days=1, overrides={"reserve.enabled": False}).core
    np.testing.assert_allclose(margin_statics(closed)[1:], [1.0, 1.0])


def test_reserve_headroom_is_what_the_env_can_activate():
    from types import SimpleNamespace

    from agents.learned import reserve_headroom
    from envs.actors.coalition import reserve_entry

    m = SimpleNamespace(
        battery_mw=np.array([2.0, 1.0, 0.0]),
        battery_mwh=np.array([4.0, 2.0, 0.0]),
        eta=np.array([0.9, 0.9, 1.0]),
    )
    # charging 1 MW with 1 MWh stored: down to min(2, 0.9) discharge = 1.9 MW of headroom;
    # discharging 0.5 MW with 2 MWh stored: 1 - 0.5 = 0.5 MW; no battery: none.
    soc = np.array([1.0, 2.0, 0.0])
    head = reserve_headroom(np.array([1.0, -0.5, 0.0]), soc, m)
    assert head == pytest.approx(2.4)
    assert reserve_entry(np.array([0.0, 1.5, 3.0, 9.0]), m.battery_mw) == pytest.approx(
        [-1, 0, 1, 1]
    )
    # an env episode offering the whole headroom at 0 EUR/MW is never short on activation
    # (a week: reserve is called by the system's real-time deviation, and the rule's
    # batteries hold headroom only in some hours)
    env = envs.make("multimarket_v1", days=7)
    obs, _ = env.reset(seed=3)
    rule = agents.load("rule")
    rule.reset(env, seed=3)
    core, at = env.core, rule.at["members"]
    short = 0.0
    while env.agents:
        act = rule.act(obs)
        ids = rule.member_ids
        batt = np.array([act[a][0] for a in ids]) * core.members.battery_mw
        stored = np.array([obs[a][at["soc"]] for a in ids]) * core.members.battery_mwh
        act["coalition_0"][2] = reserve_entry(
            reserve_headroom(batt, stored, core.members), core.members.battery_mw
        )
        act["coalition_0"][3] = -1.0  # 0 EUR/MW: a price-taker
        obs, _, _, _, infos = env.step(act)
        short += infos["coalition_0"]["reserve_not_delivered_mwh"]
    led = env.ledger()
    coal = led[led.participant == "coalition"]
    assert coal[coal.market == "reserve"].reserve_mw.sum() > 0.0  # awarded
    assert coal[coal.market == "balancing"].energy_mwh.sum() > 0.0  # and activated
    assert short == pytest.approx(0.0, abs=1e-9)  # rounding only


#: mappo.yaml without its warm start and extra inputs: a fresh residual policy.
PLAIN = ["mappo.imitate=''", "mappo.forecast_features=[]", "mappo.critic_obs=false",
         "mappo.reserve_base=none"]  # fmt: skip


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param([x for item in PLAIN for x in ("--set", item)], id="plain"),
        pytest.param(["--set", "mappo.margin_features=true"], id="margin_features"),
        pytest.param(
            ["--set", "mappo.imitate_episodes=1"], id="shipped_config", marks=pytest.mark.slow
        ),
    ],
)
def test_export_loads_from_a_run_checkpoint(tmp_path, extra):
    from training import train

    code = train.main(
        [
            "--config",
            "configs/training/mappo.yaml",
            "--out",
            str(tmp_path),
            "--set",
            "env.num_envs=2",
            "--set",
            "env.days=1",
            "--set",
            "env.scenarios=[default]",
            "--total-steps",
            "48",
            "--no-progress",
            *extra,
        ]
    )
    assert code == 0
    pol = agents.load("mappo", checkpoint=str(tmp_path / "checkpoint.pt"))
    env = envs.make("multimarket_v1", days=1)
    total, _ = _episode(env, pol, seed=1000)  # acts inside the action spaces
    if "mappo.imitate_episodes=1" in extra:
        # mappo.yaml: the member actor reads 5 more features than the env's observation
        assert pol.featured == {"members"}
        assert (
            pol.actors["members"].net[0].in_features
            == env.observation_space("member_0").shape[0] + 5
        )
    elif "mappo.margin_features=true" in extra:  # 5 + 3 features, from the env's statics
        assert pol.featured == {"members"} and pol.margin
        assert (
            pol.actors["members"].net[0].in_features
            == env.observation_space("member_0").shape[0] + 8
        )
        np.testing.assert_array_equal(pol.statics, margin_statics(env.core))
    else:  # fresh residual actors start near the rule (heads initialised at ~0)
        rule_total, _ = _episode(env, agents.load("rule"), seed=1000)
        assert total == pytest.approx(rule_total, rel=0.05, abs=200.0)
    assert load_checkpoint(tmp_path)["policy"]["residual"]
