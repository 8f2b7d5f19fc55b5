"""The `gradcli` command: a click group whose commands are thin.

Each command parses its options and hands them to gradcli.cli.commands, which imports
NumPy, Lark and rich only when a command actually runs: `gradcli eval --help` loads none of
them. The console script enters through gradcli.cli.main, which answers a bare
`gradcli --help` or `--version` without loading even click.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from collections.abc import Iterator, MutableMapping
from typing import Any

import click

from gradcli import __version__
from gradcli.cli import startup
from gradcli.cli.help_text import HELP_OPTIONS, MAX_CONTENT_WIDTH, VERSION_MESSAGE, VERSION_OPTIONS
from gradcli.cli.options import SHARED_OPTIONS, ProgramOptions, shared_options
from gradcli.cli.stdout import cannot_write, interrupted, silence_stdout

CONTEXT = {"help_option_names": list(HELP_OPTIONS), "max_content_width": MAX_CONTENT_WIDTH}


class FiniteFloat(click.ParamType):
    """A finite number, at least 0 (above 0 when ``positive``): a tolerance or a step. A
    plain float would let 1e400 (inf), nan, 0 or a negative through, to nonsense or to
    a division by zero."""

    name = "number"

    def __init__(self, positive: bool = False) -> None:
        self.positive = positive

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if number != number or number in (float("inf"), float("-inf")) or number < 0 or (
                self.positive and number == 0):
            bound = "above 0" if self.positive else "0 or more"
            self.fail(f"{value!r} must be a finite number, {bound}", param, ctx)
        return number


class Commands(MutableMapping):
    """The group's commands by name, each built (its click options made) when first
    looked up: `gradcli eval` makes eval's ~20 options, not the ~100 of every command
    (~2 ms of each start). Names are known without building (``in``, iteration, click's
    suggestions); ``commands[name]`` and ``.get`` build that one command; help and
    completion, which read every command, build them all."""

    def __init__(self, commands: dict[str, Any]) -> None:
        self._entries: dict[str, Any] = dict(commands)  # a command, or a Deferred
        self._building: set[str] = set()

    def defer(self, name: str, build: Any) -> None:
        self._entries[name] = Deferred(build)

    def __getitem__(self, name: str) -> Any:
        entry = self._entries[name]
        if isinstance(entry, Deferred) and name not in self._building:
            self._building.add(name)
            try:
                entry.build()  # adds the command under its name (add_command)
            finally:
                self._building.discard(name)
            entry = self._entries[name]
        return entry

    def __setitem__(self, name: str, command: Any) -> None:
        self._entries[name] = command

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


class Deferred:
    """A command not built yet: ``build()`` makes it and adds it to the group."""

    __slots__ = ("build",)

    def __init__(self, build: Any) -> None:
        self.build = build


class GradcliGroup(click.Group):
    """A group that never lets a Python traceback reach the user."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: Commands = Commands(self.commands)  # type: ignore[assignment]

    def lazy_command(self, name: str, *decorators: Any, **attrs: Any) -> Any:
        """``group.command(name, **attrs)``, with its ``decorators`` (click options,
        outermost first) and the options recorded by :func:`option` and
        :func:`argument`, applied only when the command is first looked up."""

        def defer(func: Any) -> Any:
            def build() -> Any:
                built = func
                for decorator in reversed(getattr(func, "_deferred_params", [])):
                    built = decorator(built)
                for decorator in reversed(decorators):
                    built = decorator(built)
                return self.command(name, **attrs)(built)

            self.commands.defer(name, build)
            return func

        return defer

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # Named gradcli however it is started (python -m gradcli too), so usage lines read
        # right and shell completion answers to _GRADCLI_COMPLETE.
        kwargs.setdefault("prog_name", "gradcli")
        return super().main(*args, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # `gradcli '2+2'`, `gradcli 'sum(x^2)' -v x=...`: a first argument that is not a
        # command and looks like a program is `gradcli eval PROGRAM` (SPEC §5)
        if args and args[0] not in self.commands and looks_like_program(args[0]):
            args = ["eval", *args]
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        if sys.stdout is None:  # started with stdout closed (`>&-`)
            sys.stdout = ClosedOutput()
        try:
            return super().invoke(ctx)
        except click.exceptions.ClickException as error:
            from gradcli.lang.errors import printable

            error.message = printable(error.message, newlines=True)  # it may quote the user
            raise
        except (click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            interrupted()
        except BrokenPipeError:
            # The reader went away (`gradcli eval ... | head -1`): stop quietly.
            silence_stdout()
            raise SystemExit(141) from None
        except OSError as error:
            if error.errno not in OUTPUT_ERRORS:
                raise
            cannot_write(error)  # stdout closed, disk full
        except MemoryError:  # NumPy or Python could not allocate: not a bug of ours
            _quiet_echo("gradcli: out of memory (try a smaller input, or --max-memory to be "
                        "refused before allocating)")
            raise SystemExit(1) from None
        except Exception as error:  # the last line of defence: one line, no traceback
            if os.environ.get("GRADCLI_DEBUG"):
                raise
            _quiet_echo(
                f"gradcli: internal error: {type(error).__name__}: {error} "
                "(set GRADCLI_DEBUG=1 for a traceback, and please report it)"
            )
            raise SystemExit(1) from None

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as error:
            hint = function_hint(args[0]) if args else None
            if hint is None and args and _COMMAND_LIKE.fullmatch(args[0]) and not getattr(
                    error, "possibilities", True):  # (click's NoSuchCommand, with no near one)
                # a plain word near no command (`gradcli x -v x=2`, `gradcli pi`): a
                # calculator user's program, which only a word's look keeps from running
                import shlex  # (only on this error's path)

                hint = (f"{error.message} To run it as a program: gradcli eval "
                        f"{shlex.join(args)} (a word alone is taken for a command)")
            if hint is None:
                raise
            raise click.UsageError(hint, ctx) from error


# what a failed write to stdout raises (reading a file is caught where it is read)
OUTPUT_ERRORS = {errno.ENOSPC, errno.EBADF, errno.EIO, errno.EDQUOT, errno.EFBIG}


class ClosedOutput:
    """Stands for a stdout that was closed before gradcli started: writing to it fails
    as writing to a closed descriptor does, so the failure is reported once."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")

    def flush(self) -> None:
        pass  # nothing was written, so nothing is lost (and the exit's flush is quiet)

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


def function_hint(name: str) -> str | None:
    """What to say when a built-in function's name is typed as a command (`gradcli grad`)."""
    from gradcli.lang import builtins

    if name not in builtins.callable_names():
        return None
    entry = builtins.lookup(name)
    call = getattr(entry, "signature", None) or f"{name}(...)"
    return (f'"{name}" is a built-in function, not a command: use it in a program, as in '
            f"gradcli eval '{call}' (`gradcli functions {name}` describes it)")


_COMMAND_LIKE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")  # `gradcli evl`: a command misspelt
_OPTION_LIKE = re.compile(r"--?[A-Za-z][A-Za-z0-9_-]*(=.*)?")  # `gradcli -x`, `--colour`


def looks_like_program(arg: str) -> bool:
    """True for an argument that is a program, not a command or an option: it has a
    character no command or option name has (`2+2`, `sum(x)`, `x'`, `π`, `-x^2`, `3`).
    A plain word stays a command (a misspelt one gets click's suggestions) and a file
    that exists is not taken for a program."""
    if not arg.strip() or _COMMAND_LIKE.fullmatch(arg) or _OPTION_LIKE.fullmatch(arg):
        return False
    return not os.path.exists(arg)


class ProgramCommand(click.Command):
    """A command whose PROGRAM may start with "-": `gradcli eval '-x^2'`, `-1/x^2` as
    `gradcli diff` prints it. An argument that starts with "-" but not with "--", and
    whose first two characters are none of the command's short options, is PROGRAM (it
    moves behind a "--", so the options after it still count). `--` works as usual.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        short: set[str] = set()
        flags: set[str] = set()
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                names = (*param.opts, *param.secondary_opts)
                short.update(n for n in names if len(n) == 2 and n[1] != "-")
                if param.is_flag or param.count:
                    flags.update(names)
        return super().parse_args(ctx, program_last(args, short, flags))


def program_last(args: list[str], short: set[str], flags: set[str]) -> list[str]:
    """``args`` with a PROGRAM that starts with "-" moved behind "--" at the end.
    ``short`` are the command's short options, ``flags`` its options without a value."""
    takes_next = False
    for i, arg in enumerate(args):
        if arg == "--":
            return args
        if takes_next:  # the value of -f, -v, --wrt ... (which may start with "-" itself)
            takes_next = False
            continue
        if arg.startswith("-") and arg != "-" and not arg.startswith("--"):
            if arg[:2] not in short:
                rest = [*args[:i], *args[i + 1:]]
                if "--" in rest:  # an end of options already there: PROGRAM goes after it
                    at = rest.index("--") + 1
                    return [*rest[:at], arg, *rest[at:]]
                return [*rest, "--", arg]
            takes_next = len(arg) == 2 and arg not in flags
        elif arg.startswith("--") and "=" not in arg:
            takes_next = arg not in flags
    return args


def _quiet_echo(message: str) -> None:
    try:
        from gradcli.lang.errors import printable

        click.echo(printable(message, newlines=True), err=True)
    except Exception:
        pass


def _recorded(decorator: Any) -> Any:
    """``decorator`` (a click option or argument) kept on the function, to be applied
    when its command is built (GradcliGroup.lazy_command)."""

    def record(func: Any) -> Any:
        func.__dict__.setdefault("_deferred_params", []).insert(0, decorator)
        return func

    return record


def option(*decls: str, **attrs: Any) -> Any:
    """``click.option(...)``, applied when the command is built."""
    return _recorded(click.option(*decls, **attrs))


def argument(*decls: str, **attrs: Any) -> Any:
    """``click.argument(...)``, applied when the command is built."""
    return _recorded(click.argument(*decls, **attrs))


@click.group(
    cls=GradcliGroup,
    invoke_without_command=True,
    context_settings=CONTEXT,
    epilog="""\b
Examples:
  gradcli eval 'mean(3*(x+2)^2)' -v x='ones(2,2)'
  echo 'sum(x^2)' | gradcli eval -v x='[1,2,3]' --json
  gradcli graph 'y = tanh(w @ x)' -v w='randn(3,3)' -v x='ones(3)' -o net.svg
  gradcli diff 'mean(3*(x+2)^2)' -v x='ones(2,2)'
  gradcli check 'sum(tanh(W @ x))' -v W='randn(3,3)' -v x='ones(3)'
  gradcli plot 'sin(x) * x' --wrt x --range -3:3
  gradcli repl

With no command: the REPL on a terminal, else `gradcli eval` of stdin.""",
)
@click.version_option(__version__, *VERSION_OPTIONS, prog_name="gradcli", message=VERSION_MESSAGE)
@click.pass_context
def main(ctx: click.Context) -> None:
    """gradcli: differentiate math expressions from the command line.

    Write a program in a small math language; gradcli computes every value, the
    gradient of each result with respect to its inputs (reverse-mode autodiff, as in
    PyTorch), and shows the creator graph that links them.
    """
    if ctx.invoked_subcommand is not None:
        return
    if sys.stdin is not None and sys.stdin.isatty():
        from gradcli.cli.repl import run_repl

        startup.resume()  # its imports are done
        ctx.exit(run_repl())
    ctx.invoke(main.commands["eval"])


def program_command(name: str, examples: str) -> Any:
    """A command that runs a PROGRAM: the PROGRAM argument (which may start with "-"),
    the options every such command shares (handed to it as one ProgramOptions, its first
    argument), and its examples under its help."""

    return main.lazy_command(name, click.argument("program", required=False),
                             shared_options(), cls=ProgramCommand, context_settings=CONTEXT,
                             epilog="\b\nExamples:\n" + examples)


@program_command(
    "eval",
    """\
  gradcli eval 'mean(3*(x+2)^2)' -v x='ones(2,2)'
  gradcli eval -f samples/walkthrough.grad
  gradcli eval 'x @ x' -v x='[1,2,3]' --json | jq .gradients.x
  gradcli eval 'sin(x)' -v x='linspace(0,1,3)' --grad-output 'ones(3)'
  gradcli eval 'mean(3*(x+2)^2)' -v x='ones(2,2)' --trace
  gradcli eval 'softmax(z)' -v z='[1,2,3]' --jacobian
  printf 'a = 2\\na^3\\n' | gradcli eval""",
)
@option(
    "--wrt",
    multiple=True,
    metavar="NAME",
    help="Report gradients with respect to NAME only (repeatable).",
)
@option(
    "--grad-output",
    metavar="VALUE",
    help="Seed gradient for a non-scalar result, of exactly its shape ('ones(2,2)').",
)
@option("--json", "as_json", is_flag=True,
              help="JSON Lines on stdout, one per result or failed statement.")
@option(
    "--graph/--no-graph",
    default=None,
    help="Show the creator graph (default: shown, except with --json).",
)
@option("--fail-fast", is_flag=True, help="Stop at the first failing statement.")
@option(
    "--trace",
    is_flag=True,
    help="Show the backward pass step by step: each Function, the gradient it received, "
    "what it passed to each input.",
)
@option(
    "--jacobian",
    is_flag=True,
    help="Show d(result)/d(input) for every input, as tables (any result shape).",
)
@option(
    "--hessian", is_flag=True, help="Show the second derivatives of a scalar result, as tables."
)
def eval_command(shared: ProgramOptions, program: str | None, **options: Any) -> None:
    """Run PROGRAM and show each result's value, gradients and creator graph.

    PROGRAM is the program text; -f FILE reads a file; with neither (or '-') the
    statements are read from stdin and each is answered as soon as it arrives.
    Exit status: 0 all statements ran, 1 a statement failed, 2 usage error.
    """
    from gradcli.cli.commands import run_eval

    if options.get("trace") or options.get("jacobian") or options.get("hessian"):
        from gradcli.cli.calculus import show_result_with_calculus

        options["show_calculus"] = show_result_with_calculus
    raise SystemExit(run_eval(program, shared, **options))


@program_command(
    "graph",
    """\
  gradcli graph 'out = mean(3*(x+2)^2)' -v x='ones(2,2)'
  gradcli graph -f samples/walkthrough.grad --format mermaid
  gradcli graph 'sum(tanh(w @ x))' -v w='randn(2,3)' -v x='ones(3)' -o net.svg""",
)
@option(
    "--format",
    "fmt",
    type=click.Choice(["tree", "dot", "mermaid", "json"]),
    default=None,
    help="Output format (default: from -o's suffix, else tree).",
)
@option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write to FILE: .txt, .dot, .mmd, .json, or .svg/.png/.pdf (needs Graphviz's dot).",
)
@option(
    "--depth",
    type=click.IntRange(min=1),
    default=None,
    help="Cut the tree below this depth (tree format only).",
)
def graph_command(shared: ProgramOptions, program: str | None, **options: Any) -> None:
    """Show the creator graph of PROGRAM's last result."""
    from gradcli.cli.commands import run_graph

    raise SystemExit(run_graph(program, shared, **options))


@program_command(
    "diff",
    """\
  gradcli diff 'x^2*sin(x)'
  gradcli diff 'x.T @ A @ x' --shape x=n --shape A=n,n
  gradcli diff 'X: [n, n]; log(det(X))' --format latex
  gradcli diff '(1-a)^2 + 100*(b-a^2)^2' -v a=0.5 -v b=1
  gradcli diff 'x^3' --order 2
  gradcli diff 'x^2 * y' --json | jq -r .formula""",
)
@option(
    "--wrt",
    multiple=True,
    metavar="NAME",
    help="Differentiate with respect to NAME (repeatable; default: every symbol and input).",
)
@option(
    "--shape",
    "shapes",
    multiple=True,
    metavar="NAME=DIMS",
    help="Declare a symbol's shape: x=n (a vector), X=n,m, A=3,3; sizes are whole numbers "
    "or size names (repeatable).",
)
@option(
    "--order",
    type=click.IntRange(1, 2),
    default=1,
    show_default=True,
    help="1: gradients (Jacobians for a vector result); 2: Hessians.",
)
@option(
    "--format",
    "fmt",
    type=click.Choice(["text", "unicode", "latex", "json"]),
    default=None,
    help="How formulas are written (default: text, gradcli syntax).",
)
@option("--latex", is_flag=True, help="The same as --format latex.")
@option("--json", "as_json", is_flag=True, help="The same as --format json.")
def diff_command(shared: ProgramOptions, program: str | None, **options: Any) -> None:
    """Print the derivative of PROGRAM's last result as a formula.

    The derivative of the expression, not of numbers: a name with no value is a symbol
    (a scalar, unless --shape or a declaration `X: [n, m]` gives its shape), and the
    formula holds at every point and every size. It is written in gradcli's own syntax,
    so it is itself a program. One line per name, `d/dNAME = FORMULA`; with -v values
    each is followed by its value there, checked against the engine's gradient.
    """
    from gradcli.cli.calculus import run_diff

    startup.resume()  # its imports are done
    raise SystemExit(run_diff(program, shared, **options))


@program_command(
    "check",
    """\
  gradcli check 'sum(tanh(W @ x))' -v W='randn(3,3)' -v x='ones(3)' --seed 1
  gradcli check '(1-x)^2 + 100*(y-x^2)^2' -v x=-1.2 -v y=1
  gradcli check 'sum(x^2)' -v x='randn(100,100)' --sample 200
  gradcli check 'softmax(z)' -v z='[1,2,3]' --grad-output '[1,0,0]'
  gradcli check 'sum(x^3)' -v x='[1,2]' --json | jq .ok""",
)
@option(
    "--wrt", multiple=True, metavar="NAME", help="Check only NAME's gradient (repeatable)."
)
@option(
    "--grad-output",
    metavar="VALUE",
    help="Weights for a non-scalar result (default: a fixed random projection).",
)
@option("--rtol", type=FiniteFloat(), default=1e-5, show_default=True,
              help="Relative tolerance.")
@option("--atol", type=FiniteFloat(), default=1e-6, show_default=True,
              help="Absolute tolerance.")
@option(
    "--eps", type=FiniteFloat(positive=True), default=1e-6, show_default=True,
    help="Finite-difference step.",
)
@option(
    "--sample",
    type=int,
    default=500,
    show_default=True,
    metavar="N",
    help="Inputs of more elements than N in all are checked at N random elements "
    "(seeded by --seed); at most 5,000, as each element costs two runs.",
)
@option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def check_command(shared: ProgramOptions, program: str | None, **options: Any) -> None:
    """Check each input's gradient against central finite differences.

    Runs PROGRAM again with each input element nudged by +-eps (in float64) and
    compares with the gradient the engine computed. Prints the worst absolute and
    relative error per input. Exit status: 0 all agree, 1 beyond the tolerance
    (|analytic - numeric| > atol + rtol*|numeric|) or the program failed, 2 usage error.
    """
    from gradcli.cli.calculus import run_check

    startup.resume()  # its imports are done
    raise SystemExit(run_check(program, shared, **options))


@program_command(
    "plot",
    """\
  gradcli plot 'sin(x) * x' --wrt x --range -3:3
  gradcli plot 'sigmoid(w*x + b)' --wrt x --range -6:6 -v w=2 -v b=0.5
  gradcli plot 'tanh(x)' --wrt x --range -pi:pi -o tanh.png
  gradcli plot '1/x' --wrt x --range -1:1 --ylim -10:10 --width 60""",
)
@option("--wrt", required=True, metavar="NAME", help="The scalar input on the x axis.")
@option(
    "--range",
    "value_range",
    default="-3:3",
    show_default=True,
    metavar="LOW:HIGH",
    help="The interval of NAME's values.",
)
@option(
    "--points",
    type=click.IntRange(2, 10_000),
    default=64,
    show_default=True,
    help="How many values of NAME to evaluate at.",
)
@option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Draw an image (.png, .svg or .pdf) with matplotlib: pip install 'gradcli[plot]'.",
)
@option(
    "--ylim",
    metavar="LOW:HIGH",
    help="The y-range (default: from the values, leaving out the extremes of a pole).",
)
@option(
    "--width",
    type=click.IntRange(24, 1000),
    default=None,
    help="Columns of the terminal plot, labels included (default: the terminal's, "
    "else 72).",
)
@option(
    "--height",
    type=click.IntRange(5, 500),
    default=None,
    help="Rows of the terminal plot's grid (default: 18).",
)
def plot_command(shared: ProgramOptions, program: str | None, **options: Any) -> None:
    """Plot PROGRAM's result and its derivative against one scalar input.

    In the terminal: a character plot of both curves, as wide as the terminal. With
    -o: an image. The other inputs keep their -v values. What is not drawn (NaN,
    infinity, points beyond the y-range) is said under the plot, and on the image.
    """
    from gradcli.cli.calculus import run_plot

    startup.resume()  # its imports are done
    raise SystemExit(run_plot(program, shared, **options))


@main.lazy_command(
    "functions",
    context_settings=CONTEXT,
    epilog="""\b
Examples:
  gradcli functions
  gradcli functions softmax
  gradcli functions --markdown > functions.md""",
)
@argument("name", required=False)
@option("--markdown", is_flag=True, help="A Markdown table (the docs are made with it).")
def functions_command(name: str | None, markdown: bool) -> None:
    """List the built-in functions, or describe NAME."""
    from gradcli.cli.commands import run_functions

    startup.resume()  # its imports are done
    raise SystemExit(run_functions(name, markdown=markdown))


@main.lazy_command(
    "repl",
    shared_options("variables", "data", "seed", "dtype", "precision"),
    context_settings=CONTEXT,
    epilog="""\b
Examples:
  gradcli repl
  gradcli repl -v x='ones(2,2)' --graph
\b
In the session:
  >>> x = [1, 2, 3]
  >>> sum(x^2)
  >>> :grad _ x
  >>> :graph""",
)
@option("--graph", "show_graph", is_flag=True, help="Show the creator graph of each result.")
@_recorded(SHARED_OPTIONS["no_color"])
def repl_command(shared: ProgramOptions, show_graph: bool) -> None:
    """An interactive session: names persist, _ is the last result, :help lists commands.

    History is kept in $XDG_STATE_HOME/gradcli/history (~/.local/state/gradcli/history);
    Tab completes built-ins, names and :commands; Ctrl-C abandons the line; Ctrl-D quits.
    """
    from gradcli.cli.repl import run_repl

    startup.resume()  # its imports are done
    raise SystemExit(run_repl(shared, show_graph=show_graph))
