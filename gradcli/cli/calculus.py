"""The calculus commands, once their options are parsed: diff, check, plot, and eval's
--trace, --jacobian and --hessian.

Imported only when one of them runs (NumPy, Lark and rich stay out of `gradcli --help`).
``check`` and ``plot`` run the program again at other values of an input: a leaf given
with -v gets the new value as its -v value; a leaf the program makes itself
(``x = [1, 2]``) is swapped for the new value as it is made (:class:`ReplaySession`).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np

from gradcli.autograd import Variable
from gradcli.autograd.functional import grad as take_grad
from gradcli.autograd.limits import passes_over
from gradcli.cli.commands import (
    print_failures,
    program_text,
    usage_failure,
    write_warnings,
)
from gradcli.cli.options import ProgramOptions
from gradcli.lang.errors import InputProblem, did_you_mean, printable, suggestions
from gradcli.lang.results import Failure, Result
from gradcli.lang.session import Session, walk

MAX_CHECK_ELEMENTS = 5_000  # each element costs two runs of the program: --sample's limit
DEFAULT_CHECK_SAMPLE = 500  # larger inputs are checked at this many random elements
MAX_JACOBIAN_ENTRIES = 100_000
MAX_JACOBIAN_ROWS = 2_000  # one backward pass per output element
MAX_HESSIAN_INPUT = 400  # one backward pass per input element
TABLE_EDGE = 12  # rows and columns shown of a large table


class ReplaySession(Session):
    """A Session that records the leaves the program makes, in order, and can swap the
    value of the k-th for ``overrides[k]`` as it is made."""

    def __init__(self, *, overrides: dict[int, np.ndarray] | None = None,
                 rng_state: dict | None = None, **options: Any):
        self.overrides = overrides or {}
        self.made: list[tuple[str, Variable]] = []
        super().__init__(**options)
        self.loaded = {n: self.names[n] for n in self._variables}
        self.given = {id(v): n for n, v in self.loaded.items()}
        if rng_state is not None:  # the program draws what it drew in the first run
            self.rng.bit_generator.state = rng_state
        self.rng_state = self.rng.bit_generator.state

    def replay(self, text: str, *, overrides: dict[int, np.ndarray],
               given: dict[str, np.ndarray], **options: Any) -> Result:
        """Run ``text`` again with the same inputs and random draws, except ``given``
        (-v values by name) and ``overrides`` (values of the leaves it makes, by order)."""
        variables = {n: v.data for n, v in self.loaded.items()}
        variables.update(given)
        session = ReplaySession(overrides=overrides, rng_state=self.rng_state,
                                **dict(options, variables=variables or None,
                                       data=self.data_values or None))
        outcomes = session.run(text)
        for outcome in outcomes:
            if isinstance(outcome, Failure):
                raise _ReplayFailed(outcome)
        results = [o for o in outcomes if isinstance(o, Result)]
        if not results:
            raise _fail("the program reports no result")
        return results[-1]

    def new_leaf(self, name: str, leaf: Variable) -> None:
        index = len(self.made)
        if index in self.overrides:
            leaf.data = np.array(self.overrides[index], dtype=leaf.data.dtype).reshape(
                leaf.data.shape)
        self.made.append((name, leaf))
        super().new_leaf(name, leaf)

    def source_of(self, leaf: Variable) -> tuple[str, Any] | None:
        """("var", name) for a -v leaf, ("made", k) for the k-th leaf the program made."""
        if id(leaf) in self.given:
            return ("var", self.given[id(leaf)])
        for k, (_, made) in enumerate(self.made):
            if made is leaf:
                return ("made", k)
        return None


class Stop(Exception):
    """End a command with an exit status (the message was already written)."""

    def __init__(self, status: int, message: str = "", kind: str = "error",
                 record: dict | None = None):
        super().__init__(status)
        self.status = status
        self.message = message  # what stderr said, for the JSON error object
        self.kind = kind
        self.record = record  # the error as JSON shows it, where it has a place


def _refuse_passes(op: str, passes: int, seconds_each: float, timeout: float | None) -> None:
    """Stop before ``passes`` runs that cannot fit --timeout (the first run measured)."""
    over = passes_over(op, passes, seconds_each, timeout)
    if over:
        raise _fail(over)


def _fail(message: str, status: int = 1) -> Stop:
    click.echo(f"gradcli: {printable(message, newlines=True)}", err=True)
    return Stop(status, message, "usage" if status == 2 else "error")


def _run_last(session: Session, text: str, no_color: bool,
              warn: bool = True) -> tuple[Variable, Result]:
    """Run the program; its last result and that result's Variable (Stop on a failure)."""
    write_warnings(session.input_warnings)
    outcomes = session.run(text)
    failures = [o for o in outcomes if isinstance(o, Failure)]
    if failures:
        print_failures(failures, no_color)
        error = failures[0].error
        raise Stop(1, getattr(error, "message", str(error)), getattr(error, "type", "error"))
    results = [o for o in outcomes if isinstance(o, Result)]
    for result in results if warn else ():  # NaN or infinity is a value, with its
        write_warnings(result.warnings, result.line)  # warning (SPEC §7)
    write_warnings(session.take_unreported() if warn else ())
    if not results or session.last is None:
        raise _fail("the program reports no result")
    return session.last, results[-1]


def _replayed(shared: ProgramOptions, **changes: Any) -> ProgramOptions:
    """The options for a command that runs the program again and again: the seed fixed
    (--seed, else 0), so that every run draws the same rand()."""
    return shared.replace(seed=0 if shared.seed is None else shared.seed, **changes)


