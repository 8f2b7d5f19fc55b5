"""`gradcli eval`: every option and exit code, through click's CliRunner."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_support import json_lines

WALK = "mean(3*(x+2)^2)"


def test_program_with_var(cli):
    result = cli("eval", WALK, "-v", "x=ones(2,2)")
    assert result.exit_code == 0, result.output
    assert "= 27.0" in result.stdout
    assert "x.grad (2, 2) =" in result.stdout
    assert "[[4.5 4.5]" in result.stdout
    assert "graph:" in result.stdout and "Mean" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("args", "value"),
    [
        (["-2^2"], -4.0),
        (["-x^2", "-v", "x=3"], -9.0),
        (["-v", "x=3", "-x^2", "--json"], -9.0),  # options before and after it
        (["-v", "x=-3", "-x"], 3.0),  # an option's value may start with "-" too
        (["--wrt", "x", "-x*y", "-v", "x=1", "-v", "y=2"], -2.0),
        (["-x", "-v", "x=1", "--"], -1.0),  # a "--" at the end changes nothing
        (["-v", "x=1", "--", "-floor(x)"], -1.0),  # starts like -f: "--" makes it PROGRAM
        (["--", "-x", "-v", "x=1"], None),  # after "--" everything is PROGRAM: an error
    ],
)
def test_a_program_may_start_with_a_minus(cli, args, value):
    result = cli("eval", "--no-graph", *args)
    if value is None:
        assert result.exit_code == 2 and "unexpected extra argument" in result.stderr
        return
    assert result.exit_code == 0, result.output
    out = result.stdout
    got = json_lines(out)[0]["value"] if "--json" in args else float(out.split("= ")[1].split()[0])
    assert got == value


def test_the_printed_derivative_runs_even_when_it_starts_with_a_minus(cli):
    line = cli("diff", "sum(1/x)", "-v", "x=[0.5, 0.25]").stdout.splitlines()[0]
    formula = line.removeprefix("d/dx = ")
    assert formula.startswith("-")
    result = cli("eval", formula, "-v", "x=[0.5, 0.25]", "--json")
    assert json_lines(result.stdout)[0]["value"] == [-4.0, -16.0]
    typo = cli("eval", "--jsn", "1")
    assert typo.exit_code == 2 and "No such option '--jsn'" in typo.stderr


def test_no_graph(cli):
    result = cli("eval", WALK, "-v", "x=ones(2,2)", "--no-graph")
    assert result.exit_code == 0
    assert "graph:" not in result.stdout and "Mean" not in result.stdout


def test_file(cli, tmp_path):
    program = tmp_path / "p.grad"
    program.write_text("x = [1, 2, 3]\ny = sum(x^2)\n")
    result = cli("eval", "-f", str(program), "--json")
    assert result.exit_code == 0
    [record] = json_lines(result.stdout)
    assert record["name"] == "y" and record["value"] == 14.0 and record["line"] == 2
    assert record["gradients"] == {"x": [2.0, 4.0, 6.0]}


def test_unreadable_file_is_a_usage_error(cli, tmp_path):
    result = cli("eval", "-f", str(tmp_path / "missing.grad"))
    assert result.exit_code == 2
    assert "cannot read" in result.stderr


def test_program_and_file_together_is_a_usage_error(cli, tmp_path):
    program = tmp_path / "p.grad"
    program.write_text("1\n")
    assert cli("eval", "1+1", "-f", str(program)).exit_code == 2


def test_stdin_program(cli):
    result = cli("eval", "--json", input="a = 2\na^3\nb = a * 4\n")
    assert result.exit_code == 0
    records = json_lines(result.stdout)
    assert [r["value"] for r in records] == [8.0, 8.0]
    assert records[0]["gradients"] == {"a": 12.0}
    assert records[1]["name"] == "b" and records[1]["line"] == 3


def test_dash_reads_stdin(cli):
    result = cli("eval", "-", "--json", input="2*3\n")
    assert json_lines(result.stdout)[0]["value"] == 6.0


def test_failure_exit_1_and_the_rest_still_run(cli):
    result = cli("eval", "--json", input="1+1\nnope + 1\n2+2\n")
    assert result.exit_code == 1
    records = json_lines(result.stdout)
    assert [r.get("value") for r in records] == [2.0, None, 4.0]
    error = records[1]["error"]
    assert error["type"] == "name" and error["line"] == 2 and error["column"] == 1
    assert records[1]["source"] == "nope + 1"
    assert "line 2, column 1" in result.stderr and "^" in result.stderr


def test_fail_fast(cli):
    result = cli("eval", "--json", "--fail-fast", input="1+1\nnope\n2+2\n")
    assert result.exit_code == 1
    records = json_lines(result.stdout)
    assert len(records) == 2 and "error" in records[1]


def test_human_failure_goes_to_stderr_only(cli):
    result = cli("eval", "2x")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "error: line 1, column" in result.stderr
    assert "2*x" in result.stderr


@pytest.mark.parametrize(
    "value, expected",
    [("[[1,2],[3,4]]", [[2.0, 4.0], [6.0, 8.0]]), ("2.5", 5.0), ("ones(3)", [2.0, 2.0, 2.0])],
)
def test_var_constant_expressions(cli, value, expected):
    result = cli("eval", "sum(x^2)", "-v", f"x={value}", "--json")
    assert result.exit_code == 0, result.stderr
    assert json_lines(result.stdout)[0]["gradients"]["x"] == expected


def test_var_from_npy_and_csv(cli, tmp_path):
    np.save(tmp_path / "w.npy", np.array([1.0, 2.0]))
    (tmp_path / "b.csv").write_text("1,2\n3,4\n")
    result = cli(
        "eval",
        "sum(w) + sum(b)",
        "-v",
        f"w=@{tmp_path / 'w.npy'}",
        "-v",
        f"b=@{tmp_path / 'b.csv'}",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    record = json_lines(result.stdout)[0]
    assert record["value"] == 13.0
    assert record["gradients"] == {"w": [1.0, 1.0], "b": [[1.0, 1.0], [1.0, 1.0]]}


@pytest.mark.parametrize("bad", ["x", "=3", "1x=2", "x="])
def test_malformed_var_is_a_usage_error(cli, bad):
    result = cli("eval", "1", "-v", bad)
    assert result.exit_code == 2
    assert "NAME=VALUE" in result.stderr


@pytest.mark.parametrize("bad", ["x=@missing.npy", "x=ones(", "x=nope(2)"])
def test_bad_var_value_is_a_usage_error(cli, bad):
    result = cli("eval", "1", "-v", bad)
    assert result.exit_code == 2
    assert result.stderr.startswith("error")
    assert "Traceback" not in result.output


def test_wrt(cli):
    result = cli("eval", "sum(a*b)", "-v", "a=[1,2]", "-v", "b=[3,4]", "--wrt", "b", "--json")
    assert json_lines(result.stdout)[0]["gradients"] == {"b": [1.0, 2.0]}


def test_nonscalar_without_grad_output_has_a_note(cli):
    result = cli("eval", "x*2", "-v", "x=[1,2]", "--json")
    record = json_lines(result.stdout)[0]
    assert record["gradients"] is None
    assert "--grad-output" in record["note"] and "(2,)" in record["note"]
    human = cli("eval", "x*2", "-v", "x=[1,2]")
    assert human.exit_code == 0
    assert "gradients: none" in human.stdout


def test_grad_output(cli):
    result = cli("eval", "x*2", "-v", "x=[1,2]", "--grad-output", "[1, 10]", "--json")
    assert json_lines(result.stdout)[0]["gradients"] == {"x": [2.0, 20.0]}


def test_graph_in_json_only_when_asked(cli):
    plain = json_lines(cli("eval", "x*2", "-v", "x=1", "--json").stdout)[0]
    assert "graph" not in plain
    record = json_lines(cli("eval", "x*2", "-v", "x=1", "--json", "--graph").stdout)[0]
    graph = record["graph"]
    output = next(n for n in graph["nodes"] if n["id"] == graph["output"])
    assert output["function"] == "Mul"
    x = next(n for n in graph["nodes"] if n["name"] == "x")
    assert x["function"] is None and x["inputs"] == [] and x["id"] in output["inputs"]
    assert set(output) == {"id", "name", "function", "inputs", "shape", "value"}


def test_seed_makes_random_draws_repeatable(cli):
    first = cli("eval", "randn(3)", "--seed", "7", "--json").stdout
    again = cli("eval", "randn(3)", "--seed", "7", "--json").stdout
    other = cli("eval", "randn(3)", "--seed", "8", "--json").stdout
    assert first == again != other


def test_precision(cli):
    assert "= 0.333333\n" in cli("eval", "1/3").stdout
    assert "= 0.33\n" in cli("eval", "1/3", "--precision", "2").stdout
    assert cli("eval", "1/3", "--precision", "-1").exit_code == 2


def test_dtype(cli):
    record = json_lines(cli("eval", "x*2", "-v", "x=1", "--dtype", "float32", "--json").stdout)[0]
    assert record["dtype"] == "float32"
    assert cli("eval", "1", "--dtype", "int8").exit_code == 2


def test_max_elements(cli):
    result = cli("eval", "ones(1000, 1000)", "--max-elements", "1000", "--json")
    assert result.exit_code == 1
    assert json_lines(result.stdout)[0]["error"]["type"] == "limit"
    assert cli("eval", "1", "--max-elements", "0").exit_code == 2


def test_strict_makes_nan_an_error(cli):
    loose = cli("eval", "log(0)", "--json")
    assert loose.exit_code == 0
    assert json_lines(loose.stdout)[0]["value"] == "-inf"
    assert "warning" in loose.stderr and "log" in loose.stderr
    strict = cli("eval", "log(0)", "--strict", "--json")
    assert strict.exit_code == 1


def test_no_color_and_piped_output_are_plain(cli):
    for args in (("eval", WALK, "-v", "x=ones(2,2)"), ("eval", "q", "--no-color")):
        result = cli(*args)
        assert "\x1b[" not in result.output


def test_user_text_is_not_markup(cli):
    result = cli("eval", "[bold] + [/bold]")
    assert result.exit_code == 1
    assert "[bold] + [/bold]" in result.stderr


def test_no_program_on_a_terminal_is_a_usage_error(cli, monkeypatch):
    import click

    from gradcli.cli import commands
    from gradcli.cli.options import ProgramOptions

    class Terminal:
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdin", Terminal())
    with pytest.raises(click.UsageError, match="no program"):
        commands.read_program(None, ProgramOptions())


def test_bare_gradcli_evaluates_piped_stdin(cli):
    result = cli(input="1+2\n")
    assert result.exit_code == 0
    assert "= 3.0" in result.stdout


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0 and "gradcli" in result.stdout
    from gradcli import __version__

    assert __version__ in result.stdout


def test_unknown_option_is_exit_2(cli):
    assert cli("eval", "1", "--bogus").exit_code == 2
    assert cli("nonsense").exit_code == 2


def test_internal_errors_are_one_line(cli, monkeypatch):
    from gradcli.lang import session

    def explode(self, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(session.Session, "stream", explode)
    result = cli("eval", "1")
    assert result.exit_code == 1
    assert "internal error: RuntimeError: boom" in result.stderr
    assert "Traceback" not in result.output


def test_a_var_holding_infinity_is_warned_of(cli):
    result = cli("eval", "x", "-v", "x=1e400", "--no-graph")
    assert result.exit_code == 0 and "= inf" in result.stdout
    assert "warning: the value of x holds NaN or infinity at 1 element" in result.stderr
    assert cli("eval", "x", "-v", "x=1e400", "--strict").exit_code == 2


def test_a_negative_seed_is_a_usage_error(cli):
    result = cli("eval", "rand(2)", "--seed", "-1")
    assert result.exit_code == 2 and "--seed" in result.stderr


def test_a_result_of_constants_shows_no_graph(cli):
    result = cli("eval", "2+2")
    assert result.exit_code == 0
    assert result.stdout == "line 1: 2+2\n= 4.0\n"  # no "graph:" over a lone constant
    assert "graph:" in cli("eval", "x = 2\nx * 3").stdout  # x is an input


def test_why_a_vector_has_no_gradients_is_said_once_a_run(cli):
    result = cli("eval", "x^2\nx^3\nsum(x)\nx * 2", "-v", "x=[1,2]")
    assert result.exit_code == 0
    assert result.stdout.count("gradients: none") == 1
    assert result.stdout.index("gradients: none") < result.stdout.index("line 2:")
    records = [json.loads(line) for line in cli("eval", "x^2\nx^3", "-v", "x=[1,2]",
                                               "--json").stdout.splitlines()]
    assert all("note" in record for record in records)  # a program reads every record


def test_precision_reaches_the_graph_and_zero_means_no_decimals(cli):
    zero = cli("eval", "3 * x", "-v", "x=1", "--precision", "0").stdout
    assert "= 3\n" in zero and "x.grad () = 3\n" in zero and "Mul  ()  3\n" in zero
    assert "3.0" not in zero
    two = cli("eval", "x / 3", "-v", "x=1", "--precision", "2").stdout
    assert "Div  ()  0.33\n" in two and "0.3333" not in two
    arrays = cli("eval", "x * 3", "-v", "x=[1,2]", "--precision", "0", "--no-graph").stdout
    assert "(2,) = [3 6]" in arrays
