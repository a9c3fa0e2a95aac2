"""Model RTT floors next to measured Starlink medians (FACTS.md §3, public metrics Dec 2025).

Terminals in Frankfurt, London, Kyiv and Taipei reach their nearest bundled PoP over
``starlink-gen1`` with +Grid ISLs and the bundled gateways (``network.access``).  The model's RTT
is propagation only; the measured medians also hold the 15-s scheduling, queueing, processing
and the last mile from PoP to the test server, so the model must stay below them.
"""

from __future__ import annotations

import numpy as np

from leotwin.ground.sites import GroundSites, gateways, pops
from leotwin.network.access import AccessNetwork, slot_starts
from leotwin.network.isl import plus_grid
from leotwin.network.routing import rtt_ms
from leotwin.orbits import PropagationOptions, get_constellation, iter_propagate
from leotwin.timegrid import TimeGrid

#: Starlink public metrics, Dec 2025, residential latency p50 (FACTS.md §3 item 5).
MEASURED_P50_MS = {"DEU": 25.4, "GBR": 25.1, "UKR": 33.0, "TWN": None}
SITES = (("Frankfurt", "DEU", 50.1109, 8.6821), ("London", "GBR", 51.5072, -0.1276),
         ("Kyiv", "UKR", 50.4501, 30.5234), ("Taipei", "TWN", 25.0330, 121.5654))


def fidelity_table(duration: str = "1h", step: str = "15s",
                   start: str = "2026-01-01T00:00:00Z") -> list[dict]:
    """One row per site: PoP, model RTT floor (min, median, p80 over the window), measured p50."""
    c = get_constellation("starlink-gen1")
    sats = c.satellites()
    terminals = GroundSites([s[0] for s in SITES], np.array([s[2] for s in SITES]),
                            np.array([s[3] for s in SITES]), np.zeros(len(SITES)),
                            np.full(len(SITES), 25.0))
    gw, pop = gateways(), pops()
    net = AccessNetwork(len(sats), terminals, gw, pop, plus_grid(c))
    grid = TimeGrid.from_span(start, duration, step)
    starts = slot_starts(grid.ns)
    rtts: list = []
    used: list[set] = [set() for _ in SITES]
    k = 0
    for block in iter_propagate(sats, grid, PropagationOptions(geodetic=False)):
        for t in range(block.grid.count):
            step_result = net.step(block.r_km[:, t], int(block.grid.ns[t]), bool(starts[k]))
            k += 1
            rtts.append(rtt_ms(step_result.length_km))
            for i, g in enumerate(step_result.gateway):
                if g >= 0:
                    used[i].add(gw.attrs["name"][g])
    r = np.array(rtts)
    rows = []
    for i, (name, iso3, _, _) in enumerate(SITES):
        col = r[:, i][np.isfinite(r[:, i])]
        rows.append({
            "site": name, "country": iso3, "pop": pop.attrs["name"][net.pop_of[i]],
            "reachable": float(np.isfinite(r[:, i]).mean()),
            "floor_min_ms": float(col.min()) if col.size else float("nan"),
            "floor_median_ms": float(np.median(col)) if col.size else float("nan"),
            "floor_p80_ms": float(np.percentile(col, 80)) if col.size else float("nan"),
            "measured_p50_ms": MEASURED_P50_MS[iso3],
            "handovers_per_hour": float(net.handovers[i] * 3.6e12 / (grid.step_ns * grid.count)),
            "gateways": sorted(used[i])[:4],
        })
    return rows
