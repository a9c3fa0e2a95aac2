"""``leotwin constellations`` and ``leotwin propagate``."""

from __future__ import annotations

import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

# the same option types as the other commands: see cli.options on why the lists repeat
from leotwin.cli.options import (
    ConstellationName,
    Duration,
    IgnoreFreeSpace,
    OmmFile,
    Out,
    Start,
    Step,
    TleFile,
    Workers,
)
from leotwin.errors import InputError
from leotwin.export.positions import table_format, write_positions
from leotwin.io.atomic import check_writable
from leotwin.io.budget import Estimate, check_budget
from leotwin.orbits.catalog import CATALOG, get_constellation
from leotwin.orbits.omm import load_omm
from leotwin.orbits.propagate import (
    PropagationOptions,
    block_instants,
    iter_propagate,
)
from leotwin.orbits.satellites import SatelliteSet
from leotwin.orbits.tle import load_tle
from leotwin.timegrid.grid import TimeGrid, ns_to_iso

app = typer.Typer()
err = Console(stderr=True, highlight=False, soft_wrap=True)


class FrameChoice(StrEnum):
    itrf = "itrf"
    teme = "teme"


@app.command()
def constellations() -> None:
    """List the built-in constellations: shells, satellite counts and sources."""
    table = Table(title="built-in constellations", show_lines=False)
    for col in ("name", "satellites", "shells (label: altitude or rev/day, inclination, P×S)",
                "source"):
        table.add_column(col)
    for c in CATALOG.values():
        shells = "; ".join(
            f"{s.name}: {s.altitude_km:g} km" if s.altitude_km is not None
            else f"{s.name}: {s.mean_motion_rev_day:g} rev/d"
            for s in c.shells
        )
        shells = "; ".join(
            f"{part}, {s.inclination_deg:g}°, {s.planes}×{s.sats_per_plane}"
            for part, s in zip(shells.split("; "), c.shells, strict=True)
        )
        table.add_row(c.name, f"{c.size:,}", shells, c.sources)
    Console(width=max(160, Console().width)).print(table)


def load_satellites(constellation: str | None, tle: Path | None, omm: Path | None
                    ) -> SatelliteSet:
    """Exactly one of a built-in name, a TLE file or an OMM file."""
    given = [x for x in (constellation, tle, omm) if x is not None]
    if len(given) != 1:
        raise InputError("give exactly one of --constellation NAME, --tle FILE or --omm FILE",
                         source="satellites")
    if constellation is not None:
        return get_constellation(constellation).satellites()
    if tle is not None:
        return load_tle(tle)
    return load_omm(omm)


# its options repeat other commands' on purpose (see cli.options)
@app.command()
def propagate(
    out: Out,
    start: Start,
    duration: Duration,
    step: Step,
    constellation: ConstellationName = None,
    tle: TleFile = None,
    omm: OmmFile = None,
    frame: Annotated[FrameChoice, typer.Option(help="Frame of x/y/z and vx/vy/vz.")] = "itrf",
    workers: Workers = 1,
    ignore_free_space: IgnoreFreeSpace = False,
) -> None:
    """Propagate satellites with SGP4 and write positions (ITRF or TEME, plus WGS-84 lat/lon/alt).

    Columns: sat_id, time, x_km, y_km, z_km, vx_km_s, vy_km_s, vz_km_s, lat_deg, lon_deg, alt_km.
    """
    frame_name = frame.value if isinstance(frame, FrameChoice) else str(frame)
    table_format(out)
    grid = TimeGrid.from_span(start, duration, step)
    check_writable(out)  # fail before the work when the folder cannot be written
    sats = load_satellites(constellation, tle, omm)
    states = len(sats) * grid.count
    per_row = 160 if table_format(out) == "csv" else 64  # bytes, measured (RESULTS.md, #13)
    estimate = Estimate(f"{states:,} states ({len(sats):,} satellites × {grid.count:,} "
                        f"instants)", states * per_row, 300e6 + 3_000 * len(sats)
                        + 200 * block_instants(len(sats)) * len(sats))
    check_budget(estimate, out, ignore_free_space=ignore_free_space)
    options = PropagationOptions(frame=frame_name)
    t0 = time.perf_counter()
    errors: dict[str, dict] = {}

    def blocks():
        step_n = block_instants(len(sats))
        total = -(-grid.count // step_n)
        show = sys.stderr.isatty()
        for k, block in enumerate(iter_propagate(sats, grid, options, workers=workers)):
            for item in block.error_summary():
                errors.setdefault(item["sat_id"], item)
            if show:
                err.print(f"\rpropagating: block {k + 1}/{total} ({estimate.describe()})",
                          end="")
            yield block
        if show:
            err.print()

    rows = write_positions(out, blocks())
    seconds = time.perf_counter() - t0
    for item in list(errors.values())[:20]:
        err.print(f"warning: satellite {item['sat_id']}: SGP4 error {item['code']} "
                  f"({item['message']}) from {item['first_time']}; those states are left out")
    if len(errors) > 20:
        err.print(f"warning: {len(errors) - 20} more satellites had SGP4 errors")
    states = len(sats) * grid.count
    err.print(
        f"wrote {rows:,} rows ({len(sats):,} satellites × {grid.count:,} instants from "
        f"{ns_to_iso(grid.start_ns)}, frame {frame_name}) to {out} in {seconds:.2f} s "
        f"({states / max(seconds, 1e-9) / 1e6:.2f} M states/s)"
    )
