"""``leotwin capacity``: a capacity study of a region and window, without a scenario."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import pyarrow as pa
import typer

# the same option types as the other commands: see cli.options on why the lists repeat
from leotwin.cli.options import Duration, Out, Start, Step
from leotwin.cli.orbits import err
from leotwin.errors import InputError
from leotwin.export.positions import table_format
from leotwin.export.tables import write_table
from leotwin.ground.regions import resolve_region
from leotwin.ground.sites import check_mask
from leotwin.io.atomic import check_writable
from leotwin.io.budget import Estimate, check_budget
from leotwin.orbits.catalog import CATALOG
from leotwin.timegrid.grid import TimeGrid
from leotwin.traffic.demand import PLANS
from leotwin.traffic.slot import KINDS
from leotwin.traffic.supply import PROFILES

app = typer.Typer()


@app.command()
def capacity(
    region: Annotated[str, typer.Option(help="ISO 3166 code, country name or GeoJSON zone.")],
    start: Start,
    duration: Duration,
    out: Out,
    step: Step = "15s",
    terminals: Annotated[int | None, typer.Option(
        help="Terminals placed by population (default: 9 M customers' share of the "
             "country's residents).", min=1)] = None,
    plan: Annotated[str, typer.Option(help="Every terminal's plan.")] = "residential",
    constellation: Annotated[str, typer.Option(
        help="Built-in constellation (see 'leotwin constellations').")] = "starlink-2026",
    profile: Annotated[str, typer.Option(
        help=f"Satellite profile where the shells name none: {', '.join(PROFILES)}.")
                       ] = "v1.5",
    demand_scale: Annotated[float, typer.Option(help="Multiplies every demand.", min=0.0)
                            ] = 1.0,
    min_elevation: Annotated[float, typer.Option(help="Elevation mask, degrees.")] = 25.0,
    seed: Annotated[int, typer.Option(help="Seed of the terminals' placement.")] = 0,
) -> None:
    """Supply, demand and allocation per H3 cell and instant for terminals placed by
    population in a region (no scenario needed).

    Columns: see docs/guide/capacity.md.  The summary line (JSON on standard output) gives the
    terminal-weighted busy-hour download/upload p20/p50/p80 of a speed test (Mbps).
    """
    from leotwin.sim.study import COLUMNS, run_study, study_terminals, summary

    if plan not in PLANS:
        raise InputError(f"unknown plan '{plan}': expected one of {', '.join(PLANS)}",
                         source="--plan")
    if constellation not in CATALOG:
        raise InputError(f"unknown constellation '{constellation}': expected one of "
                         f"{', '.join(CATALOG)}", source="--constellation")
    if profile not in PROFILES:
        raise InputError(f"unknown profile '{profile}': expected one of {', '.join(PROFILES)}",
                         source="--profile")
    mask = check_mask(min_elevation)
    grid = TimeGrid.from_span(start, duration, step)
    table_format(out)
    check_writable(out)
    area = resolve_region(region)
    lat, lon = study_terminals(area, terminals, seed)
    cells_hint = min(len(lat), max(1, int(area.area_km2 / 252.0)))
    n_rows = cells_hint * grid.count
    check_budget(Estimate(f"{n_rows:,} rows (≤ {cells_hint:,} cells × {grid.count:,} "
                          "instants)", 80 * n_rows,
                          400e6 + 200 * n_rows + 16 * len(lat) * grid.count), out)
    t0 = time.perf_counter()
    study = run_study(lat, lon, grid, constellation=constellation, plan=plan, mask_deg=mask,
                      profile=profile, demand_scale=demand_scale)
    t = study.table
    cols = {}
    for name in COLUMNS:
        v = t[name]
        if name == "time_ns":
            cols["time"] = pa.array(v, type=pa.timestamp("ns", tz="UTC"))
        elif name == "cell":
            cols["cell"] = pa.array([format(int(c), "x") for c in v], pa.string())
        elif name == "bottleneck_down":
            cols[name] = pa.array([KINDS[k] if k >= 0 else None for k in v], pa.string())
        else:
            cols[name] = pa.array(v)
    write_table(out, pa.table(cols))
    result = {"region": area.code, "terminals": len(lat), **summary(study)}
    print(json.dumps({k: (round(v, 2) if isinstance(v, float) else v)
                      for k, v in result.items()}))
    err.print(f"wrote {len(t['cell']):,} rows ({int(np.unique(t['cell']).size):,} cells × "
              f"{grid.count:,} instants) to {Path(out)} in {time.perf_counter() - t0:.1f} s")
