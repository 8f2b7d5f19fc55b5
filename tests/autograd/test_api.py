"""The Python API as a PyTorch user types it: in-place updates and their version check,
``.data``, construction, the methods generated from the operation catalogue, NumPy's
functions on Variables, lists of Variables, and ``grad()``'s errors."""

from __future__ import annotations

import re

import numpy as np
import pytest
from autograd_support import check, check_second_order, distinct

import gradcli
from gradcli import Variable, grad, no_grad, ops
from gradcli.autograd import BackwardError, InPlaceError
from gradcli.autograd.ops.masks import is_mask
from gradcli.autograd.variable import METHOD_ALIASES, NOT_METHODS, method_names


def leaf(values) -> Variable:
    return Variable(np.array(values, dtype=np.float64), requires_grad=True)


# -- in-place arithmetic -------------------------------------------------------------------


def test_sgd_step_under_no_grad_changes_the_parameter_itself():
    p = leaf([1.0, 2.0, 3.0])
    params = [p]
    (p * p).sum().backward()
    with no_grad():
        for q in params:
            q -= 0.1 * q.grad
    assert params[0] is p and p.requires_grad and p.creator is None
    np.testing.assert_allclose(p.data, [0.8, 1.6, 2.4])


@pytest.mark.parametrize(
    "update, expected",
    [
        (lambda v: v.__iadd__(2.0), [3.0, 4.0]),
        (lambda v: v.__isub__(np.array([1.0, 1.0])), [0.0, 1.0]),
        (lambda v: v.__imul__(Variable([2.0, 3.0])), [2.0, 6.0]),
        (lambda v: v.__itruediv__(2.0), [0.5, 1.0]),
        (lambda v: v.__ipow__(2.0), [1.0, 4.0]),
        (lambda v: v.add_(Variable([1.0, 1.0]), alpha=3.0), [4.0, 5.0]),
        (lambda v: v.sub_(1.0), [0.0, 1.0]),
        (lambda v: v.mul_(-1.0), [-1.0, -2.0]),
        (lambda v: v.div_(Variable(4.0)), [0.25, 0.5]),
        (lambda v: v.copy_(np.array([7, 8])), [7.0, 8.0]),
        (lambda v: v.copy_(5.0), [5.0, 5.0]),
        (lambda v: v.fill_(-1.0), [-1.0, -1.0]),
        (lambda v: v.zero_(), [0.0, 0.0]),
    ],
)
def test_each_in_place_operation(update, expected):
    for requires_grad in (False, True):
        v = Variable(np.array([1.0, 2.0]), requires_grad=requires_grad)
        with no_grad():
            assert update(v) is v
        np.testing.assert_allclose(v.data, expected)
        assert v.data.dtype == np.float64 and v.creator is None


def test_in_place_on_a_value_that_needs_no_gradient_needs_no_no_grad():
    v = Variable(np.ones(3))
    v += 1.0
    v.zero_()
    np.testing.assert_array_equal(v.data, np.zeros(3))


def test_in_place_on_a_leaf_that_requires_a_gradient_is_an_error_outside_no_grad():
    p = leaf([1.0, 2.0])
    for update in (lambda: p.__isub__(1.0), p.zero_, lambda: p.add_(1.0),
                   lambda: p.copy_(np.zeros(2))):
        with pytest.raises(InPlaceError, match="leaf that requires a gradient.*no_grad"):
            update()
    np.testing.assert_array_equal(p.data, [1.0, 2.0])  # unchanged


def test_in_place_never_writes_into_the_callers_array():
    weights = np.ones(3)
    p = Variable(weights, requires_grad=True)
    view = p.data
    with no_grad():
        p -= 0.5
    np.testing.assert_array_equal(weights, np.ones(3))
    np.testing.assert_array_equal(view, np.ones(3))
    np.testing.assert_array_equal(p.data, np.full(3, 0.5))


def test_in_place_keeps_the_shape_and_the_dtype():
    v = Variable(np.ones(3, dtype=np.float32))
    v += np.ones(3)  # float64 on the right: the result stays float32, as in PyTorch
    assert v.data.dtype == np.float32
    with pytest.raises(InPlaceError, match=r"result has shape \(2, 3\).*shape \(3,\)"):
        v += np.ones((2, 3))


