"""Variable: a NumPy array that remembers the Function that made it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np


class Variable:
    """A value in the graph.

    ``data`` is the ndarray; ``grad`` is a Variable (or None) filled by ``backward``;
    ``creator`` is the Function that made this Variable (None for one made by the user);
    ``requires_grad`` says whether gradients flow to it.

    ``Variable(array)`` keeps a floating-point ndarray as it is, without a copy (as
    ``torch.from_numpy``; 10^7-element inputs cost no second array), and gradcli never
    writes into it: in-place operations (``v -= g``) give ``v`` a new array. Anything
    else (lists, numbers, integer or boolean arrays) becomes a new float64 array.
    ``copy=True`` makes a private copy of any input.
    """

    __slots__ = ("_data", "grad", "creator", "requires_grad", "_version", "__weakref__")

    def __init__(self, data: Any, requires_grad: bool = False, copy: bool = False) -> None:
        if isinstance(data, Variable):
            data = data._data
        if type(data) is not np.ndarray:
            if isinstance(data, list | tuple) and holds_variable(data):
                data = stack_list(data)._data  # the values; a new leaf has no graph behind it
            array = np.asarray(data)
        else:
            array = data
        if array.dtype.kind not in "fc":
            array = array.astype(np.float64)
        elif copy and isinstance(data, np.ndarray):  # (an ndarray subclass: a view of it)
            array = array.copy()
        self._data = array
        self.grad: Variable | None = None
        self.creator = None
        self.requires_grad = bool(requires_grad)

    @classmethod
    def constant(cls, array: np.ndarray) -> Variable:
        """``array`` (already a float ndarray) as a Variable that needs no gradient, made
        without ``__init__``'s conversions: how operations and the language's constants
        make one on their hot paths."""
        v = cls.__new__(cls)
        v._data = array
        v.grad = v.creator = None
        v.requires_grad = False
        return v

    @classmethod
    def from_numpy(cls, array: np.ndarray, requires_grad: bool = False) -> Variable:
        """A Variable holding ``array`` itself (PyTorch's name; ``Variable(array)`` does
        the same for a float array). Raises for an array that is not floating point,
        which would need a converted copy."""
        if not isinstance(array, np.ndarray) or array.dtype.kind not in "fc":
            what = type(array).__name__ if not isinstance(array, np.ndarray) else array.dtype
            raise TypeError(f"Variable.from_numpy needs a float or complex ndarray, got "
                            f"{what}; Variable(...) converts other values (a copy)")
        return cls(array, requires_grad=requires_grad)

    def _get_data(self) -> np.ndarray:
        return self._data

    def _set_data(self, value: Any) -> None:
        """``v.data = ...`` keeps an ndarray inside: a Variable gives its values (as in
        ``q.data = q.data - 0.1 * v``), other values are converted as ``Variable()``
        converts them. A Variable whose data is replaced counts as changed in place."""
        if isinstance(value, Variable):
            value = value._data
        elif type(value) is not np.ndarray:
            value = np.asarray(value)
        if value.dtype.kind not in "fc":
            value = value.astype(np.float64)
        fresh = not hasattr(self, "_data")
        self._data = value
        if not fresh:
            _count_change(self)

    data = property(_get_data, _set_data, doc="The values, an ndarray.")

    # -- array facts -------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def is_leaf(self) -> bool:
        return self.creator is None

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if dtype is not None and dtype != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def numpy(self) -> np.ndarray:
        return self._data

    def item(self) -> float:
        return self._data.item()

    def __float__(self) -> float:
        return float(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[Variable]:
        """The rows along the first axis, each a differentiable ``self[i]`` (as NumPy)."""
        if not self._data.ndim:
            raise TypeError("iteration over a 0-d Variable")
        for i in range(len(self._data)):
            yield self[i]

    def __bool__(self) -> bool:
        """The truth of a one-element value (``if loss > 0:``); ambiguous otherwise, as in
        NumPy."""
        return bool(self._data)

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="Variable(")
        extra = ""
        if self.creator is not None:
            extra = f", creator={self.creator.name}"
        elif self.requires_grad:
            extra = ", requires_grad=True"
        return f"Variable({body}{extra})"

    __hash__ = object.__hash__

    # -- autograd ----------------------------------------------------------------------

    def backward(
        self,
        grad_output: Any = None,
        retain_graph: bool = False,
        create_graph: bool = False,
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        A scalar needs no ``grad_output``; otherwise pass one of exactly ``self.shape``.
        The graph's saved values are released afterwards unless ``retain_graph``;
        ``create_graph`` makes the gradients differentiable (higher-order derivatives).
        """
        run_backward((self,), (grad_output,), retain_graph=retain_graph or create_graph,
                     create_graph=create_graph)

    def detach(self) -> Variable:
        """The same value, cut from the graph (shares the data); a mask stays one."""
        return carry_mask(Variable(self._data), (self,))

    def requires_grad_(self, flag: bool = True) -> Variable:
        self.requires_grad = flag
        return self

    def zero_grad(self) -> None:
        self.grad = None

    # -- operators ---------------------------------------------------------------------

    def __add__(self, other: Any) -> Variable:
        return _ew.Add()(self, other)

    def __radd__(self, other: Any) -> Variable:
        return _ew.Add()(other, self)

    def __sub__(self, other: Any) -> Variable:
        return _ew.Sub()(self, other)

    def __rsub__(self, other: Any) -> Variable:
        return _ew.Sub()(other, self)

    def __mul__(self, other: Any) -> Variable:
        out = _ew.Mul()(self, other)  # ops.multiply, one call less
        return carry_mask(out, (self, other)) if MASKS else out  # mask * mask: a mask

    def __rmul__(self, other: Any) -> Variable:
        out = _ew.Mul()(other, self)
        return carry_mask(out, (other, self)) if MASKS else out

    def __truediv__(self, other: Any) -> Variable:
        return _ew.Div()(self, other)

    def __rtruediv__(self, other: Any) -> Variable:
        return _ew.Div()(other, self)

    def __mod__(self, other: Any) -> Variable:
        return ops.mod(self, other)

    def __rmod__(self, other: Any) -> Variable:
        return ops.mod(other, self)

    def __floordiv__(self, other: Any) -> Variable:
        return ops.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Variable:
        return ops.floor_divide(other, self)

    def __pow__(self, other: Any) -> Variable:
        if type(other) is int or type(other) is float:  # x ** 2: ops.power's common case
            return _ew.PowConst(float(other))(self)
        return ops.power(self, other)

    def __rpow__(self, other: Any) -> Variable:
        return ops.power(other, self)

    def __matmul__(self, other: Any) -> Variable:
        return ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Variable:
        return ops.matmul(other, self)

    def __neg__(self) -> Variable:
        return _ew.Neg()(self)

    def __pos__(self) -> Variable:
        return self

    def __abs__(self) -> Variable:
        return ops.abs(self)

    def __getitem__(self, index: Any) -> Variable:
        return ops.getitem(self, index)

    def __lt__(self, other: Any) -> Variable:
        return ops.less(self, other)

    def __le__(self, other: Any) -> Variable:
        return ops.less_equal(self, other)

    def __gt__(self, other: Any) -> Variable:
        return ops.greater(self, other)

    def __ge__(self, other: Any) -> Variable:
        return ops.greater_equal(self, other)

    def __eq__(self, other: Any) -> Variable:  # type: ignore[override]
        return ops.equal(self, other)

    def __ne__(self, other: Any) -> Variable:  # type: ignore[override]
        return ops.not_equal(self, other)

    # -- in place (PyTorch's rules) ----------------------------------------------------

    def __iadd__(self, other: Any) -> Variable:
        return self._update(ops.add, other, "+=")

    def __isub__(self, other: Any) -> Variable:
        return self._update(ops.subtract, other, "-=")

    def __imul__(self, other: Any) -> Variable:
        return self._update(ops.multiply, other, "*=")

    def __itruediv__(self, other: Any) -> Variable:
        return self._update(ops.divide, other, "/=")

    def __ipow__(self, other: Any) -> Variable:
        return self._update(ops.power, other, "**=")

    def add_(self, other: Any, alpha: float = 1.0) -> Variable:
        """``self += alpha * other``, in place."""
        return self._update(ops.add, other if alpha == 1 else alpha * other, "add_")

    def sub_(self, other: Any, alpha: float = 1.0) -> Variable:
        """``self -= alpha * other``, in place."""
        return self._update(ops.subtract, other if alpha == 1 else alpha * other, "sub_")

    def mul_(self, other: Any) -> Variable:
        return self._update(ops.multiply, other, "mul_")

    def div_(self, other: Any) -> Variable:
        return self._update(ops.divide, other, "div_")

    def copy_(self, source: Any) -> Variable:
        """The values of ``source`` (broadcast to this shape), in place."""
        shape = self._data.shape
        return self._update(lambda _, src: ops.broadcast_to(src, shape), source, "copy_")

    def fill_(self, value: float) -> Variable:
        return self.copy_(float(value))

    def zero_(self) -> Variable:
        return self.copy_(0.0)

    def _update(self, op: Any, other: Any, name: str) -> Variable:
        """``self`` becomes ``op(self, other)``, PyTorch's way: under ``no_grad()`` or when
        nothing involved needs a gradient, the values change and the graph does not; else
        the change is recorded (self's creator becomes ``op``), except on a leaf that
        requires a gradient, where it would be lost, which is an error. The result goes in
        a new array (the caller's array, views and saved values are never written to) and
        the version count rises, so a backward pass through a Function that used the old
        value raises instead of giving a wrong gradient."""
        if (type(other) is list or type(other) is tuple) and holds_variable(other):
            other = stack_list(other)  # v += [a, b]: the list joins the graph first
        record = GRAD_MODE.enabled and (
            self.requires_grad or (isinstance(other, Variable) and other.requires_grad)
        )
        if record and self.requires_grad and self.creator is None:
            raise InPlaceError(
                f"{name}: this Variable is a leaf that requires a gradient, and changing it "
                "in place would lose that gradient; for an update step write it inside "
                "`with gradcli.no_grad():`, or compute a new value (y = x + ...)"
            )
        before = Variable.constant(self._data)
        if record:
            before.creator = self.creator
            before.requires_grad = self.requires_grad
            result = op(before, other)
        else:
            previous = GRAD_MODE.enabled
            GRAD_MODE.enabled = False
            try:
                result = op(before, other)
            finally:
                GRAD_MODE.enabled = previous
        data = result._data if isinstance(result, Variable) else np.asarray(result)
        shape = self._data.shape
        if data.shape != shape:
            raise InPlaceError(
                f"{name}: the result has shape {data.shape} but this Variable has shape "
                f"{shape}; an in-place operation cannot change a shape"
            )
        if data.dtype != self._data.dtype:
            data = data.astype(self._data.dtype)
        elif data.base is not None or not data.flags.writeable:
            data = data.copy()  # a view of another value (copy_): memory of its own
        self._data = data
        if record:
            self.creator = result.creator
            self.requires_grad = True
        if MASKS and not is_mask(result):
            MASKS.pop(id(self), None)  # a comparison's result changed: no longer a mask
        _count_change(self)
        return self

    # -- methods beyond the operations (the rest are generated below) -----------------

    @property
    def grad_fn(self) -> Any:
        """PyTorch's name for ``creator``."""
        return self.creator

    @property
    def T(self) -> Variable:  # noqa: N802 (NumPy's name)
        return ops.transpose(self)

    def t(self) -> Variable:
        """The transpose of a matrix (a 0-d or 1-d value as it is), as PyTorch's."""
        if self._data.ndim > 2:
            raise ValueError(f"t() expects at most 2 dimensions, this value has "
                             f"{self._data.ndim}; use transpose(...) with the axes")
        return ops.transpose(self)

    def clamp(self, min: Any = None, max: Any = None) -> Variable:  # noqa: A002 (torch's)
        """``clip(self, min, max)`` with either bound optional, as PyTorch's."""
        if min is None and max is None:
            raise ValueError("clamp() needs min, max, or both")
        return ops.clip(self, -np.inf if min is None else min, np.inf if max is None else max)

    def tolist(self) -> Any:
        return self._data.tolist()

    def numel(self) -> int:
        return self._data.size

    def dim(self) -> int:
        return self._data.ndim

    def argmax(self, axis: Any = None) -> Any:
        """The index of the largest element (along axis): integers, no gradient."""
        return np.argmax(self._data, axis=axis)

    def argmin(self, axis: Any = None) -> Any:
        """The index of the smallest element (along axis): integers, no gradient."""
        return np.argmin(self._data, axis=axis)

    # -- NumPy's functions on Variables ------------------------------------------------

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """``np.exp(v)``, ``array + v``: the gradcli operation of the same name. A ufunc
        writing into an ndarray (``p.data -= lr * p.grad``) works on the raw values, as
        PyTorch's ``.data``; one with no gradient rule is an error naming the way out."""
        out = kwargs.get("out")
        if out is not None:
            if any(isinstance(o, Variable) for o in out):
                raise TypeError(
                    f"np.{ufunc.__name__}(..., out=...) cannot write into a Variable; "
                    "use its in-place operators under no_grad() (v -= g, v.copy_(...))"
                )
            raw = [i._data if isinstance(i, Variable) else i for i in inputs]
            return getattr(ufunc, method)(*raw, **kwargs)
        op = numpy_op(ufunc.__name__) if method == "__call__" else None
        if op is not None:
            if kwargs:
                raise TypeError(f"np.{ufunc.__name__} on a Variable runs gradcli.ops."
                                f"{op.__name__}, which takes no keyword arguments "
                                f"({', '.join(sorted(kwargs))})")
            return op(*inputs)
        if method == "__call__" and not kwargs and all(t.endswith("?") for t in ufunc.types):
            # a test (isnan, isfinite...): nothing to differentiate, the raw answer
            return ufunc(*[i._data if isinstance(i, Variable) else i for i in inputs])
        raise TypeError(_no_numpy_op(f"np.{ufunc.__name__}"
                                     + ("" if method == "__call__" else f".{method}")))

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        """``np.sum(v, axis=0)``, ``np.concatenate([a, b])``: the gradcli operation of the
        same name; functions that only inspect values (np.shape, np.allclose...) see the
        raw arrays; others are an error naming the way out."""
        name = func.__name__
        op = numpy_op(name)
        if op is not None:
            if kwargs.get("out") is not None:
                raise TypeError(f"np.{name}(..., out=...) cannot write a Variable's result "
                                f"into an array; use gradcli.ops.{name}(...)")
            kwargs = {k: v for k, v in kwargs.items() if k != "out"}
            args, kwargs = _numpy_positional(name, args, kwargs)
            try:
                return op(*args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"np.{name} on a Variable runs gradcli.ops.{op.__name__}, "
                                f"which cannot take these arguments: {exc}") from None
        if name in _INSPECTION:
            return func(*_raw(args), **_raw(kwargs))
        raise TypeError(_no_numpy_op(f"np.{name}"))


