"""The engine itself: Variable, Function, backward, grad, no_grad, and their contracts.

SPEC §8 is the reference; each test names the behaviour it pins down.
"""

from __future__ import annotations

import gc
import sys

import numpy as np
import pytest

import gradcli
from gradcli.autograd import (
    BackwardError,
    Function,
    Variable,
    enable_grad,
    grad,
    gradcheck,
    hessian,
    is_grad_enabled,
    jacobian,
    no_grad,
    ops,
)
from gradcli.autograd.functional import GradcheckError, numerical_gradient

# -- the SPEC §8 walkthrough ---------------------------------------------------------------


def test_spec_walkthrough():
    from gradcli import Variable as PublicVariable

    x = PublicVariable(np.ones((2, 2)), requires_grad=True)
    y = x + 2  # y.creator is an Add Function; x.creator is None
    z = y * y * 3
    out = z.mean()
    out.backward()  # scalar: no argument needed
    assert isinstance(x.grad, Variable)
    assert isinstance(x.grad.data, np.ndarray)
    np.testing.assert_array_equal(x.grad.data, np.full((2, 2), 4.5))
    assert x.grad.shape == (2, 2)
    assert isinstance(y.creator, Function)
    assert y.creator.name == "Add" and type(y.creator).__name__ == "Add"
    assert x.creator is None
    assert x.is_leaf and not y.is_leaf
    assert out.shape == () and out.data == pytest.approx(27.0)
    assert z.creator.name == "Mul" and out.creator.name == "Mean"


def test_public_names():
    for name in ["Variable", "Function", "grad", "no_grad", "gradcheck", "enable_grad",
                 "jacobian", "hessian", "ops"]:
        assert getattr(gradcli, name) is not None
    assert gradcli.grad is grad and gradcli.no_grad is no_grad


def test_numpy_interop():
    x = Variable(np.arange(6.0).reshape(2, 3), requires_grad=True)
    array = np.asarray(x)
    assert type(array) is np.ndarray
    np.testing.assert_array_equal(array, np.arange(6.0).reshape(2, 3))
    assert np.asarray(x, dtype=np.float32).dtype == np.float32
    assert np.array(x, copy=True) is not x.data
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and len(x) == 2
    assert float(Variable(2.5)) == 2.5 and Variable(2.5).item() == 2.5
    # An array on the left hands the operation to the Variable.
    out = np.ones(3) + Variable(np.ones(3), requires_grad=True)
    assert isinstance(out, Variable) and out.creator.name == "Add"
    assert "requires_grad=True" in repr(x) and "creator=Add" in repr(out)


def test_integer_data_becomes_float():
    assert Variable([1, 2, 3]).data.dtype == np.float64
    assert Variable(np.array([True, False])).data.dtype == np.float64


# -- accumulation, diamonds, repeated use --------------------------------------------------


def test_gradients_accumulate_across_backward_calls():
    x = Variable(np.array([1.0, 2.0]), requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 8.0])
    x.zero_grad()
    assert x.grad is None
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_same_graph_backward_twice_with_retain_graph_doubles():
    x = Variable(np.array([1.0, -2.0]), requires_grad=True)
    out = ops.sum(ops.exp(x) * x)
    out.backward(retain_graph=True)
    first = x.grad.data.copy()
    out.backward()
    np.testing.assert_allclose(x.grad.data, 2 * first)
    np.testing.assert_allclose(first, np.exp(x.data) * (x.data + 1))


def test_square_by_self_multiplication():
    x = Variable(np.array([3.0, -1.0]), requires_grad=True)
    y = x * x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [6.0, -2.0])


def test_diamond():
    x = Variable(np.array(2.0), requires_grad=True)
    a = x * 3.0
    b = ops.sin(a)
    c = ops.cos(a)
    out = b * c + a
    out.backward()
    want = 3.0 * (np.cos(6.0) ** 2 - np.sin(6.0) ** 2) + 3.0
    assert x.grad.data == pytest.approx(want)


def test_node_used_many_times():
    x = Variable(np.array([0.5, 1.5]), requires_grad=True)
    y = x * 2.0
    out = y
    for _ in range(20):
        out = out + y * y
    out.sum().backward()
    # out = y + 20 y^2, y = 2x:  d/dx = 2 (1 + 40 y)
    np.testing.assert_allclose(x.grad.data, 2 * (1 + 40 * 2 * x.data))


