"""`gradcli check`: each input's gradient against central finite differences."""

from __future__ import annotations

import json

import pytest

from gradcli.autograd.ops import elementwise


def test_agreeing_gradients_pass(cli):
    result = cli("check", "sum(tanh(W @ x))", "-v", "W=randn(3,3)", "-v", "x=ones(3)",
                 "--seed", "1")
    assert result.exit_code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "central differences" in lines[0] and "scalar output" in lines[0]
    assert lines[1].split()[:5] == ["input", "shape", "max", "abs", "error"]
    assert lines[2].split()[:3] == ["W", "(3,", "3)"] and lines[2].endswith("ok")
    assert lines[3].split()[:2] == ["x", "(3,)"] and lines[3].endswith("ok")
    assert "all gradients agree" in lines[-1]


def test_a_kink_fails_with_exit_1(cli):
    # relu at 0: the engine says 0, the central difference sees 0.5
    result = cli("check", "sum(relu(x))", "-v", "x=[0, 1, -1]")
    assert result.exit_code == 1
    row = next(line for line in result.stdout.splitlines() if line.startswith("x "))
    assert "FAIL (1 of 3 beyond tolerance)" in row
    assert "[0]" in row and "0.5" in row
    assert "gradient check failed" in result.stdout


def test_a_wrong_backward_rule_is_caught(cli, monkeypatch):
    # a deliberately broken rule: d/dx sin = 2 cos x
    monkeypatch.setattr(elementwise.Sin, "backward",
                        lambda self, g: g * elementwise.cos(self.operands()[0]) * 2.0)
    result = cli("check", "sum(sin(x))", "-v", "x=[0.1, 0.5]")
    assert result.exit_code == 1
    assert "FAIL (2 of 2 beyond tolerance)" in result.stdout


def test_tolerances_decide(cli):
    # with a coarse step the error of x^3 is eps^2 = 1e-4: beyond the default tolerance,
    # within a looser one
    args = ["check", "sum(x^3)", "-v", "x=[1, 2]", "--eps", "1e-2"]
    assert cli(*args).exit_code == 1
    assert cli(*args, "--rtol", "1e-3").exit_code == 0
    assert cli(*args, "--atol", "1e-3").exit_code == 0


def test_non_scalar_output_says_how_it_was_projected(cli):
    result = cli("check", "softmax(z)", "-v", "z=[1,2,3]")
    assert result.exit_code == 0
    assert "random projection" in result.stdout and "(3,)" in result.stdout
    result = cli("check", "softmax(z)", "-v", "z=[1,2,3]", "--grad-output", "[1,0,0]")
    assert result.exit_code == 0
    assert "--grad-output" in result.stdout.splitlines()[0]


def test_grad_output_of_the_wrong_shape(cli):
    result = cli("check", "softmax(z)", "-v", "z=[1,2,3]", "--grad-output", "[1,0]")
    assert result.exit_code == 2
    assert "shape" in result.stderr


def test_inputs_made_by_the_program_and_random_values(cli):
    # W is drawn by randn inside the program: every run draws the same W (a fixed seed)
    program = "W = randn(2, 3)\nv = [0.5, -1, 2]\nsum(sigmoid(W @ v))"
    result = cli("check", program)
    assert result.exit_code == 0, result.stdout + result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines()[2:4]]
    assert names == ["W", "v"]


def test_wrt_limits_the_inputs(cli):
    result = cli("check", "sum(a * b)", "-v", "a=[1,2]", "-v", "b=[3,4]", "--wrt", "b")
    assert result.exit_code == 0
    rows = [line.split()[0] for line in result.stdout.splitlines()[2:-1]]
    assert rows == ["b"]


