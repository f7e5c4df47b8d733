"""How numba runs here: where it keeps the compiled step, and how its threads wait.

numba caches compiled functions in ``__pycache__`` beside each module, or in the user's
cache folder when that is read-only; with both read-only (a system-wide install used by a
user whose HOME is read-only, a container) every ``cache=True`` function fails at import
with "cannot cache function ...: no locator available". Imported first by :mod:`envs`,
this module then points numba at a folder in the temporary directory instead, unless
``NUMBA_CACHE_DIR`` is set already (set it yourself to choose the folder; the cache is
only an optimisation: a new folder means compiling once, ~30 s).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

__all__ = ["ensure_writable_cache", "passive_openmp_threads"]


def passive_openmp_threads() -> None:
    """Let idle OpenMP threads sleep rather than spin (``OMP_WAIT_POLICY=PASSIVE``), unless
    the user chose a policy.

    numba's parallel step (E >= 64) runs on libgomp's thread pool; with the default active
    wait, its idle threads spin and take the cores from any other process or thread pool:
    on the 2-core machine with two busy processes beside it, a step at E = 64 took 297
    and 6,375 us with the default policy against 216 and 227 us with PASSIVE (2026-11-29,
    interleaved). libgomp reads the variable when its pool starts, at numba's first
    parallel call, so setting it on ``import envs`` is early enough.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _writable(folder: Path) -> bool:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # numba creates missing folders below a writable one
    return os.access(folder, os.W_OK)


def ensure_writable_cache() -> str | None:
    """Set ``NUMBA_CACHE_DIR`` to a temporary folder when numba would have nowhere to
    write; returns the folder chosen, or ``None`` when numba's own choice works."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    package = Path(__file__).resolve().parent
    user_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    if _writable(package / "__pycache__") or _writable(user_cache):
        return None
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    folder = str(Path(tempfile.gettempdir()) / f"coalition_markets_numba_{uid}")
    os.environ["NUMBA_CACHE_DIR"] = folder
    if "numba" in sys.modules:  # imported before envs: its config was read already
        sys.modules["numba"].config.CACHE_DIR = folder
    return folder
