"""A HiGHS instance that prints nothing.

HiGHS logs to the console by default, and highspy 1.16 writes its banner ("Running HiGHS
...") from the constructor, before any option can be set (ERGO-Code/HiGHS#1702, #2749).
The banner goes to the C library's stdout, past ``sys.stdout``, and would corrupt the
``--json`` output of the command-line tools. So the constructor runs with file
descriptor 1 pointed at ``/dev/null``, and ``output_flag`` is then switched off.
"""

from __future__ import annotations

import os
import sys

import highspy

__all__ = ["quiet_highs"]


def quiet_highs() -> highspy.Highs:
    """A new ``highspy.Highs`` with logging off (``output_flag`` false)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            try:
                h = highspy.Highs()
            finally:
                os.dup2(saved, 1)
    finally:
        os.close(saved)
    h.setOptionValue("output_flag", False)
    return h
