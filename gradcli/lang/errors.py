"""The language's error types, each with a source span, and the caret rendering."""

from __future__ import annotations

from collections.abc import Iterable

from gradcli.lang.results import Span

# What could drive or spoof a terminal if echoed raw: the C0 and C1 control codes (ESC
# starts an escape sequence), DEL, the line separators and the bidirectional controls
# (U+202E would show "cod.exe" as "exe.doc"). Each is shown as U+XXXX.
_UNSAFE_CODES = (*range(0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, 0x2028, 0x2029,
                 *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF)
_ESCAPES = {code: f"U+{code:04X}" for code in _UNSAFE_CODES if code != 0x09}  # a tab is safe
_KEEP_NEWLINE = {code: shown for code, shown in _ESCAPES.items() if code != 0x0A}


def printable(text: str, *, newlines: bool = False) -> str:
    """``text`` from the user, safe to show on a terminal: each control character,
    escape sequence introducer and bidirectional override as ``U+XXXX`` (tabs are kept,
    and newlines where ``newlines``). The one way user text reaches a message."""
    return text.translate(_KEEP_NEWLINE if newlines else _ESCAPES)


class GradcliError(Exception):
    """An error a user caused, located in their source.

    ``type`` is a short stable word for scripts ("syntax", "name", "shape", ...);
    ``message`` is one sentence in plain words; ``span`` points at the source (may be
    None when the error has no place, e.g. a bad --var); ``hint`` is an optional
    second line ("did you mean ...?").
    """

    type = "error"

    def __init__(
        self,
        message: str,
        span: Span | None = None,
        *,
        hint: str | None = None,
        source: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint
        self.source = source  # the text the span refers to (the statement or the program)
        self.first_line = 1  # the line number of ``source``'s first line

    def to_dict(self) -> dict:
        """The error as JSON output shows it: type, message, line, column."""
        return {"type": self.type, "message": self.message, "line": self.line,
                "column": self.column}

    @property
    def line(self) -> int | None:
        return self.span.line if self.span else None

    @property
    def column(self) -> int | None:
        return self.span.column if self.span else None

    def render(self, source: str | None = None) -> str:
        """The error as a user reads it: position, message, the source line with a caret."""
        text = source if source is not None else self.source
        first_line = 1 if source is not None else self.first_line
        message = printable(self.message, newlines=True)
        head = f"error: {message}"
        if self.span is not None:
            head = f"line {self.span.line}, column {self.span.column}: {message}"
        lines = [head]
        if self.span is not None and text is not None:
            lines.extend(caret_lines(text, self.span, first_line))
        if self.hint:
            lines.append(printable(self.hint, newlines=True))
        return "\n".join(lines)


def caret_lines(text: str, span: Span, first_line: int = 1) -> list[str]:
    """The source line of ``span`` and a line of carets under the spanned part.

    ``text`` starts at line ``first_line``; a span running past its line is underlined to
    the line's end.
    """
    source_lines = text.split("\n")
    index = span.line - first_line
    if not 0 <= index < len(source_lines):
        return []
    line = source_lines[index].rstrip("\r")
    start = max(span.column - 1, 0)
    if span.end_line == span.line:
        end = max(span.end_column - 1, start + 1)
    else:
        end = max(len(line), start + 1)
    # control characters shown raw could drive the terminal: U+XXXX each, the caret
    # moved along with them
    line = line.expandtabs(1)
    shown = printable(line)
    start, end = len(printable(line[:start])), len(printable(line[:end]))
    return [f"  {shown}", "  " + " " * start + "^" * (min(end, max(len(shown), start + 1)) - start)]


class SyntaxProblem(GradcliError):
    type = "syntax"


class UnknownName(GradcliError):
    type = "name"


class ArgumentProblem(GradcliError):
    type = "argument"


class DeclarationProblem(ArgumentProblem):
    """A shape declaration (``X: [n, m]``) where only ``gradcli diff`` reads them."""


class ShapeProblem(GradcliError):
    type = "shape"


class DomainProblem(GradcliError):
    type = "domain"


class LimitProblem(GradcliError):
    type = "limit"


class InternalProblem(GradcliError):
    """A bug in gradcli, reported without a traceback."""

    type = "internal"


class InputProblem(GradcliError):
    """A bad --var, --grad-output or file: a usage error rather than a statement's.

    ``statement`` is the (line, source) of the statement it was found at, where one
    was (a --grad-output that fits no result is found at the result)."""

    type = "input"
    statement: tuple[int, str] | None = None


# -- did you mean: the one place near names are found and said ----------------------------


def suggestions(name: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """The names among ``candidates`` close to ``name``, nearest first: those that differ
    from it in case alone (``X`` for ``x``), then difflib's close matches."""
    import difflib  # only on an error: not on every start

    candidates = list(candidates)
    same = [c for c in candidates if c != name and c.lower() == name.lower()]
    close = difflib.get_close_matches(name, candidates, n=limit, cutoff=0.6)
    return list(dict.fromkeys([*same, *close]))[:limit]


def did_you_mean(names: list[str]) -> str:
    if not names:
        return ""
    quoted = [f'"{n}"' for n in names]
    if len(quoted) == 1:
        return f" (did you mean {quoted[0]}?)"
    return f" (did you mean {', '.join(quoted[:-1])} or {quoted[-1]}?)"
