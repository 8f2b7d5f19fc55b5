"""Results, failures and warnings as plain text: what a pipe gets, without loading rich.

A result is laid out once, here, as lines of (text, style) parts and a creator tree of
such labels. console.py draws that layout with rich (colour, wrapping on a terminal);
this module joins its text. For output that is not a terminal the two agree byte for
byte; where this module cannot promise that (a line too wide for rich not to wrap it,
a tab beside characters of uncertain width) it answers None, and where rich would draw
differently (ASCII guides for a non-UTF encoding) ``writes_plain`` says no: then the
caller uses rich.

Kept because a pipe notices it (measured for issue 12, medians of 41-61 interleaved runs
on a loaded machine): through rich, `gradcli eval '1+2' | cat` takes 21 ms more (9 ms of
CPU: importing rich.console alone is 13 ms), and a stream of 100 results 124 ms more
(104 ms of CPU, 1 ms a result). tests/render/test_plain.py and
tests/cli/test_plain_output.py hold its text to rich's, so it cannot drift from it.
"""

from __future__ import annotations

import os
import sys
from typing import IO, Any

from gradcli.lang.errors import printable
from gradcli.lang.records import Record
from gradcli.lang.results import Failure, Graph, Result
from gradcli.render.labels import node_parts, node_short_name, user_counts
from gradcli.render.values import DEFAULT_PRECISION, format_array, shape_text

DEFAULT_DEPTH = 12  # deeper graphs are cut, with a note
DEFAULT_MAX_NODES = 300  # wider graphs are cut too: a tree of thousands of lines helps nobody
PIPE_WIDTH = 10_000  # the width rich is given for output that is not a terminal
ELLIPSIS = "..."  # the one mark of text left out: NumPy's, and ASCII for any encoding
MIN_WIDTH = 20  # narrower terminals are laid out as if this wide
LABEL_ROOM = 12  # the fewest characters a tree label keeps: deeper trees are cut sooner

Spans = list[tuple[str, str]]  # one block of text as (text, rich style or "") parts


class Branch(Record):
    """One node of a creator tree as drawn: its label and the branches below it."""

    __slots__ = __match_args__ = ("label", "children")

    def __init__(self, label: Spans, children: list[Branch] | None = None) -> None:
        self.label = label
        self.children = [] if children is None else children


Layout = list[Spans | Branch]  # blocks, one under the other


# -- the layout, shared with console.py ------------------------------------------------------


