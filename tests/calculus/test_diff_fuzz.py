"""`gradcli diff` on random programs (hypothesis): every built-in, operator and subscript
in random combinations. Whatever it is given, diff prints formulas (exit 0), or a
refusal or error that names the problem (exit 1 or 2); never a traceback, never an
internal error. With -v values each printed formula is checked by diff itself against
the engine's gradient there (a mismatch is an internal error), so exit 0 means the
formula equals the engine's gradient at that point.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradcli.lang.builtins import BUILTINS
from gradcli.lang.symbolic.constructors import ELEMENTWISE

# every built-in, and (as often) one diff has a rule for
NAMES = st.one_of(st.sampled_from(sorted(BUILTINS)), st.sampled_from(sorted(ELEMENTWISE)))
LEAVES = st.sampled_from(["x", "y", "v", "w", "A", "2", "0.5", "-1.5", "pi", "3",
                         "1e308", "1e400", "1e-999", "1e-300"])  # and past what a float holds
OPERATORS = ["+", "-", "*", "/", "^", "@", "%", "//", ">", "=="]
POINT = ["-v", "x=0.7", "-v", "y=-1.3", "-v", "v=[0.4, -0.9, 1.6]",
         "-v", "w=[1.1, 0.3, -0.6]", "-v", "A=[[2, 0.5, 0], [0.3, 1.5, 0.2], [0, 0.4, 3]]"]


def programs():
    def extend(inner):
        return st.one_of(
            st.tuples(NAMES, inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(NAMES, inner, inner).map(
                lambda t: f"{t[0]}({t[1]}, {t[2]})"),
            st.tuples(inner, st.sampled_from(OPERATORS), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(inner, st.sampled_from(["[0]", "[-1]", "[1, 2]", "[:, 0]", ".T", "'",
                                              "[0:2]", "[1:]", "[0, 1:]", "[1.5]", "[1e19]",
                                              "[1e400]", "[:-1e400]"])).map(
                lambda t: f"({t[0]}){t[1]}"),
            st.tuples(st.sampled_from(["sum", "mean", "max", "logsumexp", "norm"]), inner,
                      st.sampled_from(["0", "1", "-1"])).map(
                lambda t: f"{t[0]}({t[1]}, axis={t[2]})"),
        )
    return st.recursive(LEAVES, extend, max_leaves=5)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                          HealthCheck.function_scoped_fixture])
@given(programs(), st.booleans())
def test_diff_never_crashes_and_its_formulas_match_the_engine(cli, body, reduce):
    program = f"sum({body})" if reduce else body
    result = cli("diff", program, *POINT)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, (program, output)
    assert "internal error" not in output, (program, output)
    assert result.exit_code in (0, 1, 2), (program, result.exit_code, output)
    if result.exit_code == 0:
        assert result.stdout.startswith("d/d"), (program, output)
    else:
        assert result.stderr.startswith(("gradcli: ", "error: ")), (program, output)
