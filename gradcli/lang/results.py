"""What running a statement produces: a Result or a Failure. Renderers read only these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

DTYPE_NAMES: dict[Any, str] = {}  # str(dtype) costs microseconds; graphs name one per node


def dtype_name(dtype: Any) -> str:
    """The name results give a NumPy dtype ("float64"), cached."""
    name = DTYPE_NAMES.get(dtype)
    if name is None:
        name = DTYPE_NAMES[dtype] = str(dtype)
    return name


@dataclass(frozen=True)
class Span:
    """A stretch of source: 1-based line and column of its start, and of its end (exclusive)."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass
class GraphNode:
    """One node of a creator graph.

    ``kind`` is "input" (a leaf that receives a gradient), "constant" (a value with no
    gradient), or "computed" (made by ``function``). ``name`` is the user's name for the
    value, if it has one. ``value`` is the node's array (None if it was not kept).
    """

    id: int
    name: str | None
    function: str | None
    kind: Literal["input", "constant", "computed"]
    inputs: list[int]
    shape: tuple[int, ...]
    dtype: str
    value: Any = None
    detail: str = ""  # a parameter that is not an input: "^2", "axis=0"


@dataclass
class Graph:
    """A creator graph: nodes in an order where every node comes after its inputs."""

    nodes: list[GraphNode]
    output: int


@dataclass
class Result:
    """A reported statement: its value, its gradients (or why they are absent), its graph."""

    line: int
    source: str
    name: str | None
    value: Any  # numpy.ndarray
    gradients: dict[str, Any] | None  # name -> numpy.ndarray, or None with `note`
    note: str | None = None
    graph: Graph | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class Failure:
    """A statement that failed; ``error`` carries the type, message and source position."""

    line: int
    source: str
    error: Any  # gradcli.lang.errors.GradcliError
