"""The control plane you can audit (issue #12): the past never changes through the API; one
registry with the scenario's terminals; one namespace per scenario; what-if requests on the
scenario's clock; and an audit chain in which editing any stored field alone is detected."""

from __future__ import annotations

import hashlib
import json
import time
import warnings

import pytest

warnings.filterwarnings("ignore", category=DeprecationWarning)
from fastapi.testclient import TestClient  # noqa: E402

from leotwin.controlplane.app import create_app  # noqa: E402
from leotwin.controlplane.auth import create_token  # noqa: E402
from leotwin.controlplane.store import Store, verify_audit  # noqa: E402
from leotwin.timegrid.grid import ns_to_iso  # noqa: E402

CAP = {"change": {"speed_cap": {"region": "UA", "max_kmh": 120}}, "reason": "raise the cap"}


def _client(db, scenario="ukraine", namespace=None):
    store = Store(db)
    tokens = {role: create_token(store, role) for role in ("viewer", "operator", "admin")}
    store.close()
    client = TestClient(create_app(scenario, db, namespace))
    return client, {r: {"Authorization": f"Bearer {t}"} for r, t in tokens.items()}


def test_a_later_grant_never_changes_the_past(api):
    client, h, _ = api
    r = client.post("/v1/policy/requests", json=CAP, headers=h["operator"]).json()
    time.sleep(0.01)
    between = ns_to_iso(time.time_ns())  # requested and in effect as asked, not yet decided
    before = client.get("/v1/policy", params={"as_of": between}, headers=h["viewer"]).json()
    assert before["speed_caps_kmh"]["UA"] == 75.0
    time.sleep(0.01)
    d = client.post(f"/v1/policy/requests/{r['id']}/decision",
                    json={"decision": "granted", "reason": "ok"}, headers=h["admin"]).json()
    assert d["decided_at"] > r["requested_at"]
    after = client.get("/v1/policy", params={"as_of": between}, headers=h["viewer"]).json()
    assert after == before
    # from the decision on it is in force; as requested, it was from its effective_at
    now = client.get("/v1/policy", headers=h["viewer"]).json()
    assert now["speed_caps_kmh"]["UA"] == 120.0
    asked = client.get("/v1/policy", params={"as_of": between, "view": "requested"},
                       headers=h["viewer"]).json()
    assert asked["speed_caps_kmh"]["UA"] == 120.0 and "as requested" in asked["meaning"]
    log = {x["id"]: x for x in client.get("/v1/policy/log", headers=h["viewer"]).json()}
    entry = log[f"api-request-{r['id']}"]
    assert entry["effective_at"] == d["decided_at"]
    assert entry["requested_effective_at"] == r["effective_at"]


def test_each_scenario_has_its_own_namespace(tmp_path):
    db = tmp_path / "cp.sqlite"
    ua, h = _client(db, "ukraine")
    r = ua.post("/v1/policy/requests", json=CAP, headers=h["operator"]).json()
    ua.post("/v1/terminals", json={"terminal_id": "X-1", "account": "ua-mod",
                                    "plan": "roam"}, headers=h["operator"])
    tw, h2 = _client(db, "taiwan")
    assert tw.get("/v1/policy/requests", headers=h2["viewer"]).json() == []
    assert tw.get(f"/v1/policy/requests/{r['id']}", headers=h2["viewer"]).status_code in (
        404, 405)
    assert tw.get("/v1/terminals/X-1", headers=h2["viewer"]).status_code == 404
    assert [x["id"] for x in ua.get("/v1/policy/requests", headers=h["viewer"]).json()] == [
        r["id"]]
    # an explicit namespace shares another's rows on purpose
    again, h3 = _client(db, "taiwan", namespace="ukraine")
    assert again.get("/v1/terminals/X-1", headers=h3["viewer"]).status_code == 200
    ok, message = verify_audit(Store(db))
    assert ok, message


