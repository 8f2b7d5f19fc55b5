"""The README's calculus section shows real runs: each pasted command prints what is pasted."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def pasted_runs() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Derivatives you can read", 1)[1].split("\n## ", 1)[0]
    runs = []
    for block in section.split("```text\n")[1:]:
        body = block.split("```", 1)[0]
        command, output = None, []
        for line in body.splitlines() + ["$ end"]:
            if line.startswith("$ "):
                if command is not None:
                    runs.append((command, "\n".join(output)))
                command, output = line[2:], []
            else:
                output.append(line)
    # pipes, $(...), `; echo $?` and files need a shell: the plain runs are compared
    return [(c, o) for c, o in runs
            if c.startswith("gradcli ") and not any(s in c for s in ("|", "$(", ";", " -o "))]


RUNS = pasted_runs()


def test_the_section_has_runs_of_every_command():
    commands = " ".join(c for c, _ in RUNS)
    for part in ("diff", "check", "--trace", "--jacobian", "--hessian", "plot"):
        assert part in commands


@pytest.mark.parametrize("command, expected", RUNS, ids=[c for c, _ in RUNS])
def test_pasted_run_is_real(command, expected):
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    env.pop("FORCE_COLOR", None)
    done = subprocess.run([sys.executable, "-m", "gradcli", *shlex.split(command)[1:]],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    got = "\n".join(line.rstrip() for line in (done.stdout + done.stderr).splitlines())
    assert got == expected.rstrip("\n")
