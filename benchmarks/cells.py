"""What per-cell geometry costs in accuracy (``python benchmarks/run.py cells``).

Terminals spread uniformly over Ukraine, each compared with the centre of its H3 res-5 cell
(the site a run uses for it under ``network.geometry: cell``), on Starlink Gen1 at 15-s steps,
at a 25° mask:

* **serving satellite**: share of instants at which the cell's highest satellite is not the
  terminal's own;
* **elevation**: the elevation, seen from the terminal, of the satellite the cell is served
  by, minus the terminal's own highest elevation (≤ 0: the cost of being scheduled by cell);
* **satellite in view**: share of instants at which the two disagree;
* **RTT**: terminal → satellite → ISLs → gateway → PoP, routed for the terminal and for its
  cell's centre (``network.access``, each holding its satellite for the 15-s slot), |difference|.

Both sides are computed by the same exact code (``links.sky``, ``network.access``); only the
site differs, so the figures are the approximation alone.
"""

from __future__ import annotations

import time

import numpy as np

from common import machine


def cells(quick: bool) -> None:
    import h3.api.basic_int as h3i

    from leotwin.geodesy import enu_basis, geodetic_to_ecef
    from leotwin.ground.regions import resolve_region
    from leotwin.ground.sites import GroundSites, gateways, pops, synthetic_terminals
    from leotwin.links.elevation import elevation_deg
    from leotwin.links.sky import SiteSky
    from leotwin.network.access import AccessNetwork, slot_starts
    from leotwin.network.isl import plus_grid
    from leotwin.network.routing import rtt_ms
    from leotwin.orbits import PropagationOptions, get_constellation, propagate
    from leotwin.timegrid import TimeGrid

    t_start = time.perf_counter()
    n, routed_n, span = (300, 20, "30m") if quick else (3000, 100, "2h")
    c = get_constellation("starlink-gen1")
    sats = c.satellites()
    grid = TimeGrid.from_span("2026-02-09T20:00:00Z", span, "15s")
    r = propagate(sats, grid, PropagationOptions(geodetic=False)).r_km
    pos = synthetic_terminals(resolve_region("UA"), n, seed=14)
    lat, lon = pos.lat_deg, pos.lon_deg
    centre = np.array([h3i.cell_to_latlng(h3i.latlng_to_cell(a, b, 5))
                       for a, b in zip(lat, lon, strict=True)])
    offset_km = np.hypot((centre[:, 0] - lat) * 111.32,
                         (centre[:, 1] - lon) * 111.32 * np.cos(np.radians(lat)))
    mask = 25.0
    own_xyz = geodetic_to_ecef(lat, lon, np.zeros(n))
    own_up = enu_basis(lat, lon)[2]
    own = SiteSky(own_xyz, own_up, mask)
    cell = SiteSky(geodetic_to_ecef(centre[:, 0], centre[:, 1], np.zeros(n)),
                   enu_basis(centre[:, 0], centre[:, 1])[2], mask)
    dense = own.dense(len(sats))
    differ = disagree = 0
    loss: list[np.ndarray] = []
    for t in range(grid.count):
        a = own.best(r[:, t], dense)
        b = cell.best(r[:, t], dense)
        differ += int((a != b).sum())
        disagree += int(((a >= 0) != (b >= 0)).sum())
        both = (a >= 0) & (b >= 0)
        el_own = elevation_deg(r[a[both], t] - own_xyz[both], own_up[both])
        el_cell = elevation_deg(r[b[both], t] - own_xyz[both], own_up[both])
        loss.append(el_cell - el_own)
    lost = np.concatenate(loss)
    # RTT: route a sample of terminals and their cells' centres, slot by slot
    k = routed_n
    sites = GroundSites([*(f"T{i}" for i in range(k)), *(f"C{i}" for i in range(k))],
                        np.r_[lat[:k], centre[:k, 0]], np.r_[lon[:k], centre[:k, 1]],
                        np.zeros(2 * k), np.full(2 * k, mask))
    pop_of = AccessNetwork(len(sats), sites.subset(slice(0, k)), gateways(), pops(),
                           plus_grid(c)).pop_of  # each terminal's PoP, for its centre too
    net = AccessNetwork(len(sats), sites, gateways(), pops(), plus_grid(c),
                        pop_of=np.r_[pop_of, pop_of])
    starts = slot_starts(grid.ns)
    diffs = []
    for t in range(grid.count):
        step = net.step(r[:, t], int(grid.ns[t]), bool(starts[t]))
        ms = rtt_ms(step.length_km)
        ok = np.isfinite(ms[:k]) & np.isfinite(ms[k:])
        diffs.append(np.abs(ms[:k] - ms[k:])[ok])
    d = np.concatenate(diffs)
    seconds = time.perf_counter() - t_start
    states = n * grid.count
    print(f"\n### cells: per-cell vs per-terminal geometry, {n:,} terminals uniform over "
          f"Ukraine × {grid.count} instants (15 s), starlink-gen1, 25° mask\n\n"
          f"Machine: {machine()}\n\nDistance terminal → its cell's centre: median "
          f"{np.median(offset_km):.1f} km, max {offset_km.max():.1f} km.\n")
    print("| figure | value |\n|---|---|")
    print(f"| instants served by another satellite than the terminal's own highest | "
          f"{differ / states:.2%} |")
    print(f"| elevation lost (the cell's satellite seen from the terminal − its own best), "
          f"median / p99 / max | {np.median(lost):.3f}° / {np.percentile(lost, 1):.3f}° / "
          f"{lost.min():.3f}° |")
    print(f"| instants with 'satellite in view' different | {disagree / states:.3%} |")
    print(f"| RTT to the PoP, |terminal − cell centre|, {k} terminals routed, median / p99 / "
          f"max | {np.median(d):.3f} / {np.percentile(d, 99):.3f} / {d.max():.3f} ms |")
    print(f"\n({seconds:.0f} s.)")
