"""``leotwin serve``, ``leotwin tokens create`` and ``leotwin audit verify``."""

from __future__ import annotations

from typing import Annotated

import typer

from leotwin.extras import require

app = typer.Typer()
tokens_app = typer.Typer(help="Bearer tokens for the control plane.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail of the control plane.", no_args_is_help=True)
Db = Annotated[str | None, typer.Option("--db", help="sqlite:///path or a file path "
                                                     "(default: the user's data directory).")]


@app.command()
def serve(
    scenario: Annotated[str, typer.Option(help="Scenario file or built-in name.")] = "ukraine",
    db: Db = None,
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")
                    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes (one per core is a good "
                                              "start); they share the database.",
                                         min=1, max=64)] = 1,
    namespace: Annotated[str | None, typer.Option(
        help="The database's namespace for this scenario's registrations and requests "
             "(default: the scenario's name; '' holds rows stored before namespaces).")
    ] = None,
) -> None:
    """Start the control-plane API (OpenAPI at /openapi.json, API under /v1, dashboard at /)."""
    import os

    require("controlplane", "leotwin serve")

    import uvicorn

    from leotwin.controlplane.app import create_app

    # built here first in every case: the scenario and database are checked (one-line errors)
    # and the schema migrated once, before any worker starts
    app_ = create_app(scenario, db, namespace)
    print(f"leotwin control plane for '{app_.state.loaded.scenario.name}', database "
          f"{app_.state.store.path} (namespace '{app_.state.ctx.namespace}'), {workers} "
          f"worker(s); dashboard http://{host}:{port}/ "
          f"API http://{host}:{port}/docs")
    # access logs carry the method and path only; tokens travel in headers and are never logged
    if workers == 1:
        uvicorn.run(app_, host=host, port=port, log_level="warning")
        return
    app_.state.store.close()
    os.environ["LEOTWIN_SERVE_SCENARIO"] = scenario
    os.environ["LEOTWIN_SERVE_DB"] = db or str(app_.state.store.path)
    os.environ["LEOTWIN_SERVE_NAMESPACE"] = app_.state.ctx.namespace
    uvicorn.run("leotwin.controlplane.app:app_from_env", factory=True, workers=workers, host=host,
                port=port, log_level="warning")


@tokens_app.command("create")
def create(
    role: Annotated[str, typer.Option(help="viewer, operator or admin.")],
    db: Db = None,
    label: Annotated[str | None, typer.Option(help="A note on who holds it.")] = None,
) -> None:
    """Create a bearer token; it is printed once, alone on the last line, and stored hashed."""
    require("controlplane", "leotwin tokens")
    from leotwin.controlplane.auth import ROLES, create_token
    from leotwin.controlplane.store import Store
    from leotwin.errors import InputError

    if role not in ROLES:  # before the database is opened: a refusal creates no file
        raise InputError(f"unknown role '{role}': expected {', '.join(ROLES)}", source="--role")
    store = Store(db)
    try:
        token = create_token(store, role, label)
    finally:
        store.close()
    print(f"created a {role} token in {store.path} (store it now: it is not shown again)")
    print(token)


@audit_app.command("verify")
def verify(db: Db = None) -> None:
    """Recompute the audit hash chain; exit 0 when intact, 1 when it was altered."""
    require("controlplane", "leotwin audit")
    from leotwin.controlplane.store import Store, verify_audit

    store = Store(db, read_only=True)  # verifying never creates or changes a database
    try:
        ok, message = verify_audit(store)
    finally:
        store.close()
    print(f"{store.path}: {message}")
    if not ok:
        raise typer.Exit(1)


__all__ = ["app", "audit_app", "tokens_app"]
