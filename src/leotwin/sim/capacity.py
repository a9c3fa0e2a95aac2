"""The capacity pass of a run: the allocation at each scheduler slot, after the decisions.

A denied terminal demands nothing, so this third pass follows the decisions (``sim.runner``).
It maps blocks of *evaluated instants* (every scheduler slot start, or every
``capacity.every``) over the backend; a block is pure — the SGP4 positions of its instants,
the decision intervals, the terminals' cells and plans — so every backend writes the same
tables.

Starlink schedules a cell, not a dish: each H3 res-5 cell that a terminal is in during the run
is one site, at the cell's centre, exiting at the PoP nearest that centre; a moving terminal
is in the cell the decision pass found it in at that instant (``sim.shards.CellRuns``).  At an
evaluated instant a cell's flows are its allowed terminals by plan, with the plan's busy-hour
demand (``traffic.demand``) × the diurnal factor at the cell's local time × ``demand_scale``;
``traffic.slot`` serves, routes and allocates.  A block returns the rows of
``capacity.parquet`` (one per cell with allowed terminals and evaluated instant) and sums per
terminal for ``terminals.parquet``.
"""

from __future__ import annotations

from dataclasses import dataclass

import h3.api.basic_int as h3i
import numpy as np

from leotwin.geodesy import enu_basis, geodetic_to_ecef
from leotwin.links.sky import SiteSky
from leotwin.network.access import AccessNetwork, nearest_pop
from leotwin.orbits import PropagationOptions, propagate
from leotwin.orbits.satellites import SatelliteSet
from leotwin.policy.intervals import DecisionIntervals
from leotwin.sim.backends import shared_payload
from leotwin.timegrid.grid import TimeGrid
from leotwin.traffic.demand import BUSY_HOURS, TIER_NAMES, PlanDemand, diurnal, local_hours
from leotwin.traffic.demand import time_zones as zones_at
from leotwin.traffic.slot import Users, instant_capacity
from leotwin.traffic.supply import Supply

#: evaluated instants per block of the pass
BLOCK_INSTANTS = 60
TIERS = len(TIER_NAMES)
_PLAN_FIELDS = ("down_mbps", "up_mbps", "peak_mbps", "peak_up_mbps", "tier")


@dataclass
class CapacityPlan:
    """Everything a block needs (picklable)."""

    sats: SatelliteSet
    grid: TimeGrid
    instants: np.ndarray  # (E,) evaluated instant indices of the grid
    access: AccessNetwork
    supply: Supply
    cells: np.ndarray  # (C,) uint64 every cell a terminal is in during the run
    sky: SiteSky  # the cells' centres, each with the PoP nearest it
    zones: np.ndarray  # (C,) the cells' IANA time zones
    term_cell: np.ndarray  # (K,) each terminal's cell (index; a moving one's at the start)
    runs: tuple[np.ndarray, np.ndarray, np.ndarray]  # movers' (terminal, first, cell index)
    plan_of: np.ndarray  # (K,) index into ``plans``
    plans: list[PlanDemand]
    intervals: DecisionIntervals
    zenith_snr_db: float
    balance: bool
    demand_scale: float
    #: instant → ``AccessNetwork.live_links`` recorded by the sky pass (else recomputed)
    links: dict
    #: (K,) each terminal's user class (index into ``classes``)
    class_of: np.ndarray
    classes: list[str]

    @property
    def plan_table(self) -> dict[str, np.ndarray]:
        """Per plan (index), each ``PlanDemand`` field."""
        return {name: np.array([getattr(p, name) for p in self.plans], dtype=float)
                for name in _PLAN_FIELDS}

    def bounds(self) -> list[tuple[int, int]]:
        e = len(self.instants)
        return [(a, min(a + BLOCK_INSTANTS, e)) for a in range(0, e, BLOCK_INSTANTS)]


@dataclass
class CapacityBlock:
    start: int
    rows: dict[str, np.ndarray]  # ``export.capacity.COLUMNS`` (cells as uint64, sats as index)
    sums: dict[str, np.ndarray]  # per terminal: see :data:`SUMS`
    series: dict[str, np.ndarray]  # per evaluated instant and user class: see :data:`SERIES`


