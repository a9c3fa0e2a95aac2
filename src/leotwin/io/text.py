"""Reading a user's text file: one clear line for every way it can fail."""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from leotwin.errors import InputError


def read_text(path: str | PathLike[str]) -> str:
    """The file's text (UTF-8, a byte-order mark tolerated), or an :class:`InputError` naming
    the file: not found, a directory, no permission, or not UTF-8 text."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", source=path) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", source=path) from None
    except PermissionError:
        raise InputError("cannot read the file: permission denied", source=path) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start}): expected a text file",
                         source=path) from None


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
