"""The creator graph in Graphviz's DOT language: data flows from the inputs down to the output.

Inputs, constants and the output are filled in different colours; labels read like the
tree's (name = Function, shape, short value).
"""

from __future__ import annotations

from gradcli.lang.results import Graph
from gradcli.render.labels import node_label

FILL = {
    "input": "#cfe8ff",  # blue: receives a gradient
    "constant": "#eeeeee",  # grey: no gradient
    "computed": "#ffffff",
    "output": "#ffd59e",  # orange: the result
}


def _quote(text: str) -> str:
    """A DOT string literal; newlines become centred line breaks."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n") + '"'


def render_dot(graph: Graph, *, precision: int = 4, title: str | None = None) -> str:
    """The whole graph (no depth cut) as a ``digraph``."""
    lines = [
        "digraph gradcli {",
        "  rankdir=TB;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
        '  edge [color="#555555"];',
    ]
    if title:
        lines.append(f"  label={_quote(title)}; labelloc=t;")
    for node in graph.nodes:
        kind = "output" if node.id == graph.output else node.kind
        label = node_label(node, precision, separator="\n")
        extra = ", penwidth=2" if kind == "output" else ""
        shape = ", shape=ellipse" if node.kind != "computed" else ""
        lines.append(
            f'  n{node.id} [label={_quote(label)}, fillcolor="{FILL[kind]}"{shape}{extra}];'
        )
    for node in graph.nodes:
        for source in node.inputs:
            lines.append(f"  n{source} -> n{node.id};")
    lines.append("}")
    return "\n".join(lines) + "\n"
