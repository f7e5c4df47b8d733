"""Which distributions an extra of this project installs, and whether each one imports.

``python -m tests.installed_extras dev`` prints one JSON object: ``{"distributions": [...],
"broken": {"dist (module)": "error"}}``. The project's own requirements come from
``pyproject.toml`` (the source of truth, even when the installed metadata is older); every
other distribution's requirements come from its installed metadata, followed recursively
with the extras asked for. A distribution's import names are the top-level modules it
installs (``importlib.metadata.packages_distributions``) that Python can find; names it
installs but that are no module (``gallery``, ``scripts`` in a wheel's RECORD) are skipped.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import importlib.util
import json
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "coalition-markets"


def _own_requirements(extras: set[str]) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in sorted(extras):
        lines += project["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


def required_distributions(extras: set[str]) -> dict[str, set[str]]:
    """Every distribution (canonical name) ``pip install .[extras]`` installs -> its extras."""
    seen: dict[str, set[str]] = {}
    todo = _own_requirements(extras)
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name == PROJECT:
            todo += _own_requirements(set(req.extras))
            continue
        if name in seen and set(req.extras) <= seen[name]:
            continue
        seen[name] = seen.get(name, set()) | set(req.extras)
        for line in md.distribution(name).requires or []:
            sub = Requirement(line)
            wanted = {""} | seen[name]
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in wanted):
                todo.append(sub)
    return seen


def import_names() -> dict[str, set[str]]:
    """Distribution (canonical name) -> the top-level modules it installs."""
    out: dict[str, set[str]] = {}
    for top, dists in md.packages_distributions().items():
        for dist in dists:
            out.setdefault(canonicalize_name(dist), set()).add(top)
    return out


def broken_imports(extras: set[str]) -> tuple[list[str], dict[str, str]]:
    """The distributions of ``extras`` and ``{"dist (module)": error}`` for those that fail."""
    dists = required_distributions(extras)
    names = import_names()
    broken: dict[str, str] = {}
    for dist in sorted(dists):
        for top in sorted(names.get(dist, ())):
            if top.startswith("_") or importlib.util.find_spec(top) is None:
                continue
            try:
                importlib.import_module(top)
            except BaseException as error:  # report every kind of failure, SystemExit included
                broken[f"{dist} ({top})"] = f"{type(error).__name__}: {error}"[:300]
    return sorted(dists), broken


if __name__ == "__main__":
    distributions, broken = broken_imports(set(sys.argv[1:]))
    print(json.dumps({"distributions": distributions, "broken": broken}))
