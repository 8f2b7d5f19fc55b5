"""Results as a person reads them: the statement, its value, its gradients, its creator tree.

Everything the user typed is wrapped in ``rich.text.Text``, so it is never read as markup.
Colour only reaches a terminal; piped output, ``NO_COLOR`` and ``--no-color`` get plain text.
"""

from __future__ import annotations

import os
from typing import IO, Any

from rich.console import Console, Group, RenderableType
from rich.text import Text
from rich.tree import Tree

from gradcli.lang.results import Failure, Graph, Result
from gradcli.render.labels import node_parts, node_short_name, user_counts
from gradcli.render.plain import failure_text, warning_text
from gradcli.render.values import DEFAULT_PRECISION, format_array, shape_text

DEFAULT_DEPTH = 12  # deeper graphs are cut, with a note
DEFAULT_MAX_NODES = 300  # wider graphs are cut too: a tree of thousands of lines helps nobody


def make_console(file: IO[str] | None = None, *, no_color: bool = False) -> Console:
    """A rich Console on ``file``: styled on a terminal only, never wrapped when piped.

    ``no_color`` (or the NO_COLOR environment variable) gives plain text: no colour, no
    bold, no escape sequences at all.
    """
    plain = no_color or bool(os.environ.get("NO_COLOR"))
    console = Console(file=file, highlight=False)
    if not console.is_terminal:
        # Piped output is read by programs and pagers: never wrap it at 80 columns.
        return Console(file=file, highlight=False, width=10_000, color_system=None)
    if plain:
        return Console(file=file, highlight=False, color_system=None)
    return console


def render_tree(
    graph: Graph,
    *,
    precision: int = 4,
    max_depth: int = DEFAULT_DEPTH,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> RenderableType:
    """The creator graph as a tree from the output down to the leaves.

    A node used twice is drawn once and referred to after (``↑ y``); unnamed nodes that
    are referred to carry their ``#id``. Below ``max_depth`` levels the tree is cut, and a
    note says how many nodes were left out.
    """
    nodes = {node.id: node for node in graph.nodes}
    users = user_counts(graph)

    def label(node_id: int) -> Text:
        node = nodes[node_id]
        text = Text()
        for part, style in node_parts(node, precision):
            text.append(part, style=style or None)
        if users.get(node_id, 0) > 1 and not node.name:
            text.append(f"  #{node_id}", style="dim")
        return text

    root = Tree(label(graph.output), guide_style="dim")
    drawn = {graph.output}
    cut = False
    stack: list[tuple[int, Tree, int]] = [
        (source, root, 1) for source in reversed(nodes[graph.output].inputs)
    ]
    if max_depth <= 0 and nodes[graph.output].inputs:
        root.add(Text("…", style="dim"))
        cut = True
        stack = []
    while stack:
        node_id, parent, depth = stack.pop()
        if node_id in drawn:
            reference = node_short_name(nodes[node_id], precision)
            parent.add(Text(f"↑ {reference} (shown above)", style="dim"))
            continue
        if len(drawn) >= max_nodes:
            cut = True
            continue
        drawn.add(node_id)
        branch = parent.add(label(node_id))
        inputs = nodes[node_id].inputs
        if not inputs:
            continue
        if depth >= max_depth:
            branch.add(Text("…", style="dim"))
            cut = True
            continue
        stack.extend((source, branch, depth + 1) for source in reversed(inputs))
    if not cut:
        return root
    hidden = len(nodes) - len(drawn)
    note = Text(
        f"(graph cut: {hidden} of {len(nodes)} nodes not shown; "
        "`gradcli graph --format dot` shows them all)",
        style="dim",
    )
    return Group(root, note)


def _value_block(head: Text, value: Any, precision: int) -> RenderableType:
    """``head value`` on one line for a scalar, else ``head`` and the array indented below."""
    body = format_array(value, precision)
    if "\n" not in body and len(body) <= 60:
        return head.append(body)
    indented = "\n".join("  " + line for line in body.split("\n"))
    head.rstrip()
    return Group(head, Text(indented))


def render_result(
    result: Result,
    *,
    precision: int = DEFAULT_PRECISION,
    show_graph: bool = True,
    max_depth: int = DEFAULT_DEPTH,
    header: bool = True,
) -> RenderableType:
    """One reported statement: the statement, its value, each gradient, and its graph."""
    import numpy as np

    parts: list[RenderableType] = []
    if header:
        head = Text(f"line {result.line}: ", style="dim")
        head.append(result.source, style="bold")
        parts.append(head)
    value = np.asarray(result.value)
    lead = Text()
    if result.name:
        lead.append(result.name, style="bold")
        lead.append(" ")
    if value.ndim:
        lead.append(shape_text(value.shape), style="dim")
        lead.append(" ")
    lead.append("= ")
    parts.append(_value_block(lead, value, precision))
    if result.gradients is None:
        if result.note:
            parts.append(Text(f"gradients: none ({result.note})", style="yellow"))
    for name, gradient in (result.gradients or {}).items():
        gradient = np.asarray(gradient)
        head = Text()
        head.append(f"{name}.grad", style="magenta")
        head.append(f" {shape_text(gradient.shape)} = ", style="dim")
        parts.append(_value_block(head, gradient, precision))
    if show_graph and result.graph is not None and result.graph.nodes:
        parts.append(Text("graph:", style="dim"))
        parts.append(render_tree(result.graph, max_depth=max_depth))
    return Group(*parts)


def render_failure(failure: Failure) -> Text:
    """A failed statement for stderr, the first line in red."""
    text = failure_text(failure)
    first, _, rest = text.partition("\n")
    out = Text(first, style="bold red")
    if rest:
        out.append("\n" + rest)
    return out


def render_warning(message: str, line: int | None = None) -> Text:
    """A one-line warning (NaN or infinity from a valid operation)."""
    return Text(warning_text(message, line), style="yellow")
