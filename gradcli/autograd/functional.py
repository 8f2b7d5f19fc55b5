"""Gradients as values: grad, jacobian, hessian, and gradcheck against finite differences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradcli.autograd.backward import run_backward
from gradcli.autograd.errors import BackwardError
from gradcli.autograd.variable import Variable


def _as_list(value: Any, what: str) -> list:
    """``outputs`` or ``inputs`` of :func:`grad`: one Variable or a sequence of them."""
    if isinstance(value, Variable):
        return [value]
    items = list(value) if isinstance(value, list | tuple) else [value]
    for k, v in enumerate(items):
        if not isinstance(v, Variable):
            where = "" if len(items) == 1 else f" (item {k + 1})"
            raise TypeError(
                f"grad(): {what} must be Variables (or a list of them), got "
                f"{type(v).__name__}{where}; a value made from Variables by gradcli's "
                "operations is a Variable, a NumPy array is not"
            )
    return items


def grad(
    outputs: Variable | Sequence[Variable],
    inputs: Variable | Sequence[Variable],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    trace: Callable[[Any, Any, tuple], None] | None = None,
) -> tuple[Variable, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, without touching ``.grad``.

    Returns one Variable per input, in order; an input the outputs do not depend on gets
    zeros, while an input that does not require a gradient is an error (as in PyTorch:
    its gradient was never asked for). ``grad_outputs`` (one per output) is needed for
    non-scalar outputs.
    ``create_graph=True`` makes the returned gradients differentiable. ``trace`` is
    called as ``trace(function, gradient_in, gradients_out)`` for each backward step.
    """
    outs = _as_list(outputs, "outputs")
    ins = _as_list(inputs, "inputs")
    for k, v in enumerate(ins):
        if not v.requires_grad:
            where = "the input" if len(ins) == 1 else f"input {k + 1}"
            raise BackwardError(
                f"grad(): {where} (shape {v.shape}) does not require a gradient; make it "
                "with Variable(..., requires_grad=True) or call .requires_grad_()"
            )
    if grad_outputs is None:
        seeds = [None] * len(outs)
    elif isinstance(grad_outputs, Variable | np.ndarray) or not isinstance(
        grad_outputs, list | tuple
    ):
        seeds = [grad_outputs]
    else:
        seeds = list(grad_outputs)
    if len(seeds) != len(outs):
        raise BackwardError(f"got {len(seeds)} grad_outputs for {len(outs)} outputs")
    if retain_graph is None:
        retain_graph = create_graph
    live = [(o, s) for o, s in zip(outs, seeds) if o.requires_grad]
    found: list[Variable | None] = [None] * len(ins)
    if live:
        found = run_backward(
            [o for o, _ in live],
            [s for _, s in live],
            retain_graph=retain_graph,
            create_graph=create_graph,
            inputs=ins,
            trace=trace,
        )
    return tuple(
        g if g is not None else Variable(np.zeros(v.shape, dtype=v.dtype))
        for g, v in zip(found, ins)
    )


def leaf_gradients(output: Variable, grad_output: Any = None,
                   retain_graph: bool = False) -> tuple[dict[Variable, Variable], bool]:
    """The gradient of ``output`` for every leaf input its backward pass reaches, found by
    that one pass (no walk of the graph first), without touching ``.grad``; and whether
    every edge carried a gradient (if not, a leaf the output depends on with a zero
    gradient may be missing). ``output`` must require a gradient."""
    return run_backward([output], [grad_output], retain_graph=retain_graph, leaves=True)


def jacobian(output: Variable, input: Variable | Sequence[Variable],
             create_graph: bool = False) -> Any:
    """d output / d input as an array of shape ``output.shape + input.shape``; for a list
    of inputs, a list of them, from the same passes.

    One backward pass per output element: meant for small outputs.
    """
    from gradcli.autograd.ops import reshape, stack

    inputs = list(input) if isinstance(input, list | tuple) else [input]
    flat = reshape(output, -1)
    rows: list[list[Variable]] = [[] for _ in inputs]
    for i in range(flat.shape[0]):
        seed = np.zeros(flat.shape, dtype=flat.dtype)
        seed[i] = 1.0
        found = grad(flat, inputs, grad_outputs=seed, retain_graph=True,
                     create_graph=create_graph)
        for row, g in zip(rows, found):
            row.append(g)
    blocks = [reshape(stack(row), output.shape + v.shape) if row else
              Variable(np.zeros(output.shape + v.shape, dtype=v.dtype))
              for row, v in zip(rows, inputs)]
    return blocks if isinstance(input, list | tuple) else blocks[0]


