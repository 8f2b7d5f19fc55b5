"""`gradcli diff` on expressions that crashed it or printed a wrong formula (issue 11).

Properties, not formula text: the command exits 0 and prints one formula, the formula is
a program `gradcli eval` runs, and its value equals the engine's gradient at the point it
was printed at and at other points (zeros, singular matrices) where a formula built for
one point only would fail.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

ONE_POINT = [
    # a simplification rule shadowed by a second `_fold`: an internal TypeError
    ("sqrt(x)*sqrt(x)", "x", ["2", "0.5"]),
    ("x^2/x", "x", ["2", "-3"]),
    ("exp(x)/exp(x)", "x", ["2", "0"]),
    ("sum(x*(x-x))", "x", ["[1, 2, 3]"]),
    # a singular matrix: the gradient graph indexes with "...", which had no text
    ("det(A)", "A", ["[[1, 2], [2, 4]]", "[[1, 2], [3, 4]]", "[[1, 2, 3], [2, 4, 6], [1, 1, 1]]"]),
    # a size-one constant beside "@" was printed as a number: `1@...` is no program
    ("sum(x @ reshape(x, 4, 1))", "x", ["[1, 2, 3, 4]", "[0, -1, 2, 0.5]"]),
    ("sum(reshape(x, 1, 3) @ ones(3, 1))", "x", ["[1, 2, 3]"]),
    # prod(x)/x is NaN where an element is 0
    ("prod(x)", "x", ["[1, 2, 3]", "[1, 0, 3]", "[0, 0, 2]", "0.7", "0", "[0.5]", "[[0]]"]),
    ("prod(x) * prod(x)", "x", ["0.7", "[2, 0]"]),
    ("sum(prod(X, axis=0))", "X", ["[[1, 2], [3, 4]]", "[[0, 2], [3, 0]]"]),
]
# a formula printed at one point must hold at the others too (SPEC §9: valid everywhere)
EVERYWHERE = [
    ("det(A)", "A", "[[1, 2], [3, 4]]", ["[[1, 2], [2, 4]]", "[[0, 0], [0, 0]]"]),
    ("prod(x)", "x", "[1, 2, 3]", ["[1, 0, 3]", "[0, 0, 2]", "[0, 5, 7]"]),
    ("sum(prod(X, axis=1))", "X", "[[1, 2], [3, 4]]", ["[[0, 2], [3, 0]]"]),
]


def record(cli, *args: str) -> dict:
    result = cli(*args, "--json")
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    [line] = result.stdout.splitlines()
    return json.loads(line)


def printed(cli, program: str, name: str, value: str) -> str:
    result = cli("diff", program, "--wrt", name, "-v", f"{name}={value}")
    assert result.exit_code == 0, (program, value, result.stdout, result.stderr)
    assert "internal error" not in result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()  # SPEC §9: the formula, then its value
    assert len(lines) == 2 and lines[1].startswith("  at "), result.stdout
    assert lines[0].startswith(f"d/d{name} = ")
    return lines[0].removeprefix(f"d/d{name} = ")


def check_at(cli, formula: str, program: str, name: str, value: str) -> None:
    got = record(cli, "eval", formula, "-v", f"{name}={value}", "--no-graph")
    assert "error" not in got, (formula, got)
    engine = record(cli, "eval", program, "-v", f"{name}={value}", "--no-graph")
    expected = np.asarray(engine["gradients"][name], dtype=float)
    value_there = np.broadcast_to(np.asarray(got["value"], dtype=float), expected.shape)
    np.testing.assert_allclose(value_there, expected, rtol=1e-9, atol=1e-12,
                               err_msg=f"{program} at {name}={value}: {formula}")


@pytest.mark.parametrize(("program", "name", "values"), ONE_POINT, ids=[c[0] for c in ONE_POINT])
def test_diff_prints_a_formula_that_runs_and_equals_the_gradient(cli, program, name, values):
    for value in values:
        check_at(cli, printed(cli, program, name, value), program, name, value)


@pytest.mark.parametrize(("program", "name", "at", "elsewhere"), EVERYWHERE,
                         ids=[c[0] for c in EVERYWHERE])
def test_a_formula_printed_at_one_point_holds_at_the_others(cli, program, name, at, elsewhere):
    formula = printed(cli, program, name, at)
    for value in [at, *elsewhere]:
        check_at(cli, formula, program, name, value)
