"""One interval's policy as arrays: the state folded from the log, compiled for decisions.

Between two change instants of the log the policy is constant; :class:`CompiledPolicy` turns
that :class:`~leotwin.policy.state.PolicyState` into arrays over countries, zones and registry
terminals, so that ``PolicyEngine.decide`` evaluates every rule for many decisions at once (the
rules and their reasons are listed in ``policy.engine``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import h3
import h3.api.basic_int as h3i
import numpy as np

from leotwin.policy.reasons import Reason
from leotwin.policy.state import PolicyState
from leotwin.policy.vocabulary import STATUS_CODE

if TYPE_CHECKING:
    from leotwin.policy.engine import Located, PolicyEngine

_CODE = STATUS_CODE


class CompiledPolicy:
    """One interval's state as arrays over countries, zones and registry terminals."""

    def __init__(self, engine: PolicyEngine, state: PolicyState, t_ns: int):
        self.e, self.s = engine, state
        #: registry terminals known in this interval (registered at or before its start)
        self.enrolled = np.array([t.registered_at is None or t.registered_at <= t_ns
                                  for t in engine.terminals], dtype=bool)
        n_c = len(engine.countries.regions)
        default = _CODE[state.default_status]
        self.country_status = np.full(n_c + 1, default, dtype=np.int8)  # last: open sea
        self.zone_status = np.full(len(engine.zones), -1, dtype=np.int8)
        for name, status in state.status.items():
            kind, idx = engine.region_key(name)
            (self.country_status if kind == "c" else self.zone_status)[idx] = _CODE[status]
        self.cells: dict[int, str] = {}
        for spec in state.spillovers:
            self.cells.update(engine.spillover_cells(spec))
        for c, status in state.cells.items():
            self.cells[h3.str_to_int(c)] = status
        n_t = len(engine.terminals)
        self.plan_names = [state.plans.get(t.id, t.plan) for t in engine.terminals]
        plans = [engine.plans[p] for p in self.plan_names]
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
        # home countries resolve like every other region name (policy.places): UA, UKR and
        # Ukraine are one home
        homes = [engine.names.canonical(t.home_country) if t.home_country else None
                 for t in engine.terminals]
        self.home = {name: np.array([h == name for h in homes], dtype=bool)
                     for name in state.status}

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

        known = self._terminal(self.enrolled, tidx, False)
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
                ok &= np.isin(tidx, [k for k, p in enumerate(self.plan_names) if p in plans])
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
        term = e.terminals[k] if k >= 0 and self.enrolled[k] else None
        plan = self.plan_names[k] if term else "unknown"
        cap = e.plans[plan].max_speed_kmh if term and e.plans[plan].max_speed_kmh else np.inf
        altcap = e.plans[plan].max_altitude_m if term and e.plans[plan].max_altitude_m else np.inf
        u = loc.inverse[sel]
        for name, value in s.speed_caps.items():
            if e.member(loc, e.region_key(name))[u][0]:
                cap = min(cap, value)
        for name, value in s.altitude_caps.items():
            if e.member(loc, e.region_key(name))[u][0]:
                altcap = min(altcap, value)
        return {"place": f"{place}, {loc.lat[0]:.4f}°, {loc.lon[0]:.4f}°", "region": region,
                "cell": cell, "speed": speed, "cap": cap, "alt": alt_m, "altcap": altcap,
                "plan": plan, "account": term.account if term else "?",
                "why": s.deactivated.get(terminal_id, "detected by a rule"),
                "registration": _registration_note(s, terminal_id),
                "terminal": terminal_id}


def _registration_note(s: PolicyState, terminal_id: str) -> str:
    """Words on a registration under rules that is not (yet) in force."""
    from leotwin.timegrid.grid import ns_to_iso

    if terminal_id in s.pending_registrations:
        return (" (its registration is being processed until "
                f"{ns_to_iso(s.pending_registrations[terminal_id])})")
    if terminal_id in s.rejected_registrations:
        return f" (its registration was rejected: {s.rejected_registrations[terminal_id]})"
    return ""
