"""What a fresh install promises: a light core and clean machine-readable output (issue 12)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _python(code_or_args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *code_or_args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_the_environments_never_import_torch_sb3_or_tensorboard():
    code = (
        "import sys, envs\n"
        "envs.make('multimarket_v0', days=1).reset(seed=0)\n"
        "envs.make_gym('multimarket_v0', days=1).reset(seed=0)\n"
        "envs.make_vector('multimarket_v0', num_envs=2, days=1).reset(seed=0)\n"
        "import agents; agents.load('mpc'); agents.load('rule')\n"
        "heavy = ('torch', 'stable_baselines3', 'tensorboard')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = _python(["-c", code])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "argv",
    [
        ["-m", "agents.admm", "--json"],
        ["-m", "evaluation.cfe", "--json"],
        ["-m", "evaluation.ppa", "--json"],
        ["-m", "evaluation.benchmark", "--json", "--quick", "--num-envs", "4", "--repeats", "1"],
    ],
    ids=["admm", "cfe", "ppa", "benchmark"],
)
def test_json_commands_print_one_json_document_and_nothing_else(argv):
    # A fresh process each: HiGHS writes its banner once per process, from C, past
    # pytest's capture, so only a new process shows whether it leaks into stdout.
    out = _python(argv)
    assert out.returncode == 0, out.stderr
    json.loads(out.stdout)  # raises on a banner or any other line around the document
