"""The README's calculus section shows a real run of every command (tests/test_readme.py
checks that each pasted run prints what is pasted)."""

from __future__ import annotations

from tests.test_readme import pasted_runs


def test_the_section_has_runs_of_every_command():
    commands = " ".join(c for c, _ in pasted_runs("## Derivatives you can read"))
    for part in ("diff", "check", "--trace", "--jacobian", "--hessian", "plot"):
        assert part in commands
