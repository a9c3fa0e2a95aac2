"""The policy in force at an instant: a fold over the granted entries of the log.

Time semantics (docs/policy.md § "Time"): the state **in force at t** folds only the entries
*decided* by t, each from ``max(effective_at, decided_at)`` (``LogEntry.effective``), so it is a
pure function of what was known at t: whatever is decided later, the answer for t never changes.
Two other views are asked for explicitly:

* ``known_at=k`` (k > t): the state at t **as known at k** — entries decided by k, with
  retroactive corrections applied from their ``effective_at``; without corrections it equals
  the state in force at t;
* ``view="requested"``: every granted entry from the time it was *requested* to take effect
  (``effective_at``), however late it was decided — what a what-if analysis compares with.

Entries apply in the order (start, sequence, position in the log); an entry with ``until`` is
undone at that instant by re-folding without it (so the fold equals replaying the log up to t
with expired entries left out).  Refused requests never change the state but stay listed, from
their decision on (Crimea 2022 was a refused request).  Every region name is kept under its
canonical spelling (``policy.places``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from leotwin.policy.places import RegionNames
from leotwin.policy.registration import Outcome
from leotwin.policy.registration import outcomes as registration_outcomes
from leotwin.policy.schema import LogEntry, PolicyFile

View = Literal["granted", "requested"]
VIEWS = ("granted", "requested")


@dataclass
class PolicyState:
    """What is in force (plain dicts and sets; compiled to arrays by the engine)."""

    default_status: str
    status: dict[str, str] = field(default_factory=dict)  # region (country code/zone) → status
    cells: dict[str, str] = field(default_factory=dict)  # H3 cell → status
    spillovers: list[tuple[str, str, float, str]] = field(default_factory=list)
    speed_caps: dict[str, float] = field(default_factory=dict)
    altitude_caps: dict[str, float] = field(default_factory=dict)
    in_motion_bans: set[str] = field(default_factory=set)
    whitelist_required: set[str] = field(default_factory=set)
    registered: dict[str, set[str]] = field(default_factory=dict)  # terminal → regions
    payer_status: dict[str, str] = field(default_factory=dict)
    account_payers: dict[str, list[str]] = field(default_factory=dict)
    deactivated: dict[str, str] = field(default_factory=dict)  # terminal → why
    overrides: list[tuple[str, frozenset | None, frozenset | None]] = field(default_factory=list)
    plans: dict[str, str] = field(default_factory=dict)  # terminal → plan changed by the log
    registration_rules: dict[str, dict] = field(default_factory=dict)  # region → rules
    #: registrations under rules not yet processed (terminal → UTC ns) or rejected (→ why)
    pending_registrations: dict[str, int] = field(default_factory=dict)
    rejected_registrations: dict[str, str] = field(default_factory=dict)

    def apply(self, entry: LogEntry, names: RegionNames) -> None:
        kind, b = entry.change.kind, entry.change.body
        canon = names.canonical
        if kind == "set_status":
            self.status[canon(b.region)] = b.status
        elif kind == "set_cells":
            for c in b.cells:
                self.cells[c] = b.status
        elif kind == "spillover":
            self.spillovers.append((canon(b.from_), canon(b.into), b.buffer_km, b.status))
        elif kind == "speed_cap":
            _set_or_drop(self.speed_caps, canon(b.region), b.max_kmh)
        elif kind == "altitude_cap":
            _set_or_drop(self.altitude_caps, canon(b.region), b.max_m)
        elif kind == "in_motion_ban":
            bans = self.in_motion_bans
            (bans.add if b.banned else bans.discard)(canon(b.region))
        elif kind == "whitelist":
            target = self.whitelist_required
            (target.add if b.required else target.discard)(canon(b.region))
        elif kind == "register":
            regs = self.registered.setdefault(b.terminal, set())
            (regs.add if b.registered else regs.discard)(canon(b.region))
        elif kind == "funding":
            self.payer_status[names.canonical_or_self(b.payer)] = b.status
        elif kind == "assign_payer":
            payers = [] if b.replace else list(self.account_payers.get(b.account, []))
            self.account_payers[b.account] = [*payers, names.canonical_or_self(b.payer)]
        elif kind == "deactivate":
            self.deactivated[b.terminal] = f"{b.why}; log entry {entry.id}"
        elif kind == "reactivate":
            self.deactivated.pop(b.terminal, None)
        elif kind == "registration_rules":
            self.registration_rules[canon(b.region)] = b.model_dump()
        elif kind == "set_plan":
            self.plans[b.terminal] = b.plan
        elif kind == "override":
            key = (canon(b.region), frozenset(b.accounts) if b.accounts else None,
                   frozenset(b.plans) if b.plans else None)
            if b.enabled:
                self.overrides.append(key)
            else:
                self.overrides = [o for o in self.overrides if o != key]


def _set_or_drop(d: dict, key: str, value) -> None:
    if value is None:
        d.pop(key, None)
    else:
        d[key] = float(value)


def start(entry: LogEntry, view: View = "granted",
          outcomes: dict[str, Outcome] | None = None) -> int | None:
    """When ``entry`` applies in ``view``: as requested, for a retroactive correction (once
    known), when processed for a registration under rules (``policy.registration``; None when
    rejected), or as granted (``max(effective_at, decided_at)``)."""
    if view == "requested" or entry.retroactive:
        return entry.requested_effective
    outcome = outcomes.get(entry.id) if outcomes else None
    if outcome is not None:
        return None if outcome.rejected else outcome.processed_at
    return entry.effective


def ordered(log: list[LogEntry], view: View = "granted",
            outcomes: dict[str, Outcome] | None = None) -> list[tuple[int, LogEntry]]:
    """Granted entries that apply in ``view``, in application order: (start, sequence, log
    position)."""
    keyed = [(start(e, view, outcomes), e.sequence, k, e) for k, e in enumerate(log)
             if e.decision == "granted"]
    return [(k, e) for s, _, k, e in sorted((x for x in keyed if x[0] is not None),
                                            key=lambda x: x[:3])]


def initial_state(doc: PolicyFile, names: RegionNames | None = None) -> PolicyState:
    names = names or RegionNames(doc.regions)
    state = PolicyState(doc.policy.default_status)
    for t in doc.terminals:
        if t.whitelisted:
            state.registered[t.id] = {names.canonical(r) for r in t.whitelisted}
    for a in doc.policy.accounts:
        state.account_payers[a.id] = [names.canonical_or_self(p) for p in a.payers]
    return state


def _outcomes(doc: PolicyFile, view: View) -> dict[str, Outcome]:
    return registration_outcomes(doc) if view == "granted" else {}


def as_of(doc: PolicyFile, t_ns: int, *, known_at: int | None = None,
          view: View = "granted") -> PolicyState:
    """The state at ``t_ns`` (see the module docstring for the views).

    ``known_at``: fold only entries decided by then (default: ``t_ns`` in the ``granted``
    view — the state in force at t as known at t — and every decided entry in the
    ``requested`` view)."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}: expected one of {', '.join(VIEWS)}")
    names = RegionNames(doc.regions)
    state = initial_state(doc, names)
    outcomes = _outcomes(doc, view)
    for entry in in_force(doc, t_ns, known_at=known_at, view=view, outcomes=outcomes):
        state.apply(entry, names)
    for e in doc.policy.log:
        o = outcomes.get(e.id)
        if o is None or e.effective > t_ns or (known_at is not None and e.decided > known_at):
            continue
        if t_ns < o.processed_at:
            state.pending_registrations[e.change.body.terminal] = o.processed_at
        elif o.rejected:
            state.rejected_registrations[e.change.body.terminal] = o.rejected
    return state


