"""Standard output that cannot be written any more: shared by the console script and the
click group (below both, so neither imports the other for it)."""

from __future__ import annotations

import os
import sys
from typing import NoReturn


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        sys.stdout = None  # no descriptor to point anywhere: nothing left to flush


def say(message: str) -> None:
    """``message`` as a line on stderr; dropped quietly if stderr cannot take it either."""
    try:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
    except (OSError, AttributeError, ValueError):
        pass


def interrupted() -> NoReturn:
    """Ctrl-C: one line, exit 130 (as a shell reports SIGINT), no traceback."""
    say("\ngradcli: interrupted")
    raise SystemExit(130) from None


def cannot_write(error: OSError) -> NoReturn:
    """stdout failed (closed, disk full): one line, exit 1, and no second failure at exit."""
    silence_stdout()
    say(f"gradcli: cannot write the output: {error.strerror or error}")
    raise SystemExit(1) from None
