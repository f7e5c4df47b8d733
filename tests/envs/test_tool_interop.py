"""What researchers' tools need from the envs (issue 16): infos with the same keys at
reset and step, flat numeric infos, render modes, Gymnasium ids, flat spaces for the
exchange, and the vector views as true ``gymnasium.vector.VectorEnv``s."""

from __future__ import annotations

import math

import gymnasium
import numpy as np
import pytest
from gymnasium.wrappers import vector as vw

import envs
import envs.ppa_negotiation_v0 as ppa
import envs.reservation_exchange_v0 as rx
from envs.adapters.infos import flatten_info, nested_info

ALL_GROUPS = {"members.agents": True, "members.count": 3, "fleet.controlled": True}


def _first_two_infos(env):
    _, reset_infos = env.reset(seed=3)
    for i, a in enumerate(env.possible_agents):
        env.action_space(a).seed(i)
    _, _, _, _, step_infos = env.step({a: env.action_space(a).sample() for a in env.agents})
    return reset_infos, step_infos


@pytest.mark.parametrize("env_id", ["multimarket_v1", "spot_v1"])
@pytest.mark.parametrize("info_format", ["nested", "flat"])
def test_market_reset_infos_have_the_step_keys(env_id, info_format):
    env = envs.make(env_id, days=1, overrides=ALL_GROUPS, info_format=info_format)
    reset_infos, step_infos = _first_two_infos(env)
    assert set(reset_infos) == set(step_infos) == set(env.possible_agents)
    for a in env.possible_agents:
        assert reset_infos[a].keys() == step_infos[a].keys(), a
        if info_format == "nested":
            assert reset_infos[a]["market"].keys() == step_infos[a]["market"].keys()


def test_flat_infos_are_the_default_numbers_under_slash_keys():
    env = envs.make("multimarket_v1", days=1, overrides=ALL_GROUPS)
    assert env.info_format == "flat"
    _, step_infos = _first_two_infos(env)
    nested = envs.make("multimarket_v1", days=1, overrides=ALL_GROUPS, info_format="nested")
    _, nested_infos = _first_two_infos(nested)
    for a, info in step_infos.items():
        assert all(isinstance(v, int | float) for v in info.values()), a
        assert list(info.items()) == list(flatten_info(nested_infos[a]).items()), a
        assert nested_info(info) == nested_infos[a], a
    coal = step_infos["coalition_0"]
    assert (
        coal["market/price_eur_per_mwh"]
        == nested_infos["coalition_0"]["market"]["price_eur_per_mwh"]
    )
    assert coal["cash_eur/spot"] == nested_infos["coalition_0"]["cash_eur"]["spot"]
    assert step_infos["member_0"]["saving_eur"] == nested_infos["member_0"]["saving_eur"]


def test_bad_info_format_names_the_env():
    with pytest.raises(ValueError, match=r"multimarket_v1: info_format='tree'"):
        envs.make("multimarket_v1", days=1, info_format="tree")


def test_exchange_reset_infos_have_the_step_keys():
    reset_infos, step_infos = _first_two_infos(rx.parallel_env(hours=2))
    for a in step_infos:
        assert reset_infos[a].keys() == step_infos[a].keys() == set(rx.INFO_KEYS)
        assert all(v == 0 for v in reset_infos[a].values())


def test_ppa_flat_infos_one_hot_outcome():
    env = ppa.env(info_format="flat")
    env.reset(seed=0)
    info = env.infos["mediator_0"]
    assert info["outcome/running"] == 1 and info["outcome/agreement"] == 0
    assert math.isnan(info["price_eur_per_mwh"])
    assert all(isinstance(v, int | float) for v in info.values())


def test_exchange_flat_spaces_carry_the_dict_values():
    flat, nested = rx.parallel_env(hours=2, flat_spaces=True), rx.parallel_env(hours=2)
    obs_f, _ = flat.reset(seed=5)
    obs_d, _ = nested.reset(seed=5)
    space = nested.observation_space("member_0")
    expected = gymnasium.spaces.flatten(space, obs_d["member_0"])
    np.testing.assert_array_equal(obs_f["member_0"], expected)
    assert flat.action_space("member_0").shape == (nested.config.market.horizon_h * 6,)
    # The flat action is the (D, 6) action read row-major: same trades, same rewards.
    rng = np.random.default_rng(0)
    for _ in range(8):
        acts = {a: rng.uniform(-1, 1, (nested.config.market.horizon_h, 6)).astype(np.float32)
                for a in nested.agents}  # fmt: skip
        _, r_d, _, _, _ = nested.step(acts)
        obs_f, r_f, _, _, _ = flat.step({a: v.ravel() for a, v in acts.items()})
        assert r_f == r_d
        assert flat.observation_space("member_0").contains(obs_f["member_0"])


