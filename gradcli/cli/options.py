"""The options the commands share, declared once and handed on as one object.

Every command that runs a program takes the same inputs, limits and printing options
(``-f``, ``-v``, ``-c``, ``--seed``, ``--dtype``, ``--precision``...). Each is declared
here once (:data:`SHARED_OPTIONS`), with a callback that stores its value on the
command's :class:`ProgramOptions`, and ``pass_options`` (click's ``make_pass_decorator``)
hands that object to the command as its first argument: no command lists the options
it does not read. `gradcli repl` takes some of the same options, from the same
declarations. Below both gradcli.cli.group (which declares the commands) and
gradcli.cli.commands (which runs them); it imports nothing heavier than click.
"""

from __future__ import annotations

from typing import Any

import click

from gradcli.lang.records import Record

# the options `gradcli repl` takes too (it has no program to read, and no limits)
REPL_OPTIONS = ("variables", "data", "seed", "dtype", "precision", "no_color")


_FIELDS = ("file", "variables", "seed", "dtype", "max_elements", "data", "timeout",
           "max_memory", "max_nodes", "strict", "precision", "no_color")


class ProgramOptions(Record):
    """What the shared options say. Made by the first option's callback (or, where
    click does not parse them, `gradcli` with no command, with these defaults, which
    are also the options' defaults). A record, not a dataclass (whose generated code
    every start-up paid for): equal by fields, printed as ``ProgramOptions(...)``."""

    __match_args__ = _FIELDS
    file: str | None = None
    variables: dict[str, str]
    seed: int | None = None
    dtype: str = "float64"
    max_elements: int = 10**8
    data: dict[str, str]
    timeout: float | None = None
    max_memory: str | None = None
    max_nodes: int = 10**7
    strict: bool = False
    precision: int = 6
    no_color: bool = False

    def __init__(self, **fields: Any) -> None:
        unknown = set(fields) - set(_FIELDS)
        if unknown:
            raise TypeError(f"ProgramOptions has no field {sorted(unknown)[0]!r}")
        self.variables = {}
        self.data = {}
        for name, value in fields.items():
            setattr(self, name, value)

    def replace(self, **changes: Any) -> ProgramOptions:
        """A copy with ``changes`` (as dataclasses.replace)."""
        return ProgramOptions(**{**{f: getattr(self, f) for f in _FIELDS}, **changes})

    def session_options(self, *, graph: bool, wrt: Any = (),
                        grad_output: str | None = None) -> dict[str, Any]:
        """Session's keyword arguments: these options, with the graph, --wrt and
        --grad-output of the command."""
        return {
            "variables": dict(self.variables) or None,
            "wrt": list(wrt) or None,
            "grad_output": grad_output,
            "dtype": self.dtype,
            "seed": self.seed,
            "max_elements": self.max_elements,
            "graph": graph,
            "strict": self.strict,
            "data": dict(self.data) or None,
            "timeout": self.timeout,
            "max_memory": self.max_memory or "default",
            "max_nodes": self.max_nodes,
        }

    def check_stdin(self, program_on_stdin: bool) -> None:
        """``@-`` reads a value from stdin: refused when the program comes from stdin too,
        or when two values would read it."""
        readers = [n for n, v in [*self.variables.items(), *self.data.items()]
                   if v.strip() == "@-"]
        if readers and program_on_stdin:
            raise click.UsageError(f"{readers[0]}=@- reads the value from stdin, but the "
                                   "program is read from stdin too: give PROGRAM or -f FILE")
        if len(readers) > 1:
            raise click.UsageError(f"only one value can be read from stdin (@-), not "
                                   f"{', '.join(readers)}")


pass_options = click.make_pass_decorator(ProgramOptions, ensure=True)


def _parse_vars(values: tuple[str, ...], ctx: click.Context,
                param: click.Parameter) -> dict[str, str]:
    variables: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier() or not value.strip():
            raise click.BadParameter(
                f"{item!r} is not NAME=VALUE (e.g. -v x='ones(2,2)' or -v w=@weights.npy)",
                ctx=ctx,
                param=param,
            )
        variables[name] = value
    return variables


