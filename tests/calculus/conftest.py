"""The `cli` fixture for the calculus commands: gradcli in-process through click's CliRunner."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from gradcli.cli.main import main


@pytest.fixture
def cli():
    """cli("diff", "x^2", "-v", "x=3") -> click Result (stdout and stderr apart)."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict | None = None):
        return runner.invoke(main, list(args), input=input, env=env, catch_exceptions=False)

    return run
