"""The control-plane API: every endpoint and role, validation, registry, requests, audit chain."""

from __future__ import annotations

import json
import sqlite3
import warnings

import pytest

warnings.filterwarnings("ignore", category=DeprecationWarning)

from leotwin.controlplane.store import Store  # noqa: E402

T = "2026-03-01T00:00:00Z"


def test_health_and_openapi(api):
    client, _, _ = api
    assert client.get("/v1/health").json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    for path in ("/v1/decisions", "/v1/terminals", "/v1/terminals/{terminal_id}",
                 "/v1/policy/requests", "/v1/policy/requests/{rid}/decision", "/v1/policy",
                 "/v1/audit", "/v1/satellites"):
        assert path in spec["paths"], path


@pytest.mark.parametrize("method, path, body", [
    ("post", "/v1/decisions", {"terminal_id": "X", "lat": 50, "lon": 30, "time": T}),
    ("get", "/v1/terminals", None), ("get", "/v1/policy", None), ("get", "/v1/audit", None),
    ("post", "/v1/terminals", {"terminal_id": "A", "account": "a", "plan": "roam"}),
])
def test_401_without_or_with_a_bad_token(api, method, path, body):
    client, _, _ = api
    for headers in ({}, {"Authorization": "Bearer nope"}):
        r = getattr(client, method)(path, json=body, headers=headers) if body else \
            getattr(client, method)(path, headers=headers)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_every_v1_operation_needs_a_token(api):
    """From the published OpenAPI document: every operation under /v1 but health answers 401
    without a token, so a new endpoint cannot be left open by mistake."""
    client, _, _ = api
    spec = client.get("/openapi.json").json()
    checked = 0
    for path, ops in spec["paths"].items():
        if not path.startswith("/v1/") or path == "/v1/health":
            continue
        url = path.replace("{terminal_id}", "X").replace("{rid}", "1")
        for method in ops:
            kwargs = {"json": {}} if method in ("post", "put", "patch") else {}
            r = client.request(method.upper(), url, **kwargs)
            assert r.status_code == 401, (method, path, r.status_code)
            checked += 1
    assert checked >= 19  # the API of this issue: 19 operations


def test_roles(api):
    client, h, _ = api
    reg = {"terminal_id": "R-1", "account": "ua-mod", "plan": "roam", "whitelisted": ["UA"]}
    assert client.post("/v1/terminals", json=reg, headers=h["viewer"]).status_code == 403
    assert client.post("/v1/terminals", json=reg, headers=h["operator"]).status_code == 201
    req = {"change": {"speed_cap": {"region": "UA", "max_kmh": 90}}, "reason": "test"}
    assert client.post("/v1/policy/requests", json=req, headers=h["viewer"]).status_code == 403
    rid = client.post("/v1/policy/requests", json=req, headers=h["operator"]).json()["id"]
    decision = {"decision": "refused", "reason": "no"}
    assert client.post(f"/v1/policy/requests/{rid}/decision", json=decision,
                       headers=h["operator"]).status_code == 403
    assert client.post(f"/v1/policy/requests/{rid}/decision", json=decision,
                       headers=h["admin"]).status_code == 200
    assert client.get("/v1/audit", headers=h["operator"]).status_code == 403
    assert client.get("/v1/terminals", headers=h["viewer"]).status_code == 200


def test_decisions_single_and_batch(api):
    client, h, _ = api
    one = {"terminal_id": "UA-CIV-002", "lat": 49.84, "lon": 24.03, "time": T}
    r = client.post("/v1/decisions", json=one, headers=h["viewer"]).json()
    assert r["allowed"] and r["reasons"] == [] and r["serving_satellite"].startswith("starlink")
    assert r["gateway"] is None or r["gateway"].startswith("GS")
    batch = {"decisions": [one, {**one, "terminal_id": "UA-CIV-001", "lat": 50.45,
                                 "lon": 30.52}, {**one, "terminal_id": "GHOST"}]}
    out = client.post("/v1/decisions", json=batch, headers=h["viewer"]).json()
    assert [o["allowed"] for o in out] == [True, False, False]
    assert out[1]["reasons"] == ["NOT_WHITELISTED"]
    assert out[2]["reasons"] == ["NOT_WHITELISTED", "UNKNOWN_TERMINAL"]
    assert out[1]["serving_satellite"] is None and "whitelisted" in out[1]["explanation"]


@pytest.mark.parametrize("body, field", [
    ({"terminal_id": "X", "lat": 95, "lon": 30, "time": T}, "lat"),
    ({"terminal_id": "X", "lat": 50, "lon": 30, "time": "soon"}, "time"),
    ({"terminal_id": "X", "lat": 50, "lon": 30}, "time"),
    ({"terminal_id": "X", "lat": 50, "lon": 30, "time": T, "speed_kmh": -1}, "speed_kmh"),
    ({"terminal_id": "X", "lat": 50, "lon": 30, "time": T, "colour": "red"}, "colour"),
    ({"decisions": []}, "decisions"),
])
def test_decision_validation_422(api, body, field):
    """One error, for the field that is wrong: not one per branch of the single-or-batch
    union the endpoint accepts."""
    client, h, _ = api
    r = client.post("/v1/decisions", json=body, headers=h["viewer"])
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert [d["field"] for d in detail] == [f"body.{field}"], detail


