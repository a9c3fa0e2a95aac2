"""What one control-plane process serves: the scenario, its satellites, the engine and caches.

:class:`ScenarioContext` owns everything the routers share, so no router keeps state of its
own and no module keeps a global cache.  The decision engine is rebuilt when the store's policy
version changes (a registration, a decided request); geometry is cached per second of time.
All caches are guarded by one lock: FastAPI runs plain ``def`` endpoints in a thread pool.

Serving satellites and gateways come from the runner's own model, ``network.access`` (the
serving satellite by the scenario's assignment rule at a slot start, the gateway on the
shortest path to the terminal's PoP), and cell counts from ``analysis.counting``: the API and
``leotwin run`` give the same answer for the same terminal, place and time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from leotwin.analysis.counting import CellCounter
from leotwin.controlplane.registry import policy_file
from leotwin.controlplane.store import Store
from leotwin.geodesy import enu_basis, geodetic_to_ecef
from leotwin.ground.cells import CellSet, cover
from leotwin.ground.sites import GroundSites, gateways, pops
from leotwin.links.visibility import VisibilityIndex
from leotwin.network.access import AccessNetwork
from leotwin.orbits import PropagationOptions, propagate
from leotwin.policy.engine import PolicyEngine
from leotwin.sim.assemble import populations_of, satellites_of
from leotwin.sim.load import LoadedScenario, load_scenario
from leotwin.timegrid.grid import NS_PER_S, TimeGrid

#: instants whose satellite positions are kept (one entry per second of time asked for)
POSITION_CACHE = 64
#: ground-track windows kept (start second, minutes)
TRACK_CACHE = 16
#: seconds per minute of a ground track's sampling
TRACK_STEP_S = 60


class _Lru(OrderedDict):
    """A bounded mapping that forgets the least recently used entry."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def get_or(self, key, make):
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = make()
        if len(self) > self.size:
            self.popitem(last=False)
        return value


