"""Deep and long inputs: no recursion limits anywhere from text to gradients."""

from __future__ import annotations

import sys

import numpy as np

from gradcli.lang.results import Failure
from tests.lang.conftest import last, run


def test_10000_nested_parentheses() -> None:
    depth = 10_000
    assert depth > sys.getrecursionlimit()
    r = last("x = 2\n" + "(" * depth + "x * 3" + ")" * depth)
    assert r.value == 6.0 and r.gradients == {"x": 3.0}


def test_10000_unary_minuses() -> None:
    r = last("x = 2\n" + "-" * 10_000 + "x")
    assert r.value == 2.0 and r.gradients == {"x": 1.0}
    r = last("x = 2\n" + "- " * 10_001 + "x")
    assert r.value == -2.0 and r.gradients == {"x": -1.0}


def test_10000_nested_calls() -> None:
    r = last("x = 0.5\n" + "sin(" * 10_000 + "x" + ")" * 10_000, graph=True)
    expected = 0.5
    for _ in range(10_000):
        expected = np.sin(expected)
    assert r.value == expected
    assert len(r.graph.nodes) == 10_001


def test_deep_right_associative_power_chain() -> None:
    r = last("x = 1\n" + "^".join(["x"] * 5_000))
    assert r.value == 1.0


def test_100000_term_sum() -> None:
    r = last("x = 2\n" + " + ".join(["x"] * 100_000), graph=False)
    assert r.value == 200_000.0 and r.gradients == {"x": 100_000.0}


def test_long_constant_sum_and_long_list() -> None:
    assert last("+".join(["1"] * 20_000)).value == 20_000.0
    r = last("[" + ", ".join(str(i) for i in range(20_000)) + "]")
    assert r.value.shape == (20_000,)


def test_deeply_nested_lists_fail_cleanly() -> None:
    outcomes = run("[" * 200 + "1" + "]" * 200)
    assert isinstance(outcomes[-1], Failure)
    assert outcomes[-1].error.type in ("shape", "limit", "argument")


def test_many_statements() -> None:
    program = "x = 0\n" + "x += 1\n" * 5_000 + "x"
    r = last(program, graph=False)
    assert r.value == 5000.0 and r.gradients == {"x": 1.0}


def test_long_multiline_statement() -> None:
    r = last("s = sum([\n" + "1,\n" * 20_000 + "])")
    assert r.value == 20_000.0
