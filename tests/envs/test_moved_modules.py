"""Old import paths keep working for one release, with a warning naming the new path."""

from __future__ import annotations

import ast
import importlib
import sys
import warnings
from pathlib import Path

import pytest

import envs
from envs._moved import MOVED

ROOT = Path(__file__).resolve().parents[2]

#: Every module path that moved in the 0.1 reorganisation (git log -M --diff-filter=R), and
#: where it lives now. Written out, not read from envs._moved, so that dropping one fails.
EXPECTED = {
    "envs.factories": "envs.adapters.factories",
    "envs.gym_view": "envs.adapters.gym_view",
    "envs.parallel": "envs.adapters.parallel",
    "envs.sb3": "envs.adapters.sb3",
    "envs.vector": "envs.adapters.vector",
    "envs.cfe_config": "envs.cfe.config",
    "envs.config_loader": "envs.config.loader",
    "envs.scenario": "envs.config.scenario",
    "envs.validate": "envs.config.validate",
    "envs.profiles": "envs.data.profiles",
    "envs.real_profiles": "envs.data.real_profiles",
    "envs.sectors": "envs.data.sectors",
    "envs.core": "envs.sim.core",
    "envs.forecast": "envs.sim.forecast",
    "envs.kernel": "envs.sim.kernel",
    "envs.ledger": "envs.sim.ledger",
    "envs.observe": "envs.sim.observe",
    "envs.scripted": "envs.sim.scripted",
    "envs.numba_cache": "envs.runtime",
}


def test_every_moved_path_is_answered():
    assert MOVED == EXPECTED


@pytest.mark.parametrize(("old", "new"), sorted(EXPECTED.items()))
def test_old_path_warns_naming_the_new_one_and_is_the_new_module(old, new, monkeypatch):
    monkeypatch.delitem(sys.modules, old, raising=False)
    monkeypatch.delattr(envs, old.split(".")[1], raising=False)
    with pytest.warns(DeprecationWarning, match=rf"{old} has moved to {new}") as record:
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert Path(record[0].filename).name != "_moved.py"  # points past the finder
    public = getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")])
    assert public and all(hasattr(module, name) for name in public)


def test_the_warning_points_at_the_callers_import_line(monkeypatch):
    monkeypatch.delitem(sys.modules, "envs.vector", raising=False)
    monkeypatch.delattr(envs, "vector", raising=False)
    with pytest.warns(DeprecationWarning) as record:
        from envs.vector import VectorMarketEnv  # noqa: F401
    assert record[0].filename == __file__


def test_names_of_the_old_cfe_module_warn_and_resolve():
    from envs.cfe import model

    with pytest.warns(DeprecationWarning, match=r"envs\.cfe\.cfe_metrics has moved to envs\.cfe"):
        from envs.cfe import cfe_metrics
    assert cfe_metrics is model.cfe_metrics
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from envs.cfe import config  # the package's own submodules: no warning
    assert config.__name__ == "envs.cfe.config"
    with pytest.raises(AttributeError):
        envs.cfe.not_a_name  # noqa: B018


def _imported_modules(path: Path) -> set[str]:
    """Absolute module paths a file imports (``import a.b``, ``from a.b import c``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_the_project_itself_imports_no_old_path():
    for package in ("envs", "agents", "training", "evaluation", "tests"):
        for path in (ROOT / package).rglob("*.py"):
            if path == Path(__file__):
                continue
            old = _imported_modules(path) & set(EXPECTED)
            assert not old, f"{path.relative_to(ROOT)} imports the old path(s) {sorted(old)}"


def test_old_paths_have_no_files_and_new_names_are_not_answered():
    # One finder answers the old paths: no shim files clutter the package, and a name that
    # never existed is still a ModuleNotFoundError.
    assert not [old for old in EXPECTED if (ROOT / (old.replace(".", "/") + ".py")).exists()]
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("envs.not_a_module")