class ScenarioContext:
    """The loaded scenario and everything derived from it (see module docstring)."""

    def __init__(self, scenario: str | Path, db: str | Path | None = None,
                 namespace: str | None = None):
        self.loaded: LoadedScenario = load_scenario(scenario)
        s = self.loaded.scenario
        #: the store's rows this context reads and writes (default: the scenario's name), so
        #: one scenario's requests never show in another's log
        self.namespace = s.name if namespace is None else namespace
        #: the scenario's terminals, populations included: exactly those ``leotwin run``
        #: decides for (``sim.assemble.populations_of``)
        self.scenario_terminals, _, registrations = populations_of(self.loaded)
        #: the scenario's log and its populations' registrations
        self.scenario_log = [*s.policy.log, *registrations]
        grid = self.loaded.grid()
        #: the scenario's window (UTC ns): the clock of what-if requests
        self.window = (int(grid.start_ns), int(grid.ns[-1]))
        self.store = Store(db)
        self.sats, self.isl_edges = satellites_of(self.loaded)
        self.mask_deg = s.ground.min_elevation_deg
        self.gateways = gateways(None if s.ground.gateways == "bundled"
                                 else self.loaded.path(s.ground.gateways))
        self.pops = pops(None if s.ground.pops == "bundled" else self.loaded.path(s.ground.pops))
        self._lock = threading.RLock()
        self._engines: dict[bool, tuple[int, PolicyEngine]] = {}
        self._positions = _Lru(POSITION_CACHE)
        self._tracks = _Lru(TRACK_CACHE)
        self._core = _Lru(POSITION_CACHE)
        self._trees = _Lru(4 * POSITION_CACHE)
        self._cells: list[tuple[str, CellSet, CellCounter]] | None = None
        self._access: AccessNetwork | None = None

    # --- policy -------------------------------------------------------------------------------
    def engine(self, what_if: bool = False) -> PolicyEngine:
        """The engine over the scenario's policy plus what the API registered and granted in
        this namespace (with the what-if requests on the scenario's clock when ``what_if``),
        rebuilt when the store's version changes."""
        version = self.store.version
        with self._lock:
            cached = self._engines.get(what_if)
            if cached is None or cached[0] != version:
                engine = PolicyEngine(policy_file(
                    self.loaded, self.store, namespace=self.namespace,
                    scenario_terminals=self.scenario_terminals,
                    scenario_log=self.scenario_log, what_if=what_if), source=self.loaded.source)
                cached = self._engines[what_if] = (version, engine)
            return cached[1]

    # --- geometry -----------------------------------------------------------------------------
    def positions(self, t_ns: int) -> dict:
        """Satellite ITRF positions (km) and geodetic coordinates at ``t_ns`` (cached per
        second of time)."""
        def make():
            eph = propagate(self.sats, TimeGrid(t_ns, 1, 1), PropagationOptions())
            return {"ids": self.sats.ids, "r": eph.r_km[:, 0], "lat": eph.lat_deg[:, 0],
                    "lon": eph.lon_deg[:, 0], "alt": eph.alt_km[:, 0]}

        with self._lock:
            return self._positions.get_or(t_ns // NS_PER_S, make)

    def track(self, t_ns: int, minutes: int) -> tuple[np.ndarray, np.ndarray]:
        """Geodetic latitude/longitude (deg) of every satellite at t, t + 1 min, …,
        t + ``minutes``: arrays (N, minutes + 1)."""
        def make():
            grid = TimeGrid(t_ns, TRACK_STEP_S * NS_PER_S, minutes + 1)
            eph = propagate(self.sats, grid, PropagationOptions())
            return eph.lat_deg, eph.lon_deg

        with self._lock:
            return self._tracks.get_or((t_ns // NS_PER_S, minutes), make)

    def cell_sets(self) -> list[tuple[str, CellSet, CellCounter]]:
        """Each coverage region's name, H3 cells and their satellite counter."""
        with self._lock:
            if self._cells is None:
                engine = self.engine()
                res = self.loaded.scenario.ground.h3_res
                cells = [(name, cover(engine.region(name), res))
                         for name in self.loaded.scenario.ground.regions]
                self._cells = [(name, c, CellCounter(c, self.mask_deg)) for name, c in cells]
            return self._cells

    def feeder_links(self, t_ns: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(gateway index, satellite index, elevation deg) of every satellite above a
        gateway's mask at ``t_ns``, ordered by gateway then satellite (the access network's
        gateway visibility, before its antenna limit)."""
        r = self.positions(t_ns)["r"]
        s_idx, g_idx, el, _ = self._base_access().gw_index.pairs(r)
        order = np.lexsort((s_idx, g_idx))
        return g_idx[order], s_idx[order], el[order]

    # --- access -------------------------------------------------------------------------------
    def _sites(self, lat, lon, alt_m) -> GroundSites:
        lat, lon = np.atleast_1d(np.asarray(lat, float)), np.atleast_1d(np.asarray(lon, float))
        alt_km = np.atleast_1d(np.asarray(alt_m, float)) / 1000.0
        return GroundSites([f"terminal-{k}" for k in range(len(lat))], lat, lon, alt_km,
                           np.full(len(lat), self.mask_deg))

    def _base_access(self) -> AccessNetwork:
        """The scenario's access network (gateways, PoPs, ISLs), built once."""
        s = self.loaded.scenario.network
        with self._lock:
            if self._access is None:
                self._access = AccessNetwork(
                    len(self.sats), self._sites(0.0, 0.0, 0.0), self.gateways, self.pops,
                    self.isl_edges, rule=s.rule, fibre_stretch=s.fibre_stretch,
                    slot_period_s=s.slot_period_s, slot_offset_s=s.slot_offset_s)
            return self._access

    def in_view(self, lat, lon, alt_m, t_ns: int) -> np.ndarray:
        """Whether a satellite is above the scenario's mask for terminals at these positions
        (deg, deg, m) at ``t_ns``: the test of ``sim.chunks`` (``links.visibility``)."""
        lat, lon = np.atleast_1d(np.asarray(lat, float)), np.atleast_1d(np.asarray(lon, float))
        alt_km = np.atleast_1d(np.asarray(alt_m, float)) / 1000.0
        index = VisibilityIndex(geodetic_to_ecef(lat, lon, alt_km), enu_basis(lat, lon)[2],
                                np.full(len(lat), self.mask_deg))
        return index.counts(self.positions(t_ns)["r"]) > 0

    def access(self, lat, lon, alt_m) -> AccessNetwork:
        """The scenario's access network (``network.access``) for terminals at these
        positions (deg, deg, m; scalars or arrays)."""
        return self._base_access().for_terminals(self._sites(lat, lon, alt_m))

    def serving(self, points: list[tuple[float, float, float, int]]
                ) -> list[tuple[str | None, str | None]]:
        """For terminals at (lat deg, lon deg, alt m, t UTC ns): the satellite that serves
        each (chosen as at a slot start) and the gateway on its path to the PoP, by the
        runner's access model; None where none.  Terminals in the same second of time are
        routed together, over one graph of that instant."""
        out: list[tuple[str | None, str | None]] = [(None, None)] * len(points)
        groups: dict[int, list[int]] = {}
        for k, point in enumerate(points):
            groups.setdefault(point[3] // NS_PER_S, []).append(k)
        for second, ks in groups.items():
            t_ns = points[ks[0]][3]
            net = self.access(*(np.array([points[k][i] for k in ks]) for i in range(3)))
            r = self.positions(t_ns)["r"]
            with self._lock:  # the graph's node numbers depend on how many terminals it has
                core = self._core.get_or((second, len(ks)),
                                         lambda net=net, r=r: net.core_edges(r))
                # one shortest-path tree per PoP and instant serves every decision there
                trees = {int(p): self._trees.get_or(
                    (second, len(ks), int(p)),
                    lambda net=net, core=core, p=int(p): net.pop_tree(core, p))
                    for p in np.unique(net.pop_of)}
            step = net.step(r, t_ns, True, core=core, trees=trees)
            for j, k in enumerate(ks):
                sat, gw = int(step.serving[j]), int(step.gateway[j])
                out[k] = (self.sats.ids[sat] if sat >= 0 else None,
                          self.gateways.ids[gw] if gw >= 0 else None)
        return out
