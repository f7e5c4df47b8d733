"""stable-baselines3 ``VecEnv`` of the coalition over the batched env.

The coalition acts, the others follow :mod:`envs.sim.scripted`; episodes auto-reset
SB3-style, the final observation in ``infos[i]["terminal_observation"]``.

Kept apart from :mod:`envs.adapters.vector` so that ``import envs`` and ``envs.make_vector`` never
import stable-baselines3 (and with it torch): only code that builds this adapter pays
for them (``pip install coalition-markets[train]``).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv

from envs.adapters.vector import VectorMarketEnv
from envs.sim import observe as ob

__all__ = ["CoalitionVecEnv"]


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
        if self._actions is None:  # a caller's order, not an invariant: say what to do
            raise RuntimeError("step_wait() before step_async(actions): call step_async first")
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
