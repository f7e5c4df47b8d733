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


PACKAGES = ("envs", "agents", "training", "evaluation")


def _module_graph(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, set[str]]:
    """The project's modules and the project modules each imports, from the source: every
    import statement anywhere in a file (module level, in functions, under
    ``if TYPE_CHECKING``), since an import inside a function only hides a cycle until it
    runs. ``from a.b import c`` imports the module ``a.b.c`` when there is one, else ``a.b``;
    a package's ``__init__`` runs before its modules, so it is not counted as their import."""
    import ast

    paths: dict[str, Path] = {}
    for package in packages:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        out: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                out |= {a.name for a in node.names if a.name in paths}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, *([node.module] if node.module else [])])
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    out |= {sub} if sub in paths else {base} & paths.keys()
        graph[name] = out - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_the_module_import_graph_has_no_cycle():
    # Modules import one way inside each package as between packages: a cycle (such as a
    # core importing a tariff that builds a core, or an adapter lazily importing the adapter
    # that imports it) makes import order matter and hides a hub that should be split.
    graph = _module_graph()
    assert len(graph) > 100 and graph["envs.sim.observe"] >= {"envs.sim.kernel"}
    assert _cycles(graph) == []


def test_the_cycle_check_sees_imports_inside_functions(tmp_path):
    # The check itself: a lazy import in a function body, a relative one or one under
    # TYPE_CHECKING closes a cycle as well as a module-level one.
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from pkg import a\n")  # a package's own: not a cycle
    (pkg / "a.py").write_text("import pkg.b\n")
    (pkg / "b.py").write_text("def f():\n    from pkg import c\n")
    (pkg / "c.py").write_text("import numpy\n")
    assert _cycles(_module_graph(tmp_path, ("pkg",))) == []
    for closing in ("def g():\n    from pkg.a import x\n", "from . import a\n",
                    "if TYPE_CHECKING:\n    from pkg import a\n"):  # fmt: skip
        (pkg / "c.py").write_text(closing)
        assert _cycles(_module_graph(tmp_path, ("pkg",))) == [["pkg.a", "pkg.b", "pkg.c"]]


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
