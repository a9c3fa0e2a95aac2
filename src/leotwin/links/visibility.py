"""Which satellites each ground site sees: the exact elevation test, and a KD-tree that finds
the same pairs as brute force, fast.

Exact test: ``links.elevation.above_mask`` (PHYSICS.md §4.1), per candidate pair.

Candidate search (PHYSICS.md §4.2): a satellite at radius r covers a spherical cap of
Earth-central half-angle λ(ε) = arccos(R·cos ε / r) − ε around its sub-point.  On unit vectors
that cap is a Euclidean ball of radius 2 sin(λ/2), so a KD-tree over the sites' geocentric unit
vectors answers it exactly.  We make λ conservative (smallest site radius, largest satellite
radius, smallest mask, plus 0.3° for the geodetic-vs-geocentric normal, ≤ 0.19°), then apply the
exact test: the result is the brute-force pair set, pair for pair.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from scipy.spatial import cKDTree

from leotwin.geodesy import MEAN_EARTH_RADIUS_KM, WGS84, enu_basis
from leotwin.links.elevation import above_mask, elevation_deg

SPEED_OF_LIGHT_KM_S = 299_792.458  # exact (SI)
_MARGIN_RAD = np.radians(0.3)
#: up to this many sites every satellite is a candidate of every site: the exact test on all
#: pairs is cheaper than a KD-tree query per satellite (1 site × 4,408 satellites: 0.1 vs 3 ms)
DIRECT_MAX_SITES = 8


def coverage_geometry(altitude_km: float, elevation_deg: float,
                      radius_km: float = MEAN_EARTH_RADIUS_KM) -> dict[str, float]:
    """Spherical-Earth coverage of one satellite (Wertz & Larson, SMAD §5.2; PHYSICS.md §5.5).

    Returns the Earth-central half-angle λ (deg), ground radius R·λ (km), maximum slant range
    d = √((R+h)² − R²cos²ε) − R sin ε (km), off-nadir angle η (deg, sin η = R cos ε/(R+h)),
    and the one-way delay at that range (ms).
    """
    e = np.radians(elevation_deg)
    r = radius_km + altitude_km
    eta = np.arcsin(radius_km * np.cos(e) / r)
    lam = np.pi / 2 - e - eta
    d = np.sqrt(r**2 - (radius_km * np.cos(e)) ** 2) - radius_km * np.sin(e)
    return {"central_angle_deg": float(np.degrees(lam)), "ground_radius_km": float(radius_km * lam),
            "max_slant_range_km": float(d), "nadir_angle_deg": float(np.degrees(eta)),
            "one_way_delay_ms": float(d / SPEED_OF_LIGHT_KM_S * 1e3)}


def look_angles(sat_ecef: np.ndarray, site_ecef: np.ndarray, site_lat_deg, site_lon_deg
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Azimuth (deg from north, clockwise), elevation (deg) and slant range (km).

    ``sat_ecef`` (..., 3) and the site broadcast together (Vallado Alg. 27, SITE/RAZEL).
    """
    east, north, up = enu_basis(site_lat_deg, site_lon_deg)
    rho = np.asarray(sat_ecef) - np.asarray(site_ecef)
    rng = np.linalg.norm(rho, axis=-1)
    el = elevation_deg(rho, up)
    az = np.degrees(np.arctan2((rho * east).sum(-1), (rho * north).sum(-1))) % 360.0
    return az, el, rng


def _exact(sat_xyz, site_xyz, site_up, sin_mask, si, gi):
    """Exact elevation test on candidate pairs, component by component (1-D gathers are
    several times faster than gathering (n, 3) rows and summing along the short axis)."""
    rx = sat_xyz[0][si] - site_xyz[0][gi]
    ry = sat_xyz[1][si] - site_xyz[1][gi]
    rz = sat_xyz[2][si] - site_xyz[2][gi]
    up = rx * site_up[0][gi] + ry * site_up[1][gi] + rz * site_up[2][gi]
    r2 = rx * rx + ry * ry + rz * rz
    sm = sin_mask[gi]
    ok = above_mask(up, r2, sm * sm)
    rng = np.sqrt(r2[ok])
    return si[ok], gi[ok], np.degrees(np.arcsin(np.clip(up[ok] / rng, -1, 1))), rng


