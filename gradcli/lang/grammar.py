"""Find grammar/gradcli.lark and build its LALR parser once, cached on disk.

The grammar file is the one definition of the syntax. An installed wheel carries it at
``gradcli/_grammar/gradcli.lark``; a checkout has it at ``<repo>/grammar/gradcli.lark``.

Building the LALR tables takes ~80 ms, so they are cached in the user's cache directory
(``$XDG_CACHE_HOME/gradcli`` or ``~/.cache/gradcli``) as JSON, keyed by the grammar's
hash and Lark's version, written atomically. JSON, not pickle: a corrupt or foreign
cache file can only fail to load (and is then rebuilt), never run code.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import lark
from lark import Lark
from lark.grammar import Rule
from lark.lexer import TerminalDef

CACHE_FORMAT = 1
_CACHE_MAX_BYTES = 4_000_000  # the tables take ~60 kB; anything far larger is not ours
START = ["program", "statement"]
_OPTIONS: dict[str, Any] = {
    "parser": "lalr",
    "lexer": "basic",
    "start": START,
    "maybe_placeholders": True,
}


def grammar_path() -> Path:
    """The grammar file: the wheel's copy if installed, else the checkout's."""
    here = Path(__file__).resolve().parent.parent  # the gradcli package
    for candidate in (here / "_grammar" / "gradcli.lark", here.parent / "grammar" / "gradcli.lark"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        "gradcli's grammar file is missing (looked for gradcli/_grammar/gradcli.lark and "
        "grammar/gradcli.lark); reinstall gradcli"
    )


def grammar_text() -> str:
    return grammar_path().read_text(encoding="utf-8")


def cache_dir() -> Path:
    """The user's cache directory for gradcli (never a shared /tmp path)."""
    base = os.environ.get("XDG_CACHE_HOME")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    return root / "gradcli"


def cache_key(text: str) -> str:
    digest = hashlib.sha256()
    for part in (text, lark.__version__, str(CACHE_FORMAT), json.dumps(_OPTIONS, sort_keys=True)):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


# -- JSON with tuples and int keys, the two things Lark's serialised tables hold -----------


def _encode(value: Any) -> Any:
    if isinstance(value, dict):
        return {"{": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"(": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot cache a {type(value).__name__}")


def _decode_object(obj: dict) -> Any:
    if len(obj) != 1:
        raise ValueError("not a gradcli grammar cache")
    (tag, items), = obj.items()
    if tag == "(":
        return tuple(items)
    if tag == "{":
        return {k: v for k, v in items}
    raise ValueError("not a gradcli grammar cache")


def _tables(text: str) -> dict:
    """The serialised LALR tables: from the cache, or built (and cached) now."""
    key = cache_key(text)
    path = cache_dir() / f"grammar-{key[:24]}.json"
    try:
        with open(path, encoding="utf-8") as f:
            text_read = f.read(_CACHE_MAX_BYTES + 1)
        if len(text_read) <= _CACHE_MAX_BYTES:
            cached = json.loads(text_read, object_hook=_decode_object)
            if (isinstance(cached, dict) and cached.get("key") == key
                    and isinstance(cached.get("data"), dict)
                    and isinstance(cached.get("memo"), dict)):
                return cached  # build_lark loads it, and rebuilds if it is junk after all
    except Exception:  # noqa: BLE001 - missing, corrupt, foreign or hostile: rebuild below
        pass  # (a file nested 10^5 deep raises RecursionError; wrong tables, anything)
    return _build_tables(text, key, path)


def _build_tables(text: str, key: str, path: Path) -> dict:
    built = Lark(text, **_OPTIONS)
    data, memo = built.memo_serialize([TerminalDef, Rule])
    data["options"] = {k: v for k, v in data["options"].items()
                       if k not in ("transformer", "postlex", "lexer_callbacks", "_plugins")}
    tables = {"key": key, "data": data, "memo": memo}
    _write_atomically(path, json.dumps(_encode(tables), separators=(",", ":")))
    return tables


def _write_atomically(path: Path, content: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".grammar-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(content)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError:
        pass  # an unwritable cache only costs the build next time


_TABLES: dict | None = None
_TABLES_LOCK = threading.Lock()
_LOCAL = threading.local()


def tables() -> dict:
    global _TABLES
    if _TABLES is None:
        with _TABLES_LOCK:
            if _TABLES is None:
                _TABLES = _tables(grammar_text())
    return _TABLES


def build_lark(transformer: Any = None) -> Lark:
    """A Lark instance for the grammar (from the cached tables), calling ``transformer``."""
    global _TABLES
    t = tables()
    try:
        return Lark._load_from_dict(t["data"], t["memo"], transformer=transformer)
    except Exception:  # noqa: BLE001 - cached tables that do not load: build them anew
        with _TABLES_LOCK:
            text = grammar_text()
            key = cache_key(text)
            _TABLES = t = _build_tables(text, key, cache_dir() / f"grammar-{key[:24]}.json")
        return Lark._load_from_dict(t["data"], t["memo"], transformer=transformer)


def lark_parser() -> Lark:
    """A plain Lark parser (building trees), for tools and tests: ``.parse(text)``."""
    parser = getattr(_LOCAL, "lark", None)
    if parser is None:
        parser = _LOCAL.lark = build_lark()
    return parser


def needs_continuation(text: str) -> bool:
    """True when ``text`` ends inside an open bracket or after a ``\\``: a REPL reads on."""
    from gradcli.lang.reader import open_brackets

    return open_brackets(text)