def test_the_registry_serves_the_scenarios_terminals_populations_included(tmp_path):
    client, h = _client(tmp_path / "cp.sqlite", "ukraine-2026")
    ctx = client.app.state.ctx
    assert len(ctx.scenario_terminals) == 1103
    listed = client.get("/v1/terminals", params={"limit": 2000}, headers=h["viewer"]).json()
    assert len(listed) == 1103
    civ = client.get("/v1/terminals/CIV-001", headers=h["viewer"])
    assert civ.status_code == 200 and civ.json()["source"] == "scenario"
    t = next(x for x in ctx.scenario_terminals if x.id == "CIV-001")
    d = client.post("/v1/decisions", json={"terminal_id": t.id, "lat": t.lat, "lon": t.lon,
                                           "time": "2026-02-09T21:00:00Z"},
                    headers=h["viewer"]).json()
    assert "UNKNOWN_TERMINAL" not in d["reasons"]
    # a scenario terminal cannot be registered again
    r = client.post("/v1/terminals", json={"terminal_id": "CIV-001", "account": "residents",
                                           "plan": "roam"}, headers=h["operator"])
    assert r.status_code == 409


def test_what_if_requests_live_on_the_scenario_clock(api):
    client, h, _ = api
    # ukraine's window is 2026-02-09T21:00Z + 6 h: a real request there is "in the past"
    wi = {**CAP, "effective_at": "2026-02-09T22:00:00Z"}
    assert client.post("/v1/policy/requests", json=wi, headers=h["operator"]).status_code == 422
    r = client.post("/v1/policy/requests", json={**wi, "what_if": True,
                                                 "requested_at": "2026-02-09T21:30:00Z"},
                    headers=h["operator"])
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    outside = {**wi, "what_if": True, "effective_at": "2026-03-09T22:00:00Z"}
    assert client.post("/v1/policy/requests", json=outside,
                       headers=h["operator"]).status_code == 422
    # decided (in scenario time) an hour after the time it asked for
    d = client.post(f"/v1/policy/requests/{rid}/decision",
                    json={"decision": "granted", "reason": "ok",
                          "decided_at": "2026-02-09T23:00:00Z"}, headers=h["admin"])
    assert d.status_code == 200, d.text
    car = {"terminal_id": "UA-CIV-002", "lat": 50.45, "lon": 30.52, "speed_kmh": 100}
    at = {**car, "time": "2026-02-09T22:30:00Z"}
    late = {**car, "time": "2026-02-09T23:30:00Z"}

    def reasons(body, what_if):
        return client.post("/v1/decisions", json=body, params={"what_if": what_if},
                           headers=h["viewer"]).json()["reasons"]

    assert "SPEED_CAP" in reasons(late, False)  # real policy: the 75 km/h cap
    assert "SPEED_CAP" not in reasons(late, True)  # what-if: 120 km/h, as granted
    assert "SPEED_CAP" in reasons(at, True)  # ... not yet in force at 22:30 as granted
    pol = {"as_of": "2026-02-09T22:30:00Z", "what_if": True}
    granted = client.get("/v1/policy", params=pol, headers=h["viewer"]).json()
    requested = client.get("/v1/policy", params={**pol, "view": "requested"},
                           headers=h["viewer"]).json()
    assert (granted["speed_caps_kmh"]["UA"], requested["speed_caps_kmh"]["UA"]) == (75.0, 120.0)
    real = client.get("/v1/policy", params={"as_of": "2026-02-09T23:30:00Z"},
                      headers=h["viewer"]).json()
    assert real["speed_caps_kmh"]["UA"] == 75.0 and real["pending"] == []
    # a real decision cannot give its own time
    r2 = client.post("/v1/policy/requests", json=CAP, headers=h["operator"]).json()
    bad = client.post(f"/v1/policy/requests/{r2['id']}/decision",
                      json={"decision": "granted", "reason": "x",
                            "decided_at": "2026-02-09T23:00:00Z"}, headers=h["admin"])
    assert bad.status_code == 422


def test_an_invalid_cell_is_refused_by_the_api_and_decisions_keep_working(api):
    client, h, _ = api
    bad = {"change": {"set_cells": {"cells": ["not-a-cell"], "status": "blacklisted"}},
           "reason": "x"}
    assert client.post("/v1/policy/requests", json=bad, headers=h["operator"]).status_code == 422
    coarse = {"change": {"set_cells": {"cells": ["831e6cfffffffff"], "status": "blacklisted"}},
              "reason": "x"}
    assert client.post("/v1/policy/requests", json=coarse,
                       headers=h["operator"]).status_code == 422
    d = client.post("/v1/decisions", json={"terminal_id": "UA-ARMY-001", "lat": 50.45,
                                           "lon": 30.52, "time": "2030-01-01T00:00:00Z"},
                    headers=h["viewer"])
    assert d.status_code == 200


