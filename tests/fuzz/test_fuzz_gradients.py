"""Valid programs are right: random differentiable, in-domain programs give the value and
gradients that central finite differences give in float64, or carry a domain warning."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings

from gradcli.lang.results import Result
from tests.fuzz.conftest import FUZZ
from tests.fuzz.fuzz_checks import run_api
from tests.fuzz.strategies import differentiable_programs


def _value(program: str, variables: dict) -> float:
    outcome = run_api(program, variables=variables, graph=False)[-1]
    assert isinstance(outcome, Result), outcome
    return float(outcome.value)


@settings(FUZZ)
@given(differentiable_programs())
def test_gradients_match_central_differences(case):
    program, variables = case
    outcome = run_api(program, variables=variables, graph=False)[-1]
    assert isinstance(outcome, Result), (program, outcome)
    if outcome.warnings or not np.isfinite(outcome.value).all():
        return  # out of the domain after all: reported, which is what is asked
    value = float(outcome.value)
    for name, point in variables.items():
        point = np.asarray(point, dtype=np.float64)
        analytic = np.asarray(outcome.gradients[name], dtype=np.float64)
        assert analytic.shape == point.shape
        numeric = np.zeros_like(point)
        for i in np.ndindex(point.shape or ()):
            h = 1e-6 * max(1.0, abs(float(point[i])))
            up, down = point.copy(), point.copy()
            up[i] += h
            down[i] -= h
            numeric[i] = (_value(program, {**variables, name: up})
                          - _value(program, {**variables, name: down})) / (2 * h)
        scale = 1e-6 * max(1.0, abs(value)) + 1e-4 * np.abs(numeric)
        assert np.all(np.abs(analytic - numeric) <= scale + 1e-6), (
            program, variables, name, analytic, numeric)
