"""The cache of trees by line shape: a line that differs from an earlier one only in its
numbers gets exactly what Lark's full parse of it gives (tree, spans, numbers, source,
errors), on hand-picked shapes and on a corpus of thousands of texts."""

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest

from gradcli.lang.reader import Broken, Parser, read_statements
from gradcli.lang.session import Session, split_lines
from gradcli.lang.syntax import Node, Number
from tests.fuzz.strategies import SPECIAL_TEXTS

ROOT = Path(__file__).resolve().parents[2]

SHAPES = [
    "{0}+{1}",
    "mean(3*(sin(x)+{0})^2) + {1}*sum(x)",
    "y = x * {0} - {1}",
    "y += {0}",
    "z ^= {1}",
    "sum(x, axis={0}, keepdims=true) / {1}",
    "x[{0}, :] @ [[{1}, 2], [3, {0}]]",
    "x[{0}:{1}:1] * -{1}",
    "-{0}^-{1} ** 2",
    "({0} < {1}) * x",
    "maximum(x, {0}) + clip(x, {1}, 5)   # a comment {0}",
    "  reshape(x, [4]) [ {0} ]  ",
    "ones({0}, {1}) + x",
    "{0}e-3 + .{1} + 0x1f + 1_000",
    "f = {0}",
    "x.sum(axis={0})' * x.T[{1}]",
]
NUMBERS = [("1", "2"), ("12.5", "0"), ("3", "456"), ("7", "8"), ("100000", "9")]


def resolved(item) -> tuple:
    """A parsed statement as what runs: each node in evaluation order with its fields,
    its span and (for a number) its value, as this line has them."""
    where = item.where or (lambda span: span)
    numbers = item.numbers or {}
    nodes = []
    for node in item.evaluation_order():
        fields = tuple(v for k, v in vars(node).items()
                       if k != "span" and not isinstance(v, (Node, tuple)) and k != "text")
        if type(node) is Number:
            fields = (numbers.get(id(node), node.value),)
        nodes.append((type(node).__name__, fields, where(node.span)))
    return tuple(nodes)


def plain(item) -> tuple:
    if isinstance(item, Broken):
        e = item.error
        return ("broken", item.line, item.source, type(e).__name__, e.message, e.span,
                e.source, e.first_line)
    return ("parsed", item.line, item.source, resolved(item), item.target, item.context,
            item.first_line)


def _parse(lines, parser):
    return [plain(item) for item in read_statements(lines, parser)]


def _full_parser() -> Parser:
    parser = Parser()
    parser.shapes.enabled = False
    return parser


@pytest.mark.parametrize("shape", SHAPES)
def test_cached_trees_give_what_the_full_parse_gives(shape) -> None:
    lines = [shape.format(*numbers) + "\n" for numbers in NUMBERS] * 2
    quick = Parser()
    assert quick.shapes.enabled
    assert _parse(lines, quick) == _parse(lines, _full_parser())
    assert len(quick.shapes.trees) == 1  # learnt, then used


def test_lines_with_different_tokens_never_share_a_tree() -> None:
    lines = ["x + 1\n", "x - 1\n", "y + 1\n", "x + 2\n", "x - 3\n", "y + 4\n", "x+5\n"]
    parser = Parser()
    assert _parse(lines, parser) == _parse(lines, _full_parser())
    assert len(parser.shapes.trees) == 3


def test_lines_the_cache_does_not_take_go_the_full_way() -> None:
    lines = [
        "x = 1; y = 2\n", "x = 3; y = 4\n",  # two statements on a line
        "sum(x,\n", "  2)\n", "sum(x,\n", "  5)\n",  # a statement over two lines
        "x + \\\n", "1\n", "x + \\\n", "2\n",  # a continuation
        "2x\n", "3x\n", "4 $ 5\n", "6 $ 7\n",  # errors
        "(1 + 2\n", "(3 + 4\n",  # an unclosed bracket
        "1 +\n", "2 +\n",
        "\n", "# only a comment\n",
    ]
    parser = Parser()
    assert _parse(lines, parser) == _parse(lines, _full_parser())
    assert not parser.shapes.trees


def _outcomes(program: str, cache: bool) -> list:
    import gradcli.lang.reader as reader

    session = Session(variables={"x": "ones(2, 2)"})
    parser = Parser()
    parser.shapes.enabled = cache
    saved = getattr(reader._LOCAL, "parser", None)
    reader._LOCAL.parser = parser
    try:
        return [(type(o).__name__, o.line, o.source, getattr(o, "error", None) and (
            o.error.message, o.error.span), getattr(o, "value", None) is not None and
            repr(o.value.tolist()), o.warnings if hasattr(o, "warnings") else None)
            for o in session.run(program)]
    finally:
        reader._LOCAL.parser = saved


def test_errors_have_the_same_positions_through_a_cached_tree() -> None:
    program = "".join(f"x + ones({n}) + {n}\n" for n in (3, 5, 7, 11, 13))
    program += "".join(f"x[{n}:{n + 1}.5]\n" for n in (0, 10, 100))
    program += "".join(f"  sum(x, axis={n})\n" for n in (5, 77))
    quick, full = _outcomes(program, True), _outcomes(program, False)
    assert quick == full
    assert all(kind == "Failure" for kind, *_ in quick)


