"""Columns of text that fit a terminal: the tables of `check`, `functions` and `:vars`.

A table too wide for the terminal drops its least needed columns first (each column's
``drop`` rank; a column without one, like a verdict, is never dropped), then wraps the
columns that may wrap. Piped output (no width) keeps every column, unwrapped. No line
ends in spaces, whatever the cells hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text

from gradcli.render.plain import wrap_text

GAP = "  "  # between two columns
MIN_WRAP = 12  # a wrapped column keeps at least this many characters a line
EASY_WRAP = 24  # columns are dropped before a wrapped one gets narrower than this

Cell = tuple[str, str]  # (text, rich style or "")


@dataclass(frozen=True)
class Column:
    """A column: its header; ``drop``, its rank among the columns dropped when the table
    is too wide (1 goes first; None, never); whether its cells may wrap, and the width
    below which others are dropped first; alignment."""

    header: str
    drop: int | None = None
    wrap: bool = False
    right: bool = False
    easy: int = EASY_WRAP  # a wrapped column: other columns go before it gets narrower


def _cell(value: str | Cell) -> Cell:
    return (value, "") if isinstance(value, str) else value


def fit_columns(columns: Sequence[Column], rows: Sequence[Sequence[str | Cell]],
                width: int | None) -> list[int]:
    """The indices of the columns kept, so the table fits ``width`` where it can."""
    kept = list(range(len(columns)))
    if width is None:
        return kept

    def need(index: int) -> int:
        texts = [columns[index].header, *(_cell(row[index])[0] for row in rows
                                         if index < len(row))]
        longest = max(map(len, texts))
        return min(longest, columns[index].easy) if columns[index].wrap else longest

    def total() -> int:
        return sum(map(need, kept)) + len(GAP) * (len(kept) - 1)

    for index in sorted((i for i, c in enumerate(columns) if c.drop is not None),
                        key=lambda i: columns[i].drop or 0):
        if total() <= width:
            break
        kept.remove(index)
    return kept


def table_text(columns: Sequence[Column], rows: Sequence[Sequence[str | Cell]],
               width: int | None = None, *, header_style: str = "bold") -> Text:
    """The table as one Text, laid out for a terminal ``width`` wide (None: a pipe).

    A row shorter than the columns is padded with empty cells (a section title is a
    row of one cell: it may run into the next columns, as nothing is beside it).
    """
    rows = [[_cell(c) for c in row] + [("", "")] * (len(columns) - len(row)) for row in rows]
    kept = fit_columns(columns, rows, width)
    widths = {i: max(len(columns[i].header), *(len(row[i][0]) for row in rows)) for i in kept}
    if width is not None:
        # the wrapped columns share what is left, the narrowest first: a column that
        # needs less than its share leaves the rest to the others
        wrapping = sorted((i for i in kept if columns[i].wrap), key=widths.__getitem__)
        left = width - sum(widths[i] for i in kept if i not in wrapping) - len(GAP) * (
            len(kept) - 1)
        for n, i in enumerate(wrapping):
            widths[i] = min(widths[i], max(MIN_WRAP, left // (len(wrapping) - n)))
            left -= widths[i]
    text = Text()
    header = [(columns[i].header, header_style) for i in kept]
    for row in [header, *([row[i] for i in kept] for row in rows)]:
        _append_row(text, row, [widths[i] for i in kept], [columns[i] for i in kept],
                    section=len(row) > 1 and all(not cell[0] for cell in row[1:]))
    text.rstrip()
    return text


def _append_row(text: Text, row: list[Cell], widths: list[int], columns: list[Column],
                section: bool) -> None:
    if section:  # a title alone on its line is never wrapped into its column
        text.append(row[0][0], style=row[0][1] or None)
        text.append("\n")
        return
    cells = []
    for (content, style), width, column in zip(row, widths, columns):
        lines = (wrap_text(content, width) if column.wrap and len(content) > width
                 else [content])
        cells.append((lines, style, width, column))
    for n in range(max(len(lines) for lines, *_ in cells)):
        parts = []
        for lines, style, width, column in cells:
            line = lines[n] if n < len(lines) else ""
            parts.append((line.rjust(width) if column.right else line.ljust(width), style))
        while parts and not parts[-1][0].strip():  # no trailing spaces
            parts.pop()
        if parts:
            parts[-1] = (parts[-1][0].rstrip(), parts[-1][1])
        for i, (line, style) in enumerate(parts):
            if i:
                text.append(GAP)
            text.append(line, style=style or None)
        text.append("\n")


def prose(message: str, width: int | None = None, style: str = "") -> Text:
    """A sentence wrapped between words to ``width`` (None: one line), without the
    spaces rich leaves at the end of the lines it wraps."""
    return Text("\n".join(wrap_text(message, width)), style=style or "")
