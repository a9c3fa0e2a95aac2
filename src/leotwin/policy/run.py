"""Policy over time: decisions at every instant, detection rules that deactivate terminals, and
enforcement metrics against the ground-truth ``actual_user`` labels.

Detection (P10, P12), exactly: a rule's condition *holds continuously* from the first sampled
instant t₀ at which it is true until the first sampled instant at which it is false.  A terminal
is *detected* at the first sampled instant t of such a run with t − t₀ ≥ ``minutes`` (so a
10-minute rule detects at t₀ + 10 min at 1-, 2-, 5- or 10-minute steps alike, and at the first
instant after t₀ + 10 min when the step does not divide 10 min), and deactivated
``delay_minutes`` after t (a derived log entry, ``decided_by`` the rule).  A rule of 0 minutes
detects at t₀.  Conditions: denied for any of ``reasons``; inside ``zone``; or, for
``cluster``, at least ``min_terminals`` terminals within ``radius_km`` of each other (inside
``zone`` if given); or outside the home country.
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
#: "no current run" in ``PolicyStepper.since``
NEVER = np.iinfo(np.int64).min


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
        #: first instant (UTC ns) of each rule's current run of its condition; NEVER when off
        self.since = np.full((len(self.rules), len(self.ids)), NEVER, dtype=np.int64)
        self.deactivated_at: dict[str, int] = {}
        self.deactivations: list[dict] = []
        self.step_s = step_s

    def step(self, now: int, lat, lon, alt_m, speed_kmh, **network) -> tuple[np.ndarray,
                                                                           np.ndarray]:
        k = len(self.ids)
        la, lo, al, sp = (np.broadcast_to(np.asarray(a, dtype=np.float64), (k,))
                          for a in (lat, lon, alt_m, speed_kmh))
        allowed, reasons = self.engine.decide(self.ids, la, lo, al, sp, np.full(k, now),
                                              self.deactivated_at, **network)
        for j, rule in enumerate(self.rules):
            cond = _condition(self.engine, rule, self.masks[j], reasons, la, lo, self.ids)
            started = np.where(self.since[j] == NEVER, int(now), self.since[j])
            self.since[j] = np.where(cond, started, NEVER)
            held = int(now) - self.since[j] >= round(rule.minutes * 60 * NS_PER_S)
            for i in np.flatnonzero(cond & held):
                if self.ids[i] in self.deactivated_at:
                    continue
                effective = int(now) + round(rule.delay_minutes * 60 * NS_PER_S)
                self.deactivated_at[self.ids[i]] = effective
                self.deactivations.append({
                    "terminal": self.ids[i], "detected_at": ns_to_iso(int(now)),
                    "detected_ns": int(now),
                    "condition_since": ns_to_iso(int(self.since[j, i])),
                    "effective_at": ns_to_iso(effective), "effective_ns": effective,
                    "decided_by": f"detection rule {j}" + (f" ({rule.name})" if rule.name
                                                           else ""),
                    "rule": rule.rule})
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
    """Enforcement metrics against the ground-truth ``actual_user`` labels (defined in
    docs/policy.md § "Enforcement metrics").

    * ``unauthorized_blocked``: denied share of unauthorized terminal-time (what the policy aims
      at); ``collateral_authorized`` / ``collateral_civilian``: denied share of legitimate
      terminal-time (hit by mistake); each also per instant (``…_over_time``).
    * ``denied_by_reason``: per class, the share of its terminal-time denied with each reason
      (a decision with two reasons counts under both, so shares may add up to more than the
      denied share).
    * ``time_to_deactivation_s``: for unauthorized terminals, from the first *use attempt* (the
      first instant of the run at which the terminal tries to use the service: every terminal
      of a scenario tries at every instant, allowed or not) to the deactivation taking effect;
      ``time_to_detection_s`` likewise to the detection.  ``used_and_never_deactivated``:
      unauthorized terminals allowed at some instant and never deactivated.
    """
    from leotwin.policy.reasons import Reason

    labels = np.array([lab or "" for lab in labels])
    denied = ~run.allowed
    result: dict = {"instants": run.grid.count, "terminals": len(labels)}
    by_reason: dict[str, dict[str, float]] = {}
    for cls in CLASSES:
        sel = labels == cls
        key = {"unauthorized": "unauthorized_blocked", "authorized": "collateral_authorized",
               "civilian": "collateral_civilian"}[cls]
        result[key] = float(denied[:, sel].mean()) if sel.any() else None
        result[f"{key}_over_time"] = (denied[:, sel].mean(axis=1).tolist() if sel.any()
                                      else [])
        result[f"{cls}_terminals"] = int(sel.sum())
        if sel.any():
            codes = run.reasons[:, sel]
            shares = {str(r.name): float(((codes & np.uint32(r)) != 0).mean()) for r in Reason}
            by_reason[cls] = {name: v for name, v in shares.items() if v > 0}
    result["denied_by_reason"] = by_reason
    detected = {d["terminal"]: d for d in run.deactivations}
    first_attempt = int(run.grid.ns[0]) if run.grid.count else 0
    to_deactivation, to_detection, never = [], [], 0
    for i in np.flatnonzero(labels == "unauthorized"):
        term = run.terminal_ids[i]
        if term not in detected:
            never += int(run.allowed[:, i].any())
            continue
        d = detected[term]
        to_deactivation.append((d["effective_ns"] - first_attempt) / NS_PER_S)
        to_detection.append((d["detected_ns"] - first_attempt) / NS_PER_S)
    result["time_to_deactivation_s"] = {
        "median": float(np.median(to_deactivation)) if to_deactivation else None,
        "max": float(max(to_deactivation)) if to_deactivation else None,
        "deactivated": len(to_deactivation), "used_and_never_deactivated": never}
    result["time_to_detection_s"] = {
        "median": float(np.median(to_detection)) if to_detection else None,
        "max": float(max(to_detection)) if to_detection else None}
    return result

