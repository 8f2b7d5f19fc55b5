"""The plain-text renderer prints exactly what rich prints to a pipe; rich is the oracle."""

from __future__ import annotations

import io

import numpy as np
import pytest

from gradcli.lang.results import Graph, GraphNode, Result
from gradcli.render import plain
from gradcli.render.console import (
    make_console,
    render_failure,
    render_result,
    render_tree,
    render_warning,
)
from tests.render.plain_cases import failures, results
from tests.render.render_support import chain_graph, walkthrough_graph

OPTIONS = [
    {},
    {"precision": 2},
    {"precision": 0},
    {"precision": 17},
    {"show_graph": False},
    {"max_depth": 1},
    {"max_depth": 3},
    {"header": False},
]


def piped(renderable) -> str:
    """What rich writes for ``renderable`` to output that is not a terminal."""
    buffer = io.StringIO()
    make_console(buffer).print(renderable)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def program_results() -> list[Result]:
    return results()


def test_results_of_many_programs(program_results):
    assert len(program_results) > 20
    for result in program_results:
        for options in OPTIONS:
            text = plain.result_text(result, **options)
            assert text is not None
            assert text == piped(render_result(result, **options)), (result.source, options)


def test_the_cases_cover_what_the_output_can_hold(program_results):
    texts = "".join(plain.result_text(result) for result in program_results)
    for piece in ("↑ ", "(shown above)", "graph cut", "gradients: none", "...", "\n  [[",
                  "x.grad (2, 2) =\n", "nan", "-inf", "e+20", "├── ", "│   "):
        assert piece in texts, piece
    assert "…" not in texts  # one ellipsis style: "...", as NumPy's summaries write it


@pytest.mark.parametrize("width", [20, 40, 80])
def test_a_terminal_width_cuts_labels_the_same_way(program_results, width):
    """Laid out for a terminal ``width`` wide, the text is rich's where plain gives any,
    and every tree line fits the width."""
    written = 0
    for result in program_results:
        for options in ({"width": width}, {"width": width, "precision": 2, "note": False}):
            blocks = plain.result_layout(result, **options)
            for block in blocks:
                if isinstance(block, plain.Branch):
                    assert all(len(line) <= width for line in plain._tree_lines(block))
            text = plain.result_text(result, **options)
            if text is not None:
                written += 1
                assert all(len(line) <= width for line in text.splitlines())
                assert text == piped(render_result(result, **options)), (result.source, options)
    assert written > 10


@pytest.mark.parametrize("max_depth", [0, 1, 2, 5, 12])
@pytest.mark.parametrize("max_nodes", [1, 3, 300])
def test_trees_with_shared_nodes_and_cuts(max_depth, max_nodes):
    for graph in (walkthrough_graph(), chain_graph(40)):
        options = {"max_depth": max_depth, "max_nodes": max_nodes}
        assert plain.tree_text(graph, **options) == piped(render_tree(graph, **options))
        assert plain.tree_text(graph, precision=1) == piped(render_tree(graph, precision=1))


def test_unnamed_shared_nodes_carry_their_id(walkthrough):
    text = plain.result_text(walkthrough)
    assert "2.0  constant  #1" in text and "↑ 2.0 #1 (shown above)" in text
    assert text == piped(render_result(walkthrough))


def test_wide_graph_cut():
    nodes = [GraphNode(i, f"v{i}", None, "input", [], (), "float64", np.array(1.0))
             for i in range(500)]
    nodes.append(GraphNode(500, None, "Stack", "computed", list(range(500)), (500,),
                           "float64", np.ones(500)))
    graph = Graph(nodes, 500)
    text = plain.tree_text(graph, max_nodes=50)
    assert "graph cut: 451 of 501 nodes" in text
    assert text == piped(render_tree(graph, max_nodes=50))


def test_failures_and_warnings(failure):
    every = [failure, *failures()]
    assert len(every) >= 5
    for one in every:
        assert plain.block_text(plain.failure_text(one)) == piped(render_failure(one))
    for message, line in (("log: divide by zero at 1 element", 3), ("line 2: x", 2), ("x", None)):
        text = plain.block_text(plain.warning_text(message, line))
        assert text == piped(render_warning(message, line))


