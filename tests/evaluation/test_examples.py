"""The training examples run (``pip install .[examples]``); slow: each trains a few
thousand steps."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_supersuit_members_example_trains():
    pytest.importorskip("supersuit", reason="pip install .[examples]")
    from evaluation.examples.supersuit_members import train

    out = train(timesteps=2048, members=3, copies=2, seed=0)
    assert out["timesteps"] >= 2048
    assert math.isfinite(out["mean_saving_eur"])


def _run_example(module: str, *args: str, timeout: float = 600) -> dict:
    """Run ``python -m module args`` in a subprocess; returns its last stdout line as JSON."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", module, *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_torchrl_example_trains_every_group():
    pytest.importorskip("torchrl", reason="pip install .[examples]")
    out = _run_example("evaluation.examples.torchrl_coalition", "--frames", "960")
    assert out["frames"] >= 960
    assert set(out["mean_reward_eur"]) == {"coalition", "members", "incumbents"}
    assert all(math.isfinite(v) for v in out["mean_reward_eur"].values())


@pytest.mark.slow
def test_benchmarl_mappo_example_trains_every_group():
    pytest.importorskip("benchmarl", reason="pip install .[examples]")
    out = _run_example("evaluation.examples.benchmarl_mappo", "--frames", "960")
    assert out["frames"] >= 960
    assert set(out["mean_reward_eur"]) == {"coalition", "members", "incumbents"}
    assert all(math.isfinite(v) for v in out["mean_reward_eur"].values())


@pytest.mark.slow
def test_rllib_example_trains_one_module_per_group():
    pytest.importorskip("ray.rllib", reason="pip install .[examples]")
    out = _run_example("evaluation.examples.rllib_groups", "--timesteps", "480")
    assert out["timesteps"] >= 480
    assert out["iterations"] >= 1
    assert set(out["mean_reward_eur"]) == {"coalition", "members", "incumbents"}
    assert all(math.isfinite(v) for v in out["mean_reward_eur"].values())
