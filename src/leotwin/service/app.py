"""The control-plane HTTP API (FastAPI), versioned under ``/v1``; OpenAPI at ``/openapi.json``.

Roles: a ``viewer`` reads (decisions, terminals, policy); an ``operator`` also registers and
changes terminals and files policy requests; an ``admin`` also decides requests and reads the
audit trail.  401 without a valid token, 403 with a role too low, 422 for invalid payloads.

The policy in force is the loaded scenario's policy log **plus** the requests granted through
the API, and the terminal registry is the scenario's terminals **plus** those registered through
the API (which take precedence).  The decision engine is rebuilt when the store changes.
"""


import json
import time
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from fastapi import Depends, FastAPI, HTTPException, Query, Request, status
from fastapi import Path as PathParam
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from leotwin.errors import InputError
from leotwin.policy.engine import PolicyEngine
from leotwin.policy.load import plans_of, region_known
from leotwin.policy.schema import Change, LogEntry, PolicyFile, Terminal
from leotwin.policy.state import as_of as policy_as_of
from leotwin.policy.state import refused_until
from leotwin.service.auth import RANK, role_of
from leotwin.service.store import Store, is_conflict
from leotwin.sim.load import LoadedScenario, load_scenario
from leotwin.timegrid.grid import ns_to_iso, parse_time


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _time(v) -> int:
    try:
        return parse_time(v if isinstance(v, datetime) else str(v))
    except InputError as exc:
        raise ValueError(exc.message) from None


class DecisionIn(Model):
    terminal_id: str = Field(min_length=1, max_length=128)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    alt_m: float = Field(default=0.0, ge=-500, le=50_000)
    speed_kmh: float = Field(default=0.0, ge=0, le=5_000)
    time: int

    _t = field_validator("time", mode="before")(lambda cls, v: _time(v))


class DecisionBatch(Model):
    decisions: list[DecisionIn] = Field(min_length=1, max_length=10_000)


class DecisionOut(BaseModel):
    terminal_id: str
    time: str
    allowed: bool
    reasons: list[str]
    explanation: str
    serving_satellite: str | None = None
    gateway: str | None = None


class TerminalIn(Model):
    terminal_id: str = Field(min_length=1, max_length=128)
    account: str = Field(min_length=1, max_length=128)
    plan: str
    home_country: str | None = None
    whitelisted: list[str] = []


class PlanIn(Model):
    plan: str


class WhitelistIn(Model):
    region: str
    registered: bool = True


class DeactivateIn(Model):
    reason: str = Field(min_length=1, max_length=1000)


class RequestIn(Model):
    change: dict
    reason: str = Field(min_length=1, max_length=2000)
    requested_by: str | None = Field(default=None, max_length=200)
    effective_at: int | None = None
    until: int | None = None

    _t = field_validator("effective_at", "until", mode="before")(
        lambda cls, v: None if v is None else _time(v))


class DecideIn(Model):
    decision: Literal["granted", "refused"]
    reason: str = Field(min_length=1, max_length=2000)


bearer = HTTPBearer(auto_error=False)
MAX_INT = 2**62  # every integer parameter fits a signed 64-bit column
RequestId = Annotated[int, PathParam(ge=1, le=MAX_INT)]


