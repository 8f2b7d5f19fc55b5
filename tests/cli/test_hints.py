"""Advice in errors that works when followed: a function typed as a command, a missing comma."""

from __future__ import annotations

import sys

import pytest


@pytest.mark.parametrize(("name", "call"), [("grad", "grad(y, x)"), ("sigmoid", "sigmoid(x)"),
                                            ("ln", "log(x)")])
def test_a_function_typed_as_a_command_says_so(cli, name, call):
    result = cli(name)
    assert result.exit_code == 2
    assert f'"{name}" is a built-in function, not a command' in result.stderr
    assert f"gradcli eval '{call}'" in result.stderr
    assert "graph" not in result.stderr  # not the nearest command's name
    followed = cli("eval", call, "-v", "x=0.5", "-v", "y=1")
    assert followed.exit_code in (0, 1) and "is not" not in followed.stderr


def test_an_unknown_command_is_still_clicks_error(cli):
    result = cli("grahp")
    assert result.exit_code == 2 and "Did you mean 'graph'?" in result.stderr


def test_a_missing_comma_before_a_new_line_is_named(cli):
    result = cli("eval", input="x = [1, 2\n3]\n")
    assert result.exit_code == 1
    assert result.stderr.startswith('error: line 1, column 9: missing "," after "2" at the '
                                    "end of line 1")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_the_repl_names_the_missing_comma(tmp_path):
    import pexpect
    from cli_support import gradcli_command, subprocess_env

    env = {"HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "s"), "NO_COLOR": "1",
           "TERM": "xterm"}
    command, *rest = gradcli_command()
    child = pexpect.spawn(command, [*rest, "repl"], env=subprocess_env(**env),
                          encoding="utf-8", timeout=30, dimensions=(40, 120))
    child.expect_exact(">>> ")
    child.sendline("x = [1, 2")
    child.expect_exact("... ")
    child.sendline("3]")
    child.expect_exact('missing "," after "2" at the end of line 1')
    child.expect_exact(">>> ")
    child.sendline(":quit")
    child.expect(pexpect.EOF)
