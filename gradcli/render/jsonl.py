"""Results as JSON Lines (SPEC §6): one RFC 8259 object per result or failed statement.

Non-finite numbers become the strings "nan", "inf" and "-inf". Arrays go through
``ndarray.tolist()`` (C speed); only arrays that hold a non-finite number take the
slower path that swaps those elements for strings.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from gradcli.lang.results import Failure, Graph, Result
from gradcli.render.values import shown

_SMALL = 256  # up to this many elements, checking the Python floats beats np.isfinite
_DTYPE_NAMES: dict[Any, str] = {}  # str(dtype) costs microseconds; there are two dtypes
_ENCODER = json.JSONEncoder(allow_nan=False, ensure_ascii=True)


def dtype_name(dtype: np.dtype) -> str:
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype)
    return name


def json_value(value: Any) -> Any:
    """An array as nested lists (a plain number for 0-d), non-finite numbers as strings."""
    array = shown(value)  # no -0.0 in the output
    kind = array.dtype.kind
    if kind == "b":
        array = array.astype(np.float64)
        kind = "f"
    if kind == "f" and array.size <= _SMALL:
        if not array.ndim:
            item = array.item()
            if math.isfinite(item):
                return item
        else:
            items = array.tolist()
            if all(map(math.isfinite, array.ravel().tolist() if array.ndim > 1 else items)):
                return items
    elif kind not in "fc" or np.isfinite(array).all():
        return array.tolist()
    out = array.astype(object)
    out[np.isnan(array)] = "nan"
    out[np.isposinf(array)] = "inf"
    out[np.isneginf(array)] = "-inf"
    return out.tolist()


def graph_record(graph: Graph) -> dict[str, Any]:
    """``{"nodes": [{"id", "name", "function", "inputs", "shape", "value"?}], "output"}``."""
    nodes = []
    for node in graph.nodes:
        record: dict[str, Any] = {
            "id": node.id,
            "name": node.name,
            "function": node.function,
            "inputs": list(node.inputs),
            "shape": [int(n) for n in node.shape],
        }
        if node.detail:
            record["detail"] = node.detail
        if node.value is not None:
            record["value"] = json_value(node.value)
        nodes.append(record)
    return {"nodes": nodes, "output": graph.output}


def result_record(result: Result, *, graph: bool = False) -> dict[str, Any]:
    """The SPEC §6 object for a reported statement."""
    value = np.asarray(result.value)
    record: dict[str, Any] = {
        "line": result.line,
        "source": result.source,
        "name": result.name,
        "value": json_value(value),
        "shape": [int(n) for n in value.shape],
        "dtype": dtype_name(value.dtype),
        "gradients": None,
    }
    if result.gradients is None:
        record["note"] = result.note or "gradients could not be formed"
    else:
        record["gradients"] = {name: json_value(g) for name, g in result.gradients.items()}
        if result.note:
            record["note"] = result.note
    if result.warnings:  # NaN or infinity from a valid operation (also on stderr)
        record["warnings"] = list(result.warnings)
    if graph and result.graph is not None:
        record["graph"] = graph_record(result.graph)
    return record


def failure_record(failure: Failure) -> dict[str, Any]:
    """The SPEC §6 object for a failed statement."""
    error = failure.error
    return {
        "line": failure.line,
        "source": failure.source,
        "error": {
            "type": getattr(error, "type", "error"),
            "message": getattr(error, "message", str(error)),
            "line": getattr(error, "line", None),
            "column": getattr(error, "column", None),
        },
    }


def dumps(record: dict[str, Any]) -> str:
    """One line of strict JSON (never NaN or Infinity literals)."""
    return _ENCODER.encode(record)


def render_result(result: Result, *, graph: bool = False) -> str:
    return dumps(result_record(result, graph=graph))


def render_failure(failure: Failure) -> str:
    return dumps(failure_record(failure))


def render_graph(graph: Graph) -> str:
    """The graph alone, for ``gradcli graph --format json``."""
    return dumps(graph_record(graph))