@pytest.mark.parametrize(
    "source",
    [
        "a\tb = 1\t+\t2",  # tabs, expanded to rich's stops
        "x\x07 + \x08y\x0b\x0c\r",  # control codes rich drops
        "f(1,\n\t2)\n",  # several lines, a tab on the second, a trailing newline
        "naïve = 2 → 3 ✓ 漢字",  # characters wider and narrower than one cell
        "\x1b[31mred\x1b[0m",  # escape sequences pass through (rich does not parse Text)
        "[bold]x[/bold]",
        "x" * 9_000,  # long, but not so long that rich wraps it
    ],
)
def test_user_text_as_rich_shows_it(walkthrough, source):
    walkthrough.source = source
    walkthrough.name = "out\t1" if "\t" in source else walkthrough.name
    text = plain.result_text(walkthrough)
    assert text == piped(render_result(walkthrough))


@pytest.mark.parametrize("source", ["x" * 10_001, "漢" * 6_000, "漢字\tx"])
def test_where_rich_would_differ_the_answer_is_none(walkthrough, source):
    walkthrough.source = source
    assert plain.result_text(walkthrough) is None


def _stream(*, tty: bool, encoding: str = "utf-8") -> io.TextIOWrapper:
    stream = io.TextIOWrapper(io.BytesIO(), encoding=encoding)
    stream.isatty = lambda: tty
    return stream


@pytest.mark.parametrize("tty", [False, True])
@pytest.mark.parametrize("no_color", [False, True])
@pytest.mark.parametrize(
    "env",
    [{}, {"NO_COLOR": "1"}, {"NO_COLOR": ""}, {"FORCE_COLOR": "1"}, {"FORCE_COLOR": ""},
     {"TTY_COMPATIBLE": "0"}, {"TTY_COMPATIBLE": "1"}, {"TTY_COMPATIBLE": "0", "NO_COLOR": "1"}],
)
def test_plain_exactly_where_rich_gives_no_colour(monkeypatch, tty, no_color, env):
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    console = make_console(_stream(tty=tty), no_color=no_color)
    assert plain.writes_plain(_stream(tty=tty), no_color=no_color) == (
        console.color_system is None
    )
    if not console.is_terminal:  # and there the text is byte for byte rich's
        assert console.width == plain.PIPE_WIDTH


def test_an_encoding_rich_draws_ascii_guides_for_is_left_to_rich(monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    assert plain.writes_plain(_stream(tty=False))
    assert not plain.writes_plain(_stream(tty=False, encoding="ascii"))
    assert not plain.writes_plain(None)


@pytest.mark.parametrize("source", ["sum(x + # a\x1b\td\x00\te\n 2)", "x # \x1b[31mred\x7f",
                                    "x # tab\tthen \x1b"])
def test_control_characters_in_a_statement_never_reach_the_output(source):
    from gradcli.lang.session import Session

    session = Session(variables={"x": "1"})
    (result,) = session.run(source + "\n")
    text = plain.result_text(result)
    rich_text = piped(render_result(result))
    assert "\x1b" not in rich_text and "\x00" not in rich_text and "\x7f" not in rich_text
    assert ("U+001B" in rich_text) == ("\n" in source)  # (the comment is in the statement)
    assert text is None or text == rich_text  # plain text, exactly, or rich draws it


def test_wrapped_spans_break_between_words_and_keep_their_styles():
    spans = [("line 1: ", "dim"), ("a  +  b +   c\nd + eeeeeeeeeee", "bold")]
    wrapped = plain.wrap_spans(spans, 8)
    text = "".join(part for part, _ in wrapped)
    assert text.split("\n") == ["line 1:", "a  +  b", "+   c", "d +", "eeeeeeee", "eee"]
    assert [style for part, style in wrapped if part.strip()] == ["dim", *["bold"] * 5]
    assert plain.wrap_spans(spans, None) == spans
