"""The calculus commands and flags have help with examples, and keep --help light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("command", ["diff", "check", "plot"])
def test_help_with_examples(cli, command):
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout
    assert f"gradcli {command} " in result.stdout.split("Example", 1)[1]


def test_eval_help_lists_the_new_flags(cli):
    text = cli("eval", "--help").stdout
    for flag in ("--trace", "--jacobian", "--hessian"):
        assert flag in text


def test_group_help_lists_the_commands(cli):
    text = cli("--help").stdout
    for command in ("diff", "check", "plot"):
        assert f"  {command} " in text


@pytest.mark.parametrize("command", ["diff", "check", "plot"])
def test_command_help_imports_no_numpy_lark_or_rich(command):
    code = (
        "import sys\n"
        "from gradcli.cli.main import main\n"
        f"try:\n    main([{command!r}, '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('numpy', 'lark', 'rich', 'matplotlib') if m in sys.modules),"
        " file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.stderr.strip() == "[]"
