"""``leotwin regions``, ``leotwin coverage`` and ``leotwin passes``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import h3
import numpy as np
import pyarrow as pa
import typer
from rich.console import Console
from rich.table import Table

from leotwin.analysis.coverage import coverage as compute_coverage

# the same option types as the other commands: see cli.options on why the lists repeat
from leotwin.cli.options import (
    ConstellationName,
    Duration,
    IgnoreFreeSpace,
    MinElevation,
    OmmFile,
    Out,
    Start,
    Step,
    TleFile,
    Workers,
)
from leotwin.cli.orbits import err, load_satellites
from leotwin.errors import InputError
from leotwin.export.tables import write_table
from leotwin.ground.cells import check_resolution, cover
from leotwin.ground.regions import countries, resolve_region
from leotwin.ground.sites import check_altitude, check_mask, check_position
from leotwin.io.atomic import check_writable
from leotwin.io.budget import Estimate, check_budget
from leotwin.links.passes import PASS_COLUMNS, find_passes
from leotwin.timegrid.grid import TimeGrid, ns_to_iso, parse_duration

app = typer.Typer()
regions_app = typer.Typer(help="Countries and zones: list codes, or show one region.",
                          invoke_without_command=True)


@regions_app.callback()
def regions(ctx: typer.Context) -> None:
    """List every built-in region (ISO 3166-1 codes and Natural Earth names)."""
    if ctx.invoked_subcommand is not None:
        return
    table = Table(title="regions (Natural Earth 1:50m; also: 'land' or a GeoJSON file)")
    for col in ("code", "alpha-3", "name"):
        table.add_column(col)
    for r in sorted(countries().regions, key=lambda r: r.code):
        table.add_row(r.iso_a2 or "—", r.iso_a3 or "—", r.name)
    Console().print(table)


@regions_app.command("show")
def regions_show(
    region: Annotated[str, typer.Argument(help="ISO code (UA, UKR), name, 'land' or GeoJSON.")],
    h3_res: Annotated[int, typer.Option("--h3-res", help="H3 resolution of the cover.")] = 5,
) -> None:
    """Area and H3 cell count of one region."""
    check_resolution(h3_res)
    r = resolve_region(region, option="REGION")
    cells = cover(r, h3_res)
    west, south, east, north = r.bounds
    Console().print(
        f"{r.name} ({r.iso_a2 or r.code}{'/' + r.iso_a3 if r.iso_a3 else ''})\n"
        f"  area: {r.area_km2:,.0f} km² (geodesic, WGS-84)\n"
        f"  H3 res {h3_res} cells: {len(cells):,} covering {cells.area_km2.sum():,.0f} km²\n"
        f"  bounds: lon {west:.3f} … {east:.3f}, lat {south:.3f} … {north:.3f}\n"
        f"  source: {r.source}", highlight=False)


# its options repeat other commands' on purpose (see cli.options)
@app.command()
def coverage(
    region: Annotated[str, typer.Option(help="ISO code (UA, UKR, TW), name, 'land' or GeoJSON.")],
    start: Start,
    duration: Duration,
    step: Step,
    out: Out,
    constellation: ConstellationName = None,
    tle: TleFile = None,
    omm: OmmFile = None,
    min_elevation: MinElevation = 25.0,
    h3_res: Annotated[int, typer.Option("--h3-res", help="H3 resolution of the cells.")] = 5,
    workers: Workers = 1,
    ignore_free_space: IgnoreFreeSpace = False,
) -> None:
    """Per H3 cell of a region: covered fraction, mean/min/max visible satellites, longest gap.

    Columns: h3_cell, lat_deg, lon_deg, covered_fraction, mean_visible, min_visible,
    max_visible, max_gap_s.  A summary of the region is printed as JSON.
    """
    mask = check_mask(min_elevation)
    check_resolution(h3_res)
    grid = TimeGrid.from_span(start, duration, step)
    check_writable(out)
    _table_format(out)
    r = resolve_region(region)
    # cells estimated from the area before any is made (H3's mean hexagon area at h3_res)
    n_cells = int(r.area_km2 / h3.average_hexagon_area(h3_res, "km^2")) + 1
    check_budget(Estimate(f"about {n_cells:,} cells × {grid.count:,} instants", 48 * n_cells,
                          300e6 + 600 * n_cells), out, ignore_free_space=ignore_free_space)
    cells = cover(r, h3_res)
    if len(cells) == 0:
        raise InputError(f"region '{region}' holds no H3 cell centre at resolution {h3_res}: "
                         "use a finer --h3-res", source="--region")
    sats = load_satellites(constellation, tle, omm)
    t0 = time.perf_counter()
    result = compute_coverage(sats, cells, grid, mask, workers=workers)
    write_table(out, result.table())
    summary = {"region": r.name, "code": r.iso_a2 or r.code, "h3_res": h3_res,
               "satellites": len(sats), **result.summary(),
               "seconds": round(time.perf_counter() - t0, 2), "out": str(out)}
    Console().print_json(json.dumps(summary))


# its options repeat other commands' on purpose (see cli.options)
@app.command()
def passes(
    lat: Annotated[float, typer.Option(help="Site latitude, degrees.")],
    lon: Annotated[float, typer.Option(help="Site longitude, degrees.")],
    start: Start,
    duration: Duration,
    out: Out,
    constellation: ConstellationName = None,
    tle: TleFile = None,
    omm: OmmFile = None,
    alt_m: Annotated[float, typer.Option(help="Site height above WGS-84, metres.")] = 0.0,
    min_elevation: MinElevation = 25.0,
    sample: Annotated[str, typer.Option(help="Coarse sampling step before refinement.")] = "10s",
    workers: Workers = 1,
) -> None:
    """Rise, culmination and set times above the mask for every satellite over a site.

    Columns: sat_id, rise_time, culmination_time, set_time, max_elevation_deg (times UTC, empty
    when the pass is already up at the start or still up at the end of the window).
    """
    check_position(lat, lon)
    check_altitude(alt_m)
    mask = check_mask(min_elevation)
    sample_ns = parse_duration(sample, source="--sample")
    if not 0 < sample_ns <= 60 * 10**9:
        raise InputError("expected a sampling step between 1 ns and 60 s", source="--sample")
    grid = TimeGrid.from_span(start, duration, sample_ns)
    check_writable(out)
    _table_format(out)
    sats = load_satellites(constellation, tle, omm)
    found = find_passes(sats, lat, lon, alt_m / 1000.0, grid, mask, workers=workers)

    def times(key):
        return pa.array([p[key] for p in found], type=pa.timestamp("ns", tz="UTC"))

    table = pa.table({
        "sat_id": pa.array([p["sat_id"] for p in found], type=pa.string()),
        "rise_time": times("rise_time"), "culmination_time": times("culmination_time"),
        "set_time": times("set_time"),
        "max_elevation_deg": pa.array([p["max_elevation_deg"] for p in found], pa.float64()),
    })
    assert tuple(table.column_names) == PASS_COLUMNS
    write_table(out, table)
    peak = max((p["max_elevation_deg"] for p in found), default=float("nan"))
    err.print(f"wrote {len(found):,} passes of {len(sats):,} satellites over "
              f"({lat:.4f}, {lon:.4f}) above {mask:g}° to {out} "
              f"(highest {np.round(peak, 2)}°)")


def _table_format(out: Path) -> str:
    from leotwin.export.positions import table_format

    return table_format(out)


@app.command()
def sites(
    path: Annotated[Path | None, typer.Argument(help="CSV of sites (id, lat_deg, lon_deg, …).")
                    ] = None,
    kind: Annotated[str, typer.Option(help="terminal, gateway or pop.")] = "terminal",
    tracks: Annotated[bool, typer.Option(help="The CSV holds timed waypoints "
                                               "(terminal_id,time,lat_deg,lon_deg[,alt_m]).")
                      ] = False,
) -> None:
    """Check a ground-site or track CSV and summarise it (or the bundled gateways and PoPs).

    Without a file: the bundled Starlink gateways (``--kind gateway``) or PoPs (``--kind pop``).
    """
    from leotwin.ground.sites import gateways, load_sites_csv, load_tracks_csv, pops

    if kind not in ("terminal", "gateway", "pop"):
        raise InputError(f"unknown kind '{kind}': expected terminal, gateway or pop",
                         source="--kind")
    console = Console(highlight=False)
    if tracks:
        if path is None:
            raise InputError("give the track CSV file", source="PATH")
        found = load_tracks_csv(path)
        table = Table(title=f"{len(found)} moving terminals in {path}")
        for col in ("terminal", "waypoints", "from", "to", "max speed km/h"):
            table.add_column(col)
        for tr in found:
            t = np.linspace(tr.time_ns[0], tr.time_ns[-1], 200).astype(np.int64)
            table.add_row(tr.terminal_id, str(len(tr.time_ns)),
                          ns_to_iso(int(tr.time_ns[0])), ns_to_iso(int(tr.time_ns[-1])),
                          f"{tr.at(t)[3].max():.1f}")
        console.print(table)
        return
    if path is None:
        if kind == "terminal":
            raise InputError("give a terminal CSV, or --kind gateway / pop for the bundled "
                             "lists", source="PATH")
        s = gateways() if kind == "gateway" else pops()
    else:
        s = load_sites_csv(path, kind)
    idx = countries().lookup(s.lat_deg, s.lon_deg)
    names = [countries().regions[i].code if i >= 0 else "—" for i in idx]
    by_country: dict[str, int] = {}
    for n in names:
        by_country[n] = by_country.get(n, 0) + 1
    top = ", ".join(f"{k} {v}" for k, v in sorted(by_country.items(), key=lambda kv: -kv[1])[:12])
    console.print(f"{len(s):,} {kind} sites ({path or 'bundled'}): lat {s.lat_deg.min():.3f} … "
                  f"{s.lat_deg.max():.3f}, lon {s.lon_deg.min():.3f} … {s.lon_deg.max():.3f}; "
                  f"elevation masks {s.min_elevation_deg.min():g}–{s.min_elevation_deg.max():g}°"
                  f"\nby country: {top}")
