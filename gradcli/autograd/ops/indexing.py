"""Indexing: NumPy basic indexing plus integer lists, with gradients scattered back
(repeated indices accumulate)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradcli.autograd.function import Function
from gradcli.autograd.limits import check_elements
from gradcli.autograd.ops.masks import is_mask
from gradcli.autograd.variable import Variable


def normalize_index(index: Any) -> Any:
    """An index NumPy accepts: Variables and whole floats become ints, lists int arrays."""
    if isinstance(index, tuple):
        return tuple(_one(i) for i in index)
    return _one(index)


def _one(item: Any) -> Any:
    if item is None or item is Ellipsis or isinstance(item, slice):
        return item
    if isinstance(item, Variable):
        item = item.data.astype(bool) if is_mask(item) and item.data.ndim else item.data
    if isinstance(item, list | tuple):
        item = np.asarray(item)
    if isinstance(item, np.ndarray):
        if item.ndim == 0:
            item = item.item()
        else:
            if item.dtype.kind == "f":
                if not np.all(np.mod(item, 1) == 0):
                    raise IndexError("indices must be whole numbers")
                item = item.astype(np.intp)
            elif item.dtype.kind == "b":
                return item  # a mask: expand_masks turns it into the positions it selects
            if item.dtype.kind not in "iu":
                raise IndexError("indices must be whole numbers")
            return item
    if isinstance(item, float | np.floating):
        if not float(item).is_integer():
            raise IndexError(f"index {item} is not a whole number")
        return int(item)
    if isinstance(item, bool):
        raise IndexError("true/false cannot be used as an index")
    if isinstance(item, int | np.integer):
        return int(item)
    raise IndexError(f"cannot index with {item!r}")


def _index_elements(index: Any, shape: tuple[int, ...]) -> int:
    """An upper bound for the elements an integer-array index picks from ``shape`` (0 for
    basic indexing, a view): the index arrays' elements times the axes they leave whole."""
    items = index if isinstance(index, tuple) else (index,)
    arrays = [item.shape for item in items if isinstance(item, np.ndarray)]
    if not arrays:
        return 0
    try:  # the index arrays broadcast together: their result has this many elements
        count = max(math.prod(np.broadcast_shapes(*arrays)), 1)
    except ValueError:
        return 0  # NumPy reports the mismatch, allocating nothing
    consumed = sum(1 for item in items if item is not None and item is not Ellipsis)
    axis = 0
    rest = list(shape)
    for item in items:
        if item is Ellipsis:
            axis += max(len(shape) - consumed, 0)
        elif item is not None:
            if isinstance(item, np.ndarray):
                if axis < len(rest):
                    rest[axis] = 1  # this axis is replaced by the picked elements
            axis += 1
    for size in rest:
        count *= size
    return count


class GetItem(Function):
    __slots__ = ("index",)

    def __init__(self, index: Any) -> None:
        self.index = index

    def forward(self, x):
        elements = _index_elements(self.index, x.shape)
        if elements > 1:
            check_elements("index", elements)
        return x[self.index]

    def backward(self, g):
        return ScatterAdd(self.index, self.inputs[0].data.shape)(g)


class ScatterAdd(Function):
    """Zeros of ``shape`` with ``g`` added at ``index`` (the backward of indexing)."""

    __slots__ = ("index", "shape")

    def __init__(self, index: Any, shape: tuple[int, ...]) -> None:
        self.index = index
        self.shape = shape

    def forward(self, g):
        out = np.zeros(self.shape, dtype=g.dtype)
        items = self.index if isinstance(self.index, tuple) else (self.index,)
        if any(isinstance(item, np.ndarray) for item in items):
            np.add.at(out, self.index, g)  # integer lists may repeat: accumulate
        else:
            out[self.index] = g  # basic indexing picks each element at most once
        return out

    def backward(self, g):
        return g[self.index]


def expand_masks(index: Any, shape: tuple[int, ...]) -> Any:
    """``index`` with each boolean mask replaced by the integer positions it selects
    (``np.nonzero``), after checking the mask's shape against the axes it covers."""
    items = index if isinstance(index, tuple) else (index,)
    if not any(isinstance(i, np.ndarray) and i.dtype.kind == "b" for i in items):
        return index
    consumed = sum(i.ndim if isinstance(i, np.ndarray) and i.dtype.kind == "b" else 1
                   for i in items if i is not None and i is not Ellipsis)
    out: list[Any] = []
    axis = 0
    for item in items:
        if item is Ellipsis:
            axis += max(len(shape) - consumed, 0)
        elif isinstance(item, np.ndarray) and item.dtype.kind == "b":
            covered = tuple(shape[axis:axis + item.ndim])
            if covered != item.shape:
                raise IndexError(f"a mask of shape {item.shape} does not fit an array of "
                                 f"shape {shape} (at axis {axis} it needs shape {covered})")
            out.extend(np.nonzero(item))
            axis += item.ndim
            continue
        elif item is not None:
            axis += 1
        out.append(item)
    return tuple(out) if len(out) != 1 else out[0]


def getitem(x: Any, index: Any) -> Variable:
    """``x[index]``: ints, slices, None, Ellipsis, integer lists and boolean masks (a
    comparison's result, or a NumPy bool array), as in NumPy."""
    index = normalize_index(index)
    shape = x.data.shape if isinstance(x, Variable) else np.shape(x)
    return GetItem(expand_masks(index, shape))(x)


def take(x: Any, index: Any) -> Variable:
    return getitem(x, index)
