"""Function: the node that made a Variable, with its forward and its backward side by side.

A Function subclass computes its result from NumPy arrays in ``forward`` and returns the
gradients for its inputs in ``backward``. Backward rules are written with Variable
operations, so when the engine runs them with recording on (``create_graph=True``) the
gradients are themselves differentiable; with recording off they build nothing.

To add an operation, subclass and call an instance::

    class Cube(Function):
        def forward(self, x):
            return x ** 3

        def backward(self, g):
            (x,) = self.operands()
            return g * 3 * x ** 2

    y = Cube()(x)          # y.creator is the Cube instance
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from gradcli.autograd.errors import BackwardError, OperationError
from gradcli.autograd.limits import LIMITS, check_shape, next_node, over_budget

if TYPE_CHECKING:
    from gradcli.autograd.variable import Variable


class _GradMode:
    """Whether operations record, and ``version``: the number (in the order of
    ``limits.next_node``) of the last in-place change to a Variable, 0 before any; a
    Function recorded before it may have an input changed since (see ``Variable.add_``).
    ``everywhere``: while recording, a backward rule that branches on the point records
    the branch that is right at every point (see ``valid_everywhere``)."""

    __slots__ = ("enabled", "version", "everywhere")

    def __init__(self) -> None:
        self.enabled = True
        self.version = 0
        self.everywhere = False


GRAD_MODE = _GradMode()


def is_grad_enabled() -> bool:
    """True when operations record themselves in the graph."""
    return GRAD_MODE.enabled


@contextmanager
def set_grad_enabled(enabled: bool) -> Iterator[None]:
    previous = GRAD_MODE.enabled
    GRAD_MODE.enabled = enabled
    try:
        yield
    finally:
        GRAD_MODE.enabled = previous


@contextmanager
def valid_everywhere() -> Iterator[None]:
    """Backward passes inside record, for rules that branch on the point (``prod`` at a
    zero, ``det`` at a singular matrix), the graph that is right at every point, not the
    cheaper one right only near this point: a gradient graph to print as a formula."""
    previous = GRAD_MODE.everywhere
    GRAD_MODE.everywhere = True
    try:
        yield
    finally:
        GRAD_MODE.everywhere = previous


def no_grad():
    """Context manager: operations inside compute values but record no graph."""
    return set_grad_enabled(False)


def enable_grad():
    """Context manager: recording on, even inside ``no_grad``."""
    return set_grad_enabled(True)


_INPUT_ERRORS = (ValueError, IndexError, TypeError, ZeroDivisionError, np.linalg.LinAlgError)


class Function:
    """The creator of a Variable: ``forward`` on arrays, ``backward`` on Variables.

    After a call, ``inputs`` holds the input Variables (the graph's edges) and
    ``needs_input_grad`` which of them want a gradient. ``backward(g)`` receives the
    gradient of the output and returns one gradient (or None) per input. Rules read
    their inputs' values with ``self.operands()``: Variables while the engine records
    (``create_graph=True``), plain arrays otherwise, so one rule written with operators
    and ``gradcli.autograd.ops`` functions serves both.

    Subclasses that set ``elementwise = True`` promise that ``backward`` accepts a
    gradient of any shape that broadcasts to the output's shape (the engine then keeps
    gradients of reductions as scalars instead of materialising them); all others
    receive a gradient of exactly the output's shape.
    """

    # seq: when the node was recorded (limits.next_node: it is newer than its inputs'
    # creators), the order of the backward pass and of in-place changes (check_versions)
    __slots__ = ("inputs", "needs_input_grad", "out_shape", "saved", "seq", "__dict__",
                 "__weakref__")

    elementwise = False
    # whether ``backward`` may be handed a NumPy scalar (np.float64) as the gradient of a
    # scalar output: the built-in rules may (ops marks them); a subclass of a user's gets
    # an ndarray, as NumPy code expects
    scalar_gradients = False

    # -- forward -----------------------------------------------------------------------

    def forward(self, *arrays: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, g: Variable) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.backward")

    @property
    def name(self) -> str:
        """The operation's name as users see it (the class name: Add, Mul, Mean...)."""
        return type(self).__name__

    @property
    def detail(self) -> str:
        """What the graph shows after the name for a parameter that is not an input
        (``^2`` for a constant power, ``axis=0`` for a reduction); empty by default."""
        return ""

    def __call__(self, *inputs: Any) -> Variable:
        # The hot path of every operation: kept flat on purpose.
        n = len(inputs)
        if n == 1 and type(inputs[0]) is Variable:
            v = inputs[0]
            record = v.requires_grad and GRAD_MODE.enabled
            data = v._data
            try:
                out = self.forward(data)
            except _INPUT_ERRORS as exc:
                raise OperationError(self.name, [data.shape], str(exc)) from None
            if record:
                self.inputs = inputs
                self.needs_input_grad = (True,)
        elif n == 2 and (  # a binary op on Variables and numbers (_pair, inlined)
            (ta := type(inputs[0])) is Variable
            and ((tb := type(inputs[1])) is Variable or tb is float or tb is int)
            or (ta is float or ta is int) and type(inputs[1]) is Variable
        ):
            a, b = inputs
            if ta is not Variable:
                a = _number(a, b._data)
                inputs = (a, b)
            elif tb is not Variable:
                b = _number(b, a._data)
                inputs = (a, b)
            da = a._data
            db = b._data
            if da.ndim and db.ndim and self.elementwise and da.shape != db.shape:
                _check_broadcast(self.name, [da, db])
            try:
                out = self.forward(da, db)
            except _INPUT_ERRORS as exc:
                raise OperationError(self.name, [da.shape, db.shape], str(exc)) from None
            ra = a.requires_grad
            rb = b.requires_grad
            record = (ra or rb) and GRAD_MODE.enabled
            if record:
                self.inputs = inputs  # (the call's own tuple when both are Variables)
                # shared tuples: no allocation per node
                self.needs_input_grad = (_BOTH if rb else _FIRST) if ra else _SECOND
        else:
            arrays = []
            variables = []
            has_variable = False
            has_raw_array = False
            requires_grad = False
            for v in inputs:
                if not isinstance(v, Variable):
                    if type(v) is np.ndarray:
                        arrays.append(v)
                        variables.append(None)
                        has_raw_array = True
                        continue
                    if (type(v) is list or type(v) is tuple) and holds_variable(v):
                        v = stack_list(v)  # [x, x + 2] joins the graph, as in the language
                        has_variable = True
                        requires_grad = requires_grad or v.requires_grad
                    else:
                        v = _constant(v, inputs)
                else:
                    has_variable = True
                    if v.requires_grad:
                        requires_grad = True
                arrays.append(v._data)
                variables.append(v)
            if self.elementwise:
                _check_broadcast(self.name, arrays)
            try:
                out = self.forward(*arrays)
            except _INPUT_ERRORS as exc:
                raise OperationError(self.name, [np.shape(a) for a in arrays], str(exc)) from None
            if not has_variable:
                return out if type(out) is np.ndarray else np.asarray(out)
            record = requires_grad and GRAD_MODE.enabled
            if record:
                if has_raw_array:
                    variables = [
                        v if v is not None else Variable.constant(a)
                        for v, a in zip(variables, arrays)
                    ]
                self.inputs = tuple(variables)
                self.needs_input_grad = tuple([bool(v.requires_grad) for v in variables])
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        result = Variable.__new__(Variable)
        result._data = out
        result.grad = None
        if record:
            self.out_shape = out.shape
            self.seq = seq = next_node()
            result.creator = self
            result.requires_grad = True
            # the graph's budgets (--max-nodes, --max-memory)
            if seq > LIMITS.last_node or out.nbytes >= LIMITS.watched_bytes:
                over_budget(self.name, out.nbytes, seq)
        else:
            result.creator = None
            result.requires_grad = False
        return result

    def operands(self) -> tuple:
        """The inputs for a backward rule: Variables when recording, else their arrays."""
        inputs = self.inputs
        if GRAD_MODE.enabled:
            return inputs
        if len(inputs) == 1:
            return (inputs[0]._data,)
        return [v._data for v in inputs]

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Variable:
        """``Cls.apply(x, y, axis=0)`` is ``Cls(axis=0)(x, y)``."""
        return cls(**params)(*inputs)

    # -- helpers for backward rules ---------------------------------------------------

    def save_for_backward(self, *values: Any) -> None:
        """Keep arrays needed by ``backward`` (released after the backward pass)."""
        self.saved = values

    def saved_output(self, recompute: Any, *args: Any, **params: Any) -> Any:
        """What forward kept in ``saved`` for backward (its result, or part of it), read
        the one way: that array, or, while the engine records a graph (create_graph),
        ``recompute(*args, **params)``, the same value rebuilt from the inputs, so the
        gradient built from it is differentiable too."""
        return recompute(*args, **params) if GRAD_MODE.enabled else self.saved

    def release(self) -> None:
        """Drop the edges and saved values; a later backward through here is an error."""
        self.inputs = None
        self.saved = None

    def __repr__(self) -> str:
        return f"<{self.name}>"


