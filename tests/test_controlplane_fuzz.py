"""Schemathesis against the published OpenAPI document: no input makes the server fail (5xx)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", category=DeprecationWarning)
schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from leotwin.controlplane.app import create_app  # noqa: E402
from leotwin.controlplane.auth import create_token  # noqa: E402
from leotwin.controlplane.store import Store  # noqa: E402


def _app(tmp_dir):
    db = tmp_dir / "fuzz.sqlite"
    store = Store(db)
    token = create_token(store, "admin")
    store.close()
    return create_app("ukraine", db), token


_TMP = tempfile.mkdtemp(prefix="leotwin-fuzz-")
atexit.register(shutil.rmtree, _TMP, True)
APP, TOKEN = _app(Path(_TMP))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    response = case.call(headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
