"""micrograd's demo with gradcli's Python API: a 2-16-16-1 MLP learns two moons.

The loop is written as a PyTorch user writes it: build the loss from Variables, clear
the gradients, ``loss.backward()``, then an SGD step in place under ``no_grad()``.
The data loss is the SVM max-margin loss, plus L2 regularisation; the two moons are drawn
with NumPy (seeded), so every run prints the same numbers.

    python samples/train_mlp.py            # 100 steps, as in micrograd's demo
    python samples/train_mlp.py --steps 20
"""

from __future__ import annotations

import argparse

import numpy as np

from gradcli import Variable, no_grad

SIZES = (2, 16, 16, 1)


def make_moons(n: int = 100, noise: float = 0.1, seed: int = 1) -> tuple[np.ndarray, ...]:
    """Two interleaved half circles (scikit-learn's make_moons, without scikit-learn);
    labels are 1 for the upper moon and -1 for the lower one."""
    rng = np.random.default_rng(seed)
    upper, lower = n // 2, n - n // 2
    t_up, t_low = np.linspace(0, np.pi, upper), np.linspace(0, np.pi, lower)
    X = np.concatenate([np.stack([np.cos(t_up), np.sin(t_up)], axis=1),
                        np.stack([1 - np.cos(t_low), 0.5 - np.sin(t_low)], axis=1)])
    X += rng.normal(0.0, noise, size=X.shape)
    y = np.concatenate([np.ones(upper), -np.ones(lower)])
    return X, y


def init_weights(seed: int = 0) -> list[np.ndarray]:
    """W1, b1, W2, b2, W3, b3: weights uniform in [-1, 1] as micrograd's, biases 0."""
    rng = np.random.default_rng(seed)
    weights = []
    for fan_in, fan_out in zip(SIZES, SIZES[1:]):
        weights += [rng.uniform(-1.0, 1.0, size=(fan_in, fan_out)), np.zeros(fan_out)]
    return weights


def model(params: list[Variable], X: Variable) -> Variable:
    """relu(relu(X @ W1 + b1) @ W2 + b2) @ W3 + b3: one score per point."""
    h = X
    for k in range(0, len(params), 2):
        h = h @ params[k] + params[k + 1]
        if k + 2 < len(params):
            h = h.relu()
    return h.reshape(-1)


def svm_loss(params: list[Variable], scores: Variable, y: Variable,
             alpha: float = 1e-4) -> Variable:
    data_loss = (1 - y * scores).relu().mean()  # the SVM max-margin loss
    reg_loss = alpha * sum((p * p).sum() for p in params)  # L2
    return data_loss + reg_loss


def loss_and_accuracy(params: list[Variable], X: Variable,
                      y: Variable) -> tuple[Variable, Variable]:
    scores = model(params, X)
    accuracy = ((scores > 0) == (y > 0)).mean()  # comparisons give 1.0 / 0.0
    return svm_loss(params, scores, y), accuracy


def learning_rate(step: int, steps: int) -> float:
    return 1.0 - 0.9 * step / steps


def train(steps: int = 100, seed: int = 0, log=print) -> tuple[list, list[Variable]]:
    """Run ``steps`` SGD steps; returns the (loss, accuracy) before each step and the
    trained parameters."""
    X, y = (Variable(a) for a in make_moons())
    params = [Variable(w, requires_grad=True) for w in init_weights(seed)]
    history = []
    for step in range(steps):
        loss, accuracy = loss_and_accuracy(params, X, y)
        for p in params:
            p.grad = None
        loss.backward()
        lr = learning_rate(step, steps)
        with no_grad():
            for p in params:
                p -= lr * p.grad
        history.append((loss.item(), accuracy.item()))
        if log is not None:
            log(f"step {step:3d}  loss {loss.item():.6f}  accuracy {accuracy.item():.0%}")
    return history, params


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    args = parser.parse_args(argv)
    train(args.steps, args.seed)


if __name__ == "__main__":
    main()
