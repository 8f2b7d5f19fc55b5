"""Hand-made graphs: the renderers are tested without the language."""

from __future__ import annotations

import numpy as np

from gradcli.lang.results import Graph, GraphNode


def walkthrough_graph() -> Graph:
    """x = ones(2,2); y = x + 2; z = 3*y^2; out = mean(z)  (y is used once, by Pow)."""
    x = np.ones((2, 2))
    y = x + 2
    y2 = y**2
    z = 3 * y2
    nodes = [
        GraphNode(0, "x", None, "input", [], (2, 2), "float64", x),
        GraphNode(1, None, None, "constant", [], (), "float64", np.array(2.0)),
        GraphNode(2, "y", "Add", "computed", [0, 1], (2, 2), "float64", y),
        GraphNode(3, None, None, "constant", [], (), "float64", np.array(3.0)),
        GraphNode(4, None, "Pow", "computed", [2, 1], (2, 2), "float64", y2),
        GraphNode(5, "z", "Mul", "computed", [3, 4], (2, 2), "float64", z),
        GraphNode(6, "out", "Mean", "computed", [5], (), "float64", np.array(27.0)),
    ]
    return Graph(nodes, 6)


def chain_graph(length: int) -> Graph:
    """x, then ``length`` Exp nodes in a row."""
    nodes = [GraphNode(0, "x", None, "input", [], (), "float64", np.array(0.0))]
    for i in range(1, length + 1):
        nodes.append(GraphNode(i, None, "Exp", "computed", [i - 1], (), "float64", np.array(1.0)))
    return Graph(nodes, length)