def test_leaf_used_in_both_operands_and_in_several_outputs():
    x = Variable(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    w = Variable(np.array([0.5, 0.5, 0.5]), requires_grad=True)
    out = (x * w + x / w - w).sum() + (x @ x)
    out.backward()
    np.testing.assert_allclose(x.grad.data, w.data + 1 / w.data + 2 * x.data)
    np.testing.assert_allclose(w.grad.data, x.data - x.data / w.data**2 - 1)


def test_branch_that_carries_no_gradient():
    x = Variable(np.array([1.0, -2.0]), requires_grad=True)
    mask = x > 0  # a comparison: recorded, but passes no gradient on
    out = (mask * x + ops.floor(x * 0.3)).sum()
    out.backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0])


def test_backward_of_a_leaf():
    x = Variable(np.array(3.0), requires_grad=True)
    x.backward()
    assert x.grad.data == 1.0


def test_constants_get_no_gradient():
    x = Variable(np.array([1.0, 2.0]), requires_grad=True)
    c = Variable(np.array([3.0, 4.0]))
    (x * c).sum().backward()
    assert c.grad is None
    assert not c.requires_grad
    with pytest.raises(BackwardError, match="does not require a gradient"):
        (c * 2.0).sum().backward()


# -- the backward contract: freed graphs, shapes of grad_output ----------------------------


def test_second_backward_through_a_freed_graph_raises():
    x = Variable(np.array([1.0, 2.0]), requires_grad=True)
    out = (ops.exp(x) * 2.0).sum()
    out.backward()
    with pytest.raises(BackwardError, match="retain_graph=True") as info:
        out.backward()
    assert "freed" in str(info.value)
    np.testing.assert_allclose(x.grad.data, 2 * np.exp(x.data))


def test_backward_through_part_of_a_freed_graph_raises():
    x = Variable(np.array([1.0, 2.0]), requires_grad=True)
    y = ops.exp(x)
    y.sum().backward()
    with pytest.raises(BackwardError, match="retain_graph"):
        (y * 2.0).sum().backward()


def test_retain_graph_allows_a_second_backward():
    x = Variable(np.array([1.0, 2.0]), requires_grad=True)
    out = (ops.exp(x) * 2.0).sum()
    out.backward(retain_graph=True)
    out.backward(retain_graph=True)
    out.backward()
    np.testing.assert_allclose(x.grad.data, 6 * np.exp(x.data))


def test_non_scalar_backward_needs_grad_output():
    x = Variable(np.ones((2, 3)), requires_grad=True)
    y = x * 2.0
    with pytest.raises(BackwardError, match=r"\(2, 3\)") as info:
        y.backward()
    assert "grad_output" in str(info.value)
    y.backward(np.full((2, 3), 0.5))
    np.testing.assert_array_equal(x.grad.data, np.ones((2, 3)))


def test_one_element_non_scalar_needs_no_grad_output():
    x = Variable(np.ones((1, 1)), requires_grad=True)
    (x * 4.0).backward()
    np.testing.assert_array_equal(x.grad.data, [[4.0]])


def test_grad_output_of_the_wrong_shape_raises():
    x = Variable(np.ones((2, 3)), requires_grad=True)
    y = x * 2.0
    with pytest.raises(BackwardError, match=r"\(3, 2\).*\(2, 3\)"):
        y.backward(np.ones((3, 2)))
    with pytest.raises(BackwardError, match="shape"):
        y.backward(np.ones(3))  # broadcastable is not enough: it must match
    with pytest.raises(BackwardError):
        x.sum().backward(np.ones(1))
    y.backward(Variable(np.ones((2, 3))))  # a Variable grad_output is fine
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3), 2.0))


# -- higher derivatives --------------------------------------------------------------------


def test_second_derivative_of_a_cube():
    x = Variable(np.array([-1.0, 0.5, 2.0]), requires_grad=True)
    y = x**3
    (g,) = grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, 3 * x.data**2)
    (h,) = grad(g.sum(), x)
    np.testing.assert_allclose(h.data, 6 * x.data)


def test_second_derivative_with_backward_create_graph():
    x = Variable(np.array(1.5), requires_grad=True)
    (x * x * x).backward(create_graph=True)
    first = x.grad
    assert first.requires_grad
    assert first.data == pytest.approx(3 * 1.5**2)
    x.grad = None
    first.backward()
    assert x.grad.data == pytest.approx(6 * 1.5)


