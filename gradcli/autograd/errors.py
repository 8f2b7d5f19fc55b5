"""The engine's errors: plain exceptions that name the operation and the shapes involved."""

from __future__ import annotations


class AutogradError(Exception):
    """Base of the engine's errors."""


class OperationError(AutogradError, ValueError):
    """An operation could not run on these inputs (shapes that do not fit, bad axis...)."""

    def __init__(self, op: str, shapes: list[tuple[int, ...]], reason: str) -> None:
        self.op = op
        self.shapes = [tuple(s) for s in shapes]
        self.reason = reason
        shown = ", ".join(str(s) for s in self.shapes)
        super().__init__(f"{op}: {reason} (input shapes {shown})")


class BackwardError(AutogradError, RuntimeError):
    """backward() was asked for something it cannot do (non-scalar output, freed graph...)."""


class InPlaceError(AutogradError, RuntimeError):
    """An in-place change that would lose a gradient (a leaf that requires one, changed
    outside ``no_grad()``) or one that cannot be done (a change of shape)."""


class SizeLimitError(AutogradError, MemoryError):
    """A result would have more elements than the configured limit."""

    def __init__(self, op: str, shape: tuple[int, ...] | None, elements: int, limit: int) -> None:
        self.op = op
        self.shape = shape
        self.elements = elements
        self.limit = limit
        what = f"shape {shape}, " if shape is not None else ""
        super().__init__(
            f"{op}: the result would have {what}{elements:,} elements, over the limit of "
            f"{limit:,}"
        )


class LimitError(AutogradError, MemoryError):
    """An operation would go over a session's limit: its memory, its time, its graph."""
