"""Find grammar/gradcli.lark and build its LALR parser once, cached on disk.

The grammar file is the one definition of the syntax. An installed wheel carries it at
``gradcli/_grammar/gradcli.lark``; a checkout has it at ``<repo>/grammar/gradcli.lark``.

Lark compiles it: building the LALR tables takes ~80 ms, so they are cached in the
user's cache directory (``$XDG_CACHE_HOME/gradcli`` or ``~/.cache/gradcli``) as JSON,
written atomically. JSON, not pickle: a corrupt or foreign cache file can only fail to
load (and is then rebuilt), never run code. Each build writes two files:

- ``grammar-<key>.json``: Lark's own serialised parser, for :func:`build_lark` (tools,
  tests, and the reference parse the runtime is tested against);
- ``runtime-<key>.json``: the same tables read off that parser for gradcli's runtime
  (:mod:`gradcli.lang.lalr`), which parses without importing Lark at all; plain JSON,
  a third of the size, so a warm start decodes only it (~0.5 ms). It holds the hash of
  the grammar file written with it: a start that finds that file damaged or missing
  rebuilds both, so the pair always comes from one build.

The key is the hash of the grammar's text, the parser options, ``CACHE_FORMAT`` and the
version of the Lark that ``import lark`` would load, read from Lark's ``__init__.py``
without running it (importing Lark is what a warm start avoids). So an upgraded (or
downgraded) Lark gets tables built by itself: the runtime never runs one Lark's tables
where another Lark would build different ones, and the reference parse stays Lark's.
Both files also record that version; :func:`build_lark`, which imports Lark anyway,
checks it against ``lark.__version__``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import stat
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradcli.lang import lalr

if TYPE_CHECKING:
    from lark import Lark

try:  # CPython's own SHA-256: hashlib would load OpenSSL first (~3 ms of every start)
    from _sha2 import sha256  # type: ignore[import-not-found]  # 3.12+
except ImportError:
    try:
        from _sha256 import sha256  # type: ignore[import-not-found,no-redef]  # 3.11
    except ImportError:
        from hashlib import sha256  # type: ignore[assignment]

CACHE_FORMAT = 3  # 2: adds the runtime file; 3: its seal. Bump when a layout changes
_CACHE_MAX_BYTES = 4_000_000  # the files take ~60 and ~21 kB; far larger is not ours
START = ["program", "statement"]
_OPTIONS: dict[str, Any] = {
    "parser": "lalr",
    "lexer": "basic",
    "start": START,
    "maybe_placeholders": True,
}
_VERSION_LINE = re.compile(r"""^__version__\s*(?::[^=\n]*)?=\s*["']([^"'\n]+)["']""", re.M)


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
    if base and os.path.isabs(base):
        return Path(base) / "gradcli"
    try:
        return Path.home() / ".cache" / "gradcli"
    except RuntimeError:  # no home directory at all: a "directory" nothing can create
        return Path(os.devnull) / "gradcli"  # (reads miss, writes fail: tables in memory)


def lark_version() -> str:
    """The version of the Lark that ``import lark`` loads, without importing it: read
    from its ``__init__.py`` (found as the import system would find it). If that cannot
    be read, Lark is imported to ask it."""
    module = sys.modules.get("lark")
    if module is not None:
        return str(module.__version__)
    try:
        spec = importlib.util.find_spec("lark")  # finds it without running it
        if spec is not None and spec.origin and spec.origin.endswith("__init__.py"):
            with open(spec.origin, encoding="utf-8") as f:
                found = _VERSION_LINE.search(f.read(100_000))
            if found:
                return found.group(1)
    except (OSError, ValueError, ImportError):
        pass
    import lark

    return str(lark.__version__)


def cache_key(text: str) -> str:
    digest = sha256()
    for part in (text, lark_version(), str(CACHE_FORMAT), json.dumps(_OPTIONS, sort_keys=True)):
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


def _cache_path(kind: str, key: str) -> Path:
    return cache_dir() / f"{kind}-{key[:24]}.json"


def _read_bytes(path: Path) -> bytes | None:
    """The bytes of ``path`` if it is a regular file of this user's, not a symlink and
    not too large; else None. Opened without following a link and without blocking (a
    FIFO at the path would wait for a writer forever), and checked on the descriptor."""
    flags = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
             | getattr(os, "O_NOCTTY", 0))
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > _CACHE_MAX_BYTES:
            return None
        if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
            return None  # another user's file: not ours to trust
        with os.fdopen(fd, "rb") as f:
            fd = -1
            data = f.read(_CACHE_MAX_BYTES + 1)
        return data if len(data) <= _CACHE_MAX_BYTES else None
    except OSError:
        return None
    finally:
        if fd >= 0:
            os.close(fd)


def _read_cache(path: Path, **json_options: Any) -> Any:
    """The JSON in ``path``, or None if it is missing, not a regular file of this user's,
    too large or not JSON."""
    data = _read_bytes(path)
    if data is None:
        return None
    try:
        return json.loads(data.decode("utf-8"), **json_options)
    except Exception:  # noqa: BLE001 - missing, corrupt, foreign or hostile: rebuild
        pass  # (a file nested 10^5 deep raises RecursionError; wrong tables, anything)
    return None


def _seal(key: str, grammar_sha256: str | None, tables: Any) -> str:
    """What gradcli writes beside the runtime tables: a hash of them with the key and
    gradcli's version, so tables it did not write (edited, damaged, another version's)
    are rebuilt instead of trusted."""
    from gradcli import __version__

    body = json.dumps(tables, sort_keys=True, separators=(",", ":"))
    return sha256("\0".join((key, __version__, str(grammar_sha256), body)).encode()).hexdigest()


def _tables(text: str) -> dict:
    """Lark's serialised LALR parser: from the cache, or built (and cached) now."""
    key = cache_key(text)
    cached = _read_cache(_cache_path("grammar", key), object_hook=_decode_object)
    if (isinstance(cached, dict) and cached.get("key") == key and _sealed_runtime(key)
            and isinstance(cached.get("data"), dict)
            and isinstance(cached.get("memo"), dict)):
        return cached  # loading is the check: build_lark() rebuilds junk
    return _build_tables(text, key)


