"""Policy over time: decisions at every instant, detection rules that deactivate terminals, and
enforcement metrics against the ground-truth ``actual_user`` labels.

Detection (P10, P12): a rule accumulates, per terminal, the time its condition has held without
a break; when it reaches ``minutes`` the terminal is *detected*, and deactivated
``delay_minutes`` later (a derived log entry, ``decided_by`` the rule).  Conditions: denied for
any of ``reasons``; inside ``zone``; or, for ``cluster``, at least ``min_terminals`` terminals
within ``radius_km`` of each other (inside ``zone`` if given); or outside the home country.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from leotwin.geodesy import geodetic_to_ecef
from leotwin.policy.engine import PolicyEngine
from leotwin.policy.reasons import parse_reasons
from leotwin.timegrid.grid import NS_PER_S, TimeGrid, ns_to_iso

CLASSES = ("authorized", "civilian", "unauthorized")


@dataclass
class PolicyRun:
    terminal_ids: list[str]
    grid: TimeGrid
    allowed: np.ndarray  # (T, K) bool
    reasons: np.ndarray  # (T, K) uint32
    deactivations: list[dict] = field(default_factory=list)


class PolicyStepper:
    """Decisions instant by instant with detection state carried between instants (the
    scenario runner feeds it one instant at a time; ``run_policy`` loops it)."""

    def __init__(self, engine: PolicyEngine, terminal_ids, step_s: float):
        self.engine = engine
        self.ids = [str(t) for t in terminal_ids]
        self.rules = engine.doc.policy.detection
        self.masks = [parse_reasons(r.reasons) for r in self.rules]
        self.streak = np.zeros((len(self.rules), len(self.ids)))
        self.deactivated_at: dict[str, int] = {}
        self.deactivations: list[dict] = []
        self.step_s = step_s
        self.first = True

    def step(self, now: int, lat, lon, alt_m, speed_kmh, **network) -> tuple[np.ndarray,
                                                                           np.ndarray]:
        k = len(self.ids)
        la, lo, al, sp = (np.broadcast_to(np.asarray(a, dtype=np.float64), (k,))
                          for a in (lat, lon, alt_m, speed_kmh))
        allowed, reasons = self.engine.decide(self.ids, la, lo, al, sp, np.full(k, now),
                                              self.deactivated_at, **network)
        for j, rule in enumerate(self.rules):
            cond = _condition(self.engine, rule, self.masks[j], reasons, la, lo, self.ids)
            self.streak[j] = np.where(cond, self.streak[j] + (0.0 if self.first
                                                              else self.step_s), 0.0)
            for i in np.flatnonzero(cond & (self.streak[j] >= rule.minutes * 60.0)):
                if self.ids[i] in self.deactivated_at:
                    continue
                effective = int(now) + round(rule.delay_minutes * 60 * NS_PER_S)
                self.deactivated_at[self.ids[i]] = effective
                self.deactivations.append({
                    "terminal": self.ids[i], "detected_at": ns_to_iso(int(now)),
                    "effective_at": ns_to_iso(effective), "effective_ns": effective,
                    "decided_by": f"detection rule {j}" + (f" ({rule.name})" if rule.name
                                                           else ""),
                    "rule": rule.rule})
        self.first = False
        return allowed, reasons


def run_policy(engine: PolicyEngine, terminal_ids, grid: TimeGrid, lat, lon, alt_m=0.0,
               speed_kmh=0.0) -> PolicyRun:
    """Decide every terminal at every instant; ``lat``/``lon``/``alt_m``/``speed_kmh`` are (K,)
    for fixed terminals or (T, K) for moving ones."""
    stepper = PolicyStepper(engine, terminal_ids, grid.step_ns / NS_PER_S)
    k, n_t = len(stepper.ids), grid.count
    arrays = [np.broadcast_to(np.asarray(a, dtype=np.float64), (n_t, k))
              for a in (lat, lon, alt_m, speed_kmh)]
    out = PolicyRun(stepper.ids, grid, np.zeros((n_t, k), bool), np.zeros((n_t, k), np.uint32))
    for t, now in enumerate(grid.ns):
        out.allowed[t], out.reasons[t] = stepper.step(int(now), *(a[t] for a in arrays))
    out.deactivations = stepper.deactivations
    return out


def _outside_home(engine, ids, lat, lon) -> np.ndarray:
    loc = engine.locate(lat, lon)
    out = np.zeros(len(ids), dtype=bool)
    for i, tid in enumerate(ids):
        k = engine.terminal_index.get(tid, -1)
        home = engine.terminals[k].home_country if k >= 0 else None
        if home:
            out[i] = not engine.member(loc, engine.region_key(home))[loc.inverse[i]]
    return out


def _condition(engine, rule, mask, reasons, lat, lon, ids) -> np.ndarray:
    if rule.rule == "denied_for":
        return (reasons & np.uint32(mask)) != 0
    inside = np.ones(len(lat), dtype=bool)
    if rule.zone is not None:
        loc = engine.locate(lat, lon)
        inside = engine.member(loc, engine.region_key(rule.zone))[loc.inverse]
    if rule.rule == "in_zone":
        return inside
    if rule.rule == "outside_home":
        return _outside_home(engine, ids, lat, lon)
    cond = np.zeros(len(lat), dtype=bool)
    idx = np.flatnonzero(inside)
    if idx.size >= rule.min_terminals:
        xyz = geodetic_to_ecef(lat[idx], lon[idx], 0 * lat[idx])
        counts = cKDTree(xyz).query_ball_point(xyz, rule.radius_km, return_length=True)
        cond[idx] = counts >= rule.min_terminals
    return cond


def enforcement(run: PolicyRun, labels) -> dict:
    """Share of terminal-time denied per ground-truth class, over the run and per instant.

    ``unauthorized_blocked``: denied share of unauthorized terminal-time (what the policy aims
    at); ``collateral_authorized`` / ``collateral_civilian``: denied share of legitimate
    terminal-time (hit by mistake).  ``time_to_deactivation_s``: for unauthorized terminals,
    from their first allowed instant (first unauthorized use) to the deactivation taking effect.
    """
    labels = np.array([lab or "" for lab in labels])
    denied = ~run.allowed
    result: dict = {"instants": run.grid.count, "terminals": len(labels)}
    for cls in CLASSES:
        sel = labels == cls
        key = {"unauthorized": "unauthorized_blocked", "authorized": "collateral_authorized",
               "civilian": "collateral_civilian"}[cls]
        result[key] = float(denied[:, sel].mean()) if sel.any() else None
        result[f"{key}_over_time"] = (denied[:, sel].mean(axis=1).tolist() if sel.any()
                                      else [])
        result[f"{cls}_terminals"] = int(sel.sum())
    eff = {d["terminal"]: d["effective_ns"] for d in run.deactivations}
    delays, never = [], 0
    for i in np.flatnonzero(labels == "unauthorized"):
        used = np.flatnonzero(run.allowed[:, i])
        term = run.terminal_ids[i]
        if term not in eff:
            never += int(used.size > 0)
            continue
        first = run.grid.ns[used[0]] if used.size else eff[term]
        delays.append(max(0.0, (eff[term] - first) / NS_PER_S))
    result["time_to_deactivation_s"] = {
        "median": float(np.median(delays)) if delays else None,
        "max": float(max(delays)) if delays else None,
        "deactivated": len(delays), "used_and_never_deactivated": never}
    return result