# NumPy's names for gradcli operations that are spelled differently
_NUMPY_NAMES = {"absolute": "abs", "true_divide": "divide", "amax": "max", "amin": "min",
                "around": "round", "round_": "round", "rint": "round", "ravel": "flatten",
                "remainder": "mod", "radians": "deg2rad", "degrees": "rad2deg",
                "diff": "differences"}
# NumPy functions whose positional parameters after the first differ from gradcli's
# (np.linalg.norm(v, 2) is ord=2, not axis=2): they are passed on by name
_NUMPY_POSITIONAL = {
    "norm": ("ord", "axis", "keepdims"),
    "var": ("axis", "dtype", "out", "ddof", "keepdims"),
    "std": ("axis", "dtype", "out", "ddof", "keepdims"),
}


def _numpy_positional(name: str, args: Any, kwargs: dict) -> tuple[Any, dict]:
    """NumPy's positional arguments named as NumPy names them, where gradcli's differ."""
    names = _NUMPY_POSITIONAL.get(name)
    if names is None or len(args) <= 1:
        return args, kwargs
    if len(args) - 1 > len(names):
        raise TypeError(f"np.{name}: too many positional arguments")
    named = dict(zip(names, args[1:]))
    for unused in ("dtype", "out"):
        if named.get(unused, None) is None:
            named.pop(unused, None)
    return args[:1], {**named, **kwargs}
