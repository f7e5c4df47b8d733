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
    # By design: the coalition's reward is the members' total saving (module docstring).
    totals = out["episode_return_eur"]
    assert totals["members"] == pytest.approx(totals["coalition"], rel=1e-6, abs=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("env_id", ["multimarket_v1", "spot_v1"])
def test_benchmarl_task_on_default_env_arguments(env_id):
    pytest.importorskip("benchmarl", reason="pip install .[examples]")
    from evaluation.examples.benchmarl_mappo import train

    out = train(frames=96, frames_per_batch=48, env_id=env_id, env_kwargs={})
    assert out["frames"] >= 96
    assert all(math.isfinite(v) for v in out["mean_reward_eur"].values())


@pytest.mark.slow
def test_benchmarl_task_on_the_exchange_needs_flat_spaces():
    pytest.importorskip("benchmarl", reason="pip install .[examples]")
    from evaluation.examples.benchmarl_mappo import train

    with pytest.raises(ValueError, match=r"exchange_v0: agent 'member_0' observes Dict"):
        train(frames=48, frames_per_batch=48, env_id="reservation_exchange_v0", env_kwargs={})
    out = train(
        frames=96, frames_per_batch=48, env_id="reservation_exchange_v0",
        env_kwargs={"flat_spaces": True},
    )  # fmt: skip
    assert set(out["mean_reward_eur"]) == {"member"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env_id", "env_kwargs"),
    [("spot_v1", {}), ("multimarket_v1", {}), ("reservation_exchange_v0", {"flat_spaces": True})],
)
def test_rllib_multi_agent_ppo_on_default_env_arguments(env_id, env_kwargs):
    pytest.importorskip("ray.rllib", reason="pip install .[examples]")
    args = ["--env-id", env_id, "--env-kwargs", json.dumps(env_kwargs), "--timesteps", "48"]
    out = _run_example("evaluation.examples.rllib_groups", *args, "--batch", "48")
    assert out["timesteps"] >= 48 and out["iterations"] >= 1


@pytest.mark.slow
def test_rllib_example_refuses_the_exchange_2d_actions_clearly():
    from evaluation.examples.rllib_groups import _make_par

    with pytest.raises(ValueError, match=r"reservation_exchange_v0: agent 'member_0' acts in Box"):
        _make_par({"env_id": "reservation_exchange_v0"})
