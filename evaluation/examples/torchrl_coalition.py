"""TorchRL's PettingZoo route: MAPPO on ``multimarket_v1`` with one policy per agent group.

TorchRL wraps a parallel PettingZoo env with ``torchrl.envs.PettingZooWrapper``; its
``group_map`` stacks agents of one group into one tensor, so the env's own
``agent_groups`` (coalition, members, incumbents, each with its own spaces) become
TorchRL groups. Each group gets a shared-parameter actor on its agents' own observations
and a centralised critic over the group's observations (MAPPO, Yu et al. 2022, "The
Surprising Effectiveness of PPO in Cooperative Multi-Agent Games"), trained by TorchRL's
``ClipPPOLoss`` with GAE. Rewards are EUR per hour; the losses see them in kEUR.

    python -m evaluation.examples.torchrl_coalition --frames 1920

Prints one JSON line: ``{"frames", "mean_reward_eur": {group: mean hourly reward per
agent over the last batch}}``.
"""

from __future__ import annotations

import argparse
import json

import torch
from tensordict.nn import NormalParamExtractor, TensorDictModule, TensorDictSequential
from torch import nn
from torchrl.collectors import Collector
from torchrl.data import LazyTensorStorage, ReplayBuffer, SamplerWithoutReplacement
from torchrl.envs import PettingZooWrapper, RewardScaling, TransformedEnv
from torchrl.modules import MultiAgentMLP, ProbabilisticActor, TanhNormal
from torchrl.objectives import ClipPPOLoss, ValueEstimators

from envs import multimarket_v1

#: EUR -> kEUR for the losses: an incumbent earns ~10^4 EUR an hour.
REWARD_SCALE = 1e-3


def make_env(members: int = 3, seed: int = 0) -> TransformedEnv:
    """``multimarket_v1`` (one day) with members and incumbents as agents, wrapped for TorchRL.

    Flat infos (``info_format="flat"``, the default, spelled out here) so that every info
    value is a number TorchRL can stack; ``done_on_any=False``: every agent is truncated at
    the day's end anyway.
    """
    par = multimarket_v1.parallel_env(
        days=1,
        info_format="flat",
        overrides={"members.agents": True, "members.count": members, "fleet.controlled": True},
    )
    env = PettingZooWrapper(
        env=par,
        group_map=par.agent_groups,
        use_mask=False,
        categorical_actions=False,
        done_on_any=False,
        seed=seed,
    )
    keys = [(g, "reward") for g in env.group_map]
    return TransformedEnv(env, RewardScaling(loc=0.0, scale=REWARD_SCALE, in_keys=keys))


def _group_modules(env: TransformedEnv, group: str) -> tuple[ProbabilisticActor, nn.Module]:
    """MAPPO's actor (decentralised) and critic (centralised over the group) of ``group``."""
    n = len(env.group_map[group])
    obs_dim = env.observation_spec[group, "observation"].shape[-1]
    act_spec = env.full_action_spec[group, "action"]
    actor_net = nn.Sequential(
        MultiAgentMLP(
            n_agent_inputs=obs_dim,
            n_agent_outputs=2 * act_spec.shape[-1],
            n_agents=n,
            centralized=False,
            share_params=True,
            depth=2,
            num_cells=64,
            activation_class=nn.Tanh,
        ),
        NormalParamExtractor(),
    )
    actor = ProbabilisticActor(
        TensorDictModule(
            actor_net, in_keys=[(group, "observation")], out_keys=[(group, "loc"), (group, "scale")]
        ),
        in_keys=[(group, "loc"), (group, "scale")],
        out_keys=[(group, "action")],
        distribution_class=TanhNormal,
        distribution_kwargs={"low": act_spec.space.low, "high": act_spec.space.high},
        return_log_prob=True,
        log_prob_key=(group, "sample_log_prob"),
    )
    critic = TensorDictModule(
        MultiAgentMLP(
            n_agent_inputs=obs_dim,
            n_agent_outputs=1,
            n_agents=n,
            centralized=True,
            share_params=True,
            depth=2,
            num_cells=64,
            activation_class=nn.Tanh,
        ),
        in_keys=[(group, "observation")],
        out_keys=[(group, "state_value")],
    )
    return actor, critic


def train(frames: int = 1920, members: int = 3, frames_per_batch: int = 480, seed: int = 0) -> dict:
    """MAPPO for ``frames`` env steps (24 a day); returns ``{"frames", "mean_reward_eur"}``.

    Args:
        frames: env steps in total (each steps every agent once).
        members: member agents.
        frames_per_batch: env steps per PPO update (a multiple of 24 keeps whole days).
        seed: torch and env seed.
    """
    torch.manual_seed(seed)
    env = make_env(members, seed)
    groups = list(env.group_map)
    modules = {g: _group_modules(env, g) for g in groups}
    # The collector calls one policy: the groups' actors in a row, each writing its group.
    policy = TensorDictSequential(*(modules[g][0] for g in groups))
    collector = Collector(
        env, policy, frames_per_batch=frames_per_batch, total_frames=frames, device="cpu"
    )
    losses, optims = {}, {}
    for g in groups:
        actor, critic = modules[g]
        loss = ClipPPOLoss(
            actor, critic, clip_epsilon=0.2, entropy_coeff=1e-3, normalize_advantage=True
        )
        loss.set_keys(
            reward=(g, "reward"),
            action=(g, "action"),
            sample_log_prob=(g, "sample_log_prob"),
            value=(g, "state_value"),
            advantage=(g, "advantage"),  # per group: the top-level default would be shared
            value_target=(g, "value_target"),
            done=(g, "done"),
            terminated=(g, "terminated"),
        )
        loss.make_value_estimator(ValueEstimators.GAE, gamma=0.99, lmbda=0.95)
        losses[g] = loss
        optims[g] = torch.optim.Adam(loss.parameters(), lr=3e-4)
    buffer = ReplayBuffer(
        storage=LazyTensorStorage(frames_per_batch),
        sampler=SamplerWithoutReplacement(),
        batch_size=frames_per_batch // 2,
    )
    done_frames, last_means = 0, {}
    for batch in collector:
        done_frames += batch.numel()
        last_means = {g: float(batch["next", g, "reward"].mean()) / REWARD_SCALE for g in groups}
        for g in groups:
            with torch.no_grad():
                losses[g].value_estimator(
                    batch,
                    params=losses[g].critic_network_params,
                    target_params=losses[g].target_critic_network_params,
                )
        buffer.extend(batch.reshape(-1))
        for _epoch in range(2):  # few, short epochs: the wrapper's stepping dominates anyway
            for _ in range(2):  # two minibatches of half a batch each
                sample = buffer.sample()
                for g in groups:
                    out = losses[g](sample)
                    total = out["loss_objective"] + out["loss_critic"] + out["loss_entropy"]
                    optims[g].zero_grad()
                    total.backward()
                    nn.utils.clip_grad_norm_(losses[g].parameters(), 1.0)
                    optims[g].step()
        collector.update_policy_weights_()
    collector.shutdown()
    env.close()
    return {"frames": done_frames, "mean_reward_eur": last_means}


def main() -> None:
    """Command line: ``--frames``, ``--members``, ``--frames-per-batch``, ``--seed``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=1920)
    ap.add_argument("--members", type=int, default=3)
    ap.add_argument("--frames-per-batch", type=int, default=480)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(json.dumps(train(args.frames, args.members, args.frames_per_batch, args.seed)))


if __name__ == "__main__":
    main()
