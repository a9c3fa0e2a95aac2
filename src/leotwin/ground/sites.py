"""Ground sites: user terminals (fixed or moving), gateways and PoPs.

Positions are WGS-84 geodetic (degrees, km above the ellipsoid).  Each site has a minimum
elevation angle (defaults 25° for terminals and gateways, FCC 21-48; FACTS.md §1.3).  Moving
terminals follow timed waypoints, interpolated along the great circle (spherical linear
interpolation of geocentric unit vectors) with height linear in time; before the first and
after the last waypoint they stand still.  Speeds are great-circle distance over time on the
mean Earth sphere (R = 6371.0088 km, IUGG).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import numpy as np

from leotwin.errors import InputError
from leotwin.geodesy import MEAN_EARTH_RADIUS_KM
from leotwin.io.text import csv_rows, read_text, unique_header
from leotwin.timegrid.grid import parse_time

DEFAULT_TERMINAL_MASK_DEG = 25.0
DEFAULT_GATEWAY_MASK_DEG = 25.0
#: ground sites' heights, m: from below the Dead Sea shore (−430 m) to above Everest (8,849 m)
MIN_SITE_ALT_M, MAX_SITE_ALT_M = -500, 9000
#: a moving terminal's height, m: up to airliner cruise and above (Aviation plans, FACTS.md P5)
MAX_TRACK_ALT_M = 20_000
#: the highest elevation mask accepted, deg (a mask of 90° would see nothing)
MAX_MASK_DEG = 89.999999
#: synthetic terminals: rejection-sampling rounds before giving up, and the smallest draw
MAX_DRAWS, MIN_DRAW = 1000, 64


#: the heights of a ground site or terminal accepted, metres above WGS-84 (the Dead Sea shore
#: to above airliners; the control plane's bounds)
ALT_RANGE_M = (-500.0, 50_000.0)


def check_altitude(value: float, where: str = "--alt-m") -> float:
    """A site's height (m): a finite number in :data:`ALT_RANGE_M`."""
    lo, hi = ALT_RANGE_M
    if not lo <= value <= hi:  # false for NaN too
        raise InputError(f"height {value} m is outside [{lo:g}, {hi:g}] m", source=where)
    return float(value)


def check_position(lat: float, lon: float, where: tuple[str, str] = ("--lat", "--lon")
                   ) -> tuple[float, float]:
    """Geodetic latitude in [−90, 90] and longitude in [−180, 180] degrees (NaN refused)."""
    if not -90.0 <= lat <= 90.0:
        raise InputError(f"latitude {lat} is outside [-90, 90]", source=where[0])
    if not -180.0 <= lon <= 180.0:
        raise InputError(f"longitude {lon} is outside [-180, 180]", source=where[1])
    return float(lat), float(lon)


def check_speed(value: float, where: str = "--speed-kmh") -> float:
    """A ground speed (km/h): finite, ≥ 0, at most 5,000 (the control plane's bound)."""
    if not 0.0 <= value <= 5000.0:
        raise InputError(f"speed {value} km/h is outside [0, 5000] km/h", source=where)
    return float(value)


