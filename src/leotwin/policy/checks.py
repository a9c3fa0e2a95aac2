"""Checks of a policy's meaning that need the log folded over time (``leotwin policy check``).

*Errors* are changes that cannot take effect — a run would silently ignore them:

* an ``override`` (it lifts REGION_NOT_LICENSED only) while nothing is not licensed — no
  country, zone or cell, nor the default status — at any instant it is in force;
* a grant decided at or after its ``until``: it is never in force.

*Warnings* are legal but suspicious:

* a zone whose name is also a country's code or name (the zone wins wherever the name is used);
* a grant decided after the time it was to take effect (in force from its decision on: the
  state as granted differs from the state as requested);
* a removal that removes nothing at its time (a reactivation of a terminal that is not
  deactivated, a cap, ban or whitelist lifted where none is in force, an override disabled that
  was never enabled, a registration withdrawn that was never made).
"""

from __future__ import annotations

from dataclasses import dataclass

from leotwin.policy.places import RegionNames
from leotwin.policy.schema import LogEntry, PolicyFile
from leotwin.policy.state import (
    PolicyState,
    as_of,
    change_instants,
    in_force,
    initial_state,
)
from leotwin.timegrid.grid import ns_to_iso


@dataclass
class Finding:
    """One problem: what, and where (a path of keys into the file, for its line number)."""

    message: str
    where: tuple


def _not_licensed_anywhere(state: PolicyState) -> bool:
    return ("not_licensed" in (state.default_status, *state.status.values(),
                               *state.cells.values())
            or any(s[3] == "not_licensed" for s in state.spillovers))


def errors(doc: PolicyFile) -> list[Finding]:
    """Changes that cannot take effect (see module docstring)."""
    out = []
    instants = change_instants(doc)
    for k, e in enumerate(doc.policy.log):
        if e.decision != "granted":
            continue
        where = ("policy", "log", k)
        if e.until is not None and e.until <= e.effective:
            out.append(Finding(
                f"log entry '{e.id}' is never in force: it was decided at "
                f"{ns_to_iso(e.decided)}, at or after its until {ns_to_iso(e.until)}", where))
            continue
        body = e.change.body
        if e.change.kind == "override" and body.enabled:
            lo, hi = e.effective, e.until
            times = [lo, *(t for t in instants if lo < t and (hi is None or t < hi))]
            if not any(_not_licensed_anywhere(as_of(doc, t)) for t in times):
                out.append(Finding(
                    f"override '{e.id}' on {body.region} cannot take effect: an override only "
                    "lifts REGION_NOT_LICENSED, and nothing is not_licensed while it is in "
                    "force (set the region's status to not_licensed, or drop the override)",
                    (*where, "change")))
    return out


def _removes_nothing(entry: LogEntry, before: PolicyState, names: RegionNames) -> bool:
    kind, b = entry.change.kind, entry.change.body
    canon = names.canonical
    if kind == "reactivate":
        return b.terminal not in before.deactivated
    if kind == "speed_cap" and b.max_kmh is None:
        return canon(b.region) not in before.speed_caps
    if kind == "altitude_cap" and b.max_m is None:
        return canon(b.region) not in before.altitude_caps
    if kind == "in_motion_ban" and not b.banned:
        return canon(b.region) not in before.in_motion_bans
    if kind == "whitelist" and not b.required:
        return canon(b.region) not in before.whitelist_required
    if kind == "register" and not b.registered:
        return canon(b.region) not in before.registered.get(b.terminal, set())
    if kind == "override" and not b.enabled:
        key = (canon(b.region), frozenset(b.accounts) if b.accounts else None,
               frozenset(b.plans) if b.plans else None)
        return key not in before.overrides
    return False


def warnings(doc: PolicyFile) -> list[Finding]:
    """Legal but suspicious (see module docstring)."""
    names = RegionNames(doc.regions)
    out = []
    for name in doc.regions:
        country = names.shadowed_country(name)
        if country is not None:
            out.append(Finding(f"zone '{name}' has the name of a country ({country}): "
                               "wherever the name is used it means the zone", ("regions", name)))
    for k, e in enumerate(doc.policy.log):
        if e.decision != "granted":
            continue
        where = ("policy", "log", k)
        if not e.retroactive and e.decided > e.requested_effective:
            out.append(Finding(
                f"log entry '{e.id}' was granted at {ns_to_iso(e.decided)}, after the "
                f"{ns_to_iso(e.requested_effective)} it asked for: it is in force from its "
                "decision (a correction of the past needs retroactive: true)", where))
        t = e.requested_effective if e.retroactive else e.effective
        before = _state_before(doc, e, t, names)
        if _removes_nothing(e, before, names):
            out.append(Finding(f"log entry '{e.id}' ({e.change.kind}) changes nothing at "
                               f"{ns_to_iso(t)}: what it removes is not in force then",
                               (*where, "change")))
    return out


def _state_before(doc: PolicyFile, entry: LogEntry, t: int, names: RegionNames
                  ) -> PolicyState:
    """The state at ``t`` from the entries in force then that apply before ``entry``."""
    state = initial_state(doc, names)
    for e in in_force(doc, t):
        if e is entry:
            break
        state.apply(e, names)
    return state
