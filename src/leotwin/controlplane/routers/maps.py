"""Map data for the dashboard: the scenario, satellites, gateways, cells, terminals, RTT."""

from __future__ import annotations

from typing import Annotated

import h3
import numpy as np
from fastapi import APIRouter, HTTPException, Query

from leotwin.controlplane.deps import Context, Viewer, at_time
from leotwin.errors import InputError
from leotwin.network.access import slot_starts
from leotwin.network.routing import rtt_ms
from leotwin.orbits import PropagationOptions, propagate
from leotwin.policy.reasons import reason_names
from leotwin.policy.vocabulary import STATUSES
from leotwin.timegrid.grid import TimeGrid, ns_to_iso

router = APIRouter(prefix="/v1", tags=["map"])
#: instants one RTT series may have (480 = 2 h at the 15-s slot)
MAX_RTT_INSTANTS = 480
#: ground-track length the dashboard may ask for, minutes
MAX_TRACK_MIN = 120
Time = Annotated[str | None, Query(alias="time")]


@router.get("/scenario")
def scenario_info(ctx: Context, _: Viewer) -> dict:
    """The loaded scenario: name, description and its time window (for the time slider)."""
    s = ctx.loaded.scenario
    grid = ctx.loaded.grid()
    return {"name": s.name, "description": s.description,
            "start": ns_to_iso(int(grid.ns[0])), "end": ns_to_iso(int(grid.ns[-1])),
            "step_s": (int(grid.ns[1] - grid.ns[0]) / 1e9) if grid.count > 1 else 0.0,
            "regions": list(s.ground.regions),
            "min_elevation_deg": s.ground.min_elevation_deg}


@router.get("/satellites")
def satellites(ctx: Context, _: Viewer, at: Time = None,
               track_min: Annotated[int, Query(ge=0, le=MAX_TRACK_MIN)] = 0) -> dict:
    """Sub-satellite points at t; with ``track_min`` > 0 also each satellite's ground
    track from t to t + track_min minutes, one point a minute (``track_lat_deg``,
    ``track_lon_deg``: one list per satellite)."""
    t = at_time(at, "time")
    eph = ctx.positions(t)
    out = {"time": ns_to_iso(t), "sat_id": eph["ids"],
           "lat_deg": np.round(eph["lat"], 4).tolist(),
           "lon_deg": np.round(eph["lon"], 4).tolist(),
           "alt_km": np.round(eph["alt"], 2).tolist()}
    if track_min:
        lat, lon = ctx.track(t, track_min)
        out["track_lat_deg"] = np.round(lat, 3).tolist()
        out["track_lon_deg"] = np.round(lon, 3).tolist()
    return out


@router.get("/gateways")
def gateway_links(ctx: Context, _: Viewer, at: Time = None) -> dict:
    """Gateways and, at t, their feeder links: every satellite above a gateway's mask
    (``links.elevation``: the WGS-84 topocentric frame, Vallado Alg. 27)."""
    t = at_time(at, "time")
    gw = ctx.gateways
    pos = ctx.positions(t)
    g_idx, s_idx, el = ctx.feeder_links(t)
    return {"time": ns_to_iso(t), "gateway_id": gw.ids,
            "lat_deg": np.round(gw.lat_deg, 4).tolist(),
            "lon_deg": np.round(gw.lon_deg, 4).tolist(),
            "links": [[int(g), pos["ids"][int(k)], round(float(pos["lat"][k]), 4),
                       round(float(pos["lon"][k]), 4), round(float(e), 2)]
                      for g, k, e in zip(g_idx, s_idx, el, strict=True)]}


