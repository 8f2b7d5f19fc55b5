"""The backward pass: iterative, counting each node's pending consumers.

No recursion anywhere, so a chain of a million operations needs no more stack than a
chain of one. Gradients meeting at a node are summed before the node runs; saved values
are released as soon as a node has run, unless ``retain_graph``.

Two modes: with ``create_graph`` gradients are Variables and every rule records itself
(so gradients can be differentiated again); without it they are plain arrays and the
rules build nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradcli.autograd.errors import BackwardError
from gradcli.autograd.function import GRAD_MODE, Function, check_versions
from gradcli.autograd.variable import Variable

FREED = (
    "the graph behind this value was freed by an earlier backward(); "
    "pass retain_graph=True to the first backward() to go through it again"
)

# Below this many elements, expanding a gradient by copying beats making a broadcast view.
_SMALL = 4096


def _seed_gradient(output: Variable, grad_output: Any, create_graph: bool) -> Any:
    """The gradient that starts the pass: a Variable when recording, else an array."""
    if grad_output is None:
        if output._data.size != 1:
            raise BackwardError(
                f"backward() of a non-scalar output of shape {output.shape} needs a "
                f"grad_output of shape {output.shape}"
            )
        shape = output._data.shape
        seed = (np.array(1.0, dtype=output._data.dtype) if not shape
                else np.ones(shape, dtype=output._data.dtype))
    elif isinstance(grad_output, Variable):
        seed = grad_output if create_graph else np.array(grad_output._data,
                                                         dtype=output._data.dtype)
    else:
        seed = np.array(grad_output, dtype=output._data.dtype)
    if seed.shape != output.shape:
        raise BackwardError(
            f"grad_output has shape {seed.shape} but the output has shape {output.shape}; "
            "they must match exactly"
        )
    if create_graph and not isinstance(seed, Variable):
        seed = Variable(seed)
    return seed


def _pending_counts(roots: list[Function]) -> dict[Function, int]:
    """For every Function reachable from the roots, how many graph edges lead into it.

    The walk also checks, before any rule runs (so a refused pass frees nothing), that no
    input of a Function changed in place since the Function used it: one int compare
    per Function while nothing changed in place since it ran."""
    pending = dict.fromkeys(roots, 0)
    stack = list(pending)
    modes = GRAD_MODE
    while stack:
        fn = stack.pop()
        inputs = fn.inputs
        if inputs is None:
            raise BackwardError(FREED)
        if fn.epoch != modes.version:
            check_versions(fn)
        for v in inputs:
            creator = v.creator
            if creator is not None:
                count = pending.get(creator)
                if count is None:
                    pending[creator] = 1
                    stack.append(creator)
                else:
                    pending[creator] = count + 1
    return pending


def expand(g: Any, shape: tuple[int, ...]) -> Any:
    """A gradient kept small, brought up to ``shape`` (a view when large)."""
    if g.shape == shape:
        return g
    if isinstance(g, Variable):
        from gradcli.autograd.ops import broadcast_to

        return broadcast_to(g, shape)
    if g.size == 1 and len(shape) and np.prod(shape) <= _SMALL:
        out = np.empty(shape, dtype=g.dtype)
        out.fill(g.reshape(()))
        return out
    return np.broadcast_to(g, shape)


def run_backward(
    outputs: Sequence[Variable],
    grad_outputs: Sequence[Any],
    *,
    retain_graph: bool = False,
    create_graph: bool = False,
    inputs: Sequence[Variable] | None = None,
    trace: Callable[[Function, Any, tuple], None] | None = None,
) -> list[Any] | None:
    """Propagate gradients from ``outputs`` back through the graph.

    Without ``inputs``, gradients accumulate into the ``.grad`` of every leaf that
    requires one. With ``inputs``, their gradients are returned (None where an input is
    not reached) and no ``.grad`` is touched. ``trace(fn, g, results)`` is called after
    each Function's backward rule runs, in the order they run.
    """
    grads: dict[Function, Any] = {}
    leaf_grads: dict[Variable, Any] = {}
    for output, grad_output in zip(outputs, grad_outputs):
        if not output.requires_grad:
            raise BackwardError(
                "this value does not require a gradient: nothing it depends on is an input "
                "with requires_grad=True"
            )
        seed = _seed_gradient(output, grad_output, create_graph)
        fn = output.creator
        if fn is None:  # backward() on a leaf itself
            _add(leaf_grads, output, seed)
        else:
            _add(grads, fn, seed)

    wanted: dict[Function, list[int]] = {}
    captured: dict[int, Any] = {}
    if inputs is not None:
        for i, v in enumerate(inputs):
            if v.creator is not None:
                wanted.setdefault(v.creator, []).append(i)

    pending = _pending_counts(list(grads))
    ready = [fn for fn in grads if pending[fn] == 0]
    previous_mode = GRAD_MODE.enabled
    GRAD_MODE.enabled = create_graph
    # the loop runs once per node of the graph: its lookups are bound to locals
    pop_ready = ready.pop
    push_ready = ready.append
    pop_grad = grads.pop
    get_grad = grads.get
    get_leaf = leaf_grads.get
    ndarray = np.ndarray
    try:
        while ready:
            fn = pop_ready()
            g = pop_grad(fn)
            if wanted and fn in wanted:
                for i in wanted[fn]:
                    captured[i] = expand(g, fn.out_shape)
            if not fn.elementwise and g.shape != fn.out_shape:
                g = expand(g, fn.out_shape)
            results = fn.backward(g)
            fn_inputs = fn.inputs
            if type(results) is not tuple:
                results = (results,)
            if len(results) != len(fn_inputs):
                raise BackwardError(
                    f"{fn.name}.backward returned {len(results)} gradients for "
                    f"{len(fn_inputs)} inputs"
                )
            if trace is not None:
                trace(fn, g, results)
            for v, r in zip(fn_inputs, results):
                if not v.requires_grad:
                    continue
                if r is not None:
                    if create_graph:
                        if type(r) is not Variable:
                            r = Variable(r)
                    elif type(r) is not ndarray:
                        r = r._data if isinstance(r, Variable) else np.asarray(r)
                creator = v.creator
                if creator is None:
                    if r is not None:
                        previous = get_leaf(v)
                        leaf_grads[v] = r if previous is None else previous + r
                    continue
                if r is not None:
                    previous = get_grad(creator)
                    grads[creator] = r if previous is None else previous + r
                count = pending[creator] - 1
                pending[creator] = count
                if count == 0:
                    if creator in grads:
                        push_ready(creator)
                    else:  # every path into it carried no gradient
                        _pass_nothing(creator, pending, grads, ready, retain_graph)
            if not retain_graph:
                fn.release()
    finally:
        GRAD_MODE.enabled = previous_mode

    handed: set[int] = set()
    if inputs is not None:
        found = []
        for i, v in enumerate(inputs):
            g = leaf_grads.get(v) if v.creator is None else captured.get(i)
            found.append(None if g is None else _leaf_gradient(g, v, create_graph, handed))
        return found

    for leaf, g in leaf_grads.items():
        g = _leaf_gradient(g, leaf, create_graph, handed)
        if leaf.grad is None:
            leaf.grad = g
        elif not create_graph:
            held = leaf.grad
            if held.creator is None and not held.requires_grad and held.shape == g.shape:
                held.data = held._data + g._data  # the same Variable, as PyTorch's .grad
            else:
                leaf.grad = Variable(held._data + g._data)
        else:
            previous_mode = GRAD_MODE.enabled
            GRAD_MODE.enabled = create_graph
            try:
                leaf.grad = leaf.grad + g
            finally:
                GRAD_MODE.enabled = previous_mode
    return None


def _add(store: dict, key: Any, g: Any) -> None:
    previous = store.get(key)
    store[key] = g if previous is None else previous + g


def _pass_nothing(fn: Function, pending: dict, grads: dict, ready: list,
                  retain_graph: bool) -> None:
    """A node that received no gradient passes none on; release its consumers' counts."""
    stack = [fn]
    while stack:
        node = stack.pop()
        for v in node.inputs:
            creator = v.creator
            if creator is None:
                continue
            count = pending[creator] - 1
            pending[creator] = count
            if count == 0:
                if creator in grads:
                    ready.append(creator)
                else:
                    stack.append(creator)
        if not retain_graph:
            node.release()


def _leaf_gradient(g: Any, leaf: Variable, create_graph: bool, handed: set[int]) -> Variable:
    """A leaf's gradient of its own shape and dtype, in memory of its own (never a view)."""
    if create_graph:
        if not isinstance(g, Variable):
            g = Variable(g)
        previous_mode = GRAD_MODE.enabled
        GRAD_MODE.enabled = True
        try:
            return expand(g, leaf._data.shape)
        finally:
            GRAD_MODE.enabled = previous_mode
    data = expand(g, leaf._data.shape)
    if (
        data.base is not None
        or not data.flags.writeable
        or data.dtype != leaf._data.dtype
        or id(data) in handed
    ):
        data = np.array(data, dtype=leaf._data.dtype)
    handed.add(id(data))
    result = Variable.__new__(Variable)
    result._data = data
    result.grad = None
    result.creator = None
    result.requires_grad = False
    return result
