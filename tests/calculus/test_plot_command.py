"""`gradcli plot`: f and df/dx in the terminal, and as an image through matplotlib."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from gradcli.cli.calculus import parse_range
from gradcli.render.plot import render_chart

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def chart_rows(stdout: str) -> list[str]:
    return [line.split("│", 1)[1] for line in stdout.splitlines() if "│" in line]


def test_terminal_plot_has_both_curves_and_labelled_axes(cli):
    result = cli("plot", "x^2", "--wrt", "x", "--range", "-2:2", "--points", "41")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    rows = chart_rows(result.stdout)
    assert len(rows) == 18
    # y axis: top is max(f, df) = 4, bottom is min = -4, zero is labelled, all round
    assert lines[0].split("│")[0].strip() == "4"
    assert lines[17].split("│")[0].strip() == "-4"
    assert any(line.split("│")[0].strip() == "0" for line in lines[:18])
    # x axis: round ticks, the ends among them, and the input's name
    assert lines[18].endswith(" x") and lines[18].lstrip().startswith("└")
    assert lines[19].split() == ["-2", "-1", "0", "1", "2"]
    assert "* x^2" in lines[20] and "+ d/dx" in lines[20]
    assert sum(row.count("*") for row in rows) >= 20
    assert sum(row.count("+") for row in rows) >= 20


def test_the_derivative_is_drawn_where_it_is():
    # f = x, df = 1: a line through the grid's corners and a flat row at y = 1
    xs = np.linspace(-1, 1, 64)
    text = render_chart(xs, xs, np.ones_like(xs), width=64 + 8, height=9).plain
    rows = [line.split("│", 1)[1] for line in text.splitlines() if "│" in line]
    assert rows[0][-1] == "#"  # f(1) = 1 = df: both marks in the top right corner
    assert rows[0].count("+") + rows[0].count("#") == 64
    assert rows[-1][0] == "*"  # f(-1) = -1, the bottom left


def test_other_inputs_come_from_v(cli):
    a = cli("plot", "sigmoid(w*x + b)", "--wrt", "x", "--range", "-6:6", "-v", "w=2",
            "-v", "b=0.5")
    assert a.exit_code == 0
    b = cli("plot", "sigmoid(w*x + b)", "--wrt", "x", "--range", "-6:6", "-v", "w=0.5",
            "-v", "b=0.5")
    assert chart_rows(a.stdout) != chart_rows(b.stdout)


def test_an_input_made_by_the_program_is_swept(cli):
    result = cli("plot", "x = 1\nsin(x)", "--wrt", "x", "--range", "-pi:pi")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[19].split() == ["-2", "0", "2"]  # round ticks
    assert "1.0" in result.stdout and "-1.0" in result.stdout  # sin, not the constant 1


def test_points_outside_the_domain_are_left_out(cli):
    result = cli("plot", "log(x)", "--wrt", "x", "--range", "-1:3")
    assert result.exit_code == 0
    assert "*" in "".join(chart_rows(result.stdout))


@pytest.mark.parametrize("args, message", [
    (["sum(x)", "--wrt", "x", "-v", "x=[1,2]"], "scalar input"),
    (["x * [1, 2]", "--wrt", "x"], "scalar result"),
    (["y = x + 1\ny * 2", "--wrt", "y", "-v", "x=1"], "must be an input"),
])
def test_clear_errors(cli, args, message):
    result = cli("plot", *args)
    assert result.exit_code in (1, 2)
    assert message in result.stderr


@pytest.mark.parametrize("text, expected", [("-3:3", (-3.0, 3.0)), ("0:2*pi", (0.0, 2 * np.pi)),
                                            ("-1.5:1e1", (-1.5, 10.0))])
def test_ranges(text, expected):
    assert parse_range(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["3:-3", "1", "a:b", "0:inf", "-1e308:1e308",
                                  "1:1.0000000000000002"])
def test_bad_ranges_are_usage_errors(cli, text):
    result = cli("plot", "x", "--wrt", "x", "--range", text)
    assert result.exit_code == 2
    assert "--range" in result.stderr


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_image_through_matplotlib(cli, tmp_path, suffix, magic):
    pytest.importorskip("matplotlib")
    path = tmp_path / f"plot{suffix}"
    result = cli("plot", "tanh(x)", "--wrt", "x", "--range", "-3:3", "-o", str(path))
    assert result.exit_code == 0, result.stderr
    assert path.read_bytes().startswith(magic)
    assert result.stdout == ""


def test_missing_matplotlib_is_a_clear_message(tmp_path):
    code = (
        "import sys\n"
        "sys.modules['matplotlib'] = None  # as if it were not installed\n"
        "from gradcli.cli.main import main\n"
        f"main(['plot', 'tanh(x)', '--wrt', 'x', '-o', {str(tmp_path / 'p.png')!r}])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert "pip install 'gradcli[plot]'" in done.stderr
    assert not (tmp_path / "p.png").exists()


def test_unknown_image_suffix(cli, tmp_path):
    result = cli("plot", "x", "--wrt", "x", "-o", str(tmp_path / "p.gif"))
    assert result.exit_code == 2 and ".png" in result.stderr


@pytest.mark.parametrize("command", [["plot", "x", "--wrt", "x", "--range", "0:1"],
                                     ["graph", "x + 1", "-v", "x=1"]])
def test_an_unwritable_output_is_said_alike_by_plot_and_graph(cli, tmp_path, command):
    pytest.importorskip("matplotlib")
    target = tmp_path / "missing" / ("out.png" if command[0] == "plot" else "out.dot")
    result = cli(*command, "-o", str(target))
    assert result.exit_code == 2
    assert f"cannot write {str(target)!r}: No such file or directory" in result.stderr
    assert "Errno" not in result.stderr


def test_matplotlib_is_imported_only_for_images():
    code = (
        "import sys\n"
        "from gradcli.cli.main import main\n"
        "try:\n    main(['plot', 'x^2', '--wrt', 'x'])\nexcept SystemExit:\n    pass\n"
        "print('matplotlib' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.stderr.strip() == "False"


def test_what_is_not_drawn_is_said(cli):
    # log of a negative number is NaN everywhere: said, and the legend lists only d/dx
    result = cli("plot", "log(x)", "--wrt", "x", "--range", "-2:-1")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "log(x): NaN on the whole range" in lines[-1]
    legend = lines[-2]
    assert "+ d/dx" in legend and "* log(x)" not in legend and "both" not in legend
    part = cli("plot", "log(x)", "--wrt", "x", "--range", "-1:3", "--points", "9")
    assert "log(x): NaN or infinite at 3 of 9 points, left out" in part.stdout


def test_a_pole_does_not_flatten_the_plot(cli):
    result = cli("plot", "1/x", "--wrt", "x", "--range", "-1:1")
    assert result.exit_code == 0
    labels = [line.split("│")[0].strip() for line in result.stdout.splitlines() if "│" in line]
    top, bottom = float(labels[0]), float(labels[-1])
    assert -200 < bottom < -1 and 1 < top < 100  # not 63 to -3969, the values by the pole
    assert "points beyond the y-range" in result.stdout and "--ylim" in result.stdout
    fixed = cli("plot", "1/x", "--wrt", "x", "--range", "-1:1", "--ylim", "-10:10")
    labels = [line.split("│")[0].strip() for line in fixed.stdout.splitlines() if "│" in line]
    assert (labels[0], labels[-1]) == ("10", "-10")
    bad = cli("plot", "1/x", "--wrt", "x", "--ylim", "3:1")
    assert bad.exit_code == 2 and "--ylim" in bad.stderr


def test_axis_labels_are_round_numbers(cli):
    result = cli("plot", "sigmoid(x)", "--wrt", "x", "--range", "-6:6")
    labels = [line.split("│")[0].strip() for line in result.stdout.splitlines() if "│" in line]
    assert [label for label in labels if label] == ["1.0", "0.5", "0"]
    axis = result.stdout.splitlines()[19].split()
    assert axis == ["-6", "-4", "-2", "0", "2", "4", "6"]


@pytest.mark.parametrize("columns", [40, 80, 120])
def test_the_plot_fits_the_terminal_or_width(cli, columns):
    env = {"TTY_COMPATIBLE": "1", "NO_COLOR": "1", "COLUMNS": str(columns)}
    lines = cli("plot", "sin(x)", "--wrt", "x", env=env).stdout.splitlines()
    assert max(map(len, lines)) <= columns and max(map(len, lines[:18])) >= columns - 8
    assert all(line == line.rstrip() for line in lines)
    sized = cli("plot", "sin(x)", "--wrt", "x", "--width", "50", "--height", "7", env=env)
    rows = chart_rows(sized.stdout)
    assert len(rows) == 7 and max(len(line) for line in sized.stdout.splitlines()[:7]) <= 50


def test_the_image_breaks_at_a_pole_and_says_what_is_missing(cli, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    from gradcli.render.plot import _broken

    xs = np.linspace(-1, 1, 8)
    gx, gy = _broken(xs, 1 / xs, -10, 10)
    assert np.isnan(gy).sum() == 1 and gx.size == 9  # one gap, between -1/7 and 1/7
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        path = tmp_path / "log.svg"
        result = cli("plot", "log(x)", "--wrt", "x", "--range", "-2:-1", "-o", str(path))
        assert result.exit_code == 0
        assert "log(x): NaN on the whole range" in result.stderr
        svg = path.read_text()
    assert "NaN on the whole range" in svg and "d/dx" in svg
    assert svg.count("log(x)") == 1  # in the note only: the legend has no empty curve


def test_nothing_to_draw_and_values_far_from_zero(cli):
    empty = cli("plot", "sqrt(x)", "--wrt", "x", "--range", "-2:-1").stdout.splitlines()
    assert empty[-2:] == ["      sqrt(x): NaN on the whole range",
                          "      d/dx: NaN on the whole range"]
    assert not any("*" in line or "d/dx    " in line for line in empty)
    far = cli("plot", "x", "--wrt", "x", "--range", "1e15:1e15+1000", "--points", "5").stdout
    assert "beyond the y-range" not in far  # the rounded range holds every value
    assert "1.2e+15" in far and sum(row.count("*") for row in chart_rows(far)) == 5
