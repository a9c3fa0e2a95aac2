"""``/v1/policy``: requests and their decisions, the policy as of a time, the log itself."""

from __future__ import annotations

import json
import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import ValidationError

from leotwin.controlplane.context import ScenarioContext
from leotwin.controlplane.deps import Admin, Context, Operator, Viewer, one_row
from leotwin.controlplane.models import DecideIn, RequestId, RequestIn
from leotwin.errors import InputError
from leotwin.policy.load import region_known
from leotwin.policy.schema import Change
from leotwin.policy.state import as_of as policy_as_of
from leotwin.policy.state import refused_until
from leotwin.timegrid.grid import ns_to_iso, parse_time

router = APIRouter(prefix="/v1", tags=["policy"])
#: how far in the past a request's effective_at may lie (clock skew between caller and server)
PAST_TOLERANCE_NS = 60 * 10**9


def request_row(ctx: ScenarioContext, rid: int) -> dict:
    """A policy request as the API shows it; 404 when there is none."""
    return one_row(ctx, "SELECT * FROM requests WHERE id = ?", (rid,),
                   f"request {rid} does not exist", json_keys=("change",),
                   time_keys=("requested_at", "effective_at", "until", "decided_at"))


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
    now = time.time_ns()
    eff = body.effective_at or now
    if eff < now - PAST_TOLERANCE_NS:
        raise HTTPException(422, "effective_at is in the past: a request takes effect when "
                                 "or after it is filed")
    if body.until is not None and body.until <= eff:
        raise HTTPException(422, "until must be after effective_at")
    with ctx.store.write(user["actor"], "policy.request", None, body.model_dump()) as db:
        rid = db.insert("INSERT INTO requests (requested_at, effective_at, until, "
                        "requested_by, reason, change) VALUES (?, ?, ?, ?, ?, ?)",
                        (now, eff, body.until, body.requested_by or user["actor"],
                         body.reason, json.dumps(change.model_dump(exclude_none=True,
                                                                   by_alias=True))))
    return request_row(ctx, rid)


@router.get("/policy/requests")
def list_requests(ctx: Context, _: Viewer) -> list[dict]:
    rows = ctx.store.query("SELECT id FROM requests ORDER BY id")
    return [request_row(ctx, r["id"]) for r in rows]


@router.post("/policy/requests/{rid}/decision")
def decide_request(rid: RequestId, body: DecideIn, ctx: Context, user: Admin) -> dict:
    row = request_row(ctx, rid)
    if row["status"] != "pending":
        raise HTTPException(409, f"request {rid} was already {row['status']}")
    with ctx.store.write(user["actor"], "policy.decision", str(rid), body.model_dump()) as db:
        db.execute("UPDATE requests SET status = ?, decided_by = ?, decided_at = ?, "
                   "decision_reason = ? WHERE id = ? AND status = 'pending'",
                   (body.decision, user["actor"], time.time_ns(), body.reason, rid))
    return request_row(ctx, rid)


@router.get("/policy")
def policy(ctx: Context, _: Viewer, as_of: Annotated[str | None, Query()] = None) -> dict:
    raw = as_of
    try:
        t = parse_time(raw) if raw else time.time_ns()
    except InputError as exc:
        raise HTTPException(422, f"as_of: {exc.message}") from None
    doc = ctx.engine().doc
    state = policy_as_of(doc, t)
    pending = [request_row(ctx, r["id"]) for r in
               ctx.store.query("SELECT id FROM requests WHERE status = 'pending' ORDER BY id")]
    return {
        "as_of": ns_to_iso(t), "default_status": state.default_status,
        "status": state.status, "cells": state.cells,
        "speed_caps_kmh": state.speed_caps, "altitude_caps_m": state.altitude_caps,
        "in_motion_bans": sorted(state.in_motion_bans),
        "whitelist_required": sorted(state.whitelist_required),
        "deactivated": state.deactivated,
        "refused": [{"id": x.id, "requested_at": ns_to_iso(x.requested_at),
                     "requested_by": x.requested_by, "decided_by": x.decided_by,
                     "reason": x.reason} for x in refused_until(doc, t)],
        "pending": pending,
    }


@router.get("/policy/log")
def policy_log(ctx: Context, _: Viewer) -> list[dict]:
    """Every log entry in force or refused (scenario and API), for the timeline."""
    return [{"id": x.id, "requested_at": ns_to_iso(x.requested_at),
             "effective_at": ns_to_iso(x.effective),
             "until": ns_to_iso(x.until) if x.until else None,
             "requested_by": x.requested_by, "decided_by": x.decided_by,
             "decision": x.decision, "reason": x.reason, "change": x.change.kind}
            for x in ctx.engine().doc.policy.log]