def _guarded(body: Any, as_json: bool = False, spec_error: bool = False) -> int:
    """Run a command's body: its exit status, with failures said on stderr (and, with
    ``as_json``, as ``{"ok": false, "error": {"type", "message"}}`` on stdout; with
    ``spec_error``, SPEC §9's ``{"error": {"type", "message", "line", "column"}}``).
    An unexpected exception is an internal error, reported the same way."""
    import warnings

    # NumPy's own warning lines never reach the user: the sessions report NaN and
    # infinity by operation, and the tables show them
    warnings.simplefilter("ignore", RuntimeWarning)
    record: dict | None = None
    try:
        return body()
    except Stop as stop:
        status, kind, message, record = stop.status, stop.kind, stop.message, stop.record
    except InputProblem as error:
        status, kind, message = usage_failure(error), "usage", error.message
    except click.ClickException as error:  # a bad -f FILE, found once the command runs
        if not as_json:
            raise
        error.show()
        status, kind, message = error.exit_code, "usage", error.format_message()
    except Exception as error:  # noqa: BLE001 - said once, as an internal error
        if not as_json:
            raise
        import os

        if os.environ.get("GRADCLI_DEBUG"):
            raise
        status, kind = 1, "internal"
        message = f"internal error: {type(error).__name__}: {error} (please report it)"
        click.echo(f"gradcli: {message}", err=True)
    if as_json:
        from gradcli.render.jsonl import dumps

        error_record = record or {"type": kind, "message": message}
        if spec_error:
            error_record = {"line": None, "column": None, **error_record}
            click.echo(dumps({"error": error_record}))
        else:
            click.echo(dumps({"ok": False, "error": error_record}))
    return status


# -- diff ------------------------------------------------------------------------------------


def run_diff(program: str | None, shared: ProgramOptions, *, wrt: tuple[str, ...],
             latex: bool, as_json: bool = False, shapes: tuple[str, ...] = (),
             order: int = 1, fmt: str | None = None) -> int:
    """Print the derivative of the program's last result as formulas (SPEC §9): one line
    per name, ``d/dNAME = FORMULA``; with -v values, each followed by its value there,
    checked against the engine's gradient."""
    style = fmt or ("json" if as_json else "latex" if latex else "text")
    as_json = style == "json"

    def body() -> int:
        from gradcli.lang.symbolic.formula import differentiate
        from gradcli.lang.symbolic.terms import SymbolicError

        text = program_text(program, shared)
        statements = _diff_statements(text, shared.no_color, as_json)
        declared = _shape_options(shapes)
        variables = shared.variables
        session = Session(**shared.session_options(graph=False))
        data = session.data_values  # -c: values (their shapes matter), never a gradient
        values = {n: session.names[n].data for n in (*variables, *data)}
        names = list(dict.fromkeys(wrt))
        try:
            formulas = differentiate(statements, wrt=names, shapes=declared, values=values,
                                     order=order)
            if not names:
                formulas = [f for f in formulas if f.wrt not in data]
        except KeyError as error:
            name = error.args[0]
            raise _fail(f'--wrt {name}: there is no name "{name}" in the program', 2) \
                from None
        except SymbolicError as error:
            where = f"line {error.span[0]}, column {error.span[1]}: " if error.span else ""
            message = f"cannot differentiate: {error.message}"
            click.echo(f"gradcli: {where}{message}", err=True)
            raise Stop(1, message, "diff", {
                "type": "diff", "message": message,
                "line": error.span[0] if error.span else None,
                "column": error.span[1] if error.span else None}) from None
        reader = differentiate.reader  # type: ignore[attr-defined]
        point = {**reader.made, **values}
        checked = all(n in point for n in reader.symbols)
        engine = _engine_derivatives(statements, formulas, order, options=shared.replace(
            dtype="float64", strict=False).session_options(graph=False)) \
            if checked else {}
        out = []
        for f in formulas:
            found = None
            if checked:
                found = _checked_value(f, point, engine[f.wrt])
            out.append(_diff_lines(f, style, found if values else None,
                                   {n: values[n] for n in variables}, shared.precision,
                                   order))
        click.echo("\n".join(out))
        return 0

    return _guarded(body, as_json, spec_error=True)


def _diff_statements(text: str, no_color: bool, as_json: bool) -> list:
    """The program as syntax trees; a syntax error is reported as ``eval`` reports it."""
    from gradcli.lang.errors import DeclarationProblem
    from gradcli.lang.reader import Broken, read_statements
    from gradcli.lang.syntax import parse

    for item in read_statements(text.splitlines(True) or [""]):
        if isinstance(item, Broken) and not isinstance(item.error, DeclarationProblem):
            error = item.error
            if not as_json:
                print_failures([Failure(item.line, item.source, error)], no_color)
            raise Stop(1, error.message, error.type, error.to_dict())
    return parse(text)


def _shape_options(shapes: tuple[str, ...]) -> dict[str, tuple]:
    declared: dict[str, tuple] = {}
    for item in shapes:
        name, sep, dims = item.partition("=")
        name = name.strip()
        parts = [p.strip() for p in dims.strip().strip("[]()").split(",") if p.strip()]
        if not sep or not name.isidentifier() or not all(
                (p.isdigit() and int(p) > 0) or p.isidentifier() for p in parts):
            raise _fail(f"--shape {item!r} is not NAME=DIMS, each size a whole number above "
                        "0 or a size name (e.g. --shape x=n, --shape X=n,m, --shape A=3,3, "
                        "--shape a= for a scalar)", 2)
        declared[name] = tuple(int(p) if p.isdigit() else p for p in parts)
    return declared


def _engine_derivatives(statements: list, formulas: list, order: int,
                        options: dict[str, Any]) -> dict[str, np.ndarray]:
    """The engine's derivative of the program's result for each formula's name, at the
    -v values (in ``options``) and the leaves the program makes."""
    from gradcli.autograd.functional import hessian, jacobian
    from gradcli.lang.syntax import Declare, to_text

    source = "\n".join(to_text(st) for st in statements if not isinstance(st, Declare))
    session = Session(**options)
    run = session.run(source)
    failures = [o for o in run if isinstance(o, Failure)]
    if failures or session.last is None:
        raise _fail("the program does not run at these values: "
                    + (failures[0].error.message if failures else "no result"))
    y = session.last
    found = {}
    with np.errstate(all="ignore"):
        for f in formulas:
            x = session.names[f.wrt]
            if not y.requires_grad:
                found[f.wrt] = np.zeros(tuple(f.shape) if all(
                    isinstance(d, int) for d in f.shape) else ())
            elif order == 2:
                found[f.wrt] = hessian(y, x).data
            elif y.data.size == 1 and y.ndim == 0:
                found[f.wrt] = take_grad(y, [x], retain_graph=True)[0].data
            else:
                found[f.wrt] = jacobian(y, x).data
            if not np.all(np.isfinite(y.data)):
                # outside the domain (the result itself is NaN or infinite) the gradient is
                # undefined: the formula is not held to the engine's numbers there
                found[f.wrt] = np.full(np.shape(found[f.wrt]), np.nan)
    return found


