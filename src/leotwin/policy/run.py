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
from leotwin.policy.engine import PolicyEngine, add_network_reasons
from leotwin.policy.intervals import DecisionIntervals
from leotwin.policy.reasons import Reason, parse_reasons
from leotwin.timegrid.grid import NS_PER_S, TimeGrid, ns_to_iso

CLASSES = ("authorized", "civilian", "unauthorized")
#: "no current run" in ``PolicyStepper.since``
NEVER = np.iinfo(np.int64).min
#: "not deactivated" in ``PolicyStepper.when``
LATER = np.iinfo(np.int64).max


@dataclass
class PolicyRun:
    terminal_ids: list[str]
    grid: TimeGrid
    allowed: np.ndarray  # (T, K) bool
    reasons: np.ndarray  # (T, K) uint32
    deactivations: list[dict] = field(default_factory=list)


class PolicyStepper:
    """Decisions instant by instant with detection state carried between instants (the
    scenario runner feeds it one instant at a time; ``run_policy`` loops it).

    Each decision equals ``PolicyEngine.decide`` for the same inputs.  What depends only on
    the policy in force and the terminals' places and motion is computed once per interval
    of the log while those do not change (``PolicyEngine.place_reasons``), as are the
    conditions of rules that depend on places only; each instant then adds the network's
    answers and the deactivations."""

    def __init__(self, engine: PolicyEngine, terminal_ids, step_s: float, *,
                 places: dict[int, np.ndarray] | None = None):
        """``places``: rule index → its condition for these terminals, computed elsewhere
        (a ``cluster`` rule over more terminals than these: ``sim.shards``); fixed places."""
        self.engine = engine
        self.ids = [str(t) for t in terminal_ids]
        self.tidx = np.array([engine.terminal_index.get(t, -1) for t in self.ids],
                             dtype=np.int64)
        self.rules = engine.doc.policy.detection
        self.masks = [parse_reasons(r.reasons) for r in self.rules]
        #: first instant (UTC ns) of each rule's current run of its condition; NEVER when off
        self.since = np.full((len(self.rules), len(self.ids)), NEVER, dtype=np.int64)
        #: when each terminal's run-time deactivation takes effect (UTC ns; LATER: none)
        self.when = np.full(len(self.ids), LATER, dtype=np.int64)
        self.deactivations: list[dict] = []
        self.step_s = step_s
        self._static: tuple | None = None
        self._places: dict[int, tuple] = {}
        self.given = dict(places or {})

    @property
    def deactivated_at(self) -> dict[str, int]:
        """Terminal → when its run-time deactivation takes effect (UTC ns)."""
        return {self.ids[i]: int(self.when[i]) for i in np.flatnonzero(self.when != LATER)}

    def _place_reasons(self, interval: int, la, lo, al, sp) -> np.ndarray:
        """The place reasons; after the first instant of an interval only the terminals
        whose place or speed changed are decided again (moving ones)."""
        last = self._static
        now = (la, lo, al, sp)
        if last is None or last[0] != interval:
            reasons = self.engine.place_reasons(interval, self.tidx, *now)
            self._static = (interval, tuple(np.array(x) for x in now), reasons)
            return reasons
        changed = np.zeros(len(self.ids), dtype=bool)
        for x, y in zip(last[1], now, strict=True):
            changed |= x != y
        if not changed.any():
            return last[2]
        idx = np.flatnonzero(changed)
        reasons = last[2].copy()
        reasons[idx] = self.engine.place_reasons(interval, self.tidx[idx],
                                                 *(x[idx] for x in now), moving=True)
        places = tuple(np.array(x) for x in now)
        self._static = (interval, places, reasons)
        return reasons

    def step(self, now: int, lat, lon, alt_m, speed_kmh, *, satellite_in_view=None,
             path_to_gateway=None) -> tuple[np.ndarray, np.ndarray]:
        k = len(self.ids)
        now = int(now)
        la, lo, al, sp = (np.broadcast_to(np.asarray(a, dtype=np.float64), (k,))
                          for a in (lat, lon, alt_m, speed_kmh))
        reasons = self._place_reasons(self.engine.interval_of(now), la, lo, al, sp).copy()
        add_network_reasons(reasons, satellite_in_view, path_to_gateway)
        reasons[now >= self.when] |= np.uint32(Reason.TERMINAL_DEACTIVATED)
        for j, rule in enumerate(self.rules):
            cond = self._condition(j, rule, reasons, la, lo)
            started = np.where(self.since[j] == NEVER, now, self.since[j])
            self.since[j] = np.where(cond, started, NEVER)
            held = now - self.since[j] >= round(rule.minutes * 60 * NS_PER_S)
            for i in np.flatnonzero(cond & held & (self.when == LATER)):
                effective = now + round(rule.delay_minutes * 60 * NS_PER_S)
                self.when[i] = effective
                self.deactivations.append({
                    "terminal": self.ids[i], "detected_at": ns_to_iso(now),
                    "detected_ns": now, "condition_since": ns_to_iso(int(self.since[j, i])),
                    "effective_at": ns_to_iso(effective), "effective_ns": effective,
                    "decided_by": f"detection rule {j}" + (f" ({rule.name})" if rule.name
                                                           else ""),
                    "rule": rule.rule, "rule_index": j})
        return reasons == 0, reasons

    def _condition(self, j: int, rule, reasons, la, lo) -> np.ndarray:
        if rule.rule == "denied_for":
            return (reasons & np.uint32(self.masks[j])) != 0
        if j in self.given:
            return self.given[j]
        last = self._places.get(j)  # the other rules depend on places only
        if last is None:
            cond = place_condition(self.engine, rule, la, lo, self.ids)
        else:
            changed = (last[0] != la) | (last[1] != lo)
            if not changed.any():
                return last[2]
            if rule.rule == "cluster":  # depends on the others too
                cond = place_condition(self.engine, rule, la, lo, self.ids)
            else:
                idx = np.flatnonzero(changed)
                cond = last[2].copy()
                cond[idx] = place_condition(self.engine, rule, la[idx], lo[idx],
                                            [self.ids[i] for i in idx])
        self._places[j] = (np.array(la), np.array(lo), cond)
        return cond


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


