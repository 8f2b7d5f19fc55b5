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

from gradcli.lang.results import Failure, Graph, Result, dtype_name
from gradcli.render.values import shown

_SMALL = 256  # up to this many elements, checking the Python floats beats np.isfinite
_ENCODER = json.JSONEncoder(allow_nan=False, ensure_ascii=True, check_circular=False)  # (ours)


def _c_encoder() -> Any:
    """The C half of that encoder, made once (JSONEncoder.encode makes it anew for every
    line), or None where this Python has none, or one called otherwise."""
    make = getattr(json.encoder, "c_make_encoder", None)
    try:  # (markers, default, encoder, indent, separators, sort_keys, skipkeys, allow_nan)
        return make(None, _ENCODER.default, json.encoder.encode_basestring_ascii, None,
                    ": ", ", ", False, False, False) if make is not None else None
    except TypeError:  # pragma: no cover - another Python's signature
        return None


_C_ENCODER = _c_encoder()


def json_value(value: Any) -> Any:
    """An array as nested lists (a plain number for 0-d), non-finite numbers as strings."""
    array = np.asarray(value)
    kind = array.dtype.kind
    if kind == "f" and array.size <= _SMALL:  # (the common case: Python floats checked)
        if not array.ndim:
            item = array.item() + 0.0  # no -0.0 in the output (see values.shown)
            if math.isfinite(item):
                return item
        else:
            items = array.tolist()
            flat = array.ravel().tolist() if array.ndim > 1 else items
            if all(map(math.isfinite, flat)) and 0.0 not in flat:  # (no -0.0 to mend)
                return items
    array = shown(array)  # no -0.0 in the output
    if kind == "b":
        array = array.astype(np.float64)
        kind = "f"
    if kind == "f" and array.size <= _SMALL:
        items = array.tolist()
        if all(map(math.isfinite, array.ravel().tolist())):
            return items
    elif kind not in "fc" or np.isfinite(array).all():
        return array.tolist()
    out = array.astype(object)
    out[np.isnan(array)] = "nan"
    out[np.isposinf(array)] = "inf"
    out[np.isneginf(array)] = "-inf"
    return out.tolist()


def graph_record(graph: Graph, value: Any = json_value) -> dict[str, Any]:
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
            record["value"] = value(node.value)
        nodes.append(record)
    return {"nodes": nodes, "output": graph.output}


def result_record(result: Result, *, graph: bool = False, value_of: Any = json_value) -> dict[
    str, Any
]:
    """The SPEC §6 object for a reported statement (``value_of`` turns arrays into JSON)."""
    value = np.asarray(result.value)
    record: dict[str, Any] = {
        "line": result.line,
        "source": result.source,
        "name": result.name,
        "value": value_of(value),
        "shape": list(value.shape),
        "dtype": dtype_name(value.dtype),
        "gradients": None,
    }
    if result.gradients is None:
        record["note"] = result.note or "gradients could not be formed"
    else:
        record["gradients"] = {name: value_of(g) for name, g in result.gradients.items()}
        if result.note:
            record["note"] = result.note
    if result.warnings:  # NaN or infinity from a valid operation (also on stderr)
        record["warnings"] = list(result.warnings)
    if graph and result.graph is not None:
        record["graph"] = graph_record(result.graph, value_of)
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
    if _C_ENCODER is not None and type(record) is dict:
        return "".join(_C_ENCODER(record, 0))
    return _ENCODER.encode(record)


def render_result(result: Result, *, graph: bool = False) -> str:
    return dumps(result_record(result, graph=graph))


def render_failure(failure: Failure) -> str:
    return dumps(failure_record(failure))


def render_graph(graph: Graph) -> str:
    """The graph alone, for ``gradcli graph --format json``."""
    return dumps(graph_record(graph))


# -- large results, written as they are encoded --------------------------------------------

STREAMED_ELEMENTS = 1 << 16  # an array larger than this is written in pieces
_PIECE = 1 << 14  # elements encoded at a time


class _Deferred:
    """Arrays left out of a record (a marker string in their place), to be written in
    pieces where the marker lands in the encoded line."""

    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []
        self.nonce = ""

    def value(self, value: Any) -> Any:
        array = np.asarray(value)
        if array.size <= STREAMED_ELEMENTS:
            return json_value(array)
        if not self.nonce:
            import secrets

            self.nonce = secrets.token_hex(8)  # (user text cannot forge the marker)
        self.arrays.append(array)
        return f"\x00{self.nonce}:{len(self.arrays) - 1}\x00"


def write_result(stream: Any, result: Result, *, graph: bool = False) -> None:
    """The result's line written to ``stream`` (with its newline), exactly as
    :func:`render_result` makes it, but with large arrays encoded a piece at a time:
    the memory it takes is proportional to a piece, not to the result."""
    deferred = _Deferred()
    text = dumps(result_record(result, graph=graph, value_of=deferred.value))
    if not deferred.arrays:
        stream.write(text + "\n")
        return
    import re

    marker = re.compile(r'"\\u0000' + deferred.nonce + r':(\d+)\\u0000"')
    parts = marker.split(text)
    for i, part in enumerate(parts):
        if i % 2:
            _write_array(stream, deferred.arrays[int(part)])
        else:
            stream.write(part)
    stream.write("\n")


def _write_array(stream: Any, array: np.ndarray) -> None:
    """``array`` as json_value would encode it, written a piece at a time."""
    if array.ndim > 1:
        stream.write("[")
        for i, sub in enumerate(array):
            if i:
                stream.write(", ")
            _write_array(stream, sub)
        stream.write("]")
        return
    if array.ndim == 0 or array.size <= _PIECE:
        stream.write(dumps(json_value(array)))
        return
    stream.write("[")
    for start in range(0, array.size, _PIECE):
        if start:
            stream.write(", ")
        stream.write(dumps(json_value(array[start:start + _PIECE]))[1:-1])
    stream.write("]")