def _checked_value(formula: Any, point: dict[str, np.ndarray], engine: np.ndarray) -> np.ndarray:
    """The formula's value at the point; an internal error if the engine disagrees."""
    from gradcli.lang.symbolic.formula import abridged
    from gradcli.lang.symbolic.terms import SymbolicError, TooLong

    try:
        with np.errstate(all="ignore"):
            value = formula(point)
    except TooLong as error:  # a limit of the language, said as one (not a bug)
        raise _fail(error.message) from None
    except SymbolicError as error:
        raise _fail(f"internal error: {error.message} (please report it)") from None
    value = np.broadcast_to(value, engine.shape) if value.size <= engine.size else value
    # compared where the engine's gradient is defined: where it is NaN or infinite (a
    # 0/0, like arctan2(x, x) at 0) the formula may have a value (there, 0)
    defined = np.isfinite(engine)
    # and where the function is not differentiable and the engine takes the zero
    # subgradient (norm and hypot at the origin, std of equal elements), the textbook
    # formula is 0/0: NaN there is the formula's honest answer, not a mismatch
    defined &= ~(np.isnan(np.broadcast_to(value, engine.shape)) & (engine == 0)) \
        if value.size <= engine.size else defined
    if value.shape != engine.shape or not np.allclose(value[defined], engine[defined],
                                                      rtol=1e-6, atol=1e-9):
        raise _fail(f"internal error: the formula d/d{formula.wrt} = "
                    f"{abridged(formula.text)} gives "
                    f"{value.tolist()} at this point, but the engine's gradient is "
                    f"{engine.tolist()} (please report it)")
    return value


def _diff_lines(f: Any, style: str, value: np.ndarray | None, given: dict[str, np.ndarray],
                precision: int, order: int) -> str:
    from gradcli.render.values import short_value

    name = f.wrt
    if style == "json":
        from gradcli.render.jsonl import dumps

        record: dict[str, Any] = {"wrt": name, "shape": list(f.shape), "formula": f.text,
                                  "unicode": f.unicode, "latex": f.latex}
        if f.where:
            record["where"] = dict(f.where)
        if order == 2:
            record["order"] = 2
        if value is not None:
            record["value"] = np.asarray(value).tolist()
        return dumps(record)
    if style == "latex":
        head = (rf"\frac{{\partial^2 f}}{{\partial {name}^2}}" if order == 2 else
                rf"\frac{{\partial f}}{{\partial {name}}}")
        line = f"{head} = {f.latex}"
    elif style == "unicode":
        line = (f"∂²f/∂{name}² = " if order == 2 else f"∂f/∂{name} = ") + f.unicode
    else:
        line = (f"d^2/d{name}^2 = " if order == 2 else f"d/d{name} = ") + f.text
    if style == "text":
        line += "".join(f"\n  where {n} = {t}" for n, t in f.where)
    if value is None:
        return line
    at = ", ".join(f"{n} = {short_value(v, precision, width=60)}" for n, v in given.items())
    return f"{line}\n  at {at}: {short_value(value, precision, width=120)}"


def _named_targets(session: Session, value: Variable, wrt: tuple[str, ...]) -> list[
    tuple[str, Variable]
]:
    for name in wrt:
        if name not in session.names:
            near = did_you_mean(suggestions(name, session.names))
            raise _fail(f'--wrt {name}: there is no name "{name}" in the program{near}', 2)
    targets = list(dict(session.inputs_of(value, wrt or None)).items())  # --wrt x --wrt x
    if not targets:
        raise _fail("the result depends on no named input: there is nothing to "
                    "differentiate with respect to")
    return targets


# -- check -----------------------------------------------------------------------------------


@dataclass
class CheckRow:
    """One input's gradient against central differences."""

    name: str
    shape: tuple[int, ...]
    worst_abs: float
    worst_rel: float | None  # None: no element's gradient is above atol, so not measured
    where: tuple[int, ...]
    analytic: float
    numeric: float
    bad: int
    note: str | None = None
    checked: int | None = None  # how many elements were compared (None: all of them)


