"""Optional dependencies: which ``pip install 'leotwin[EXTRA]'`` a feature needs.

The core (orbits → ground/links → network → policy → sim, the CLI, Parquet results) installs
only what it imports.  The control plane, the Dask backend, the HTML report and the CZML export
are extras; a command that needs a missing one says which to install, in one line (exit 2),
before any work begins.
"""

from __future__ import annotations

import importlib.util

from leotwin.errors import InputError

#: extra → the top-level modules it provides
EXTRAS: dict[str, tuple[str, ...]] = {
    "controlplane": ("fastapi", "starlette", "uvicorn", "platformdirs"),
    "dask": ("dask", "distributed"),
    "report": ("matplotlib",),
    "export": ("czml3",),
}


def missing(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here."""
    out = []
    for name in EXTRAS[extra]:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            out.append(name)
    return out


def require(extra: str, feature: str, *, alternative: str = "") -> None:
    """Raise :class:`InputError` naming the extra when ``feature`` cannot run here."""
    gone = missing(extra)
    if gone:
        also = f", or {alternative}" if alternative else ""
        raise InputError(f"{feature} needs the optional dependencies of leotwin[{extra}] "
                         f"({', '.join(gone)} not installed): pip install "
                         f"'leotwin[{extra}]'{also}")
