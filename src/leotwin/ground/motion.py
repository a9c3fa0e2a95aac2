"""Terminals that move: paths of waypoints, and where each moving terminal is at any instant.

A moving terminal follows waypoints (UTC ns, latitude, longitude, altitude) joined by
great-circle legs flown at constant speed: between waypoints i and i+1 its unit position vector
is the spherical linear interpolation (slerp; Shoemake 1985) of theirs, so it moves along the
great circle at the leg's constant angular rate, and its speed is the leg's central angle ×
the mean Earth radius over the leg's duration.  Before its first waypoint a terminal waits at
it, after its last it stays there (speed 0 both).  Altitude is interpolated linearly.

Where the waypoints come from (a scenario's ``motion`` or ``ground.tracks``):

* a **tracks CSV** (``ground.sites.load_tracks_csv``, the file ``leotwin sites --tracks``
  checks): the waypoints as given;
* **straight**: one great circle from the terminal's place, at its speed, on a heading
  (given, or drawn uniformly);
* **random-walk** (road-like): legs of ``leg_km`` at the terminal's speed, each turning from
  the last heading by a normally distributed angle (σ ``turn_deg``); a leg that would leave
  the region the walk stays in turns back (heading + 180°), and if that leaves it too, the
  terminal waits out the leg where it is (speed 0);
* **orbit**: a circle of ``radius_km`` around the terminal's place (a loitering drone or a
  ship on station) at the terminal's speed, computed at each instant (no waypoints): the point
  at distance r on bearing θ(t) = θ₀ + v·t / (R sin(r/R)) · 180°/π from the centre, the small
  circle of radius R·sin(r/R) flown at ground speed v.

Destinations are on the sphere of the mean Earth radius (Williams, *Aviation Formulary*
§ "Lat/lon given radial and distance"; PHYSICS.md §1), the sphere the speeds are measured on:
against WGS84 geodesics (``pyproj.Geod``) distances and speeds agree within 0.6 %, the spread
of the ellipsoid's radii of curvature about the mean radius (tested).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from leotwin.geodesy import MEAN_EARTH_RADIUS_KM
from leotwin.timegrid.grid import NS_PER_S

PATHS = ("fixed", "straight", "random-walk", "orbit")
NS_PER_HOUR = 3600 * NS_PER_S


def destination(lat_deg, lon_deg, bearing_deg, distance_km):
    """The point ``distance_km`` from (lat, lon) on initial bearing ``bearing_deg`` (clockwise
    from north), on the sphere of the mean Earth radius (Aviation Formulary); broadcasts."""
    phi, lam = np.radians(lat_deg), np.radians(lon_deg)
    theta = np.radians(bearing_deg)
    d = np.asarray(distance_km, dtype=np.float64) / MEAN_EARTH_RADIUS_KM
    sin_phi2 = np.sin(phi) * np.cos(d) + np.cos(phi) * np.sin(d) * np.cos(theta)
    phi2 = np.arcsin(np.clip(sin_phi2, -1.0, 1.0))
    lam2 = lam + np.arctan2(np.sin(theta) * np.sin(d) * np.cos(phi),
                            np.cos(d) - np.sin(phi) * sin_phi2)
    return np.degrees(phi2), (np.degrees(lam2) + 180.0) % 360.0 - 180.0


def _units(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1)


@dataclass
class PathGroup:
    """Terminals that share waypoint instants (one generated population, or one CSV track)."""

    terminals: np.ndarray  # (M,) indices of the terminals among a run's
    time_ns: np.ndarray  # (W,) UTC ns, strictly increasing
    lat_deg: np.ndarray  # (M, W)
    lon_deg: np.ndarray  # (M, W)
    alt_km: np.ndarray  # (M, W)
    _u: np.ndarray | None = field(default=None, repr=False)
    _omega: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.terminals = np.asarray(self.terminals, np.int64)
        self.time_ns = np.asarray(self.time_ns, np.int64)
        self.lat_deg, self.lon_deg, self.alt_km = (np.atleast_2d(np.asarray(a, np.float64))
                                                   for a in (self.lat_deg, self.lon_deg,
                                                             self.alt_km))

    def select(self, keep: np.ndarray) -> PathGroup:
        return PathGroup(self.terminals[keep], self.time_ns, self.lat_deg[keep],
                         self.lon_deg[keep], self.alt_km[keep])

    def at(self, time_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(lat deg, lon deg, alt km, speed km/h), each (n, M), at the UTC instants."""
        t = np.asarray(time_ns, dtype=np.int64)
        n, m, w = len(t), len(self.terminals), len(self.time_ns)
        if w == 1 or not m:
            shape = (n, m)
            return (np.broadcast_to(self.lat_deg[:, 0], shape).copy(),
                    np.broadcast_to(self.lon_deg[:, 0], shape).copy(),
                    np.broadcast_to(self.alt_km[:, 0], shape).copy(), np.zeros(shape))
        if self._u is None:
            self._u = _units(self.lat_deg, self.lon_deg)  # (M, W, 3)
            dots = (self._u[:, :-1] * self._u[:, 1:]).sum(-1)
            self._omega = np.arccos(np.clip(dots, -1.0, 1.0))  # (M, W-1) leg central angles
        omega_all = self._omega
        assert omega_all is not None
        k = np.clip(np.searchsorted(self.time_ns, t, side="right") - 1, 0, w - 2)
        t0, t1 = self.time_ns[k], self.time_ns[k + 1]
        f = np.clip((t - t0) / (t1 - t0), 0.0, 1.0)  # (n,)
        a, b = self._u[:, k], self._u[:, k + 1]  # (M, n, 3)
        omega = omega_all[:, k]  # (M, n)
        so = np.sin(omega)
        with np.errstate(invalid="ignore", divide="ignore"):
            wa = np.where(so > 1e-12, np.sin((1 - f) * omega) / so, 1 - f)
            wb = np.where(so > 1e-12, np.sin(f * omega) / so, f)
        p = wa[..., None] * a + wb[..., None] * b
        lat = np.degrees(np.arctan2(p[..., 2], np.hypot(p[..., 0], p[..., 1])))
        lon = np.degrees(np.arctan2(p[..., 1], p[..., 0]))
        alt = self.alt_km[:, k] + f * (self.alt_km[:, k + 1] - self.alt_km[:, k])
        speed = omega * MEAN_EARTH_RADIUS_KM / ((t1 - t0) / NS_PER_HOUR)
        moving = (t >= self.time_ns[0]) & (t < self.time_ns[-1])
        speed = np.where(moving[None, :], speed, 0.0)
        return lat.T, lon.T, alt.T, speed.T


