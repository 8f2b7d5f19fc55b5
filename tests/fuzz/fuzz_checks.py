"""The invariants every input must keep, through the API and through the command line."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from gradcli import evaluate
from gradcli.lang.errors import GradcliError
from gradcli.lang.results import Failure, Result

ROOT = Path(__file__).resolve().parents[2]
QUICK_MAX_ELEMENTS = 10**6  # fuzzed programs may ask for anything: keep each run small


def _reject_constant(name: str):
    raise ValueError(f"non-finite number {name} in JSON output")


def strict_json(line: str) -> dict:
    """One JSON Lines record, refusing NaN and Infinity (RFC 8259)."""
    record = json.loads(line, parse_constant=_reject_constant)
    assert isinstance(record, dict), line
    return record


def check_failure(f: Failure) -> None:
    err = f.error
    assert isinstance(err, GradcliError), type(err)
    assert isinstance(err.type, str) and err.type and err.type != "internal", (
        f"internal error: {err.message!r} for {f.source!r}")
    assert isinstance(err.message, str) and err.message.strip()
    assert "Traceback" not in err.message
    if err.span is not None:  # a place: a line and a column, both 1-based
        assert isinstance(err.line, int) and err.line >= 1
        assert isinstance(err.column, int) and err.column >= 1
    elif err.type in ("syntax", "name"):
        raise AssertionError(f"a {err.type} error without a place: {err.message!r}")
    text = err.render()
    assert "Traceback" not in text
    assert not any(ord(c) < 32 and c not in "\n" for c in text), repr(text)
    assert isinstance(f.line, int) and f.line >= 1


def check_result(r: Result) -> None:
    assert isinstance(r.line, int) and r.line >= 1
    assert r.value is not None
    if r.gradients is None:
        assert r.note, "gradients absent without a note"
    for w in r.warnings:
        assert isinstance(w, str) and w and "\n" not in w


def run_api(program: str, **options) -> list:
    """``evaluate`` under the invariants: no exception escapes, every outcome well-formed."""
    options.setdefault("max_elements", QUICK_MAX_ELEMENTS)
    outcomes = evaluate(program, **options)
    for o in outcomes:
        if isinstance(o, Failure):
            check_failure(o)
        else:
            assert isinstance(o, Result), type(o)
            check_result(o)
    return outcomes


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["NO_COLOR"] = "1"
    return env


_RUNNER = CliRunner()


def run_cli_inprocess(args: list[str], stdin: bytes | str | None = None):
    """The CLI through click's CliRunner: exit code, stdout, stderr."""
    from gradcli.cli.main import main

    result = _RUNNER.invoke(main, args, input=stdin, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {type(result.exception).__name__}: "
                             f"{result.exception!r} for {args!r} {stdin!r:.200}")
    return result.exit_code, result.stdout, result.stderr


def run_cli_subprocess(args: list[str], stdin: bytes | None = None, timeout: float = 60):
    proc = subprocess.run([sys.executable, "-m", "gradcli", *args], input=stdin,
                          capture_output=True, timeout=timeout, env=_env(), cwd=ROOT)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), \
        proc.stderr.decode("utf-8", "replace")


def check_cli(code: int, stdout: str, stderr: str, *, json_mode: bool,
              expected_records: int | None = None) -> list[dict]:
    """Exit code as SPEC §7 says, no traceback, and (with --json) strict JSON Lines."""
    assert code in (0, 1, 2), (code, stderr[-2000:])
    assert "Traceback" not in stdout and "Traceback" not in stderr, stderr[-3000:]
    records = []
    if json_mode:
        for line in stdout.splitlines():
            records.append(strict_json(line))
        for rec in records:
            if "error" in rec:
                err = rec["error"]
                assert err["type"] and err["message"], rec
                assert set(err) >= {"type", "message", "line", "column"}, rec
            else:
                _check_finite_json(rec)
        if expected_records is not None and code != 2:
            assert len(records) == expected_records, (len(records), expected_records, stdout)
        if code == 1:
            assert any("error" in r for r in records) or stderr, "exit 1 with no error shown"
    return records


def _check_finite_json(value) -> None:
    if isinstance(value, float):
        assert math.isfinite(value)
    elif isinstance(value, dict):
        for v in value.values():
            _check_finite_json(v)
    elif isinstance(value, list):
        for v in value:
            _check_finite_json(v)


def exit_code_for(outcomes: list) -> int:
    return 1 if any(isinstance(o, Failure) for o in outcomes) else 0