def _shared(name: str, *decls: str, parse: Any = None, **attrs: Any) -> tuple[str, Any]:
    """``name`` and a click option that stores its value as ``ProgramOptions.<name>``
    (after ``parse``), its default the record's (multiple options: none given)."""

    def store(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if parse is not None:
            value = parse(value, ctx, param)
        setattr(ctx.ensure_object(ProgramOptions), name, value)

    if not attrs.get("multiple") and not attrs.get("is_flag"):
        attrs["default"] = getattr(ProgramOptions, name)
    return name, click.option(*decls, name, callback=store, expose_value=False, **attrs)


_ASSIGNMENTS = {"multiple": True, "metavar": "NAME=VALUE", "parse": _parse_vars}  # -v, -c


def _parse_size(value: str | None, ctx: click.Context, param: click.Parameter) -> str | None:
    """--max-memory SIZE, refused here in the option's own words (not the Session's)."""
    from gradcli.cli.startup import load_numpy

    load_numpy()  # (gradcli.autograd's first import: NumPy's, see load_numpy)
    from gradcli.autograd.limits import parse_size

    if value is not None:
        try:
            parse_size(value)
        except (ValueError, IndexError):
            raise click.BadParameter(f"{value!r} is not a size above zero: bytes, or a "
                                     "number with K, M, G or T (512M, 2G, 1.5GiB)") from None
    return value


def _parse_seconds(value: float | None, ctx: click.Context,
                   param: click.Parameter) -> float | None:
    if value is not None and value != value:  # (a FloatRange lets NaN through)
        raise click.BadParameter("nan is not a number of seconds")
    return value

SHARED_OPTIONS = dict([
    _shared("file", "-f", "--file", type=click.Path(dir_okay=False, allow_dash=True),
            help="Read the program from FILE ('-' for stdin)."),
    _shared("variables", "-v", "--var", **_ASSIGNMENTS,
            help="Make NAME a leaf input before the program runs. VALUE is a constant "
            "expression ('ones(2,2)', '[[1,2],[3,4]]', 'randn(3)', '2.5') or @FILE "
            "(.npy, .csv, .txt)."),
    _shared("seed", "--seed", type=click.IntRange(min=0), help="Seed for rand() and randn()."),
    _shared("dtype", "--dtype", type=click.Choice(["float64", "float32"]), show_default=True,
            help="Floating-point type of every value."),
    _shared("max_elements", "--max-elements", type=click.IntRange(min=1), show_default=True,
            help="Refuse to make arrays with more elements than this."),
    _shared("data", "-c", "--const", **_ASSIGNMENTS,
            help="Like -v, but NAME is data: it gets no gradient (requires_grad=False)."),
    _shared("timeout", "--timeout", type=click.FloatRange(min=0, min_open=True),
            metavar="SECONDS", parse=_parse_seconds,
            help="Stop a statement that runs longer than this (default: no limit)."),
    _shared("max_memory", "--max-memory", metavar="SIZE", parse=_parse_size,
            help="Refuse to hold more memory than this: 2G, 512M (default: half the "
            "machine's memory)."),
    _shared("max_nodes", "--max-nodes", type=click.IntRange(min=1), show_default=True,
            help="Refuse a statement that records more operations than this in its graph."),
    _shared("strict", "--strict", is_flag=True,
            help="Treat NaN or infinity produced by an operation, and a number too large "
            "or too small for the dtype, as an error."),
    _shared("precision", "--precision", type=click.IntRange(0, 17), show_default=True,
            help="Digits after the decimal point in printed values."),
    _shared("no_color", "--no-color", is_flag=True, help="Plain text even on a terminal."),
])


def shared_options(*names: str) -> Any:
    """A decorator adding the shared options ``names`` (default: all), in the order of
    SHARED_OPTIONS, and passing the command its ProgramOptions first."""
    chosen = [SHARED_OPTIONS[n] for n in (names or SHARED_OPTIONS)]

    def decorate(func: Any) -> Any:
        func = pass_options(func)
        for option in reversed(chosen):
            func = option(func)
        return func

    return decorate
