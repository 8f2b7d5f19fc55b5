"""`gradcli --help` and `--version` from stored text: byte for byte what click prints.

The stored help is regenerated with `python -m gradcli.cli.help_text`.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from gradcli import __version__
from gradcli.cli import help_text
from gradcli.cli.main import quick_answer
from tests.cli.cli_support import ROOT, subprocess_env

STALE = "stale: regenerate with `python -m gradcli.cli.help_text`"
# the stored texts are used only with the click that wrote them; with another, click runs
SAME_CLICK = help_text.installed_click_version() == help_text.CLICK_VERSION


def test_the_installed_click_version_is_read_without_importing_it():
    from importlib.metadata import version

    assert help_text.installed_click_version() == version("click")


@pytest.mark.parametrize("columns", help_text.STORED_COLUMNS)
def test_stored_help_is_clicks_own(columns):
    if SAME_CLICK:
        assert help_text.click_output(["--help"], columns) == help_text.HELP[
            help_text.help_width(columns)
        ], STALE
    else:  # another click: the stored text is not used (and the fast path asks click)
        assert help_text.stored_help(columns) is None


def test_the_stored_help_was_made_from_the_group_as_it_is():
    """Whatever click is installed: a docstring, epilog, option or command changed since
    the texts were stored fails here (under another click too, where they are not used)."""
    from gradcli.cli.group import main

    assert help_text.source_digest(main) == help_text.SOURCE_DIGEST, STALE


def test_the_digest_sees_a_changed_command_help(monkeypatch):
    from gradcli.cli.group import main

    before = help_text.source_digest(main)
    monkeypatch.setattr(main.commands["eval"], "help", "Run PROGRAM, differently.")
    assert help_text.source_digest(main) != before


def test_another_click_version_turns_the_stored_help_off(monkeypatch):
    monkeypatch.setattr(help_text, "installed_click_version", lambda: "0.0")
    assert help_text.stored_help(80) is None and quick_answer(["--help"]) is None
    monkeypatch.setattr(help_text, "installed_click_version", lambda: help_text.CLICK_VERSION)
    assert help_text.stored_help(80) == help_text.HELP[78]


def test_the_stored_widths_are_the_stored_texts():
    assert sorted(help_text.HELP) == sorted(map(help_text.help_width, help_text.STORED_COLUMNS))


def test_generated_source_is_what_the_file_holds():
    source = (ROOT / "gradcli" / "cli" / "help_text.py").read_text(encoding="utf-8")
    if SAME_CLICK:
        assert help_text.generated_source() in source, STALE
    else:  # made with another click: what it would make differs at least in the version
        assert f"CLICK_VERSION = {help_text.CLICK_VERSION!r}" in source


def test_version_is_clicks_own():
    assert help_text.click_output(["--version"], 80) == help_text.version_text(__version__)
    assert help_text.version_text(__version__) == f"gradcli, version {__version__}\n"


@pytest.mark.parametrize("columns", [20, 50, 60, 79, 80, 81, 99, 100, 101, 250])
def test_help_width_is_clicks(monkeypatch, columns):
    import click.formatting

    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.setattr(click.formatting, "FORCED_WIDTH", None)
    formatter = click.formatting.HelpFormatter(max_width=help_text.MAX_CONTENT_WIDTH)
    assert help_text.help_width(columns) == formatter.width


def test_the_group_reads_its_options_from_here():
    import click

    from gradcli.cli.group import CONTEXT, main

    assert CONTEXT["help_option_names"] == list(help_text.HELP_OPTIONS)
    assert CONTEXT["max_content_width"] == help_text.MAX_CONTENT_WIDTH
    context = click.Context(main, **main.context_settings)
    flags = {opt for param in main.get_params(context) for opt in param.opts}
    assert set(help_text.VERSION_OPTIONS) <= flags and set(help_text.HELP_OPTIONS) <= flags


@pytest.mark.parametrize(
    "args",
    [[], ["eval", "--help"], ["--help", "eval"], ["--hel"], ["-hV"], ["--help", "--help"]],
)
def test_only_exactly_help_or_version_is_answered(args):
    assert quick_answer(args) is None


def test_shell_completion_is_left_to_click(monkeypatch):
    monkeypatch.setenv("_GRADCLI_COMPLETE", "bash_source")
    assert quick_answer(["--help"]) is None
    monkeypatch.delenv("_GRADCLI_COMPLETE")
    monkeypatch.setenv("COLUMNS", "80")
    assert quick_answer(["--help"]) == help_text.stored_help(80)


def _entry(args: list[str], columns: str | None):
    """`python -m gradcli ARGS` with stdout piped: its output and the modules it loaded."""
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['gradcli', *{args!r}]\n"
        "try:\n    runpy.run_module('gradcli', run_name='__main__')\n"
        "except SystemExit as e:\n    print('exit', e.code, file=sys.stderr)\n"
        "heavy = ('click', 'numpy', 'rich', 'lark')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    env = subprocess_env()
    env.pop("COLUMNS", None)
    env.pop("_GRADCLI_COMPLETE", None)
    if columns is not None:
        env["COLUMNS"] = columns
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, cwd=ROOT,
                          timeout=60)
    return done.stdout.decode("utf-8"), done.stderr.decode("utf-8").splitlines()


@pytest.mark.parametrize("flag", ["--help", "-h", "--version", "-V"])
@pytest.mark.parametrize("columns", [None, "80", "100", "160"])
def test_fast_path_prints_clicks_text_without_click(flag, columns):
    out, err = _entry([flag], columns)
    assert out == help_text.click_output([flag], int(columns or 80))
    fast = SAME_CLICK or flag in help_text.VERSION_OPTIONS
    assert err == ["exit 0", "[]" if fast else "['click']"]


def test_other_widths_go_to_click():
    out, err = _entry(["--help"], "90")
    assert out == help_text.click_output(["--help"], 90)
    assert err == ["exit 0", "['click']"]
