"""The workloads: each returns measurements for gradcli, the NumPy floor and the peers.

A measurement is seconds per run (median of repeats) unless the figure says otherwise.
Peers that are not installed are reported as None.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SEED_EXPRESSION = "mean(3*(x+2)^2)"


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def torch_version() -> str | None:
    """PyTorch's version when it is installed (the peer in several figures), else None.
    It is never a dependency of gradcli: the figures use it when it is there."""
    if not installed("torch"):
        return None
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("torch")
    except PackageNotFoundError:
        return "installed (version unknown)"


def median_time(run: Callable[[], object], repeat: int, number: int = 1) -> float:
    """Median over ``repeat`` samples of the mean time of ``number`` calls, in seconds."""
    run()  # warm up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            run()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


# -- the seed expression through each library ---------------------------------------------


def seed_gradcli(values):
    from gradcli import Variable

    x = Variable(values, requires_grad=True)

    def run():
        out = (3 * (x + 2) ** 2).mean()
        out.backward()
        x.grad = None

    return run


def seed_numpy(values):
    import numpy as np

    count = values.size

    def run():
        y = values + 2
        out = np.mean(3 * y**2)
        grad = 6 * y / count
        return out, grad

    return run


def seed_hips(values):
    if not installed("autograd"):
        return None
    import autograd.numpy as anp
    from autograd import value_and_grad

    both = value_and_grad(lambda x: anp.mean(3 * (x + 2) ** 2))
    return lambda: both(values)


def seed_torch(values):
    if not installed("torch"):
        return None
    import torch

    torch.set_num_threads(1)
    x = torch.tensor(values, dtype=torch.float64, requires_grad=True)

    def run():
        out = (3 * (x + 2) ** 2).mean()
        out.backward()
        x.grad = None

    return run


SEED_RUNNERS = {
    "gradcli": seed_gradcli,
    "numpy": seed_numpy,
    "autograd": seed_hips,
    "torch": seed_torch,
}


def seed_times(shape: tuple[int, ...], repeat: int, number: int) -> dict[str, float | None]:
    import numpy as np

    values = np.random.default_rng(0).standard_normal(shape)
    if values.ndim == 2 and values.shape == (2, 2):
        values = np.ones(shape)
    return interleaved_medians({name: make(values) for name, make in SEED_RUNNERS.items()},
                               repeat, number)


def interleaved_medians(runs: dict, repeat: int, number: int) -> dict[str, float | None]:
    """Median seconds per call of each runner (None where it is absent), sampled in turns:
    a busy moment on a shared machine slows every library's sample alike."""
    samples: dict[str, list[float]] = {name: [] for name, run in runs.items() if run}
    for name in samples:
        runs[name]()  # warm up
    for _ in range(repeat):
        for name in samples:
            run = runs[name]
            start = time.perf_counter()
            for _ in range(number):
                run()
            samples[name].append((time.perf_counter() - start) / number)
    return {name: statistics.median(samples[name]) if name in samples else None
            for name in runs}


# -- peak memory: each library in a process of its own ------------------------------------

# VmHWM, not ru_maxrss: a forked child's ru_maxrss starts at its parent's size.
_MEMORY_SCRIPT = """
import sys
import numpy as np
sys.path.insert(0, {root!r})
from gradcli.bench.workloads import SEED_RUNNERS
values = np.random.default_rng(0).standard_normal({size})
run = SEED_RUNNERS[{name!r}](values)
run()
with open("/proc/self/status") as status:
    peak = [line for line in status if line.startswith("VmHWM:")][0]
print(int(peak.split()[1]) * 1024)
"""


def peak_memory(size: int) -> dict[str, float | None]:
    """Peak resident bytes of a fresh process that runs the seed expression once."""
    root = str(Path(__file__).resolve().parents[2])
    peaks: dict[str, float | None] = {}
    for name in SEED_RUNNERS:
        if name in ("autograd", "torch") and not installed(name):
            peaks[name] = None
            continue
        script = _MEMORY_SCRIPT.format(root=root, size=size, name=name)
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              check=True)
        peaks[name] = float(done.stdout.strip().splitlines()[-1])
    return peaks


# -- command-line figures ---------------------------------------------------------------


def gradcli_command() -> list[str]:
    """The console script beside this interpreter, as pip installs it; else ``-m gradcli``.

    Not the first ``gradcli`` on PATH: a version manager's shim there (pyenv's is a bash
    script that runs ``pyenv exec``) would add its own ~60 ms to every figure.
    """
    beside = Path(sys.executable).with_name("gradcli")
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("gradcli")
    return [found] if found else [sys.executable, "-m", "gradcli"]