def test_grad_zero_then_accumulate():
    p = leaf([1.0, 2.0])
    (p * 3.0).sum().backward()
    p.grad.zero_()
    (p * p).sum().backward()
    np.testing.assert_allclose(p.grad.data, [2.0, 4.0])


def test_gradients_accumulate_into_the_same_grad_variable():
    p = leaf([1.0, 2.0])
    (p * 3.0).sum().backward()
    held = p.grad
    (p * p).sum().backward()
    assert p.grad is held
    np.testing.assert_allclose(held.data, [5.0, 7.0])


def test_in_place_on_a_non_leaf_is_recorded_in_the_graph():
    x = leaf([1.0, 2.0, 3.0])
    h = x * 2.0
    h += x * x  # recorded: h is now 2x + x^2
    assert h.creator.name == "Add"
    h.sum().backward()
    np.testing.assert_allclose(x.grad.data, 2.0 + 2.0 * x.data)


@pytest.mark.parametrize("name", ["__iadd__", "__isub__", "__imul__", "__itruediv__",
                                  "__ipow__"])
def test_recorded_in_place_gradients_match_finite_differences(name):
    def fn(x, y):
        h = x * 1.5  # a non-leaf, changed in place with a value that needs a gradient
        return getattr(h, name)(y if name != "__ipow__" else 2.0)

    check(fn, distinct((2, 3)) + 3.0, distinct((3,), seed=1) + 3.0)
    check_second_order(fn, distinct((2, 3)) + 3.0, distinct((3,), seed=1) + 3.0)


def test_accumulating_into_a_constant_makes_it_part_of_the_graph():
    x = leaf([1.0, 2.0])
    total = Variable(np.zeros(2))
    for k in range(3):
        total += x * float(k)
    assert total.requires_grad and total.creator is not None
    total.sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 3.0])


def test_adding_a_list_of_variables_in_place_joins_the_graph():
    x = leaf([1.0, 2.0])
    total = Variable(np.zeros(2))
    total += [x[1], x[0] * 3.0]
    total.sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 1.0])


def test_copy_into_a_constant_carries_the_gradient_to_the_source():
    x = leaf([1.0, 2.0])
    target = Variable(np.zeros((3, 2)))
    target.copy_(x)  # broadcast
    np.testing.assert_array_equal(target.data, [[1.0, 2.0]] * 3)
    (target * target).sum().backward()
    np.testing.assert_allclose(x.grad.data, 6.0 * x.data)
    target.data[0, 0] = 9.0  # memory of its own, not a view of x
    assert x.data[0] == 1.0


def test_backward_through_a_value_changed_since_it_was_saved_raises():
    x = leaf([1.0, 2.0])
    y = x * x  # Mul needs x's value for its gradient
    with no_grad():
        x += 1.0
    with pytest.raises(BackwardError, match=r"Mul: its input 1 \(shape \(2,\)\) was changed "
                                            r"in place after Mul used it"):
        y.sum().backward()


def test_backward_through_a_non_leaf_changed_since_it_was_used_raises():
    x = leaf([1.0, 2.0])
    a = x * 2.0
    b = (a * a).sum()
    a += 1.0  # recorded, but b's Mul used the old a
    with pytest.raises(BackwardError, match="changed in place"):
        b.backward()
    with pytest.raises(BackwardError, match="changed in place"):
        grad(b, x)


def test_a_variable_saved_for_backward_and_changed_in_place_raises():
    class ScaleBy(gradcli.Function):
        def __init__(self, factor):
            self.factor = factor

        def forward(self, x):
            self.save_for_backward(self.factor)
            return x * self.factor.data

        def backward(self, g):
            (factor,) = self.saved
            return g * factor.data

    factor = Variable(np.array([2.0, 3.0]))
    x = leaf([1.0, 1.0])
    y = ScaleBy(factor)(x).sum()
    factor *= 10.0
    with pytest.raises(BackwardError, match="ScaleBy: a value it saved for backward "
                                            r"\(shape \(2,\)\) was changed in place"):
        y.backward()


def test_backward_after_an_unrelated_in_place_change_is_right():
    x = leaf([1.0, 2.0])
    other = Variable(np.ones(2))
    y = (x * x).sum()
    other += 1.0  # some other value: this graph is untouched
    y.backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0])


def test_changing_a_comparison_result_in_place_ends_its_mask():
    x = Variable(np.array([-1.0, 2.0, 3.0]))
    m = x > 0
    assert is_mask(m)
    m *= 2.0
    assert not is_mask(m)
    np.testing.assert_array_equal(x[m].data, [-1.0, 3.0, 3.0])  # positions 0, 2, 2


