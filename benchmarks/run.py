"""leotwin benchmarks: ``python benchmarks/run.py [NAME ...] [--quick]``.

Each benchmark prints a Markdown table of timings and ratios against baselines measured in the
same process.  ``--quick`` shrinks the problem (for a smoke run); recorded results use full size.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from capacity import calibration, overhead
from cells import cells
from common import best_of, machine
from inputs import preflight, validation
from pipeline import decisions, scenario
from scale import million, scale, world


def propagation(quick: bool) -> None:
    """Full starlink-gen1 for 24 h at 60 s: ITRF + WGS-84 geodetic, states/s and ratios."""
    from skyfield.api import EarthSatellite
    from skyfield.framelib import itrs

    from leotwin.orbits import get_constellation, iter_propagate, propagate
    from leotwin.orbits.kernel import BYTES_PER_STATE, DEFAULT_BLOCK_STATES
    from leotwin.timegrid import TimeGrid
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from skyfield_bridge import skyfield_timescale  # the tests' helper: Skyfield on our UT1

    sats = get_constellation("starlink-gen1").satellites()
    if quick:
        sats = sats.subset(slice(0, None, 10))
    grid = TimeGrid.from_span("2026-01-01T00:00:00Z", "6h" if quick else "24h", "60s")
    states = len(sats) * grid.count
    rows = []

    def line(name, seconds, baseline=None, note=""):
        rate = states / seconds / 1e6
        ratio = "" if baseline is None else f"{baseline / seconds:.2f}x"
        rows.append(f"| {name} | {seconds:.3f} | {rate:.2f} | {ratio} | {note} |")

    # (b) raw python-sgp4: one SatrecArray.sgp4 call, TEME only, no frame work
    jd, fr = grid.jd_fr()
    array = sats.satrec_array
    t_raw, _ = best_of(lambda: array.sgp4(jd, fr))
    t_ours, eph = best_of(lambda: propagate(sats, grid))
    t_par, eph2 = best_of(lambda: propagate(sats, grid, workers=2))
    identical = all(np.array_equal(getattr(eph, k), getattr(eph2, k), equal_nan=True)
                    for k in ("r_km", "v_km_s", "lat_deg", "lon_deg", "alt_km"))
    del eph2

    # (a) Skyfield at its fastest: one EarthSatellite per satellite, all times in one call
    ts = skyfield_timescale()
    t_sky = ts.utc(2026, 1, 1, 0, 0, grid.seconds)
    sky_sats = [EarthSatellite.from_satrec(s, ts) for s in sats.satrecs]

    def skyfield_fast():
        out = np.empty((len(sats), grid.count, 3))
        for n, s in enumerate(sky_sats):
            out[n] = s.at(t_sky).frame_xyz(itrs).km.T
        return out

    t_sf, sky_r = best_of(skyfield_fast, repeat=1)
    max_diff_m = float(np.abs(sky_r - eph.r_km).max() * 1e3)
    del sky_r

    # Skyfield stepped one instant per call, as a time-stepping simulator uses it: measured on
    # a subset (20 satellites × 60 instants) and scaled to the full size by its rate.
    sub_n, sub_t = 20, 60
    t0 = time.perf_counter()
    for s in sky_sats[:sub_n]:
        for k in range(sub_t):
            s.at(t_sky[k]).frame_xyz(itrs)
    t_step = (time.perf_counter() - t0) * states / (sub_n * sub_t)

    line("leotwin serial (ITRF + geodetic)", t_ours, t_ours, "baseline")
    line("leotwin, 2 processes", t_par, t_ours, f"bit-identical to serial: {identical}")
    line("python-sgp4 SatrecArray.sgp4 (TEME only)", t_raw, t_ours,
         f"our overhead: {t_ours / t_raw - 1:+.0%}")
    line("Skyfield, one vectorised call per satellite", t_sf, t_ours,
         f"max ITRF difference {max_diff_m:.2g} m")
    line("Skyfield, one call per instant (extrapolated)", t_step, t_ours,
         f"from {sub_n}x{sub_t} calls")

    # peak memory of the streaming path vs its block size (tracemalloc sees numpy buffers)
    mem_rows = []
    for block in (DEFAULT_BLOCK_STATES // 4, DEFAULT_BLOCK_STATES, DEFAULT_BLOCK_STATES * 4):
        gc.collect()
        tracemalloc.start()
        for _ in iter_propagate(sats, grid, block_states=block):
            pass
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        mem_rows.append(f"| {block:,} | {block * BYTES_PER_STATE / 2**20:.1f} | "
                        f"{peak / 2**20:.1f} |")

    print(f"\n### propagation: {len(sats):,} satellites × {grid.count:,} instants = "
          f"{states:,} states\n\nMachine: {machine()}\n")
    print("| run | seconds (best of 3) | M states/s | speed vs leotwin serial | note |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nRatios: leotwin serial is {t_sf / t_ours:.2f}x Skyfield's fastest mode and "
          f"{t_step / t_ours:.0f}x Skyfield stepped; 2 processes are {t_sf / t_par:.2f}x "
          f"Skyfield's fastest and {t_ours / t_par:.2f}x serial; overhead over raw SGP4 "
          f"{t_ours / t_raw - 1:+.0%}.")
    print("\nPeak traced memory of `iter_propagate` (streaming, the CLI's path) by block size:\n")
    print("| block (states) | one block's arrays (MiB) | peak traced (MiB) |")
    print("|---|---|---|")
    print("\n".join(mem_rows))


def coverage(quick: bool) -> None:
    """Coverage of Ukraine, H3 res 5, 24 h at 15 s, starlink-gen1 (goal ≤ 60 s on 2 cores)."""
    import resource

    from leotwin.analysis.coverage import coverage as run_coverage
    from leotwin.ground.cells import cover
    from leotwin.ground.regions import resolve_region
    from leotwin.orbits import get_constellation
    from leotwin.timegrid import TimeGrid

    sats = get_constellation("starlink-gen1").satellites()
    t0 = time.perf_counter()
    cells = cover(resolve_region("UA"), 5)
    t_cells = time.perf_counter() - t0
    grid = TimeGrid.from_span("2026-01-01T00:00:00Z", "2h" if quick else "24h", "15s")
    gc.collect()
    tracemalloc.start()
    t0 = time.perf_counter()
    serial = run_coverage(sats, cells, grid, 25.0)
    t_serial = time.perf_counter() - t0
    peak_serial = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    t0 = time.perf_counter()
    par = run_coverage(sats, cells, grid, 25.0, workers=2)
    t_par = time.perf_counter() - t0
    same = all(np.array_equal(getattr(serial, k), getattr(par, k))
               for k in ("covered_fraction", "mean_visible", "min_visible", "max_visible",
                         "max_gap_s"))
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rss_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    summ = serial.summary()
    print(f"\n### coverage: Ukraine, {len(cells):,} H3 res-5 cells, {len(sats):,} satellites, "
          f"{grid.count:,} instants ({grid.count * len(sats):,} states)\n\nMachine: {machine()}\n")
    print("| run | wall s | ratio vs serial | note |\n|---|---|---|---|")
    print(f"| cover UA with H3 res 5 | {t_cells:.2f} | | {len(cells):,} cells |")
    print(f"| coverage, serial | {t_serial:.1f} | 1.00x | peak traced memory "
          f"{peak_serial / 2**20:.0f} MiB |")
    print(f"| coverage, 2 processes | {t_par:.1f} | {t_serial / t_par:.2f}x | identical to "
          f"serial: {same}; max RSS: parent {rss_self:.0f} MiB, a worker {rss_child:.0f} MiB |")
    print(f"\nResult: covered fraction {summ['covered_fraction']:.4f}, mean visible "
          f"{summ['mean_visible']:.1f} (min {summ['min_visible']}, max {summ['max_visible']}), "
          f"longest gap {summ['max_gap_s']:.0f} s.")


def visibility(quick: bool) -> None:
    """KD-tree candidate search vs brute force: 5,000 satellites × 100,000 ground points."""
    from leotwin.geodesy import enu_basis, geodetic_to_ecef
    from leotwin.links import VisibilityIndex, visible_pairs_brute

    rng = np.random.default_rng(0)
    m = 10_000 if quick else 100_000
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, m)))
    lon = rng.uniform(-180, 180, m)
    sites, up = geodetic_to_ecef(lat, lon, np.zeros(m)), enu_basis(lat, lon)[2]
    n = 5000
    slat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    sats = geodetic_to_ecef(slat, rng.uniform(-180, 180, n), rng.uniform(530, 600, n))
    t0 = time.perf_counter()
    index = VisibilityIndex(sites, up, 25.0)
    t_build = time.perf_counter() - t0
    t_kd, kd = best_of(lambda: index.pairs(sats))
    t_brute, brute = best_of(lambda: visible_pairs_brute(sats, sites, up, 25.0), repeat=1)
    same = all(np.array_equal(a, b) for a, b in zip(kd, brute, strict=True))
    print(f"\n### visibility: {n:,} satellites (530–600 km) × {m:,} ground points, mask 25°"
          f"\n\nMachine: {machine()}\n")
    print("| method | seconds | ratio | note |\n|---|---|---|---|")
    print(f"| brute force (every pair, exact test) | {t_brute:.2f} | 1.00x | |")
    print(f"| KD-tree candidates + exact test | {t_kd:.3f} | {t_brute / t_kd:.1f}x | "
          f"index built once in {t_build:.3f} s; identical pairs: {same} ({len(kd[0]):,}) |")


_ROUTING: dict = {}


def _routing_steps(bounds) -> np.ndarray:
    a, b = bounds
    router, r = _ROUTING["router"], _ROUTING["r"]
    g = router.g
    out = np.empty((b - a, g, g), dtype=np.float32)
    for t in range(a, b):
        routes = router.step(r[:, t], np.arange(g))
        out[t - a] = routes.dist_km[:, router.n + g:]  # to every station's in-node
    return out


def routing(quick: bool) -> None:
    """Hypatia's Starlink-550 setting: 1,584 satellites, +Grid, top-100 cities, all 100 × 99
    directed pairs every 100 ms for 200 s (goal ≤ 60 s on 2 cores); networkx Floyd–Warshall
    per step on the same graph for comparison."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    import networkx as nx

    from leotwin.cli.network import HYPATIA_PRESETS
    from leotwin.ground.sites import cities
    from leotwin.network import Router, plus_grid
    from leotwin.orbits import PropagationOptions, get_constellation, propagate
    from leotwin.timegrid import TimeGrid

    c = get_constellation("hypatia-starlink-550")
    sats = c.satellites()
    book = cities()
    router = Router(book, len(sats), plus_grid(c), HYPATIA_PRESETS[c.name])
    grid = TimeGrid.from_span("2000-01-01T00:00:00Z", "20s" if quick else "200s", "100ms")
    t0 = time.perf_counter()
    r = propagate(sats, grid, PropagationOptions(geodetic=False, eop=None)).r_km
    t_prop = time.perf_counter() - t0
    _ROUTING.update(router=router, r=r)
    t0 = time.perf_counter()
    serial = _routing_steps((0, grid.count))
    t_serial = time.perf_counter() - t0 + t_prop
    t0 = time.perf_counter()
    half = grid.count // 2
    ctx = mp.get_context("fork")
    with ProcessPoolExecutor(2, mp_context=ctx) as pool:
        parts = list(pool.map(_routing_steps, [(0, half), (half, grid.count)]))
    t_par = time.perf_counter() - t0 + t_prop
    same = np.array_equal(np.concatenate(parts), serial)
    reachable = np.isfinite(serial).mean()
    per_step = (t_serial - t_prop) / grid.count
    # networkx Floyd–Warshall (numpy) on the same graph, a few steps
    fw_steps = 2
    t0 = time.perf_counter()
    for t in range(fw_steps):
        edges, length = router.isl_links(r[:, t])
        si, gi, d = router.ground_links(r[:, t])
        graph = nx.Graph()
        graph.add_nodes_from(range(router.n + router.g))
        graph.add_weighted_edges_from(zip(edges[:, 0], edges[:, 1], length, strict=True))
        graph.add_weighted_edges_from(zip(si, router.n + gi, d, strict=True))
        nx.floyd_warshall_numpy(graph)
    fw_per_step = (time.perf_counter() - t0) / fw_steps
    print(f"\n### routing: Hypatia Starlink-550 ({len(sats):,} satellites, +Grid), "
          f"{len(book)} cities, {len(book) * (len(book) - 1):,} directed pairs, "
          f"{grid.count:,} steps of 100 ms\n\nMachine: {machine()}\n")
    print("| run | wall s | per step ms | ratio | note |\n|---|---|---|---|---|")
    print(f"| leotwin, serial (SGP4 {t_prop:.1f} s + routing) | {t_serial:.1f} | "
          f"{per_step * 1e3:.2f} | 1.00x | one Dijkstra per city, all destinations |")
    print(f"| leotwin, 2 processes | {t_par:.1f} | | {t_serial / t_par:.2f}x | identical to "
          f"serial: {same} |")
    print(f"| networkx floyd_warshall_numpy, same graph | | {fw_per_step * 1e3:.0f} | "
          f"{fw_per_step / per_step:.0f}x slower per step | {fw_steps} steps |")
    print(f"\nReachable pairs × steps: {reachable:.1%}; median RTT "
          f"{np.median(2 * serial[np.isfinite(serial)] / 299_792.458 * 1e3):.1f} ms.")


