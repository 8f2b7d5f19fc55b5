"""The options the commands share: declared once, handed to each command as one object."""

from __future__ import annotations

import inspect
import subprocess
import sys

import click
import pytest

from gradcli.cli import calculus, commands
from gradcli.cli.group import main
from gradcli.cli.options import REPL_OPTIONS, SHARED_OPTIONS, ProgramOptions

PROGRAM_COMMANDS = ["eval", "graph", "diff", "check", "plot"]
FIELDS = list(ProgramOptions.__match_args__)


def _shared_params(name: str) -> dict[str, click.Option]:
    command = main.commands[name]
    return {p.name: p for p in command.params if not p.expose_value}


def test_every_field_has_one_declaration():
    assert list(SHARED_OPTIONS) == FIELDS
    assert set(REPL_OPTIONS) <= set(FIELDS)


@pytest.mark.parametrize("name", [*PROGRAM_COMMANDS, "repl"])
def test_each_command_takes_the_shared_options_from_the_one_declaration(name):
    shared = _shared_params(name)
    assert list(shared) == (FIELDS if name != "repl" else list(REPL_OPTIONS))
    reference = _shared_params("eval")
    for field_name, param in shared.items():
        assert param.opts == reference[field_name].opts
        assert param.help == reference[field_name].help
    # `gradcli` with no command runs eval without parsing options: it gets the
    # dataclass's defaults, which must be what the options give when none is given
    required = ["--wrt", "x"] if name == "plot" else []
    assert main.commands[name].make_context(name, required).obj == ProgramOptions()
    # the command's function names none of them: they come as one ProgramOptions
    callback = inspect.signature(main.commands[name].callback)
    assert not set(callback.parameters) & set(FIELDS)


def test_the_command_line_reaches_the_command_as_one_object(cli, monkeypatch):
    seen = []
    monkeypatch.setattr(commands, "run_eval", lambda program, options, **rest: seen.append(
        (program, options)) or 0)
    result = cli("eval", "x + y", "-v", "x=1", "-c", "y=2", "--seed", "3", "--dtype",
                 "float32", "--max-elements", "9", "--timeout", "1.5", "--max-memory", "1G",
                 "--max-nodes", "7", "--strict", "--precision", "2", "--no-color")
    assert result.exit_code == 0, result.stderr
    assert seen == [("x + y", ProgramOptions(
        file=None, variables={"x": "1"}, seed=3, dtype="float32", max_elements=9,
        data={"y": "2"}, timeout=1.5, max_memory="1G", max_nodes=7, strict=True,
        precision=2, no_color=True))]


def test_each_command_gets_its_own_options(cli, monkeypatch):
    seen = []
    monkeypatch.setattr(calculus, "run_plot", lambda program, options, **rest: seen.append(
        options) or 0)
    monkeypatch.setattr(calculus, "run_check", lambda program, options, **rest: seen.append(
        options) or 0)
    assert cli("plot", "x", "--wrt", "x", "--seed", "4").exit_code == 0
    assert cli("check", "x", "-v", "x=1").exit_code == 0
    assert seen == [ProgramOptions(seed=4), ProgramOptions(variables={"x": "1"})]


def test_a_bad_value_names_its_option(cli):
    result = cli("repl", "-v", "x")
    assert result.exit_code == 2
    assert "Invalid value for '-v' / '--var': 'x' is not NAME=VALUE" in result.stderr


@pytest.mark.parametrize(("option", "value", "said"), [
    ("--max-memory", "lots", "'lots' is not a size above zero"),
    ("--max-memory", "0", "'0' is not a size above zero"),
    ("--max-memory", "", "'' is not a size above zero"),
    ("--timeout", "nan", "nan is not a number of seconds"),
])
@pytest.mark.parametrize("command", ["eval", "check", "diff", "graph"])
def test_a_bad_limit_names_its_option_not_the_sessions_argument(cli, command, option, value,
                                                                 said):
    result = cli(command, "x", "-v", "x=1", option, value)
    assert result.exit_code == 2
    assert f"Invalid value for '{option}': {said}" in result.stderr
    assert "max_memory" not in result.stderr


def test_a_good_limit_still_reaches_the_session(cli):
    assert cli("eval", "1", "--max-memory", "2G", "--timeout", "inf").exit_code == 0


def test_program_options_are_a_record_with_the_defaults_of_their_options():
    options = ProgramOptions(seed=4)
    assert options == ProgramOptions(seed=4) and options != ProgramOptions()
    assert options.variables == {} and options.variables is not ProgramOptions().variables
    assert repr(ProgramOptions()).startswith("ProgramOptions(file=None, variables={}, seed=None")
    changed = options.replace(dtype="float32")
    assert (changed.dtype, changed.seed, options.dtype) == ("float32", 4, "float64")
    with pytest.raises(TypeError, match="colour"):
        ProgramOptions(colour=True)


def test_a_command_is_built_only_when_looked_up():
    # (in a fresh interpreter: other tests here have built every command)
    code = ("from gradcli.cli.group import main, Deferred\n"
            "entries = main.commands._entries\n"
            "print(sorted(n for n, c in entries.items() if not isinstance(c, Deferred)))\n"
            "print('eval' in main.commands, 'evl' in main.commands, main.commands.get('evl'))\n"
            "print(main.commands['eval'].name, sorted(\n"
            "    n for n, c in entries.items() if not isinstance(c, Deferred)))\n"
            "print(sorted(main.commands) == sorted(main.list_commands(None)), len(main.commands))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.splitlines() == ["[]", "True False None", "eval ['eval']", "True 7"]
