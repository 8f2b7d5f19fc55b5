"""The budgets a statement runs under: elements per array, memory, time, graph nodes.

Operations that allocate check their result's size first (:func:`check_shape`); those
whose cost is known before they start check it against the time left (:func:`check_cost`);
every recorded Function counts against the node budget (in Function.__call__, one
decrement), and one that made a large array has the memory held looked at. While a
statement runs with a time or memory limit, a watchdog timer (:func:`watch`) checks the
clock and the process's memory every few hundredths of a second and stops the statement
by raising :class:`Stopped` between two Python steps.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count

from gradcli.autograd.errors import LimitError, SizeLimitError

DEFAULT_MAX_ELEMENTS = 10**8
DEFAULT_MAX_NODES = 10**7  # recorded Functions per statement (~100 bytes each, and more)
# an optimistic rate (two cores' BLAS at best): a cost refused at this rate cannot fit
FLOPS_PER_SECOND = 1e11
WATCH_INTERVAL = 0.02  # seconds between the watchdog's checks
LARGE_ALLOCATION = 2**20  # bytes: smaller arrays are not worth a look at the memory
UNBOUNDED = 2**62


def machine_memory() -> int | None:
    """The machine's physical memory in bytes, where the system says."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def default_max_memory() -> int | None:
    """Half the machine's memory (None where it cannot be known)."""
    total = machine_memory()
    return total // 2 if total else None


def resident_bytes() -> int | None:
    """The memory this process holds now (resident set), where the system says."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


try:
    _PAGE = os.sysconf("SC_PAGE_SIZE")
except (ValueError, OSError, AttributeError):
    _PAGE = 4096


class Stopped(BaseException):
    """A statement ran out of time or memory (raised by the watchdog between two steps;
    a BaseException so that no ``except Exception`` on the way mistakes it for a bug)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# Every Function recorded takes the next number (its ``seq``: the backward pass's order,
# and how in-place changes are told apart from what came before them); a statement's
# node budget is spent when the numbers pass LIMITS.last_node.
next_node = count(1).__next__


class _Limits:
    __slots__ = ("max_elements", "max_memory", "max_nodes", "last_node", "deadline",
                 "timeout", "watched_bytes")

    def __init__(self) -> None:
        self.max_elements = DEFAULT_MAX_ELEMENTS
        self.max_memory: int | None = None  # bytes the process may hold
        self.max_nodes = DEFAULT_MAX_NODES
        # the last node number the statement may record; unbounded outside a statement
        # (the Python API)
        self.last_node = UNBOUNDED
        self.deadline: float | None = None  # time.monotonic() when the statement must end
        self.timeout: float | None = None
        # a recorded result this large makes Function.__call__ look at the memory held
        self.watched_bytes = UNBOUNDED


LIMITS = _Limits()


def check_shape(op: str, shape: tuple[int, ...], itemsize: int = 8) -> None:
    """Raise SizeLimitError if an array of ``shape`` would exceed the element budget (or
    LimitError if it would not fit in the memory left)."""
    elements = math.prod(shape)
    if elements > LIMITS.max_elements:
        raise SizeLimitError(op, tuple(shape), elements, LIMITS.max_elements)
    if LIMITS.max_memory is not None and elements * itemsize >= LARGE_ALLOCATION:
        check_memory(op, elements * itemsize)


def check_elements(op: str, elements: int) -> None:
    if elements > LIMITS.max_elements:
        raise SizeLimitError(op, None, elements, LIMITS.max_elements)


def check_memory(op: str, nbytes: int) -> None:
    """Raise LimitError if ``nbytes`` more would take the process over --max-memory."""
    limit = LIMITS.max_memory
    held = resident_bytes() if limit is not None else None
    if held is not None and held + nbytes > limit:
        raise LimitError(f"{op}: {_size(nbytes)} more would take the session's memory to "
                         f"{_size(held + nbytes)}, over the limit of {_size(limit)} "
                         "(raise it with --max-memory)")


