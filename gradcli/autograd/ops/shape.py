"""Shape operations: reshape, flatten, squeeze, expand_dims, transpose, broadcast_to,
concatenate, stack, and the ones built on them and on indexing (swapaxes, moveaxis,
repeat, tile, flip, roll, pad, hstack, vstack, column_stack, split). Their backward rules
move the gradient back into the input's shape."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradcli.autograd.function import Function
from gradcli.autograd.limits import check_elements, check_shape
from gradcli.autograd.ops.broadcasting import sum_to
from gradcli.autograd.ops.indexing import getitem
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


# -- repeating, reversing, rolling, padding (indexing and broadcasting underneath) ---------


def _ndim_of(x: Any) -> int:
    return x.ndim if isinstance(x, Variable) else np.ndim(x)


def _take(x: Any, index: np.ndarray, axis: int) -> Variable:
    """``x`` indexed by ``index`` along ``axis``: a gather, whose gradient accumulates."""
    return getitem(x, (slice(None),) * axis + (index,))


def _whole_numbers(values: Any, what: str) -> list[int]:
    flat = np.asarray(values.data if isinstance(values, Variable) else values, dtype=float)
    if not np.all(np.mod(flat, 1) == 0):
        raise ValueError(f"{what} must be whole numbers")
    return [int(v) for v in flat.reshape(-1)]


def repeat(x: Any, repeats: Any, axis: Any = None) -> Variable:
    """Each element repeated ``repeats`` times (a number, or one per element along axis);
    without axis, of the flattened array (NumPy's repeat)."""
    if axis is None:
        x, axis = flatten(x), 0
    nd = _ndim_of(x)
    axis = _axis(axis, nd)
    n = np.shape(x)[axis]
    counts = _whole_numbers(repeats, "repeats")
    if len(counts) not in (1, n) or any(c < 0 for c in counts):
        raise ValueError(f"repeats must be one number, or {n} of them, none negative")
    check_elements("repeat", np.prod(np.shape(x)) // max(n, 1) * (
        counts[0] * n if len(counts) == 1 else sum(counts)))
    return _take(x, np.repeat(np.arange(n), counts if len(counts) > 1 else counts[0]), axis)


def tile(x: Any, reps: Any) -> Variable:
    """The array repeated ``reps`` times along each axis (NumPy's tile)."""
    reps = _whole_numbers(reps, "reps")
    if any(r < 0 for r in reps):
        raise ValueError("reps must not be negative")
    shape = np.shape(x)
    d = max(len(shape), len(reps))
    shape = (1,) * (d - len(shape)) + shape
    reps = [1] * (d - len(reps)) + reps
    check_shape("tile", tuple(s * r for s, r in zip(shape, reps)))
    spread = reshape(x, tuple(v for s in shape for v in (1, s)))
    wide = broadcast_to(spread, tuple(v for s, r in zip(shape, reps) for v in (r, s)))
    return reshape(wide, tuple(s * r for s, r in zip(shape, reps)))


def flip(x: Any, axis: Any = None) -> Variable:
    """The array with the order of its elements reversed along axis (all axes if None)."""
    nd = _ndim_of(x)
    axes = range(nd) if axis is None else [_axis(a, nd) for a in np.atleast_1d(axis)]
    index = [slice(None)] * nd
    for a in axes:
        index[a] = slice(None, None, -1)
    return getitem(x, tuple(index))


def roll(x: Any, shift: Any, axis: Any = None) -> Variable:
    """Elements shifted ``shift`` places along axis, those past the end coming round to
    the start (of the flattened array if axis is None); shift and axis may be lists."""
    if axis is None:
        return reshape(roll(flatten(x), shift, 0), np.shape(x))
    nd = _ndim_of(x)
    shifts = _whole_numbers(shift, "shift")
    axes = [_axis(a, nd) for a in _whole_numbers(axis, "axis")]
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    if len(shifts) != len(axes):
        raise ValueError("roll: give one shift, or one per axis")
    for s, a in zip(shifts, axes):
        n = np.shape(x)[a]
        if n:
            x = _take(x, (np.arange(n) - s) % n, a)
    return x


