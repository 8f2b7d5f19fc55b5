"""The record classes that replaced dataclasses on the start-up path (gradcli.lang.records):
they must behave as the dataclasses did where the code relies on it."""

import pytest

from gradcli.lang.builtins import lookup
from gradcli.lang.results import Failure, Result, Span
from gradcli.lang.syntax import Binary, Call, Name, Number, Slice


def test_nodes_compare_and_hash_by_type_and_fields_not_span():
    a = Binary("+", Number(1.0, "1", span=(1, 1, 1, 2)), Name("x"), span=(1, 1, 1, 4))
    b = Binary("+", Number(1.0, "1"), Name("x"))
    assert a == b and not a != b and hash(a) == hash(b)
    assert a.span == (1, 1, 1, 4) and b.span is None
    assert Binary("-", Number(1.0, "1"), Name("x")) != b
    assert Name("x") != Number(1.0) and Name("x") != "x"  # another type: never equal
    assert len({a, b, Name("x"), Name("x")}) == 2


def test_nodes_are_immutable():
    node = Name("x")
    with pytest.raises(AttributeError):
        node.id = "y"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        node.span = (1, 1, 1, 2)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del node.id
    with pytest.raises(AttributeError):
        node.other = 1  # type: ignore[attr-defined]


def test_construction_defaults_repr_and_match():
    assert Number(2.0) == Number(2.0, "") == Number(value=2.0, text="")
    assert Call("f") == Call("f", (), ()) and Slice() == Slice(None, None, None)
    assert repr(Binary("+", Number(1.0, "1"), Name("x"))) == (
        "Binary(op='+', left=Number(value=1.0, text='1'), right=Name(id='x'))")
    match Binary("*", Name("a"), Name("b")):
        case Binary(op, Name(left), Name(right)):
            assert (op, left, right) == ("*", "a", "b")
        case _:
            pytest.fail("a Binary did not match its positional pattern")


def test_results_are_mutable_records_compared_by_fields():
    r = Result(1, "x", None, 3.0, None)
    assert r.warnings == [] and r.note is None and r.graph is None
    assert r.warnings is not Result(1, "x", None, 3.0, None).warnings  # one list each
    assert r == Result(1, "x", None, 3.0, None, warnings=[])
    r.note = "a note"
    assert r != Result(1, "x", None, 3.0, None)
    with pytest.raises(TypeError):
        hash(r)  # mutable: unhashable, as an eq dataclass
    assert Failure(1, "x", "e") != Result(1, "x", None, 3.0, None)
    assert Span(1, 2, 1, 3) == Span(line=1, column=2, end_line=1, end_column=3)
    with pytest.raises(AttributeError):
        Span(1, 2, 1, 3).line = 2  # type: ignore[misc]


def test_builtin_rows_are_frozen_records():
    row = lookup("sum")
    assert row.signature == "sum(x[, axis], keepdims=false)"
    assert row.param_names == frozenset({"x", "axis", "keepdims"})
    assert row == lookup("sum") and hash(row) == hash(lookup("sum"))
    with pytest.raises(AttributeError):
        row.doc = "changed"  # type: ignore[misc]
