"""The operation catalogue: every differentiable function, by its NumPy name.

Each family lives in its own module; this module gathers the functions users call.
"""

import numpy as np

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
    divide,
    equal,
    exp,
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
    maximum,
    minimum,
    mod,
    multiply,
    negative,
    not_equal,
    positive,
    power,
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
from gradcli.autograd.ops.linalg import det, dot, inv, matmul, outer, solve, trace
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
    concatenate,
    expand_dims,
    flatten,
    reshape,
    squeeze,
    stack,
    transpose,
)


def detach(x):
    """The same value, cut from the graph."""
    from gradcli.autograd.variable import Variable

    return x.detach() if isinstance(x, Variable) else np.asarray(x)  # arrays stay arrays


__all__ = [
    "abs", "add", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh",
    "broadcast_to", "cbrt", "ceil", "clip", "concatenate", "cos", "cosh", "det", "detach",
    "divide", "dot", "equal", "exp", "expand_dims", "expm1", "flatten", "floor", "floor_divide",
    "getitem",
    "greater", "greater_equal", "hypot", "inv", "less", "less_equal", "log", "log1p", "log2",
    "log10", "log_softmax", "logsumexp", "matmul", "max", "maximum", "mean", "min",
    "minimum", "mod", "multiply", "negative", "norm", "not_equal", "outer", "positive", "power",
    "prod", "reciprocal", "relu", "reshape", "round", "sigmoid", "sign", "sin", "sinh",
    "softmax", "softplus", "solve", "sqrt", "square", "squeeze", "stack", "std", "subtract",
    "sum", "tan", "tanh", "trace", "transpose", "var", "where",
]