def run_check(program: str | None, shared: ProgramOptions, *, wrt: tuple[str, ...],
              grad_output: str | None, rtol: float, atol: float, eps: float,
              as_json: bool = False, sample: int = DEFAULT_CHECK_SAMPLE) -> int:
    """Compare each input's gradient with central finite differences (float64); inputs
    of more than ``sample`` elements in all are compared at that many random elements."""

    def body() -> int:
        text = program_text(program, shared)
        replayed = _replayed(shared)
        fixed_seed = replayed.seed
        options = replayed.session_options(graph=False)
        base = ReplaySession(**dict(options, grad_output=grad_output))
        started = time.monotonic()
        value, result = _run_last(base, text, shared.no_color)
        one_pass = time.monotonic() - started
        targets = _named_targets(base, value, wrt)
        weights, how = _projection(base, value)
        checked = [(n, v) for n, v in targets if base.source_of(v) is not None]
        if not 1 <= sample <= MAX_CHECK_ELEMENTS:
            raise _fail(f"--sample {sample}: give 1 to {MAX_CHECK_ELEMENTS:,} elements (each "
                        "costs two runs of the program)", 2)
        total = sum(v.data.size for _, v in checked)
        picks = _sample_elements([v.data.size for _, v in checked], sample, fixed_seed)
        sampled = None
        if total > sample:
            sampled = {"checked": sample, "of": total, "seed": fixed_seed}
        _refuse_passes("check", 2 * min(total, sample), one_pass, shared.timeout)
        if value.requires_grad and checked:
            seed_array = weights.astype(value.data.dtype).reshape(value.data.shape)
            analytic = take_grad(value, [v for _, v in checked], grad_outputs=seed_array,
                                 retain_graph=True)
        else:
            analytic = tuple(Variable(np.zeros(v.shape)) for _, v in checked)
        options64 = dict(options, dtype="float64")
        rows = []
        for (name, variable), found, pick in zip(checked, analytic, picks):
            if pick.size == 0 and variable.data.size:
                rows.append(CheckRow(name, tuple(variable.shape), 0.0, None, (), 0.0, 0.0, 0,
                                     note="none of its elements is in the sample: not checked",
                                     checked=0))
                continue
            numeric = _central_differences(text, options64, base, variable, weights, eps,
                                           pick)
            row = _compare(name, np.asarray(found.data).reshape(-1)[pick], numeric, rtol,
                           atol)
            if pick.size < variable.data.size:
                row.checked = int(pick.size)
            # positions in the input, not in the sample
            flat = int(pick[int(np.ravel_multi_index(row.where, numeric.shape))]) \
                if row.where else 0
            row.shape = tuple(variable.shape)
            row.where = tuple(int(i) for i in np.unravel_index(flat, variable.shape)) \
                if variable.shape and row.where else ()
            rows.append(row)
        for name, variable in targets:
            if base.source_of(variable) is None:
                rows.append(CheckRow(name, tuple(variable.shape), 0.0, 0.0, (), 0.0, 0.0, 0,
                                     note="computed by the program, not an input: not checked"))
        if not checked:
            names = ", ".join(n for n, _ in targets)
            raise _fail(f"nothing was checked: {names} {'is' if len(targets) == 1 else 'are'} "
                        "computed by the program (inputs are given with -v or made from "
                        "constants)")
        if as_json:
            return _print_check_json(rows, how, eps=eps, rtol=rtol, atol=atol,
                                     sampled=sampled)
        return _print_check(rows, how, eps=eps, rtol=rtol, atol=atol,
                            precision=shared.precision, no_color=shared.no_color,
                            sampled=sampled)

    return _guarded(body, as_json)


def _projection(session: Session, value: Variable) -> tuple[np.ndarray, str]:
    data = value.data
    given = session.grad_output
    if given is not None:
        if given.shape != data.shape:
            raise _fail(f"--grad-output has shape {given.shape}; the result has shape "
                        f"{data.shape}", 2)
        return np.asarray(given, dtype=np.float64), "the output weighted by --grad-output"
    if data.size == 1:
        return np.ones(data.shape), "scalar output"
    weights = np.random.default_rng(0).uniform(0.5, 1.5, size=data.shape)
    return weights, (f"non-scalar output of shape {tuple(data.shape)}: checked as "
                     "sum(output * W), W a fixed random projection (uniform in [0.5, 1.5], "
                     "seed 0); --grad-output chooses W")


class _ReplayFailed(Exception):
    def __init__(self, failure: Failure):
        super().__init__(failure)
        self.failure = failure


def _sample_elements(sizes: list[int], sample: int, seed: int) -> list[np.ndarray]:
    """The flat indices to check in each input: all of them when they number ``sample``
    or fewer in all, else ``sample`` drawn at random (seeded) across the inputs."""
    total = sum(sizes)
    if total <= sample:
        return [np.arange(size) for size in sizes]
    chosen = np.sort(np.random.default_rng(seed).choice(total, size=sample, replace=False))
    starts = np.cumsum([0, *sizes])
    return [chosen[(chosen >= lo) & (chosen < hi)] - lo for lo, hi in zip(starts, starts[1:])]


def _central_differences(text: str, options: dict[str, Any], base: ReplaySession,
                         variable: Variable, weights: np.ndarray, eps: float,
                         indices: np.ndarray) -> np.ndarray:
    """The central difference of the weighted output at each of the flat ``indices``."""
    from gradcli.autograd.functional import central_differences

    kind, key = base.source_of(variable)

    def at(work: np.ndarray) -> float:
        point = work.copy()
        overrides = {key: point} if kind == "made" else {}
        given = {key: point} if kind == "var" else {}
        try:
            # wrt names nothing: the replay computes the value and skips the gradients
            result = base.replay(text, overrides=overrides, given=given, **dict(options, wrt=["_"]))
        except _ReplayFailed as failed:
            raise _fail(f"the program failed at a nearby point: "
                        f"{failed.failure.error.message}") from None
        return float(np.sum(np.asarray(result.value, dtype=np.float64) * weights))

    return central_differences(at, variable.data, eps, indices)


def _compare(name: str, analytic: np.ndarray, numeric: np.ndarray, rtol: float,
             atol: float) -> CheckRow:
    analytic = np.asarray(analytic, dtype=np.float64).reshape(numeric.shape)
    error = np.abs(analytic - numeric)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    # relative error is measured where the gradient is larger than atol; below that
    # only the absolute error means anything
    measured = ~(scale <= atol)  # NaN and infinity count as measured (and as failing)
    with np.errstate(all="ignore"):
        relative = np.where(measured, error / np.where(scale > 0, scale, 1.0), 0.0)
    error = np.where(np.isnan(error), np.inf, error)
    relative = np.where(np.isnan(relative) | np.isinf(error), np.inf, relative)
    bad = ~(error <= atol + rtol * np.abs(numeric))
    if numeric.size == 0:
        return CheckRow(name, numeric.shape, 0.0, 0.0, (), 0.0, 0.0, 0)
    margin = np.where(bad, error - (atol + rtol * np.abs(numeric)), -np.inf)
    pick = int(np.argmax(margin)) if bad.any() else int(np.argmax(error))
    where = tuple(int(i) for i in np.unravel_index(pick, numeric.shape))
    worst_rel = float(relative.max()) if measured.any() else None
    return CheckRow(name, tuple(numeric.shape), float(error.max()), worst_rel,
                    where, float(analytic.reshape(-1)[pick]), float(numeric.reshape(-1)[pick]),
                    int(bad.sum()))


