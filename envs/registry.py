"""Env ids, their modules, and the scenario catalogue.

Every env module exposes ``make_env(scenario=None, *, api="parallel", overrides=None,
**kwargs)``; modules with a batched core also expose ``make_gym`` and ``make_vector``.
Scenario YAML files may carry a top-level ``env:`` key naming the env (or the
``python -m`` tool, e.g. ``evaluation.cfe``) they are for; files without it belong to
the multi-market family (``multimarket_v1``, ``spot_v1``).
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType
from typing import Any

import yaml

from configs import config_path
from envs.errors import DeprecatedEnvError, UnknownNameError

#: env id -> module implementing it. Add a line here when an env lands.
_MODULES: dict[str, str] = {
    "multimarket_v1": "envs.multimarket_v1",
    "spot_v1": "envs.spot_v1",
    "ppa_negotiation_v0": "envs.ppa_negotiation_v0",
    "reservation_exchange_v0": "envs.reservation_exchange_v0",
}
#: Envs built on the batched multi-market core (scenarios without an ``env:`` key).
MARKET_FAMILY: tuple[str, ...] = ("multimarket_v1", "spot_v1")
#: Ids removed when the dynamics changed (PettingZoo's convention: a new version, the old
#: one gone) -> the id that replaced them.
REMOVED: dict[str, str] = {"multimarket_v0": "multimarket_v1", "spot_v0": "spot_v1"}
#: Namespace of the Gymnasium ids: ``gymnasium.make("coalition_markets/spot_v1")``.
GYM_NAMESPACE = "coalition_markets"


def register_gym_ids() -> tuple[str, ...]:
    """Register a Gymnasium id for every env with a single-agent view (the market family).

    ``gymnasium.make("coalition_markets/multimarket_v1", agent="coalition_0", days=3,
    render_mode="ansi")`` calls the module's ``make_gym`` with those keywords. The entry
    point is a string, so registering imports nothing. Returns the ids; registering twice
    (a reloaded module) is a no-op rather than Gymnasium's override warning.
    """
    import gymnasium

    ids = []
    for env_id in MARKET_FAMILY:
        gym_id = f"{GYM_NAMESPACE}/{env_id}"
        if gym_id not in gymnasium.registry:
            gymnasium.register(id=gym_id, entry_point=f"{_MODULES[env_id]}:make_gym")
        ids.append(gym_id)
    return tuple(ids)


def env_ids() -> tuple[str, ...]:
    """Return every registered env id, in registration order."""
    return tuple(_MODULES)


def removed_message(env_id: str) -> str:
    """Why ``env_id`` is gone and what replaces it."""
    return (
        f"{env_id} was removed with market model v2 (its dynamics changed); use "
        f"{REMOVED[env_id]}: same spaces and agents, new rules (its module's version "
        f"history says which); results of {env_id} are not comparable with its"
    )


def env_module(env_id: str) -> ModuleType:
    """Import and return the module implementing ``env_id``.

    Raises:
        DeprecatedEnvError: ``env_id`` was replaced by a newer version (named).
        UnknownNameError: ``env_id`` is not registered; the message lists the valid ids.
    """
    if env_id in REMOVED:
        raise DeprecatedEnvError(removed_message(env_id))
    if env_id not in _MODULES:
        raise UnknownNameError(f"unknown env id {env_id!r}; valid ids: {', '.join(_MODULES)}")
    return importlib.import_module(_MODULES[env_id])


@functools.cache
def _scenario_envs() -> dict[str, str | None]:
    """Map each shipped scenario name to the ``env:`` key of its file (None if absent)."""
    out: dict[str, str | None] = {}
    for path in sorted(config_path("scenarios").glob("*.yaml")):
        with open(path, encoding="utf-8") as fh:
            data: Any = yaml.safe_load(fh) or {}
        out[path.stem] = data.get("env") if isinstance(data, dict) else None
    return out


def list_scenarios(env_id: str | None = None) -> list[str]:
    """Names of the shipped scenarios (``configs/scenarios/*.yaml``), sorted.

    Args:
        env_id: if given, only the scenarios usable with that env.
    """
    table = _scenario_envs()
    if env_id is None:
        return sorted(table)
    if env_id in MARKET_FAMILY:
        return sorted(name for name, env in table.items() if env is None)
    return sorted(name for name, env in table.items() if env == env_id)


def scenario_file(name: str, env_id: str | None = None) -> str:
    """Path of the shipped scenario ``name``; raises listing valid names if unknown."""
    valid = list_scenarios(env_id)
    if name not in valid:
        where = f" for {env_id}" if env_id else ""
        raise UnknownNameError(
            f"unknown scenario {name!r}{where}; valid scenarios: {', '.join(valid)}"
        )
    return str(config_path("scenarios", f"{name}.yaml"))
