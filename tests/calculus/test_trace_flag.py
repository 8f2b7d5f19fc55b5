"""`gradcli eval --trace`: the backward pass step by step, in text and in JSON."""

from __future__ import annotations

import json

import numpy as np


def test_the_walkthrough_is_the_hand_derivation(cli):
    result = cli("eval", "-f", "samples/walkthrough.grad", "--trace", "--no-graph")
    assert result.exit_code == 0
    text = result.stdout.split("backward pass", 1)[1]
    lines = [line.strip() for line in text.splitlines()[1:]]
    assert lines == [
        "1. Mean → out  received 1.0",
        "passes to z (step 2)      0.25 to each element of (2, 2)",
        "2. Mul → z  received 0.25 to each element of (2, 2)",
        "passes to 3.0 (constant)  nothing (no gradient needed)",
        "passes to y^2 (step 3)    0.75 to each element of (2, 2)",
        "3. Pow → y^2  received 0.75 to each element of (2, 2)",
        "passes to y (step 4)      (2, 2) [[4.5, 4.5], [4.5, 4.5]]",
        "4. Add → y  received (2, 2) [[4.5, 4.5], [4.5, 4.5]]",
        "passes to x               (2, 2) [[4.5, 4.5], [4.5, 4.5]]",
        "passes to 2.0 (constant)  nothing (no gradient needed)",
    ]


def test_trace_in_json(cli):
    result = cli("eval", "mean(3*(x+2)^2)", "-v", "x=ones(2,2)", "--trace", "--json")
    assert result.exit_code == 0
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["gradients"]["x"] == [[4.5, 4.5], [4.5, 4.5]]
    steps = record["trace"]
    assert [s["function"] for s in steps] == ["Mean", "Mul", "Pow", "Add"]
    assert [s["step"] for s in steps] == [1, 2, 3, 4]
    mean = steps[0]
    assert mean["received"] == {"shape": [], "value": 1.0}
    [to_mul] = mean["passed"]
    assert to_mul["kind"] == "computed" and to_mul["step"] == 2
    assert to_mul["input_shape"] == [2, 2]
    assert np.broadcast_to(to_mul["value"], (2, 2)).tolist() == [[0.25, 0.25], [0.25, 0.25]]
    constant, power = steps[1]["passed"]
    assert constant["kind"] == "constant" and constant["value"] is None
    assert power["to"] == "(x + 2)^2"
    add = steps[3]
    assert add["passed"][0] == {"to": "x", "kind": "input", "step": None, "input_shape": [2, 2],
                                "shape": [2, 2], "value": [[4.5, 4.5], [4.5, 4.5]]}


def test_each_statement_of_a_stream_has_its_trace(cli):
    result = cli("eval", "--trace", "--json", input="a = 2\na^3\nsin(a)\n")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [[s["function"] for s in r["trace"]] for r in records] == [["Pow"], ["Sin"]]
    assert records[0]["trace"][0]["passed"][0]["value"] == 12.0


def test_a_node_used_twice_receives_both_paths(cli):
    result = cli("eval", "y = x * x\nsum(y + y)", "-v", "x=[1, 2]", "--trace", "--json")
    record = json.loads(result.stdout)
    functions = [s["function"] for s in record["trace"]]
    assert functions == ["Sum", "Add", "Mul"]
    mul = record["trace"][2]
    assert mul["name"] == "y"
    # the two paths through Add add up: 2 for each element, perhaps as one broadcast number
    assert np.broadcast_to(mul["received"]["value"], (2,)).tolist() == [2.0, 2.0]
    assert [p["value"] for p in mul["passed"]] == [[2.0, 4.0], [2.0, 4.0]]


def test_no_trace_without_a_seed(cli):
    result = cli("eval", "x * 2", "-v", "x=[1,2]", "--trace", "--no-graph")
    assert result.exit_code == 0
    assert "backward pass: none" in result.stdout
    result = cli("eval", "x * 2", "-v", "x=[1,2]", "--trace", "--grad-output", "[1, 1]",
                 "--json")
    assert [s["function"] for s in json.loads(result.stdout)["trace"]] == ["Mul"]


def test_a_constant_result_has_an_empty_trace(cli):
    result = cli("eval", "2 + 3", "--trace", "--json")
    assert json.loads(result.stdout)["trace"] == []


def test_each_step_is_named_by_the_expression_as_written(cli):
    # the trace shows the user's expression, not a simplified one: y/3 is not
    # 0.3333333333333333*y, x*2 is not 2*x, and x*(x - x) is the Mul it is, not 0
    result = cli("eval", "exp(x*2) + y/3 + sum(x*(x - x))", "-v", "x=1", "-v", "y=2",
                 "--trace", "--json")
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    expressions = {step["expression"] for step in record["trace"]}
    assert {"y/3", "x*2", "exp(x*2)", "x*(x - x)", "x - x"} <= expressions
    assert not any("0.333" in (e or "") for e in expressions)


def test_a_step_is_labelled_as_the_program_computed_it(cli):
    """Unnamed steps are written in the language, as computed (operands in the program's
    order, its operators, slices and joins), by the syntax tree's printer."""

    def labels(program: str) -> dict:
        result = cli("eval", program, "-v", "X=[[1, 2, 3], [4, 5, 6]]", "-v", "w=[1, 2, 3]",
                     "-v", "b=[0.5, 1]", "--trace", "--json")
        assert result.exit_code == 0
        [record] = [json.loads(line) for line in result.stdout.splitlines()]
        return {s["function"]: s["expression"] for s in record["trace"]}

    found = labels("sum(concatenate([X @ w + b, w[1:] % 2]))")
    assert found["Add"] == "X @ w + b"
    assert found["MatMul"] == "X @ w"
    assert found["Mod"] == "w[1:] % 2"
    assert found["GetItem"] == "w[1:]"
    assert found["Concatenate"] is None  # over 32 characters: the function's name will do
    assert labels("sum(concatenate([w, b // 2]))")["Concatenate"] == \
        "concatenate([w, b // 2], axis=0)"
