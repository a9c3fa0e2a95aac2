"""The decision engine: ``decide`` allow/deny with **every** reason that applies, vectorised.

For decisions d = (terminal, position, velocity, time):

1. The policy in force at each decision's time is the fold of the log (``policy.state``); the log
   changes state only at its effective/until instants, so decisions are grouped by interval and
   each interval's state is compiled once into arrays.
2. Positions are located once per unique point: country (Natural Earth), zones, H3 res-5 cell.
3. Status: cell overrides zone (later zones override earlier ones) overrides country; points in
   no country (open sea) take ``default_status``.  not_licensed → REGION_NOT_LICENSED unless an
   operator override covers the terminal's account/plan there (P13); inactive → REGION_INACTIVE;
   blacklisted → CELL_BLACKLISTED (from a cell) or REGION_BLACKLISTED; waitlisted →
   REGION_WAITLISTED unless the terminal is registered there or it is its home country; test →
   REGION_INACTIVE unless the account is in the test programme.
4. Mobility: in motion means faster than ``in_motion_threshold_kmh`` (10 mph, P5).  A plan without
   in-motion use, or a land in-motion ban of a region (Japan, Jordan, Mexico) for plans not exempt
   (maritime, aviation) → IN_MOTION_NOT_ALLOWED; faster than the plan's or any containing region's
   speed cap → SPEED_CAP (P11: 75 km/h over Ukraine); higher than an altitude cap → ALTITUDE_CAP.
5. Whitelists (P11): in a region that requires one, a terminal not registered there →
   NOT_WHITELISTED.  Funding (P6): every payer of the account suspended → FUNDING_SUSPENDED.
   Deactivation (P10, P12) → TERMINAL_DEACTIVATED.  Not in the registry → UNKNOWN_TERMINAL (the
   place is still judged, so analysts can probe any place and time).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import h3.api.basic_int as h3i
import numpy as np

from leotwin.ground.cells import cover
from leotwin.ground.regions import Region, countries, load_geojson_region
from leotwin.policy.compiled import CompiledPolicy
from leotwin.policy.load import LoadedPolicy, plans_of
from leotwin.policy.places import RegionNames
from leotwin.policy.reasons import EXPLAIN, Reason, reason_names
from leotwin.policy.schema import PolicyFile
from leotwin.policy.state import PolicyState, as_of, change_instants
from leotwin.policy.vocabulary import CELL_RES, STATUSES

__all__ = ["STATUSES", "Located", "PolicyEngine"]
#: km per degree of latitude (and of longitude at the equator) for the local equirectangular
#: distance of spill-over buffers: 2π·a/360 = 111.3195 km on WGS-84, rounded to 111.32
KM_PER_DEGREE = 111.32



@dataclass
class Located:
    """Unique points and where each decision maps into them."""

    inverse: np.ndarray  # (K,) decision → unique point
    lat: np.ndarray
    lon: np.ndarray
    country: np.ndarray  # (U,) country index or −1
    zones: np.ndarray  # (U, Z) bool
    cells: np.ndarray | None  # (U,) uint64 H3 res-5 or None


def add_network_reasons(reasons: np.ndarray, satellite_in_view, path_to_gateway) -> None:
    """OR the network's answers into ``reasons`` (K,) in place: False in
    ``satellite_in_view`` / ``path_to_gateway`` (bool (K,), or None: not asked) adds
    NO_SATELLITE_IN_VIEW / NO_PATH_TO_GATEWAY."""
    k = len(reasons)
    for given, reason in ((satellite_in_view, Reason.NO_SATELLITE_IN_VIEW),
                          (path_to_gateway, Reason.NO_PATH_TO_GATEWAY)):
        if given is not None:
            reasons[~np.broadcast_to(np.asarray(given, bool), (k,))] |= np.uint32(reason)


class PolicyEngine:
    def __init__(self, policy: LoadedPolicy | PolicyFile, source: str | None = None):
        """``source``: the file the policy came from (default: a LoadedPolicy's own); files
        its zones name (GeoJSON) are relative to it."""
        self.doc = policy.doc if isinstance(policy, LoadedPolicy) else policy
        self.source = source if source is not None else (
            policy.source if isinstance(policy, LoadedPolicy) else "")
        self.countries = countries()
        self.zone_names = list(self.doc.regions)
        self.names = RegionNames(self.zone_names)
        self.zones = [self._zone(n, z) for n, z in self.doc.regions.items()]
        self.plans = plans_of(self.doc)
        self.plan_names = list(self.plans)
        self.account_ids = [a.id for a in self.doc.policy.accounts]
        self.accounts = {a.id: a for a in self.doc.policy.accounts}
        self.terminal_ids = [t.id for t in self.doc.terminals]
        self.terminal_index = {t: k for k, t in enumerate(self.terminal_ids)}
        self.terminals = self.doc.terminals
        self.instants = np.asarray(change_instants(self.doc), dtype=np.int64)
        self._compiled: dict[int, CompiledPolicy] = {}
        self._spill: dict[tuple, dict[int, str]] = {}
        self.threshold = self.doc.policy.in_motion_threshold_kmh

    # --- regions ------------------------------------------------------------------------------
    def _zone(self, name, zone) -> Region:
        if zone.geojson is not None:
            from pathlib import Path

            path = Path(zone.geojson)
            if not path.is_absolute() and self.source:
                path = Path(self.source).parent / path
            return load_geojson_region(path, name)
        if zone.polygon is not None:
            from shapely.geometry import Polygon

            from leotwin.ground.geometry import clean_multipolygon

            return Region(name, name, clean_multipolygon([Polygon(zone.polygon)]),
                          source="scenario polygon")
        from leotwin.ground.cells import cells_region

        return cells_region(zone.cells, name)[0]

    def region_key(self, name: str) -> tuple[str, int]:
        """('z', zone index) or ('c', country index) for a region name or code
        (``policy.places``: the one resolver)."""
        return self.names.key(name)

    def region_name(self, key: tuple[str, int]) -> str:
        if key[0] == "z":
            return self.zone_names[key[1]]
        r = self.countries.regions[key[1]]
        return f"{r.name} ({r.iso_a2})" if r.iso_a2 else r.name

    @cached_property
    def _needs_cells(self) -> bool:
        return any(e.change.kind in ("set_cells", "spillover") for e in self.doc.policy.log)

    def locate(self, lat, lon, *, moving: bool = False) -> Located:
        """Locate points (cached for a repeat of the same positions, as runs of fixed
        terminals make; ``moving``: see :meth:`place_reasons`)."""
        lat = np.asarray(lat, dtype=np.float64).ravel()
        lon = np.asarray(lon, dtype=np.float64).ravel()
        last = getattr(self, "_last_located", None)
        if last is not None and np.array_equal(last[0], lat) and np.array_equal(last[1], lon):
            return last[2]
        loc = self._locate(lat, lon, moving)
        self._last_located = (lat.copy(), lon.copy(), loc)
        return loc

    def _locate(self, lat: np.ndarray, lon: np.ndarray, moving: bool = False) -> Located:
        key = lat + 1j * lon
        uniq, inverse = np.unique(key, return_inverse=True)
        ulat, ulon = uniq.real.copy(), uniq.imag.copy()
        country = (self.countries.lookup(ulat, ulon, tiles=moving) if len(uniq)
                   else np.empty(0, np.int64))
        zones = np.zeros((len(uniq), len(self.zones)), dtype=bool)
        for z, region in enumerate(self.zones):
            zones[:, z] = region.contains(ulat, ulon)
        cells = None
        if self._needs_cells:
            cells = np.fromiter((h3i.latlng_to_cell(a, b, CELL_RES) for a, b in zip(ulat, ulon,
                                                                                     strict=True)),
                                dtype=np.uint64, count=len(uniq))
        return Located(inverse.ravel(), ulat, ulon, country, zones, cells)

    def member(self, loc: Located, key: tuple[str, int]) -> np.ndarray:
        """(U,) which unique points lie in the region."""
        if key[0] == "z":
            return loc.zones[:, key[1]]
        return loc.country == key[1]

    def spillover_cells(self, spec) -> dict[int, str]:
        """Cells of ``into`` whose centres are within ``buffer_km`` of region ``from`` (local
        equirectangular distance around the ``into`` region: cos φ₀ scaling, < 1 % error over
        a few hundred km)."""
        if spec in self._spill:
            return self._spill[spec]
        import shapely

        src, into, buffer_km, status = spec
        a = self.region(src)
        b = self.region(into)
        cells = cover(b, CELL_RES)
        lat0 = np.radians(np.mean(b.bounds[1::2]))
        scale = np.array([np.cos(lat0), 1.0])
        geom = shapely.transform(a.geometry, lambda xy: xy * scale)
        pts = shapely.points(cells.lon_deg * scale[0], cells.lat_deg)
        near = shapely.distance(geom, pts) * KM_PER_DEGREE <= buffer_km
        out = {int(c): status for c in cells.cells[near]}
        self._spill[spec] = out
        return out

    def region(self, name: str) -> Region:
        """The region (country or declared zone) a policy name or ISO code denotes."""
        key = self.region_key(name)
        return self.zones[key[1]] if key[0] == "z" else self.countries.regions[key[1]]

    # --- state --------------------------------------------------------------------------------
    def state_at(self, t_ns: int) -> PolicyState:
        return as_of(self.doc, int(t_ns))

    def _compile(self, interval: int) -> CompiledPolicy:
        if interval not in self._compiled:
            t = int(self.instants[interval - 1]) if interval > 0 else -(2**62)
            self._compiled[interval] = CompiledPolicy(self, self.state_at(t), t)
        return self._compiled[interval]

    def compiled_at(self, t_ns: int) -> CompiledPolicy:
        """The policy in force at ``t_ns`` (UTC ns), compiled into arrays (cached per interval
        between two change instants of the log)."""
        return self._compile(int(np.searchsorted(self.instants, int(t_ns), side="right")))

    def status_at(self, t_ns: int, lat_deg, lon_deg) -> np.ndarray:
        """Status code (an index into :data:`~leotwin.policy.vocabulary.STATUSES`) of each
        point at ``t_ns``: cell over zone over country, the default status at sea."""
        loc = self.locate(lat_deg, lon_deg)
        status, _, _ = self.compiled_at(t_ns).status(loc, np.arange(len(loc.inverse)))
        return status

    # --- decisions ----------------------------------------------------------------------------
    def decide(self, terminal_ids, lat, lon, alt_m, speed_kmh, time_ns,
               deactivated_at: dict[str, int] | None = None, *,
               satellite_in_view=None, path_to_gateway=None) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised decisions.  Returns (allowed bool (K,), reasons uint32 bitmask (K,)).

        ``deactivated_at``: run-time deactivations (terminal → effective UTC ns) from detection.
        ``satellite_in_view`` / ``path_to_gateway``: bool (K,) from the network layer
        (``links.visibility``, ``network.access``); False adds NO_SATELLITE_IN_VIEW /
        NO_PATH_TO_GATEWAY.
        """
        ids = np.asarray(terminal_ids).astype(str).ravel()
        k = len(ids)
        lat, lon, alt, speed, t = (np.broadcast_to(np.asarray(a, dtype=np.float64
                                                              if i < 4 else np.int64), (k,))
                                   for i, a in enumerate((lat, lon, alt_m, speed_kmh, time_ns)))
        loc = self.locate(lat, lon)
        uid, tinv = np.unique(ids, return_inverse=True)
        tidx = np.array([self.terminal_index.get(u, -1) for u in uid], dtype=np.int64)[tinv]
        intervals = np.searchsorted(self.instants, t, side="right")
        reasons = np.zeros(k, dtype=np.uint32)
        for interval in np.unique(intervals):
            sel = np.flatnonzero(intervals == interval)
            comp = self._compile(int(interval))
            reasons[sel] = comp.reasons(loc, sel, tidx[sel], alt[sel], speed[sel])
        add_network_reasons(reasons, satellite_in_view, path_to_gateway)
        if deactivated_at:
            # one lookup per distinct terminal, then a vector compare: O(K), not
            # O(deactivated × K)
            never = np.iinfo(np.int64).max
            when = np.array([deactivated_at.get(str(u), never) for u in uid],
                            dtype=np.int64)[tinv]
            reasons[t >= when] |= np.uint32(Reason.TERMINAL_DEACTIVATED)
        return reasons == 0, reasons

    def interval_of(self, t_ns: int) -> int:
        """The interval between two change instants of the log that holds ``t_ns``."""
        return int(np.searchsorted(self.instants, int(t_ns), side="right"))

    def place_reasons(self, interval: int, tidx: np.ndarray, lat, lon, alt_m, speed_kmh, *,
                      moving: bool = False) -> np.ndarray:
        """The reasons of :meth:`decide` that depend on the policy in force, the registry and
        the decision's place and motion only — not on the network or run-time deactivations
        — for registry indices ``tidx`` (−1: unknown) in one ``interval``
        (:meth:`interval_of`).  A run of fixed terminals computes them once per interval;
        ``moving``: points that come back to the same places instant after instant (moving
        terminals: their countries are looked up by remembered tiles, the same answers)."""
        loc = self.locate(lat, lon, moving=moving)
        sel = np.arange(len(loc.inverse))
        return self._compile(int(interval)).reasons(loc, sel, np.asarray(tidx, np.int64),
                                                    np.asarray(alt_m, np.float64),
                                                    np.asarray(speed_kmh, np.float64))

    def explain(self, terminal_id: str, lat: float, lon: float, alt_m: float,
                speed_kmh: float, time_ns: int, *, satellite_in_view: bool | None = None,
                path_to_gateway: bool | None = None) -> dict:
        """One decision, with every reason in words (network flags as in :meth:`decide`)."""
        allowed, reasons = self.decide(
            [terminal_id], [lat], [lon], [alt_m], [speed_kmh], [time_ns],
            satellite_in_view=None if satellite_in_view is None else [satellite_in_view],
            path_to_gateway=None if path_to_gateway is None else [path_to_gateway])
        mask = int(reasons[0])
        loc = self.locate([lat], [lon])
        comp = self.compiled_at(time_ns)
        detail = comp.describe(loc, terminal_id, alt_m, speed_kmh)
        words = [EXPLAIN[r].format(**detail) for r in Reason if mask & int(r)]
        where = detail["place"]
        if allowed[0]:
            text = f"allowed: terminal {terminal_id} at {where} meets every rule in force."
        else:
            text = f"denied: terminal {terminal_id} at {where}: " + "; ".join(words) + "."
        return {"allowed": bool(allowed[0]), "reasons": reason_names(mask), "explanation": text}