def test_values_and_warnings_are_the_line_s_own_through_a_cached_tree() -> None:
    program = "".join(f"x * {n} + log({n} - 1)\n" for n in (3, 1, 0.5, 1e999, 7))
    quick, full = _outcomes(program, True), _outcomes(program, False)
    assert quick == full
    assert any(w for *_, w in quick)


def test_a_built_in_cannot_be_assigned_through_a_cached_tree() -> None:
    lines = ["sum = 1\n", "sum = 2\n", "sum = 3\n"]
    parsed = _parse(lines, Parser())
    assert parsed == _parse(lines, _full_parser())
    assert all(item[0] == "broken" for item in parsed)


def test_a_repeated_line_is_cached_too() -> None:
    parser = Parser()
    lines = ["y = y * 1.000001 + 0.5\n"] * 4
    assert _parse(lines, parser) == _parse(lines, _full_parser())
    assert len(parser.shapes.trees) == 1


# -- the corpus ------------------------------------------------------------------------------


def _strings_in_tests() -> list[str]:
    found: set[str] = set()
    for path in sorted((ROOT / "tests").rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):  # a file mid-edit elsewhere
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if 0 < len(node.value) <= 3000:
                    found.add(node.value)
    return sorted(found)


VOCABULARY = [
    "x", "y", "sum", "ones", "mean", "true", "false", "trueish", "_", "1", "2.5", ".5", "1e-3",
    "0x1f", "0b1", "1_000", "2.", "+", "-", "*", "/", "@", "^", "**", "<", "<=", "==", "!=",
    ">", ">=", "=", "+=", "-=", "*=", "/=", "^=", "**=", "(", ")", "[", "]", ",", ":", ";",
    "\n", "\r\n", " ", "\t", "# c\n", "\\\n", "\\ \n", "\\", "!", "'", "&", "{", "%", "$",
    "\x00", "é", "\u00a0", "\f", "\r", "axis", "keepdims",
]


def corpus() -> list[str]:
    rng = random.Random(1)
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "samples").glob("*.grad"))]
    texts += SPECIAL_TEXTS
    texts += _strings_in_tests()
    texts += ["".join(rng.choice(VOCABULARY) for _ in range(rng.randint(1, 30)))
              for _ in range(3000)]
    return texts


def test_a_stream_of_the_corpus_reads_as_the_full_parse_reads_it() -> None:
    """The corpus through one reader (trees learnt and reused) and through Lark's parse of
    every line."""
    lines = [line for text in corpus()[:2000] for line in split_lines(text + "\n")]
    lines += [f"mean(3*(sin(x)+{i})^2) + {i % 7}*sum(x[{i % 3}:])\n" for i in range(300)]
    cached = Parser()
    quick = [plain(item) for item in read_statements(lines, cached)]
    assert quick == [plain(item) for item in read_statements(lines, _full_parser())]
    assert len(cached.shapes.trees) > 10


# -- sketches: a known tree found by the line's text without its digits ----------------------


def _digits_changed(line: str, rng: random.Random) -> str:
    """``line`` with its digits changed, dropped or doubled (so its sketch key, the text
    without digits, stays the same: numbers get other lengths, names other digits)."""
    out = []
    for ch in line:
        if not ch.isdigit():
            out.append(ch)
            continue
        roll = rng.random()
        if roll < 0.15:
            continue
        out.append(rng.choice("0123456789"))
        if roll < 0.3:
            out.append(rng.choice("0123456789"))
    return "".join(out)


def test_lines_that_differ_only_in_their_digits_read_as_the_full_parse_reads_them() -> None:
    rng = random.Random(3)
    texts = [shape.format(*numbers) for shape in SHAPES for numbers in NUMBERS]
    texts += [t for t in corpus()[:3000] if any(ch.isdigit() for ch in t)]
    lines = []
    for text in texts:
        for line in split_lines(text + "\n"):
            lines += [line] + [_digits_changed(line, rng) for _ in range(3)]
    cached = Parser()
    quick = [plain(item) for item in read_statements(lines, cached)]
    assert quick == [plain(item) for item in read_statements(lines, _full_parser())]
    assert sum(len(s) for s in cached.shapes.sketches.values()) > 50


@pytest.mark.parametrize("lines", [
    ["x1 = 2\n", "x12 = 3\n", "x = 4\n"],  # digits in a name are the name's
    ["y = x1*2\n", "y = x7*25\n"],
    ["sum([1.5, 2])\n", "sum([15, 2])\n", "sum([1e3, 2])\n", "sum([1e+3, 2])\n"],
    ["0x1f + 1\n", "0x1 + 12\n", "1 + 0x1f\n"],
    ["f = 12.5\n", "f = 1.\n", "f = .5\n"],
])
def test_a_sketch_never_reads_digits_as_another_token(lines) -> None:
    assert _parse(lines, Parser()) == _parse(lines, _full_parser())


def test_lines_whose_names_differ_in_their_digits_keep_few_sketches_a_key() -> None:
    lines = [f"x{i} = {i}\n" for i in range(50)] + [f"x{i} = {i + 1}\n" for i in range(50)]
    parser = Parser()
    assert _parse(lines, parser) == _parse(lines, _full_parser())
    assert [len(s) for s in parser.shapes.sketches.values()] == [4]  # the rest: scanned
    assert len(parser.shapes.trees) == 50
