"""samples/train_mlp.py (micrograd's demo through the Python API) runs, learns, and its
steps are those of the same model's forward, backward and SGD written by hand in NumPy."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from gradcli.bench.workloads import SAMPLE, mlp_numpy_step, mlp_sample


def test_the_demo_runs_as_a_script():
    done = subprocess.run([sys.executable, str(SAMPLE), "--steps", "3"], capture_output=True,
                          text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and lines[0].startswith("step   0  loss ")
    assert SAMPLE.read_text().startswith('"""'), "a sample starts with what it teaches"


def test_the_loss_falls_and_the_moons_are_learned():
    sample = mlp_sample()
    history, _ = sample.train(steps=40, log=None)
    losses = [loss for loss, _ in history]
    assert losses[-1] < 0.5 * losses[0]
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    assert history[-1][1] >= 0.9  # accuracy


def test_the_first_steps_match_numpy_by_hand():
    sample = mlp_sample()
    steps = 4
    history, params = sample.train(steps=steps, log=None)
    X, y = sample.make_moons()
    weights = sample.init_weights()
    for step in range(steps):
        loss = mlp_numpy_step(weights, X, y, sample.learning_rate(step, steps))
        assert abs(loss - history[step][0]) <= 1e-12 * max(1.0, abs(loss)), step
    for p, w in zip(params, weights):
        np.testing.assert_allclose(p.data, w, rtol=1e-12, atol=1e-14)


def test_the_demo_updates_the_parameters_it_was_given_in_place():
    sample = mlp_sample()
    _, params = sample.train(steps=1, log=None)
    initial = sample.init_weights()
    assert all(p.creator is None and p.requires_grad for p in params)
    assert not np.allclose(params[0].data, initial[0])  # the step changed the parameter