def check_cost(op: str, flops: float) -> None:
    """Refuse an operation of ``flops`` floating-point operations that cannot end before
    the statement's deadline (even at an optimistic rate)."""
    deadline = LIMITS.deadline
    if deadline is None:
        return
    needed = flops / FLOPS_PER_SECOND
    left = deadline - time.monotonic()
    if left <= 0:  # (the watchdog has not looked yet)
        raise LimitError(_timeout_message())
    if needed > left:
        raise LimitError(f"{op}: about {flops:.2g} floating-point operations, at least "
                         f"{needed:.3g} s, more than the {max(left, 0):.3g} s left of "
                         f"--timeout {LIMITS.timeout:g}")


def passes_over(op: str, passes: int, seconds_each: float, timeout: float | None) -> str | None:
    """Why ``passes`` runs of about ``seconds_each`` cannot fit ``timeout`` (None if they
    can, or there is no timeout): for jacobians, hessians, check and plot."""
    if timeout is None:
        return None
    needed = passes * seconds_each
    if needed <= timeout:
        return None
    return (f"{op}: {passes:,} passes of about {seconds_each:.2g} s each, about {needed:.3g} "
            f"s, more than --timeout {timeout:g}")


def over_budget(op: str, nbytes: int, node: int) -> None:
    """Called by Function.__call__ when a statement has recorded --max-nodes Functions
    (``node`` past ``LIMITS.last_node``), or one of them made an array of ``nbytes`` worth
    a look at the memory held."""
    if node > LIMITS.last_node:
        LIMITS.last_node = next_node() + LIMITS.max_nodes  # (so its clean-up may record)
        raise LimitError(f"{op}: the statement has recorded {LIMITS.max_nodes:,} operations, "
                         "the limit of its graph (raise it with --max-nodes)")
    check_memory(op, 0)  # made already: the statement fails, and its arrays go with it


