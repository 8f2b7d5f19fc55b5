"""The operation catalogue: every differentiable function, by its NumPy name.

Each family lives in its own module; this module gathers the functions users call.
"""

import numpy as np

from gradcli.autograd.ops.cumulative import (
    cumprod,
    cumsum,
    differences,
    sort,
)
from gradcli.autograd.ops.decompositions import (
    cholesky,
    eigvalsh,
    pinv,
    slogdet,
    svdvals,
)
from gradcli.autograd.ops.elementwise import (
    abs,
    add,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    cbrt,
    ceil,
    clip,
    cos,
    cosh,
    deg2rad,
    divide,
    equal,
    erf,
    erfc,
    exp,
    exp2,
    expm1,
    floor,
    floor_divide,
    greater,
    greater_equal,
    hypot,
    less,
    less_equal,
    log,
    log1p,
    log2,
    log10,
    logaddexp,
    logaddexp2,
    logit,
    maximum,
    minimum,
    mod,
    multiply,
    negative,
    not_equal,
    positive,
    power,
    rad2deg,
    reciprocal,
    relu,
    round,
    sigmoid,
    sign,
    sin,
    sinh,
    softplus,
    sqrt,
    square,
    subtract,
    tan,
    tanh,
    where,
)
from gradcli.autograd.ops.indexing import getitem
from gradcli.autograd.ops.linalg import (
    cross,
    det,
    diag,
    diagonal,
    dot,
    einsum,
    inner,
    inv,
    kron,
    matmul,
    outer,
    solve,
    tensordot,
    trace,
    tril,
    triu,
)
from gradcli.autograd.ops.reductions import (
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    softmax,
    std,
    sum,
    var,
)
from gradcli.autograd.ops.shape import (
    broadcast_to,
    column_stack,
    concatenate,
    expand_dims,
    flatten,
    flip,
    hsplit,
    hstack,
    moveaxis,
    pad,
    repeat,
    reshape,
    roll,
    split,
    squeeze,
    stack,
    swapaxes,
    tile,
    transpose,
    vsplit,
    vstack,
)


def detach(x):
    """The same value, cut from the graph."""
    from gradcli.autograd.variable import Variable

    return x.detach() if isinstance(x, Variable) else np.asarray(x)  # arrays stay arrays


def _rules_take_scalars() -> None:
    """Mark every Function defined here (the built-in rules) as taking a NumPy scalar
    gradient (see Function.scalar_gradients); a user's own subclass is handed arrays."""
    from gradcli.autograd.function import Function

    stack = [Function]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith(__name__ + "."):
            cls.scalar_gradients = True


_rules_take_scalars()

__all__ = [
    "abs", "add", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh",
    "broadcast_to", "cbrt", "ceil", "cholesky", "clip", "column_stack", "concatenate",
    "cos", "cosh", "cross", "cumprod", "cumsum", "deg2rad", "det", "detach", "diag",
    "diagonal", "differences", "divide", "dot", "eigvalsh", "einsum", "equal", "erf",
    "erfc", "exp", "exp2", "expand_dims", "expm1", "flatten", "flip", "floor",
    "floor_divide", "getitem", "greater", "greater_equal", "hsplit", "hstack", "hypot",
    "inner", "inv", "kron", "less", "less_equal", "log", "log10", "log1p", "log2",
    "log_softmax", "logaddexp", "logaddexp2", "logit", "logsumexp", "matmul", "max",
    "maximum", "mean", "min", "minimum", "mod", "moveaxis", "multiply", "negative", "norm",
    "not_equal", "outer", "pad", "pinv", "positive", "power", "prod", "rad2deg",
    "reciprocal", "relu", "repeat", "reshape", "roll", "round", "sigmoid", "sign", "sin",
    "sinh", "slogdet", "softmax", "softplus", "solve", "sort", "split", "sqrt", "square",
    "squeeze", "stack", "std", "subtract", "sum", "svdvals", "swapaxes", "tan", "tanh",
    "tensordot", "tile", "trace", "transpose", "tril", "triu", "var", "vsplit", "vstack",
    "where",
]
