"""Numbers far outside what an array can hold, where they are sizes and indices: the
error says so in the language's words, with numbers a reader can take in."""

from __future__ import annotations

import pytest

from tests.lang.conftest import failure, value


@pytest.mark.parametrize("index", ["1e19", "-1e19", "1e30", "[1e30]", "[0, 1e300]", "2^70"])
def test_an_index_beyond_int64_is_out_of_bounds_in_our_words(index):
    f = failure(f"x = [1, 2]; x[{index}]")
    assert f.error.type == "shape"
    assert "is out of bounds: no array has an axis that long" in f.error.message
    # not NumPy's (ellipsis, newaxis: not in the language) nor Python's (OverflowError),
    # nor the wrapped int64 (-9223372036854775808) a cast makes
    for leak in ("ellipsis", "OverflowError", "C long", "9223372036854775808"):
        assert leak not in f.error.message


def test_indices_within_int64_still_index_and_say_which_axis():
    assert value("x = [1, 2]; x[[1, 0]]").tolist() == [2.0, 1.0]
    f = failure("x = [1, 2]; x[1e18]")
    assert "index 1000000000000000000 is out of bounds for axis 0 with size 2" in f.error.message


@pytest.mark.parametrize(("program", "said"), [
    ("ones(1e300)", "shape (1e+300,), 1e+300 elements"),
    ("ones(1e200, 1e200)", "shape (1e+200, 1e+200), 1e+400 elements"),  # beyond a float
    ("zeros(1234567e300)", "shape (1.235e+306,), 1.235e+306 elements"),
    ("ones(3, 1e9)", "shape (3, 1000000000), 3,000,000,000 elements"),  # below 10^21: exact
])
def test_a_size_over_the_limit_is_said_in_a_readable_number(program, said):
    f = failure(program)
    assert f.error.type == "limit"
    assert said in f.error.message
    assert len(f.error.message) < 200
