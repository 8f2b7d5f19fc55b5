"""f and df/dx over a range: a character plot for the terminal, or an image via matplotlib.

Both drawings share one y-range (robust quantiles of the finite values, so one pole does
not flatten the rest; ``ylim`` overrides it), round tick labels, and one list of what was
left out (a curve that is NaN on the whole range, points beyond the y-range), which the
terminal prints under the plot and the image writes on it. matplotlib is an optional
extra (``pip install 'gradcli[plot]'``), imported only by :func:`save_figure`; the
terminal plot needs nothing but rich.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rich.text import Text

from gradcli.render.plain import wrap_text
from gradcli.render.values import format_scalar

F_MARK, D_MARK, BOTH_MARK = "*", "+", "#"
F_STYLE, D_STYLE = "cyan", "magenta"
IMAGE_SUFFIXES = (".png", ".svg", ".pdf")
DEFAULT_WIDTH = 72  # columns of a plot that does not go to a terminal
DEFAULT_HEIGHT = 18  # rows of the grid
MIN_WIDTH, MIN_HEIGHT = 24, 5
TAIL = 0.1  # the y-range is set by the 10% and 90% quantiles of the finite values ...
REACH = 0.5  # ... widened by half their spread (and never beyond the values)


def nice_step(span: float, count: int) -> float:
    """A round step (1, 2 or 5 times a power of ten) that cuts ``span`` into about
    ``count`` pieces."""
    raw = span / max(count, 1)
    if not raw > 0 or not math.isfinite(raw):
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * magnitude >= raw * (1 - 1e-9):
            return m * magnitude
    return 10.0 * magnitude


def tick_text(value: float, step: float) -> str:
    """``value``, a multiple of ``step``, with as many decimals as the step needs."""
    if abs(step) >= 1e6 or abs(step) < 1e-4:
        return "0" if value == 0 else f"{round(value / step) * step:.4g}"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    text = f"{round(value / step) * step:.{decimals}f}"
    return "0" if float(text) == 0 else text


def ticks(low: float, high: float, count: int) -> tuple[list[float], float]:
    """Round values between ``low`` and ``high``, about ``count`` of them, and their step."""
    step = nice_step(high - low, count)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [k * step for k in range(first, last + 1)], step


@dataclass
class Scale:
    """The y-range both curves are drawn in, and what the drawing leaves out."""

    low: float
    high: float
    notes: list[str] = field(default_factory=list)
    drawn: list[bool] = field(default_factory=list)  # per curve: has it any point to draw


def _what(values: np.ndarray) -> str:
    if np.isnan(values).all():
        return "NaN"
    return "infinite" if np.isinf(values).all() else "NaN or infinite"


def y_scale(curves: list[tuple[str, np.ndarray]], ylim: tuple[float, float] | None = None
            ) -> Scale:
    """The y-range for ``curves`` ((label, values) pairs) and the notes on what is not
    drawn: ``log(x): NaN on the whole range``, ``d/dx: 3 of 64 points beyond the
    y-range [-10, 10] (--ylim shows them)``."""
    finite = np.concatenate([v[np.isfinite(v)] for _, v in curves]) if curves else np.array([])
    if ylim is not None:
        low, high = ylim
    elif finite.size == 0:
        low, high = -1.0, 1.0
    else:
        low, high = float(finite.min()), float(finite.max())
        if finite.size >= 8:
            q_low, q_high = (float(q) for q in np.quantile(finite, [TAIL, 1 - TAIL]))
            spread = q_high - q_low
            low, high = max(low, q_low - REACH * spread), min(high, q_high + REACH * spread)
        if not high - low > 1e-12 * max(1.0, abs(high)):
            low, high = low - 1.0, high + 1.0
        step = nice_step(high - low, 8)  # the ends round outwards, by a little
        rounded = math.floor(low / step) * step, math.ceil(high / step) * step
        low, high = min(rounded[0], low), max(rounded[1], high)  # never inside the values
    scale = Scale(low, high)
    for label, values in curves:
        ok = np.isfinite(values)
        inside = ok & (values >= low) & (values <= high)
        scale.drawn.append(bool(inside.any()))
        if not ok.any():
            scale.notes.append(f"{label}: {_what(values)} on the whole range")
            continue
        if not ok.all():
            scale.notes.append(f"{label}: {_what(values[~ok])} at {int((~ok).sum())} of "
                               f"{values.size} points, left out")
        beyond = int((ok & ~inside).sum())
        if beyond:
            scale.notes.append(f"{label}: {beyond} of {values.size} points beyond the y-range "
                               f"[{format_scalar(low, 4)}, {format_scalar(high, 4)}] "
                               "(--ylim LOW:HIGH shows them)")
    return scale


def render_chart(
    xs: Any,
    f: Any,
    df: Any,
    *,
    x_name: str = "x",
    f_label: str = "f",
    width: int = DEFAULT_WIDTH,
    height: int = DEFAULT_HEIGHT,
    ylim: tuple[float, float] | None = None,
) -> Text:
    """Both curves on one grid: ``*`` is f, ``+`` is df/dx, ``#`` where they meet.

    ``width`` is the whole plot's, labels included; ``height`` the grid's rows. The
    axes are labelled with round numbers; what is not drawn is said under the legend.
    """
    xs = np.asarray(xs, dtype=np.float64)
    f = np.asarray(f, dtype=np.float64)
    df = np.asarray(df, dtype=np.float64)
    d_label = f"d/d{x_name}"
    scale = y_scale([(f_label, f), (d_label, df)], ylim)
    low, high = scale.low, scale.high
    height = max(height, MIN_HEIGHT)
    y_ticks, y_step = ticks(low, high, max(2, min(5, height // 4)))

    def row_of(y: float) -> int:
        return int(round((high - y) / (high - low) * (height - 1)))

    end_step = nice_step(high - low, 8)  # the step the ends were rounded to

    def end_text(y: float) -> str:
        whole = abs(y / end_step - round(y / end_step)) < 1e-6
        return tick_text(y, end_step) if whole else format_scalar(y, 3)

    labels = {0: end_text(high), height - 1: end_text(low)}
    for y in sorted(y_ticks, key=lambda v: v != 0):  # zero first, then the round values
        row = row_of(y)
        if not any(abs(row - taken) < 2 for taken in labels if taken != row or y != 0):
            labels[row] = tick_text(y, y_step)
    pad = max(map(len, labels.values()), default=1)
    name = f" {x_name}"  # at the end of the x axis
    columns = max(width, MIN_WIDTH) - pad - 2 - len(name)
    x_low, x_high = float(xs[0]), float(xs[-1])

    def col_of(x: float) -> int:
        span = x_high - x_low
        return int(round((x - x_low) / span * (columns - 1))) if span else 0

    grid = [[" "] * columns for _ in range(height)]
    zero_row = row_of(0.0) if low <= 0.0 <= high else None
    zero_col = col_of(0.0) if min(x_low, x_high) <= 0.0 <= max(x_low, x_high) else None
    if zero_row is not None:
        grid[zero_row] = ["-"] * columns
    if zero_col is not None:
        for r in range(height):
            grid[r][zero_col] = "|"
    marks: dict[tuple[int, int], str] = {}
    for values, mark in ((f, F_MARK), (df, D_MARK)):
        for x, y in zip(xs, values):
            if not (np.isfinite(y) and low <= y <= high):
                continue
            cell = (row_of(float(y)), col_of(float(x)))
            marks[cell] = BOTH_MARK if marks.get(cell, mark) != mark else mark

    text = Text()
    for r in range(height):
        text.append(labels.get(r, "").rjust(pad) + " │", style="dim")
        line = Text()
        for c in range(columns):
            mark = marks.get((r, c))
            if mark is None:
                line.append(grid[r][c], style="dim")
            else:
                line.append(mark, style={F_MARK: F_STYLE, D_MARK: D_STYLE}.get(mark, "bold"))
        line.rstrip()
        text.append_text(line)
        text.append("\n")
    x_ticks, x_step = ticks(x_low, x_high, max(2, min(6, columns // 10)))
    axis_line = ["─"] * columns
    total = pad + 2 + columns  # the whole width: the labels stay within it
    axis = [" "] * total
    placed: list[tuple[int, int]] = []
    for x in x_ticks:
        col = col_of(x)
        label = tick_text(x, x_step)
        start = min(max(pad + 2 + col - len(label) // 2, 0), total - len(label))
        if any(start < end + 1 and begin < start + len(label) + 1 for begin, end in placed):
            continue
        placed.append((start, start + len(label)))
        axis[start:start + len(label)] = list(label)
        axis_line[col] = "┬"
    text.append(" " * pad + " └" + "".join(axis_line) + name + "\n", style="dim")
    text.append("".join(axis).rstrip() + "\n", style="dim")
    indent = " " * (pad + 2)
    room = max(total - len(indent), MIN_WIDTH // 2)
    items = [(mark, style, label) for (mark, style, label), drawn in zip(
        [(F_MARK, F_STYLE, f_label), (D_MARK, D_STYLE, d_label)], scale.drawn) if drawn]
    if all(scale.drawn):
        items.append((BOTH_MARK, "dim", "both"))
    if not items:  # nothing drawn: the notes say why
        text.rstrip()
    # the legend on one line where it fits, else an item a line
    one_line = sum(len(label) + 2 for _, _, label in items) + 4 * (len(items) - 1) <= room
    for n, (mark, style, label) in enumerate(items):
        if n:
            text.append("    " if one_line else "\n")
        if n == 0 or not one_line:
            text.append(indent)
        text.append(mark, style=style)
        text.append(f" {label}", style="dim" if mark == BOTH_MARK else "")
    for note in scale.notes:  # wrapped under the plot, never wider than it
        for line in wrap_text(note, room):
            text.append("\n" + indent + line, style="yellow")
    return text


def _broken(xs: np.ndarray, values: np.ndarray, low: float, high: float) -> tuple[
        np.ndarray, np.ndarray]:
    """The curve with a gap (NaN) where it is not finite and where it jumps: a step
    between two points of more than half the y-range and more than twice the steps
    beside it (a pole, a discontinuity). matplotlib then never joins the two sides."""
    values = np.where(np.isfinite(values), values, np.nan)
    steps = np.abs(np.diff(values))
    beside = np.fmax(np.concatenate([[0.0], steps[:-1]]), np.concatenate([steps[1:], [0.0]]))
    with np.errstate(invalid="ignore"):
        jumps = np.flatnonzero((steps > (high - low) / 2) & (steps > 2 * beside))
    if jumps.size == 0:
        return xs, values
    at = jumps + 1
    return (np.insert(xs, at, (xs[jumps] + xs[at]) / 2), np.insert(values, at, np.nan))


def save_figure(xs: Any, f: Any, df: Any, path: str, *, x_name: str = "x",
                f_label: str = "f", ylim: tuple[float, float] | None = None) -> list[str]:
    """Draw both curves with matplotlib into ``path`` (.png, .svg or .pdf); the notes on
    what was not drawn are written on the image too, and returned.

    Raises ImportError when matplotlib is not installed.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    xs = np.asarray(xs, dtype=np.float64)
    f = np.asarray(f, dtype=np.float64)
    df = np.asarray(df, dtype=np.float64)
    d_label = f"d/d{x_name}"
    scale = y_scale([(f_label, f), (d_label, df)], ylim)
    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=120)
    try:
        curves = ((f, f_label, "tab:blue", "-"), (df, d_label, "tab:purple", "--"))
        for (values, label, color, style), drawn in zip(curves, scale.drawn):
            if drawn:  # the legend lists only what is there
                axes.plot(*_broken(xs, values, scale.low, scale.high), label=label,
                          color=color, linestyle=style)
        axes.set_ylim(scale.low, scale.high)
        axes.set_xlim(xs[0], xs[-1])
        axes.axhline(0.0, color="0.6", linewidth=0.8)
        axes.set_xlabel(x_name)
        axes.grid(True, alpha=0.3)
        if any(scale.drawn):
            axes.legend()
        if scale.notes:
            axes.set_title("\n".join(scale.notes), fontsize=8, loc="left", color="tab:red")
        figure.tight_layout()
        figure.savefig(path)
    finally:
        plt.close(figure)
    return scale.notes
