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
from leotwin.policy.load import LoadedPolicy, plans_of
from leotwin.policy.reasons import EXPLAIN, Reason, reason_names
from leotwin.policy.schema import PolicyFile
from leotwin.policy.state import PolicyState, as_of, change_instants

STATUSES = ("active", "not_licensed", "inactive", "blacklisted", "waitlisted", "test")
_CODE = {s: k for k, s in enumerate(STATUSES)}
CELL_RES = 5


@dataclass
class Located:
    """Unique points and where each decision maps into them."""

    inverse: np.ndarray  # (K,) decision → unique point
    lat: np.ndarray
    lon: np.ndarray
    country: np.ndarray  # (U,) country index or −1
    zones: np.ndarray  # (U, Z) bool
    cells: np.ndarray | None  # (U,) uint64 H3 res-5 or None


class PolicyEngine:
    def __init__(self, policy: LoadedPolicy | PolicyFile):
        self.doc = policy.doc if isinstance(policy, LoadedPolicy) else policy
        self.source = policy.source if isinstance(policy, LoadedPolicy) else ""
        self.countries = countries()
        self.zone_names = list(self.doc.regions)
        self.zones = [self._zone(n, z) for n, z in self.doc.regions.items()]
        self.plans = plans_of(self.doc)
        self.plan_names = list(self.plans)
        self.account_ids = [a.id for a in self.doc.policy.accounts]
        self.accounts = {a.id: a for a in self.doc.policy.accounts}
        self.terminal_ids = [t.id for t in self.doc.terminals]
        self.terminal_index = {t: k for k, t in enumerate(self.terminal_ids)}
        self.terminals = self.doc.terminals
        self.instants = np.asarray(change_instants(self.doc), dtype=np.int64)
        self._compiled: dict[int, _Compiled] = {}
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
        """('z', zone index) or ('c', country index) for a region name or code."""
        if name in self.zone_names:
            return ("z", self.zone_names.index(name))
        return ("c", self.countries.index_of(name))

    def region_name(self, key: tuple[str, int]) -> str:
        if key[0] == "z":
            return self.zone_names[key[1]]
        r = self.countries.regions[key[1]]
        return f"{r.name} ({r.iso_a2})" if r.iso_a2 else r.name

    @cached_property
    def _needs_cells(self) -> bool:
        return any(e.change.kind in ("set_cells", "spillover") for e in self.doc.policy.log)

    def locate(self, lat, lon) -> Located:
        """Locate points (cached for a repeat of the same positions, as runs of fixed
        terminals make)."""
        lat = np.asarray(lat, dtype=np.float64).ravel()
        lon = np.asarray(lon, dtype=np.float64).ravel()
        last = getattr(self, "_last_located", None)
        if last is not None and np.array_equal(last[0], lat) and np.array_equal(last[1], lon):
            return last[2]
        loc = self._locate(lat, lon)
        self._last_located = (lat.copy(), lon.copy(), loc)
        return loc

    def _locate(self, lat: np.ndarray, lon: np.ndarray) -> Located:
        key = lat + 1j * lon
        uniq, inverse = np.unique(key, return_inverse=True)
        ulat, ulon = uniq.real.copy(), uniq.imag.copy()
        country = self.countries.lookup(ulat, ulon) if len(uniq) else np.empty(0, np.int64)
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

    def _spillover_cells(self, spec) -> dict[int, str]:
        """Cells of ``into`` whose centres are within ``buffer_km`` of region ``from`` (local
        equirectangular distance around the ``into`` region: cos φ₀ scaling, < 1 % error over
        a few hundred km)."""
        if spec in self._spill:
            return self._spill[spec]
        import shapely

        src, into, buffer_km, status = spec
        a = self._region_of(src)
        b = self._region_of(into)
        cells = cover(b, CELL_RES)
        lat0 = np.radians(np.mean(b.bounds[1::2]))
        scale = np.array([np.cos(lat0), 1.0])
        geom = shapely.transform(a.geometry, lambda xy: xy * scale)
        pts = shapely.points(cells.lon_deg * scale[0], cells.lat_deg)
        near = shapely.distance(geom, pts) * 111.32 <= buffer_km
        out = {int(c): status for c in cells.cells[near]}
        self._spill[spec] = out
        return out

    def _region_of(self, name: str) -> Region:
        key = self.region_key(name)
        return self.zones[key[1]] if key[0] == "z" else self.countries.regions[key[1]]

    # --- state --------------------------------------------------------------------------------
    def state_at(self, t_ns: int) -> PolicyState:
        return as_of(self.doc, int(t_ns))

    def _compile(self, interval: int) -> _Compiled:
        if interval not in self._compiled:
            t = int(self.instants[interval - 1]) if interval > 0 else -(2**62)
            self._compiled[interval] = _Compiled(self, self.state_at(t))
        return self._compiled[interval]

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
        if satellite_in_view is not None:
            reasons[~np.broadcast_to(np.asarray(satellite_in_view, bool), (k,))] |= np.uint32(
                Reason.NO_SATELLITE_IN_VIEW)
        if path_to_gateway is not None:
            reasons[~np.broadcast_to(np.asarray(path_to_gateway, bool), (k,))] |= np.uint32(
                Reason.NO_PATH_TO_GATEWAY)
        if deactivated_at:
            for term, when in deactivated_at.items():
                hit = (ids == term) & (t >= when)
                reasons[hit] |= np.uint32(Reason.TERMINAL_DEACTIVATED)
        return reasons == 0, reasons

    def explain(self, terminal_id: str, lat: float, lon: float, alt_m: float,
                speed_kmh: float, time_ns: int) -> dict:
        """One decision, with every reason in words."""
        allowed, reasons = self.decide([terminal_id], [lat], [lon], [alt_m], [speed_kmh],
                                       [time_ns])
        mask = int(reasons[0])
        loc = self.locate([lat], [lon])
        comp = self._compile(int(np.searchsorted(self.instants, time_ns, side="right")))
        detail = comp.describe(loc, terminal_id, alt_m, speed_kmh)
        words = [EXPLAIN[r].format(**detail) for r in Reason if mask & int(r)]
        where = detail["place"]
        if allowed[0]:
            text = f"allowed: terminal {terminal_id} at {where} meets every rule in force."
        else:
            text = f"denied: terminal {terminal_id} at {where}: " + "; ".join(words) + "."
        return {"allowed": bool(allowed[0]), "reasons": reason_names(mask), "explanation": text}