def test_third_derivative_of_sine():
    x = Variable(np.linspace(-2, 2, 5), requires_grad=True)
    (d1,) = grad(ops.sin(x).sum(), x, create_graph=True)
    (d2,) = grad(d1.sum(), x, create_graph=True)
    (d3,) = grad(d2.sum(), x)
    np.testing.assert_allclose(d1.data, np.cos(x.data))
    np.testing.assert_allclose(d2.data, -np.sin(x.data))
    np.testing.assert_allclose(d3.data, -np.cos(x.data))


def test_fourth_derivative_of_exp_of_square():
    x = Variable(np.array(0.7), requires_grad=True)
    d = ops.exp(x * x)
    for _ in range(4):
        (d,) = grad(d, x, create_graph=True)
    t = 0.7
    want = (16 * t**4 + 48 * t**2 + 12) * np.exp(t * t)
    assert d.data == pytest.approx(want)


def test_create_graph_accumulates_differentiably():
    x = Variable(np.array(2.0), requires_grad=True)
    (x**2).backward(create_graph=True)
    (x**3).backward(create_graph=True)
    assert x.grad.data == pytest.approx(4.0 + 12.0)
    g = x.grad
    x.grad = None
    g.backward()
    assert x.grad.data == pytest.approx(2.0 + 12.0)