#: per-terminal sums over the evaluated instants: at which it is allowed, Mbps carried down
#: and up, Mbps asked, busy-hour instants, busy-hour speed tests, Mbps its denials kept unasked
SUMS = ("allowed", "rate_down", "rate_up", "demand_down", "busy", "test_down", "test_up",
        "denied_down")


#: per evaluated instant and user class: terminals allowed, Mbps carried down, Mbps asked by
#: them, Mbps the denied ones would have asked
SERIES = ("allowed", "carried_down", "demand_down", "blocked_down")


def evaluated_instants(time_ns: np.ndarray, slot_starts: np.ndarray, every: str) -> np.ndarray:
    """Indices of the instants allocated: the slot starts, or one every ``every``."""
    from leotwin.timegrid.grid import parse_duration

    if every == "slot":
        return np.flatnonzero(slot_starts)
    step = parse_duration(every, source="capacity.every")
    t = np.asarray(time_ns, np.int64)
    k = (t - t[0]) // step
    return np.flatnonzero(np.r_[True, k[1:] != k[:-1]])


def capacity_block(bounds: tuple[int, int], plan: CapacityPlan | None = None) -> CapacityBlock:
    """The allocation at evaluated instants ``bounds[0] … bounds[1]−1`` (module docstring)."""
    plan = plan if plan is not None else shared_payload()
    a, b = bounds
    idx = plan.instants[a:b]
    ns = plan.grid.ns[idx]
    sums = {name: np.zeros(len(plan.term_cell)) for name in SUMS}
    rows: dict[str, list] = {}
    series: dict[str, list] = {name: [] for name in SERIES}
    per = {name: np.array([getattr(p, name) for p in plan.plans])[plan.plan_of]
           for name in _PLAN_FIELDS}
    names, zone_of = np.unique(plan.zones.astype(str), return_inverse=True)
    dense = plan.sky.dense(len(plan.sats))
    walker, cells = plan.intervals.walker(), _CellWalker(plan)
    for t, now, r in zip(idx, ns, _positions(plan.sats, ns), strict=True):
        allowed = walker.allowed(int(t))
        cell = cells.at(int(t))
        hours = local_hours(names.astype(object), np.array([now]))[:, 0][zone_of.ravel()]
        _instant(plan, int(now), r, allowed, cell, hours, per, dense, sums, rows,
                 plan.links.get(int(t)), series)
    out = {name: np.concatenate(v) for name, v in rows.items()} if rows else {}
    return CapacityBlock(a, out, sums, {name: np.array(v).reshape(len(idx), -1)
                                        for name, v in series.items()})


class _CellWalker:
    """Each terminal's cell index at instants taken in increasing order: the fixed ones'
    never changes, a mover's follows its runs (``sim.shards.CellRuns``: by terminal, then
    time, the first at instant 0) with a pointer per mover."""

    def __init__(self, plan: CapacityPlan):
        self.cell = plan.term_cell.copy()
        who, self.first, self.run_cell = plan.runs
        starts = np.flatnonzero(np.r_[True, who[1:] != who[:-1]]) if len(who) else who
        self.movers = who[starts] if len(who) else who
        self.row = starts.astype(np.int64)
        self.last = np.r_[starts[1:], len(who)] - 1 if len(who) else starts

    def at(self, t: int) -> np.ndarray:
        if len(self.movers):
            row = self.row
            while True:
                move = (row < self.last) & (self.first[np.minimum(row + 1, self.last)] <= t)
                if not move.any():
                    break
                row[move] += 1
            self.cell[self.movers] = self.run_cell[row]
        return self.cell


def _positions(sats: SatelliteSet, ns: np.ndarray):
    """ITRF positions (N, 3) km at each instant of ``ns`` (evenly spaced runs at once)."""
    if not len(ns):
        return
    gaps = np.diff(ns)
    if len(ns) == 1 or np.all(gaps == gaps[0]):
        step = int(gaps[0]) if len(ns) > 1 else 1
        r = propagate(sats, TimeGrid(int(ns[0]), step, len(ns)),
                      PropagationOptions(geodetic=False)).r_km
        for j in range(len(ns)):
            yield r[:, j]
        return
    for x in ns:
        yield propagate(sats, TimeGrid(int(x), 1, 1), PropagationOptions(geodetic=False)
                        ).r_km[:, 0]


