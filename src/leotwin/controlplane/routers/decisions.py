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
    # a single decision (a few ms of CPU, routing included) runs on the event loop: under the
    # GIL the thread-pool hop costs more than it saves.  A batch (up to 10,000 items, seconds)
    # goes to the thread pool so that it does not hold up every other request meanwhile.
    if isinstance(body, DecisionBatch):
        return await run_in_threadpool(decide, ctx, body.decisions)
    return decide(ctx, [body])[0]


def decide(ctx: ScenarioContext, items: list[DecisionIn]) -> list[DecisionOut]:
    """Decide ``items`` with the context's engine; allowed ones are routed (``network.access``)."""
    engine = ctx.engine()
    # explain() decides too: one pass per item
    texts = [engine.explain(d.terminal_id, d.lat, d.lon, d.alt_m, d.speed_kmh, d.time)
             for d in items]
    allowed = [k for k, text in enumerate(texts) if text["allowed"]]
    routes = dict(zip(allowed, ctx.serving([(items[k].lat, items[k].lon, items[k].alt_m,
                                              items[k].time) for k in allowed]), strict=True))
    return [DecisionOut(terminal_id=d.terminal_id, time=ns_to_iso(d.time),
                        allowed=text["allowed"], reasons=text["reasons"],
                        explanation=text["explanation"],
                        serving_satellite=routes.get(k, (None, None))[0],
                        gateway=routes.get(k, (None, None))[1])
            for k, (d, text) in enumerate(zip(items, texts, strict=True))]
