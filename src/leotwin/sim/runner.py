"""Run a scenario: propagate, cover, route, decide, detect; write one results directory.

Time is cut into chunks of instants.  A chunk is *pure* (``sim.chunks``: SGP4 positions, the
coverage tallies of every region's H3 cells, which terminals see a satellite) so it runs on any
backend (``sim.backends``: ``serial``, ``process`` on local cores, ``dask``) and gives the same
arrays everywhere.  This module then walks the chunks in time order for what carries state from
instant to instant — scheduler slots and routes to the PoP, policy decisions and detection
rules — so every backend produces identical tables.

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
from leotwin.export import results as tables
from leotwin.extras import require
from leotwin.io.atomic import atomic_directory, output_lock
from leotwin.io.budget import check_budget
from leotwin.network.access import slot_starts
from leotwin.policy.run import PolicyRun, PolicyStepper, enforcement
from leotwin.policy.vocabulary import STATUS_CODE, STATUSES
from leotwin.sim.assemble import RunInputs, assemble, satellites_of, terminals_of
from leotwin.sim.backends import BACKENDS, check_backend, ordered_map
from leotwin.sim.chunks import CHUNK_STATES, compute_chunk
from leotwin.sim.load import LoadedScenario
from leotwin.sim.preflight import preflight
from leotwin.timegrid.grid import NS_PER_S, TimeGrid, ns_to_iso

__all__ = ["BACKENDS", "CHUNK_STATES", "peak_rss_mib", "run_scenario", "satellites_of",
           "terminals_of"]


def run_scenario(loaded: LoadedScenario, out: Path, *, backend: str = "serial",
                 workers: int = 2, scheduler: str | None = None, overwrite: bool = False,
                 progress=None, report: bool | None = None,
                 ignore_free_space: bool = False) -> dict:
    """Run and write ``out``; returns the summary.

    ``report``: write ``report.html`` (needs the ``report`` extra); None takes the scenario's
    ``outputs.report``.  Before any work the scenario's files are read and the run's output
    and memory are estimated (``sim.preflight``): a run that would not fit the memory
    available, or the free space beside ``out`` (unless ``ignore_free_space``), is refused.
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
        return _run(loaded, out, estimate, backend, workers, scheduler, progress, report)