def _columns(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float64)
    return (np.ascontiguousarray(a[:, 0]), np.ascontiguousarray(a[:, 1]),
            np.ascontiguousarray(a[:, 2]))


def visible_pairs_brute(sat_ecef: np.ndarray, site_ecef: np.ndarray, site_up: np.ndarray,
                        min_elevation_deg, chunk: int = 2048):
    """Reference: every satellite against every site (chunked over satellites).

    Returns (sat index, site index, elevation deg, slant range km), sorted by (sat, site).
    """
    sat_xyz, site_xyz, up_xyz = _columns(sat_ecef), _columns(site_ecef), _columns(site_up)
    m = len(site_ecef)
    sin_mask = np.sin(np.radians(np.broadcast_to(min_elevation_deg, (m,)).astype(float)))
    out: list[list[np.ndarray]] = [[], [], [], []]
    chunk = max(1, chunk * 1000 // max(m, 1))
    for a in range(0, len(sat_ecef), chunk):
        n = min(chunk, len(sat_ecef) - a)
        si = np.repeat(np.arange(a, a + n), m)
        gi = np.tile(np.arange(m), n)
        for k, arr in enumerate(_exact(sat_xyz, site_xyz, up_xyz, sin_mask, si, gi)):
            out[k].append(arr)
    return tuple(np.concatenate(x) if x else np.empty(0) for x in out)


#: with more satellites than this many times the sites, the satellites are indexed instead
#: (222 gateways, 9,448 satellites: 2.6 ms against 14 ms per instant)
FEW_SITES_RATIO = 8


class VisibilityIndex:
    """Static ground sites, indexed once; ``pairs(sat_ecef)`` per instant.

    ``min_elevation_deg``: one mask for all sites or one per site, each in [0, 90).
    """

    def __init__(self, site_ecef: np.ndarray, site_up: np.ndarray, min_elevation_deg):
        self.site_ecef = np.ascontiguousarray(site_ecef, dtype=np.float64)
        self.site_up = np.ascontiguousarray(site_up, dtype=np.float64)
        self._site_xyz, self._up_xyz = _columns(self.site_ecef), _columns(self.site_up)
        m = len(self.site_ecef)
        self.mask_deg = np.broadcast_to(np.asarray(min_elevation_deg, float), (m,)).copy()
        self.sin_mask = np.sin(np.radians(self.mask_deg))
        radius = np.linalg.norm(self.site_ecef, axis=1)
        self.min_site_radius = float(radius.min()) if m else WGS84.b_km
        self._radius = radius
        self.min_mask_rad = float(np.radians(self.mask_deg.min())) if m else 0.0

    @cached_property
    def tree(self) -> cKDTree | None:
        """KD-tree of the sites' unit vectors, built when first queried (a per-instant index
        of moving sites that the dense method serves never needs one)."""
        if not len(self.site_ecef):
            return None
        return cKDTree(self.site_ecef / self._radius[:, None])

    def cap_chord(self, max_sat_radius_km: float) -> float:
        """Conservative chord radius on the unit sphere for satellites up to that radius."""
        e = self.min_mask_rad
        ratio = min(1.0, self.min_site_radius * np.cos(e) / max_sat_radius_km)
        lam = np.arccos(ratio) - e + _MARGIN_RAD
        return float(2.0 * np.sin(min(lam, np.pi) / 2.0))

    def candidates(self, sat_ecef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sat index, site index) pairs that may be visible (a superset of the visible ones),
        ordered by satellite, then site."""
        empty = (np.empty(0, np.int64), np.empty(0, np.int64))
        if self.tree is None or len(sat_ecef) == 0:
            return empty
        r = np.linalg.norm(sat_ecef, axis=1)
        ok = np.isfinite(r)
        if not ok.any():
            return empty
        sat_idx = np.flatnonzero(ok)
        m = len(self.site_ecef)
        if m <= DIRECT_MAX_SITES:  # every pair: cheaper than one tree query per satellite
            return np.repeat(sat_idx, m), np.tile(np.arange(m, dtype=np.int64), len(sat_idx))
        units = sat_ecef[ok] / r[ok, None]
        chord = self.cap_chord(float(r[ok].max()))
        if m * FEW_SITES_RATIO < len(sat_idx):
            # few sites (gateways): a tree of this instant's satellites, one query per site —
            # the same pairs (the chord test is symmetric), then ordered by satellite
            found = cKDTree(units).query_ball_point(self.site_ecef / self._radius[:, None],
                                                    chord)
            lengths = np.fromiter((len(x) for x in found), dtype=np.int64, count=m)
            if lengths.sum() == 0:
                return empty
            si = sat_idx[np.concatenate([np.asarray(x, dtype=np.int64) for x in found if x])]
            gi = np.repeat(np.arange(m, dtype=np.int64), lengths)
            order = np.lexsort((gi, si))
            return si[order], gi[order]
        # single-threaded on purpose: with workers=-1 scipy runs Python threads whose C target
        # can touch freed buffers when Ctrl-C interrupts the main thread (a segfault, seen in
        # tests); one thread costs ~35 % on this call, and runs parallelise across processes
        found = self.tree.query_ball_point(units, chord, return_sorted=True)
        lengths = np.fromiter((len(x) for x in found), dtype=np.int64, count=len(found))
        if lengths.sum() == 0:
            return empty
        gi = np.concatenate([np.asarray(x, dtype=np.int64) for x in found if x])
        return np.repeat(sat_idx, lengths), gi

    def pairs(self, sat_ecef: np.ndarray):
        """Visible (sat index, site index, elevation deg, slant range km), sorted by (sat, site);
        the same set as :func:`visible_pairs_brute`."""
        sat_ecef = np.asarray(sat_ecef, dtype=np.float64)
        si, gi = self.candidates(sat_ecef)
        return _exact(_columns(sat_ecef), self._site_xyz, self._up_xyz, self.sin_mask, si, gi)

    def ranges(self, sat_ecef: np.ndarray, si: np.ndarray, gi: np.ndarray) -> np.ndarray:
        """Slant range (km) of given (sat, site) pairs, by the very arithmetic of
        :meth:`pairs` (the same bits)."""
        sx, sy, sz = _columns(sat_ecef)
        gx, gy, gz = self._site_xyz
        rx, ry, rz = sx[si] - gx[gi], sy[si] - gy[gi], sz[si] - gz[gi]
        return np.sqrt(rx * rx + ry * ry + rz * rz)

    def highest(self, sat_ecef: np.ndarray) -> np.ndarray:
        """The satellite each site sees highest, (M,) int64, −1 where none (ties: the lowest
        satellite index) — the ``highest-elevation`` assignment at a slot start
        (``network.access``)."""
        si, gi, el, _ = self.pairs(sat_ecef)
        return highest_by_site(si, gi, el, len(self.site_ecef))

    def counts(self, sat_ecef: np.ndarray) -> np.ndarray:
        """Number of satellites each site sees, (M,)."""
        _, gi, _, _ = self.pairs(sat_ecef)
        return np.bincount(gi, minlength=len(self.site_ecef))


def highest_by_site(si: np.ndarray, gi: np.ndarray, el: np.ndarray, m: int) -> np.ndarray:
    """Per site (0 … m−1) the satellite of pairs (``si``, ``gi``, elevation ``el``) with the
    highest elevation, the lowest satellite index on a tie; −1 for a site in no pair."""
    out = np.full(m, -1, dtype=np.int64)
    if len(gi):
        el = np.asarray(el, dtype=np.float64)
        best = np.full(m, -np.inf)
        np.maximum.at(best, gi, el)
        top = el == best[gi]
        lowest = np.full(m, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(lowest, gi[top], np.asarray(si, dtype=np.int64)[top])
        seen = np.isfinite(best)
        out[seen] = lowest[seen]
    return out
