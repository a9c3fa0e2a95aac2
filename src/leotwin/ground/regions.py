"""Regions: countries (bundled Natural Earth 1:50m), custom GeoJSON zones, and sets of H3 cells.

A region reference, as users give it on the command line or in a scenario, is an ISO 3166-1
alpha-2 or alpha-3 code (``UA``, ``UKR``, ``TW``), a country name as Natural Earth spells it,
``land`` (every country), or the path of a GeoJSON file.  Point-in-region lookups are vectorised
with shapely 2 (``contains_xy`` on prepared geometries; an ``STRtree`` for many regions).
Areas are geodesic on WGS-84 (``pyproj.Geod``, Karney 2013).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.strtree import STRtree

from leotwin.errors import InputError
from leotwin.ground.geometry import check_polygon_coords, clean_multipolygon, polygons_of
from leotwin.io.jsonfile import load_json
from leotwin.io.text import read_text

_GEOD = Geod(ellps="WGS84")


@dataclass(eq=False)
class Region:
    """A named area on the ground: a lon/lat MultiPolygon (antimeridian-split, valid).

    ``code`` is the ISO alpha-2 code for countries, the file stem or feature name for zones.
    """

    code: str
    name: str
    geometry: MultiPolygon
    iso_a2: str | None = None
    iso_a3: str | None = None
    source: str = ""

    def contains(self, lat_deg, lon_deg) -> np.ndarray:
        """Boolean array: which points (degrees) lie inside (boundary counts as inside)."""
        if not shapely.is_prepared(self.geometry):  # (unprepared again after pickling)
            shapely.prepare(self.geometry)
        lat = np.asarray(lat_deg, dtype=np.float64)
        lon = np.asarray(lon_deg, dtype=np.float64)
        return shapely.intersects_xy(self.geometry, lon, lat)

    @cached_property
    def area_km2(self) -> float:
        """Geodesic area on the WGS-84 ellipsoid, km²."""
        return abs(_GEOD.geometry_area_perimeter(self.geometry)[0]) / 1e6

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat) in degrees."""
        return self.geometry.bounds


#: side of the tiles whose answer ``RegionSet.lookup`` remembers (deg; 0.1° ≈ 11 km)
TILE_DEG = 0.1
TILES_LON = round(360 / TILE_DEG)
TILES_LAT = round(180 / TILE_DEG)
#: a tile that a region's border crosses (its points are tested one by one); one not seen yet
BORDER, UNKNOWN = -2, -3


