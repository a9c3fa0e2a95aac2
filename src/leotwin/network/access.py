"""Access paths: terminal → satellite → (ISLs) → satellite → gateway → fibre → PoP.

* Terminals use satellites at or above their mask; each terminal is served by **one** satellite,
  reassigned only at scheduler-slot boundaries — every 15 s at :12, :27, :42, :57 past the
  minute (FACTS.md §2 [Tanveer-2023], [anaSAT]; period and offset are parameters) — unless it
  drops below the mask mid-slot (a forced handover).  Rules: ``highest-elevation``, or
  ``least-latency`` (the satellite with the shortest path to the terminal's PoP).
* Gateways use satellites at or above their mask, at most ``antennas`` at once (the
  highest-elevation ones; bundled gateways carry their antenna count, FACTS.md §2 [GW-Ka-app]).
* Gateways reach PoPs over terrestrial fibre: great-circle distance × ``fibre_stretch`` (default
  1.5, an assumption: real routes are longer than the geodesic) travelled at 2/3 c (glass, n ≈
  1.47).  In the graph it is a length of vacuum-equivalent km: gc × stretch × 1.5.
* Each terminal exits at its PoP: the nearest by great circle, or one given per terminal.
* Paths are searched from each routed terminal (:meth:`AccessNetwork.step`), or read from one
  reverse search per PoP and instant (:meth:`AccessNetwork.pop_tree`), which serves any
  number of terminals: the control plane's decisions, and the runner's NO_PATH_TO_GATEWAY for
  every terminal (:meth:`AccessNetwork.reaches_pop`).

RTT = 2 × path length / c: propagation only.  Scheduling, queueing and processing are not in it
(measured medians are 10–20 ms higher; see the fidelity table in benchmarks/RESULTS.md).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, dijkstra
from scipy.spatial import cKDTree

from leotwin.errors import InputError
from leotwin.geodesy import MEAN_EARTH_RADIUS_KM, enu_basis, geodetic_to_ecef
from leotwin.ground.sites import GroundSites
from leotwin.links.visibility import VisibilityIndex
from leotwin.network.isl import EARTH_RADIUS_KM, feasible
from leotwin.timegrid.grid import NS_PER_S

FIBRE_SPEED_FRACTION = 2.0 / 3.0
DEFAULT_FIBRE_STRETCH = 1.5
RULES = ("highest-elevation", "least-latency")
#: gateway antennas when a gateway list does not give them (FACTS.md §2 [GW-Ka-app]: 8 or 9)
DEFAULT_ANTENNAS = 8


def great_circle_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Haversine distance on the mean Earth sphere (``geodesy.MEAN_EARTH_RADIUS_KM``)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * MEAN_EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def slot_starts(time_ns: np.ndarray, period_s: float = 15.0, offset_s: float = 12.0
                ) -> np.ndarray:
    """True at instants that begin a scheduler slot (and at the first instant).

    Slot boundaries are at offset + k·period seconds past each minute (:12, :27, :42, :57).
    An instant begins a slot when a boundary lies in (previous instant, this instant].
    """
    t = np.asarray(time_ns, dtype=np.int64)
    period = round(period_s * NS_PER_S)
    offset = round(offset_s * NS_PER_S)
    slot = (t - offset) // period
    out = np.ones(t.shape, dtype=bool)
    out[1:] = slot[1:] != slot[:-1]
    return out


def nearest_pop(lat_deg: np.ndarray, lon_deg: np.ndarray, pops: GroundSites,
                block: int = 65_536) -> np.ndarray:
    """Index of the nearest PoP (great circle) of each point; the lowest index on a tie.

    The great-circle distance grows with the chord between unit vectors, so the nearest PoP
    is among the few nearest by chord (a KD-tree, ``scipy.spatial.cKDTree``); those few are
    then compared by the haversine distance itself."""
    lat_deg, lon_deg = np.asarray(lat_deg, float), np.asarray(lon_deg, float)
    out = np.zeros(len(lat_deg), dtype=np.int64)
    if not len(lat_deg):
        return out
    k = min(NEAREST_CANDIDATES, len(pops))
    tree = cKDTree(_unit(pops.lat_deg, pops.lon_deg))  # (tens of PoPs: microseconds)
    for a in range(0, len(lat_deg), block):
        la, lo = lat_deg[a:a + block], lon_deg[a:a + block]
        _, cand = tree.query(_unit(la, lo), k=k)
        cand = np.sort(np.asarray(cand, np.int64).reshape(len(la), k), axis=1)
        d = great_circle_km(la[:, None], lo[:, None], pops.lat_deg[cand], pops.lon_deg[cand])
        out[a:a + block] = cand[np.arange(len(la)), d.argmin(axis=1)]
    return out


#: PoPs compared by haversine distance after the KD-tree's chord search
NEAREST_CANDIDATES = 4


def _unit(lat_deg, lon_deg) -> np.ndarray:
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1)


def pops_by_country(terminals: GroundSites, pops: GroundSites, assignment: dict[str, str]
                    ) -> np.ndarray:
    """PoP index per terminal from a country → PoP id map (ISO codes; ``*`` = everyone else,
    else the nearest PoP).  Example: ``{"UA": "POP12", "*": "POP16"}``."""
    from leotwin.ground.regions import countries

    cs = countries()
    where = cs.lookup(terminals.lat_deg, terminals.lon_deg)
    nearest = great_circle_km(terminals.lat_deg[:, None], terminals.lon_deg[:, None],
                              pops.lat_deg[None, :], pops.lon_deg[None, :]).argmin(axis=1)
    out = nearest.copy()
    for k, idx in enumerate(where):
        code = cs.regions[idx].iso_a2 if idx >= 0 else None
        pop_id = assignment.get(code or "", assignment.get("*"))
        if pop_id is not None:
            if pop_id not in pops.ids:
                raise InputError(f"unknown PoP '{pop_id}': expected one of {', '.join(pops.ids)}",
                                 field="pop assignment")
            out[k] = pops.ids.index(pop_id)
    return out


@dataclass
class AccessStep:
    serving: np.ndarray  # (T,) satellite serving each terminal, −1 if none
    length_km: np.ndarray  # (T,) one-way path length to the PoP (inf if unreachable)
    gateway: np.ndarray  # (T,) gateway used (−1)
    paths: list[list[int]]  # satellite indices terminal → gateway


class AccessNetwork:
    """Terminals, gateways and PoPs over a constellation with ISLs (see module docstring)."""

    def __init__(self, n_sats: int, terminals: GroundSites, gateways: GroundSites,
                 pops: GroundSites, isl_edges: np.ndarray, *, pop_of: np.ndarray | None = None,
                 fibre_stretch: float = DEFAULT_FIBRE_STRETCH, rule: str = "highest-elevation",
                 slot_period_s: float = 15.0, slot_offset_s: float = 12.0,
                 grazing_km: float = 80.0):
        if rule not in RULES:
            raise InputError(f"unknown assignment rule '{rule}': expected {', '.join(RULES)}",
                             source="--assignment")
        if fibre_stretch < 1.0:
            raise InputError("the fibre stretch factor must be at least 1", source="--stretch")
        self.n, self.gateways, self.pops = n_sats, gateways, pops
        self.g, self.p = len(gateways), len(pops)
        self.isl_edges = isl_edges
        self.rule, self.grazing = rule, grazing_km
        self.period, self.offset = slot_period_s, slot_offset_s
        self.gw_index = VisibilityIndex(
            geodetic_to_ecef(gateways.lat_deg, gateways.lon_deg, gateways.alt_km),
            enu_basis(gateways.lat_deg, gateways.lon_deg)[2], gateways.min_elevation_deg)
        given = gateways.attrs.get("antennas", [None] * self.g)
        self.antennas = np.asarray([DEFAULT_ANTENNAS if a is None else a for a in given],
                                   dtype=np.int64)
        fibre = great_circle_km(gateways.lat_deg[:, None], gateways.lon_deg[:, None],
                                pops.lat_deg[None, :], pops.lon_deg[None, :])
        self.fibre_km = fibre * fibre_stretch / FIBRE_SPEED_FRACTION  # vacuum-equivalent
        self._set_terminals(terminals, pop_of)

    def _set_terminals(self, terminals: GroundSites, pop_of: np.ndarray | None) -> None:
        self.terminals, self.t = terminals, len(terminals)
        self.term_index = VisibilityIndex(
            geodetic_to_ecef(terminals.lat_deg, terminals.lon_deg, terminals.alt_km),
            enu_basis(terminals.lat_deg, terminals.lon_deg)[2], terminals.min_elevation_deg)
        if pop_of is None:
            pop_of = nearest_pop(terminals.lat_deg, terminals.lon_deg, self.pops)
        self.pop_of = np.asarray(pop_of, dtype=np.int64)
        self.serving = np.full(self.t, -1, dtype=np.int64)
        self.handovers = np.zeros(self.t, dtype=np.int64)
        self.forced = np.zeros(self.t, dtype=np.int64)
        # node numbering: satellites, terminals, gateways, PoPs
        self._t0, self._g0, self._p0 = self.n, self.n + self.t, self.n + self.t + self.g

    @property
    def first_gateway_node(self) -> int:
        """The graph node of gateway 0 (gateway g is this + g; PoPs follow the gateways)."""
        return self._g0

    @property
    def first_pop_node(self) -> int:
        """The graph node of PoP 0 (PoP p is this + p)."""
        return self._p0

    def for_terminals(self, terminals: GroundSites) -> AccessNetwork:
        """The same satellites, ISLs, gateways and PoPs for other terminals (nearest PoPs, no
        serving satellite yet).  With as many terminals as this one, :meth:`core_edges` of
        one are valid for the other (the node numbering is the same)."""
        net = copy.copy(self)
        net._set_terminals(terminals, None)
        return net

    def fresh(self) -> AccessNetwork:
        """The same network with no serving satellite yet (a state of its own)."""
        net = copy.copy(self)
        net._set_terminals(self.terminals, self.pop_of)
        return net

    def move(self, which: np.ndarray, lat_deg, lon_deg, alt_km) -> None:
        """Moving terminals: terminals ``which`` are now at (lat, lon, alt km), their PoP the
        nearest; their serving satellites are kept (a satellite that sets is handed over
        when it does, as for a fixed terminal)."""
        t = self.terminals
        lat, lon, alt = t.lat_deg.copy(), t.lon_deg.copy(), t.alt_km.copy()
        lat[which], lon[which], alt[which] = lat_deg, lon_deg, alt_km
        self.terminals = GroundSites(t.ids, lat, lon, alt, t.min_elevation_deg, t.kind, t.attrs)
        self.term_index = VisibilityIndex(geodetic_to_ecef(lat, lon, alt),
                                          enu_basis(lat, lon)[2], t.min_elevation_deg)
        pop_of = self.pop_of.copy()
        pop_of[which] = nearest_pop(np.atleast_1d(lat_deg), np.atleast_1d(lon_deg), self.pops)
        self.pop_of = pop_of

    def live_links(self, r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The links in service at the instant of ITRF positions ``r`` (N, 3), in a compact
        form that :meth:`core_edges` takes back: (the feasible ISLs as packed bits over
        ``isl_edges``, and the satellite → gateway links each gateway's antennas track — the
        highest ones — as satellite and gateway indices).  A run's sky pass records them at
        the slots its capacity pass allocates (``sim.capacity``)."""
        e = self.isl_edges
        ok = (feasible(r[e[:, 0]], r[e[:, 1]], self.grazing, None, EARTH_RADIUS_KM) if len(e)
              else np.zeros(0, bool))
        si, gi, el, _rng = self.gw_index.pairs(r)
        order = np.lexsort((-el, gi))  # by gateway, highest elevation first
        si, gi = si[order], gi[order]
        rank = np.arange(len(gi)) - np.searchsorted(gi, gi)
        keep = rank < self.antennas[gi]
        return np.packbits(ok), si[keep].astype(np.int32), gi[keep].astype(np.int32)

    def core_edges(self, r: np.ndarray, live: tuple | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """ISLs (both ways), satellite → gateway (antenna-limited), gateway → PoP at the
        instant of ITRF positions ``r`` (N, 3): (rows, cols, km) of the graph's edges;
        ``live``: this instant's :meth:`live_links`, when they are known already."""
        packed, si, gi = self.live_links(r) if live is None else live
        e = self.isl_edges
        if len(e):
            e = e[np.unpackbits(packed, count=len(e)).astype(bool)]
        length = np.linalg.norm(r[e[:, 1]] - r[e[:, 0]], axis=1) if len(e) else np.empty(0)
        si, gi = si.astype(np.int64), gi.astype(np.int64)
        rng = self.gw_index.ranges(r, si, gi)
        gw, pop = np.meshgrid(np.arange(self.g), np.arange(self.p), indexing="ij")
        rows = np.concatenate([e[:, 0], e[:, 1], si, self._g0 + gw.ravel()])
        cols = np.concatenate([e[:, 1], e[:, 0], self._g0 + gi, self._p0 + pop.ravel()])
        w = np.concatenate([length, length, rng, self.fibre_km.ravel()])
        return rows, cols, np.maximum(w, 1e-6)

    def pop_tree(self, core: tuple[np.ndarray, np.ndarray, np.ndarray], pop: int
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Shortest paths from every node to PoP ``pop`` over this instant's :meth:`core_edges`
        (Dijkstra on the reversed graph): (distance km, next node toward the PoP, −9999 where
        none) per node.  One tree serves every terminal that exits at ``pop`` — what makes a
        stream of single decisions at one instant cheap (``controlplane.context``)."""
        v = self.n + self.t + self.g + self.p
        rows, cols, w = core
        back = csr_matrix((w, (rows, cols)), shape=(v, v)).T.tocsr()
        dist, pred = dijkstra(back, directed=True, indices=self._p0 + pop,
                              return_predecessors=True)
        return dist, pred

    def reaches_pop(self, core: tuple[np.ndarray, np.ndarray, np.ndarray],
                    serving: np.ndarray, pop_of: np.ndarray) -> np.ndarray:
        """For any terminals (not only this network's): whether a path leads from each one's
        serving satellite (index, −1 for none) to its PoP (index) over this instant's
        :meth:`core_edges` — one breadth-first search per PoP.  True where no satellite serves
        (that is NO_SATELLITE_IN_VIEW, not NO_PATH_TO_GATEWAY)."""
        serving = np.asarray(serving, dtype=np.int64)
        ok = serving < 0
        served = ~ok
        pops = np.unique(pop_of[served])
        if not pops.size:
            return ok
        v = self.n + self.t + self.g + self.p
        rows, cols, w = core
        back = csr_matrix((w, (rows, cols)), shape=(v, v)).T.tocsr()
        for p in pops:
            # reachability only (a breadth-first search): cheaper than distances
            reached = np.zeros(v, dtype=bool)
            reached[breadth_first_order(back, self._p0 + int(p), directed=True,
                                        return_predecessors=False)] = True
            sel = served & (pop_of == p)
            ok[sel] = reached[serving[sel]]
        return ok

    def step(self, r: np.ndarray, time_ns: int, new_slot: bool,
             core: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
             trees: dict[int, tuple[np.ndarray, np.ndarray]] | None = None) -> AccessStep:
        """Route every terminal at one instant; reassigns satellites at slot starts.

        ``core``: this instant's :meth:`core_edges`, when the caller has them already.
        ``trees``: :meth:`pop_tree` of every PoP the terminals use, when the caller has them:
        the paths are then read from the trees (the same lengths as a search from each
        terminal; on an exact tie of two paths the one chosen may differ)."""
        v = self.n + self.t + self.g + self.p
        rows, cols, w = core if core is not None else self.core_edges(r)
        visible = self._visible(r)
        to_pop: dict[int, np.ndarray] | None = None
        if trees is not None:
            to_pop = {p: tree[0] for p, tree in trees.items()}
        elif self.rule == "least-latency":
            core_graph = csr_matrix((w, (rows, cols)), shape=(v, v))
            pops = np.unique(self.pop_of)
            back = dijkstra(core_graph.T.tocsr(), directed=True, indices=self._p0 + pops)
            to_pop = {int(p): back[k] for k, p in enumerate(pops)}
        self._assign(visible, new_slot, to_pop)
        served = np.flatnonzero(self.serving >= 0)
        length = np.full(self.t, np.inf)
        gateway = np.full(self.t, -1, dtype=np.int64)
        paths: list[list[int]] = [[] for _ in range(self.t)]
        if trees is not None:
            for k in served:
                sat = int(self.serving[k])
                pop = int(self.pop_of[k])
                dist, nxt = trees[pop]
                length[k] = visible[int(k)][sat][1] + dist[sat]
                if not np.isfinite(length[k]):
                    continue
                node, hops, target = sat, [], self._p0 + pop
                while node != target and node >= 0:
                    if self._g0 <= node < self._p0:
                        gateway[k] = node - self._g0
                    elif node < self.n:
                        hops.append(int(node))
                    node = int(nxt[node])
                paths[k] = hops
            return AccessStep(self.serving.copy(), length, gateway, paths)
        t_rows = self._t0 + served
        t_cols = self.serving[served]
        t_w = np.array([visible[int(k)][int(self.serving[k])][1] for k in served],
                       dtype=np.float64)
        graph = csr_matrix((np.concatenate([w, np.maximum(t_w, 1e-6)]),
                            (np.concatenate([rows, t_rows]), np.concatenate([cols, t_cols]))),
                           shape=(v, v))
        if served.size:
            dist, pred = dijkstra(graph, directed=True, indices=self._t0 + served,
                                  return_predecessors=True)
            for row, k in enumerate(served):
                target = self._p0 + self.pop_of[k]
                length[k] = dist[row, target]
                if not np.isfinite(length[k]):
                    continue
                node, hops = pred[row, target], []
                while node >= 0 and node != self._t0 + k:
                    if self._g0 <= node < self._p0:
                        gateway[k] = node - self._g0
                    elif node < self.n:
                        hops.append(int(node))
                    node = pred[row, node]
                paths[k] = hops[::-1]
        return AccessStep(self.serving.copy(), length, gateway, paths)

    def choose(self, r: np.ndarray, to_pop: dict[int, np.ndarray] | None = None
               ) -> np.ndarray:
        """The satellite the rule assigns each terminal at a slot start (−1: none), without
        changing this network's state; ``to_pop``: each PoP's distances (``pop_tree``), for
        ``least-latency``."""
        fresh = copy.copy(self)  # the same sites and index, a state of its own
        fresh.serving = np.full(self.t, -1, dtype=np.int64)
        fresh.handovers = np.zeros(self.t, dtype=np.int64)
        fresh.forced = np.zeros(self.t, dtype=np.int64)
        fresh._assign(fresh._visible(r), True, to_pop)
        return fresh.serving

    def _visible(self, r: np.ndarray) -> dict[int, dict[int, tuple[float, float]]]:
        """Terminal → {satellite: (elevation deg, range km)} above the mask."""
        ts, tt, tel, trng = self.term_index.pairs(r)
        visible: dict[int, dict[int, tuple[float, float]]] = {}
        for s, k, e, d in zip(ts, tt, tel, trng, strict=True):
            visible.setdefault(int(k), {})[int(s)] = (float(e), float(d))
        return visible

    def _assign(self, visible: dict[int, dict[int, tuple[float, float]]], new_slot: bool,
                to_pop: dict[int, np.ndarray] | None) -> None:
        """Choose each terminal's serving satellite (at slot starts, when it has none, or when
        it lost its satellite: a forced handover) by the assignment rule."""
        for k in range(self.t):
            options = visible.get(k, {})
            current = int(self.serving[k])
            lost = current >= 0 and current not in options
            if not (new_slot or lost or current < 0):
                continue
            if not options:
                choice = -1
            elif self.rule == "highest-elevation":
                choice = max(options, key=lambda s: (options[s][0], -s))
            else:
                assert to_pop is not None  # computed above for least-latency
                dist = to_pop[int(self.pop_of[k])]
                choice = min(options, key=lambda s: (options[s][1] + dist[s], s))
            if choice != current and current >= 0:
                self.handovers[k] += 1
                self.forced[k] += lost and not new_slot
            self.serving[k] = choice
