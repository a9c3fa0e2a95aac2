"""The stateful pass of a run, in shards of terminals that run independently.

What carries state from instant to instant is per terminal: detection streaks, deactivations
and the decision intervals being recorded (``policy.run``, ``policy.intervals``).  The
terminals are cut into fixed shards of :data:`SHARD_TERMINALS` — independent of the backend
and of the number of workers — and each shard walks the whole window on any backend
(``sim.backends``), reading the sky its terminals' sites saw (``sim.chunks``).

The one input that needs several terminals, the condition of a ``cluster`` rule (so many
terminals within so many km), depends on positions only; it is reduced over all terminals
before the shards run (:func:`place_conditions`) and handed to each shard.  The shards' rows
are then merged in terminal order and the deactivations in (detection instant, rule,
terminal) order — the order of one pass — so the tables are the same bytes whatever ran them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leotwin.policy.engine import PolicyEngine
from leotwin.policy.intervals import DecisionIntervals, IntervalRecorder
from leotwin.policy.run import PolicyStepper, place_condition
from leotwin.sim.backends import shared_payload

#: terminals per shard of the stateful pass (a fixed number, so the shards — and with them
#: the results — never depend on the workers)
SHARD_TERMINALS = 8192


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
    clusters: dict[int, np.ndarray]  # rule index → (K,) its condition, over all terminals
    shard_terminals: int = SHARD_TERMINALS

    def bounds(self) -> list[tuple[int, int]]:
        """The shards' terminal ranges [a, b)."""
        k, n = len(self.ids), max(1, self.shard_terminals)
        return [(a, min(a + n, k)) for a in range(0, k, n)]


@dataclass
class ShardResult:
    intervals: DecisionIntervals
    deactivations: list[dict]


def place_conditions(engine: PolicyEngine, lat: np.ndarray, lon: np.ndarray,
                     ids: list[str]) -> dict[int, np.ndarray]:
    """The reduce step: each ``cluster`` rule's condition over all terminals (``policy.run``)."""
    return {j: place_condition(engine, rule, lat, lon, ids)
            for j, rule in enumerate(engine.doc.policy.detection) if rule.rule == "cluster"}


def decide_shard(bounds: tuple[int, int], plan: ShardPlan | None = None) -> ShardResult:
    """Decide terminals ``bounds[0] … bounds[1]−1`` at every instant (module docstring)."""
    plan = plan if plan is not None else shared_payload()
    a, b = bounds
    ids = plan.ids[a:b]
    stepper = PolicyStepper(plan.engine, ids, plan.step_s,
                            places={j: c[a:b] for j, c in plan.clusters.items()})
    sites = plan.site_of[a:b]
    mine = (plan.rtt_pos >= a) & (plan.rtt_pos < b)
    routed_local, routed_cols = plan.rtt_pos[mine] - a, np.flatnonzero(mine)
    lat, lon, alt, speed = (x[a:b] for x in (plan.lat, plan.lon, plan.alt_m, plan.speed_kmh))
    recorder = IntervalRecorder(b - a, np.arange(a, b, dtype=np.int64))
    for t, now in enumerate(plan.time_ns):
        in_view = plan.site_in_view[t, sites]
        path_ok = plan.site_path_ok[t, sites]
        path_ok[routed_local] = plan.routed_ok[t, routed_cols]
        allowed, reasons = stepper.step(int(now), lat, lon, alt, speed,
                                        satellite_in_view=in_view, path_to_gateway=path_ok)
        recorder.add(t, allowed, reasons, in_view)
    where = {tid: a + i for i, tid in enumerate(ids)} if stepper.deactivations else {}
    return ShardResult(recorder.finish(len(plan.time_ns), len(plan.ids)),
                       [{**d, "terminal_index": where[d["terminal"]]}
                        for d in stepper.deactivations])


def merge(results: list[ShardResult], n_terminals: int, n_instants: int
          ) -> tuple[DecisionIntervals, list[dict]]:
    """The shards' rows in terminal order; deactivations in the order of one pass."""
    intervals = DecisionIntervals.concat([r.intervals for r in results], n_terminals,
                                         n_instants)
    deactivations = [d for r in results for d in r.deactivations]
    deactivations.sort(key=lambda d: (d["detected_ns"], d["rule_index"], d["terminal_index"]))
    for d in deactivations:
        del d["terminal_index"]
    return intervals, deactivations
