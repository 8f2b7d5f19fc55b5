"""The operations added with issue 14 against central differences, as test_gradients.py
checks the first ones: float64 inputs inside each function's domain (away from the
jumps of the piecewise ones), several shapes, broadcasting for the binary ones, every
axis variant for the ones that take an axis, and the first gradients built with
``create_graph=True`` differentiated again.

``COVERED`` names the operations checked here; test_gradients.py's coverage test adds it
to its own list, so an operation of the catalogue that neither file checks fails there.
"""

from __future__ import annotations

import numpy as np
import pytest
from autograd_support import (
    BROADCAST_PAIRS,
    check,
    check_second_order,
    rng,
    variables,
)

from gradcli.autograd import ops

COVERED: set[str] = set()


def covers(*names: str):
    """Mark a test as checking ``names`` (each must be an operation of the catalogue)."""
    for name in names:
        assert name in ops.__all__, name
    COVERED.update(names)
    return lambda test: test


# -- mod and floor_divide: piecewise, checked away from their jumps ------------------------


def _dividend_divisor(a_shape, b_shape, seed=0):
    """Divisors in ±{0.5, 1, 2} and dividends whose quotient by each is >= 0.05 away from
    every integer (so a central difference never straddles a jump)."""
    r = rng(seed)
    a = r.integers(-3, 3, size=a_shape) + r.uniform(0.1, 0.4, size=a_shape)
    b = r.choice([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0], size=b_shape)
    return np.asarray(a, dtype=float), np.asarray(b, dtype=float)


@covers("mod", "floor_divide")
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_mod_and_floor_divide(shapes):
    a, b = _dividend_divisor(*shapes)
    va, vb = variables(a, b)
    np.testing.assert_array_equal(ops.mod(va, vb).data, np.mod(a, b))
    np.testing.assert_array_equal(ops.floor_divide(va, vb).data, np.floor_divide(a, b))
    assert np.min(np.abs(a / b - np.round(a / b))) >= 0.05
    check(ops.mod, a, b)
    check(ops.floor_divide, a, b)
    # the rule itself: d/da = 1, d/db = -floor(a/b), summed back over broadcasting
    out = ops.sum(ops.mod(va, vb))
    out.backward()
    full = np.broadcast_shapes(a.shape, b.shape)
    np.testing.assert_allclose(va.grad.data, _sum_to(np.ones(full), a.shape), rtol=1e-12)
    np.testing.assert_allclose(
        vb.grad.data,
        _sum_to(-np.floor_divide(np.broadcast_to(a, full), np.broadcast_to(b, full)), b.shape),
        rtol=1e-12,
    )


def _sum_to(x: np.ndarray, shape: tuple) -> np.ndarray:
    lead = x.ndim - len(shape)
    x = x.sum(axis=tuple(range(lead)))
    return x.sum(axis=tuple(k for k, n in enumerate(shape) if n == 1), keepdims=True)


def test_mod_and_floor_divide_second_order():
    a, b = _dividend_divisor((3, 1), (4,), seed=1)
    check_second_order(ops.mod, a, b)
    check_second_order(lambda x, y: ops.floor_divide(x, y) * x, a, b)
