"""stable-baselines3 PPO on the coalition's view of the batched env.

The coalition acts; members and incumbents follow their scripted actions
(:class:`envs.adapters.sb3.CoalitionVecEnv`, one batched env, not one Python env per
worker). Each SB3 rollout is one whole episode of all E envs (``n_steps`` = episode
hours): episode ``k`` is reset with :func:`training.rollout.iteration_seed` (seed, k)
and rolls out scenario ``k % len(scenarios)`` (with ``env.mix: rollout`` all of them, in one
:class:`training.mix.MixedVectorEnv`), so a resumed run sees the same markets. Options for
the capacity offer, a decision of the auction hour alone: ``ppo.mean_bound``,
``ppo.capacity_credit`` (:mod:`training.credit`), ``ppo.mask_idle_entries``
(:mod:`training.idle`).

With ``ppo.residual`` the action (in [-2, 2]) is added to the scripted coalition bid and
the sum clipped to [-1, 1]. Rewards are scaled by ``ppo.reward_scale``.

One SB3 ``learn`` call per iteration (``reset_num_timesteps=False``) lets this module
log SB3's losses under our tags and checkpoint between iterations; checkpoints hold
the policy's and optimiser's state dicts, the episode counter and the RNG states
(SB3 samples actions from torch's and shuffles minibatches with numpy's global RNG).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import gymnasium
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.logger import Logger
from torch import nn

from envs.adapters.sb3 import CoalitionVecEnv
from training.checkpoint import check_signature, restore_rng, rng_state
from training.common import coalition_mask, make_envs, resolve_device, slots_of, timed_loop
from training.config import TrainConfig, config_dict
from training.credit import CapacityCredit
from training.idle import IdleEntriesPolicy, auction_column
from training.logger import MarketStats
from training.rollout import iteration_seed

__all__ = ["TrainingCoalitionEnv", "export_policy", "train_ppo"]

#: SB3 logger key -> our tag (SB3 logs the negative entropy as its loss).
SB3_TAGS = {
    "train/policy_gradient_loss": "losses/policy_loss",
    "train/value_loss": "losses/value_loss",
    "train/entropy_loss": "losses/entropy",
    "train/approx_kl": "losses/approx_kl",
    "train/clip_fraction": "losses/clipfrac",
    "train/explained_variance": "losses/explained_variance",
}


class TrainingCoalitionEnv(CoalitionVecEnv):
    """The SB3 adapter with seeded episodes, several scenarios, residual actions and stats.

    Args:
        venvs: one batched env per scenario (same layout).
        run_seed: seeds episode ``k`` with ``iteration_seed(run_seed, k)``.
        residual: actions are corrections to the scripted coalition bid.
        reward_scale: multiplies the coalition's reward (EUR/h).
        reward_weights: a further factor per scenario (``venvs``' order; default all 1),
            a number or an (E,) array of each env's (a :class:`training.mix.MixedVectorEnv`).

    Attributes:
        last_capacity_cash: the last finished episode's capacity cash as SB3 saw it
            (scaled), (T, E) (read by :class:`training.credit.CapacityCredit`).
    """

    # Boxes, set by CoalitionVecEnv (the action space replaced when residual).
    observation_space: gymnasium.spaces.Box
    action_space: gymnasium.spaces.Box

    def __init__(
        self, venvs: list[Any], run_seed: int, residual: bool, reward_scale: float,
        mask: np.ndarray | None = None, reward_weights: list[Any] | None = None,
    ) -> None:  # fmt: skip
        super().__init__(venvs[0])
        self.mask = np.ones(self.action_space.shape) if mask is None else np.asarray(mask)
        self.venvs, self.run_seed = venvs, int(run_seed)
        self.residual, self.reward_scale = residual, float(reward_scale)
        self.reward_weights = [1.0] * len(venvs) if reward_weights is None else reward_weights
        self._weight: Any = 1.0
        if residual:
            self.action_space = gymnasium.spaces.Box(-2.0, 2.0, self.action_space.shape, np.float32)
        self.episode = 0
        self.stats = MarketStats()
        self.last_episode: dict[str, float] = {}
        self._cap_cash: list[np.ndarray] = []
        self.last_capacity_cash = np.zeros((0, self.num_envs))

    def reset(self) -> np.ndarray:
        """Start episode ``self.episode`` (its scenario and seed), observations (E, D)."""
        self.venv = self.venvs[self.episode % len(self.venvs)]
        self._weight = np.asarray(self.reward_weights[self.episode % len(self.venvs)], float)
        obs, _ = self.venv.reset(seed=iteration_seed(self.run_seed, self.episode))
        self.episode += 1
        self._returns[:] = 0.0
        self._length = 0
        self.stats = MarketStats()
        self._cap_cash = []
        return obs["coalition"][:, 0]

    def coalition_actions(self, scripted: np.ndarray) -> np.ndarray:
        """The policy's actions, masked, as corrections to ``scripted`` if residual."""
        a = np.asarray(self._actions, np.float64)[:, None, :] * self.mask
        return np.clip(scripted + a if self.residual else a, -1.0, 1.0)

    def on_step(self, rewards_eur: np.ndarray, info: dict[str, np.ndarray]) -> np.ndarray:
        """Record market statistics and the capacity cash; SB3 sees the scaled reward."""
        self.stats.add(info)
        scale = self.reward_scale * self._weight
        self._cap_cash.append(info["coalition_capacity_eur"] * scale)
        return (rewards_eur * scale).astype(np.float32)

    def on_episode_end(self) -> None:
        """Keep the finished episode's return and market statistics for the logger."""
        self.last_episode = {
            "charts/episodic_return/coalition": float(self._returns.mean()),
            "charts/episodic_length": float(self._length),
            **self.stats.scalars(),
        }
        self.last_capacity_cash = np.stack(self._cap_cash)


class Scale(nn.Module):
    """Multiplies by a constant (the bound of a tanh mean head)."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = float(factor)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.factor * x


def training_env(cfg: TrainConfig) -> tuple[list[Any], TrainingCoalitionEnv]:
    """The batched envs of ``cfg`` (one per scenario) and the SB3 view PPO trains on: the
    coalition's fixed entries masked, rewards weighted per scenario as ``cfg.env`` says."""
    venvs = make_envs(cfg)
    mask = coalition_mask(slots_of(venvs[0]), cfg.ppo.fixed_coalition_entries)
    weights = ([cfg.env.reward_weight(i) for i in range(len(venvs))] if cfg.env.mix == "iteration"
               else [venvs[0].weights(cfg.env.reward_weights)])  # fmt: skip
    env = TrainingCoalitionEnv(venvs, cfg.seed, cfg.ppo.residual, cfg.ppo.reward_scale,
                               mask.numpy(), weights)  # fmt: skip
    return venvs, env


def make_model(cfg: TrainConfig, env: TrainingCoalitionEnv) -> PPO:
    """SB3 PPO with separate two-layer tanh actor and critic, one episode per rollout."""
    p = cfg.ppo
    hours = cfg.env.days * 24
    model = PPO(
        IdleEntriesPolicy if p.mask_idle_entries else "MlpPolicy", env, learning_rate=p.lr,
        n_steps=hours, batch_size=p.batch_size,
        n_epochs=p.epochs, gamma=p.gamma, gae_lambda=p.gae_lambda, clip_range=p.clip,
        ent_coef=p.ent_coef, vf_coef=p.vf_coef, max_grad_norm=p.max_grad_norm,
        policy_kwargs={"net_arch": {"pi": [p.hidden, p.hidden], "vf": [p.hidden, p.hidden]},
                       "activation_fn": nn.Tanh, "log_std_init": p.log_std_init},
        seed=cfg.seed, device=resolve_device(cfg.device), verbose=0,
    )  # fmt: skip
    model.set_logger(Logger(folder=None, output_formats=[]))
    if p.mask_idle_entries:
        slots = slots_of(env.venv)
        dims = [slots.index(s) for s in ("c", "cp") if s in slots]
        cast(IdleEntriesPolicy, model.policy).set_active(env.mask, auction_column(env.venv), dims)
    if p.mean_bound > 0:
        # The same Linear inside: the optimiser built on it keeps its parameters.
        model.policy.action_net = nn.Sequential(model.policy.action_net, nn.Tanh(),
                                                Scale(p.mean_bound))  # fmt: skip
    if p.coalition_log_std_init:
        n = env.action_space.shape[0]
        if len(p.coalition_log_std_init) != n:
            raise ValueError(
                f"ppo.coalition_log_std_init has {len(p.coalition_log_std_init)} entries; the "
                f"coalition has {n} action entries in this env"
            )
        with torch.no_grad():  # in place: the optimiser keeps its reference
            model.policy.log_std.copy_(torch.tensor(p.coalition_log_std_init))
    return model


def signature(cfg: TrainConfig, env: TrainingCoalitionEnv) -> dict[str, Any]:
    """What the SB3 networks were built for."""
    return {"algo": "ppo", "env_id": cfg.env.env_id, "hidden": cfg.ppo.hidden,
            "residual": cfg.ppo.residual,
            "fixed_coalition_entries": sorted(cfg.ppo.fixed_coalition_entries),
            "coalition.obs_dim": int(env.observation_space.shape[0]),
            "coalition.act_dim": int(env.action_space.shape[0]),
            # Only where set, so that runs from before the option still resume.
            **({"mean_bound": cfg.ppo.mean_bound} if cfg.ppo.mean_bound > 0 else {})}  # fmt: skip


def export_policy(model: PPO, cfg: TrainConfig, slots: list[str]) -> dict[str, Any]:
    """SB3's actor as an :class:`agents.learned.GaussianActor` state dict.

    Raises:
        TypeError: the policy's observation or action space has no shape (not a Box).
    """
    pol = model.policy
    net = pol.mlp_extractor.policy_net
    head = cast(nn.Sequential, pol.action_net)[0] if cfg.ppo.mean_bound > 0 else pol.action_net
    state = {"net.0.weight": net[0].weight, "net.0.bias": net[0].bias,
             "net.2.weight": net[2].weight, "net.2.bias": net[2].bias,
             "net.4.weight": head.weight, "net.4.bias": head.bias,
             "log_std": pol.log_std}  # fmt: skip
    state = {k: cast(torch.Tensor, v).detach().clone() for k, v in state.items()}  # parameters
    obs_space, act_space = pol.observation_space, pol.action_space
    if obs_space.shape is None or act_space.shape is None:
        raise TypeError(
            f"export_policy: model.policy has observation_space={obs_space} and "
            f"action_space={act_space}; expected Box spaces of shapes (D,) and (A,)"
        )
    entry = {"obs_dim": int(obs_space.shape[0]),
             "act_dim": int(act_space.shape[0]), "hidden": cfg.ppo.hidden,
             "mean_bound": cfg.ppo.mean_bound, "state_dict": state,
             "obs_mean": None, "obs_var": None,
             "mask": torch.as_tensor(cast(TrainingCoalitionEnv, model.env).mask,
                                     dtype=torch.float32)}  # fmt: skip
    return {"actors": {"coalition": entry}, "residual": cfg.ppo.residual,
            "coalition_slots": list(slots)}  # fmt: skip


def train_ppo(
    cfg: TrainConfig, run_dir: Path, logger: Any, resume: dict[str, Any] | None = None
) -> dict[str, float]:
    """Train (or continue) SB3 PPO; returns the last iteration's scalars.

    Raises:
        CheckpointMismatchError: ``resume`` was built for another architecture or env.
    """
    venvs, env = training_env(cfg)
    sig = signature(cfg, env)
    if resume is not None:
        check_signature(resume["signature"], sig, str(run_dir))
    model = make_model(cfg, env)
    start = 0
    if resume is not None:
        model.policy.load_state_dict(resume["policy_state"])
        model.policy.optimizer.load_state_dict(resume["optimizer"])
        model.num_timesteps = int(resume["global_step"])
        start = int(resume["iteration"])
        restore_rng(resume["rng"])
        # Episode `start` begins exactly as the uninterrupted run's auto-reset began it.
        env.episode = start
        model._last_obs = env.reset()
        model._last_episode_starts = np.ones(env.num_envs, dtype=bool)
    slots = slots_of(venvs[0])

    credit = CapacityCredit(auction_column(venvs[0])) if cfg.ppo.capacity_credit else None

    def step(it: int) -> dict[str, float]:
        # SB3 types log_interval as int, but its learn loop reads None as "never log".
        model.learn(cfg.steps_per_iteration, callback=credit, reset_num_timesteps=False,
                    log_interval=None)  # type: ignore[arg-type]  # fmt: skip
        values = model.logger.name_to_value
        scalars = {tag: float(values[key]) for key, tag in SB3_TAGS.items() if key in values}
        if "losses/entropy" in scalars:
            scalars["losses/entropy"] = -scalars["losses/entropy"]
        model.logger.dump(0)  # clears SB3's values (no outputs configured)
        scalars.update(env.last_episode)
        return scalars

    def payload(iteration: int) -> dict[str, Any]:
        return {
            "signature": sig, "config": config_dict(cfg), "iteration": iteration,
            "global_step": model.num_timesteps,
            "policy_state": {k: v.detach().clone() for k, v in model.policy.state_dict().items()},
            "optimizer": model.policy.optimizer.state_dict(), "rng": rng_state(),
            "policy": export_policy(model, cfg, slots),
        }  # fmt: skip

    torch.set_num_threads(cfg.threads)
    return timed_loop(cfg, start, step, payload, run_dir, logger)
