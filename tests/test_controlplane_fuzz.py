"""Schemathesis against the published OpenAPI document: no input makes the server fail (5xx).

Schemathesis generates NUL bytes (``allow_x00``) and any Unicode text (``codec="utf-8"``, so
non-BMP characters such as emoji) but, JSON being JSON, never ``NaN``, ``Infinity`` or lone
UTF-16 surrogates; each generated body is therefore also sent *poisoned*: every number made
``NaN``/``Infinity`` and every string given an emoji and a lone surrogate (``\\ud800``), as a
hostile client can write them.  Both must answer below 500, the poisoned one 4xx."""

from __future__ import annotations

import atexit
import json
import math
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", category=DeprecationWarning)
schemathesis = pytest.importorskip("schemathesis")
from fastapi.testclient import TestClient  # noqa: E402
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


schema.config.generation.update(allow_x00=True, codec="utf-8")
CLIENT = TestClient(APP, raise_server_exceptions=False)


def _poison(value, k=0):
    """``value`` with numbers made non-finite and strings given non-BMP and lone surrogate
    characters (``k`` alternates NaN, Infinity and -Infinity)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return (math.nan, math.inf, -math.inf)[k % 3]
    if isinstance(value, str):
        return value + "\U0001F600\ud800"
    if isinstance(value, dict):
        return {key: _poison(v, k + j) for j, (key, v) in enumerate(value.items())}
    if isinstance(value, list):
        return [_poison(v, k + j) for j, v in enumerate(value)]
    return value


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = case.call(headers=headers)
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
    if isinstance(case.body, (dict, list)) and case.body:
        body = json.dumps(_poison(case.body), allow_nan=True)  # NaN: not JSON, but sent
        poisoned = CLIENT.request(case.method, case.formatted_path, params=case.query,
                                  content=body, headers={**headers,
                                                         "content-type": "application/json"})
        assert 400 <= poisoned.status_code < 500, (case.method, case.path, body[:200],
                                                   poisoned.text[:300])
