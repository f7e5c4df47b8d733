"""Every outside library's default route on every env id that supports its API.

TorchRL's ``PettingZooWrapper`` on every parallel env with default arguments (flat infos
by default), SB3's ``make_vec_env`` on every Gymnasium id (which asks for
``render_mode="rgb_array"``), SuperSuit's standard preprocessing (padding, then
``agent_indicator_v0(type_only=True)``, which needs PettingZoo's ``<type>_<n>`` agent
names), and the ``rgb_array`` frame that Gymnasium's video wrappers record. Each case runs
a few steps; the training examples (BenchMARL, RLlib) are slow tests in
``tests/evaluation/test_examples.py``.
"""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import envs

ALL_GROUPS = {"members.agents": True, "members.count": 3, "fleet.controlled": True}
#: Parallel env ids (``ppa_negotiation_v0`` is turn-based: AEC only).
PARALLEL_IDS = [e for e in envs.ENV_IDS if e != "ppa_negotiation_v0"]
MARKET_IDS = ["multimarket_v1", "spot_v1"]


@pytest.mark.parametrize("env_id", PARALLEL_IDS)
def test_torchrl_pettingzoo_wrapper_with_default_arguments(env_id):
    torchrl_envs = pytest.importorskip("torchrl.envs", reason="pip install .[examples]")
    env = torchrl_envs.PettingZooWrapper(envs.make(env_id), seed=0)
    td = env.rollout(3)
    assert td.batch_size == (3,)
    # The infos survive as numbers (the nested default once made TorchRL drop them).
    assert any(k[-2] == "info" for k in td["next"].keys(True, True) if isinstance(k, tuple))


def test_torchrl_wraps_the_turn_based_env_as_aec():
    torchrl_envs = pytest.importorskip("torchrl.envs", reason="pip install .[examples]")
    aec = envs.make("ppa_negotiation_v0", api="aec", info_format="flat")
    env = torchrl_envs.PettingZooWrapper(aec, use_mask=True)
    env.rollout(3)


@pytest.mark.parametrize("gym_id", envs.GYM_IDS)
def test_sb3_make_vec_env_with_default_arguments(gym_id):
    env_util = pytest.importorskip("stable_baselines3.common.env_util")
    venv = env_util.make_vec_env(gym_id, n_envs=2, seed=0)
    obs = venv.reset()
    assert obs.shape == (2, *venv.observation_space.shape)
    obs, rewards, _dones, infos = venv.step(np.stack([venv.action_space.sample()] * 2))
    assert rewards.shape == (2,) and len(infos) == 2
    frame = venv.render()  # SB3 tiles the sub-envs' rgb_array frames
    assert frame.ndim == 3 and frame.shape[-1] == 3
    venv.close()


@pytest.mark.parametrize("env_id", MARKET_IDS)
def test_supersuit_standard_preprocessing(env_id):
    ss = pytest.importorskip("supersuit", reason="pip install .[examples]")
    env = envs.make(env_id, days=1, overrides=ALL_GROUPS)
    assert all(a.rsplit("_", 1)[1].isdigit() for a in env.possible_agents)
    env = ss.agent_indicator_v0(ss.pad_action_space_v0(ss.pad_observations_v0(env)), type_only=True)
    first = env.observation_space(env.possible_agents[0])
    # One space: one shared policy may take every agent.
    assert all(env.observation_space(a) == first for a in env.possible_agents)
    venv = ss.concat_vec_envs_v1(
        ss.pettingzoo_env_to_vec_env_v1(env), 2, num_cpus=0, base_class="stable_baselines3"
    )
    obs = venv.reset()
    assert obs.shape[0] == 2 * len(env.possible_agents)
    venv.step(np.stack([venv.action_space.sample() for _ in range(venv.num_envs)]))
    venv.close()


def test_supersuit_on_the_exchange_needs_its_flat_spaces():
    ss = pytest.importorskip("supersuit", reason="pip install .[examples]")
    env = envs.make("reservation_exchange_v0", hours=2, flat_spaces=True)
    env = ss.agent_indicator_v0(ss.pad_action_space_v0(ss.pad_observations_v0(env)))
    venv = ss.pettingzoo_env_to_vec_env_v1(env)
    venv.reset(seed=0)
    venv.step(np.stack([venv.action_space.sample() for _ in range(venv.num_envs)]))


@pytest.mark.parametrize("env_id", MARKET_IDS)
def test_rgb_array_frame_of_the_hour(env_id):
    env = envs.make(env_id, days=1, render_mode="rgb_array", overrides=ALL_GROUPS)
    assert "rgb_array" in env.metadata["render_modes"]
    env.reset(seed=0)
    first = env.render()
    assert first.shape == (360, 480, 3) and first.dtype == np.uint8
    env.step(env.scripted_actions())
    frame = env.render()
    assert frame.shape == first.shape and not np.array_equal(frame, first)


def test_rgb_array_rendering_changes_no_trajectory():
    runs = []
    for mode in (None, "rgb_array"):
        env = envs.make("multimarket_v1", days=1, render_mode=mode, overrides=ALL_GROUPS)
        obs, _ = env.reset(seed=1)
        rng, out = np.random.default_rng(1), []
        for _ in range(3):
            acts = {a: rng.uniform(-1, 1, env.action_space(a).shape) for a in env.agents}
            obs, rew, _, _, infos = env.step(acts)
            env.render()
            out.append((obs, rew, infos))
        runs.append(out)
    for (o1, r1, i1), (o2, r2, i2) in zip(*runs, strict=True):
        assert r1 == r2 and i1 == i2
        assert all(np.array_equal(o1[a], o2[a]) for a in o1)


@pytest.mark.parametrize("gym_id", envs.GYM_IDS)
def test_gymnasium_render_collection_records_frames(gym_id):
    env = gymnasium.wrappers.RenderCollection(
        gymnasium.make(gym_id, days=1, render_mode="rgb_array")
    )
    env.reset(seed=0)
    env.step(env.action_space.sample())
    frames = env.render()
    assert len(frames) == 2 and all(f.shape == (360, 480, 3) for f in frames)


@pytest.mark.slow
def test_gymnasium_record_video(tmp_path):
    pytest.importorskip("moviepy", reason="Gymnasium's RecordVideo writes with moviepy")
    env = gymnasium.wrappers.RecordVideo(
        gymnasium.make(envs.GYM_IDS[0], days=1, render_mode="rgb_array", max_cycles=4),
        str(tmp_path),
    )
    env.reset(seed=0)
    done = False
    while not done:
        *_, term, trunc, _ = env.step(env.action_space.sample())
        done = term or trunc
    env.close()
    assert list(tmp_path.glob("*.mp4"))


def test_make_gym_accepts_the_coalition_group_name():
    env = envs.make_gym("spot_v1", agent="coalition", days=1)
    assert env.agent == "coalition_0"
    with pytest.raises(envs.UnknownNameError, match="agent 'member_999' is not in spot_v1"):
        envs.make_gym("spot_v1", agent="member_999", days=1)
