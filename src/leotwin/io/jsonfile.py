"""JSON files read strictly: a duplicate key, a syntax error, ``NaN``/``Infinity`` (not JSON,
though Python's reader accepts them), a number too large for a float, or nesting too deep is an
:class:`~leotwin.errors.InputError` naming the file and line (the standard library would keep
the last of two equal keys silently, read ``1e400`` as infinity, and recurse until
``RecursionError``)."""

from __future__ import annotations

import json

from leotwin.errors import InputError
from leotwin.io.text import bad_string


class _Duplicate(ValueError):
    pass


class _NotFinite(ValueError):
    pass


def _constant(name: str):
    raise _NotFinite(name)


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NotFinite(text)
    return value


def _unique(pairs: list[tuple[str, object]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


def _strings(value, source: str) -> None:
    """Refuse control characters and lone surrogates that escapes put into strings."""
    found = bad_string(value)
    if found:
        where, what = found
        field = ".".join(map(str, where)) or None
        raise InputError(f"{what} in a string: expected printable characters only",
                         source=source, field=field)


def load_json(text: str, source: str):
    """Parse ``text`` (from ``source``, for messages) into Python values."""
    value = _parse(text, source)
    _strings(value, source)
    return value


def _line_of(text: str, token: str, nth: int = 1) -> int | None:
    """The line of the ``nth`` occurrence of ``token`` in ``text`` (None: not found)."""
    at = -1
    for _ in range(nth):
        at = text.find(token, at + 1)
        if at < 0:
            return None
    return text.count("\n", 0, at) + 1


def _parse(text: str, source: str):
    try:
        return json.loads(text, object_pairs_hook=_unique, parse_constant=_constant,
                          parse_float=_float)
    except _NotFinite as exc:
        raise InputError(f"'{exc.args[0]}' is not a finite JSON number: expected a number "
                         "such as 51.64", source=source,
                         line=_line_of(text, exc.args[0])) from None
    except _Duplicate as exc:
        raise InputError(f"key '{exc.args[0]}' appears twice in one JSON object: keep one",
                         source=source, line=_line_of(text, f'"{exc.args[0]}"', 2)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", source=source, line=exc.lineno) from None
    except RecursionError:
        raise InputError("JSON nested too deeply to be a valid file of this kind",
                         source=source) from None