GOOD = '{"terminal_id": "X", "lat": 50, "lon": 30, "time": "2026-02-01T00:00Z"}'


@pytest.mark.parametrize("body, field, words", [
    (GOOD.replace("50", "NaN"), "body.lat", "finite number"),
    (GOOD.replace("30", "-Infinity"), "body.lon", "finite number"),
    (GOOD.replace('"X"', '"X\\ud800"'), "body.terminal_id", "lone surrogate U+D800"),
    (GOOD.replace('"X"', '"X\\u0000"'), "body.terminal_id", "NUL byte"),
    (GOOD.replace('"X"', '"X\x7f"'), "body.terminal_id", "control character U+007F"),
    (GOOD.replace('"X"', '"X\x85"'), "body.terminal_id", "control character U+0085"),
    ('{"decisions": [' + GOOD.replace("50", "NaN") + "]}", "body.decisions.0.lat", "finite"),
    ('{"decisions": [' + GOOD.replace('"X"', '"\\udfff"') + "]}",
     "body.decisions.0.terminal_id", "lone surrogate"),
])
def test_non_finite_numbers_and_bad_characters_are_422_naming_the_field(api, body, field,
                                                                        words):
    client, h, _ = api
    r = client.post("/v1/decisions", content=body, headers={
        **h["viewer"], "content-type": "application/json"})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert [d["field"] for d in detail] == [field] and words in detail[0]["msg"], detail


def test_non_bmp_text_is_accepted_and_bad_query_characters_are_422(api):
    client, h, _ = api
    r = client.post("/v1/decisions", content=GOOD.replace('"X"', '"X\\ud83d\\ude00"'),
                    headers={**h["viewer"], "content-type": "application/json"})
    assert r.status_code == 200 and r.json()["terminal_id"] == "X\U0001F600"
    r = client.get("/v1/terminals", params={"as_of": "2026\0"}, headers=h["viewer"])
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.as_of"


def test_terminal_lifecycle_changes_decisions(api):
    client, h, _ = api
    op = h["operator"]
    reg = {"terminal_id": "NEW-1", "account": "ua-mod", "plan": "residential"}
    r = client.post("/v1/terminals", json=reg, headers=op)
    assert r.status_code == 201
    created = r.json()["created_at"]
    assert client.post("/v1/terminals", json=reg, headers=op).status_code == 409
    # registered now: a decision at a time already past still does not know it (the past
    # never changes); from now on it is known
    past = {"terminal_id": "NEW-1", "lat": 50.45, "lon": 30.52, "time": T}
    assert "UNKNOWN_TERMINAL" in client.post("/v1/decisions", json=past,
                                             headers=op).json()["reasons"]
    kyiv = {**past, "time": "2029-06-01T00:00:00Z"}
    d = client.post("/v1/decisions", json=kyiv, headers=op).json()
    assert d["reasons"] == ["NOT_WHITELISTED"]
    r = client.put("/v1/terminals/NEW-1/whitelist", json={"region": "UA"}, headers=op)
    assert r.json()["whitelisted"] == ["UA"]
    assert client.post("/v1/decisions", json=kyiv, headers=op).json()["allowed"]
    moving = {**kyiv, "speed_kmh": 50}
    assert client.post("/v1/decisions", json=moving, headers=op).json()["reasons"] == [
        "IN_MOTION_NOT_ALLOWED"]
    assert client.patch("/v1/terminals/NEW-1", json={"plan": "roam"},
                        headers=op).json()["plan"] == "roam"
    assert client.post("/v1/decisions", json=moving, headers=op).json()["allowed"]
    r = client.post("/v1/terminals/NEW-1/deactivate", json={"reason": "lost"}, headers=op)
    assert r.json()["deactivation_reason"] == "lost"
    later = {**kyiv, "time": "2030-01-01T00:00:00Z"}
    assert "TERMINAL_DEACTIVATED" in client.post("/v1/decisions", json=later,
                                                 headers=op).json()["reasons"]
    assert client.get("/v1/terminals/NEW-1", headers=h["viewer"]).json()["plan"] == "roam"
    assert client.get("/v1/terminals/NOPE", headers=h["viewer"]).status_code == 404
    listed = {t["terminal_id"]: t for t in client.get("/v1/terminals", headers=op).json()}
    assert listed["NEW-1"]["source"] == "api"
    assert {k for k, t in listed.items() if t["source"] == "scenario"} == {
        t.id for t in client.app.state.ctx.scenario_terminals}
    # the plan change and the whitelist are log entries: as of before them, the record is
    # the registration's
    early = client.get("/v1/terminals/NEW-1", params={"as_of": created},
                       headers=h["viewer"]).json()
    assert (early["plan"], early["whitelisted"]) == ("residential", [])
    for bad, path, method in ((
            {"terminal_id": "B", "account": "a", "plan": "platinum"}, "/v1/terminals", "post"),
            ({"plan": "gold"}, "/v1/terminals/NEW-1", "patch"),
            ({"region": "Narnia"}, "/v1/terminals/NEW-1/whitelist", "put")):
        assert getattr(client, method)(path, json=bad, headers=op).status_code == 422


