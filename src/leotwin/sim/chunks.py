"""The pure part of a run: one chunk of instants, computed the same on every backend.

A chunk is SGP4 positions for a range of instants, the coverage tallies of every region's H3
cells, and which terminals see a satellite above their mask.  It depends on nothing but the
:class:`Plan` (picklable: satellites travel as recipes), so it can run in any process; the
runner then walks the chunks in time order for what carries state from instant to instant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leotwin.analysis.counting import CellCounter, CoverageTally
from leotwin.geodesy import enu_basis, geodetic_to_ecef
from leotwin.ground.cells import CellSet
from leotwin.links.visibility import VisibilityIndex
from leotwin.orbits import PropagationOptions, propagate
from leotwin.orbits.satellites import SatelliteSet
from leotwin.sim.backends import shared_payload
from leotwin.timegrid.grid import TimeGrid

#: satellite-instants per chunk (2**19 ≈ 12 MiB of ITRF positions)
CHUNK_STATES = 1 << 19


@dataclass
class Plan:
    """Everything a chunk needs."""

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

    def bounds(self) -> list[tuple[int, int]]:
        """The chunks' instant ranges [a, b), in time order."""
        step = max(1, CHUNK_STATES // max(1, len(self.sats)))
        return [(a, min(a + step, self.grid.count)) for a in range(0, self.grid.count, step)]


@dataclass
class Chunk:
    start: int
    tallies: list[CoverageTally]
    in_view: np.ndarray  # (t, K) bool
    r: np.ndarray | None  # (N, t, 3) ITRF km when the parent needs positions
    v: np.ndarray | None = None  # (N, t, 3) ITRF km/s when positions are written
    #: (t, K) the satellite each terminal sees highest, −1 where none (its serving satellite
    #: under ``highest-elevation`` at a slot start, ``network.access``)
    highest: np.ndarray | None = None


def compute_chunk(bounds: tuple[int, int], plan: Plan | None = None) -> Chunk:
    """The pure part of instants ``bounds[0] … bounds[1]−1`` (see module docstring)."""
    plan = plan if plan is not None else shared_payload()
    a, b = bounds
    sub = plan.grid.block(a, b)
    eph = propagate(plan.sats, sub, PropagationOptions(geodetic=False))
    r = eph.r_km
    tallies = []
    for cells in plan.cells:
        counter = CellCounter(cells, plan.mask_deg)
        tallies.append(counter.tally_block(r, len(plan.sats), CoverageTally(len(cells))))
    k = len(plan.term_lat)
    highest = np.full((sub.count, k), -1, dtype=np.int32)
    if k:
        site = geodetic_to_ecef(plan.term_lat, plan.term_lon, plan.term_alt_km)
        index = VisibilityIndex(site, enu_basis(plan.term_lat, plan.term_lon)[2], plan.term_mask)
        for t in range(sub.count):
            highest[t] = index.highest(r[:, t])
    return Chunk(a, tallies, highest >= 0, r if plan.keep_positions else None,
                 eph.v_km_s if plan.keep_velocities else None, highest)
