"""--json of a large result is written a piece at a time: the same line, in memory
proportional to a piece rather than to the result (SPEC §10)."""

from __future__ import annotations

import io
import tracemalloc

import pytest

from gradcli.lang.session import Session
from gradcli.render import jsonl


@pytest.mark.parametrize("program", [
    "x = [1, 2, 3]\nlog(x - 2) * ones(4, 3)", "sum(log(x) * w)", "ones(3, 2, 40)", "x",
    "w / 0",
])
def test_a_streamed_line_is_the_line(monkeypatch, program):
    monkeypatch.setattr(jsonl, "STREAMED_ELEMENTS", 10)
    monkeypatch.setattr(jsonl, "_PIECE", 7)
    session = Session(variables={"x": "linspace(-1, 1, 30)", "w": "ones(30)"}, graph=True)
    for result in session.run(program):
        written = io.StringIO()
        jsonl.write_result(written, result, graph=True)
        assert written.getvalue() == jsonl.render_result(result, graph=True) + "\n"


def test_a_source_cannot_forge_the_marker(monkeypatch):
    monkeypatch.setattr(jsonl, "STREAMED_ELEMENTS", 10)
    session = Session(variables={"x": "ones(30)"}, graph=False)
    (result,) = session.run("x # \x00abc:0\x00\n")
    written = io.StringIO()
    jsonl.write_result(written, result)
    assert written.getvalue() == jsonl.render_result(result) + "\n"


class _Sink:
    def __init__(self) -> None:
        self.size = 0

    def write(self, text: str) -> None:
        self.size += len(text)


def test_a_large_result_takes_memory_for_a_piece_only():
    session = Session(graph=False)
    (result,) = session.run("linspace(0, 1, 1000000)")  # 8 MB; as Python lists, 32 MB
    sink = _Sink()
    tracemalloc.start()
    try:
        jsonl.write_result(sink, result)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sink.size > 10**7
    assert peak < 4 * 2**20


@pytest.mark.parametrize("record", [
    {"line": 1, "source": 'é "q" \n\t\u202e', "name": None, "value": -1.5e-300,
     "shape": [2], "gradients": {"x": [[0.1, "nan"], [1e300, "-inf"]]}, "ok": True},
    {"error": {"type": "syntax", "line": None, "column": 3}, "nested": [[[]], {}]},
])
def test_dumps_writes_what_the_standard_encoder_writes(record):
    # dumps keeps json's C encoder made once; the line must be the JSONEncoder's own
    import json

    assert jsonl.dumps(record) == json.JSONEncoder(allow_nan=False).encode(record)
    with pytest.raises(ValueError):
        jsonl.dumps({"value": float("nan")})  # strict: never a NaN literal
