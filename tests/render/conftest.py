"""Hand-made results and failures: the renderers are tested without the language."""

from __future__ import annotations

import numpy as np
import pytest

from gradcli.lang.results import Failure, Result, Span
from tests.render.render_support import walkthrough_graph


@pytest.fixture
def walkthrough() -> Result:
    return Result(
        line=4,
        source="out = mean(z)",
        name="out",
        value=np.array(27.0),
        gradients={"x": np.full((2, 2), 4.5)},
        graph=walkthrough_graph(),
    )


@pytest.fixture
def nonscalar() -> Result:
    return Result(
        line=1,
        source="x * [nan, inf]",
        name=None,
        value=np.array([np.nan, np.inf, -np.inf, 1.5]),
        gradients=None,
        note="gradients need a scalar output or --grad-output of shape (4,)",
    )


@pytest.fixture
def failure() -> Failure:
    from gradcli.lang.errors import UnknownName

    error = UnknownName(
        "unknown name 'q'", Span(2, 5, 2, 6), hint="did you mean 'x'?", source="x = 1\ny = q + 1"
    )
    return Failure(line=2, source="y = q + 1", error=error)