# NumPy functions that only inspect values (shapes, tests, indices, text): the raw arrays
# answer them. Anything that makes new values (np.sort, np.median...) is refused rather
# than silently dropping the graph.
_INSPECTION = frozenset({
    "shape", "ndim", "size", "allclose", "isclose", "array_equal", "array_equiv",
    "argmax", "argmin", "argsort", "argwhere", "nonzero", "flatnonzero", "count_nonzero",
    "searchsorted", "any", "all", "iscomplexobj", "isrealobj", "array_repr", "array_str",
    "array2string", "result_type", "may_share_memory", "shares_memory", "save", "savetxt",
})


_NUMPY_OPS: dict[str, Any] = {}


def numpy_op(name: str) -> Any:
    """The gradcli operation for NumPy's function ``name``, or None."""
    if not _NUMPY_OPS:  # filled on first use, once every operation is in the catalogue
        _NUMPY_OPS.update((n, getattr(ops, n)) for n in ops.__all__)
        _NUMPY_OPS.update((n, _NUMPY_OPS[o]) for n, o in _NUMPY_NAMES.items())
    return _NUMPY_OPS.get(name)


def _raw(value: Any) -> Any:
    """Arguments with every Variable (also inside lists and dicts) as its ndarray."""
    if isinstance(value, Variable):
        return value._data
    if type(value) is list or type(value) is tuple:
        return type(value)(_raw(v) for v in value)
    if type(value) is dict:
        return {k: _raw(v) for k, v in value.items()}
    return value


