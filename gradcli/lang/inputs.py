"""Values read from files for -v/-c NAME=@PATH: bounded, and only from regular files.

A path names a regular file (a FIFO or a device would block or never end: ``@-`` is the
way to read a stream), opened without blocking and checked on the open descriptor.
A ``.npy`` header is validated against the element limit and the file's size before a
byte of data is read; ``@file.npz:key`` reads one array of an archive; a ``.csv``/``.txt``
of numbers may start with a header row (skipped, with a warning) and a row of another
length is named. Every failure is an :class:`InputProblem` naming the file.
"""

from __future__ import annotations

import io
import math
import os
import stat
import sys
import zipfile
from typing import IO

import numpy as np

from gradcli.lang.errors import InputProblem
from gradcli.lang.syntax import written_nonzero

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"
TEXT_BYTES_PER_ELEMENT = 32  # a number in a text file, with its separator, at most
MAX_NPY_HEADER = 10_000
TEXT_PARSE_FACTOR = 8  # the memory parsing a text of numbers takes, per byte of it


class _Reader:
    """The limits one value is read under, and the warnings it gathers."""

    def __init__(self, label: str, where: str, max_elements: int, max_bytes: int) -> None:
        self.label = label
        self.where = where  # the path as the user gave it
        self.max_elements = max_elements
        self.max_bytes = max_bytes
        self.warnings: list[str] = []
        self.lost: list[str] = []  # numbers lost to underflow (an error with --strict)

    def problem(self, reason: str) -> InputProblem:
        return InputProblem(f"cannot read {self.where} for {self.label}: {reason}")


def read_value(label: str, path: str, *, max_elements: int, max_bytes: int,
               stdin: IO[bytes] | None = None) -> tuple[np.ndarray, list[str], list[str]]:
    """The array at ``path`` (``-`` for stdin; ``file.npz:key``), its warnings, and what
    says that numbers in it were lost to underflow (an error with --strict).

    ``max_bytes`` bounds what is read into memory (the session's memory limit)."""
    reader = _Reader(label, path, max_elements, max_bytes)
    if path == "-":
        stream = stdin if stdin is not None else getattr(sys.stdin, "buffer", None)
        if stream is None:
            raise reader.problem("there is no stdin")
        limit = min(max_bytes, TEXT_BYTES_PER_ELEMENT * max_elements + MAX_NPY_HEADER)
        data = _read_bounded(stream, limit)
        if len(data) > limit:
            raise reader.problem(f"more than {limit:,} bytes arrived, over the limits "
                                 "(--max-elements, --max-memory)")
        if data.startswith(NPY_MAGIC):
            return _npy(reader, io.BytesIO(data), len(data)), reader.warnings, reader.lost
        return _text(reader, data, ".csv" if b"," in data else ".txt"), reader.warnings, reader.lost
    key = None
    base, sep, tail = path.rpartition(":")
    if sep and base.lower().endswith(".npz"):
        path, key = base, tail
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in (".npy", ".npz", ".csv", ".txt"):
        raise reader.problem("use a .npy, .npz, .csv or .txt file (or @- for stdin)")
    with _open_regular(reader, path) as handle:
        size = os.fstat(handle.fileno()).st_size
        head = handle.read(len(NPY_MAGIC))
        handle.seek(0)
        if suffix == ".npz" or head.startswith(ZIP_MAGIC):
            if suffix != ".npz":
                raise reader.problem("it is a .npz archive, not a .npy file: name it .npz "
                                     "and read an array in it as @FILE.npz:KEY")
            return _npz(reader, handle, key), reader.warnings, reader.lost
        if suffix == ".npy":
            return _npy(reader, handle, size), reader.warnings, reader.lost
        # parsed whole before its size is known: refuse a text that could not hold a
        # number in under 32 characters each within the limits
        if size > TEXT_BYTES_PER_ELEMENT * max_elements:
            raise reader.problem(f"{size:,} bytes of text is too large for the limit of "
                                 f"{max_elements:,} elements (--max-elements)")
        if size * TEXT_PARSE_FACTOR > max_bytes:
            raise reader.problem(f"{size:,} bytes of text would take about "
                                 f"{size * TEXT_PARSE_FACTOR:,} bytes to parse, over the "
                                 "session's memory limit (--max-memory)")
        return _text(reader, _read_bounded(handle, size), suffix), reader.warnings, reader.lost


def _read_bounded(stream: IO[bytes], limit: int) -> bytes:
    """Up to ``limit + 1`` bytes of ``stream``, read in pieces (``read(limit)`` would set
    aside ``limit`` bytes at once)."""
    pieces = []
    total = 0
    while total <= limit:
        piece = stream.read(min(2**20, limit + 1 - total))
        if not piece:
            break
        pieces.append(piece)
        total += len(piece)
    return b"".join(pieces)


