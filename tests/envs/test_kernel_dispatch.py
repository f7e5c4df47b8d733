"""The compiled step is called without type dispatch, so its argument types must never
change within a core (envs.sim.kernel.CompiledStep); checked over whole episodes."""

from __future__ import annotations

import numpy as np
import pytest

import envs
from envs.sim import kernel as kn


@pytest.mark.parametrize(
    ("scenario", "num_envs", "overrides"),
    [
        ("default", 1, {}),
        ("default", 64, {}),
        ("strategic_incumbents", 2, {}),  # incumbents are agents (fleet.controlled)
        ("no_capacity_market", 1, {"members.agents": False}),
    ],
)
def test_argument_types_stay_the_same_over_an_episode(monkeypatch, scenario, num_envs, overrides):
    monkeypatch.setattr(kn.CompiledStep, "check_types", True)
    venv = envs.make_vector("multimarket_v0", scenario, num_envs=num_envs, days=2,
                            overrides=overrides)  # fmt: skip
    rng = np.random.default_rng(0)
    for seed in (0, 1):  # a second episode on the same core
        venv.reset(seed=seed)
        for _ in range(48):
            acts = {g: rng.uniform(-1, 1, a.shape) for g, a in venv.scripted_actions().items()}
            venv.step(acts)  # raises TypeError if a type changed
    assert venv.core._kernel.sig is not None
