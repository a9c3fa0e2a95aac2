"""Capacity benchmarks: the busy-hour throughput against Starlink's per-country metrics.

``calibration``: for each country of ``data/starlink-metrics-202512.csv``, terminals at the
subscriber-density assumption of ``sim.study`` (9 M customers' share of the country's
residents, placed by population), 24 h at 30-min steps on starlink-2026, and the terminal-
weighted busy-hour (18–21 h local) median of a speed test, against the measured p20–p80.

One global parameter is fitted on these countries: the terminal's **peak** (a speed test's rate
at the best spectral efficiency when the network is not what limits it), down and up, each the
value minimising the median absolute error of the p50 over the fit set.  To show whether that
generalises it is fitted on half the countries (alternate rows) and scored on the other half,
both ways; then on all of them (the default of ``traffic.demand.PLANS``).
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data" / "starlink-metrics-202512.csv"
PEAKS = np.arange(150.0, 450.0, 2.0)
PEAKS_UP = np.arange(15.0, 80.0, 0.5)


def measured() -> list[dict]:
    with DATA.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def model_country(iso3: str, duration: str = "24h", step: str = "30m"):
    from leotwin.ground.regions import resolve_region
    from leotwin.sim.study import run_study, study_terminals
    from leotwin.timegrid.grid import TimeGrid

    region = resolve_region(iso3)
    lat, lon = study_terminals(region, None, seed=0)
    grid = TimeGrid.from_span("2025-12-15T00:00:00Z", duration, step)
    t0 = time.perf_counter()
    study = run_study(lat, lon, grid)
    return study, len(lat), time.perf_counter() - t0


def median_at(study, peak: float, up: bool = False) -> float:
    """The busy-hour terminal-weighted median speed test at terminal peak ``peak``."""
    from leotwin.sim.study import weighted_quantiles

    busy = study.busy if study.busy.any() else np.ones_like(study.busy)
    ceiling = study.ceiling_up if up else study.ceiling_down
    avail = np.minimum(peak * study.factor, ceiling)
    w = np.broadcast_to(study.weight, avail.shape)[busy]
    return weighted_quantiles(avail[busy], w, [0.5])[0]


def fit(studies, rows, which, up=False) -> float:
    key = "upload_p50_mbps" if up else "download_p50_mbps"
    grid = PEAKS_UP if up else PEAKS
    err = [np.median([abs(median_at(studies[i], p, up) - float(rows[i][key])) for i in which])
           for p in grid]
    return float(grid[int(np.argmin(err))])


def score(studies, rows, which, peak, up=False) -> tuple[int, float]:
    q = "upload" if up else "download"
    inside, errors = 0, []
    for i in which:
        m = median_at(studies[i], peak, up)
        lo, mid, hi = (float(rows[i][f"{q}_{p}_mbps"]) for p in ("p20", "p50", "p80"))
        inside += lo <= m <= hi
        errors.append(abs(m - mid))
    return inside, float(np.median(errors))


def calibration(quick: bool) -> None:
    from leotwin.errors import InputError
    from leotwin.ground.regions import resolve_region

    rows = []
    for row in measured():
        try:
            resolve_region(row["iso3"])
            rows.append(row)
        except InputError:  # Guadeloupe: part of France's Natural Earth polygon
            print(f"{row['iso3']}: no polygon of its own in the bundled countries; left out\n")
    if quick:
        rows = rows[:6]
    studies, sizes, seconds = [], [], []
    for row in rows:
        s, n, sec = model_country(row["iso3"], "6h" if quick else "24h")
        studies.append(s)
        sizes.append(n)
        seconds.append(sec)
    everyone = list(range(len(rows)))
    halves = (everyone[0::2], everyone[1::2])
    print("| fit on | scored on | peak down (Mbps) | in range down | MAE p50 down | "
          "peak up | in range up | MAE p50 up |")
    print("|---|---|---|---|---|---|---|---|")
    for name, a, b in (("even rows", halves[0], halves[1]), ("odd rows", halves[1], halves[0]),
                       ("all", everyone, everyone)):
        p, pu = fit(studies, rows, a), fit(studies, rows, a, up=True)
        for label, which in ((name + " (fit set)", a), ("left out", b)) if b is not a else (
                ("all", b),):
            k, e = score(studies, rows, which, p)
            ku, eu = score(studies, rows, which, pu, up=True)
            print(f"| {name} | {label} | {p:.0f} | {k}/{len(which)} ({k / len(which):.0%}) | "
                  f"{e:.0f} | {pu:.1f} | {ku}/{len(which)} ({ku / len(which):.0%}) | "
                  f"{eu:.1f} |")
    peak, peak_up = fit(studies, rows, everyone), fit(studies, rows, everyone, up=True)
    print(f"\nper country at the peaks fitted on all ({peak:.0f} / {peak_up:.1f} Mbps):\n")
    print("| country | terminals | model p50 down | measured p20/p50/p80 down | in range | "
          "model p50 up | measured p20–p80 up | congested cell-instants | s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for i, row in enumerate(rows):
        m, mu = median_at(studies[i], peak), median_at(studies[i], peak_up, up=True)
        lo, mid, hi = (float(row[f"download_{q}_mbps"]) for q in ("p20", "p50", "p80"))
        ulo, uhi = float(row["upload_p20_mbps"]), float(row["upload_p80_mbps"])
        t = studies[i].table
        has = t["terminals"] > 0
        congested = float(np.mean(t["bottleneck_down"][has] >= 0)) if has.any() else 0.0
        print(f"| {row['iso3']} | {sizes[i]:,} | {m:.0f} | {lo:.0f} / {mid:.0f} / {hi:.0f} | "
              f"{'yes' if lo <= m <= hi else 'no'} | {mu:.1f} | {ulo:.0f}–{uhi:.0f} | "
              f"{congested:.2%} | {seconds[i]:.1f} |")


def overhead(quick: bool) -> None:
    """ukraine-national with and without a capacity section, side by side (serial, the same
    process): the capacity pass's share of the run time."""
    import tempfile

    from leotwin.sim.load import load_scenario
    from leotwin.sim.runner import run_scenario
    from leotwin.sim.scenario import Capacity

    window = "30m" if quick else "24h"
    out = {}
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parent) as tmp:
        for name in ("without", "with"):
            loaded = load_scenario("ukraine-national").with_window(duration=window)
            if name == "with":
                loaded.scenario = loaded.scenario.model_copy(update={"capacity": Capacity()})
            s = run_scenario(loaded, Path(tmp) / name, report=False)
            out[name] = s
            del s
    a, b = out["without"], out["with"]
    print(f"| ukraine-national {window} at 15 s | run s | capacity pass s | peak RSS MiB |")
    print("|---|---|---|---|")
    for name, s in out.items():
        print(f"| {name} capacity | {s['seconds']:.1f} | "
              f"{s['phase_seconds'].get('capacity', 0.0):.1f} | {s['peak_rss_mib']:.0f} |")
    c = b["capacity"]
    print(f"\ncapacity adds {b['seconds'] / a['seconds'] - 1:.0%} to the run "
          f"({c['instants']:,} slots, {c['rows']:,} cell rows, "
          f"{c['congested_cell_instants']:.2%} congested)")
