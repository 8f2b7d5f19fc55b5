"""`gradcli repl`: an interactive session over one Session.

Names persist, ``_`` is the last result, history is kept in the user's state directory,
Tab completes built-ins, names and :commands, a line with open brackets (or ending in
``\\``) continues on the next. Ctrl-C abandons the line being typed (or the computation
running), never the session; Ctrl-D or :quit ends it; an error never does.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gradcli.cli.options import ProgramOptions

PROMPT = ">>> "
CONTINUATION = "... "
COMMANDS = {
    ":help": ":help [NAME]       this help, or what NAME (a built-in or a :command) does",
    ":vars": ":vars              the names defined so far: kind, shape, value",
    ":graph": ":graph [NAME]      the creator graph of NAME (default: the last result, _)",
    ":grad": ":grad NAME [WRT..] NAME's value and its gradients (w.r.t. WRT only, if given)",
    ":diff": ":diff EXPR [WRT..] the derivative of EXPR as a formula (symbols allowed)",
    ":reset": ":reset             forget every name (the -v inputs are made again)",
    ":quit": ":quit              leave (Ctrl-D does too)",
}
ALIASES = {":q": ":quit", ":exit": ":quit", ":h": ":help", ":?": ":help"}
MAX_ARGUMENTS = {":help": 1, ":vars": 0, ":graph": 1, ":reset": 0}  # the others take lists
HISTORY_LENGTH = 2000
COMPLETER_DELIMS = " \t\n()[],;=+-*/^@<>!~`'\"{}%&|"


def history_path() -> Path:
    """$XDG_STATE_HOME/gradcli/history, or ~/.local/state/gradcli/history."""
    state = os.environ.get("XDG_STATE_HOME")
    base = Path(state) if state else Path.home() / ".local" / "state"
    return base / "gradcli" / "history"


def _not_regular(path: Path) -> str:
    """What ``path`` is if it exists and is not a regular file ("a FIFO"...), else ""."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError:
        return ""  # missing (or unreadable: reading it fails quietly, as before)
    if stat.S_ISREG(mode):
        return ""
    return ("a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a special file")


class History:
    """Readline history in a file; if the file cannot be written, say so once and go on."""

    def __init__(self, readline: Any, path: Path, say: Callable[[str], None]) -> None:
        self.readline = readline
        self.path = path
        self.say = say
        self.enabled = readline is not None
        if not self.enabled:
            return
        readline.set_history_length(HISTORY_LENGTH)
        kind = _not_regular(path)
        if kind:  # a FIFO would hang the REPL at start (and at exit): never opened
            self.enabled = False
            say(f"note: history is not kept: {path} is {kind}, not a regular file")
            return
        try:
            if path.exists():
                readline.read_history_file(str(path))
        except OSError:
            pass

    def save(self) -> None:
        if not self.enabled or _not_regular(self.path):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.readline.write_history_file(str(self.path))
        except OSError as error:
            self.enabled = False
            reason = error.strerror or str(error)
            self.say(f"note: history is not saved: cannot write {self.path} ({reason})")


class Completer:
    """Tab completion: :commands, the user's names, built-ins (with "(") and constants."""

    def __init__(self, session: Any, builtins: list[str], constants: list[str]) -> None:
        self.session = session
        self.builtins = builtins
        self.constants = constants
        self.matches: list[str] = []

    def candidates(self, text: str, line: str) -> list[str]:
        stripped = line.lstrip()
        if stripped.startswith(":") and " " not in stripped:
            return sorted(c for c in [*COMMANDS, *ALIASES] if c.startswith(text))
        names = (
            [*self.session.names, "_"] if self.session.last is not None else [*self.session.names]
        )
        if stripped.startswith(":"):
            word = ALIASES.get(stripped.split()[0], stripped.split()[0])
            if word == ":help":  # :help NAME describes a built-in
                return sorted(b for b in self.builtins if b.startswith(text))
            if word in (":graph", ":grad"):  # they take the session's names
                return sorted(n for n in names if n.startswith(text))
            return []
        found = {n for n in names if n.startswith(text)}
        found |= {c for c in self.constants if c.startswith(text)}
        found |= {f"{b}(" for b in self.builtins if b.startswith(text)}
        return sorted(found)

    def complete(self, text: str, state: int) -> str | None:
        if state == 0:
            try:
                import readline

                line = readline.get_line_buffer()
            except Exception:
                line = text
            self.matches = self.candidates(text, line)
        return self.matches[state] if state < len(self.matches) else None