def create_app(scenario: str | Path = "ukraine", db: str | Path | None = None) -> FastAPI:
    store = Store(db)
    loaded: LoadedScenario = load_scenario(scenario)
    app = FastAPI(title="leotwin control plane", version="1",
                  description="Authorization decisions with reasons, the terminal registry, "
                              "policy requests and decisions, and the audit trail.")
    cache: dict = {"version": None, "engine": None}

    def engine() -> PolicyEngine:
        version = store.version
        if cache["version"] != version:
            cache["engine"] = PolicyEngine(_policy_file(loaded, store))
            cache["engine"].source = loaded.source
            cache["version"] = version
        return cache["engine"]

    def who(minimum: str):
        # async: a token lookup is one indexed read, cheaper than a hop to the thread pool
        async def check(cred: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
                        ) -> dict:
            found = role_of(store, cred.credentials) if cred else None
            if found is None:
                raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a valid bearer token is "
                                    "required", headers={"WWW-Authenticate": "Bearer"})
            role, token_id = found
            if RANK[role] < RANK[minimum]:
                raise HTTPException(status.HTTP_403_FORBIDDEN,
                                    f"this needs the {minimum} role; the token is {role}")
            return {"role": role, "actor": f"token:{token_id} ({role})"}
        return check

    Viewer = Annotated[dict, Depends(who("viewer"))]
    Operator = Annotated[dict, Depends(who("operator"))]
    Admin = Annotated[dict, Depends(who("admin"))]

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError):
        from fastapi.responses import JSONResponse

        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.get("/v1/health")
    def health() -> dict:
        return {"status": "ok", "scenario": loaded.scenario.name, "schema": "v1"}

    @app.post("/v1/decisions", response_model=DecisionOut | list[DecisionOut])
    async def decisions(body: DecisionIn | DecisionBatch, _: Viewer):
        # a single decision (≈0.6 ms of CPU) runs on the event loop: the thread-pool hop would
        # cost more than it saves under the GIL.  A batch (up to 10,000 items, seconds) goes to
        # the thread pool so that it does not hold up every other request meanwhile.
        if isinstance(body, DecisionBatch):
            from starlette.concurrency import run_in_threadpool

            return await run_in_threadpool(_decide, body.decisions)
        return _decide([body])[0]

    def _decide(items: list[DecisionIn]) -> list[DecisionOut]:
        e = engine()
        out = []
        for d in items:  # explain() decides too: one pass per item
            text = e.explain(d.terminal_id, d.lat, d.lon, d.alt_m, d.speed_kmh, d.time)
            sat, gw = (_serving(loaded, d) if text["allowed"] else (None, None))
            out.append(DecisionOut(terminal_id=d.terminal_id, time=ns_to_iso(d.time),
                                   allowed=text["allowed"], reasons=text["reasons"],
                                   explanation=text["explanation"], serving_satellite=sat,
                                   gateway=gw))
        return out

    def _check_terminal(t: TerminalIn | PlanIn | WhitelistIn) -> None:
        doc = engine().doc
        plan = getattr(t, "plan", None)
        if plan is not None and plan not in plans_of(doc):
            raise HTTPException(422, f"unknown plan '{plan}': expected one of "
                                     f"{', '.join(plans_of(doc))}")
        regions = list(getattr(t, "whitelisted", []) or [])
        for extra in (getattr(t, "home_country", None), getattr(t, "region", None)):
            if extra:
                regions.append(extra)
        for r in regions:
            if not region_known(doc, r):
                raise HTTPException(422, f"unknown region '{r}'")

    def _terminal_row(tid: str) -> dict:
        rows = store.query("SELECT * FROM terminals WHERE terminal_id = ?", (tid,))
        if not rows:
            raise HTTPException(404, f"terminal '{tid}' is not registered")
        r = rows[0]
        r["whitelisted"] = json.loads(r["whitelisted"])
        r["deactivated_at"] = ns_to_iso(r["deactivated_at"]) if r["deactivated_at"] else None
        r["created_at"] = ns_to_iso(r["created_at"])
        r["updated_at"] = ns_to_iso(r["updated_at"])
        return r

    @app.post("/v1/terminals", status_code=201)
    def register(t: TerminalIn, user: Operator) -> dict:
        _check_terminal(t)
        now = time.time_ns()
        try:
            with store.write(user["actor"], "terminal.register", t.terminal_id,
                             t.model_dump()) as db:
                db.execute("INSERT INTO terminals (terminal_id, account, plan, home_country, "
                           "whitelisted, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (t.terminal_id, t.account, t.plan, t.home_country,
                            json.dumps(t.whitelisted), now, now))
        except Exception as exc:
            if is_conflict(exc):
                raise HTTPException(409, f"terminal '{t.terminal_id}' is already "
                                         "registered") from None
            raise
        return _terminal_row(t.terminal_id)

    @app.get("/v1/terminals")
    def terminals(_: Viewer, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
                  offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0) -> list[dict]:
        rows = store.query("SELECT terminal_id FROM terminals ORDER BY terminal_id LIMIT ? "
                           "OFFSET ?", (max(0, min(limit, 10_000)), max(0, offset)))
        return [_terminal_row(r["terminal_id"]) for r in rows]

    @app.get("/v1/terminals/{terminal_id}")
    def terminal(terminal_id: str, _: Viewer) -> dict:
        return _terminal_row(terminal_id)

    @app.patch("/v1/terminals/{terminal_id}")
    def update_plan(terminal_id: str, body: PlanIn, user: Operator) -> dict:
        _terminal_row(terminal_id)
        _check_terminal(body)
        with store.write(user["actor"], "terminal.plan", terminal_id, body.model_dump()) as db:
            db.execute("UPDATE terminals SET plan = ?, updated_at = ? WHERE terminal_id = ?",
                       (body.plan, time.time_ns(), terminal_id))
        return _terminal_row(terminal_id)

    @app.put("/v1/terminals/{terminal_id}/whitelist")
    def whitelist(terminal_id: str, body: WhitelistIn, user: Operator) -> dict:
        row = _terminal_row(terminal_id)
        _check_terminal(body)
        regions = set(row["whitelisted"])
        (regions.add if body.registered else regions.discard)(body.region)
        with store.write(user["actor"], "terminal.whitelist", terminal_id,
                         body.model_dump()) as db:
            db.execute("UPDATE terminals SET whitelisted = ?, updated_at = ? WHERE "
                       "terminal_id = ?", (json.dumps(sorted(regions)), time.time_ns(),
                                           terminal_id))
        return _terminal_row(terminal_id)

    @app.post("/v1/terminals/{terminal_id}/deactivate")
    def deactivate(terminal_id: str, body: DeactivateIn, user: Operator) -> dict:
        _terminal_row(terminal_id)
        with store.write(user["actor"], "terminal.deactivate", terminal_id,
                         body.model_dump()) as db:
            db.execute("UPDATE terminals SET deactivated_at = ?, deactivation_reason = ?, "
                       "updated_at = ? WHERE terminal_id = ?",
                       (time.time_ns(), body.reason, time.time_ns(), terminal_id))
        return _terminal_row(terminal_id)

    def _request_row(rid: int) -> dict:
        rows = store.query("SELECT * FROM requests WHERE id = ?", (rid,))
        if not rows:
            raise HTTPException(404, f"request {rid} does not exist")
        r = rows[0]
        r["change"] = json.loads(r["change"])
        for k in ("requested_at", "effective_at", "until", "decided_at"):
            r[k] = ns_to_iso(r[k]) if r[k] else None
        return r

    @app.post("/v1/policy/requests", status_code=201)
    def file_request(body: RequestIn, user: Operator) -> dict:
        try:
            change = Change.model_validate(body.change)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise HTTPException(422, f"change: {err['msg'].removeprefix('Value error, ')} at "
                                     f"{'.'.join(map(str, err['loc'])) or 'change'}") from None
        body_ = change.body
        doc = engine().doc
        for attr in ("region", "from_", "into"):
            name = getattr(body_, attr, None)
            if name is not None and not region_known(doc, name):
                raise HTTPException(422, f"unknown region '{name}'")
        now = time.time_ns()
        eff = body.effective_at or now
        if eff < now - 10**9 * 60:
            raise HTTPException(422, "effective_at is in the past: a request takes effect when "
                                     "or after it is filed")
        if body.until is not None and body.until <= eff:
            raise HTTPException(422, "until must be after effective_at")
        with store.write(user["actor"], "policy.request", None, body.model_dump()) as db:
            rid = db.insert("INSERT INTO requests (requested_at, effective_at, until, "
                            "requested_by, reason, change) VALUES (?, ?, ?, ?, ?, ?)",
                            (now, eff, body.until, body.requested_by or user["actor"],
                             body.reason, json.dumps(change.model_dump(exclude_none=True,
                                                                       by_alias=True))))
        return _request_row(rid)

    @app.get("/v1/policy/requests")
    def list_requests(_: Viewer) -> list[dict]:
        rows = store.query("SELECT id FROM requests ORDER BY id")
        return [_request_row(r["id"]) for r in rows]

    @app.post("/v1/policy/requests/{rid}/decision")
    def decide_request(rid: RequestId, body: DecideIn, user: Admin) -> dict:
        row = _request_row(rid)
        if row["status"] != "pending":
            raise HTTPException(409, f"request {rid} was already {row['status']}")
        with store.write(user["actor"], "policy.decision", str(rid), body.model_dump()) as db:
            db.execute("UPDATE requests SET status = ?, decided_by = ?, decided_at = ?, "
                       "decision_reason = ? WHERE id = ? AND status = 'pending'",
                       (body.decision, user["actor"], time.time_ns(), body.reason, rid))
        return _request_row(rid)

    @app.get("/v1/policy")
    def policy(_: Viewer, as_of: Annotated[str | None, Query()] = None) -> dict:
        raw = as_of
        try:
            t = parse_time(raw) if raw else time.time_ns()
        except InputError as exc:
            raise HTTPException(422, f"as_of: {exc.message}") from None
        doc = engine().doc
        state = policy_as_of(doc, t)
        pending = [_request_row(r["id"]) for r in
                   store.query("SELECT id FROM requests WHERE status = 'pending' ORDER BY id")]
        return {
            "as_of": ns_to_iso(t), "default_status": state.default_status,
            "status": state.status, "cells": state.cells,
            "speed_caps_kmh": state.speed_caps, "altitude_caps_m": state.altitude_caps,
            "in_motion_bans": sorted(state.in_motion_bans),
            "whitelist_required": sorted(state.whitelist_required),
            "deactivated": state.deactivated,
            "refused": [{"id": x.id, "requested_at": ns_to_iso(x.requested_at),
                         "requested_by": x.requested_by, "decided_by": x.decided_by,
                         "reason": x.reason} for x in refused_until(doc, t)],
            "pending": pending,
        }

    @app.get("/v1/audit")
    def audit(_: Admin, after: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
              limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> list[dict]:
        rows = store.query("SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?",
                           (after, max(1, min(limit, 10_000))))
        for r in rows:
            r["at"] = ns_to_iso(r["at"])
            r["payload"] = json.loads(r["payload"])
        return rows

    @app.get("/v1/satellites")
    def satellites(_: Viewer, at: Annotated[str | None, Query(alias="time")] = None,
                   track_min: Annotated[int, Query(ge=0, le=120)] = 0) -> dict:
        """Sub-satellite points at t; with ``track_min`` > 0 also each satellite's ground
        track from t to t + track_min minutes, one point a minute (``track_lat_deg``,
        ``track_lon_deg``: one list per satellite)."""
        raw = at
        try:
            t = parse_time(raw) if raw else time.time_ns()
        except InputError as exc:
            raise HTTPException(422, f"time: {exc.message}") from None
        eph = _positions(loaded, t)
        out = {"time": ns_to_iso(t), "sat_id": eph["ids"],
               "lat_deg": np.round(eph["lat"], 4).tolist(),
               "lon_deg": np.round(eph["lon"], 4).tolist(),
               "alt_km": np.round(eph["alt"], 2).tolist()}
        if track_min:
            lat, lon = _track(loaded, t, track_min)
            out["track_lat_deg"] = np.round(lat, 3).tolist()
            out["track_lon_deg"] = np.round(lon, 3).tolist()
        return out

    @app.get("/v1/scenario")
    def scenario_info(_: Viewer) -> dict:
        """The loaded scenario: name, description and its time window (for the time slider)."""
        from leotwin.timegrid.grid import TimeGrid

        s = loaded.scenario
        grid = TimeGrid.from_span(s.time.start, s.time.duration, s.time.step)
        return {"name": s.name, "description": s.description,
                "start": ns_to_iso(int(grid.ns[0])), "end": ns_to_iso(int(grid.ns[-1])),
                "step_s": (int(grid.ns[1] - grid.ns[0]) / 1e9) if grid.count > 1 else 0.0,
                "regions": list(s.ground.regions),
                "min_elevation_deg": s.ground.min_elevation_deg}

    @app.get("/v1/gateways")
    def gateway_links(_: Viewer, at: Annotated[str | None, Query(alias="time")] = None) -> dict:
        """Gateways and, at t, their feeder links: every satellite above a gateway's mask
        (elevation from the WGS-84 topocentric frame, Vallado Alg. 27)."""
        t = _at(at, "time")
        gw, site, up = _gateway_geometry()
        pos = _positions(loaded, t)
        sin_el = _sin_elevation(pos["r"][None, :, :], site[:, None, :], up[:, None, :])
        el = np.degrees(np.arcsin(np.clip(sin_el, -1.0, 1.0)))
        g_idx, s_idx = np.nonzero(el >= gw.min_elevation_deg[:, None])
        return {"time": ns_to_iso(t), "gateway_id": gw.ids,
                "lat_deg": np.round(gw.lat_deg, 4).tolist(),
                "lon_deg": np.round(gw.lon_deg, 4).tolist(),
                "links": [[int(g), pos["ids"][int(k)], round(float(pos["lat"][k]), 4),
                           round(float(pos["lon"][k]), 4), round(float(el[g, k]), 2)]
                          for g, k in zip(g_idx, s_idx, strict=True)]}

    def _at(raw: str | None, name: str) -> int:
        try:
            return parse_time(raw) if raw else time.time_ns()
        except InputError as exc:
            raise HTTPException(422, f"{name}: {exc.message}") from None

    @app.get("/v1/cells")
    def cells(_: Viewer, at: Annotated[str | None, Query(alias="time")] = None,
              boundaries: bool = False) -> dict:
        """The scenario's coverage cells at t: satellites above the mask and policy status;
        with ``boundaries`` also each H3 cell's polygon (``boundary``: [[lon, lat], …])."""
        from leotwin.analysis.counting import CellCounter
        from leotwin.policy.vocabulary import STATUSES

        t = _at(at, "time")
        e = engine()
        out = {"time": ns_to_iso(t), "h3_cell": [], "region": [], "lat_deg": [],
               "lon_deg": [], "visible": [], "status": []}
        r = _positions(loaded, t)["r"]
        for name, cset in _cell_sets(loaded, e):
            counter = CellCounter(cset, loaded.scenario.ground.min_elevation_deg)
            visible = counter.counts(r[np.isfinite(r).all(axis=1)])
            status_code = e.status_at(t, cset.lat_deg, cset.lon_deg)
            out["h3_cell"] += cset.ids
            out["region"] += [name] * len(cset)
            out["lat_deg"] += np.round(cset.lat_deg, 4).tolist()
            out["lon_deg"] += np.round(cset.lon_deg, 4).tolist()
            out["visible"] += visible.astype(int).tolist()
            out["status"] += [STATUSES[c] for c in status_code]
        if boundaries:
            import h3

            out["boundary"] = [[[round(lon, 4), round(lat, 4)]
                                for lat, lon in h3.cell_to_boundary(c)]
                               for c in out["h3_cell"]]
        return out

    @app.get("/v1/terminals-decisions")
    def terminal_decisions(_: Viewer, at: Annotated[str | None, Query(alias="time")] = None
                           ) -> list[dict]:
        """Every scenario terminal with a position, decided at t, with reasons."""
        t = _at(at, "time")
        e = engine()
        placed = [x for x in e.terminals if x.lat is not None and x.lon is not None]
        if not placed:
            return []
        allowed, reasons = e.decide([x.id for x in placed], [x.lat for x in placed],
                                    [x.lon for x in placed], [x.alt_m for x in placed],
                                    [x.speed_kmh for x in placed], [t] * len(placed))
        from leotwin.policy.reasons import reason_names

        return [{"terminal_id": x.id, "lat_deg": x.lat, "lon_deg": x.lon,
                 "speed_kmh": x.speed_kmh, "actual_user": x.actual_user,
                 "allowed": bool(allowed[k]), "reasons": reason_names(int(reasons[k]))}
                for k, x in enumerate(placed)]

    @app.get("/v1/rtt")
    def rtt_series(_: Viewer, terminal_id: str, start: str, duration: str = "30m",
                   step: str = "15s") -> dict:
        """RTT to the PoP over time for a scenario terminal (at most 480 instants)."""
        from leotwin.ground.sites import GroundSites, gateways, pops
        from leotwin.network.access import AccessNetwork, slot_starts
        from leotwin.network.routing import rtt_ms
        from leotwin.orbits import PropagationOptions, propagate
        from leotwin.sim.assemble import satellites_of
        from leotwin.timegrid.grid import TimeGrid

        term = next((x for x in engine().terminals if x.id == terminal_id
                     and x.lat is not None), None)
        if term is None:
            raise HTTPException(404, f"no scenario terminal '{terminal_id}' with a position")
        try:
            grid = TimeGrid.from_span(start, duration, step)
        except InputError as exc:
            raise HTTPException(422, str(exc)) from None
        if grid.count > 480:
            raise HTTPException(422, f"{grid.count} instants asked for: at most 480")
        sats, edges = satellites_of(loaded)
        mask = loaded.scenario.ground.min_elevation_deg
        site = GroundSites([term.id], np.array([term.lat]), np.array([term.lon]),
                           np.array([term.alt_m / 1000.0]), np.array([mask]))
        net = AccessNetwork(len(sats), site, gateways(), pops(), edges)
        r = propagate(sats, grid, PropagationOptions(geodetic=False)).r_km
        starts = slot_starts(grid.ns)
        values = []
        for i in range(grid.count):
            length = net.step(r[:, i], int(grid.ns[i]), bool(starts[i])).length_km[0]
            values.append(float(rtt_ms(length)) if np.isfinite(length) else None)
        return {"terminal_id": term.id, "time": [ns_to_iso(int(x)) for x in grid.ns],
                "rtt_ms": values, "pop": net.pops.ids[int(net.pop_of[0])]}

    @app.get("/v1/policy/log")
    def policy_log(_: Viewer) -> list[dict]:
        """Every log entry in force or refused (scenario and API), for the timeline."""
        return [{"id": x.id, "requested_at": ns_to_iso(x.requested_at),
                 "effective_at": ns_to_iso(x.effective),
                 "until": ns_to_iso(x.until) if x.until else None,
                 "requested_by": x.requested_by, "decided_by": x.decided_by,
                 "decision": x.decision, "reason": x.reason, "change": x.change.kind}
                for x in engine().doc.policy.log]

    _mount_dashboard(app)
    app.state.store = store
    app.state.loaded = loaded
    return app


def app_from_env() -> FastAPI:
    """The application of one worker of ``leotwin serve --workers N`` (uvicorn factory):
    scenario and database from $LEOTWIN_SERVE_SCENARIO and $LEOTWIN_SERVE_DB."""
    import os

    return create_app(os.environ["LEOTWIN_SERVE_SCENARIO"], os.environ["LEOTWIN_SERVE_DB"])


def _mount_dashboard(app: FastAPI) -> None:
    """The web dashboard at ``/`` (files in ``service/dashboard``), MapLibre GL JS from the
    project's ``node_modules`` (npm, pinned in package-lock.json) at ``/vendor/``, and the
    Natural Earth countries (built from npm world-atlas) at ``/vendor/countries.geojson``.
    Every URL the page loads is on this server: it works with no network."""
    from importlib.resources import files

    from fastapi.responses import FileResponse, HTMLResponse, Response

    here = Path(__file__).parent / "dashboard"
    assets = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}

    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse((here / "index.html").read_text(encoding="utf-8"))

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        if name not in assets:
            raise HTTPException(404, "no such file")
        return FileResponse(here / name, media_type=assets[name])

    @app.get("/vendor/{name}", include_in_schema=False)
    def vendor(name: str) -> Response:
        if name == "countries.geojson":
            path = files("leotwin") / "data" / "regions" / "countries-50m.geojson"
            return Response(path.read_bytes(), media_type="application/geo+json")
        kinds = {"maplibre-gl.js": "text/javascript", "maplibre-gl.css": "text/css"}
        if name not in kinds:
            raise HTTPException(404, "no such file")
        root = maplibre_dir()
        if root is None:
            raise HTTPException(503, "MapLibre GL JS is not installed: run `npm ci` in the "
                                     "leotwin checkout (or set LEOTWIN_NODE_MODULES)")
        return FileResponse(root / name, media_type=kinds[name])