def _build_tables(text: str, key: str) -> dict:
    """Build the parser with Lark and cache it, with the runtime's tables read off it."""
    import lark
    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    built = lark.Lark(text, **_OPTIONS)
    data, memo = built.memo_serialize([TerminalDef, Rule])
    data["options"] = {k: v for k, v in data["options"].items()
                       if k not in ("transformer", "postlex", "lexer_callbacks", "_plugins")}
    try:  # read off the parser as build_lark() loads it, so both run the same tables
        runtime_tables = lalr.extract(lark.Lark._load_from_dict(data, memo))
    except ValueError:  # a Lark whose parser lalr does not mirror: Lark parses, then
        runtime_tables = None
    tables = {"key": key, "lark": lark.__version__, "data": data, "memo": memo}
    content = json.dumps(_encode(tables), separators=(",", ":"))  # ASCII
    _write_atomically(_cache_path("grammar", key), content)
    grammar_sha256 = sha256(content.encode("ascii")).hexdigest()
    runtime_file = {"key": key, "lark": lark.__version__, "tables": runtime_tables,
                    "grammar_sha256": grammar_sha256,
                    "seal": _seal(key, grammar_sha256, runtime_tables)}
    _write_atomically(_cache_path("runtime", key), json.dumps(runtime_file, separators=(",", ":")))
    global _RUNTIME
    _RUNTIME = runtime_file
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
_RUNTIME: dict | None = None  # the runtime file's content, once read (or built)
_TABLES_LOCK = threading.RLock()
_LOCAL = threading.local()


def tables() -> dict:
    """Lark's serialised parser for the grammar (``data`` and ``memo``), with its key."""
    global _TABLES
    if _TABLES is None:
        with _TABLES_LOCK:
            if _TABLES is None:
                _TABLES = _tables(grammar_text())
    return _TABLES


def _rebuild() -> dict:
    """Tables built anew (cached ones that did not load, or no runtime tables)."""
    global _TABLES
    with _TABLES_LOCK:
        text = grammar_text()
        _TABLES = _build_tables(text, cache_key(text))
        return _TABLES


def _runtime_file() -> dict:
    """The runtime file's content: from the cache, or built (and cached) now."""
    global _RUNTIME
    if _RUNTIME is None:
        with _TABLES_LOCK:
            if _RUNTIME is None:
                cached = _sealed_runtime(cache_key(grammar_text()))
                if cached is not None:
                    _RUNTIME = cached
                else:
                    _rebuild()  # sets _RUNTIME
    assert _RUNTIME is not None
    return _RUNTIME


def _sealed_runtime(key: str) -> dict | None:
    """The runtime file for ``key`` if gradcli wrote it as it is, with the grammar file
    beside it (its hash and the seal both hold); else None (rebuild)."""
    cached = _read_cache(_cache_path("runtime", key))
    if (isinstance(cached, dict) and cached.get("key") == key and "tables" in cached
            and cached.get("grammar_sha256") == _file_sha256(key)
            and cached.get("seal") == _seal(key, cached.get("grammar_sha256"),
                                            cached.get("tables"))):
        return cached
    return None


def _file_sha256(key: str) -> str | None:
    """The hash of the grammar file that was written with the runtime file: a damaged or
    missing one is rebuilt at once, with both files (~0.2 ms a start, for that)."""
    data = _read_bytes(_cache_path("grammar", key))
    return None if data is None else sha256(data).hexdigest()


def runtime(transformer: Any, start: str = "statement") -> tuple[lalr.Lexer, lalr.ParseConf] | None:
    """gradcli's lexer and parse tables for ``start``, calling ``transformer`` (see
    :mod:`gradcli.lang.lalr`); None if this Lark's parser is one lalr does not mirror
    (then parse with :func:`build_lark`). With a warm cache, Lark is not imported."""
    found = _runtime_file()
    if found["tables"] is None:
        return None  # written by a build with a Lark lalr cannot read
    try:
        return lalr.load(found["tables"], transformer, start)
    except Exception:  # noqa: BLE001 - junk that has the right key: build anew
        with _TABLES_LOCK:
            if _RUNTIME is found:
                _rebuild()
        found = _runtime_file()
        return None if found["tables"] is None else lalr.load(found["tables"], transformer, start)


def build_lark(transformer: Any = None) -> Lark:
    """A Lark instance for the grammar (from the cached tables), calling ``transformer``."""
    import lark

    t = tables()
    if t.get("lark") != lark.__version__:  # tables another Lark built (or junk)
        t = _rebuild()
    try:
        return lark.Lark._load_from_dict(t["data"], t["memo"], transformer=transformer)
    except Exception:  # noqa: BLE001 - cached tables that do not load: build them anew
        t = _rebuild()
        return lark.Lark._load_from_dict(t["data"], t["memo"], transformer=transformer)


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
