"""JSON files read strictly: a duplicate key, a syntax error or nesting too deep is an
:class:`~leotwin.errors.InputError` naming the file and line (the standard library would keep
the last of two equal keys silently, and recurse until ``RecursionError``)."""

from __future__ import annotations

import json

from leotwin.errors import InputError


class _Duplicate(ValueError):
    pass


def _unique(pairs: list[tuple[str, object]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


def load_json(text: str, source: str):
    """Parse ``text`` (from ``source``, for messages) into Python values."""
    try:
        return json.loads(text, object_pairs_hook=_unique)
    except _Duplicate as exc:
        raise InputError(f"key '{exc.args[0]}' appears twice in one JSON object: keep one",
                         source=source) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", source=source, line=exc.lineno) from None
    except RecursionError:
        raise InputError("JSON nested too deeply to be a valid file of this kind",
                         source=source) from None
