"""Helpers for the language tests: run a program, get its one result or failure."""

from __future__ import annotations

import numpy as np
import pytest

from gradcli.lang.results import Failure, Result
from gradcli.lang.session import Session, evaluate


def run(program: str, **options) -> list:
    return evaluate(program, **options)


def last(program: str, **options) -> Result:
    """The last outcome of ``program``, which must be a Result."""
    outcomes = evaluate(program, **options)
    assert outcomes, "no outcome"
    outcome = outcomes[-1]
    if isinstance(outcome, Failure):
        raise AssertionError(f"unexpected failure:\n{outcome.error.render()}")
    return outcome


def value(program: str, **options) -> np.ndarray:
    return last(program, **options).value


def failure(program: str, **options) -> Failure:
    """The first Failure of ``program``."""
    for outcome in evaluate(program, **options):
        if isinstance(outcome, Failure):
            return outcome
    raise AssertionError(f"{program!r} did not fail")


@pytest.fixture
def session() -> Session:
    return Session(seed=0)
