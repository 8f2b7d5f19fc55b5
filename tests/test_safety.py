"""Nothing runs that the user did not write: no eval/exec/pickle of user data anywhere in
gradcli/, files are read only where the user named them, and the grammar cache (JSON in
the user's cache directory, written atomically) is never trusted."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gradcli"
# a benchmark peer that evaluates benchmark-generated PyTorch text: never user input
ALLOWED = {PACKAGE / "bench" / "torch_stream_peer.py"}
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "marshal", "shelve", "dill", "cloudpickle", "joblib"}


def _sources() -> list[Path]:
    files = sorted(p for p in PACKAGE.rglob("*.py") if p not in ALLOWED)
    assert len(files) > 20
    return files


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names]
            if isinstance(node, ast.ImportFrom) and node.module:
                names.append(node.module)
            for name in names:
                if name.split(".")[0] in FORBIDDEN_MODULES:
                    found.append(f"{where}: imports {name}")
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        last = name.rsplit(".", 1)[-1]
        keywords = {k.arg: k.value for k in node.keywords}
        if name in FORBIDDEN_CALLS or name in {"builtins.eval", "builtins.exec"}:
            found.append(f"{where}: calls {name}")
        if last in ("load", "loads") and name.split(".")[0] in FORBIDDEN_MODULES:
            found.append(f"{where}: calls {name}")
        if name in ("np.load", "numpy.load"):
            flag = keywords.get("allow_pickle")
            if not (isinstance(flag, ast.Constant) and flag.value is False):
                found.append(f"{where}: np.load without allow_pickle=False")
        if name.startswith("subprocess.") or name in ("Popen", "os.system", "os.popen"):
            shell = keywords.get("shell")
            if name in ("os.system", "os.popen") or (
                    shell is not None and not (isinstance(shell, ast.Constant)
                                               and shell.value is False)):
                found.append(f"{where}: runs a shell ({name})")
        if name in ("yaml.load", "yaml.unsafe_load"):
            found.append(f"{where}: {name}")
    return found


def test_no_eval_exec_or_pickle_anywhere():
    problems = [p for path in _sources() for p in _problems(path)]
    assert problems == []


def test_the_scanner_catches_each_kind(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import pickle\nimport numpy as np\nimport subprocess\n"
                   "eval('1')\nexec('x=1')\nnp.load('a.npy')\n"
                   "np.load('b.npy', allow_pickle=True)\nsubprocess.run('ls', shell=True)\n"
                   "from marshal import loads\n")
    problems = _problems_in(bad)
    assert len(problems) == 7, problems


def _problems_in(path: Path) -> list[str]:
    global ROOT
    saved = ROOT
    ROOT = path.parent
    try:
        return _problems(path)
    finally:
        ROOT = saved


def test_the_one_allowed_exception_is_the_benchmark_peer():
    for path in ALLOWED:
        assert path.is_file()
        assert "bench" in path.parts


# -- files are read only where the user named them -----------------------------------------


def test_a_program_cannot_name_a_file():
    from gradcli import evaluate

    for text in ["@/etc/passwd", "x = @/etc/passwd", "load('/etc/passwd')",
                 "open('/etc/passwd')", "__import__('os')"]:
        (f,) = evaluate(text)
        assert f.error.type in ("syntax", "name"), (text, f.error.message)


def test_var_files_only_numbers_and_never_pickles(tmp_path):
    from gradcli import evaluate
    from gradcli.lang.errors import InputProblem

    evil = tmp_path / "evil.npy"
    np.save(evil, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InputProblem, match="cannot read"):
        evaluate("x", {"x": f"@{evil}"})
    other = tmp_path / "script.py"
    other.write_text("raise SystemExit(3)\n")
    with pytest.raises(InputProblem, match="use a .npy, .npz, .csv or .txt file"):
        evaluate("x", {"x": f"@{other}"})
    good = tmp_path / "good.npy"
    np.save(good, np.arange(3.0))
    (r,) = evaluate("sum(x)", {"x": f"@{good}"})
    assert float(r.value) == 3.0


# -- the grammar cache -----------------------------------------------------------------------

PROBE = ("import json, sys; from gradcli import evaluate; "
         "r = evaluate('1 + 2 * 3'); print(json.dumps(float(r[0].value)))")


def _run(cache: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)


def _cache_file(cache: Path) -> Path:
    (path,) = (cache / "gradcli").glob("grammar-*.json")
    return path


@pytest.fixture(scope="module")
def cache_home(tmp_path_factory):
    cache = tmp_path_factory.mktemp("xdg-cache")
    result = _run(cache)
    assert result.returncode == 0 and result.stdout.strip() == "7.0", result.stderr
    return cache


def test_the_cache_lives_in_the_users_cache_directory_as_json(cache_home):
    path = _cache_file(cache_home)
    assert path.parent == cache_home / "gradcli"
    assert oct(path.parent.stat().st_mode & 0o777) == oct(0o700)
    json.loads(path.read_text(encoding="utf-8"))  # JSON, not a pickle
    assert not list(path.parent.glob(".grammar-*.tmp"))  # no temporary left behind


def test_the_cache_is_written_atomically():
    source = (PACKAGE / "lang" / "grammar.py").read_text(encoding="utf-8")
    assert "os.replace(" in source and "mkstemp(" in source


def _key(path: Path) -> str:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["key"]


@pytest.mark.parametrize("content", [
    "",  # empty
    "TRUNCATE",  # the real file cut in half
    "\x80\x81\xfe binary junk",
    "DEEP",  # nested past the JSON decoder's recursion limit
    '{"key": "0000", "data": {}, "memo": {}}',  # foreign
    "RIGHT_KEY_EMPTY_TABLES",  # the right key, but tables that do not load
    "RIGHT_KEY_ONLY",
    "HUGE",
    'cos\nsystem\n(S"touch /tmp/gradcli-pwned"\ntR.',  # a pickle payload: never unpickled
], ids=["empty", "truncated", "binary", "deep", "foreign", "right-key-empty-tables",
        "right-key-only", "huge", "pickle"])
def test_a_bad_cache_file_is_ignored_and_rebuilt(cache_home, content):
    path = _cache_file(cache_home)
    original = path.read_text(encoding="utf-8")
    key = _key(path)
    if content == "TRUNCATE":
        content = original[: len(original) // 2]
    elif content == "RIGHT_KEY_EMPTY_TABLES":
        content = json.dumps({"key": key, "data": {}, "memo": {}})
    elif content == "RIGHT_KEY_ONLY":
        content = json.dumps({"key": key})
    elif content == "DEEP":
        content = "[" * 100_000 + "]" * 100_000
    elif content == "HUGE":
        content = original + " " * 5_000_000
    path.write_text(content, encoding="utf-8", errors="surrogateescape")
    try:
        result = _run(cache_home)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "7.0"
        assert result.stderr == ""
        assert _key(path) == key  # rebuilt and rewritten
        assert not Path("/tmp/gradcli-pwned").exists()
    finally:
        path.write_text(original, encoding="utf-8")


def test_an_unwritable_cache_directory_still_works(tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the directory should be")
    result = _run(blocker)
    assert result.returncode == 0 and result.stdout.strip() == "7.0", result.stderr
