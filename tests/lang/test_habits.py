"""What people coming from other tools type first: the Unicode forms they paste (read as
their ASCII meaning, SPEC §2, with carets at their own columns), and the habits of other
languages (`5 mod 3`, `let x = 2`, `d/dx x^2`, `f(x) = x^2`, `max(1, 2)`), each with a
message that says what to write instead."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradcli.lang.reader import ascii_forms
from tests.lang.conftest import failure, last, value

# -- Unicode forms -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("5 \u2212 3", 2.0),  # − minus sign
        ("5 \u2013 3", 2.0),  # – en dash
        ("\u22122^2", -4.0),
        ("1e\u22123", 1e-3),
        ("2 \u00d7 3", 6.0),  # ×
        ("2\u00d73", 6.0),
        ("2 \u00b7 3", 6.0),  # ·
        ("2 \u22c5 3", 6.0),  # ⋅
        ("7 \u00f7 2", 3.5),  # ÷
        ("\u03c0", math.pi),  # π
        ("2\u03c0", None),  # 2π: no implicit multiplication, as 2pi
        ("2 \u00d7 \u03c0", 2 * math.pi),
        ("x\u00b2", 9.0),  # ²
        ("x\u00b3", 27.0),  # ³
        ("x\u00b9\u2070", 59049.0),  # a run of superscripts is one exponent: x^10
        ("x\u207b\u00b9", 1 / 3),  # ⁻¹
        ("x\u00b2 + x\u2074", 90.0),
        ("(x + 1)\u00b2", 16.0),
        ("\u221ax", math.sqrt(3)),  # √
        ("\u221a 4", 2.0),
        ("\u221a(x + 1)", 2.0),
        ("\u221a16 \u00d7 2", 8.0),
        ("\u221ax\u00b2", 3.0),  # (√x)²: √ takes the name right after it
        ("\u221av[1]", 2.0),  # √ takes the brackets after the name too
        ("\u221asum(v)", math.sqrt(20)),
        ("\u221a\u03c0", math.sqrt(math.pi)),
        ("2 \u2264 3", 1.0),  # ≤
        ("2 \u2265 3", 0.0),  # ≥
        ("2 \u2260 3", 1.0),  # ≠
        ("sum(m\u1d40[0])", 4.0),  # ᵀ: the transpose
        ("1 + 1  # \u221a\u03c0 \u00d7 in a comment", 2.0),
    ],
)
def test_unicode_forms_read_as_ascii(source: str, expected) -> None:
    program = f"x = 3\nv = [16, 4]\nm = [[1, 2], [3, 4]]\n{source}"
    if expected is None:
        assert "2*pi" in failure(program).error.message
        return
    assert float(value(program)) == pytest.approx(expected)


def test_unicode_forms_keep_their_own_columns() -> None:
    f = failure("y = \u03c0\u00b2 \u00d7 \u221aq")
    assert f.error.message == 'unknown name "q"'
    assert (f.error.line, f.error.column) == (1, 11)
    assert f.source == "y = \u03c0\u00b2 \u00d7 \u221aq"
    f = failure("\u03c0 \u00d7 2 $ 1")
    assert (f.error.column, f.error.message) == (7, 'unexpected character "$"')
    f = failure("x = [1, 2]\n\u221ax \u00d7 [1, 2, 3]")  # the whole √x × [...] is underlined
    assert (f.error.span.line, f.error.span.column, f.error.span.end_column) == (2, 1, 15)
    assert failure("2 \u00d7\u00d7 3").error.column == 4  # ×× is not **


def test_unicode_results_show_the_source_as_written() -> None:
    r = last("x = 2\nx\u00b2 \u00d7 \u03c0")
    assert r.source == "x\u00b2 \u00d7 \u03c0"
    assert r.gradients["x"] == pytest.approx(4 * math.pi)


def test_ascii_forms_maps_each_character_back() -> None:
    assert ascii_forms("x + 1\n") is None
    text, where = ascii_forms("\u221ax\u00b2\n")
    assert text == "sqrt(x)^2\n"
    assert where == [0, 0, 0, 0, 0, 1, 1, 2, 2, 3]


# -- habits from other languages -----------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("5 mod 3", 'there is no "mod" operator: write 5 % 3 (or mod(5, 3))'),
        ("x mod 2", 'there is no "mod" operator: write x % 2 (or mod(x, 2))'),
        ("7 div 2", 'there is no "div" operator: write 7 // 2 (or floor_divide(7, 2))'),
        ("let x = 2", 'write x = 2: a name needs no declaration (there is no "let" in gradcli)'),
        ("var y = [1, 2]",
         'write y = [1, 2]: a name needs no declaration (there is no "var" in gradcli)'),
        ("const z = 1  # c", "write z = 1: a name needs no declaration"),
        ("d/dx x^2", "d/dx is not part of the language: grad(x^2, x) is the derivative as a "
                     "value, and gradcli diff 'x^2' --wrt x prints it as a formula"),
        ("d/dx(x^2)", "d/dx(...) is not part of the language: grad(y, x) is the derivative"),
        ("y = 1 + d/dx(sin(x))", "gradcli diff 'y' --wrt x prints it as a formula"),
        ("f(x) = x^2", "there are no function definitions: give x a value and name the "
                       "expression, as in x = 2; f = x^2 (then grad(f, x) is its derivative)"),
        ("g(a, b) = a*b", "give a and b a value and name the expression, as in a = 2; b = 3; "
                          "g = a*b"),
        ("x and x", 'there is no "and": comparisons give 1 or 0'),
        # the hints that were right already stay
        ("2x", 'missing operator in "2x": there is no implicit multiplication, write 2*x'),
        ("sin x", '"sin" is a function: call it as sin(x)'),
        ("x x", "write x*x"),
        ("trace(x' x)", "write x' @ x for the matrix product, x'*x elementwise"),
    ],
)
def test_habits_get_a_message_saying_what_to_write(source: str, message: str) -> None:
    f = failure(f"x = 3\n{source}")
    assert message in f.error.message
    assert "*mod" not in f.error.message and "let*" not in f.error.message


def test_d_over_dx_as_a_division_still_runs() -> None:
    assert float(value("d = 2\ndx = 0.5\nd/dx")) == 4.0


def test_max_and_min_of_two_values() -> None:
    """NumPy's meaning: the second argument is an axis; where it cannot be one, the
    message says to write maximum(a, b) (never a bare "axis 2 is out of range")."""
    f = failure("max(1, 2)")
    assert f.error.message == (
        "max(): axis 2 is out of range for an array with 0 dimensions: max(x, axis) is the "
        "largest element along an axis; for the largest of two values, elementwise, write "
        "maximum(a, b)")
    assert (f.error.column, f.error.span.end_column) == (8, 9)  # at the second argument
    f = failure("a = [1, 5]\nb = [3, 2]\nmin(a, b)")
    assert "write minimum(a, b)" in f.error.message
    assert "write maximum(a, b)" in failure("max([1, 2], 0.5)").error.message
    assert "write maximum(a, b)" in failure("max([1, 2], axis=[0, 0])").error.message
    # where it can be an axis, it is one
    np.testing.assert_array_equal(value("x = [[1, 5], [3, 2]]\nmax(x, 1)"), [5, 3])
    np.testing.assert_array_equal(value("x = [[1, 5], [3, 2]]\nx.min(0)"), [1, 2])
    assert float(value("maximum(1, 2)")) == 2.0
    r = last("x = [[1, 5], [3, 2]]\nmax(x, axis=[0, 1], keepdims=true)",
             grad_output="[[1]]")
    np.testing.assert_array_equal(r.gradients["x"], [[0, 1], [0, 0]])


def test_habit_messages_never_echo_control_characters() -> None:
    for source in ("let x = [\x00]", "5 mod \x1b3", "d/dx x\x07", "f(x) = x\x00"):
        f = failure(source)
        assert f.error.message.isprintable(), repr(f.error.message)
    assert "no declaration" not in failure("z x = 1").error.message  # only the known words


@pytest.mark.parametrize(("source", "message"), [
    ("norm([3, 4], 1)", "the second argument of norm is an axis; for NumPy's norm(x, ord), "
                        "write norm(x, ord=...)"),
    ("diff([1, 2])", "NumPy's np.diff is differences(x) here"),
    ("[1, 2].diff()", 'unknown method "diff": NumPy\'s np.diff is differences(x) here'),
    ("eigh(eye(2))", "eigvalsh(x) gives the eigenvalues"),
    ("svd(eye(2))", "svdvals(x) gives the singular values"),
])
def test_numpy_names_spelt_otherwise_say_what_to_write(source: str, message: str) -> None:
    assert message in failure(source).error.message


def test_norm_with_ord_by_name() -> None:
    assert float(value("norm([3, -4], ord=1)")) == 7.0
    assert float(value("norm([[3, 4], [1, 1]], 1)[0]")) == 5.0  # an axis, where it can be
