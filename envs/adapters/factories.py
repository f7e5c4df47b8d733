"""Constructors shared by the envs built on :class:`envs.sim.core.MarketCore`.

:func:`market_factories` returns the ``make_env``, ``make_gym`` and ``make_vector``
functions of one env id; an env that fixes part of the scenario (``spot_v1`` closes
the reserve and capacity markets) passes those fields as ``forced`` overrides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from pettingzoo.utils.conversions import parallel_to_aec_wrapper
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from envs.adapters.parallel import MarketParallelEnv
from envs.config.scenario import ScenarioConfig, load_scenario
from envs.errors import ActionError


class MarketAECEnv(parallel_to_aec_wrapper):
    """PettingZoo's AEC view of a :class:`MarketParallelEnv` that checks each action when
    it is given. PettingZoo's wrapper stores every action and hands them to the parallel
    step after the last agent; a NaN action stored that way made every later step raise
    its error until reset. Here a bad action raises ``ActionError`` and is not stored: the
    env is unchanged and the same agent may act again with a valid action."""

    def step(self, action: Any) -> None:
        """Record the selected agent's action (checked first); the last one clears the hour."""
        agent = self.agent_selection
        if action is not None or not (self.terminations[agent] or self.truncations[agent]):
            self.env.check_action(agent, action)
        try:
            super().step(action)
        except ActionError:
            # Defensive: a step that still fails must not leave its action stored.
            self._actions.pop(agent, None)
            raise


class MarketConstructors(NamedTuple):
    """The constructors of one env id (unpacked into its module's namespace)."""

    make_env: Callable[..., Any]
    make_gym: Callable[..., Any]
    make_vector: Callable[..., Any]
    env: Callable[..., Any]
    parallel_env: Callable[..., Any]
    raw_env: Callable[..., Any]


def market_factories(env_id: str, forced: dict[str, Any] | None = None) -> MarketConstructors:
    """The constructors of ``env_id`` (see ``envs.make``, ``make_gym``, ``make_vector``)."""

    def scenario_of(
        scenario: str | None, overrides: dict[str, Any] | None, fields: dict[str, Any]
    ) -> ScenarioConfig:
        return load_scenario(scenario, {**(overrides or {}), **(forced or {})}, **fields)

    def parallel_env(
        scenario: str | None = None,
        *,
        overrides: dict[str, Any] | None = None,
        render_mode: str | None = None,
        max_cycles: int | None = None,
        info_format: str = "flat",
        **fields: Any,
    ) -> MarketParallelEnv:
        """The PettingZoo ``ParallelEnv``.

        Args:
            scenario: scenario name or YAML path; None: the default scenario.
            overrides: dotted-path scenario overrides (``{"members.count": 20}``).
            render_mode: None, ``"ansi"`` (``render()`` returns a line), ``"human"``
                (each step prints it) or ``"rgb_array"`` (``render()`` returns a
                (360, 480, 3) uint8 image of the hour, for Gymnasium's ``RecordVideo``).
            max_cycles: truncate every agent after this many steps (hours); None: the
                episode runs its ``days * 24`` steps and terminates.
            info_format: ``"flat"`` (the default: ``{"market/price_eur_per_mwh": float,
                ...}``, numbers only, which TorchRL, BenchMARL and RLlib keep) or
                ``"nested"`` (dicts per section, ``info["market"]["price_eur_per_mwh"]``).
            **fields: top-level scenario fields (``days=3``).
        """
        return MarketParallelEnv(
            scenario_of(scenario, overrides, fields),
            render_mode=render_mode,
            name=env_id,
            max_cycles=max_cycles,
            info_format=info_format,
        )

    def raw_env(scenario: str | None = None, **kwargs: Any) -> Any:
        """The AEC view of :func:`parallel_env` (same arguments), without wrappers."""
        return MarketAECEnv(parallel_env(scenario, **kwargs))

    def env(scenario: str | None = None, **kwargs: Any) -> Any:
        """The AEC env (PettingZoo's ``env()``): :func:`raw_env` with order enforcing.

        PettingZoo's clipping wrappers are left out on purpose: the env clips
        out-of-bounds actions itself and counts them in ``infos[agent]["n_clipped"]``.
        """
        return OrderEnforcingWrapper(raw_env(scenario, **kwargs))

    def make_env(scenario: str | None = None, *, api: str = "parallel", **kwargs: Any) -> Any:
        """The PettingZoo env (``api="parallel"``) or its AEC view (``api="aec"``); the
        other arguments are those of :func:`parallel_env`."""
        return env(scenario, **kwargs) if api == "aec" else parallel_env(scenario, **kwargs)

    def make_gym(
        scenario: str | None = None,
        *,
        agent: str = "coalition_0",
        overrides: dict[str, Any] | None = None,
        render_mode: str | None = None,
        max_cycles: int | None = None,
        info_format: str = "flat",
        **fields: Any,
    ) -> Any:
        """Single-agent Gymnasium view; the other agents follow their scripted behaviour.

        Arguments as :func:`parallel_env`, plus ``agent`` (the id that acts;
        ``"coalition"``, the group's name, is accepted for ``"coalition_0"``)."""
        from envs.adapters.gym_view import SingleAgentEnv

        return SingleAgentEnv(
            scenario_of(scenario, overrides, fields),
            agent=agent,
            name=env_id,
            render_mode=render_mode,
            max_cycles=max_cycles,
            info_format=info_format,
        )

    make_vector = _vector_maker(env_id, scenario_of)
    return MarketConstructors(make_env, make_gym, make_vector, env, parallel_env, raw_env)


def _vector_maker(
    env_id: str, scenario_of: Callable[[str | None, dict[str, Any] | None, dict[str, Any]],
                                       ScenarioConfig],
) -> Callable[..., Any]:  # fmt: skip
    """``make_vector`` of ``env_id`` (:func:`market_factories`), building its scenario with
    ``scenario_of(scenario, overrides, fields)``."""

    def make_vector(
        scenario: str | None = None,
        *,
        num_envs: int = 1,
        agent: str | None = None,
        overrides: dict[str, Any] | None = None,
        record_ledger: bool = False,
        **fields: Any,
    ) -> Any:
        """The batched env (arrays with leading axis E = ``num_envs``).

        Args:
            agent: None: every group, dicts of arrays (:class:`VectorMarketEnv`);
                ``"coalition"``: the coalition's ``gymnasium.vector.VectorEnv``;
                ``"members"``: the members' (shared policy, ``num_envs * N`` sub-envs).
            record_ledger: keep every step's (E, markets, participants) flows for
                ``venv.core.ledger`` (off: the step writes no flow arrays of that size).

        Raises:
            ValueError: unknown ``agent``, or ``"members"`` when members are not agents.
        """
        from envs.adapters import vector as vec

        views = {"coalition": vec.CoalitionVectorEnv, "members": vec.MembersVectorEnv}
        if agent is not None and agent not in views:
            raise ValueError(
                f"{env_id}: make_vector agent={agent!r}; expected None, 'coalition' or 'members'"
            )
        venv = vec.VectorMarketEnv(scenario_of(scenario, overrides, fields), num_envs=num_envs,
                                   name=env_id, record_ledger=record_ledger)  # fmt: skip
        return venv if agent is None else views[agent](venv)

    return make_vector
