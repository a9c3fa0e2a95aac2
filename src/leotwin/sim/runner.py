"""Run a scenario: propagate, cover, route, decide, detect; write one results directory.

A run has two passes, each a map over independent pieces on a backend (``sim.backends``:
``serial``, ``process`` on local cores, ``dask``), so every backend produces identical tables:

1. the **sky**, in chunks of instants (``sim.chunks``): SGP4 positions, the coverage tallies,
   every site's serving satellite, satellite in view and path to its PoP (``sim.sites``: per
   H3 service cell or per terminal), and the routed terminals' RTTs;
2. the **decisions**, in shards of terminals (``sim.shards``): policy decisions and detection
   rules, which carry state from instant to instant, recorded as decision intervals;
3. with a ``capacity`` section, the **capacity**, in blocks of scheduler slots
   (``sim.capacity``): who is allowed demands, and the supply is allocated by tier.

The results directory is written under a temporary sibling name and renamed at the end
(``io.atomic.atomic_directory``): an error or Ctrl-C leaves no partial directory, and an
existing one is replaced only with ``overwrite``.
"""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path

import numpy as np

from leotwin.errors import InputError
from leotwin.export import decisions
from leotwin.export import results as tables
from leotwin.extras import require
from leotwin.io.atomic import atomic_directory, output_lock
from leotwin.io.budget import check_budget
from leotwin.policy.intervals import DecisionIntervals
from leotwin.policy.run import enforcement
from leotwin.policy.vocabulary import STATUS_CODE, STATUSES
from leotwin.sim.assemble import RunInputs, assemble, satellites_of, terminals_of
from leotwin.sim.backends import BACKENDS, Backend, check_backend
from leotwin.sim.capacity import (
    capacity_block,
    capacity_instants,
    capacity_plan,
    merge_series,
    merge_sums,
)
from leotwin.sim.capacity_summary import capacity_summary
from leotwin.sim.chunks import CHUNK_STATES, compute_chunk
from leotwin.sim.clusters import place_conditions
from leotwin.sim.load import LoadedScenario
from leotwin.sim.preflight import preflight
from leotwin.sim.shards import SHARD_TERMINALS, CellRuns, ShardPlan, decide_shard, merge
from leotwin.timegrid.grid import NS_PER_S, TimeGrid, ns_to_iso, parse_duration

__all__ = ["BACKENDS", "CHUNK_STATES", "peak_rss_mib", "run_scenario", "satellites_of",
           "terminals_of"]


def run_scenario(loaded: LoadedScenario, out: Path, *, backend: str = "serial",
                 workers: int = 2, scheduler: str | None = None, overwrite: bool = False,
                 progress=None, report: bool | None = None,
                 ignore_free_space: bool = False,
                 shard_terminals: int = SHARD_TERMINALS) -> dict:
    """Run and write ``out``; returns the summary.

    ``report``: write ``report.html`` (needs the ``report`` extra); None takes the scenario's
    ``outputs.report``.  Before any work the scenario's files are read and the run's output
    and memory are estimated (``sim.preflight``): a run that would not fit the memory
    available, or the free space beside ``out`` (unless ``ignore_free_space``), is refused.
    ``shard_terminals``: terminals per shard of the decision pass (``sim.shards``; the tables
    never depend on it).
    """
    check_backend(backend)
    report = loaded.scenario.outputs.report if report is None else report
    if backend == "dask":
        require("dask", "--backend dask", alternative="use --backend process")
    if report:
        require("report", "report.html", alternative="run with --no-report")
    out = Path(out)
    if not out.parent.exists():
        raise InputError(f"folder '{out.parent}' does not exist", source="--out")
    estimate = preflight(loaded)
    check_budget(estimate, out, ignore_free_space=ignore_free_space, source=loaded.source)
    with output_lock(out):  # a second run to ``out`` fails now, and never replaces this one
        if out.exists() and not overwrite:
            raise InputError(f"'{out}' exists: choose another --out or pass --overwrite",
                             source="--out")
        return _run(loaded, out, estimate, backend, workers, scheduler, progress, report,
                    shard_terminals)


