"""RLlib multi-agent PPO on ``multimarket_v1`` with one module (policy) per agent group.

RLlib wraps a parallel PettingZoo env as a ``MultiAgentEnv``
(``ray.rllib.env.wrappers.pettingzoo_env.ParallelPettingZooEnv``); a policy mapping
function sends every agent id to its group's module (coalition, members, incumbents),
so agents of one group share parameters and groups with different spaces keep their own
networks. Ray starts on one CPU with sampling and learning in this process
(``num_env_runners=0``, ``num_learners=0``). Rewards are EUR per hour; PPO sees them in
kEUR.

    python -m evaluation.examples.rllib_groups --timesteps 480

Prints one JSON line: ``{"timesteps", "iterations", "mean_reward_eur": {group: mean
hourly reward per agent over the last iteration's episodes}, "episode_return_eur":
{group: RLlib's per-module episode return, the group's agents summed}}``.

The coalition's and the members' ``episode_return_eur`` are equal in every iteration, by
the reward design rather than a bug: the coalition's reward is the members' total saving
(``envs.multimarket_v1``, "Reward"), and RLlib's ``module_episode_returns_mean`` of the
members' module sums the rewards of every agent mapped to it, i.e. the members' total
saving too (whatever ``members.reward``: ``team`` and ``mix`` redistribute the saving
among members but keep its total). ``mean_reward_eur`` divides by the group's size, so
there the members' figure is the coalition's over the member count.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import ray
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv
from ray.tune.registry import register_env

import envs
from envs import multimarket_v1

#: EUR -> kEUR for PPO: an incumbent earns ~10^4 EUR an hour.
REWARD_SCALE = 1e-3
HOURS = 24  # one-day episodes
ENV_NAME = "coalition_markets/multimarket_v1_groups"


def _make_par(cfg: dict) -> Any:
    """``envs.make(cfg["env_id"], **cfg["env_kwargs"])``, or without ``env_id`` one day of
    ``multimarket_v1`` with ``cfg["members"]`` member agents and the incumbents as agents.

    Raises:
        ValueError: an agent's action space is not a 1-D Box, which RLlib's PPO refuses
            (names the env, the agent and the space).
    """
    if cfg.get("env_id") is None:
        return multimarket_v1.parallel_env(
            days=1,
            overrides={
                "members.agents": True,
                "members.count": cfg["members"],
                "fleet.controlled": True,
            },
        )
    par = envs.make(cfg["env_id"], **cfg.get("env_kwargs", {}))
    for agent in par.possible_agents:
        space = par.action_space(agent)
        if len(space.shape or ()) != 1:
            hint = " (pass env_kwargs={'flat_spaces': True})" if hasattr(par, "flat_spaces") else ""
            raise ValueError(
                f"{cfg['env_id']}: agent {agent!r} acts in {space}; RLlib's PPO needs a 1-D "
                f"action Box{hint}"
            )
    return par


class KiloEuroEnv(ParallelPettingZooEnv):
    """RLlib's PettingZoo wrapper with rewards in kEUR (EUR times :data:`REWARD_SCALE`)."""

    def step(self, action_dict: dict) -> tuple:
        """Step the env; rewards come back in kEUR."""
        obs, rew, term, trunc, info = super().step(action_dict)
        return obs, {a: r * REWARD_SCALE for a, r in rew.items()}, term, trunc, info


def train(
    timesteps: int = 480,
    members: int = 3,
    batch: int = 240,
    seed: int = 0,
    env_id: str | None = None,
    env_kwargs: dict | None = None,
) -> dict:
    """PPO iterations until ``timesteps`` env steps; returns the JSON line's dict.

    Args:
        timesteps: env steps in total (each steps every agent once).
        members: member agents.
        batch: env steps per iteration (a multiple of 24 keeps whole days).
        seed: RLlib's seed.
        env_id, env_kwargs: another parallel env, ``envs.make(env_id, **env_kwargs)``
            (``members`` is then unused; its episodes may be longer than a day, so the
            returns appear once one has ended); None: ``multimarket_v1`` as above.
    """
    env_config = {"members": members, "env_id": env_id, "env_kwargs": dict(env_kwargs or {})}
    groups = _make_par(env_config).agent_groups
    group_of = {a: g for g, ids in groups.items() for a in ids}
    register_env(ENV_NAME, lambda cfg: KiloEuroEnv(_make_par(cfg)))
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    config = (
        PPOConfig()
        .environment(ENV_NAME, env_config=env_config)
        .env_runners(num_env_runners=0, rollout_fragment_length=HOURS)
        .learners(num_learners=0)
        .multi_agent(
            policies=set(groups),
            policy_mapping_fn=lambda agent_id, episode, **kwargs: group_of[agent_id],
        )
        .rl_module(
            rl_module_spec=MultiRLModuleSpec(
                rl_module_specs={
                    g: RLModuleSpec(model_config={"fcnet_hiddens": [64, 64]}) for g in groups
                }
            )
        )
        # Tiny batches: RLlib counts agent steps per module in its minibatches.
        .training(
            train_batch_size_per_learner=batch, minibatch_size=batch // 2, num_epochs=2, lr=3e-4
        )
        .debugging(seed=seed)
    )
    algo = config.build_algo()
    steps, iterations, result = 0, 0, {}
    while steps < timesteps:
        result = algo.train()
        iterations += 1
        steps = int(result["env_runners"]["num_env_steps_sampled_lifetime"])
    returns = result["env_runners"].get("module_episode_returns_mean", {})
    totals = {g: float(returns[g]) / REWARD_SCALE for g in groups if g in returns}
    hours = result["env_runners"].get("episode_len_mean", HOURS) if env_id else HOURS
    means = {g: totals[g] / len(groups[g]) / hours for g in totals}
    algo.stop()
    ray.shutdown()
    return {
        "timesteps": steps,
        "iterations": iterations,
        "mean_reward_eur": means,
        "episode_return_eur": totals,
    }


def main() -> None:
    """Command line: ``--timesteps``, ``--members``, ``--batch``, ``--seed``, ``--env-id``,
    ``--env-kwargs`` (JSON)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timesteps", type=int, default=480)
    ap.add_argument("--members", type=int, default=3)
    ap.add_argument("--batch", type=int, default=240)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--env-id", default=None, help="another parallel env id (envs.ENV_IDS)")
    ap.add_argument("--env-kwargs", type=json.loads, default={}, help="its arguments, JSON")
    args = ap.parse_args()
    out = train(args.timesteps, args.members, args.batch, args.seed, args.env_id, args.env_kwargs)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
