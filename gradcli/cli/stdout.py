"""Standard output that cannot be written any more: shared by the console script and the
click group (below both, so neither imports the other for it)."""

from __future__ import annotations

import os
import sys


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        sys.stdout = None  # no descriptor to point anywhere: nothing left to flush
