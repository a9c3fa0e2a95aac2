"""``summary.json``'s ``capacity`` section, from the capacity pass (``sim.capacity``)."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from leotwin.timegrid.grid import ns_to_iso


def capacity_summary(capacity: dict, labels: list, columns: dict[str, np.ndarray]) -> dict:
    """``summary.json``'s ``capacity``: the pass's size, congestion, speed tests, and by user
    class what was carried and what the policy kept from being asked (Mbps, means over the
    allocated instants) — the enforcement metrics in capacity terms: the unauthorized demand a
    policy blocks and the legitimate demand it blocks with it (collateral)."""
    plan, sums = capacity["plan"], capacity["sums"]
    n_eval = max(1, len(plan.instants))
    lab = np.array([x or "" for x in labels], dtype=object)

    def mean(x: np.ndarray, sel: np.ndarray) -> float | None:
        ok = sel & np.isfinite(x)
        return round(float(x[ok].mean()), 3) if ok.any() else None

    def median(x: np.ndarray, sel: np.ndarray) -> float | None:
        ok = sel & np.isfinite(x)
        return round(float(np.median(x[ok])), 3) if ok.any() else None

    everyone = np.ones(len(lab), bool)
    by_class: dict[str, dict] = {}
    for c in sorted(set(lab.tolist()) - {""}):
        sel = lab == c
        by_class[c] = {
            "terminals": int(sel.sum()),
            "throughput_down_mbps": mean(columns["throughput_down_mbps"], sel),
            "speedtest_down_busy_p50_mbps": median(columns["speedtest_down_busy_mbps"], sel),
            "carried_down_mbps": round(float(sums["rate_down"][sel].sum() / n_eval), 3),
            "blocked_demand_down_mbps": round(float(sums["denied_down"][sel].sum() / n_eval), 3),
        }
    rows = max(1, capacity["rows"])

    def blocked(*classes: str) -> float:
        return round(sum(by_class[c]["blocked_demand_down_mbps"] for c in classes
                         if c in by_class), 3)

    return {
        "phases": _phases(capacity, plan),
        "instants": len(plan.instants), "rows": capacity["rows"],
        "congested_cell_instants": round(capacity["congested"] / rows, 6),
        "busy_hour_utilisation_mean": (round(capacity["busy_utilisation"]
                                             / capacity["busy_rows"], 6)
                                       if capacity["busy_rows"] else None),
        "carried_down_mbps": round(float(sums["rate_down"].sum() / n_eval), 3),
        "throughput_down_mbps": mean(columns["throughput_down_mbps"], everyone),
        "unmet_down_share": mean(columns["unmet_down_share"], everyone),
        "speedtest_down_busy_p50_mbps": median(columns["speedtest_down_busy_mbps"], everyone),
        "speedtest_up_busy_p50_mbps": median(columns["speedtest_up_busy_mbps"], everyone),
        "by_class": by_class,
        "enforcement": {"unauthorized_demand_blocked_mbps": blocked("unauthorized"),
                        "collateral_demand_blocked_mbps": blocked("authorized", "civilian")},
    }


def _phases(capacity: dict, plan) -> list[dict]:
    """The window cut at every granted change that takes effect inside it: per phase and user
    class, the mean allowed terminals, Mbps carried, throughput per allowed terminal and the
    share of their demand not carried, and the Mbps the denied would have asked — what a
    policy change frees, and for whom."""
    series, ns = capacity["series"], plan.grid.ns[plan.instants]
    if not len(ns):
        return []
    cuts = sorted({t for t in capacity["changes"] if ns[0] < t <= ns[-1]})
    edges = [int(ns[0]), *cuts, int(ns[-1]) + 1]
    out = []
    for a, b in pairwise(edges):
        sel = (ns >= a) & (ns < b)
        if not sel.any():
            continue
        by_class = {}
        for j, c in enumerate(plan.classes):
            if not c:
                continue
            allowed = float(series["allowed"][sel, j].mean())
            carried = float(series["carried_down"][sel, j].mean())
            asked = float(series["demand_down"][sel, j].mean())
            by_class[c] = {
                "allowed_terminals": round(allowed, 3),
                "carried_down_mbps": round(carried, 3),
                "throughput_down_mbps": round(carried / allowed, 3) if allowed else None,
                "unmet_down_share": round(1.0 - carried / asked, 6) if asked else None,
                "blocked_demand_down_mbps": round(float(series["blocked_down"][sel, j].mean()),
                                                  3)}
        out.append({"from": ns_to_iso(int(ns[sel][0])), "instants": int(sel.sum()),
                    "by_class": by_class})
    return out
