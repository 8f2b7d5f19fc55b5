"""Bounded resources: every allocating operation checks its result against max_elements
before allocating, and fails at once with a clear message."""

from __future__ import annotations

import time

import pytest

from gradcli.lang.results import Failure, Result
from tests.fuzz.fuzz_checks import run_api

LIMIT = 10_000


@pytest.mark.parametrize("program, op", [
    ("ones(1e9, 1e9)", "ones"),
    ("zeros([1e5, 1e5])", "zeros"),
    ("full([1e5, 1e5], 2)", "full"),
    ("eye(1e9)", "eye"),
    ("arange(1e12)", "arange"),
    ("arange(0, 1, 1e-12)", "arange"),
    ("linspace(0, 1, 1e12)", "linspace"),
    ("rand(1e5, 1e5)", "rand"),
    ("randn(1e5, 1e5)", "randn"),
    ("ones(1000) + ones(1000, 1)", "add"),
    ("x = ones(1000, 1); y = ones(1000); x * y", "multiply"),
    ("ones(1000, 1) < ones(1000)", "less"),
    ("where(ones(1000, 1), ones(1000), 0)", "where"),
    ("maximum(ones(1000, 1), ones(1000))", "maximum"),
    ("outer(ones(1000), ones(1000))", "outer"),
    ("ones(1000, 1) @ ones(1, 1000)", "matmul"),
    ("matmul(ones(100, 100, 1), ones(1, 100))", "matmul"),
    ("broadcast_to(1, [1e5, 1e5])", "broadcast_to"),
    ("x = ones(6000); concatenate([x, x])", "concatenate"),
    ("x = ones(6000); stack([x, x])", "stack"),
    ("x = ones(6000); [x, x]", "list"),
    ("[ones(6000), ones(6000)]", "list"),
    ("ones(1, 1000)[zeros(1000)]", "index"),
    ("x = ones(100, 100); x[zeros(2), :][zeros(1000)]", "index"),
    ("x = ones(50); jacobian(outer(x, x), x)", "jacobian"),
    ("x = ones(200); hessian(sum(x), x)", "hessian"),
    ("x = zeros(200); grad(prod(x), x)", "grad"),
    ("x = zeros(20, 20); grad(det(x), x)", "grad"),
])
def test_over_the_limit_fails_at_once_with_a_clear_message(program, op):
    start = time.perf_counter()
    outcomes = run_api(program, max_elements=LIMIT)
    elapsed = time.perf_counter() - start
    failure = outcomes[-1]
    assert isinstance(failure, Failure), (program, failure)
    err = failure.error
    assert err.type == "limit", (program, err.message)
    assert err.message.startswith(f"{op}: the result would have"), err.message
    assert f"over the limit of {LIMIT:,}" in err.message
    assert "--max-elements" in err.message
    assert err.line >= 1 and err.column >= 1
    assert elapsed < 5, (program, elapsed)


def test_ones_1e9_by_1e9_under_the_default_limit():
    start = time.perf_counter()
    (f,) = run_api("ones(1e9, 1e9)", max_elements=10**8)
    assert time.perf_counter() - start < 2
    assert f.error.message == (
        "ones: the result would have shape (1000000000, 1000000000), "
        "1,000,000,000,000,000,000 elements, over the limit of 100,000,000 "
        "(raise it with --max-elements)"
    )


@pytest.mark.parametrize("program", [
    "ones(100, 100)", "x = ones(100); outer(x, x)", "x = ones(5000); concatenate([x, x])",
    "x = ones(100, 100); x[[0, 1], [2, 3]]", "x = ones(1, 100); sum(x[zeros(100)])",
    "x = ones(10); jacobian(outer(x, x), x)",
])
def test_at_or_under_the_limit_runs(program):
    outcomes = run_api(program, max_elements=LIMIT)
    assert all(isinstance(o, Result) for o in outcomes), outcomes


def test_singular_det_gradient_is_fast():
    start = time.perf_counter()
    (r,) = run_api("x = zeros(150, 150); det(x)")
    assert isinstance(r, Result) and float(r.value) == 0.0
    assert time.perf_counter() - start < 5  # cofactors by SVD, not 22,500 minors


def test_values_given_from_outside_are_limited(tmp_path):
    import numpy as np

    path = tmp_path / "big.npy"
    np.save(path, np.zeros(50_000))
    from gradcli.lang.errors import InputProblem

    with pytest.raises(InputProblem, match="over the limit"):
        run_api("sum(x)", variables={"x": f"@{path}"}, max_elements=LIMIT)
    with pytest.raises(InputProblem, match="over the limit"):
        run_api("1", variables={"x": "ones(1e9, 1e9)"}, max_elements=LIMIT)