# -- .data ----------------------------------------------------------------------------------


def test_data_minus_equals_a_gradient_works_on_the_raw_values():
    p = leaf([1.0, 2.0])
    (p * p).sum().backward()
    p.data -= 0.5 * p.grad
    np.testing.assert_allclose(p.data, [0.0, 0.0])
    assert type(p.data) is np.ndarray


def test_assigning_a_variable_to_data_keeps_an_array_inside():
    q = leaf([1.0, 2.0])
    v = Variable(np.array([10.0, 10.0]))
    q.data = q.data - 0.1 * v  # ndarray - Variable is a Variable; .data unwraps it
    assert type(q.data) is np.ndarray
    np.testing.assert_allclose(q.data, [0.0, 1.0])
    q.data = [3, 4]
    assert q.data.dtype == np.float64 and q.data.tolist() == [3.0, 4.0]


def test_replacing_data_counts_as_a_change_for_the_version_check():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    x.data = np.array([5.0, 5.0])
    with pytest.raises(BackwardError, match="changed in place"):
        y.backward()


def test_a_ufunc_cannot_write_into_a_variable():
    with pytest.raises(TypeError, match=r"np.add\(..., out=...\) cannot write into a "
                                        r"Variable; use its in-place operators"):
        np.add(np.ones(2), np.ones(2), out=Variable(np.zeros(2)))


# -- construction: one rule --------------------------------------------------------------------


def test_a_float_array_is_kept_without_a_copy_and_other_values_are_converted():
    floats = np.ones(3)
    assert Variable(floats).data is floats
    assert Variable(np.ones(3, dtype=np.float32)).data.dtype == np.float32
    ints = np.arange(3)
    v = Variable(ints)
    assert v.data.dtype == np.float64 and not np.shares_memory(v.data, ints)
    copied = Variable(floats, copy=True)
    assert not np.shares_memory(copied.data, floats)
    np.testing.assert_array_equal(copied.data, floats)
    assert Variable.from_numpy(floats, requires_grad=True).data is floats


def test_from_numpy_refuses_what_it_cannot_share():
    with pytest.raises(TypeError, match="from_numpy needs a float or complex ndarray, got "
                                        "int64"):
        Variable.from_numpy(np.arange(3))
    with pytest.raises(TypeError, match="got list"):
        Variable.from_numpy([1.0])


def test_a_list_of_variables_becomes_their_values():
    x = leaf([1.0, 2.0])
    v = Variable([x, x * 2.0])
    assert v.creator is None and not v.requires_grad
    np.testing.assert_array_equal(v.data, [[1.0, 2.0], [2.0, 4.0]])


# -- grad() ------------------------------------------------------------------------------------


def test_grad_of_an_input_that_requires_no_gradient_raises():
    x = leaf([1.0, 2.0])
    c = Variable(np.array([3.0, 4.0]))
    with pytest.raises(BackwardError, match=r"grad\(\): input 2 \(shape \(2,\)\) does not "
                                            r"require a gradient; make it with Variable"):
        grad((x * c).sum(), [x, c])
    with pytest.raises(BackwardError, match=r"grad\(\): the input \(shape \(2,\)\)"):
        grad((x * c).sum(), c)


def test_the_languages_grad_of_a_constant_stays_zeros():
    # In the language a constant is a value the output does not depend on, not a misuse.
    results = gradcli.evaluate("grad(x^2 * 2, 2); jacobian(x * [1, 2], 2); hessian(x^3, 2)",
                               {"x": "3"})
    assert [np.asarray(r.value).tolist() for r in results] == [0.0, [0.0, 0.0], 0.0]


def test_jacobian_and_hessian_of_an_input_that_requires_no_gradient_raise():
    c = Variable(np.array([1.0, 2.0]))
    with pytest.raises(BackwardError, match="does not require a gradient"):
        gradcli.jacobian(c * 2.0, c)
    with pytest.raises(BackwardError, match="does not require a gradient"):
        gradcli.hessian((c * c).sum(), c)


def test_grad_of_an_input_the_output_does_not_depend_on_is_zeros():
    x, unused = leaf([1.0, 2.0]), leaf([5.0])
    gx, gu = grad((x * x).sum(), [x, unused])
    np.testing.assert_array_equal(gu.data, [0.0])


