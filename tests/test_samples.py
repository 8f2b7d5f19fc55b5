"""Every sample runs through the command line and gives the numbers its comments promise."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from gradcli.cli.main import main

SAMPLES = Path(__file__).resolve().parents[1] / "samples"

# sample -> (source of the checked result, its value, {input: gradient})
EXPECTED = {
    "walkthrough.grad": ("out = mean(z)", 27.0, {"x": np.full((2, 2), 4.5)}),
    "softmax_cross_entropy.grad": (
        "loss = -sum(target * log_softmax(logits))",
        -np.log(np.exp(2.0) / np.exp([2.0, 1.0, 0.1]).sum()),
        {"logits": np.exp([2.0, 1.0, 0.1]) / np.exp([2.0, 1.0, 0.1]).sum() - [1, 0, 0]},
    ),
    "linear_regression.grad": ("loss = mean(residual^2)", 3.375, {"w": -10.0, "b": -3.5}),
    "rosenbrock.grad": ("f", 24.2, {"x": -215.6, "y": -88.0}),
    "matrix_calculus.grad": ("det(A)", 5.0, {"A": [[3.0, -1.0], [-1.0, 2.0]]}),
}


def _logistic():
    X = np.array([[0.5, 1.0], [1.5, -0.5], [-1.0, 0.5], [2.0, 1.5]])
    y = np.array([1, 1, 0, 1.0])
    p = 1 / (1 + np.exp(-(X @ [0.1, -0.2])))
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    return loss, {"w": X.T @ (p - y) / 4, "b": np.mean(p - y)}


def _network():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0.5]])
    t = np.array([0, 1, 1, 0, 0.5])
    W1 = np.array([[0.5, -0.3, 0.8], [0.2, 0.7, -0.6]])
    b1 = np.array([0.1, 0.0, -0.1])
    W2 = np.array([[1.0], [-1.0], [0.5]])
    h = np.tanh(X @ W1 + b1)
    y = (h @ W2).reshape(5)
    dy = 2 * (y - t) / 5
    dW2 = h.T @ dy[:, None]
    dpre = (dy[:, None] @ W2.T) * (1 - h**2)
    return np.mean((y - t) ** 2), {"W2": dW2, "W1": X.T @ dpre, "b1": dpre.sum(0), "b2": dy.sum()}


def run_sample(name: str) -> list[dict]:
    result = CliRunner().invoke(main, ["eval", "-f", str(SAMPLES / name), "--json"])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_every_sample_is_checked():
    names = {path.name for path in SAMPLES.glob("*.grad")}
    assert names == {*EXPECTED, "logistic_regression.grad", "two_layer_network.grad"}


@pytest.mark.parametrize("name", sorted(SAMPLES.glob("*.grad")), ids=lambda p: p.name)
def test_sample_runs_and_teaches_with_comments(name):
    text = name.read_text()
    assert text.startswith("#"), "a sample starts with what it teaches"
    assert run_sample(name.name)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_numbers(name):
    source, value, gradients = EXPECTED[name]
    [record] = [r for r in run_sample(name) if r["source"] == source]
    assert record["value"] == pytest.approx(value)
    for input_name, expected in gradients.items():
        assert np.allclose(record["gradients"][input_name], expected), input_name


@pytest.mark.parametrize(
    "name, reference",
    [("logistic_regression.grad", _logistic), ("two_layer_network.grad", _network)],
)
def test_learning_samples_match_hand_derived_gradients(name, reference):
    loss, gradients = reference()
    record = run_sample(name)[-1]
    assert record["name"] == "loss"
    assert record["value"] == pytest.approx(loss)
    for input_name, expected in gradients.items():
        assert np.allclose(record["gradients"][input_name], expected), input_name


def test_softmax_sample_reports_probabilities_first():
    records = run_sample("softmax_cross_entropy.grad")
    probabilities = np.exp([2.0, 1.0, 0.1]) / np.exp([2.0, 1.0, 0.1]).sum()
    assert np.allclose(records[0]["value"], probabilities)
    assert records[0]["gradients"] is None