def test_human_render_prints_the_ansi_line(capsys):
    ansi = envs.make("spot_v1", days=1, render_mode="ansi")
    ansi.reset(seed=0)
    human = envs.make("spot_v1", days=1, render_mode="human")
    human.reset(seed=0)
    assert human.render() is None
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == ansi.render()


def test_bad_render_mode_is_refused():
    with pytest.raises(ValueError, match="render_mode='rgb_array'"):
        rx.parallel_env(render_mode="rgb_array")


@pytest.mark.parametrize("gym_id", envs.GYM_IDS)
def test_gymnasium_ids_are_registered(gym_id):
    env = gymnasium.make(gym_id, days=1, render_mode="ansi")
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    _, _, _, _, info2 = env.step(env.action_space.sample())
    assert info.keys() == info2.keys()
    assert env.render().startswith("t=")
    env.close()


def test_make_gym_takes_render_mode_and_max_cycles():
    env = envs.make_gym("multimarket_v1", days=1, render_mode="ansi", max_cycles=2)
    env.reset(seed=0)
    _, _, term, trunc, _ = env.step(env.action_space.sample())
    assert not (term or trunc)
    _, _, term, trunc, _ = env.step(env.action_space.sample())
    assert trunc and not term
    assert isinstance(env.render(), str)


@pytest.mark.parametrize("agent", ["coalition", "members"])
def test_vector_views_autoreset_under_gymnasium_wrappers(agent):
    venv = envs.make_vector(
        "multimarket_v1", num_envs=2, days=1, agent=agent, overrides={"members.agents": True}
    )
    assert isinstance(venv, gymnasium.vector.VectorEnv)
    assert venv.metadata["autoreset_mode"] == gymnasium.vector.AutoresetMode.NEXT_STEP
    env = vw.ClipAction(vw.NormalizeObservation(vw.RecordEpisodeStatistics(venv)))
    obs, info = env.reset(seed=0)
    assert obs.shape == venv.observation_space.shape
    first_obs = obs.copy()
    for t in range(24):
        obs, rew, term, trunc, info = env.step(2.0 * env.action_space.sample())
        assert rew.shape == (venv.num_envs,)
        assert term.all() == (t == 23)
    assert "episode" in info and info["_episode"].all()
    assert (info["episode"]["l"] == 24).all()
    # NEXT_STEP: the following call resets, ignores its actions, returns reward 0.
    obs, rew, term, trunc, info = env.step(env.action_space.sample())
    assert (rew == 0).all() and not term.any() and not trunc.any()
    assert obs.shape == first_obs.shape


def test_members_vector_view_needs_member_agents():
    with pytest.raises(ValueError, match="members are not agents"):
        envs.make_vector(
            "multimarket_v1", num_envs=2, days=1, agent="members",
            overrides={"members.agents": False},
        )  # fmt: skip


def test_vector_view_refuses_a_wrong_action_shape():
    venv = envs.make_vector("multimarket_v1", num_envs=2, days=1, agent="coalition")
    venv.reset(seed=0)
    with pytest.raises(envs.ActionError, match=r"coalition actions have shape \(3, 4\)"):
        venv.step(np.zeros((3, 4), np.float32))


def test_group_env_is_one_group_with_one_space():
    from pettingzoo.test import parallel_api_test

    from envs.adapters.groups import GroupParallelEnv

    par = envs.make("multimarket_v1", days=1, overrides=ALL_GROUPS)
    members = GroupParallelEnv(par, "members")
    assert members.possible_agents == par.agent_groups["members"]
    spaces = [members.observation_space(a) for a in members.possible_agents]
    assert all(s == spaces[0] for s in spaces)
    parallel_api_test(members, num_cycles=50)


def test_group_env_refuses_an_unknown_group():
    from envs.adapters.groups import GroupParallelEnv

    par = envs.make("multimarket_v1", days=1, overrides={"fleet.controlled": False})
    with pytest.raises(ValueError, match="group 'incumbents' is not an agent group"):
        GroupParallelEnv(par, "incumbents")
