"""What the commands do, once their options are parsed: run a Session, hand results to render.

Imported only when a command runs, so NumPy, Lark and rich stay out of `gradcli --help`.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from typing import Any

import click

from gradcli.cli.options import ProgramOptions
from gradcli.lang.errors import GradcliError, InputProblem, printable
from gradcli.lang.results import Failure, Result

GRAPHVIZ_HINT = (
    "Graphviz's `dot` is needed to write {suffix} files and is not installed; "
    "install it (Debian/Ubuntu: `apt-get install graphviz`, macOS: `brew install graphviz`), "
    "or write .dot and render it elsewhere"
)
MAX_PROGRAM_BYTES = 32 * 2**20  # a -f FILE larger than this is refused (stdin streams)
SUFFIX_FORMATS = {".txt": "tree", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".json": "json"}
GRAPHVIZ_SUFFIXES = {".svg", ".png", ".pdf"}
# a graph with more nodes is not handed to dot (2*10^5 nodes: 12 s and 1.8 GB, then SIGSEGV)
MAX_DRAWN_NODES = 5_000


# -- reading programs ------------------------------------------------------------------------


HELD_BYTES = 1 << 16  # JSON lines held back at most (Printer.holding)


def stdin_lines(before_waiting: Callable[[], None] | None = None) -> Iterator[str]:
    """Lines of stdin, each handed on as soon as it arrives (a stream, not a slurp).
    ``before_waiting()`` is called before a read that may wait for the producer (none of
    its input is at hand): where a command writes what it has held back."""
    stream = sys.stdin
    if stream is None:
        return
    waits = _may_wait(stream) if before_waiting is not None else None
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(errors="replace")
        except (ValueError, OSError):
            pass
    from gradcli.lang.reader import MAX_STATEMENT_CHARS

    while True:
        if waits is not None and waits():
            before_waiting()  # type: ignore[misc]
        line = stream.readline(MAX_STATEMENT_CHARS + 1)
        if not line:
            return
        yield line  # (an overlong line is refused by the reader, as it is read)
        if len(line) > MAX_STATEMENT_CHARS and not line.endswith("\n"):
            skipped = 0  # the rest of that line, read in pieces and dropped
            while not line.endswith("\n"):
                line = stream.readline(MAX_STATEMENT_CHARS)
                skipped += len(line)
                if not line:
                    return
                if skipped > MAX_PROGRAM_BYTES:
                    raise click.UsageError(
                        f"stdin: a line of more than {MAX_PROGRAM_BYTES:,} characters "
                        "(is it a stream of numbers or NUL bytes?); reading stopped")


def _may_wait(stream: Any) -> Callable[[], bool]:
    """Whether reading ``stream`` now may wait: its descriptor has nothing to read (lines
    already read into Python's buffer are not seen, so it may say so of a read that will
    not wait: harmless). Where there is no descriptor to ask, always."""
    import select

    try:
        descriptor = stream.fileno()
        select.select([descriptor], [], [], 0)
    except (OSError, ValueError, AttributeError):  # (no descriptor: a test's StringIO)
        return lambda: True
    return lambda: not select.select([descriptor], [], [], 0)[0]


def write_all(stream: Any, text: str) -> str:
    """Write ``text`` (ASCII: JSON lines) to ``stream`` whole, or as much as it can before
    an exception (Ctrl-C, a closed pipe), whose unwritten rest is returned as it leaves
    (``Unwritten``); "" when all is out. The bytes go to the descriptor's raw layer, so
    that what was written is known exactly: Python's text layer drops the rest of a write
    a signal cuts short over an unbuffered stdout (PYTHONUNBUFFERED), and a buffered layer
    does not say how much of a write it took."""
    binary = getattr(stream, "buffer", None)
    raw = binary if isinstance(binary, io.RawIOBase) else getattr(binary, "raw", None)
    if not isinstance(raw, io.RawIOBase):
        stream.write(text)
        return ""
    stream.flush()
    if _LINE_END != "\n":  # (what the text layer would have done on Windows)
        text = text.replace("\n", _LINE_END)
    data = memoryview(text.encode("ascii", "backslashreplace"))
    done = 0
    try:
        while done < len(data):
            written = raw.write(data[done:])
            if written is None:  # a non-blocking stdout that is full: wait until it is not
                import select

                select.select([], [raw], [])
                continue
            done += written
    except BaseException as error:
        raise Unwritten(bytes(data[done:]).decode("ascii")) from error
    return ""


class Unwritten(Exception):
    """What a write did not get out before an exception (in ``__cause__``)."""

    def __init__(self, rest: str) -> None:
        super().__init__(rest)
        self.rest = rest


_LINE_END = "\r\n" if sys.platform == "win32" else "\n"


class Terminated(BaseException):
    """SIGTERM arrived: the stream ends (a BaseException, so no `except Exception`
    between the signal and the command mistakes it for a statement's failure)."""


class Termination:
    """SIGTERM during a program or stream: the statement in progress finishes and is
    answered, then the command exits 143. While waiting for the next line, at once."""

    def __init__(self) -> None:
        self.requested = False
        self.waiting = False
        self.previous: Any = None

    def __enter__(self) -> Termination:
        import signal

        try:
            self.previous = signal.signal(signal.SIGTERM, self._handle)
        except (ValueError, OSError):  # not the main thread: leave signals alone
            self.previous = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            import signal

            signal.signal(signal.SIGTERM, self.previous)

    def _handle(self, signum: int, frame: Any) -> None:
        self.requested = True
        if self.waiting:
            raise Terminated

    def deferred(self, action: Callable[[], None]) -> Callable[[], None]:
        """``action``, run with SIGTERM deferred until it is done (a flush of held lines,
        called while waiting for input: they are written whole, then the stream ends)."""
        def run() -> None:
            waiting, self.waiting = self.waiting, False
            try:
                action()
            finally:
                self.waiting = waiting
            if waiting and self.requested:
                raise Terminated

        return run

    def lines(self, lines: Iterable[str]) -> Iterator[str]:
        """``lines``, stopping (Terminated) before the next one once SIGTERM arrived."""
        iterator = iter(lines)
        while True:
            if self.requested:
                raise Terminated
            self.waiting = True
            try:
                line = next(iterator, None)
            finally:
                self.waiting = False
            if line is None:
                return
            yield line


def read_program(program: str | None, options: ProgramOptions) -> str | None:
    """The program's text (PROGRAM, or -f FILE), or None when it is to be streamed from
    stdin."""
    file = options.file
    if program is not None and file is not None:
        raise click.UsageError("give either PROGRAM or -f FILE, not both")
    if file is not None and file != "-":
        options.check_stdin(False)
        try:
            with open(file, "rb") as handle:  # (a FIFO is fine: `-f <(make-program)`)
                data = handle.read(MAX_PROGRAM_BYTES + 1)
            if len(data) > MAX_PROGRAM_BYTES:
                raise click.UsageError(
                    f"cannot read {file!r}: it is larger than {MAX_PROGRAM_BYTES:,} bytes, "
                    "the limit of a program file (pipe it on stdin to run it as a stream)")
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise click.UsageError(f"cannot read {file!r}: it is not UTF-8 text") from None
        except OSError as error:
            reason = error.strerror or str(error)
            raise click.UsageError(f"cannot read {file!r}: {reason}") from None
    if program is not None and program != "-":
        options.check_stdin(False)
        return program
    if sys.stdin is None or sys.stdin.isatty():
        raise click.UsageError(
            "no program: give PROGRAM, -f FILE, or pipe statements on stdin "
            "(`gradcli repl` for an interactive session)"
        )
    options.check_stdin(True)
    return None


def program_text(program: str | None, options: ProgramOptions) -> str:
    """The whole program's text: PROGRAM, -f FILE, or all of stdin (for the commands that
    read a program before they run it, as opposed to eval's stream)."""
    text = read_program(program, options)
    return "".join(stdin_lines()) if text is None else text


def make_session(options: ProgramOptions, **command: Any) -> Any:
    """A Session made from the shared options and the command's (see
    ProgramOptions.session_options)."""
    from gradcli.cli import startup

    startup.load_numpy()  # (if no option's check has imported it)
    from gradcli.lang.session import Session

    startup.resume()  # NumPy and Lark are loaded: the program runs with the collector
    return Session(**options.session_options(**command))


def write_warnings(warnings: Iterable[str], line: int | None = None) -> None:
    """Warnings as plain lines on stderr (beside --json output, which stays on stdout)."""
    from gradcli.render.plain import warning_text

    for warning in warnings:
        sys.stderr.write(warning_text(warning, line) + "\n")
    sys.stderr.flush()


def usage_failure(error: GradcliError) -> int:
    """A bad --var, --grad-output or file: say so on stderr; exit status 2."""
    from gradcli.render.plain import error_text

    click.echo(error_text(error), err=True)  # (user text in it made printable)
    return 2


def usage_record(error: InputProblem | click.ClickException) -> str:
    """eval --json's line for a usage error: SPEC §6's failure object, of type "usage"
    (as check and diff say it), at the statement where it was found, else with null
    line and source (a bad -v or -f FILE, before any statement)."""
    from gradcli.render.jsonl import dumps, failure_record

    if isinstance(error, click.ClickException):
        error = InputProblem(error.format_message())
    line, source = error.statement or (None, None)
    record = failure_record(Failure(line, source, error))  # type: ignore[arg-type]
    record["error"]["type"] = "usage"
    return dumps(record)


class Printer:
    """Where outcomes go: text for a person, or JSON Lines (and plain stderr) with --json.

    Rich draws for a terminal (colour, wrapping); where a stream is not a terminal, or
    has no colour, the same text is written by gradcli.render.plain and rich is never
    imported: a script calling gradcli in a loop pays less. ``out`` and ``err`` are rich
    consoles on stdout and stderr, made when first asked for.
    """

    def __init__(self, *, as_json: bool, precision: int, show_graph: bool, no_color: bool):
        self.as_json = as_json
        self.precision = precision
        self.show_graph = show_graph
        self.no_color = no_color
        self.shown = 0
        self.noted = False  # why a non-scalar result has no gradients: said once a run
        self.stdout, self.stderr = sys.stdout, sys.stderr
        self.width: int | None = None
        # JSON lines held back (``holding``) until the input would make us wait, a warning
        # goes to stderr, or HELD_BYTES of them: one write for many lines, not one each
        self.holding = False
        self.held: list[str] = []
        self.held_size = 0
        if not as_json:
            from gradcli.render import plain

            self.plain = plain
            self.width = plain.terminal_width(self.stdout)
            self.plain_out = plain.writes_plain(self.stdout, no_color=no_color)
            self.plain_err = plain.writes_plain(self.stderr, no_color=no_color)

    @cached_property
    def human(self) -> Any:
        from gradcli.render import console

        return console

    @cached_property
    def json(self) -> Any:
        from gradcli.render import jsonl

        return jsonl

    @cached_property
    def out(self) -> Any:
        return self.human.make_console(self.stdout, no_color=self.no_color)

    @cached_property
    def err(self) -> Any:
        return self.human.make_console(self.stderr, no_color=self.no_color)

    def failure(self, failure: Failure) -> None:
        if self.as_json:
            from gradcli.render import jsonl
            from gradcli.render.plain import failure_text

            self.hold(jsonl.render_failure(failure) + "\n")
            self.flush()  # (before its words on stderr)
            sys.stderr.write(failure_text(failure) + "\n")
            sys.stderr.flush()
            return
        text = self.plain.failure_text(failure)
        if not (self.plain_err and _put(self.stderr, self.plain.block_text(text))):
            self.err.print(self.human.render_failure(failure))

    def write(self, text: str) -> None:
        """Stdout for JSON lines (write_result writes here)."""
        self.hold(text)

    def hold(self, text: str) -> None:
        self.held.append(text)
        self.held_size += len(text)
        if self.held_size >= HELD_BYTES or not self.holding:
            self.flush()

    def flush(self) -> None:
        """Write the JSON lines held back; if an exception stops the write (Ctrl-C), what
        it did not write stays held, for the command's last flush."""
        if self.held:
            text = "".join(self.held)
            self.held.clear()
            self.held_size = 0
            try:
                write_all(sys.stdout, text)
            except Unwritten as unwritten:
                self.held.append(unwritten.rest)
                self.held_size = len(unwritten.rest)
                raise unwritten.__cause__ from None
        sys.stdout.flush()

    def result(self, result: Result) -> None:
        if self.as_json:
            write_result = self.json.write_result
            if result.warnings:
                self.flush()
                write_warnings(result.warnings, result.line)
            write_result(self, result, graph=self.show_graph)  # (large arrays in pieces)
            if not self.holding:
                self.flush()  # one line, one answer: a producer may wait for it
            return
        plain = self.plain
        for warning in result.warnings:
            text = plain.warning_text(warning, result.line)
            if not (self.plain_err and _put(self.stderr, plain.block_text(text))):
                self.err.print(self.human.render_warning(warning, result.line))
        if self.shown and not (self.plain_out and _put(self.stdout, "\n")):
            self.out.print()
        options = {"precision": self.precision, "show_graph": self.show_graph,
                   "note": not self.noted, "width": self.width}
        self.noted |= result.gradients is None and bool(result.note)
        if not (self.plain_out and _put(self.stdout, plain.result_text(result, **options))):
            self.out.print(self.human.render_result(result, **options))
        self.shown += 1
        self.stdout.flush()


def print_failures(failures: Iterable[Failure], no_color: bool) -> None:
    """Failures on stderr, as eval prints them."""
    printer = Printer(as_json=False, precision=0, show_graph=False, no_color=no_color)
    for failure in failures:
        printer.failure(failure)


def _put(stream: Any, text: str | None) -> bool:
    """Write ``text`` unless it is None (plain text could not be exact); whether written."""
    if text is None:
        return False
    stream.write(text)
    stream.flush()  # as rich does after each print
    return True


# -- eval ------------------------------------------------------------------------------------


def run_eval(
    program: str | None,
    options: ProgramOptions,
    *,
    wrt: tuple[str, ...],
    grad_output: str | None,
    as_json: bool,
    graph: bool | None,
    fail_fast: bool,
    trace: bool = False,
    jacobian: bool = False,
    hessian: bool = False,
    show_calculus: Any = None,
) -> int:
    """Run a program or a stream; print each outcome as it comes. Returns the exit status.

    With ``trace``, ``jacobian`` or ``hessian``, each result is printed by
    ``show_calculus`` (the calculus commands' printer, which the caller passes in: this
    module does not import the one above it)."""
    import warnings

    from gradcli.cli.startup import load_numpy

    load_numpy()  # first, with the collector (the printer's modules import it too)
    # Python's own warning lines never reach the user (errors and NaN warnings are ours),
    # and the session then skips guarding each statement against them
    warnings.simplefilter("ignore", RuntimeWarning)
    show_graph = graph if graph is not None else not as_json
    printer = Printer(as_json=as_json, precision=options.precision, show_graph=show_graph,
                      no_color=options.no_color)
    failed = False
    termination = Termination()
    try:
        text = read_program(program, options)
        session = make_session(options, graph=show_graph, wrt=wrt, grad_output=grad_output)
        write_warnings(session.input_warnings)
        from gradcli.lang.session import split_lines

        # again, first: NumPy, imported since, put its own filters before the one above,
        # and the session skips its per-statement guard only while this one is first
        warnings.simplefilter("ignore", RuntimeWarning)

        # JSON lines are written when the input would make us wait (a producer waiting
        # for an answer gets it), not one write each: ~20 µs a line into a pipe
        # (a stream on stdin only: a program's lines are all at hand, and a long statement
        # in it would keep the answers before it held)
        printer.holding = as_json and text is None and not (trace or jacobian or hessian)
        lines = (stdin_lines(termination.deferred(printer.flush)) if text is None
                 else split_lines(text))
        with termination, session.streaming():
            try:
                failed = _print_stream(session, termination.lines(lines), printer, fail_fast,
                                       show_calculus, trace=trace, jacobian=jacobian,
                                       hessian=hessian)
            finally:
                printer.flush()
            write_warnings(session.take_unreported())
    except Terminated:
        return 143
    except (InputProblem, click.ClickException) as error:
        if as_json:  # SPEC §7: with --json the error record goes to stdout too
            print(usage_record(error), flush=True)
        if isinstance(error, click.ClickException):
            raise  # (click says it, as for a bad option)
        return usage_failure(error)
    except GradcliError as error:
        printer.failure(Failure(error.line or 0, "", error))
        return 1
    return 1 if failed else 0


def _print_stream(session: Any, lines: Iterable[str], printer: Printer, fail_fast: bool,
                  show_calculus: Any, **calculus: bool) -> bool:
    """Print each outcome of the stream as it comes; whether a statement failed."""
    failed = False
    for outcome in session.stream(lines):
        if isinstance(outcome, Failure):
            failed = True
            unreported = session.take_unreported()  # (assignments' before it)
            if unreported:
                printer.flush()
                write_warnings(unreported)
            printer.failure(outcome)
            if fail_fast:
                break
        elif show_calculus is not None and any(calculus.values()):
            show_calculus(printer, session, outcome, **calculus)
        else:
            printer.result(outcome)
    return failed


# -- graph -----------------------------------------------------------------------------------


def run_graph(
    program: str | None,
    options: ProgramOptions,
    *,
    fmt: str | None,
    output: str | None,
    depth: int | None,
) -> int:
    """Write the creator graph of the program's last result."""
    from pathlib import Path  # (here, not above: eval never needs it, and it costs ~2 ms)

    from gradcli.render import plain

    suffix = Path(output).suffix.lower() if output else ""
    if output and suffix not in SUFFIX_FORMATS and suffix not in GRAPHVIZ_SUFFIXES:
        raise click.UsageError(
            f"cannot tell the format of {output!r}: use .txt, .dot, .mmd, .json, .svg, .png or .pdf"
        )
    if suffix in GRAPHVIZ_SUFFIXES:
        if fmt not in (None, "dot"):
            raise click.UsageError(f"{suffix} files are drawn from DOT, not --format {fmt}")
        import shutil

        if shutil.which("dot") is None:
            click.echo("gradcli: " + GRAPHVIZ_HINT.format(suffix=suffix), err=True)
            return 2
        fmt = "dot"
    fmt = fmt or SUFFIX_FORMATS.get(suffix, "tree")

    text = program_text(program, options)
    precision, no_color = options.precision, options.no_color
    printer = Printer(as_json=False, precision=precision, show_graph=True, no_color=no_color)
    try:
        session = make_session(options, graph=True)
        write_warnings(session.input_warnings)
        outcomes = session.run(text)
    except InputProblem as error:
        return usage_failure(error)
    failures = [o for o in outcomes if isinstance(o, Failure)]
    for outcome in outcomes:  # NaN or infinity is a value, with its warning (SPEC §7)
        if isinstance(outcome, Result):
            write_warnings(outcome.warnings, outcome.line)
    write_warnings(session.take_unreported())
    for failure in failures:
        printer.failure(failure)
    if failures:
        return 1
    results = [o for o in outcomes if isinstance(o, Result) and o.graph is not None]
    if not results:
        click.echo("gradcli: the program reports no result, so there is no graph to show", err=True)
        return 1
    graph = results[-1].graph
    tree_precision = min(precision, 4)

    if fmt == "tree":
        options = {"precision": tree_precision, "max_depth": depth or plain.DEFAULT_DEPTH}
        if output:
            try:
                with open(output, "w", encoding="utf-8") as handle:
                    # plain only where rich would not wrap (a file that rich takes for a
                    # terminal, under FORCE_COLOR, is wrapped at the terminal's width)
                    print_tree(graph, handle, plain.writes_plain(handle), True, **options)
            except OSError as error:
                raise click.UsageError(f"cannot write {output!r}: {error.strerror}") from None
        else:
            print_tree(graph, sys.stdout, printer.plain_out, no_color, width=printer.width,
                       **options)
        return 0
    if fmt == "dot":
        from gradcli.render.dot import render_dot

        body = render_dot(graph, precision=tree_precision)
    elif fmt == "mermaid":
        from gradcli.render.mermaid import render_mermaid

        body = render_mermaid(graph, precision=tree_precision)
    else:
        from gradcli.render.jsonl import render_graph

        body = render_graph(graph) + "\n"

    if not output:
        sys.stdout.write(body)
        sys.stdout.flush()
        return 0
    if suffix in GRAPHVIZ_SUFFIXES:
        if len(graph.nodes) > MAX_DRAWN_NODES:
            click.echo(f"gradcli: the graph has {len(graph.nodes):,} nodes, more than the "
                       f"{MAX_DRAWN_NODES:,} Graphviz's dot is asked to draw (it can take "
                       f"minutes and gigabytes, or crash); write it as text instead: "
                       f"--format json, -o {Path(output).stem}.dot, or the tree cut with "
                       "--depth N", err=True)
            return 1
        return draw_with_graphviz(body, output, suffix[1:])
    try:
        Path(output).write_text(body, encoding="utf-8")
    except OSError as error:
        raise click.UsageError(f"cannot write {output!r}: {error.strerror}") from None
    return 0


def print_tree(graph: Any, stream: Any, plain_ok: bool, no_color: bool, **options: Any) -> None:
    """The creator tree on ``stream``: as plain text where ``plain_ok`` and exact, else rich."""
    from gradcli.render import plain

    if not (plain_ok and _put(stream, plain.tree_text(graph, **options))):
        from gradcli.render import console

        console.make_console(stream, no_color=no_color).print(console.render_tree(graph, **options))


def draw_with_graphviz(dot_text: str, output: str, kind: str) -> int:
    """Render DOT to ``output`` with Graphviz's dot (-Tsvg, -Tpng or -Tpdf)."""
    import subprocess

    try:
        completed = subprocess.run(
            ["dot", f"-T{kind}", "-o", output],
            input=dot_text.encode("utf-8"),
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        click.echo(f"gradcli: dot failed: {error}", err=True)
        return 2
    if completed.returncode < 0:  # killed by a signal: a crash, not a refusal
        import signal

        try:
            name = signal.Signals(-completed.returncode).name
        except ValueError:
            name = f"signal {-completed.returncode}"
        click.echo(f"gradcli: Graphviz's dot crashed ({name}) drawing {output!r}; the graph "
                   "may be too large for it: try --format json or .dot", err=True)
        return 2
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip()
        click.echo(printable(f"gradcli: dot could not write {output!r}: {message}",
                             newlines=True), err=True)
        return 2
    return 0


# -- functions -------------------------------------------------------------------------------


def builtin_rows() -> list[dict[str, Any]]:
    """Every built-in as {name, aliases, signature, doc, category}, read from the one table."""
    from gradcli.lang import builtins

    order = {category: i for i, category in enumerate(builtins.CATEGORIES)}
    rows = [
        {
            "name": name,
            "aliases": list(entry.aliases),
            "signature": entry.signature,
            "doc": entry.doc,
            "category": entry.category,
        }
        for name, entry in builtins.BUILTINS.items()
    ]
    return sorted(rows, key=lambda row: order.get(row["category"], len(order)))


def all_builtin_names() -> list[str]:
    """Names and aliases of the built-ins, for completion."""
    from gradcli.lang import builtins

    return builtins.callable_names()


def constant_names() -> list[str]:
    from gradcli.lang import builtins

    return sorted(builtins.CONSTANTS)


def constant_rows() -> list[tuple[str, str]]:
    from gradcli.lang import builtins

    docs = builtins.CONSTANT_DOCS
    return [(name, docs.get(name, "")) for name in builtins.CONSTANTS]


def functions_markdown(rows: list[dict[str, Any]]) -> str:
    """The built-ins as Markdown tables, one per category (docs/language.md embeds this)."""
    lines: list[str] = []
    categories: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        categories.setdefault(row["category"] or "other", []).append(row)
    for category, members in categories.items():
        lines += [f"### {category[:1].upper() + category[1:]}", ""]
        lines += ["| function | aliases | what it gives |", "|---|---|---|"]
        for row in members:
            aliases = ", ".join(f"`{a}`" for a in row["aliases"])
            doc = row["doc"].replace("|", "\\|")
            signature = row["signature"].replace("|", "\\|")
            lines.append(f"| `{signature}` | {aliases} | {doc} |")
        lines.append("")
    lines += ["### Constants", "", "| name | value |", "|---|---|"]
    lines += [f"| `{name}` | {doc} |" for name, doc in constant_rows()]
    lines.append("")
    return "\n".join(lines)


def describe_builtin(name: str) -> list[tuple[str, str]] | None:
    """What `gradcli functions NAME` and the REPL's `:help NAME` say of the built-in
    function NAME (or an alias of it) or the constant NAME, as (text, style) lines; None
    when there is none."""
    from gradcli.lang import builtins

    entry = builtins.lookup(name)
    if entry is not None:
        lines = [(entry.signature, "bold"), (entry.doc, "")]
        if entry.aliases:
            lines.append(("aliases: " + ", ".join(entry.aliases), "dim"))
        if entry.category:
            lines.append(("category: " + entry.category, "dim"))
        return lines
    if name in builtins.CONSTANTS:
        return [(name, "bold"), (builtins.CONSTANT_DOCS.get(name, ""), ""),
                ("category: constants", "dim")]
    return None


def unknown_builtin(name: str) -> str:
    """What to say of a NAME that is no built-in function or constant."""
    from gradcli.lang.builtins import all_names
    from gradcli.lang.errors import did_you_mean, suggestions

    near = did_you_mean(suggestions(name, all_names()))
    return f"no built-in function or constant named {name!r}{near}"


def run_functions(name: str | None, *, markdown: bool = False) -> int:
    """List the built-ins, or describe one."""
    from rich.text import Text

    from gradcli.render.console import make_console
    from gradcli.render.plain import terminal_width
    from gradcli.render.table import Column, table_text

    rows = builtin_rows()
    if markdown:
        sys.stdout.write(functions_markdown(rows))
        return 0
    out = make_console(sys.stdout)
    if name is not None:
        lines = describe_builtin(name)
        if lines is None:
            click.echo(f"gradcli: {unknown_builtin(name)}", err=True)
            return 2
        for text, style in lines:
            out.print(Text(text, style=style))
        return 0
    # on a narrow terminal the aliases go first, and the docs wrap to its width
    columns = [Column("function", wrap=True), Column("aliases", drop=1),
               Column("what it gives", wrap=True)]
    table: list[list[Any]] = []
    category = None
    for row in rows:
        if row["category"] != category:
            category = row["category"]
            table.append([(category or "", "bold cyan")])
        table.append([row["signature"], (", ".join(row["aliases"]), "dim"), row["doc"]])
    table.append([("constants", "bold cyan")])
    table += [[constant, "", doc] for constant, doc in constant_rows()]
    out.print(table_text(columns, table, terminal_width(sys.stdout)))
    return 0