def tree_layout(
    graph: Graph,
    *,
    precision: int = 4,
    max_depth: int = DEFAULT_DEPTH,
    max_nodes: int = DEFAULT_MAX_NODES,
    width: int | None = None,
) -> Layout:
    """The creator graph as a tree from the output down to the leaves.

    A node used twice is drawn once and referred to after (``↑ y``); unnamed nodes that
    are referred to carry their ``#id``. Below ``max_depth`` levels, or past ``max_nodes``
    nodes, the tree is cut and a note under it says how many nodes were left out.
    With ``width`` (a terminal's), every label fits on its line: it is cut from its end
    (the value goes first) with ``...``, and the tree is cut at the depth where fewer
    than LABEL_ROOM characters would be left beside the guides.
    """
    nodes = {node.id: node for node in graph.nodes}
    users = user_counts(graph)
    if width is not None:
        width = max(width, MIN_WIDTH)
        max_depth = min(max_depth, (width - LABEL_ROOM) // len(GUIDE_FORK))

    def branch(node_id: int, depth: int = 0) -> Branch:
        node = nodes[node_id]
        label = node_parts(node, precision)
        mark: Spans = []
        if users.get(node_id, 0) > 1 and not node.name:
            mark = [(f"  #{node_id}", "dim")]
        if width is not None:
            room = width - len(GUIDE_FORK) * depth
            label = fit_spans(label, room - sum(len(text) for text, _ in mark))
        return Branch(label + mark)

    root = branch(graph.output)
    drawn = {graph.output}
    cut = False
    stack = [(source, root, 1) for source in reversed(nodes[graph.output].inputs)]
    if max_depth <= 0 and nodes[graph.output].inputs:
        root.children.append(Branch([(ELLIPSIS, "dim")]))
        cut = True
        stack = []
    while stack:
        node_id, parent, depth = stack.pop()
        if node_id in drawn:
            reference: Spans = [(f"↑ {node_short_name(nodes[node_id], precision)} (shown above)",
                                 "dim")]
            if width is not None:
                reference = fit_spans(reference, width - len(GUIDE_FORK) * depth)
            parent.children.append(Branch(reference))
            continue
        if len(drawn) >= max_nodes:
            cut = True
            continue
        drawn.add(node_id)
        child = branch(node_id, depth)
        parent.children.append(child)
        inputs = nodes[node_id].inputs
        if not inputs:
            continue
        if depth >= max_depth:
            child.children.append(Branch([(ELLIPSIS, "dim")]))
            cut = True
            continue
        stack.extend((source, child, depth + 1) for source in reversed(inputs))
    if not cut:
        return [root]
    hidden = len(nodes) - len(drawn)
    note = (
        f"(graph cut: {hidden} of {len(nodes)} nodes not shown; "
        "`gradcli graph --format dot` shows them all)"
    )
    # wrapped here: rich would leave a space at each line's end
    return [root, wrap_spans([(note, "dim")], width)]


def fit_spans(spans: Spans, room: int) -> Spans:
    """``spans`` cut from the end to at most ``room`` characters, ending in ``...``."""
    if sum(len(text) for text, _ in spans) <= room:
        return spans
    keep = max(room - len(ELLIPSIS), 1)
    fitted: Spans = []
    for text, style in spans:
        if keep <= 0:
            break
        fitted.append((text[:keep], style))
        keep -= len(text)
    text, style = fitted[-1]
    # no half-cut separator before the mark: "[0.45..." rather than "[0.45, ....."
    fitted[-1] = (text.rstrip(" ,.[") or text[:1], style)
    return [*fitted, (ELLIPSIS, "dim")]


def wrap_spans(spans: Spans, width: int | None) -> Spans:
    """``spans`` with their lines wrapped between words to ``width`` (a word longer than
    that is cut), and no line ending in spaces: what rich's wrapping would give, less the
    spaces it leaves at the breaks. None for ``width``: as they are."""
    if width is None:
        return spans
    chars = [(c, style) for text, style in spans for c in text]
    out: list[tuple[str, str]] = []
    line: list[tuple[str, str]] = []
    for c, style in [*chars, ("\n", "")]:
        if c != "\n":
            line.append((c, style))
            if len(line) <= width:
                continue
            text = "".join(ch for ch, _ in line)
            cut = text.rfind(" ", 0, width + 1)
            head, line = (line[:cut], line[cut + 1:]) if cut > 0 else (line[:width],
                                                                       line[width:])
        else:
            head, line = line, []
        while head and head[-1][0] == " ":
            head.pop()
        out += [*head, ("\n", "")]
    out.pop()  # the newline added after the last line
    merged: Spans = []
    for c, style in out:
        if merged and merged[-1][1] == style:
            merged[-1] = (merged[-1][0] + c, style)
        else:
            merged.append((c, style))
    return merged


def wrap_text(text: str, width: int | None) -> list[str]:
    """``text``'s lines, wrapped between words to ``width`` as wrap_spans wraps them."""
    return "".join(part for part, _ in wrap_spans([(text, "")], width)).split("\n")


def _value_blocks(head: Spans, value: Any, precision: int, width: int | None = None) -> Layout:
    """``head value`` on one line for a scalar, else ``head`` and the array indented below
    (wrapped to ``width``, a terminal's, where given)."""
    room = 75 if width is None else max(width, MIN_WIDTH) - 2
    body = format_array(value, precision, room)
    limit = 60 if width is None else min(60, room + 2 - sum(len(text) for text, _ in head))
    if "\n" not in body and len(body) <= limit:
        return [[*head, (body, "")]]
    indented = "\n".join("  " + line for line in body.split("\n"))
    text, style = head[-1]
    return [[*head[:-1], (text.rstrip(), style)], [(indented, "")]]


def result_layout(
    result: Result,
    *,
    precision: int = DEFAULT_PRECISION,
    show_graph: bool = True,
    max_depth: int = DEFAULT_DEPTH,
    header: bool = True,
    note: bool = True,
    width: int | None = None,
) -> Layout:
    """One reported statement: the statement, its value, each gradient, and its graph.

    ``note`` False leaves out why a non-scalar result has no gradients (said once per
    run); ``width`` is the terminal's, where the output goes to one. A result that
    depends on no input has no graph to show (it would be a lone constant).
    """
    import numpy as np

    blocks: Layout = []
    if header:
        blocks.append(wrap_spans([(f"line {result.line}: ", "dim"),
                                  (_safe(result.source), "dim bold")], width))
    value = np.asarray(result.value)
    lead: Spans = [(result.name, "bold"), (" ", "")] if result.name else []
    if value.ndim:
        lead += [(shape_text(value.shape), "dim"), (" ", "")]
    blocks += _value_blocks([*lead, ("= ", "")], value, precision, width)
    if result.gradients is None and result.note and note:
        blocks.append(wrap_spans([(f"gradients: none ({result.note})", "yellow")], width))
    for name, gradient in (result.gradients or {}).items():
        gradient = np.asarray(gradient)
        head = [(f"{name}.grad", "magenta"), (f" {shape_text(gradient.shape)} = ", "dim")]
        blocks += _value_blocks(head, gradient, precision, width)
    if show_graph and has_inputs(result.graph):
        blocks.append([("graph:", "dim")])
        blocks += tree_layout(result.graph, precision=min(precision, 4), max_depth=max_depth,
                              width=width)
    return blocks


def has_inputs(graph: Graph | None) -> bool:
    """Whether ``graph`` reaches an input: a graph of constants alone is not shown."""
    return graph is not None and any(node.kind == "input" for node in graph.nodes)


# -- plain text ------------------------------------------------------------------------------

GUIDE_SPACE, GUIDE_CONTINUE, GUIDE_FORK, GUIDE_END = "    ", "│   ", "├── ", "└── "
_STRIPPED = dict.fromkeys((7, 8, 11, 12, 13))  # the control codes rich removes from text


def _safe(source: str) -> str:
    """The user's statement with control characters and bidi overrides as U+XXXX."""
    return printable(source, newlines=True)


class _NeedsRich(Exception):
    """The text is one this module cannot promise to lay out exactly as rich does."""


def _shown(spans: Spans) -> list[str]:
    """A block's lines as rich shows them: control codes dropped, tabs expanded."""
    text = "".join(part for part, _ in spans).translate(_STRIPPED)
    if "\t" in text:
        # rich counts terminal cells to the next tab stop: wide and control characters
        # (which take no cell there, one in expandtabs) are left to it
        if not text.isascii() or any(c < " " and c not in "\t\n" or c == "\x7f"
                                     for c in text):
            raise _NeedsRich
        text = text.expandtabs(8)
    return text.split("\n")


def _tree_lines(root: Branch) -> list[str]:
    """The tree with rich's guides: ``├── `` before a branch, ``│   `` beside its subtree."""
    lines = _shown(root.label)
    stack = [(root.children, 0, "")]
    while stack:
        children, index, indent = stack.pop()
        if index == len(children):
            continue
        stack.append((children, index + 1, indent))
        last = index == len(children) - 1
        child = children[index]
        label = _shown(child.label)
        lines.append(indent + (GUIDE_END if last else GUIDE_FORK) + label[0])
        below = indent + (GUIDE_SPACE if last else GUIDE_CONTINUE)
        lines += [below + line for line in label[1:]]
        stack.append((child.children, 0, below))
    return lines


def _fits(line: str) -> bool:
    """Whether rich, at PIPE_WIDTH, leaves the line whole (a character is at most 2 cells)."""
    return len(line) <= PIPE_WIDTH // 2 or (line.isascii() and len(line) <= PIPE_WIDTH)


def _narrow(line: str, width: int) -> bool:
    """Whether ``line`` surely takes at most ``width`` cells (one per character)."""
    return len(line) <= width and all(c.isascii() or c in _ONE_CELL for c in line)


_ONE_CELL = frozenset(GUIDE_CONTINUE + GUIDE_FORK + GUIDE_END + "↑")


def layout_text(blocks: Layout, width: int | None = None) -> str | None:
    """The blocks as rich prints them to a pipe, one line each; None where rich must say
    (and, on a terminal ``width`` wide, where a line is wider: rich wraps it)."""
    lines: list[str] = []
    try:
        for block in blocks:
            lines += _tree_lines(block) if isinstance(block, Branch) else _shown(block)
    except _NeedsRich:
        return None
    if not all(map(_fits, lines)):
        return None
    if width is not None and not all(_narrow(line, width) for line in lines):
        return None
    return "\n".join(lines) + "\n"


def block_text(text: str) -> str | None:
    """Unstyled text (a failure, a warning) as rich prints it to a pipe."""
    return layout_text([[(text, "")]])


def result_text(result: Result, **options: Any) -> str | None:
    """A result as ``console.render_result`` prints it to a pipe (same options)."""
    return layout_text(result_layout(result, **options), options.get("width"))


def tree_text(graph: Graph, **options: Any) -> str | None:
    """A creator tree as ``console.render_tree`` prints it to a pipe (same options)."""
    return layout_text(tree_layout(graph, **options), options.get("width"))


def failure_text(failure: Failure) -> str:
    """A failure as a person reads it: position, message, source line, caret, hint."""
    error = failure.error
    render = getattr(error, "render", None)
    if render is None:
        return f"error: line {failure.line}: {printable(str(error), newlines=True)}"
    if getattr(error, "source", None) is None and getattr(error, "span", None) is not None:
        # The span counts lines from the program's start; pad the statement to match.
        return error_text(error, "\n" * max(failure.line - 1, 0) + failure.source)
    return error_text(error)


def error_text(error: Any, source: str | None = None) -> str:
    """A GradcliError as a person reads it (``render``), always starting "error"."""
    text = error.render(source)
    return text if text.startswith("error") else "error: " + text


def warning_text(message: str, line: int | None = None) -> str:
    """A one-line warning (NaN or infinity from a valid operation)."""
    where = f"line {line}: " if line is not None and not message.startswith("line ") else ""
    return f"warning: {where}{printable(message, newlines=True)}"


def writes_plain(stream: IO[str] | None, *, no_color: bool = False) -> bool:
    """Whether ``stream`` may be written with this module instead of rich.

    True where console.make_console gives no colour: output that is not a terminal
    (the same test rich makes: TTY_COMPATIBLE, FORCE_COLOR, then isatty), NO_COLOR or
    ``no_color``. False where rich would draw the tree in ASCII (an encoding other than
    UTF) or write to a notebook. The text is rich's to the byte where the stream is not
    a terminal; on a terminal without colour, lines wider than it are left for the
    terminal to fold, where rich would wrap them between words.
    """
    import builtins

    if stream is None or hasattr(builtins, "get_ipython"):
        return False
    if not (getattr(stream, "encoding", "utf-8") or "utf-8").lower().startswith("utf"):
        return False
    return no_color or bool(os.environ.get("NO_COLOR")) or not _is_terminal(stream)


def terminal_width(stream: IO[str] | None) -> int | None:
    """The width of the terminal ``stream`` writes to (COLUMNS first, as rich reads it);
    None where it is not a terminal: a pipe or a file is never cut or wrapped."""
    if stream is None or not _is_terminal(stream):
        return None
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), MIN_WIDTH)
    try:
        return max(os.get_terminal_size(stream.fileno()).columns, MIN_WIDTH)
    except (AttributeError, ValueError, OSError):
        return 80


def _is_terminal(stream: IO[str]) -> bool:
    """rich's Console.is_terminal, for a console made without force_terminal."""
    if getattr(sys.stdin, "__module__", "").startswith("idlelib"):
        return False
    tty_compatible = os.environ.get("TTY_COMPATIBLE", "")
    if tty_compatible in ("0", "1"):
        return tty_compatible == "1"
    force_color = os.environ.get("FORCE_COLOR")
    if force_color is not None:
        return force_color != ""
    isatty = getattr(stream, "isatty", None)
    try:
        return False if isatty is None else bool(isatty())
    except ValueError:
        return False
