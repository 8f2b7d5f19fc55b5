"""Hostile input, broken outputs and signals (SPEC §10): every case runs gradcli as a real
process under a memory cap and a wall-time bound, so the test itself cannot exhaust the
machine."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys

import pytest

from tests.cli.cli_support import gradcli_command, subprocess_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes")

MEMORY_CAP = 1536 * 2**20  # address space: NumPy and OpenBLAS need some; a bomb needs more


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def capped(*args: str, input: str | None = None, timeout: float = 60, stdout=subprocess.PIPE,
           stdin=None, **env: str) -> subprocess.CompletedProcess:
    """gradcli ``args`` under the memory cap; fails the test if it outlives ``timeout``."""
    return subprocess.run(
        [*gradcli_command(), *args], input=input, stdin=stdin, stdout=stdout,
        stderr=subprocess.PIPE, text=True, env=subprocess_env(**env), timeout=timeout,
        preexec_fn=_cap_memory,
    )


def popen(*args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*gradcli_command(), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=subprocess_env(**env), preexec_fn=_cap_memory,
    )


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


# -- outputs and signals -----------------------------------------------------------------------


def _closed_stdout() -> None:
    _cap_memory()
    os.close(1)


@pytest.mark.parametrize("args", [["eval", "1+1"], ["eval", "x=1", "--json"],
                                  ["graph", "x+1", "-v", "x=1"]])
def test_a_closed_stdout_is_one_line_and_exit_1(args):
    result = subprocess.run([*gradcli_command(), *args], stdout=None, stderr=subprocess.PIPE,
                            text=True, env=subprocess_env(), timeout=60,
                            preexec_fn=_closed_stdout)
    assert result.returncode == 1
    assert "cannot write the output" in one_line(result.stderr)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["eval", "1+1"], ["eval", "1+1", "--json"], ["--help"],
                                  ["graph", "x+1", "-v", "x=1", "--format", "json"]])
def test_a_full_disk_is_one_line_and_exit_1(args):
    with open("/dev/full", "w") as full:
        result = capped(*args, stdout=full)
    assert result.returncode == 1
    assert "No space left on device" in one_line(result.stderr)


def test_sigterm_in_a_stream_exits_143_after_the_answers_so_far():
    process = popen("eval", "--json")
    try:
        process.stdin.write("1+1\n")
        process.stdin.flush()
        assert '"value": 2.0' in process.stdout.readline()
        process.send_signal(signal.SIGTERM)  # while it waits for the next line
        code = process.wait(timeout=30)
    finally:
        process.kill()
    assert code == 143
    assert "Traceback" not in process.stderr.read()


def test_sigterm_during_a_statement_lets_it_finish_first():
    # the signal arrives while a statement runs: it is answered, whole, then exit 143
    process = popen("eval", "--json", "--no-graph")
    try:
        process.stdin.write("1+1\n")
        process.stdin.flush()
        assert '"value": 2.0' in process.stdout.readline()
        process.stdin.write("sum(ones(400, 400) @ ones(400, 400))\n" * 30)
        process.stdin.flush()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 143
    assert "Traceback" not in err
    assert all(line.endswith("}") for line in out.splitlines())
    assert len(out.splitlines()) < 30


def test_sigint_while_starting_up_is_never_a_traceback():
    # sent at once, while Python imports click and NumPy: 130 (or killed before Python
    # could install its handler), never a traceback
    for delay in (0.0, 0.05, 0.15):
        process = popen("eval", "1+1")
        try:
            if delay:
                import time

                time.sleep(delay)
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=60)
        finally:
            process.kill()
        assert "Traceback" not in stderr, stderr
        assert process.returncode in (0, 130, -signal.SIGINT), (delay, process.returncode)


# -- terminal safety ---------------------------------------------------------------------------

TITLE = "\x1b]0;pwned\x07"  # a title-bar write
RLO = "\u202e"  # right-to-left override


def _no_raw(text: str) -> None:
    for raw in ("\x1b", "\x07", RLO, "\u2066"):
        assert raw not in text, repr(text)


@pytest.mark.parametrize("args, shown", [
    (["eval", "x", "-v", f"x=@a{TITLE}.csv"], "aU+001B]0;pwnedU+0007.csv"),
    (["eval", "sum(x)", "-v", "x=1", "--wrt", f"q{RLO}"], "qU+202E"),
    (["diff", "x^2", "-v", "x=1", "--wrt", f"q{TITLE}"], "qU+001B]0;pwned"),
    (["check", "sum(x^2)", "-v", "x=1", "--wrt", f"q{TITLE}"], "qU+001B]0;pwned"),
    (["eval", f"foo{TITLE}(1)"], "fooU+001B]0;pwnedU+0007(1)"),
    (["eval", "x", "-v", f"x=1{RLO}"], "U+202E"),
    (["eval", "--bogus\u2066"], "bogus\\u2066"),  # (click quotes with repr: escaped too)
])
def test_user_text_in_a_message_is_shown_as_code_points(args, shown):
    result = capped(*args)
    _no_raw(result.stdout + result.stderr)
    assert shown in result.stderr


def test_a_bidi_override_in_a_comment_is_shown_as_a_code_point():
    result = capped("eval", "--no-graph", input=f"(1 # a{RLO}b\n+ 1)\n")
    _no_raw(result.stdout)
    assert "aU+202Eb" in result.stdout


def test_repl_commands_and_names_are_shown_as_code_points():
    result = capped("repl", input=f":bogus{TITLE}\n:grad x{TITLE}\n:graph y{RLO}\n")
    _no_raw(result.stdout + result.stderr)
    assert ":bogusU+001B]0;pwnedU+0007" in result.stderr
    assert "U+202E" in result.stderr
