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

import json
import os
import re
import sqlite3
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from leotwin.controlplane.context import ScenarioContext
from leotwin.controlplane.dashboard import mount_dashboard
from leotwin.controlplane.routers import audit, decisions, maps, policy, terminals
from leotwin.errors import InputError
from leotwin.io.text import bad_string, control_character


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

    @app.exception_handler(sqlite3.OperationalError)
    async def _locked(request: Request, exc: sqlite3.OperationalError):
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise exc
        # another process holds the write lock longer than SQLite's busy timeout: try again
        return JSONResponse({"detail": "the database is busy: retry shortly"},
                            status_code=503, headers={"Retry-After": "1"})

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": one_error_per_field(exc.errors())}, status_code=422)

    @app.middleware("http")
    async def _printable_parameters(request: Request, call_next):
        """Query and path parameters hold no control character or lone surrogate (422), the
        same rule as request bodies (``models.Model``)."""
        found = None
        for name, value in [("path", request.url.path), *request.query_params.multi_items()]:
            what = control_character(value)
            if what:
                found = ("path",) if name == "path" else ("query", name), what
                break
        if found is None and request.method in ("POST", "PUT", "PATCH"):
            # before pydantic sees them: a lone surrogate breaks pydantic's own error report
            found = _body_problem(await request.body())
        if found is not None:
            loc, what = found
            field = ".".join(map(str, loc))
            return JSONResponse({"detail": [{"loc": list(loc), "field": field,
                                             "msg": f"{what}: expected printable characters",
                                             "type": "value_error"}]}, status_code=422)
        return await call_next(request)

    for module in (audit, decisions, terminals, policy, maps):
        app.include_router(module.router)
    mount_dashboard(app)
    app.state.ctx = ctx
    app.state.store = ctx.store
    app.state.loaded = ctx.loaded
    return app


#: parts of a pydantic error location that name a branch of a union or a validator, not a
#: field: ``int``, ``str``, ``function-after[_time(), int]``, ``tagged-union[…]``, ``list[int]``
_BRANCH = re.compile(r"^(int|str|float|bool|none|dict|list|[a-z_-]+\[.*\])$")
#: a request model's name, as FastAPI places it in the location of a union body's errors
_MODEL = re.compile(r"^[A-Z][A-Za-z0-9]*(In|Batch)$")


def one_error_per_field(errors) -> list[dict]:
    """FastAPI's validation errors, one per field (the first): a value that fits no branch of a
    union is one mistake, not one per branch.  Each keeps ``loc``, ``msg`` and ``type`` and
    gains ``field`` (the location joined by dots); the input is not echoed (it may be huge)."""
    errors = list(errors)
    # a body that may be one of several models (``DecisionIn | DecisionBatch``) is judged
    # against the model it is closest to: the branch with the fewest errors
    branches: dict[str, list] = {}
    for err in errors:
        loc = err.get("loc", ())
        if len(loc) > 1 and isinstance(loc[1], str) and _MODEL.match(loc[1]):
            branches.setdefault(loc[1], []).append(err)
    if len(branches) > 1:
        best = min(branches.values(), key=len)
        others = [id(e) for group in branches.values() if group is not best for e in group]
        errors = [e for e in errors if id(e) not in others]
    out: dict[str, dict] = {}
    for err in errors:
        loc = [p for k, p in enumerate(err.get("loc", ())) if not (isinstance(p, str) and (
            _BRANCH.match(p) or (k == 1 and _MODEL.match(p))))]
        field = ".".join(str(p) for p in loc)
        if field not in out:
            msg = str(err.get("msg", "")).removeprefix("Value error, ")
            out[field] = {"loc": loc, "field": field, "msg": msg, "type": err.get("type")}
    return list(out.values())


_C1 = re.compile(rb"\xc2[\x80-\x9f]")


def _body_problem(body: bytes) -> tuple[tuple, str] | None:
    """(location, what) of the first string of a JSON body holding a control character or a
    lone surrogate; None when there is none or the body is not JSON (FastAPI reports that).

    JSON text cannot hold a raw C0 control character inside a string (the parser refuses it),
    so such a string needs a ``\\u`` escape, a raw DEL or a raw C1 character (UTF-8
    ``C2 80``–``C2 9F``): a body with none of these is passed on without a second parse."""
    if b"\\u" not in body and b"\x7f" not in body and _C1.search(body) is None:
        return None
    try:
        doc = json.loads(body) if body else None
    except (ValueError, RecursionError):
        return None
    return bad_string(doc, ("body",))


def app_from_env() -> FastAPI:
    """The application of one worker of ``leotwin serve --workers N`` (uvicorn factory):
    scenario, database and namespace from $LEOTWIN_SERVE_SCENARIO, $LEOTWIN_SERVE_DB and
    $LEOTWIN_SERVE_NAMESPACE."""
    return create_app(os.environ["LEOTWIN_SERVE_SCENARIO"], os.environ["LEOTWIN_SERVE_DB"],
                      os.environ.get("LEOTWIN_SERVE_NAMESPACE"))
