"""Find grammar/gradcli.lark and build its LALR parser once, cached on disk.

The grammar file is the one definition of the syntax. An installed wheel carries it at
``gradcli/_grammar/gradcli.lark``; a checkout has it at ``<repo>/grammar/gradcli.lark``.

Lark compiles it: building the LALR tables takes ~80 ms, so they are cached in the
user's cache directory (``$XDG_CACHE_HOME/gradcli`` or ``~/.cache/gradcli``) as
``grammar-<key>.json``: Lark's own serialisation of the parser (``memo_serialize``, what
``Lark.save`` writes, as JSON, not pickle: a corrupt or foreign cache file can only fail
to load, and is then rebuilt, never run code), written atomically, sealed by its last entry
(a hash of the rest, the key and gradcli's version). It is read only if
it is a regular file of this user's (no symlink followed, a FIFO never waited on), of a
sane size, with a seal that holds; anything else is rebuilt.

The key is the hash of the grammar's text, the parser options, ``CACHE_FORMAT`` and the
version of the Lark that ``import lark`` would load (read from Lark's ``__init__.py``).
So an upgraded (or downgraded) Lark gets tables built by itself; the file also records
that version, and :func:`build_lark` checks it against ``lark.__version__``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import stat
import sys
import tempfile
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lark import Lark

if "hashlib" in sys.modules:  # loaded already (NumPy's random imports it): its SHA-256
    from hashlib import sha256  # costs nothing more, where _sha256 is one more module to load
else:
    try:  # CPython's own SHA-256: hashlib would load OpenSSL first (~3 ms of every start)
        from _sha2 import sha256  # type: ignore[import-not-found]  # 3.12+
    except ImportError:
        try:
            from _sha256 import sha256  # type: ignore[import-not-found,no-redef]  # 3.11
        except ImportError:
            from hashlib import sha256  # type: ignore[assignment]

CACHE_FORMAT = 7  # 2: a runtime file; 3: its seal; 4: one sealed file; 5: plain objects
# for string-keyed dicts (~17% smaller, ~30% faster to read); 6 kept the answers Lark's
# scanner build asks of re, 7 drops them again (they saved ~0.4 ms, too little to show in
# A/B, by swapping the re module on Lark's lexer). Bump on a change
_CACHE_MAX_BYTES = 4_000_000  # the file takes ~60 kB; far larger is not ours
START = ["program", "statement"]
_OPTIONS: dict[str, Any] = {
    "parser": "lalr",
    "lexer": "basic",
    "start": START,
    "maybe_placeholders": True,
}
_VERSION_LINE = re.compile(r"""^__version__\s*(?::[^=\n]*)?=\s*["']([^"'\n]+)["']""", re.M)


# Paths are strings (os.path), not pathlib: importing pathlib costs every start ~2 ms.


def grammar_path() -> str:
    """The grammar file: the wheel's copy if installed, else the checkout's."""
    here = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))  # the package
    for candidate in (os.path.join(here, "_grammar", "gradcli.lark"),
                      os.path.join(os.path.dirname(here), "grammar", "gradcli.lark")):
        if os.path.isfile(candidate):
            return candidate
    raise FileNotFoundError(
        "gradcli's grammar file is missing (looked for gradcli/_grammar/gradcli.lark and "
        "grammar/gradcli.lark); reinstall gradcli"
    )


def grammar_text() -> str:
    with open(grammar_path(), encoding="utf-8") as f:
        return f.read()


def cache_dir() -> str:
    """The user's cache directory for gradcli (never a shared /tmp path)."""
    base = os.environ.get("XDG_CACHE_HOME")
    if base and os.path.isabs(base):
        return os.path.join(base, "gradcli")
    home = os.path.expanduser("~")
    if home[:1] == "~":  # no home directory at all: a "directory" nothing can create
        return os.path.join(os.devnull, "gradcli")  # (reads miss, writes fail: in memory)
    return os.path.join(home, ".cache", "gradcli")


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
    for part in (text, lark_version(), str(CACHE_FORMAT), repr(sorted(_OPTIONS.items()))):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


# -- JSON with tuples and int keys, the two things Lark's serialised tables hold -----------
# A dict whose keys are all strings (most of them: every serialised object) is a plain JSON
# object; one with other keys is {"{": [[key, value], ...]}, a tuple {"(": [...]}. A plain
# dict that would read as a tag (its one key "{" or "(") is written in the tagged form.

_TAGS = ("{", "(")


