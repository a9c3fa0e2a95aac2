"""The control plane as it runs: crash safety, dashboard data, two workers, runner routes."""

from __future__ import annotations

import os
import signal
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
    allowed = {}  # the intervals of the decisions table, instant by instant
    for tid, a, b, ok in zip(dec.column("terminal_id").cast(pa.string()).to_pylist(),
                             dec.column("from").cast(pa.int64()).to_pylist(),
                             dec.column("to").cast(pa.int64()).to_pylist(),
                             dec.column("allowed").to_pylist(), strict=True):
        allowed.update({(tid, t): ok for t in times if a <= t < b})
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
