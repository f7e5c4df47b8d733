"""Exit status and message of every ``python -m`` program for bad input.

A user error (a bad config value or name, a missing, unreadable or unwritable file, a
read-only or full disk, YAML that is not plain data, a file that is not a checkpoint)
prints one ``error: ...`` line on stderr and exits 2; anything else is a bug and keeps its
traceback. :func:`cli_main` wraps a CLI's ``main(argv) -> int`` so that every program
draws the line in the same place.
"""

from __future__ import annotations

import errno
import functools
import sys
from collections.abc import Callable
from typing import Protocol

import yaml

from envs.errors import CheckpointError, ConfigError, UnknownNameError

__all__ = ["cli_main", "user_error"]

#: OS errors that come from the paths and disks the user chose, not from the program.
_USER_ERRNOS = frozenset(
    {
        errno.ENOENT, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT,
        errno.EISDIR, errno.ENOTDIR, errno.EEXIST, errno.ENAMETOOLONG, errno.EFBIG,
    }
)  # fmt: skip


def user_error(exc: BaseException) -> str | None:
    """The ``error:`` text for a user error, or None when ``exc`` is a bug."""
    if isinstance(exc, ConfigError | UnknownNameError | CheckpointError):
        return str(exc)
    if isinstance(exc, yaml.YAMLError):
        # Tags such as !!python/object are refused by safe_load: say so plainly, with the
        # file and line PyYAML's mark knows (the stream's name when read from a file).
        mark = getattr(exc, "problem_mark", None)
        where = f"{mark.name}, line {mark.line + 1}: " if mark is not None else ""
        return f"{where}not plain YAML data ({str(exc).splitlines()[0]})"
    if isinstance(exc, OSError) and exc.errno in _USER_ERRNOS:
        where = exc.filename if exc.filename is not None else ""
        return f"{exc.strerror or exc}: {where}".rstrip(": ")
    return None


class CliMain(Protocol):
    """A CLI's entry point: ``main(argv=None) -> exit status`` (``argv=None``: ``sys.argv``)."""

    def __call__(self, argv: list[str] | None = None) -> int:
        """Run the program on ``argv`` and return its exit status."""
        ...


def cli_main(main: Callable[[list[str] | None], int]) -> CliMain:
    """Wrap ``main(argv) -> int``: user errors print ``error: ...`` on stderr and return 2."""

    @functools.wraps(main)
    def wrapped(argv: list[str] | None = None) -> int:
        try:
            return main(argv)
        except Exception as exc:
            text = user_error(exc)
            if text is None:
                raise
            print(f"error: {text}", file=sys.stderr)
            return 2

    return wrapped
