"""Shared fixtures and the hypothesis profile of the test suite (STYLE §7)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import settings

import envs

# CI profile: reproducible examples, no per-example deadline, small enough for 2 cores.
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=30)
settings.load_profile("ci")

#: The two envs on the batched multi-market core.
MARKET_IDS: tuple[str, ...] = ("multimarket_v1", "spot_v1")


def random_actions(env: Any, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One uniformly random in-bounds action per live agent, drawn from ``rng``."""
    return {
        a: rng.uniform(-1.0, 1.0, env.action_space(a).shape).astype(np.float32) for a in env.agents
    }


@pytest.fixture
def make_default() -> Callable[..., Any]:
    """Factory of a 1-day ``default`` multimarket env (keyword overrides pass through)."""

    def _make(**kwargs: Any) -> Any:
        kwargs.setdefault("days", 1)
        return envs.make("multimarket_v1", scenario="default", **kwargs)

    return _make


@pytest.fixture
def env1() -> Any:
    """A 1-day ``default`` multimarket env, reset with seed 0."""
    env = envs.make("multimarket_v1", scenario="default", days=1)
    env.reset(seed=0)
    return env
