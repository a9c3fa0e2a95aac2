"""The policy in force at an instant: a fold over the granted entries of the log.

Entries apply in the order (effective time, sequence, position in the log); an entry with
``until`` is undone at that instant by re-folding without it (so the fold equals replaying the
log up to t with expired entries left out).  Refused requests never change the state but stay
listed (Crimea 2022 was a refused request).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from leotwin.policy.schema import LogEntry, PolicyFile


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

    def apply(self, entry: LogEntry) -> None:
        kind, b = entry.change.kind, entry.change.body
        if kind == "set_status":
            self.status[b.region] = b.status
        elif kind == "set_cells":
            for c in b.cells:
                self.cells[c] = b.status
        elif kind == "spillover":
            self.spillovers.append((b.from_, b.into, b.buffer_km, b.status))
        elif kind == "speed_cap":
            _set_or_drop(self.speed_caps, b.region, b.max_kmh)
        elif kind == "altitude_cap":
            _set_or_drop(self.altitude_caps, b.region, b.max_m)
        elif kind == "in_motion_ban":
            (self.in_motion_bans.add if b.banned else self.in_motion_bans.discard)(b.region)
        elif kind == "whitelist":
            target = self.whitelist_required
            (target.add if b.required else target.discard)(b.region)
        elif kind == "register":
            regs = self.registered.setdefault(b.terminal, set())
            (regs.add if b.registered else regs.discard)(b.region)
        elif kind == "funding":
            self.payer_status[b.payer] = b.status
        elif kind == "assign_payer":
            payers = [] if b.replace else list(self.account_payers.get(b.account, []))
            self.account_payers[b.account] = [*payers, b.payer]
        elif kind == "deactivate":
            self.deactivated[b.terminal] = f"{b.why}; log entry {entry.id}"
        elif kind == "reactivate":
            self.deactivated.pop(b.terminal, None)
        elif kind == "override":
            key = (b.region, frozenset(b.accounts) if b.accounts else None,
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


def ordered(log: list[LogEntry]) -> list[tuple[int, LogEntry]]:
    """Granted entries in application order: (effective time, sequence, log position)."""
    granted = [(k, e) for k, e in enumerate(log) if e.decision == "granted"]
    return sorted(granted, key=lambda ke: (ke[1].effective, ke[1].sequence, ke[0]))


def initial_state(doc: PolicyFile) -> PolicyState:
    state = PolicyState(doc.policy.default_status)
    for t in doc.terminals:
        if t.whitelisted:
            state.registered[t.id] = set(t.whitelisted)
    for a in doc.policy.accounts:
        state.account_payers[a.id] = list(a.payers)
    return state


def as_of(doc: PolicyFile, t_ns: int) -> PolicyState:
    """The state in force at ``t_ns``: granted entries with effective ≤ t < until, in order."""
    state = initial_state(doc)
    for _, entry in ordered(doc.policy.log):
        if entry.effective <= t_ns and (entry.until is None or t_ns < entry.until):
            state.apply(entry)
    return state


def change_instants(doc: PolicyFile) -> list[int]:
    """Every instant at which the state may change (effective and until times), sorted."""
    out = set()
    for e in doc.policy.log:
        if e.decision == "granted":
            out.add(e.effective)
            if e.until is not None:
                out.add(e.until)
    return sorted(out)


def refused_until(doc: PolicyFile, t_ns: int) -> list[LogEntry]:
    """Refused requests made up to ``t_ns`` (they stay visible in every output)."""
    return [e for e in doc.policy.log if e.decision == "refused" and e.requested_at <= t_ns]