def _no_numpy_op(what: str) -> str:
    return (f"{what} has no gradient rule in gradcli; use a gradcli operation "
            "(gradcli.ops, or a Variable method), or np.asarray(v) to compute on the "
            "raw values without a gradient")


def _count_change(v: Variable) -> None:
    """Record that ``v``'s values changed in place (see Variable._update)."""
    v._version = GRAD_MODE.version = next_node()  # (after every Function recorded so far)


# Every operation is also a method (v.relu(), v.sum(axis=0)), generated from the
# catalogue, except those whose first argument is not the array they act on.
NOT_METHODS = frozenset({"concatenate", "stack", "where", "getitem", "detach", "einsum",
                         "hstack", "vstack", "column_stack"})
# PyTorch's names for the same methods
METHOD_ALIASES = {
    "pow": "power", "sub": "subtract", "mul": "multiply", "div": "divide", "neg": "negative",
    "absolute": "abs", "asin": "arcsin", "acos": "arccos", "atan": "arctan",
    "asinh": "arcsinh", "acosh": "arccosh", "atanh": "arctanh", "atan2": "arctan2",
    "eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal", "gt": "greater",
    "ge": "greater_equal", "inverse": "inv", "view": "reshape", "mm": "matmul",
    "unsqueeze": "expand_dims", "permute": "transpose",
}
# PyTorch's keyword names for NumPy's
_KEYWORD_ALIASES = {"dim": "axis", "keepdim": "keepdims"}


