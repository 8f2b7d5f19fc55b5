"""Fuzzing the command line: exit codes 0/1/2, no traceback, strict JSON Lines with one
record per reported statement, for text, bytes, files and options."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from tests.fuzz.conftest import FUZZ
from tests.fuzz.fuzz_checks import (
    QUICK_MAX_ELEMENTS,
    check_cli,
    exit_code_for,
    run_api,
    run_cli_inprocess,
    run_cli_subprocess,
)
from tests.fuzz.strategies import near_misses, programs, raw_bytes

LIMIT = ["--max-elements", str(QUICK_MAX_ELEMENTS)]


@settings(FUZZ)
@given(programs(max_statements=4))
def test_json_stream_matches_the_api(program):
    outcomes = run_api(program)
    code, out, err = run_cli_inprocess(["eval", "--json", *LIMIT], program.encode())
    check_cli(code, out, err, json_mode=True, expected_records=len(outcomes))
    assert code == exit_code_for(outcomes)


@settings(FUZZ)
@given(near_misses())
def test_program_argument_human_output(program):
    if "\x00" in program:
        return
    code, out, err = run_cli_inprocess(["eval", program, *LIMIT, "--no-color"])
    check_cli(code, out, err, json_mode=False)


@settings(FUZZ)
@given(raw_bytes())
def test_raw_bytes_on_stdin(data):
    code, out, err = run_cli_inprocess(["eval", "--json", *LIMIT], data)
    check_cli(code, out, err, json_mode=True)


@settings(FUZZ)
@given(raw_bytes())
def test_raw_bytes_in_a_file(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("f") / "p.grad"
    path.write_bytes(data)
    code, out, err = run_cli_inprocess(["eval", "-f", str(path), "--json", *LIMIT])
    check_cli(code, out, err, json_mode=True)


@pytest.mark.parametrize("args", [
    ["eval", "1", "-v", "x"], ["eval", "1", "-v", "=1"], ["eval", "1", "-v", "sum=1"],
    ["eval", "1", "-v", "x=(1+"], ["eval", "1", "-v", "x=@/nonexistent.npy"],
    ["eval", "1", "-v", "x=@/etc/passwd"], ["eval", "1", "--grad-output", "[1,"],
    ["eval", "1", "--max-elements", "0"], ["eval", "1", "--dtype", "int8"],
    ["eval", "-f", "/nonexistent"], ["eval", "1", "--seed", "x"], ["eval", "--bogus"],
    ["eval", "1", "-v", "x=ones(1e9,1e9)"], ["eval", "1", "--precision", "99"],
])
def test_usage_errors_exit_2(args):
    code, out, err = run_cli_inprocess(args)
    check_cli(code, out, err, json_mode=False)
    assert code == 2, (args, code, out, err)


def test_empty_and_comment_only_input_exit_0():
    for data in [b"", b"\n\n", b"# nothing\n  # at all\n", b";;\n", b"\xef\xbb\xbf# bom\n"]:
        code, out, err = run_cli_inprocess(["eval", "--json"], data)
        assert (code, out) == (0, ""), (data, code, out, err)


@pytest.mark.parametrize("data", [
    b"1+1\n\xff\xfe2+2\n3+3\n", b"\xef\xbb\xbf2*3\r\n", b"1 +\x00 2\n4\n",
    b"\x1b[31m\n5\n", b"(1 + 2\n" * 200 + b"7\n", b"ones(1e9, 1e9)\n8\n",
])
def test_raw_bytes_through_a_real_process(data):
    code, out, err = run_cli_subprocess(["eval", "--json"], data)
    records = check_cli(code, out, err, json_mode=True)
    assert code == 1 or all("error" not in r for r in records)
    assert "value" in records[-1]  # the good last line is answered
    assert "\x1b" not in err and "\x00" not in err