def place_condition(engine, rule, lat, lon, ids) -> np.ndarray:
    """A rule's condition that depends on places only (``in_zone``, ``outside_home``,
    ``cluster``): a pure function of the terminals' positions at one instant."""
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


def enforcement(run: PolicyRun | DecisionIntervals, labels, *,
                terminal_ids: list[str] | None = None, deactivations: list[dict] | None = None,
                first_ns: int | None = None) -> dict:
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

    ``run``: a :class:`PolicyRun`, or a run's :class:`~leotwin.policy.intervals.DecisionIntervals`
    with its ``terminal_ids``, ``deactivations`` and first instant ``first_ns`` (UTC ns); every
    figure is counted
    from the intervals, exactly as from every instant.
    """
    if isinstance(run, PolicyRun):
        terminal_ids, deactivations = run.terminal_ids, run.deactivations
        first_ns = int(run.grid.ns[0]) if run.grid.count else 0
        run = DecisionIntervals.from_dense(run.allowed, run.reasons)
    deactivations = deactivations or []
    labels = np.array([lab or "" for lab in labels])
    n_t = run.n_instants
    cls_of = labels[run.terminal]
    denied = ~run.allowed
    length = run.length
    result: dict = {"instants": n_t, "terminals": len(labels)}
    by_reason: dict[str, dict[str, float]] = {}
    for cls in CLASSES:
        n = int((labels == cls).sum())
        rows = cls_of == cls
        key = {"unauthorized": "unauthorized_blocked", "authorized": "collateral_authorized",
               "civilian": "collateral_civilian"}[cls]
        size = n * n_t
        result[key] = int(length[rows & denied].sum()) / size if size else None
        result[f"{key}_over_time"] = ((run.counts_over_time(rows & denied) / n).tolist()
                                      if size else [])
        result[f"{cls}_terminals"] = n
        if size:
            shares = {str(r.name): int(length[rows & ((run.reasons & np.uint32(r)) != 0)].sum())
                      / size for r in Reason}
            by_reason[cls] = {name: v for name, v in shares.items() if v > 0}
    result["denied_by_reason"] = by_reason
    detected = {d["terminal"]: d for d in deactivations}
    ever_allowed = np.bincount(run.terminal[run.allowed], minlength=run.n_terminals) > 0
    first_attempt = first_ns or 0
    to_deactivation, to_detection, never = [], [], 0
    ids = list(terminal_ids or [])
    for i in np.flatnonzero(labels == "unauthorized"):
        term = ids[i]
        if term not in detected:
            never += int(ever_allowed[i])
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

