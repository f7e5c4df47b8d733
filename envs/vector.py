"""Batched env: E copies of the market as arrays, plus a stable-baselines3 ``VecEnv`` adapter.

:class:`VectorMarketEnv` steps all E envs with one call of :class:`envs.core.MarketCore`:
observations and actions are dicts of group name -> array with leading axis E
(``{"coalition": (E, 1, D), "members": (E, N, D), ...}``). All episodes have the same
length, so they end together; with ``autoreset_mode`` NEXT_STEP (Gymnasium's default)
the call after the last step resets every env and returns zero rewards.

Seeding: ``reset(seed)`` seeds one Generator from ``np.random.SeedSequence(seed)``
that draws the whole batch; a trajectory is reproducible for a given (seed, E).

:class:`CoalitionVecEnv` is the single-agent view for SB3: the coalition acts, the
others follow :mod:`envs.scripted`; episodes auto-reset SB3-style, the final
observation in ``infos[i]["terminal_observation"]``.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env.base_vec_env import VecEnv

from envs import observe as ob
from envs import scripted
from envs.core import MarketCore
from envs.errors import ActionError
from envs.parallel import agent_groups
from envs.scenario import ScenarioConfig


class VectorMarketEnv:
    """E market simulations stepped together (no per-env Python loop).

    Args:
        cfg: the scenario.
        num_envs: E.
        name: env id for ``metadata``.
        record_ledger: keep the per-step ledger (memory grows with E; off by default).
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.NEXT_STEP}
    render_mode: str | None = None

    def __init__(
        self,
        cfg: ScenarioConfig,
        *,
        num_envs: int,
        name: str = "multimarket_v0",
        record_ledger: bool = False,
    ) -> None:
        self.cfg = cfg
        self.num_envs = int(num_envs)
        self.core = MarketCore(cfg, self.num_envs, record_ledger=record_ledger)
        self.metadata = {**self.metadata, "name": name}
        self.agent_groups = agent_groups(cfg)
        sizes = ob.sizes(self.core)
        acts = {
            "coalition": self.core.layout.coalition,
            "members": 2,
            "incumbents": self.core.layout.incumbent,
        }
        b = ob.OBS_BOUND
        self.observation_spaces = {
            g: gymnasium.spaces.Box(-b, b, (len(ids), sizes[g]), np.float32)
            for g, ids in self.agent_groups.items()
        }
        self.action_spaces = {
            g: gymnasium.spaces.Box(-1.0, 1.0, (len(ids), acts[g]), np.float32)
            for g, ids in self.agent_groups.items()
        }
        self.state_size = ob.state_size(self.core)
        self._rng = np.random.default_rng()
        self._needs_reset = True
        self._obs: dict[str, np.ndarray] | None = None

    def _group_obs(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {g: obs[g] for g in self.agent_groups}

    def reset(self, seed: int | None = None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Reset every env; returns observations by group and an empty info dict."""
        if seed is not None:
            self._rng = np.random.default_rng(np.random.SeedSequence(seed))
        self.core.reset(self._rng)
        self._needs_reset = False
        self._obs = ob.observe(self.core, tuple(self.agent_groups))
        return self._group_obs(self._obs), {}

    def state(self) -> np.ndarray:
        """Global state of every env, (E, S) float32."""
        if self._obs is None:
            raise RuntimeError("state() called before reset()")
        return ob.state(self.core, self._obs)

    def _check(self, actions: dict[str, np.ndarray], group: str) -> np.ndarray:
        space = self.action_spaces[group]
        if group not in actions:
            raise ActionError(
                f"no actions for group {group!r}; expected an array of shape (E, *{space.shape})"
            )
        a = np.asarray(actions[group], dtype=np.float64)
        expected = (self.num_envs, *space.shape)
        if a.shape != expected:
            raise ActionError(
                f"actions[{group!r}] has shape {a.shape}; expected (E, n, A) = {expected}"
            )
        if not np.isfinite(a).all():
            raise ActionError(
                f"actions[{group!r}] contain NaN or inf; expected finite values in [-1, 1]"
            )
        return np.clip(a, -1.0, 1.0)

    def step(
        self, actions: dict[str, np.ndarray]
    ) -> tuple[dict, dict, np.ndarray, np.ndarray, dict]:
        """Step every env. Returns (obs, rewards, terminated (E,), truncated (E,), infos).

        ``rewards`` maps each group to (E, n) EUR; ``infos`` maps accounting keys to (E,)
        arrays (see :mod:`envs.multimarket_v0`) and ``n_clipped`` to (E,) counts.
        """
        E = self.num_envs
        if self._needs_reset:
            obs, info = self.reset()
            zeros = {g: np.zeros((E, len(ids))) for g, ids in self.agent_groups.items()}
            return obs, zeros, np.zeros(E, bool), np.zeros(E, bool), info
        raw = {g: np.asarray(actions.get(g, 0.0)) for g in self.agent_groups}
        checked = {g: self._check(actions, g) for g in self.agent_groups}
        n_clipped = sum(
            ((checked[g] != raw[g]).reshape(E, -1).sum(-1) for g in self.agent_groups), np.zeros(E)
        )
        res = self.core.step(
            checked["coalition"][:, 0], checked.get("members"), checked.get("incumbents")
        )
        self._obs = ob.observe(self.core, tuple(self.agent_groups))
        rewards = {"coalition": res.reward_coalition[:, None]}
        if "members" in self.agent_groups:
            rewards["members"] = res.reward_members
        if "incumbents" in self.agent_groups:
            rewards["incumbents"] = res.reward_incumbents
        info = {k: v for k, v in res.info.items() if not k.startswith("_")}
        info["n_clipped"] = n_clipped
        done = np.full(E, res.terminated)
        self._needs_reset = res.terminated
        return self._group_obs(self._obs), rewards, done, np.zeros(E, bool), info

    def scripted_actions(self) -> dict[str, np.ndarray]:
        """Every group's scripted action this hour (see :mod:`envs.scripted`)."""
        mem = scripted.member_actions(self.core)
        out = {"coalition": scripted.coalition_actions(self.core, mem)[:, None]}
        if "members" in self.agent_groups:
            out["members"] = mem
        if "incumbents" in self.agent_groups:
            out["incumbents"] = scripted.incumbent_actions(self.core)
        return out


class CoalitionVecEnv(VecEnv):
    """stable-baselines3 ``VecEnv`` of the coalition over a :class:`VectorMarketEnv`."""

    def __init__(self, venv: VectorMarketEnv) -> None:
        self.venv = venv
        obs_space = gymnasium.spaces.Box(
            -ob.OBS_BOUND,
            ob.OBS_BOUND,
            (venv.observation_spaces["coalition"].shape[-1],),
            np.float32,
        )
        act_space = gymnasium.spaces.Box(
            -1.0, 1.0, (venv.action_spaces["coalition"].shape[-1],), np.float32
        )
        super().__init__(venv.num_envs, obs_space, act_space)
        self._actions: np.ndarray | None = None
        self._seed: int | None = None
        self._returns = np.zeros(venv.num_envs)
        self._length = 0

    def reset(self) -> np.ndarray:
        """Reset every env (SB3 API: observations only)."""
        obs, _ = self.venv.reset(seed=self._seed)
        self._seed = None
        self._returns[:] = 0.0
        self._length = 0
        return obs["coalition"][:, 0]

    def step_async(self, actions: np.ndarray) -> None:
        """Store the coalition's actions, (E, A)."""
        self._actions = np.asarray(actions)

    def coalition_actions(self, scripted: np.ndarray) -> np.ndarray:
        """The coalition's actions (E, 1, A) from the stored ones; ``scripted`` is the
        scripted bid of this hour (subclasses may act relative to it)."""
        return self._actions[:, None, :]

    def on_step(self, rewards_eur: np.ndarray, info: dict[str, np.ndarray]) -> np.ndarray:
        """Hook after each step (subclasses record statistics); returns the reward SB3
        sees, (E,) float32 (here the coalition's EUR, unscaled)."""
        return rewards_eur.astype(np.float32)

    def on_episode_end(self) -> None:
        """Hook when the batch's episodes end, before the auto-reset."""

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict]]:
        """Step with scripted members and incumbents; auto-reset at the episode's end."""
        acts = self.venv.scripted_actions()
        acts["coalition"] = self.coalition_actions(acts["coalition"])
        obs, rewards, term, trunc, info = self.venv.step(acts)
        eur = rewards["coalition"][:, 0]
        self._returns += eur
        self._length += 1
        rew = self.on_step(eur, info)
        infos: list[dict] = [{} for _ in range(self.num_envs)]
        done = term | trunc
        obs_c = obs["coalition"][:, 0]
        if done.any():
            self.on_episode_end()
            for i in range(self.num_envs):
                infos[i] = {
                    "terminal_observation": obs_c[i],
                    "TimeLimit.truncated": False,
                    "episode": {"r": float(self._returns[i]), "l": self._length},
                }
            obs_c = self.reset()
        return obs_c, rew, done, infos

    def close(self) -> None:
        """Nothing to release."""

    def seed(self, seed: int | None = None) -> list[int | None]:
        """Seed the next reset."""
        self._seed = seed
        return [seed] * self.num_envs

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        """Attribute of the underlying batched env, repeated per env."""
        return [getattr(self.venv, attr_name)] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        """Set an attribute on the underlying batched env."""
        setattr(self.venv, attr_name, value)

    def env_method(
        self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any
    ) -> list[Any]:
        """Call a method of the underlying batched env once, repeated per env."""
        out = getattr(self.venv, method_name)(*args, **kwargs)
        return [out] * len(self._indices(indices))

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        """No env is wrapped by a Gymnasium wrapper."""
        return [False] * len(self._indices(indices))

    def _indices(self, indices: Any) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        return [indices] if isinstance(indices, int) else list(indices)