def _instant(plan: CapacityPlan, now: int, r: np.ndarray, allowed: np.ndarray,
             cell: np.ndarray, hours: np.ndarray, per: dict, dense: bool, sums: dict,
             rows: dict, live: tuple | None = None, series: dict | None = None) -> None:
    factor = diurnal(hours) * plan.demand_scale  # per cell
    busy_cell = (hours >= BUSY_HOURS[0]) & (hours < BUSY_HOURS[1])
    off = np.flatnonzero(~allowed)
    blocked = per["down_mbps"][off] * factor[cell[off]]
    sums["denied_down"][off] += blocked
    on = np.flatnonzero(allowed)
    n_cls = len(plan.classes)

    def by_class(who: np.ndarray, values=None) -> np.ndarray:
        return np.bincount(plan.class_of[who], weights=values, minlength=n_cls)

    if series is not None:
        series["blocked_down"].append(by_class(off, blocked))
        series["allowed"].append(by_class(on).astype(float))
    if not len(on):
        if series is not None:
            series["carried_down"].append(np.zeros(n_cls))
            series["demand_down"].append(np.zeros(n_cls))
        return
    cell_on = cell[on]
    # flows: each cell's allowed terminals by plan (counted over the (cell, plan) keys)
    n_plans = len(plan.plans)
    key = cell_on * n_plans + plan.plan_of[on]
    counts = np.bincount(key, minlength=len(plan.cells) * n_plans)
    fu = np.flatnonzero(counts)
    rank = np.zeros(len(counts), np.int64)
    rank[fu] = np.arange(len(fu))
    flow_of = rank[key]
    f_site, f_plan = fu // n_plans, fu % n_plans
    table = plan.plan_table
    users = Users(f_site, table["tier"][f_plan].astype(np.int64), counts[fu].astype(float),
                  table["down_mbps"][f_plan] * factor[f_site],
                  table["up_mbps"][f_plan] * factor[f_site], table["peak_mbps"][f_plan],
                  table["peak_up_mbps"][f_plan])
    out = instant_capacity(r, plan.sky, plan.access, plan.supply, users, TIERS, dense=dense,
                           zenith_snr_db=plan.zenith_snr_db, balanced=plan.balance,
                           core=plan.access.core_edges(r, live))
    if series is not None:
        series["carried_down"].append(by_class(on, out.down.rate[flow_of]))
        series["demand_down"].append(by_class(on, users.down_mbps[flow_of]))
    sums["allowed"][on] += 1
    sums["rate_down"][on] += out.down.rate[flow_of]
    sums["rate_up"][on] += out.up.rate[flow_of]
    sums["demand_down"][on] += users.down_mbps[flow_of]
    b = busy_cell[f_site[flow_of]]
    sums["busy"][on[b]] += 1
    sums["test_down"][on[b]] += out.down.available[flow_of[b]]
    sums["test_up"][on[b]] += out.up.available[flow_of[b]]
    _cell_rows(now, plan.cells, np.unique(f_site), np.bincount(cell_on,
               minlength=len(plan.cells)), busy_cell, out, rows)


def _cell_rows(now: int, cells: np.ndarray, used: np.ndarray, terminals: np.ndarray,
               busy: np.ndarray, out, rows: dict) -> None:
    """One row per cell with allowed terminals (``used``, indices into ``cells``)."""
    def add(name, values):
        rows.setdefault(name, []).append(values)

    add("time_ns", np.full(len(used), now, np.int64))
    add("cell", cells[used])
    add("terminals", terminals[used].astype(np.int64))
    add("busy_hour", busy[used])
    add("serving", out.serving[used])
    add("efficiency", np.where(out.served[used], out.efficiency[used], 0.0))
    for d, name in ((out.down, "down"), (out.up, "up")):
        supply = d.supply[used]
        demand = d.demand[used].sum(axis=1)
        got = d.allocated[used].sum(axis=1)
        add(f"supply_{name}_mbps", supply)
        add(f"demand_{name}_mbps", demand)
        add(f"allocated_{name}_mbps", got)
        with np.errstate(invalid="ignore", divide="ignore"):
            add(f"utilisation_{name}", np.where(supply > 0, got / supply, 0.0))
        add(f"unmet_{name}_mbps", np.maximum(demand - got, 0.0))
        add(f"bottleneck_{name}", d.bottleneck[used])
        if name == "down":
            for j, tier in enumerate(TIER_NAMES):
                add(f"demand_down_{tier}_mbps", d.demand[used, j])
                add(f"allocated_down_{tier}_mbps", d.allocated[used, j])