def in_force(doc: PolicyFile, t_ns: int, *, known_at: int | None = None,
             view: View = "granted", outcomes: dict[str, Outcome] | None = None
             ) -> list[LogEntry]:
    """The granted entries that ``as_of`` applies at ``t_ns`` (same arguments), in order."""
    known = known_at if known_at is not None else (t_ns if view == "granted" else None)
    outcomes = _outcomes(doc, view) if outcomes is None else outcomes
    return [e for _, e in ordered(doc.policy.log, view, outcomes)
            if (known is None or e.decided <= known)
            and (start(e, view, outcomes) or 0) <= t_ns
            and (e.until is None or t_ns < e.until)]


def change_instants(doc: PolicyFile) -> list[int]:
    """Every instant at which the state in force may change (when granted entries take
    effect as granted, and their ``until``; when a registration under rules is processed;
    when a terminal enters the registry), sorted."""
    out = {t.registered_at for t in doc.terminals if t.registered_at is not None}
    out.update(o.processed_at for o in registration_outcomes(doc).values())
    for e in doc.policy.log:
        if e.decision == "granted":
            out.add(e.effective)
            if e.until is not None:
                out.add(e.until)
    return sorted(out)


def refused_until(doc: PolicyFile, t_ns: int) -> list[LogEntry]:
    """Requests refused by ``t_ns`` (decided by then; they stay visible in every output)."""
    return [e for e in doc.policy.log if e.decision == "refused" and e.decided <= t_ns]


def describe_view(t_ns: int, known_at: int | None, view: View) -> str:
    """One sentence saying what ``as_of(doc, t_ns, known_at=…, view=…)`` answers."""
    from leotwin.timegrid.grid import ns_to_iso

    t = ns_to_iso(t_ns)
    if view == "requested":
        upto = f"decided by {ns_to_iso(known_at)}" if known_at is not None else "ever granted"
        return (f"as requested: every grant {upto} placed at the time it asked to take effect, "
                f"at {t}")
    if known_at is None or known_at == t_ns:
        return f"what was in force at {t}, as known then (later decisions never change it)"
    return (f"the state at {t} as known at {ns_to_iso(known_at)}: what was in force then, "
            "with the retroactive corrections decided since")
