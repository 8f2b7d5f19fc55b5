"""Helpers for the command-line tests: strict JSON, running gradcli as a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def interruptible() -> None:
    """A child's ``preexec_fn``: Ctrl-C (SIGINT) reaches it as it reaches a command typed
    in a terminal. A process keeps an ignored SIGINT ignored, and a background job of a
    non-interactive shell (``cmd &`` in a script) starts with SIGINT ignored: a test run
    started that way would otherwise see gradcli (rightly) not stop on SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _no_constant(text: str):
    raise ValueError(f"not RFC 8259 JSON: {text}")


def strict_json(line: str):
    """json.loads that refuses NaN, Infinity and -Infinity."""
    return json.loads(line, parse_constant=_no_constant)


def json_lines(text: str) -> list:
    return [strict_json(line) for line in text.splitlines() if line.strip()]


def gradcli_command() -> list[str]:
    return [sys.executable, "-m", "gradcli"]


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("FORCE_COLOR", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def run_gradcli(
    *args: str, input: str | None = None, cwd=None, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*gradcli_command(), *args],
        input=input,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=subprocess_env(**env),
        timeout=timeout,
    )
