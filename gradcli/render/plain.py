"""Failures and warnings as plain text: what stderr shows, without loading rich."""

from __future__ import annotations

from gradcli.lang.results import Failure


def failure_text(failure: Failure) -> str:
    """A failure as a person reads it: position, message, source line, caret, hint."""
    error = failure.error
    render = getattr(error, "render", None)
    if render is None:
        return f"error: line {failure.line}: {error}"
    if getattr(error, "source", None) is None and getattr(error, "span", None) is not None:
        # The span counts lines from the program's start; pad the statement to match.
        text = render("\n" * max(failure.line - 1, 0) + failure.source)
    else:
        text = render()
    if not text.startswith("error"):
        text = "error: " + text
    return text


def warning_text(message: str, line: int | None = None) -> str:
    """A one-line warning (NaN or infinity from a valid operation)."""
    where = f"line {line}: " if line is not None and not message.startswith("line ") else ""
    return f"warning: {where}{message}"
