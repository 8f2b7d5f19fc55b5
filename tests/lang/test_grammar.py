"""The syntax: every precedence row, every statement and literal form, the parser cache."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from gradcli.lang import grammar
from tests.lang.conftest import failure, last, run, value

# -- the precedence table, row by row (SPEC §2) -----------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # 1. comparisons, lowest: operands are whole sums
        ("1 + 1 == 2", 1.0),
        ("2 < 1 + 2", 1.0),
        ("3 * 2 >= 7 - 1", 1.0),
        ("1 != 1", 0.0),
        ("2 <= 2", 1.0),
        ("2 > 3", 0.0),
        # 2. + - left-associative
        ("10 - 3 - 2", 5.0),
        ("1 - 2 + 3", 2.0),
        # 3. * / @ left-associative, tighter than + -
        ("2 + 3 * 4", 14.0),
        ("12 / 3 / 2", 2.0),
        ("12 / 3 * 2", 8.0),
        ("1 + [1, 2] @ [3, 4]", 12.0),
        ("7 % 4 * 2", 6.0),  # % and // sit with * and /, left to right
        ("2 * 7 % 4", 2.0),
        ("1 + 7 % 4", 4.0),
        ("7 // 2 * 2", 6.0),
        ("9 / 2 // 2", 2.0),
        ("-7 % 3", 2.0),  # unary minus binds tighter: (-7) % 3, NumPy's sign convention
        ("7 % -3", -2.0),
        ("-7 // 2", -4.0),
        ("2^3 % 5", 3.0),
        # 4. unary - + looser than ^, tighter than * /
        ("-2^2", -4.0),
        ("-2 * 3", -6.0),
        ("2 * -3", -6.0),
        ("- -2", 2.0),
        ("+-+2", -2.0),
        ("-x^2", -9.0),
        # 5. ^ and ** right-associative, right operand may carry a sign
        ("2^3^2", 512.0),
        ("2**3**2", 512.0),
        ("2^-1", 0.5),
        ("2**-1", 0.5),
        ("2^-1^2", 0.5),
        ("(2^3)^2", 64.0),
        ("2^3*2", 16.0),
        ("(-2)^2", 4.0),
        ("2^+3", 8.0),
        # 6. calls and indexing, tightest
        ("-v[0]", -5.0),
        ("v[0]^2", 25.0),
        ("-sqrt(4)^2", -4.0),
        ("[1, 2, 3][1]", 2.0),
        ("ones(3)[0] * 2", 2.0),
        # 6. transpose x' and x.T, methods: postfix too
        ("-v'[0]", -5.0),
        ("v'[1]^2", 36.0),
        ("2^v'[0]", 32.0),
        ("-v.T[1]", -6.0),
        ("-v.sum()", -11.0),
        ("v.sum()^2", 121.0),
        ("2^v.max()", 64.0),
        ("-x.T^2", -9.0),
        ("x'^2", 9.0),
        ("2^x'", 8.0),
        ("-x'", -3.0),
    ],
)
def test_precedence(source: str, expected: float) -> None:
    assert value(f"x = 3\nv = [5, 6]\n{source}") == pytest.approx(expected)


M = "m = [[1, 2, 3], [4, 5, 6]]\n"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("m'", [[1, 4], [2, 5], [3, 6]]),
        ("m.T", [[1, 4], [2, 5], [3, 6]]),
        ("m''", [[1, 2, 3], [4, 5, 6]]),
        ("m.T.T", [[1, 2, 3], [4, 5, 6]]),
        ("m' @ m", [[17, 22, 27], [22, 29, 36], [27, 36, 45]]),
        ("m @ m'", [[14, 32], [32, 77]]),
        ("(m + 1)'[0]", [2, 5]),
        ("m'[:, 0]", [1, 2, 3]),
        ("[1, 2]'", [1, 2]),  # a vector's transpose is the vector, as in NumPy
        ("m.sum(axis=0)", [5, 7, 9]),
        ("m.sum(1)", [6, 15]),
        ("m.sum(axis=1, keepdims=true)", [[6], [15]]),
        ("m.mean()", 3.5),
        ("m.max()", 6),
        ("m.max(axis=0)", [4, 5, 6]),
        ("m.reshape(3, 2)", [[1, 2], [3, 4], [5, 6]]),
        ("m.reshape([3, 2]).T", [[1, 3, 5], [2, 4, 6]]),
        ("m.flatten()[-1]", 6),
        ("m.T.sum(axis=0)", [6, 15]),
        ("[1, 4].sqrt()", [1, 2]),
        ("m[0].dot(m[1])", 32),
        ("m.transpose()", [[1, 4], [2, 5], [3, 6]]),
        ("m.ln().exp().round()", [[1, 2, 3], [4, 5, 6]]),  # aliases are methods too
        ("(-m).abs().min()", 1),
        ("m.clip(2, 5)", [[2, 2, 3], [4, 5, 5]]),
    ],
)
def test_transpose_and_methods(source: str, expected) -> None:
    np.testing.assert_allclose(value(M + source), expected)


def test_transpose_and_methods_carry_gradients() -> None:
    r = last(M + "w = [1, 2]\nsum((m' @ w)^2)")
    np.testing.assert_allclose(r.gradients["w"], 2 * np.array([[14, 32], [32, 77]]) @ [1, 2])
    r = last(M + "m.T.sum()")
    np.testing.assert_array_equal(r.gradients["m"], np.ones((2, 3)))
    r = last(M + "(m^2).sum(axis=0).max()")
    np.testing.assert_array_equal(r.gradients["m"], [[0, 0, 6], [0, 0, 12]])


@pytest.mark.parametrize(
    ("source", "message", "column"),
    [
        ("m.sume()", 'unknown method "sume" (did you mean "sum"', 3),
        ("m.sum", '"sum" is a method: call it, as in x.sum()', 3),
        ("m.t", 'unknown attribute "t" (did you mean "T"', 3),
        ("m.shape", 'unknown attribute "shape"', 3),
        ("m.ones()", '"ones" makes a new array and is not a method', 3),
        ("m.T()", '"T" is the transpose, not a method: write x.T', 3),
        ("m.sum(axis=0, axis=1)", "sum() got two values for axis", 15),
        ("m.sum(axis=0, 1)", "a positional argument cannot follow a keyword argument", 15),
        ("m.sum(0, 1, 2)", "sum(): takes at most 3 arguments but got 4", 13),
        ("m.reshape(4, 4)", "reshape: cannot put 6 elements into shape (4, 4)", 1),
        ("'m'", "(' is the transpose, as in x'; the language has no strings)", 1),
        ("m' m", "missing operator between \"m'\" and \"m\"", 2),
    ],
)
def test_method_and_attribute_errors(source: str, message: str, column: int) -> None:
    f = failure(M + source)
    assert message in f.error.message
    assert (f.error.line, f.error.column) == (2, column)


def test_a_method_error_points_at_the_whole_call() -> None:
    f = failure(M + "y = 1 + m.reshape(4, 4)")
    assert (f.error.span.column, f.error.span.end_column) == (9, 24)
    f = failure(M + "y = [1, 2] @ m'")
    assert (f.error.span.column, f.error.span.end_column) == (5, 16)


def test_mod_and_floor_divide_follow_numpy() -> None:
    a = np.array([-7.5, -3.0, -1.0, 0.0, 2.5, 7.0])
    b = np.array([2.0, -3.0, 4.0, 3.0, -2.0, 2.5])
    np.testing.assert_array_equal(value(f"{a.tolist()} % {b.tolist()}"), np.mod(a, b))
    np.testing.assert_array_equal(value(f"{a.tolist()} // {b.tolist()}"), np.floor_divide(a, b))
    r = last("a = 7.5\nb = 2\na % b")
    assert r.value == 1.5
    assert r.gradients == {"a": 1.0, "b": -3.0}  # d/db = -floor(a/b)
    r = last("a = 7.5\nb = 2\na // b")
    assert r.value == 3.0
    assert r.gradients == {"a": 0.0, "b": 0.0}
    assert float(value("c = 17\nc %= 5\nc //= 2\nc")) == 1.0


def test_transpose_method_and_mod_trees() -> None:
    """The rule names and children other parts (the syntax tree of `diff`) rely on."""
    parse = grammar.lark_parser().parse

    def shape(tree):
        if not hasattr(tree, "data"):
            return tree if tree is None else f"{tree.type}:{tree.value}"
        return (tree.data, *[shape(c) for c in tree.children])

    assert shape(parse("x'", start="statement")) == ("transpose", ("name", "NAME:x"))
    assert shape(parse("x''", start="statement")) == (
        "transpose", ("transpose", ("name", "NAME:x")))
    assert shape(parse("x.T", start="statement")) == ("attribute", ("name", "NAME:x"), "NAME:T")
    assert shape(parse("-x'", start="statement")) == (
        "sign", "ADDITIVE:-", ("transpose", ("name", "NAME:x")))
    assert shape(parse("x'^2", start="statement"))[0:3] == (
        "binary", ("transpose", ("name", "NAME:x")), "POWER:^")
    assert shape(parse("x.mean()", start="statement")) == (
        "method", ("name", "NAME:x"), "NAME:mean", None)
    assert shape(parse("x.sum(0, keepdims=true)", start="statement")) == (
        "method", ("name", "NAME:x"), "NAME:sum",
        ("arguments", ("number", "NUMBER:0"),
         ("keyword", "NAME:keepdims", ("boolean", "TRUE:true"))))
    assert shape(parse("a % b // c", start="statement")) == (
        "binary", ("binary", ("name", "NAME:a"), "MULTIPLICATIVE:%", ("name", "NAME:b")),
        "MULTIPLICATIVE://", ("name", "NAME:c"))
    assert shape(parse("a //= 2", start="statement"))[:3] == ("augmented", "NAME:a", "AUGMENTED://=")


def test_comparisons_do_not_chain() -> None:
    f = failure("1 < 2 < 3")
    assert f.error.type == "syntax"
    assert "comparisons cannot be chained" in f.error.message
    assert (f.error.line, f.error.column) == (1, 7)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("2", 2.0), ("2.5", 2.5), (".5", 0.5), ("5.", 5.0), ("1e-3", 1e-3), ("1E3", 1000.0),
        ("2.5e+2", 250.0), ("1_000", 1000.0), ("0x1f", 31.0), ("0o17", 15.0),
        ("0b101", 5.0), ("007", 7.0), ("true", 1.0), ("false", 0.0), ("pi", math.pi),
        ("e", math.e), ("inf", math.inf),
    ],
)
def test_numbers_and_constants(source: str, expected: float) -> None:
    assert float(value(source)) == expected


def test_nan_constant() -> None:
    assert math.isnan(float(value("nan")))


def test_statements_separators_comments_and_empty_statements() -> None:
    outcomes = run("1; 2;; 3  # three\n\n# only a comment\n;4\n")
    assert [float(r.value) for r in outcomes] == [1.0, 2.0, 3.0, 4.0]
    assert [r.line for r in outcomes] == [1, 1, 1, 4]
    assert [r.source for r in outcomes] == ["1", "2", "3", "4"]


def test_newlines_inside_brackets_do_not_end_a_statement() -> None:
    r = last("y = sum([1,\n  2,\n  3]\n)\n")
    assert r.value == 6.0
    assert r.line == 1
    assert r.source == "y = sum([1,\n  2,\n  3]\n)"


def test_backslash_continues_a_line() -> None:
    outcomes = run("1 + \\\n 2\n3")
    assert [float(r.value) for r in outcomes] == [3.0, 3.0]
    assert outcomes[1].line == 3


def test_crlf_line_endings() -> None:
    assert [float(r.value) for r in run("1 +\\\r\n 1\r\n3\r\n")] == [2.0, 3.0]


def test_assignment_forms() -> None:
    r = last("c = 2\nc += 3\nc -= 1\nc *= 4\nc /= 2\nc ^= 2\nc **= 0.5\nc")
    assert r.value == pytest.approx(8.0)


def test_augmented_assignment_makes_a_new_node() -> None:
    r = last("c = 2\nd = c\nc += 1\nd")
    assert r.value == 2.0


def test_calls_positional_then_keyword() -> None:
    r = last("x = [[1, 2], [3, 4]]\nsum(x, axis=0, keepdims=true)", grad_output="[[1, 1]]")
    np.testing.assert_array_equal(r.value, [[4.0, 6.0]])
    r = last("x = [[1, 2], [3, 4]]\nsum(x, 1,)")
    np.testing.assert_array_equal(r.value, [3.0, 7.0])
    assert float(value("sum([[1, 2], [3, 4]], axis=[0, 1])")) == 10.0
    # the parameters that take the rest of the arguments take one list by name too
    assert value("transpose(ones(2, 3), axes=[1, 0])").shape == (3, 2)
    assert value("ones(d=[2, 1])").shape == (2, 1)
    f = failure("transpose(ones(2, 3), [1, 0], axes=[1, 0])")
    assert f.error.message.startswith("transpose(): got two values for axes")


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        ("x[0]", [0, 1, 2]),
        ("x[-1]", [3, 4, 5]),
        ("x[:, 1]", [1, 4]),
        ("x[0, 1:]", [1, 2]),
        ("x[1, ::2]", [3, 5]),
        ("x[0][1:3]", [1, 2]),
        ("x[:, [0, 2]]", [[0, 2], [3, 5]]),
        ("x[[1, 0]]", [[3, 4, 5], [0, 1, 2]]),
        ("x[0, :-1]", [0, 1]),
        ("x[1, ::-1]", [5, 4, 3]),
        ("x[:]", [[0, 1, 2], [3, 4, 5]]),
        ("x[0, 2]", 2),
        ("x[1.0, 0]", 3),
        ("x[x > 2]", [3, 4, 5]),  # a comparison is a boolean mask, as in NumPy
        ("x[x[:, 0] > 0]", [[3, 4, 5]]),
        ("m = x < 1 \nx[m]", [0]),
        ("x[1, x[0] >= 1]", [4, 5]),
        ("x[(x > 1) * (x < 4)]", [2, 3]),  # mask * mask: "and", as NumPy's booleans
        ("x[maximum(x < 1, x > 4)]", [0, 5]),  # "or"
        ("x[(x[:, 0] > 2) * 1]", [[0, 1, 2], [3, 4, 5]]),  # numbers again: rows 0 and 1
    ],
)
def test_indexing_and_slicing(index: str, expected) -> None:
    np.testing.assert_array_equal(value(f"x = reshape(arange(6), 2, 3)\n{index}"), expected)


def test_masks_carry_gradients_and_must_fit() -> None:
    r = last("x = [1, 2, 3]\nsum(x[x > 1]^2)")
    assert r.value == 13.0
    np.testing.assert_array_equal(r.gradients["x"], [0.0, 4.0, 6.0])
    f = failure("x = [1, 2, 3]\nx[[1, 2] > 1]")
    assert f.error.message == (
        "index: a mask of shape (2,) does not fit an array of shape (3,) "
        "(at axis 0 it needs shape (3,))")


def test_array_literals_of_expressions_carry_gradients() -> None:
    r = last("x = 2\nsum([x, x^2, [3][0]])")
    assert r.value == 9.0
    assert r.gradients["x"] == pytest.approx(5.0)
    r = last("x = [1, 2]\nsum([[x[0], 1], x] * 2)")
    assert r.value == 10.0
    np.testing.assert_allclose(r.gradients["x"], [4.0, 2.0])


def test_empty_list_and_trailing_commas() -> None:
    assert value("[]").shape == (0,)
    np.testing.assert_array_equal(value("[1, 2,]"), [1.0, 2.0])


def test_names_may_shadow_constants() -> None:
    r = last("c = 5\nd = 3\ne = c - d\ne * pi")
    assert r.value == pytest.approx(2 * math.pi)


def test_keyword_lookalikes_are_names() -> None:
    assert value("trueish = 4\ntrueish") == 4.0


def test_the_plain_lark_parser_reads_whole_programs() -> None:
    tree = grammar.lark_parser().parse("x = 1; y = x + 2\nsum(y)\n", start="program")
    assert [t.data for t in tree.children] == ["assign", "assign", "call"]


# -- finding and caching the grammar -------------------------------------------------------


def test_the_grammar_file_is_found_in_the_checkout() -> None:
    assert os.path.basename(grammar.grammar_path()) == "gradcli.lark"
    assert "?statement" in grammar.grammar_text()


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(grammar, "_TABLES", None)
    return tmp_path / "gradcli"


def _cache_files(directory):
    return sorted(p for p in directory.glob("grammar-*.json"))


def test_parser_tables_are_cached_in_the_user_cache_dir(fresh_cache) -> None:
    tables = grammar.tables()
    files = _cache_files(fresh_cache)
    assert len(files) == 1
    assert json.loads(files[0].read_text())  # plain JSON, never pickle
    assert tables["key"] == grammar.cache_key(grammar.grammar_text())
    assert not list(fresh_cache.glob("*.tmp"))  # written atomically, no leftovers


def test_a_cached_parser_parses(fresh_cache, monkeypatch) -> None:
    grammar.tables()
    monkeypatch.setattr(grammar, "_TABLES", None)
    lark = grammar.build_lark()
    assert lark.parse("1 + 2", start="statement").data == "binary"


@pytest.mark.parametrize("content", ["not json at all", '{"(": [1]}', '{"{": [["key", "x"]]}', ""])
def test_a_corrupt_or_foreign_cache_is_rebuilt(fresh_cache, monkeypatch, content) -> None:
    grammar.tables()
    (path,) = _cache_files(fresh_cache)
    path.write_text(content)
    monkeypatch.setattr(grammar, "_TABLES", None)
    tables = grammar.tables()
    assert tables["key"] == grammar.cache_key(grammar.grammar_text())
    assert json.loads(path.read_text())  # rewritten
    assert grammar.build_lark().parse("2", start="statement")


def test_an_unwritable_cache_dir_is_not_an_error(tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file, so mkdir fails
    monkeypatch.setattr(grammar, "_TABLES", None)
    assert grammar.tables()["key"]


def test_cache_key_changes_with_the_grammar() -> None:
    assert grammar.cache_key("a: b") != grammar.cache_key("a: c")


def test_open_brackets_say_a_statement_continues() -> None:
    from gradcli.lang.reader import open_brackets

    assert open_brackets("sum(x,")
    assert open_brackets("[1,\n[2,")
    assert open_brackets("x + \\")
    assert not open_brackets("sum(x)")
    assert not open_brackets("x # (")
    assert not open_brackets("x)")


def augmented_operators() -> list[str]:
    """The AUGMENTED terminal's alternatives, read from the grammar file itself."""
    import re

    text = grammar.grammar_text()
    [rule] = [line for line in text.splitlines() if line.startswith("AUGMENTED")]
    return re.findall(r'"([^"]+)"', rule)


def test_every_augmented_assignment_runs_and_is_documented() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    operators = augmented_operators()
    assert {"+=", "%=", "//=", "**="} <= set(operators)
    table = (root / "docs" / "language.md").read_text(encoding="utf-8")
    [row] = [line for line in table.splitlines() if line.startswith("| `name += expr`")]
    brief = (root / "README.md").read_text(encoding="utf-8")
    [line] = [line for line in brief.splitlines() if line.startswith("s += 1 ")]
    for op in operators:
        assert f"`{op}`" in row or f"name {op} expr" in row, f"docs/language.md lacks {op}"
        assert op in line.split(), f"README's language in brief lacks {op}"
        binary = op[:-1]
        assert value(f"x = 7\nx {op} 2") == value(f"x = 7\nx = x {binary} (2)")
