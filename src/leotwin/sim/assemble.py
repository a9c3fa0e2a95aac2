"""Assembling a run's inputs from a loaded scenario: satellites, terminals, engine, cells, routes.

Everything here is computed once, before the time loop: the constellation (built-in, inline
Walker shells, TLE or OMM) and its ISL edges, the scenario terminals plus the seeded synthetic
populations, the decision engine over the scenario's policy, each coverage region's H3 cells,
the chunk plan, and the access network of the terminals whose path to the PoP is routed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from leotwin.errors import InputError
from leotwin.ground.cells import CellSet, cover
from leotwin.ground.motion import Movers
from leotwin.ground.regions import Region
from leotwin.ground.sites import GroundSites, gateways, pops, synthetic_terminals
from leotwin.network.access import AccessNetwork, nearest_pop, slot_starts
from leotwin.network.isl import plus_grid
from leotwin.orbits import get_constellation
from leotwin.orbits.satellites import SatelliteSet
from leotwin.policy.engine import PolicyEngine
from leotwin.policy.schema import LogEntry, PolicyFile, Terminal
from leotwin.sim.chunks import Plan
from leotwin.sim.load import LoadedScenario
from leotwin.sim.movers import movers_of
from leotwin.sim.sites import Sites, place_sites

#: seeds of population k: positions from seed·SEED_STRIDE + k, registrations from that + this
SEED_STRIDE = 1000
REGISTRATION_SEED_OFFSET = 500


def satellites_of(loaded: LoadedScenario) -> tuple[SatelliteSet, np.ndarray]:
    """The scenario's satellites and their +Grid ISL edges (empty without ISLs)."""
    c = loaded.scenario.constellation
    if c.builtin is not None or c.shells is not None:
        if c.builtin is not None:
            constellation = get_constellation(c.builtin)
        else:
            from leotwin.orbits.catalog import Constellation

            constellation = Constellation(loaded.scenario.name, tuple(c.shells or ()),
                                          "scenario shells")
        sats = constellation.satellites()
        isl = loaded.scenario.network.isl
        edges = plus_grid(constellation) if isl == "plus-grid" else np.empty((0, 2), np.int64)
        return sats, edges
    from_file = loaded.satellite_file
    assert from_file is not None  # neither built-in nor shells: a TLE or OMM file
    if loaded.scenario.network.isl == "plus-grid":
        raise InputError("+Grid needs a built-in constellation's planes: use isl: nearest-k or "
                         "none with TLE/OMM data", source=loaded.source, field="network.isl")
    return from_file, np.empty((0, 2), np.int64)


def terminals_of(loaded: LoadedScenario) -> tuple[list[Terminal], np.ndarray]:
    """Scenario terminals plus seeded synthetic populations; and their speeds (km/h)."""
    terminals, speeds, _ = populations_of(loaded)
    return terminals, speeds


def populations_of(loaded: LoadedScenario) -> tuple[list[Terminal], np.ndarray,
                                                    list[LogEntry]]:
    """Scenario terminals plus seeded synthetic populations, their speeds (km/h), and the
    log entries that register population terminals at their population's ``register_at``."""
    s = loaded.scenario
    out: list[Terminal] = list(s.terminals)
    speeds = [t.speed_kmh for t in s.terminals]
    log: list[LogEntry] = []
    engine_zones = loaded.zone_engine
    for k, pop in enumerate(s.ground.populations):
        region = engine_zones.region(pop.region)
        seed = s.seed * SEED_STRIDE + k
        count = loaded.population_count(k)
        sites = synthetic_terminals(region, count, seed=seed, mode=pop.mode,
                                    centers=list(pop.centers) or None,
                                    spread_km=pop.spread_km, prefix=pop.prefix)
        rng = np.random.default_rng(seed + REGISTRATION_SEED_OFFSET)
        registered = rng.random(count) < pop.registered_fraction
        reg_region = pop.registered_region or pop.region
        at_start = pop.register_at is None
        for j in range(count):
            owner = (f"{pop.prefix}owner-{j // pop.terminals_per_owner:04d}"
                     if pop.terminals_per_owner > 1 else None)
            out.append(Terminal(id=sites.ids[j], account=pop.account, plan=pop.plan,
                                actual_user=pop.actual_user, lat=float(sites.lat_deg[j]),
                                lon=float(sites.lon_deg[j]), alt_m=pop.alt_m,
                                speed_kmh=pop.speed_kmh, owner=owner,
                                owner_kind=pop.owner_kind,
                                whitelisted=[reg_region] if registered[j] and at_start
                                else []))
            speeds.append(pop.speed_kmh)
            if registered[j] and not at_start:
                log.append(LogEntry.model_validate({
                    "id": f"register-{sites.ids[j]}", "requested_at": pop.register_at,
                    "requested_by": owner or sites.ids[j],
                    "decided_by": "registration service", "decision": "granted",
                    "reason": f"population {pop.prefix} registers",
                    "change": {"register": {"terminal": sites.ids[j], "region": reg_region,
                                            "device_presented": pop.device_presented}}}))
    ids = [t.id for t in out]
    if len(set(ids)) != len(ids):
        counts = Counter(ids)
        dup = next(i for i in ids if counts[i] > 1)
        raise InputError(f"terminal id '{dup}' appears twice (populations are named by their "
                         "prefix: give each a distinct prefix)", source=loaded.source,
                         field="ground.populations")
    return out, np.array(speeds, dtype=np.float64), log