def _run(loaded: LoadedScenario, out: Path, estimate, backend: str, workers: int,
         scheduler: str | None, progress, report: bool, shard_terminals: int) -> dict:
    t_start = time.perf_counter()
    s = loaded.scenario
    grid = loaded.grid()
    inputs = assemble(loaded)
    clock = {"assemble": time.perf_counter()}
    sats, k = inputs.sats, len(inputs.terminals)
    n_sites = inputs.sites.columns if inputs.sites is not None else 0
    site_in_view = np.zeros((grid.count, n_sites), dtype=bool)
    site_path_ok = np.ones((grid.count, n_sites), dtype=bool)
    routed_ok = np.ones((grid.count, len(inputs.plan.rtt_ids)), dtype=bool)
    tallies: list = [None] * len(inputs.cells)
    rtt = tables.RttRows()
    bounds = inputs.plan.bounds()
    inputs.plan.record = capacity_instants(loaded, grid)  # the links the capacity pass reuses
    links: dict[int, tuple] = {}
    with atomic_directory(out) as tmp, Backend(backend, workers, scheduler) as pool:
        positions = tables.PositionsWriter(tmp) if s.outputs.positions else None
        try:
            if progress:
                progress.start(len(bounds), len(sats), grid.count, estimate, terminals=k)
            # 1. the sky, in chunks of instants (pure: any backend)
            for chunk in pool.map(compute_chunk, bounds, inputs.plan):
                for j, tally in enumerate(chunk.tallies):
                    tallies[j] = tally if tallies[j] is None else tallies[j].then(tally)
                rows = slice(chunk.start, chunk.start + chunk.site_in_view.shape[0])
                site_in_view[rows], site_path_ok[rows] = chunk.site_in_view, chunk.site_path_ok
                routed_ok[rows] = chunk.routed_ok
                links.update(chunk.links)
                rtt.extend(chunk.rtt)
                if positions is not None:
                    positions.add(sats, grid, chunk.start, chunk.r, chunk.v)
                if progress:
                    progress.advance(chunk.site_in_view.shape[0])
            clock["sky"] = time.perf_counter()
            # 2. decisions and detection, in shards of terminals (stateful per terminal)
            ids = [t.id for t in inputs.terminals]
            shard_plan = ShardPlan(
                inputs.engine, ids, inputs.lat, inputs.lon, inputs.alt_m, inputs.speeds,
                grid.ns, grid.step_ns / NS_PER_S,
                inputs.sites.site_of if inputs.sites is not None else np.zeros(0, np.int64),
                site_in_view, site_path_ok, inputs.rtt_pos, routed_ok,
                place_conditions(inputs.engine, inputs.lat, inputs.lon, ids, inputs.movers,
                                 grid.ns), shard_terminals,
                inputs.movers if len(inputs.movers) else None)
            shards = shard_plan.bounds()
            if progress:
                progress.decide(len(shards))
            results = []
            for result in pool.map(decide_shard, shards, shard_plan):
                results.append(result)
                if progress:
                    progress.decided()
        except BaseException:
            if positions is not None:  # its file is closed now, before the folder goes
                positions.discard()
            raise
        if positions is not None:
            positions.close()
        clock["decide"] = time.perf_counter()
        intervals, deactivations, cell_runs = merge(results, k, grid.count)
        capacity = _capacity(tmp, loaded, inputs, intervals, cell_runs, links, pool)
        if capacity is not None:
            clock["capacity"] = time.perf_counter()
        summary = _write_results(tmp, loaded, inputs, grid, tallies, intervals, deactivations,
                                 cell_runs, rtt, backend, workers, capacity)
        summary["seconds"] = round(time.perf_counter() - t_start, 2)
        marks = [t_start, *clock.values(), time.perf_counter()]
        summary["phase_seconds"] = {name: round(b - a, 2) for name, a, b in zip(
            [*clock, "write"], marks[:-1], marks[1:], strict=True)}
        summary["peak_rss_mib"] = round(peak_rss_mib(), 1)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
        if report:
            from leotwin.analysis.report import write_report

            write_report(tmp)
    return summary


def _capacity(tmp: Path, loaded: LoadedScenario, inputs: RunInputs,
              intervals: DecisionIntervals, cell_runs: CellRuns, links: dict, pool: Backend
              ) -> dict | None:
    """The capacity pass (3.): ``capacity.parquet`` written, the per-terminal sums."""
    from leotwin.export.capacity import CapacityWriter

    plan = capacity_plan(loaded, inputs, intervals, cell_runs, links)
    if plan is None:
        return None
    writer = CapacityWriter(tmp, inputs.sats.ids)
    blocks = []
    try:
        for block in pool.map(capacity_block, plan.bounds(), plan):
            writer.add(block.rows)
            block.rows = {}
            blocks.append(block)
    finally:
        writer.close()
    changes = [e.effective for e in inputs.engine.doc.policy.log if e.decision == "granted"]
    return {"plan": plan, "sums": merge_sums(blocks, len(inputs.terminals)),
            "series": merge_series(blocks), "changes": changes,
            "rows": writer.rows, "congested": writer.congested, "busy_rows": writer.busy_rows,
            "busy_utilisation": writer.busy_utilisation}


