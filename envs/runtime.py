"""How numba runs here: where it keeps the compiled step, and how its threads wait.

numba caches compiled functions in ``__pycache__`` beside each module, or in the user's
cache folder when that is read-only; with both read-only (a system-wide install used by a
user whose HOME is read-only, a container) every ``cache=True`` function fails at import
with "cannot cache function ...: no locator available". Imported first by :mod:`envs`,
this module then points numba at a folder in the temporary directory instead, unless
``NUMBA_CACHE_DIR`` is set already (set it yourself to choose the folder; the cache is
only an optimisation: a new folder means compiling once, ~30 s).

numba loads the compiled code it finds in its cache folder, so the fallback folder must be
this user's alone: it is created with mode 0700 and checked on every start (a real folder,
not a symbolic link, owned by this user; group and others' permissions are removed, and
a folder that others could write in is emptied). A folder there of another owner, or a
link or a file in its place, stops the import with :class:`UnsafeCacheFolderError`:
another user could have put code in it.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

__all__ = [
    "UnsafeCacheFolderError",
    "ensure_writable_cache",
    "passive_openmp_threads",
    "private_folder",
]


class UnsafeCacheFolderError(RuntimeError):
    """The fallback numba cache folder is not this user's private folder (another owner, a
    symbolic link or not a folder); the message names it and says to set ``NUMBA_CACHE_DIR``."""


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


def private_folder(folder: Path) -> None:
    """Make ``folder`` this user's private folder: create it with mode 0700, or check the
    one there, set its mode to 0700 and empty it if others could write in it.

    The check holds the folder open (``O_NOFOLLOW``), so a link swapped in between the
    check and the mode change cannot redirect it.

    Raises:
        UnsafeCacheFolderError: ``folder`` is a symbolic link, not a folder, or owned by
            another user (the message names the folder, its owner and the way out).
    """
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    way_out = (
        "numba would load compiled code from it that another user could have written; "
        "remove it, or set NUMBA_CACHE_DIR to a folder of your own "
        "(e.g. export NUMBA_CACHE_DIR=$HOME/.cache/numba)"
    )
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(folder, flags)
    except OSError as exc:
        what = "a symbolic link" if os.path.islink(folder) else f"not a usable folder ({exc})"
        raise UnsafeCacheFolderError(f"numba cache folder {folder} is {what}; {way_out}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISDIR(st.st_mode):
            raise UnsafeCacheFolderError(f"numba cache folder {folder} is not a folder; {way_out}")
        if st.st_uid != os.getuid():
            raise UnsafeCacheFolderError(
                f"numba cache folder {folder} is owned by uid {st.st_uid}, not by you "
                f"(uid {os.getuid()}); {way_out}"
            )
        mode = stat.S_IMODE(st.st_mode)
        if mode != 0o700:  # e.g. 0755 as numba made it before this check
            os.fchmod(fd, 0o700)
        if mode & 0o022:  # others could write in it: what it holds is not ours to load
            _empty(folder, way_out)
    finally:
        os.close(fd)


def _empty(folder: Path, way_out: str) -> None:
    """Remove everything in ``folder`` (now 0700: nobody else can add to it), links and
    all, without following links."""
    try:
        for entry in os.scandir(folder):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
    except OSError as exc:
        raise UnsafeCacheFolderError(
            f"numba cache folder {folder} was writable by other users and what they may have "
            f"put in it cannot be removed ({exc}); {way_out}"
        ) from None


def ensure_writable_cache() -> str | None:
    """Set ``NUMBA_CACHE_DIR`` to a private temporary folder when numba would have nowhere
    to write; returns the folder chosen, or ``None`` when numba's own choice works.

    Raises:
        UnsafeCacheFolderError: the temporary folder is not private (:func:`private_folder`).
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    package = Path(__file__).resolve().parent
    user_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    if _writable(package / "__pycache__") or _writable(user_cache):
        return None
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    folder = str(Path(tempfile.gettempdir()) / f"coalition_markets_numba_{uid}")
    if hasattr(os, "getuid"):  # POSIX: the temporary folder is shared by every user
        private_folder(Path(folder))
    os.environ["NUMBA_CACHE_DIR"] = folder
    if "numba" in sys.modules:  # imported before envs: its config was read already
        sys.modules["numba"].config.CACHE_DIR = folder
    return folder
