"""The README shows real runs: each pasted `$ gradcli ...` prints exactly what is pasted.

After a change of output, `python tests/test_readme.py` pastes every such run's real
output into the README again (the runs that need a shell are left as they are): read
the diff before committing it.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


SHELL_SIGNS = ("|", "$(", ";", "echo $?")
WRITES_FILES = (" -o ", ">")


def all_runs(text: str) -> list[tuple[str, str]]:
    """(command, output) for each `$ ...` in a ```text block of ``text``."""
    runs = []
    for block in text.split("```text\n")[1:]:
        body = block.split("```", 1)[0]
        command, output = None, []
        for line in body.splitlines() + ["$ end"]:
            if line.startswith("$ "):
                if command is not None:
                    runs.append((command, "\n".join(output)))
                command, output = line[2:], []
            else:
                output.append(line)
    return runs


def pasted_runs(section: str | None = None) -> list[tuple[str, str]]:
    """(command, output) for each `$ gradcli ...` in a ```text block of the README (or
    of the section whose heading starts with ``section``) that needs no shell."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    if section is not None:
        text = text.split(section, 1)[1].split("\n## ", 1)[0]
    # pipes, $(...), `; echo $?` and files written need a shell: the plain runs are compared
    return [(c, o) for c, o in all_runs(text)
            if c.startswith("gradcli ") and not any(s in c for s in (*SHELL_SIGNS, *WRITES_FILES))
            and not c.startswith("gradcli repl")]


def shell_runs() -> list[tuple[str, str]]:
    """The runs a shell must make (pipes, ``$(...)``, ``; echo $?``, a ``$ echo $?`` of
    its own after a run) in the README, and every run in docs/*.md, as (command, output)
    for bash; runs that write files or start the REPL are left out."""
    runs = []
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    texts = [(readme, True)] + [(p.read_text(encoding="utf-8"), False)
                                for p in sorted((ROOT / "docs").glob("*.md"))]
    for text, only_shell in texts:
        found = all_runs(text)
        for i, (command, output) in enumerate(found):
            if command == "echo $?" or command.startswith("gradcli repl"):
                continue
            if i + 1 < len(found) and found[i + 1][0] == "echo $?":
                command, output = f"{command}; echo $?", f"{output}\n{found[i + 1][1]}"
            if any(s in command for s in WRITES_FILES):
                continue
            if not only_shell or any(s in command for s in SHELL_SIGNS):
                runs.append((command, output))
    return runs


RUNS = pasted_runs()


def test_the_readme_has_runs():
    assert len(RUNS) >= 10


def real_output(command: str) -> str:
    """What ``command`` (a `gradcli ...` line) prints, stdout then stderr, piped."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    env.pop("FORCE_COLOR", None)
    done = subprocess.run([sys.executable, "-m", "gradcli", *shlex.split(command)[1:]],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    return "\n".join(line.rstrip() for line in (done.stdout + done.stderr).splitlines())


@pytest.mark.parametrize(("command", "expected"), RUNS, ids=[c for c, _ in RUNS])
def test_pasted_run_is_real(command, expected):
    got = real_output(command)
    assert got == "\n".join(line.rstrip() for line in expected.rstrip("\n").splitlines())


SHELL_RUNS = shell_runs()


def test_the_docs_have_shell_runs():
    assert len(SHELL_RUNS) >= 10


@pytest.mark.parametrize(("command", "expected"), SHELL_RUNS, ids=[c for c, _ in SHELL_RUNS])
def test_pasted_shell_run_is_real(command, expected):
    import shutil

    if "jq" in command and shutil.which("jq") is None:
        pytest.skip("jq is not installed")  # (the gradcli part runs in the other runs)
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    env.pop("FORCE_COLOR", None)
    # `gradcli` is this checkout's, in every part of a pipe and $(...); stderr joins
    # stdout in the order written, as on a terminal
    define = f'gradcli() {{ {shlex.quote(sys.executable)} -m gradcli "$@"; }}; '
    done = subprocess.run(["bash", "-c", define + "{ " + command + "\n} 2>&1"], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=120)
    got = "\n".join(line.rstrip() for line in done.stdout.splitlines())
    assert got == "\n".join(line.rstrip() for line in expected.rstrip("\n").splitlines())


def regenerate() -> int:
    """Paste each plain run's real output into the README; how many runs changed."""
    path = ROOT / "README.md"
    text = path.read_text(encoding="utf-8")
    changed = 0
    for command, expected in pasted_runs():
        pasted = f"$ {command}\n{expected}\n" if expected else f"$ {command}\n"
        got = real_output(command)
        fresh = f"$ {command}\n{got}\n" if got else f"$ {command}\n"
        if pasted != fresh and text.count(pasted) == 1:
            text = text.replace(pasted, fresh)
            changed += 1
    path.write_text(text, encoding="utf-8")
    return changed


if __name__ == "__main__":
    print(f"{regenerate()} pasted runs updated in README.md")


def test_the_python_examples_run():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python API", 1)[1].split("\n## ", 1)[0]
    code = "\n".join(block.split("```", 1)[0] for block in section.split("```python\n")[1:])
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)  # the README's own examples, not input
    np = scope["np"]
    np.testing.assert_array_equal(scope["x"].grad.data, [3.0, 12.0])
    np.testing.assert_array_equal(scope["h"].data, [6.0, -12.0])
    assert float(scope["result"].value) == 27.0


def test_ci_runs_the_readmes_test_command():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("pip install . && gradcli eval -f samples/")  # the main job
    assert lines[1] == "pip install '.[test]' && pytest"  # the tests
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "setup_command=$(sed -n 1p README.md)" in script
    assert "test_command=$(sed -n 2p README.md)" in script
    # both, as written, in a fresh venv on a clean clone: nothing installed here can help
    assert 'for command in "$setup_command" "$test_command"' in script
    assert 'eval "$command"' in script
    assert '-m venv "$work/venv"' in script and 'git clone -q --no-checkout "$root"' in script


def test_the_readme_says_where_the_set_up_commands_run():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert "python3 -m venv .venv && . .venv/bin/activate" in lines[2]
