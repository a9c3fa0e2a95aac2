"""``/v1/policy``: requests and their decisions, the policy as of a time, the log itself.

Every request has three times: ``requested_at`` (filed), ``decided_at`` (the admin's decision)
and ``effective_at`` (asked for); a grant is in force from ``max(effective_at, decided_at)``, so
``GET /v1/policy?as_of=t`` for a t already passed answers the same before and after any later
decision.  Requests on the wall clock are real; ``what_if`` requests live on the scenario's
clock, inside its window, and are seen only by ``what_if=true`` reads.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import ValidationError

from leotwin.controlplane.context import ScenarioContext
from leotwin.controlplane.deps import Admin, Context, Operator, Viewer, at_time, one_row
from leotwin.controlplane.models import DecideIn, RequestId, RequestIn
from leotwin.controlplane.registry import SCENARIO, WALL
from leotwin.policy.load import region_known
from leotwin.policy.schema import Change
from leotwin.policy.state import as_of as policy_as_of
from leotwin.policy.state import describe_view, in_force, refused_until
from leotwin.timegrid.grid import ns_to_iso

router = APIRouter(prefix="/v1", tags=["policy"])
#: how far in the past a request's effective_at may lie (clock skew between caller and server)
PAST_TOLERANCE_NS = 60 * 10**9


def request_row(ctx: ScenarioContext, rid: int) -> dict:
    """A policy request of this namespace as the API shows it; 404 when there is none."""
    return one_row(ctx, "SELECT * FROM requests WHERE id = ? AND namespace = ?",
                   (rid, ctx.namespace), f"request {rid} does not exist",
                   json_keys=("change",),
                   time_keys=("requested_at", "effective_at", "until", "decided_at"))


def _in_window(ctx: ScenarioContext, name: str, t: int) -> None:
    lo, hi = ctx.window
    if not lo <= t <= hi:
        raise HTTPException(422, f"{name}: a what-if time lies in the scenario's window "
                                 f"{ns_to_iso(lo)} … {ns_to_iso(hi)}, got {ns_to_iso(t)}")


@router.post("/policy/requests", status_code=201)
def file_request(body: RequestIn, ctx: Context, user: Operator) -> dict:
    try:
        change = Change.model_validate(body.change)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise HTTPException(422, f"change: {err['msg'].removeprefix('Value error, ')} at "
                                 f"{'.'.join(map(str, err['loc'])) or 'change'}") from None
    body_ = change.body
    doc = ctx.engine().doc
    for attr in ("region", "from_", "into"):
        name = getattr(body_, attr, None)
        if name is not None and not region_known(doc, name):
            raise HTTPException(422, f"unknown region '{name}'")
    if body.what_if:
        filed = body.requested_at or body.effective_at or ctx.window[0]
        eff = body.effective_at or filed
        _in_window(ctx, "requested_at", filed)
        _in_window(ctx, "effective_at", eff)
        if eff < filed:
            raise HTTPException(422, "effective_at is before requested_at: a request takes "
                                     "effect when or after it is filed")
    else:
        if body.requested_at is not None:
            raise HTTPException(422, "requested_at: only a what-if request gives its filing "
                                     "time (a real request is filed now)")
        filed = time.time_ns()
        eff = body.effective_at or filed
        if eff < filed - PAST_TOLERANCE_NS:
            raise HTTPException(422, "effective_at is in the past: a request takes effect when "
                                     "or after it is filed (for a what-if inside the "
                                     "scenario's window, send what_if: true)")
    if body.until is not None and body.until <= eff:
        raise HTTPException(422, "until must be after effective_at")
    clock = SCENARIO if body.what_if else WALL
    with ctx.store.write(user["actor"], "policy.request", None,
                         {**body.model_dump(), "namespace": ctx.namespace}) as db:
        rid = db.insert("INSERT INTO requests (namespace, clock, origin, requested_at, "
                        "effective_at, until, requested_by, reason, change) VALUES "
                        "(?, ?, 'request', ?, ?, ?, ?, ?, ?)",
                        (ctx.namespace, clock, filed, eff, body.until,
                         body.requested_by or user["actor"], body.reason,
                         json.dumps(change.model_dump(exclude_none=True, by_alias=True))))
    return request_row(ctx, rid)


@router.get("/policy/requests")
def list_requests(ctx: Context, _: Viewer) -> list[dict]:
    rows = ctx.store.query("SELECT id FROM requests WHERE namespace = ? AND origin = 'request' "
                           "ORDER BY id", (ctx.namespace,))
    return [request_row(ctx, r["id"]) for r in rows]


@router.post("/policy/requests/{rid}/decision")
def decide_request(rid: RequestId, body: DecideIn, ctx: Context, user: Admin) -> dict:
    row = request_row(ctx, rid)
    if row["status"] != "pending":
        raise HTTPException(409, f"request {rid} was already {row['status']}")
    filed = ctx.store.query("SELECT requested_at FROM requests WHERE id = ?",
                            (rid,))[0]["requested_at"]
    if row["clock"] == SCENARIO:
        decided = body.decided_at if body.decided_at is not None else filed
        _in_window(ctx, "decided_at", decided)
        if decided < filed:
            raise HTTPException(422, "decided_at is before the request was filed")
    else:
        if body.decided_at is not None:
            raise HTTPException(422, "decided_at: only a what-if decision gives its time (a "
                                     "real decision is made now)")
        decided = time.time_ns()
    with ctx.store.write(user["actor"], "policy.decision", str(rid),
                         {**body.model_dump(), "namespace": ctx.namespace}) as db:
        db.execute("UPDATE requests SET status = ?, decided_by = ?, decided_at = ?, "
                   "decision_reason = ? WHERE id = ? AND status = 'pending'",
                   (body.decision, user["actor"], decided, body.reason, rid))
    return request_row(ctx, rid)


@router.get("/policy")
def policy(ctx: Context, _: Viewer, as_of: Annotated[str | None, Query()] = None,
           known_at: Annotated[str | None, Query(
               description="Fold what was decided by then (default: as_of — what was in "
                           "force at as_of, as known then).")] = None,
           view: Annotated[Literal["granted", "requested"], Query(
               description="granted: each grant from max(effective_at, decided_at); "
                           "requested: from the effective_at it asked for.")] = "granted",
           what_if: Annotated[bool, Query()] = False) -> dict:
    t = at_time(as_of, "as_of")
    known = None if known_at is None else at_time(known_at, "known_at")
    doc = ctx.engine(what_if).doc
    state = policy_as_of(doc, t, known_at=known, view=view)
    # pending as of then: filed by then and not decided by then (shown as they stood)
    upto = known if known is not None else t
    pending = []
    for r in ctx.store.query(
            "SELECT id FROM requests WHERE namespace = ? AND origin = 'request' AND "
            "requested_at <= ? AND (status = 'pending' OR decided_at > ?) AND clock IN "
            + ("(?, ?)" if what_if else "(?)") + " ORDER BY id",
            (ctx.namespace, upto, upto, WALL, SCENARIO) if what_if
            else (ctx.namespace, upto, upto, WALL)):
        row = request_row(ctx, r["id"])
        row.update(status="pending", decided_by=None, decided_at=None, decision_reason=None)
        pending.append(row)
    return {
        "as_of": ns_to_iso(t), "view": view, "what_if": what_if,
        "known_at": ns_to_iso(known) if known is not None else (
            ns_to_iso(t) if view == "granted" else None),
        "meaning": describe_view(t, known, view),
        "default_status": state.default_status,
        "status": state.status, "cells": state.cells,
        "speed_caps_kmh": state.speed_caps, "altitude_caps_m": state.altitude_caps,
        "in_motion_bans": sorted(state.in_motion_bans),
        "whitelist_required": sorted(state.whitelist_required),
        "deactivated": state.deactivated,
        "registration_rules": state.registration_rules,
        "registrations_pending": {k: ns_to_iso(v) for k, v in
                                  state.pending_registrations.items()},
        "registrations_rejected": state.rejected_registrations,
        "in_force": [x.id for x in in_force(doc, t, known_at=known, view=view)],
        "refused": [{"id": x.id, "requested_at": ns_to_iso(x.requested_at),
                     "decided_at": ns_to_iso(x.decided),
                     "requested_by": x.requested_by, "decided_by": x.decided_by,
                     "reason": x.reason} for x in refused_until(doc, known or t)],
        "pending": pending,
    }


@router.get("/policy/log")
def policy_log(ctx: Context, _: Viewer, what_if: Annotated[bool, Query()] = False
               ) -> list[dict]:
    """Every log entry granted or refused (scenario and API), for the timeline: when it was
    requested, decided, asked to take effect and took effect (as granted)."""
    return [{"id": x.id, "requested_at": ns_to_iso(x.requested_at),
             "decided_at": ns_to_iso(x.decided),
             "effective_at": ns_to_iso(x.effective),
             "requested_effective_at": ns_to_iso(x.requested_effective),
             "until": ns_to_iso(x.until) if x.until else None,
             "requested_by": x.requested_by, "decided_by": x.decided_by,
             "decision": x.decision, "reason": x.reason, "change": x.change.kind,
             "entry_kind": x.kind}
            for x in ctx.engine(what_if).doc.policy.log]
