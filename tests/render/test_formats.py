"""JSON Lines, DOT, Mermaid and value formatting, on hand-made results."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from gradcli.lang.results import Graph, GraphNode
from gradcli.lang.session import Session
from gradcli.render import jsonl
from gradcli.render.dot import render_dot
from gradcli.render.labels import node_label
from gradcli.render.mermaid import render_mermaid
from gradcli.render.values import format_array, format_scalar, short_value
from tests.render.render_support import walkthrough_graph


def strict(text):
    return json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


def test_result_record_matches_the_spec(walkthrough):
    record = strict(jsonl.render_result(walkthrough))
    assert list(record) == ["line", "source", "name", "value", "shape", "dtype", "gradients"]
    assert record == {
        "line": 4,
        "source": "out = mean(z)",
        "name": "out",
        "value": 27.0,
        "shape": [],
        "dtype": "float64",
        "gradients": {"x": [[4.5, 4.5], [4.5, 4.5]]},
    }


def test_graph_record(walkthrough):
    record = strict(jsonl.render_result(walkthrough, graph=True))
    graph = record["graph"]
    assert graph["output"] == 6
    assert graph["nodes"][2] == {
        "id": 2,
        "name": "y",
        "function": "Add",
        "inputs": [0, 1],
        "shape": [2, 2],
        "value": [[3.0, 3.0], [3.0, 3.0]],
    }


def test_non_finite_numbers_are_strings(nonscalar):
    record = strict(jsonl.render_result(nonscalar))
    assert record["value"] == ["nan", "inf", "-inf", 1.5]
    assert record["gradients"] is None and "--grad-output" in record["note"]


def test_graph_labels_and_json_show_a_node_detail():
    (result,) = Session(variables={"x": "[1, 2]"}).run("sum(x^2.5)")
    pow_node = next(n for n in result.graph.nodes if n.function == "Pow")
    assert node_label(pow_node).startswith("Pow ^2.5  (2,)")
    nodes = strict(jsonl.render_result(result, graph=True))["graph"]["nodes"]
    assert [n.get("detail") for n in nodes if n["function"]] == ["^2.5", None]
    assert 'label="Pow ^2.5' in render_dot(result.graph)


def test_warnings_key_only_when_there_are_warnings(walkthrough):
    assert "warnings" not in strict(jsonl.render_result(walkthrough))
    session = Session(variables={"x": "[0, 1]"})
    (result,) = session.run("log(x)")
    record = strict(jsonl.render_result(result))
    assert record["value"] == ["-inf", 0.0]
    assert record["warnings"] == ["log: divide by zero at 1 element"]


def test_nested_non_finite():
    assert jsonl.json_value(np.array([[np.nan, 1.0], [2.0, -np.inf]])) == [
        ["nan", 1.0],
        [2.0, "-inf"],
    ]
    assert jsonl.json_value(np.array(np.inf)) == "inf"
    assert jsonl.json_value(np.array(True)) == 1.0


def test_failure_record(failure):
    assert strict(jsonl.render_failure(failure)) == {
        "line": 2,
        "source": "y = q + 1",
        "error": {"type": "name", "message": "unknown name 'q'", "line": 2, "column": 5},
    }


def test_large_arrays_round_trip():
    big = np.random.default_rng(0).standard_normal(100_000)
    text = jsonl.dumps({"value": jsonl.json_value(big)})
    assert strict(text)["value"] == big.tolist()


def test_dot_labels_and_colours():
    dot = render_dot(walkthrough_graph())
    assert 'n2 [label="y = Add\\n(2, 2)\\n[[3.0, 3.0], [3.0, 3.0]]"' in dot
    assert "n0 -> n2;" in dot and "n5 -> n6;" in dot
    assert dot.count("#cfe8ff") == 1 and dot.count("#ffd59e") == 1  # one input, one output


def test_dot_escapes_quotes():
    node = GraphNode(0, 'a"b\\', None, "input", [], (), "float64", np.array(1.0))
    dot = render_dot(Graph([node], 0))
    assert 'label="a\\"b\\\\' in dot


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_dot_is_accepted_by_graphviz():
    done = subprocess.run(
        ["dot", "-Tsvg"],
        input=render_dot(walkthrough_graph()),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_mermaid():
    text = render_mermaid(walkthrough_graph())
    assert text.startswith("flowchart TD\n")
    assert '  n0(["x<br/>input<br/>(2, 2)<br/>[[1.0, 1.0], [1.0, 1.0]]"])' in text
    assert "  class n6 output" in text and "  class n0 input" in text
    assert "  class n1,n3 constant" in text


def test_values():
    assert format_scalar(27.0) == "27.0"
    assert format_scalar(1 / 3) == "0.333333"
    assert format_scalar(1e-7) == "1.0e-07"
    assert format_scalar(float("-inf")) == "-inf"
    assert format_array(np.ones((2, 2)) * 4.5) == "[[4.5 4.5]\n [4.5 4.5]]"
    assert "..." in format_array(np.arange(1000.0))
    assert short_value(np.arange(3.0)) == "[0.0, 1.0, 2.0]"
    assert len(short_value(np.arange(10000.0).reshape(100, 100))) <= 36