# the check table's columns: the input and its verdict are never dropped; on a narrow
# terminal the position of the worst element goes first, the values at it next
CHECK_COLUMNS = (("input", None), ("shape", 4), ("max abs error", 6), ("max rel error", 5),
                 ("worst at", 1), ("analytic", 3), ("numeric", 2), ("", None))


def _print_check(rows: list[CheckRow], how: str, *, eps: float, rtol: float, atol: float,
                 precision: int, no_color: bool, sampled: dict[str, int] | None = None) -> int:
    from gradcli.render.console import make_console
    from gradcli.render.plain import terminal_width
    from gradcli.render.table import Column, prose, table_text
    from gradcli.render.values import format_scalar, shape_text

    def number(v: float | None) -> str:
        if v is None:
            return "-"
        return format_scalar(v, min(precision, 4)) if v else "0"

    out = make_console(sys.stdout, no_color=no_color)
    width = terminal_width(sys.stdout)
    out.print(prose(f"gradients against central differences (eps={eps:g}, float64; {how})",
                    width, "dim"))
    if sampled:
        out.print(prose(f"checked at a random sample of {sampled['checked']:,} of the "
                       f"{sampled['of']:,} input elements (seed {sampled['seed']}; --sample N "
                        f"checks N, up to {MAX_CHECK_ELEMENTS:,})", width, "dim"))
    columns = [Column(header, drop, wrap=header == "", easy=16) for header, drop in CHECK_COLUMNS]
    table = []
    failed = False
    for row in rows:
        if row.note:
            table.append([row.name, shape_text(row.shape), "", "", "", "", "",
                          (row.note, "dim")])
            continue
        ok = row.bad == 0
        failed |= not ok
        of = row.checked if row.checked is not None else int(np.prod(row.shape))
        verdict = ("ok", "green") if ok else (
            f"FAIL ({row.bad} of {of} beyond tolerance)", "bold red")
        table.append([row.name, shape_text(row.shape), number(row.worst_abs),
                      number(row.worst_rel), str(list(row.where)) if row.where else "-",
                      number(row.analytic), number(row.numeric), verdict])
    out.print(table_text(columns, table, width))
    if any(row.worst_rel is None and not row.note for row in rows):
        out.print(prose(f"max rel error -: every gradient is within atol={atol:g} of 0, "
                        "where only the absolute error means anything", width, "dim"))
    tolerance = f"|analytic - numeric| <= atol + rtol*|numeric| (atol={atol:g}, rtol={rtol:g})"
    if failed:
        out.print(prose(f"gradient check failed: {tolerance} does not hold", width, "bold red"))
        return 1
    out.print(prose(f"all gradients agree: {tolerance}", width, "green"))
    return 0


def _print_check_json(rows: list[CheckRow], how: str, *, eps: float, rtol: float,
                      atol: float, sampled: dict[str, int] | None = None) -> int:
    """The check as one JSON object: ``ok``, the settings, and a record per input."""
    from gradcli.render.jsonl import dumps, json_value

    inputs = []
    for row in rows:
        record: dict[str, Any] = {"name": row.name, "shape": list(row.shape)}
        if row.note:
            record["note"] = row.note
        else:
            record.update({
                "max_abs_error": json_value(row.worst_abs),
                "max_rel_error": None if row.worst_rel is None else json_value(row.worst_rel),
                "worst_at": list(row.where), "analytic": json_value(row.analytic),
                "numeric": json_value(row.numeric), "beyond_tolerance": row.bad,
                "ok": row.bad == 0})
            if row.checked is not None:
                record["checked"] = row.checked
        inputs.append(record)
    ok = all(row.bad == 0 for row in rows)
    record = {"ok": ok, "output": how, "eps": eps, "rtol": rtol, "atol": atol}
    if sampled:
        record["sample"] = sampled
    click.echo(dumps({**record, "inputs": inputs}))
    return 0 if ok else 1


# -- plot ------------------------------------------------------------------------------------


def parse_range(text: str) -> tuple[float, float]:
    """'-3:3' -> (-3.0, 3.0); each bound may be a constant expression ('-pi:2*pi')."""
    import math

    low_text, sep, high_text = text.partition(":")
    if not sep or not low_text.strip() or not high_text.strip():
        raise click.UsageError(f"--range {text!r} is not LOW:HIGH (e.g. --range -3:3)")
    try:
        bounds = Session(variables={"low": low_text, "high": high_text}).names
    except InputProblem as error:
        raise click.UsageError(f"--range {text!r}: {error.message}") from None
    if bounds["low"].data.size != 1 or bounds["high"].data.size != 1:
        raise click.UsageError(f"--range {text!r}: LOW and HIGH must be numbers")
    low, high = float(bounds["low"].data.reshape(-1)[0]), float(bounds["high"].data.reshape(-1)[0])
    if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        raise click.UsageError(f"--range {text!r}: LOW must be below HIGH, both finite")
    if not math.isfinite(high - low):
        raise click.UsageError(f"--range {text!r}: HIGH - LOW is beyond float64's range "
                               "(about 1.8e308); choose a narrower range")
    return low, high


def parse_ylim(text: str | None) -> tuple[float, float] | None:
    """--ylim LOW:HIGH as --range reads it; None when not given."""
    if text is None:
        return None
    try:
        return parse_range(text)
    except click.UsageError as error:
        raise click.UsageError(error.message.replace("--range", "--ylim", 1)) from None