def maplibre_dir() -> Path | None:
    """``node_modules/maplibre-gl/dist``: from $LEOTWIN_NODE_MODULES, else the checkout's."""
    import os

    candidates = [Path(os.environ["LEOTWIN_NODE_MODULES"])] if os.environ.get(
        "LEOTWIN_NODE_MODULES") else []
    candidates += [p / "node_modules" for p in Path(__file__).resolve().parents]
    for base in candidates:
        dist = base / "maplibre-gl" / "dist"
        if (dist / "maplibre-gl.js").is_file():
            return dist
    return None


_TRACK_CACHE: dict = {}


def _track(loaded: LoadedScenario, t: int, minutes: int) -> tuple[np.ndarray, np.ndarray]:
    """Geodetic latitude/longitude (deg) of every satellite at t, t+1 min, …, t+minutes
    (SGP4, TEME→ITRF as in ``orbits.propagate``); arrays (N, minutes + 1)."""
    from leotwin.orbits import PropagationOptions, propagate
    from leotwin.sim.assemble import satellites_of
    from leotwin.timegrid.grid import TimeGrid

    key = (loaded.source, t // 10**9, minutes)
    if key not in _TRACK_CACHE:
        if len(_TRACK_CACHE) > 16:
            _TRACK_CACHE.clear()
        sats, _ = satellites_of(loaded)
        eph = propagate(sats, TimeGrid(t, 60 * 10**9, minutes + 1), PropagationOptions())
        _TRACK_CACHE[key] = (eph.lat_deg, eph.lon_deg)
    return _TRACK_CACHE[key]


_CELL_CACHE: dict = {}


def _cell_sets(loaded: LoadedScenario, e: PolicyEngine):
    from leotwin.ground.cells import cover

    key = loaded.source
    if key not in _CELL_CACHE:
        res = loaded.scenario.ground.h3_res
        _CELL_CACHE[key] = [(name, cover(e.region(name), res))
                            for name in loaded.scenario.ground.regions]
    return _CELL_CACHE[key]


_POS_CACHE: dict = {}


def _positions(loaded: LoadedScenario, t: int) -> dict:
    """Satellite ITRF positions and geodetic coordinates at one instant (cached per second)."""
    from leotwin.orbits import PropagationOptions, propagate
    from leotwin.sim.assemble import satellites_of
    from leotwin.timegrid.grid import TimeGrid

    key = (loaded.source, t // 10**9)
    if key not in _POS_CACHE:
        if len(_POS_CACHE) > 64:
            _POS_CACHE.clear()
        sats, _ = satellites_of(loaded)
        eph = propagate(sats, TimeGrid(t, 1, 1), PropagationOptions())
        _POS_CACHE[key] = {"ids": sats.ids, "r": eph.r_km[:, 0], "lat": eph.lat_deg[:, 0],
                           "lon": eph.lon_deg[:, 0], "alt": eph.alt_km[:, 0]}
    return _POS_CACHE[key]


@cache
def _gateway_geometry() -> tuple:
    """The bundled gateways, their ITRF positions (km) and their local 'up' unit vectors (the
    WGS-84 ellipsoid normal at geodetic latitude φ, longitude λ: (cos φ cos λ, cos φ sin λ,
    sin φ)), parsed once per process."""
    from leotwin.geodesy import geodetic_to_ecef
    from leotwin.ground.sites import gateways

    gw = gateways()
    return gw, geodetic_to_ecef(gw.lat_deg, gw.lon_deg, gw.alt_km), _up(gw.lat_deg, gw.lon_deg)


def _up(lat_deg, lon_deg) -> np.ndarray:
    phi, lam = np.radians(lat_deg), np.radians(lon_deg)
    return np.stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)], -1)


