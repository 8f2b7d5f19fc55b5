"""--help everywhere, with examples, quickly and without NumPy, Lark or rich."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cli_support import run_gradcli, subprocess_env

COMMANDS = ["eval", "graph", "functions", "repl"]


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_every_command_has_help_with_an_example(cli, command):
    result = cli(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.stdout
    assert "Example" in result.stdout
    assert "gradcli " in result.stdout.split("Example", 1)[1]


def test_help_imports_no_numpy_lark_or_rich():
    code = (
        "import sys\n"
        "from gradcli.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('numpy', 'lark', 'rich') if m in sys.modules), file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
    )
    assert result.stderr.strip() == "[]"
    assert "Usage: gradcli" in result.stdout


def test_shell_completion_script():
    result = run_gradcli(_GRADCLI_COMPLETE="bash_source")
    assert result.returncode == 0
    assert "_gradcli_completion" in result.stdout
