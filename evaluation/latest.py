"""Where ``python -m evaluation.compare`` writes results and where the app looks for them.

One place for both, so that they agree: ``compare`` writes to ``--out`` (default
:data:`FULL_OUT`, or :data:`QUICK_OUT` with ``--quick``, so that a smoke run never
overwrites a full one); ``python -m evaluation.app`` opens ``--results`` when given, else
the newest results folder under :data:`ROOT` (the one whose ``summary.json`` ``compare``
wrote last), else :data:`FULL_OUT`. Paths are relative to the current directory, like
``--out``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["FULL_OUT", "QUICK_OUT", "ROOT", "default_out", "latest_results"]

#: The folder under which ``compare``'s default output folders lie.
ROOT = Path("results")
#: ``compare``'s output folder for a full grid.
FULL_OUT = ROOT / "compare"
#: ``compare --quick``'s output folder.
QUICK_OUT = ROOT / "quick"


def default_out(quick: bool) -> Path:
    """``compare``'s output folder when ``--out`` is not given."""
    return QUICK_OUT if quick else FULL_OUT


def latest_results(root: Path = ROOT) -> tuple[Path, str]:
    """The folder the app opens without ``--results``, and why: ``(folder, reason)``.

    The folder under ``root`` whose ``summary.json`` is newest (``compare`` writes it once
    the grid is done), else :data:`FULL_OUT` (which then holds nothing yet).
    """
    found = []
    for summary in root.glob("*/summary.json"):
        try:
            found.append((summary.stat().st_mtime, summary.parent))
        except OSError:  # removed while we looked
            continue
    if found:
        folder = max(found)[1]
        return folder, f"the newest python -m evaluation.compare output under {root}/"
    return FULL_OUT, f"python -m evaluation.compare's default --out; no results under {root}/ yet"
