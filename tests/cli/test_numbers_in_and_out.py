"""Numbers on the way in and out (issue 11): a literal that overflows is warned of (an
error with --strict), a --grad-output of another shape is a usage error, and a negative
zero is printed as 0 wherever values become text."""

from __future__ import annotations

import pytest
from cli_support import json_lines

from gradcli.lang.session import Session

OVERFLOWING = [
    ("1e400", "float64"),
    ("2 * 1e400 - 1", "float64"),  # inside an expression
    ("0x" + "f" * 300, "float64"),  # an integer literal too
    ("1e39", "float32"),  # finite in float64, not in float32
]




def test_the_overflowing_literal_is_underlined(cli):
    result = cli("eval", "2 * 1e400", "--strict")
    assert result.exit_code == 1
    assert "line 1, column 5: number: too large for float64, it is inf" in result.stderr
    assert "      ^^^^^" in result.stderr


def test_the_largest_finite_literal_is_no_overflow(cli):
    result = cli("eval", "1.7976931348623157e308", "--strict", "--no-graph")
    assert result.exit_code == 0 and result.stderr == ""


def test_a_stream_of_one_line_statements_warns_each_time():
    # one-line statements run from a cached tree after the first: the same check
    session = Session()
    results = session.run("1e400\n1e400\n1e400")
    assert [r.warnings for r in results] == [["number: too large for float64, it is inf"]] * 3


UNDERFLOWING = [
    ("1e-999", "float64"),
    ("2 * 1e-400 + 1", "float64"),  # inside an expression
    ("2e-324", "float64"),  # below half the smallest subnormal: rounds to 0
    ("0.000_1e-330", "float64"),
    ("1e-50", "float32"),  # not 0 in float64, 0 in float32
]


# a literal the dtype cannot hold: overflowing is inf, a nonzero one underflowing is 0
LOST = ([(p, d, f"number: too large for {d}, it is inf") for p, d in OVERFLOWING]
        + [(p, d, f"number: too small for {d}, it is 0") for p, d in UNDERFLOWING])


@pytest.mark.parametrize(("program", "dtype", "message"), LOST)
def test_a_literal_the_dtype_cannot_hold_is_warned_of(cli, program, dtype, message):
    result = cli("eval", program, "--dtype", dtype, "--no-graph")
    assert result.exit_code == 0, result.output
    assert message in result.stderr


@pytest.mark.parametrize(("program", "dtype", "message"), LOST)
def test_a_literal_the_dtype_cannot_hold_is_an_error_with_strict(cli, program, dtype, message):
    result = cli("eval", program, "--dtype", dtype, "--strict", "--json")
    assert result.exit_code == 1
    [record] = json_lines(result.stdout)
    assert record["error"]["type"] == "domain"
    assert record["error"]["message"] == message


@pytest.mark.parametrize(("program", "dtype"), [
    ("0", "float64"), ("0.0", "float64"), ("0e-999", "float64"), ("0x0", "float64"),
    ("00.000_0", "float64"), ("false", "float64"),
    ("1e-310", "float64"), ("5e-324", "float64"),  # subnormal: kept, not 0, no warning
    ("1e-44", "float32"),
])
def test_zero_and_subnormal_literals_are_not_warned_of(cli, program, dtype):
    result = cli("eval", program, "--dtype", dtype, "--no-graph", "--strict")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_an_underflow_is_found_in_a_line_that_reuses_an_earlier_lines_tree(cli):
    # the reader runs a line that differs only in its numbers on the first line's tree
    result = cli("eval", "--json", input="1 + 2\n1 + 1e-999\n")
    first, second = json_lines(result.stdout)
    assert "warnings" not in first
    assert second["warnings"] == ["number: too small for float64, it is 0"]


