"""What `gradcli --help` and `gradcli --version` print, kept here so they need no click.

The help texts at the bottom are click's own output for the group in gradcli.cli.group,
pasted in by ``python -m gradcli.cli.help_text``; tests/cli/test_help_text.py fails when
they are stale. Click wraps the help at ``min(columns, MAX_CONTENT_WIDTH) - 2`` (at least
50), where ``columns`` is ``shutil.get_terminal_size().columns`` (COLUMNS, else the
terminal, else 80), so one text is kept per width that commonly occurs: 78 (80 columns,
and all output that is not a terminal) and 98 (a terminal of 100 columns or more). Any
other width is left to click. Click's wording changes between its versions (8.5 writes
``[COMMAND]`` where 8.4 wrote ``COMMAND``), so the texts carry the version of click that
wrote them, and are used only while that version is the one installed. They also carry
a digest of what click writes them from (the group's docstring, epilog and options, each
command's name and help): a test compares it with the group whatever click is installed,
so a docstring edited under another click cannot leave the stored text stale.

Kept because `gradcli --help` is typed by people (measured for issue 12, medians of 61
interleaved runs): 24 ms from here, 47 ms through click (23 ms, and 22 ms of CPU, more).
"""

# ruff: noqa: E501

from __future__ import annotations

from typing import Any

PROG_NAME = "gradcli"
HELP_OPTIONS = ("-h", "--help")
VERSION_OPTIONS = ("-V", "--version")
VERSION_MESSAGE = "%(prog)s, version %(version)s"
MAX_CONTENT_WIDTH = 100
STORED_COLUMNS = (80, MAX_CONTENT_WIDTH)


def help_width(columns: int) -> int:
    """The width click wraps the group's help at, on a terminal ``columns`` wide."""
    return max(min(columns, MAX_CONTENT_WIDTH) - 2, 50)


def version_text(version: str) -> str:
    """What `gradcli --version` prints (click's version option fills the same message)."""
    return VERSION_MESSAGE % {"prog": PROG_NAME, "version": version} + "\n"


def installed_click_version() -> str | None:
    """The version of the click that ``import click`` would load, read from its
    ``.dist-info`` directory name without importing it (None if that is not clear)."""
    import importlib.util
    import os

    spec = importlib.util.find_spec("click")  # finds it without running it
    if spec is None or not spec.origin:
        return None
    site = os.path.dirname(os.path.dirname(spec.origin))
    try:
        names = [n for n in os.listdir(site)
                 if n.startswith("click-") and n.endswith(".dist-info")]
    except OSError:
        return None
    return names[0][len("click-"):-len(".dist-info")] if len(names) == 1 else None


def stored_help(columns: int) -> str | None:
    """The stored help for a terminal ``columns`` wide, if the installed click wrote it."""
    text = HELP.get(help_width(columns))
    if text is None or installed_click_version() != CLICK_VERSION:
        return None
    return text


def click_output(args: list[str], columns: int) -> str:
    """What the click group prints for ``args`` on a terminal ``columns`` wide.

    Asked of a fresh interpreter: click's CliRunner forces its own help width.
    """
    return _ask_group(f"main({args!r})", columns)


def group_digest() -> str:
    """source_digest of the click group as it is now (asked of a fresh interpreter, as
    this module is below the group and does not import it)."""
    return _ask_group("from gradcli.cli.help_text import source_digest\n"
                      "print(source_digest(main), end='')", 80)


def _ask_group(code: str, columns: int) -> str:
    """What ``code`` prints, run with ``main`` (the click group) at hand."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, COLUMNS=str(columns), PYTHONPATH=root)
    env.pop("_GRADCLI_COMPLETE", None)
    code = f"from gradcli.cli.group import main\n{code}"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=env, cwd=root, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"{code!r} exited {done.returncode}: {done.stderr!r}")
    return done.stdout.decode("utf-8")


def source_digest(group: Any) -> str:
    """A digest of what click's group help is made from, independent of click's version:
    the group's help, epilog and options, and each visible command's name and help."""
    import hashlib

    params = [(p.opts, p.secondary_opts, getattr(p, "help", None)) for p in group.params]
    commands = [(name, command.short_help, command.help, command.deprecated)
                for name, command in sorted(group.commands.items()) if not command.hidden]
    source = repr((group.name, group.help, group.epilog, group.options_metavar,
                   group.subcommand_metavar, group.context_settings, params, commands))
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


START = "# help:start"
END = "# help:end"


def generated_source() -> str:
    """The HELP table as Python source, from click's output at each stored width."""
    from importlib.metadata import version

    lines = [f"{START} (generated by `python -m gradcli.cli.help_text`: do not edit)",
             f"CLICK_VERSION = {version('click')!r}",
             f"SOURCE_DIGEST = {group_digest()!r}", "HELP = {"]
    for columns in STORED_COLUMNS:
        lines.append(f"    {help_width(columns)}: (")
        lines += [f"        {line!r}" for line in click_output(["--help"], columns).splitlines(True)]
        lines.append("    ),")
    lines += ["}", END]
    return "\n".join(lines)