class _Compiled:
    """One interval's state as arrays over countries, zones and registry terminals."""

    def __init__(self, engine: PolicyEngine, state: PolicyState):
        self.e, self.s = engine, state
        n_c = len(engine.countries.regions)
        default = _CODE[state.default_status]
        self.country_status = np.full(n_c + 1, default, dtype=np.int8)  # last: open sea
        self.zone_status = np.full(len(engine.zones), -1, dtype=np.int8)
        for name, status in state.status.items():
            kind, idx = engine.region_key(name)
            (self.country_status if kind == "c" else self.zone_status)[idx] = _CODE[status]
        self.cells: dict[int, str] = {}
        for spec in state.spillovers:
            self.cells.update(engine._spillover_cells(spec))
        for c, status in state.cells.items():
            import h3

            self.cells[h3.str_to_int(c)] = status
        n_t = len(engine.terminals)
        plans = [engine.plans[t.plan] for t in engine.terminals]
        self.plan_in_motion = np.array([p.in_motion for p in plans], dtype=bool)
        self.plan_speed = np.array([p.max_speed_kmh if p.max_speed_kmh is not None else np.inf
                                    for p in plans])
        self.plan_alt = np.array([p.max_altitude_m if p.max_altitude_m is not None else np.inf
                                  for p in plans])
        self.plan_exempt = np.array([p.exempt_from_land_bans for p in plans], dtype=bool)
        self.deactivated = np.array([t.id in state.deactivated for t in engine.terminals],
                                    dtype=bool)
        funded = []
        for t in engine.terminals:
            payers = state.account_payers.get(t.account or "", [])
            funded.append(not payers or any(state.payer_status.get(p, "active") == "active"
                                            for p in payers))
        self.unfunded = ~np.array(funded, dtype=bool) if n_t else np.zeros(0, bool)
        self.test_ok = np.array([bool(t.account and t.account in engine.accounts
                                      and engine.accounts[t.account].test_program)
                                 for t in engine.terminals], dtype=bool)
        # whitelists need an explicit registration; a waitlist also admits home-country users
        self.registered = {name: np.array([name in state.registered.get(t.id, set())
                                           for t in engine.terminals], dtype=bool)
                           for name in {*state.whitelist_required, *state.status}}
        self.home = {name: np.array([t.home_country == name for t in engine.terminals],
                                    dtype=bool) for name in state.status}

    def _terminal(self, arr: np.ndarray, tidx: np.ndarray, default) -> np.ndarray:
        out = np.full(tidx.shape, default, dtype=arr.dtype if arr.size else type(default))
        known = tidx >= 0
        if arr.size:
            out[known] = arr[tidx[known]]
        return out

    def status(self, loc: Located, sel: np.ndarray):
        """Per decision: status code, from-cell flag, and the key of the region that set it."""
        u = loc.inverse[sel]
        country = loc.country[u]
        status = self.country_status[np.where(country >= 0, country, -1)]
        src_kind = np.zeros(len(sel), dtype=np.int8)  # 0 country, 1 zone, 2 cell
        src_idx = country.copy()
        for z in range(len(self.e.zones)):
            if self.zone_status[z] >= 0:
                inside = loc.zones[u, z]
                status = np.where(inside, self.zone_status[z], status)
                src_kind = np.where(inside, 1, src_kind)
                src_idx = np.where(inside, z, src_idx)
        if self.cells and loc.cells is not None:
            ucode = np.array([_CODE.get(self.cells.get(int(c), ""), -1) for c in loc.cells],
                             dtype=np.int8)
            code = ucode[u]
            has = code >= 0
            status = np.where(has, code, status)
            src_kind = np.where(has, 2, src_kind)
        return status, src_kind, src_idx

    def reasons(self, loc: Located, sel, tidx, alt, speed) -> np.ndarray:
        e, s = self.e, self.s
        u = loc.inverse[sel]
        out = np.zeros(len(sel), dtype=np.uint32)

        def flag(mask, reason):
            nonlocal out
            out |= np.where(mask, np.uint32(reason), np.uint32(0))

        known = tidx >= 0
        flag(~known, Reason.UNKNOWN_TERMINAL)
        status, src_kind, _src_idx = self.status(loc, sel)
        not_lic = status == _CODE["not_licensed"]
        for region, accounts, plans in s.overrides:
            key = e.region_key(region)
            inside = e.member(loc, key)[u]
            ok = inside & known
            if accounts is not None:
                ok &= np.isin(tidx, [k for k, t in enumerate(e.terminals) if t.account in accounts])
            if plans is not None:
                ok &= np.isin(tidx, [k for k, t in enumerate(e.terminals) if t.plan in plans])
            not_lic &= ~ok
        flag(not_lic, Reason.REGION_NOT_LICENSED)
        flag(status == _CODE["inactive"], Reason.REGION_INACTIVE)
        black = status == _CODE["blacklisted"]
        flag(black & (src_kind == 2), Reason.CELL_BLACKLISTED)
        flag(black & (src_kind != 2), Reason.REGION_BLACKLISTED)
        test = status == _CODE["test"]
        flag(test & ~self._terminal(self.test_ok, tidx, False), Reason.REGION_INACTIVE)
        wait = status == _CODE["waitlisted"]
        if wait.any():
            ok = np.zeros(len(sel), dtype=bool)
            for name, reg in self.registered.items():
                key = e.region_key(name)
                home = self.home.get(name, np.zeros_like(reg))
                ok |= e.member(loc, key)[u] & self._terminal(reg | home, tidx, False)
            flag(wait & ~ok, Reason.REGION_WAITLISTED)
        moving = speed > e.threshold
        plan_speed = self._terminal(self.plan_speed, tidx, np.inf)
        flag(moving & known & ~self._terminal(self.plan_in_motion, tidx, True),
             Reason.IN_MOTION_NOT_ALLOWED)
        cap = plan_speed.copy()
        for name, value in s.speed_caps.items():
            cap = np.where(e.member(loc, e.region_key(name))[u], np.minimum(cap, value), cap)
        flag(speed > cap, Reason.SPEED_CAP)
        altcap = self._terminal(self.plan_alt, tidx, np.inf)
        for name, value in s.altitude_caps.items():
            altcap = np.where(e.member(loc, e.region_key(name))[u], np.minimum(altcap, value),
                              altcap)
        flag(alt > altcap, Reason.ALTITUDE_CAP)
        exempt = self._terminal(self.plan_exempt, tidx, False)
        for name in s.in_motion_bans:
            flag(moving & ~exempt & e.member(loc, e.region_key(name))[u],
                 Reason.IN_MOTION_NOT_ALLOWED)
        for name in s.whitelist_required:
            inside = e.member(loc, e.region_key(name))[u]
            flag(inside & ~self._terminal(self.registered[name], tidx, False),
                 Reason.NOT_WHITELISTED)
        flag(self._terminal(self.unfunded, tidx, False), Reason.FUNDING_SUSPENDED)
        flag(self._terminal(self.deactivated, tidx, False), Reason.TERMINAL_DEACTIVATED)
        return out

    def describe(self, loc: Located, terminal_id: str, alt_m: float, speed: float) -> dict:
        """Words for ``explain``: place, caps, plan, account, deactivation reason."""
        e, s = self.e, self.s
        sel = np.array([0])
        _status, src_kind, src_idx = self.status(loc, sel)
        country = int(loc.country[0])
        place = (e.countries.regions[country].name if country >= 0 else "open sea")
        zones = [e.zone_names[z] for z in np.flatnonzero(loc.zones[0])]
        if zones:
            place += " (" + ", ".join(zones) + ")"
        kind, idx = int(src_kind[0]), int(src_idx[0])
        if kind == 1:
            region = e.zone_names[idx]
        elif idx >= 0:
            region = e.region_name(("c", idx))
        else:
            region = "the open sea"
        cell = h3i.int_to_str(int(loc.cells[0])) if loc.cells is not None else "?"
        k = e.terminal_index.get(terminal_id, -1)
        term = e.terminals[k] if k >= 0 else None
        plan = term.plan if term else "unknown"
        cap = e.plans[plan].max_speed_kmh if term and e.plans[plan].max_speed_kmh else np.inf
        altcap = e.plans[plan].max_altitude_m if term and e.plans[plan].max_altitude_m else np.inf
        tidx = np.array([k])
        u = loc.inverse[sel]
        for name, value in s.speed_caps.items():
            if e.member(loc, e.region_key(name))[u][0]:
                cap = min(cap, value)
        for name, value in s.altitude_caps.items():
            if e.member(loc, e.region_key(name))[u][0]:
                altcap = min(altcap, value)
        del tidx
        return {"place": f"{place}, {loc.lat[0]:.4f}°, {loc.lon[0]:.4f}°", "region": region,
                "cell": cell, "speed": speed, "cap": cap, "alt": alt_m, "altcap": altcap,
                "plan": plan, "account": term.account if term else "?",
                "why": s.deactivated.get(terminal_id, "detected by a rule"),
                "terminal": terminal_id}