def _method(name: str, op: Any) -> Any:
    def method(self: Variable, *args: Any, **kwargs: Any) -> Variable:
        if kwargs:  # v.sum(dim=0, keepdim=True) as v.sum(axis=0, keepdims=True)
            kwargs = {_KEYWORD_ALIASES.get(k, k): v for k, v in kwargs.items()}
        return op(self, *args, **kwargs)

    method.__name__ = name
    method.__qualname__ = f"Variable.{name}"
    method.__doc__ = f"``gradcli.ops.{op.__name__}(self, ...)``" + (
        f": {op.__doc__.strip().splitlines()[0]}" if op.__doc__ else "")
    return method


def method_names() -> dict[str, str]:
    """Every generated method -> the operation it calls."""
    names = {n: n for n in ops.__all__ if n not in NOT_METHODS}
    names.update((alias, n) for alias, n in METHOD_ALIASES.items() if n in names)
    return names


from gradcli.autograd import ops  # noqa: E402  (ops build on Variable)
from gradcli.autograd.backward import run_backward  # noqa: E402
from gradcli.autograd.errors import InPlaceError  # noqa: E402
from gradcli.autograd.function import GRAD_MODE, holds_variable, stack_list  # noqa: E402
from gradcli.autograd.limits import next_node  # noqa: E402
from gradcli.autograd.ops import elementwise as _ew  # noqa: E402
from gradcli.autograd.ops.masks import MASKS, carry_mask, is_mask  # noqa: E402

for _name, _op_name in method_names().items():
    if _name not in Variable.__dict__:
        setattr(Variable, _name, _method(_name, getattr(ops, _op_name)))


def _whole(general: Any, cls: type) -> Any:
    """``v.sum()``, ``v.mean()`` without arguments (a loss's last step) call their
    Function at once; with arguments, the generated method."""
    def method(self: Variable, *args: Any, **kwargs: Any) -> Variable:
        if args or kwargs:
            return general(self, *args, **kwargs)
        return cls()(self)

    method.__name__ = general.__name__
    method.__qualname__ = general.__qualname__
    method.__doc__ = general.__doc__
    return method


Variable.sum = _whole(Variable.sum, ops.reductions.Sum)
Variable.mean = _whole(Variable.mean, ops.reductions.Mean)
