"""--help everywhere, with examples, quickly and without NumPy, Lark or rich."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cli_support import run_gradcli, subprocess_env

COMMANDS = ["eval", "graph", "functions", "repl", "diff", "check", "plot"]


def test_every_command_is_in_the_list():
    from gradcli.cli.main import click_group

    assert sorted(click_group().commands) == sorted(COMMANDS)


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_help_fits_an_80_column_terminal(cli, command):
    result = cli(*command, "--help", env={"COLUMNS": "80"})
    assert result.exit_code == 0
    too_long = [line for line in result.stdout.splitlines() if len(line) > 80]
    assert not too_long


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_every_command_has_help_with_an_example(cli, command):
    result = cli(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.stdout
    assert "Example" in result.stdout
    assert "gradcli " in result.stdout.split("Example", 1)[1]


@pytest.mark.parametrize("flag", ["--help", "-h", "--version", "-V"])
def test_help_imports_no_numpy_lark_rich_or_click(flag):
    # At 80 columns (or piped) the answer is stored text: not even click is loaded.
    code = (
        "import sys\n"
        "from gradcli.cli.main import main\n"
        f"try:\n    main([{flag!r}])\nexcept SystemExit:\n    pass\n"
        "heavy = ('numpy', 'lark', 'rich', 'click')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)"
    )
    env = subprocess_env(COLUMNS="80")
    env.pop("_GRADCLI_COMPLETE", None)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.stderr.strip() == "[]"
    assert ("Usage: gradcli" if "h" in flag else "gradcli, version") in result.stdout


def test_command_help_imports_no_numpy_lark_or_rich():
    code = (
        "import sys\n"
        "from gradcli.cli.main import main\n"
        "try:\n    main(['eval', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('numpy', 'lark', 'rich') if m in sys.modules), file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(),
        timeout=60,
    )
    assert result.stderr.strip() == "[]"
    assert "Usage: gradcli eval" in result.stdout


def test_shell_completion_script():
    result = run_gradcli(_GRADCLI_COMPLETE="bash_source")
    assert result.returncode == 0
    assert "_gradcli_completion" in result.stdout