def _sin_elevation(r_sat: np.ndarray, site: np.ndarray, up: np.ndarray) -> np.ndarray:
    """sin(elevation) of satellites at ``r_sat`` (…, 3) from sites at ``site`` with unit
    normal ``up``: ρ·û / |ρ|, ρ = r_sat − site (Vallado Alg. 27, the 'up' component of SEZ)."""
    rho = r_sat - site
    return (rho * up).sum(-1) / np.sqrt((rho * rho).sum(-1))


def _serving(loaded: LoadedScenario, d: DecisionIn) -> tuple[str | None, str | None]:
    """The highest satellite above the terminal's mask, and the gateway that sees it best
    (a bent-pipe view; paths over ISLs are in ``network.access``)."""
    from leotwin.geodesy import geodetic_to_ecef

    pos = _positions(loaded, d.time)
    sin_mask = np.sin(np.radians(loaded.scenario.ground.min_elevation_deg))
    site = geodetic_to_ecef(d.lat, d.lon, d.alt_m / 1000.0)
    sin_el = _sin_elevation(pos["r"], site, _up(d.lat, d.lon))
    sin_el = np.where(np.isfinite(sin_el), sin_el, -1.0)  # decayed satellites never serve
    best = int(np.argmax(sin_el))
    if sin_el[best] < sin_mask:
        return None, None
    gw, gsite, gup = _gateway_geometry()
    g_el = _sin_elevation(pos["r"][best], gsite, gup)
    ok = g_el >= np.sin(np.radians(gw.min_elevation_deg))
    gateway = gw.ids[int(np.argmax(np.where(ok, g_el, -2.0)))] if ok.any() else None
    return pos["ids"][best], gateway


