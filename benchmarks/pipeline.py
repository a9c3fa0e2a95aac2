"""Benchmarks of the pipeline's later stages: policy decisions and whole scenarios
(run through ``benchmarks/run.py decisions`` and ``… scenario``)."""

from __future__ import annotations

import sys
import time

import numpy as np

from common import machine


def decisions(quick: bool) -> None:
    """100,000 terminals × 96 instants under the built-in Ukraine policy (countries, zones,
    spill-over cells, speed cap, whitelist): decisions/s (goal ≥ 500,000 on 2 cores) and the
    ratio against deciding one at a time, measured in the same run."""
    from leotwin.ground.regions import resolve_region
    from leotwin.ground.sites import synthetic_terminals
    from leotwin.policy import PolicyEngine, load_policy
    from leotwin.policy.schema import PolicyFile, Terminal
    from leotwin.timegrid import TimeGrid

    n = 10_000 if quick else 100_000
    base = load_policy("ukraine").doc
    region = resolve_region("UA")
    pos = synthetic_terminals(region, n, seed=11)
    rng = np.random.default_rng(5)
    plans = rng.choice(["residential", "roam", "government"], n)
    registered = rng.random(n) < 0.7
    terminals = [Terminal(id=f"T{k:06d}", plan=str(plans[k]), account=None,
                          whitelisted=["UA"] if registered[k] else []) for k in range(n)]
    doc = PolicyFile(name="bench", regions=base.regions, terminals=terminals,
                     policy=base.policy.model_copy(update={"accounts": []}))
    t0 = time.perf_counter()
    engine = PolicyEngine(doc)
    t_build = time.perf_counter() - t0
    grid = TimeGrid.from_span("2026-01-28T00:00:00Z", "14d", "3.5h")  # crosses cap + whitelist
    ids = np.array([t.id for t in terminals])
    speed = rng.choice([0.0, 0.0, 0.0, 40.0, 90.0, 130.0], n)
    t0 = time.perf_counter()
    denied = 0
    for now in grid.ns:
        allowed, _ = engine.decide(ids, pos.lat_deg, pos.lon_deg, 0.0, speed, now)
        denied += int((~allowed).sum())
    t_vec = time.perf_counter() - t0
    total = n * grid.count
    sample = 300
    fresh = PolicyEngine(doc)
    t0 = time.perf_counter()
    for k in range(sample):
        i, now = k * (n // sample), grid.ns[k % grid.count]
        fresh.decide([ids[i]], [pos.lat_deg[i]], [pos.lon_deg[i]], [0.0], [speed[i]], [now])
    t_loop = (time.perf_counter() - t0) / sample * total
    print(f"\n### decisions: {n:,} terminals × {grid.count} instants = {total:,} decisions, "
          f"built-in ukraine policy\n\nMachine: {machine()}\n")
    print("| method | seconds | decisions/s | ratio |\n|---|---|---|---|")
    print(f"| one decision at a time (same engine; {sample} timed, scaled) | {t_loop:.0f} | "
          f"{total / t_loop:,.0f} | 1x |")
    print(f"| vectorised, one call per instant (engine built in {t_build:.1f} s) | "
          f"{t_vec:.1f} | {total / t_vec:,.0f} | {t_loop / t_vec:.0f}x |")
    print(f"\nDenied: {denied / total:.1%} of terminal-time (registered 70 %, speeds 0–130 "
          "km/h; the whitelist and the 75 km/h cap take effect inside the window).")


def scenario(quick: bool) -> None:
    """The default scenario end to end (``leotwin run ukraine-2026``), each backend in its own
    process so wall time and peak memory are its own: serial vs process (2) vs dask (2)."""
    import json
    import subprocess
    import tempfile

    name = "ukraine-2026"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in ("serial", "process", "dask"):
            out = f"{tmp}/{backend}"
            cmd = [sys.executable, "-c", (
                "import resource, sys, time, json\n"
                "from leotwin.sim.load import load_scenario\n"
                "from leotwin.sim.runner import run_scenario\n"
                "t = time.perf_counter()\n"
                f"run_scenario(load_scenario({name!r}), {out!r}, backend={backend!r}, "
                "workers=2)\n"
                "self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
                "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
                "print(json.dumps([time.perf_counter() - t, self, kids]))")]
            result = subprocess.run(cmd, capture_output=True, text=True, check=True)
            wall, rss, kids = json.loads(result.stdout.strip().splitlines()[-1])
            rows.append((backend, wall, rss / 1024, kids / 1024))
        tables = {b: {t: open(f"{tmp}/{b}/{t}.parquet", "rb").read()
                      for t in ("coverage", "decisions", "rtt", "terminals")}
                  for b in ("serial", "process", "dask")}
    same = all(tables["serial"][t] == tables[b][t] for b in ("process", "dask")
               for t in tables["serial"])
    serial = rows[0][1]
    print(f"\n### scenario: {name} end to end (leotwin run), 2 workers\n\nMachine: "
          f"{machine()}\n\n| backend | wall s | ratio vs serial | peak RSS MiB (parent / "
          "largest child) |\n|---|---|---|---|")
    for backend, wall, rss, kids in rows:
        print(f"| {backend} | {wall:.1f} | {serial / wall:.2f}x | {rss:.0f} / {kids:.0f} |")
    print(f"\nParquet tables byte-identical across backends: {same}.")
