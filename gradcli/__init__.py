"""gradcli: reverse-mode automatic differentiation over NumPy, behind a small math language.

The public names are imported lazily, so ``gradcli --help`` never loads NumPy. They are
exactly ``__all__`` (what ``dir(gradcli)`` shows), as README.md's Python API lists them.
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

__version__ = "0.1.0"

_PUBLIC = {
    "Variable": "gradcli.autograd.variable",
    "Function": "gradcli.autograd.function",
    "no_grad": "gradcli.autograd.function",
    "enable_grad": "gradcli.autograd.function",
    "is_grad_enabled": "gradcli.autograd.function",
    "grad": "gradcli.autograd.functional",
    "jacobian": "gradcli.autograd.functional",
    "hessian": "gradcli.autograd.functional",
    "gradcheck": "gradcli.autograd.functional",
    "ops": "gradcli.autograd",
    "evaluate": "gradcli.lang.session",
    "diff": "gradcli.lang.symbolic.formula",
    "Session": "gradcli.lang.session",
}

__all__ = [
    "Function",
    "Session",
    "Variable",
    "__version__",
    "diff",
    "enable_grad",
    "evaluate",
    "grad",
    "gradcheck",
    "hessian",
    "is_grad_enabled",
    "jacobian",
    "no_grad",
    "ops",
]

if _TYPE_CHECKING:
    from gradcli.autograd import ops
    from gradcli.autograd.function import Function, enable_grad, is_grad_enabled, no_grad
    from gradcli.autograd.functional import grad, gradcheck, hessian, jacobian
    from gradcli.autograd.variable import Variable
    from gradcli.lang.session import Session, evaluate
    from gradcli.lang.symbolic.formula import diff


def __getattr__(name: str) -> _Any:
    module_name = _PUBLIC.get(name)
    if module_name is None:
        raise AttributeError(f"module 'gradcli' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names only (not the submodules imported so far, nor typing's names)."""
    return sorted(__all__)