def hessian(output: Variable, input: Variable, create_graph: bool = False) -> Variable:
    """The matrix of second derivatives of a scalar ``output``: shape input.shape * 2."""
    if output.data.size != 1:
        raise BackwardError(f"hessian needs a scalar output, got shape {output.shape}")
    (first,) = grad(output, input, retain_graph=True, create_graph=True)
    return jacobian(first, input, create_graph=create_graph)


class GradcheckError(AssertionError):
    """gradcheck found an analytical gradient that disagrees with finite differences."""


def central_differences(f: Callable[[np.ndarray], float], point: Any, eps: float = 1e-6,
                        indices: Sequence[int] | None = None) -> np.ndarray:
    """``(f(point + eps e_i) - f(point - eps e_i)) / (2 eps)`` at each flat index ``i``
    (every one, without ``indices``), in float64: the one finite-difference routine
    (gradcheck's, and ``gradcli check``'s). ``f`` is given the same work array each time,
    changed in place: it copies what it keeps."""
    work = np.array(point, dtype=np.float64)
    flat = work.reshape(-1)
    chosen = range(flat.size) if indices is None else indices
    numeric = np.zeros(len(chosen))
    for n, i in enumerate(chosen):
        saved = flat[i]
        flat[i] = saved + eps
        plus = f(work)
        flat[i] = saved - eps
        minus = f(work)
        flat[i] = saved
        numeric[n] = (plus - minus) / (2 * eps)
    return numeric


def numerical_gradient(
    fn: Callable[..., Variable], inputs: Sequence[Variable], weights: np.ndarray,
    eps: float = 1e-6,
) -> list[np.ndarray]:
    """Central differences of ``sum(fn(*inputs) * weights)`` for each input, in float64."""
    results = []
    # Not under no_grad: fn may itself take gradients (checking second derivatives).
    for v in inputs:
        original = v.data

        def at(work: np.ndarray, v: Variable = v) -> float:
            v.data = work
            return float(np.sum(np.asarray(fn(*inputs).data, dtype=np.float64) * weights))

        numeric = central_differences(at, original, eps)
        v.data = original
        results.append(numeric.reshape(np.shape(original)))
    return results


def gradcheck(
    fn: Callable[..., Variable],
    inputs: Sequence[Variable],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Compare ``fn``'s gradients with central finite differences in float64.

    ``fn`` maps the input Variables to a Variable of any shape; it is reduced to a scalar
    with fixed random weights so one backward pass checks every input element. On a
    mismatch raises GradcheckError naming the input, the worst element and both values
    (or returns False with ``raise_exception=False``).
    """
    inputs = list(inputs)
    for v in inputs:
        v.data = np.asarray(v.data, dtype=np.float64)
    out = fn(*inputs)
    weights = np.random.default_rng(seed).uniform(0.5, 1.5, size=out.shape)
    wanted = [v for v in inputs if v.requires_grad]
    if out.requires_grad:
        analytic = grad(out, wanted, grad_outputs=weights)
    else:
        analytic = tuple(Variable(np.zeros(v.shape)) for v in wanted)
    numeric = numerical_gradient(fn, wanted, weights, eps)
    for index, (v, a, n) in enumerate(zip(wanted, analytic, numeric)):
        a = a.data
        if a.shape != n.shape:
            message = f"input {index}: gradient shape {a.shape}, expected {n.shape}"
        else:
            error = np.abs(a - n)
            allowed = atol + rtol * np.abs(n)
            bad = ~(error <= allowed)
            if not bad.any():
                continue
            worst = np.unravel_index(int(np.argmax(np.where(bad, error - allowed, -np.inf))),
                                     a.shape) if a.ndim else ()
            message = (
                f"input {index} (shape {v.shape}): worst element {tuple(int(i) for i in worst)}"
                f": analytical {a[worst]!r}, numerical {n[worst]!r}, "
                f"error {error[worst]:.3g} > allowed {allowed[worst]:.3g} "
                f"({int(bad.sum())} of {a.size} elements off)"
            )
        if raise_exception:
            raise GradcheckError(message)
        return False
    return True
