"""The stateful pass of a run, in shards of terminals that run independently.

What carries state from instant to instant is per terminal: detection streaks, deactivations
and the decision intervals being recorded (``policy.run``, ``policy.intervals``).  The
terminals are cut into fixed shards of :data:`SHARD_TERMINALS` — independent of the backend
and of the number of workers — and each shard walks the whole window on any backend
(``sim.backends``), reading the sky its terminals' sites saw (``sim.chunks``).

The one input that needs several terminals, the condition of a ``cluster`` rule (so many
terminals within so many km), depends on positions only; it is reduced over all terminals
before the shards run (``sim.clusters``) and handed to each shard.  A shard places its moving
terminals at every instant (``ground.motion``), a block of instants at a time, and follows
them through the service cells (``ground.celltrack``): its result carries, beside the
decision intervals, each moving terminal's runs of one cell.  The shards' rows
are then merged in terminal order and the deactivations in (detection instant, rule,
terminal) order — the order of one pass — so the tables are the same bytes whatever ran them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leotwin.ground.celltrack import CellTracker
from leotwin.ground.motion import Movers
from leotwin.policy.engine import PolicyEngine
from leotwin.policy.intervals import DecisionIntervals, IntervalRecorder
from leotwin.policy.run import PolicyStepper
from leotwin.sim.backends import shared_payload
from leotwin.sim.clusters import ClusterTimeline
from leotwin.sim.sites import CELL_RES

#: terminals per shard of the stateful pass (a fixed number, so the shards — and with them
#: the results — never depend on the workers)
SHARD_TERMINALS = 8192
#: instants of positions computed at once: at most this many mover × instant elements (and
#: at most 256 instants)
MOVER_ELEMENTS = 1 << 19


@dataclass
class ShardPlan:
    """Everything a shard needs (picklable)."""

    engine: PolicyEngine
    ids: list[str]
    lat: np.ndarray  # (K,) deg
    lon: np.ndarray
    alt_m: np.ndarray
    speed_kmh: np.ndarray
    time_ns: np.ndarray  # (T,)
    step_s: float
    site_of: np.ndarray  # (K,) each terminal's site
    site_in_view: np.ndarray  # (T, S) bool
    site_path_ok: np.ndarray  # (T, S) bool
    rtt_pos: np.ndarray  # (R,) the routed terminals among all
    routed_ok: np.ndarray  # (T, R) bool: a path from each routed terminal's own satellite
    clusters: dict[int, ClusterTimeline]  # rule index → its condition, over all terminals
    shard_terminals: int = SHARD_TERMINALS
    movers: Movers | None = None  # the moving terminals (their columns in terminal order)

    def bounds(self) -> list[tuple[int, int]]:
        """The shards' terminal ranges [a, b)."""
        k, n = len(self.ids), max(1, self.shard_terminals)
        return [(a, min(a + n, k)) for a in range(0, k, n)]


@dataclass
class CellRuns:
    """Moving terminals' runs of one res-5 cell: from instant ``first`` to the next run."""

    terminal: np.ndarray  # (R,) int64, ascending, then by time
    first: np.ndarray  # (R,) int64
    cell: np.ndarray  # (R,) uint64

    @staticmethod
    def concat(parts: list[CellRuns]) -> CellRuns:
        if not parts:
            return CellRuns(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.uint64))
        return CellRuns(*(np.concatenate([getattr(p, f) for p in parts])
                          for f in ("terminal", "first", "cell")))


@dataclass
class ShardResult:
    intervals: DecisionIntervals
    deactivations: list[dict]
    cell_runs: CellRuns | None = None


def decide_shard(bounds: tuple[int, int], plan: ShardPlan | None = None) -> ShardResult:
    """Decide terminals ``bounds[0] … bounds[1]−1`` at every instant (module docstring)."""
    plan = plan if plan is not None else shared_payload()
    a, b = bounds
    ids = plan.ids[a:b]
    stepper = PolicyStepper(plan.engine, ids, plan.step_s,
                            places={j: c.at(0, a, b) for j, c in plan.clusters.items()})
    sites = plan.site_of[a:b]
    mine = (plan.rtt_pos >= a) & (plan.rtt_pos < b)
    routed_local, routed_cols = plan.rtt_pos[mine] - a, np.flatnonzero(mine)
    lat, lon, alt, speed = (x[a:b].copy() for x in (plan.lat, plan.lon, plan.alt_m,
                                                      plan.speed_kmh))
    movers = plan.movers.between(a, b) if plan.movers is not None else None
    cols = movers.terminals - a if movers is not None else np.zeros(0, np.int64)
    track = CellTracker(len(cols), CELL_RES)
    runs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    last = np.zeros(len(cols), np.uint64)
    recorder = IntervalRecorder(b - a, np.arange(a, b, dtype=np.int64))
    per = max(1, min(256, MOVER_ELEMENTS // max(1, len(cols))))
    for t0 in range(0, len(plan.time_ns), per):
        block = plan.time_ns[t0:t0 + per]
        if len(cols):
            assert movers is not None
            m_lat, m_lon, m_alt, m_speed = movers.at(block)
        for i, now in enumerate(block):
            t = t0 + i
            if len(cols):
                lat[cols], lon[cols] = m_lat[i], m_lon[i]
                alt[cols], speed[cols] = m_alt[i] * 1000.0, m_speed[i]
                cell = track.update(m_lat[i], m_lon[i])
                new = np.flatnonzero(cell != last) if t else np.arange(len(cols))
                runs.append((cols[new] + a, np.full(len(new), t, np.int64), cell[new]))
                last = cell
            for j, timeline in plan.clusters.items():
                stepper.given[j] = timeline.at(t, a, b)
            in_view = plan.site_in_view[t, sites]
            path_ok = plan.site_path_ok[t, sites]
            path_ok[routed_local] = plan.routed_ok[t, routed_cols]
            allowed, reasons = stepper.step(int(now), lat, lon, alt, speed,
                                            satellite_in_view=in_view, path_to_gateway=path_ok)
            recorder.add(t, allowed, reasons, in_view)
    where = {tid: a + i for i, tid in enumerate(ids)} if stepper.deactivations else {}
    cell_runs = None
    if runs:
        term, first, cell = (np.concatenate([r[f] for r in runs]) for f in range(3))
        order = np.lexsort((first, term))
        cell_runs = CellRuns(term[order], first[order], cell[order])
    return ShardResult(recorder.finish(len(plan.time_ns), len(plan.ids)),
                       [{**d, "terminal_index": where[d["terminal"]]}
                        for d in stepper.deactivations], cell_runs)


def merge(results: list[ShardResult], n_terminals: int, n_instants: int
          ) -> tuple[DecisionIntervals, list[dict], CellRuns]:
    """The shards' rows in terminal order; deactivations in the order of one pass; the moving
    terminals' cell runs."""
    intervals = DecisionIntervals.concat([r.intervals for r in results], n_terminals,
                                         n_instants)
    deactivations = [d for r in results for d in r.deactivations]
    deactivations.sort(key=lambda d: (d["detected_ns"], d["rule_index"], d["terminal_index"]))
    for d in deactivations:
        del d["terminal_index"]
    runs = CellRuns.concat([r.cell_runs for r in results if r.cell_runs is not None])
    return intervals, deactivations, runs
