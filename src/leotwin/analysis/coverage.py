"""Coverage of H3 cells over a time window, with a true elevation mask.

For every cell centre (on the WGS-84 ellipsoid, height 0) and every instant of the grid we count
the satellites at or above the mask (``links.visibility``), then reduce over time:

=================  =======  ==========================================================
column             unit     meaning
=================  =======  ==========================================================
h3_cell            —        H3 cell (hex string)
lat_deg, lon_deg   degrees  cell centre (H3's, on the sphere; used as WGS-84 geodetic)
covered_fraction   0…1      fraction of instants with ≥ 1 satellite above the mask
mean_visible       count    mean number of satellites above the mask
min_visible        count    fewest at any instant
max_visible        count    most at any instant
max_gap_s          s        longest run of consecutive uncovered instants × step (0 = never
                            uncovered; the whole window when never covered)
=================  =======  ==========================================================

Only satellites that can reach the region are tested at each instant: those within the region's
enclosing cap widened by the largest coverage cap (conservative).  For a region, those K
satellites are tested against all M cells at once with the exact elevation criterion written
densely —
ρ·û = s·û − g·û and |ρ|² = |s|² − 2 s·g + |g|², two (K×3)·(3×M) products — which for a region's
cells is ~3× faster than enumerating KD-tree candidate pairs (measured 4.6 vs 16 ms per instant,
Ukraine at res 5, identical counts); for continents and the globe, where K is the whole
constellation, the KD-tree of ``links.visibility`` is used instead.  ``workers`` processes each
take a contiguous range of
instants; their tallies merge exactly (a gap spanning two ranges is joined), so every backend
gives identical results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pyarrow as pa

from leotwin.geodesy import enu_basis, geodetic_to_ecef
from leotwin.ground.cells import CellSet
from leotwin.ground.sites import check_mask
from leotwin.links.visibility import VisibilityIndex
from leotwin.orbits.propagate import DEFAULT_BLOCK_STATES, PropagationOptions, iter_propagate
from leotwin.orbits.satellites import SatelliteSet
from leotwin.timegrid.grid import NS_PER_S, TimeGrid

COVERAGE_COLUMNS = ("h3_cell", "lat_deg", "lon_deg", "covered_fraction", "mean_visible",
                    "min_visible", "max_visible", "max_gap_s")


@dataclass
class CoverageResult:
    """Per-cell coverage statistics (arrays aligned with ``cells``)."""

    cells: CellSet
    grid: TimeGrid
    min_elevation_deg: float
    covered_fraction: np.ndarray
    mean_visible: np.ndarray
    min_visible: np.ndarray
    max_visible: np.ndarray
    max_gap_s: np.ndarray

    def table(self) -> pa.Table:
        return pa.table({
            "h3_cell": pa.array(self.cells.ids, type=pa.string()),
            "lat_deg": self.cells.lat_deg, "lon_deg": self.cells.lon_deg,
            "covered_fraction": self.covered_fraction, "mean_visible": self.mean_visible,
            "min_visible": self.min_visible.astype(np.int32),
            "max_visible": self.max_visible.astype(np.int32), "max_gap_s": self.max_gap_s,
        })

    def summary(self) -> dict:
        """Region aggregates, area-weighted over cells."""
        area = self.cells.area_km2
        total = math.fsum(area)

        def mean(x):  # area-weighted, correctly rounded (all-ones gives exactly 1.0)
            return math.fsum(area * x) / total

        return {
            "cells": len(self.cells), "area_km2": total,
            "instants": self.grid.count, "step_s": self.grid.step_ns / NS_PER_S,
            "min_elevation_deg": self.min_elevation_deg,
            "covered_fraction": mean(self.covered_fraction),
            "area_always_covered_fraction": mean(self.covered_fraction == 1.0),
            "mean_visible": mean(self.mean_visible),
            "min_visible": int(self.min_visible.min()),
            "max_visible": int(self.max_visible.max()),
            "max_gap_s": float(self.max_gap_s.max()),
        }


class _Tally:
    """Per-cell running statistics over consecutive instants; mergeable in time order."""

    def __init__(self, m: int):
        self.total = np.zeros(m, dtype=np.int64)
        self.covered = np.zeros(m, dtype=np.int64)
        self.min = np.full(m, np.iinfo(np.int64).max, dtype=np.int64)
        self.max = np.zeros(m, dtype=np.int64)
        self.run = np.zeros(m, dtype=np.int64)  # uncovered instants at the end (trailing)
        self.max_run = np.zeros(m, dtype=np.int64)
        self.lead = np.zeros(m, dtype=np.int64)  # uncovered instants at the start
        self.steps = 0

    def add(self, counts: np.ndarray) -> None:
        seen = counts > 0
        self.total += counts
        self.covered += seen
        np.minimum(self.min, counts, out=self.min)
        np.maximum(self.max, counts, out=self.max)
        self.lead += (~seen) & (self.covered == 0)
        self.run = np.where(seen, 0, self.run + 1)
        np.maximum(self.max_run, self.run, out=self.max_run)
        self.steps += 1

    def then(self, later: _Tally) -> _Tally:
        """This tally followed in time by ``later``."""
        out = _Tally(len(self.total))
        out.total = self.total + later.total
        out.covered = self.covered + later.covered
        out.min = np.minimum(self.min, later.min)
        out.max = np.maximum(self.max, later.max)
        never_a, never_b = self.covered == 0, later.covered == 0
        out.max_run = np.maximum(np.maximum(self.max_run, later.max_run), self.run + later.lead)
        out.lead = np.where(never_a, self.steps + later.lead, self.lead)
        out.run = np.where(never_b, self.run + later.steps, later.run)
        out.steps = self.steps + later.steps
        return out


class _DenseVisibility:
    """Counts, per cell, the satellites at or above the mask (dense exact test)."""

    def __init__(self, cells: CellSet, mask_deg: float):
        g = geodetic_to_ecef(cells.lat_deg, cells.lon_deg, np.zeros(len(cells)))
        u = enu_basis(cells.lat_deg, cells.lon_deg)[2]
        self.gt = np.ascontiguousarray(g.T)
        self.ut = np.ascontiguousarray(u.T)
        self.g_dot_u = (g * u).sum(axis=1)
        self.g2 = (g * g).sum(axis=1)
        self.sin2 = np.sin(np.radians(mask_deg)) ** 2
        units = g / np.linalg.norm(g, axis=1)[:, None]
        centre = units.mean(axis=0)
        self.centre = centre / np.linalg.norm(centre)
        self.region_angle = float(np.arccos(np.clip(units @ self.centre, -1, 1)).max())
        self.index = VisibilityIndex(g, u, mask_deg)  # for its conservative cap geometry

    def counts(self, sat: np.ndarray) -> np.ndarray:
        up = sat @ self.ut
        up -= self.g_dot_u
        r2 = sat @ self.gt
        r2 *= -2.0
        r2 += (sat * sat).sum(axis=1)[:, None]
        r2 += self.g2
        ok = up > 0.0
        ok &= up * up >= self.sin2 * r2
        return ok.sum(axis=0)

    def tally(self, sats: SatelliteSet, grid: TimeGrid, options: PropagationOptions,
              block_states: int) -> _Tally:
        tally = _Tally(len(self.g2))
        for block in iter_propagate(sats, grid, options, block_states=block_states):
            self.tally_block(block.r_km, len(sats), tally)
        return tally

    def tally_block(self, r: np.ndarray, n_sats: int, tally: _Tally) -> _Tally:
        """Add the instants of ITRF positions ``r`` (N, t, 3) to ``tally``."""
        # Dense costs K×M per instant, the KD-tree ~ the visible pairs (~45·M): dense wins for a
        # region (K ≈ 150 for Ukraine), the tree for the globe (measured 14× at land, res 3).
        # The choice depends on the inputs only, so every backend takes the same path.
        reach0 = 2.0 * np.arcsin(min(self.index.cap_chord(6378.0 + 2000.0) / 2.0, 1.0))
        expected_k = n_sats * (1.0 - np.cos(min(reach0 + self.region_angle, np.pi))) / 2.0
        count = self.counts if expected_k <= 400 else self.index.counts
        # r: one block of positions (N, t, 3), NaN where SGP4 failed (never "near")
        radius = np.linalg.norm(r, axis=-1)
        finite = np.isfinite(radius)
        top = float(radius[finite].max()) if finite.any() else 7000.0
        reach = 2.0 * np.arcsin(min(self.index.cap_chord(top) / 2.0, 1.0)) + self.region_angle
        with np.errstate(invalid="ignore"):
            near = (r @ self.centre) >= np.cos(min(reach, np.pi)) * radius
        for t in range(r.shape[1]):
            tally.add(count(r[near[:, t], t]))
        return tally


def _tally_range(args) -> _Tally:
    sats, cells, mask, grid, options, block_states = args
    return _DenseVisibility(cells, mask).tally(sats, grid, options, block_states)


def coverage(sats: SatelliteSet, cells: CellSet, grid: TimeGrid,
             min_elevation_deg: float = 25.0, *, workers: int = 1,
             block_states: int = DEFAULT_BLOCK_STATES,
             options: PropagationOptions | None = None) -> CoverageResult:
    """Coverage statistics of ``cells`` by ``sats`` over ``grid`` (see module docstring)."""
    mask = check_mask(min_elevation_deg)
    options = options or PropagationOptions(geodetic=False)
    parts = max(1, min(workers, grid.count))
    bounds = np.linspace(0, grid.count, parts + 1).round().astype(int)
    jobs = [(sats, cells, mask, grid.block(a, b), options, block_states)
            for a, b in pairwise(bounds) if b > a]
    if len(jobs) == 1:
        tallies = [_tally_range(jobs[0])]
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        methods = mp.get_all_start_methods()
        ctx = mp.get_context("fork" if "fork" in methods else "spawn")
        with ProcessPoolExecutor(len(jobs), mp_context=ctx) as pool:
            tallies = list(pool.map(_tally_range, jobs))
    tally = tallies[0]
    for later in tallies[1:]:
        tally = tally.then(later)
    steps = max(tally.steps, 1)
    return CoverageResult(
        cells=cells, grid=grid, min_elevation_deg=mask,
        covered_fraction=tally.covered / steps, mean_visible=tally.total / steps,
        min_visible=tally.min, max_visible=tally.max,
        max_gap_s=tally.max_run * (grid.step_ns / NS_PER_S),
    )