class Pad(Function):
    """The array with ``value`` added before and after each axis (NumPy's constant pad);
    backward cuts the gradient of the original block out."""

    __slots__ = ("widths", "value")

    def __init__(self, widths: tuple[tuple[int, int], ...], value: float = 0.0) -> None:
        self.widths = widths
        self.value = value

    def forward(self, x):
        check_shape("pad", tuple(n + a + b for n, (a, b) in zip(x.shape, self.widths)))
        return np.pad(x, self.widths, mode="constant", constant_values=self.value)

    def backward(self, g):
        shape = self.inputs[0].data.shape
        return getitem(g, tuple(slice(a, a + n) for n, (a, _) in zip(shape, self.widths)))


def pad(x: Any, pad_width: Any, value: float = 0.0) -> Variable:
    """``pad_width`` is n (every side of every axis), [before, after] (every axis), or
    one [before, after] per axis."""
    nd = _ndim_of(x)
    widths = np.asarray(_whole_numbers(pad_width, "pad widths"))
    given = np.shape(pad_width.data if isinstance(pad_width, Variable) else pad_width)
    try:
        widths = np.broadcast_to(widths.reshape(given), (nd, 2))
    except ValueError:
        raise ValueError(f"pad widths of shape {given} do not fit an array of {nd} "
                         "dimensions: give n, [before, after], or one pair per axis") from None
    if (widths < 0).any():
        raise ValueError("pad widths must not be negative")
    return Pad(tuple((int(a), int(b)) for a, b in widths), float(value))(x)


# -- stacking and splitting ----------------------------------------------------------------


def _at_least(x: Any, ndim: int, column: bool = False) -> Any:
    shape = np.shape(x)
    if len(shape) >= ndim:
        return x
    if ndim == 1 or not shape:
        return reshape(x, (1,) * ndim)
    return reshape(x, shape + (1,)) if column else reshape(x, (1,) + shape)


def hstack(arrays: Any) -> Variable:
    """Join arrays along their second axis (their first, if they are vectors)."""
    arrays = [_at_least(a, 1) for a in arrays]
    return concatenate(arrays, axis=0 if arrays and _ndim_of(arrays[0]) == 1 else 1)


def vstack(arrays: Any) -> Variable:
    """Join arrays along their first axis, vectors as rows."""
    return concatenate([_at_least(a, 2) for a in arrays], axis=0)


def column_stack(arrays: Any) -> Variable:
    """Join vectors as the columns of a matrix (matrices as they are)."""
    return concatenate([_at_least(a, 2, column=True) for a in arrays], axis=1)


def split(x: Any, sections: int, axis: int = 0) -> Variable:
    """``x`` cut into ``sections`` equal pieces along axis, stacked along a new first
    axis: ``split(x, 2)[0]`` is the first piece (and ``a, b = split(x, 2)`` unpacks)."""
    nd = _ndim_of(x)
    if nd == 0:
        raise ValueError("split needs an array of at least one dimension")
    axis = _axis(axis, nd)
    k = int(sections)
    n = np.shape(x)[axis]
    if k != sections or k < 1 or n % k:
        raise ValueError(f"split: {n} elements along axis {axis} do not divide into "
                         f"{sections:g} equal pieces (unequal pieces: index them, as "
                         f"x[0:2] and x[2:])")
    shape = np.shape(x)
    pieces = reshape(x, shape[:axis] + (k, n // k) + shape[axis + 1:])
    return moveaxis(pieces, axis, 0)


def hsplit(x: Any, sections: int) -> Variable:
    """split along the second axis (the first, for a vector)."""
    return split(x, sections, 1 if _ndim_of(x) > 1 else 0)


def vsplit(x: Any, sections: int) -> Variable:
    """split along the first axis (of an array of at least 2 dimensions)."""
    if _ndim_of(x) < 2:
        raise ValueError("vsplit needs an array of at least 2 dimensions")
    return split(x, sections, 0)