@pytest.mark.parametrize(("typed", "meant"), [("x", "X"), ("wieght", "weight")])
def test_an_unknown_wrt_suggests_the_name_meant(cli, typed, meant):
    """The one did-you-mean (lang.errors.suggestions): a name in another case, or one
    letter off, is suggested as the evaluator suggests it."""
    result = cli("check", f"sum({meant}^2)", "-v", f"{meant}=[1,2]", "--wrt", typed)
    assert result.exit_code == 2
    assert result.stderr.strip() == (f'gradcli: --wrt {typed}: there is no name "{typed}" in '
                                     f'the program (did you mean "{meant}"?)')


def test_the_rosenbrock_sample(cli):
    result = cli("check", "-f", "samples/rosenbrock.grad")
    assert result.exit_code == 0


@pytest.mark.parametrize("program", ["sum(x * q)", "1/"])
def test_a_failing_program(cli, program):
    result = cli("check", program, "-v", "x=[1,2]")
    assert result.exit_code == 1
    assert "error" in result.stderr


def test_a_large_input_is_checked_at_a_seeded_random_sample(cli):
    args = ("check", "sum(x^2)", "-v", "x=ones(100, 100)", "--sample", "40")
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    assert ("checked at a random sample of 40 of the 10,000 input elements (seed 0; "
            "--sample N checks N, up to 5,000)") in result.stdout
    assert cli(*args).stdout == result.stdout  # seeded: the same elements every run
    record = json.loads(cli(*args, "--json").stdout)
    assert record["sample"] == {"checked": 40, "of": 10_000, "seed": 0}
    assert record["inputs"][0]["checked"] == 40 and record["inputs"][0]["shape"] == [100, 100]
    # the default sample is a few hundred; a broken rule is still found in it, and the
    # worst position is the input's, not the sample's
    broken = cli("check", "sum(relu(x))", "-v", "x=zeros(100, 100)", "--json")
    record = json.loads(broken.stdout)
    assert broken.exit_code == 1 and record["inputs"][0]["checked"] == 500
    assert record["inputs"][0]["beyond_tolerance"] == 500
    assert len(record["inputs"][0]["worst_at"]) == 2
    # across several inputs the sample is shared out; small inputs are checked whole
    both = json.loads(cli("check", "sum(a) + sum(b^2)", "-v", "a=ones(30)", "-v", "b=ones(30)",
                          "--sample", "20", "--json").stdout)
    assert sum(i["checked"] for i in both["inputs"]) == 20
    # an input the sample missed says so, and is not called ok
    tiny = json.loads(cli("check", "sum(a) + s^2", "-v", "a=ones(5000)", "-v", "s=1",
                          "--sample", "3", "--json").stdout)
    s = tiny["inputs"][1]
    assert s == {"name": "s", "shape": [], "note": "none of its elements is in the sample: "
                 "not checked"}
    assert "sample" not in json.loads(cli("check", "sum(x)", "-v", "x=ones(3)",
                                          "--json").stdout)


def test_the_sample_has_a_stated_limit(cli):
    result = cli("check", "sum(x)", "-v", "x=ones(3)", "--sample", "6000")
    assert result.exit_code == 2 and "1 to 5,000" in result.stderr
    from gradcli.cli.calculus import DEFAULT_CHECK_SAMPLE, MAX_CHECK_ELEMENTS

    text = " ".join(cli("check", "--help").stdout.split())
    assert f"at most {MAX_CHECK_ELEMENTS:,}" in text  # the help says the limit the code has
    assert f"[default: {DEFAULT_CHECK_SAMPLE}]" in text


def test_a_relative_error_is_not_made_up_where_the_gradient_is_zero(cli):
    # the gradient of x^3 at 0 is 0: the absolute error is all there is to say
    result = cli("check", "x^3", "-v", "x=0")
    assert result.exit_code == 0
    row = next(line for line in result.stdout.splitlines() if line.startswith("x "))
    assert row.split()[3] == "-"
    assert "max rel error -: every gradient is within atol=1e-06 of 0" in result.stdout
    record = json.loads(cli("check", "x^3", "-v", "x=0", "--json").stdout)
    assert record["inputs"][0]["max_rel_error"] is None


