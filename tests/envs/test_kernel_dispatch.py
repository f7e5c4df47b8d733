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
    venv = envs.make_vector("multimarket_v1", scenario, num_envs=num_envs, days=2,
                            overrides=overrides)  # fmt: skip
    rng = np.random.default_rng(0)
    for seed in (0, 1):  # a second episode on the same core
        venv.reset(seed=seed)
        for _ in range(48):
            acts = {g: rng.uniform(-1, 1, a.shape) for g, a in venv.scripted_actions().items()}
            venv.step(acts)  # raises TypeError if a type changed
    assert venv.core._kernel.sig is not None


@pytest.mark.parametrize(
    ("scenario", "num_envs"),
    [("default", 3), ("dark_doldrums", 64), ("strategic_incumbents", 64), ("large_coalition", 2)],
)
def test_without_a_ledger_the_step_settles_in_per_block_rows_to_the_same_result(scenario, num_envs):
    """Without a ledger each env settles in its block's (M, P) row of flows
    (kernel.Outputs) instead of its own: rewards, accounting and observations must be
    bit-identical to a core that keeps the (E, M, P) flows, over two whole episodes with
    random actions (a row reused by the next env would leak its flows into the incumbents'
    profit and the coalition's result)."""
    kw = {"num_envs": num_envs, "days": 2}
    kept = envs.make_vector("multimarket_v1", scenario, record_ledger=True, **kw)
    lean = envs.make_vector("multimarket_v1", scenario, **kw)
    assert lean.core._flows.cash.shape[0] < num_envs == kept.core._flows.cash.shape[0]
    rng = np.random.default_rng(1)
    for seed in (3, 4):
        ob_a, _ = kept.reset(seed=seed)
        ob_b, _ = lean.reset(seed=seed)
        for _ in range(48):
            acts = {g: rng.uniform(-1, 1, a.shape) for g, a in kept.scripted_actions().items()}
            ob_a, r_a, *_, inf_a = kept.step(acts)
            ob_b, r_b, *_, inf_b = lean.step(acts)
            for g in r_a:
                np.testing.assert_array_equal(r_a[g], r_b[g])
                np.testing.assert_array_equal(ob_a[g], ob_b[g])
            for k in inf_a:
                np.testing.assert_array_equal(inf_a[k], inf_b[k], err_msg=k)


def test_the_serial_step_compiles_as_one_function():
    """The serial step (E < 64, and the tariff's rehearsal in every ``envs.make``) calls
    its block and env step inlined: numba compiles each called function as a library that
    re-optimises and emits all it calls, so separate functions would compile the whole
    step three times (issue 29, make_cold_s). The parallel step keeps the calls."""
    block = kn.step_serial.py_func.__globals__["env_block"]
    step = block.py_func.__globals__["env_step"]
    assert block.targetoptions.get("inline") == step.targetoptions.get("inline") == "always"
    assert kn.step_parallel.py_func.__globals__["env_block"] is kn.env_block
    assert kn.env_block.targetoptions.get("inline", "never") == "never"
