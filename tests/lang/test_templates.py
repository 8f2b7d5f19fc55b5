"""The parse templates: a line that differs from an earlier one only in its numbers gets
exactly what the full LALR parse would give (instructions, spans, source, errors)."""

from __future__ import annotations

import pytest

from gradcli.lang.reader import Broken, Parser, read_statements
from gradcli.lang.session import Session

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
]
NUMBERS = [("1", "2"), ("12.5", "0"), ("3", "456"), ("7", "8"), ("100000", "9")]


def _plain(item):
    if isinstance(item, Broken):
        e = item.error
        return ("broken", item.line, item.source, type(e).__name__, e.message, e.span)
    return ("parsed", item.line, item.source, item.code, item.target, item.context,
            item.first_line)


def _parse(lines, parser):
    return [_plain(item) for item in read_statements(lines, parser)]


def _full_parser() -> Parser:
    parser = Parser()
    parser.templates.enabled = False
    return parser


@pytest.mark.parametrize("shape", SHAPES)
def test_templates_give_what_the_full_parse_gives(shape) -> None:
    lines = [shape.format(*numbers) + "\n" for numbers in NUMBERS] * 2
    quick = Parser()
    assert _parse(lines, quick) == _parse(lines, _full_parser())
    learnt = list(quick.templates.templates.values())
    assert learnt and all(t is not None for t in learnt)  # learnt, then used


def test_a_template_is_used_after_two_lines_with_other_numbers() -> None:
    parser = Parser()
    lines = ["x * 2 + 3\n", "x * 4 + 5\n", "x * 6 + 70\n"]
    assert _parse(lines, parser) == _parse(lines, _full_parser())
    (template,) = parser.templates.templates.values()
    assert template is not None


def test_lines_with_different_tokens_never_share_a_template() -> None:
    lines = ["x + 1\n", "x - 1\n", "y + 1\n", "x + 2\n", "x - 3\n", "y + 4\n", "x+5\n"]
    assert _parse(lines, Parser()) == _parse(lines, _full_parser())


def test_lines_the_quick_path_does_not_take_go_the_full_way() -> None:
    lines = [
        "x = 1; y = 2\n", "x = 3; y = 4\n",  # two statements on a line
        "sum(x,\n", "  2)\n", "sum(x,\n", "  5)\n",  # a statement over two lines
        "x + \\\n", "1\n", "x + \\\n", "2\n",  # a continuation
        "2x\n", "3x\n", "4 $ 5\n", "6 $ 7\n",  # errors
        "(1 + 2\n", "(3 + 4\n",  # an unclosed bracket
        "1 +\n", "2 +\n",
        "\n", "# only a comment\n",
    ]
    assert _parse(lines, Parser()) == _parse(lines, _full_parser())


def test_errors_have_the_same_positions_through_a_template() -> None:
    program = "".join(f"x + ones({n}) + {n}\n" for n in (3, 5, 7, 11, 13))

    def outcomes(enabled: bool):
        session = Session(variables={"x": "ones(2, 2)"})
        parser = Parser()
        parser.templates.enabled = enabled
        import gradcli.lang.reader as reader

        saved = getattr(reader._LOCAL, "parser", None)
        reader._LOCAL.parser = parser
        try:
            return [(type(o).__name__, o.line, o.source, getattr(o, "error", None) and (
                o.error.message, o.error.span)) for o in session.run(program)]
        finally:
            reader._LOCAL.parser = saved

    quick, full = outcomes(True), outcomes(False)
    assert quick == full
    assert all(kind == "Failure" for kind, *_ in quick)


def test_a_built_in_cannot_be_assigned_through_a_template() -> None:
    lines = ["sum = 1\n", "sum = 2\n", "sum = 3\n"]
    parsed = _parse(lines, Parser())
    assert parsed == _parse(lines, _full_parser())
    assert all(item[0] == "broken" for item in parsed)


def test_a_repeated_line_gets_a_template_too() -> None:
    parser = Parser()
    lines = ["y = y * 1.000001 + 0.5\n"] * 4
    assert _parse(lines, parser) == _parse(lines, _full_parser())
    (template,) = parser.templates.templates.values()
    assert template is not None
