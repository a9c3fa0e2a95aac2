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

from leotwin.analysis.counting import CellCounter, CoverageTally
from leotwin.ground.cells import CellSet
from leotwin.ground.sites import check_mask
from leotwin.orbits.propagate import DEFAULT_BLOCK_STATES, PropagationOptions
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


def _tally_range(args) -> CoverageTally:
    sats, cells, mask, grid, options, block_states = args
    return CellCounter(cells, mask).tally(sats, grid, options, block_states)


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