def regenerate() -> bool:
    """Rewrite the HELP table of this file from click; True when it changed."""
    from pathlib import Path

    path = Path(__file__)
    text = path.read_text(encoding="utf-8")
    head, rest = text.split("\n" + START, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}\n{generated_source()}{tail}"
    path.write_text(new, encoding="utf-8")
    return new != text


# help:start (generated by `python -m gradcli.cli.help_text`: do not edit)
CLICK_VERSION = '8.5.1'
SOURCE_DIGEST = '35259e39d6ec8a75'
HELP = {
    78: (
        'Usage: gradcli [OPTIONS] [COMMAND] [ARGS]...\n'
        '\n'
        '  gradcli: differentiate math expressions from the command line.\n'
        '\n'
        '  Write a program in a small math language; gradcli computes every value, the\n'
        '  gradient of each result with respect to its inputs (reverse-mode autodiff,\n'
        '  as in PyTorch), and shows the creator graph that links them.\n'
        '\n'
        'Options:\n'
        '  -V, --version  Show the version and exit.\n'
        '  -h, --help     Show this message and exit.\n'
        '\n'
        'Commands:\n'
        "  check      Check each input's gradient against central finite differences.\n"
        "  diff       Print the derivative of PROGRAM's last result as a formula.\n"
        "  eval       Run PROGRAM and show each result's value, gradients and...\n"
        '  functions  List the built-in functions, or describe NAME.\n'
        "  graph      Show the creator graph of PROGRAM's last result.\n"
        "  plot       Plot PROGRAM's result and its derivative against one scalar...\n"
        '  repl       An interactive session: names persist, _ is the last result,...\n'
        '\n'
        '  Examples:\n'
        "    gradcli eval 'mean(3*(x+2)^2)' -v x='ones(2,2)'\n"
        "    echo 'sum(x^2)' | gradcli eval -v x='[1,2,3]' --json\n"
        "    gradcli graph 'y = tanh(w @ x)' -v w='randn(3,3)' -v x='ones(3)' -o net.svg\n"
        "    gradcli diff 'mean(3*(x+2)^2)' -v x='ones(2,2)'\n"
        "    gradcli check 'sum(tanh(W @ x))' -v W='randn(3,3)' -v x='ones(3)'\n"
        "    gradcli plot 'sin(x) * x' --wrt x --range -3:3\n"
        '    gradcli repl\n'
        '\n'
        '  With no command: the REPL on a terminal, else `gradcli eval` of stdin.\n'
    ),
    98: (
        'Usage: gradcli [OPTIONS] [COMMAND] [ARGS]...\n'
        '\n'
        '  gradcli: differentiate math expressions from the command line.\n'
        '\n'
        '  Write a program in a small math language; gradcli computes every value, the gradient of each\n'
        '  result with respect to its inputs (reverse-mode autodiff, as in PyTorch), and shows the creator\n'
        '  graph that links them.\n'
        '\n'
        'Options:\n'
        '  -V, --version  Show the version and exit.\n'
        '  -h, --help     Show this message and exit.\n'
        '\n'
        'Commands:\n'
        "  check      Check each input's gradient against central finite differences.\n"
        "  diff       Print the derivative of PROGRAM's last result as a formula.\n"
        "  eval       Run PROGRAM and show each result's value, gradients and creator graph.\n"
        '  functions  List the built-in functions, or describe NAME.\n'
        "  graph      Show the creator graph of PROGRAM's last result.\n"
        "  plot       Plot PROGRAM's result and its derivative against one scalar input.\n"
        '  repl       An interactive session: names persist, _ is the last result, :help lists commands.\n'
        '\n'
        '  Examples:\n'
        "    gradcli eval 'mean(3*(x+2)^2)' -v x='ones(2,2)'\n"
        "    echo 'sum(x^2)' | gradcli eval -v x='[1,2,3]' --json\n"
        "    gradcli graph 'y = tanh(w @ x)' -v w='randn(3,3)' -v x='ones(3)' -o net.svg\n"
        "    gradcli diff 'mean(3*(x+2)^2)' -v x='ones(2,2)'\n"
        "    gradcli check 'sum(tanh(W @ x))' -v W='randn(3,3)' -v x='ones(3)'\n"
        "    gradcli plot 'sin(x) * x' --wrt x --range -3:3\n"
        '    gradcli repl\n'
        '\n'
        '  With no command: the REPL on a terminal, else `gradcli eval` of stdin.\n'
    ),
}
# help:end


if __name__ == "__main__":
    print("updated" if regenerate() else "already up to date")
