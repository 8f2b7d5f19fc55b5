"""`gradcli eval --jacobian / --hessian`: tables in the terminal, nested lists in JSON."""

from __future__ import annotations

import json

import numpy as np


def record_of(cli, *args):
    result = cli("eval", *args, "--json")
    assert result.exit_code == 0, result.stderr
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    return record


def test_jacobian_of_softmax(cli):
    z = np.array([1.0, 2.0, 3.0])
    s = np.exp(z) / np.exp(z).sum()
    record = record_of(cli, "softmax(z)", "-v", "z=[1,2,3]", "--jacobian")
    np.testing.assert_allclose(record["jacobian"]["z"], np.diag(s) - np.outer(s, s),
                               atol=1e-12)


def test_jacobian_table(cli):
    result = cli("eval", "softmax(z)", "-v", "z=[1,2,3]", "--jacobian", "--no-graph")
    lines = result.stdout.splitlines()
    head = lines.index("jacobian dout/dz  (3, 3)")
    assert lines[head + 1].split() == ["z[0]", "z[1]", "z[2]"]
    assert lines[head + 2].split() == ["out[0]", "0.081925", "-0.022033", "-0.059892"]


def test_jacobian_of_a_matrix_product_by_input(cli):
    record = record_of(cli, "w = W @ x", "-v", "W=[[1,2],[3,4],[5,6]]", "-v", "x=[1,-1]",
                       "--jacobian")
    assert np.asarray(record["jacobian"]["x"]).tolist() == [[1, 2], [3, 4], [5, 6]]
    jw = np.asarray(record["jacobian"]["W"])
    assert jw.shape == (3, 3, 2)
    assert jw[1, 1].tolist() == [1, -1] and jw[1, 0].tolist() == [0, 0]


def test_rosenbrock_hessian_with_cross_terms(cli):
    a, b = -1.2, 1.0
    record = record_of(cli, "(1-a)^2 + 100*(b-a^2)^2", "-v", f"a={a}", "-v", f"b={b}",
                       "--hessian")
    assert record["hessian"]["a"] == 2 - 400 * (b - 3 * a**2)
    assert record["hessian"]["b"] == 200.0
    full = record["hessian_all"]
    assert full["inputs"] == ["a", "b"]
    np.testing.assert_allclose(full["value"], [[2 - 400 * (b - 3 * a**2), -400 * a],
                                               [-400 * a, 200.0]])


def test_hessian_table(cli):
    result = cli("eval", "(1-a)^2 + 100*(b-a^2)^2", "-v", "a=0.5", "-v", "b=1", "--hessian",
                 "--no-graph")
    lines = result.stdout.splitlines()
    head = lines.index("hessian of out with respect to a, b  (2 × 2)")
    assert [line.split() for line in lines[head + 1:head + 4]] == [
        ["a", "b"], ["a", "-98.0", "-200.0"], ["b", "-200.0", "200.0"]]


def test_hessian_of_a_vector_input(cli):
    record = record_of(cli, "sum(x^3) + x[0]*x[1]", "-v", "x=[1,2]", "--hessian")
    assert record["hessian"]["x"] == [[6.0, 1.0], [1.0, 12.0]]
    assert "hessian_all" not in record


def test_hessian_needs_a_scalar(cli):
    record = record_of(cli, "x * 2", "-v", "x=[1,2]", "--hessian")
    assert record["hessian"] is None and "scalar" in record["hessian_note"]
    result = cli("eval", "x * 2", "-v", "x=[1,2]", "--hessian", "--no-graph")
    assert "hessian: needs a scalar result" in result.stdout


def test_large_tables_show_their_corners(cli):
    result = cli("eval", "x * 2", "-v", "x=ones(30)", "--jacobian", "--no-graph")
    lines = result.stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("jacobian"))
    assert "..." in lines[head + 1]
    assert len(lines) - head <= 2 + 25 + 1


def test_too_large_is_a_note(cli):
    record = record_of(cli, "x * 2", "-v", "x=ones(5000)", "--jacobian")
    assert record["jacobian"] is None and "backward passes" in record["jacobian_note"]
