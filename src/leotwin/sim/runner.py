"""Run a scenario: propagate, cover, route, decide, detect; write one results directory.

Time is cut into chunks of instants.  A chunk is *pure* — SGP4 positions, the coverage tallies
of every region's H3 cells, which terminals see a satellite — so it can run on any backend
(``serial``, ``process`` on local cores, ``dask`` on a LocalCluster or a given scheduler) and
gives the same arrays everywhere.  The parent then walks the chunks in time order for what
carries state from instant to instant — scheduler slots and routes to the PoP, policy decisions
and detection rules — so every backend produces identical tables.  At most ``2 × workers``
chunks are in flight, so memory stays bounded by the chunk size.

The results directory is written under a temporary sibling name and renamed at the end: an
error or Ctrl-C leaves no partial directory, and an existing one is replaced only with
``overwrite``.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from leotwin.analysis.counting import CellCounter, CoverageTally
from leotwin.analysis.coverage import COVERAGE_COLUMNS
from leotwin.errors import InputError
from leotwin.geodesy import enu_basis, geodetic_to_ecef
from leotwin.ground.cells import CellSet, cover
from leotwin.ground.sites import GroundSites, gateways, pops, synthetic_terminals
from leotwin.links.visibility import VisibilityIndex
from leotwin.network.access import AccessNetwork, slot_starts
from leotwin.network.isl import plus_grid
from leotwin.network.routing import rtt_ms
from leotwin.orbits import PropagationOptions, get_constellation, load_omm, load_tle, propagate
from leotwin.orbits.satellites import SatelliteSet
from leotwin.policy.engine import PolicyEngine
from leotwin.policy.reasons import reason_names
from leotwin.policy.run import PolicyRun, PolicyStepper, enforcement
from leotwin.policy.schema import PolicyFile, Terminal
from leotwin.policy.vocabulary import STATUSES
from leotwin.sim.load import LoadedScenario
from leotwin.timegrid.grid import NS_PER_S, TimeGrid, ns_to_iso

BACKENDS = ("serial", "process", "dask")
CHUNK_STATES = 1 << 19  # satellite-instants per chunk (≈ 12 MiB of positions)


@dataclass
class Plan:
    """Everything a chunk needs (picklable: satellites travel as recipes)."""

    sats: SatelliteSet
    grid: TimeGrid
    cells: list[CellSet]
    mask_deg: float
    term_lat: np.ndarray
    term_lon: np.ndarray
    term_alt_km: np.ndarray
    term_mask: np.ndarray
    keep_positions: bool
    keep_velocities: bool = False


@dataclass
class Chunk:
    start: int
    tallies: list[CoverageTally]
    in_view: np.ndarray  # (t, K) bool
    r: np.ndarray | None  # (N, t, 3) ITRF km when the parent needs positions
    v: np.ndarray | None = None  # (N, t, 3) ITRF km/s when positions are written


_PLAN: dict = {}


def compute_chunk(bounds: tuple[int, int], plan: Plan | None = None) -> Chunk:
    """The pure part of instants ``bounds[0] … bounds[1]−1`` (see module docstring)."""
    plan = plan or _PLAN["plan"]
    a, b = bounds
    sub = plan.grid.block(a, b)
    eph = propagate(plan.sats, sub, PropagationOptions(geodetic=False))
    r = eph.r_km
    tallies = []
    for cells in plan.cells:
        counter = CellCounter(cells, plan.mask_deg)
        tallies.append(counter.tally_block(r, len(plan.sats), CoverageTally(len(cells))))
    k = len(plan.term_lat)
    in_view = np.zeros((sub.count, k), dtype=bool)
    if k:
        site = geodetic_to_ecef(plan.term_lat, plan.term_lon, plan.term_alt_km)
        index = VisibilityIndex(site, enu_basis(plan.term_lat, plan.term_lon)[2], plan.term_mask)
        for t in range(sub.count):
            in_view[t] = index.counts(r[:, t]) > 0
    return Chunk(a, tallies, in_view, r if plan.keep_positions else None,
                 eph.v_km_s if plan.keep_velocities else None)


def _chunks(plan: Plan, backend: str, workers: int, scheduler: str | None
            ) -> Iterator[Chunk]:
    step = max(1, CHUNK_STATES // max(1, len(plan.sats)))
    bounds = [(a, min(a + step, plan.grid.count)) for a in range(0, plan.grid.count, step)]
    if backend == "serial":
        for bd in bounds:
            yield compute_chunk(bd, plan)
        return
    window = 2 * workers
    if backend == "process":
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        _PLAN["plan"] = plan
        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        initargs = () if ctx.get_start_method() == "fork" else (plan,)
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_set_plan,
                                 initargs=initargs) as pool:
            pending = [pool.submit(compute_chunk, bd) for bd in bounds[:window]]
            for k in range(len(bounds)):
                chunk = pending[k].result()
                if k + window < len(bounds):
                    pending.append(pool.submit(compute_chunk, bounds[k + window]))
                pending[k] = None
                yield chunk
        return
    from dask.distributed import Client, LocalCluster

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        shared = client.scatter(plan, broadcast=True)
        pending = [client.submit(compute_chunk, bd, shared, pure=False)
                   for bd in bounds[:window]]
        for k in range(len(bounds)):
            chunk = pending[k].result()
            if k + window < len(bounds):
                pending.append(client.submit(compute_chunk, bounds[k + window], shared,
                                             pure=False))
            pending[k] = None
            yield chunk
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _set_plan(plan: Plan | None = None) -> None:
    if plan is not None:
        _PLAN["plan"] = plan


# --- assembling the run -----------------------------------------------------------------------

def satellites_of(loaded: LoadedScenario) -> tuple[SatelliteSet, np.ndarray]:
    c = loaded.scenario.constellation
    if c.builtin is not None or c.shells is not None:
        if c.builtin is not None:
            constellation = get_constellation(c.builtin)
        else:
            from leotwin.orbits.catalog import Constellation

            constellation = Constellation(loaded.scenario.name, tuple(c.shells),
                                          "scenario shells")
        sats = constellation.satellites()
        isl = loaded.scenario.network.isl
        edges = plus_grid(constellation) if isl == "plus-grid" else np.empty((0, 2), np.int64)
        return sats, edges
    sats = load_tle(loaded.path(c.tle)) if c.tle else load_omm(loaded.path(c.omm))
    if loaded.scenario.network.isl == "plus-grid":
        raise InputError("+Grid needs a built-in constellation's planes: use isl: nearest-k or "
                         "none with TLE/OMM data", source=loaded.source, field="network.isl")
    return sats, np.empty((0, 2), np.int64)


def terminals_of(loaded: LoadedScenario) -> tuple[list[Terminal], np.ndarray]:
    """Scenario terminals plus seeded synthetic populations; and their speeds (km/h)."""
    s = loaded.scenario
    out = list(s.terminals)
    speeds = [t.speed_kmh for t in s.terminals]
    engine_zones = PolicyEngine(loaded.policy)
    for k, pop in enumerate(s.ground.populations):
        region = engine_zones.region(pop.region)
        sites = synthetic_terminals(region, pop.count, seed=s.seed * 1000 + k, mode=pop.mode,
                                    centers=list(pop.centers) or None,
                                    spread_km=pop.spread_km, prefix=pop.prefix)
        rng = np.random.default_rng(s.seed * 1000 + k + 500)
        registered = rng.random(pop.count) < pop.registered_fraction
        reg_region = pop.registered_region or pop.region
        for j in range(pop.count):
            out.append(Terminal(id=sites.ids[j], account=pop.account, plan=pop.plan,
                                actual_user=pop.actual_user, lat=float(sites.lat_deg[j]),
                                lon=float(sites.lon_deg[j]), alt_m=pop.alt_m,
                                speed_kmh=pop.speed_kmh,
                                whitelisted=[reg_region] if registered[j] else []))
            speeds.append(pop.speed_kmh)
    ids = [t.id for t in out]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise InputError(f"terminal id '{dup}' appears twice (populations are named by their "
                         "prefix: give each a distinct prefix)", source=loaded.source,
                         field="ground.populations")
    return out, np.array(speeds, dtype=np.float64)


def run_scenario(loaded: LoadedScenario, out: Path, *, backend: str = "serial",
                 workers: int = 2, scheduler: str | None = None, overwrite: bool = False,
                 progress=None) -> dict:
    """Run and write ``out``; returns the summary."""
    if backend not in BACKENDS:
        raise InputError(f"unknown backend '{backend}': expected {', '.join(BACKENDS)}",
                         source="--backend")
    out = Path(out)
    if out.exists() and not overwrite:
        raise InputError(f"'{out}' exists: choose another --out or pass --overwrite",
                         source="--out")
    if not out.parent.exists():
        raise InputError(f"folder '{out.parent}' does not exist", source="--out")
    t_start = time.perf_counter()
    s = loaded.scenario
    grid = loaded.grid()
    sats, edges = satellites_of(loaded)
    terminals, speeds = terminals_of(loaded)
    doc = PolicyFile(name=s.name, regions=s.regions, terminals=terminals, policy=s.policy)
    engine = PolicyEngine(doc)
    engine.source = loaded.source
    regions = [engine.region(r) for r in s.ground.regions]
    cells = [cover(r, s.ground.h3_res) for r in regions]
    k = len(terminals)
    lat = np.array([t.lat for t in terminals], dtype=np.float64)
    lon = np.array([t.lon for t in terminals], dtype=np.float64)
    alt_m = np.array([t.alt_m for t in terminals], dtype=np.float64)
    rtt_ids = list(s.network.rtt_terminals)
    plan = Plan(sats, grid, cells, s.ground.min_elevation_deg, lat, lon, alt_m / 1000.0,
                np.full(k, s.ground.min_elevation_deg), bool(rtt_ids) or s.outputs.positions,
                s.outputs.positions)
    access = None
    if rtt_ids:
        idx = [next(j for j, t in enumerate(terminals) if t.id == r) for r in rtt_ids]
        sites = GroundSites(rtt_ids, lat[idx], lon[idx], alt_m[idx] / 1000.0,
                            np.full(len(idx), s.ground.min_elevation_deg))
        gw = gateways(None if s.ground.gateways == "bundled" else loaded.path(s.ground.gateways))
        pp = pops(None if s.ground.pops == "bundled" else loaded.path(s.ground.pops))
        access = AccessNetwork(len(sats), sites, gw, pp, edges, rule=s.network.rule,
                               fibre_stretch=s.network.fibre_stretch,
                               slot_period_s=s.network.slot_period_s,
                               slot_offset_s=s.network.slot_offset_s)
        rtt_pos = np.array(idx)
    starts = slot_starts(grid.ns, s.network.slot_period_s, s.network.slot_offset_s)
    stepper = PolicyStepper(engine, [t.id for t in terminals], grid.step_ns / NS_PER_S)
    run = PolicyRun(stepper.ids, grid, np.zeros((grid.count, k), bool),
                    np.zeros((grid.count, k), np.uint32))
    in_view_all = np.zeros((grid.count, k), dtype=bool)
    tallies: list[CoverageTally | None] = [None] * len(cells)
    rtt_rows: dict[str, list] = {c: [] for c in ("time", "terminal_id", "pop", "rtt_ms",
                                                  "hops", "gateway", "serving_sat", "path")}
    _clean_stale(out)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        pos_writer = None
        n_chunks = -(-grid.count // max(1, CHUNK_STATES // max(1, len(sats))))
        if progress:
            progress.start(n_chunks, len(sats), grid.count)
        for chunk in _chunks(plan, backend, workers, scheduler):
            for j, tally in enumerate(chunk.tallies):
                tallies[j] = tally if tallies[j] is None else tallies[j].then(tally)
            t_count = chunk.in_view.shape[0]
            for i in range(t_count):
                t = chunk.start + i
                now = int(grid.ns[t])
                path_ok = np.ones(k, dtype=bool)
                if access is not None:
                    step = access.step(chunk.r[:, i], now, bool(starts[t]))
                    path_ok[rtt_pos] = np.isfinite(step.length_km)
                    _rtt_rows(rtt_rows, now, rtt_ids, step, sats, access)
                in_view_all[t] = chunk.in_view[i]
                run.allowed[t], run.reasons[t] = stepper.step(
                    now, lat, lon, alt_m, speeds, satellite_in_view=chunk.in_view[i],
                    path_to_gateway=path_ok)
            if s.outputs.positions:
                pos_writer = _write_positions(tmp, pos_writer, sats, grid, chunk)
            if progress:
                progress.advance()
        if pos_writer is not None:
            pos_writer.close()
        run.deactivations = stepper.deactivations
        summary = _write_results(tmp, loaded, engine, grid, sats, terminals, cells, regions,
                                 tallies, run, in_view_all, speeds, rtt_rows, backend, workers)
        summary["seconds"] = round(time.perf_counter() - t_start, 2)
        summary["peak_rss_mib"] = round(peak_rss_mib(), 1)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
        if s.outputs.report:
            from leotwin.sim.report import write_report

            write_report(tmp)
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return summary


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


def _clean_stale(out: Path) -> None:
    """Remove temporary directories of runs that were killed outright (SIGKILL, power loss):
    ``.NAME.partial-PID`` whose process is gone."""
    for stale in out.parent.glob(f".{out.name}.partial-*"):
        try:
            pid = int(stale.name.rsplit("-", 1)[1])
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError):
            shutil.rmtree(stale, ignore_errors=True)
        except PermissionError:
            pass


def _rtt_rows(rows, now, ids, step, sats, access) -> None:
    for j, tid in enumerate(ids):
        length = step.length_km[j]
        ok = np.isfinite(length)
        rows["time"].append(now)
        rows["terminal_id"].append(tid)
        rows["pop"].append(access.pops.ids[access.pop_of[j]])
        rows["rtt_ms"].append(float(rtt_ms(length)) if ok else float("nan"))
        rows["hops"].append(len(step.paths[j]) + 2 if ok else None)  # + up and gateway legs
        gw = int(step.gateway[j])
        rows["gateway"].append(access.gateways.ids[gw] if gw >= 0 else None)
        serving = int(step.serving[j])
        rows["serving_sat"].append(sats.ids[serving] if serving >= 0 else None)
        rows["path"].append("-".join([tid, *(sats.ids[x] for x in step.paths[j]),
                                      access.gateways.ids[gw], access.pops.ids[
                                          access.pop_of[j]]]) if ok and gw >= 0 else "")


def _write_positions(tmp, writer, sats, grid, chunk):
    from leotwin.export.positions import ephemeris_table
    from leotwin.orbits.propagate import Ephemeris

    t = chunk.r.shape[1]
    sub = grid.block(chunk.start, chunk.start + t)
    from leotwin.geodesy import ecef_to_geodetic

    r = chunk.r
    lat, lon, alt = ecef_to_geodetic(r[..., 0], r[..., 1], r[..., 2])
    err = np.where(np.isfinite(r[..., 0]), 0, 1).astype(np.uint8)
    eph = Ephemeris(sats.ids, sub, "itrf", r, chunk.v, err, lat, lon, alt)
    table = ephemeris_table(eph)
    if writer is None:
        writer = pq.ParquetWriter(tmp / "positions.parquet", table.schema, compression="snappy",
                                  use_dictionary=["sat_id"])
    writer.write_table(table)
    return writer


def _write_results(tmp, loaded, engine, grid, sats, terminals, cells, regions, tallies, run,
                   in_view, speeds, rtt_rows, backend, workers) -> dict:
    s = loaded.scenario
    steps = grid.count
    # coverage, with the policy status of each cell at the window's end
    tables = []
    end = int(grid.ns[-1])
    region_summaries = {}
    for name, region, cset, tally in zip(s.ground.regions, regions, cells, tallies,
                                         strict=True):
        status = engine.status_at(end, cset.lat_deg, cset.lon_deg)
        covered = tally.covered / steps
        tables.append(pa.table({
            "region": pa.array([name] * len(cset)),
            "h3_cell": pa.array(cset.ids), "lat_deg": cset.lat_deg, "lon_deg": cset.lon_deg,
            "covered_fraction": covered, "mean_visible": tally.total / steps,
            "min_visible": tally.min.astype(np.int32), "max_visible": tally.max.astype(np.int32),
            "max_gap_s": tally.max_run * (grid.step_ns / NS_PER_S),
            "status_at_end": pa.array([STATUSES[c] for c in status]),
        }))
        area = cset.area_km2
        region_summaries[name] = {
            "name": region.name, "cells": len(cset), "area_km2": float(area.sum()),
            "covered_fraction": float((area * covered).sum() / area.sum()),
            "mean_visible": float((area * tally.total / steps).sum() / area.sum()),
            "max_gap_s": float(tally.max_run.max() * grid.step_ns / NS_PER_S),
            "active_area_fraction_at_end": float(area[status == 0].sum() / area.sum()),
        }
    from shapely.geometry import mapping

    (tmp / "regions.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"kind": "region", "region": name, "name": r.name},
         "geometry": mapping(r.geometry)} for name, r in zip(s.ground.regions, regions,
                                                              strict=True)]}))
    if tables:
        pq.write_table(pa.concat_tables(tables), tmp / "coverage.parquet")
    else:
        pq.write_table(pa.table({c: pa.array([], pa.float64()) for c in COVERAGE_COLUMNS}),
                       tmp / "coverage.parquet")
    # decisions: one row per terminal and instant
    k = len(terminals)
    ids = np.array([t.id for t in terminals])
    names = {int(m): "|".join(reason_names(int(m))) for m in np.unique(run.reasons)}
    reasons = run.reasons.ravel()
    pq.write_table(pa.table({
        "time": pa.array(np.repeat(grid.ns, k), pa.timestamp("ns", tz="UTC")),
        "terminal_id": pa.DictionaryArray.from_arrays(
            pa.array(np.tile(np.arange(k, dtype=np.int32), steps)), pa.array(ids)),
        "allowed": run.allowed.ravel(), "reason_mask": reasons,
        "reasons": pa.array([names[int(m)] for m in reasons]),
        "satellite_in_view": in_view.ravel(),
        "lat_deg": np.tile([t.lat for t in terminals], steps),
        "lon_deg": np.tile([t.lon for t in terminals], steps),
        "speed_kmh": np.tile(speeds, steps),
    }), tmp / "decisions.parquet")
    deact = {d["terminal"]: d for d in run.deactivations}
    pq.write_table(pa.table({
        "terminal_id": pa.array(ids), "account": pa.array([t.account for t in terminals]),
        "plan": pa.array([t.plan for t in terminals]),
        "home_country": pa.array([t.home_country for t in terminals]),
        "actual_user": pa.array([t.actual_user for t in terminals]),
        "whitelisted": pa.array([",".join(t.whitelisted) for t in terminals]),
        "lat_deg": [t.lat for t in terminals], "lon_deg": [t.lon for t in terminals],
        "speed_kmh": speeds, "allowed_fraction": run.allowed.mean(axis=0),
        "deactivated_at": pa.array([deact[t.id]["effective_ns"] if t.id in deact else None
                                    for t in terminals], pa.timestamp("ns", tz="UTC")),
    }), tmp / "terminals.parquet")
    pq.write_table(pa.table({
        "time": pa.array(rtt_rows["time"], pa.timestamp("ns", tz="UTC")),
        "terminal_id": pa.array(rtt_rows["terminal_id"], pa.string()),
        "pop": pa.array(rtt_rows["pop"], pa.string()),
        "rtt_ms": pa.array(rtt_rows["rtt_ms"], pa.float64()),
        "hops": pa.array(rtt_rows["hops"], pa.int32()),
        "gateway": pa.array(rtt_rows["gateway"], pa.string()),
        "serving_sat": pa.array(rtt_rows["serving_sat"], pa.string()),
        "path": pa.array(rtt_rows["path"], pa.string()),
    }), tmp / "rtt.parquet")
    _write_policy_log(tmp, loaded, run)
    metrics = enforcement(run, [t.actual_user for t in terminals])
    rtt = np.array(rtt_rows["rtt_ms"], dtype=float)
    return {
        "scenario": s.name, "description": s.description, "sources": s.sources,
        "start": ns_to_iso(grid.start_ns), "end": ns_to_iso(int(grid.ns[-1])),
        "step_s": grid.step_ns / NS_PER_S, "instants": steps, "seed": s.seed,
        "constellation": (s.constellation.builtin or s.constellation.tle or s.constellation.omm
                          or f"{len(sats)} satellites in {len(s.constellation.shells)} shells"),
        "satellites": len(sats), "terminals": k, "backend": backend,
        "workers": workers if backend != "serial" else 1,
        "coverage": region_summaries,
        "decisions": {"allowed_fraction": float(run.allowed.mean()) if k else None,
                      "deactivations": len(run.deactivations)},
        "enforcement": {key: v for key, v in metrics.items() if not key.endswith("over_time")},
        "rtt_ms": {"median": float(np.nanmedian(rtt)) if np.isfinite(rtt).any() else None,
                   "p95": float(np.nanpercentile(rtt, 95)) if np.isfinite(rtt).any() else None,
                   "terminals": list(s.network.rtt_terminals)},
        "refused_requests": [e.id for e in s.policy.log if e.decision == "refused"],
    }


def _write_policy_log(tmp: Path, loaded: LoadedScenario, run: PolicyRun) -> None:
    rows = {c: [] for c in ("id", "requested_at", "effective_at", "until", "requested_by",
                            "decided_by", "decision", "reason", "change_kind", "change",
                            "origin")}
    for e in loaded.scenario.policy.log:
        rows["id"].append(e.id)
        rows["requested_at"].append(e.requested_at)
        rows["effective_at"].append(e.effective)
        rows["until"].append(e.until)
        rows["requested_by"].append(e.requested_by)
        rows["decided_by"].append(e.decided_by)
        rows["decision"].append(e.decision)
        rows["reason"].append(e.reason)
        rows["change_kind"].append(e.change.kind)
        rows["change"].append(json.dumps(e.change.model_dump(exclude_none=True, by_alias=True)))
        rows["origin"].append("scenario")
    for d in run.deactivations:
        rows["id"].append(f"detect-{d['terminal']}")
        rows["requested_at"].append(int(np.datetime64(d["detected_at"].rstrip("Z"), "ns")
                                        .astype(np.int64)))
        rows["effective_at"].append(d["effective_ns"])
        rows["until"].append(None)
        rows["requested_by"].append(d["decided_by"])
        rows["decided_by"].append(d["decided_by"])
        rows["decision"].append("granted")
        rows["reason"].append(f"detected by rule '{d['rule']}'")
        rows["change_kind"].append("deactivate")
        rows["change"].append(json.dumps({"deactivate": {"terminal": d["terminal"]}}))
        rows["origin"].append("detection")
    ts = pa.timestamp("ns", tz="UTC")
    pq.write_table(pa.table({
        **{k: pa.array(rows[k], pa.string()) for k in ("id", "requested_by", "decided_by",
                                                          "decision", "reason", "change_kind",
                                                          "change", "origin")},
        "requested_at": pa.array(rows["requested_at"], ts),
        "effective_at": pa.array(rows["effective_at"], ts),
        "until": pa.array(rows["until"], ts),
    }), tmp / "policy_log.parquet")
