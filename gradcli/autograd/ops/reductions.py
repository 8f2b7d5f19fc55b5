"""Reductions (sum, mean, prod, max, min, var, std, logsumexp, norm) and softmax.

Every reduction takes ``axis`` (None, an int, a negative int, or a list of them) and
``keepdims``. Backward rules return gradients in the "kept" shape (reduced axes of
size 1), which broadcast to the input; the engine expands them only where needed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradcli.autograd.function import GRAD_MODE, Function
from gradcli.autograd.limits import check_shape
from gradcli.autograd.ops.decompositions import svdvals
from gradcli.autograd.ops.elementwise import abs as abs_
from gradcli.autograd.ops.elementwise import equal, exp, log, not_equal, where
from gradcli.autograd.ops.shape import expand_dims, moveaxis, transpose
from gradcli.autograd.variable import Variable


def normalize_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative ints; ValueError naming a bad one."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, Variable):
        axis = axis.data.tolist()
    if isinstance(axis, np.ndarray):
        axis = axis.tolist()
    items = list(axis) if isinstance(axis, list | tuple) else [axis]
    result = []
    for item in items:
        if isinstance(item, float):
            if not item.is_integer():
                raise ValueError(f"axis must be a whole number, got {item}")
            item = int(item)
        if not isinstance(item, int | np.integer) or isinstance(item, bool):
            raise ValueError(f"axis must be an integer or a list of integers, got {item!r}")
        k = int(item)
        if not -ndim <= k < ndim:
            raise ValueError(f"axis {k} is out of range for an array with {ndim} dimensions")
        k %= ndim
        if k in result:
            raise ValueError(f"axis {k} is repeated")
        result.append(k)
    return tuple(sorted(result))


def kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if k in axes else n for k, n in enumerate(shape))


# by number of dimensions: every axis, and the shape of a whole reduction kept (NumPy's
# limit is 64 dimensions)
_EVERY_AXIS = [tuple(range(n)) for n in range(65)]
_KEPT_SHAPE = [(1,) * n for n in range(65)]


class _Reduction(Function):
    """Base of the reductions: resolves ``axis`` and ``keepdims`` once in forward."""

    __slots__ = ("axis", "keepdims", "axes", "kept")

    def __init__(self, axis: Any = None, keepdims: bool = False) -> None:
        self.axis = axis
        self.keepdims = bool(keepdims)

    def forward(self, x):
        if self.axis is None:  # the common case, without the general checks
            axes = _EVERY_AXIS[x.ndim]
            self.kept = _KEPT_SHAPE[x.ndim]
        else:
            axes = normalize_axes(self.axis, x.ndim)
            self.kept = kept_shape(x.shape, axes)
        self.axes = axes
        return self.reduce(x, axes)

    def reduce(self, x, axes):
        raise NotImplementedError

    def saved_result(self, out, x, axes):
        """Save ``out`` (the result in the kept shape) for backward, and return the
        result in the shape asked for: the one way a reduction keeps its value."""
        self.saved = out
        return out if self.keepdims else out.reshape(
            [n for k, n in enumerate(x.shape) if k not in axes])

    @property
    def detail(self) -> str:
        if self.axis is None:
            return ""
        axis = self.axis if isinstance(self.axis, int) else tuple(self.axis)
        return f"axis={axis}" + (", keepdims" if self.keepdims else "")

    def kept_grad(self, g: Variable) -> Variable:
        """The incoming gradient in the kept shape, so it broadcasts to the input."""
        if g.shape == self.kept:
            return g
        return g.reshape(self.kept)

    def kept_output(self, recompute: Any) -> Variable:
        """The forward result in the kept shape (reduce saves it so)."""
        return self.saved_output(recompute, self.inputs[0], axis=self.axes, keepdims=True)


class Sum(_Reduction):
    __slots__ = ()

    def reduce(self, x, axes):
        return np.add.reduce(x, axis=axes, keepdims=self.keepdims)  # np.sum, less wrapping

    def backward(self, g):
        return self.kept_grad(g)


class Mean(_Reduction):
    __slots__ = ("scale",)

    def reduce(self, x, axes):
        total = np.add.reduce(x, axis=axes, keepdims=self.keepdims)
        count = x.size // total.size if total.size else 0
        self.scale = 1.0 / count if count else math.nan  # backward's factor, found once
        # the mean of nothing is 0/0: NaN, with the invalid-value flag NumPy raises too
        return total / count if count else np.divide(total, 0.0)

    def backward(self, g):
        # kept_grad, inlined; a scalar gradient broadcasts as it is (no reshape)
        if g.ndim and g.shape != self.kept:
            g = g.reshape(self.kept)
        return g * self.scale


class Prod(_Reduction):
    __slots__ = ()

    def reduce(self, x, axes):
        return np.prod(x, axis=axes, keepdims=self.keepdims)

    def backward(self, g):
        x = self.operands()[0]
        g = self.kept_grad(g)
        values = np.asarray(x)
        if np.any(values == 0) or (GRAD_MODE.enabled and GRAD_MODE.everywhere):
            # prod / x_i is undefined at a zero; multiply the other elements instead
            # (differentiably when recording, so higher derivatives stay exact there too).
            if GRAD_MODE.enabled:
                return g * _product_of_others_graph(x, self.axes)
            return g * _product_of_others(values, self.axes)
        if GRAD_MODE.enabled:
            return g * prod(x, axis=self.axes, keepdims=True) / x
        return g * np.prod(values, axis=self.axes, keepdims=True) / x


def _product_of_others(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """For each element, the product of the other elements along ``axes`` (zeros allowed)."""
    rest = [k for k in range(x.ndim) if k not in axes]
    moved = np.transpose(x, rest + list(axes))
    lead = moved.shape[: len(rest)]
    flat = moved.reshape(lead + (-1,))
    ones = np.ones(lead + (1,), dtype=x.dtype)
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    others = (left * right).reshape(moved.shape)
    return np.transpose(others, np.argsort(rest + list(axes)))


def _product_of_others_graph(x: Variable, axes: tuple[int, ...]) -> Variable:
    """``_product_of_others`` built from differentiable operations (n x n per group)."""
    rest = [k for k in range(x.ndim) if k not in axes]
    order = rest + list(axes)
    moved = transpose(x, order)
    flat = moved.reshape(moved.shape[: len(rest)] + (-1,))
    check_shape("prod", flat.shape + flat.shape[-1:])  # n x n per group: refuse it early
    eye = np.eye(flat.shape[-1], dtype=x.dtype)
    rows = expand_dims(flat, -2) * (1.0 - eye) + eye  # row i: the group with x_i set to 1
    others = prod(rows, axis=-1).reshape(moved.shape)
    return transpose(others, [int(k) for k in np.argsort(order)])


class Max(_Reduction):
    """The largest element; ties share the gradient equally."""

    __slots__ = ()
    pick: Any = staticmethod(np.max)

    def reduce(self, x, axes):
        if x.size == 0:
            raise ValueError(f"{self.name.lower()} of an empty array")
        return self.saved_result(type(self).pick(x, axis=axes, keepdims=True), x, axes)

    def backward(self, g):
        x = self.operands()[0]
        if GRAD_MODE.enabled:  # symbolic, so a printed derivative stays true elsewhere
            winners = equal(x, type(self)(self.axes, True)(x))
            return self.kept_grad(g) * winners / sum(winners, axis=self.axes, keepdims=True)
        winners = np.asarray(x) == self.saved
        share = winners / np.sum(winners, axis=self.axes, keepdims=True)
        return self.kept_grad(g) * share.astype(self.saved.dtype)


class Min(Max):
    """The smallest element; ties share the gradient equally."""

    __slots__ = ()
    pick = staticmethod(np.min)


class Var(_Reduction):
    """Variance: the mean square deviation, over n - ddof (NumPy's ddof, 0 by default)."""

    __slots__ = ("ddof",)

    def __init__(self, axis: Any = None, keepdims: bool = False, ddof: float = 0) -> None:
        super().__init__(axis, keepdims)
        self.ddof = ddof

    @property
    def detail(self) -> str:
        ddof = f"ddof={self.ddof:g}" if self.ddof else ""
        return ", ".join(part for part in (super().detail, ddof) if part)

    def reduce(self, x, axes):
        return np.var(x, axis=axes, keepdims=self.keepdims, ddof=self.ddof)

    def divisor(self, x) -> float:
        count = math.prod(x.shape[k] for k in self.axes) - self.ddof
        return float(count) if count > 0 else math.nan

    def backward(self, g):
        x = self.operands()[0]
        centred = x - mean(x, axis=self.axes, keepdims=True)
        return self.kept_grad(g) * centred * (2.0 / self.divisor(x))


class Std(Var):
    """Standard deviation: the square root of var (the same ddof)."""

    __slots__ = ()

    def reduce(self, x, axes):
        return self.saved_result(np.std(x, axis=axes, keepdims=True, ddof=self.ddof), x, axes)

    def backward(self, g):
        x = self.operands()[0]
        centred = x - mean(x, axis=self.axes, keepdims=True)
        out = self.saved_output(std, x, axis=self.axes, keepdims=True, ddof=self.ddof)
        # Where the std is 0 (one element, or all equal) centred is 0 too: take the zero
        # subgradient there, as Norm does, rather than 0 / 0.
        safe = where(equal(out, 0.0), 1.0, out)
        return self.kept_grad(g) * centred / (safe * self.divisor(x))


class LogSumExp(_Reduction):
    """log(sum(exp(x))), shifted by the maximum so it never overflows."""

    __slots__ = ()

    def reduce(self, x, axes):
        return self.saved_result(_logsumexp(x, axes), x, axes)

    def backward(self, g):
        x = self.operands()[0]
        out = self.kept_output(logsumexp)
        return self.kept_grad(g) * exp(x - out)


def _logsumexp(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    if x.size == 0:
        return np.log(np.sum(np.exp(x), axis=axes, keepdims=True))
    shift = np.max(x, axis=axes, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.sum(np.exp(x - shift), axis=axes, keepdims=True)) + shift


class Norm(_Reduction):
    """The Euclidean norm: of the flattened array, or along ``axis``."""

    __slots__ = ()

    def reduce(self, x, axes):
        return self.saved_result(np.sqrt(np.sum(np.square(x), axis=axes, keepdims=True)), x,
                                 axes)

    def backward(self, g):
        x = self.operands()[0]
        out = self.kept_output(norm)
        # At the origin the norm has no derivative; take the zero subgradient there.
        safe = where(equal(out, 0.0), 1.0, out)
        return self.kept_grad(g) * x / safe


class Softmax(Function):
    """exp(x) / sum(exp(x)) along ``axis``, shifted by the maximum for stability."""

    __slots__ = ("axis", "axes")

    def __init__(self, axis: Any = -1) -> None:
        self.axis = axis

    def forward(self, x):
        self.axes = normalize_axes(self.axis, x.ndim)
        out = np.exp(x - _logsumexp(x, self.axes))
        self.saved = out
        return out

    def backward(self, g):
        x = self.operands()[0]
        s = self.saved_output(softmax, x, axis=self.axes)
        gs = g * s
        return gs - s * sum(gs, axis=self.axes, keepdims=True)


class LogSoftmax(Function):
    """x - logsumexp(x) along ``axis``."""

    __slots__ = ("axis", "axes")

    def __init__(self, axis: Any = -1) -> None:
        self.axis = axis

    def forward(self, x):
        self.axes = normalize_axes(self.axis, x.ndim)
        out = x - _logsumexp(x, self.axes)
        self.saved = out
        return out

    def backward(self, g):
        x = self.operands()[0]
        out = self.saved_output(log_softmax, x, axis=self.axes)
        return g - exp(out) * sum(g, axis=self.axes, keepdims=True)


# -- the functions users call ------------------------------------------------------------


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:  # noqa: A001
    return Sum(axis, keepdims)(x)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    return Mean(axis, keepdims)(x)


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    return Prod(axis, keepdims)(x)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:  # noqa: A001
    return Max(axis, keepdims)(x)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:  # noqa: A001
    return Min(axis, keepdims)(x)


def var(x: Any, axis: Any = None, keepdims: bool = False, ddof: float = 0) -> Variable:
    return Var(axis, keepdims, ddof)(x)


def std(x: Any, axis: Any = None, keepdims: bool = False, ddof: float = 0) -> Variable:
    return Std(axis, keepdims, ddof)(x)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False, b: Any = None) -> Variable:
    """log(sum(exp(x))) along axis, computed stably; with ``b``, log(sum(b * exp(x)))
    (SciPy's weights; a negative sum gives NaN, as the log of a negative number)."""
    if b is None:
        return LogSumExp(axis, keepdims)(x)
    shift = max(x, axis=axis, keepdims=True).detach()
    shift = where(equal(abs_(shift), math.inf), 0.0, shift)  # all -inf (or inf): no shift
    out = log(sum(b * exp(x - shift), axis=axis, keepdims=True)) + shift
    return out if keepdims else _drop_axes(out, axis)


def _drop_axes(out: Variable, axis: Any) -> Variable:
    axes = normalize_axes(axis, out.ndim)
    return out.reshape(tuple(n for k, n in enumerate(out.shape) if k not in axes))


def norm(x: Any, axis: Any = None, keepdims: bool = False, ord: Any = None) -> Variable:  # noqa: A002
    """NumPy's norm. Without ``ord``: the Euclidean norm of the flattened array (or along
    axis; of a matrix, the Frobenius norm). With a number ``ord``, of a vector (or along
    one axis): sum(|x|^ord)^(1/ord), max |x| for inf, min |x| for -inf, the count of
    nonzeros for 0; of a matrix (or along two axes): the largest column sum of |x| for 1,
    the largest singular value for 2, the largest row sum for inf (the smallest for -1,
    -2, -inf)."""
    if ord is None:
        return Norm(axis, keepdims)(x)
    nd = x.ndim if isinstance(x, Variable) else np.ndim(x)
    axes = normalize_axes(axis, nd) if axis is not None else tuple(range(nd))
    if axis is not None and len(axes) > 2 or axis is None and nd > 2 or not axes:
        raise ValueError("norm with ord= takes a vector or a matrix (or axis= naming one or "
                         "two axes)")
    p = float(ord)
    if len(axes) == 1:
        out = _vector_norm(x, axes[0], p)
    else:  # rows, then columns, in the order given (axis=[1, 0] is the transpose's)
        order = axes if axis is None else tuple(int(k) % nd for k in axis)
        out = _matrix_norm(x, order, p)
    if keepdims:
        out = out.reshape(kept_shape(np.shape(x), axes))
    return out


def _vector_norm(x: Any, axis: int, p: float) -> Variable:
    if p == math.inf:
        return max(abs_(x), axis=axis)
    if p == -math.inf:
        return min(abs_(x), axis=axis)
    if p == 0:
        return sum(not_equal(x, 0.0), axis=axis)
    if p == 1:
        return sum(abs_(x), axis=axis)
    if p == 2:
        return Norm(axis)(x)
    return sum(abs_(x) ** p, axis=axis) ** (1.0 / p)


def _matrix_norm(x: Any, axes: tuple[int, ...], p: float) -> Variable:
    rows, cols = axes
    if p in (1.0, -1.0, math.inf, -math.inf):
        along, then = (rows, cols) if abs(p) == 1 else (cols, rows)
        sums = sum(abs_(x), axis=along, keepdims=True)
        pick = max if p > 0 else min
        return pick(sums, axis=[along, then])
    if p in (2.0, -2.0):
        s = svdvals(moveaxis(x, [rows, cols], [-2, -1]))
        return max(s, axis=-1) if p > 0 else min(s, axis=-1)
    raise ValueError(f"norm of a matrix takes ord 1, -1, 2, -2, inf or -inf, not {p:g} "
                     "(the Frobenius norm is norm(x), the nuclear norm sum(svdvals(x)))")


def softmax(x: Any, axis: Any = -1) -> Variable:
    return Softmax(axis)(x)


def log_softmax(x: Any, axis: Any = -1) -> Variable:
    return LogSoftmax(axis)(x)


__all__ = [
    "kept_shape",
    "log_softmax",
    "logsumexp",
    "max",
    "mean",
    "min",
    "norm",
    "normalize_axes",
    "prod",
    "softmax",
    "std",
    "sum",
    "var",
]
