"""Where a run computes geometry: per H3 service cell, or per terminal.

Starlink schedules a cell, not a dish: terminals in one H3 resolution-5 cell (~252 km², FACTS.md
§2) share the cell's satellites in view and its serving satellite per slot.  A run therefore
computes the sky once per *site* and applies it to every terminal of the site:

* a **cell site** is the centre of a res-5 cell, at the terminals' altitude and mask, for the
  fixed terminals of that cell that exit at the same PoP — used when the cell holds at least
  ``cell_min_terminals`` terminals (``network.geometry: auto``, the default) or always
  (``cell``);
* a **terminal site** is the terminal's own position: routed terminals (``rtt_terminals``,
  whose RTT is the product), terminals in sparser cells, and every terminal under
  ``network.geometry: terminal``;
* a **moving site** is a moving terminal (``ground.motion``) at its position of each instant:
  it leaves its cell, so it never takes a cell's geometry.  The sky pass computes moving sites
  instant by instant (``sim.chunks``); they follow the fixed sites in the sky's columns.

What this approximates — a terminal up to ~9 km from its cell's centre sees each satellite at
a slightly different elevation, so near a tie of two satellites, or at the mask, its serving
satellite or "in view" can differ — is measured in ``benchmarks/cells.py`` and stated in
docs/guide/scenarios.md § "Per-cell geometry".  Where a terminal stands at its cell's centre the
two modes agree exactly (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import h3.api.basic_int as h3i
import numpy as np

from leotwin.geodesy import enu_basis, geodetic_to_ecef
from leotwin.links.sky import SiteSky

#: the service-cell resolution (FACTS.md §2: Starlink sells and schedules by res-5 cells)
CELL_RES = 5
GEOMETRIES = ("auto", "cell", "terminal")
#: under ``auto``, a cell with at least this many fixed terminals is computed once for all
#: of them: below it the saving is small and exact geometry is cheap
DEFAULT_CELL_MIN_TERMINALS = 4


@dataclass
class Sites:
    lat_deg: np.ndarray  # (S,)
    lon_deg: np.ndarray
    alt_km: np.ndarray
    mask_deg: np.ndarray
    pop: np.ndarray  # (S,) PoP index
    site_of: np.ndarray  # (K,) each terminal's site
    per_cell: np.ndarray  # (K,) bool: the terminal takes its cell's geometry
    cell: np.ndarray  # (K,) uint64 the terminal's res-5 cell (a moving one's at the start)
    moving: int = 0  # moving sites, the columns after the fixed sites

    def __len__(self) -> int:
        """The fixed sites."""
        return len(self.lat_deg)

    @property
    def columns(self) -> int:
        """Columns of the sky pass: the fixed sites, then the moving ones."""
        return len(self.lat_deg) + self.moving

    def sky(self) -> SiteSky:
        ecef = geodetic_to_ecef(self.lat_deg, self.lon_deg, self.alt_km)
        return SiteSky(ecef, enu_basis(self.lat_deg, self.lon_deg)[2], self.mask_deg,
                       self.pop)


def place_sites(lat: np.ndarray, lon: np.ndarray, alt_m: np.ndarray, mask_deg: np.ndarray,
                pop: np.ndarray, exact: np.ndarray, geometry: str = "auto",
                cell_min_terminals: int = DEFAULT_CELL_MIN_TERMINALS,
                moving: np.ndarray | None = None) -> Sites:
    """The sites of K terminals (see module docstring); ``exact`` (K,) marks terminals that
    keep their own geometry whatever the mode (routed ones); ``moving`` (K,) the moving
    terminals, each a moving site (in terminal order)."""
    k = len(lat)
    moving = np.zeros(k, bool) if moving is None else np.asarray(moving, bool)
    cell = np.fromiter((h3i.latlng_to_cell(float(a), float(b), CELL_RES)
                        for a, b in zip(lat, lon, strict=True)), dtype=np.uint64, count=k)
    eligible = ~np.asarray(exact, bool) & ~moving
    if geometry == "terminal":
        eligible[:] = False
    elif geometry == "auto":
        _, inverse, counts = np.unique(cell[eligible], return_inverse=True,
                                       return_counts=True)
        dense = np.zeros(k, dtype=bool)
        dense[np.flatnonzero(eligible)] = counts[inverse] >= cell_min_terminals
        eligible = dense
    centre = np.array([h3i.cell_to_latlng(int(c)) for c in np.unique(cell[eligible])])
    centre_of = dict(zip(np.unique(cell[eligible]).tolist(), range(len(centre)), strict=True))
    slat, slon = lat.astype(np.float64).copy(), lon.astype(np.float64).copy()
    if eligible.any():
        j = np.array([centre_of[int(c)] for c in cell[eligible]])
        slat[eligible], slon[eligible] = centre[j, 0], centre[j, 1]
    # one site per distinct (position, altitude, mask, PoP) of the fixed terminals, in a
    # fixed order; then the moving sites
    fixed = np.flatnonzero(~moving)
    keys = np.rec.fromarrays([slat[fixed], slon[fixed], alt_m[fixed].astype(np.float64),
                              mask_deg[fixed].astype(np.float64), pop[fixed].astype(np.int64)])
    _, first, fixed_site = np.unique(keys, return_index=True, return_inverse=True)
    first = fixed[first]
    site_of = np.empty(k, dtype=np.int64)
    site_of[fixed] = fixed_site.ravel()
    site_of[moving] = len(first) + np.arange(int(moving.sum()))
    return Sites(slat[first], slon[first], alt_m[first] / 1000.0, mask_deg[first],
                 pop[first].astype(np.int64), site_of, eligible, cell, int(moving.sum()))
