"""How numbers and arrays read as text: NumPy-style, summarised when large."""

from __future__ import annotations

from typing import Any

import numpy as np

DEFAULT_PRECISION = 6
SUMMARY_THRESHOLD = 100  # arrays with more elements are shown with "..."
EDGE_ITEMS = 3
SHORT_WIDTH = 36  # the most characters a one-line value in a graph node may take


def shown(value: Any) -> np.ndarray:
    """The array as every rendering shows it (text, JSON, graph labels): a negative zero
    (``-0.0``, as ``-x`` or a product with a negative number makes) reads as 0. The one
    place values are made ready to become text."""
    array = np.asarray(value)
    if array.dtype.kind in "fc":
        return np.asarray(array + 0.0)  # IEEE: -0.0 + 0.0 is +0.0; no other value changes
    return array


def format_scalar(x: Any, precision: int = DEFAULT_PRECISION) -> str:
    """One number as a person reads it: ``27.0``, ``0.333333``, ``1.0e-07``, ``nan``."""
    x = float(x) + 0.0  # no "-0." (see shown)
    if np.isnan(x):
        return "nan"
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    trim = "-" if precision == 0 else "0"  # --precision 0 gives 3, not 3.0
    if x == 0 or 1e-4 <= abs(x) < 1e16:
        text = np.format_float_positional(x, precision=precision, unique=True, trim=trim)
        if x == 0 or float(text) != 0:  # (-0.0004 at precision 2 is not "-0.0")
            return text
    return np.format_float_scientific(x, precision=precision, unique=True, trim=trim)


def format_array(value: Any, precision: int = DEFAULT_PRECISION, width: int = 75) -> str:
    """An array NumPy-style (``[[4.5 4.5]\\n [4.5 4.5]]``); a 0-d array as a plain number."""
    array = shown(value)
    if array.ndim == 0:
        return format_scalar(array, precision)
    return np.array2string(
        array,
        precision=precision,
        threshold=SUMMARY_THRESHOLD,
        edgeitems=EDGE_ITEMS,
        max_line_width=width,
        # NumPy writes "3." at precision 0; a person reads 3
        formatter={"float_kind": lambda v: format_scalar(v, 0)} if precision == 0 else None,
    )


def short_value(value: Any, precision: int = 4, width: int = SHORT_WIDTH) -> str:
    """A value squeezed onto one line of at most ``width`` characters, for graph nodes."""
    if value is None:
        return ""
    array = shown(value)
    if array.ndim == 0:
        return format_scalar(array, precision)
    if array.size == 0:
        return "[]"
    for edge, threshold in ((EDGE_ITEMS, SUMMARY_THRESHOLD), (2, 8), (1, 2)):
        text = np.array2string(
            array,
            precision=precision,
            threshold=threshold,
            edgeitems=edge,
            max_line_width=10**9,
            separator=", ",
            formatter={"float_kind": lambda v: format_scalar(v, precision)},
        )
        text = " ".join(text.split())
        if len(text) <= width:
            return text
    return (text[: width - 3].rstrip(" ,.[") or text[:1]) + "..."  # not "[0.45, ....."


def shape_text(shape: Any) -> str:
    """``(2, 2)``, ``(3,)`` or ``()``: Python's spelling of a shape."""
    return str(tuple(int(n) for n in shape))
