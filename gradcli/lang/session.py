"""Sessions: names and their Variables, statements -> results.

A :class:`Session` holds the user's names (leaf inputs and computed values), the random
generator (seeded once), and the options that shape results (``wrt``, ``grad_output``,
``graph``, ``strict``). :meth:`Session.stream` reads lines lazily and yields each
statement's :class:`Result` or :class:`Failure` as soon as the statement is complete.
"""

from __future__ import annotations

import math
import time
import warnings
import weakref
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import Any

import numpy as np

from gradcli.autograd import Variable, grad
from gradcli.autograd.errors import LimitError
from gradcli.autograd.functional import leaf_gradients
from gradcli.autograd.limits import (
    DEFAULT_MAX_NODES,
    Stopped,
    default_max_memory,
    hold_timer,
    parse_size,
    watch,
)
from gradcli.lang.builtins import CONSTANTS, callable_names, lookup
from gradcli.lang.errors import (
    GradcliError,
    InputProblem,
    InternalProblem,
    LimitProblem,
    UnknownName,
)
from gradcli.lang.evaluate import UNDERFLOW_WARNING, Evaluator, FloatingErrors
from gradcli.lang.reader import Broken, Parsed, read_statements
from gradcli.lang.results import DTYPE_NAMES, Failure, Graph, GraphNode, Result, dtype_name

__all__ = ["Session", "evaluate"]

DTYPES = ("float64", "float32")


_IGNORE_RUNTIME_WARNINGS = ("ignore", None, RuntimeWarning, None, 0)


_NOTHING = nullcontext()


def _runtime_warnings_ignored() -> bool:
    """True when the first warnings filter already ignores every RuntimeWarning."""
    filters = warnings.filters
    return bool(filters) and filters[0] == _IGNORE_RUNTIME_WARNINGS


def _nonfinite(data: np.ndarray) -> int:
    """How many elements of ``data`` are NaN or infinite."""
    if data.size <= 64 and all(map(math.isfinite, data.ravel().tolist())):
        return 0  # (a few Python floats check faster than np.isfinite)
    return data.size - int(np.count_nonzero(np.isfinite(data)))


def _elements(count: int) -> str:
    return f"{count} element{'s' if count != 1 else ''}"


def _bytes(value: Any) -> int:
    return parse_size(value) if isinstance(value, str) else int(value)


def _positive(label: str, value: Any, kind: Any) -> Any:
    """``value`` as ``kind`` (None stays None), which must be above zero."""
    if value is None:
        return None
    try:
        converted = kind(value)
    except (TypeError, ValueError, OverflowError):
        raise InputProblem(f"{label} must be a positive number, not {value!r}") from None
    if not converted > 0 or converted != converted:
        raise InputProblem(f"{label} must be above zero, not {value!r}")
    return converted


def split_lines(text: str) -> Iterator[str]:
    """``text`` as lines, each keeping its ``\\n`` (only ``\\n`` ends a line)."""
    start = 0
    while True:
        end = text.find("\n", start)
        if end < 0:
            if start < len(text):
                yield text[start:]
            return
        yield text[start:end + 1]
        start = end + 1


