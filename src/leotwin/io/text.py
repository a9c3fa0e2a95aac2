"""Reading a user's text file: one clear line for every way it can fail.

Every reader of a user's file (TLE, OMM, scenario, policy, GeoJSON, CSV) goes through
:func:`read_text`, so the checks every format needs are made here, once: the file exists and
is a readable file, it is not larger than a bound (no reader is asked to hold a file that
cannot be a sensible input), it is UTF-8, and it holds no NUL byte or other control character
(C0 and C1, except tab, line feed and carriage return; DEL): such bytes are never part of a
valid element set, scenario or table, and they break the C code and databases behind us.
"""

from __future__ import annotations

import csv
import io
import re
from os import PathLike
from pathlib import Path

from leotwin.errors import InputError

#: the largest text file a reader accepts (bytes): the whole public catalogue as OMM XML is
#: about 60 MB; a scenario of a national population a few MB
MAX_TEXT_BYTES = 256 * 1024 * 1024

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def control_character(text: str) -> str | None:
    """A description of the first character in ``text`` no valid input holds ('NUL byte',
    'control character U+0007', or 'lone surrogate U+D800', which a JSON ``\\ud800`` escape
    can make and no UTF-8 text or database can store), or None when there is none."""
    m = _CONTROL.search(text)
    if m is None:
        return None
    code = ord(m.group())
    if code == 0:
        return "NUL byte"
    return (f"lone surrogate U+{code:04X}" if 0xD800 <= code <= 0xDFFF
            else f"control character U+{code:04X}")


def bad_string(value, loc: tuple = ()) -> tuple[tuple, str] | None:
    """(location, what) of the first string — key or value, at any depth of dicts and lists —
    that :func:`control_character` objects to; None when there is none.  For parsed JSON and
    request bodies, where escapes (``\\u0000``, ``\\ud800``) make what no text file holds."""
    stack: list[tuple[tuple, object]] = [(loc, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            what = control_character(item)
            if what:
                return where, what
        elif isinstance(item, dict):
            for key, inner in item.items():
                stack.append(((*where, key), key))
                stack.append(((*where, key), inner))
        elif isinstance(item, (list, tuple)):
            stack.extend(((*where, k), inner) for k, inner in enumerate(item))
    return None


def check_characters(text: str, source, *, line: int | None = None,
                     field: str | None = None) -> str:
    """``text`` unchanged, or an :class:`InputError` naming the first control character (with
    its line within ``text`` when ``line`` is None and ``text`` has several lines)."""
    what = control_character(text)
    if what is None:
        return text
    m = _CONTROL.search(text)
    assert m is not None
    if line is None:
        line = text.count("\n", 0, m.start()) + 1
    raise InputError(f"{what} in the text: expected printable characters only",
                     source=source, line=line, field=field)


def read_text(path: str | PathLike[str], *, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """The file's text (UTF-8, a byte-order mark tolerated), or an :class:`InputError` naming
    the file: not found, a directory, no permission, too large, not UTF-8 text, or holding a
    NUL byte or another control character (with its line)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise IsADirectoryError
        if size > max_bytes:
            raise InputError(f"file is too large ({size / 2**20:,.0f} MiB): expected at most "
                             f"{max_bytes / 2**20:,.0f} MiB", source=path)
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", source=path) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", source=path) from None
    except PermissionError:
        raise InputError("cannot read the file: permission denied", source=path) from None
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", source=path) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"not UTF-8 text (byte {exc.start}): expected a UTF-8 text file",
                         source=path, line=line) from None
    return check_characters(text, path)


def unique_header(names, source) -> list[str]:
    """A CSV header's column names, stripped; a column named twice is an
    :class:`InputError` (a reader keyed by name would keep the last value silently)."""
    header = [str(h).strip() for h in (names or [])]
    seen: set[str] = set()
    for name in header:
        key = name.casefold()
        if key in seen:
            raise InputError(f"column '{name}' appears twice in the header: keep one",
                             source=source, line=1)
        seen.add(key)
    return header


def csv_rows(text: str, source, required: tuple[str, ...]):
    """The rows of a CSV text with a header, as ``(line, {column: value})``: a column named
    twice, a missing required column, or a row with more values than the header is an
    :class:`InputError` naming the line (``csv.DictReader`` would keep the last of two equal
    columns and drop extra values silently).  Blank rows are skipped."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = unique_header(reader.fieldnames, source)
    except csv.Error as exc:
        raise InputError(f"invalid CSV: {exc}", source=source, line=1) from None
    reader.fieldnames = header
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}: expected a header with "
                         f"{', '.join(required)}", source=source, line=1)
    try:
        for row in reader:
            if None in row:
                raise InputError("more values than header columns", source=source,
                                 line=reader.line_num)
            if not any((v or "").strip() for v in row.values()):
                continue
            yield reader.line_num, row
    except csv.Error as exc:
        raise InputError(f"invalid CSV: {exc}", source=source, line=reader.line_num) from None