def check_mask(value: float, where: str = "--min-elevation") -> float:
    """An elevation mask must be in [0, 90) degrees."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"expected an elevation in degrees, got '{value}'", source=where) from None
    if not 0.0 <= v < 90.0:
        raise InputError(f"elevation mask must be within [0, 90) degrees, got {v}", source=where)
    return v


@dataclass
class GroundSites:
    """M fixed ground sites as arrays; ``kind`` is terminal, gateway or pop."""

    ids: list[str]
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_km: np.ndarray
    min_elevation_deg: np.ndarray
    kind: str = "terminal"
    attrs: dict[str, list] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, index) -> GroundSites:
        idx = np.arange(len(self))[index]
        return GroundSites([self.ids[i] for i in idx], self.lat_deg[idx], self.lon_deg[idx],
                           self.alt_km[idx], self.min_elevation_deg[idx], self.kind,
                           {k: [v[i] for i in idx] for k, v in self.attrs.items()})


def _float(row: dict, key: str, source: str, line: int, low: float, high: float,
           default: float | None = None) -> float:
    text = (row.get(key) or "").strip()
    if not text:
        if default is not None:
            return default
        raise InputError(f"missing value for column {key}", source=source, line=line, field=key)
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"expected a number, found '{text}'", source=source, line=line,
                         field=key) from None
    if not (low <= value <= high):
        raise InputError(f"{key} {value} is outside [{low}, {high}]", source=source, line=line,
                         field=key)
    return value


#: optional columns that hold whole counts (a gateway's antennas)
COUNT_COLUMNS = ("antennas",)


def _count(row: dict, key: str, source: str, line: int) -> int | None:
    text = (row.get(key) or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise InputError(f"expected a whole number of {key}, found '{text}'", source=source,
                         line=line, field=key)
    return int(text)


def load_sites_csv(path: str | Path, kind: str = "terminal",
                   default_mask_deg: float = DEFAULT_TERMINAL_MASK_DEG) -> GroundSites:
    """Sites from CSV: ``id`` (or ``terminal_id``/``name``), ``lat_deg``, ``lon_deg``, optional
    ``alt_m``, ``min_elevation_deg`` and any other columns (kept as attributes, e.g. ``plan``)."""
    path = Path(path)
    text = read_text(path)
    head = unique_header(next(csv.reader(io.StringIO(text)), []), path)
    id_col = next((c for c in ("id", "terminal_id", "site_id", "name") if c in head), None)
    if id_col is None:
        raise InputError("missing an id column: expected id, terminal_id, site_id or name",
                         source=path, line=1)
    ids, lat, lon, alt, mask = [], [], [], [], []
    attrs: dict[str, list] = {c: [] for c in head
                              if c not in (id_col, "lat_deg", "lon_deg", "alt_m",
                                           "min_elevation_deg")}
    seen: dict[str, int] = {}
    for line, row in csv_rows(text, str(path), (id_col, "lat_deg", "lon_deg")):
        sid = (row[id_col] or "").strip()
        if not sid:
            raise InputError("empty id", source=path, line=line, field=id_col)
        if sid in seen:
            raise InputError(f"id '{sid}' appears twice (also line {seen[sid]})", source=path,
                             line=line, field=id_col)
        seen[sid] = line
        ids.append(sid)
        lat.append(_float(row, "lat_deg", str(path), line, -90, 90))
        lon.append(_float(row, "lon_deg", str(path), line, -180, 180))
        alt.append(_float(row, "alt_m", str(path), line, MIN_SITE_ALT_M, MAX_SITE_ALT_M, 0.0)
                   / 1000.0)
        m = _float(row, "min_elevation_deg", str(path), line, 0, MAX_MASK_DEG, default_mask_deg)
        mask.append(m)
        for k in attrs:
            attrs[k].append(_count(row, k, str(path), line) if k in COUNT_COLUMNS
                            else row.get(k))
    if not ids:
        raise InputError("no sites found", source=path)
    return GroundSites(ids, np.array(lat), np.array(lon), np.array(alt), np.array(mask), kind,
                       attrs)


def gateways(path: str | Path | None = None, *, distinct: bool = True,
             min_elevation_deg: float = DEFAULT_GATEWAY_MASK_DEG) -> GroundSites:
    """Starlink gateways: the bundled community list (StarPerf, 2023–2024) or a CSV.

    ``distinct=True`` merges rows at identical coordinates (the Ka and E rows of one site:
    261 rows → 222 sites), keeping the first name and summing antennas.
    """
    if path is not None:
        return load_sites_csv(path, "gateway", min_elevation_deg)
    from leotwin.data import gateway_rows

    rows = gateway_rows()
    merged: dict[tuple[str, str], dict] = {}
    for row in rows:
        key = (row["lat_deg"], row["lon_deg"]) if distinct else (row["source_id"], "")
        if key in merged:
            merged[key]["antennas"] += int(row["antennas"])
            merged[key]["bands"].append(row["frequency"])
        else:
            merged[key] = dict(row, antennas=int(row["antennas"]), bands=[row["frequency"]])
    items = list(merged.values())
    return GroundSites(
        ids=[r["source_id"] for r in items],
        lat_deg=np.array([float(r["lat_deg"]) for r in items]),
        lon_deg=np.array([float(r["lon_deg"]) for r in items]),
        alt_km=np.zeros(len(items)),
        min_elevation_deg=np.full(len(items), check_mask(min_elevation_deg)),
        kind="gateway",
        attrs={"name": [r["name"] for r in items], "antennas": [r["antennas"] for r in items],
               "bands": ["+".join(r["bands"]) for r in items],
               "country_hint": [r["country_hint"] for r in items]},
    )


def pops(path: str | Path | None = None) -> GroundSites:
    """Starlink points of presence: the bundled list (23, metro-level) or a CSV."""
    if path is not None:
        return load_sites_csv(path, "pop", 0.0)
    from leotwin.data import pop_rows

    rows = pop_rows()
    return GroundSites(
        ids=[r["source_id"] for r in rows],
        lat_deg=np.array([float(r["lat_deg"]) for r in rows]),
        lon_deg=np.array([float(r["lon_deg"]) for r in rows]),
        alt_km=np.zeros(len(rows)), min_elevation_deg=np.zeros(len(rows)), kind="pop",
        attrs={"name": [r["name"] for r in rows], "iata": [r["iata_hint"] for r in rows]},
    )


def cities() -> GroundSites:
    """The bundled named places: Hypatia's 100 most populous cities (2025 estimate), at the
    terminals' default mask."""
    from leotwin.data import city_rows

    rows = city_rows()
    return GroundSites(
        ids=[r[1] for r in rows],
        lat_deg=np.array([float(r[2]) for r in rows]),
        lon_deg=np.array([float(r[3]) for r in rows]),
        alt_km=np.array([float(r[4]) / 1000.0 for r in rows]),
        min_elevation_deg=np.full(len(rows), DEFAULT_TERMINAL_MASK_DEG), kind="terminal",
        attrs={"hypatia_id": [int(r[0]) for r in rows]},
    )