def test_grad_of_an_output_that_is_not_a_variable_says_so():
    x = leaf([1.0, 2.0])
    with pytest.raises(TypeError, match=r"grad\(\): outputs must be Variables \(or a list of "
                                        r"them\), got ndarray"):
        grad(x.data * 2.0, x)
    with pytest.raises(TypeError, match=r"inputs must be Variables.*got list \(item 2\)"):
        grad(x.sum(), [x, [1.0]])


# -- methods: every operation, from the catalogue --------------------------------------------


def test_every_operation_is_a_method_unless_its_first_argument_is_not_the_array():
    names = method_names()
    for name in ops.__all__:
        assert (name in names) != (name in NOT_METHODS), name
    for name in names:
        assert callable(getattr(Variable, name)), name
    for alias, target in METHOD_ALIASES.items():
        assert names[alias] == target


UNARY = ["abs", "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "cbrt", "square",
         "reciprocal", "sin", "cos", "tan", "sinh", "cosh", "tanh", "arctan", "arcsinh",
         "sigmoid", "relu", "softplus", "sum", "mean", "prod", "max", "min", "var", "std",
         "logsumexp", "norm", "softmax", "log_softmax", "flatten"]


@pytest.mark.parametrize("name", UNARY)
def test_unary_methods_are_the_operations(name):
    x = distinct((2, 3)) + 3.0  # positive, no ties
    np.testing.assert_array_equal(getattr(Variable(x), name)().data,
                                  getattr(ops, name)(Variable(x)).data)
    check(lambda v: getattr(v, name)(), x)


def test_methods_with_arguments_and_pytorch_spellings():
    x = distinct((2, 3))
    check(lambda v: v.clamp(min=-0.5), x)
    check(lambda v: v.clamp(max=0.5), x)
    check(lambda v: v.clamp(-0.5, 0.5), x)
    check(lambda v: v.clip(-0.5, 0.5), x)
    check(lambda v: v.pow(3.0), x)
    check(lambda v: v.sum(axis=0, keepdims=True), x)
    check(lambda v: v.reshape(3, 2).t(), x)
    check(lambda v, w: v.mul(w).sub(w).div(2.0).neg(), x, distinct((3,), seed=2))
    check(lambda v, w: v.matmul(w), x, distinct((3, 2), seed=2))
    check(lambda v: v.sum(dim=1, keepdim=True), x)
    check(lambda v: v.mean(dim=0), x)
    check(lambda v: v.unsqueeze(0).permute(2, 0, 1), x)
    assert (Variable(x, requires_grad=True) * 2.0).grad_fn.name == "Mul"
    with pytest.raises(ValueError, match="clamp"):
        Variable(x).clamp()
    with pytest.raises(ValueError, match="t\\(\\) expects at most 2 dimensions"):
        Variable(np.ones((2, 2, 2))).t()


def test_inspection_methods():
    v = Variable(np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]]))
    assert v.tolist() == [[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]]
    assert v.numel() == 6 and v.dim() == 2 and v.ndim == 2
    assert v.argmax() == 3 and v.argmin() == 4
    assert v.argmax(axis=1).tolist() == [1, 0]
    assert Variable(2.5).item() == 2.5
    assert v.t().shape == (3, 2) and Variable(np.ones(3)).t().shape == (3,)


def test_comparisons_give_floats_and_the_accuracy_idiom_works():
    score = Variable(np.array([0.3, -1.2, 2.0, -0.1]))
    y = Variable(np.array([1.0, -1.0, -1.0, -1.0]))
    hits = (score > 0) == (y > 0)
    assert hits.data.dtype == np.float64
    np.testing.assert_array_equal(hits.data, [1.0, 1.0, 0.0, 1.0])
    assert hits.mean().item() == 0.75


# -- lists holding Variables join the graph ------------------------------------------------------


def test_a_list_of_variables_given_to_an_operation_keeps_the_graph():
    x = leaf([1.0, 2.0, 3.0])
    out = ops.mean([x, x + 2])
    assert isinstance(out, Variable) and out.creator.name == "Mean"
    (g,) = grad(ops.sum(ops.multiply([x, x], x)), x)
    np.testing.assert_allclose(g.data, [4.0, 8.0, 12.0])