@dataclass
class RunInputs:
    """What the time loop of ``sim.runner`` works on."""

    sats: SatelliteSet
    terminals: list[Terminal]
    speeds: np.ndarray  # (K,) km/h
    lat: np.ndarray  # (K,) deg
    lon: np.ndarray  # (K,) deg
    alt_m: np.ndarray  # (K,) m
    engine: PolicyEngine
    regions: list[Region]
    cells: list[CellSet]
    plan: Plan
    access: AccessNetwork | None  # the routed terminals' access network (None: no terminals)
    rtt_ids: list[str]
    rtt_pos: np.ndarray  # (R,) index of each routed terminal among all
    pop_of: np.ndarray  # (K,) every terminal's PoP (nearest by great circle)
    sites: Sites | None = None  # where the geometry is computed (None: no terminals)
    movers: Movers = field(default_factory=lambda: Movers([]))  # the moving terminals


def assemble(loaded: LoadedScenario) -> RunInputs:
    s = loaded.scenario
    grid = loaded.grid()
    sats, edges = satellites_of(loaded)
    engine = scenario_engine(loaded)
    terminals = engine.terminals
    speeds = np.array([t.speed_kmh for t in terminals], dtype=np.float64)
    regions = [engine.region(r) for r in s.ground.regions]
    cells = [cover(r, s.ground.h3_res) for r in regions]
    k = len(terminals)
    lat = np.array([t.lat for t in terminals], dtype=np.float64)
    lon = np.array([t.lon for t in terminals], dtype=np.float64)
    alt_m = np.array([t.alt_m for t in terminals], dtype=np.float64)
    mask = s.ground.min_elevation_deg
    # generated paths run through the last instant (a terminal does not stop because the
    # window ends): to one step after it
    movers = movers_of(loaded, terminals, int(grid.ns[0]), int(grid.ns[-1]) + grid.step_ns)
    moving = np.zeros(k, dtype=bool)
    moving[movers.terminals] = True
    rtt_ids = list(s.network.rtt_terminals)
    access = None
    index = {t.id: j for j, t in enumerate(terminals)}
    rtt_pos = np.array([index[r] for r in rtt_ids], dtype=np.int64)
    pop_of = np.zeros(k, dtype=np.int64)
    sites = None
    pp = None
    if k:
        # the routed terminals' network (or one terminal's, for the gateways, ISLs and PoPs
        # when none is routed); every terminal's PoP (nearest by great circle)
        routed = rtt_pos if rtt_ids else np.array([0])
        ground = GroundSites([terminals[j].id for j in routed], lat[routed], lon[routed],
                             alt_m[routed] / 1000.0, np.full(len(routed), mask))
        gw = gateways(None if s.ground.gateways == "bundled" else loaded.path(s.ground.gateways))
        pp = pops(None if s.ground.pops == "bundled" else loaded.path(s.ground.pops))
        access = AccessNetwork(len(sats), ground, gw, pp, edges, rule=s.network.rule,
                               fibre_stretch=s.network.fibre_stretch,
                               slot_period_s=s.network.slot_period_s,
                               slot_offset_s=s.network.slot_offset_s)
        pop_of = nearest_pop(lat, lon, pp)
        exact = np.zeros(k, dtype=bool)
        exact[rtt_pos] = True
        sites = place_sites(lat, lon, alt_m, np.full(k, mask), pop_of, exact,
                            s.network.geometry, s.network.cell_min_terminals, moving)
    starts = slot_starts(grid.ns, s.network.slot_period_s, s.network.slot_offset_s)
    # the routed terminals that move: (their place among the routed, their mover column)
    column = {int(j): c for c, j in enumerate(movers.terminals)}
    routed_moving = np.array([[i, column[int(j)]] for i, j in enumerate(rtt_pos)
                              if int(j) in column], dtype=np.int64).reshape(-1, 2)
    plan = Plan(sats, grid, cells, mask, sites.sky() if sites is not None else None, access,
                rtt_ids if k else [], starts, s.outputs.positions, s.outputs.positions,
                np.unique(sites.pop) if sites is not None else np.zeros(0, np.int64),
                movers if len(movers) else None, pp, routed_moving)
    return RunInputs(sats, terminals, speeds, lat, lon, alt_m, engine, regions, cells, plan,
                     access, rtt_ids, rtt_pos, pop_of, sites, movers)


def scenario_engine(loaded: LoadedScenario) -> PolicyEngine:
    """The decision engine of a run of ``loaded``: its policy over its whole registry
    (listed terminals and populations) and its populations' registrations."""
    s = loaded.scenario
    terminals, _, registrations = populations_of(loaded)
    policy = s.policy.model_copy(update={"log": [*s.policy.log, *registrations]})
    return PolicyEngine(PolicyFile(name=s.name, regions=s.regions, terminals=terminals,
                                   policy=policy), source=loaded.source)
