"""The MAPPO loop's shortcuts compute what the plain loop computes.

- the members' shared observation block goes through the first layer once per env
  (``GaussianActor.dist_split``): the same Gaussian as the actor on the joined input;
- observation statistics fold the shared block in once per env
  (``RunningMeanStd.update_split``): the same mean, variance and count as every row;
- the shared block really is shared: in every env id and group the learner splits, the
  leading ``common_size`` features are equal across the group's agents;
- ``device``: ``cuda`` without a GPU is a clear error; ``cpu`` trains.
"""

import numpy as np
import pytest
import torch

import envs
from agents.learned import GaussianActor
from envs.errors import ConfigError
from envs.sim.observe import common_size
from training.common import resolve_device
from training.floor import floor_config
from training.mappo_run import build
from training.normalize import RunningMeanStd
from training.rollout import collect


@pytest.mark.parametrize("mean_bound", [0.0, 2.0])
def test_the_split_first_layer_gives_the_joined_inputs_gaussian(mean_bound):
    torch.manual_seed(0)
    actor = GaussianActor(obs_dim=12, act_dim=3, hidden=16, mean_bound=mean_bound)
    with torch.no_grad():
        actor.net[-1].weight.mul_(100.0)  # a head far from zero: the test sees the mean
    common, own = torch.randn(5, 7), torch.randn(5, 4, 5)
    joined = torch.cat([common.unsqueeze(1).expand(5, 4, 7), own], -1)
    split, plain = actor.dist_split(common, own), actor.dist(joined)
    assert plain.mean.abs().max() > 0.1
    torch.testing.assert_close(split.mean, plain.mean, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(split.stddev, plain.stddev)
    # No shared block (a group of one): own is the whole input.
    torch.testing.assert_close(actor.dist_split(torch.zeros(5, 0), joined).mean, plain.mean)


def test_split_statistics_equal_those_of_every_agents_row():
    rng = np.random.default_rng(0)
    whole, split = RunningMeanStd((9,)), RunningMeanStd((9,))
    for _ in range(3):
        common, own = rng.normal(3, 2, (6, 4)), rng.normal(-1, 5, (6, 5, 5))
        rows = np.concatenate([np.repeat(common[:, None], 5, axis=1), own], -1)
        whole.update(rows)
        split.update_split(common, own)
        np.testing.assert_allclose(split.mean, whole.mean, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(split.var, whole.var, rtol=1e-12)
        assert split.count == whole.count
        zc, zo = split.normalize_split(common, own)
        z = whole.normalize(rows)
        np.testing.assert_allclose(zc, z[:, 0, :4], rtol=1e-6)
        np.testing.assert_allclose(zo, z[..., 4:], rtol=1e-6)


@pytest.mark.parametrize(
    ("scenario", "overrides"),
    [("default", {}), ("strategic_incumbents", {"fleet.controlled": True})],
)
def test_the_split_block_is_shared_by_every_agent_of_a_group(scenario, overrides):
    venv = envs.make_vector("multimarket_v1", scenario=scenario, num_envs=3, days=1,
                            overrides=overrides)  # fmt: skip
    c = common_size(venv.core.dims.H)
    obs, _ = venv.reset(seed=5)
    for _ in range(30):
        for g, o in obs.items():
            if o.shape[1] > 1:
                assert np.array_equal(
                    o[:, :, :c], np.broadcast_to(o[:, :1, :c], o[:, :, :c].shape)
                ), g
        obs, *_ = venv.step(venv.scripted_actions())


def test_a_rollout_writes_every_hour_of_its_buffers():
    cfg = floor_config(1, {"env.num_envs": 3, "env.scenarios": ["default"]})
    venvs, learner, _ = build(cfg)
    learner.statics = None
    batches, states, _ = collect(venvs[0], learner, seed=3, reward_scale=0.01)
    T = venvs[0].core.dims.T
    assert states.shape[0] == T and bool((states.abs().sum((1, 2)) > 0).all())
    for g, b in batches.items():
        assert b.common.shape[-1] == learner.shared[g]
        assert bool((b.own.abs().sum(tuple(range(1, b.own.dim()))) > 0).all()), g
        assert bool((b.logp != 0).any(-1).any(-1).all()), g
        assert b.dones[-1].eq(1).all() and b.dones[:-1].eq(0).all()


def test_cuda_without_a_gpu_is_a_clear_error_and_cpu_trains():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in {"cpu", "cuda"}
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU; the error is for machines without one")
    with pytest.raises(ConfigError, match="device: 'cuda'"):
        resolve_device("cuda")
    cfg = floor_config(1, {"env.num_envs": 2, "env.scenarios": ["default"], "device": "cpu"})
    venvs, learner, _ = build(cfg)
    batches, states, _ = collect(venvs[0], learner, seed=1, reward_scale=0.01)
    out = learner.update(batches, states)
    assert all(np.isfinite(v) or k.startswith("losses/explained") for k, v in out.items())