def test_hessian_and_jacobian():
    x = Variable(np.array([1.0, 2.0]), requires_grad=True)
    f = x[0] ** 2 * x[1] + ops.sin(x[1])
    h = hessian(f, x)
    np.testing.assert_allclose(h.data, [[2 * 2.0, 2 * 1.0], [2 * 1.0, -np.sin(2.0)]])
    y = Variable(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    j = jacobian(y * y, y)
    np.testing.assert_allclose(j.data, np.diag(2 * y.data))
    j = jacobian(ops.outer(y, y[:2]), y)
    assert j.shape == (3, 2, 3)


# -- grad() --------------------------------------------------------------------------------


def test_grad_does_not_touch_dot_grad():
    x = Variable(np.array([1.0, 2.0]), requires_grad=True)
    (g,) = grad((x * x).sum(), x)
    np.testing.assert_array_equal(g.data, [2.0, 4.0])
    assert x.grad is None
    (x * 1.0).sum().backward()
    (g,) = grad((x * x).sum(), [x])
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_grad_returns_zeros_for_inputs_not_reached():
    x = Variable(np.array([1.0, 2.0]), requires_grad=True)
    w = Variable(np.ones((2, 2)), requires_grad=True)
    gx, gw = grad((x * 3.0).sum(), [x, w])
    np.testing.assert_array_equal(gx.data, [3.0, 3.0])
    assert gw.shape == (2, 2) and not gw.data.any()
    (gc,) = grad(Variable(np.array(1.0)), [x])  # an output that needs no gradient at all
    assert not gc.data.any()


def test_grad_of_an_intermediate_value():
    x = Variable(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 2.0
    out = (y * y).sum()
    gy, gx = grad(out, [y, x])
    np.testing.assert_array_equal(gy.data, 2 * y.data)
    np.testing.assert_array_equal(gx.data, 4 * y.data)


def test_grad_of_the_same_intermediate_value_listed_twice():
    x = Variable(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 2.0
    first, second = grad((y * y).sum(), [y, y])
    np.testing.assert_array_equal(second.data, 2 * y.data)
    np.testing.assert_array_equal(first.data, 2 * y.data)


def test_grad_of_the_same_leaf_listed_twice():
    x = Variable(np.array([1.0, 2.0]), requires_grad=True)
    first, second = grad((x * x).sum(), [x, x])
    np.testing.assert_array_equal(first.data, 2 * x.data)
    np.testing.assert_array_equal(second.data, 2 * x.data)
    first.data[0] = 9.0
    assert second.data[0] == 2.0


def test_grad_with_several_outputs_and_grad_outputs():
    x = Variable(np.array([1.0, 2.0]), requires_grad=True)
    (g,) = grad([x * 2.0, x * x], [x], grad_outputs=[np.ones(2), np.array([1.0, 0.5])])
    np.testing.assert_array_equal(g.data, [2.0 + 2.0, 2.0 + 2.0])
    with pytest.raises(BackwardError, match="2 outputs"):
        grad([x * 2.0, x * 3.0], [x], grad_outputs=[np.ones(2)])


def test_grad_retains_the_graph_only_when_asked():
    x = Variable(np.array([1.0, 2.0]), requires_grad=True)
    out = ops.exp(x).sum()
    grad(out, x, retain_graph=True)
    grad(out, x)
    with pytest.raises(BackwardError, match="retain_graph"):
        grad(out, x)


# -- recording on and off ------------------------------------------------------------------


def test_no_grad_builds_nothing():
    x = Variable(np.array([1.0, 2.0]), requires_grad=True)
    with no_grad():
        assert not is_grad_enabled()
        y = ops.exp(x) * 2.0 + x
        assert y.creator is None and not y.requires_grad
        with enable_grad():
            z = x * 2.0
        assert z.creator is not None
    assert is_grad_enabled()
    np.testing.assert_allclose(y.data, 2 * np.exp(x.data) + x.data)
    with pytest.raises(BackwardError):
        y.sum().backward()


def test_no_grad_is_restored_after_an_error():
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            raise ZeroDivisionError
    assert is_grad_enabled()


def test_backward_without_create_graph_builds_nothing():
    x = Variable(np.array([1.0, 2.0]), requires_grad=True)
    (ops.sin(x) * x).sum().backward()
    assert x.grad.creator is None and not x.grad.requires_grad
    assert is_grad_enabled()


def test_reshape_errors_say_the_shape_as_written():
    x = Variable(np.ones(10))
    with pytest.raises(ValueError, match=r"cannot put 10 elements into shape \(3, -1\)"):
        x.reshape(3, -1)
    with pytest.raises(ValueError, match="only one size may be -1"):
        ops.reshape(x, -1, -1)


def test_iterating_and_unpacking_give_differentiable_rows():
    v = Variable(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    top, bottom = v
    assert [row.data.tolist() for row in v] == [[1.0, 2.0], [3.0, 4.0]]
    (top.sum() * 2 + bottom.sum()).backward()
    np.testing.assert_array_equal(v.grad.data, [[2.0, 2.0], [1.0, 1.0]])
    with pytest.raises(TypeError, match="0-d"):
        iter(Variable(1.0)).__next__()


def test_truth_of_one_element_and_ambiguity_of_more():
    x = Variable(np.array([2.0, -1.0]))
    assert bool(x[0] > 1) and not bool(x[1] > 1) and bool(Variable(np.ones((1, 1))))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x > 0)


def test_detach():
    x = Variable(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 3.0
    d = y.detach()
    assert d.creator is None and not d.requires_grad
    np.testing.assert_array_equal(d.data, y.data)
    assert np.shares_memory(d.data, y.data)
    (x * d).sum().backward()
    np.testing.assert_array_equal(x.grad.data, d.data)
    assert ops.detach(y).creator is None


# -- dtypes --------------------------------------------------------------------------------


def test_float32_stays_float32():
    x = Variable(np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32), requires_grad=True)
    y = (x + 2) * (x * 3.0) / 2 - x**2 + ops.exp(x * 0.1)
    out = ops.mean(ops.softmax(y) @ x) + ops.sum(x[0]) + ops.max(x) + ops.norm(x)
    assert y.data.dtype == np.float32 and out.data.dtype == np.float32
    out.backward()
    assert x.grad.data.dtype == np.float32
    (g,) = grad(ops.sum(x * x * x), x, create_graph=True)
    assert g.data.dtype == np.float32
    (h,) = grad(g.sum(), x)
    assert h.data.dtype == np.float32
    np.testing.assert_allclose(h.data, 6 * x.data, rtol=1e-6)


def test_float32_grad_output_and_float64_leaf():
    x = Variable(np.ones(2), requires_grad=True)
    (x * 2.0).backward(np.ones(2, dtype=np.float32))
    assert x.grad.data.dtype == np.float64


# -- user-defined Functions ----------------------------------------------------------------


class Cube(Function):
    """The example from function.py's docstring."""

    def forward(self, x):
        return x**3

    def backward(self, g):
        (x,) = self.operands()
        return g * 3 * x**2


def test_user_function():
    x = Variable(np.array([1.0, -2.0]), requires_grad=True)
    y = Cube()(x)
    assert isinstance(y.creator, Cube) and y.creator.name == "Cube"
    np.testing.assert_array_equal(y.data, [1.0, -8.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 12.0])
    (g,) = grad(Cube.apply(x).sum(), x, create_graph=True)
    (h,) = grad(g.sum(), x)
    np.testing.assert_array_equal(h.data, 6 * x.data)
    assert gradcheck(lambda v: Cube()(ops.sin(v)), [Variable(np.array([0.3, 1.2]),
                                                               requires_grad=True)])
    assert type(Cube()(np.array([2.0]))) is np.ndarray  # arrays in, arrays out


def test_user_function_returning_too_few_gradients():
    class Bad(Function):
        def forward(self, a, b):
            return a + b

        def backward(self, g):
            return (g,)

    x = Variable(np.ones(2), requires_grad=True)
    with pytest.raises(BackwardError, match="1 gradients for 2 inputs"):
        Bad()(x, x).sum().backward()


# -- the million-node chain, and deep graphs -----------------------------------------------


def test_million_node_chain():
    # Correctness only (speed belongs to the benchmark): no recursion anywhere.
    n = 10**6
    x = Variable(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0000001
    assert sys.getrecursionlimit() < n
    want = 1.0000001**n
    assert y.data == pytest.approx(want, rel=1e-9)
    y.backward(retain_graph=True)
    assert x.grad.data == pytest.approx(want, rel=1e-9)
    # Dropping the whole (retained) graph must not recurse either.
    del y
    gc.collect()


def test_deep_graph_with_branches():
    x = Variable(np.array([0.5, 1.0]), requires_grad=True)
    y = x
    for k in range(20000):
        y = y + x * 1e-4 if k % 2 else ops.sin(y) * 0.0 + y
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 1.0 + 10000 * 1e-4)


# -- gradients handed to leaves are their own ----------------------------------------------


def test_leaf_gradients_are_not_aliased():
    x = Variable(np.array([1.0, 2.0]), requires_grad=True)
    y = Variable(np.array([3.0, 4.0]), requires_grad=True)
    (x + y).sum().backward()
    x.grad.data[0] = 100.0
    assert y.grad.data[0] == 1.0
    a = Variable(np.zeros((2, 2)), requires_grad=True)
    b = Variable(np.zeros((2, 2)), requires_grad=True)
    g = np.ones((2, 2))
    (a + b).backward(g)
    a.grad.data[0, 0] = 7.0
    assert b.grad.data[0, 0] == 1.0 and g[0, 0] == 1.0
    c = Variable(np.zeros((2, 2)), requires_grad=True)
    (c.reshape(4) - a.reshape(4)).sum().backward()
    c.grad.data[:] = 5.0
    assert a.grad.data[1, 1] == 0.0  # 1 - 1: its own memory, untouched


def test_large_broadcast_gradients_are_writable_and_right():
    # Above the engine's small-copy threshold, scalar gradients expand as views first.
    x = Variable(np.linspace(0.0, 1.0, 100).reshape(100, 1), requires_grad=True)
    y = Variable(np.linspace(1.0, 2.0, 100).reshape(1, 100), requires_grad=True)
    z = Variable(np.zeros((100, 100)), requires_grad=True)
    ops.mean(x * y + z).backward()
    np.testing.assert_allclose(x.grad.data, np.full((100, 1), 1.5 / 100))
    np.testing.assert_allclose(y.grad.data, np.full((1, 100), 0.5 / 100))
    np.testing.assert_allclose(z.grad.data, np.full((100, 100), 1e-4))
    for v in (x, y, z):
        assert v.grad.data.flags.writeable and v.grad.data.flags.owndata
    z.grad.data[0, 0] = 3.0
    assert z.grad.data[1, 1] == 1e-4


def test_gradients_do_not_alias_data():
    x = Variable(np.array([1.0, 2.0]), requires_grad=True)
    (x * 1.0).backward(x.data)
    x.grad.data[0] = 50.0
    assert x.data[0] == 1.0
    assert x.grad.data.flags.writeable


# -- gradcheck and numerical_gradient ------------------------------------------------------


def test_gradcheck_reports_the_worst_element():
    class Wrong(Function):
        def forward(self, x):
            return x * x

        def backward(self, g):
            (x,) = self.operands()
            return g * x  # should be 2 * x

    x = Variable(np.array([1.0, 3.0]), requires_grad=True)
    with pytest.raises(GradcheckError, match=r"worst element \(1,\)") as info:
        gradcheck(lambda v: Wrong()(v), [x])
    assert "analytical" in str(info.value) and "numerical" in str(info.value)
    assert not gradcheck(lambda v: Wrong()(v), [x], raise_exception=False)
    assert gradcheck(lambda v: v * v, [x])


def test_numerical_gradient():
    x = Variable(np.array([1.0, 2.0]), requires_grad=True)
    (n,) = numerical_gradient(lambda v: v * v, [x], np.array([1.0, 2.0]))
    np.testing.assert_allclose(n, [2.0, 8.0], rtol=1e-8)
    np.testing.assert_array_equal(x.data, [1.0, 2.0])


def test_the_scalar_seed_is_shared_read_only_and_never_handed_out():
    # loss.backward() starts from one cached read-only 1.0 per dtype: a leaf reached
    # through rules that pass the seed on as it is gets memory of its own, and writing
    # into that gradient changes no later pass.
    for dtype in (np.float64, np.float32):
        x = Variable(np.array(2.0, dtype=dtype), requires_grad=True)
        x.backward()  # the leaf itself: the seed would be its gradient
        (x + 0.0).backward()  # Add passes the seed on untouched
        assert x.grad.data.dtype == dtype and x.grad.data.flags.writeable
        assert x.grad.data.flags.owndata and x.grad.data == 2.0
        x.grad.data[()] = 40.0
        x.grad = None
        (x + 1.0).sum().backward()
        assert x.grad.data == 1.0


def test_a_binary_operation_records_which_inputs_want_a_gradient():
    x = Variable(np.ones(2), requires_grad=True)
    c = Variable(np.ones(2))
    for out, wanted in ((x * c, (True, False)), (c * x, (False, True)), (x * x, (True, True)),
                        (2.0 * x, (False, True)), (x - 1, (True, False))):
        assert tuple(out.creator.needs_input_grad) == wanted
        assert len(out.creator.inputs) == 2
    (x * x).backward(np.ones(2))
    np.testing.assert_allclose(x.grad.data, [2.0, 2.0])


def test_a_backward_pass_inside_another_leaves_the_outer_pass_intact():
    # A rule that takes gradients itself runs a second pass through nodes the first pass
    # has reached and not yet run: the outer pass must still run each of them once, with
    # every contribution summed.
    x = Variable(np.array(3.0), requires_grad=True)
    h = x * x  # reached by the outer pass through both branches below

    class Inner(Function):
        def forward(self, a):
            return a * 1.0

        def backward(self, g):
            (dh,) = grad([h], [x], retain_graph=True)  # a pass through h's graph
            assert float(dh.data) == 6.0
            return g

    out = Inner()(h) + h * 2.0
    out.backward()
    assert float(x.grad.data) == 3 * 6.0  # d/dx (x^2 + 2 x^2)


def test_leaf_gradients_finds_the_leaves_by_the_pass_and_says_when_it_may_miss_one():
    from gradcli.autograd.functional import leaf_gradients

    x = Variable(np.array([1.0, -1.0]), requires_grad=True)
    y = Variable(np.array([1.0, 2.0]), requires_grad=True)
    found, whole = leaf_gradients((x * y).sum() * 2.0)
    assert whole and set(found) == {x, y}
    np.testing.assert_array_equal(found[x].data, [2.0, 4.0])
    np.testing.assert_array_equal(found[y].data, [2.0, -2.0])
    assert x.grad is None and y.grad is None
    found, whole = leaf_gradients((x > 0).sum() + (y * 3.0).sum())  # no gradient past `>`
    assert not whole and set(found) == {y}
    np.testing.assert_array_equal(found[y].data, [3.0, 3.0])


def test_a_rule_of_a_users_function_gets_an_array_also_for_a_scalar_output():
    # the engine seeds a scalar loss with a NumPy scalar, which the built-in rules take;
    # a user's rule is handed an ndarray, as NumPy code expects (it may write into a copy)
    seen = []

    class Double(Function):
        def forward(self, a):
            return a * 2.0

        def backward(self, g):
            seen.append(type(g))
            out = g.copy()
            out[...] = out * 2.0
            return out

    x = Variable(np.array(1.5), requires_grad=True)
    Double()(x).backward()
    (Double()(x) * 3.0).sum().backward()
    assert seen == [np.ndarray, np.ndarray]
    np.testing.assert_allclose(x.grad.data, 2.0 + 6.0)
