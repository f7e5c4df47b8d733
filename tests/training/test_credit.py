"""Capacity cash credited to its auction hour (training.credit, ppo.capacity_credit)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from training.config import load_config
from training.credit import CapacityCredit, credit_to_auctions
from training.idle import auction_column

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "training"


def test_credit_by_hand():
    cash = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    rewards = cash + 10.0
    out = credit_to_auctions(rewards, cash, np.array([False, True, False, False]), 0.5)
    # Before the first auction the cash stays; the auction hour keeps its own and gets the
    # later hours' discounted (0.5 * 5 + 0.25 * 7 = 4.25 and 0.5 * 6 + 0.25 * 8 = 5).
    np.testing.assert_allclose(out, [[11, 12], [17.25, 19], [10, 10], [10, 10]])
    # A second auction starts a new credit: hour 3's cash goes to hour 2.
    out = credit_to_auctions(rewards, cash, np.array([True, False, True, False]), 0.5)
    np.testing.assert_allclose(out, [[11 + 1.5, 12 + 2], [10, 10], [15 + 3.5, 16 + 4], [10, 10]])


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**16), st.floats(0.5, 1.0), st.integers(0, 5))
def test_credit_keeps_each_auction_periods_discounted_return(seed, gamma, first):
    rng = np.random.default_rng(seed)
    t_n = 12
    rewards, cash = rng.normal(size=(t_n, 3)), rng.normal(size=(t_n, 3))
    auction = np.zeros(t_n, bool)
    auction[[first, first + 6]] = True
    out = credit_to_auctions(rewards, cash, auction, gamma)
    disc = gamma ** np.arange(6)[:, None]
    for a in (first, first + 6):
        end = min(a + 6, t_n) if a == first else t_n
        span = slice(a, end)
        np.testing.assert_allclose((disc[: end - a] * out[span]).sum(0),
                                   (disc[: end - a] * rewards[span]).sum(0))  # fmt: skip
        # after the auction hour, no capacity cash is left in the rewards
        np.testing.assert_allclose(out[a + 1 : end], rewards[a + 1 : end] - cash[a + 1 : end])
    np.testing.assert_allclose(out[:first], rewards[:first])


def _one_rollout(credit: bool):
    from training.common import coalition_mask, make_envs, slots_of
    from training.ppo_sb3 import TrainingCoalitionEnv, make_model

    cfg = load_config(CONFIGS / "ppo.yaml", {"env.num_envs": 4, "env.days": 1,
                                             "env.scenarios": ["default"],
                                             "ppo.batch_size": 48})  # fmt: skip
    venvs = make_envs(cfg)
    mask = coalition_mask(slots_of(venvs[0]), cfg.ppo.fixed_coalition_entries).numpy()
    env = TrainingCoalitionEnv(venvs, 0, True, cfg.ppo.reward_scale, mask)
    model = make_model(cfg, env)
    model.learn(96, callback=CapacityCredit(auction_column(venvs[0])) if credit else None)
    return env, model.rollout_buffer, model.gamma


def test_capacity_credit_moves_the_rollouts_capacity_cash_to_the_auction_hour():
    # The same seed gives the same rollout with and without the callback; with it, the
    # rewards are the redistributed ones and the returns were recomputed from them.
    env, plain, gamma = _one_rollout(credit=False)
    cash = env.last_capacity_cash
    # the hours the policy saw flagged as auctions (SB3 flattens observations env-major)
    t_n, e_n = plain.rewards.shape
    obs = plain.observations.reshape(e_n, t_n, -1).transpose(1, 0, 2)
    auction = obs[:, :, auction_column(env.venv)] > 0.5
    assert cash.shape == auction.shape == plain.rewards.shape
    assert auction[0].all() and not auction[1:].any()
    assert np.abs(cash[1:]).sum() > 0  # the coalition holds capacity cash after the auction
    _, moved, _ = _one_rollout(credit=True)
    expected = credit_to_auctions(plain.rewards, cash, auction, gamma)
    np.testing.assert_allclose(moved.rewards, expected, rtol=1e-6, atol=1e-7)
    # SB3 hands minibatches out of (E * T, 1) arrays, env-major: back to (T, E)

    def unflat(x):
        return x.reshape(e_n, t_n).T

    values = unflat(moved.values)
    np.testing.assert_allclose(values, unflat(plain.values))
    # GAE by hand on the moved rewards (the episode ends with the rollout)
    adv, last = np.zeros((t_n, e_n)), 0.0
    for t in reversed(range(t_n)):
        nxt = values[t + 1] if t + 1 < t_n else 0.0
        last = moved.rewards[t] + gamma * nxt - values[t] + gamma * moved.gae_lambda * last
        adv[t] = last
    np.testing.assert_allclose(unflat(moved.advantages), adv, rtol=1e-5, atol=1e-6)
    assert not np.allclose(unflat(moved.advantages)[0], unflat(plain.advantages)[0])


def test_credit_per_env_auction_hours():
    cash = np.ones((3, 2))
    auction = np.array([[True, False], [False, True], [False, False]])
    out = credit_to_auctions(cash, cash, auction, 1.0)  # rewards of capacity cash only
    # env 0: hours 1 and 2 go to hour 0; env 1: hour 0 stays (before its auction), hour 2
    # goes to hour 1
    np.testing.assert_allclose(out, [[3, 1], [0, 2], [0, 0]])


def test_mixed_env_steps_each_part_as_it_would_alone():
    import envs
    from training.mix import MixedVectorEnv, split_envs

    assert split_envs(64, 7) == [10, 9, 9, 9, 9, 9, 9]
    names, sizes = ["default", "dark_doldrums"], [3, 2]
    mixed = MixedVectorEnv([envs.make_vector("multimarket_v1", scenario=s, num_envs=n, days=1)
                            for s, n in zip(names, sizes, strict=True)], names)  # fmt: skip
    alone = [envs.make_vector("multimarket_v1", scenario=s, num_envs=n, days=1)
             for s, n in zip(names, sizes, strict=True)]  # fmt: skip
    assert mixed.num_envs == 5
    np.testing.assert_array_equal(mixed.weights({"dark_doldrums": 0.05}), [1, 1, 1, 0.05, 0.05])
    obs, _ = mixed.reset(seed=3)
    seeds = [int(np.random.SeedSequence([3, k]).generate_state(1)[0]) for k in range(2)]
    obs_alone = [v.reset(seed=s)[0] for v, s in zip(alone, seeds, strict=True)]
    np.testing.assert_array_equal(obs["members"], np.concatenate([o["members"] for o in obs_alone]))
    rng = np.random.default_rng(0)
    for _ in range(5):
        acts = mixed.scripted_actions()
        acts["coalition"] = rng.uniform(-1, 1, acts["coalition"].shape)
        got = mixed.step(acts)
        parts = [v.step({g: np.split(a, [3])[k] for g, a in acts.items()})
                 for k, v in enumerate(alone)]  # fmt: skip
        for i in (0, 1, 4):  # observations, rewards, infos
            for key in got[i]:
                want = np.concatenate([p[i][key] for p in parts])
                np.testing.assert_array_equal(got[i][key], want)
    np.testing.assert_array_equal(mixed.state(), np.concatenate([v.state() for v in alone]))


def test_mixed_rollouts_are_checked_and_train(tmp_path):
    import pytest

    from envs.errors import ConfigError
    from training import train

    with pytest.raises(ConfigError, match=r"env\.mix"):
        load_config(CONFIGS / "mappo.yaml", {"env.mix": "rollout"})
    with pytest.raises(ConfigError, match="at least one env per scenario"):
        load_config(CONFIGS / "ppo.yaml", {"env.mix": "rollout", "env.num_envs": 3})
    cfg = load_config(CONFIGS / "ppo.yaml", {"env.mix": "rollout", "env.num_envs": 8,
                                             "env.days": 1, "ppo.batch_size": 48,
                                             "ppo.capacity_credit": True})  # fmt: skip
    from training.common import make_envs

    (venv,) = make_envs(cfg)
    assert venv.num_envs == 8 and venv.names == list(cfg.env.scenarios)
    assert venv.sizes == [2, 1, 1, 1, 1, 1, 1]
    sets = ["env.mix=rollout", "env.num_envs=8", "env.days=1", "ppo.batch_size=48",
            "ppo.capacity_credit=true"]  # fmt: skip
    argv = ["--config", str(CONFIGS / "ppo.yaml"), "--out", str(tmp_path), "--total-steps",
            "384", "--no-progress"]  # fmt: skip
    assert train.main(argv + [x for kv in sets for x in ("--set", kv)]) == 0
    assert (tmp_path / "checkpoint.pt").exists()
