"""Exports of a results directory: GeoJSON, CZML, KML, CCSDS OEM, CSV.

* ``geojson``: RFC 7946 FeatureCollection of the coverage regions (polygons), the coverage cells
  (H3 polygons with coverage and policy status) and the terminals (points with allowed share,
  ground-truth label, deactivation).
* ``czml``: satellite tracks for Cesium (``czml3``), from ``positions.parquet`` (run the scenario
  with ``outputs: {positions: true}``), Earth-fixed (FIXED) Cartesian metres.
* ``kml``: KML 2.2 (standard library): terminals as placemarks, cells as polygons.
* ``oem``: CCSDS 502.0-B-3 Orbit Ephemeris Message, KVN, one segment per satellite, ITRF/UTC, km
  and km/s.
* ``csv``: any table of the run (``--table``).
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import escape

import h3
import numpy as np

from leotwin.errors import InputError
from leotwin.export.check import check_run, read_table
from leotwin.io.atomic import atomic_output
from leotwin.timegrid.grid import ns_to_iso

FORMATS = ("geojson", "czml", "kml", "oem", "csv")
TABLES = ("coverage", "rtt", "decisions", "decision_instants", "cells", "terminals",
          "policy_log", "positions")
#: how to get a table a run writes only on request
ON_REQUEST = {"positions": "outputs: {positions: true}",
              "decision_instants": "outputs: {decisions: instants}"}


def _table(run: Path, name: str):
    path = run / f"{name}.parquet"
    if not path.exists():
        hint = (f" (run the scenario with {ON_REQUEST[name]})" if name in ON_REQUEST else "")
        raise InputError(f"'{run}' has no {name} table{hint}", source="RUN")
    return read_table(run, name)


def export_run(run: Path, fmt: str, out: Path | None = None, table: str | None = None) -> Path:
    run = Path(run)
    if fmt not in FORMATS:
        raise InputError(f"unknown format '{fmt}': expected {', '.join(FORMATS)}",
                         source="--format")
    if fmt == "csv" and table not in TABLES:
        raise InputError(f"give --table, one of {', '.join(TABLES)}", source="--table")
    suffix = {"geojson": ".geojson", "czml": ".czml", "kml": ".kml", "oem": ".oem",
              "csv": ".csv"}[fmt]
    check_run(run)
    out = Path(out) if out else run / f"{table or 'export'}{suffix}"
    writer = {"geojson": _geojson, "czml": _czml, "kml": _kml, "oem": _oem, "csv": _csv}[fmt]
    with atomic_output(out) as tmp:
        writer(run, tmp, table)
    return out


def _cell_ring(cell: str) -> list[list[float]]:
    ring = [[round(lon, 6), round(lat, 6)] for lat, lon in h3.cell_to_boundary(cell)]
    return [*ring, ring[0]]


def _geojson(run: Path, tmp: Path, _) -> None:
    cov = _table(run, "coverage").to_pylist()
    terms = _table(run, "terminals").to_pylist()
    feats = []
    if (run / "regions.geojson").exists():
        feats += json.loads((run / "regions.geojson").read_text())["features"]
    feats += [{"type": "Feature", "geometry": {"type": "Polygon",
                                              "coordinates": [_cell_ring(c["h3_cell"])]},
              "properties": {"kind": "cell", **{k: v for k, v in c.items()
                                                if k not in ("lat_deg", "lon_deg")}}}
             for c in cov]
    for t in terms:
        props = {k: (ns_to_iso(int(v.timestamp() * 1e9)) if hasattr(v, "timestamp") else v)
                 for k, v in t.items() if k not in ("lat_deg", "lon_deg")}
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [
            t["lon_deg"], t["lat_deg"]]}, "properties": {"kind": "terminal", **props}})
    tmp.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))


def _positions(run: Path):
    pos = _table(run, "positions")
    ids = np.array(pos["sat_id"].to_pylist())
    t = pos["time"].cast("int64").to_numpy()
    cols = {c: pos[c].to_numpy() for c in ("x_km", "y_km", "z_km", "vx_km_s", "vy_km_s",
                                            "vz_km_s")}
    return ids, t, cols


def _czml(run: Path, tmp: Path, _) -> None:
    from czml3 import CZML_VERSION, Clock, Document, Packet, Position, TimeInterval
    from czml3 import Path as CzmlPath

    ids, t, c = _positions(run)
    start = ns_to_iso(int(t.min()))
    end = ns_to_iso(int(t.max()))
    packets = [Packet(id="document", name=f"leotwin {run.name}", version=CZML_VERSION,
                      clock=Clock(currentTime=start, interval=TimeInterval(start=start,
                                                                           end=end)))]
    for sat in np.unique(ids):
        sel = ids == sat
        seconds = (t[sel] - t.min()) / 1e9
        xyz = np.column_stack([c["x_km"][sel], c["y_km"][sel], c["z_km"][sel]]) * 1000.0
        values = np.column_stack([seconds, xyz]).ravel().tolist()
        packets.append(Packet(id=str(sat), name=str(sat),
                              position=Position(epoch=start, referenceFrame="FIXED",
                                                cartesian=values),
                              path=CzmlPath()))
    tmp.write_text(Document(packets=packets).dumps())


def _kml(run: Path, tmp: Path, _) -> None:
    cov = _table(run, "coverage").to_pylist()
    terms = _table(run, "terminals").to_pylist()
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>',
           f"<name>{escape(run.name)}</name>"]
    for t in terms:
        out.append(f"<Placemark><name>{escape(t['terminal_id'])}</name><description>allowed "
                   f"{100 * t['allowed_fraction']:.1f} %; actual user "
                   f"{escape(str(t['actual_user']))}</description><Point><coordinates>"
                   f"{t['lon_deg']},{t['lat_deg']},0</coordinates></Point></Placemark>")
    for c in cov:
        ring = " ".join(f"{x},{y},0" for x, y in _cell_ring(c["h3_cell"]))
        out.append(f"<Placemark><name>{c['h3_cell']}</name><description>covered "
                   f"{100 * c['covered_fraction']:.1f} %, status {c['status_at_end']}"
                   "</description><Polygon><outerBoundaryIs><LinearRing><coordinates>"
                   f"{ring}</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>")
    out.append("</Document></kml>")
    tmp.write_text("\n".join(out))


def _oem(run: Path, tmp: Path, _) -> None:
    ids, t, c = _positions(run)
    if np.isnan(c["vx_km_s"]).all():
        raise InputError("the positions table has no velocities; rerun the scenario",
                         source="RUN")
    lines = ["CCSDS_OEM_VERS = 3.0", f"CREATION_DATE = {ns_to_iso(int(t.min()))[:-1]}",
             "ORIGINATOR = leotwin"]
    for sat in np.unique(ids):
        sel = np.flatnonzero(ids == sat)
        sel = sel[np.argsort(t[sel], kind="stable")]
        lines += ["", "META_START", f"OBJECT_NAME = {sat}", f"OBJECT_ID = {sat}",
                  "CENTER_NAME = EARTH", "REF_FRAME = ITRF", "TIME_SYSTEM = UTC",
                  f"START_TIME = {ns_to_iso(int(t[sel[0]]))[:-1]}",
                  f"STOP_TIME = {ns_to_iso(int(t[sel[-1]]))[:-1]}", "META_STOP", ""]
        for i in sel:
            lines.append(f"{ns_to_iso(int(t[i]))[:-1]} " + " ".join(
                f"{c[k][i]:.6f}" for k in ("x_km", "y_km", "z_km", "vx_km_s", "vy_km_s",
                                           "vz_km_s")))
    tmp.write_text("\n".join(lines) + "\n")


def _csv(run: Path, tmp: Path, table: str | None) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from leotwin.export.tables import csv_ready

    assert table is not None  # export_run refuses csv without --table
    tab = _table(run, table)
    for k, field in enumerate(tab.schema):
        if pa.types.is_dictionary(field.type):
            tab = tab.set_column(k, field.name, tab[field.name].cast(pa.string()))
    pacsv.write_csv(csv_ready(tab), tmp)
