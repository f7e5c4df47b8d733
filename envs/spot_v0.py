"""``spot_v0``: the coalition in the spot (energy) market only.

The same simulator as :mod:`envs.multimarket_v0` with the reserve and capacity markets
closed (``reserve.enabled`` and ``capacity.enabled`` forced to false), so the coalition's
action is ``[q, p]`` (plus ``[b, f]`` when members are not agents) and incumbents bid
``K`` markups and a withheld share. Agents, observations, rewards, termination, infos
and arguments are as documented in :mod:`envs.multimarket_v0`.

Version history
---------------
- v0: first release.
"""

from __future__ import annotations

from typing import Any

from envs import multimarket_v0 as mm
from envs.parallel import MarketParallelEnv
from envs.scenario import ScenarioConfig, load_scenario

ENV_ID = "spot_v0"
_SPOT_ONLY = {"reserve.enabled": False, "capacity.enabled": False}


def _scenario(
    scenario: str | None, overrides: dict[str, Any] | None, fields: dict[str, Any]
) -> ScenarioConfig:
    return load_scenario(scenario, {**(overrides or {}), **_SPOT_ONLY}, **fields)


def make_env(
    scenario: str | None = None,
    *,
    api: str = "parallel",
    overrides: dict[str, Any] | None = None,
    render_mode: str | None = None,
    **fields: Any,
) -> Any:
    """The PettingZoo env (``api="parallel"``) or its AEC view (``api="aec"``)."""
    env = MarketParallelEnv(
        _scenario(scenario, overrides, fields), render_mode=render_mode, name=ENV_ID
    )
    return mm._wrap(env, api)


def make_gym(
    scenario: str | None = None,
    *,
    agent: str = "coalition",
    overrides: dict[str, Any] | None = None,
    **fields: Any,
) -> Any:
    """Single-agent Gymnasium view; the other agents follow their scripted behaviour."""
    from envs.gym_view import SingleAgentEnv

    return SingleAgentEnv(_scenario(scenario, overrides, fields), agent=agent, name=ENV_ID)


def make_vector(
    scenario: str | None = None,
    *,
    num_envs: int = 1,
    overrides: dict[str, Any] | None = None,
    **fields: Any,
) -> Any:
    """The batched env (arrays with leading axis E = ``num_envs``)."""
    from envs.vector import VectorMarketEnv

    return VectorMarketEnv(_scenario(scenario, overrides, fields), num_envs=num_envs, name=ENV_ID)
