"""``/v1/terminals``: the terminal registry (register, list, get, plan, whitelist, deactivate)."""

from __future__ import annotations

import json
import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from leotwin.controlplane.context import ScenarioContext
from leotwin.controlplane.deps import Context, Operator, Viewer, one_row
from leotwin.controlplane.models import (
    MAX_INT,
    MAX_PAGE,
    DeactivateIn,
    PlanIn,
    TerminalIn,
    WhitelistIn,
)
from leotwin.controlplane.store import is_conflict
from leotwin.policy.load import plans_of, region_known

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


def terminal_row(ctx: ScenarioContext, tid: str) -> dict:
    """A registered terminal as the API shows it; 404 when it is not registered."""
    return one_row(ctx, "SELECT * FROM terminals WHERE terminal_id = ?", (tid,),
                   f"terminal '{tid}' is not registered", json_keys=("whitelisted",),
                   time_keys=("deactivated_at", "created_at", "updated_at"))


@router.post("/terminals", status_code=201)
def register(t: TerminalIn, ctx: Context, user: Operator) -> dict:
    _check_terminal(ctx, t)
    now = time.time_ns()
    try:
        with ctx.store.write(user["actor"], "terminal.register", t.terminal_id,
                         t.model_dump()) as db:
            db.execute("INSERT INTO terminals (terminal_id, account, plan, home_country, "
                       "whitelisted, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (t.terminal_id, t.account, t.plan, t.home_country,
                        json.dumps(t.whitelisted), now, now))
    except Exception as exc:
        if is_conflict(exc):
            raise HTTPException(409, f"terminal '{t.terminal_id}' is already "
                                     "registered") from None
        raise
    return terminal_row(ctx, t.terminal_id)


@router.get("/terminals")
def terminals(ctx: Context, _: Viewer, limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1000,
              offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0) -> list[dict]:
    rows = ctx.store.query("SELECT terminal_id FROM terminals ORDER BY terminal_id LIMIT ? "
                       "OFFSET ?", (max(0, min(limit, MAX_PAGE)), max(0, offset)))
    return [terminal_row(ctx, r["terminal_id"]) for r in rows]


@router.get("/terminals/{terminal_id}")
def terminal(terminal_id: str, ctx: Context, _: Viewer) -> dict:
    return terminal_row(ctx, terminal_id)


@router.patch("/terminals/{terminal_id}")
def update_plan(terminal_id: str, body: PlanIn, ctx: Context, user: Operator) -> dict:
    terminal_row(ctx, terminal_id)
    _check_terminal(ctx, body)
    with ctx.store.write(user["actor"], "terminal.plan", terminal_id, body.model_dump()) as db:
        db.execute("UPDATE terminals SET plan = ?, updated_at = ? WHERE terminal_id = ?",
                   (body.plan, time.time_ns(), terminal_id))
    return terminal_row(ctx, terminal_id)


@router.put("/terminals/{terminal_id}/whitelist")
def whitelist(terminal_id: str, body: WhitelistIn, ctx: Context, user: Operator) -> dict:
    row = terminal_row(ctx, terminal_id)
    _check_terminal(ctx, body)
    regions = set(row["whitelisted"])
    (regions.add if body.registered else regions.discard)(body.region)
    with ctx.store.write(user["actor"], "terminal.whitelist", terminal_id,
                     body.model_dump()) as db:
        db.execute("UPDATE terminals SET whitelisted = ?, updated_at = ? WHERE "
                   "terminal_id = ?", (json.dumps(sorted(regions)), time.time_ns(),
                                       terminal_id))
    return terminal_row(ctx, terminal_id)


@router.post("/terminals/{terminal_id}/deactivate")
def deactivate(terminal_id: str, body: DeactivateIn, ctx: Context, user: Operator) -> dict:
    terminal_row(ctx, terminal_id)
    with ctx.store.write(user["actor"], "terminal.deactivate", terminal_id,
                     body.model_dump()) as db:
        db.execute("UPDATE terminals SET deactivated_at = ?, deactivation_reason = ?, "
                   "updated_at = ? WHERE terminal_id = ?",
                   (time.time_ns(), body.reason, time.time_ns(), terminal_id))
    return terminal_row(ctx, terminal_id)
