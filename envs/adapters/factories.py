"""Constructors shared by the envs built on :class:`envs.sim.core.MarketCore`.

:func:`market_factories` returns the ``make_env``, ``make_gym`` and ``make_vector``
functions of one env id; an env that fixes part of the scenario (``spot_v0`` closes
the reserve and capacity markets) passes those fields as ``forced`` overrides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from envs.adapters.parallel import MarketParallelEnv
from envs.config.scenario import ScenarioConfig, load_scenario


def market_factories(
    env_id: str, forced: dict[str, Any] | None = None
) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """The three constructors of ``env_id`` (see ``envs.make``, ``make_gym``, ``make_vector``)."""

    def scenario_of(
        scenario: str | None, overrides: dict[str, Any] | None, fields: dict[str, Any]
    ) -> ScenarioConfig:
        return load_scenario(scenario, {**(overrides or {}), **(forced or {})}, **fields)

    def make_env(
        scenario: str | None = None,
        *,
        api: str = "parallel",
        overrides: dict[str, Any] | None = None,
        render_mode: str | None = None,
        **fields: Any,
    ) -> Any:
        """The PettingZoo env (``api="parallel"``) or its AEC view (``api="aec"``)."""
        env = MarketParallelEnv(scenario_of(scenario, overrides, fields), render_mode=render_mode,
                                name=env_id)  # fmt: skip
        if api == "aec":
            from pettingzoo.utils.conversions import parallel_to_aec

            return parallel_to_aec(env)
        return env

    def make_gym(
        scenario: str | None = None,
        *,
        agent: str = "coalition",
        overrides: dict[str, Any] | None = None,
        **fields: Any,
    ) -> Any:
        """Single-agent Gymnasium view; the other agents follow their scripted behaviour."""
        from envs.adapters.gym_view import SingleAgentEnv

        return SingleAgentEnv(scenario_of(scenario, overrides, fields), agent=agent, name=env_id)

    def make_vector(
        scenario: str | None = None,
        *,
        num_envs: int = 1,
        overrides: dict[str, Any] | None = None,
        **fields: Any,
    ) -> Any:
        """The batched env (arrays with leading axis E = ``num_envs``)."""
        from envs.adapters.vector import VectorMarketEnv

        cfg = scenario_of(scenario, overrides, fields)
        return VectorMarketEnv(cfg, num_envs=num_envs, name=env_id)

    return make_env, make_gym, make_vector
