"""Latency-optimal routing between ground stations through the constellation, instant by instant.

The graph of one instant (``scipy.sparse.csgraph``, weights in km of straight-line length):

* satellites ``0 … N−1``; inter-satellite links both ways (``network.isl``);
* each ground station g twice: an *out* node ``N + g`` with up-links to the satellites it can
  use, and an *in* node ``N + G + g`` with down-links from them.  Paths start at an out node and
  end at an in node, so no ground station relays traffic: the "free one only over ISLs" routing
  of Hypatia (ground → any satellite in range → ISLs → any satellite in range → ground), and
  with no ISLs, the bent pipe (one satellite sees both ends).

A satellite is usable from a ground station in the ``standard`` geometry when it is at or above
the station's elevation mask (true elevation, ``links.visibility``), and in the ``hypatia``
geometry when the slant range is at most ``max_gsl_km`` (its flat-Earth cut-off).  Dijkstra runs
once per source station for all destinations (``indices=`` sources, not all-pairs).
RTT = 2 × path length / c, propagation only (c = 299 792.458 km/s in vacuum); any processing or
queueing allowance is added separately by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from leotwin.errors import InputError
from leotwin.geodesy import WGS72, enu_basis, geodetic_to_ecef
from leotwin.ground.sites import GroundSites
from leotwin.links.visibility import SPEED_OF_LIGHT_KM_S, VisibilityIndex
from leotwin.network.isl import (
    DEFAULT_GRAZING_KM,
    EARTH_RADIUS_KM,
    feasible,
    max_isl_length_km,
    nearest_k,
)


@dataclass(frozen=True)
class Geometry:
    """How ground and inter-satellite links are admitted.

    ``standard``: elevation masks per station, ISLs clear of ``grazing_km`` (and shorter than
    ``max_isl_km`` if given), WGS-84 stations, IERS UT1.
    ``hypatia``: Hypatia's choices — GSL when slant range ≤ ``max_gsl_km``, ISL when
    ≤ ``max_isl_km``, stations on the WGS-72 ellipsoid, UT1 = UTC (PyEphem's convention).
    """

    kind: str = "standard"
    max_gsl_km: float | None = None
    max_isl_km: float | None = None
    grazing_km: float = DEFAULT_GRAZING_KM

    @classmethod
    def hypatia(cls, altitude_km: float, min_elevation_deg: float,
                radius_km: float = WGS72.a_km) -> Geometry:
        """Hypatia's cut-offs for a shell: MAX_GSL = √(cone² + h²), cone = h/tan ε (flat Earth);
        MAX_ISL = 2√((R+h)² − (R+80)²) (its ``main_*.py`` scripts)."""
        h = altitude_km
        cone = h / np.tan(np.radians(min_elevation_deg))
        max_isl = max_isl_length_km(h, DEFAULT_GRAZING_KM, radius_km)
        return cls("hypatia", float(np.hypot(cone, h)), float(max_isl), DEFAULT_GRAZING_KM)


@dataclass
class StepRoutes:
    """Shortest paths of one instant from each source station (rows) to every node."""

    dist_km: np.ndarray  # (S, V)
    pred: np.ndarray  # (S, V), −9999 where none
    sources: np.ndarray  # station indices (S,)
    n_sats: int
    n_ground: int
    isl_count: int

    def length_km(self, k: int, dst: int) -> float:
        return float(self.dist_km[k, self.n_sats + self.n_ground + dst])

    def path(self, k: int, dst: int) -> list[int | tuple[str, int]]:
        """Nodes from source k to station dst: ``('g', i)`` stations, ints satellites."""
        node = self.n_sats + self.n_ground + dst
        if not np.isfinite(self.dist_km[k, node]):
            return []
        out: list[int | tuple[str, int]] = [("g", dst)]
        node = self.pred[k, node]
        while node >= 0 and node < self.n_sats:
            out.append(int(node))
            node = self.pred[k, node]
        out.append(("g", int(self.sources[k])))
        return out[::-1]


class Router:
    """Ground stations + satellites + ISLs → per-instant shortest paths.

    ``ground``: the stations (their masks are used in the standard geometry).
    ``isl_edges``: static (E, 2) links (e.g. ``plus_grid``), or ``None`` with
    ``isl="nearest-k"`` for per-instant links, or an empty array for bent pipe.
    """

    def __init__(self, ground: GroundSites, n_sats: int, isl_edges: np.ndarray | None,
                 geometry: Geometry = Geometry(), nearest_k_links: int = 4, lasers: int = 4):
        self.ground = ground
        self.n = n_sats
        self.g = len(ground)
        self.geometry = geometry
        self.isl_edges = isl_edges
        self.k, self.lasers = nearest_k_links, lasers
        ellipsoid = WGS72 if geometry.kind == "hypatia" else None
        kwargs = {"ellipsoid": ellipsoid} if ellipsoid else {}
        self.site = geodetic_to_ecef(ground.lat_deg, ground.lon_deg, ground.alt_km, **kwargs)
        if geometry.kind == "hypatia":
            if geometry.max_gsl_km is None:
                raise InputError("the hypatia geometry needs max_gsl_km", field="geometry")
            self.site_tree = cKDTree(self.site)
        else:
            self.index = VisibilityIndex(self.site, enu_basis(ground.lat_deg, ground.lon_deg)[2],
                                         ground.min_elevation_deg)

    def ground_links(self, r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sat, station, length km) of every usable ground-satellite link at this instant."""
        if self.geometry.kind == "hypatia":
            ok = np.isfinite(r).all(axis=1)
            idx = np.flatnonzero(ok)
            found = self.site_tree.query_ball_point(r[idx], self.geometry.max_gsl_km)
            lengths = np.fromiter((len(f) for f in found), np.int64, len(found))
            if lengths.sum() == 0:
                return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
            gi = np.concatenate([np.asarray(f, np.int64) for f in found if f])
            si = np.repeat(idx, lengths)
            d = np.linalg.norm(r[si] - self.site[gi], axis=1)
            keep = d <= self.geometry.max_gsl_km
            return si[keep], gi[keep], d[keep]
        si, gi, _, rng = self.index.pairs(r)
        return si, gi, rng

    def isl_links(self, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(E, 2) links usable at this instant and their lengths (km)."""
        geo = self.geometry
        if self.isl_edges is None:
            edges = nearest_k(r, self.k, self.lasers, geo.grazing_km, geo.max_isl_km or 5400.0)
        else:
            edges = self.isl_edges
        if len(edges) == 0:
            return edges, np.empty(0)
        a, b = r[edges[:, 0]], r[edges[:, 1]]
        length = np.linalg.norm(b - a, axis=1)
        if geo.kind == "hypatia":
            ok = length <= geo.max_isl_km
        else:
            ok = feasible(a, b, geo.grazing_km, geo.max_isl_km, EARTH_RADIUS_KM)
        return edges[ok], length[ok]

    def step(self, r: np.ndarray, sources) -> StepRoutes:
        """Shortest paths at one instant (satellite positions ``r`` (N, 3) ITRF km)."""
        n, g = self.n, self.g
        edges, length = self.isl_links(r)
        si, gi, d = self.ground_links(r)
        rows = np.concatenate([edges[:, 0], edges[:, 1], n + gi, si])
        cols = np.concatenate([edges[:, 1], edges[:, 0], si, n + g + gi])
        weights = np.concatenate([length, length, d, d])
        # zero-length links would vanish from a sparse matrix: floor them at 1 mm
        weights = np.maximum(weights, 1e-6)
        graph = csr_matrix((weights, (rows, cols)), shape=(n + 2 * g, n + 2 * g))
        sources = np.atleast_1d(np.asarray(sources, dtype=np.int64))
        dist, pred = dijkstra(graph, directed=True, indices=n + sources,
                              return_predecessors=True)
        return StepRoutes(dist, pred, sources, n, g, len(edges))


def rtt_ms(length_km: float | np.ndarray) -> float | np.ndarray:
    """Round-trip propagation time of a one-way path length (ms), c in vacuum."""
    return 2.0 * np.asarray(length_km) / SPEED_OF_LIGHT_KM_S * 1e3
