"""The operation catalogue: every differentiable function, by its NumPy name.

Each family lives in its own module; this module gathers the functions users call.
"""

import numpy as np

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
    concatenate,
    expand_dims,
    flatten,
    moveaxis,
    reshape,
    squeeze,
    stack,
    swapaxes,
    transpose,
)


def detach(x):
    """The same value, cut from the graph."""
    from gradcli.autograd.variable import Variable

    return x.detach() if isinstance(x, Variable) else np.asarray(x)  # arrays stay arrays


__all__ = [
    "abs", "add", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh",
    "broadcast_to", "cbrt", "ceil", "cholesky", "clip", "concatenate", "cos", "cosh", "cross",
    "deg2rad", "det", "detach", "diag", "diagonal", "divide", "dot", "eigvalsh", "einsum",
    "equal", "erf", "erfc", "exp", "exp2", "expand_dims", "expm1", "flatten", "floor",
    "floor_divide", "getitem", "greater", "greater_equal", "hypot", "inner", "inv", "kron",
    "less", "less_equal", "log", "log10", "log1p", "log2", "log_softmax", "logaddexp", "logit",
    "logsumexp", "matmul", "max", "maximum", "mean", "min", "minimum", "mod", "moveaxis",
    "multiply", "negative", "norm", "not_equal", "outer", "pinv", "positive", "power", "prod",
    "rad2deg", "reciprocal", "relu", "reshape", "round", "sigmoid", "sign", "sin", "sinh",
    "slogdet", "softmax", "softplus", "solve", "sqrt", "square", "squeeze", "stack", "std",
    "subtract", "sum", "svdvals", "swapaxes", "tan", "tanh", "tensordot", "trace", "transpose",
    "tril", "triu", "var", "where",
]