@pytest.mark.parametrize(("value", "dtype", "said"), [
    ("1e-999", "float64", "number: too small for float64, it is 0"),
    ("[1, 2e-400]", "float64", "number: too small for float64, it is 0"),
    ("@tiny.csv", "float64", "2 numbers too small for float64, read as 0 (first at line 1, "
                             "column 2)"),
    ("@tiny.npy", "float32", "1 number too small for float32, made 0"),
])
def test_values_given_by_option_that_underflow_are_warned_of_or_refused(cli, value, dtype,
                                                                       said, tmp_path,
                                                                       monkeypatch):
    import numpy as np

    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.csv").write_text("1, 1e-999\n-0.0, -3e-400\n0, 2\n")
    np.save(tmp_path / "tiny.npy", np.array([1.0, 1e-50, 0.0]))
    result = cli("eval", "sum(x)", "-v", f"x={value}", "--dtype", dtype, "--no-graph")
    assert result.exit_code == 0, result.output
    assert f"warning: the value of x: {said}" in result.stderr
    result = cli("eval", "sum(x)", "-v", f"x={value}", "--dtype", dtype, "--strict")
    assert result.exit_code == 2
    assert f"error: the value of x: {said} (--strict)" in result.stderr


@pytest.mark.parametrize("option", [["-v", "x=1e400"], ["--grad-output", "[1e400, 1]"]])
def test_values_given_by_option_that_overflow_are_warned_of_or_refused(cli, option):
    program = "x * 2" if option[0] == "-v" else "y * 2"
    base = [] if option[0] == "-v" else ["-v", "y=[1, 2]"]
    result = cli("eval", program, *base, *option, "--no-graph")
    assert result.exit_code == 0 and "NaN or infinity" in result.stderr
    result = cli("eval", program, *base, *option, "--no-graph", "--strict")
    assert result.exit_code == 2 and "(--strict)" in result.stderr


@pytest.mark.parametrize(("program", "given", "shape"), [
    ("x * 2", "[1, 2, 3]", "(2,)"),
    ("outer(x, x)", "[1, 2]", "(2, 2)"),
])
def test_a_grad_output_of_another_shape_is_a_usage_error(cli, program, given, shape):
    for fmt in ([], ["--json"]):
        result = cli("eval", program, "-v", "x=[1, 2]", "--grad-output", given, *fmt)
        assert result.exit_code == 2, result.output
        given_shape = "(3,)" if given == "[1, 2, 3]" else "(2,)"
        assert (f"--grad-output has shape {given_shape}, but the result has shape {shape}: "
                f"give one of exactly shape {shape}") in result.stderr


def test_with_json_a_grad_output_of_another_shape_is_a_record_on_stdout(cli):
    # SPEC §7: with --json the error record also goes to stdout, at its statement
    result = cli("eval", "-v", "x=[1, 2]", "--grad-output", "[1, 2, 3]", "--json",
                 input="sum(x)\nx * 2\n")
    assert result.exit_code == 2
    first, failure = json_lines(result.stdout)
    assert first["value"] == 3.0
    assert failure["line"] == 2 and failure["source"] == "x * 2"
    assert failure["error"]["type"] == "usage"
    assert failure["error"]["message"].startswith("--grad-output has shape (3,), but the "
                                                  "result has shape (2,)")
    assert "--grad-output has shape (3,)" in result.stderr


