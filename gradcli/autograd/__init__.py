"""The engine: define-by-run reverse-mode autodiff over NumPy arrays.

Knows nothing of text, terminals or files; nothing here imports the rest of gradcli.
"""

from gradcli.autograd.variable import Variable  # noqa: I001  (Variable first: ops build on it)
from gradcli.autograd import ops
from gradcli.autograd.errors import (
    AutogradError,
    BackwardError,
    InPlaceError,
    OperationError,
    SizeLimitError,
)
from gradcli.autograd.function import Function, enable_grad, is_grad_enabled, no_grad
from gradcli.autograd.functional import grad, gradcheck, hessian, jacobian

__all__ = [
    "AutogradError",
    "BackwardError",
    "Function",
    "InPlaceError",
    "OperationError",
    "SizeLimitError",
    "Variable",
    "enable_grad",
    "grad",
    "gradcheck",
    "hessian",
    "is_grad_enabled",
    "jacobian",
    "no_grad",
    "ops",
]