def test_policy_requests_granted_and_refused_and_as_of(api):
    client, h, _ = api
    req = {"change": {"speed_cap": {"region": "UA", "max_kmh": 120}}, "reason": "raise the cap",
           "effective_at": "2030-01-01T00:00:00Z"}
    rid = client.post("/v1/policy/requests", json=req, headers=h["operator"]).json()["id"]
    pending = client.get("/v1/policy", headers=h["viewer"]).json()["pending"]
    assert [p["id"] for p in pending] == [rid]
    out = client.post(f"/v1/policy/requests/{rid}/decision",
                      json={"decision": "granted", "reason": "ok"}, headers=h["admin"])
    assert out.json()["status"] == "granted"
    assert client.post(f"/v1/policy/requests/{rid}/decision",
                       json={"decision": "refused", "reason": "x"},
                       headers=h["admin"]).status_code == 409
    state = client.get("/v1/policy", params={"as_of": "2030-06-01"}, headers=h["viewer"]).json()
    assert state["speed_caps_kmh"] == {"UA": 120.0}
    state = client.get("/v1/policy", params={"as_of": "2029-06-01"}, headers=h["viewer"]).json()
    assert state["speed_caps_kmh"] == {"UA": 75.0}  # the scenario's own cap
    assert "crimea-enable-request" in [r["id"] for r in state["refused"]]
    rid2 = client.post("/v1/policy/requests", json={
        "change": {"set_status": {"region": "crimea", "status": "active"}}, "reason": "enable"},
        headers=h["operator"]).json()["id"]
    client.post(f"/v1/policy/requests/{rid2}/decision",
                json={"decision": "refused", "reason": "not for attacks"}, headers=h["admin"])
    state = client.get("/v1/policy", headers=h["viewer"]).json()
    assert f"api-request-{rid2}" in [r["id"] for r in state["refused"]]
    for bad in ({"change": {"speed_cap": {"region": "Narnia"}}, "reason": "x"},
                {"change": {"fly": {}}, "reason": "x"},
                {"change": {"speed_cap": {"region": "UA"}}, "reason": "x",
                 "effective_at": "2001-01-01"},
                {"change": {"speed_cap": {"region": "UA"}}}):
        assert client.post("/v1/policy/requests", json=bad,
                           headers=h["operator"]).status_code == 422, bad
    assert client.get("/v1/policy", params={"as_of": "whenever"},
                      headers=h["viewer"]).status_code == 422


def test_audit_trail_and_tamper_detection(api, cli):
    client, h, db = api
    client.post("/v1/terminals", json={"terminal_id": "A-1", "account": "a", "plan": "roam"},
                headers=h["operator"])
    rows = client.get("/v1/audit", headers=h["admin"]).json()
    assert [r["action"] for r in rows][-1] == "terminal.register"
    assert rows[-1]["actor"].endswith("(operator)") and rows[-1]["payload"]["plan"] == "roam"
    code, out, _ = cli("audit", "verify", "--db", db)
    assert code == 0 and "chain intact" in out
    store = Store(db)
    store._exec("UPDATE audit SET payload = ? WHERE action = 'terminal.register'",
                (json.dumps({"plan": "residential"}),))
    store.close()
    code, out, _ = cli("audit", "verify", "--db", db)
    assert code == 1 and "altered" in out


def test_satellites_at_a_time(api):
    client, h, _ = api
    r = client.get("/v1/satellites", params={"time": T}, headers=h["viewer"]).json()
    assert len(r["sat_id"]) == 4408 and max(r["alt_km"]) < 620
    assert client.get("/v1/satellites", params={"time": "x"},
                      headers=h["viewer"]).status_code == 422


def test_tokens_cli(cli, tmp_path):
    db = tmp_path / "t.sqlite"
    code, out, _ = cli("tokens", "create", "--role", "operator", "--db", db)
    token = out.strip().splitlines()[-1]
    assert code == 0 and token.startswith("ltw_") and len(token) > 40
    stored = sqlite3.connect(db).execute("SELECT hash, role FROM tokens").fetchall()
    assert stored[0][1] == "operator" and token not in stored[0][0]
    code, _, err = cli("tokens", "create", "--role", "root", "--db", db)
    assert code == 2 and "unknown role 'root'" in err
    code, _, err = cli("tokens", "create", "--role", "admin", "--db",
                       "postgresql://nobody:none@127.0.0.1:1/none")  # a closed local port
    assert code == 2 and "PostgreSQL" in err