def wall_time(command: list[str], repeat: int, stdin: bytes | None = None) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, input=stdin, capture_output=True, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def compile_bytecode() -> None:
    """Write gradcli's .pyc files, as ``pip install`` does for a wheel.

    A checkout run with PYTHONDONTWRITEBYTECODE (as in some containers) would otherwise
    compile every module from source on every start, which no installed copy does.
    """
    package = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)],
                   capture_output=True, check=False)


# What ``gradcli eval`` must load before its first statement runs: the startup floor.
EVAL_LIBRARIES = ("numpy", "lark", "click")


def startup_times(repeat: int) -> dict[str, float]:
    compile_bytecode()
    gradcli = gradcli_command()
    wall_time([*gradcli, "eval", "1+2"], 1)  # warm: the grammar cache, the OS file cache
    commands = {
        "eval": [*gradcli, "eval", "1+2"],
        "eval json": [*gradcli, "eval", "--json", "1+2"],
        "help": [*gradcli, "--help"],
        "import numpy": [sys.executable, "-c", "import numpy"],
        "import libraries": [sys.executable, "-c", f"import {', '.join(EVAL_LIBRARIES)}"],
        "python": [sys.executable, "-c", "pass"],
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):  # interleaved, so a busy moment does not favour one command
        for name, command in commands.items():
            samples[name].append(wall_time(command, 1))
    return {name: statistics.median(values) for name, values in samples.items()}


