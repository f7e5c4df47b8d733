"""YAML configs shipped with the package (scenarios, training, evaluation).

Read them through :func:`config_path` so that an installed copy works as well as a
source checkout.
"""

from importlib.resources import files
from pathlib import Path


def config_path(*parts: str) -> Path:
    """Return the path of a shipped config file or folder, e.g. ``config_path("scenarios")``."""
    return Path(str(files("configs").joinpath(*parts)))
