"""The `gradcli` console script: `gradcli --help` and `--version` answered without click.

``main`` stands for the click group of gradcli.cli.group, which it loads only when it is
needed: a bare `gradcli --help`, `-h`, `--version` or `-V` is answered from
gradcli.cli.help_text (click's own output, stored), every other command line and every
attribute (``main.commands``, ``main.main``, so ``CliRunner().invoke(main, ...)`` too)
goes to the group.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from gradcli.cli.stdout import cannot_write, interrupted, silence_stdout


def quick_answer(args: list[str]) -> str | None:
    """What click would print for exactly `--help` or `--version`, when known without it.

    None for anything else, for a help width with no stored text, when the installed click
    is not the one that wrote the stored text, and while the shell asks for completions
    (click answers those before it reads the options).
    """
    if len(args) != 1 or os.environ.get("_GRADCLI_COMPLETE"):
        return None
    from gradcli.cli import help_text

    if args[0] in help_text.VERSION_OPTIONS:
        from gradcli import __version__

        return help_text.version_text(__version__)
    if args[0] in help_text.HELP_OPTIONS:
        import shutil  # what click measures the terminal with

        return help_text.stored_help(shutil.get_terminal_size().columns)
    return None


def click_group() -> Any:
    """The click group itself (importing click and every command's options)."""
    from gradcli.cli.group import main as group

    return group


class Gradcli:
    """The `gradcli` command: the click group, with --help and --version on a fast path."""

    def __call__(self, args: list[str] | None = None, **extra: Any) -> Any:
        try:
            return self._run(args, **extra)
        except KeyboardInterrupt:  # Ctrl-C while starting up (importing click, NumPy...)
            interrupted()

    def _run(self, args: list[str] | None, **extra: Any) -> Any:
        if not extra and sys.stdout is not None:
            text = quick_answer(sys.argv[1:] if args is None else list(args))
            if text is not None:
                try:
                    sys.stdout.write(text)
                    sys.stdout.flush()
                except BrokenPipeError:  # as click: `gradcli --help | head -1` exits 1, quietly
                    silence_stdout()
                    raise SystemExit(1) from None
                except OSError as error:  # a full disk: one line, exit 1
                    cannot_write(error)
                raise SystemExit(0)  # as click's standalone mode does
        from gradcli.cli import startup

        startup.pause()  # until the command's imports are done (gradcli.cli.startup)
        try:
            return click_group().main(args, **extra)
        finally:
            startup.resume()

    def __getattr__(self, name: str) -> Any:
        return getattr(click_group(), name)

    def __repr__(self) -> str:
        return f"<gradcli entry point for {click_group()!r}>"


main = Gradcli()
