"""Batched env: E copies of the market as arrays.

:class:`VectorMarketEnv` steps all E envs with one call of :class:`envs.sim.core.MarketCore`:
observations and actions are dicts of group name -> array with leading axis E
(``{"coalition": (E, 1, D), "members": (E, N, D), ...}``). All episodes have the same
length, so they end together; with ``autoreset_mode`` NEXT_STEP (Gymnasium's default)
the call after the last step resets every env and returns zero rewards.

Seeding: ``reset(seed)`` seeds one Generator from ``np.random.SeedSequence(seed)``
that draws the whole batch; a trajectory is reproducible for a given (seed, E).

:class:`envs.adapters.sb3.CoalitionVecEnv` is the single-agent view for SB3 (in its own module,
so that this one imports neither SB3 nor torch).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium.vector import AutoresetMode

from envs.adapters.parallel import agent_groups
from envs.config.scenario import ScenarioConfig
from envs.errors import ActionError
from envs.sim import observe as ob
from envs.sim import scripted
from envs.sim.core import MarketCore


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
        info = dict(res.info)
        info["n_clipped"] = n_clipped
        done = np.full(E, res.terminated)
        self._needs_reset = res.terminated
        return self._group_obs(self._obs), rewards, done, np.zeros(E, bool), info

    def scripted_actions(self) -> dict[str, np.ndarray]:
        """Every group's scripted action this hour (see :mod:`envs.sim.scripted`)."""
        mem = scripted.member_actions(self.core)
        out = {"coalition": scripted.coalition_actions(self.core, mem)[:, None]}
        if "members" in self.agent_groups:
            out["members"] = mem
        if "incumbents" in self.agent_groups:
            out["incumbents"] = scripted.incumbent_actions(self.core)
        return out


def __getattr__(name: str) -> Any:
    # The SB3 adapter lives in envs.adapters.sb3 so that importing envs never loads torch.
    if name == "CoalitionVecEnv":
        from envs.adapters.sb3 import CoalitionVecEnv

        return CoalitionVecEnv
    raise AttributeError(f"module 'envs.adapters.vector' has no attribute {name!r}")
