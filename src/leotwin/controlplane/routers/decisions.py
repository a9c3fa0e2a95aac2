"""``POST /v1/decisions``: allow or deny, with every reason, the serving satellite and gateway."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from leotwin.controlplane.context import ScenarioContext
from leotwin.controlplane.deps import Context, Viewer
from leotwin.controlplane.models import DecisionBatch, DecisionIn, DecisionOut
from leotwin.timegrid.grid import ns_to_iso

router = APIRouter(prefix="/v1", tags=["decisions"])


@router.post("/decisions", response_model=DecisionOut | list[DecisionOut])
async def decisions(body: DecisionIn | DecisionBatch, ctx: Context, _: Viewer):
    """One decision or a batch (up to 10,000), each with its reasons in words."""
    # the thread pool, so that routing (a shortest path over the constellation) or a long
    # batch does not hold up every other request on the event loop meanwhile
    items = body.decisions if isinstance(body, DecisionBatch) else [body]
    out = await run_in_threadpool(decide, ctx, items)
    return out if isinstance(body, DecisionBatch) else out[0]


def decide(ctx: ScenarioContext, items: list[DecisionIn]) -> list[DecisionOut]:
    """Decide ``items`` with the context's engine; allowed ones are routed (``network.access``)."""
    engine = ctx.engine()
    out = []
    for d in items:  # explain() decides too: one pass per item
        text = engine.explain(d.terminal_id, d.lat, d.lon, d.alt_m, d.speed_kmh, d.time)
        sat, gw = (ctx.serving(d.lat, d.lon, d.alt_m, d.time) if text["allowed"]
                   else (None, None))
        out.append(DecisionOut(terminal_id=d.terminal_id, time=ns_to_iso(d.time),
                               allowed=text["allowed"], reasons=text["reasons"],
                               explanation=text["explanation"], serving_satellite=sat,
                               gateway=gw))
    return out
