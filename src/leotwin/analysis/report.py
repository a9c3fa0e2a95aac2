"""``report.html``: a self-contained page (figures embedded as PNG, no network needed).

Contents: the main numbers with units; maps of the coverage regions' H3 cells coloured by
covered fraction and by policy status at the window's end, over the bundled country outlines;
the policy log as a timeline (granted and refused; detections); RTT to the PoP over time and its
distribution for the routed terminals; the enforcement table.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from leotwin.policy.vocabulary import STATUSES

#: one colour per policy status, in the order of ``policy.vocabulary.STATUSES``: active green,
#: not licensed grey, inactive red, blacklisted black, waitlisted amber, test blue
STATUS_COLOURS = dict(zip(STATUSES, ("#2e7d32", "#9e9e9e", "#c62828", "#000000", "#f9a825",
                                     "#1565c0"), strict=True))


def _subplots(figsize: tuple[float, float]):
    """A figure and its axes without pyplot: no global state, no backend to select (PNG comes
    from Agg through ``Figure.savefig``), safe in threads."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _countries(ax, bounds) -> None:
    from leotwin.ground.regions import countries

    west, south, east, north = bounds
    for region in countries().regions:
        b = region.bounds
        if b[2] < west or b[0] > east or b[3] < south or b[1] > north:
            continue
        for poly in region.geometry.geoms:
            x, y = poly.exterior.xy
            ax.plot(x, y, color="#555555", linewidth=0.5)


def cell_map(coverage, column: str, title: str, status: bool = False,
             palette: dict[str, str] | None = None) -> str:
    """A map of H3 cells coloured by ``column`` (a category with ``status``, from ``palette``:
    the policy statuses' colours unless given; else a 0…1 fraction)."""
    import h3

    fig, ax = _subplots(figsize=(8, 5.5))
    polys = [[(lon, lat) for lat, lon in h3.cell_to_boundary(c)]
             for c in coverage["h3_cell"]]
    palette = STATUS_COLOURS if palette is None else palette
    if status:
        colours = [palette.get(v, "#ff00ff") for v in coverage[column]]
        coll = PolyCollection(polys, facecolors=colours, edgecolors="none")
        for name, colour in palette.items():
            if name in set(coverage[column]):
                ax.plot([], [], "s", color=colour, label=name)
        ax.legend(loc="lower left", fontsize=8)
    else:
        coll = PolyCollection(polys, array=np.asarray(coverage[column], float), cmap="viridis",
                              edgecolors="none")
        coll.set_clim(0, 1)
        fig.colorbar(coll, ax=ax, label="covered fraction of instants")
    ax.add_collection(coll)
    lons = np.array([p[0] for poly in polys for p in poly])
    lats = np.array([p[1] for poly in polys for p in poly])
    pad = 1.0
    bounds = (lons.min() - pad, lats.min() - pad, lons.max() + pad, lats.max() + pad)
    _countries(ax, bounds)
    ax.set_xlim(bounds[0], bounds[2])
    ax.set_ylim(bounds[1], bounds[3])
    ax.set_aspect(1 / np.cos(np.radians(lats.mean())))
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    ax.set_title(title)
    return _png(fig)


def timeline(log) -> str:
    """One row per entry of the scenario's log; the deactivations that detection rules
    decided — thousands in a national run — share one row, a mark at each."""
    times = log["effective_at"]
    mine = [k for k in np.argsort(times) if log["origin"][k] != "detection"]
    detected = [times[k] for k in range(len(times)) if log["origin"][k] == "detection"]
    rows = len(mine) + bool(detected)
    fig, ax = _subplots(figsize=(9, 0.45 * max(4, rows) + 1))
    for row, k in enumerate(mine):
        granted = log["decision"][k] == "granted"
        colour = "#2e7d32" if granted else "#c62828"
        ax.plot(times[k], row, "o" if granted else "x", color=colour, markersize=8)
        ax.text(times[k], row + 0.25, f" {log['id'][k]} ({log['change_kind'][k]}, "
                f"{log['decision'][k]})", fontsize=7, color=colour)
    if detected:
        row = len(mine)
        ax.plot(detected, [row] * len(detected), "|", color="#6a1b9a", markersize=10)
        ax.text(min(detected), row + 0.25, f" {len(detected):,} deactivations by detection "
                "rules", fontsize=7, color="#6a1b9a")
    ax.set_yticks([])
    ax.set_title("policy log: granted (●), refused (×), detections (purple), by time in force "
                 "as granted")
    fig.autofmt_xdate()
    return _png(fig)