def _open_regular(reader: _Reader, path: str) -> IO[bytes]:
    """``path`` opened for reading, if it is a regular file (checked on the descriptor:
    opening a FIFO without O_NONBLOCK would wait for a writer forever)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise reader.problem(exc.strerror or str(exc)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
                    else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                    else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
            raise reader.problem(f"it is {kind}, not a regular file (use @- to read a "
                                 "value from a pipe on stdin)")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _npy(reader: _Reader, stream: IO[bytes], size: int) -> np.ndarray:
    """A .npy array whose header was checked against the limits and ``size`` first."""
    from numpy.lib import format as npy

    try:
        version = npy.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = npy.read_array_header_1_0(stream, MAX_NPY_HEADER)
        elif version == (2, 0):
            shape, fortran, dtype = npy.read_array_header_2_0(stream, MAX_NPY_HEADER)
        else:
            raise ValueError(f"version {version[0]}.{version[1]} of the .npy format is not read")
    except (ValueError, SyntaxError, EOFError, TypeError, OverflowError) as exc:
        raise reader.problem(f"not a valid .npy file ({exc})") from None
    if dtype.hasobject or dtype.kind not in "biuf" or dtype.subdtype is not None:
        raise reader.problem(f"it holds {dtype}, not numbers")
    if not all(isinstance(n, int) and n >= 0 for n in shape):
        raise reader.problem(f"its header gives a bad shape {shape}")
    elements = math.prod(shape)
    if elements > reader.max_elements:
        raise reader.problem(f"its header says shape {tuple(shape)} ({elements:,} elements), "
                             f"over the limit of {reader.max_elements:,} (--max-elements)")
    nbytes = elements * dtype.itemsize
    if nbytes > reader.max_bytes:
        raise reader.problem(f"its {nbytes:,} bytes are over the session's memory limit "
                             "(--max-memory)")
    available = size - stream.tell()
    if nbytes > available:
        raise reader.problem(f"its header says {nbytes:,} bytes of data, but the file holds "
                             f"{max(available, 0):,}")
    data = stream.read(nbytes)
    if len(data) != nbytes:
        raise reader.problem(f"it ended after {len(data):,} of {nbytes:,} bytes")
    array = np.frombuffer(data, dtype=dtype)
    return array.reshape(shape, order="F" if fortran else "C")


def _npz(reader: _Reader, handle: IO[bytes], key: str | None) -> np.ndarray:
    """The array ``key`` of a .npz archive (the only one, if no key is given)."""
    try:
        archive = zipfile.ZipFile(handle)
        members = {name[:-4]: name for name in archive.namelist() if name.endswith(".npy")}
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise reader.problem(f"not a valid .npz archive ({exc})") from None
    keys = ", ".join(sorted(members)) or "none"
    if key is None:
        if len(members) != 1:
            raise reader.problem(f"it holds several arrays ({keys}): name one as "
                                 f"@{reader.where}:KEY")
        key = next(iter(members))
    if key not in members:
        raise reader.problem(f'it has no array "{key}"; its arrays: {keys}')
    info = archive.getinfo(members[key])
    if info.file_size > reader.max_bytes + MAX_NPY_HEADER:
        raise reader.problem(f"its array {key} takes {info.file_size:,} bytes, over the "
                             "session's memory limit (--max-memory)")
    try:
        with archive.open(info) as member:
            return _npy(reader, member, info.file_size)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise reader.problem(f"not a valid .npz archive ({exc})") from None


def _text(reader: _Reader, data: bytes, suffix: str) -> np.ndarray:
    """Numbers in text: rows of a .csv (commas) or .txt (spaces, or commas)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise reader.problem("it is not UTF-8 text") from None
    if "\x00" in text:
        raise reader.problem("it holds NUL bytes, not numbers")
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1)
             if line.split("#", 1)[0].strip()]
    if not lines:
        raise reader.problem("it holds no numbers")
    delimiter = "," if suffix == ".csv" or "," in lines[0][1] else None
    first_row, first = lines[0]
    if _fields(first, delimiter) and not _numeric(_fields(first, delimiter)):
        if len(lines) > 1 and _numeric(_fields(lines[1][1], delimiter)):
            reader.warnings.append(f"{reader.where}: line {first_row} is not numbers, read as a "
                                   f"header and skipped: {first.strip()[:60]}")
            lines = lines[1:]
    width = None
    rows = []
    for number, line in lines:
        fields = _fields(line, delimiter)
        if width is None:
            width = len(fields)
        elif len(fields) != width:
            raise reader.problem(f"line {number} has {len(fields)} value"
                                 f"{'s' if len(fields) != 1 else ''} where the rows before "
                                 f"it have {width}")
        rows.append(fields)
    if len(rows) * (width or 0) > reader.max_elements:
        raise reader.problem(f"it holds {len(rows) * (width or 0):,} numbers, over the limit "
                             f"of {reader.max_elements:,} (--max-elements)")
    try:
        array = np.array(rows, dtype=float)
    except ValueError:
        for (number, _), fields in zip(lines, rows):
            for column, field in enumerate(fields, 1):
                if not _numeric([field]):
                    raise reader.problem(f"line {number}, column {column}: {field!r} is not "
                                         "a number") from None
        raise
    if not array.all():  # a number too small for a float is read as 0: say where
        for row, column in np.argwhere(array == 0):
            if written_nonzero(rows[row][column]):
                count = sum(written_nonzero(rows[r][c]) for r, c in np.argwhere(array == 0))
                reader.lost.append(
                    f"{count} number{'s' if count != 1 else ''} too small for float64, read "
                    f"as 0 (first at line {lines[row][0]}, column {column + 1})")
                break
    if array.ndim == 2:
        array = np.squeeze(array)  # one row or column: a vector; one number: a scalar
    return array


def _fields(line: str, delimiter: str | None) -> list[str]:
    line = line.split("#", 1)[0]
    return [f.strip() for f in line.split(delimiter)] if delimiter else line.split()


def _numeric(fields: list[str]) -> bool:
    try:
        for field in fields:
            float(field)
    except ValueError:
        return False
    return True

