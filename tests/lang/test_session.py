"""Sessions: SPEC programs, which statements report, streams, recovery, gradients, graphs."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gradcli.autograd import Variable
from gradcli.lang.errors import InputProblem, UnknownName
from gradcli.lang.results import Failure, Result
from gradcli.lang.session import Session, evaluate
from tests.lang.conftest import last


def test_spec_example_program() -> None:
    (r,) = evaluate("mean(3*(x+2)^2)", variables={"x": "ones(2,2)"})
    assert r.value == 27.0
    np.testing.assert_array_equal(r.gradients["x"], np.full((2, 2), 4.5))
    assert (r.line, r.source, r.name, r.note) == (1, "mean(3*(x+2)^2)", None, None)


def test_spec_example_as_a_program_with_names() -> None:
    outcomes = evaluate("x = ones(2, 2)\ny = x + 2\nz = y * y * 3\nout = mean(z)")
    assert len(outcomes) == 1  # only the last statement (an assignment) reports
    (r,) = outcomes
    assert (r.name, r.line, r.source) == ("out", 4, "out = mean(z)")
    assert r.value == 27.0
    assert list(r.gradients) == ["x"]
    np.testing.assert_array_equal(r.gradients["x"], np.full((2, 2), 4.5))


def test_spec_graph_for_the_example() -> None:
    r = last("x = ones(2, 2)\ny = x + 2\nz = y * y * 3\nout = mean(z)")
    nodes = r.graph.nodes
    by_name = {n.name: n for n in nodes if n.name}
    assert set(by_name) == {"x", "y", "z", "out"}
    assert by_name["x"].kind == "input" and by_name["x"].function is None
    assert by_name["y"].function == "Add" and by_name["out"].function == "Mean"
    assert r.graph.output == by_name["out"].id == nodes[-1].id
    for node in nodes:  # inputs first
        assert all(i < node.id for i in node.inputs)
    ids = [n.id for n in nodes]
    assert ids == list(range(len(nodes)))
    # y is used twice by y * y but appears once
    assert sum(1 for n in nodes if n.name == "y") == 1
    mul = nodes[by_name["z"].inputs[0]]
    assert mul.function == "Mul" and mul.inputs == [by_name["y"].id, by_name["y"].id]
    constants = [n for n in nodes if n.kind == "constant"]
    assert {float(n.value) for n in constants} == {2.0, 3.0}
    assert by_name["x"].shape == (2, 2) and by_name["x"].dtype == "float64"


def test_leaf_inputs_and_computed_names() -> None:
    s = Session()
    s.run("a = [1, 2]\nb = ones(2)\nc = a * b\nd = detach(c)\ne = pi\ng = 3")
    for leaf in "abdeg":
        v = s.names[leaf]
        assert v.requires_grad and v.creator is None, leaf
    assert s.names["c"].creator.name == "Mul"


def test_which_statements_report() -> None:
    outcomes = evaluate("a = 1\na + 1\nb = 2\nb * 2\nc = 3\n")
    assert [(r.source, float(r.value)) for r in outcomes] == [
        ("a + 1", 2.0), ("b * 2", 4.0), ("c = 3", 3.0)]
    assert outcomes[-1].name == "c"
    outcomes = Session().run("a = 1\na + 1\nc = 3", interactive=True)
    assert [r.source for r in outcomes] == ["a + 1"]


def test_last_assignment_after_trailing_comments_still_reports() -> None:
    (r,) = evaluate("x = 2\nout = x * 3\n# done\n\n")
    assert r.name == "out" and r.value == 6.0


def test_failures_do_not_stop_later_statements() -> None:
    outcomes = evaluate("a = 1\nb = nope + 1\nc = a + 1\nc * 10\n1 +\n5")
    kinds = [type(o).__name__ for o in outcomes]
    assert kinds == ["Failure", "Result", "Failure", "Result"]
    assert outcomes[1].value == 20.0
    assert outcomes[2].line == 5


def test_gradients_only_for_leaves_the_result_depends_on() -> None:
    r = last("x = 1\ny = 2\nz = 3\nw = x * y\nw + 1")
    assert list(r.gradients) == ["x", "y"]
    assert r.gradients["x"] == 2.0 and r.gradients["y"] == 1.0


def test_constant_results_have_no_gradients() -> None:
    r = last("1 + 2")
    assert r.gradients == {} and r.note is None


def test_wrt_limits_and_zero_fills() -> None:
    r = last("x = 1\ny = 2\nz = [1, 2]\nx * y", wrt=["y", "z"])
    assert list(r.gradients) == ["y", "z"]
    assert r.gradients["y"] == 1.0
    np.testing.assert_array_equal(r.gradients["z"], [0.0, 0.0])
    r = last("x = 1\nx * 2", wrt=["nope"])
    assert r.gradients == {}
    assert r.warnings == ['no gradient for "nope": there is no such name']


def test_non_scalar_results_need_a_grad_output() -> None:
    r = last("x = ones(2, 2)\nx * 3")
    assert r.gradients is None
    assert r.note == "gradients need a scalar output or --grad-output of shape (2, 2)"
    with pytest.raises(InputProblem, match=re.escape(
            "--grad-output has shape (2,), but the result has shape (2, 2): give one of "
            "exactly shape (2, 2)")):  # given, but it fits no result: a bad option
        last("x = ones(2, 2)\nx * 3", grad_output="[1, 1]")
    r = last("x = ones(2, 2)\nx * 3", grad_output="[[1, 2], [3, 4]]")
    np.testing.assert_array_equal(r.gradients["x"], [[3, 6], [9, 12]])
    with pytest.raises(InputProblem, match=r"has shape \(2,\): give one of exactly shape \(2,\)"):
        last("x = ones(2, 2)\nx[0] * 3", grad_output="[[1, 2], [3, 4]]")
    r = last("x = ones(2, 2)\nsum(x * 3)", grad_output="[[1, 2], [3, 4]]")  # scalar: no seed
    np.testing.assert_array_equal(r.gradients["x"], np.full((2, 2), 3.0))
    r = last("x = ones(2, 2)\nsum(x, keepdims=true)")  # one element: seeded with 1
    np.testing.assert_array_equal(r.gradients["x"], np.ones((2, 2)))


def test_each_result_has_its_own_backward_pass() -> None:
    s = Session()
    outcomes = s.run("x = 3\ny = x^2\ny\ny * 2\ny")
    assert [float(r.gradients["x"]) for r in outcomes] == [6.0, 12.0, 6.0]
    assert s.names["x"].grad is None  # .grad is never touched


@pytest.mark.parametrize("graph", [True, False])
def test_a_stream_reports_the_same_inputs_with_or_without_the_graph(graph) -> None:
    # Without a graph, the inputs come from the backward pass itself (no walk first); an
    # input it cannot reach (behind a comparison) still reports, with zeros, and one that
    # was rebound since still reports by the name it was made with.
    s = Session(variables={"x": "[1, -1]", "y": "[1, 2]"}, graph=graph)
    (r,) = s.run("sum(x > 0) + sum(y*2)")
    assert list(r.gradients) == ["x", "y"]
    np.testing.assert_array_equal(r.gradients["x"], [0.0, 0.0])
    np.testing.assert_array_equal(r.gradients["y"], [2.0, 2.0])
    (r,) = s.run("z = x*3\nx = 5\nsum(z)")
    assert list(r.gradients) == ["x"]
    np.testing.assert_array_equal(r.gradients["x"], [3.0, 3.0])
    (r,) = Session(variables={"w": "2"}, graph=graph).run("w")  # a leaf itself
    assert r.gradients == {"w": 1.0}


def test_variables_of_every_kind(tmp_path) -> None:
    np.save(tmp_path / "a.npy", np.arange(3.0))
    (tmp_path / "b.csv").write_text("1,2\n3,4\n")
    (tmp_path / "c.txt").write_text("1 2 3\n")
    (tmp_path / "d.txt").write_text("5, 6\n")
    variables = {"a": f"@{tmp_path / 'a.npy'}", "b": f"@{tmp_path / 'b.csv'}",
                 "c": f"@{tmp_path / 'c.txt'}", "d": f"@{tmp_path / 'd.txt'}",
                 "f": 2.5, "g": np.eye(2), "h": "[[1, 2], [3, 4]]", "k": "randn(3)",
                 "m": Variable(np.ones(2)), "n": [1, 2]}
    s = Session(variables=variables, seed=0)
    assert list(s.names) == list(variables)
    np.testing.assert_array_equal(s.names["b"].data, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(s.names["c"].data, [1, 2, 3])
    np.testing.assert_array_equal(s.names["d"].data, [5, 6])
    for v in s.names.values():
        assert v.requires_grad and v.creator is None and v.data.dtype == np.float64
    r = s.run("sum(a) + sum(b) + f")[-1]
    assert r.value == 15.5 and set(r.gradients) == {"a", "b", "f"}


def test_npy_files_never_unpickle(tmp_path) -> None:
    path = tmp_path / "o.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(Exception) as caught:
        Session(variables={"x": f"@{path}"})
    assert caught.value.type == "input"


def test_text_files_too_large_for_the_limit_are_refused_before_parsing(tmp_path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("1 " * 200)  # 400 bytes: more than 32 per element for a limit of 10
    with pytest.raises(InputProblem, match="too large for the limit of 10 elements"):
        Session(variables={"x": f"@{path}"}, max_elements=10)
    small = tmp_path / "small.csv"
    small.write_text("1, 2.5\n3, 4\n")
    s = Session(variables={"x": f"@{small}"}, max_elements=10)
    assert s.names["x"].data.tolist() == [[1.0, 2.5], [3.0, 4.0]]


def test_underscore_is_the_last_result() -> None:
    s = Session()
    s.run("x = 2\nx * 3")
    assert float(s.last.data) == 6.0
    (r,) = s.run("_ + 1")
    assert r.value == 7.0 and r.gradients == {"x": 3.0}
    s.run("y = 10", interactive=True)  # an unreported assignment does not change _
    assert float(s.last.data) == 7.0


def test_graph_nodes_show_parameters_that_are_not_inputs() -> None:
    r = last("x = [[1, 2], [3, 4]]\nsum(x^2, axis=0) + mean(x, axis=[0, 1], keepdims=true) + x^y",
             variables={"y": "3"})
    details = {(n.function, n.detail) for n in r.graph.nodes if n.function}
    assert ("Pow", "^2") in details and ("Sum", "axis=0") in details
    assert ("Mean", "axis=(0, 1), keepdims") in details
    assert ("Pow", "") in details and ("Add", "") in details  # x^y: y is an input


def test_gradient_graph_of_and_reset() -> None:
    s = Session(variables={"x": "2"}, seed=5)
    s.run("y = x^3\nz = y + x", interactive=True)
    r = s.gradient("z")
    assert isinstance(r, Result) and r.name == "z" and r.gradients == {"x": 13.0}
    r = s.gradient("z", ["y"])
    assert r.gradients == {"y": 1.0}
    g = s.graph_of("z")
    assert g.nodes[g.output].name == "z" and g.nodes[g.output].function == "Add"
    with pytest.raises(UnknownName):
        s.gradient("nope")
    with pytest.raises(UnknownName):
        s.graph_of("nope")
    first = s.run("rand(2)")[0].value
    s.reset()
    assert list(s.names) == ["x"] and s.last is None
    np.testing.assert_array_equal(s.run("rand(2)")[0].value, first)  # reseeded


def test_graph_can_be_switched_off() -> None:
    r = last("x = 1\nx + 1", graph=False)
    assert r.graph is None and r.gradients == {"x": 1.0}


def test_aliased_names_share_a_leaf() -> None:
    r = last("x = 2\ny = x\ny * 3")
    assert r.gradients == {"x": 3.0, "y": 3.0}


def test_max_elements_limits_allocations_and_is_restored() -> None:
    from gradcli.autograd.limits import LIMITS

    before = LIMITS.max_elements
    outcomes = evaluate("ones(10)\nones(3)", max_elements=5)
    assert isinstance(outcomes[0], Failure) and outcomes[0].error.type == "limit"
    assert isinstance(outcomes[1], Result)
    assert LIMITS.max_elements == before


# -- streams ------------------------------------------------------------------------------


def test_stream_answers_each_line_before_reading_the_next() -> None:
    log: list[str] = []

    def producer():
        for line in ["x = 3\n", "x * 2\n", "y = (x +\n", "  1)\n", "y\n"]:
            log.append(f"read {line.strip()}")
            yield line

    for outcome in Session().stream(producer()):
        log.append(f"out {outcome.source}")
    assert log == ["read x = 3", "read x * 2", "out x * 2", "read y = (x +", "read 1)",
                   "read y", "out y"]


def test_stream_reports_the_final_assignment_at_end_of_input() -> None:
    outcomes = list(Session().stream(iter(["a = 1\n", "b = a + 1\n"])))
    assert [(r.name, float(r.value)) for r in outcomes] == [("b", 2.0)]
    assert list(Session().stream(iter(["a = 1\n"]), interactive=True)) == []


def test_stream_accepts_lines_without_newlines() -> None:
    outcomes = list(Session().stream(["1 + 1", "2 * 3"]))
    assert [float(r.value) for r in outcomes] == [2.0, 6.0]


def test_unclosed_bracket_resumes_at_the_line_where_parsing_failed() -> None:
    outcomes = evaluate("x = 2\ny = sum(x\nz = 3 * x\nz + 1")
    f, r = outcomes
    assert isinstance(f, Failure)
    assert f.line == 2 and f.error.message == '"(" is never closed (expected ")")'
    assert (f.error.line, f.error.column) == (2, 8)
    assert f.error.render() == (
        'line 2, column 8: "(" is never closed (expected ")")\n  y = sum(x\n         ^'
    )
    assert r.source == "z + 1" and r.value == 7.0


def test_failure_on_the_first_line_resumes_after_the_next_semicolon() -> None:
    outcomes = evaluate("1 + * 2; 5\n6")
    assert isinstance(outcomes[0], Failure)
    assert [float(r.value) for r in outcomes[1:]] == [5.0, 6.0]


def test_failure_at_a_semicolon_resumes_after_it() -> None:
    outcomes = evaluate("1 +; 5\n(2; 7")
    assert [type(o).__name__ for o in outcomes] == ["Failure", "Result", "Failure", "Result"]
    assert [float(o.value) for o in outcomes if isinstance(o, Result)] == [5.0, 7.0]


def test_bracket_unclosed_at_end_of_input() -> None:
    outcomes = evaluate("a = 1\nb = [1,\n 2,\n")
    f = outcomes[0]
    assert f.line == 2 and f.error.message == '"[" is never closed (expected "]")'
    assert f.source == "b = [1,\n 2,"
    # reading resumed at line 3, which is not a statement on its own
    assert [o.line for o in outcomes] == [2, 3] and isinstance(outcomes[1], Failure)


def test_bracket_unclosed_at_end_of_input_swallows_no_line() -> None:
    outcomes = evaluate("x = (1 +\nlog(0)")
    assert [type(o).__name__ for o in outcomes] == ["Failure", "Result"]
    assert outcomes[0].error.message == '"(" is never closed (expected ")")'
    assert outcomes[1].line == 2 and float(outcomes[1].value) == -np.inf
    assert outcomes[1].warnings


def test_multiline_statement_failing_mid_way() -> None:
    outcomes = evaluate("y = (1 +\n  2 +\n  * 3)\n4")
    f = outcomes[0]
    assert f.line == 1 and (f.error.line, f.error.column) == (3, 3)
    assert f.error.render().split("\n")[1:] == ["    * 3)", "    ^"]
    # parsing resumed at line 3, which fails at the same spot on its own (said once),
    # then line 4 runs
    assert [type(o).__name__ for o in outcomes] == ["Failure", "Result"]
    assert outcomes[1].value == 4.0


def test_two_interleaved_streams_do_not_mix() -> None:
    a = Session().stream(iter(["x = (1 +\n", "2)\n", "x * 10\n"]))
    b = Session().stream(iter(["y = [3,\n", "4]\n", "sum(y)\n"]))
    ra = next(a)
    rb = next(b)
    assert float(ra.value) == 30.0 and float(rb.value) == 7.0


def test_inputs_holding_nan_or_infinity_are_warned_of_or_refused_when_strict() -> None:
    s = Session(variables={"x": "[1, nan, inf]", "y": "log(0)", "z": "2"})
    assert s.input_warnings == ["the value of x holds NaN or infinity at 2 elements",
                                "the value of y holds NaN or infinity at 1 element"]
    with pytest.raises(InputProblem, match=r"value of y holds NaN .*\(--strict\)"):
        Session(variables={"y": "log(0)"}, strict=True)


@pytest.mark.parametrize(
    ("program", "lines_and_kinds"),
    [
        ("1; 2x; 3", ["Result 1.0", "Failure", "Result 3.0"]),
        ("x = 1; y = $; x*5", ["Failure", "Result 5.0"]),  # the last statement reports
        ("1; sum(1, 2x); 3", ["Result 1.0", "Failure", "Result 3.0"]),
        ("1; f(1); 3", ["Result 1.0", "Failure", "Result 3.0"]),  # unknown function
        ("1; 2x; 3 # ; 4", ["Result 1.0", "Failure", "Result 3.0"]),  # not in a comment
        ("(1 +\n 2x); 3", ["Failure", "Result 3.0"]),  # line 2 is read again: same error
        ("x = (1 +\n 2 $ 3); y = 5", ["Failure", "Result 5.0"]),
    ],
)
def test_a_syntax_error_loses_no_statement_after_a_semicolon(program, lines_and_kinds) -> None:
    outcomes = evaluate(program)
    got = [type(o).__name__ + (f" {float(o.value)}" if isinstance(o, Result) else "")
           for o in outcomes]
    assert got == lines_and_kinds


def test_the_warnings_of_an_assignment_that_reports_nothing_are_not_lost() -> None:
    # SPEC §7: NaN or infinity from a valid operation always has its warning; an
    # assignment in the middle reports nothing, so the next result carries it, by line
    from gradcli.lang.session import Session

    session = Session()
    first, second = session.run("x = log(0)\ny = 1e400\nz = 2\nx + 1\nz * 2")
    assert first.warnings == ["line 1: log: divide by zero at 1 element",
                              "line 2: number: too large for float64, it is inf"]
    assert second.warnings == []
    assert session.take_unreported() == []
    # where no result follows (the REPL; a failure after it), the command takes them
    assert session.run("w = log(0)", interactive=True) == []
    assert session.take_unreported() == ["log: divide by zero at 1 element"]
    [failure] = session.run("v = log(0)\nnope")
    assert session.take_unreported() == ["line 1: log: divide by zero at 1 element"]