def run_plot(program: str | None, shared: ProgramOptions, *, wrt: str, value_range: str,
             points: int, output: str | None, width: int | None = None,
             height: int | None = None, ylim: str | None = None) -> int:
    """f and df/d(wrt) over a range of a scalar input: a character plot, or an image."""
    low, high = parse_range(value_range)
    y_range = parse_ylim(ylim)
    xs = np.linspace(low, high, points)
    if not np.all(np.diff(xs) > 0):
        raise click.UsageError(f"--range {value_range!r} is too narrow for {points} distinct "
                               "points in float64; widen it or lower --points")
    suffix = Path(output).suffix.lower() if output else ""
    from gradcli.render.plot import IMAGE_SUFFIXES

    if output and suffix not in IMAGE_SUFFIXES:
        raise click.UsageError(f"cannot tell the format of {output!r}: use .png, .svg or .pdf")
    if output:
        import importlib.util

        if importlib.util.find_spec("matplotlib") is None:
            click.echo("gradcli: drawing an image needs matplotlib, which is not installed: "
                       "pip install 'gradcli[plot]' (or pip install matplotlib); without -o "
                       "the plot is drawn in the terminal", err=True)
            return 2

    def body() -> int:
        text = program_text(program, shared)
        given = dict(shared.variables)
        if wrt not in given:
            given[wrt] = repr(low)  # made before the program; the program may make its own
        options = _replayed(shared, variables=given).session_options(graph=False)
        base = ReplaySession(**options)
        started = time.monotonic()
        # (no warnings at this one point: the plot says where its curves are NaN or
        # infinite over the whole range)
        value, result = _run_last(base, text, shared.no_color, warn=False)
        _refuse_passes("plot", points, time.monotonic() - started, shared.timeout)
        variable = base.names.get(wrt)
        if variable is None or variable.creator is not None:
            raise _fail(f"--wrt {wrt}: {wrt} must be an input of the program (given with -v "
                        "or made from constants)", 2)
        if variable.data.size != 1:
            raise _fail(f"--wrt {wrt}: plot needs a scalar input; {wrt} has shape "
                        f"{tuple(variable.shape)}", 2)
        if value.data.size != 1:
            raise _fail(f"plot needs a scalar result; this one has shape {tuple(value.shape)}")
        kind, key = base.source_of(variable)
        fs = np.full(points, np.nan)
        dfs = np.full(points, np.nan)
        failed = 0
        for i, x in enumerate(xs):
            point = np.full(variable.shape, x)
            try:
                outcome = base.replay(text, overrides={key: point} if kind == "made" else {},
                                      given={key: point} if kind == "var" else {},
                                      **dict(options, wrt=[wrt]))
            except _ReplayFailed:
                failed += 1
                continue
            fs[i] = float(np.asarray(outcome.value).reshape(-1)[0])
            gradient = (outcome.gradients or {}).get(wrt)
            if gradient is not None:
                dfs[i] = float(np.asarray(gradient).reshape(-1)[0])
        label = result.name or " ".join(text.split())
        if len(label) > 48:
            label = label[:45] + "..."
        if failed:
            click.echo(f"gradcli: the program failed at {failed} of {points} points; they are "
                       "left out", err=True)
        if output:
            from gradcli.render.plot import save_figure

            try:
                notes = save_figure(xs, fs, dfs, output, x_name=wrt, f_label=label,
                                    ylim=y_range)
            except ImportError:
                click.echo("gradcli: drawing an image needs matplotlib: "
                           "pip install 'gradcli[plot]'", err=True)
                return 2
            except (OSError, ValueError) as error:
                reason = getattr(error, "strerror", None) or error  # (as graph -o says it)
                raise click.UsageError(f"cannot write {output!r}: {reason}") from None
            for note in notes:  # written on the image, and said here
                click.echo(f"gradcli: {note}", err=True)
            return 0
        from gradcli.render.console import make_console
        from gradcli.render.plain import terminal_width
        from gradcli.render.plot import DEFAULT_HEIGHT, DEFAULT_WIDTH, render_chart

        out = make_console(sys.stdout, no_color=shared.no_color)
        chart = render_chart(xs, fs, dfs, x_name=wrt, f_label=label, ylim=y_range,
                             width=width or terminal_width(sys.stdout) or DEFAULT_WIDTH,
                             height=height or DEFAULT_HEIGHT)
        out.print(chart, soft_wrap=True)
        return 0

    return _guarded(body)


# -- eval --trace / --jacobian / --hessian ---------------------------------------------------


def trace_backward(session: Session, value: Variable, name: str | None) -> tuple[
    list[Any], np.ndarray | None
]:
    """The backward pass of ``value``, one TraceStep per Function, in the order it ran."""
    from gradcli.render.trace import Passed, TraceStep
    from gradcli.render.values import short_value

    seed = session.backward_seed(value.data)
    if seed is None or not value.requires_grad:
        return [], seed
    names = session.value_names()
    if name is not None:
        names[id(value)] = name
    output_of = {id(v.creator): v for v in walk(value) if v.creator is not None}
    raw: list[tuple[TraceStep, list[Any]]] = []
    step_of: dict[int, int] = {}

    def as_array(g: Any) -> np.ndarray | None:
        if g is None:
            return None
        return np.array(g.data if isinstance(g, Variable) else g)

    def record(fn: Any, g: Any, results: tuple) -> None:
        out = output_of.get(id(fn))
        own = names.get(id(out)) if out is not None else None
        step = TraceStep(len(raw) + 1, fn.name, own, tuple(fn.out_shape), as_array(g),
                         expression=None if own or out is None else _short_formula(out, names))
        step_of[id(fn)] = step.step
        sources = []
        for u, r in zip(fn.inputs, results):
            label = names.get(id(u))
            if u.creator is not None:
                kind = "computed"
                label = label or _short_formula(u, names) or u.creator.name
            elif u.requires_grad:
                kind = "input"
                label = label or "input"
            else:
                kind = "constant"
                label = label or short_value(u.data, 4, 24)
            step.passed.append(Passed(label, kind, as_array(r) if u.requires_grad else None,
                                      shape=tuple(u.shape)))
            sources.append(u.creator)
        raw.append((step, sources))

    targets = session.inputs_of(value)
    with np.errstate(all="ignore"):
        take_grad(value, [v for _, v in targets] or [value], grad_outputs=seed,
                  retain_graph=True, trace=record)
    for step, sources in raw:
        for passed, creator in zip(step.passed, sources):
            if creator is not None:
                passed.step = step_of.get(id(creator))
    return [step for step, _ in raw], seed


