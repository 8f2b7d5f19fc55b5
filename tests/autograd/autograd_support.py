"""Shared helpers for the engine tests: inputs in each function's domain, and checks.

Imported by the test modules as ``from autograd_support import ...`` (pytest puts this
directory, which has no ``__init__.py``, on the import path).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from gradcli.autograd import Variable, grad, ops
from gradcli.autograd.functional import gradcheck

SHAPES = [(), (4,), (2, 3), (2, 3, 2)]

# Pairs of shapes that broadcast: scalar with matrix, column with row, equal, 3-d...
BROADCAST_PAIRS = [
    ((), (2, 3)),
    ((2, 3), ()),
    ((3, 1), (4,)),
    ((4,), (3, 1)),
    ((2, 3), (2, 3)),
    ((2, 1, 3), (4, 1)),
    ((1,), (3, 2)),
    ((5,), (5,)),
]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def uniform(shape, lo: float, hi: float, seed: int = 0) -> np.ndarray:
    return rng(seed).uniform(lo, hi, size=shape)


def away_from_zero(shape, lo: float = 0.3, hi: float = 2.0, seed: int = 0) -> np.ndarray:
    """Values with lo <= |x| <= hi and random signs."""
    r = rng(seed)
    return r.uniform(lo, hi, size=shape) * r.choice([-1.0, 1.0], size=shape)


def off_integers(shape, seed: int = 0) -> np.ndarray:
    """Values at least 0.1 away from every integer and every half-integer."""
    r = rng(seed)
    return r.integers(-3, 3, size=shape) + r.uniform(0.1, 0.4, size=shape)


def distinct(shape, seed: int = 0) -> np.ndarray:
    """Values without ties: a shuffled grid, at least 0.1 apart."""
    n = int(np.prod(shape, dtype=int))
    values = np.linspace(-2.0, 2.0, n) if n > 1 else np.array([0.7])
    return rng(seed).permutation(values).reshape(shape)


def well_conditioned(shape, seed: int = 0) -> np.ndarray:
    """Square matrices (or stacks of them) that are far from singular."""
    n = shape[-1]
    return rng(seed).uniform(-0.5, 0.5, size=shape) + 2.0 * np.eye(n)


def variables(*arrays: np.ndarray) -> list[Variable]:
    return [Variable(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]


def check(fn: Callable[..., Variable], *arrays: np.ndarray, atol: float = 1e-5,
          rtol: float = 1e-4) -> None:
    """gradcheck ``fn`` at ``arrays`` (float64 leaves that require gradients)."""
    assert gradcheck(fn, variables(*arrays), atol=atol, rtol=rtol)


def first_gradients(fn: Callable[..., Variable], create_graph: bool) -> Callable[..., Variable]:
    """The gradient of a weighted sum of ``fn``'s output, flattened, as a function.

    With ``create_graph`` the backward rules run in Variable mode and the result can be
    differentiated again.
    """

    def gradients(*xs: Variable) -> Variable:
        out = fn(*xs)
        weights = np.random.default_rng(7).uniform(0.5, 1.5, size=out.shape)
        found = grad(ops.sum(out * weights), list(xs), create_graph=create_graph)
        if len(found) == 1:
            return found[0]
        return ops.concatenate([ops.reshape(g, -1) for g in found])

    return gradients


def check_second_order(fn: Callable[..., Variable], *arrays: np.ndarray,
                       atol: float = 1e-4, rtol: float = 1e-3) -> None:
    """Both backward modes agree on first gradients, and those are differentiable."""
    plain = first_gradients(fn, create_graph=False)(*variables(*arrays))
    recorded = first_gradients(fn, create_graph=True)(*variables(*arrays))
    np.testing.assert_allclose(recorded.data, plain.data, rtol=1e-10, atol=1e-12)
    assert gradcheck(first_gradients(fn, create_graph=True), variables(*arrays),
                     atol=atol, rtol=rtol)


def gradients(out: Variable, inputs: Sequence[Variable]) -> list[np.ndarray]:
    return [g.data for g in grad(out, list(inputs))]
