"""Results as a person reads them: the statement, its value, its gradients, its creator tree.

The layout comes from gradcli.render.plain; this module draws it with rich: styles on a
terminal, wrapping to its width. Everything the user typed is wrapped in
``rich.text.Text``, so it is never read as markup. Colour only reaches a terminal; piped
output, ``NO_COLOR`` and ``--no-color`` get plain text.
"""

from __future__ import annotations

import os
from typing import IO, Any

from rich.console import Console, Group, RenderableType
from rich.text import Text
from rich.tree import Tree

from gradcli.lang.results import Failure, Graph, Result
from gradcli.render.plain import (
    DEFAULT_DEPTH,
    DEFAULT_MAX_NODES,
    PIPE_WIDTH,
    Branch,
    Layout,
    Spans,
    failure_text,
    result_layout,
    terminal_width,
    tree_layout,
    warning_text,
)

__all__ = [
    "DEFAULT_DEPTH",
    "DEFAULT_MAX_NODES",
    "make_console",
    "render_failure",
    "render_result",
    "render_tree",
    "render_warning",
]


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # rich would exit 1 on its own; the command line ends a closed pipe quietly, with
        # one exit status however the text was written (the group's BrokenPipeError: 141)
        self.quiet = True
        raise BrokenPipeError


def make_console(file: IO[str] | None = None, *, no_color: bool = False) -> Console:
    """A rich Console on ``file``: styled on a terminal only, never wrapped when piped.

    ``no_color`` (or the NO_COLOR environment variable) gives plain text: no colour, no
    bold, no escape sequences at all.
    """
    plain = no_color or bool(os.environ.get("NO_COLOR"))
    console = _Console(file=file, highlight=False)
    if not console.is_terminal:
        # Piped output is read by programs and pagers: never wrap it at 80 columns.
        return _Console(file=file, highlight=False, width=PIPE_WIDTH, color_system=None)
    # the width every layout is cut to (plain.terminal_width): rich and plain text agree
    width = terminal_width(console.file)
    if plain:
        return _Console(file=file, highlight=False, color_system=None, width=width)
    return _Console(file=file, highlight=False, width=width)


def _text(spans: Spans) -> Text:
    text = Text()
    for part, style in spans:
        text.append(part, style=style or None)
    return text


def _tree(root: Branch) -> Tree:
    tree = Tree(_text(root.label), guide_style="dim")
    stack = [(tree, root)]
    while stack:
        drawn, branch = stack.pop()
        stack.extend((drawn.add(_text(child.label)), child) for child in branch.children)
    return tree


def _block(block: Spans | Branch) -> RenderableType:
    return _tree(block) if isinstance(block, Branch) else _text(block)


def _draw(blocks: Layout) -> RenderableType:
    drawn = [_block(block) for block in blocks]
    return drawn[0] if len(drawn) == 1 else Group(*drawn)


def render_tree(graph: Graph, **options: Any) -> RenderableType:
    """The creator graph as a tree from the output down to the leaves.

    A node used twice is drawn once and referred to after (``↑ y``); below ``max_depth``
    levels, or past ``max_nodes`` nodes, the tree is cut with a note. The options and
    their defaults are plain.tree_layout's (one layout for both renderers).
    """
    return _draw(tree_layout(graph, **options))


def render_result(result: Result, **options: Any) -> RenderableType:
    """One reported statement: the statement, its value, each gradient, and its graph.

    The options (precision, show_graph, max_depth, header) are plain.result_layout's.
    """
    return Group(*map(_block, result_layout(result, **options)))


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