def _short_formula(value: Variable, names: dict[int, str], width: int = 32) -> str | None:
    """``value`` as a short expression over the user's names (``y^2``), or None."""
    from gradcli.lang.syntax import to_text

    try:
        text = to_text(_graph_syntax(value, names))
    except Exception:  # any graph the printer cannot write keeps its Function's name
        return None
    return text if len(text) <= width else None


def _graph_syntax(root: Variable, names: dict[int, str]) -> Any:
    """The creator graph of ``root`` as the language's syntax tree, as it was computed
    (the one printer, syntax.py's, writes it), over the named Variables in ``names``
    (id -> name); a graph the language cannot write raises."""
    from gradcli.lang import syntax as S
    from gradcli.lang.builtins import operation_name

    def number(v: Any) -> Any:
        return S.Number(float(v))

    def array(values: Any) -> Any:
        data = np.asarray(values)
        if data.ndim == 0:
            return number(data)
        return S.Array(tuple(array(d) for d in data))

    def axis(axes: tuple[int, ...]) -> Any:
        return number(axes[0]) if len(axes) == 1 else array(axes)

    def subscript(item: Any) -> Any:
        if isinstance(item, slice):
            return S.Slice(*(None if p is None else number(p)
                             for p in (item.start, item.stop, item.step)))
        if item is None or item is Ellipsis or np.asarray(item).dtype.kind == "b":
            raise ValueError("no form in the language")  # (a mask: its values, not places)
        return array(item)

    # the engine Functions an operator runs (Pow also for a constant power: PowConst)
    operators = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "Pow": "^", "MatMul": "@",
                 "Mod": "%", "FloorDivide": "//"}
    done: dict[int, Any] = {}
    for v in walk(root):
        key = id(v)
        fn = v.creator
        if key in names:
            done[key] = S.Name(names[key])
            continue
        if fn is None:
            if v.data.size > 16:
                raise ValueError("a constant too large to write")
            done[key] = array(v.data.reshape(()) if v.data.size == 1 else v.data)
            continue
        args = tuple(done[id(u)] for u in fn.inputs)
        name = type(fn).__name__
        call = operation_name(fn)
        if name == "PowConst":
            node = S.Binary("^", args[0], number(fn.exponent))
        elif fn.name in operators:
            node = S.Binary(operators[fn.name], *args)
        elif name == "Neg":
            node = S.Unary("-", args[0])
        elif getattr(fn, "symbol", ""):
            node = S.Compare(fn.symbol, *args)
        elif name == "GetItem":
            index = fn.index if isinstance(fn.index, tuple) else (fn.index,)
            node = S.Index(args[0], tuple(subscript(i) for i in index))
        elif name in ("Reshape", "Squeeze", "ExpandDims", "BroadcastTo"):
            node = S.Call("broadcast_to" if name == "BroadcastTo" else "reshape",
                          (args[0], array(v.shape)))
        elif name == "Transpose":
            node = S.Transpose(args[0]) if fn.axes == tuple(range(v.ndim))[::-1] else \
                S.Call("transpose", (args[0], array(fn.axes)))
        elif name in ("Concatenate", "Stack"):
            node = S.Call(call, (S.Array(args),), (("axis", number(fn.axis)),))
        elif hasattr(fn, "keepdims"):  # a reduction
            keywords = () if tuple(fn.axes) == tuple(range(fn.inputs[0].ndim)) else (
                ("axis", axis(fn.axes)),)
            if fn.keepdims:
                keywords += (("keepdims", S.Number(1.0, "true")),)
            node = S.Call(call, args, keywords)
        elif name in ("Softmax", "LogSoftmax"):
            last = fn.axes == (fn.inputs[0].ndim - 1,)
            node = S.Call(call, args, () if last else (("axis", axis(fn.axes)),))
        elif call is not None:
            node = S.Call(call, args)
        else:
            raise ValueError(f"{name} has no form in the language")
        done[key] = node
    return done[id(root)]


def _jacobians(session: Session, value: Variable) -> tuple[dict[str, np.ndarray] | None,
                                                           str | None]:
    from gradcli.autograd.functional import jacobian

    targets = session.inputs_of(value)
    rows = value.data.size
    if rows > MAX_JACOBIAN_ROWS:
        return None, (f"jacobian: the result has {rows:,} elements; over {MAX_JACOBIAN_ROWS:,} "
                      "it takes too many backward passes")
    over = passes_over("jacobian", rows, session.last_seconds, session.timeout)
    if over:
        return None, over
    found = {}
    for name, variable in targets:
        if rows * variable.data.size > MAX_JACOBIAN_ENTRIES:
            return None, (f"jacobian: d/d{name} would have {rows * variable.data.size:,} "
                          f"entries, over {MAX_JACOBIAN_ENTRIES:,}")
        if not value.requires_grad:
            found[name] = np.zeros(value.shape + variable.shape)
            continue
        with np.errstate(all="ignore"):
            found[name] = jacobian(value, variable).data
    return found, None


@dataclass
class Hessian:
    """Second derivatives of a scalar result: each input's own block, and (for several
    inputs) the whole matrix over every input element, cross terms included."""

    blocks: dict[str, np.ndarray]
    labels: list[str]  # one per row/column of ``matrix``: a, b, x[0], x[1]...
    matrix: np.ndarray


def _element_labels(name: str, shape: tuple[int, ...]) -> list[str]:
    if not shape:
        return [name]
    return [f"{name}{_index_label(tuple(int(i) for i in np.unravel_index(k, shape)))}"
            for k in range(int(np.prod(shape)))]


