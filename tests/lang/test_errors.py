"""Each error kind with its exact message shape: line, column, caret (SPEC §7)."""

from __future__ import annotations

import numpy as np
import pytest

from gradcli.lang.errors import GradcliError, InputProblem
from gradcli.lang.results import Failure, Result
from gradcli.lang.session import Session, evaluate
from tests.lang.conftest import failure, last


def rendered(program: str, **options) -> str:
    return failure(program, **options).error.render()


@pytest.mark.parametrize(
    ("program", "kind", "text"),
    [
        (
            "2x",
            "syntax",
            'line 1, column 1: missing operator in "2x": there is no implicit multiplication, '
            "write 2*x\n  2x\n  ^^",
        ),
        (
            "x = 1\ny = 3 * (x + 2",
            "syntax",
            'line 2, column 9: "(" is never closed (expected ")")\n  y = 3 * (x + 2\n          ^',
        ),
        (
            "1 +",
            "syntax",
            'line 1, column 3: expected an expression after "+"\n  1 +\n    ^',
        ),
        (
            "x = [1, 2\n3]",
            "syntax",
            'line 1, column 9: missing "," after "2" at the end of line 1: a new line inside '
            'brackets does not separate elements (else the "[" at line 1, column 5 is never '
            'closed)\n  x = [1, 2\n          ^',
        ),
        (
            "y = [[1, 2],\n     [3, 4]]\nmax(y\n2)",
            "syntax",
            'line 3, column 5: missing "," after "y" at the end of line 3: a new line inside '
            'brackets does not separate elements (else the "(" at line 3, column 4 is never '
            'closed)\n  max(y\n      ^',
        ),
        (
            "m = [[1, 2]\n[3, 4]]",
            "shape",
            "line 1, column 6: index: too many indices (2) for an array of shape (2,) (a new "
            "line inside brackets does not separate elements: if this [...] is another row, "
            'a "," is missing before it)\n  m = [[1, 2]\n       ^^^^^^',
        ),
        (
            "x = [1, 2]\nx[0, 1]",
            "shape",
            "line 2, column 1: index: too many indices (2) for an array of shape (2,)\n"
            "  x[0, 1]\n  ^^^^^^^",
        ),
        (
            "sum(x, )) ",
            "syntax",
            'line 1, column 9: unmatched ")"\n  sum(x, )) \n          ^',
        ),
        (
            "(1 + ]",
            "syntax",
            'line 1, column 6: expected an expression, found "]"\n  (1 + ]\n       ^',
        ),
        (
            "x = 1 $ 2",
            "syntax",
            'line 1, column 7: unexpected character "$"\n  x = 1 $ 2\n        ^',
        ),
        (
            "x = 2\nx y",
            "syntax",
            'line 2, column 1: missing operator between "x" and "y" (there is no implicit '
            "multiplication: write x*y)\n  x y\n  ^^^",
        ),
        (
            "a < b < c",
            "syntax",
            "line 1, column 7: comparisons cannot be chained: write (a < b) * (b < c) for both"
            "\n  a < b < c\n        ^",
        ),
        (
            "x = 1\nsne(x)",
            "name",
            'line 2, column 1: unknown function "sne" (did you mean "sin"?)\n  sne(x)\n  ^^^',
        ),
        (
            "weight = 1\n3 * weigth",
            "name",
            'line 2, column 5: unknown name "weigth" (did you mean "weight"?)\n'
            "  3 * weigth\n      ^^^^^^",
        ),
        (
            "Weight = 1\n3 * weight",
            "name",
            'line 2, column 5: unknown name "weight" (did you mean "Weight"?)\n'
            "  3 * weight\n      ^^^^^^",
        ),
        (
            "x = ones(2, 3)\ny = ones(3, 2)\nz = 1 + (x + y)",
            "shape",
            "line 3, column 10: add: shapes (2, 3) and (3, 2) cannot be broadcast together\n"
            "  z = 1 + (x + y)\n           ^^^^^",
        ),
        (
            "matmul(ones(2, 3), ones(2, 3))",
            "shape",
            "line 1, column 1: matmul: shapes (2, 3) and (2, 3) do not fit (inner sizes differ)"
            "\n  matmul(ones(2, 3), ones(2, 3))\n  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        ),
        (
            "sum(ones(2), axis=0.5)",
            "argument",
            "line 1, column 14: sum(): axis must be a whole number, got 0.5; usage: "
            "sum(x[, axis], keepdims=false)\n  sum(ones(2), axis=0.5)\n               ^^^^^^^^",
        ),
        (
            "clip(1, 2)",
            "argument",
            "line 1, column 1: clip(): missing the argument hi; usage: clip(x, lo, hi)\n"
            "  clip(1, 2)\n  ^^^^^^^^^^",
        ),
        (
            "exp(1, 2)",
            "argument",
            "line 1, column 8: exp(): takes 1 argument but got 2; usage: exp(x)\n"
            "  exp(1, 2)\n         ^",
        ),
        (
            "ones(3e4, 3e4)",
            "limit",
            "line 1, column 1: ones: the result would have shape (30000, 30000), 900,000,000 "
            "elements, over the limit of 100,000,000 (raise it with --max-elements)\n"
            "  ones(3e4, 3e4)\n  ^^^^^^^^^^^^^^",
        ),
        (
            "sin = 1",
            "argument",
            'line 1, column 1: cannot assign to "sin": it is a built-in function '
            "(choose another name)\n  sin = 1\n  ^^^",
        ),
    ],
)
def test_error_messages(program: str, kind: str, text: str) -> None:
    f = failure(program)
    assert f.error.type == kind
    assert f.error.render() == text
    head = text.split("\n")[0]
    assert head.startswith(f"line {f.error.line}, column {f.error.column}: ")
    assert isinstance(f.error, GradcliError)


def test_errors_never_name_terminals() -> None:
    for program in ["(1", "[1, 2", "sum(1,,2)", "x = = 2", "f(1)(2)", "1 + * 2", "x[1:2:3:4]",
                    "1 2", "x = ", "()", "[,]", "sum(x=)", "a = 1 +\n2", "*", "1 +=2"]:
        message = failure(f"x = [1, 2, 3, 4]\n{program}").error.message
        for terminal in ("RPAR", "LPAR", "RSQB", "LSQB", "NAME", "NUMBER", "ADDITIVE",
                         "COMMA", "$END", "_NEWLINE", "EQUAL", "MULTIPLICATIVE"):
            assert terminal not in message, (program, message)


def test_shape_error_underlines_the_failing_subexpression() -> None:
    f = failure("x = ones(3)\ny = ones(2)\nq = 2 * sum(x) + sum(x * y)")
    assert (f.error.span.line, f.error.span.column) == (3, 22)
    assert (f.error.span.end_line, f.error.span.end_column) == (3, 27)
    assert "multiply" in f.error.message and "(3,) and (2,)" in f.error.message


def test_domain_problems_are_values_with_warnings() -> None:
    r = last("x = [0, 1, -1]\ny = log(x)\nz = sqrt(x) + y")
    # (y = log(x) reports nothing: its warning comes with the next result, by its line)
    assert r.warnings == ["line 2: log: divide by zero, invalid value at 2 elements",
                          "sqrt: invalid value at 1 element"]
    r = last("log(0)")
    assert r.value == float("-inf")
    assert r.warnings == ["log: divide by zero at 1 element"]
    r = last("0/0")
    assert r.warnings == ["divide: invalid value at 1 element"]
    r = last("x = [0, 0, 2]\nsum(1 / x)")
    assert r.warnings == ["divide: divide by zero at 2 elements",
                          "gradient for x: NaN or infinity at 2 elements"]
    r = last("exp(1000)")
    assert r.warnings == ["exp: overflow at 1 element"]
    r = last("log(-1) + 1")  # the NaN passes through +, but only log made it
    assert r.warnings == ["log: invalid value at 1 element"]
    r = last("mean(ones(0))")  # the mean of nothing is 0/0, as in NumPy
    assert np.isnan(r.value) and r.warnings == ["mean: invalid value at 1 element"]


def test_strict_turns_domain_warnings_into_failures() -> None:
    f = failure("y = 1\nx = 2 * log(y - 1)", strict=True)
    assert f.error.type == "domain"
    assert f.error.render() == (
        "line 2, column 9: log: divide by zero at 1 element\n  x = 2 * log(y - 1)\n"
        "          ^^^^^^^^^^"
    )


def test_singular_matrix_is_a_domain_problem() -> None:
    f = failure("inv([[1, 2], [2, 4]])")
    assert f.error.type == "domain"
    assert f.error.message == "inv: the matrix is singular (shape (2, 2))"


def test_failure_records_line_and_source() -> None:
    outcomes = evaluate("a = 1\n\nb = a +* 2\nb2 = 3")
    f = outcomes[0]
    assert isinstance(f, Failure)
    assert (f.line, f.source) == (3, "b = a +*")
    assert f.error.to_dict() == {"type": "syntax", "message": 'expected an expression, found "*"',
                                 "line": 3, "column": 8}
    assert isinstance(outcomes[1], Result)  # the last statement still reports


def test_render_with_the_whole_program_as_source() -> None:
    program = "a = 1\nb = a $ 2"
    f = failure(program)
    assert f.error.render(program).split("\n")[1:] == ["  b = a $ 2", "        ^"]


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"x": "ones(2,"}, 'the value of x: "(" is never closed (expected ")")'),
        ({"x": "y + 1"}, 'the value of x: unknown name "y" (a value may use numbers, '
                         "constants and functions, not names)"),
        ({"x": "@/no/such/file.npy"}, "cannot read /no/such/file.npy for x: "
                                      "No such file or directory"),
        ({"x": "@data.json"}, "cannot read data.json for x: use a .npy, .npz, .csv or .txt "
                              "file (or @- for stdin)"),
        ({"sin": "1"}, '"sin" is a built-in function and cannot be a name'),
        ({"2x": "1"}, "'2x' is not a valid name"),
        ({"x": "1; 2"}, "the value of x must be one expression, got '1; 2'"),
        ({"x": "y = 2"}, "the value of x: a value cannot assign to a name"),
        ({"x": "ones(2) @ ones(3)"}, "the value of x: matmul: shapes (2,) and (3,) do not fit "
                                     "(inner sizes differ)"),
    ],
)
def test_bad_variables_raise_input_problems(variables, message) -> None:
    with pytest.raises(InputProblem) as caught:
        Session(variables=variables)
    assert caught.value.message == message
    assert caught.value.type == "input"


def test_bad_variable_renders_with_a_caret_under_the_value() -> None:
    with pytest.raises(InputProblem) as caught:
        Session(variables={"x": "ones(2, 3"})
    assert caught.value.render() == (
        'line 1, column 5: the value of x: "(" is never closed (expected ")")\n'
        "  ones(2, 3\n      ^"
    )


def test_bad_options() -> None:
    with pytest.raises(InputProblem):
        Session(dtype="int8")
    with pytest.raises(InputProblem):
        Session(grad_output="[1, 2")
    with pytest.raises(InputProblem):
        Session(max_elements=0)
