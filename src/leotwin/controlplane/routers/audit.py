"""``/v1/health`` and ``/v1/audit``: liveness, and the audit trail (admins only)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query

from leotwin.controlplane.deps import Admin, Context
from leotwin.controlplane.models import MAX_INT, MAX_PAGE
from leotwin.timegrid.grid import ns_to_iso

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get("/health")
def health(ctx: Context) -> dict:
    return {"status": "ok", "scenario": ctx.loaded.scenario.name, "schema": "v1"}


@router.get("/audit")
def audit(ctx: Context, _: Admin, after: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
          limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1000) -> list[dict]:
    rows = ctx.store.query("SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?",
                       (after, max(1, min(limit, MAX_PAGE))))
    for r in rows:
        r["at"] = ns_to_iso(r["at"])
        r["payload"] = json.loads(r["payload"])
    return rows
