"""The policy the control plane serves: the scenario's log and registry plus the store's.

One registry: the terminals a control plane knows are the scenario's (its listed terminals and
its seeded synthetic populations, exactly the terminals ``leotwin run`` decides for) plus those
registered through the API in the scenario's namespace.  An API registration enters the
registry at its ``created_at`` (before it, decisions carry UNKNOWN_TERMINAL); every later change
to a terminal (plan, whitelist, deactivation) is a log entry, so it never rewrites the past.

One log: the scenario's policy log plus the requests decided through the API in the same
namespace, each with its ``requested_at``, ``decided_at`` and ``effective_at`` (a grant takes
effect at ``max(effective_at, decided_at)``, ``policy.schema.LogEntry``).  Requests on the
scenario's clock (what-if) are kept apart: they are in the log only when asked for.
"""

from __future__ import annotations

import json

from leotwin.controlplane.store import Store
from leotwin.policy.schema import Change, LogEntry, PolicyFile, Terminal
from leotwin.sim.load import LoadedScenario

#: ``requests.clock`` of requests filed on the wall clock / the scenario's clock (what-if)
WALL, SCENARIO = "wall", "scenario"


def api_terminals(store: Store, namespace: str) -> list[Terminal]:
    """Terminals registered through the API in ``namespace``, as registry records."""
    return [Terminal(id=r["terminal_id"], account=r["account"], plan=r["plan"],
                     home_country=r["home_country"], whitelisted=json.loads(r["whitelisted"]),
                     registered_at=r["created_at"], owner=r["owner"],
                     owner_kind=r["owner_kind"] or "person")
            for r in store.query("SELECT * FROM terminals WHERE namespace = ? "
                                 "ORDER BY terminal_id", (namespace,))]


def api_log(store: Store, namespace: str, *, what_if: bool) -> list[LogEntry]:
    """The namespace's decided requests (and, from schema version 4, the deactivations stored
    on terminal rows) as log entries; scenario-clock requests only with ``what_if``."""
    log = []
    for r in store.query("SELECT * FROM terminals WHERE namespace = ? AND deactivated_at "
                         "IS NOT NULL ORDER BY terminal_id", (namespace,)):
        log.append(LogEntry(id=f"api-deactivate-{r['terminal_id']}",
                            requested_at=r["deactivated_at"], requested_by="operator",
                            decided_by="operator", decision="granted",
                            reason=r["deactivation_reason"] or "",
                            change=Change.model_validate(
                                {"deactivate": {"terminal": r["terminal_id"],
                                                "why": r["deactivation_reason"] or ""}})))
    clocks = (WALL, SCENARIO) if what_if else (WALL,)
    rows = store.query("SELECT * FROM requests WHERE namespace = ? AND status IN "
                       "('granted', 'refused') ORDER BY id", (namespace,))
    for r in rows:
        if r["clock"] not in clocks:
            continue
        log.append(LogEntry(id=f"api-request-{r['id']}", requested_at=r["requested_at"],
                            decided_at=r["decided_at"] or r["requested_at"],
                            effective_at=r["effective_at"] or r["requested_at"],
                            until=r["until"], requested_by=r["requested_by"],
                            decided_by=r["decided_by"] or "", decision=r["status"],
                            reason=_reason(r["reason"], r["decision_reason"]),
                            change=json.loads(r["change"])))
    return log


def _reason(asked: str | None, decided: str | None) -> str:
    """The request's reason, then the decision's when it says something else."""
    parts = [asked or ""] + ([decided] if decided and decided != asked else [])
    return " — ".join(p for p in parts if p)


def policy_file(loaded: LoadedScenario, store: Store, *, namespace: str,
                scenario_terminals: list[Terminal], scenario_log: list[LogEntry],
                what_if: bool = False) -> PolicyFile:
    """The scenario's policy and registry (``sim.assemble.populations_of``: populations and
    their registrations included) plus what the API granted and registered."""
    s = loaded.scenario
    terminals = {t.id: t for t in scenario_terminals}
    for t in api_terminals(store, namespace):
        terminals.setdefault(t.id, t)  # a scenario terminal cannot be registered twice
    log = [*scenario_log, *api_log(store, namespace, what_if=what_if)]
    return PolicyFile(name=s.name, regions=s.regions, terminals=list(terminals.values()),
                      policy=s.policy.model_copy(update={"log": log}))
