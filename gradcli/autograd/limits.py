"""The element budget: operations that allocate check their result's size first."""

from __future__ import annotations

import math

from gradcli.autograd.errors import SizeLimitError

DEFAULT_MAX_ELEMENTS = 10**8


class _Limits:
    __slots__ = ("max_elements",)

    def __init__(self) -> None:
        self.max_elements = DEFAULT_MAX_ELEMENTS


LIMITS = _Limits()


def check_shape(op: str, shape: tuple[int, ...]) -> None:
    """Raise SizeLimitError if an array of ``shape`` would exceed the element budget."""
    elements = math.prod(shape)
    if elements > LIMITS.max_elements:
        raise SizeLimitError(op, tuple(shape), elements, LIMITS.max_elements)


def check_elements(op: str, elements: int) -> None:
    if elements > LIMITS.max_elements:
        raise SizeLimitError(op, None, elements, LIMITS.max_elements)