def test_lists_of_variables_in_every_position_match_finite_differences():
    a, b = distinct((3,)), distinct((3,), seed=1)
    check(lambda x: ops.sum([x, x * 2.0]), a)
    check(lambda x, y: ops.multiply([x, y], x), a, b)
    check(lambda x, y: ops.matmul([[x[0], y[1]], [2.0, x[2]]], y[:2]), a, b)  # nested, numbers
    check(lambda x, y: ops.concatenate([[x, y], ops.reshape(x, (1, 3))]), a, b)
    check(lambda x, y: x + (y, y), a, b)  # a tuple, through an operator
    check(lambda x, y: ops.where([1.0, 0.0, 1.0], [x[0], x[1], y[2]], y), a, b)


def test_a_list_of_variables_of_different_shapes_is_a_clear_error():
    x = leaf([1.0, 2.0])
    with pytest.raises(gradcli.autograd.OperationError, match="Stack"):
        ops.sum([x, x[0]])


# -- NumPy's functions on Variables ---------------------------------------------------------------


def test_numpy_reductions_on_variables_are_gradcli_operations():
    x = distinct((2, 3)) + 3.0
    for fn in (np.sum, np.mean, np.prod, np.max, np.min, np.std, np.var):
        out = fn(Variable(x, requires_grad=True))
        assert isinstance(out, Variable) and out.creator is not None, fn
        np.testing.assert_allclose(out.data, fn(x))
        check(fn, x)
        check(lambda v, fn=fn: fn(v, axis=0, keepdims=True), x)


def test_numpy_ufuncs_and_functions_on_variables():
    x, y = distinct((2, 3)) + 3.0, distinct((3,), seed=1)
    check(np.exp, x)
    check(np.abs, y)
    check(lambda v, w: np.maximum(v, w), x, y)
    check(lambda v, w: np.ones(3) * v - w ** 2, x, y)
    check(lambda v: np.reshape(v, (3, 2)), x)
    check(lambda v: np.transpose(v), x)
    check(lambda v, w: np.concatenate([v, np.reshape(w, (1, 3))]), x, y)
    check(lambda v, w: np.dot(v, w), x, y)
    check(lambda v: np.linalg.norm(v), x)
    check(lambda v: np.clip(v, 3.0, 4.0), x)


def test_numpy_functions_that_inspect_values_see_the_arrays():
    v = Variable(np.array([1.0, np.nan, 3.0]))
    assert np.shape(v) == (3,) and np.ndim(v) == 1
    np.testing.assert_array_equal(np.isnan(v), [False, True, False])
    assert np.allclose(Variable(np.ones(2)), 1.0)
    assert np.argmax(Variable(np.array([1.0, 3.0, 2.0]))) == 1


def test_numpy_functions_without_a_gradient_rule_say_what_to_use():
    v = Variable(np.ones(3), requires_grad=True)
    with pytest.raises(TypeError, match="np.median has no gradient rule in gradcli; use a "
                                        r"gradcli operation .*np.asarray\(v\)"):
        np.median(v)
    for fn in (np.nancumsum, np.copy, np.ptp, np.nanprod):
        with pytest.raises(TypeError, match=f"np.{fn.__name__} has no gradient rule"):
            fn(v)
    with pytest.raises(TypeError, match="np.fabs has no gradient rule"):
        np.fabs(v)
    with pytest.raises(TypeError, match="np.add.reduce has no gradient rule"):
        np.add.reduce(v)
    with pytest.raises(TypeError, match="np.std on a Variable runs gradcli.ops.std, which "
                                        "cannot take these arguments"):
        np.std(v, dtype=np.float32)
    with pytest.raises(TypeError, match=r"np.sum\(..., out=...\)"):
        np.sum(v, out=np.zeros(()))
    with pytest.raises(TypeError, match="np.exp on a Variable runs gradcli.ops.exp, which "
                                        r"takes no keyword arguments \(dtype\)"):
        np.exp(v, dtype=np.float32)


def test_the_std_of_one_element_has_a_zero_gradient_also_in_the_language():
    x = leaf(2.0)
    (g,) = grad(ops.std(x), x)
    assert g.item() == 0.0
    [result] = gradcli.evaluate("sum(std(x, axis=0))", {"x": "[[1, 2, 3]]"})
    np.testing.assert_array_equal(result.gradients["x"], [[0.0, 0.0, 0.0]])
    check(lambda v: ops.std(v, axis=0), np.array([[1.0, 2.0, 3.0]]))
    check(lambda v: ops.std(v, axis=1, keepdims=True), np.array([[1.0], [5.0]]))


