"""The backward pass: iterative, counting each node's pending consumers.

No recursion anywhere, so a chain of a million operations needs no more stack than a
chain of one. Gradients meeting at a node are summed before the node runs; saved values
are released as soon as a node has run, unless ``retain_graph``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gradcli.autograd.errors import BackwardError
from gradcli.autograd.function import GRAD_MODE, Function
from gradcli.autograd.variable import Variable

FREED = (
    "the graph behind this value was freed by an earlier backward(); "
    "pass retain_graph=True to the first backward() to go through it again"
)


def _seed_gradient(output: Variable, grad_output: Any, create_graph: bool) -> Any:
    """The gradient that starts the pass: a Variable when recording, else an array."""
    if grad_output is None:
        if output.data.size != 1:
            raise BackwardError(
                f"backward() of a non-scalar output of shape {output.shape} needs a "
                f"grad_output of shape {output.shape}"
            )
        seed = np.ones(output.shape, dtype=output.dtype)
    elif isinstance(grad_output, Variable):
        if create_graph:
            seed = grad_output
        else:
            seed = np.array(grad_output.data, dtype=output.dtype)
    else:
        seed = np.array(grad_output, dtype=output.dtype)
    if seed.shape != output.shape:
        raise BackwardError(
            f"grad_output has shape {seed.shape} but the output has shape {output.shape}; "
            "they must match exactly"
        )
    if create_graph and not isinstance(seed, Variable):
        seed = Variable(seed)
    return seed


def _order(roots: list[Function]) -> dict[Function, int]:
    """Count, for every Function reachable from the roots, how many edges lead into it."""
    pending: dict[Function, int] = {}
    for root in roots:
        if root not in pending:
            pending[root] = 0
    stack = list(pending)
    seen = set(stack)
    while stack:
        fn = stack.pop()
        inputs = fn.inputs
        if inputs is None:
            raise BackwardError(FREED)
        for v in inputs:
            creator = v.creator
            if creator is not None and v.requires_grad:
                pending[creator] = pending.get(creator, 0) + 1
                if creator not in seen:
                    seen.add(creator)
                    stack.append(creator)
    return pending


def _materialise(g: Any, shape: tuple[int, ...]) -> Any:
    """Broadcast a gradient that was kept small up to ``shape`` (a view, no copy)."""
    if g.shape == shape:
        return g
    if isinstance(g, Variable):
        from gradcli.autograd.ops import broadcast_to

        return broadcast_to(g, shape)
    return np.broadcast_to(g, shape)


def run_backward(
    outputs: Sequence[Variable],
    grad_outputs: Sequence[Any],
    *,
    retain_graph: bool = False,
    create_graph: bool = False,
    inputs: Sequence[Variable] | None = None,
) -> list[Variable | None] | None:
    """Propagate gradients from ``outputs`` back through the graph.

    Without ``inputs``, gradients accumulate into the ``.grad`` of every leaf that
    requires one. With ``inputs``, their gradients are returned (None where an input is
    not reached) and no ``.grad`` is touched.
    """
    seeds: dict[Function, Variable] = {}
    leaf_grads: dict[int, Variable] = {}
    leaves: dict[int, Variable] = {}
    for output, grad_output in zip(outputs, grad_outputs):
        if not output.requires_grad:
            raise BackwardError(
                "this value does not require a gradient: nothing it depends on is an input "
                "with requires_grad=True"
            )
        seed = _seed_gradient(output, grad_output, create_graph)
        if output.creator is None:  # backward() on a leaf itself
            _accumulate_leaf(leaf_grads, leaves, output, seed)
            continue
        fn = output.creator
        seeds[fn] = seeds[fn] + seed if fn in seeds else seed

    wanted: dict[Function, int] = {}
    if inputs is not None:
        for i, v in enumerate(inputs):
            if v.creator is not None:
                wanted[v.creator] = i
    captured: dict[int, Variable] = {}

    pending = _order(list(seeds))
    grads = dict(seeds)
    ready = [fn for fn, count in pending.items() if count == 0]
    previous_mode = GRAD_MODE.enabled
    GRAD_MODE.enabled = create_graph
    try:
        while ready:
            fn = ready.pop()
            g = grads.pop(fn)
            if fn in wanted:
                captured[wanted[fn]] = _materialise(g, fn.out_shape)
            if not fn.elementwise and g.shape != fn.out_shape:
                g = _materialise(g, fn.out_shape)
            results = fn.backward(g)
            if type(results) is not tuple:
                results = (results,)
            fn_inputs = fn.inputs
            if len(results) != len(fn_inputs):
                raise BackwardError(
                    f"{fn.name}.backward returned {len(results)} gradients for "
                    f"{len(fn_inputs)} inputs"
                )
            for v, r in zip(fn_inputs, results):
                if not v.requires_grad:
                    continue
                creator = v.creator
                if creator is None:
                    if r is not None:
                        if not create_graph and isinstance(r, Variable):
                            r = r.data
                        _accumulate_leaf(leaf_grads, leaves, v, r)
                    continue
                if r is not None:
                    if create_graph:
                        if type(r) is not Variable:
                            r = Variable(r)
                    elif type(r) is not np.ndarray:
                        r = r.data if isinstance(r, Variable) else np.asarray(r)
                    previous = grads.get(creator)
                    grads[creator] = r if previous is None else previous + r
                count = pending[creator] - 1
                pending[creator] = count
                if count == 0:
                    if creator in grads:
                        ready.append(creator)
                    else:  # every path into it carried no gradient
                        _skip(creator, pending, grads, ready, retain_graph)
            if not retain_graph:
                fn.release()
    finally:
        GRAD_MODE.enabled = previous_mode

    if inputs is not None:
        result: list[Variable | None] = []
        handed: set[int] = set()
        for i, v in enumerate(inputs):
            g = leaf_grads.get(id(v)) if v.creator is None else captured.get(i)
            result.append(None if g is None else _finish_leaf(g, v, create_graph, handed))
        return result

    handed = set()
    for key, g in leaf_grads.items():
        leaf = leaves[key]
        g = _finish_leaf(g, leaf, create_graph, handed)
        if leaf.grad is None:
            leaf.grad = g
        else:
            with _mode(create_graph):
                leaf.grad = leaf.grad + g
    return None


def _skip(fn: Function, pending: dict, grads: dict, ready: list, retain_graph: bool) -> None:
    """A node that received no gradient passes none on; release its consumers' counts."""
    stack = [fn]
    while stack:
        node = stack.pop()
        for v in node.inputs:
            creator = v.creator
            if creator is None or not v.requires_grad:
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