def peak_rss_mib() -> float:
    """Peak resident memory of this process image (MiB).

    ``VmHWM`` of /proc/self/status where available: unlike ``ru_maxrss`` it starts afresh at
    ``execve``, so a run launched from a large parent (a test runner) reports its own peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _write_results(tmp: Path, loaded: LoadedScenario, inputs: RunInputs, grid: TimeGrid,
                   tallies: list, intervals: DecisionIntervals, deactivations: list[dict],
                   cell_runs: CellRuns, rtt: tables.RttRows, backend: str, workers: int,
                   capacity: dict | None = None) -> dict:
    s = loaded.scenario
    steps = grid.count
    step_s = grid.step_ns / NS_PER_S
    end = int(grid.ns[-1])
    parts, region_summaries = [], {}
    for name, region, cset, tally in zip(s.ground.regions, inputs.regions, inputs.cells,
                                         tallies, strict=True):
        status = inputs.engine.status_at(end, cset.lat_deg, cset.lon_deg)  # at the window's end
        covered = tally.covered / steps
        parts.append({
            "region": [name] * len(cset), "h3_cell": cset.ids, "lat_deg": cset.lat_deg,
            "lon_deg": cset.lon_deg, "covered_fraction": covered,
            "mean_visible": tally.total / steps, "min_visible": tally.min.astype(np.int32),
            "max_visible": tally.max.astype(np.int32), "max_gap_s": tally.max_run * step_s,
            "status_at_end": [STATUSES[c] for c in status],
        })
        area = cset.area_km2
        region_summaries[name] = {
            "name": region.name, "cells": len(cset), "area_km2": float(area.sum()),
            "covered_fraction": float((area * covered).sum() / area.sum()),
            "mean_visible": float((area * tally.total / steps).sum() / area.sum()),
            "max_gap_s": float(tally.max_run.max() * grid.step_ns / NS_PER_S),
            "active_area_fraction_at_end": float(
                area[status == STATUS_CODE["active"]].sum() / area.sum()),
        }
    tables.write_regions(tmp, list(s.ground.regions), inputs.regions)
    tables.write_coverage(tmp, parts)
    terminals = inputs.terminals
    k = len(terminals)
    ids = [t.id for t in terminals]
    labels = [t.actual_user for t in terminals]
    decisions.write_decisions(tmp, intervals, ids, grid.ns, grid.step_ns)
    if s.outputs.decisions == "instants":
        decisions.write_decision_instants(tmp, intervals, ids, grid.ns, inputs.lat, inputs.lon,
                                          inputs.speeds, inputs.movers)
    sites = inputs.sites
    if sites is not None:
        every = max(1, round(parse_duration(s.outputs.cells_every, source=loaded.source)
                             / grid.step_ns))
        decisions.write_cells(tmp, intervals, sites.cell, labels, grid.ns, every, cell_runs)
    allowed = intervals.per_terminal(intervals.allowed.astype(np.float64))
    extra = None
    if capacity is not None:
        from leotwin.export.capacity import THROUGHPUT, throughput_columns

        extra = (THROUGHPUT, throughput_columns(capacity["sums"]))
    tables.write_terminals(tmp, terminals, inputs.speeds, allowed / max(steps, 1),
                           deactivations, sites, inputs.movers, extra)
    rtt.write(tmp)
    # the scenario's log and its populations' registrations, as the engine folded them
    tables.write_policy_log(tmp, list(inputs.engine.doc.policy.log), deactivations)
    metrics = enforcement(intervals, labels, terminal_ids=ids, deactivations=deactivations,
                          first_ns=int(grid.ns[0]))
    rtt_ms = rtt.rtt_ms()
    finite = np.isfinite(rtt_ms).any()
    per_cell = int(sites.per_cell.sum()) if sites is not None else 0
    return {
        "scenario": s.name, "description": s.description, "sources": s.sources,
        "start": ns_to_iso(grid.start_ns), "end": ns_to_iso(end),
        "step_s": step_s, "instants": steps, "seed": s.seed,
        "constellation": (s.constellation.builtin or s.constellation.tle or s.constellation.omm
                          or f"{len(inputs.sats)} satellites in "
                             f"{len(s.constellation.shells or ())} shells"),
        "satellites": len(inputs.sats), "terminals": k, "backend": backend,
        "workers": workers if backend != "serial" else 1,
        "coverage": region_summaries,
        "decisions": {"allowed_fraction": float(allowed.sum() / (steps * k)) if k else None,
                      "deactivations": len(deactivations), "intervals": len(intervals)},
        "geometry": {"mode": s.network.geometry, "sites": len(sites) if sites else 0,
                     "terminals_per_cell": per_cell,
                     "terminals_own": k - per_cell - len(inputs.movers),
                     "terminals_moving": len(inputs.movers)},
        "enforcement": {key: v for key, v in metrics.items() if not key.endswith("over_time")},
        "rtt_ms": {"median": float(np.nanmedian(rtt_ms)) if finite else None,
                   "p95": float(np.nanpercentile(rtt_ms, 95)) if finite else None,
                   "terminals": list(s.network.rtt_terminals)},
        "refused_requests": [e.id for e in s.policy.log if e.decision == "refused"],
        **({"capacity": capacity_summary(capacity, labels, extra[1])}
           if capacity is not None and extra is not None else {}),
    }
