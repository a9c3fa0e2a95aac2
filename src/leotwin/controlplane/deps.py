"""FastAPI dependencies shared by the routers: the context, the caller's role, times."""

from __future__ import annotations

import json
import time
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from leotwin.controlplane.auth import RANK, role_of
from leotwin.controlplane.context import ScenarioContext
from leotwin.errors import InputError
from leotwin.timegrid.grid import ns_to_iso, parse_time

bearer = HTTPBearer(auto_error=False)


async def context(request: Request) -> ScenarioContext:
    """The application's :class:`ScenarioContext` (async: FastAPI would run a plain function
    in the thread pool, a hop per request for an attribute read)."""
    return request.app.state.ctx


Context = Annotated[ScenarioContext, Depends(context)]


def requires(minimum: str):
    """A dependency that admits tokens of role ``minimum`` or higher: 401 without a valid
    token, 403 with a lower role.  Yields ``{"role", "actor"}`` for the audit trail."""
    # async: a token lookup is one indexed read, cheaper than a hop to the thread pool
    async def check(ctx: Context,
                    cred: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
                    ) -> dict:
        found = role_of(ctx.store, cred.credentials) if cred else None
        if found is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a valid bearer token is "
                                "required", headers={"WWW-Authenticate": "Bearer"})
        role, token_id = found
        if RANK[role] < RANK[minimum]:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"this needs the {minimum} role; the token is {role}")
        return {"role": role, "actor": f"token:{token_id} ({role})"}
    return check


Viewer = Annotated[dict, Depends(requires("viewer"))]
Operator = Annotated[dict, Depends(requires("operator"))]
Admin = Annotated[dict, Depends(requires("admin"))]


def one_row(ctx: ScenarioContext, sql: str, args: tuple, missing: str, *,
            json_keys: tuple[str, ...] = (), time_keys: tuple[str, ...] = ()) -> dict:
    """The single row ``sql`` selects, 404 ``missing`` when there is none; ``json_keys``
    decoded, ``time_keys`` (UTC ns) as ISO 8601 (None when unset)."""
    rows = ctx.store.query(sql, args)
    if not rows:
        raise HTTPException(404, missing)
    row = rows[0]
    for key in json_keys:
        row[key] = json.loads(row[key])
    for key in time_keys:
        row[key] = ns_to_iso(row[key]) if row[key] else None
    return row


def at_time(raw: str | None, name: str) -> int:
    """A query parameter's time (UTC ns), now when absent; 422 naming ``name`` when invalid."""
    try:
        return parse_time(raw) if raw else time.time_ns()
    except InputError as exc:
        raise HTTPException(422, f"{name}: {exc.message}") from None