def _setup_readline() -> Any:
    try:
        import readline
    except ImportError:  # no readline (some minimal builds): plain input() still works
        return None
    if "libedit" in (readline.__doc__ or ""):
        readline.parse_and_bind("bind ^I rl_complete")
    else:
        readline.parse_and_bind("tab: complete")
    readline.set_completer_delims(COMPLETER_DELIMS)
    return readline


def run_repl(options: ProgramOptions | None = None, *, show_graph: bool = False) -> int:
    """Read, evaluate, print, until :quit or Ctrl-D. Returns the exit status.

    ``options`` are the command line's -v, -c, --seed, --dtype, --precision, --no-color
    (the rest keep their defaults: no limit but half the machine's memory)."""
    from rich.text import Text

    from gradcli import __version__
    from gradcli.cli.commands import (
        all_builtin_names,
        constant_names,
        describe_builtin,
        unknown_builtin,
    )
    from gradcli.lang.errors import GradcliError, printable
    from gradcli.lang.reader import open_brackets
    from gradcli.lang.results import Failure
    from gradcli.lang.session import Session
    from gradcli.render import console as human
    from gradcli.render.plain import terminal_width
    from gradcli.render.table import Column, table_text
    from gradcli.render.values import shape_text, short_value

    options = options or ProgramOptions()
    precision, no_color = options.precision, options.no_color
    out = human.make_console(sys.stdout, no_color=no_color)
    err = human.make_console(sys.stderr, no_color=no_color)
    width = terminal_width(sys.stdout)
    noted = False  # why a non-scalar result has no gradients: said once a session

    def say(message: str, style: str = "dim") -> None:
        err.print(Text(printable(message, newlines=True), style=style))

    def show_error(error: BaseException) -> None:
        if isinstance(error, GradcliError):
            err.print(human.render_failure(Failure(error.line or 0, "", error)))
        else:
            say(f"internal error: {type(error).__name__}: {error}", "bold red")

    try:
        session = Session(**options.session_options(graph=True))
    except GradcliError as error:
        show_error(error)
        return 2

    readline = _setup_readline()
    history = History(readline, history_path(), say)
    if readline is not None:
        readline.set_completer(Completer(session, all_builtin_names(), constant_names()).complete)

    def show_help(arg: str) -> None:
        command = ALIASES.get(arg, arg)
        if command in COMMANDS:  # :help :grad, as the list says it
            out.print(Text(COMMANDS[command]))
            return
        if arg:
            lines = describe_builtin(arg)
            if lines is None:
                say(f"{unknown_builtin(arg)}; `:help` lists the commands", "yellow")
                return
            for text, style in lines:
                out.print(Text(text, style=style))
            return
        out.print(Text("Statements: x = [1, 2, 3]   sum(x^2)   y = tanh(x) * 2   (names persist)"))
        out.print(Text("_ is the last result. Tab completes; open brackets continue the line."))
        for text in COMMANDS.values():
            out.print(Text("  " + text))
        out.print(Text("Built-ins: `gradcli functions`, or :help NAME.", style="dim"))

    def show_vars() -> None:
        if not session.names:
            say("no names yet")
            return
        table = []
        for name, value in session.names.items():
            if value.creator is not None:
                kind = f"computed ({value.creator.name})"
            else:
                kind = "input" if value.requires_grad else "constant"
            table.append([name, kind, shape_text(value.shape),
                          short_value(value.data, min(precision, 4), width=48)])
        # a narrow terminal loses the shapes, then the kinds; the values wrap
        columns = [Column("name"), Column("kind", drop=2), Column("shape", drop=1),
                   Column("value", wrap=True)]
        out.print(table_text(columns, table, width))

    def command(line: str) -> bool:
        """Run a :command; False means quit."""
        word, _, rest = line.strip().partition(" ")
        word = ALIASES.get(word, word)
        args = rest.split()
        if word == ":quit":
            return False
        if len(args) > MAX_ARGUMENTS.get(word, len(args)):  # (not silently dropped)
            say(f"usage: {COMMANDS[word].split('  ')[0]}", "yellow")
            return True
        if word == ":help":
            show_help(args[0] if args else "")
        elif word == ":vars":
            show_vars()
        elif word == ":reset":
            session.reset()
            say("all names forgotten")
        elif word == ":graph":
            graph = session.graph_of(args[0] if args else "_")
            out.print(human.render_tree(graph, precision=min(precision, 4), width=width))
        elif word == ":grad":
            if not args:
                say("usage: :grad NAME [WRT...]", "yellow")
                return True
            result = session.gradient(args[0], args[1:] or None)
            for warning in result.warnings:  # a WRT that is no name, NaN gradients
                err.print(human.render_warning(warning))
            out.print(human.render_result(result, precision=precision, show_graph=False,
                                          header=False, width=width))
        elif word == ":diff":
            show_diff(rest)
        else:
            say(f"unknown command {word}; :help lists them", "yellow")
        return True

    def show_diff(rest: str) -> None:
        """:diff EXPR [WRT...]: names after the expression that would not parse with it
        are what to differentiate with respect to."""
        from gradcli.lang.symbolic.formula import differentiate
        from gradcli.lang.symbolic.terms import SymbolicError
        from gradcli.lang.syntax import parse

        words = rest.split()
        if not words:
            say("usage: :diff EXPR [WRT...]", "yellow")
            return
        wrt: list[str] = []
        while True:
            try:
                statements = parse(" ".join(words))
                break
            except Exception:  # noqa: BLE001 - peel a trailing name, else say it
                if len(words) > 1 and words[-1].isidentifier():
                    wrt.insert(0, words.pop())
                    continue
                say(f"cannot read {rest.strip()!r} as an expression", "yellow")
                return
        values = {n: v.data for n, v in session.names.items()}
        try:
            formulas = differentiate(statements, wrt=wrt, values=values)
        except KeyError as error:
            say(f'no name "{error.args[0]}" in the expression', "yellow")
            return
        except SymbolicError as error:
            say(f"cannot differentiate: {error.message}", "yellow")
            return
        for f in formulas:
            out.print(Text(f"d/d{f.wrt} = {f.text}"))
            for name, definition in f.where:
                out.print(Text(f"  where {name} = {definition}"))

    def run(text: str) -> None:
        nonlocal noted
        for outcome in session.run(text, interactive=True):
            if isinstance(outcome, Failure):
                for warning in session.take_unreported():  # (assignments' before it)
                    err.print(human.render_warning(warning))
                err.print(human.render_failure(outcome))
                continue
            for warning in outcome.warnings:
                err.print(human.render_warning(warning))
            out.print(human.render_result(outcome, precision=precision, show_graph=show_graph,
                                          header=False, note=not noted, width=width))
            noted |= outcome.gradients is None and bool(outcome.note)
        for warning in session.take_unreported():  # an assignment reports nothing, but
            err.print(human.render_warning(warning))  # x = log(0) is still warned of

    typed = sys.stdin is not None and sys.stdin.isatty()
    if typed:
        say(f"gradcli {__version__} — :help for help, :quit or Ctrl-D to leave")
    # prompts are for a person typing: lines piped in get answers alone on stdout
    prompt, continuation = (PROMPT, CONTINUATION) if typed else ("", "")
    while True:
        ended = False  # the input ended inside an open bracket: report it, then leave
        try:
            text = input(prompt)
            while open_brackets(text):
                try:
                    text += "\n" + input(continuation)
                except EOFError:
                    ended = True
                    break
        except KeyboardInterrupt:
            print("\nKeyboardInterrupt", flush=True)
            continue
        except EOFError:
            if typed:
                print(flush=True)  # (the prompt's line ends)
            break
        if not text.strip():
            continue
        history.save()
        width = terminal_width(sys.stdout)  # the terminal may have been resized
        if width is not None:
            out.width = err.width = width
        try:
            if text.lstrip().startswith(":"):
                if not command(text):
                    break
            else:
                run(text)
        except KeyboardInterrupt:
            say("interrupted", "yellow")
        except GradcliError as error:
            show_error(error)
        except Exception as error:  # an error never ends the session
            show_error(error)
        sys.stdout.flush()
        if ended:
            print(flush=True)
            break
    return 0
