"""H3 service cells: the hexagons Starlink sells service by (resolution 5, ~252 km²; FACTS.md §2).

Covering a region uses H3's polygon fill (``h3.h3shape_to_cells``): a cell belongs to the region
when its centre lies inside, so the cover's area matches the polygon's to within the ragged
border.  Cells are kept as unsigned 64-bit integers in arrays and written as the usual
15-hex-digit strings (``852d76a7fffffff``).  Cell areas are H3's exact spherical areas (km²,
authalic sphere R = 6371.007 km).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import h3
import h3.api.basic_int as h3i
import numpy as np

from leotwin.errors import InputError
from leotwin.ground.regions import Region

MIN_RES, MAX_RES = 0, 15


def check_resolution(res: int, option: str = "--h3-res") -> int:
    if not isinstance(res, (int, np.integer)) or not MIN_RES <= int(res) <= MAX_RES:
        raise InputError(f"H3 resolution must be a whole number from {MIN_RES} to {MAX_RES}, "
                         f"got {res}", source=option)
    return int(res)


@dataclass
class CellSet:
    """H3 cells with their centres and areas (arrays of equal length)."""

    cells: np.ndarray  # uint64
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    area_km2: np.ndarray
    res: int

    def __len__(self) -> int:
        return len(self.cells)

    @property
    def ids(self) -> list[str]:
        """Cells as H3 hex strings."""
        return [h3.int_to_str(int(c)) for c in self.cells]

    @classmethod
    def from_cells(cls, cells, res: int | None = None) -> CellSet:
        """From H3 cells given as ints or hex strings (must all share one resolution)."""
        ints = []
        for c in cells:
            try:
                value = h3.str_to_int(c) if isinstance(c, str) else int(c)
            except (ValueError, TypeError):
                value = -1
            if value < 0 or not h3i.is_valid_cell(value):
                raise InputError(f"'{c}' is not a valid H3 cell", source="cells")
            ints.append(value)
        arr = np.unique(np.asarray(ints, dtype=np.uint64))
        resolutions = {h3i.get_resolution(int(c)) for c in arr}
        if len(resolutions) > 1:
            raise InputError(f"cells of several resolutions {sorted(resolutions)}: expected one",
                             source="cells")
        res = resolutions.pop() if resolutions else (res or 5)
        centres = np.array([h3i.cell_to_latlng(int(c)) for c in arr]).reshape(-1, 2)
        area = np.array([h3i.cell_area(int(c), unit="km^2") for c in arr])
        return cls(arr, centres[:, 0], centres[:, 1], area, res)


def _h3_ready_parts(region: Region) -> list:
    """Region polygons cut into ≤ 90°-wide strips with edges densified to 0.25°.

    H3 joins polygon vertices by great-circle arcs and cannot take a polygon that spans more
    than 180° of longitude (or encircles a pole), whereas our lon/lat polygons have straight
    edges in lon/lat.  Narrow strips and short edges make the two agree.
    """
    import shapely
    from shapely.geometry import box

    from leotwin.ground.geometry import polygons_of

    parts: list = []
    for poly in region.geometry.geoms:
        west, _, east, _ = poly.bounds
        if east - west > 90.0:
            edges = np.arange(np.floor(west / 90) * 90, east + 90, 90.0)
            pieces = [p for a, b in pairwise(edges)
                      for p in polygons_of(poly.intersection(box(a, -90, b, 90)))]
        else:
            pieces = [poly]
        parts.extend(shapely.segmentize(p, 0.25) for p in pieces)
    return parts


def cover(region: Region, res: int = 5) -> CellSet:
    """The H3 cells of resolution ``res`` whose centres lie in ``region``."""
    res = check_resolution(res)
    found: set[int] = set()
    for poly in _h3_ready_parts(region):
        outer = [(lat, lon) for lon, lat in np.asarray(poly.exterior.coords)[:-1, :2]]
        holes = [[(lat, lon) for lon, lat in np.asarray(r.coords)[:-1, :2]]
                 for r in poly.interiors]
        found.update(h3i.h3shape_to_cells(h3.LatLngPoly(outer, *holes), res))
    return CellSet.from_cells(sorted(found), res)


def cells_region(cells, name: str = "cells") -> tuple[Region, CellSet]:
    """A region made of H3 cells: its polygon is the union of the cell boundaries."""
    from shapely import union_all
    from shapely.geometry import Polygon

    from leotwin.ground.geometry import clean_multipolygon, polygons_of

    cset = CellSet.from_cells(cells)
    polys = [Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(c)]) for c in cset.ids]
    merged = polygons_of(union_all(polys)) if polys else []
    return Region(name, name, clean_multipolygon(merged), source="H3 cells"), cset