@pytest.mark.parametrize(("command", "args"), [
    ("eval", ["x", "-v", "x=@missing.csv"]),
    ("eval", ["x", "-v", "x=1+"]),
    ("eval", ["-f", "missing.grad"]),
    ("check", ["-f", "missing.grad"]),
    ("diff", ["-f", "missing.grad"]),
])
def test_with_json_every_usage_error_is_a_record_on_stdout(cli, command, args, tmp_path,
                                                           monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli(command, *args, "--json")
    assert result.exit_code == 2, result.output
    [record] = json_lines(result.stdout)
    assert record["error"]["type"] == "usage"
    assert "missing" in record["error"]["message"] or "x" in record["error"]["message"]
    assert record["error"]["message"] in result.stderr
    if command == "eval":
        assert record["line"] is None and record["source"] is None


def test_a_grad_output_of_the_right_shape_still_seeds_the_gradients(cli):
    result = cli("eval", "x * 2", "-v", "x=[1, 2]", "--grad-output", "[1, 10]", "--json")
    assert result.exit_code == 0
    assert json_lines(result.stdout)[0]["gradients"] == {"x": [2.0, 20.0]}


NEGATIVE_ZEROS = [
    ("-a", ["-v", "a=0"]),
    ("a * -0", ["-v", "a=2"]),
    ("x * 0 * -1", ["-v", "x=[1, 2]", "--grad-output", "[1, 1]"]),
    ("sum(x * -0)", ["-v", "x=[[1, 2], [3, 4]]"]),
]


@pytest.mark.parametrize(("program", "args"), NEGATIVE_ZEROS)
def test_no_negative_zero_in_human_output(cli, program, args):
    result = cli("eval", program, *args)
    assert result.exit_code == 0, result.output
    assert "-0." not in result.stdout and "-0 " not in result.stdout, result.stdout


@pytest.mark.parametrize(("program", "args"), NEGATIVE_ZEROS)
def test_no_negative_zero_in_json(cli, program, args):
    result = cli("eval", program, *args, "--json", "--graph")
    assert result.exit_code == 0, result.output
    assert "-0.0" not in result.stdout, result.stdout


@pytest.mark.parametrize("fmt", ["tree", "dot", "mermaid", "json"])
def test_no_negative_zero_in_graphs(cli, fmt):
    result = cli("graph", "a * -0 + b * -0", "-v", "a=0", "-v", "b=[0, 1]", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "-0." not in result.stdout and "-0<" not in result.stdout, result.stdout


def test_no_negative_zero_in_a_trace(cli):
    result = cli("eval", "a * -0", "-v", "a=2", "--trace")
    assert result.exit_code == 0, result.output
    assert "-0." not in result.stdout, result.stdout


@pytest.mark.parametrize(("option", "value"), [
    ("--eps", "0"), ("--eps", "1e400"), ("--eps", "nan"), ("--eps", "-1e-6"),
    ("--rtol", "nan"), ("--rtol", "inf"), ("--atol", "-1"), ("--atol", "x"),
])
def test_check_refuses_a_tolerance_or_step_that_is_no_finite_number(cli, option, value):
    # --eps 0 was an internal ZeroDivisionError; inf, nan and negatives were nonsense
    result = cli("check", "sum(x^2)", "-v", "x=[1, 2]", option, value)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.stderr
    assert "internal error" not in result.stderr


def test_check_takes_a_finite_step(cli):
    result = cli("check", "sum(x^2)", "-v", "x=[1, 2]", "--eps", "1e-5", "--atol", "0")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("program", "shown"), [("-0.0004", "= -4.0e-04"), ("0.0004", "= 4.0e-04"),
                                                ("-0.004", "= -4.0e-03")])
def test_a_small_number_never_rounds_to_a_signed_zero(cli, program, shown):
    result = cli("eval", program, "--precision", "2", "--no-graph")
    assert result.exit_code == 0 and shown in result.stdout.splitlines(), result.stdout


@pytest.mark.parametrize("fmt", [[], ["--json"]])
def test_an_assignment_that_reports_nothing_is_still_warned_of(cli, fmt):
    result = cli("eval", "--no-graph", *fmt, input="x = log(0)\nnope\ny = 1e-999\ny + 1\n")
    assert result.exit_code == 1
    assert "warning: line 1: log: divide by zero at 1 element" in result.stderr
    assert "warning: line 3: number: too small for float64, it is 0" in result.stderr
    assert result.stderr.index("line 1: log") < result.stderr.index('unknown name "nope"')


@pytest.mark.parametrize("command", [["graph"], ["check"], ["eval", "--no-graph"]])
def test_every_command_that_runs_a_program_says_its_nan_and_infinity(cli, command):
    # SPEC §7: NaN or infinity from a valid operation is a value, with a one-line warning
    result = cli(*command, "y = log(x)\ny + 1", "-v", "x=0")
    assert "warning: line 1: log: divide by zero at 1 element" in result.stderr


@pytest.mark.parametrize(("given", "said"), [
    ("[1, 2", 'the value of --grad-output: "[" is never closed'),
    ("y", 'the value of --grad-output: unknown name "y"'),
    ("[nan, 1]", "the value of --grad-output holds NaN or infinity at 1 element"),
])
def test_a_bad_grad_output_is_named_as_the_option(cli, given, said):
    result = cli("eval", "x * 2", "-v", "x=[1, 2]", "--grad-output", given, "--no-graph")
    assert said in result.stderr
    assert "grad_output" not in result.stderr