@router.get("/cells")
def cells(ctx: Context, _: Viewer, at: Time = None, boundaries: bool = False,
          what_if: bool = False) -> dict:
    """The scenario's coverage cells at t: satellites above the mask and policy status
    (with the what-if requests when ``what_if``); with ``boundaries`` also each H3 cell's
    polygon (``boundary``: [[lon, lat], …])."""
    t = at_time(at, "time")
    engine = ctx.engine(what_if)
    out: dict = {"time": ns_to_iso(t), "h3_cell": [], "region": [], "lat_deg": [],
                 "lon_deg": [], "visible": [], "status": []}
    r = ctx.positions(t)["r"]
    for name, cset, counter in ctx.cell_sets():
        visible = counter.counts(r[np.isfinite(r).all(axis=1)])
        status_code = engine.status_at(t, cset.lat_deg, cset.lon_deg)
        out["h3_cell"] += cset.ids
        out["region"] += [name] * len(cset)
        out["lat_deg"] += np.round(cset.lat_deg, 4).tolist()
        out["lon_deg"] += np.round(cset.lon_deg, 4).tolist()
        out["visible"] += visible.astype(int).tolist()
        out["status"] += [STATUSES[c] for c in status_code]
    if boundaries:
        out["boundary"] = [[[round(lon, 4), round(lat, 4)]
                            for lat, lon in h3.cell_to_boundary(c)]
                           for c in out["h3_cell"]]
    return out


@router.get("/terminals-decisions")
def terminal_decisions(ctx: Context, _: Viewer, at: Time = None,
                       what_if: bool = False) -> list[dict]:
    """Every scenario terminal with a position (populations included), decided at t with
    reasons, a satellite above its mask included (as ``leotwin run`` decides; the path to
    the gateway is judged by ``POST /v1/decisions``)."""
    t = at_time(at, "time")
    engine = ctx.engine(what_if)
    placed = [x for x in engine.terminals if x.lat is not None and x.lon is not None]
    if not placed:
        return []
    lat, lon, alt = (np.array([getattr(x, a) for x in placed], dtype=float)
                     for a in ("lat", "lon", "alt_m"))
    allowed, reasons = engine.decide([x.id for x in placed], lat, lon, alt,
                                     [x.speed_kmh for x in placed], [t] * len(placed),
                                     satellite_in_view=ctx.in_view(lat, lon, alt, t))
    return [{"terminal_id": x.id, "lat_deg": x.lat, "lon_deg": x.lon,
             "speed_kmh": x.speed_kmh, "actual_user": x.actual_user,
             "allowed": bool(allowed[k]), "reasons": reason_names(int(reasons[k]))}
            for k, x in enumerate(placed)]


@router.get("/rtt")
def rtt_series(ctx: Context, _: Viewer, terminal_id: str, start: str, duration: str = "30m",
               step: str = "15s") -> dict:
    """RTT to the PoP over time for a scenario terminal (at most 480 instants), routed by the
    scenario's access network (``network.access``) with its 15-s scheduler slots."""
    term = next((x for x in ctx.engine().terminals if x.id == terminal_id
                 and x.lat is not None), None)
    if term is None:
        raise HTTPException(404, f"no scenario terminal '{terminal_id}' with a position")
    try:
        grid = TimeGrid.from_span(start, duration, step)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    if grid.count > MAX_RTT_INSTANTS:
        raise HTTPException(422, f"{grid.count} instants asked for: at most {MAX_RTT_INSTANTS}")
    assert term.lat is not None and term.lon is not None  # chosen with a position above
    net = ctx.access(term.lat, term.lon, term.alt_m)
    r = propagate(ctx.sats, grid, PropagationOptions(geodetic=False)).r_km
    network = ctx.loaded.scenario.network
    starts = slot_starts(grid.ns, network.slot_period_s, network.slot_offset_s)
    values = []
    for i in range(grid.count):
        length = net.step(r[:, i], int(grid.ns[i]), bool(starts[i])).length_km[0]
        values.append(float(rtt_ms(length)) if np.isfinite(length) else None)
    return {"terminal_id": term.id, "time": [ns_to_iso(int(x)) for x in grid.ns],
            "rtt_ms": values, "pop": net.pops.ids[int(net.pop_of[0])]}