def capacity_instants(loaded, grid: TimeGrid) -> np.ndarray | None:
    """(T,) bool: the instants a run's capacity pass allocates; None without a section."""
    from leotwin.network.access import slot_starts

    s = loaded.scenario
    if s.capacity is None:
        return None
    mark = np.zeros(grid.count, bool)
    mark[evaluated_instants(grid.ns, slot_starts(grid.ns, s.network.slot_period_s,
                                                 s.network.slot_offset_s),
                            s.capacity.every)] = True
    return mark


def capacity_plan(loaded, inputs, intervals: DecisionIntervals, cell_runs,
                  links: dict | None = None) -> CapacityPlan | None:
    """The pass's plan for a run (``sim.assemble.RunInputs``, its decisions and the movers'
    ``sim.shards.CellRuns``); None when the scenario has no capacity section or no
    terminals."""
    from leotwin.network.access import slot_starts
    from leotwin.traffic.demand import plan_demand
    from leotwin.traffic.supply import satellite_profiles

    s = loaded.scenario
    cap = s.capacity
    if cap is None or not len(inputs.terminals) or inputs.access is None:
        return None
    grid = inputs.plan.grid
    starts = slot_starts(grid.ns, s.network.slot_period_s, s.network.slot_offset_s)
    profiles, index = satellite_profiles(inputs.sats.ids, default=cap.profile,
                                         by_shell=cap.profiles_by_shell)
    supply = Supply(profiles, index, cap.max_channels_per_cell, cap.feeder_gbps, cap.isl_gbps)
    names = sorted({t.plan for t in inputs.terminals})
    table = []
    for name in names:
        given = cap.plans.get(name)
        table.append(PlanDemand(**given.model_dump()) if given is not None
                     else plan_demand(name))
    plan_of = np.searchsorted(names, [t.plan for t in inputs.terminals]).astype(np.int64)
    labels = [t.actual_user or "" for t in inputs.terminals]
    classes = sorted(set(labels))
    start_cell = np.asarray(inputs.sites.cell, np.uint64)
    run_cell = cell_runs.cell if cell_runs is not None else np.zeros(0, np.uint64)
    cells, inverse = np.unique(np.concatenate([start_cell, run_cell]), return_inverse=True)
    inverse = inverse.ravel()
    centre = np.array([h3i.cell_to_latlng(int(c)) for c in cells.tolist()]).reshape(-1, 2)
    lat, lon = centre[:, 0], centre[:, 1]
    mask = s.ground.min_elevation_deg
    sky = SiteSky(geodetic_to_ecef(lat, lon, np.zeros(len(cells))), enu_basis(lat, lon)[2],
                  np.full(len(cells), mask), nearest_pop(lat, lon, inputs.plan.pops))
    k = len(start_cell)
    runs = ((cell_runs.terminal, cell_runs.first, inverse[k:]) if cell_runs is not None
            else (np.zeros(0, np.int64),) * 3)
    return CapacityPlan(
        inputs.sats, grid, evaluated_instants(grid.ns, starts, cap.every), inputs.access,
        supply, cells, sky, zones_at(lat, lon), inverse[:k], runs, plan_of, table, intervals,
        cap.zenith_snr_db, cap.balance, cap.demand_scale, links or {},
        np.searchsorted(classes, labels).astype(np.int64), classes)


def merge_series(blocks: list[CapacityBlock]) -> dict[str, np.ndarray]:
    """(E, classes) per :data:`SERIES` name over all evaluated instants, in time order."""
    ordered = sorted(blocks, key=lambda b: b.start)
    return {name: np.concatenate([b.series[name] for b in ordered]) for name in SERIES}


def merge_sums(blocks: list[CapacityBlock], k: int) -> dict[str, np.ndarray]:
    """The per-terminal sums of all blocks (in block order: the same on every backend)."""
    out = {name: np.zeros(k) for name in SUMS}
    for block in sorted(blocks, key=lambda b: b.start):
        for name in SUMS:
            out[name] += block.sums[name]
    return out
