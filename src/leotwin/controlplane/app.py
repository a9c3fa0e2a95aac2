"""The control-plane HTTP API (FastAPI), versioned under ``/v1``; OpenAPI at ``/openapi.json``.

Roles: a ``viewer`` reads (decisions, terminals, policy); an ``operator`` also registers and
changes terminals and files policy requests; an ``admin`` also decides requests and reads the
audit trail.  401 without a valid token, 403 with a role too low, 422 for invalid payloads.

The application is assembled here from one router per resource (``controlplane.routers``) over
one :class:`~leotwin.controlplane.context.ScenarioContext`, which owns the scenario, the store,
the decision engine and every cache; the policy served is the scenario's plus the store's
(``controlplane.registry``).
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from leotwin.controlplane.context import ScenarioContext
from leotwin.controlplane.dashboard import mount_dashboard
from leotwin.controlplane.routers import audit, decisions, maps, policy, terminals
from leotwin.errors import InputError


def create_app(scenario: str | Path = "ukraine", db: str | Path | None = None,
               namespace: str | None = None) -> FastAPI:
    """The API and dashboard for ``scenario`` (a built-in name or a file) over ``db``, in
    ``namespace`` of the database (default: the scenario's name)."""
    ctx = ScenarioContext(scenario, db, namespace)
    app = FastAPI(title="leotwin control plane", version="1",
                  description="Authorization decisions with reasons, the terminal registry, "
                              "policy requests and decisions, and the audit trail.")

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError):
        return JSONResponse({"detail": str(exc)}, status_code=422)

    for module in (audit, decisions, terminals, policy, maps):
        app.include_router(module.router)
    mount_dashboard(app)
    app.state.ctx = ctx
    app.state.store = ctx.store
    app.state.loaded = ctx.loaded
    return app


def app_from_env() -> FastAPI:
    """The application of one worker of ``leotwin serve --workers N`` (uvicorn factory):
    scenario, database and namespace from $LEOTWIN_SERVE_SCENARIO, $LEOTWIN_SERVE_DB and
    $LEOTWIN_SERVE_NAMESPACE."""
    return create_app(os.environ["LEOTWIN_SERVE_SCENARIO"], os.environ["LEOTWIN_SERVE_DB"],
                      os.environ.get("LEOTWIN_SERVE_NAMESPACE"))
