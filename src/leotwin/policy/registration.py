"""Whitelist registrations under rules: limits per owner and a processing delay.

While a ``registration_rules`` entry is in force for a region (Ukraine from February 2026,
``changes.UA_2026_RULES``), a granted ``register`` of a terminal there

1. takes effect ``processing_hours`` after it took effect as granted (the application is
   processed; until then the terminal is not registered: NOT_WHITELISTED);
2. is *rejected* if, when it is processed, the terminal's owner (``Terminal.owner``, the
   terminal itself when none) already has as many terminals registered in the region as the
   rules allow its kind: a person ``person_without_device`` when the device was not presented,
   else ``person_with_device``; a company ``company``; a critically important enterprise
   ``critical`` (``None``: no limit).  Terminals registered before the rules (the scenario's
   ``whitelisted``) count towards the limit but are never removed.

Withdrawals (``registered: false``) and registrations where no rules are in force take effect
as granted.  The rules in force for a registration are those at the time it took effect as
granted (a later ``registration_rules`` entry for the region replaces an earlier one).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from leotwin.policy.changes import RegistrationRules
from leotwin.policy.places import RegionNames
from leotwin.policy.schema import LogEntry, PolicyFile
from leotwin.timegrid.grid import NS_PER_S


@dataclass(frozen=True)
class Outcome:
    """What became of one ``register`` entry under rules."""

    processed_at: int  # UTC ns: when it took effect (or was rejected)
    rejected: str | None = None  # why, when rejected


def _in_force(entry: LogEntry, t: int) -> bool:
    return entry.effective <= t and (entry.until is None or t < entry.until)


def outcomes(doc: PolicyFile) -> dict[str, Outcome]:
    """The outcome of every granted ``register`` entry made while rules were in force, by
    entry id (entries without rules are absent: they take effect as granted)."""
    log = [(k, e) for k, e in enumerate(doc.policy.log) if e.decision == "granted"]
    rules = [(k, e) for k, e in log if e.change.kind == "registration_rules"]
    if not rules:
        return {}
    names = RegionNames(doc.regions)
    order = sorted(rules, key=lambda ke: (ke[1].effective, ke[1].sequence, ke[0]))

    def rules_at(region: str, t: int) -> RegistrationRules | None:
        body = None
        for _, e in order:
            if names.canonical(e.change.body.region) == region and _in_force(e, t):
                body = e.change.body
        return body

    owners = {t.id: (t.owner or t.id, t.owner_kind) for t in doc.terminals}
    registry: dict[str, set[str]] = {}
    for t in doc.terminals:
        for r in t.whitelisted:
            registry.setdefault(names.canonical(r), set()).add(t.id)
    events: list[tuple[int, int, int, LogEntry, RegistrationRules | None]] = []
    for k, e in log:
        if e.change.kind != "register":
            continue
        b = e.change.body
        region = names.canonical(b.region)
        body = rules_at(region, e.effective) if b.registered else None
        at = e.effective + (round(body.processing_hours * 3600 * NS_PER_S) if body else 0)
        heapq.heappush(events, (at, e.sequence, k, e, body))
    out: dict[str, Outcome] = {}
    while events:
        at, _, _, e, body = heapq.heappop(events)
        b = e.change.body
        region = names.canonical(b.region)
        members = registry.setdefault(region, set())
        if not b.registered:
            members.discard(b.terminal)
            continue
        if body is None:
            members.add(b.terminal)
            continue
        owner, kind = owners.get(b.terminal, (b.terminal, "person"))
        if kind == "person":
            limit = body.person_with_device if b.device_presented else body.person_without_device
            what = ("a person registering with the device presented" if b.device_presented
                    else "a person registering without the device")
        else:
            limit = body.company if kind == "company" else body.critical
            what = "a company" if kind == "company" else "a critically important enterprise"
        held = sum(owners.get(t, (t, ""))[0] == owner for t in members if t != b.terminal)
        if b.terminal not in members and limit is not None and held >= limit:
            out[e.id] = Outcome(at, f"owner {owner} already has {held} terminal(s) registered "
                                    f"in {region}: the limit for {what} is {limit}")
            continue
        members.add(b.terminal)
        out[e.id] = Outcome(at)
    return out
