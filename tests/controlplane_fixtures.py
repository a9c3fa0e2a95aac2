"""Fixtures of the control-plane tests (a pytest plugin of ``conftest.py``): a database on
SQLite and on PostgreSQL, and a client of the ``ukraine`` scenario's API with a token per role."""

from __future__ import annotations

import os
import time

import pytest


def _pg_database():
    """A fresh PostgreSQL database on the server make test starts (LEOTWIN_TEST_PG_URL)."""
    import uuid

    import psycopg

    base = os.environ.get("LEOTWIN_TEST_PG_URL")
    if not base:
        pytest.skip("no PostgreSQL server: make test starts one (scripts/postgres.sh)")
    name = f"leotwin_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return base.rsplit("/", 1)[0] + f"/{name}", name, base


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield tmp_path / "cp.sqlite"
        return
    import psycopg

    url, name, base = _pg_database()
    yield url
    # an autovacuum worker (owned by the superuser) may still be on the new database, and FORCE
    # may not terminate it for a non-superuser role: wait for it to leave, a few times
    for attempt in range(50):
        try:
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            return
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectInUse):
            if attempt == 49:
                raise
            time.sleep(0.1)


@pytest.fixture
def api(db_url):
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from fastapi.testclient import TestClient

    from leotwin.controlplane.app import create_app
    from leotwin.controlplane.auth import create_token
    from leotwin.controlplane.store import Store

    db = db_url
    store = Store(db)
    tokens = {role: create_token(store, role) for role in ("viewer", "operator", "admin")}
    store.close()
    client = TestClient(create_app("ukraine", db))
    headers = {r: {"Authorization": f"Bearer {t}"} for r, t in tokens.items()}
    return client, headers, db
