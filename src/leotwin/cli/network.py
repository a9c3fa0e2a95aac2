"""``leotwin rtt``: round-trip times and paths between places through the constellation."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
import pyarrow as pa
import typer

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
)
from leotwin.cli.orbits import err, load_satellites
from leotwin.errors import InputError
from leotwin.export.positions import table_format
from leotwin.export.tables import write_table
from leotwin.geodesy import WGS72
from leotwin.ground.sites import check_mask
from leotwin.io.atomic import check_writable
from leotwin.io.budget import Estimate, check_budget
from leotwin.io.text import csv_rows, read_text
from leotwin.network.isl import (
    DEFAULT_GRAZING_KM,
    check_topology,
    max_isl_length_km,
    plus_grid,
)
from leotwin.network.placebook import PlaceBook
from leotwin.network.routing import Geometry, Router, rtt_ms
from leotwin.orbits.catalog import CATALOG
from leotwin.orbits.propagate import PropagationOptions, iter_propagate
from leotwin.timegrid.grid import TimeGrid

app = typer.Typer()
RTT_COLUMNS = ("time", "src", "dst", "rtt_ms", "hops", "path")
#: Hypatia's own cut-off settings for its two test shells (its main_*.py scripts): Kuiper-630
#: h = 630 km, ε = 30°; Starlink-550 with the cone radius fixed at 940.7 km (PHYSICS.md §4.3).
HYPATIA_PRESETS = {
    "hypatia-kuiper-630": Geometry.hypatia(630.0, 30.0),
    "hypatia-starlink-550": Geometry("hypatia", float(np.hypot(940.7, 550.0)),
                                     max_isl_length_km(550.0, DEFAULT_GRAZING_KM, WGS72.a_km),
                                     DEFAULT_GRAZING_KM),
}


class IslChoice(StrEnum):
    plus_grid = "plus-grid"
    none = "none"
    nearest_k = "nearest-k"


class GeometryChoice(StrEnum):
    standard = "standard"
    hypatia = "hypatia"


def read_pairs(path: Path) -> list[tuple[str, str, int]]:
    """Rows ``src,dst`` (header required) with their line numbers."""
    out = []
    for line, row in csv_rows(read_text(path), path, ("src", "dst")):
        src, dst = (row.get("src") or "").strip(), (row.get("dst") or "").strip()
        if not src or not dst:
            raise InputError("empty src or dst", source=path, line=line,
                             field="dst" if src else "src")
        out.append((src, dst, line))
    if not out:
        raise InputError("no pairs found", source=path)
    return out


# its options repeat other commands' on purpose (see cli.options)
@app.command()
def rtt(
    start: Start,
    duration: Duration,
    step: Step,
    out: Out,
    constellation: ConstellationName = None,
    tle: TleFile = None,
    omm: OmmFile = None,
    src: Annotated[str | None, typer.Option("--from", help="Place: city, 'lat,lon' or id.")
                   ] = None,
    dst: Annotated[str | None, typer.Option("--to", help="Place: city, 'lat,lon' or id.")
                   ] = None,
    pairs: Annotated[Path | None, typer.Option(help="CSV with columns src,dst.")] = None,
    isl: Annotated[IslChoice, typer.Option(help="Inter-satellite links.")] = "plus-grid",
    geometry: Annotated[GeometryChoice, typer.Option(help="standard (elevation masks) or "
                                                          "hypatia (Hypatia's cut-offs).")
                        ] = "standard",
    ground_stations: Annotated[Path | None, typer.Option(
        help="CSV of extra places (id, lat_deg, lon_deg).")] = None,
    min_elevation: MinElevation = 25.0,
    cross_plane_shift: Annotated[int, typer.Option(help="+Grid cross-plane slot shift.")] = 0,
    ignore_free_space: IgnoreFreeSpace = False,
) -> None:
    """Round-trip time (propagation only) and path between places, at every instant.

    Columns: time, src, dst, rtt_ms, hops, path (nodes joined by '-', satellites by sat_id;
    empty path and rtt_ms NaN when unreachable).
    """
    isl_name = check_topology(str(isl.value if hasattr(isl, "value") else isl))
    geo_name = str(geometry.value if hasattr(geometry, "value") else geometry)
    mask = check_mask(min_elevation)
    grid = TimeGrid.from_span(start, duration, step)
    table_format(out)
    check_writable(out)
    if pairs is not None and (src or dst):
        raise InputError("give --from/--to or --pairs, not both", source="--pairs")
    book = PlaceBook(ground_stations, mask)
    if pairs is not None:
        wanted = [(book.resolve(a, f"{pairs}, line {n}, src"),
                   book.resolve(b, f"{pairs}, line {n}, dst")) for a, b, n in read_pairs(pairs)]
    elif src and dst:
        wanted = [(book.resolve(src, "--from"), book.resolve(dst, "--to"))]
    else:
        raise InputError("give --from PLACE and --to PLACE, or --pairs FILE", source="--from")
    sats = load_satellites(constellation, tle, omm)
    n_rows = len(wanted) * grid.count  # rows are held as Python lists until written
    check_budget(Estimate(f"{n_rows:,} rows ({len(wanted)} pairs × {grid.count:,} instants)",
                          64 * n_rows, 300e6 + 400 * n_rows + 3_000 * len(sats)), out,
                 ignore_free_space=ignore_free_space)
    stations = book.stations()
    if geo_name == "hypatia":
        geo = HYPATIA_PRESETS.get(constellation or "")
        if geo is None:  # Hypatia's formula at the first satellite's mean altitude
            geo = Geometry.hypatia(float((sats.satrecs[0].a - 1.0) * WGS72.a_km), mask)
        options = PropagationOptions(geodetic=False, eop=None)
    else:
        geo = Geometry("standard")
        options = PropagationOptions(geodetic=False)
    if isl_name == "plus-grid":
        if constellation is None or constellation not in CATALOG:
            raise InputError("+Grid needs the plane structure of a built-in constellation: use "
                             "--constellation, or --isl nearest-k / none for TLE/OMM data",
                             source="--isl")
        edges = plus_grid(CATALOG[constellation], cross_plane_shift)
    elif isl_name == "none":
        edges = np.empty((0, 2), np.int64)
    else:
        edges = None
    router = Router(stations, len(sats), edges, geo)
    sources = sorted({s for s, _ in wanted})
    rows = {k: [] for k in RTT_COLUMNS}
    reachable = 0
    t0 = time.perf_counter()
    for block in iter_propagate(sats, grid, options):
        for t in range(block.grid.count):
            routes = router.step(block.r_km[:, t], sources)
            for s, d in wanted:
                k = sources.index(s)
                nodes = routes.path(k, d)
                rows["time"].append(int(block.grid.ns[t]))
                rows["src"].append(stations.ids[s])
                rows["dst"].append(stations.ids[d])
                if nodes:
                    reachable += 1
                    rows["rtt_ms"].append(float(rtt_ms(routes.length_km(k, d))))
                    rows["hops"].append(len(nodes) - 1)
                    rows["path"].append("-".join(
                        sats.ids[x] if isinstance(x, int) else stations.ids[x[1]]
                        for x in nodes))
                else:
                    rows["rtt_ms"].append(float("nan"))
                    rows["hops"].append(None)
                    rows["path"].append("")
    table = pa.table({
        "time": pa.array(rows["time"], type=pa.timestamp("ns", tz="UTC")),
        "src": pa.array(rows["src"], pa.string()), "dst": pa.array(rows["dst"], pa.string()),
        "rtt_ms": pa.array(rows["rtt_ms"], pa.float64()),
        "hops": pa.array(rows["hops"], pa.int32()), "path": pa.array(rows["path"], pa.string()),
    })
    write_table(out, table)
    total = len(rows["time"])
    rtts = np.array(rows["rtt_ms"])
    changes = sum(1 for k in range(len(wanted), total)
                  if rows["path"][k] != rows["path"][k - len(wanted)])
    note = (f"median RTT {np.nanmedian(rtts):.2f} ms" if reachable
            else "no pair was ever reachable: check the places, the elevation mask and --isl")
    err.print(f"wrote {total:,} rows ({len(wanted)} pairs × {grid.count:,} instants, "
              f"{reachable / max(total, 1):.1%} reachable; {note}; {changes} path changes) "
              f"to {out} in "
              f"{time.perf_counter() - t0:.1f} s")
