"""The backward pass as a person reads it: each Function, what it received, what it passed on.

``gradcli eval --trace`` records one :class:`TraceStep` per Function in the order the
engine ran them; this module prints them (rich text) or turns them into JSON records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rich.text import Text

from gradcli.render.values import shape_text, short_value


@dataclass
class Passed:
    """What one input of a Function received from it.

    ``label`` is the input's name, its Function (``Pow``) or its constant value; ``kind``
    is "input", "computed" or "constant"; ``step`` is the later step where a computed input
    runs its own rule; ``value`` is None where no gradient went that way.
    """

    label: str
    kind: str
    value: Any = None
    step: int | None = None
    shape: tuple[int, ...] | None = None  # the input's shape (the value may broadcast to it)


@dataclass
class TraceStep:
    """One Function's backward rule: the gradient it received and what it passed on."""

    step: int
    function: str
    name: str | None  # the user's name for the Function's output, if any
    out_shape: tuple[int, ...]
    received: Any  # ndarray; may be smaller than out_shape and broadcast to it
    passed: list[Passed] = field(default_factory=list)
    expression: str | None = None  # the output as an expression, when it has no name


def _value_text(value: Any, precision: int, shape: Any = None, width: int = 48) -> str:
    """A gradient on one line; one that broadcasts to ``shape`` says so."""
    array = np.asarray(value)
    text = short_value(array, precision, width)
    if array.ndim:
        text = f"{shape_text(array.shape)} {text}"
    if shape is None or tuple(array.shape) == tuple(shape):
        return text
    if array.size == 1:
        return f"{short_value(array.reshape(()), precision)} to each element of {shape_text(shape)}"
    return f"{text}, broadcast to {shape_text(shape)}"


def _target(p: Passed) -> str:
    if p.kind == "computed" and p.step is not None:
        return f"{p.label} (step {p.step})"
    if p.kind == "constant":
        return f"{p.label} (constant)"
    return p.label


def render_trace(steps: list[TraceStep], seed: Any, *, precision: int = 4,
                 width: int | None = None) -> Text:
    """The steps as numbered lines; each input the gradient went to, indented below.

    With ``width`` (a terminal's), a value that does not fit beside its label goes on
    the next line, indented, cut to fit; and every line is wrapped between words.
    """
    from gradcli.render.plain import wrap_spans

    lines: list[list[tuple[str, str]]] = [[
        ("backward pass", "bold"),
        (f" (seeded with {_value_text(seed, precision)}; steps in the order they ran)", "dim")]]
    if not steps:
        lines.append([("  no Function to run: the result is an input or a constant", "dim")])
    column = max((len(_target(p)) for s in steps for p in s.passed), default=1)
    if width is not None:
        column = min(column, max(width - 20, 8))

    def beside(head: list[tuple[str, str]], gap: str, value: str, style: str = "",
               indent: int = 9) -> None:
        """``head`` and ``value`` on one line where they fit, else ``value`` below."""
        used = sum(len(part) for part, _ in head) + len(gap)
        if width is None or used + len(value) <= width:
            lines.append([*head, (gap, "dim"), (value, style)])
            return
        lines.append(head)
        lines.append([(" " * indent + gap.strip() + (" " if gap.strip() else ""), "dim"),
                      (value, style)])

    for s in steps:
        head = [(f"{s.step:>3}. ", "dim"), (s.function, "bold cyan")]
        if s.name:
            head.append((f" → {s.name}", "bold"))
        elif s.expression:
            head.append((f" → {s.expression}", ""))
        beside(head, "  received ", _value_text(s.received, precision, s.out_shape), indent=5)
        for p in s.passed:
            target = [("       passes to ", "dim"),
                      (_target(p).ljust(column), "magenta" if p.kind == "input" else "")]
            if p.value is None:
                beside(target, "  ", "nothing (no gradient needed)", "dim")
            else:
                beside(target, "  ", _value_text(p.value, precision, p.shape))
    text = Text()
    for n, line in enumerate(lines):
        if n:
            text.append("\n")
        for part, style in wrap_spans(line, width):
            text.append(part, style=style or None)
    text.rstrip()
    return text


def trace_records(steps: list[TraceStep], json_value: Any) -> list[dict[str, Any]]:
    """The steps as JSON-ready dicts; ``json_value`` turns an array into nested lists."""
    records = []
    for s in steps:
        records.append({
            "step": s.step,
            "function": s.function,
            "name": s.name,
            "expression": s.expression,
            "shape": [int(n) for n in s.out_shape],
            "received": {"shape": [int(n) for n in np.shape(s.received)],
                         "value": json_value(s.received)},
            "passed": [
                {
                    "to": p.label,
                    "kind": p.kind,
                    "step": p.step,
                    "input_shape": None if p.shape is None else [int(n) for n in p.shape],
                    "shape": None if p.value is None else [int(n) for n in np.shape(p.value)],
                    "value": None if p.value is None else json_value(p.value),
                }
                for p in s.passed
            ],
        })
    return records
