"""The module paths that moved in the 0.1 reorganisation, kept working for one release.

The old paths (:data:`MOVED`) have no files: :func:`install` puts one import finder on
``sys.meta_path`` (at ``import envs``), which answers for exactly those names. Importing one
warns ``DeprecationWarning`` naming the new path, at the line of the caller's import, and
the old name then *is* the new module (same functions, classes and private helpers, so
monkeypatching either path patches both). The package
``envs.cfe`` (formerly the module ``envs/cfe.py``) does the same for its names in its
``__init__``. The old paths go in the next release.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType
from typing import Any

#: Old module path -> new module path.
MOVED: dict[str, str] = {
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


def moved_message(old: str, new: str) -> str:
    """The warning's text: the old path, the new one and when the old one goes."""
    return (
        f"{old} has moved to {new}: import {new} instead "
        f"(the old path still works in 0.1.x and will be removed in the next release)"
    )


class _MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the moved paths of :data:`MOVED` (and nothing else) and loads them as aliases."""

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> Any:
        """A spec for an old path; None for every other name (the normal finders go on)."""
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: Any) -> ModuleType:
        """Warn, import the new module and return it as the old name's module."""
        old, new = spec.name, MOVED[spec.name]
        # stacklevel 2: the frame after this one, once warnings has skipped the import
        # system's own (importlib._bootstrap) frames: the caller's import line.
        warnings.warn(moved_message(old, new), DeprecationWarning, stacklevel=2)
        return importlib.import_module(new)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module is the new one, already imported."""


def install() -> None:
    """Put the finder of the moved paths on ``sys.meta_path`` once (``import envs`` does)."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedFinder())
