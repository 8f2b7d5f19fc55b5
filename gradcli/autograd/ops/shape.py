"""Shape operations: reshape, flatten, squeeze, expand_dims, transpose, broadcast_to,
concatenate, stack. Their backward rules move the gradient back into the input's shape."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradcli.autograd.function import Function
from gradcli.autograd.limits import check_elements, check_shape
from gradcli.autograd.ops.broadcasting import sum_to
from gradcli.autograd.variable import Variable


def as_shape(dims: Any) -> tuple[int, ...]:
    """A shape from ``(2, 3)``, ``([2, 3],)``, a Variable, or floats that are whole numbers."""
    if len(dims) == 1 and isinstance(dims[0], list | tuple | np.ndarray | Variable):
        dims = dims[0]
    if isinstance(dims, Variable):
        dims = dims.data
    if isinstance(dims, np.ndarray):
        dims = dims.reshape(-1).tolist()
    shape = []
    for d in dims:
        if isinstance(d, Variable):
            d = d.data.item() if d.data.size == 1 else d
        if isinstance(d, float | np.floating):
            if not float(d).is_integer():
                raise ValueError(f"a size must be a whole number, got {d}")
            d = int(d)
        if not isinstance(d, int | np.integer) or isinstance(d, bool):
            raise ValueError(f"a size must be a whole number, got {d!r}")
        shape.append(int(d))
    return tuple(shape)


class Reshape(Function):
    __slots__ = ("shape",)

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x):
        try:
            return x.reshape(self.shape)
        except ValueError:  # NumPy's words name -1 "newaxis"; say it as the user wrote it
            if list(self.shape).count(-1) > 1:
                raise ValueError("only one size may be -1") from None
            wanted = ", ".join(str(d) for d in self.shape)
            raise ValueError(f"cannot put {x.size:,} elements into shape ({wanted})") from None

    def backward(self, g):
        return g.reshape(self.inputs[0].data.shape)


class Squeeze(Reshape):
    """Drop axes of size one (all of them, or the ones named)."""

    __slots__ = ("axis",)

    def __init__(self, axis: Any = None) -> None:
        self.axis = axis

    def forward(self, x):
        return np.squeeze(x, axis=self.axis)


class ExpandDims(Reshape):
    """Insert an axis of size one at ``axis``."""

    __slots__ = ("axis",)

    def __init__(self, axis: Any) -> None:
        self.axis = axis

    def forward(self, x):
        return np.expand_dims(x, self.axis)


class Transpose(Function):
    """Permute the axes (reverse them when ``axes`` is None)."""

    __slots__ = ("axes",)

    def __init__(self, axes: tuple[int, ...] | None = None) -> None:
        self.axes = axes

    def forward(self, x):
        if self.axes is None:
            self.axes = tuple(range(x.ndim))[::-1]
        out = np.transpose(x, self.axes)
        self.axes = tuple(k % x.ndim for k in self.axes)  # backward inverts: no negatives
        return out

    def backward(self, g):
        return transpose(g, tuple(int(k) for k in np.argsort(self.axes)))


class BroadcastTo(Function):
    """Repeat along axes of size one (a read-only view); backward sums them back."""

    __slots__ = ("shape",)
    elementwise = True

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x):
        check_shape("broadcast_to", self.shape)
        return np.broadcast_to(x, self.shape)

    def backward(self, g):
        return sum_to(g, self.inputs[0].data.shape, self.out_shape)


class Concatenate(Function):
    """Join arrays along an existing axis."""

    __slots__ = ("axis",)

    def __init__(self, axis: int = 0) -> None:
        self.axis = axis

    def forward(self, *arrays):
        if not arrays:
            raise ValueError("needs at least one array")
        check_elements("concatenate", sum(a.size for a in arrays))
        return np.concatenate(arrays, axis=self.axis)

    def backward(self, g):
        axis = self.axis % g.data.ndim
        grads = []
        start = 0
        for v, needed in zip(self.inputs, self.needs_input_grad):
            stop = start + v.data.shape[axis]
            if needed:
                index = (slice(None),) * axis + (slice(start, stop),)
                grads.append(g[index])
            else:
                grads.append(None)
            start = stop
        return tuple(grads)


class Stack(Function):
    """Join arrays of equal shape along a new axis."""

    __slots__ = ("axis",)

    def __init__(self, axis: int = 0) -> None:
        self.axis = axis

    def forward(self, *arrays):
        if not arrays:
            raise ValueError("needs at least one array")
        check_elements("stack", len(arrays) * arrays[0].size)
        return np.stack(arrays, axis=self.axis)

    def backward(self, g):
        axis = self.axis % g.data.ndim
        return tuple(
            g[(slice(None),) * axis + (i,)] if needed else None
            for i, needed in enumerate(self.needs_input_grad)
        )


# -- the functions users call ------------------------------------------------------------


def reshape(x: Any, *shape: Any) -> Variable:
    """``reshape(x, 2, 3)`` or ``reshape(x, [2, 3])``; one size may be -1."""
    return Reshape(as_shape(shape))(x)


def flatten(x: Any) -> Variable:
    return Reshape((-1,))(x)


def squeeze(x: Any, axis: Any = None) -> Variable:
    if isinstance(axis, list):
        axis = tuple(axis)
    return Squeeze(axis)(x)


def expand_dims(x: Any, axis: Any) -> Variable:
    if isinstance(axis, list):
        axis = tuple(axis)
    return ExpandDims(axis)(x)


def transpose(x: Any, *axes: Any) -> Variable:
    """Reverse the axes, or permute them: ``transpose(x, [1, 0, 2])``."""
    if not axes or (len(axes) == 1 and axes[0] is None):
        return Transpose(None)(x)
    return Transpose(as_shape(axes))(x)


def swap_last_axes(x: Variable) -> Variable:
    """The matrix transpose of each matrix in a stack (the last two axes swapped)."""
    n = x.data.ndim
    return Transpose(tuple(range(n - 2)) + (n - 1, n - 2))(x)


def broadcast_to(x: Any, *shape: Any) -> Variable:
    return BroadcastTo(as_shape(shape))(x)


def concatenate(arrays: Any, axis: int = 0) -> Variable:
    return Concatenate(int(axis))(*arrays)


def stack(arrays: Any, axis: int = 0) -> Variable:
    return Stack(int(axis))(*arrays)


def _axis(axis: Any, ndim: int, what: str = "axis") -> int:
    k = int(axis)
    if k != axis or not -ndim <= k < ndim:
        raise ValueError(f"{what} {axis} is out of range for an array with {ndim} dimensions")
    return k % ndim


def swapaxes(x: Any, axis1: int, axis2: int) -> Variable:
    """The array with two axes exchanged."""
    nd = np.ndim(x) if not isinstance(x, Variable) else x.ndim
    order = list(range(nd))
    i, j = _axis(axis1, nd), _axis(axis2, nd)
    order[i], order[j] = order[j], order[i]
    return Transpose(tuple(order))(x)


def moveaxis(x: Any, source: Any, destination: Any) -> Variable:
    """The array with axes ``source`` moved to ``destination`` (ints or lists of them);
    the other axes keep their order."""
    nd = np.ndim(x) if not isinstance(x, Variable) else x.ndim
    src = [source] if np.ndim(source) == 0 else list(source)
    dst = [destination] if np.ndim(destination) == 0 else list(destination)
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination must have the same number of axes")
    src = [_axis(a, nd, "source axis") for a in src]
    dst = [_axis(a, nd, "destination axis") for a in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError("moveaxis: repeated axes")
    order = [k for k in range(nd) if k not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return Transpose(tuple(order))(x)