@dataclass
class Movers:
    """The moving terminals of a run, in groups (``terminals``: their indices, in the order of
    the columns :meth:`at` returns)."""

    groups: list  # PathGroup or OrbitGroup
    #: each moving terminal's path kind (``track``, ``straight``, ``random-walk``, ``orbit``)
    kinds: list[str] = field(default_factory=list)

    @property
    def terminals(self) -> np.ndarray:
        if not self.groups:
            return np.zeros(0, np.int64)
        return np.concatenate([g.terminals for g in self.groups])

    def __len__(self) -> int:
        return sum(len(g.terminals) for g in self.groups)

    def select(self, keep: np.ndarray) -> Movers:
        """The movers where ``keep`` (over :attr:`terminals`) holds."""
        out, kinds, a = [], [], 0
        for g in self.groups:
            m = len(g.terminals)
            sel = np.asarray(keep[a:a + m], bool)
            if sel.any():
                out.append(g.select(sel))
            a += m
        kinds = [k for k, s in zip(self.kinds, keep, strict=True) if s] if self.kinds else []
        return Movers(out, kinds)

    def between(self, a: int, b: int) -> Movers:
        """The movers among terminals a … b−1."""
        t = self.terminals
        return self.select((t >= a) & (t < b))

    def at(self, time_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(lat deg, lon deg, alt km, speed km/h), each (n, M), at the UTC instants."""
        parts = [g.at(time_ns) for g in self.groups]
        n = len(np.atleast_1d(time_ns))
        if not parts:
            return tuple(np.zeros((n, 0)) for _ in range(4))  # type: ignore[return-value]
        return tuple(np.concatenate([p[i] for p in parts], axis=1)  # type: ignore[return-value]
                     for i in range(4))


# --- generated paths ---------------------------------------------------------------------------

def _times(start_ns: int, end_ns: int, leg_ns: float) -> np.ndarray:
    """Waypoint instants every ``leg_ns`` from ``start_ns`` until one at or after ``end_ns``."""
    legs = max(1, int(np.ceil((end_ns - start_ns) / leg_ns)))
    return start_ns + np.round(np.arange(legs + 1) * leg_ns).astype(np.int64)


def straight(terminals, lat, lon, alt_km, speed_kmh: float, start_ns: int, end_ns: int,
             heading_deg) -> PathGroup:
    """One great circle per terminal from its place on ``heading_deg`` (M,) at the speed."""
    t = np.array([start_ns, max(end_ns, start_ns + 1)], dtype=np.int64)
    dist = speed_kmh * (t[1] - t[0]) / NS_PER_HOUR
    lat2, lon2 = destination(lat, lon, heading_deg, dist)
    return PathGroup(terminals, t, np.stack([lat, lat2], 1), np.stack([lon, lon2], 1),
                     np.stack([alt_km, alt_km], 1))


def random_walk(terminals, lat, lon, alt_km, speed_kmh: float, start_ns: int, end_ns: int,
                rng: np.random.Generator, *, leg_km: float, turn_deg: float,
                heading_deg=None, inside=None) -> PathGroup:
    """Road-like random walks (module docstring); ``inside(lat, lon) -> bool array``: the
    region the walks stay in (None: anywhere)."""
    m = len(terminals)
    times = _times(start_ns, end_ns, leg_km / speed_kmh * NS_PER_HOUR)
    heading = (rng.uniform(0.0, 360.0, m) if heading_deg is None
               else np.broadcast_to(np.asarray(heading_deg, np.float64), (m,)).copy())
    la = np.empty((m, len(times)))
    lo = np.empty((m, len(times)))
    la[:, 0], lo[:, 0] = lat, lon
    for i in range(1, len(times)):
        heading = (heading + rng.normal(0.0, turn_deg, m)) % 360.0
        nla, nlo = destination(la[:, i - 1], lo[:, i - 1], heading, leg_km)
        if inside is not None:
            out = ~inside(nla, nlo)
            if out.any():
                heading[out] = (heading[out] + 180.0) % 360.0
                bla, blo = destination(la[out, i - 1], lo[out, i - 1], heading[out], leg_km)
                stuck = ~inside(bla, blo)
                bla[stuck], blo[stuck] = la[out, i - 1][stuck], lo[out, i - 1][stuck]
                nla[out], nlo[out] = bla, blo
        la[:, i], lo[:, i] = nla, nlo
    alt = np.repeat(np.asarray(alt_km, np.float64)[:, None], len(times), axis=1)
    return PathGroup(terminals, times, la, lo, alt)


@dataclass
class OrbitGroup:
    """Terminals circling their centres at one speed and radius (module docstring)."""

    terminals: np.ndarray  # (M,)
    lat_deg: np.ndarray  # (M,) centres
    lon_deg: np.ndarray
    alt_km: np.ndarray
    phase_deg: np.ndarray  # (M,) bearing from the centre at ``start_ns``
    radius_km: float
    speed_kmh: float
    start_ns: int
    end_ns: int

    def select(self, keep) -> OrbitGroup:
        return OrbitGroup(np.asarray(self.terminals)[keep], self.lat_deg[keep],
                          self.lon_deg[keep], self.alt_km[keep], self.phase_deg[keep],
                          self.radius_km, self.speed_kmh, self.start_ns, self.end_ns)

    def at(self, time_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(lat deg, lon deg, alt km, speed km/h), each (n, M), at the UTC instants."""
        t = np.asarray(time_ns, dtype=np.int64)
        hours = (np.clip(t, self.start_ns, self.end_ns) - self.start_ns) / NS_PER_HOUR
        small = MEAN_EARTH_RADIUS_KM * np.sin(self.radius_km / MEAN_EARTH_RADIUS_KM)
        turned = np.degrees(self.speed_kmh * hours / small)  # (n,)
        bearing = self.phase_deg[None, :] + turned[:, None]
        lat, lon = destination(self.lat_deg[None, :], self.lon_deg[None, :], bearing,
                               self.radius_km)
        moving = (t >= self.start_ns) & (t < self.end_ns)
        shape = bearing.shape
        speed = np.where(moving[:, None], self.speed_kmh, 0.0) * np.ones(shape)
        return lat, lon, np.broadcast_to(self.alt_km[None, :], shape).copy(), speed


def orbit(terminals, lat, lon, alt_km, speed_kmh: float, start_ns: int, end_ns: int,
          rng: np.random.Generator, *, radius_km: float) -> OrbitGroup:
    """Circles of ``radius_km`` around each terminal's place, from a random bearing."""
    m = len(terminals)
    return OrbitGroup(np.asarray(terminals, np.int64), np.asarray(lat, np.float64),
                      np.asarray(lon, np.float64), np.asarray(alt_km, np.float64),
                      rng.uniform(0.0, 360.0, m), float(radius_km), float(speed_kmh),
                      int(start_ns), int(end_ns))
