"""BenchMARL's MAPPO on ``multimarket_v1``, added as a custom BenchMARL task.

BenchMARL adds a task as a ``TaskClass`` (how to build the TorchRL env and read its specs)
and a ``Task`` enum naming its tasks (BenchMARL docs, "Creating a new task"). Our task
builds TorchRL's ``PettingZooWrapper`` around the parallel env with the env's own agent
groups (coalition, members, incumbents) as TorchRL groups and its global ``state()`` for
MAPPO's centralised critics (Yu et al. 2022). Rewards are EUR per hour; BenchMARL trains on
them in kEUR (a ``RewardScaling`` env transform).

    python -m evaluation.examples.benchmarl_mappo --frames 1440

Prints one JSON line: ``{"frames", "mean_reward_eur": {group: mean hourly reward per agent
in one deterministic day of the trained policies}}``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable
from typing import Any

import gymnasium
import torch
from benchmarl.algorithms import MappoConfig
from benchmarl.environments.common import Task, TaskClass
from benchmarl.experiment import Experiment, ExperimentConfig
from benchmarl.models.mlp import MlpConfig
from tensordict.nn import InteractionType, set_interaction_type
from torchrl.data import Composite
from torchrl.envs import EnvBase, PettingZooWrapper, RewardScaling, Transform

import envs
from envs import multimarket_v1

#: EUR -> kEUR for the losses: an incumbent earns ~10^4 EUR an hour.
REWARD_SCALE = 1e-3
HOURS = 24  # one-day episodes


def _keep(spec: Composite, groups: list[str], key: str) -> Composite:
    """``spec`` with only ``(group, key)`` entries in each group (BenchMARL's spec views)."""
    spec = spec.clone()
    for g in groups:
        for k in list(spec[g].keys()):
            if k != key:
                del spec[g][k]
    if "state" in spec.keys():
        del spec["state"]
    return spec


def _check_flat_spaces(par: Any, env_id: str) -> None:
    """Refuse an env whose observations are not 1-D Boxes: BenchMARL's MLP takes vectors.

    Raises:
        ValueError: names the env, the agent and its space, and the argument to use.
    """
    for agent in par.possible_agents:
        space = par.observation_space(agent)
        if not (isinstance(space, gymnasium.spaces.Box) and len(space.shape) == 1):
            # The exchange has 1-D Box spaces with flat_spaces=True.
            hint = " (pass env_kwargs={'flat_spaces': True})" if hasattr(par, "flat_spaces") else ""
            raise ValueError(
                f"{env_id}: agent {agent!r} observes {space}; BenchMARL's MLP needs a 1-D Box{hint}"
            )


class CoalitionMarketsClass(TaskClass):
    """A parallel env of this suite as a BenchMARL task.

    ``config``: ``members`` (member agents of ``multimarket_v1``, one day, every group
    an agent group), or ``env_id`` and ``env_kwargs`` for any parallel env id built by
    ``envs.make(env_id, **env_kwargs)`` (``{}``: its default arguments).
    """

    def get_env_fun(
        self, num_envs: int, continuous_actions: bool, seed: int | None, device: str
    ) -> Callable[[], EnvBase]:
        """Builds the wrapped env (not vectorised: BenchMARL stacks ``num_envs`` copies)."""
        members = self.config.get("members", 3)
        env_id = self.config.get("env_id")

        def make() -> EnvBase:
            if env_id is not None:
                par = envs.make(env_id, **self.config.get("env_kwargs", {}))
                _check_flat_spaces(par, env_id)
            else:  # the default infos are flat numbers, which TorchRL stacks per group
                par = multimarket_v1.parallel_env(
                    days=1,
                    overrides={
                        "members.agents": True,
                        "members.count": members,
                        "fleet.controlled": True,
                    },
                )
            return PettingZooWrapper(
                env=par,
                group_map=par.agent_groups,
                return_state=True,
                use_mask=False,
                categorical_actions=False,
                done_on_any=False,
                seed=seed,
                device=device,
            )

        return make

    def supports_continuous_actions(self) -> bool:
        """True: the suite's actions are continuous."""
        return True  # Box(-1, 1) bids and offers

    def supports_discrete_actions(self) -> bool:
        """False: the suite has no discrete actions."""
        return False

    def has_render(self, env: EnvBase) -> bool:
        """False: BenchMARL does not render these envs."""
        return False

    def max_steps(self, env: EnvBase) -> int:
        """Steps in an episode: one day of hours."""
        return HOURS

    def group_map(self, env: EnvBase) -> dict[str, list[str]]:
        """The env's agent groups: group name -> its agents."""
        return env.group_map

    def observation_spec(self, env: EnvBase) -> Composite:
        """Each group's observations (no state, no infos)."""
        return _keep(env.observation_spec, list(env.group_map), "observation")

    def info_spec(self, env: EnvBase) -> Composite | None:
        """Each group's infos."""
        return _keep(env.observation_spec, list(env.group_map), "info")

    def state_spec(self, env: EnvBase) -> Composite | None:
        """The global state that MAPPO's centralised critics see."""
        return Composite({"state": env.observation_spec["state"].clone()})

    def action_spec(self, env: EnvBase) -> Composite:
        """Every group's actions (the env's full action spec)."""
        return env.full_action_spec

    def action_mask_spec(self, env: EnvBase) -> Composite | None:
        """None: no action masks."""
        return None  # every bid is always allowed

    def get_env_transforms(self, env: EnvBase) -> list[Transform]:
        """Scale every group's reward from EUR to kEUR (:data:`REWARD_SCALE`)."""
        keys = [(g, "reward") for g in env.group_map]
        return [RewardScaling(loc=0.0, scale=REWARD_SCALE, in_keys=keys)]

    @staticmethod
    def env_name() -> str:
        """The name BenchMARL files this task under."""
        return "coalition_markets"


class CoalitionMarketsTask(Task):
    """The BenchMARL task enum of this suite."""

    # A Task (Enum) member; mypy cannot tell, as benchmarl is untyped.
    MULTIMARKET: Task = None

    @staticmethod
    def associated_class() -> type[TaskClass]:
        """The task class that builds this enum's tasks."""
        return CoalitionMarketsClass


def train(
    frames: int = 1440,
    members: int = 3,
    frames_per_batch: int = 480,
    seed: int = 0,
    env_id: str | None = None,
    env_kwargs: dict | None = None,
) -> dict:
    """MAPPO for ``frames`` env steps; returns ``{"frames", "mean_reward_eur"}``.

    Args:
        frames: env steps in total (each steps every agent once).
        members: member agents.
        frames_per_batch: env steps per MAPPO update (a multiple of 24 keeps whole days).
        seed: BenchMARL's seed (torch and env).
        env_id, env_kwargs: another parallel env, ``envs.make(env_id, **env_kwargs)``
            (``members`` is then unused); None: ``multimarket_v1`` with every group.
    """
    task_config = (
        {"members": members}
        if env_id is None
        else {"env_id": env_id, "env_kwargs": dict(env_kwargs or {})}
    )
    cfg = ExperimentConfig.get_from_yaml()  # BenchMARL's defaults, shrunk to a smoke run
    cfg.sampling_device = cfg.train_device = cfg.buffer_device = "cpu"
    cfg.max_n_frames = frames
    cfg.on_policy_collected_frames_per_batch = frames_per_batch
    cfg.on_policy_n_envs_per_worker = 1
    cfg.on_policy_n_minibatch_iters = 2
    cfg.on_policy_minibatch_size = frames_per_batch // 2
    cfg.lr = 3e-4
    cfg.evaluation = False
    cfg.render = False
    cfg.loggers = []
    cfg.create_json = False
    cfg.checkpoint_interval = 0
    cfg.checkpoint_at_end = False
    cfg.save_folder = tempfile.mkdtemp(prefix="benchmarl_")
    model = MlpConfig(
        num_cells=[64, 64], layer_class=torch.nn.Linear, activation_class=torch.nn.Tanh
    )
    experiment = Experiment(
        task=CoalitionMarketsTask.MULTIMARKET.get_task(config=task_config),
        algorithm_config=MappoConfig.get_from_yaml(),
        model_config=model,
        critic_model_config=model,
        seed=seed,
        config=cfg,
    )
    experiment.run()
    # One deterministic day of the trained policies (rewards back in EUR).
    with torch.no_grad(), set_interaction_type(InteractionType.DETERMINISTIC):
        day = experiment.test_env.rollout(HOURS, policy=experiment.policy)
    means = {g: float(day["next", g, "reward"].mean()) / REWARD_SCALE for g in experiment.group_map}
    return {"frames": experiment.total_frames, "mean_reward_eur": means}


def main() -> None:
    """Command line: ``--frames``, ``--members``, ``--frames-per-batch``, ``--seed``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=1440)
    ap.add_argument("--members", type=int, default=3)
    ap.add_argument("--frames-per-batch", type=int, default=480)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(json.dumps(train(args.frames, args.members, args.frames_per_batch, args.seed)))


if __name__ == "__main__":
    main()
