"""The H3 service cell of each moving terminal at every instant, without asking H3 each time.

An H3 cell's boundary joins its vertices by great-circle arcs (the cell is a hexagon, or a
pentagon, in the gnomonic projection of an icosahedron face, where great circles are straight
lines; Uber H3 documentation, "Indexing"), so a point lies inside a cell when it lies on the
inner side of every edge's great-circle plane — for every cell, convex or not, that test
implies inside (the intersection of the edges' inner half-spaces lies within the polygon).
A moving terminal therefore keeps its cell while it passes that test, with a margin of 1e-12
(~6 µm), and only a terminal that fails it is located by ``h3.latlng_to_cell`` again: the
cells are H3's own answer at every instant, at the cost of one H3 call per cell change.
"""

from __future__ import annotations

import h3.api.basic_int as h3i
import numpy as np

#: inner-side margin of the edge test (unit sphere: 1e-12 rad ≈ 6 µm)
MARGIN = 1e-12
#: vertices of a cell's boundary at most (pentagons and cells cut by a face edge: up to 10)
MAX_VERTICES = 10


def _unit(lat_deg, lon_deg) -> np.ndarray:
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1)


class CellTracker:
    """Follows M points through the H3 cells of resolution ``res``."""

    def __init__(self, m: int, res: int):
        self.res = res
        self.cell = np.zeros(m, dtype=np.uint64)
        self.planes = np.zeros((m, MAX_VERTICES, 3))  # inward normals of each cell's edges
        self.known = np.zeros(m, dtype=bool)
        self._cache: dict[int, np.ndarray] = {}
        self.h3_calls = 0

    def _planes(self, cell: int) -> np.ndarray:
        planes = self._cache.get(cell)
        if planes is None:
            v = _unit(*np.array(h3i.cell_to_boundary(cell)).T)
            n = np.cross(v, np.roll(v, -1, axis=0))
            centre = _unit(*h3i.cell_to_latlng(cell))
            n *= np.sign(n @ centre)[:, None]
            planes = np.concatenate([n, np.repeat(n[:1], MAX_VERTICES - len(n), axis=0)])
            self._cache[cell] = planes
        return planes

    def update(self, lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
        """(M,) uint64 each point's cell now."""
        p = _unit(lat_deg, lon_deg)
        inside = self.known & (np.einsum("mvk,mk->mv", self.planes, p) > MARGIN).all(axis=1)
        for i in np.flatnonzero(~inside):
            c = h3i.latlng_to_cell(float(lat_deg[i]), float(lon_deg[i]), self.res)
            self.h3_calls += 1
            self.cell[i] = c
            self.planes[i] = self._planes(c)
        self.known[:] = True
        return self.cell.copy()
