"""``POST /v1/decisions``: allow or deny, with every reason, the serving satellite and gateway."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from leotwin.controlplane.context import ScenarioContext
from leotwin.controlplane.deps import Context, Viewer
from leotwin.controlplane.models import DecisionBatch, DecisionIn, DecisionOut
from leotwin.timegrid.grid import ns_to_iso

router = APIRouter(prefix="/v1", tags=["decisions"])


@router.post("/decisions", response_model=DecisionOut | list[DecisionOut])
async def decisions(body: DecisionIn | DecisionBatch, ctx: Context, _: Viewer,
                    what_if: Annotated[bool, Query(
                        description="Decide under the policy with the what-if requests filed "
                                    "on the scenario's clock.")] = False):
    """One decision or a batch (up to 10,000), each with its reasons in words."""
    # a single decision (a few ms of CPU, routing included) runs on the event loop: under the
    # GIL the thread-pool hop costs more than it saves.  A batch (up to 10,000 items, seconds)
    # goes to the thread pool so that it does not hold up every other request meanwhile.
    if isinstance(body, DecisionBatch):
        return await run_in_threadpool(decide, ctx, body.decisions, what_if)
    return decide(ctx, [body], what_if)[0]


def decide(ctx: ScenarioContext, items: list[DecisionIn], what_if: bool = False
           ) -> list[DecisionOut]:
    """Decide ``items`` as ``leotwin run`` does: the same engine call
    (``PolicyEngine.decide``) with the same network inputs — a satellite above the terminal's
    mask, and a path from the serving satellite to a gateway and the PoP, from the runner's
    access model (``network.access``) — so NO_SATELLITE_IN_VIEW and NO_PATH_TO_GATEWAY are
    among the reasons (the second only when a satellite serves but no path leads from it to
    a gateway and the PoP, as in the runner), and the serving satellite and gateway are the
    runner's."""
    engine = ctx.engine(what_if)
    routes = ctx.serving([(d.lat, d.lon, d.alt_m, d.time) for d in items])
    out = []
    for d, (sat, gw) in zip(items, routes, strict=True):
        text = engine.explain(d.terminal_id, d.lat, d.lon, d.alt_m, d.speed_kmh, d.time,
                              satellite_in_view=sat is not None,
                              path_to_gateway=sat is None or gw is not None)
        out.append(DecisionOut(terminal_id=d.terminal_id, time=ns_to_iso(d.time),
                               allowed=text["allowed"], reasons=text["reasons"],
                               explanation=text["explanation"],
                               serving_satellite=sat if text["allowed"] else None,
                               gateway=gw if text["allowed"] else None))
    return out
