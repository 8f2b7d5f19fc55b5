"""The rich renderer, on hand-made results: values, gradients, the creator tree."""

from __future__ import annotations

import io

import numpy as np
from rich.text import Text

from gradcli.lang.results import Graph, GraphNode
from gradcli.render.console import make_console, render_failure, render_result, render_tree
from tests.render.render_support import chain_graph, walkthrough_graph


def text_of(renderable) -> str:
    buffer = io.StringIO()
    make_console(buffer).print(renderable)
    return buffer.getvalue()


def test_result_shows_statement_value_gradients_and_graph(walkthrough):
    out = text_of(render_result(walkthrough))
    lines = out.splitlines()
    assert lines[0] == "line 4: out = mean(z)"
    assert lines[1] == "out = 27.0"
    assert lines[2] == "x.grad (2, 2) ="
    assert lines[3:5] == ["  [[4.5 4.5]", "   [4.5 4.5]]"]
    assert "graph:" in lines
    assert "\x1b[" not in out  # not a terminal: plain text


def test_no_graph(walkthrough):
    assert "Mean" not in text_of(render_result(walkthrough, show_graph=False))


def test_tree_names_functions_shapes_and_leaf_kinds():
    out = text_of(render_tree(walkthrough_graph()))
    lines = out.splitlines()
    assert lines[0] == "out = Mean  ()  27.0"
    assert "z = Mul  (2, 2)  [[27.0, 27.0], [27.0, 27.0]]" in lines[1]
    assert any("x  input  (2, 2)" in line for line in lines)
    assert any("3.0  constant" in line for line in lines)


def test_a_node_used_twice_is_drawn_once_and_referred_to():
    out = text_of(render_tree(walkthrough_graph()))
    assert out.count("2.0  constant") == 1
    assert "#1" in out and "↑ 2.0 #1 (shown above)" in out


def test_deep_graphs_are_cut_with_a_note():
    out = text_of(render_tree(chain_graph(1000), max_depth=5))
    assert len(out.splitlines()) < 12
    assert "graph cut" in out and "of 1001 nodes" in out


def test_wide_graphs_are_cut_too():
    nodes = [
        GraphNode(i, f"v{i}", None, "input", [], (), "float64", np.array(1.0)) for i in range(1000)
    ]
    nodes.append(
        GraphNode(
            1000, None, "Stack", "computed", list(range(1000)), (1000,), "float64", np.ones(1000)
        )
    )
    out = text_of(render_tree(Graph(nodes, 1000), max_nodes=50))
    assert len(out.splitlines()) < 60 and "graph cut" in out


def test_large_values_are_summarised(walkthrough):
    walkthrough.value = np.arange(10000.0)
    walkthrough.gradients = {}
    out = text_of(render_result(walkthrough, show_graph=False))
    assert "..." in out and len(out) < 400


def test_precision(walkthrough):
    walkthrough.value = np.array(1 / 3)
    assert "out = 0.333\n" in text_of(render_result(walkthrough, precision=3))


def test_markup_in_user_text_is_shown_as_typed(walkthrough):
    walkthrough.source = "[bold red]x[/bold red] + 1"
    walkthrough.name = "[b]"
    out = text_of(render_result(walkthrough))
    assert "[bold red]x[/bold red] + 1" in out and "[b] = 27.0" in out


def test_note_when_gradients_are_absent(nonscalar):
    out = text_of(render_result(nonscalar))
    assert "gradients: none (gradients need a scalar output" in out
    assert "[ nan  inf -inf  1.5]" in out


def test_failure_has_position_source_caret_and_hint(failure):
    out = text_of(render_failure(failure))
    assert out.splitlines() == [
        "error: line 2, column 5: unknown name 'q'",
        "  y = q + 1",
        "      ^",
        "did you mean 'x'?",
    ]


def test_colour_only_on_a_terminal(walkthrough, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    buffer = io.StringIO()
    buffer.isatty = lambda: True
    console = make_console(buffer)
    console.print(render_result(walkthrough))
    assert "\x1b[" in buffer.getvalue()
    plain = io.StringIO()
    plain.isatty = lambda: True
    make_console(plain, no_color=True).print(render_result(walkthrough))
    assert "\x1b[" not in plain.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    env_plain = io.StringIO()
    env_plain.isatty = lambda: True
    make_console(env_plain).print(Text("hi", style="bold red"))
    assert env_plain.getvalue() == "hi\n"
