"""The backward pass: iterative, newest node first.

No recursion anywhere, so a chain of a million operations needs no more stack than a
chain of one. Gradients meeting at a node are summed before the node runs; saved values
are released as soon as a node has run, unless ``retain_graph``.

Two modes: with ``create_graph`` gradients are Variables and every rule records itself
(so gradients can be differentiated again); without it they are plain arrays and the
rules build nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from heapq import heapify, heappop, heappush
from typing import Any

import numpy as np

from gradcli.autograd.errors import BackwardError
from gradcli.autograd.function import GRAD_MODE, Function, check_versions
from gradcli.autograd.variable import Variable

FREED = (
    "the graph behind this value was freed by an earlier backward(); "
    "pass retain_graph=True to the first backward() to go through it again"
)

# After a change in place, the most nodes a pass runs before it checks the rest of the
# graph (see run_backward): until then they are held unreleased.
UNRELEASED = 4096

# Below this many elements, expanding a gradient by copying beats making a broadcast view.
_SMALL = 4096


# The seed of a scalar output's pass: a NumPy scalar of the output's dtype (immutable, so
# no rule or leaf can write into it; a leaf handed it gets an array, see _leaf_gradient).
# Rules reading a scalar gradient then do scalar arithmetic, ~10x cheaper than a 0-d
# array's; plain passes let float64 scalars through as gradients, as they let arrays.
_SEEDS = {np.dtype(t): t(1.0) for t in (np.float64, np.float32)}


def _scalar_seed(dtype: np.dtype) -> Any:
    seed = _SEEDS.get(dtype)
    if seed is None:  # float16, complex: a read-only 0-d array
        seed = np.array(1.0, dtype=dtype)
        seed.flags.writeable = False
        _SEEDS[dtype] = seed
    return seed


def _seed_gradient(output: Variable, grad_output: Any, create_graph: bool) -> Any:
    """The gradient that starts the pass: a Variable when recording, else an array (the
    common case, loss.backward() of a scalar, run_backward takes itself)."""
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


def _check_graph(roots: Iterable[Function]) -> None:
    """Before the rules of the nodes behind the roots run: that they were not freed, and
    that no input of one changed in place since it used it. Run from the first node of a
    pass recorded before the last in-place change (``GRAD_MODE.version``); a graph made
    since cannot fail but by being freed, which the pass itself finds."""
    stack = list(roots)
    seen = set(stack)
    version = GRAD_MODE.version
    while stack:
        fn = stack.pop()
        inputs = fn.inputs
        if inputs is None:
            raise BackwardError(FREED)
        if fn.seq < version:  # recorded before the last in-place change
            check_versions(fn)
        for v in inputs:
            creator = v.creator
            if creator is not None and creator not in seen:
                seen.add(creator)
                stack.append(creator)


def expand(g: Any, shape: tuple[int, ...]) -> Any:
    """A gradient kept small, brought up to ``shape`` (a view when large)."""
    if g.shape == shape:
        return g
    if isinstance(g, Variable):
        from gradcli.autograd.ops import broadcast_to

        return broadcast_to(g, shape)
    if g.size == 1 and len(shape) and math.prod(shape) <= _SMALL:
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
    leaves: bool = False,
    trace: Callable[[Function, Any, tuple], None] | None = None,
) -> Any:
    """Propagate gradients from ``outputs`` back through the graph.

    Without ``inputs``, gradients accumulate into the ``.grad`` of every leaf that
    requires one. With ``inputs``, their gradients are returned (None where an input is
    not reached) and no ``.grad`` is touched. With ``leaves``, ``({leaf: gradient},
    whole)`` is returned for every leaf the pass reached, and no ``.grad`` is touched;
    ``whole`` is False when some edge carried no gradient (a leaf behind it may be missing:
    one that the outputs depend on, with a zero gradient). ``trace(fn, g, results)`` is
    called after each Function's backward rule runs, in the order they run.
    """
    grads: dict[Function, Any] = {}
    leaf_grads: dict[Variable, Any] = {}
    for output, grad_output in zip(outputs, grad_outputs):
        if not output.requires_grad:
            raise BackwardError(
                "this value does not require a gradient: nothing it depends on is an input "
                "with requires_grad=True"
            )
        if grad_output is None and not create_graph and not output._data.shape:
            seed = _SEEDS.get(output._data.dtype)  # loss.backward(), the common case
            if seed is None:
                seed = _scalar_seed(output._data.dtype)
        else:
            seed = _seed_gradient(output, grad_output, create_graph)
        fn = output.creator
        store, key = (leaf_grads, output) if fn is None else (grads, fn)  # (None: a leaf)
        previous = store.get(key)
        store[key] = seed if previous is None else previous + seed

    wanted: dict[Function, list[int]] | None = None  # (None: no input asked for)
    if inputs is not None:
        captured: dict[int, Any] = {}
        wanted = {}
        for i, v in enumerate(inputs):
            if v.creator is not None:
                wanted.setdefault(v.creator, []).append(i)
        wanted = wanted or None

    # Nodes recorded before the last in-place change (seq below it) may have had an input
    # changed since: when the first of them comes out (or UNRELEASED nodes have run), the
    # rest of the graph is checked, and the nodes run until then (newer: nothing to check)
    # are released only after that, so that a pass refused for a change in place frees
    # nothing. (One refused for a freed graph finds it as it goes, and may have released
    # what it ran by then: that graph could not be run again anyway.)
    stale = GRAD_MODE.version
    unreleased: list[Function] | None = [] if stale and not retain_graph else None
    # The nodes wait in a heap, newest first: a Function is newer than the creators of
    # its inputs, so when a node comes out every consumer of it has run and its gradient
    # is whole. (A heap of one entry for a chain; no count of consumers to keep.)
    whole = True
    ready = []  # (a loop, not a comprehension: no frame of its own)
    for fn in grads:
        ready.append((-fn.seq, fn))
    if len(ready) > 1:
        heapify(ready)
    previous_mode = GRAD_MODE.enabled
    try:
        GRAD_MODE.enabled = create_graph
        # the loop runs once per node of the graph: its lookups are bound to locals
        pop_grad = grads.pop
        get_grad = grads.get
        get_leaf = leaf_grads.get
        ndarray = np.ndarray
        float64 = np.float64
        plain = not create_graph
        while ready:
            fn = heappop(ready)[1]
            if fn.seq < stale:
                _check_rest([fn, *[f for _, f in ready]], unreleased)
                stale = 0
                unreleased = None
            g = pop_grad(fn)
            if type(g) is float64 and not fn.scalar_gradients:
                g = np.array(g)  # (a user's rule: an array, as NumPy code expects)
            fn_inputs = fn.inputs
            if fn_inputs is None:
                raise BackwardError(FREED)
            if wanted is not None and fn in wanted:
                for i in wanted[fn]:
                    captured[i] = expand(g, fn.out_shape)
            if not fn.elementwise and g.shape != fn.out_shape:
                g = expand(g, fn.out_shape)
            results = fn.backward(g)
            if type(results) is not tuple:
                if len(fn_inputs) != 1:
                    _wrong_count(fn, (results,))
                results = (results,)
            elif len(results) != len(fn_inputs):
                _wrong_count(fn, results)
            if trace is not None:
                trace(fn, g, results)
            for v, r in zip(fn_inputs, results):
                if r is None:
                    if v.requires_grad:
                        whole = False
                    continue
                if not v.requires_grad:
                    continue
                if plain:
                    if type(r) is not ndarray and type(r) is not float64:
                        r = r._data if isinstance(r, Variable) else np.asarray(r)
                elif type(r) is not Variable:
                    r = Variable(r)
                creator = v.creator
                if creator is None:
                    previous = get_leaf(v)
                    leaf_grads[v] = r if previous is None else previous + r
                    continue
                previous = get_grad(creator)
                if previous is None:
                    grads[creator] = r
                    heappush(ready, (-creator.seq, creator))
                else:
                    grads[creator] = previous + r
            if not retain_graph:
                if unreleased is None:
                    fn.inputs = fn.saved = None  # Function.release, inlined
                else:
                    unreleased.append(fn)
                    if len(unreleased) >= UNRELEASED:  # (held memory stays bounded)
                        _check_rest([f for _, f in ready], unreleased)
                        stale = 0
                        unreleased = None
        for fn in unreleased or ():
            fn.release()
    finally:
        GRAD_MODE.enabled = previous_mode

    # ids of the arrays handed to leaves (one array is never handed twice); with one leaf
    # there is nothing to keep
    handed: set[int] | None = set() if len(leaf_grads) > 1 or inputs is not None else None
    if inputs is not None:
        found = []
        for i, v in enumerate(inputs):
            g = leaf_grads.get(v) if v.creator is None else captured.get(i)
            found.append(None if g is None else _leaf_gradient(g, v, create_graph, handed))
        return found
    if leaves:
        reached = {}
        for leaf, g in leaf_grads.items():
            reached[leaf] = _leaf_gradient(g, leaf, create_graph, handed)
        return reached, whole

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


def _check_rest(roots: list[Function], unreleased: list[Function] | None) -> None:
    """Check the part of the graph not run yet (from ``roots``), then release what ran."""
    _check_graph(roots)
    for fn in unreleased or ():
        fn.release()


def _wrong_count(fn: Function, results: tuple) -> None:
    raise BackwardError(
        f"{fn.name}.backward returned {len(results)} gradients for "
        f"{len(fn.inputs)} inputs"
    )


def _leaf_gradient(g: Any, leaf: Variable, create_graph: bool,
                   handed: set[int] | None) -> Variable:
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
    shape = leaf._data.shape
    data = g if g.shape == shape else expand(g, shape)
    if (
        data.base is not None
        or not data.flags.writeable
        or data.dtype != leaf._data.dtype
        or handed is not None and id(data) in handed
    ):
        data = np.array(data, dtype=leaf._data.dtype)
    if handed is not None:
        handed.add(id(data))
    result = Variable.__new__(Variable)
    result._data = data
    result.grad = None
    result.creator = None
    result.requires_grad = False
    return result
