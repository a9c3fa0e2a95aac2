"""Cells spread over the satellites in view when the assignment rule's choice overloads one.

The run's rule (``highest-elevation`` or ``least-latency``) gives each site one satellite; over a
city most sites then pick the same one, whose capacity is shared by all of them, while other
satellites in view stay idle.  Starlink's global controller assigns cells to satellites with
their load in mind (FACTS.md §2: a hierarchy, a global controller allocating satellites every
15 s [Tanveer-2023], [Mohan-2024]).  :func:`balance` models it as a few rounds of a greedy
repair, the same on every backend:

1. each satellite's load is the demand of its sites, in Mbps at its best efficiency (a site's
   demand × best/η of the link, ``traffic.link``);
2. an overloaded satellite sheds its lowest-elevation sites until the shed demand covers its
   excess; each moves to the satellite in its view whose load after the move is the lowest
   share of its capacity, provided that share stays ≤ 1 (ties: the higher elevation, then the
   lower index), and a satellite takes the sites that chose it, smallest first, only while
   they fit in its room — so no satellite is ever pushed over its capacity;
3. repeat (:data:`ROUNDS`), with the loads of the previous round.

A heuristic, not an optimum: what the allocation then does with the resulting routes is exact
(``traffic.allocation``).
"""

from __future__ import annotations

import numpy as np

#: repair rounds per instant
ROUNDS = 6


def balance(first: np.ndarray, si: np.ndarray, gi: np.ndarray, el: np.ndarray,
            demand: np.ndarray, cost: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """(S,) each site's satellite after the repair (module docstring).

    ``first``: (S,) the rule's satellite (−1 none); (``si``, ``gi``, ``el``): the visible
    (satellite, site, elevation) pairs (elevation in degrees, or any measure increasing with
    it, such as its sine); ``demand``: (S,) Mbps; ``cost``: per pair the
    satellite capacity a site's Mbps uses there (best/η); ``capacity``: (N,) Mbps."""
    serving = np.asarray(first, np.int64).copy()
    s, n = len(serving), len(capacity)
    if not len(si) or not np.any(demand > 0):
        return serving
    # the pair of each site's current satellite: its cost
    key = gi.astype(np.int64) * n + si
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]

    def pair_of(site: np.ndarray, sat: np.ndarray) -> np.ndarray:
        at = np.searchsorted(key_sorted, site * n + sat)
        return order[np.minimum(at, len(order) - 1)]

    for _ in range(ROUNDS):
        on = np.flatnonzero((serving >= 0) & (demand > 0))
        p = pair_of(on, serving[on])
        use = demand[on] * cost[p]
        load = np.bincount(serving[on], weights=use, minlength=n)
        excess = load - capacity
        over = excess > 1e-9
        if not over[serving[on]].any():
            break
        # the sites an overloaded satellite sheds: lowest elevation first, until the excess
        cand = np.flatnonzero(over[serving[on]])
        sat, elev, u = serving[on][cand], el[p[cand]], use[cand]
        o = np.lexsort((on[cand], elev, sat))
        sat, u, sites = sat[o], u[o], on[cand][o]
        starts = np.flatnonzero(np.r_[True, sat[1:] != sat[:-1]])
        seg = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(sat)]))
        cum = np.cumsum(u)
        before = cum - u - np.r_[0.0, cum][starts][seg]
        shed = sites[before < excess[sat]]
        if not len(shed):
            break
        # their alternatives: every other visible satellite with room after the move
        mark = np.zeros(s, bool)
        mark[shed] = True
        alt = np.flatnonzero(mark[gi] & (si != serving[gi]))
        a_site, a_sat = gi[alt], si[alt]
        after = (load[a_sat] + demand[a_site] * cost[alt]) / np.maximum(capacity[a_sat], 1e-12)
        fit = after <= 1.0
        alt, a_site, a_sat, after = alt[fit], a_site[fit], a_sat[fit], after[fit]
        if not len(alt):
            break
        o = np.lexsort((a_sat, -el[alt], after, a_site))
        alt, a_site, a_sat, after = alt[o], a_site[o], a_sat[o], after[o]
        first_of = np.r_[True, a_site[1:] != a_site[:-1]]
        alt, a_site, a_sat = alt[first_of], a_site[first_of], a_sat[first_of]
        # a satellite takes the sites that chose it while they fit in its room (best first)
        add = demand[a_site] * cost[alt]
        o = np.lexsort((a_site, add, a_sat))
        alt, a_site, a_sat, add = alt[o], a_site[o], a_sat[o], add[o]
        starts = np.flatnonzero(np.r_[True, a_sat[1:] != a_sat[:-1]])
        seg = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(a_sat)]))
        cum = np.cumsum(add)
        taken = cum - np.r_[0.0, cum][starts][seg]
        fits = taken <= capacity[a_sat] - load[a_sat] + 1e-9
        if not fits.any():
            break
        serving[a_site[fits]] = a_sat[fits]
    return serving
