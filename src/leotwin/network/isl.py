"""Laser inter-satellite links: topologies and their physical limits.

* ``plus-grid``: each satellite links to the next satellite in its plane and to the satellite of
  the same slot (plus a configurable shift) in the next plane — two in-plane and two cross-plane
  neighbours each, four lasers (Hypatia's and LEOCraft's convention; FACTS.md §2 notes it is a
  modelling convention, not a SpaceX disclosure).  Built per shell; planes wrap around.
* ``none``: bent pipe only.
* ``nearest-k``: at each instant, the shortest feasible links first, while both satellites have
  a free laser (``lasers`` per satellite, default 4) and at most ``k`` links each.

A link is feasible when the straight segment between the satellites stays above the grazing
altitude (default 80 km above a sphere of the WGS-84 equatorial radius, Hypatia's convention) and,
optionally, when it is shorter than a maximum laser range.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from leotwin.errors import InputError
from leotwin.geodesy import WGS84
from leotwin.orbits.catalog import Constellation

TOPOLOGIES = ("plus-grid", "none", "nearest-k")
EARTH_RADIUS_KM = WGS84.a_km  # the grazing height is above the WGS-84 equatorial radius
DEFAULT_GRAZING_KM = 80.0


def check_topology(name: str, option: str = "--isl") -> str:
    if name not in TOPOLOGIES:
        raise InputError(f"unknown ISL topology '{name}': expected one of "
                         f"{', '.join(TOPOLOGIES)}", source=option)
    return name


def plus_grid(constellation: Constellation, cross_plane_shift: int = 0) -> np.ndarray:
    """(E, 2) satellite index pairs (i < j not implied; each link once) of the +Grid.

    Indices follow ``constellation.satellites()``: shell by shell, plane-major.
    """
    edges = []
    first = 0
    for shell in constellation.shells:
        p_count, s_count = shell.planes, shell.sats_per_plane
        p = np.repeat(np.arange(p_count), s_count)
        j = np.tile(np.arange(s_count), p_count)
        me = first + p * s_count + j
        if s_count > 1:
            edges.append(np.stack([me, first + p * s_count + (j + 1) % s_count], axis=1))
        if p_count > 1:
            nxt = first + ((p + 1) % p_count) * s_count + (j + cross_plane_shift) % s_count
            edges.append(np.stack([me, nxt], axis=1))
        first += shell.size
    out = np.concatenate(edges) if edges else np.empty((0, 2), np.int64)
    # a plane of 2 satellites (or 2 planes) would list a link twice: keep each once
    key = np.sort(out, axis=1)
    _, keep = np.unique(key, axis=0, return_index=True)
    return out[np.sort(keep)].astype(np.int64)


def max_isl_length_km(altitude_km: float, grazing_km: float = DEFAULT_GRAZING_KM,
                      radius_km: float = EARTH_RADIUS_KM) -> float:
    """Longest chord between two satellites at one altitude that clears the grazing altitude:
    2·√((R+h)² − (R+g)²) (Hypatia's ``MAX_ISL_LENGTH_M``)."""
    return float(2.0 * np.sqrt((radius_km + altitude_km) ** 2 - (radius_km + grazing_km) ** 2))


def feasible(r_a: np.ndarray, r_b: np.ndarray, grazing_km: float = DEFAULT_GRAZING_KM,
             max_km: float | None = None, radius_km: float = EARTH_RADIUS_KM) -> np.ndarray:
    """Which links (rows of r_a, r_b, km) clear the grazing altitude (and the range limit).

    The closest point of segment a→b to the Earth's centre is a + t(b − a) with
    t = clip(−a·(b − a)/|b − a|², 0, 1); it must be at least R + grazing away.
    """
    d = r_b - r_a
    dd = (d * d).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.clip(-(r_a * d).sum(-1) / dd, 0.0, 1.0)
    closest = r_a + t[..., None] * d
    ok = (closest * closest).sum(-1) >= (radius_km + grazing_km) ** 2
    if max_km is not None:
        ok &= dd <= max_km * max_km
    return ok & np.isfinite(dd)


def nearest_k(r: np.ndarray, k: int = 4, lasers: int = 4,
              grazing_km: float = DEFAULT_GRAZING_KM, max_km: float | None = 5400.0
              ) -> np.ndarray:
    """Links at one instant: shortest feasible first, each satellite at most min(k, lasers)."""
    limit = min(k, lasers)
    ok = np.isfinite(r).all(axis=1)
    idx = np.flatnonzero(ok)
    if idx.size < 2 or limit < 1:
        return np.empty((0, 2), np.int64)
    tree = cKDTree(r[idx])
    dist, nb = tree.query(r[idx], k=min(limit + 4, idx.size))
    a = np.repeat(np.arange(idx.size), nb.shape[1])
    b = nb.ravel()
    keep = a < b
    pairs = np.stack([idx[a[keep]], idx[b[keep]]], axis=1)
    length = dist.ravel()[keep]
    order = np.argsort(length, kind="stable")
    pairs = pairs[order]
    pairs = pairs[feasible(r[pairs[:, 0]], r[pairs[:, 1]], grazing_km, max_km)]
    used = np.zeros(len(r), dtype=np.int64)
    chosen = []
    for i, j in pairs:
        if used[i] < limit and used[j] < limit:
            used[i] += 1
            used[j] += 1
            chosen.append((i, j))
    return np.asarray(chosen, dtype=np.int64).reshape(-1, 2)
