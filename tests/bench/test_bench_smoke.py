"""The benchmark suite runs (a smoke run): it finishes and prints its table.

Benchmarks are not tests: this checks that every figure is measured and shown, never
that a target is met (timings on a shared machine say nothing in a test).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ("small", "large", "memory", "stream", "flat", "pipeline", "cold", "startup",
           "deep", "mlp", "symbolic")


def test_the_quick_benchmark_run_prints_the_table() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gradcli.bench", "--quick", "--runs", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("| figure | workload | gradcli |")
    assert lines[0].endswith("| target | spread (1 run) | met |")
    assert lines[1].startswith("|---|")
    rows = [line.split(" | ")[0].lstrip("| ") for line in lines[2:]]
    assert set(rows) == set(FIGURES)
    for line in lines[2:]:
        assert line.endswith(("| yes |", "| NO |", "| n/a |")), line
        assert "failed" not in line, line


def test_the_mlp_row_compares_with_numpy_by_hand_and_names_a_missing_pytorch() -> None:
    import importlib.util

    done = subprocess.run(
        [sys.executable, "-m", "gradcli.bench", "--quick", "--only", "mlp"],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    [row] = [line for line in done.stdout.splitlines() if line.startswith("| mlp |")]
    assert "µs by hand (gradcli " in row and "samples/train_mlp.py" in row
    if importlib.util.find_spec("torch") is None:
        assert "PyTorch: not installed" in row and row.endswith("| n/a |")
    else:
        assert "PyTorch " in row and "(gradcli " in row.split("PyTorch ", 1)[1]


def test_every_target_row_prints_the_value_it_is_judged_on() -> None:
    """The startup row is judged against the libraries ``gradcli eval`` loads, both deep
    rows (the API chain and the CLI program) carry the ≤ 11× target, and every row with
    a target shows the spread of its value."""
    done = subprocess.run(
        [sys.executable, "-m", "gradcli.bench", "--quick", "--runs", "2", "--only", "small",
         "--only", "startup", "--only", "deep"],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert lines[0].endswith("| spread (2 runs) | met |")
    rows = [line.split(" | ") for line in lines[2:]]
    assert [r[0].lstrip("| ") for r in rows] == ["small", "startup", "startup", "deep", "deep"]
    small, startup, help_row, chain, program = rows
    assert small[5] == "≤ 0.35× PyTorch"
    assert "import numpy, lark, click" in startup[3] and startup[5].startswith("≤ 1.1× import")
    assert help_row[6].endswith(" ms")
    assert "Python API" in chain[1] and "via the CLI" in program[1]
    assert chain[5] == program[5] == "≤ 11×"
    for cells in rows:
        verdict = cells[7].rstrip(" |")
        if verdict == "n/a":  # judged against a peer that is not installed (PyTorch)
            assert "not installed" in cells[4] and cells[6] == "-", cells
            continue
        assert cells[6] != "-", cells  # the spread over the two runs
        assert verdict.endswith("/2 runs)"), cells


def test_a_target_is_met_only_if_it_held_in_every_run() -> None:
    from gradcli.bench.__main__ import Row, combine, render

    def row(met: bool | None, value: float | None) -> Row:
        return Row("small", "w", "1 µs", "-", "-", "≤ 0.35× PyTorch", met, value)

    held, missed_once, unjudged = combine([
        [row(True, 0.30), row(True, 0.30), row(None, None)],
        [row(True, 0.34), row(False, 0.36), row(True, 0.2)],
        [row(True, 0.32), row(True, 0.31), row(True, 0.2)],
    ])
    assert (held.met, held.spread, held.verdicts) == (True, (0.30, 0.34), [True] * 3)
    assert missed_once.met is False and missed_once.spread == (0.30, 0.36)
    assert unjudged.met is None
    table = render([held, missed_once, unjudged], runs=3).splitlines()
    assert table[2].endswith("| 0.30×–0.34× | yes (3/3 runs) |")
    assert table[3].endswith("| 0.30×–0.36× | NO (2/3 runs) |")
    assert table[4].endswith("| 0.20× | n/a |")
