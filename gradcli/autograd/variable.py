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
    """

    __slots__ = ("data", "grad", "creator", "requires_grad", "__weakref__")

    # NumPy must hand `array + variable` to Variable.__radd__, not loop over elements.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        if isinstance(data, Variable):
            data = data.data
        array = np.asarray(data)
        if array.dtype.kind not in "fc":
            array = array.astype(np.float64)
        self.data = array
        self.grad: Variable | None = None
        self.creator = None
        self.requires_grad = bool(requires_grad)

    @classmethod
    def constant(cls, array: np.ndarray) -> Variable:
        """``array`` (already a float ndarray) as a Variable that needs no gradient, made
        without ``__init__``'s conversions: how operations and the language's constants
        make one on their hot paths."""
        v = cls.__new__(cls)
        v.data = array
        v.grad = v.creator = None
        v.requires_grad = False
        return v

    # -- array facts -------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        return self.creator is None

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self) -> float:
        return self.data.item()

    def __float__(self) -> float:
        return float(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[Variable]:
        """The rows along the first axis, each a differentiable ``self[i]`` (as NumPy)."""
        if not self.data.ndim:
            raise TypeError("iteration over a 0-d Variable")
        for i in range(len(self.data)):
            yield self[i]

    def __bool__(self) -> bool:
        """The truth of a one-element value (``if loss > 0:``); ambiguous otherwise, as in
        NumPy."""
        return bool(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Variable(")
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
        run_backward(
            [self],
            [grad_output],
            retain_graph=retain_graph or create_graph,
            create_graph=create_graph,
        )

    def detach(self) -> Variable:
        """The same value, cut from the graph (shares the data); a mask stays one."""
        return carry_mask(Variable(self.data), (self,))

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
        return _ew.multiply(self, other)  # (mask * mask is a mask, as NumPy's booleans)

    def __rmul__(self, other: Any) -> Variable:
        return _ew.multiply(other, self)

    def __truediv__(self, other: Any) -> Variable:
        return _ew.Div()(self, other)

    def __rtruediv__(self, other: Any) -> Variable:
        return _ew.Div()(other, self)

    def __pow__(self, other: Any) -> Variable:
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

    # -- methods: reductions and shape -------------------------------------------------

    def sum(self, axis: Any = None, keepdims: bool = False) -> Variable:
        return ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Variable:
        return ops.mean(self, axis=axis, keepdims=keepdims)

    def prod(self, axis: Any = None, keepdims: bool = False) -> Variable:
        return ops.prod(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Variable:
        return ops.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Variable:
        return ops.min(self, axis=axis, keepdims=keepdims)

    def var(self, axis: Any = None, keepdims: bool = False) -> Variable:
        return ops.var(self, axis=axis, keepdims=keepdims)

    def std(self, axis: Any = None, keepdims: bool = False) -> Variable:
        return ops.std(self, axis=axis, keepdims=keepdims)

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Variable:
        return ops.logsumexp(self, axis=axis, keepdims=keepdims)

    def norm(self, axis: Any = None, keepdims: bool = False) -> Variable:
        return ops.norm(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape: Any) -> Variable:
        return ops.reshape(self, *shape)

    def transpose(self, *axes: Any) -> Variable:
        return ops.transpose(self, *axes)

    @property
    def T(self) -> Variable:  # noqa: N802 (NumPy's name)
        return ops.transpose(self)

    def flatten(self) -> Variable:
        return ops.flatten(self)

    def squeeze(self, axis: Any = None) -> Variable:
        return ops.squeeze(self, axis)

    def exp(self) -> Variable:
        return ops.exp(self)

    def log(self) -> Variable:
        return ops.log(self)


from gradcli.autograd import ops  # noqa: E402  (ops build on Variable)
from gradcli.autograd.backward import run_backward  # noqa: E402
from gradcli.autograd.ops import elementwise as _ew  # noqa: E402
from gradcli.autograd.ops.masks import carry_mask  # noqa: E402
