"""The policy protocol and the loader (DESIGN §7).

A policy controls a set of agent ids (``pol.controls``), is reset with the env it
will act in (``pol.reset(env, seed)``) and maps observations to actions
(``pol.act(observations) -> actions``, dicts keyed by agent id, for the agents it
controls that are present). It may read only what its agents observe, plus static
scenario constants (sizes, scales) at reset; the perfect-foresight oracle is the
documented exception.

``agents.load(name)`` returns a built-in by name; ``agents.load("pkg.mod:Class",
**kwargs)`` builds any importable class, so users plug in their own agents without
changing the package; ``agents.load("mpc+mappo_incumbents")`` is a :class:`Team` of
policies that control different agents (here the coalition's MPC against incumbents that
learned to bid).
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Protocol, runtime_checkable

import numpy as np

from envs.errors import UnknownNameError

__all__ = ["BUILTINS", "MarketPolicy", "Policy", "Team", "check_class_path", "load"]


@runtime_checkable
class Policy(Protocol):
    """What every agent implements."""

    controls: list[str]

    def reset(self, env: Any, seed: int | None = None) -> None:
        """Prepare for an episode of ``env``."""

    def act(self, observations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Actions for the controlled agents present in ``observations``."""


#: Built-in policies by name -> "module:Class".
BUILTINS: dict[str, str] = {
    "random": "agents.simple:RandomPolicy",
    "rule": "agents.simple:RulePolicy",
    "individual": "agents.individual:IndividualPolicy",
    "mpc": "agents.mpc:MPCPolicy",
    "oracle": "agents.oracle:OraclePolicy",
    "ppo": "agents.learned:PPOPolicy",
    "mappo": "agents.learned:MAPPOPolicy",
    "mappo_mpc_start": "agents.learned:MAPPOFromMPC",
    "mappo_incumbents": "agents.learned:LearnedIncumbents",
    "admm": "agents.admm_policy:AdmmPolicy",
    "competitive": "agents.incumbents:Competitive",
    "markup": "agents.incumbents:Markup",
    "withholding": "agents.incumbents:Withholding",
}


class MarketPolicy:
    """Convenience base for policies of ``multimarket_v1``/``spot_v1``.

    Args:
        controls: agent ids to control; ``None`` = every agent of ``groups`` present in
            the env at reset.
    """

    #: Agent groups controlled by default (see ``env.agent_groups``).
    groups: tuple[str, ...] = ("coalition", "members")

    def __init__(self, controls: list[str] | None = None) -> None:
        self.controls: list[str] = list(controls) if controls is not None else []
        self._auto = controls is None
        self.rng = np.random.default_rng()

    def reset(self, env: Any, seed: int | None = None) -> None:
        """Bind to ``env`` (its static constants) and seed this policy's Generator."""
        self.env = env.unwrapped
        groups = self.env.agent_groups
        if self._auto:
            self.controls = [a for g in self.groups for a in groups.get(g, [])]
        unknown = sorted(set(self.controls) - set(self.env.possible_agents))
        if unknown:
            raise UnknownNameError(
                f"{type(self).__name__} controls {unknown}, which are not agents of this env; "
                f"agents: {', '.join(self.env.possible_agents)}"
            )
        self.rng = np.random.default_rng(seed)

    def act(self, observations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Override: actions for the controlled agents present in ``observations``."""
        raise NotImplementedError


class Team:
    """Several policies acting together, each for its own agents (``"a+b"`` names).

    Raises (at reset):
        ValueError: two policies control the same agent.
    """

    def __init__(self, policies: list[Any]) -> None:
        self.policies = list(policies)
        self.controls: list[str] = []

    def reset(self, env: Any, seed: int | None = None) -> None:
        """Reset every policy; their controls must not overlap."""
        owner: dict[str, str] = {}
        for pol in self.policies:
            pol.reset(env, seed)
            for a in pol.controls:
                if a in owner:
                    raise ValueError(f"agent {a!r} is controlled by both {owner[a]} and "
                                     f"{type(pol).__name__} in this team")  # fmt: skip
                owner[a] = type(pol).__name__
        self.controls = list(owner)

    def act(self, observations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Every policy's actions, merged."""
        out: dict[str, np.ndarray] = {}
        for pol in self.policies:
            out.update(pol.act(observations))
        return out


def check_class_path(path: str) -> tuple[str, str]:
    """Split ``"package.module:Class"`` into its module and attribute names.

    Raises:
        ValueError: ``path`` is not of that form: each dotted part of the module and the
            class must be a Python identifier (no relative ``..``, '/' or spaces).
    """
    module_name, _, attr = path.partition(":")
    parts = module_name.split(".")
    if not all(part.isidentifier() for part in parts) or not attr.isidentifier():
        raise ValueError(
            f"agent path {path!r} is not of the form 'package.module:Class' (dotted Python "
            f"names, no relative or file paths); built-in names: {', '.join(BUILTINS)}"
        )
    return module_name, attr


def _import(path: str) -> Any:
    module_name, attr = check_class_path(path)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(
            f"could not import module {module_name!r} of agent path {path!r}: {exc}; "
            f"built-in names: {', '.join(BUILTINS)}"
        ) from exc
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ValueError(
            f"module {module_name!r} has no attribute {attr!r} (agent path {path!r}); "
            f"built-in names: {', '.join(BUILTINS)}"
        ) from None


def load(name_or_path: str, **kwargs: Any) -> Any:
    """Build a policy: a built-in name (:data:`BUILTINS`) or ``"package.module:Class"``.

    Raises:
        UnknownNameError: an unknown built-in name (lists the valid ones).
        ValueError: a path whose module or class cannot be imported (says which part
            failed), or keyword arguments the class does not take (shows its signature).
        TypeError: the object built does not follow the :class:`Policy` protocol.
    """
    if "+" in name_or_path:
        if kwargs:
            raise ValueError(f"a team {name_or_path!r} takes no keyword arguments")
        return Team([load(part) for part in name_or_path.split("+")])
    if name_or_path in BUILTINS:
        cls = _import(BUILTINS[name_or_path])
    elif ":" in name_or_path:
        cls = _import(name_or_path)
    else:
        raise UnknownNameError(
            f"unknown agent {name_or_path!r}; built-in names: {', '.join(BUILTINS)}, "
            "or a class path 'package.module:Class'"
        )
    try:
        inspect.signature(cls).bind(**kwargs)
    except TypeError as exc:
        raise ValueError(
            f"bad keyword arguments for {name_or_path!r}: {exc}; "
            f"signature: {cls.__name__}{inspect.signature(cls)}"
        ) from None
    policy = cls(**kwargs)
    if not isinstance(policy, Policy):
        raise TypeError(
            f"{name_or_path!r} built a {type(policy).__name__}, which lacks the policy protocol "
            "(controls, reset(env, seed), act(observations))"
        )
    return policy
