"""PettingZoo's SB3 tutorial route done with agent groups: SuperSuit + PPO for the members.

SuperSuit's ``pettingzoo_env_to_vec_env_v1`` needs every agent to share one space, so
padding the coalition's, members' and incumbents' observations into one would train one
policy over three kinds of agent. Here only the members group is exposed
(:class:`envs.adapters.groups.GroupParallelEnv`; the coalition and incumbents follow their
scripted behaviour) and each member is one sub-env of SB3's vector env, so one shared
members' policy learns from every member's saving (EUR per hour).

    python -m evaluation.examples.supersuit_members --timesteps 4096
"""

from __future__ import annotations

import argparse

import numpy as np
import supersuit as ss
from stable_baselines3 import PPO
from stable_baselines3.common.utils import set_random_seed

from envs import multimarket_v1
from envs.adapters.groups import GroupParallelEnv


def train(timesteps: int = 4096, members: int = 4, copies: int = 2, seed: int = 0) -> dict:
    """Train a shared members' policy; returns ``{"timesteps", "mean_saving_eur"}``.

    Args:
        timesteps: PPO environment steps in total (over all members and copies).
        members: members per market copy.
        copies: market copies stepped together (SuperSuit's ``concat_vec_envs_v1``).
        seed: PPO and env seed.
    """
    par = multimarket_v1.parallel_env(
        days=1, overrides={"members.agents": True, "members.count": members}
    )
    env = ss.pettingzoo_env_to_vec_env_v1(GroupParallelEnv(par, "members"))
    venv = ss.concat_vec_envs_v1(env, copies, num_cpus=0, base_class="stable_baselines3")
    # SuperSuit's ConcatVecEnv has no seed() (which PPO(seed=...) calls): seed the torch
    # and numpy generators here and the envs by one seeded reset; PPO's own reset then
    # continues from the seeded generators.
    set_random_seed(seed)
    venv.venv.reset(seed=seed)
    n_steps = 64
    model = PPO("MlpPolicy", venv, n_steps=n_steps, batch_size=n_steps * venv.num_envs // 4)
    model.learn(total_timesteps=timesteps)
    # One greedy episode of the learned policy: the members' mean hourly saving.
    obs = venv.reset()
    savings = []
    for _ in range(24):
        action, _ = model.predict(obs, deterministic=True)
        obs, rewards, _, _ = venv.step(action)
        savings.append(rewards)
    venv.close()
    return {"timesteps": model.num_timesteps, "mean_saving_eur": float(np.mean(savings))}


def main() -> None:
    """Command line: ``--timesteps``, ``--members``, ``--copies``, ``--seed``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timesteps", type=int, default=4096)
    ap.add_argument("--members", type=int, default=4)
    ap.add_argument("--copies", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(train(args.timesteps, args.members, args.copies, args.seed))


if __name__ == "__main__":
    main()