def _check_broadcast(name: str, arrays: list[np.ndarray]) -> None:
    """Refuse a broadcast whose result would exceed the element budget, before NumPy
    allocates it; shapes that do not broadcast become an OperationError naming them."""
    first = arrays[0].shape
    for a in arrays:
        if a.shape != first and a.ndim and first:
            shapes = [np.shape(b) for b in arrays]
            if len(shapes) == 2:  # one shape the end of the other (a bias beside a matrix)
                s, t = shapes if len(shapes[0]) >= len(shapes[1]) else shapes[::-1]
                if s[len(s) - len(t):] == t:
                    check_shape(name, s)
                    return
            try:
                shape = np.broadcast_shapes(*shapes)
            except ValueError:
                raise OperationError(name, shapes, "the shapes do not broadcast together") from None
            check_shape(name, shape)
            return


_CONSTANTS: dict[tuple[float, str], Variable] = {}
_BOTH, _FIRST, _SECOND = (True, True), (True, False), (False, True)


def _number(value: float, partner: np.ndarray) -> Variable:
    """A Python number beside a Variable whose array is ``partner``: ``_constant``'s
    number case, with the partner known."""
    if not value:  # 0 == -0.0: never share zeros
        return _constant(value, (partner,))
    key = (value, partner.dtype)  # (beside _constant's own keys: the partner's dtype)
    constant = _CONSTANTS.get(key)
    if constant is None:
        constant = _CONSTANTS[key] = _constant(value, (partner,))
    return constant