def _hessians(session: Session, value: Variable) -> tuple[Hessian | None, str | None]:
    from gradcli.autograd.functional import jacobian

    if value.data.size != 1:
        return None, (f"hessian: needs a scalar result; this one has shape "
                      f"{tuple(value.shape)} (--jacobian gives first derivatives)")
    targets = session.inputs_of(value)
    total = sum(v.data.size for _, v in targets)
    if total > MAX_HESSIAN_INPUT:
        return None, (f"hessian: the inputs have {total:,} elements; over "
                      f"{MAX_HESSIAN_INPUT} it takes too many backward passes")
    over = passes_over("hessian", total, session.last_seconds, session.timeout)
    if over:
        return None, over
    variables = [v for _, v in targets]
    matrix = np.zeros((total, total))
    with np.errstate(all="ignore"):
        firsts = take_grad(value, variables, retain_graph=True, create_graph=True) \
            if value.requires_grad and variables else ()
        row = 0
        for first in firsts:  # its rows: d first / d every input, cross terms included
            size = first.data.size
            if first.requires_grad:
                blocks = jacobian(first, variables)
                matrix[row:row + size] = np.concatenate(
                    [b.data.reshape(size, v.data.size) for b, v in zip(blocks, variables)],
                    axis=1)
            row += size
    blocks, labels, offset = {}, [], 0
    for name, variable in targets:
        size = variable.data.size
        blocks[name] = matrix[offset:offset + size, offset:offset + size].reshape(
            variable.shape + variable.shape)
        labels += _element_labels(name, tuple(variable.shape))
        offset += size
    return Hessian(blocks, labels, matrix), None


def show_result_with_calculus(printer: Any, session: Session, result: Result, *,
                              trace: bool, jacobian: bool, hessian: bool) -> None:
    """Print a result as eval does, with its backward trace, jacobians and hessians."""
    value = session.last
    steps, seed = trace_backward(session, value, result.name) if trace else ([], None)
    extras: dict[str, Any] = {}
    if jacobian:
        extras["jacobian"] = _jacobians(session, value)
    if hessian:
        extras["hessian"] = _hessians(session, value)
    if printer.as_json:
        _print_json(printer, result, steps if trace else None, extras)
        return
    printer.result(result)
    out = printer.out
    if trace:
        from gradcli.render.trace import render_trace

        if seed is None:
            out.print(f"backward pass: none ({result.note or 'the result needs no gradient'})",
                      style="dim", highlight=False, markup=False)
        else:
            out.print(render_trace(steps, seed, precision=min(printer.precision, 4),
                                   width=printer.width))
    for kind, (found, note) in extras.items():
        if note is not None:
            out.print(note, style="dim", highlight=False, markup=False)
        elif kind == "jacobian":
            for name, array in found.items():
                out.print(jacobian_table(result.name, name, array, value.shape,
                                         printer.precision, printer.width))
        else:
            out.print(hessian_table(result.name, found, printer.precision, printer.width))


def _print_json(printer: Any, result: Result, steps: list[Any] | None,
                extras: dict[str, Any]) -> None:
    from gradcli.render import jsonl
    from gradcli.render.trace import trace_records

    write_warnings(result.warnings, result.line)
    record = jsonl.result_record(result, graph=printer.show_graph)
    if steps is not None:
        record["trace"] = trace_records(steps, jsonl.json_value)
    for kind, (found, note) in extras.items():
        if isinstance(found, Hessian):
            record[kind] = {name: jsonl.json_value(a) for name, a in found.blocks.items()}
            if len(found.blocks) > 1:  # the cross terms too
                record["hessian_all"] = {"inputs": found.labels,
                                         "value": jsonl.json_value(found.matrix)}
        else:
            record[kind] = None if found is None else {
                name: jsonl.json_value(array) for name, array in found.items()}
        if note is not None:
            record[f"{kind}_note"] = note
    print(jsonl.dumps(record), flush=True)


def _index_label(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]" if index else "[]"


def _matrix_table(title: str, matrix: np.ndarray, row_labels: list[str],
                  col_labels: list[str], precision: int, width: int | None = None) -> Any:
    """A 2-D array as a rich table under a one-line title; large ones show their corners
    (on a terminal ``width`` wide, as many columns as fit it)."""
    from rich.console import Group
    from rich.table import Table

    from gradcli.render.table import prose
    from gradcli.render.values import format_scalar

    def pick(n: int, edge: int = TABLE_EDGE) -> list[int | None]:
        if n <= 2 * edge:
            return list(range(n))
        return [*range(edge), None, *range(n - edge, n)]

    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("", style="bold", no_wrap=True)
    cols = pick(len(col_labels))
    if width is not None:
        shown = [r for r in pick(len(row_labels)) if r is not None]
        cell = max(len(format_scalar(matrix[r, c], min(precision, 6)))
                   for r in shown for c in cols if c is not None) if shown else 1
        cell = max(cell, *(len(col_labels[c]) for c in cols if c is not None))
        label = max((len(row_labels[r]) for r in shown), default=1)
        fit = (width - label - 2) // (cell + 2)  # rich pads each column with two spaces
        if len(cols) > fit:
            cols = pick(len(col_labels), max(1, (fit - 1) // 2))
    for c in cols:
        table.add_column("..." if c is None else col_labels[c], justify="right", no_wrap=True)
    for r in pick(len(row_labels)):
        if r is None:
            table.add_row("...", *["..." for _ in cols])
            continue
        cells = ["..." if c is None else format_scalar(matrix[r, c], min(precision, 6))
                 for c in cols]
        table.add_row(row_labels[r], *cells)
    return Group(prose(title, width, "bold"), table)


def jacobian_table(output: str | None, name: str, array: np.ndarray,
                   out_shape: tuple[int, ...], precision: int, width: int | None = None) -> Any:
    """d output/d name: a row per output element, a column per input element."""
    from gradcli.render.values import shape_text

    array = np.asarray(array)
    row_shape = tuple(out_shape)
    col_shape = array.shape[len(row_shape):]
    out_name = output or "out"
    rows = _element_labels(out_name, row_shape)
    cols = _element_labels(name, col_shape)
    title = f"jacobian d{out_name}/d{name}  {shape_text(array.shape)}"
    return _matrix_table(title, array.reshape(len(rows), len(cols)), rows, cols, precision,
                         width)


def hessian_table(output: str | None, found: Hessian, precision: int,
                  width: int | None = None) -> Any:
    """Every second derivative of a scalar result over every input element."""
    out_name = output or "out"
    wrt = ", ".join(found.blocks)
    title = f"hessian of {out_name} with respect to {wrt}  ({len(found.labels)} × " \
            f"{len(found.labels)})"
    return _matrix_table(title, found.matrix, found.labels, found.labels, precision, width)
