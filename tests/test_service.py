"""The control-plane API: every endpoint and role, validation, audit chain, crash safety."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
import warnings

import numpy as np
import pytest

warnings.filterwarnings("ignore", category=DeprecationWarning)
from fastapi.testclient import TestClient  # noqa: E402

from leotwin.controlplane.app import create_app  # noqa: E402
from leotwin.controlplane.auth import create_token  # noqa: E402
from leotwin.controlplane.store import Store, verify_audit  # noqa: E402
from live_server import free_port, start_server  # noqa: E402

T = "2026-03-01T00:00:00Z"


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
    db = db_url
    store = Store(db)
    tokens = {role: create_token(store, role) for role in ("viewer", "operator", "admin")}
    store.close()
    client = TestClient(create_app("ukraine", db))
    headers = {r: {"Authorization": f"Bearer {t}"} for r, t in tokens.items()}
    return client, headers, db


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
    client, h, _ = api
    r = client.post("/v1/decisions", json=body, headers=h["viewer"])
    assert r.status_code == 422 and field in json.dumps(r.json())


def test_terminal_lifecycle_changes_decisions(api):
    client, h, _ = api
    op = h["operator"]
    reg = {"terminal_id": "NEW-1", "account": "ua-mod", "plan": "residential"}
    assert client.post("/v1/terminals", json=reg, headers=op).status_code == 201
    assert client.post("/v1/terminals", json=reg, headers=op).status_code == 409
    kyiv = {"terminal_id": "NEW-1", "lat": 50.45, "lon": 30.52, "time": T}
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
    assert [t["terminal_id"] for t in client.get("/v1/terminals", headers=op).json()] == ["NEW-1"]
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


def test_crash_safety_sigkill_mid_stream(tmp_path):
    """Stream registrations to a real server, SIGKILL it mid-stream, restart: every
    acknowledged write is there, the audit chain verifies, nothing is half-applied."""
    import threading

    import httpx

    db = tmp_path / "crash.sqlite"
    store = Store(db)
    token = create_token(store, "operator")
    store.close()
    port = free_port()
    proc = start_server(db, port)
    acked: list[str] = []
    stop = threading.Event()

    def stream():
        with httpx.Client(base_url=f"http://127.0.0.1:{port}",
                          headers={"Authorization": f"Bearer {token}"}, timeout=5) as c:
            k = 0
            while not stop.is_set():
                tid = f"T-{k:05d}"
                try:
                    r = c.post("/v1/terminals", json={"terminal_id": tid, "account": "a",
                                                      "plan": "roam"})
                except httpx.HTTPError:
                    return
                if r.status_code == 201:
                    acked.append(tid)
                k += 1

    worker = threading.Thread(target=stream)
    worker.start()
    while len(acked) < 40:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    stop.set()
    worker.join(timeout=10)
    store = Store(db)
    rows = {r["terminal_id"] for r in store.query("SELECT terminal_id FROM terminals")}
    audits = store.query("SELECT target FROM audit WHERE action = 'terminal.register'")
    assert set(acked) <= rows  # every acknowledged write survived
    assert rows == {a["target"] for a in audits}  # no write without its audit row, or vice versa
    ok, message = verify_audit(store)
    assert ok, message
    store.close()
    proc = start_server(db, port)  # and the server starts again on the same database
    try:
        r = httpx.get(f"http://127.0.0.1:{port}/v1/terminals/{acked[0]}",
                      headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert "ltw_" not in (proc.stdout.read() + proc.stderr.read())  # tokens never logged


def test_dashboard_data_endpoints(api):
    client, h, _ = api
    v = h["viewer"]
    cells = client.get("/v1/cells", params={"time": T}, headers=v).json()
    assert len(cells["h3_cell"]) == 2363 and set(cells["status"]) >= {"active"}
    assert min(cells["visible"]) > 20  # Ukraine under starlink-gen1 at 25°
    terms = client.get("/v1/terminals-decisions", params={"time": T}, headers=v).json()
    by_id = {t["terminal_id"]: t for t in terms}
    assert by_id["UA-CIV-001"]["reasons"] == ["NOT_WHITELISTED"]
    assert by_id["UA-CIV-002"]["allowed"] is True
    series = client.get("/v1/rtt", params={"terminal_id": "UA-CIV-002", "start": T,
                                          "duration": "2m", "step": "15s"}, headers=v).json()
    assert len(series["rtt_ms"]) == 8 and all(5 < x < 80 for x in series["rtt_ms"] if x)
    assert client.get("/v1/rtt", params={"terminal_id": "UA-CIV-002", "start": T,
                                        "duration": "1d", "step": "1s"},
                      headers=v).status_code == 422
    assert client.get("/v1/rtt", params={"terminal_id": "NOPE", "start": T},
                      headers=v).status_code == 404
    log = client.get("/v1/policy/log", headers=v).json()
    assert {x["decision"] for x in log} == {"granted", "refused"}


def _wgs84_elevation_deg(sat_lat, sat_lon, sat_alt_km, lat, lon):
    """Elevation of a point seen from a site on the WGS-84 ellipsoid, written out here from
    the textbook formulas (geodetic → ECEF, Vallado eq. 3-7; ellipsoid normal as 'up')."""
    a, f = 6378.137, 1 / 298.257223563
    e2 = f * (2 - f)

    def ecef(phi, lam, h):
        phi, lam = np.radians(phi), np.radians(lam)
        n = a / np.sqrt(1 - e2 * np.sin(phi) ** 2)
        return np.array([(n + h) * np.cos(phi) * np.cos(lam), (n + h) * np.cos(phi) * np.sin(lam),
                         (n * (1 - e2) + h) * np.sin(phi)])

    up = np.array([np.cos(np.radians(lat)) * np.cos(np.radians(lon)),
                   np.cos(np.radians(lat)) * np.sin(np.radians(lon)), np.sin(np.radians(lat))])
    rho = ecef(sat_lat, sat_lon, sat_alt_km) - ecef(lat, lon, 0.0)
    return np.degrees(np.arcsin(rho @ up / np.linalg.norm(rho)))


def test_dashboard_map_endpoints(api):
    """Scenario window, gateway feeder links, ground tracks and H3 cell outlines."""
    import h3

    client, h, _ = api
    v = h["viewer"]
    info = client.get("/v1/scenario", headers=v).json()
    assert info["name"] == "ukraine" and info["regions"] == ["UA"]
    assert info["start"] < info["end"] and info["step_s"] > 0
    sats = client.get("/v1/satellites", params={"time": T, "track_min": 5}, headers=v).json()
    assert all(len(tr) == 6 for tr in sats["track_lat_deg"])
    assert sats["track_lat_deg"][0][0] == pytest.approx(sats["lat_deg"][0], abs=1e-3)
    # a LEO satellite moves about 7.6 km/s x 60 s ≈ 3.8° of arc per minute along its track
    lat, lon = np.radians(sats["track_lat_deg"][0][:2]), np.radians(sats["track_lon_deg"][0][:2])
    arc = np.degrees(np.arccos(np.sin(lat[0]) * np.sin(lat[1]) +
                               np.cos(lat[0]) * np.cos(lat[1]) * np.cos(lon[1] - lon[0])))
    assert 3.0 < arc < 4.5
    gw = client.get("/v1/gateways", params={"time": T}, headers=v).json()
    by_sat = {s: k for k, s in enumerate(sats["sat_id"])}
    assert len(gw["links"]) > len(gw["gateway_id"])
    for g, sat, _lat, _lon, el in gw["links"][::97]:
        k = by_sat[sat]
        ref = _wgs84_elevation_deg(sats["lat_deg"][k], sats["lon_deg"][k], sats["alt_km"][k],
                                   gw["lat_deg"][g], gw["lon_deg"][g])
        assert el == pytest.approx(ref, abs=0.05) and el >= 25.0 - 1e-9
    cells = client.get("/v1/cells", params={"time": T, "boundaries": True}, headers=v).json()
    for cell, ring in list(zip(cells["h3_cell"], cells["boundary"], strict=True))[::500]:
        assert len(ring) >= 6  # hexagons (+ distortion vertices on icosahedron edges)
        assert h3.latlng_to_cell(np.mean([p[1] for p in ring]), np.mean([p[0] for p in ring]),
                                 5) == cell
    assert client.get("/v1/gateways", headers={}).status_code == 401
    assert client.get("/v1/satellites", params={"track_min": 500}, headers=v).status_code == 422


def test_serve_with_two_workers(tmp_path):
    """``--workers 2``: two processes share one SQLite database; writes from both keep one
    audit chain, and every worker reads what the other wrote."""
    import httpx

    db = tmp_path / "w.db"
    store = Store(db)
    token = create_token(store, "operator")
    store.close()
    port = free_port()
    proc = start_server(db, port, "--workers", "2")
    h = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=h) as c:
            for k in range(20):  # new connections spread over both workers
                r = httpx.post(f"http://127.0.0.1:{port}/v1/terminals", headers=h,
                               json={"terminal_id": f"W-{k}", "account": "acct",
                                     "plan": "residential"})
                assert r.status_code == 201
            for k in range(20):
                r = httpx.get(f"http://127.0.0.1:{port}/v1/terminals/W-{k}", headers=h)
                assert r.status_code == 200 and r.json()["terminal_id"] == f"W-{k}"
            assert len(c.get("/v1/terminals").json()) >= 20
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    store = Store(db)
    ok, message = verify_audit(store)
    rows = store.query("SELECT COUNT(*) AS n FROM audit WHERE action = 'terminal.register'")
    store.close()
    assert ok, message
    assert rows[0]["n"] == 20


def test_api_serves_as_the_runner_routes(tmp_path):
    """The API's serving satellite and gateway are the runner's (``network.access``): for the
    small scenario's routed terminal, at every slot start of the run where it is allowed, a
    single decision and the same decisions in one batch name the satellite and gateway of
    rtt.parquet."""
    from pathlib import Path

    import pyarrow as pa
    import pyarrow.parquet as pq

    from leotwin.network.access import slot_starts
    from leotwin.sim.load import load_scenario
    from leotwin.sim.runner import run_scenario
    from leotwin.timegrid.grid import ns_to_iso

    source = Path(__file__).parent / "data" / "small-scenario.yaml"
    loaded = load_scenario(source)
    run_scenario(loaded, tmp_path / "run", report=False)
    rtt = pq.read_table(tmp_path / "run" / "rtt.parquet")
    times = rtt.column("time").cast(pa.int64()).to_pylist()
    dec = pq.read_table(tmp_path / "run" / "decisions.parquet")
    allowed = dict(zip(zip(dec.column("terminal_id").cast(pa.string()).to_pylist(),
                           dec.column("time").cast(pa.int64()).to_pylist(), strict=True),
                       dec.column("allowed").to_pylist(), strict=True))
    sats, gws = rtt.column("serving_sat").to_pylist(), rtt.column("gateway").to_pylist()
    term = next(t for t in loaded.scenario.terminals if t.id == "KYIV")
    new_slot = slot_starts(np.array(times))
    asked, want = [], []
    for k, t in enumerate(times):
        if new_slot[k] and allowed[("KYIV", t)] and sats[k] is not None:
            asked.append({"terminal_id": "KYIV", "lat": term.lat, "lon": term.lon,
                          "time": ns_to_iso(t)})
            want.append((sats[k], gws[k]))
    assert len(asked) >= 5
    store = Store(tmp_path / "cp.sqlite")
    token = create_token(store, "viewer")
    store.close()
    client = TestClient(create_app(source, tmp_path / "cp.sqlite"))
    headers = {"Authorization": f"Bearer {token}"}
    for body, route in zip(asked, want, strict=True):
        got = client.post("/v1/decisions", json=body, headers=headers).json()
        assert (got["serving_satellite"], got["gateway"]) == route, body
    batch = client.post("/v1/decisions", json={"decisions": asked}, headers=headers).json()
    assert [(b["serving_satellite"], b["gateway"]) for b in batch] == want
    # many terminals at one instant are routed together, over one graph: each as on its own
    cities = [(50.45, 30.52), (40.42, -3.70), (51.51, -0.13), (41.01, 28.98), (59.33, 18.07),
              (48.86, 2.35)]  # Kyiv, Madrid, London, Istanbul, Stockholm, Paris
    places = [{**asked[0], "lat": lat, "lon": lon} for lat, lon in cities]
    singles = [client.post("/v1/decisions", json=p, headers=headers).json() for p in places]
    together = client.post("/v1/decisions", json={"decisions": places}, headers=headers).json()
    routes = [(d["serving_satellite"], d["gateway"]) for d in singles]
    assert [(d["serving_satellite"], d["gateway"]) for d in together] == routes
    assert len({r[1] for r in routes if r[0]}) >= 3  # several gateways among them
