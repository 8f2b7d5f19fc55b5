"""`gradcli diff`: every printed formula is a gradcli program that evaluates to the gradient.

For each function the formula is printed once by the command (at one point), then
evaluated with `gradcli.evaluate` at random points and compared with central finite
differences of the original program and with the engine's own gradient.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from gradcli import evaluate
from gradcli.lang.results import Failure

# program, {input: (shape, sampler)}; samplers keep log/sqrt in their domain and relu
# away from its kink
NORMAL = "normal"
POSITIVE = "positive"
CASES = [
    ("mean(3*(x+2)^2)", {"x": ((2, 2), NORMAL)}),
    ("sum(x^3 - 2*x^2 + x - 5)", {"x": ((3,), NORMAL)}),
    ("sum(exp(x) * log(x))", {"x": ((3,), POSITIVE)}),
    ("sum(sin(x) * cos(2*x))", {"x": ((4,), NORMAL)}),
    ("sum(sigmoid(x))", {"x": ((3,), NORMAL)}),
    ("sum(tanh(x))", {"x": ((3,), NORMAL)}),
    ("sum(softplus(x))", {"x": ((3,), NORMAL)}),
    ("sum(relu(x))", {"x": ((5,), NORMAL)}),
    ("(1 - a)^2 + 100*(b - a^2)^2", {"a": ((), NORMAL), "b": ((), NORMAL)}),
    ("sum(x / (1 + x^2))", {"x": ((3,), NORMAL)}),
    ("sum(x * y * z)", {"x": ((3,), NORMAL), "y": ((3,), NORMAL), "z": ((3,), NORMAL)}),
    ("mean(w*x^2 + b)", {"w": ((), NORMAL), "x": ((4,), NORMAL), "b": ((), NORMAL)}),
    ("sum(sqrt(x) / (1 + exp(-x)))", {"x": ((3,), POSITIVE)}),
    ("sum(log(1 + x^2) * tanh(y))", {"x": ((2,), NORMAL), "y": ((2,), NORMAL)}),
    ("sum(x^2)^0.5", {"x": ((3,), POSITIVE)}),
    ("sum(sin(x)^2 + cos(x)^2)", {"x": ((3,), NORMAL)}),
    ("exp(a) * sin(b) / (1 + a^2)", {"a": ((), NORMAL), "b": ((), NORMAL)}),
]


def sample(rng, shape, kind):
    if kind == POSITIVE:
        return rng.uniform(0.3, 2.5, size=shape)
    value = rng.normal(size=shape)
    return np.where(np.abs(value) < 0.05, 0.3, value)  # away from relu's kink


def as_text(value) -> str:
    return json.dumps(np.asarray(value).tolist())


def value_of(program: str, point: dict) -> np.ndarray:
    outcomes = evaluate(program, point)
    failures = [o for o in outcomes if isinstance(o, Failure)]
    assert not failures, f"{program!r}: {failures[0].error.message}"
    return np.asarray(outcomes[-1].value, dtype=np.float64)


def central(program: str, name: str, point: dict, eps: float = 1e-6) -> np.ndarray:
    base = np.array(point[name], dtype=np.float64)
    numeric = np.zeros(base.shape)
    for i in range(base.size):
        plus, minus = base.copy(), base.copy()
        plus.reshape(-1)[i] += eps
        minus.reshape(-1)[i] -= eps
        numeric.reshape(-1)[i] = (value_of(program, {**point, name: plus})
                                  - value_of(program, {**point, name: minus})) / (2 * eps)
    return numeric


def printed_formula(cli, program: str, point: dict, name: str) -> str:
    args = ["diff", program, "--wrt", name]
    for n, v in point.items():
        args += ["-v", f"{n}={as_text(v)}"]
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("  at ")  # SPEC §9: formula, value
    head = f"d/d{name} = "
    assert lines[0].startswith(head)
    return lines[0][len(head):]


@pytest.mark.parametrize("program, inputs", CASES, ids=[c[0] for c in CASES])
def test_printed_formula_evaluates_to_the_gradient(cli, program, inputs):
    rng = np.random.default_rng(abs(hash(program)) % 2**32)
    first = {n: sample(rng, shape, kind) for n, (shape, kind) in inputs.items()}
    for name in inputs:
        formula = printed_formula(cli, program, first, name)
        for trial in range(3):
            point = first if trial == 0 else {
                n: sample(rng, shape, kind) for n, (shape, kind) in inputs.items()}
            got = np.broadcast_to(value_of(formula, point), np.shape(point[name]))
            numeric = central(program, name, point)
            np.testing.assert_allclose(got, numeric, rtol=1e-5, atol=1e-6,
                                       err_msg=f"d/d{name} {program}: {formula}")
            [result] = evaluate(program, point, wrt=[name])
            np.testing.assert_allclose(got, result.gradients[name], rtol=1e-10, atol=1e-12,
                                       err_msg=f"d/d{name} {program}: {formula}")


def test_the_seed_example(cli):
    result = cli("diff", "mean(3*(x+2)^2)", "-v", "x=ones(2,2)")
    assert result.exit_code == 0
    assert result.stdout == ("d/dx = 1.5*(x + 2)\n"
                             "  at x = [[1.0, 1.0], [1.0, 1.0]]: [[4.5, 4.5], [4.5, 4.5]]\n")


@pytest.mark.parametrize("program, expected", [
    ("sum(x^3 - 2*x^2 + x - 5)", "3*x^2 - 4*x + 1"),  # like terms, x^1, constants folded
    ("sum(x*1 + 0*x + x^1)", "2"),
    ("sum(log(x) * x)", "log(x) + 1"),
    ("sum(softplus(x))", "sigmoid(x)"),
    ("sum(sin(x))", "cos(x)"),
])
def test_formulas_are_simplified(cli, program, expected):
    result = cli("diff", program, "-v", "x=[1, 2]")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"d/dx = {expected}"


def test_several_inputs_one_line_each(cli):
    result = cli("diff", "(1-a)^2 + 100*(b-a^2)^2", "-v", "a=0.5", "-v", "b=1")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "d/da = 2*a - 400*a*(b - a^2) - 2",
        "  at a = 0.5, b = 1.0: -151.0",
        "d/db = 200*(b - a^2)",
        "  at a = 0.5, b = 1.0: 150.0",
    ]


def test_latex(cli):
    result = cli("diff", "sum(x/(1+x^2))", "-v", "x=[1,2]", "--latex")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == (  # over the common denominator, as SymPy's
        r"\frac{\partial f}{\partial x} = "  # simplify(diff(f)) writes it
        r"\frac{1 - x^{2}}{\left(x^{2} + 1\right)^{2}}")
    result = cli("diff", "sum(exp(x) * sin(x))", "-v", "x=1", "--latex")
    assert r"\exp\left(x\right)" in result.stdout and r"\sin\left(x\right)" in result.stdout


def test_inputs_made_by_the_program(cli):
    result = cli("diff", "w = [1, 2]\nsum(w^2 * 3)")
    assert result.exit_code == 0
    assert result.stdout.strip() == "d/dw = 6*w"


def test_wrt_a_scalar_broadcast_against_a_vector(cli):
    result = cli("diff", "sum(w*x)", "-v", "w=2", "-v", "x=[1,2]", "--wrt", "w")
    assert result.stdout.splitlines()[0] == "d/dw = sum(x)"


def test_indexing_has_a_formula(cli):
    result = cli("diff", "sum(x[0] * x)", "-v", "x=[1,2]")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["d/dx = x[0] + sum(x)*(arange(2) == 0)",
                                          "  at x = [1.0, 2.0]: [4.0, 1.0]"]


def test_masks_are_refused_naming_the_operation(cli):
    result = cli("diff", "sum(x[x > 0]^2)", "-v", "x=[1, -2]")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "cannot differentiate" in result.stderr and "index" in result.stderr


def test_vector_result_gives_the_jacobian(cli):
    result = cli("diff", "x * 2", "-v", "x=[1,2]")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "d/dx = 2*eye(2)"


def test_a_matrix_result_is_a_clear_error(cli):
    result = cli("diff", "X * 2", "-v", "X=ones(2, 2)")
    assert result.exit_code == 1
    assert "Jacobian" in result.stderr and "[2, 2]" in result.stderr


def test_unknown_wrt_is_a_usage_error(cli):
    result = cli("diff", "x * 2", "-v", "x=2", "--wrt", "q")
    assert result.exit_code == 2
    assert 'no name "q"' in result.stderr


def test_a_name_without_a_value_is_a_symbol(cli):
    result = cli("diff", "sum(x * q)", "-v", "x=2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["d/dx = q", "d/dq = x"]  # no value: no check


def test_a_failing_program_reports_its_error(cli):
    result = cli("diff", "sum(x @ y)", "-v", "x=[1, 2]", "-v", "y=[1, 2, 3]")
    assert result.exit_code == 1
    assert "matmul" in result.stderr and "[2] and [3]" in result.stderr


def test_a_result_with_no_input(cli):
    result = cli("diff", "2 + 3")
    assert result.exit_code == 1
    assert "no named input" in result.stderr


def test_json_holds_one_record_per_input(cli):
    result = cli("diff", "x^2 * y", "-v", "x=3", "-v", "y=2", "--json")
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records == [
        {"wrt": "x", "shape": [], "formula": "2*x*y", "unicode": "2·x·y",
         "latex": "2 \\cdot x \\cdot y", "value": 12.0},
        {"wrt": "y", "shape": [], "formula": "x^2", "unicode": "x²", "latex": "x^{2}",
         "value": 9.0},
    ]
    latex = json.loads(cli("diff", "x^2", "-v", "x=3", "--latex", "--json").stdout)
    assert latex["latex"] == "2 \\cdot x"
    failed = cli("diff", "sum(x[x > 0]^2)", "-v", "x=[1, -2]", "--json")
    record = json.loads(failed.stdout)
    assert failed.exit_code == 1 and set(record) == {"error"}
    assert set(record["error"]) == {"type", "message", "line", "column"}
    assert "cannot differentiate" in record["error"]["message"]
    assert (record["error"]["line"], record["error"]["column"]) == (1, 7)


@pytest.mark.parametrize("shape", ["x=0", "x=n,0", "x=-1", "x=1e3", "=3", "x"])
def test_a_shape_option_with_a_size_that_is_not_positive_is_a_usage_error(cli, shape):
    # SPEC §9: a size is a positive integer or a size name
    result = cli("diff", "sum(x)", "--shape", shape)
    assert result.exit_code == 2
    assert f"--shape {shape!r} is not NAME=DIMS" in result.stderr


def test_a_shape_option_with_positive_sizes_and_size_names_is_read(cli):
    assert cli("diff", "sum(x)", "--shape", "x=n").stdout == "d/dx = 1\n"
    assert cli("diff", "sum(X)", "--shape", "X=2,m").exit_code == 0
