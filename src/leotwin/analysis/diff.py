"""Compare two runs: which cells, terminals and routed terminals changed, and how.

Cells are matched by (region, H3 cell): covered fraction, mean visible satellites and the policy
status at the end of the window.  A cell *gains service* when its status turns to ``active``
(and *loses* it the other way).  Terminals are matched by id: the share of instants allowed.
Routed terminals: median RTT to the PoP, over the instants where they were allowed service.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from leotwin.errors import InputError
from leotwin.policy.vocabulary import ACTIVE

CHANGE_COLOURS = {"gains service": "#2e7d32", "loses service": "#c62828",
                  "status changed": "#f9a825", "coverage changed": "#1565c0"}

TABLES = ("summary.json", "coverage.parquet", "terminals.parquet", "rtt.parquet",
          "decisions.parquet")


def check_run(path: Path, option: str) -> Path:
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"'{path}' is not a results directory (leotwin run … --out DIR)",
                         source=option)
    for name in TABLES:
        if not (path / name).exists():
            raise InputError(f"'{path}' has no {name}: is it a complete leotwin run?",
                             source=option)
    return path


def _allowed_rtt(run: Path) -> dict[str, float]:
    rtt = pq.read_table(run / "rtt.parquet").to_pydict()
    dec = pq.read_table(run / "decisions.parquet",
                        columns=["terminal_id", "from", "to", "allowed"]).to_pydict()
    allowed: dict[str, list[tuple]] = {}  # terminal → its allowed intervals [from, to)
    for tid, a, b, ok in zip(dec["terminal_id"], dec["from"], dec["to"], dec["allowed"],
                             strict=True):
        if ok:
            allowed.setdefault(str(tid), []).append((a, b))
    out: dict[str, list] = {}
    for t, tid, v in zip(rtt["time"], rtt["terminal_id"], rtt["rtt_ms"], strict=True):
        if (any(a <= t < b for a, b in allowed.get(tid, ())) and v is not None
                and np.isfinite(v)):
            out.setdefault(tid, []).append(v)
    return {k: float(np.median(v)) for k, v in out.items()}


def diff_runs(a: Path, b: Path) -> dict:
    a, b = check_run(a, "RUN_A"), check_run(b, "RUN_B")
    ca = pq.read_table(a / "coverage.parquet").to_pydict()
    cb = pq.read_table(b / "coverage.parquet").to_pydict()
    key_a = {(r, c): k for k, (r, c) in enumerate(zip(ca["region"], ca["h3_cell"], strict=True))}
    cells = []
    for k, (r, c) in enumerate(zip(cb["region"], cb["h3_cell"], strict=True)):
        j = key_a.get((r, c))
        if j is None:
            continue
        sa, sb = ca["status_at_end"][j], cb["status_at_end"][k]
        d_cov = cb["covered_fraction"][k] - ca["covered_fraction"][j]
        if sa != sb or abs(d_cov) > 1e-12:
            cells.append({"region": r, "h3_cell": c, "lat_deg": cb["lat_deg"][k],
                          "lon_deg": cb["lon_deg"][k], "status_a": sa, "status_b": sb,
                          "covered_a": ca["covered_fraction"][j],
                          "covered_b": cb["covered_fraction"][k],
                          "mean_visible_b": cb["mean_visible"][k],
                          "change": ("gains service" if sb == ACTIVE != sa else
                                     "loses service" if sa == ACTIVE != sb else
                                     "status changed" if sa != sb else "coverage changed")})
    ta = pq.read_table(a / "terminals.parquet").to_pydict()
    tb = pq.read_table(b / "terminals.parquet").to_pydict()
    frac_a = dict(zip(ta["terminal_id"], ta["allowed_fraction"], strict=True))
    terminals = []
    for tid, fb, user in zip(tb["terminal_id"], tb["allowed_fraction"], tb["actual_user"],
                             strict=True):
        fa = frac_a.get(tid)
        if fa is not None and abs(fb - fa) > 1e-12:
            terminals.append({"terminal_id": tid, "actual_user": user, "allowed_a": fa,
                              "allowed_b": fb})
    ra, rb = _allowed_rtt(a), _allowed_rtt(b)
    routed = [{"terminal_id": t, "median_rtt_ms_a": ra.get(t), "median_rtt_ms_b": rb.get(t)}
              for t in sorted(set(ra) | set(rb))]
    sa = json.loads((a / "summary.json").read_text())
    sb = json.loads((b / "summary.json").read_text())
    return {"a": str(a), "b": str(b), "scenario_a": sa["scenario"], "scenario_b": sb["scenario"],
            "cells": cells, "terminals": terminals, "routed": routed,
            "counts": {c: sum(1 for x in cells if x["change"] == c)
                       for c in ("gains service", "loses service", "status changed",
                                 "coverage changed")},
            "enforcement_a": sa["enforcement"], "enforcement_b": sb["enforcement"]}


def diff_html(d: dict) -> str:
    from leotwin.analysis.report import cell_map, img_tag, percent

    parts = [f"<h1>leotwin diff: {html.escape(d['scenario_a'])} → "
             f"{html.escape(d['scenario_b'])}</h1>",
             f"<p>A = {html.escape(d['a'])}, B = {html.escape(d['b'])}</p>",
             "<h2>Cells</h2><ul>" + "".join(f"<li>{k}: {v}</li>" for k, v in
                                              d["counts"].items()) + "</ul>"]
    if d["cells"]:
        status = {"h3_cell": [c["h3_cell"] for c in d["cells"]],
                  "change": [c["change"] for c in d["cells"]]}
        parts.append(img_tag(cell_map(status, "change", "cells that changed", status=True,
                                      palette=CHANGE_COLOURS), "diff map"))
        parts.append("<table id='cells'><tr><th>cell</th><th>region</th><th>change</th>"
                     "<th>status A → B</th><th>covered A → B</th></tr>" + "".join(
                         f"<tr><td>{c['h3_cell']}</td><td>{html.escape(c['region'])}</td>"
                         f"<td>{c['change']}</td><td>{c['status_a']} → {c['status_b']}</td>"
                         f"<td>{percent(c['covered_a'])} → {percent(c['covered_b'])}</td></tr>"
                         for c in d["cells"][:500]) + "</table>")
    parts.append("<h2>Terminals whose service changed</h2><table id='terminals'><tr><th>"
                 "terminal</th><th>actual user</th><th>allowed A</th><th>allowed B</th></tr>"
                 + "".join(f"<tr><td>{html.escape(t['terminal_id'])}</td><td>"
                           f"{t['actual_user'] or '—'}</td><td>{percent(t['allowed_a'])}</td>"
                           f"<td>{percent(t['allowed_b'])}</td></tr>" for t in d["terminals"][:500])
                 + "</table>")
    parts.append("<h2>RTT of routed terminals (median over allowed instants)</h2><table "
                 "id='rtt'><tr><th>terminal</th><th>A (ms)</th><th>B (ms)</th></tr>" + "".join(
                     f"<tr><td>{html.escape(r['terminal_id'])}</td><td>"
                     f"{_fmt(r['median_rtt_ms_a'])}</td><td>{_fmt(r['median_rtt_ms_b'])}</td>"
                     "</tr>" for r in d["routed"]) + "</table>")
    ea, eb = d["enforcement_a"], d["enforcement_b"]
    parts.append("<h2>Enforcement</h2><table><tr><th>measure</th><th>A</th><th>B</th></tr>" +
                 "".join(f"<tr><td>{k}</td><td>{percent(ea[k])}</td><td>{percent(eb[k])}</td></tr>"
                         for k in ("unauthorized_blocked", "collateral_authorized",
                                   "collateral_civilian")) + "</table>")
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>leotwin diff</title>"
            "<style>body{font-family:sans-serif;max-width:1000px;margin:auto}table{border-"
            "collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px}img{max-width:100%}"
            "</style></head><body>" + "\n".join(parts) + "</body></html>")


def _fmt(x) -> str:
    return "—" if x is None else f"{x:.1f}"
