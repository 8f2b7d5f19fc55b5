"""The `cli` fixture: run gradcli in-process with click's CliRunner."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from gradcli.cli.main import main


@pytest.fixture
def cli():
    """cli("eval", "1+2", input=None) -> click Result (stdout and stderr apart)."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict | None = None) -> Result:
        return runner.invoke(main, list(args), input=input, env=env, catch_exceptions=False)

    return run
