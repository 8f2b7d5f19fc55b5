"""One way to label a graph node, shared by the tree, DOT and Mermaid renderers."""

from __future__ import annotations

from gradcli.lang.results import Graph, GraphNode
from gradcli.render.values import shape_text, short_value

# Styles for the rich tree; DOT and Mermaid use the plain text of the same parts.
STYLE_NAME = "bold"
STYLE_FUNCTION = "cyan"
STYLE_INPUT = "green"
STYLE_CONSTANT = "yellow"
STYLE_SHAPE = "dim"
STYLE_VALUE = ""


def node_parts(node: GraphNode, precision: int = 4) -> list[tuple[str, str]]:
    """The label of ``node`` as (text, style) parts: title, kind, shape, short value.

    ``z = Mul  (2, 2)  [[27, 27], [27, 27]]``; ``x  input  (2, 2)  [[1, 1], [1, 1]]``;
    ``2.0  constant  ()`` for an unnamed constant, whose value is its title.
    """
    value = short_value(node.value, precision) if node.value is not None else ""
    parts: list[tuple[str, str]] = []
    if node.kind == "computed":
        if node.name:
            parts.append((node.name, STYLE_NAME))
            parts.append((" = ", ""))
        function = node.function or "?"
        parts.append((f"{function} {node.detail}" if node.detail else function, STYLE_FUNCTION))
    elif node.kind == "input":
        parts.append((node.name or "input", STYLE_NAME))
        parts.append(("  input", STYLE_INPUT))
    else:
        if node.name:
            parts.append((node.name, STYLE_NAME))
        elif value and len(node.shape) == 0:
            parts.append((value, STYLE_NAME))
            parts.append(("  constant", STYLE_CONSTANT))
            return parts
        else:
            parts.append(("constant", STYLE_CONSTANT))
            parts.append(("  " + shape_text(node.shape), STYLE_SHAPE))
            if value:
                parts.append(("  " + value, STYLE_VALUE))
            return parts
        parts.append(("  constant", STYLE_CONSTANT))
    parts.append(("  " + shape_text(node.shape), STYLE_SHAPE))
    if value:
        parts.append(("  " + value, STYLE_VALUE))
    return parts


def node_label(node: GraphNode, precision: int = 4, separator: str = "  ") -> str:
    """The plain-text label of ``node``; ``separator`` replaces the gaps between parts."""
    text = "".join(part for part, _ in node_parts(node, precision))
    if separator != "  ":
        text = text.replace("  ", separator)
    return text


def node_short_name(node: GraphNode, precision: int = 4) -> str:
    """How a node is referred to after it has been drawn: its name, or ``Pow #4``, ``2.0 #1``."""
    if node.name:
        return node.name
    return f"{node_parts(node, precision)[0][0]} #{node.id}"


def user_counts(graph: Graph) -> dict[int, int]:
    """How many edges lead out of each node (a node used twice counts 2)."""
    counts = {node.id: 0 for node in graph.nodes}
    for node in graph.nodes:
        for source in node.inputs:
            counts[source] = counts.get(source, 0) + 1
    return counts