@pytest.mark.parametrize("columns", [30, 40, 60, 120])
def test_the_table_fits_the_terminal_and_keeps_its_verdict(cli, columns):
    env = {"TTY_COMPATIBLE": "1", "NO_COLOR": "1", "COLUMNS": str(columns)}
    runner_result = cli("check", "sum(relu(x))", "-v", "x=[0, 1, -1]", env=env)
    lines = runner_result.stdout.splitlines()
    assert all(len(line) <= columns and line == line.rstrip() for line in lines), lines
    text = runner_result.stdout.replace("\n", " ")
    assert "FAIL (1 of 3" in text and "beyond" in text
    row = next(line for line in lines if line.startswith("x "))
    assert row.split()[1:2] != [""]
    ok = cli("check", "sum(x^3)", "-v", "x=[1, 2]", env=env).stdout.splitlines()
    assert any(line.startswith("x ") and line.endswith("  ok") for line in ok)
    assert all(len(line) <= columns for line in ok)


def test_random_inputs_stay_the_same_in_every_run(cli):
    # x is drawn after W from one generator; nudging W must not redraw x, and the
    # program's own randn must draw what it drew the first time
    result = cli("check", "sum(tanh(W @ x) * randn(8))", "-v", "W=randn(8,8)",
                 "-v", "x=randn(8)")
    assert result.exit_code == 0, result.stdout


def test_json_is_one_object_with_a_verdict_per_input(cli):
    result = cli("check", "y = 2*x; sum(y^3)", "-v", "x=[1, 2]", "--wrt", "x", "--wrt", "y",
                 "--json")
    assert result.exit_code == 0, result.stderr
    (line,) = result.stdout.splitlines()
    record = json.loads(line)
    assert record["ok"] is True and record["output"] == "scalar output"
    x, y = record["inputs"]
    assert x["name"] == "x" and x["shape"] == [2] and x["ok"] and x["beyond_tolerance"] == 0
    assert x["analytic"] == pytest.approx(96.0) and x["max_abs_error"] < 1e-6
    assert y == {"name": "y", "shape": [2],
                 "note": "computed by the program, not an input: not checked"}
    nothing = cli("check", "y = 2*x; sum(y)", "-v", "x=[1, 2]", "--wrt", "y", "--json")
    assert nothing.exit_code == 1 and json.loads(nothing.stdout) == {"ok": False, "error": {
        "type": "error", "message": "nothing was checked: y is computed by the program "
        "(inputs are given with -v or made from constants)"}}
    for args, status, kind in [(["1 2"], 1, "syntax"), (["sum(x)"], 1, "name"),
                               (["sum(x)", "-v", "x=1", "--wrt", "q"], 2, "usage")]:
        failed = cli("check", *args, "--json")
        assert failed.exit_code == status and json.loads(failed.stdout)["error"]["type"] == kind
    bad = cli("check", "sum(x^3)", "-v", "x=[1, 2]", "--eps", "0.5", "--json")
    record = json.loads(bad.stdout)
    assert bad.exit_code == 1 and record["ok"] is False
    assert record["inputs"][0]["beyond_tolerance"] == 2


def test_an_infinite_gradient_fails_with_no_raw_numpy_warning(cli):
    result = cli("check", "sum(log(x))", "-v", "x=[0, 2]", "--json")
    record = json.loads(result.stdout)
    assert result.exit_code == 1 and record["ok"] is False
    assert record["inputs"][0]["max_abs_error"] == "inf"
    assert record["inputs"][0]["max_rel_error"] == "inf"
    assert "RuntimeWarning" not in result.stderr


def test_a_program_that_fails_is_shown_as_eval_shows_it(cli):
    result = cli("check", "x^2 +", "-v", "x=1")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("error: line 1, column 5:") and "  x^2 +\n" in result.stderr
