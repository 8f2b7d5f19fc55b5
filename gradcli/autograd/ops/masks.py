"""Which Variables are comparison results, so that indexing reads them as boolean masks.

A comparison gives 0.0 and 1.0 (values arithmetic can use), yet ``x[x > 0]`` must pick
elements as NumPy's boolean masks do, not the elements at positions 0 and 1. The
comparisons register their outputs here; the registry holds them weakly (by id, checked
against a weak reference, since Variables compare elementwise and cannot be set members).
"""

from __future__ import annotations

import weakref
from typing import Any

# id -> weak reference; empty (false) while no mask is alive, so the operations that
# carry masks check it first and pay nothing otherwise
MASKS: dict[int, weakref.ref] = {}


def mark_mask(v: Any) -> Any:
    """Register ``v`` (a comparison's output) as a mask; returns ``v``."""
    key = id(v)
    MASKS[key] = weakref.ref(v, lambda _, key=key: MASKS.pop(key, None))
    return v


def is_mask(v: Any) -> bool:
    ref = MASKS.get(id(v))
    return ref is not None and ref() is v


def carry_mask(out: Any, inputs: tuple) -> Any:
    """``out`` is a mask when every input is one, as in NumPy, where ``a * b``,
    ``minimum``, ``maximum`` of booleans are boolean (``x[(x > 0) * (x < 2)]``)."""
    if inputs and all(is_mask(i) for i in inputs):
        mark_mask(out)
    return out