def test_hypot_at_the_origin_has_the_zero_subgradient_as_norm():
    a, b = leaf([0.0, 3.0]), leaf([0.0, 4.0])
    ga, gb = grad(ops.hypot(a, b).sum(), [a, b])
    np.testing.assert_allclose(ga.data, [0.0, 0.6])
    np.testing.assert_allclose(gb.data, [0.0, 0.8])
    check(ops.hypot, np.array([0.0, 3.0]), np.array([0.0, -4.0]))
    check_second_order(ops.hypot, np.array([1.0, 3.0]), np.array([2.0, -4.0]))


# -- the public names ----------------------------------------------------------------------------


def test_the_public_names_are_exactly_the_documented_ones():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1].split("\n## ", 1)[0]
    listing = re.search(r"^The public names[^:]*:(.*?)\.$", section, re.M | re.S).group(1)
    documented = set(re.findall(r"`(\w+)`", listing))
    public = {name for name in dir(gradcli) if not name.startswith("_")}
    assert public == documented == {n for n in gradcli.__all__ if not n.startswith("_")}
    for name in gradcli.__all__:
        assert getattr(gradcli, name) is not None


def test_numpy_names_of_the_newer_operations_and_norms_ord_positional():
    x = Variable(np.array([3.0, -4.0, 0.5]), requires_grad=True)
    np.testing.assert_allclose(np.asarray(x % 2), np.mod(x.data, 2))
    np.testing.assert_allclose(np.asarray(np.remainder(x, 2)), np.mod(x.data, 2))
    np.testing.assert_allclose(np.asarray(7 // x), np.floor_divide(7, x.data))
    np.testing.assert_allclose(np.asarray(np.degrees(x)), np.degrees(x.data))
    np.testing.assert_allclose(np.asarray(np.diff(x)), np.diff(x.data))
    # np.linalg.norm(v, 1) is ord=1 (gradcli's own second positional is axis)
    np.testing.assert_allclose(float(np.asarray(np.linalg.norm(x, 1))), 7.5)
    np.testing.assert_allclose(float(np.asarray(np.var(x, 0, None, None, 1))),
                               np.var(x.data, ddof=1))
    (g,) = grad(np.linalg.norm(x, 1), [x])
    np.testing.assert_allclose(np.asarray(g), np.sign(x.data))
    assert not hasattr(x, "einsum") and not hasattr(x, "hstack")


def test_a_change_under_part_of_a_graph_refuses_the_pass_and_frees_nothing():
    # the newer nodes (made after the change) run first; the check comes at the first
    # node made before it, and what ran until then is not released
    x = leaf([1.0, 2.0])
    v = Variable(np.array([3.0, 4.0]))
    o = x * v
    v += 1.0  # after o used it
    out = (o * 2.0).sum()
    for _ in range(2):  # the second time too: not "freed"
        with pytest.raises(BackwardError, match="Mul: its input 2 .* was changed in place"):
            out.backward()
    assert x.grad is None


def test_a_graph_made_after_a_change_in_place_is_released_by_its_pass():
    w = leaf([1.0, 2.0])
    with gradcli.no_grad():
        w -= 0.5  # an update step: a change in place
    y = w * 3.0
    out = (y * y).sum()
    out.backward()
    np.testing.assert_allclose(w.grad.data, 18.0 * w.data)
    assert y.creator.inputs is None and out.creator.inputs is None  # released


def test_after_a_change_in_place_a_long_pass_holds_a_bounded_number_unreleased(monkeypatch):
    from gradcli.autograd import backward

    monkeypatch.setattr(backward, "UNRELEASED", 8)
    w = leaf([1.0])
    with gradcli.no_grad():
        w -= 0.5  # a change in place: later passes hold what they run until a check
    made = []

    class Probe(gradcli.Function):  # runs last: how many of the nodes run are held?
        def forward(self, a):
            return a * 1.0

        def backward(self, g):
            self.held = sum(fn.inputs is not None for fn in made)
            return g

    probe = Probe()
    y = probe(w)
    for _ in range(30):
        y = y * 1.5
        made.append(y.creator)
    y.sum().backward()
    np.testing.assert_allclose(w.grad.data, [1.5 ** 30])
    assert probe.held == 0  # checked after 8, released then: not all 30 held to the end
    assert all(fn.inputs is None for fn in made)
