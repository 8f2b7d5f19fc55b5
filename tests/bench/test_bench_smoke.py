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
        [sys.executable, "-m", "gradcli.bench", "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("| figure | workload | gradcli |")
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
