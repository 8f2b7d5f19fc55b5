"""The benchmark suite runs (a smoke run): it finishes and prints its table.

Benchmarks are not tests: this checks that every figure is measured and shown, never
that a target is met (timings on a shared machine say nothing in a test).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ("small", "large", "memory", "stream", "pipeline", "cold", "startup", "deep",
           "symbolic")


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
