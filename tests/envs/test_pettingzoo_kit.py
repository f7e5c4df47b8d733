"""PettingZoo's own test kit on every env id, through PettingZoo's module convention.

``envs.<id>.env`` / ``parallel_env`` / ``raw_env`` are what PettingZoo's tutorials and
``max_cycles_test`` import; each case builds small episodes so the kit runs in seconds.
``performance_benchmark`` runs 5 s per case and is marked slow.
"""

from __future__ import annotations

import functools
import importlib
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    performance_benchmark,
    render_test,
    seed_test,
)

import envs

ALL_GROUPS = {"members.agents": True, "members.count": 3, "fleet.controlled": True}
#: (case id, env id, keyword arguments): every env id, plus the market env with every
#: agent group (members and incumbents as agents) and the exchange with flat spaces.
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("multimarket_v1", "multimarket_v1", {"days": 1}),
    (
        "multimarket_v1-all-groups",
        "multimarket_v1",
        {"days": 1, "overrides": ALL_GROUPS},
    ),
    ("spot_v1", "spot_v1", {"days": 1}),
    ("reservation_exchange_v0", "reservation_exchange_v0", {"hours": 3}),
    ("reservation_exchange_v0-flat", "reservation_exchange_v0", {"hours": 3, "flat_spaces": True}),
    ("ppa_negotiation_v0", "ppa_negotiation_v0", {}),
]
PARALLEL = [c for c in CASES if c[1] != "ppa_negotiation_v0"]


def _module(env_id: str) -> types.ModuleType:
    return importlib.import_module(f"envs.{env_id}")


def _fns(case: tuple[str, str, dict[str, Any]], name: str) -> Callable[..., Any]:
    return functools.partial(getattr(_module(case[1]), name), **case[2])


def _params(cases: list) -> list:
    return [pytest.param(c, id=c[0]) for c in cases]


def test_every_env_id_is_covered():
    assert {c[1] for c in CASES} == set(envs.ENV_IDS)


@pytest.mark.parametrize("env_id", envs.ENV_IDS)
def test_module_convention(env_id):
    mod = _module(env_id)
    for name in ("env", "raw_env"):
        assert callable(getattr(mod, name)), f"envs.{env_id}.{name}"
    if env_id == "ppa_negotiation_v0":
        # Turn-based (alternating offers): no parallel version exists.
        assert not hasattr(mod, "parallel_env")
    else:
        assert callable(mod.parallel_env)


@pytest.mark.parametrize("case", _params(CASES))
def test_api_test(case):
    api_test(_fns(case, "env")(), num_cycles=200)


@pytest.mark.parametrize("case", _params(PARALLEL))
def test_parallel_api_test(case):
    parallel_api_test(_fns(case, "parallel_env")(), num_cycles=200)


@pytest.mark.parametrize("case", _params(CASES))
def test_seed_test(case):
    seed_test(_fns(case, "env"), num_cycles=100)


@pytest.mark.parametrize("case", _params(PARALLEL))
def test_parallel_seed_test(case):
    parallel_seed_test(_fns(case, "parallel_env"), num_cycles=100)


@pytest.mark.parametrize("case", _params(PARALLEL))
def test_max_cycles_test(case):
    mod = types.SimpleNamespace(env=_fns(case, "env"), parallel_env=_fns(case, "parallel_env"))
    max_cycles_test(mod)


@pytest.mark.parametrize("case", _params(PARALLEL))
def test_max_cycles_truncates_not_terminates(case):
    par = _fns(case, "parallel_env")(max_cycles=3)
    par.reset(seed=0)
    for _ in range(3):
        _, _, term, trunc, _ = par.step({a: par.action_space(a).sample() for a in par.agents})
    assert all(trunc.values()) and not any(term.values())
    assert par.agents == []


@pytest.mark.parametrize("case", _params(CASES))
def test_render_test(case, capsys):
    render_test(_fns(case, "env"))
    # "human" prints the ansi view.
    assert capsys.readouterr().out.strip()


@pytest.mark.parametrize("case", _params(CASES))
def test_state_matches_state_space(case):
    aec = _fns(case, "raw_env")()
    aec.reset(seed=0)
    space = aec.state_space
    state = aec.state()
    assert state.shape == space.shape and state.dtype == space.dtype
    assert space.contains(state)
    assert np.isfinite(state).all()


@pytest.mark.slow
@pytest.mark.parametrize("case", _params(CASES))
def test_performance_benchmark(case, capsys):
    performance_benchmark(_fns(case, "env")())
    assert "turns per second" in capsys.readouterr().out
