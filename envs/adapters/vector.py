"""Batched env: E copies of the market as arrays.

:class:`VectorMarketEnv` steps all E envs with one call of :class:`envs.sim.core.MarketCore`:
observations and actions are dicts of group name -> array with leading axis E
(``{"coalition": (E, 1, D), "members": (E, N, D), ...}``). All episodes have the same
length, so they end together; with ``autoreset_mode`` NEXT_STEP (Gymnasium's default)
the call after the last step resets every env and returns zero rewards.

Seeding: ``reset(seed)`` seeds one Generator from ``np.random.SeedSequence(seed)``
that draws the whole batch; a trajectory is reproducible for a given (seed, E).

:class:`CoalitionVectorEnv` and :class:`MembersVectorEnv` are single-agent
``gymnasium.vector.VectorEnv`` views (``envs.make_vector(..., agent="coalition")`` or
``agent="members"``, members sharing one policy) that Gymnasium's vector wrappers accept.
:class:`envs.adapters.sb3.CoalitionVecEnv` is the single-agent view for SB3 (in its own
module, so that this one imports neither SB3 nor torch).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium.vector import AutoresetMode

from envs.adapters.parallel import agent_groups
from envs.config.scenario import ScenarioConfig
from envs.errors import ActionError
from envs.sim import kernel as kn
from envs.sim import observe as ob
from envs.sim import scripted
from envs.sim.build import build_core


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
        name: str = "multimarket_v1",
        record_ledger: bool = False,
    ) -> None:
        self.cfg = cfg
        self.num_envs = int(num_envs)
        self.core = build_core(cfg, self.num_envs, record_ledger=record_ledger)
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
        #: One market copy's global state (:meth:`state` returns (E, S) of these).
        self.state_space = gymnasium.spaces.Box(-b, b, (self.state_size,), np.float32)
        self._rng = np.random.default_rng()
        self._needs_reset = True
        self._observed = False
        self._state_cols: list[np.ndarray] | None = None

    def _hand_over(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Hand ``obs`` (fresh arrays from :func:`envs.sim.observe.observe`) to the caller,
        keeping copies of the few columns :meth:`state` needs (0.1 MB, not the 7.7 MB of
        observations at E = 1024, N = 20), so that a caller writing into its observations
        cannot change the state."""
        self._observed = True
        self._state_cols = ([c.copy() for c in ob.state_columns(self.core, obs)]
                            if "members" in obs else None)  # fmt: skip
        return {g: obs[g] for g in self.agent_groups}

    @property
    def needs_reset(self) -> bool:
        """Whether the next ``step`` resets every env (the episodes have ended)."""
        return self._needs_reset

    def reset(self, seed: int | None = None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Reset every env; returns observations by group and an empty info dict."""
        if seed is not None:
            self._rng = np.random.default_rng(np.random.SeedSequence(seed))
        self.core.reset(self._rng)
        self._needs_reset = False
        return self._hand_over(ob.observe(self.core, tuple(self.agent_groups))), {}

    def state(self) -> np.ndarray:
        """Global state of every env, (E, S) float32."""
        if not self._observed:
            raise RuntimeError("state() called before reset()")
        return ob.state(self.core, columns=self._state_cols)

    def _check(self, actions: dict[str, np.ndarray], group: str) -> np.ndarray:
        space = self.action_spaces[group]
        if group not in actions:
            raise ActionError(
                f"no actions for group {group!r}; expected an array of shape (E, *{space.shape})"
            )
        a = np.asarray(actions[group])
        # Checked before the cast: float64(None) is NaN, and a string may parse as a number.
        if a.dtype.kind not in "fiu":
            raise ActionError(
                f"actions[{group!r}] has dtype {a.dtype} ({type(actions[group]).__name__}); "
                f"expected a real numeric array of shape (E, *{space.shape})"
            )
        a = a.astype(np.float64)
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
        arrays (see :mod:`envs.multimarket_v1`) and ``n_clipped`` to (E,) counts.
        """
        E = self.num_envs
        if self._needs_reset:
            obs, info = self.reset()
            zeros = {g: np.zeros((E, len(ids))) for g, ids in self.agent_groups.items()}
            return obs, zeros, np.zeros(E, bool), np.zeros(E, bool), info
        if not isinstance(actions, dict):
            raise ActionError(
                f"actions must be a dict of group -> array, got {type(actions).__name__}"
            )
        unknown = set(actions) - set(self.agent_groups)
        if unknown:
            raise ActionError(
                f"actions for unknown groups {sorted(map(str, unknown))}; "
                f"groups are {list(self.agent_groups)}"
            )
        checked = {g: self._check(actions, g) for g in self.agent_groups}
        raw = {g: np.asarray(actions[g], dtype=np.float64) for g in self.agent_groups}
        n_clipped = sum(
            ((checked[g] != raw[g]).reshape(E, -1).sum(-1) for g in self.agent_groups), np.zeros(E)
        )
        res = self.core.step(
            checked["coalition"][:, 0], checked.get("members"), checked.get("incumbents")
        )
        obs = ob.observe(self.core, tuple(self.agent_groups))
        rewards = {"coalition": res.reward_coalition[:, None]}
        if "members" in self.agent_groups:
            rewards["members"] = res.reward_members
        if "incumbents" in self.agent_groups:
            rewards["incumbents"] = res.reward_incumbents
        info = dict(res.info)
        info["n_clipped"] = n_clipped
        done = np.full(E, res.terminated)
        self._needs_reset = res.terminated
        return self._hand_over(obs), rewards, done, np.zeros(E, bool), info

    def scripted_actions(self) -> dict[str, np.ndarray]:
        """Every group's scripted action this hour (see :mod:`envs.sim.scripted`)."""
        mem = scripted.member_actions(self.core)
        out = {"coalition": scripted.coalition_actions(self.core, mem)[:, None]}
        if "members" in self.agent_groups:
            out["members"] = mem
        if "incumbents" in self.agent_groups:
            out["incumbents"] = scripted.incumbent_actions(self.core)
        return out


class _AgentVectorEnv(gymnasium.vector.VectorEnv):
    """Shared part of the single-agent ``gymnasium.vector.VectorEnv`` views.

    Autoreset follows Gymnasium's NEXT_STEP mode (``metadata["autoreset_mode"]``): the
    step that ends the episodes returns ``terminated`` (or ``truncated``) true and the
    last observation; the next ``step`` ignores its actions, resets and returns the first
    observation, reward 0 and both flags false. Infos are Gymnasium's vector infos: each
    accounting key of :meth:`VectorMarketEnv.step` maps to an array over the sub-envs
    with its ``_key`` mask, and ``reset`` returns the same keys with zeros.
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, venv: VectorMarketEnv, group: str) -> None:
        self.venv = venv
        self.group = group
        n = len(venv.agent_groups[group])
        self.agents_per_env = n
        self.num_envs = venv.num_envs * n if group == "members" else venv.num_envs
        obs, act = venv.observation_spaces[group], venv.action_spaces[group]
        self.single_observation_space = gymnasium.spaces.Box(
            obs.low[0], obs.high[0], obs.shape[1:], np.float32
        )
        self.single_action_space = gymnasium.spaces.Box(
            act.low[0], act.high[0], act.shape[1:], np.float32
        )
        self.observation_space = gymnasium.vector.utils.batch_space(
            self.single_observation_space, self.num_envs
        )
        self.action_space = gymnasium.vector.utils.batch_space(
            self.single_action_space, self.num_envs
        )
        self.metadata = {**self.metadata, "name": venv.metadata["name"]}
        self.render_mode = None
        self._info_keys = (*kn.INFO_KEYS, "n_clipped")

    def _obs(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        return obs[self.group].reshape(self.num_envs, -1)

    def _vector_infos(self, info: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        # Every accounting figure is per copy of the market (E,): a member's sub-env
        # carries its market copy's figures (repeated n times, copy-major).
        out: dict[str, np.ndarray] = {}
        for k in self._info_keys:
            out[k] = np.repeat(np.asarray(info.get(k, np.zeros(self.venv.num_envs))),
                               self.num_envs // self.venv.num_envs)  # fmt: skip
            out[f"_{k}"] = np.ones(self.num_envs, dtype=bool)
        return out

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset every sub-env. ``seed`` is one int: one SeedSequence draws the batch.

        Raises:
            TypeError: ``seed`` is a list (per-sub-env seeds are not supported).
        """
        if seed is not None and not isinstance(seed, int | np.integer):
            raise TypeError(
                f"seed={seed!r}; {self.metadata['name']} vector views take one int seed "
                "(a SeedSequence draws the whole batch), not one per sub-env"
            )
        obs, _ = self.venv.reset(seed=None if seed is None else int(seed))
        return self._obs(obs), self._vector_infos({})

    def _actions(self, actions: Any) -> np.ndarray:
        """(num_envs, A) -> the batched env's (E, n, A), sub-env e * n + i = agent i of e."""
        a = np.asarray(actions)
        if a.shape != self.action_space.shape:
            raise ActionError(
                f"{self.group} actions have shape {a.shape}; expected (num_envs, A) = "
                f"{self.action_space.shape}"
            )
        return a.reshape(self.venv.num_envs, self.agents_per_env, -1)

    def _rewards(self, rewards: dict[str, np.ndarray]) -> np.ndarray:
        return rewards[self.group].reshape(self.num_envs)

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every sub-env (the other groups scripted); rewards in EUR, (num_envs,)."""
        resetting = self.venv.needs_reset
        acts = self.venv.scripted_actions()
        if not resetting:
            acts[self.group] = self._actions(actions)
        obs, rewards, term, trunc, info = self.venv.step(acts)
        rep = self.num_envs // self.venv.num_envs
        return (
            self._obs(obs),
            self._rewards(rewards).astype(np.float64),
            np.repeat(term, rep),
            np.repeat(trunc, rep),
            self._vector_infos(info if not resetting else {}),
        )

    def state(self) -> np.ndarray:
        """Global state of every market copy, (E, S) float32 (:meth:`VectorMarketEnv.state`)."""
        return self.venv.state()


class CoalitionVectorEnv(_AgentVectorEnv):
    """``gymnasium.vector.VectorEnv`` of the coalition over E market copies: observations
    (E, D), actions (E, A); members and incumbents follow their scripted behaviour."""

    def __init__(self, venv: VectorMarketEnv) -> None:
        super().__init__(venv, "coalition")


class MembersVectorEnv(_AgentVectorEnv):
    """``gymnasium.vector.VectorEnv`` of the members with one shared policy: sub-env
    ``e * N + i`` is member i of market copy e, so ``num_envs = E * N``; observations
    (E*N, D), actions (E*N, 2), rewards each member's saving (EUR). The coalition and
    incumbents follow their scripted behaviour.

    Raises:
        ValueError: the scenario's members are not agents (``members.agents: false``).
    """

    def __init__(self, venv: VectorMarketEnv) -> None:
        if "members" not in venv.agent_groups:
            raise ValueError(
                f"{venv.metadata['name']}: members are not agents in this scenario; set "
                "overrides={'members.agents': True} to train them"
            )
        super().__init__(venv, "members")
