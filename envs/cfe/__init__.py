"""The pooled-procurement (24/7 carbon-free energy) model behind ``python -m evaluation.cfe``.

``envs.cfe`` was a module (``envs/cfe.py``) before 0.1; its names now live in
:mod:`envs.cfe.model`. ``from envs.cfe import cfe_metrics`` and the like still work for one
release and warn ``DeprecationWarning`` naming the new path.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any


def __getattr__(name: str) -> Any:
    """The old module's public names (``envs.cfe.model.__all__``), with a deprecation warning."""
    model = importlib.import_module("envs.cfe.model")
    if name not in model.__all__:
        raise AttributeError(f"module 'envs.cfe' has no attribute {name!r}")
    from envs._moved import moved_message

    message = moved_message(f"envs.cfe.{name}", f"envs.cfe.model.{name}")
    warnings.warn(message, DeprecationWarning, stacklevel=2)
    return getattr(model, name)
