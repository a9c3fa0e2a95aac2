"""Reproduce Hypatia's published Kuiper-630 paths and RTTs (golden files, MIT, snkas/hypatia).

Setting (tests/data/hypatia-kuiper630/README.md): 34×34 at 14.80 rev/day, 51.9°, half-slot
phasing, epoch 2000-01-01; +Grid ISLs; GSL when slant range ≤ 1 260 km, ISL when ≤ 5 442.958 km;
Manila (1173), Dalian (1241), Saint Petersburg (1229); 2 000 steps of 100 ms.

Acceptance: RTT within 0.1 ms at ≥ 99 % of steps for all six directed pairs, the same
unreachable windows to within 1 s.  Measured: Manila↔Dalian agree at every step (max 0.0005 ms);
the four pairs with Saint Petersburg agree at 1 999 of 2 000 steps.  The residual step is
165.1 s, where satellite 143's slant range to Saint Petersburg is 1 259.981 km here, 19 m inside
the cut-off, and just outside it in Hypatia (PyEphem's frame conventions differ from ours by tens
of metres), so its path appears one step (0.1 s) later there.  Paths (node lists) agree at
≥ 99.9 % of steps; the other differing step (3.2 s) is a tie between two paths of equal length.
"""

from __future__ import annotations

import numpy as np
import pytest

from leotwin.ground.sites import cities
from leotwin.network import Geometry, Router, plus_grid
from leotwin.network.routing import rtt_ms
from leotwin.orbits import PropagationOptions, get_constellation, iter_propagate
from leotwin.timegrid import TimeGrid

IDS = {1173: 17, 1241: 85, 1229: 73}  # Hypatia node id → index in the top-100 list
N_SATS = 1156


@pytest.fixture(scope="module")
def hypatia_run():
    c = get_constellation("hypatia-kuiper-630")
    sats = c.satellites()
    order = list(IDS)
    stations = cities().subset([IDS[h] for h in order])
    shell = c.shells[0]
    geometry = Geometry.hypatia(630.0, 30.0)  # h = 630 km, ε = 30° as in its script
    router = Router(stations, len(sats), plus_grid(c), geometry)
    grid = TimeGrid.from_span("2000-01-01T00:00:00Z", "200s", "100ms")
    rtt = {(s, d): [] for s in order for d in order if s != d}
    path = {key: [] for key in rtt}
    options = PropagationOptions(geodetic=False, eop=None)  # Hypatia/PyEphem: UT1 = UTC
    for block in iter_propagate(sats, grid, options):
        for t in range(block.grid.count):
            step = router.step(block.r_km[:, t], np.arange(3))
            for (s, d) in rtt:
                k, j = order.index(s), order.index(d)
                rtt[(s, d)].append(float(rtt_ms(step.length_km(k, j))))
                nodes = step.path(k, j)
                path[(s, d)].append("-".join(
                    str(x if isinstance(x, int) else N_SATS + IDS[order[x[1]]]) for x in nodes)
                    or "Unreachable")
    assert shell.mean_motion() == 14.80 and geometry.max_gsl_km == pytest.approx(1260.0)
    assert geometry.max_isl_km == pytest.approx(5442.9582030362869)
    return {k: np.array(v) for k, v in rtt.items()}, path


def _golden_rtt(data_dir, s, d):
    g = np.loadtxt(data_dir / "hypatia-kuiper630" / f"networkx_rtt_{s}_to_{d}.txt",
                   delimiter=",")
    assert len(g) == 2000 and np.all(g[:, 0] == np.arange(2000) * 1e8)
    ms = g[:, 1] / 1e6
    ms[ms == 0] = np.inf  # Hypatia writes 0 when unreachable
    return ms


def _golden_paths(data_dir, s, d):
    rows = [line.split(",") for line in
            (data_dir / "hypatia-kuiper630" / f"networkx_path_{s}_to_{d}.txt").read_text().split()]
    out = []
    for k, (t, p) in enumerate(rows):
        end = int(rows[k + 1][0]) // 10**8 if k + 1 < len(rows) else 2000
        out += [p] * (end - int(t) // 10**8)
    return out


def _windows(unreachable: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate([[0], unreachable.astype(int), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


@pytest.mark.parametrize("pair", [(1173, 1241), (1241, 1173), (1173, 1229), (1229, 1173),
                                  (1229, 1241), (1241, 1229)])
def test_rtt_and_reachability_match_hypatia(hypatia_run, data_dir, pair):
    ours = hypatia_run[0][pair]
    gold = _golden_rtt(data_dir, *pair)
    both = np.isfinite(ours) & np.isfinite(gold)
    diff = np.where(both, np.abs(np.where(both, ours, 0) - np.where(both, gold, 0)), np.inf)
    agree = (diff < 0.1) | (~np.isfinite(ours) & ~np.isfinite(gold))
    assert agree.mean() >= 0.99, agree.mean()
    assert agree.mean() >= 0.999  # what we measure; see the module docstring
    if pair in ((1173, 1241), (1241, 1173)):
        assert diff.max() < 0.001  # every step, to 1 µs
    mine, theirs = _windows(~np.isfinite(ours)), _windows(~np.isfinite(gold))
    assert len(mine) == len(theirs)
    for (a0, a1), (b0, b1) in zip(mine, theirs, strict=True):
        assert abs(a0 - b0) <= 10 and abs(a1 - b1) <= 10  # within 1 s (10 steps of 100 ms)
    if pair[0] == 1229 and pair[1] == 1241:
        assert theirs == [(1554, 1652)] and mine[0][0] == 1554  # 155.4 s … 165.2 s


@pytest.mark.parametrize("pair", [(1173, 1241), (1173, 1229), (1229, 1241)])
def test_paths_match_hypatia(hypatia_run, data_dir, pair):
    ours = hypatia_run[1][pair]
    gold = _golden_paths(data_dir, *pair)
    same = np.mean([a == b for a, b in zip(ours, gold, strict=True)])
    assert same >= 0.999, same
    assert ours[0] == gold[0]