# --- the audit chain ------------------------------------------------------------------------

def _filled_store(path) -> Store:
    store = Store(path)
    for k in range(4):
        # non-ASCII text is hashed as UTF-8, not as \u escapes (the documented formula)
        with store.write(f"actor-{k}", "test.write", f"target-{k}", {"k": k, "x": "Київ"}):
            pass
    return store


def test_the_chain_hash_is_sha256_of_the_previous_hash_and_the_row(tmp_path):
    """Recomputed here from the documented formula, not with the store's code."""
    store = _filled_store(tmp_path / "a.sqlite")
    prev = "0" * 64
    for r in store.query("SELECT * FROM audit ORDER BY seq"):
        row = {"seq": r["seq"], "at": r["at"], "actor": r["actor"], "action": r["action"],
               "target": r["target"], "payload": json.loads(r["payload"])}
        text = json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert r["prev_hash"] == prev
        assert r["hash"] == hashlib.sha256((prev + text).encode()).hexdigest()
        prev = r["hash"]


@pytest.mark.parametrize("column, value", [
    ("payload", json.dumps({"k": 2, "x": "Kyiv"})), ("actor", "someone else"),
    ("at", 12345), ("action", "test.other"), ("target", "elsewhere"),
    ("prev_hash", "f" * 64), ("hash", "e" * 64), ("seq", 99),
])
def test_editing_any_stored_field_alone_breaks_the_chain_at_that_row(tmp_path, column, value):
    store = _filled_store(tmp_path / "a.sqlite")
    assert verify_audit(store)[0]
    store.conn.execute(f"UPDATE audit SET {column} = ? WHERE seq = 3", (value,))
    ok, message = verify_audit(store)
    assert not ok
    assert "row 3" in message


def test_deleting_a_row_breaks_the_chain(tmp_path):
    store = _filled_store(tmp_path / "a.sqlite")
    store.conn.execute("DELETE FROM audit WHERE seq = 2")
    ok, message = verify_audit(store)
    assert not ok and "row 2" in message


# --- one decision path ----------------------------------------------------------------------

@pytest.mark.parametrize("isl, mask, network_reason", [
    ("plus-grid", 60, "NO_SATELLITE_IN_VIEW"),  # gaps in view at a 60° mask
    ("none", 25, "NO_PATH_TO_GATEWAY"),  # bent pipe: satellites that see no gateway
])
def test_api_and_runner_decide_alike_on_every_terminal_and_instant(tmp_path, isl, mask,
                                                                   network_reason):
    """≥ 1,000 (terminal, place, time) triples: every decision of a run of the small scenario
    (detection left out: the API knows only the log, not a run's detections) asked of the API;
    same allowed, same reasons (NO_SATELLITE_IN_VIEW and NO_PATH_TO_GATEWAY included), and for
    the routed terminal the same serving satellite and gateway."""
    import numpy as np
    import pyarrow.parquet as pq
    import yaml

    from leotwin.sim.load import load_scenario
    from leotwin.sim.runner import run_scenario

    doc = yaml.safe_load(open("tests/data/small-scenario.yaml"))
    doc["time"]["duration"] = "60m"
    doc["policy"].pop("detection")
    doc["outputs"] = {"positions": False, "report": False, "decisions": "instants"}
    doc["network"]["geometry"] = "terminal"  # the API decides each terminal at its place
    doc["ground"]["min_elevation_deg"] = mask
    doc["network"]["isl"] = isl
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc))
    run_scenario(load_scenario(path), tmp_path / "run")
    dec = pq.read_table(tmp_path / "run" / "decision_instants.parquet").to_pylist()
    rtt = {(r["time"], r["terminal_id"]): r
           for r in pq.read_table(tmp_path / "run" / "rtt.parquet").to_pylist()}
    assert len(dec) >= 1000
    alts = {t.id: t.alt_m for t in load_scenario(path).scenario.terminals}
    client, h = _client(tmp_path / "cp.sqlite", path)
    items = [{"terminal_id": d["terminal_id"], "lat": d["lat_deg"], "lon": d["lon_deg"],
              "alt_m": alts.get(d["terminal_id"], 0.0), "speed_kmh": d["speed_kmh"],
              "time": ns_to_iso(int(np.datetime64(d["time"].replace(tzinfo=None), "ns")
                                    .astype(np.int64)))} for d in dec]
    got = client.post("/v1/decisions", json={"decisions": items}, headers=h["viewer"])
    assert got.status_code == 200, got.text
    out = got.json()
    reasons_seen, routed = set(), 0
    for d, a in zip(dec, out, strict=True):
        runner = sorted(filter(None, d["reasons"].split("|")))
        assert (a["allowed"], sorted(a["reasons"])) == (d["allowed"], runner), (d, a)
        reasons_seen.update(runner)
        r = rtt.get((d["time"], d["terminal_id"]))
        if r is not None and a["allowed"]:
            assert (a["serving_satellite"], a["gateway"]) == (r["serving_sat"], r["gateway"])
            routed += a["gateway"] is not None
    # the comparison exercised policy and network reasons alike
    assert {network_reason, "NOT_WHITELISTED", "SPEED_CAP"} <= reasons_seen
    assert sum(a["allowed"] for a in out) > 0 and routed > 5


