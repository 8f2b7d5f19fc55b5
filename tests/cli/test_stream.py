"""Statements on stdin are answered as they arrive; pipes and Ctrl-C end quietly."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import pytest
from cli_support import (
    gradcli_command,
    interruptible,
    run_gradcli,
    strict_json,
    subprocess_env,
)


def _read_line(stream, timeout: float = 30) -> str:
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, "no answer arrived: the statement was not processed as it came"
    return stream.readline()


def test_each_line_is_answered_before_the_next_is_written():
    process = subprocess.Popen(
        [*gradcli_command(), "eval", "--json", "-v", "x=[1, 2]"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
        env=subprocess_env(),
    )
    try:
        answers = []
        for line in ["sum(x^2)", "nope + 1", "y = x * 3", "sum(y)"]:
            process.stdin.write(line + "\n")
            process.stdin.flush()
            if line.startswith("y ="):
                continue  # an assignment in the middle of a stream reports nothing
            answers.append(strict_json(_read_line(process.stdout)))
        process.stdin.close()
        assert process.wait(timeout=30) == 1
    finally:
        process.kill()
    assert answers[0]["value"] == 5.0 and answers[0]["gradients"] == {"x": [2.0, 4.0]}
    assert answers[1]["error"]["type"] == "name" and answers[1]["line"] == 2
    assert answers[2]["value"] == 9.0 and answers[2]["gradients"] == {"x": [3.0, 3.0]}


def test_an_unclosed_bracket_does_not_swallow_the_stream():
    result = run_gradcli("eval", "--json", input="a = (1 +\nb = 2\nb*3\n")
    records = [strict_json(line) for line in result.stdout.splitlines()]
    assert "error" in records[0]
    assert records[-1]["value"] == 6.0


def test_head_1_ends_quietly():
    program = "\n".join(f"{i} + 1" for i in range(3000)) + "\n"
    env = subprocess_env()
    command = " ".join(gradcli_command()) + " eval --json | head -1"
    result = subprocess.run(
        ["bash", "-c", command],
        input=program,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0
    assert strict_json(result.stdout)["value"] == 1.0
    assert result.stderr == "", result.stderr


def test_human_output_into_a_closed_pipe_ends_quietly():
    env = subprocess_env()
    command = " ".join(gradcli_command()) + " eval -v x='ones(2,2)' | head -1"
    program = "mean(3*(x+2)^2)\n" * 500
    result = subprocess.run(
        ["bash", "-c", command],
        input=program,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.stdout.startswith("line 1:")
    assert "Traceback" not in result.stderr and "Exception" not in result.stderr


@pytest.mark.parametrize("options", [[], ["--trace"], ["--jacobian"]])
def test_a_closed_pipe_gives_one_exit_status_whoever_writes_the_text(options):
    # plain text and rich (which draws the trace and tables) end the same way: 141, quietly
    env = subprocess_env()
    command = (" ".join([*gradcli_command(), "eval", "-v", "x='ones(2,2)'", *options])
               + " | head -1; echo status=${PIPESTATUS[0]}")
    result = subprocess.run(["bash", "-c", command], input="mean(3*(x+2)^2)\n" * 500,
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.stdout.startswith("line 1:")
    assert result.stdout.splitlines()[-1] == "status=141"
    assert result.stderr == ""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_in_a_stream_exits_130_with_one_line():
    process = subprocess.Popen(
        [*gradcli_command(), "eval", "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
        preexec_fn=interruptible,
    )
    process.stdin.write("1+1\n")
    process.stdin.flush()
    assert strict_json(_read_line(process.stdout))["value"] == 2.0
    os.kill(process.pid, signal.SIGINT)
    try:
        code = process.wait(timeout=30)
    finally:
        process.kill()
    stderr = process.stderr.read()
    assert code == 130
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_runs_from_another_directory(tmp_path):
    start = time.perf_counter()
    result = run_gradcli("eval", "2^10", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert strict_json(result.stdout)["value"] == 1024.0
    assert time.perf_counter() - start < 30


def test_json_lines_are_held_while_input_waits_and_keep_their_order_with_stderr():
    # input at hand (a whole program on a pipe): the lines go out together, not one write
    # each; with 2>&1, a warning still comes after the results before it
    command = " ".join(gradcli_command()) + " eval --json 2>&1"
    result = subprocess.run(["bash", "-c", command], input="1\n2\nlog(0)\n3\nnope\n4\n",
                            capture_output=True, text=True, env=subprocess_env(), timeout=120)
    lines = result.stdout.splitlines()
    json_at = [k for k, line in enumerate(lines) if line.startswith("{")]
    assert [strict_json(lines[k]).get("value") for k in json_at] == [1.0, 2.0, "-inf", 3.0,
                                                                     None, 4.0]
    assert lines[2] == "warning: line 3: log: divide by zero at 1 element"  # 3's warning
    assert json_at[:5] == [0, 1, 3, 4, 5]
    assert lines[6] == 'error: line 5, column 1: unknown name "nope"'  # after its record
    assert json_at[5] > 6 and len(lines) == json_at[5] + 1


def test_stdin_lines_says_before_waiting_only_when_nothing_is_at_hand(monkeypatch):
    from gradcli.cli.commands import stdin_lines

    read_end, write_end = os.pipe()
    monkeypatch.setattr(sys, "stdin", os.fdopen(read_end, "r"))
    calls = []
    lines = stdin_lines(lambda: calls.append("waits"))
    os.write(write_end, b"1 + 1\n")
    assert next(lines) == "1 + 1\n" and calls == []  # at hand: no call
    os.write(write_end, b"2\n")
    assert next(lines) == "2\n"
    count = len(calls)  # (0 or 1: "2" may have been read into Python's buffer already)
    import threading

    later = threading.Timer(0.2, os.write, (write_end, b"3\n"))
    later.start()
    assert next(lines) == "3\n" and len(calls) == count + 1  # the pipe was empty: a call
    later.join()
    os.close(write_end)
    assert next(lines, None) is None
    sys.stdin.close()


def test_the_printer_holds_json_lines_only_when_asked(capsys):
    from gradcli.cli.commands import Printer
    from gradcli.lang.session import Session

    (result,) = Session().run("1 + 1")
    for holding, seen in ((False, 2), (True, 0)):
        printer = Printer(as_json=True, precision=4, show_graph=False, no_color=True)
        printer.holding = holding
        printer.result(result)
        printer.result(result)
        assert capsys.readouterr().out.count("\n") == seen
        printer.flush()
        assert capsys.readouterr().out.count("\n") == 2 - seen


def test_write_all_writes_every_byte_through_a_raw_layer_that_takes_part():
    import io

    from gradcli.cli.commands import write_all

    class Partial(io.RawIOBase):  # as a pipe does when a signal cuts a write short
        def __init__(self):
            self.data = bytearray()

        def writable(self):
            return True

        def write(self, b):
            taken = max(1, len(b) // 3)
            self.data += bytes(b[:taken])
            return taken

    raw = Partial()
    stream = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    write_all(stream, "x" * 100_000 + "!\n")  # (JSON lines: ASCII)
    assert raw.data.decode() == "x" * 100_000 + "!\n"


def test_sigterm_during_a_flush_while_waiting_ends_the_stream_after_the_write(monkeypatch):
    # the held lines are written when input would wait, which is when SIGTERM ends the
    # stream at once: arriving during that write, it must wait for the write to end
    from gradcli.cli import commands

    termination = commands.Termination()
    printer = commands.Printer(as_json=True, precision=4, show_graph=False, no_color=True)
    printer.holding = True
    printer.hold('{"a": 1}\n')
    printer.hold('{"a": 2}\n')
    written = []

    def write_all(stream, text):
        termination._handle(signal.SIGTERM, None)  # (it arrives in the middle)
        written.append(text)
        return ""

    monkeypatch.setattr(commands, "write_all", write_all)
    termination.waiting = True  # as while the next line is read
    with pytest.raises(commands.Terminated):
        termination.deferred(printer.flush)()
    assert written == ['{"a": 1}\n{"a": 2}\n'] and printer.held == []


def test_what_an_interrupted_write_did_not_get_out_stays_held():
    import io

    from gradcli.cli.commands import Printer, Unwritten, write_all

    class Stops(io.RawIOBase):  # takes 5 bytes, then Ctrl-C arrives
        def __init__(self):
            self.data = bytearray()

        def writable(self):
            return True

        def write(self, b):
            if self.data:
                raise KeyboardInterrupt
            self.data += bytes(b[:5])
            return 5

    raw = Stops()
    stream = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    with pytest.raises(Unwritten) as info:
        write_all(stream, '{"line": 1}\n')
    assert raw.data == b'{"lin' and info.value.rest == 'e": 1}\n'
    assert isinstance(info.value.__cause__, KeyboardInterrupt)
    printer = Printer(as_json=True, precision=4, show_graph=False, no_color=True)
    printer.holding = True
    printer.hold('{"line": 1}\n')
    import sys

    saved = sys.stdout
    sys.stdout = io.TextIOWrapper(Stops(), encoding="utf-8", write_through=True)
    try:
        with pytest.raises(KeyboardInterrupt):
            printer.flush()
    finally:
        sys.stdout = saved
    assert printer.held == ['e": 1}\n']  # for the command's last flush
