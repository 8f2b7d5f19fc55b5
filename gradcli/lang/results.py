"""What running a statement produces: a Result or a Failure. Renderers read only these."""

from __future__ import annotations

from typing import Any, Literal

from gradcli.lang.records import Frozen, Record, set_field

DTYPE_NAMES: dict[Any, str] = {}  # str(dtype) costs microseconds; graphs name one per node


def dtype_name(dtype: Any) -> str:
    """The name results give a NumPy dtype ("float64"), cached."""
    name = DTYPE_NAMES.get(dtype)
    if name is None:
        name = DTYPE_NAMES[dtype] = str(dtype)
    return name


class Span(Frozen):
    """A stretch of source: 1-based line and column of its start, and of its end (exclusive)."""

    __slots__ = ("line", "column", "end_line", "end_column")
    line: int
    column: int
    end_line: int
    end_column: int

    def __init__(self, line: int, column: int, end_line: int, end_column: int) -> None:
        set_field(self, "line", line)
        set_field(self, "column", column)
        set_field(self, "end_line", end_line)
        set_field(self, "end_column", end_column)


class GraphNode(Record):
    """One node of a creator graph.

    ``kind`` is "input" (a leaf that receives a gradient), "constant" (a value with no
    gradient), or "computed" (made by ``function``). ``name`` is the user's name for the
    value, if it has one. ``value`` is the node's array (None if it was not kept).
    """

    __slots__ = __match_args__ = ("id", "name", "function", "kind", "inputs", "shape",
                                  "dtype", "value", "detail")

    def __init__(self, id: int, name: str | None, function: str | None,  # noqa: A002
                 kind: Literal["input", "constant", "computed"], inputs: list[int],
                 shape: tuple[int, ...], dtype: str, value: Any = None,
                 detail: str = "") -> None:
        self.id = id
        self.name = name
        self.function = function
        self.kind = kind
        self.inputs = inputs
        self.shape = shape
        self.dtype = dtype
        self.value = value
        self.detail = detail  # a parameter that is not an input: "^2", "axis=0"


class Graph(Record):
    """A creator graph: nodes in an order where every node comes after its inputs."""

    __slots__ = __match_args__ = ("nodes", "output")

    def __init__(self, nodes: list[GraphNode], output: int) -> None:
        self.nodes = nodes
        self.output = output


class Result(Record):
    """A reported statement: its value, its gradients (or why they are absent), its graph.

    ``value`` is a numpy.ndarray; ``gradients`` maps a name to its numpy.ndarray, or is
    None with ``note`` saying why."""

    __slots__ = __match_args__ = ("line", "source", "name", "value", "gradients", "note",
                                  "graph", "warnings")

    def __init__(self, line: int, source: str, name: str | None, value: Any,
                 gradients: dict[str, Any] | None, note: str | None = None,
                 graph: Graph | None = None, warnings: list[str] | None = None) -> None:
        self.line = line
        self.source = source
        self.name = name
        self.value = value
        self.gradients = gradients
        self.note = note
        self.graph = graph
        self.warnings = [] if warnings is None else warnings


class Failure(Record):
    """A statement that failed; ``error`` carries the type, message and source position
    (a gradcli.lang.errors.GradcliError)."""

    __slots__ = __match_args__ = ("line", "source", "error")

    def __init__(self, line: int, source: str, error: Any) -> None:
        self.line = line
        self.source = source
        self.error = error