def _accumulate_leaf(
    leaf_grads: dict[int, Variable], leaves: dict[int, Variable], leaf: Variable, g: Any
) -> None:
    key = id(leaf)
    previous = leaf_grads.get(key)
    if previous is None:
        leaf_grads[key] = g
        leaves[key] = leaf
    else:
        leaf_grads[key] = previous + g


def _finish_leaf(g: Any, leaf: Variable, create_graph: bool, handed: set[int]) -> Variable:
    """Give a leaf a gradient of its own shape, in its own memory (never a shared view)."""
    if create_graph:
        if not isinstance(g, Variable):
            g = Variable(g)
        with _mode(True):
            return _materialise(g, leaf.shape)
    data = g.data if isinstance(g, Variable) else np.asarray(g)
    if data.shape != leaf.shape:
        data = np.broadcast_to(data, leaf.shape)
    if (
        not data.flags.writeable
        or data.base is not None
        or data.dtype != leaf.dtype
        or id(data) in handed
    ):
        data = np.array(data, dtype=leaf.dtype)
    handed.add(id(data))
    return Variable(data)


class _mode:
    __slots__ = ("enabled", "previous")

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __enter__(self) -> None:
        self.previous = GRAD_MODE.enabled
        GRAD_MODE.enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        GRAD_MODE.enabled = self.previous