def _constant(value: Any, inputs: tuple) -> Variable:
    """An operand that is neither Variable nor array, as a constant Variable.

    A Python number takes its partner's float dtype and is cached (read-only), since
    programs repeat the same few numbers.
    """
    if type(value) is float or type(value) is int:
        dtype = "d"
        for other in inputs:
            if isinstance(other, Variable):
                if other._data.dtype.kind == "f":
                    dtype = other._data.dtype.char
                break
            if type(other) is np.ndarray:
                if other.dtype.kind == "f":
                    dtype = other.dtype.char
                break
        key = (value, dtype)
        constant = _CONSTANTS.get(key) if value else None  # 0 == -0.0: never share zeros
        if constant is None:
            if len(_CONSTANTS) > 4096:
                _CONSTANTS.clear()
            array = np.array(value, dtype=dtype)
            array.flags.writeable = False
            constant = _CONSTANTS[key] = Variable.constant(array)
        return constant
    array = np.asarray(value.data if isinstance(value, Variable) else value)
    if array.dtype.kind not in "fc":
        array = array.astype(np.float64)
    return Variable.constant(array)


def holds_variable(items: list | tuple) -> bool:
    """Whether a (nested) list or tuple holds a Variable anywhere."""
    stack = [items]
    while stack:
        for item in stack.pop():
            if isinstance(item, Variable):
                return True
            if type(item) is list or type(item) is tuple:
                stack.append(item)
    return False


def stack_list(items: list | tuple) -> Variable:
    """A (nested) list holding Variables as one Variable in the graph: its elements
    stacked along a new first axis (numbers and arrays among them become constants)."""
    from gradcli.autograd.ops.shape import stack

    if not items:
        raise ValueError("an empty list cannot be stacked into an array")
    return stack([stack_list(i) if (type(i) is list or type(i) is tuple) and holds_variable(i)
                  else i for i in items])


def check_versions(fn: Function) -> None:
    """Raise if an input of ``fn``, or a Variable it saved with ``save_for_backward``, was
    changed in place after ``fn`` recorded it: its backward rule would read the new value
    and give a wrong gradient. (Saved arrays need no check: in-place operations never
    write into an array, they give the Variable a new one.)"""
    saved = getattr(fn, "saved", None)
    kept = saved if type(saved) is tuple else ()
    for k, v in enumerate((*fn.inputs, *kept)):
        if getattr(v, "_version", 0) > fn.seq:
            what = (f"its input {k + 1}" if k < len(fn.inputs)
                    else "a value it saved for backward")
            raise BackwardError(
                f"{fn.name}: {what} (shape {v.shape}) was changed in place after "
                f"{fn.name} used it, and its gradient needs the old value; make the change "
                "after backward(), or compute a new value instead (y = x - ... rather than "
                "x -= ...)"
            )


from gradcli.autograd.variable import Variable  # noqa: E402  (Variable's operators use Function)