def _encode(value: Any) -> Any:
    if isinstance(value, dict):
        if (all(type(k) is str for k in value)
                and not (len(value) == 1 and next(iter(value)) in _TAGS)):
            return {k: _encode(v) for k, v in value.items()}
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
        return obj
    (tag, items), = obj.items()
    if tag == "(":
        return tuple(items)
    if tag == "{":
        return {k: v for k, v in items}
    return obj


class _ScanContext:
    """What json's C scanner reads from a JSONDecoder: strict JSON, our object hook."""

    strict = True
    object_hook = staticmethod(_decode_object)
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict = {}

    @staticmethod
    def parse_constant(name: str) -> Any:  # NaN, Infinity: never in a file gradcli wrote
        raise ValueError(f"not a gradcli grammar cache: {name}")


def _loads(text: str) -> Any:
    """``json.loads(text, object_hook=_decode_object)``, by json's own C scanner, without
    importing json (its Python modules cost every start ~1 ms). Anything but one JSON
    value with at most whitespace around it raises ValueError."""
    try:
        from _json import make_scanner
    except ImportError:  # no C accelerator (another Python): json itself
        import json

        return json.loads(text, object_hook=_decode_object)
    start = len(text) - len(text.lstrip(" \t\n\r"))
    try:
        value, end = make_scanner(_ScanContext)(text, start)
    except StopIteration:
        raise ValueError("not JSON") from None
    if text[end:].strip(" \t\n\r"):
        raise ValueError("not JSON: data after the value")
    return value


def _cache_path(kind: str, key: str) -> str:
    return os.path.join(cache_dir(), f"{kind}-{key[:24]}.json")


def _read_bytes(path: str) -> bytes | None:
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


def _seal(key: str, content: bytes) -> str:
    """The hash gradcli writes above the tables: of them, the key and gradcli's version,
    so tables it did not write (edited, damaged, another version's) are rebuilt instead
    of trusted."""
    from gradcli import __version__

    return sha256(b"\0".join((key.encode(), __version__.encode(), content))).hexdigest()


# the seal is the last member of the tables' object, "seal": "<hash of the rest>"
_SEALED = re.compile(rb',"seal":"([0-9a-f]{64})"\}$')


def _sealed(key: str, content: str) -> str:
    """The cache file for ``content`` (the encoded tables' JSON, an object): the same
    plain JSON with the seal as its last member."""
    return f'{content[:-1]},"seal":"{_seal(key, content.encode("ascii"))}"}}'


def _read_sealed(path: str, key: str) -> Any:
    """The tables in ``path``, or None if it is missing, not a regular file of this
    user's, too large, not sealed for ``key`` or not JSON."""
    data = _read_bytes(path)
    if data is None:
        return None
    found = _SEALED.search(data)
    if found is None:
        return None
    content = data[:found.start()] + b"}"
    try:
        if found.group(1).decode("ascii") != _seal(key, content):
            return None
        return _loads(content.decode("utf-8"))
    except Exception:  # noqa: BLE001 - corrupt, foreign or hostile: rebuild
        pass  # (a file nested 10^5 deep raises RecursionError; wrong tables, anything)
    return None


def _tables(text: str) -> dict:
    """Lark's serialised LALR parser: from the cache, or built (and cached) now."""
    key = cache_key(text)
    cached = _read_sealed(_cache_path("grammar", key), key)
    if (isinstance(cached, dict) and cached.get("key") == key
            and isinstance(cached.get("data"), dict)
            and isinstance(cached.get("memo"), dict)):
        return cached  # loading is the last check: build_lark() rebuilds what fails it
    return _build_tables(text, key)


def _build_tables(text: str, key: str) -> dict:
    """Build the parser with Lark and cache it."""
    import json

    import lark
    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    built = lark.Lark(text, **_OPTIONS)
    data, memo = built.memo_serialize([TerminalDef, Rule])
    data["options"] = {k: v for k, v in data["options"].items()
                       if k not in ("transformer", "postlex", "lexer_callbacks", "_plugins")}
    tables = {"key": key, "lark": lark.__version__, "data": data, "memo": memo}
    content = json.dumps(_encode(tables), separators=(",", ":"))  # ASCII
    _write_atomically(_cache_path("grammar", key), _sealed(key, content))
    return tables


def _write_atomically(path: str, content: str) -> None:
    try:
        folder = os.path.dirname(path)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".grammar-", suffix=".tmp")
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
    """Tables built anew (cached ones that did not load)."""
    global _TABLES
    with _TABLES_LOCK:
        text = grammar_text()
        _TABLES = _build_tables(text, cache_key(text))
        return _TABLES


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
