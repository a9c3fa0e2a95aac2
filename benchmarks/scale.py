"""Runs at the real network's scale (``python benchmarks/run.py scale [--quick]``).

1. ``ukraine-national`` (50,008 terminals, 24 h at 15 s: 288 M terminal-instants) end to end on
   each backend with 2 workers — serial, process, Dask ``LocalCluster`` — each in its own
   process (wall time and peak RSS its own, workers included); ratios against serial, and
   whether the tables are the same bytes;
2. the scaling curve: the same scenario with 1k, 10k, 50k and 100k terminals (the same user
   classes and shares), 1 h at 15 s, serial: time, peak RSS, and the exponent b of the
   least-squares fit time ∝ terminals^b.

``--quick``: 1 h instead of 24 h in (1), and 1k/5k/10k in (2).  The 1,000,000-terminal run is
:func:`million` (``python benchmarks/run.py million``; recorded, not repeated by default).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from common import machine

TABLES = ("coverage", "decisions", "cells", "rtt", "terminals", "policy_log")
RUN = (
    "import json, sys, time\n"
    "from leotwin.sim.load import load_scenario\n"
    "from leotwin.sim.runner import run_scenario\n"
    "t = time.perf_counter()\n"
    "s = run_scenario(load_scenario(sys.argv[1]).with_window(duration=sys.argv[4] or None),\n"
    "                 sys.argv[2], backend=sys.argv[3], workers=2, report=False)\n"
    "print(json.dumps([time.perf_counter() - t, s['terminals'] * s['instants']]))\n")


def _run(scenario: str, out: str, backend: str = "serial", duration: str = "") -> dict:
    """One run in a fresh process under ``/usr/bin/time -v``: wall s, peak RSS of the run's
    process tree (the largest of the parent and its workers, MiB), terminal-instants."""
    cmd = ["/usr/bin/time", "-v", sys.executable, "-c", RUN, scenario, out, backend, duration]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    wall, work = json.loads(done.stdout.strip().splitlines()[-1])
    rss = next(int(line.split()[-1]) for line in done.stderr.splitlines()
               if "Maximum resident set size" in line) / 1024
    return {"wall": wall, "rss": rss, "work": work}


def _variant(folder: Path, terminals: int, duration: str) -> str:
    """ukraine-national with ``terminals`` in its populations (same classes and shares)."""
    import yaml

    from leotwin.data import builtin_scenarios

    doc = yaml.safe_load(Path(builtin_scenarios()["ukraine-national"]).read_text())
    for p in doc["ground"]["populations"]:
        p["count"] = max(1, round(terminals * p.pop("share")))
        p.pop("national_region", None)
    doc["time"]["duration"] = duration
    path = folder / f"national-{terminals}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


def scale(quick: bool) -> None:
    duration = "1h" if quick else ""
    print(f"\n### scale: ukraine-national{' (1 h)' if quick else ' (24 h at 15 s)'}, 2 "
          f"workers\n\nMachine: {machine()}\n")
    with tempfile.TemporaryDirectory() as tmp:
        rows = {}
        for backend in ("serial", "process", "dask"):
            rows[backend] = _run("ukraine-national", f"{tmp}/{backend}", backend, duration)
        same = all((Path(tmp) / "serial" / f"{t}.parquet").read_bytes()
                   == (Path(tmp) / b / f"{t}.parquet").read_bytes()
                   for b in ("process", "dask") for t in TABLES)
        base = rows["serial"]["wall"]
        print("| backend | wall s | terminal-instants/s | ratio vs serial | peak RSS MiB |\n"
              "|---|---|---|---|---|")
        for backend, r in rows.items():
            print(f"| {backend} | {r['wall']:.1f} | {r['work'] / r['wall']:,.0f} | "
                  f"{base / r['wall']:.2f}x | {r['rss']:.0f} |")
        print(f"\nTables byte-identical across backends: {same}.")
        sizes = (1_000, 5_000, 10_000) if quick else (1_000, 10_000, 50_000, 100_000)
        curve = []
        for n in sizes:
            r = _run(_variant(Path(tmp), n, "1h"), f"{tmp}/curve-{n}")
            curve.append((n, r))
    n = np.array([c[0] for c in curve], float)
    t = np.array([c[1]["wall"] for c in curve])
    slope = np.polyfit(np.log(n), np.log(t), 1)[0]
    print("\nScaling, 1 h at 15 s (240 instants), serial:\n\n| terminals | wall s | "
          "terminal-instants/s | peak RSS MiB |\n|---|---|---|---|")
    for k, r in curve:
        print(f"| {k:,} | {r['wall']:.1f} | {r['work'] / r['wall']:,.0f} | {r['rss']:.0f} |")
    print(f"\nFit: time ∝ terminals^{slope:.2f} (1 = linear).")


def million(quick: bool) -> None:
    """1,000,000 terminals (ukraine-national's classes and shares), 1 h at 15 s, serial."""
    n = 100_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        r = _run(_variant(Path(tmp), n, "1h"), f"{tmp}/run")
    print(f"\n### million: {n:,} terminals × 240 instants (1 h at 15 s), serial\n\n"
          f"Machine: {machine()}\n\n| wall s | terminal-instants/s | peak RSS MiB |\n"
          f"|---|---|---|\n| {r['wall']:.1f} | {r['work'] / r['wall']:,.0f} | "
          f"{r['rss']:.0f} |")


def world(quick: bool) -> None:
    """``world-2026``: the ~9,400-satellite fleet over 100,000 terminals worldwide, 1 h at 15 s
    (``--quick``: 15 min), serial and process with 2 workers, tables compared."""
    duration = "15m" if quick else "1h"
    with tempfile.TemporaryDirectory() as tmp:
        runs = {b: _run("world-2026", f"{tmp}/{b}", b, duration) for b in ("serial", "process")}
        same = all((Path(tmp) / "serial" / f"{t}.parquet").read_bytes()
                   == (Path(tmp) / "process" / f"{t}.parquet").read_bytes() for t in TABLES)
    base = runs["serial"]["wall"]
    print(f"\n### world: world-2026 (9,448 satellites, 100,003 terminals), {duration} at 15 s\n\n"
          f"Machine: {machine()}\n\n| backend | wall s | terminal-instants/s | ratio vs serial | "
          "peak RSS MiB |\n|---|---|---|---|---|")
    for b, r in runs.items():
        print(f"| {b} | {r['wall']:.1f} | {r['work'] / r['wall']:,.0f} | "
              f"{base / r['wall']:.2f}x | {r['rss']:.0f} |")
    print(f"\nTables byte-identical across backends: {same}.")
