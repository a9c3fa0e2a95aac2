"""Everything a run needs, read and checked before any work, and what the run will cost.

:func:`preflight` reads every file the scenario names (the TLE/OMM file, GeoJSON zones, the
gateway and PoP tables), checks what only a run would otherwise find (a +Grid on TLE data),
and estimates the output and memory of the run from its sizes alone.  ``leotwin run`` refuses
what does not fit (``io.budget``) and ``leotwin policy check`` prints the estimate, so a
scenario that passes ``policy check`` starts.

Bytes per row were measured on the built-in ``ukraine-2026`` run (benchmarks/RESULTS.md,
"#13"): per-instant decisions 4.3 B on disk, RTT 42 B, coverage 30 B, positions 73 B (the
small test scenario); the figures below round them up.  Since #14 the memory of a run no
longer grows with terminals × instants: it holds the sky of each *site* (``sim.sites``) at
each instant, and decision intervals.
"""

from __future__ import annotations

import h3

from leotwin.errors import InputError
from leotwin.ground.sites import gateways, pops
from leotwin.io.budget import Estimate
from leotwin.io.yamlfile import line_at
from leotwin.orbits.catalog import get_constellation
from leotwin.sim.load import LoadedScenario
from leotwin.timegrid.grid import parse_duration

#: output bytes per row of each table (rounded up from the measured figures); decisions are
#: intervals, ``decision_instants`` the per-instant rows written on request
OUT_BYTES = {"decisions": 16, "decision_instants": 8, "rtt": 64, "coverage": 48,
             "terminals": 48, "positions": 96, "cells": 48}
#: the files of fixed size: summary, regions, policy log, report.html with its figures
FIXED_OUT_BYTES = 2e6
#: peak memory bytes per row or object while a run holds and writes it; ``site_instant``:
#: the sky of one site at one instant (in view, path to the PoP) with its copy in the shards'
#: plan; ``terminal``: a terminal's registry record, engine arrays and shard state
MEMORY_BYTES = {"decisions": 60, "rtt": 400, "coverage": 400, "terminal": 4_000,
                "satellite": 3_000, "site_instant": 4, "waypoint": 96}
BASE_MEMORY = 300e6  # the interpreter, numpy, pyarrow, the bundled tables
#: per-instant rows are written a row group at a time (``export.decisions``)
INSTANT_ROWS_MEMORY = 200e6
#: decision intervals per terminal: one, and one more per this many instants (measured on
#: the built-in Ukraine scenarios: 1.5 per terminal over 480 instants, 1.1 over 240)
INSTANTS_PER_CHANGE = 240


def satellite_count(loaded: LoadedScenario) -> int:
    """How many satellites the scenario's constellation holds; TLE/OMM files are read (and so
    validated) here, Walker shells only counted."""
    s = loaded.scenario
    c = s.constellation
    if c.builtin is not None:
        return get_constellation(c.builtin).size
    if c.shells is not None:
        return sum(shell.size for shell in c.shells)
    if s.network.isl == "plus-grid":
        raise InputError("+Grid needs a built-in constellation's planes: use isl: nearest-k or "
                         "none with TLE/OMM data", source=loaded.source,
                         line=line_at(loaded.raw, ("network", "isl")), field="network.isl")
    return len(loaded.satellite_file or ())


def _files(loaded: LoadedScenario) -> None:
    """Read the gateway and PoP tables a scenario names (errors name the scenario's line)."""
    g = loaded.scenario.ground
    for key in ("gateways", "pops"):
        value = getattr(g, key)
        if value == "bundled":
            continue
        path = loaded.path(value)
        if not path.is_file():
            raise InputError(f"file '{value}' not found (paths are relative to the scenario)",
                             source=loaded.source, line=line_at(loaded.raw, ("ground", key)),
                             field=f"ground.{key}")
        (gateways if key == "gateways" else pops)(path)


def preflight(loaded: LoadedScenario) -> Estimate:
    """Read and check the scenario's files; the run's estimate (satellites × instants, rows)."""
    s = loaded.scenario
    grid = loaded.grid()
    satellites = satellite_count(loaded)
    _files(loaded)
    engine = loaded.zone_engine  # builds every zone: bad GeoJSON fails here
    terminals = len(s.terminals) + sum(loaded.population_count(k)
                                       for k in range(len(s.ground.populations)))
    hexagon = h3.average_hexagon_area(s.ground.h3_res, "km^2")
    cells = sum(int(engine.region(r).area_km2 / hexagon) + 1 for r in s.ground.regions)
    movers, waypoints = _movers(loaded)
    fixed = terminals - movers
    # an upper bound of the fixed sites, and a site of its own for every moving terminal
    sites = (min(fixed, cells * 4 + fixed // 4) if fixed else 0) + movers
    bins = 1 + grid.count * grid.step_ns // max(1, parse_duration(s.outputs.cells_every))
    rows = {"decisions": terminals * (1 + grid.count // INSTANTS_PER_CHANGE),
            "decision_instants": (grid.count * terminals
                                  if s.outputs.decisions == "instants" else 0),
            "rtt": grid.count * len(s.network.rtt_terminals), "coverage": cells,
            "terminals": terminals, "cells": min(terminals, sites) * 3 * bins,
            "positions": grid.count * satellites if s.outputs.positions else 0}
    out = FIXED_OUT_BYTES + sum(OUT_BYTES[k] * n for k, n in rows.items())
    memory = (BASE_MEMORY + MEMORY_BYTES["decisions"] * rows["decisions"]
              + (INSTANT_ROWS_MEMORY if rows["decision_instants"] else 0)
              + MEMORY_BYTES["site_instant"] * sites * grid.count
              + MEMORY_BYTES["rtt"] * rows["rtt"] + MEMORY_BYTES["coverage"] * cells
              + MEMORY_BYTES["terminal"] * terminals + MEMORY_BYTES["satellite"] * satellites
              + MEMORY_BYTES["waypoint"] * waypoints)
    work = (f"{satellites * grid.count:,} states ({satellites:,} satellites × {grid.count:,} "
            f"instants), {grid.count * terminals:,} decisions")
    return Estimate(work, out, memory)


def _movers(loaded: LoadedScenario) -> tuple[int, int]:
    """How many terminals move (``sim.movers``: a speed and a motion other than ``fixed``;
    tracked ones are counted with their terminal), and how many waypoints their random walks
    hold (orbits and straight lines hold none or two)."""
    s = loaded.scenario
    hours = parse_duration(s.time.duration) / 3.6e12
    movers = waypoints = 0
    moving = [(t.speed_kmh, t.motion, 1) for t in s.terminals]
    moving += [(p.speed_kmh, p.motion, loaded.population_count(k))
               for k, p in enumerate(s.ground.populations)]
    for speed, motion, n in moving:
        path = motion.path if motion is not None else "random-walk"
        if speed <= 0 or path == "fixed":
            continue
        movers += n
        if path == "random-walk":
            leg = motion.leg_km if motion is not None else 5.0
            waypoints += n * (2 + int(hours * speed / leg))
    return movers, waypoints