def _run(loaded: LoadedScenario, out: Path, estimate, backend: str, workers: int,
         scheduler: str | None, progress, report: bool) -> dict:
    t_start = time.perf_counter()
    s = loaded.scenario
    grid = loaded.grid()
    inputs = assemble(loaded)
    sats, access, k = inputs.sats, inputs.access, len(inputs.terminals)
    starts = slot_starts(grid.ns, s.network.slot_period_s, s.network.slot_offset_s)
    stepper = PolicyStepper(inputs.engine, [t.id for t in inputs.terminals],
                            grid.step_ns / NS_PER_S)
    run = PolicyRun(stepper.ids, grid, np.zeros((grid.count, k), bool),
                    np.zeros((grid.count, k), np.uint32))
    in_view_all = np.zeros((grid.count, k), dtype=bool)
    tallies: list = [None] * len(inputs.cells)
    rtt = tables.RttRows()
    bounds = inputs.plan.bounds()
    with atomic_directory(out) as tmp:
        positions = tables.PositionsWriter(tmp) if s.outputs.positions else None
        try:
            if progress:
                progress.start(len(bounds), len(sats), grid.count, estimate, terminals=k)
            for chunk in ordered_map(compute_chunk, bounds, inputs.plan, backend=backend,
                                     workers=workers, scheduler=scheduler):
                for j, tally in enumerate(chunk.tallies):
                    tallies[j] = tally if tallies[j] is None else tallies[j].then(tally)
                for i in range(chunk.in_view.shape[0]):
                    t = chunk.start + i
                    now = int(grid.ns[t])
                    path_ok = np.ones(k, dtype=bool)
                    if access is not None:
                        r_now = chunk.r[:, i]
                        core = access.core_edges(r_now)
                        # NO_PATH_TO_GATEWAY: a satellite serves, but no path leads from it to
                        # a gateway and the PoP (no satellite at all is NO_SATELLITE_IN_VIEW).
                        # Every terminal is judged with the satellite the rule chooses at this
                        # instant, as at a slot start (as the control plane judges a decision)
                        path_ok = access.reaches_pop(core, _serving(inputs, chunk, i, r_now, core),
                                                     inputs.pop_of)
                        if inputs.rtt_ids:  # the routed terminals: their own slot-held satellite
                            step = access.step(r_now, now, bool(starts[t]), core=core)
                            path_ok[inputs.rtt_pos] = (np.isfinite(step.length_km)
                                                       | (step.serving < 0))
                            rtt.add(now, inputs.rtt_ids, step, sats, access)
                    in_view_all[t] = chunk.in_view[i]
                    run.allowed[t], run.reasons[t] = stepper.step(
                        now, inputs.lat, inputs.lon, inputs.alt_m, inputs.speeds,
                        satellite_in_view=chunk.in_view[i], path_to_gateway=path_ok)
                if positions is not None:
                    positions.add(sats, grid, chunk.start, chunk.r, chunk.v)
                if progress:
                    progress.advance(chunk.in_view.shape[0])
        except BaseException:
            if positions is not None:  # its file is closed now, before the folder goes
                positions.discard()
            raise
        if positions is not None:
            positions.close()
        run.deactivations = stepper.deactivations
        summary = _write_results(tmp, loaded, inputs, grid, tallies, run, in_view_all, rtt,
                                 backend, workers)
        summary["seconds"] = round(time.perf_counter() - t_start, 2)
        summary["peak_rss_mib"] = round(peak_rss_mib(), 1)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
        if report:
            from leotwin.analysis.report import write_report

            write_report(tmp)
    return summary


def _serving(inputs: RunInputs, chunk, i: int, r: np.ndarray, core) -> np.ndarray:
    """Each terminal's serving satellite at instant ``i`` of ``chunk`` as the assignment rule
    chooses it at a slot start: the highest one (computed in the chunk), or for
    ``least-latency`` the one with the shortest path to the terminal's PoP."""
    access, judged = inputs.access, inputs.judged
    assert access is not None and judged is not None
    if access.rule == "highest-elevation":
        return chunk.highest[i]
    to_pop = {int(p): access.pop_tree(core, int(p))[0] for p in np.unique(inputs.pop_of)}
    return judged.choose(r, to_pop)


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
                   tallies: list, run: PolicyRun, in_view: np.ndarray, rtt: tables.RttRows,
                   backend: str, workers: int) -> dict:
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
    tables.write_decisions(tmp, grid.ns, np.array([t.id for t in terminals]), run.allowed,
                           run.reasons, in_view, np.array([t.lat for t in terminals]),
                           np.array([t.lon for t in terminals]), inputs.speeds)
    tables.write_terminals(tmp, terminals, inputs.speeds, run.allowed.mean(axis=0),
                           run.deactivations)
    rtt.write(tmp)
    # the scenario's log and its populations' registrations, as the engine folded them
    tables.write_policy_log(tmp, list(inputs.engine.doc.policy.log), run.deactivations)
    metrics = enforcement(run, [t.actual_user for t in terminals])
    rtt_ms = rtt.rtt_ms()
    finite = np.isfinite(rtt_ms).any()
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
        "decisions": {"allowed_fraction": float(run.allowed.mean()) if k else None,
                      "deactivations": len(run.deactivations)},
        "enforcement": {key: v for key, v in metrics.items() if not key.endswith("over_time")},
        "rtt_ms": {"median": float(np.nanmedian(rtt_ms)) if finite else None,
                   "p95": float(np.nanpercentile(rtt_ms, 95)) if finite else None,
                   "terminals": list(s.network.rtt_terminals)},
        "refused_requests": [e.id for e in s.policy.log if e.decision == "refused"],
    }