def _size(nbytes: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if nbytes < 1024 or unit == "TiB":
            return f"{nbytes:.0f} {unit}" if unit == "bytes" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return f"{nbytes} bytes"  # pragma: no cover


def parse_size(text: str) -> int:
    """``"2G"``, ``"512M"``, ``"1.5GiB"``, ``"1000000"`` -> bytes (ValueError if not a size)."""
    units = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
    cleaned = text.strip().lower().replace(" ", "")
    for suffix in ("ib", "b"):
        if cleaned.endswith(suffix) and cleaned[:-len(suffix)][-1:].isalpha():
            cleaned = cleaned[:-len(suffix)]
            break
    if cleaned.endswith("b"):
        cleaned = cleaned[:-1]
    unit = cleaned[-1:] if cleaned[-1:].isalpha() else ""
    number = float(cleaned[:-1] if unit else cleaned)
    if unit not in units or not math.isfinite(number) or number <= 0:
        raise ValueError(text)
    return int(number * units[unit])


class _Watch:
    """The watchdog of the statement running now (one at a time, on the main thread);
    ``held``: its timer is kept running between statements (see :func:`hold_timer`)."""

    active = False
    held = False
    label = ""
    line: int | None = None

    def where(self) -> str:
        """The statement, as messages name it ("the statement on line 3")."""
        label = self.label or "the statement"
        return f"{label} on line {self.line}" if self.line else label


_WATCH = _Watch()


def _timeout_message() -> str:
    return (f"{_WATCH.where()} ran longer than --timeout {LIMITS.timeout:g} s "
            "and was stopped")


def _on_alarm(signum: int, frame: object) -> None:
    if not _WATCH.active:
        return
    deadline = LIMITS.deadline
    if deadline is not None and time.monotonic() >= deadline:
        _WATCH.active = False
        raise Stopped(_timeout_message())
    limit = LIMITS.max_memory
    if limit is not None:
        held = resident_bytes()
        if held is not None and held > limit:
            _WATCH.active = False
            raise Stopped(f"{_WATCH.where()} took the session's memory to {_size(held)}, over "
                          f"the limit of {_size(limit)}, and was stopped (raise it with "
                          "--max-memory)")


def watch(label: str, *, timeout: float | None, max_memory: int | None,
          max_nodes: int, max_elements: int | None = None,
          line: int | None = None) -> _Watching:
    """Run the body under the limits: a fresh node budget, the deadline, the memory limit
    (watched by a timer where this is the main thread of a POSIX system), and the array
    size limit where one is given; all restored after. A context manager; every
    statement of a stream runs in two, so it is a plain class, not a generator, and
    installs its handler with the signal module's C function. ``label`` (and ``line``, if
    given: "the statement on line 3") names what runs in messages."""
    return _Watching(label, timeout, max_memory, max_nodes, max_elements, line)


class _Watching:
    """The context manager :func:`watch` returns. One may be entered again, also while
    entered (each entry keeps what it restores), so a caller can keep one for many
    statements, changing ``line`` between them."""

    __slots__ = ("label", "timeout", "max_memory", "max_nodes", "max_elements", "line",
                 "entries")

    def __init__(self, label: str, timeout: float | None, max_memory: int | None,
                 max_nodes: int, max_elements: int | None, line: int | None) -> None:
        self.label = label
        self.line = line
        self.timeout = timeout
        self.max_memory = max_memory
        self.max_nodes = max_nodes
        self.max_elements = max_elements
        self.entries: list[tuple] = []  # per entry: the limits to restore, timer, handler

    def __enter__(self) -> None:
        timeout = self.timeout
        max_memory = self.max_memory
        saved = (LIMITS.deadline, LIMITS.timeout, LIMITS.max_memory, LIMITS.max_nodes,
                 LIMITS.last_node, LIMITS.watched_bytes, LIMITS.max_elements)
        if self.max_elements is not None:
            LIMITS.max_elements = self.max_elements
        LIMITS.timeout = timeout
        LIMITS.deadline = time.monotonic() + timeout if timeout is not None else None
        LIMITS.max_memory = max_memory
        LIMITS.watched_bytes = LARGE_ALLOCATION if max_memory is not None else UNBOUNDED
        LIMITS.max_nodes = self.max_nodes
        LIMITS.last_node = next_node() + self.max_nodes
        timer = (timeout is not None or max_memory is not None) and _can_watch()
        previous = None
        if timer:
            _WATCH.label = self.label
            _WATCH.line = self.line
            _WATCH.active = True
            if not _WATCH.held:
                previous = _set_handler(signal.SIGALRM, _on_alarm)
            first = WATCH_INTERVAL if timeout is None else min(WATCH_INTERVAL, timeout)
            signal.setitimer(signal.ITIMER_REAL, max(first, 1e-4), WATCH_INTERVAL)
        self.entries.append((saved, timer, previous))

    def __exit__(self, *exc_info: object) -> None:
        saved, timer, previous = self.entries.pop()
        if timer:
            _WATCH.active = False
            signal.setitimer(signal.ITIMER_REAL, 0)  # (no signal outside a statement)
            if not _WATCH.held:
                _set_handler(signal.SIGALRM, previous or _SIG_DFL)
        (LIMITS.deadline, LIMITS.timeout, LIMITS.max_memory, LIMITS.max_nodes,
         LIMITS.last_node, LIMITS.watched_bytes, LIMITS.max_elements) = saved


@contextmanager
def hold_timer() -> Iterator[None]:
    """Keep the watchdog's handler installed from one statement to the next, for a caller
    that runs many and owns the process meanwhile (the command line's stream): a
    :func:`watch` then only sets and stops the timer, instead of also installing the
    handler and putting the previous one back each time. The timer runs only inside a
    watch: outside, no signal can cut a write short (over an unbuffered stdout,
    PYTHONUNBUFFERED, Python's text layer loses the rest of a write a signal cuts)."""
    if _WATCH.held or not _can_watch():
        yield
        return
    previous = _set_handler(signal.SIGALRM, _on_alarm)
    _WATCH.held = True
    try:
        yield
    finally:
        _WATCH.held = False
        _set_handler(signal.SIGALRM, previous or _SIG_DFL)


try:  # the signal module's C half: its functions without the wrapper's enum conversions
    # (a few µs a statement), and without importing the wrapper (and enum's work on its
    # constants: ~0.4 ms of every start)
    import _signal as signal  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - another Python
    import signal  # type: ignore[no-redef]
_set_handler = signal.signal

_HAS_TIMER = hasattr(signal, "setitimer")
_SIG_DFL = int(signal.SIG_DFL)  # (the C function takes the plain int)


_MAIN_THREAD = threading.main_thread().ident


def _can_watch() -> bool:
    return _HAS_TIMER and not _WATCH.active and threading.get_ident() == _MAIN_THREAD