def rtt_plots(rtt) -> tuple[str, str]:
    fig, ax = _subplots(figsize=(9, 4))
    fig2, ax2 = _subplots(figsize=(9, 3.5))
    for tid in sorted(set(rtt["terminal_id"])):
        sel = np.array(rtt["terminal_id"]) == tid
        t = np.array(rtt["time"])[sel]
        v = np.array(rtt["rtt_ms"], dtype=float)[sel]
        ax.plot(t, v, linewidth=0.8, label=tid)
        ok = np.isfinite(v)
        if ok.any():
            label = f"{tid} (median {np.median(v[ok]):.1f})"
            ax2.hist(v[ok], bins=40, histtype="step", label=label)
    for a in (ax, ax2):
        a.legend(fontsize=7)
    ax.set_ylabel("RTT to PoP (ms, propagation only)")
    ax.set_title("RTT over time")
    fig.autofmt_xdate()
    ax2.set_xlabel("RTT (ms)")
    ax2.set_ylabel("instants")
    ax2.set_title("RTT distribution")
    return _png(fig), _png(fig2)


def write_report(folder: str | Path) -> Path:
    folder = Path(folder)
    summary = json.loads((folder / "summary.json").read_text())
    coverage = pq.read_table(folder / "coverage.parquet").to_pydict()
    log = pq.read_table(folder / "policy_log.parquet").to_pydict()
    # entries granted later than the time they asked for (tables before #12 lack the column)
    late = [i for i, (a, b) in enumerate(zip(log["effective_at"],
                                             log.get("requested_effective_at") or [],
                                             strict=False)) if b is not None and a != b]
    log["effective_at"] = np.array([np.datetime64(t.replace(tzinfo=None), "ns")
                                    for t in log["effective_at"]])
    rtt = pq.read_table(folder / "rtt.parquet").to_pydict()
    rtt["time"] = [np.datetime64(t.replace(tzinfo=None), "ns") for t in rtt["time"]]
    e = summary["enforcement"]
    parts = [f"<h1>leotwin run: {html.escape(summary['scenario'])}</h1>",
             f"<p>{html.escape(summary.get('description') or '')}</p>",
             "<h2>Main numbers</h2><table>"]
    numbers = [("window", f"{summary['start']} → {summary['end']}, step {summary['step_s']:g} s "
                          f"({summary['instants']} instants)"),
               ("constellation", f"{summary['constellation']} ({summary['satellites']:,} "
                                 "satellites)"),
               ("terminals", f"{summary['terminals']:,}"),
               ("terminal-time allowed", percent(summary["decisions"]["allowed_fraction"])),
               ("deactivations by detection", str(summary["decisions"]["deactivations"])),
               ("RTT to PoP, median / p95", f"{_num(summary['rtt_ms']['median'])} / "
                                             f"{_num(summary['rtt_ms']['p95'])} ms")]
    for name, c in summary["coverage"].items():
        numbers.append((f"coverage {name}", f"{percent(c['covered_fraction'])} of area-time; "
                        f"mean {c['mean_visible']:.1f} satellites ≥ mask; longest gap "
                        f"{c['max_gap_s']:.0f} s; {c['cells']:,} cells, {c['area_km2']:,.0f} km²; "
                        f"active area at end {percent(c['active_area_fraction_at_end'])}"))
    parts += [f"<tr><th>{html.escape(a)}</th><td>{html.escape(b)}</td></tr>" for a, b in numbers]
    parts.append("</table><h2>Enforcement</h2><table id='enforcement'>"
                 "<tr><th>measure</th><th>value</th></tr>")
    ttd = e["time_to_deactivation_s"]
    rows = [("unauthorized terminal-time blocked", percent(e["unauthorized_blocked"])),
            ("authorized terminal-time blocked (collateral)", percent(e["collateral_authorized"])),
            ("civilian terminal-time blocked (collateral)", percent(e["collateral_civilian"])),
            ("time from first use attempt to deactivation, median / max",
             f"{_num(ttd['median'])} / {_num(ttd['max'])} s ({ttd['deactivated']} deactivated, "
             f"{ttd['used_and_never_deactivated']} used and never deactivated)")]
    for cls, shares in (e.get("denied_by_reason") or {}).items():
        if cls != "unauthorized" and shares:
            rows.append((f"{cls} terminal-time denied, by reason",
                         ", ".join(f"{html.escape(r)} {percent(v)}" for r, v in
                                   sorted(shares.items(), key=lambda kv: -kv[1]))))
    parts += [f"<tr><td>{a}</td><td>{b}</td></tr>" for a, b in rows]
    parts.append("</table>")
    if summary.get("capacity"):
        parts += capacity_section(summary["capacity"])
    if coverage["h3_cell"]:
        parts.append("<h2>Coverage</h2>")
        parts.append(img_tag(cell_map(coverage, "covered_fraction", "H3 cells: covered fraction"),
                          "coverage map"))
        parts.append(img_tag(cell_map(coverage, "status_at_end", "H3 cells: policy status at the "
                                   "end of the window", status=True), "policy status map"))
    parts.append("<h2>Policy log</h2>")
    parts.append("<p>Each entry at the time it took effect as granted: the later of the time "
                 "it asked for and the time it was decided (the policy in force at a time "
                 "folds only what was decided by then).</p>")
    if late:
        parts.append("<p>Granted later than asked: " + ", ".join(
            html.escape(str(log["id"][i])) for i in late) + ".</p>")
    parts.append(img_tag(timeline(log), "policy timeline"))
    if rtt["time"]:
        over, dist = rtt_plots(rtt)
        parts += ["<h2>Round-trip time</h2>", img_tag(over, "RTT over time"),
                  img_tag(dist, "RTT distribution")]
    if summary.get("sources"):
        parts.append("<h2>Sources</h2><ul>" + "".join(f"<li>{html.escape(x)}</li>"
                                                      for x in summary["sources"]) + "</ul>")
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>leotwin — "
            f"{html.escape(summary['scenario'])}</title><style>body{{font-family:sans-serif;"
            "max-width:1000px;margin:auto}}table{{border-collapse:collapse}}td,th{{border:1px "
            "solid #ccc;padding:4px 8px;text-align:left}}img{{max-width:100%}}</style></head>"
            "<body>" + "\n".join(parts) + "</body></html>")
    path = folder / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def capacity_section(c: dict) -> list[str]:
    """The capacity figures (``sim.capacity_summary``): the network's load, and per policy
    phase and user class what was carried, what was not, and what the policy kept unasked."""
    out = ["<h2>Capacity</h2><table id='capacity'>"]
    rows = [("slots allocated", f"{c['instants']:,} ({c['rows']:,} cell rows)"),
            ("cell-slots limited by a resource", percent(c["congested_cell_instants"])),
            ("busy-hour utilisation of the cells' beams, mean",
             percent(c["busy_hour_utilisation_mean"])),
            ("downlink carried, mean", f"{c['carried_down_mbps']:,.0f} Mbps"),
            ("demand not carried", percent(c["unmet_down_share"])),
            ("busy-hour speed test down / up, median",
             f"{_num(c['speedtest_down_busy_p50_mbps'])} / "
             f"{_num(c['speedtest_up_busy_p50_mbps'])} Mbps"),
            ("unauthorized demand blocked by the policy",
             f"{c['enforcement']['unauthorized_demand_blocked_mbps']:,.0f} Mbps"),
            ("legitimate demand blocked with it (collateral)",
             f"{c['enforcement']['collateral_demand_blocked_mbps']:,.0f} Mbps")]
    out += [f"<tr><th>{html.escape(a)}</th><td>{html.escape(b)}</td></tr>" for a, b in rows]
    out.append("</table><p>By policy phase (the window cut where a granted change takes "
               "effect) and user class: the mean per allowed terminal, the share of demand "
               "not carried, and the demand of the denied.</p><table id='capacity-phases'>"
               "<tr><th>from</th><th>class</th><th>allowed terminals</th><th>throughput "
               "down (Mbps)</th><th>not carried</th><th>blocked demand (Mbps)</th></tr>")
    for phase in c.get("phases", []):
        for cls, v in phase["by_class"].items():
            out.append(f"<tr><td>{html.escape(phase['from'])}</td><td>{html.escape(cls)}</td>"
                       f"<td>{v['allowed_terminals']:,.0f}</td>"
                       f"<td>{_num(v['throughput_down_mbps'])}</td>"
                       f"<td>{percent(v['unmet_down_share'])}</td>"
                       f"<td>{v['blocked_demand_down_mbps']:,.0f}</td></tr>")
    out.append("</table>")
    return out


def img_tag(data: str, alt: str) -> str:
    return f"<img alt='{alt}' src='data:image/png;base64,{data}'>"


def percent(x) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def _num(x) -> str:
    return "—" if x is None else f"{x:.1f}"
