"""A cached grammar file with the right key but tables that do not load is rebuilt when
the parser is made (the cache is read once per start, and loaded once)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gradcli.lang import grammar


def test_tables_with_the_right_key_that_do_not_load_are_rebuilt(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(grammar, "_TABLES", None)
    key = grammar.tables()["key"]
    (path,) = (tmp_path / "gradcli").glob("grammar-*.json")
    path.write_text(json.dumps(grammar._encode({"key": key, "data": {"junk": 1}, "memo": {}})))
    monkeypatch.setattr(grammar, "_TABLES", None)
    # not what gradcli wrote (its hash is sealed in the runtime file): rebuilt when read
    assert grammar.tables()["data"] != {"junk": 1}
    lark = grammar.build_lark()
    assert lark.parse("1 + 2", start="statement").data == "binary"
    assert "junk" not in path.read_text()  # rewritten
    monkeypatch.setattr(grammar, "_TABLES", None)


def test_no_home_directory_means_a_cache_that_cannot_exist(monkeypatch) -> None:
    import os

    from gradcli.lang import grammar

    real_expanduser = os.path.expanduser
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    # what os.path.expanduser gives where no home directory can be found
    monkeypatch.setattr(os.path, "expanduser",
                        lambda p: p if p == "~" else real_expanduser(p))
    # under the null device not even root can make a directory: tables stay in memory
    assert grammar.cache_dir() == os.path.join(os.devnull, "gradcli")
    assert not os.path.exists(grammar.cache_dir())


def test_the_cache_is_read_as_json_reads_it() -> None:
    # grammar._loads is json's own C scanner, without importing json's Python modules
    text = json.dumps(grammar._encode({"a": (1, 2.5, "\u00e9"), "b": {3: [None, True]},
                                       "{": 1, "c": {"(": 2}}), separators=(",", ":"))
    assert grammar._loads(f" {text}\n") == json.loads(text, object_hook=grammar._decode_object)
    assert grammar._loads(text)["b"] == {3: [None, True]} and grammar._loads(text)["{"] == 1
    for junk in ["", "[", "[1,]", "1 2", '{"a": 1}x', "NaN", "[-Infinity]", "\ufeff[1]"]:
        with pytest.raises(ValueError):
            grammar._loads(junk)


def test_reading_the_cache_does_not_import_json(tmp_path) -> None:
    code = ("import sys\nfrom gradcli.lang import grammar\ngrammar.build_lark()\n"
            "print('json' in sys.modules)")
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env=env).stdout.split() for _ in range(2)]
    assert runs == [["True"], ["False"]]  # json writes the cache; reading it needs none


def test_the_cache_key_uses_a_loaded_hashlib_and_loads_no_sha256_module_of_its_own() -> None:
    import hashlib

    code = ("import sys, {first}\nfrom gradcli.lang import grammar\n"
            "print(grammar.cache_key('x'), '_sha256' in sys.modules or '_sha2' in sys.modules)")
    keys = {}
    for first in ("hashlib", "os"):
        out = subprocess.run([sys.executable, "-c", code.format(first=first)],
                             capture_output=True, text=True, check=True).stdout.split()
        keys[first] = out
    assert keys["hashlib"][1] == "False" and keys["os"][1] == "True"
    assert keys["hashlib"][0] == keys["os"][0] == grammar.cache_key("x")  # one SHA-256
    assert len(keys["os"][0]) == len(hashlib.sha256().hexdigest())
