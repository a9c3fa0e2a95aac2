"""Command-line options shared by several ``leotwin`` commands (declared once).

typer reads each command's options from its function signature, so commands that take the
same options (a time window, a constellation source, an output) list these types again in
their signatures and imports; ``duplicates`` reports those lists, and they are kept on purpose:
a shared decorator or ``**kwargs`` would hide the options from ``--help`` and the reference.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Out = Annotated[Path, typer.Option("--out", help="Output file, .parquet or .csv.")]
Start = Annotated[str, typer.Option(help="First instant, ISO 8601 UTC: 2026-01-01T00:00Z.")]
Duration = Annotated[str, typer.Option(help="Span, e.g. 90m, 24h, 2d (half-open).")]
Step = Annotated[str, typer.Option(help="Step, e.g. 100ms, 15s, 60s.")]
ConstellationName = Annotated[str | None, typer.Option(
    "--constellation", help="Built-in constellation (see 'leotwin constellations').")]
TleFile = Annotated[Path | None, typer.Option("--tle", help="TLE or 3LE file.")]
OmmFile = Annotated[Path | None, typer.Option(
    "--omm", help="OMM file: .json, .csv, .xml or .kvn.")]
Workers = Annotated[int, typer.Option(help="Processes (1 = serial).", min=1, max=64)]
MinElevation = Annotated[float, typer.Option(help="Elevation mask, degrees, in [0, 90).")]
IgnoreFreeSpace = Annotated[bool, typer.Option(
    help="Start even when the estimated output exceeds the free disk space (never when it "
         "exceeds the memory available).")]
