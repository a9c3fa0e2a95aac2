"""The policy the control plane serves: the scenario's log and registry plus the store's.

The policy in force is the loaded scenario's policy log **plus** the requests decided through
the API (granted and refused), and the terminal registry is the scenario's terminals **plus**
those registered through the API (which take precedence); an API deactivation is a log entry.
"""

from __future__ import annotations

import json

from leotwin.controlplane.store import Store
from leotwin.policy.schema import Change, LogEntry, PolicyFile, Terminal
from leotwin.sim.load import LoadedScenario


def policy_file(loaded: LoadedScenario, store: Store) -> PolicyFile:
    """The scenario's policy and registry plus what the API granted and registered."""
    s = loaded.scenario
    terminals = {t.id: t for t in s.terminals}
    log = list(s.policy.log)
    for r in store.query("SELECT * FROM terminals"):
        terminals[r["terminal_id"]] = Terminal(
            id=r["terminal_id"], account=r["account"], plan=r["plan"],
            home_country=r["home_country"],
            whitelisted=json.loads(r["whitelisted"]))
        if r["deactivated_at"]:
            log.append(LogEntry(id=f"api-deactivate-{r['terminal_id']}",
                                requested_at=r["deactivated_at"], requested_by="operator",
                                decided_by="operator", decision="granted",
                                reason=r["deactivation_reason"] or "",
                                change=Change.model_validate(
                                    {"deactivate": {"terminal": r["terminal_id"],
                                                    "why": r["deactivation_reason"] or ""}})))
    for r in store.query("SELECT * FROM requests WHERE status IN ('granted', 'refused')"):
        log.append(LogEntry(id=f"api-request-{r['id']}", requested_at=r["requested_at"],
                            effective_at=max(r["effective_at"] or r["requested_at"],
                                             r["requested_at"]),
                            until=r["until"], requested_by=r["requested_by"],
                            decided_by=r["decided_by"] or "", decision=r["status"],
                            reason=r["decision_reason"] or "", change=json.loads(r["change"])))
    return PolicyFile(name=s.name, regions=s.regions, terminals=list(terminals.values()),
                      policy=s.policy.model_copy(update={"log": log}))