class RegionSet:
    """Many regions with a spatial index: ``lookup`` returns, per point, the region index or −1."""

    def __init__(self, regions: list[Region]):
        self.regions = regions
        parts, owner = [], []
        for k, region in enumerate(regions):
            for poly in region.geometry.geoms:
                parts.append(poly)
                owner.append(k)
        self._owner = np.asarray(owner, dtype=np.int64)
        self._parts = parts
        self._tree = STRtree(parts)
        self._tiles: np.ndarray | None = None  # (rows × cols) int16 verdicts, UNKNOWN untested

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_tiles": None}  # learnt again where it is used

    def __len__(self) -> int:
        return len(self.regions)

    def lookup(self, lat_deg, lon_deg, *, tiles: bool = False) -> np.ndarray:
        """Index into ``regions`` of the region holding each point, −1 where none does.

        Points on a shared border get the first region in order.  ``tiles``: remember the
        answer of each tile of :data:`TILE_DEG` that one region's polygon covers and no other
        polygon touches (or that none touches): points there take it without a polygon test,
        the others are tested exactly — for points that come back to the same tiles instant
        after instant (moving terminals); a tile costs more than a point the first time.
        """
        lat = np.atleast_1d(np.asarray(lat_deg, dtype=np.float64))
        lon = np.atleast_1d(np.asarray(lon_deg, dtype=np.float64))
        if not tiles:
            return self._exact(lat, lon)
        out = np.full(lat.shape, -1, dtype=np.int64)
        key = np.full(lat.shape, -1, dtype=np.int64)
        with np.errstate(invalid="ignore"):
            row = np.floor((lat + 90.0) / TILE_DEG)
            col = np.floor((lon + 180.0) / TILE_DEG)
        inside = (row >= 0) & (row < TILES_LAT) & (col >= 0) & (col < TILES_LON)
        key[inside] = row[inside].astype(np.int64) * TILES_LON + col[inside].astype(np.int64)
        if self._tiles is None:
            self._tiles = np.full(TILES_LAT * TILES_LON, UNKNOWN, dtype=np.int16)
        verdict = np.full(lat.shape, BORDER, dtype=np.int64)
        ok = key >= 0
        verdict[ok] = self._tiles[key[ok]]
        new = verdict == UNKNOWN
        if new.any():
            for k in np.unique(key[new]).tolist():
                self._tiles[k] = self._tile(k)
            verdict[new] = self._tiles[key[new]]
        known = verdict != BORDER
        out[known] = verdict[known]
        test = np.flatnonzero(~known)
        if len(test):
            out[test] = self._exact(lat[test], lon[test])
        return out

    def _tile(self, key: int) -> int:
        """A tile's region (−1: none) when every point of it has that answer; else BORDER."""
        row, col = divmod(key, TILES_LON)
        box = shapely.box(-180.0 + col * TILE_DEG, -90.0 + row * TILE_DEG,
                          -180.0 + (col + 1) * TILE_DEG, -90.0 + (row + 1) * TILE_DEG)
        touching = [int(i) for i in self._tree.query(box)
                    if shapely.intersects(self._part(int(i)), box)]
        if not touching:
            return -1
        if len(touching) == 1 and shapely.covers(self._part(touching[0]), box):
            return int(self._owner[touching[0]])
        return BORDER

    def _exact(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        # candidates by bounding box, then the exact test on each prepared polygon (the tree's
        # own predicate tests unprepared polygons: 50x slower for points inside a country)
        point_idx, part_idx = self._tree.query(shapely.points(lon, lat))
        order = np.argsort(part_idx, kind="stable")
        point_idx, part_idx = point_idx[order], part_idx[order]
        hit = np.zeros(len(point_idx), dtype=bool)
        cut = np.flatnonzero(np.diff(part_idx)) + 1
        for a, b in zip(np.r_[0, cut], np.r_[cut, len(part_idx)], strict=True):
            if b > a:
                part = self._part(int(part_idx[a]))
                sel = point_idx[a:b]
                hit[a:b] = shapely.intersects_xy(part, lon[sel], lat[sel])
        point_idx, part_idx = point_idx[hit], part_idx[hit]
        out = np.full(lat.shape, -1, dtype=np.int64)
        order = np.lexsort((self._owner[part_idx], point_idx))[::-1]  # first region wins
        out[point_idx[order]] = self._owner[part_idx[order]]
        return out

    def _part(self, k: int):
        part = self._parts[k]
        if not shapely.is_prepared(part):  # (a geometry is unprepared again after pickling)
            shapely.prepare(part)
        return part

    def by_code(self, code: str) -> Region:
        return self.regions[self.index_of(code)]

    def index_of(self, code: str) -> int:
        """Index of the region named by a code, ISO alpha-2/alpha-3 or name (any case);
        the first region in order wins.  KeyError when unknown."""
        try:
            return self._names[code.strip().casefold()]
        except KeyError:
            raise KeyError(code) from None

    @cached_property
    def _names(self) -> dict[str, int]:
        names: dict[str, int] = {}
        for k, region in enumerate(self.regions):
            for n in (region.code, region.name, region.iso_a2, region.iso_a3):
                if n:
                    names.setdefault(n.casefold(), k)
        return names


@cache
def countries() -> RegionSet:
    """Every Admin-0 unit of Natural Earth 1:50m (241, 237 with ISO codes)."""
    from leotwin.data import countries_geojson

    doc = countries_geojson()
    regions = []
    for feat in doc["features"]:
        p = feat["properties"]
        regions.append(Region(
            code=p["iso_a2"] or p["name"], name=p["name"],
            geometry=MultiPolygon(polygons_of(shape(feat["geometry"]))),
            iso_a2=p["iso_a2"], iso_a3=p["iso_a3"], source="Natural Earth 1:50m",
        ))
    return RegionSet(regions)


@cache
def land() -> Region:
    """All countries together (Natural Earth's land at 1:50m, by country)."""
    polys = [p for r in countries().regions for p in r.geometry.geoms]
    return Region("land", "all countries", MultiPolygon(polys), source="Natural Earth 1:50m")


def resolve_region(ref: str, *, option: str = "--region") -> Region:
    """An ISO code, a country name, ``land``, or a GeoJSON file path → :class:`Region`."""
    text = str(ref).strip()
    if text.casefold() == "land":
        return land()
    looks_like_path = text.lower().endswith((".geojson", ".json")) or "/" in text
    if looks_like_path or Path(text).is_file():
        return load_geojson_region(text)
    try:
        return countries().by_code(text)
    except KeyError:
        raise InputError(
            f"unknown region '{text}': expected an ISO 3166-1 code such as UA, UKR or TW, a "
            "country name, 'land', or a GeoJSON file (see 'leotwin regions')", source=option,
        ) from None


def load_geojson_region(path: str | Path, name: str | None = None) -> Region:
    """A custom zone from a GeoJSON file: Polygon / MultiPolygon geometries, Features or a
    FeatureCollection (all features together form the region).  Validated strictly."""
    path = Path(path)
    doc = load_json(read_text(path), str(path))
    geoms: list[Polygon] = []
    for where, geom in _geometries(doc, str(path)):
        kind = geom.get("type") if isinstance(geom, dict) else None
        if kind == "Polygon":
            polys = [geom.get("coordinates")]
        elif kind == "MultiPolygon":
            polys = geom.get("coordinates")
        else:
            raise InputError(f"{where} is a {kind or type(geom).__name__}, expected a Polygon or "
                             "MultiPolygon", source=path)
        if not isinstance(polys, list) or not polys:
            raise InputError(f"{where} has no coordinates", source=path)
        first = len(geoms)
        for k, rings in enumerate(polys):
            label = f"{where}" + (f" polygon {k}" if kind == "MultiPolygon" else "")
            if not isinstance(rings, list) or not rings:
                raise InputError(f"{label} has no rings", source=path)
            check_polygon_coords(rings, f"{path}, {label}")
            poly = Polygon(np.asarray(rings[0], float)[:, :2],
                           [np.asarray(r, float)[:, :2] for r in rings[1:]])
            if not poly.is_valid:
                reason = shapely.is_valid_reason(poly)
                raise InputError(f"{label} is not a valid polygon: {reason} (rings must not "
                                 "cross themselves or each other)", source=path)
            geoms.append(poly)
        _no_overlap(geoms[first:], where, path)
    if not geoms:
        raise InputError("no Polygon or MultiPolygon found", source=path)
    feature_name = _feature_name(doc)
    # features may overlap one another: their union is the region (no area counted twice)
    merged = polygons_of(shapely.union_all(geoms)) if len(geoms) > 1 else geoms
    return Region(code=name or feature_name or path.stem, name=feature_name or path.stem,
                  geometry=clean_multipolygon(merged), source=str(path))


def _no_overlap(parts: list[Polygon], where: str, path: Path) -> None:
    """The polygons of one MultiPolygon must not overlap (OGC Simple Features §6.1.14, which
    RFC 7946 follows): overlapping parts would count their common area twice."""
    if len(parts) < 2:
        return
    left, right = STRtree(parts).query(parts, predicate="intersects")
    for k, j in zip(left.tolist(), right.tolist(), strict=True):
        if k < j and parts[k].intersection(parts[j]).area > 0:
            raise InputError(f"{where} polygons {k} and {j} overlap: a MultiPolygon's parts "
                             "must not overlap (merge them into one polygon)", source=path)


def _geometries(doc, source: str):
    if not isinstance(doc, dict):
        raise InputError("expected a GeoJSON object", source=source)
    kind = doc.get("type")
    if kind == "FeatureCollection":
        feats = doc.get("features")
        if not isinstance(feats, list):
            raise InputError("FeatureCollection without a 'features' list", source=source)
        for k, feat in enumerate(feats):
            if not isinstance(feat, dict) or feat.get("type") != "Feature":
                raise InputError(f"features[{k}] is not a Feature", source=source)
            yield f"features[{k}].geometry", feat.get("geometry") or {}
    elif kind == "Feature":
        yield "geometry", doc.get("geometry") or {}
    elif kind in ("Polygon", "MultiPolygon", "Point", "LineString", "MultiPoint",
                  "MultiLineString", "GeometryCollection"):
        yield "the geometry", doc
    else:
        raise InputError(f"GeoJSON type '{kind}' is not supported: expected a "
                         "FeatureCollection, Feature, Polygon or MultiPolygon", source=source)


def _feature_name(doc) -> str | None:
    if doc.get("type") == "Feature":
        return (doc.get("properties") or {}).get("name")
    if doc.get("type") == "FeatureCollection" and len(doc.get("features") or []) == 1:
        return ((doc["features"][0] or {}).get("properties") or {}).get("name")
    return None
