"""f and df/dx over a range: a character plot for the terminal, or an image via matplotlib.

matplotlib is an optional extra (``pip install 'gradcli[plot]'``), imported only by
:func:`save_figure`; the terminal plot needs nothing but rich.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.text import Text

from gradcli.render.values import format_scalar

F_MARK, D_MARK, BOTH_MARK = "*", "+", "#"
F_STYLE, D_STYLE = "cyan", "magenta"
IMAGE_SUFFIXES = (".png", ".svg", ".pdf")


def _tick(value: float) -> str:
    return format_scalar(value, 3)


def render_chart(
    xs: Any,
    f: Any,
    df: Any,
    *,
    x_name: str = "x",
    f_label: str = "f",
    width: int = 64,
    height: int = 18,
) -> Text:
    """Both curves on one grid: ``*`` is f, ``+`` is df/dx, ``#`` where they meet.

    The y axis is labelled at its top, bottom and zero; the x axis at both ends (and at
    zero when the range spans it). Non-finite values are left out of the drawing.
    """
    xs = np.asarray(xs, dtype=np.float64)
    f = np.asarray(f, dtype=np.float64)
    df = np.asarray(df, dtype=np.float64)
    finite = np.concatenate([f[np.isfinite(f)], df[np.isfinite(df)]])
    if finite.size:
        low, high = float(finite.min()), float(finite.max())
    else:
        low, high = -1.0, 1.0
    if high - low < 1e-12 * max(1.0, abs(high)):
        low, high = low - 1.0, high + 1.0
    x_low, x_high = float(xs[0]), float(xs[-1])

    def row_of(y: float) -> int:
        return int(round((high - y) / (high - low) * (height - 1)))

    def col_of(x: float) -> int:
        span = x_high - x_low
        return int(round((x - x_low) / span * (width - 1))) if span else 0

    grid = [[" "] * width for _ in range(height)]
    zero_row = row_of(0.0) if low <= 0.0 <= high else None
    zero_col = col_of(0.0) if min(x_low, x_high) <= 0.0 <= max(x_low, x_high) else None
    if zero_row is not None:
        grid[zero_row] = ["-"] * width
    if zero_col is not None:
        for r in range(height):
            grid[r][zero_col] = "|"
    marks: dict[tuple[int, int], str] = {}
    for values, mark in ((f, F_MARK), (df, D_MARK)):
        for x, y in zip(xs, values):
            if not np.isfinite(y):
                continue
            cell = (row_of(float(y)), col_of(float(x)))
            marks[cell] = BOTH_MARK if marks.get(cell, mark) != mark else mark

    labels = {0: _tick(high), height - 1: _tick(low)}
    if zero_row is not None and zero_row not in labels:
        labels[zero_row] = "0"
    pad = max(len(s) for s in labels.values())
    text = Text()
    for r in range(height):
        text.append(labels.get(r, "").rjust(pad) + " │", style="dim")
        for c in range(width):
            mark = marks.get((r, c))
            if mark is None:
                text.append(grid[r][c], style="dim")
            else:
                text.append(mark, style={F_MARK: F_STYLE, D_MARK: D_STYLE}.get(mark, "bold"))
        text.append("\n")
    text.append(" " * pad + " └" + "─" * width + "\n", style="dim")
    axis = [" "] * (width + 2)
    ticks = [(0, _tick(x_low)), (width - 1, _tick(x_high))]
    if zero_col is not None and 4 < zero_col < width - 5:
        ticks.append((zero_col, "0"))
    for col, label in ticks:
        start = min(max(col - len(label) // 2, 0), width + 2 - len(label))
        axis[start:start + len(label)] = list(label)
    text.append(" " * (pad + 1) + "".join(axis).rstrip() + f"   {x_name}\n", style="dim")
    text.append(" " * (pad + 2))
    text.append(F_MARK, style=F_STYLE)
    text.append(f" {f_label}    ")
    text.append(D_MARK, style=D_STYLE)
    text.append(f" d/d{x_name}")
    text.append(f"    {BOTH_MARK} both", style="dim")
    return text


def save_figure(xs: Any, f: Any, df: Any, path: str, *, x_name: str = "x",
                f_label: str = "f") -> None:
    """Draw both curves with matplotlib into ``path`` (.png, .svg or .pdf).

    Raises ImportError when matplotlib is not installed.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=120)
    try:
        axes.plot(xs, f, label=f_label, color="tab:blue")
        axes.plot(xs, df, label=f"d/d{x_name}", color="tab:purple", linestyle="--")
        axes.axhline(0.0, color="0.6", linewidth=0.8)
        axes.set_xlabel(x_name)
        axes.grid(True, alpha=0.3)
        axes.legend()
        figure.tight_layout()
        figure.savefig(path)
    finally:
        plt.close(figure)