def test_registration_rules_apply_to_api_registrations(api):
    client, h, _ = api
    rules = {"change": {"registration_rules": {"region": "UA", "processing_hours": 1}},
             "reason": "the 2026 rules"}
    r = client.post("/v1/policy/requests", json=rules, headers=h["operator"]).json()
    client.post(f"/v1/policy/requests/{r['id']}/decision",
                json={"decision": "granted", "reason": "ok"}, headers=h["admin"])
    for tid in ("ANN-1", "ANN-2"):
        assert client.post("/v1/terminals", json={"terminal_id": tid, "account": "ua-mod",
                                                   "plan": "roam", "owner": "ann"},
                           headers=h["operator"]).status_code == 201
        rec = client.put(f"/v1/terminals/{tid}/whitelist",
                         json={"region": "UA", "device_presented": False},
                         headers=h["operator"]).json()
        assert rec["registration_pending_until"] is not None and rec["whitelisted"] == []
    later = "2030-01-01T00:00:00Z"
    got = {tid: client.post("/v1/decisions", json={"terminal_id": tid, "lat": 50.45,
                                                   "lon": 30.52, "time": later},
                            headers=h["viewer"]).json() for tid in ("ANN-1", "ANN-2")}
    assert got["ANN-1"]["allowed"]
    assert got["ANN-2"]["reasons"] == ["NOT_WHITELISTED"]
    assert "limit for a person registering without the device is 1" in \
        got["ANN-2"]["explanation"]
    rec = client.get("/v1/terminals/ANN-2", params={"as_of": later}, headers=h["viewer"]).json()
    assert "already has 1 terminal" in rec["registration_rejected"]


def test_refusals_create_no_database_and_verify_only_reads(cli, tmp_path):
    db = tmp_path / "never.sqlite"
    code, _, err = cli("tokens", "create", "--role", "superuser", "--db", db)
    assert code == 2 and "unknown role 'superuser'" in err and not db.exists()
    code, _, err = cli("audit", "verify", "--db", db)
    assert code == 2 and "does not exist" in err and not db.exists()
    code, _, err = cli("serve", "--scenario", tmp_path / "missing.yaml", "--db", db)
    assert code == 2 and len(err.strip().splitlines()) == 1 and not db.exists()
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database at all\n")
    code, _, err = cli("audit", "verify", "--db", junk)
    assert code == 2 and "junk.sqlite" in err and "Traceback" not in err
    assert junk.read_text() == "not a database at all\n"
    other = tmp_path / "other.sqlite"
    import sqlite3

    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    code, _, err = cli("audit", "verify", "--db", other)
    assert code == 2 and "not a leotwin database" in err
    # a real database verifies, read-only: not a byte changes
    good = tmp_path / "good.sqlite"
    assert cli("tokens", "create", "--role", "viewer", "--db", good)[0] == 0
    before = good.read_bytes()
    code, out, _ = cli("audit", "verify", "--db", good)
    assert code == 0 and "chain intact" in out
    assert good.read_bytes() == before