def stream_lines(count: int) -> tuple[list[str], list[str]]:
    """``count`` distinct short lines, in gradcli's syntax and in PyTorch's."""
    funcs = [("sin", "torch.sin"), ("cos", "torch.cos"), ("tanh", "torch.tanh"),
             ("exp", "torch.exp"), ("sigmoid", "torch.sigmoid")]
    ours, theirs = [], []
    for i in range(count):
        f, tf = funcs[i % len(funcs)]
        a = 1 + i % 97
        b = 1 + (i // 97) % 89
        ours.append(f"mean(3*({f}(x)+{a})^2) + {b}*sum(x)")
        theirs.append(f"torch.mean(3*({tf}(x)+{a})**2) + {b}*torch.sum(x)")
    return ours, theirs


# Both sides of the stream run as Python runs by default: PYTHONUNBUFFERED (set on some
# machines) would make the peer's every line a write of its own, a cost gradcli's output
# does not pay (it writes what it holds when its input would wait), so it would flatter it.
_BUFFERED = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def stream_rates(count: int, rounds: int = 1) -> dict[str, float | None]:
    """Lines per second through ``gradcli eval --json`` and through a PyTorch eval loop:
    the best of ``rounds`` runs of each, taken in turns (so that a busy spell on a shared
    machine does not land on one side only)."""
    ours, theirs = stream_lines(count)
    command = [*gradcli_command(), "eval", "--json", "--no-graph", "-v", "x=[[1, 2], [3, 4]]"]
    peer = [sys.executable, str(Path(__file__).with_name("torch_stream_peer.py"))]
    runs: dict[str, tuple[list[str], bytes]] = {
        "gradcli": (command, "\n".join(ours).encode() + b"\n"),
    }
    if installed("torch"):
        runs["torch"] = (peer, "\n".join(theirs).encode() + b"\n")
    rates: dict[str, float | None] = {"gradcli": None, "torch": None}
    for _ in range(rounds):
        for name, (argv, data) in runs.items():
            start = time.perf_counter()
            done = subprocess.run(argv, input=data, capture_output=True, check=False,
                                  env=_BUFFERED)
            elapsed = time.perf_counter() - start
            if done.stdout.count(b"\n") != count:
                continue  # a run that did not answer every line has no rate
            rate = count / elapsed
            best = rates[name]
            rates[name] = rate if best is None else max(best, rate)
    return rates


def pipeline_times(count: int, repeat: int) -> dict[str, float]:
    """Seconds per line, in this process, for the stream's lines, as a stream runs them
    (each line read, run, reported and written before the next): Lark's LALR parse of
    each statement (the reader with its cache of trees by line shape off), gradcli's reader
    (the cache on, learning included), evaluating the trees, the result with its backward pass, and
    its JSON line. Minimum over ``repeat`` passes."""
    from gradcli.lang.reader import Parser, read_statements
    from gradcli.lang.session import Session
    from gradcli.render.jsonl import render_result

    lines = [line + "\n" for line in stream_lines(count)[0]]
    clock = time.perf_counter

    def lark_parse() -> dict[str, float]:
        parser = Parser()  # Lark's lexer and LALR parse of every line
        parser.shapes.enabled = False
        start = clock()
        for _ in read_statements(lines, parser):
            pass
        return {"lark parse": clock() - start}

    def stream() -> dict[str, float]:
        session = Session(variables={"x": "[[1, 2], [3, 4]]"}, graph=False)
        spent = dict.fromkeys(("parse", "run", "result", "json"), 0.0)
        items = read_statements(lines, Parser())
        while True:
            t0 = clock()
            item = next(items, None)
            t1 = clock()
            if item is None:
                break
            value, warnings = session._execute(item)
            t2 = clock()
            result = session.result_of(value, item.target, line=item.line,
                                       source=item.source, warnings=warnings)
            t3 = clock()
            render_result(result)
            t4 = clock()
            spent["parse"] += t1 - t0
            spent["run"] += t2 - t1
            spent["result"] += t3 - t2
            spent["json"] += t4 - t3
        return spent

    best: dict[str, float] = {}
    for _ in range(repeat + 1):  # the first pass warms up
        for measure in (lark_parse, stream):
            for name, seconds in measure().items():
                best[name] = min(best.get(name, seconds), seconds)
    return {name: seconds / count for name, seconds in best.items()}


_COLD_SCRIPT = """
import time
start = time.perf_counter()
{body}
print(time.perf_counter() - start)
"""


def cold_evaluate_times(repeat: int) -> dict[str, float]:
    """Seconds, in a fresh process: ``import gradcli`` and one ``gradcli.evaluate`` of the
    seed expression, against ``import numpy`` alone (both after the interpreter starts)."""
    compile_bytecode()
    root = str(Path(__file__).resolve().parents[2])
    bodies = {
        "evaluate": f"import sys; sys.path.insert(0, {root!r})\nimport gradcli\n"
                    f"gradcli.evaluate({SEED_EXPRESSION!r}, variables={{'x': 'ones(2, 2)'}})",
        "import numpy": "import numpy",
    }
    times = {}
    for name, body in bodies.items():
        samples = []
        for _ in range(repeat):
            done = subprocess.run([sys.executable, "-c", _COLD_SCRIPT.format(body=body)],
                                  capture_output=True, text=True, check=True)
            samples.append(float(done.stdout.strip().splitlines()[-1]))
        times[name] = statistics.median(samples)
    return times


# -- deep graphs ------------------------------------------------------------------------


def chain_time(length: int) -> float:
    """Forward and backward through a chain of ``length`` multiplications (Python API).

    The garbage collector stays on (its passes over a growing graph are part of the cost a
    user sees), but starts from a collected heap, so that what an earlier figure left
    behind is not charged to this one."""
    import gc

    import numpy as np

    from gradcli import Variable

    x = Variable(np.array(1.0), requires_grad=True)
    gc.collect()
    start = time.perf_counter()
    y = x
    for _ in range(length):
        y = y * 1.0000001
    y.backward()
    elapsed = time.perf_counter() - start
    del y
    return elapsed


def program_time(statements: int) -> float:
    """Wall time of ``gradcli eval -f`` on a program of ``statements`` chained statements."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "chain.grad")
        with open(path, "w") as handle:
            handle.write("x = 1\ny = x\n")
            handle.write("y = y * 1.000001 + 0.5\n" * (statements - 3))
            handle.write("out = y\n")
        command = [*gradcli_command(), "eval", "--json", "--no-graph", "-f", path]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, check=False)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"gradcli failed on the chain program: {done.stderr[-500:]!r}")
        json.loads(done.stdout.splitlines()[-1])
        return elapsed


# -- a stream's memory: flat in the number of statements -----------------------------------

_STREAM_MEMORY_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from gradcli.cli.main import main
try:
    main(["eval", "--no-graph"])
except SystemExit:
    pass
with open("/proc/self/status") as status:
    peak = [line for line in status if line.startswith("VmHWM:")][0]
sys.stderr.write("peak %d\\n" % (int(peak.split()[1]) * 1024))
"""


def stream_peak_memory(count: int) -> float | None:
    """Peak resident bytes of ``gradcli eval`` reading ``count`` statements that rebind
    the same names (``w = 3``, ``v = w * 2``...) on stdin; None where /proc is missing."""
    if not Path("/proc/self/status").exists():
        return None
    root = str(Path(__file__).resolve().parents[2])
    lines = "".join(f"w = {i % 10}\nv = w * 2\n" for i in range(count // 2)) + "v\n"
    script = _STREAM_MEMORY_SCRIPT.format(root=root)
    done = subprocess.run([sys.executable, "-c", script], input=lines.encode(),
                          capture_output=True, check=True)
    peaks = [line for line in done.stderr.decode().splitlines() if line.startswith("peak ")]
    return float(peaks[-1].split()[1]) if peaks else None

# -- micrograd's demo: one SGD step of a 2-16-16-1 MLP on two moons ------------------------

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "train_mlp.py"


def mlp_sample():
    """samples/train_mlp.py as a module (it lives in the checkout, not in the package),
    or None when it is not there."""
    if not SAMPLE.is_file():
        return None
    spec = importlib.util.spec_from_file_location("gradcli_sample_train_mlp", SAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mlp_numpy_step(weights, X, y, lr: float, alpha: float = 1e-4) -> float:
    """One step by hand in NumPy: the forward, the backward written out, and the SGD
    update of ``weights`` (W1, b1, W2, b2, W3, b3) in place. Returns the loss before it."""
    import numpy as np

    W1, b1, W2, b2, W3, b3 = weights
    z1 = X @ W1 + b1
    h1 = np.maximum(z1, 0.0)
    z2 = h1 @ W2 + b2
    h2 = np.maximum(z2, 0.0)
    scores = (h2 @ W3 + b3).reshape(-1)
    margin = 1.0 - y * scores
    loss = np.maximum(margin, 0.0).mean() + alpha * sum(np.sum(w * w) for w in weights)
    d_scores = (-(y * (margin > 0)) / y.size)[:, None]
    d_z2 = (d_scores @ W3.T) * (z2 > 0)
    d_z1 = (d_z2 @ W2.T) * (z1 > 0)
    grads = [X.T @ d_z1, d_z1.sum(0), h1.T @ d_z2, d_z2.sum(0), h2.T @ d_scores,
             d_scores.sum(0)]
    for w, g in zip(weights, grads):
        w -= lr * (g + 2.0 * alpha * w)
    return float(loss)


def mlp_runners() -> dict[str, Callable[[], object] | None]:
    """One training step per call, for gradcli (the sample's own loop body), the NumPy
    floor and PyTorch (None when not installed)."""
    sample = mlp_sample()
    if sample is None:
        raise RuntimeError(f"the demo needs {SAMPLE} (run the benchmarks from a checkout)")
    X, y = sample.make_moons()
    runs: dict[str, Callable[[], object] | None] = {}

    from gradcli import Variable, no_grad

    Xv, yv = Variable(X), Variable(y)
    params = [Variable(w, requires_grad=True) for w in sample.init_weights()]

    def gradcli_step():
        loss = sample.svm_loss(params, sample.model(params, Xv), yv)
        for p in params:
            p.grad = None
        loss.backward()
        with no_grad():
            for p in params:
                p -= 0.01 * p.grad

    runs["gradcli"] = gradcli_step
    weights = sample.init_weights()
    runs["numpy"] = lambda: mlp_numpy_step(weights, X, y, 0.01)
    runs["torch"] = None
    if installed("torch"):
        import torch

        torch.set_num_threads(1)
        tX, ty = torch.tensor(X), torch.tensor(y)
        tparams = [torch.tensor(w, requires_grad=True) for w in sample.init_weights()]

        def torch_step():
            h = tX
            for k in range(0, len(tparams), 2):
                h = h @ tparams[k] + tparams[k + 1]
                if k + 2 < len(tparams):
                    h = h.relu()
            scores = h.reshape(-1)
            loss = (1 - ty * scores).relu().mean() + 1e-4 * sum((p * p).sum() for p in tparams)
            for p in tparams:
                p.grad = None
            loss.backward()
            with torch.no_grad():
                for p in tparams:
                    p -= 0.01 * p.grad

        runs["torch"] = torch_step
    return runs


def mlp_step_times(repeat: int, number: int) -> dict[str, float | None]:
    """Seconds per training step of each library, sampled in turns."""
    return interleaved_medians(mlp_runners(), repeat, number)
