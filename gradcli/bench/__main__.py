"""``python -m gradcli.bench [--quick] [--runs N]``: every figure, its floor and peers, one
table. Each figure is measured in N full runs (3 by default); a target counts as met only
when it held in every run, and the table prints the spread (min–max) of the figure's ratio
over the runs."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from gradcli.bench import workloads


@dataclass
class Row:
    figure: str
    workload: str
    ours: str
    floor: str
    peers: str
    target: str
    met: bool | None
    # the number the target is judged on (a ratio, or a time for an absolute target),
    # and how to print it: its spread over the runs is printed beside the verdict
    value: float | None = None
    unit: str = "×"
    # after combining N runs: the value's (min, max) and each run's verdict
    spread: tuple[float, float] | None = None
    verdicts: list[bool | None] | None = None


def _value_text(value: float, unit: str) -> str:
    return f"{value * 1e3:,.1f} ms" if unit == "ms" else f"{value:.2f}×"


def _us(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e6:,.1f} µs"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:,.1f} ms"


def _mb(size: float | None) -> str:
    return "-" if size is None else f"{size / 2**20:,.0f} MB"


def _ratio(ours: float | None, other: float | None) -> str:
    if ours is None or other is None or other == 0:
        return "not installed" if other is None else "-"
    return f"{ours / other:.2f}×"


def _peer_text(ours: float, peers: dict[str, float | None], unit) -> str:
    parts = []
    for name in ("autograd", "torch"):
        value = peers.get(name)
        label = "HIPS autograd" if name == "autograd" else "PyTorch"
        if value is None:
            parts.append(f"{label}: not installed")
        else:
            parts.append(f"{label} {unit(value)} (gradcli {_ratio(ours, value)})")
    return "; ".join(parts)


def figure_small(quick: bool) -> Row:
    times = workloads.seed_times((2, 2), repeat=5 if quick else 15,
                                 number=200 if quick else 2000)
    ours, torch = times["gradcli"], times["torch"]
    return Row(
        "small", "mean(3*(x+2)^2) fwd+bwd, x 2×2, Python API", _us(ours),
        f"{_us(times['numpy'])} (gradcli {_ratio(ours, times['numpy'])})",
        _peer_text(ours, times, _us), "≤ 0.35× PyTorch",
        None if torch is None else ours <= 0.35 * torch,
        None if torch is None else ours / torch,
    )


def figure_large(quick: bool) -> Row:
    size = 10**5 if quick else 10**7
    times = workloads.seed_times((size,), repeat=3 if quick else 7, number=1)
    ours, floor = times["gradcli"], times["numpy"]
    peers_ok = all(v is None or ours < v for k, v in times.items() if k in ("autograd", "torch"))
    return Row(
        "large", f"the same, x of {size:,} float64", _ms(ours),
        f"{_ms(floor)} (gradcli {_ratio(ours, floor)})", _peer_text(ours, times, _ms),
        "≤ 1.25× NumPy; faster than the peers", ours <= 1.25 * floor and peers_ok,
        ours / floor,
    )


def figure_memory(quick: bool) -> Row:
    size = 10**5 if quick else 10**7
    peaks = workloads.peak_memory(size)
    ours, floor, torch = peaks["gradcli"], peaks["numpy"], peaks.get("torch")
    return Row(
        "memory", f"peak RSS of a process running the same once, {size:,}", _mb(ours),
        f"{_mb(floor)} (gradcli {_ratio(ours, floor)})", _peer_text(ours, peaks, _mb),
        "≤ 1.5× NumPy; below PyTorch",
        ours <= 1.5 * floor and (torch is None or ours < torch), ours / floor,
    )


def figure_stream(quick: bool) -> Row:
    count = 300 if quick else 20000
    rates = workloads.stream_rates(count, rounds=1 if quick else 3)
    ours, torch = rates["gradcli"], rates["torch"]
    peer = "PyTorch eval loop: not installed" if torch is None else (
        f"PyTorch eval loop {torch:,.0f} lines/s (gradcli {ours / torch:.2f}×)"
        if ours else "-")
    return Row(
        "stream", f"{count:,} distinct lines through `gradcli eval --json` on stdin"
        f"{'' if quick else ' (best of 3 runs each, in turns)'}",
        "failed" if ours is None else f"{ours:,.0f} lines/s", "-", peer,
        "≥ 1.7× PyTorch loop", None if (torch is None or ours is None) else ours >= 1.7 * torch,
        None if (torch is None or ours is None) else ours / torch,
    )


def figure_flat(quick: bool) -> Row:
    small, large = 10**3, (2 * 10**4 if quick else 10**6)
    few, many = workloads.stream_peak_memory(small), workloads.stream_peak_memory(large)
    ratio = None if not few or not many else many / few
    return Row(
        "flat", f"peak RSS of a stream of {large:,} rebinding statements against {small:,}",
        _mb(many), f"{_mb(few)} for {small:,} (×{ratio:.2f})" if ratio else "-", "-",
        "≤ 1.1×", None if ratio is None else ratio <= 1.1, ratio,
    )


def figure_pipeline(quick: bool) -> list[Row]:
    count = 300 if quick else 5000
    t = workloads.pipeline_times(count, repeat=2 if quick else 5)
    rest = t["run"] + t["result"]
    return [
        Row("pipeline", f"per line, in process, {count:,} stream lines: Lark's LALR parse "
            "vs gradcli's reader (trees cached by line shape)", f"read {_us(t['parse'])}",
            f"Lark parse {_us(t['lark parse'])} (gradcli {_ratio(t['parse'], t['lark parse'])})",
            "-", "-", None, t["parse"] / t["lark parse"]),
        Row("pipeline", "per line: run + backward + result (+ JSON line) vs the Lark parse",
            f"{_us(rest)} (+ {_us(t['json'])})",
            f"Lark parse {_us(t['lark parse'])} (rest {_ratio(rest, t['lark parse'])})",
            "-", "≤ 1× the Lark parse", rest <= t["lark parse"], rest / t["lark parse"]),
    ]


def figure_cold(quick: bool) -> Row:
    t = workloads.cold_evaluate_times(repeat=3 if quick else 9)
    return Row("cold", "`import gradcli` + one `gradcli.evaluate` of the seed expression, "
               "fresh process", _ms(t["evaluate"]),
               f"`import numpy` {_ms(t['import numpy'])} "
               f"(gradcli {_ratio(t['evaluate'], t['import numpy'])})", "-", "-", None,
               t["evaluate"] / t["import numpy"])


def figure_startup(quick: bool) -> list[Row]:
    times = workloads.startup_times(repeat=3 if quick else 15)
    floor = times["import libraries"]
    bare = f"bare `python -c pass` {_ms(times['python'])}"
    return [
        Row("startup", "`gradcli eval '1+2'` wall time", _ms(times["eval"]),
            f"`python -c 'import {', '.join(workloads.EVAL_LIBRARIES)}'` {_ms(floor)} "
            f"(gradcli {_ratio(times['eval'], floor)})",
            f"with --json {_ms(times['eval json'])} ({_ratio(times['eval json'], floor)}); "
            f"`import numpy` alone {_ms(times['import numpy'])}",
            f"≤ 1.1× import {', '.join(workloads.EVAL_LIBRARIES)}",
            times["eval"] <= 1.1 * floor, times["eval"] / floor),
        Row("startup", "`gradcli --help` wall time", _ms(times["help"]), bare, "-",
            "≤ 80 ms", times["help"] <= 0.080, times["help"], "ms"),
    ]


def figure_deep(quick: bool) -> list[Row]:
    """Both deep rows, the API chain and the CLI program: the target holds for each."""
    small, large = (10**4, 10**5) if quick else (10**5, 10**6)
    t_small, t_large = workloads.chain_time(small), workloads.chain_time(large)
    p_small, p_large = (300, 3000) if quick else (10**4, 10**5)
    c_small, c_large = workloads.program_time(p_small), workloads.program_time(p_large)
    return [
        Row("deep", f"chain of {small:,} vs {large:,} ops, fwd+bwd, Python API",
            f"{_ms(t_small)} → {_ms(t_large)}", f"{t_large / t_small:.1f}× for 10× the work",
            "-", "≤ 11×", t_large / t_small <= 11, t_large / t_small),
        Row("deep", f"program of {p_small:,} vs {p_large:,} statements via the CLI",
            f"{_ms(c_small)} → {_ms(c_large)}", f"{c_large / c_small:.1f}× for 10× the work",
            "-", "≤ 11×", c_large / c_small <= 11, c_large / c_small),
    ]


def figure_symbolic(quick: bool) -> list[Row]:
    from gradcli.bench import symbolic

    return [Row(**fields) for fields in symbolic.rows(quick)]


def figure_mlp(quick: bool) -> Row:
    times = workloads.mlp_step_times(repeat=3 if quick else 9, number=5 if quick else 50)
    ours, torch = times["gradcli"], times["torch"]
    return Row(
        "mlp", "micrograd's demo: one SGD step of a 2-16-16-1 MLP on 100 moons "
        "(samples/train_mlp.py)", _us(ours),
        f"{_us(times['numpy'])} by hand (gradcli {_ratio(ours, times['numpy'])})",
        "PyTorch: not installed" if torch is None
        else f"PyTorch {_us(torch)} (gradcli {_ratio(ours, torch)})",
        "faster than PyTorch", None if torch is None else ours < torch,
        None if torch is None else ours / torch,
    )


FIGURES = {
    "small": figure_small,
    "large": figure_large,
    "memory": figure_memory,
    "stream": figure_stream,
    "flat": figure_flat,
    "pipeline": figure_pipeline,
    "cold": figure_cold,
    "startup": figure_startup,
    "deep": figure_deep,
    "symbolic": figure_symbolic,
    "mlp": figure_mlp,
}


def combine(runs: list[list[Row]]) -> list[Row]:
    """One row per figure from N runs of every figure: the last run's measurements, met
    only if the target held in every run (n/a if any run could not judge it), and the
    spread of the judged value over the runs."""
    combined = []
    for rows in zip(*runs, strict=True):
        last = rows[-1]
        if len({(r.figure, r.workload) for r in rows}) != 1:
            raise RuntimeError(f"the runs measured different rows for {last.figure}")
        verdicts = [r.met for r in rows]
        met = None if None in verdicts else all(verdicts)
        values = [r.value for r in rows if r.value is not None]
        combined.append(Row(last.figure, last.workload, last.ours, last.floor, last.peers,
                            last.target, met, last.value, last.unit,
                            (min(values), max(values)) if values else None, verdicts))
    return combined


def _spread_text(row: Row) -> str:
    if row.spread is None:
        return "-"
    low, high = (_value_text(v, row.unit) for v in row.spread)
    return low if low == high else f"{low}–{high}"


def _met_text(row: Row) -> str:
    met = "n/a" if row.met is None else ("yes" if row.met else "NO")
    verdicts = row.verdicts
    if verdicts is None or len(verdicts) == 1 or row.met is None:
        return met
    return f"{met} ({sum(bool(v) for v in verdicts)}/{len(verdicts)} runs)"


def render(rows: list[Row], runs: int = 1) -> str:
    header = ["figure", "workload", "gradcli", "NumPy floor / scaling", "peers", "target",
              f"spread ({runs} run{'s' if runs != 1 else ''})", "met"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row.figure, row.workload, row.ours, row.floor, row.peers, row.target,
                 _spread_text(row), _met_text(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("--runs needs at least 1")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gradcli.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--only", action="append", choices=sorted(FIGURES),
                        help="run only this figure (repeatable)")
    parser.add_argument("--runs", type=_positive, default=3, metavar="N",
                        help="full runs of every figure (default 3); a target is met only "
                             "if it held in each")
    args = parser.parse_args(argv)
    print(f"PyTorch: {workloads.torch_version() or 'not installed (its columns say so)'}",
          file=sys.stderr, flush=True)
    runs: list[list[Row]] = []
    for run in range(args.runs):
        rows: list[Row] = []
        for name, figure in FIGURES.items():
            if args.only and name not in args.only:
                continue
            print(f"run {run + 1}/{args.runs}: measuring {name}...", file=sys.stderr,
                  flush=True)
            produced = figure(args.quick)
            rows.extend(produced if isinstance(produced, list) else [produced])
        runs.append(rows)
    print(render(combine(runs), args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
