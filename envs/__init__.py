"""coalition markets: PettingZoo and Gymnasium environments for an energy coalition.

Public API (DESIGN §7)::

    import envs
    envs.ENV_IDS                       # registered env ids
    envs.list_scenarios()              # shipped scenario names
    env = envs.make("multimarket_v1", scenario="default", days=3)   # PettingZoo ParallelEnv
    aec = envs.make("multimarket_v1", api="aec")                     # AEC view
    genv = envs.make_gym("multimarket_v1", agent="coalition_0")       # gymnasium.Env
    venv = envs.make_vector("multimarket_v1", num_envs=1024)          # batched arrays
    gymnasium.make("coalition_markets/multimarket_v1")                # ids registered on import
"""

from __future__ import annotations

from typing import Any

from envs.runtime import ensure_writable_cache, passive_openmp_threads

ensure_writable_cache()  # before any module compiles with numba (read-only installs)
passive_openmp_threads()  # before numba's first parallel step starts its thread pool

from envs._moved import install as _install_moved_paths  # noqa: E402

_install_moved_paths()  # old module paths (envs.vector, ...) import with a DeprecationWarning

from envs.errors import ActionError, ConfigError, EpisodeOverError, UnknownNameError  # noqa: E402
from envs.registry import env_ids, env_module, list_scenarios, register_gym_ids  # noqa: E402

ENV_IDS: tuple[str, ...] = env_ids()
#: Gymnasium ids registered on import (``gymnasium.make(GYM_IDS[0])``).
GYM_IDS: tuple[str, ...] = register_gym_ids()

__all__ = [
    "ENV_IDS",
    "GYM_IDS",
    "ActionError",
    "ConfigError",
    "EpisodeOverError",
    "UnknownNameError",
    "list_scenarios",
    "make",
    "make_gym",
    "make_vector",
]


def make(env_id: str, scenario: str | None = None, *, api: str = "parallel", **kwargs: Any) -> Any:
    """Build a PettingZoo env.

    Args:
        env_id: one of :data:`ENV_IDS`.
        scenario: a name from :func:`list_scenarios` or a path to a YAML file; ``None``
            picks the env's default scenario.
        api: ``"parallel"`` (``ParallelEnv``) or ``"aec"`` (``AECEnv``).
        **kwargs: top-level scenario fields as keywords (``days=3``), nested fields as
            ``overrides={"members.count": 200}``, plus env arguments such as
            ``render_mode``.

    Raises:
        UnknownNameError: unknown env id or scenario name (the message lists valid ones).
        ConfigError: a bad override or scenario value.
    """
    if api not in ("parallel", "aec"):
        raise ValueError(f"api={api!r} is not supported; expected 'parallel' or 'aec'")
    return env_module(env_id).make_env(scenario, api=api, **kwargs)


def make_gym(
    env_id: str, scenario: str | None = None, *, agent: str = "coalition_0", **kwargs: Any
) -> Any:
    """Build a single-agent ``gymnasium.Env`` in which ``agent`` acts and the others
    follow the scenario's scripted behaviour (``agent="coalition"``, the group's name, is
    accepted for ``"coalition_0"``)."""
    module = env_module(env_id)
    if not hasattr(module, "make_gym"):
        raise ValueError(f"{env_id} has no Gymnasium single-agent view")
    return module.make_gym(scenario, agent=agent, **kwargs)


def make_vector(
    env_id: str, scenario: str | None = None, *, num_envs: int = 1, **kwargs: Any
) -> Any:
    """Build the batched env of ``num_envs`` copies (arrays with leading axis E)."""
    module = env_module(env_id)
    if not hasattr(module, "make_vector"):
        raise ValueError(f"{env_id} has no batched (vector) version")
    return module.make_vector(scenario, num_envs=num_envs, **kwargs)