# --- moving terminals --------------------------------------------------------------------------

@dataclass
class Track:
    """A moving terminal: waypoints (UTC ns, lat, lon, alt km) in strictly increasing time."""

    terminal_id: str
    time_ns: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_km: np.ndarray

    def __post_init__(self) -> None:
        if len(self.time_ns) < 1:
            raise InputError("a track needs at least one waypoint", field=self.terminal_id)
        d = np.diff(self.time_ns)
        if np.any(d <= 0):
            k = int(np.flatnonzero(d <= 0)[0]) + 1
            raise InputError(f"waypoint {k} of terminal {self.terminal_id} is not later than "
                             "the one before: waypoints must be in strictly increasing time",
                             field="time")

    def at(self, time_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(lat, lon, alt km, speed km/h) at the given UTC instants (``ground.motion``: great
        circles at constant speed between waypoints)."""
        from leotwin.ground.motion import PathGroup

        group = PathGroup(np.zeros(1, np.int64), self.time_ns, self.lat_deg[None],
                          self.lon_deg[None], self.alt_km[None])
        lat, lon, alt, speed = group.at(np.atleast_1d(np.asarray(time_ns, np.int64)))
        return lat[:, 0], lon[:, 0], alt[:, 0], speed[:, 0]


def load_tracks_csv(path: str | Path) -> list[Track]:
    """Tracks from CSV rows ``terminal_id,time,lat_deg,lon_deg[,alt_m]`` (time ISO 8601 UTC)."""
    path = Path(path)
    groups: dict[str, list] = {}
    columns = ("terminal_id", "time", "lat_deg", "lon_deg")
    for line, row in csv_rows(read_text(path), str(path), columns):
        tid = (row["terminal_id"] or "").strip()
        if not tid:
            raise InputError("empty terminal_id", source=path, line=line, field="terminal_id")
        t = parse_time(row["time"], source=f"{path}, line {line}, field time")
        groups.setdefault(tid, []).append((
            line, t, _float(row, "lat_deg", str(path), line, -90, 90),
            _float(row, "lon_deg", str(path), line, -180, 180),
            _float(row, "alt_m", str(path), line, MIN_SITE_ALT_M, MAX_TRACK_ALT_M, 0.0)
            / 1000.0))
    tracks = []
    for tid, pts in groups.items():
        for (l0, t0, *_), (l1, t1, *_) in pairwise(pts):
            if t1 <= t0:
                raise InputError(f"waypoints of terminal {tid} are not in time order (line {l0}"
                                 f" is at or after line {l1})", source=path, line=l1,
                                 field="time")
        arr = np.array([p[1:] for p in pts], dtype=object)
        tracks.append(Track(tid, arr[:, 0].astype(np.int64), arr[:, 1].astype(float),
                            arr[:, 2].astype(float), arr[:, 3].astype(float)))
    if not tracks:
        raise InputError("no waypoints found", source=path)
    return tracks


# --- synthetic populations ---------------------------------------------------------------------

def synthetic_terminals(region, n: int, *, seed: int, mode: str = "uniform",
                        centers: list[tuple[float, float]] | None = None,
                        spread_km: float = 50.0, prefix: str = "T",
                        min_elevation_deg: float = DEFAULT_TERMINAL_MASK_DEG) -> GroundSites:
    """``n`` terminals inside ``region``, reproducible from ``seed``.

    ``uniform``: uniform by area on the sphere (latitude drawn from sin φ uniform) within the
    region's bounding box, points outside rejected.  ``clustered``: Gaussian clusters of
    standard deviation ``spread_km`` around ``centers`` (lat, lon), points outside rejected.
    ``population``: where people live (``ground.populations``).
    """
    if n < 1:
        raise InputError(f"the number of terminals must be at least 1, got {n}", field="count")
    if mode not in ("uniform", "clustered", "population"):
        raise InputError(f"mode must be uniform, clustered or population, got '{mode}'",
                         field="mode")
    if mode == "clustered" and not centers:
        raise InputError("clustered terminals need at least one centre (lat, lon)",
                         field="centers")
    rng = np.random.default_rng(seed)
    width = len(str(n - 1))
    ids = [f"{prefix}{k:0{width}d}" for k in range(n)]
    if mode == "population":
        from leotwin.ground.populations import population_positions

        lat, lon = population_positions(region, n, rng)
        return GroundSites(ids, lat, lon, np.zeros(n), np.full(n, check_mask(min_elevation_deg)),
                           "terminal")
    west, south, east, north = region.bounds
    lat_out, lon_out = np.empty(0), np.empty(0)
    for _ in range(MAX_DRAWS):
        m = max(MIN_DRAW, 2 * (n - lat_out.size))
        if mode == "uniform":
            s = rng.uniform(np.sin(np.radians(south)), np.sin(np.radians(north)), m)
            lat = np.degrees(np.arcsin(s))
            lon = rng.uniform(west, east, m)
        else:
            assert centers is not None
            c = np.asarray(centers, dtype=float)[rng.integers(0, len(centers), m)]
            dn, de = rng.normal(0.0, spread_km, (2, m))
            lat = c[:, 0] + np.degrees(dn / MEAN_EARTH_RADIUS_KM)
            lon = c[:, 1] + np.degrees(de / (MEAN_EARTH_RADIUS_KM * np.cos(np.radians(c[:, 0]))))
            lon = (lon + 180.0) % 360.0 - 180.0
        keep = region.contains(lat, lon)
        lat_out = np.concatenate([lat_out, lat[keep]])
        lon_out = np.concatenate([lon_out, lon[keep]])
        if lat_out.size >= n:
            break
    else:
        raise InputError("could not place the terminals inside the region: are the cluster "
                         "centres inside it?", field="centers")
    return GroundSites(ids, lat_out[:n], lon_out[:n],
                       np.zeros(n), np.full(n, check_mask(min_elevation_deg)), "terminal")