def fidelity(quick: bool) -> None:
    """Model RTT floor to the PoP vs Starlink's measured medians (FACTS.md §3)."""
    from leotwin.analysis.fidelity import fidelity_table

    t0 = time.perf_counter()
    span = "10m" if quick else "2h"
    rows = fidelity_table(duration=span, step="15s")
    took = time.perf_counter() - t0
    print(f"\n### fidelity: propagation-only RTT floor to the PoP, starlink-gen1 + bundled "
          f"gateways/PoPs, {span} at 15 s ({took:.0f} s)"
          f"\n\n| terminal | PoP | model min / median / p80 (ms) | measured p50 (ms) | "
          f"handovers/h | gateways used |\n|---|---|---|---|---|---|")
    for r in rows:
        measured = "—" if r["measured_p50_ms"] is None else f"{r['measured_p50_ms']:.1f}"
        print(f"| {r['site']} ({r['country']}) | {r['pop']} | {r['floor_min_ms']:.1f} / "
              f"{r['floor_median_ms']:.1f} / {r['floor_p80_ms']:.1f} | {measured} | "
              f"{r['handovers_per_hour']:.0f} | {', '.join(r['gateways'])} |")


BENCHMARKS = {"propagation": propagation, "coverage": coverage, "visibility": visibility,
              "routing": routing, "fidelity": fidelity, "decisions": decisions,
              "scenario": scenario, "validation": validation, "preflight": preflight,
              "cells": cells, "scale": scale, "calibration": calibration}
#: run only when named (too long for the default set)
ON_REQUEST = {"million": million, "world": world, "capacity-overhead": overhead}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, *ON_REQUEST, []],
                        default=[])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    for name in args.names or list(BENCHMARKS):
        {**BENCHMARKS, **ON_REQUEST}[name](args.quick)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
