"""Lon/lat polygon hygiene: antimeridian splitting, ring orientation, validation.

Polygons are shapely geometries in (longitude, latitude) degrees on WGS-84.  A ring that crosses
the ±180° meridian is written with a jump of more than 180° between two vertices; we unwrap its
longitudes, cut it at 180°, and shift the eastern part back, so every stored polygon lies within
[−180, 180] and planar point-in-polygon tests are correct.  Exterior rings are counter-clockwise
(RFC 7946 §3.1.6).
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.polygon import orient

from leotwin.errors import InputError

_WEST = box(-540.0, -90.0, 180.0, 90.0)
_EAST = box(180.0, -90.0, 540.0, 90.0)


def _unwrap(coords: np.ndarray) -> np.ndarray:
    lon = np.degrees(np.unwrap(np.radians(coords[:, 0])))
    return np.column_stack([lon, coords[:, 1]])


def crosses_antimeridian(poly: Polygon) -> bool:
    """True when a ring jumps by more than 180° of longitude between consecutive vertices."""
    rings = [poly.exterior, *poly.interiors]
    return any(np.any(np.abs(np.diff(np.asarray(r.coords)[:, 0])) > 180.0) for r in rings)


def split_antimeridian(poly: Polygon) -> list[Polygon]:
    """Cut a polygon that crosses ±180° into parts within [−180, 180]."""
    if not crosses_antimeridian(poly):
        return [poly]
    shell = _unwrap(np.asarray(poly.exterior.coords))
    if abs(shell[-1, 0] - shell[0, 0]) > 180.0:
        # the ring encircles a pole (Antarctica): close it along the pole's latitude
        pole = -90.0 if shell[:, 1].mean() < 0 else 90.0
        shell = np.vstack([shell, [[shell[-1, 0], pole], [shell[0, 0], pole], shell[0]]])
    holes = [_unwrap(np.asarray(r.coords)) for r in poly.interiors]
    # put the holes on the same branch as the shell
    centre = shell[:, 0].mean()
    holes = [h + np.array([360.0 * round((centre - h[:, 0].mean()) / 360.0), 0.0])
             for h in holes]
    unwrapped = Polygon(shell, holes)
    if unwrapped.bounds[0] < -180.0:
        unwrapped = shapely.affinity.translate(unwrapped, xoff=360.0)
    parts = []
    for half, shift in ((_WEST, 0.0), (_EAST, -360.0)):
        piece = unwrapped.intersection(half)
        if not piece.is_empty:
            piece = shapely.affinity.translate(piece, xoff=shift)
            parts.extend(polygons_of(piece))
    return parts


def polygons_of(geom) -> list[Polygon]:
    """The polygons inside any geometry (collections flattened, lines and points dropped)."""
    if isinstance(geom, Polygon):
        return [] if geom.is_empty else [geom]
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in polygons_of(g)]
    return []


def clean_multipolygon(polys: list[Polygon]) -> MultiPolygon:
    """Antimeridian-split, valid, counter-clockwise MultiPolygon from polygon parts."""
    out: list[Polygon] = []
    for p in polys:
        for part in split_antimeridian(p):
            if not part.is_valid:
                part = shapely.make_valid(part)
            out.extend(orient(q, sign=1.0) for q in polygons_of(part) if q.area > 0)
    return MultiPolygon(out)


def check_polygon_coords(rings: list, where: str) -> None:
    """Validate GeoJSON ring coordinates: [lon, lat] pairs within range, closed, ≥ 4 points."""
    for k, ring in enumerate(rings):
        for j, pos in enumerate(ring if isinstance(ring, list) else []):
            if not isinstance(pos, list) or not all(
                    isinstance(c, (int, float)) and not isinstance(c, bool) for c in pos):
                raise InputError(f"ring {k} position {j} is {pos!r}: expected [lon, lat] as "
                                 "JSON numbers (not strings or booleans)", source=where)
        try:
            arr = np.asarray(ring, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"ring {k} is not a list of [lon, lat] numbers",
                             source=where) from None
        if arr.ndim != 2 or arr.shape[1] < 2:
            raise InputError(f"ring {k} is not a list of [lon, lat] positions", source=where)
        if arr.shape[0] < 4:
            raise InputError(f"ring {k} has {arr.shape[0]} positions, a closed ring needs 4",
                             source=where)
        if not np.all(np.isfinite(arr[:, :2])):
            raise InputError(f"ring {k} has a non-finite coordinate", source=where)
        bad_lat = np.flatnonzero(np.abs(arr[:, 1]) > 90.0)
        if bad_lat.size:
            lon, lat = arr[bad_lat[0], :2]
            hint = " (are longitude and latitude swapped?)" if abs(lon) <= 90 else ""
            raise InputError(f"ring {k} position {bad_lat[0]} has latitude {lat}, expected "
                             f"[-90, 90]; GeoJSON order is [longitude, latitude]{hint}",
                             source=where)
        bad_lon = np.flatnonzero(np.abs(arr[:, 0]) > 180.0)
        if bad_lon.size:
            raise InputError(f"ring {k} position {bad_lon[0]} has longitude "
                             f"{arr[bad_lon[0], 0]}, expected [-180, 180]", source=where)
        if not np.array_equal(arr[0, :2], arr[-1, :2]):
            raise InputError(f"ring {k} is not closed: its first and last positions differ",
                             source=where)
