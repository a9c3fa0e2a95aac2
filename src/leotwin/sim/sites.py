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
  ``network.geometry: terminal``.

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
    cell: np.ndarray  # (K,) uint64 the terminal's res-5 cell

    def __len__(self) -> int:
        return len(self.lat_deg)

    def sky(self) -> SiteSky:
        ecef = geodetic_to_ecef(self.lat_deg, self.lon_deg, self.alt_km)
        return SiteSky(ecef, enu_basis(self.lat_deg, self.lon_deg)[2], self.mask_deg,
                       self.pop)


def place_sites(lat: np.ndarray, lon: np.ndarray, alt_m: np.ndarray, mask_deg: np.ndarray,
                pop: np.ndarray, exact: np.ndarray, geometry: str = "auto",
                cell_min_terminals: int = DEFAULT_CELL_MIN_TERMINALS) -> Sites:
    """The sites of K terminals (see module docstring); ``exact`` (K,) marks terminals that
    keep their own geometry whatever the mode (routed ones)."""
    k = len(lat)
    cell = np.fromiter((h3i.latlng_to_cell(float(a), float(b), CELL_RES)
                        for a, b in zip(lat, lon, strict=True)), dtype=np.uint64, count=k)
    eligible = ~np.asarray(exact, bool)
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
    # one site per distinct (position, altitude, mask, PoP), in a fixed order
    keys = np.rec.fromarrays([slat, slon, alt_m.astype(np.float64),
                              mask_deg.astype(np.float64), pop.astype(np.int64)])
    _, first, site_of = np.unique(keys, return_index=True, return_inverse=True)
    return Sites(slat[first], slon[first], alt_m[first] / 1000.0, mask_deg[first],
                 pop[first].astype(np.int64), site_of.ravel().astype(np.int64), eligible, cell)
