"""Running totals and orderings along an axis: cumsum, cumprod, sort, differences
(NumPy's np.diff, named so as not to be taken for `gradcli diff`).

Without an axis, cumsum, cumprod and sort work on the flattened array, as NumPy's do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradcli.autograd.function import GRAD_MODE, Function
from gradcli.autograd.ops.indexing import getitem
from gradcli.autograd.ops.shape import _axis, concatenate, flatten, flip, moveaxis, stack
from gradcli.autograd.variable import Variable


def _ndim(x: Any) -> int:
    return x.ndim if isinstance(x, Variable) else np.ndim(x)


class _AlongAxis(Function):
    """An operation along one axis (the graph's label shows it)."""

    __slots__ = ("axis",)

    def __init__(self, axis: int) -> None:
        self.axis = axis

    @property
    def detail(self) -> str:
        return f"axis={self.axis}"


class Cumsum(_AlongAxis):
    """Running sums along axis; backward is the running sum from the other end."""

    __slots__ = ()

    def forward(self, x):
        return np.cumsum(x, axis=self.axis)

    def backward(self, g):
        return flip(cumsum(flip(g, self.axis), self.axis), self.axis)


class Cumprod(_AlongAxis):
    """Running products along axis. Backward: d out_k / d x_j is the product of the other
    x_i with i <= k, so the gradient of x_j is (the product of x_i, i < j) times
    S_j = g_j + x_(j+1) S_(j+1): exact with zeros too; where no x is zero, that is
    the running sum of g * out from the other end, over x."""

    __slots__ = ()

    def forward(self, x):
        return np.cumprod(x, axis=self.axis)

    def backward(self, g):
        (x,) = self.operands()
        axis = self.axis
        if not np.any(np.asarray(x) == 0):
            out = cumprod(x, axis) if GRAD_MODE.enabled else np.cumprod(x, axis=axis)
            return flip(cumsum(flip(g * out, axis), axis), axis) / x
        xm, gm = moveaxis(x, axis, -1), moveaxis(g, axis, -1)
        n = xm.shape[-1]
        tail = [gm[..., n - 1]]
        for j in range(n - 2, -1, -1):
            tail.append(gm[..., j] + xm[..., j + 1] * tail[-1])
        running = stack(tail[::-1], axis=-1)
        ones = np.ones(xm.shape[:-1] + (1,), dtype=running.dtype)
        before = concatenate([ones, cumprod(xm[..., :-1], -1)], axis=-1)
        return moveaxis(before * running, -1, axis)


def cumsum(x: Any, axis: Any = None) -> Variable:
    if axis is None:
        return Cumsum(0)(flatten(x))
    return Cumsum(_axis(axis, _ndim(x)))(x)


def cumprod(x: Any, axis: Any = None) -> Variable:
    if axis is None:
        return Cumprod(0)(flatten(x))
    return Cumprod(_axis(axis, _ndim(x)))(x)


def sort(x: Any, axis: Any = -1) -> Variable:
    """The elements in ascending order along axis (the flattened array for None), NaN
    last; the gradient goes back through the permutation (ties keep their order)."""
    if axis is None:
        x, axis = flatten(x), 0
    data = x.data if isinstance(x, Variable) else np.asarray(x)
    if data.ndim == 0:
        return getitem(x, ())
    axis = _axis(axis, data.ndim)
    order = np.argsort(data, axis=axis, kind="stable")
    grid = list(np.ix_(*[np.arange(n) for n in data.shape]))
    grid[axis] = order
    return getitem(x, tuple(grid))


def differences(x: Any, n: int = 1, axis: int = -1) -> Variable:
    """NumPy's np.diff: x[i+1] - x[i] along axis, n times over (n = 0: x itself)."""
    nd = _ndim(x)
    if nd == 0:
        raise ValueError("differences needs an array of at least one dimension")
    n = int(n)
    if n < 0:
        raise ValueError(f"n must not be negative, got {n}")
    axis = _axis(axis, nd)
    before = (slice(None),) * axis
    for _ in range(n):
        x = getitem(x, (*before, slice(1, None))) - getitem(x, (*before, slice(None, -1)))
    return x if n else getitem(x, ())


__all__ = ["cumprod", "cumsum", "differences", "sort"]
