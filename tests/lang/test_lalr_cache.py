"""With the parser tables cached, reading and running a program never imports Lark; with
a cold cache Lark builds them (and gives the same results). The cache is keyed on Lark's
version, read without importing Lark."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from gradcli.lang import grammar, lalr

PROGRAM = (
    "x = [[1, 2], [3, 4]]\n"
    "y = sum(x, axis=0, keepdims=true) * 2; z = x[0, 1:] + x[:, ::-1][1]\n"
    "w = maximum(x,\n"
    "    [[0, 5],\n"
    "     [5, 0]])   # a bracket over lines\n"
    "mean(w ^ 2) + (x[1, 0] >= 3) * true - false\n"
    "2x\n"
    "y += (1 < 2 < 3)\n"
    "sum(x, axis=0, axis=1)\n"
    "1 $ 2\n"
    "q = [1, 2,]; q[0:2:1] @ [3, 4]\n"
    "(1 +\n"
    "ones(2, 3)[1,\n"
    "  :2]\n"
    "x +\\\n"
    "  1\n"
)

SCRIPT = textwrap.dedent("""
    import json, sys
    import gradcli
    from gradcli.lang.session import Session

    program = sys.argv[1]
    outcomes = gradcli.evaluate(program, seed=0)
    session = Session(seed=0)
    lines = [f"mean(3*(sin(x)+{i})^2) + {i}*sum(x)\\n" for i in range(20)]
    streamed = list(session.stream(["x = [1, 2, 3]\\n", *lines, *program.splitlines(True)]))

    def shown(o):
        if hasattr(o, "error"):
            e = o.error
            return ["failure", o.line, o.source, type(e).__name__, e.message, repr(e.span)]
        return ["result", o.line, o.source, o.name, repr(o.value.tolist())]

    from gradcli.lang.reader import get_parser
    templates = [t for t in get_parser().templates.templates.values() if t]
    print(json.dumps({"lark": "lark" in sys.modules, "templates": len(templates),
                      "outcomes": [shown(o) for o in outcomes],
                      "streamed": [shown(o) for o in streamed]}))
""")


def _run(cache_home, program: str = PROGRAM) -> dict:
    env = {"XDG_CACHE_HOME": str(cache_home), "PATH": "/usr/bin:/bin", "HOME": str(cache_home)}
    done = subprocess.run([sys.executable, "-c", SCRIPT, program], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_warm_cache_parses_without_importing_lark(tmp_path) -> None:
    cold = _run(tmp_path)
    assert cold["lark"]  # tables built by Lark, and cached
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "gradcli").glob("*.json")) == [
        "grammar", "runtime"]
    warm = _run(tmp_path)
    assert not warm["lark"]
    assert warm["templates"]  # the parse templates ran too
    assert warm["outcomes"] == cold["outcomes"]
    assert warm["streamed"] == cold["streamed"]
    kinds = [o[0] for o in warm["outcomes"]]
    assert "failure" in kinds and "result" in kinds
    messages = " ".join(str(o[4]) for o in warm["outcomes"] if o[0] == "failure")
    for words in ("implicit multiplication", "cannot be chained", "got two values",
                  'unexpected character "$"', "never closed"):
        assert words in messages


def test_the_command_line_with_a_warm_cache_does_not_import_lark(tmp_path) -> None:
    _run(tmp_path, "1")  # warms the cache
    script = ("import sys\nsys.argv = ['gradcli', 'eval', sys.argv[1]]\n"
              "from gradcli.cli.main import main\n"
              "try:\n    main()\nexcept SystemExit:\n    pass\n"
              "print('LARK' if 'lark' in sys.modules else 'NO LARK', file=sys.stderr)\n")
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script, PROGRAM], capture_output=True,
                          text=True, env=env, timeout=120)
    assert "implicit multiplication" in done.stdout + done.stderr
    assert done.stderr.strip().endswith("NO LARK")


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(grammar, "_TABLES", None)
    monkeypatch.setattr(grammar, "_RUNTIME", None)
    return tmp_path / "gradcli"


def _runtime_path(directory):
    (path,) = directory.glob("runtime-*.json")
    return path


def test_the_runtime_tables_are_plain_json_with_the_key_and_lark_version(fresh_cache) -> None:
    import lark

    assert grammar.runtime(object()) is not None
    content = json.loads(_runtime_path(fresh_cache).read_text())
    assert content["key"] == grammar.cache_key(grammar.grammar_text())
    assert content["lark"] == lark.__version__
    assert content["tables"]["format"] == lalr.FORMAT
    assert not list(fresh_cache.glob("*.tmp"))


def test_lark_version_is_read_without_importing_lark() -> None:
    import lark

    code = ("import sys; from gradcli.lang import grammar; v = grammar.lark_version(); "
            "print(v, 'lark' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == [lark.__version__, "False"]


def test_another_lark_version_gets_its_own_tables(fresh_cache, monkeypatch) -> None:
    text = grammar.grammar_text()
    key = grammar.cache_key(text)
    monkeypatch.setattr(grammar, "lark_version", lambda: "0.0.1-other")
    assert grammar.cache_key(text) != key


def test_build_lark_rebuilds_tables_another_lark_version_wrote(fresh_cache) -> None:
    tables = grammar.tables()
    (path,) = fresh_cache.glob("grammar-*.json")
    content = json.loads(path.read_text())
    content["{"] = [[k, "0.0.1-other" if k == "lark" else v] for k, v in content["{"]]
    path.write_text(json.dumps(content))
    grammar._TABLES = None
    assert grammar.tables()["lark"] != "0.0.1-other"  # edited after gradcli wrote it
    assert grammar.build_lark().parse("1 + 2", start="statement").data == "binary"
    assert grammar.tables()["lark"] != "0.0.1-other"
    assert tables["key"] == grammar.tables()["key"]


@pytest.mark.parametrize("content", [
    "not json", "", "[]", '{"key": "other"}', None, '{"tables": {"format": 1}}',
])
def test_a_corrupt_or_foreign_runtime_file_is_rebuilt(fresh_cache, monkeypatch, content) -> None:
    from gradcli.lang.reader import Parser, read_statements

    grammar.runtime(object())
    path = _runtime_path(fresh_cache)
    if content is None:  # the right key, junk tables
        good = json.loads(path.read_text())
        good["tables"]["states"] = [{"NUMBER": "junk"}]
        content = json.dumps(good)
    elif content.startswith('{"tables"'):
        content = json.dumps({"key": grammar.cache_key(grammar.grammar_text()),
                              "tables": {"format": 1}})
    path.write_text(content)
    monkeypatch.setattr(grammar, "_RUNTIME", None)
    parser = Parser()
    (item,) = read_statements(["1 + 2\n"], parser)
    assert [ins[0] for ins in item.code] == [0, 0, 2]  # PUSH PUSH BINARY
    assert json.loads(path.read_text())["tables"]["states"][0] != {"NUMBER": "junk"}
