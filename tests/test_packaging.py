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
        "envs.make('multimarket_v1', days=1).reset(seed=0)\n"
        "envs.make_gym('multimarket_v1', days=1).reset(seed=0)\n"
        "envs.make_vector('multimarket_v1', num_envs=2, days=1).reset(seed=0)\n"
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
        # 12 s (it also times a MAPPO iteration in a subprocess): kept for -m slow.
        pytest.param(
            ["-m", "evaluation.benchmark", "--json", "--quick", "--num-envs=4", "--repeats=1"],
            marks=pytest.mark.slow,
        ),
        ["-m", "evaluation.calibrate", "--json", "--scenarios=default", "--seeds=1", "--days=1"],
    ],
    ids=["admm", "cfe", "ppa", "benchmark", "calibrate"],
)
def test_json_commands_print_one_json_document_and_nothing_else(argv):
    # A fresh process each: HiGHS writes its banner once per process, from C, past
    # pytest's capture, so only a new process shows whether it leaks into stdout.
    out = _python(argv)
    assert out.returncode == 0, out.stderr
    json.loads(out.stdout)  # raises on a banner or any other line around the document


def _imports(package: str) -> dict[str, set[str]]:
    """Top-level packages each module of ``package`` imports (any nesting level)."""
    import ast

    out: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        out[str(path.relative_to(ROOT))] = names
    return out


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("envs", {"agents", "training", "evaluation", "torch", "stable_baselines3", "tensorboard"}),
        ("agents", {"training", "evaluation"}),
        ("training", {"evaluation"}),
        ("evaluation", {"training"}),
    ],
)
def test_imports_point_one_way(package, forbidden):
    # envs <- agents <- training, evaluation; training and evaluation never import each other
    # (torch in envs/adapters/sb3.py only, through stable_baselines3, which is allowed there).
    bad = {
        module: sorted(names & forbidden)
        for module, names in _imports(package).items()
        if names & forbidden and not module.endswith("adapters/sb3.py")
    }
    assert bad == {}


def test_no_module_reads_another_modules_private_names():
    import ast

    bad = []
    for package in ("envs", "agents", "training", "evaluation"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    bad += [f"{path.name}: {a.name}" for a in node.names
                            if a.name.startswith("_") and node.module.split(".")[0] in
                            ("envs", "agents", "training", "evaluation")]  # fmt: skip
    assert bad == []


def test_every_distribution_the_dev_extra_installs_imports():
    # A fresh process: what a user's first `import x` meets after `pip install -e ".[dev]"`.
    # (BenchMARL's torchvision, a CUDA build beside the CPU torch, was one that did not.)
    out = _python(["-W", "ignore", "-m", "tests.installed_extras", "dev"])
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert "torch" in found["distributions"] and "streamlit" in found["distributions"]
    assert found["broken"] == {}, "these do not import after installing [dev]: " + "; ".join(
        f"{name}: {error}" for name, error in found["broken"].items()
    )


def test_the_dev_extra_leaves_out_the_examples_extra():
    # [examples] pulls BenchMARL's torchvision (a CUDA build from PyPI); it installs apart.
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    dev = " ".join(extras["optional-dependencies"]["dev"])
    assert "examples" not in dev and "benchmarl" not in dev
