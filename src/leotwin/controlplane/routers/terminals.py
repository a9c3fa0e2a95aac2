"""``/v1/terminals``: the terminal registry (register, list, get, plan, whitelist, deactivate).

The registry is the scenario's terminals (populations included) plus those registered through
the API in the context's namespace (``controlplane.registry``).  A registration is a row; every
later change — plan, whitelist, deactivation — is a granted log entry (``origin`` registry), so
a change never rewrites what was in force before it.  A record shows the terminal as of now (or
``as_of``): its plan, the regions it is registered in, its deactivation.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from leotwin.controlplane.context import ScenarioContext
from leotwin.controlplane.deps import Context, Operator, Viewer, at_time
from leotwin.controlplane.models import (
    MAX_INT,
    MAX_PAGE,
    DeactivateIn,
    PlanIn,
    TerminalIn,
    WhitelistIn,
)
from leotwin.controlplane.registry import WALL
from leotwin.controlplane.store import is_conflict
from leotwin.policy.engine import PolicyEngine
from leotwin.policy.load import plans_of, region_known
from leotwin.policy.schema import Change, LogEntry
from leotwin.policy.state import PolicyState, in_force
from leotwin.timegrid.grid import ns_to_iso

router = APIRouter(prefix="/v1", tags=["terminals"])


def _check_terminal(ctx: ScenarioContext, t: TerminalIn | PlanIn | WhitelistIn) -> None:
    doc = ctx.engine().doc
    plan = getattr(t, "plan", None)
    if plan is not None and plan not in plans_of(doc):
        raise HTTPException(422, f"unknown plan '{plan}': expected one of "
                                 f"{', '.join(plans_of(doc))}")
    regions = list(getattr(t, "whitelisted", []) or [])
    for extra in (getattr(t, "home_country", None), getattr(t, "region", None)):
        if extra:
            regions.append(extra)
    for r in regions:
        if not region_known(doc, r):
            raise HTTPException(422, f"unknown region '{r}'")


@dataclass
class _Moment:
    """What every record at one time needs, worked out once: the state, the deactivation in
    force per terminal, and the last change per terminal."""

    t_ns: int
    state: PolicyState
    deactivation: dict[str, LogEntry]
    last_change: dict[str, int]


def _moment(engine: PolicyEngine, t_ns: int) -> _Moment:
    deactivation = {e.change.body.terminal: e for e in in_force(engine.doc, t_ns)
                    if e.change.kind == "deactivate"}
    last: dict[str, int] = {}
    for e in engine.doc.policy.log:
        tid = getattr(e.change.body, "terminal", None)
        if tid is not None and e.decision == "granted" and e.effective <= t_ns:
            last[tid] = max(last.get(tid, 0), e.effective)
    return _Moment(t_ns, engine.state_at(t_ns), deactivation, last)


def _record(engine: PolicyEngine, m: _Moment, tid: str, rows: dict[str, dict]) -> dict:
    state, t_ns = m.state, m.t_ns
    term = engine.terminals[engine.terminal_index[tid]]
    row = rows.get(tid)
    deactivated_at, why = None, None
    if tid in state.deactivated and tid in m.deactivation:
        last = m.deactivation[tid]
        deactivated_at, why = ns_to_iso(last.effective), last.change.body.why
    created = row["created_at"] if row else None
    updated = max(created or 0, m.last_change.get(tid, 0)) or None
    return {"terminal_id": tid, "account": term.account, "plan": state.plans.get(tid, term.plan),
            "home_country": term.home_country, "owner": term.owner,
            "owner_kind": term.owner_kind,
            "whitelisted": sorted(state.registered.get(tid, set())),
            "registration_pending_until": ns_to_iso(state.pending_registrations[tid])
            if tid in state.pending_registrations else None,
            "registration_rejected": state.rejected_registrations.get(tid),
            "deactivated_at": deactivated_at, "deactivation_reason": why,
            "created_at": ns_to_iso(created) if created else None,
            "updated_at": ns_to_iso(updated) if updated else None,
            "source": "api" if row else "scenario", "as_of": ns_to_iso(t_ns)}


def _rows(ctx: ScenarioContext, ids: list[str] | None = None) -> dict[str, dict]:
    rows = ctx.store.query("SELECT terminal_id, created_at FROM terminals WHERE namespace = ?",
                           (ctx.namespace,))
    return {r["terminal_id"]: r for r in rows if ids is None or r["terminal_id"] in ids}


def terminal_record(ctx: ScenarioContext, tid: str, t_ns: int | None = None) -> dict:
    """A registered terminal as the API shows it at ``t_ns`` (now); 404 when unknown then."""
    t_ns = time.time_ns() if t_ns is None else t_ns
    engine = ctx.engine()
    k = engine.terminal_index.get(tid)
    reg = engine.terminals[k].registered_at if k is not None else None
    if k is None or (reg is not None and reg > t_ns):
        raise HTTPException(404, f"terminal '{tid}' is not registered")
    return _record(engine, _moment(engine, t_ns), tid, _rows(ctx, [tid]))


def _registry_change(ctx: ScenarioContext, user: dict, action: str, tid: str,
                     change: dict, reason: str, payload: dict) -> dict:
    """Record a change to a registered terminal as a granted log entry, effective now."""
    terminal_record(ctx, tid)  # 404 first
    now = time.time_ns()
    body = Change.model_validate(change)
    with ctx.store.write(user["actor"], action, tid,
                         {**payload, "namespace": ctx.namespace}) as db:
        db.insert("INSERT INTO requests (namespace, clock, origin, requested_at, effective_at, "
                  "requested_by, reason, change, status, decided_by, decided_at, "
                  "decision_reason) VALUES (?, ?, 'registry', ?, ?, ?, ?, ?, 'granted', ?, ?, ?)",
                  (ctx.namespace, WALL, now, now, user["actor"], reason,
                   json.dumps(body.model_dump(exclude_none=True, by_alias=True)),
                   user["actor"], now, reason))
    return terminal_record(ctx, tid)


@router.post("/terminals", status_code=201)
def register(t: TerminalIn, ctx: Context, user: Operator) -> dict:
    _check_terminal(ctx, t)
    if t.terminal_id in {x.id for x in ctx.scenario_terminals}:
        raise HTTPException(409, f"terminal '{t.terminal_id}' is already registered (it is "
                                 "one of the scenario's terminals)")
    now = time.time_ns()
    try:
        with ctx.store.write(user["actor"], "terminal.register", t.terminal_id,
                             {**t.model_dump(), "namespace": ctx.namespace}) as db:
            db.execute("INSERT INTO terminals (namespace, terminal_id, account, plan, "
                       "home_country, whitelisted, owner, owner_kind, created_at, updated_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (ctx.namespace, t.terminal_id, t.account, t.plan, t.home_country,
                        json.dumps(t.whitelisted), t.owner, t.owner_kind, now, now))
    except Exception as exc:
        if is_conflict(exc):
            raise HTTPException(409, f"terminal '{t.terminal_id}' is already "
                                     "registered") from None
        raise
    return terminal_record(ctx, t.terminal_id)


@router.get("/terminals")
def terminals(ctx: Context, _: Viewer, limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1000,
              offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
              as_of: Annotated[str | None, Query()] = None) -> list[dict]:
    """Every registered terminal — the scenario's (``source: scenario``) and the API's — by
    id, as of now (or ``as_of``)."""
    t_ns = at_time(as_of, "as_of")
    engine = ctx.engine()
    ids = sorted(x.id for x in engine.terminals
                 if x.registered_at is None or x.registered_at <= t_ns)
    page = ids[offset:offset + limit]
    moment, rows = _moment(engine, t_ns), _rows(ctx)
    return [_record(engine, moment, tid, rows) for tid in page]


@router.get("/terminals/{terminal_id}")
def terminal(terminal_id: str, ctx: Context, _: Viewer,
             as_of: Annotated[str | None, Query()] = None) -> dict:
    return terminal_record(ctx, terminal_id, at_time(as_of, "as_of"))


@router.patch("/terminals/{terminal_id}")
def update_plan(terminal_id: str, body: PlanIn, ctx: Context, user: Operator) -> dict:
    terminal_record(ctx, terminal_id)
    _check_terminal(ctx, body)
    return _registry_change(ctx, user, "terminal.plan", terminal_id,
                            {"set_plan": {"terminal": terminal_id, "plan": body.plan}},
                            f"plan changed to {body.plan}", body.model_dump())


@router.put("/terminals/{terminal_id}/whitelist")
def whitelist(terminal_id: str, body: WhitelistIn, ctx: Context, user: Operator) -> dict:
    terminal_record(ctx, terminal_id)
    _check_terminal(ctx, body)
    return _registry_change(ctx, user, "terminal.whitelist", terminal_id,
                            {"register": {"terminal": terminal_id, "region": body.region,
                                          "registered": body.registered,
                                          "device_presented": body.device_presented}},
                            "whitelist " + ("registration" if body.registered
                                            else "withdrawal"), body.model_dump())


@router.post("/terminals/{terminal_id}/deactivate")
def deactivate(terminal_id: str, body: DeactivateIn, ctx: Context, user: Operator) -> dict:
    return _registry_change(ctx, user, "terminal.deactivate", terminal_id,
                            {"deactivate": {"terminal": terminal_id, "why": body.reason}},
                            body.reason, body.model_dump())