class LeafNames:
    """id(leaf) -> (the name it was made with, the leaf), for the leaves still alive: a
    leaf whose name was rebound and that no value still depends on is forgotten with it,
    so a stream of ``w = 1`` keeps one entry, not one per statement."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[int, tuple[str, Any]] = {}

    def add(self, name: str, leaf: Variable) -> None:
        key = id(leaf)
        entries = self._entries

        def forget(_: object) -> None:
            entries.pop(key, None)

        entries[key] = (name, weakref.ref(leaf, forget))

    def items(self) -> Iterator[tuple[int, tuple[str, Variable]]]:
        for key, (name, ref) in list(self._entries.items()):
            leaf = ref()
            if leaf is not None:
                yield key, (name, leaf)

    def __len__(self) -> int:
        return len(self._entries)


class _ConstantScope:
    """What a value given for a name may use: constants and constructors, no names."""

    def __init__(self, session: Session) -> None:
        self.names: dict[str, Variable] = {}
        self.last = None
        self.constants = session.constants
        self.dtype = session.dtype
        self.session = session
        self.strict = False

    @property
    def rng(self) -> Any:
        return self.session.rng

    def known_names(self) -> list[str]:
        return [*self.constants, *callable_names()]

    def callable_names(self) -> list[str]:
        return callable_names()

    def new_leaf(self, name: str, leaf: Variable) -> None:
        pass


class Session:
    """A run of statements sharing one set of names.

    ``variables`` maps names to leaf inputs made before anything runs: a constant
    expression in the language (``"ones(2, 2)"``), ``"@path"`` to a .npy, .csv or .txt
    file of numbers, or an array or number. ``wrt`` limits the gradients reported to
    those names. ``grad_output`` (the same kinds of value) seeds the backward pass of
    non-scalar results of exactly its shape. Bad values raise :class:`InputProblem`.

    ``data`` maps names to values that get no gradient (``-c``). The limits (SPEC §10):
    ``timeout`` seconds per statement, ``max_memory`` bytes (or ``"2G"``; ``"default"``
    is half the machine's memory, as the command line has it; None, no limit),
    ``max_nodes`` operations recorded per statement. A time or memory limit is watched
    with a SIGALRM timer while a statement runs (on the main thread only).
    """

    def __init__(
        self,
        *,
        variables: Mapping[str, Any] | None = None,
        wrt: Iterable[str] | None = None,
        grad_output: Any = None,
        dtype: str = "float64",
        seed: int | None = None,
        max_elements: int = 10**8,
        graph: bool = True,
        strict: bool = False,
        data: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        max_memory: int | str | None = None,
        max_nodes: int = DEFAULT_MAX_NODES,
    ) -> None:
        if str(np.dtype(dtype) if dtype in DTYPES else dtype) not in DTYPES:
            raise InputProblem(f"dtype must be float64 or float32, not {dtype!r}")
        self.dtype = np.dtype(dtype)
        self.seed = seed
        self._rng: Any = None  # made on first use: numpy.random costs ~10 ms to import
        try:
            self.max_elements = int(max_elements)
        except (TypeError, ValueError):
            raise InputProblem(f"max_elements must be a whole number, not {max_elements!r}") \
                from None
        if self.max_elements < 1:
            raise InputProblem("max_elements must be at least 1")
        self.timeout = _positive("timeout", timeout, float)
        self.max_memory = (default_max_memory() if max_memory == "default"
                           else _positive("max_memory", max_memory, _bytes))
        self.max_nodes = _positive("max_nodes", max_nodes, int)
        self.graph = bool(graph)
        self.strict = bool(strict)
        self.interactive = False  # statements typed in the REPL, as they are being run
        self.unreported: list[str] = []  # warnings of assignments that report nothing
        self.wrt: list[str] | None = list(wrt) if wrt else None
        self.constants: dict[str, float] = dict(CONSTANTS)
        self.names: dict[str, Variable] = {}
        self.last: Variable | None = None
        # every leaf input made by an assignment, by id: the name it was made with, so a
        # gradient can still be reported for it after its name is rebound
        self._leaf_names = LeafNames()
        self._variables = dict(variables or {})
        self._data = dict(data or {})  # -c: named values that get no gradient
        self.last_seconds = 0.0  # how long the last statement took to run
        self._watches: dict[tuple, Any] = {}  # limits(), by the limits they watch
        # inside streaming(): the one callback NumPy reports floating-point errors to
        self._held_errors: FloatingErrors | None = None
        self.input_warnings: list[str] = []  # a -v value holding NaN or infinity
        self.grad_output: np.ndarray | None = None
        if grad_output is not None:
            self.grad_output = self._value("--grad-output", grad_output)
        self._load_variables()

    @property
    def rng(self) -> Any:
        """The session's random generator, seeded once (with ``seed``) on first use."""
        if self._rng is None:
            self._rng = np.random.default_rng(self.seed)
        return self._rng

    @rng.setter
    def rng(self, generator: Any) -> None:
        self._rng = generator

    # -- inputs -----------------------------------------------------------------------------

    def _load_variables(self) -> None:
        both = sorted(set(self._variables) & set(self._data))
        if both:
            raise InputProblem(f'"{both[0]}" is given both as an input (-v) and as data (-c)')
        for name, value in [*self._variables.items(), *self._data.items()]:
            if not isinstance(name, str) or not name.isidentifier() or not name.isascii():
                raise InputProblem(f"{name!r} is not a valid name")
            if name in ("true", "false"):
                raise InputProblem(f'"{name}" is a keyword and cannot be a name')
            if lookup(name) is not None:
                raise InputProblem(f'"{name}" is a built-in function and cannot be a name')
            data = self._value(name, value)
            if name in self._data:  # data: no gradient, as requires_grad=False in PyTorch
                self.names[name] = Variable(data, requires_grad=False)
                self._data[name] = data  # (read once: a replay reuses the array)
                continue
            self.names[name] = leaf = Variable(data, requires_grad=True)
            self._leaf_names.add(name, leaf)

    @property
    def data_values(self) -> dict[str, Any]:
        """The -c values (data with no gradient), by name."""
        return dict(self._data)

    def _value(self, label: str, value: Any) -> np.ndarray:
        """A value given from outside, as an array of the session's dtype."""
        lost: list[str] = []  # why nonzero numbers in it are 0: underflow
        if isinstance(value, Variable):
            data = value.data
        elif isinstance(value, str):
            text = value.strip()
            if text.startswith("@"):
                data = self._read_file(label, text[1:], lost)
            else:
                data = self._constant_expression(label, text, lost)
        else:
            try:
                data = np.asarray(value)
            except (TypeError, ValueError) as exc:
                raise InputProblem(f"the value of {label} is not an array: {exc}") from None
        if data.dtype.kind not in "biuf":
            raise InputProblem(f"the value of {label} must be numbers, not {data.dtype}")
        if data.size > self.max_elements:
            raise InputProblem(
                f"the value of {label} has {data.size:,} elements, over the limit of "
                f"{self.max_elements:,}"
            )
        given, data = data, np.array(data, dtype=self.dtype)
        if given.dtype.kind == "f" and given.dtype.itemsize > data.itemsize:
            count = int(np.count_nonzero((data == 0) & (given != 0)))
            if count:  # (float64 values in a float32 session)
                lost.append(f"{count} number{'s' if count != 1 else ''} too small for "
                            f"{self.dtype.name}, made 0")
        for message in lost:
            message = f"the value of {label}: {message}"
            if self.strict:
                raise InputProblem(message + " (--strict)")
            self.input_warnings.append(message)
        bad = _nonfinite(data)
        if bad:
            message = f"the value of {label} holds NaN or infinity at {_elements(bad)}"
            if self.strict:
                raise InputProblem(message + " (--strict)")
            self.input_warnings.append(message)
        return data

    def _read_file(self, label: str, path: str, lost: list[str]) -> np.ndarray:
        """``@path``: a regular file (or ``-``, stdin), read within the limits."""
        from gradcli.lang.inputs import read_value

        room = self.max_memory if self.max_memory is not None else 2**62
        data, warnings, underflows = read_value(label, path, max_elements=self.max_elements,
                                                max_bytes=room)
        self.input_warnings.extend(warnings)
        lost.extend(underflows)
        return data

    def _constant_expression(self, label: str, text: str, lost: list[str]) -> np.ndarray:
        outcomes = []
        scope = _ConstantScope(self)
        for item in read_statements(split_lines(text)):
            if isinstance(item, Broken):
                outcomes.append(item.error)
                continue
            if item.target is not None:
                outcomes.append(InputProblem("a value cannot assign to a name"))
                continue
            try:
                value, warnings = self._execute(item, scope)
                outcomes.append(value)
                # a literal lost to 0 (NaN and infinity are found in the value itself)
                lost.extend(w for w in warnings if w.startswith(UNDERFLOW_WARNING))
            except GradcliError as exc:
                outcomes.append(exc)
        if len(outcomes) != 1:
            raise InputProblem(f"the value of {label} must be one expression, got {text!r}")
        outcome = outcomes[0]
        if isinstance(outcome, GradcliError):
            message = outcome.message
            if isinstance(outcome, UnknownName):
                message += " (a value may use numbers, constants and functions, not names)"
            problem = InputProblem(f"the value of {label}: {message}", outcome.span,
                                   source=text)
            raise problem
        return outcome.data

    # -- running ------------------------------------------------------------------------------

    def limits(self, line: int | None = None, *, timed: bool = True) -> Any:
        """The statement's budgets (time, memory, graph nodes, array sizes), as a context
        manager."""
        timeout = self.timeout if timed else None
        key = (timeout, self.max_memory, self.max_nodes, self.max_elements)
        kept = self._watches.get(key)  # (kept, not made anew: a stream runs two a line)
        if kept is None:
            if len(self._watches) > 8:
                self._watches.clear()
            kept = self._watches[key] = watch(
                "the statement", timeout=timeout, max_memory=self.max_memory,
                max_nodes=self.max_nodes, max_elements=self.max_elements)
        kept.line = line
        return kept

    def _execute(self, parsed: Parsed, scope: Any = None, *, report: bool = False) -> tuple:
        """The statement's value and warnings; with ``report``, its Result (or Failure)
        too, under the same limits: one watch a statement, not one for each half."""
        started = time.monotonic()
        try:
            # (a value given with -v is not a statement: it is not timed)
            with self.limits(parsed.line, timed=scope is None):
                try:
                    value, warnings = self._run_code(parsed, scope)
                finally:  # what one run costs (jacobians estimate their passes by it)
                    self.last_seconds = time.monotonic() - started
                if report:
                    return value, warnings, self._report(parsed, value, warnings, watched=True)
                return value, warnings
        except Stopped as stop:
            raise LimitProblem(stop.message) from None

    @contextmanager
    def streaming(self) -> Iterator[None]:
        """For a caller that runs a stream and owns the process meanwhile (the command
        line): NumPy's error state and the watchdog's timer are set once for the whole
        stream, instead of once or twice a statement (~5 µs of each line). Floating-point
        errors then go to one callback, read by the statement that raised them."""
        errors = FloatingErrors()
        with np.errstate(all="call", under="ignore", call=errors), hold_timer():
            self._held_errors = errors
            try:
                yield
            finally:
                self._held_errors = None

    def _numpy_errors(self, errors: FloatingErrors | None) -> Any:
        """A context in which NumPy's floating-point errors go to ``errors`` (None: are
        ignored); nothing to set inside :meth:`streaming`."""
        if self._held_errors is not None:
            return _NOTHING
        if errors is None:
            return np.errstate(all="ignore")
        return np.errstate(all="call", under="ignore", call=errors)

    def _run_code(self, parsed: Parsed, scope: Any) -> tuple[Variable, list[str]]:
        runner = Evaluator(scope or self, parsed.where, parsed.numbers, self._held_errors)
        order = parsed.evaluation_order()
        # NumPy's own RuntimeWarnings ("Degrees of freedom <= 0") would reach stderr
        # raw: the errstate callback already reports what matters, by operation
        with self._numpy_errors(runner.errors):
            if _runtime_warnings_ignored():  # (the command line ignores them already)
                value = runner.execute(order)
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    value = runner.execute(order)
        return value, runner.warnings

    def run(self, text: str, *, interactive: bool = False) -> list[Result | Failure]:
        """Run a program; every reported result and every failure, in order."""
        return list(self.stream(split_lines(text), interactive=interactive))

    def stream(self, lines: Iterable[str], *, interactive: bool = False) -> Iterator[
        Result | Failure
    ]:
        """Run statements as their lines arrive, yielding each outcome once it is known.

        Expression statements report a Result; assignments report nothing, except that
        the last statement of a non-interactive input always reports. A failing
        statement yields a Failure and the statements after it still run.
        """
        if isinstance(lines, str):
            lines = split_lines(lines)
        self.interactive = interactive  # (what an unknown name's hint says to do)
        pending: tuple[Parsed, Variable, list[str]] | None = None
        for item in read_statements(lines):
            if pending is not None and pending[2]:  # not the last after all: it reports
                self._unreported(pending[0].line, pending[2])  # nothing, but its warnings
            if isinstance(item, Broken):
                pending = None
                yield Failure(item.line, item.source, item.error)
                continue
            try:
                if item.target is None:
                    value, warnings, outcome = self._execute(item, report=True)
                else:
                    value, warnings = self._execute(item)
            except GradcliError as exc:
                if isinstance(exc, InputProblem) and exc.statement is not None:
                    raise  # (a bad option, found at this statement's result: see _report)
                pending = None
                exc.source = item.context
                exc.first_line = item.first_line
                yield Failure(item.line, item.source, exc)
                continue
            if item.target is None:
                pending = None
                yield outcome
            elif interactive:
                pending = None
                if warnings:
                    self._unreported(item.line, warnings)
            else:
                pending = (item, value, warnings)
        if pending is not None:
            yield self._report(*pending)

    def _unreported(self, line: int, warnings: list[str]) -> None:
        """Keep the warnings of an assignment that reports nothing (``x = log(0)``): the
        next result carries them, each with its line (SPEC §7: NaN or infinity is always
        warned of), else :meth:`take_unreported` hands them to the command."""
        self.unreported.extend(w if w.startswith("line ") or self.interactive
                               else f"line {line}: {w}" for w in warnings)

    def take_unreported(self) -> list[str]:
        """The warnings of assignments that no result has carried yet (each 'line N: ...')."""
        taken, self.unreported = self.unreported, []
        return taken

    def _report(self, item: Parsed, value: Variable, warnings: list[str],
                watched: bool = False) -> Result | Failure:
        try:
            result = self.result_of(value, item.target, line=item.line, source=item.source,
                                    warnings=warnings, watched=watched)
        except InputProblem as exc:  # a bad option (--grad-output of another shape): a
            exc.statement = (item.line, item.source)  # usage error, exit 2, at this statement
            raise
        except GradcliError as exc:
            exc.source = item.context
            exc.first_line = item.first_line
            return Failure(item.line, item.source, exc)
        if self.unreported:  # (the warnings of assignments before it, first)
            result.warnings[:0] = self.take_unreported()
        self.last = value
        return result

    # -- results ------------------------------------------------------------------------------

    def result_of(
        self,
        value: Variable,
        name: str | None = None,
        *,
        line: int = 0,
        source: str = "",
        warnings: list[str] | None = None,
        wrt: Iterable[str] | None = None,
        watched: bool = False,
    ) -> Result:
        """A Result for ``value``: its gradients by its own backward pass, and its graph;
        under the statement's limits (``watched``: the caller's watch is on already)."""
        warnings = list(warnings or [])
        try:
            with _NOTHING if watched else self.limits(line):
                # without a graph to draw, only the leaves matter: no topological order
                order = walk(value) if self.graph else None
                gradients, note = self._gradients(value, order, warnings,
                                                  list(wrt) if wrt else self.wrt)
                graph = self._graph(value, name, order) if order is not None else None
        except GradcliError:
            raise
        except Stopped as stop:
            raise LimitProblem(f"{stop.message} (computing its gradients)") from None
        except LimitError as exc:
            raise LimitProblem(f"computing the gradients: {exc}") from None
        except MemoryError:
            raise LimitProblem("computing the gradients: out of memory (NumPy could not "
                               "allocate an array)") from None
        except Exception as exc:  # a bug in the engine: say so, without a traceback
            raise InternalProblem(f"computing the gradients failed: {type(exc).__name__}: "
                                  f"{exc}") from None
        return Result(line, source, name, value.data, gradients, note, graph, warnings)

    def _gradients(self, value: Variable, nodes: Iterable[Variable] | None,
                   warnings: list[str], wrt: list[str] | None) -> tuple[dict[str, Any] | None,
                                                                       str | None]:
        """The gradients of ``value`` for the names ``wrt``, else for the named leaf inputs
        among ``nodes`` (the graph's), else, when ``nodes`` is None, for those its backward
        pass reaches (with no walk of the graph first: a stream's common case)."""
        data = value.data
        seed = self.backward_seed(data) if data.ndim or self.grad_output is not None else None
        reached = None
        if wrt is None and nodes is None and value.requires_grad and (seed is not None
                                                                      or data.size == 1):
            with self._numpy_errors(None):
                reached, whole = leaf_gradients(value, seed, retain_graph=True)
            if whole:
                nodes = reached
        if wrt is not None:
            targets = []
            for n in wrt:
                v = self.names.get(n)
                if v is None:
                    warnings.append(f'no gradient for "{n}": there is no such name')
                elif n in self._data and v is self.names.get(n):
                    warnings.append(f'no gradient for "{n}": it is data (-c), not an input')
                else:
                    targets.append((n, v))
        else:
            targets = self._leaf_targets(leaves(value) if nodes is None else nodes)
        if not targets:
            return {}, None
        if not value.requires_grad:
            return {n: np.zeros(v.shape, dtype=v.dtype) for n, v in targets}, None
        if reached is None:
            if seed is None and data.size != 1:
                if self.grad_output is not None:  # given, but for another shape: a bad option
                    raise InputProblem(
                        f"--grad-output has shape {self.grad_output.shape}, but the result "
                        f"has shape {data.shape}: give one of exactly shape {data.shape}")
                return None, (f"gradients need a scalar output or --grad-output of shape "
                              f"{data.shape}")
            # (a number's seed None: the engine's own 1)
            with self._numpy_errors(None):
                found = grad(value, [v for _, v in targets], grad_outputs=seed,
                             retain_graph=True)
        else:
            found = [reached.get(v) for _, v in targets]
        gradients = {}
        for (n, v), g in zip(targets, found):
            gradients[n] = data = g.data if g is not None else np.zeros(v.shape, dtype=v.dtype)
            bad = _nonfinite(data)
            if bad:
                warnings.append(f"gradient for {n}: NaN or infinity at {_elements(bad)}")
        return gradients, None

    def backward_seed(self, data: np.ndarray) -> np.ndarray | None:
        """The seed of the backward pass from a result of these values (SPEC §4):
        --grad-output where it has their shape, else ones for a single number; None where
        there is none (a larger result, and no --grad-output of its shape)."""
        if self.grad_output is not None and self.grad_output.shape == data.shape:
            return self.grad_output
        if data.size != 1:
            return None
        return np.ones(data.shape, dtype=data.dtype)

    def _leaf_targets(self, nodes: Iterable[Variable]) -> list[tuple[str, Variable]]:
        """The named leaf inputs among ``nodes`` (the graph's, in any order): by their
        current names, and leaves whose name was rebound since (``x += 1``) by the name
        they were made with."""
        leaves = {id(v) for v in nodes if v.creator is None and v.requires_grad}
        targets = [(n, v) for n, v in self.names.items() if id(v) in leaves]
        if len(targets) < len(leaves):
            used = {id(v) for _, v in targets}
            labels = {n for n, _ in targets}
            for key, (n, v) in self._leaf_names.items():
                if key in leaves and key not in used:
                    label = n if n not in labels else f"{n} (earlier)"
                    targets.append((label, v))
                    labels.add(label)
                    used.add(key)
        return targets

    def _graph(self, value: Variable, name: str | None, order: list[Variable]) -> Graph:
        names = self.value_names()
        if name is not None:
            names[id(value)] = name
        ids: dict[int, int] = {}
        nodes = []
        for v in order:
            creator = v.creator
            if creator is not None:
                kind = "computed"
                inputs = [ids[id(i)] for i in (creator.inputs or ())]
                function = creator.name
                detail = creator.detail
            else:
                kind = "input" if v.requires_grad else "constant"
                inputs = []
                function = None
                detail = ""
            data = v.data
            dtype = DTYPE_NAMES.get(data.dtype) or dtype_name(data.dtype)  # (inlined: per node)
            ids[id(v)] = len(nodes)
            nodes.append(GraphNode(len(nodes), names.get(id(v)), function, kind, inputs,
                                   data.shape, dtype, data, detail))
        return Graph(nodes, ids[id(value)])

    # -- the REPL's commands ------------------------------------------------------------------

    def _named(self, name: str) -> Variable:
        value = self.names.get(name)
        if value is None and name == "_":
            value = self.last
        if value is None:
            from gradcli.lang.errors import did_you_mean, suggestions

            near = suggestions(name, list(self.names))
            raise UnknownName(f'unknown name "{name}"{did_you_mean(near)}')
        return value

    def gradient(self, name: str, wrt: Iterable[str] | None = None) -> Result:
        """The Result for a name: its value and its gradients (w.r.t. ``wrt`` if given)."""
        value = self._named(name)
        return self.result_of(value, name, source=name, wrt=wrt)

    def graph_of(self, name: str) -> Graph:
        """The creator graph behind a name (``_`` for the last result)."""
        value = self._named(name)
        return self._graph(value, name if name != "_" else None, walk(value))

    def inputs_of(self, value: Variable, wrt: Iterable[str] | None = None) -> list[
        tuple[str, Variable]
    ]:
        """The named inputs ``value``'s gradients are reported for: the existing names in
        ``wrt`` (else the session's ``wrt``), else the named leaf inputs it depends on."""
        wanted = list(wrt) if wrt else self.wrt
        if wanted is not None:
            return [(n, self.names[n]) for n in wanted if n in self.names]
        return self._leaf_targets(leaves(value))

    def value_names(self) -> dict[int, str]:
        """id(Variable) -> the user's name for it (as the creator graph names nodes)."""
        names: dict[int, str] = {}
        for n, v in self.names.items():
            names.setdefault(id(v), n)
        for key, (n, _) in self._leaf_names.items():
            names.setdefault(key, n)
        return names

    def reset(self) -> None:
        """Forget every name and the last result; reseed; remake the given variables."""
        self.names = {}
        self.last = None
        self._leaf_names = LeafNames()
        self._rng = None
        self._load_variables()

    # -- what names exist (completion, suggestions) --------------------------------------------

    def known_names(self) -> list[str]:
        return [*self.names, *self.constants, *callable_names()]

    def new_leaf(self, name: str, leaf: Variable) -> None:
        """Called when an assignment makes ``leaf`` (a leaf input) under ``name``."""
        self._leaf_names.add(name, leaf)

    def callable_names(self) -> list[str]:
        return callable_names()


def walk(value: Variable) -> list[Variable]:
    """Every Variable ``value`` was made from, inputs before the values made from them."""
    order: list[Variable] = []
    seen: set[int] = set()
    stack: list[tuple[Variable, bool]] = [(value, False)]
    while stack:
        v, done = stack.pop()
        if done:
            order.append(v)
            continue
        if id(v) in seen:
            continue
        seen.add(id(v))
        stack.append((v, True))
        creator = v.creator
        if creator is not None and creator.inputs:
            for i in reversed(creator.inputs):
                if id(i) not in seen:
                    stack.append((i, False))
    return order


def leaves(value: Variable) -> list[Variable]:
    """The leaf inputs (no creator, ``requires_grad``) that ``value`` was made from, or
    ``value`` itself if it has no creator; in no particular order (the leaves among what
    :func:`walk` finds, without ordering the rest)."""
    if value.creator is None:
        return [value]
    found: list[Variable] = []
    seen: set[int] = set()
    stack = [value.creator]
    while stack:
        for v in stack.pop().inputs or ():
            creator = v.creator
            if creator is None and not v.requires_grad:
                continue  # a constant: never a gradient's target
            key = id(v)
            if key in seen:
                continue
            seen.add(key)
            if creator is None:
                found.append(v)
            else:
                stack.append(creator)
    return found


def evaluate(program: str, variables: Mapping[str, Any] | None = None, **options: Any) -> list[
    Result | Failure
]:
    """Run ``program`` in a new Session; its results and failures in order.

    ``options`` are Session's: wrt, grad_output, dtype, seed, max_elements, graph, strict.
    """
    return Session(variables=variables, **options).run(program)
