"""`gradcli 'EXPR'`: a first argument that is not a command and looks like a program runs
as `gradcli eval 'EXPR'` (SPEC §5), as a calculator user types it; a word stays a command."""

from __future__ import annotations

import pytest
from cli_support import json_lines

from gradcli.cli.group import looks_like_program


@pytest.mark.parametrize(
    ("args", "value"),
    [
        (["2+2"], 4.0),
        (["2 + 2"], 4.0),
        (["3"], 3.0),
        (["-2^2"], -4.0),
        (["7 % 3"], 1.0),
        (["π"], 3.141592653589793),
        (["sum(x^2)", "-v", "x=[1,2]"], 5.0),
        (["x'", "-v", "x=3"], 3.0),
        (["-x^2", "-v", "x=3"], -9.0),
        (["a = 2; a^10"], 1024.0),
    ],
)
def test_a_program_as_the_first_argument_runs_eval(cli, args, value):
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    assert json_lines(result.stdout)[-1]["value"] == pytest.approx(value)


def test_gradients_and_options_as_with_eval(cli):
    result = cli("sum(x^2)", "-v", "x=[1,2]", "--no-graph")
    assert result.exit_code == 0, result.output
    assert "x.grad (2,) = [2. 4.]" in result.stdout


def test_a_failing_program_fails_as_eval_does(cli):
    result = cli("1 +", "--no-graph")
    assert result.exit_code == 1
    assert "expected an expression" in result.stdout + result.stderr


@pytest.mark.parametrize("word", ["evl", "grad", "pi", "x", "foo-bar"])
def test_a_word_is_still_a_command(cli, word):
    result = cli(word)
    assert result.exit_code == 2
    if word == "grad":  # a built-in's name: said to be one
        assert '"grad" is a built-in function, not a command' in result.stderr
    else:
        assert "No such command" in result.stderr
    # a word near a command gets click's suggestion; one near none, the way to run it
    if word == "evl":
        assert "Did you mean 'eval'?" in result.stderr and "gradcli eval evl" not in result.stderr
    elif word != "grad":
        assert f"To run it as a program: gradcli eval {word} " in result.stderr


def test_an_unknown_option_is_still_an_option_error(cli):
    result = cli("-x")
    assert result.exit_code == 2 and "No such option" in result.stderr
    result = cli("--colour")
    assert result.exit_code == 2 and "No such option" in result.stderr


def test_a_file_is_not_a_program(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prog.grad").write_text("1+1\n")
    assert not looks_like_program("prog.grad")
    assert looks_like_program("other.grad")  # (no such file: read as a program)


@pytest.mark.parametrize("arg", ["2+2", "sum(x)", "x'", "π", "-x^2", "3", "-1", "x.T",
                                 "[1, 2]", "a = 1"])
def test_looks_like_program(arg):
    assert looks_like_program(arg)


@pytest.mark.parametrize("arg", ["eval", "evl", "grad", "-h", "--help", "--version", "-V",
                                 "--seed=3", "", " "])
def test_does_not_look_like_program(arg):
    assert not looks_like_program(arg)


def test_the_way_to_run_a_word_keeps_its_options_and_runs_when_followed(cli):
    # it said `gradcli eval x`, dropping -v x=2, so following it failed (unknown name)
    result = cli("x", "-v", "x=2")
    assert "To run it as a program: gradcli eval x -v x=2 " in result.stderr
    followed = cli("eval", "x", "-v", "x=2", "--no-graph")
    assert followed.exit_code == 0 and "= 2.0" in followed.stdout