def _policy_file(loaded: LoadedScenario, store: Store) -> PolicyFile:
    """The scenario's policy and registry plus what the API granted and registered."""
    s = loaded.scenario
    terminals = {t.id: t for t in s.terminals}
    log = list(s.policy.log)
    for r in store.query("SELECT * FROM terminals"):
        terminals[r["terminal_id"]] = Terminal(
            id=r["terminal_id"], account=r["account"], plan=r["plan"],
            home_country=r["home_country"],
            whitelisted=json.loads(r["whitelisted"]))
        if r["deactivated_at"]:
            log.append(LogEntry(id=f"api-deactivate-{r['terminal_id']}",
                                requested_at=r["deactivated_at"], requested_by="operator",
                                decided_by="operator", decision="granted",
                                reason=r["deactivation_reason"] or "",
                                change={"deactivate": {"terminal": r["terminal_id"],
                                                       "why": r["deactivation_reason"] or ""}}))
    for r in store.query("SELECT * FROM requests WHERE status IN ('granted', 'refused')"):
        log.append(LogEntry(id=f"api-request-{r['id']}", requested_at=r["requested_at"],
                            effective_at=max(r["effective_at"] or r["requested_at"],
                                             r["requested_at"]),
                            until=r["until"], requested_by=r["requested_by"],
                            decided_by=r["decided_by"] or "", decision=r["status"],
                            reason=r["decision_reason"] or "", change=json.loads(r["change"])))
    return PolicyFile(name=s.name, regions=s.regions, terminals=list(terminals.values()),
                      policy=s.policy.model_copy(update={"log": log}))
