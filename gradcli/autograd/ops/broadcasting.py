"""Broadcasting, handled once: gradients are summed back to each input's shape here.

Gradients reaching an elementwise operation may be *smaller* than its output (a scalar
from ``mean`` stays a scalar until something needs it whole); ``sum_to`` accounts for
that by multiplying by the size of an axis instead of summing copies along it.
"""

from __future__ import annotations

from gradcli.autograd.variable import Variable


def sum_to(value: Variable, shape: tuple[int, ...], full_shape: tuple[int, ...]) -> Variable:
    """Sum ``broadcast_to(value, full_shape)`` down to ``shape``, without materialising.

    ``value`` broadcasts to ``full_shape`` and ``shape`` broadcasts to ``full_shape``.
    The result broadcasts to ``shape`` (it may stay smaller).
    """
    if shape == full_shape:  # (not vshape == shape: a small value may stand for a sum)
        return value
    vshape = value.shape
    nd = len(full_shape)
    vpad = (1,) * (nd - len(vshape)) + vshape
    tpad = (1,) * (nd - len(shape)) + shape
    axes = []
    factor = 1
    for k in range(nd):
        if tpad[k] == 1 and full_shape[k] != 1:
            if vpad[k] == 1:
                factor *= full_shape[k]
            else:
                axes.append(k - (nd - len(vshape)))
    if axes:
        value = value.sum(axis=tuple(axes), keepdims=True)
    if factor != 1:
        value = value * float(factor)
    extra = value.ndim - len(shape)
    if extra > 0:
        value = value.reshape(value.shape[extra:])
    return value
