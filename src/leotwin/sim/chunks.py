"""The pure part of a run: one chunk of instants, computed the same on every backend.

A chunk is, for a range of instants: SGP4 positions; the coverage tallies of every region's H3
cells; for every *site* (an H3 service cell standing for the terminals in it, or one terminal,
``sim.sites``) the satellite the assignment rule serves it with at a slot start, whether it
sees one, and whether a path leads from that satellite to the site's PoP; and the routed
terminals' paths and RTTs.  It depends on nothing but the :class:`Plan` (picklable:
satellites travel as recipes), so it runs in any process.

Moving terminals are sites of their own whose position changes every instant
(``ground.motion``): the chunk places them at each of its instants and computes their sky, PoP
(the nearest) and path then, in the columns after the fixed sites; a routed terminal that
moves is moved in the access network before each instant's step.

Routed terminals hold their satellite until the next scheduler slot (``network.access``), the
only state of the geometry; a slot start reassigns every terminal from the sky alone, so a
chunk that does not begin at one replays from the last slot start before it (a warm-up of at
most one slot's instants, not written) and its routes are the same as in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from leotwin.analysis.counting import CellCounter, CoverageTally
from leotwin.export.results import RttRows
from leotwin.geodesy import enu_basis, geodetic_to_ecef
from leotwin.ground.cells import CellSet
from leotwin.ground.motion import Movers
from leotwin.ground.sites import GroundSites
from leotwin.links.sky import SiteSky
from leotwin.network.access import AccessNetwork, nearest_pop
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
    sky: SiteSky | None  # the sites (None: no terminals)
    access: AccessNetwork | None  # gateways, ISLs and PoPs; its terminals are the routed ones
    rtt_ids: list[str]
    slot_starts: np.ndarray  # (T,) bool
    keep_positions: bool
    keep_velocities: bool = False
    used_pops: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    movers: Movers | None = None  # the moving terminals (their sites follow the fixed ones)
    pops: GroundSites | None = None  # the PoPs (a moving site's is the nearest at each instant)
    #: (R', 2): each routed terminal that moves, as (its place among the routed, mover column)
    routed_moving: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    #: (T,) bool: instants whose links in service the chunk returns (the capacity pass's)
    record: np.ndarray | None = None

    def bounds(self) -> list[tuple[int, int]]:
        """The chunks' instant ranges [a, b), in time order."""
        step = max(1, CHUNK_STATES // max(1, len(self.sats)))
        return [(a, min(a + step, self.grid.count)) for a in range(0, self.grid.count, step)]


@dataclass
class Chunk:
    start: int
    tallies: list[CoverageTally]
    site_in_view: np.ndarray  # (t, S + M) bool: a satellite above the site's mask
    site_path_ok: np.ndarray  # (t, S + M) bool: a path from its serving satellite to its PoP
    routed_ok: np.ndarray  # (t, R) bool: the same for each routed terminal's own satellite
    rtt: RttRows
    r: np.ndarray | None = None  # (N, t, 3) ITRF km when positions are written
    v: np.ndarray | None = None  # (N, t, 3) ITRF km/s when positions are written
    #: instant → ``AccessNetwork.live_links`` at the instants of ``Plan.record``
    links: dict = field(default_factory=dict)


def compute_chunk(bounds: tuple[int, int], plan: Plan | None = None) -> Chunk:
    """The pure part of instants ``bounds[0] … bounds[1]−1`` (see module docstring)."""
    plan = plan if plan is not None else shared_payload()
    a, b = bounds
    routed = bool(plan.rtt_ids) and plan.access is not None
    warm = a
    if routed:
        while warm > 0 and not plan.slot_starts[warm]:
            warm -= 1
    sub = plan.grid.block(warm, b)
    eph = propagate(plan.sats, sub, PropagationOptions(geodetic=False))
    r_all = eph.r_km
    r = r_all[:, a - warm:]
    tallies = [CellCounter(cells, plan.mask_deg).tally_block(r, len(plan.sats),
                                                             CoverageTally(len(cells)))
               for cells in plan.cells]
    n_t, s = b - a, plan.sky.m if plan.sky is not None else 0
    movers = plan.movers
    m = len(movers) if movers is not None else 0
    in_view = np.zeros((n_t, s + m), dtype=bool)
    path_ok = np.ones((n_t, s + m), dtype=bool)
    routed_ok = np.ones((n_t, len(plan.rtt_ids)), dtype=bool)
    rtt = RttRows()
    links: dict[int, tuple] = {}
    if plan.access is not None and (plan.sky is not None or m):
        access = plan.access.fresh()
        sky = plan.sky
        dense = sky.dense(len(plan.sats)) if sky is not None else False
        near = sky.near(r_all) if sky is not None and dense else None
        least = access.rule == "least-latency"
        moving = (_MovingPlaces(plan.movers, plan.grid.ns[warm:b])
                  if plan.movers is not None and (m or len(plan.routed_moving)) else None)
        for i in range(b - warm):
            t = warm + i
            r_now = r_all[:, i]
            if t >= a and plan.record is not None and plan.record[t]:
                links[t] = access.live_links(r_now)
                core = access.core_edges(r_now, links[t])
            else:
                core = access.core_edges(r_now)
            if t >= a:
                trees = _Trees(access, core) if least else None
                if sky is not None:
                    in_view[t - a, :s], path_ok[t - a, :s] = _serve(
                        sky, r_now, dense, near[:, i] if near is not None else None, access,
                        core, trees)
                if m:
                    assert moving is not None and plan.pops is not None
                    lat, lon, alt = moving.at(i)
                    here = SiteSky(geodetic_to_ecef(lat, lon, alt), enu_basis(lat, lon)[2],
                                   np.full(m, plan.mask_deg), nearest_pop(lat, lon, plan.pops))
                    dense_here = here.dense(len(plan.sats))
                    near_here = here.near(r_now[:, None])[:, 0] if dense_here else None
                    in_view[t - a, s:], path_ok[t - a, s:] = _serve(
                        here, r_now, dense_here, near_here, access, core, trees)
            if routed:
                if len(plan.routed_moving):
                    assert moving is not None
                    cols = plan.routed_moving[:, 1]
                    access.move(plan.routed_moving[:, 0], *(x[cols] for x in moving.at(i)))
                now = int(plan.grid.ns[t])
                step = access.step(r_now, now, bool(plan.slot_starts[t]), core=core)
                if t >= a:
                    routed_ok[t - a] = np.isfinite(step.length_km) | (step.serving < 0)
                    rtt.add(now, plan.rtt_ids, step, plan.sats, access)
    keep = plan.keep_positions
    return Chunk(a, tallies, in_view, path_ok, routed_ok, rtt, r if keep else None,
                 eph.v_km_s[:, a - warm:] if plan.keep_velocities else None, links)


class _Trees:
    """This instant's distances from every node to each PoP, computed when first asked."""

    def __init__(self, access: AccessNetwork, core) -> None:
        self.access, self.core = access, core
        self.done: dict[int, np.ndarray] = {}

    def to(self, pops: np.ndarray) -> dict[int, np.ndarray]:
        for p in np.unique(pops).tolist():
            if p not in self.done:
                self.done[p] = self.access.pop_tree(self.core, p)[0]
        return {p: self.done[p] for p in np.unique(pops).tolist()}


def _serve(sky: SiteSky, r_now: np.ndarray, dense: bool, near: np.ndarray | None,
           access: AccessNetwork, core, trees: _Trees | None) -> tuple[np.ndarray, np.ndarray]:
    """Each site's (satellite in view, path from its serving satellite to its PoP) at one
    instant; ``trees``: the PoP trees of ``least-latency`` (None: ``highest-elevation``)."""
    to_pop = trees.to(sky.site_pop) if trees is not None else None
    best = sky.best(r_now, dense, to_pop, near)
    if to_pop is None:
        return best >= 0, access.reaches_pop(core, best, sky.site_pop)
    reach = np.ones(sky.m, dtype=bool)
    for p, dist in to_pop.items():
        sel = (sky.site_pop == p) & (best >= 0)
        reach[sel] = np.isfinite(dist[best[sel]])
    return best >= 0, reach


#: mover × instant positions computed at once in a chunk (bounds the temporaries to ~12 MiB
#: whatever the number of moving terminals)
MOVER_ELEMENTS = 1 << 19


class _MovingPlaces:
    """The movers' (lat, lon, alt km) at instant i of ``time_ns``, a block at a time."""

    def __init__(self, movers: Movers, time_ns: np.ndarray) -> None:
        self.movers, self.time_ns = movers, time_ns
        self.per = max(1, MOVER_ELEMENTS // max(1, len(movers)))
        self.first = -1
        self.block: tuple | None = None

    def at(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.block is None or not self.first <= i < self.first + self.per:
            self.first = i - i % self.per
            self.block = self.movers.at(self.time_ns[self.first:self.first + self.per])[:3]
        lat, lon, alt = self.block
        return lat[i - self.first], lon[i - self.first], alt[i - self.first]
