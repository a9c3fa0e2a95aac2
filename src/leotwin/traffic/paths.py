"""Each site's path from its serving satellite to its PoP, and traffic spread over gateways.

The path of a site is the shortest one from its serving satellite to its PoP over the instant's
lasers, feeder links and fibre (``network.access.pop_tree``: one reverse Dijkstra per PoP).
Shortest paths send a whole country's traffic to the one gateway nearest its PoP, while the
other gateways around stay idle (four gateways in Japan in the bundled list, one used);
Starlink's routing spreads it.  :func:`spread_gateways` models that as a repair, like
``traffic.assign`` for satellites: while a gateway's pooled feeder capacity is exceeded, the
sites through it whose detour is smallest move, in that order, to their shortest path avoiding
the full gateways (the same search with those gateways' feeder links taken out), as long as
their new gateway has room.  A heuristic, the same on every backend; the allocation over the
resulting paths is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: repair rounds per instant
ROUNDS = 4
LASER, GATEWAY = 2, 3  # kinds, as in ``traffic.slot.KINDS``


@dataclass
class Hops:
    """Per site: its gateway (−1: no path) and distance to its PoP (km); the lasers and the
    gateway on its path as (site, kind, key) rows, keys in the uplink direction."""

    gateway: np.ndarray
    length: np.ndarray
    site: np.ndarray
    kind: np.ndarray
    key: np.ndarray


def follow(sites: np.ndarray, start: np.ndarray, pred: np.ndarray, n: int, g0: int, p0: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Walk ``pred`` (next node toward a PoP) from satellite nodes ``start`` until a gateway:
    (gateway per start, −1 none; hop site, hop kind, hop key)."""
    cur = np.asarray(start, np.int64).copy()
    gateway = np.full(len(cur), -1, np.int64)
    alive = np.ones(len(cur), bool)
    hs_l, hk_l, hv_l = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for _ in range(n + 1):
        idx = np.flatnonzero(alive)
        if not len(idx):
            break
        nxt = pred[cur[idx]]
        isl = (nxt >= 0) & (nxt < n)
        gw = (nxt >= g0) & (nxt < p0)
        alive[idx[~isl]] = False  # a gateway reached, or a dead end
        hs_l.append(sites[idx[isl]])
        hk_l.append(np.full(int(isl.sum()), LASER))
        hv_l.append(cur[idx[isl]] * n + nxt[isl])
        gateway[idx[gw]] = nxt[gw] - g0
        cur[idx[isl]] = nxt[isl]
    hs, hk, hv = np.concatenate(hs_l), np.concatenate(hk_l), np.concatenate(hv_l)
    # a path counts only when it ends at a gateway
    keep = gateway[np.searchsorted(sites, hs)] >= 0 if len(hs) else np.zeros(0, bool)
    reached = gateway >= 0
    hs = np.concatenate([hs[keep], sites[reached]])
    hk = np.concatenate([hk[keep], np.full(int(reached.sum()), GATEWAY)])
    hv = np.concatenate([hv[keep], gateway[reached]])
    return gateway, hs, hk, hv


def site_hops(serving: np.ndarray, site_pop: np.ndarray, trees: dict, n: int, g0: int,
              p0: int) -> Hops:
    """Every site's path on the PoP trees ``trees`` (PoP → (distance, next node))."""
    s = len(serving)
    gateway = np.full(s, -1, np.int64)
    length = np.full(s, np.inf)
    parts: list[list[np.ndarray]] = [[], [], []]
    for p, (dist, pred) in trees.items():
        sites = np.flatnonzero((site_pop == p) & (serving >= 0))
        g, hs, hk, hv = follow(sites, serving[sites], pred, n, g0, p0)
        gateway[sites] = g
        length[sites] = np.where(g >= 0, dist[serving[sites]], np.inf)
        for part, x in zip(parts, (hs, hk, hv), strict=True):
            part.append(x)
    cat = [np.concatenate(x) if x else np.zeros(0, np.int64) for x in parts]
    return Hops(gateway, length, *cat)


def spread_gateways(hops: Hops, serving: np.ndarray, site_pop: np.ndarray,
                    demand: np.ndarray, capacity: np.ndarray, core, n: int, g0: int, p0: int,
                    pop_tree) -> Hops:
    """The repair of the module docstring.  ``demand``: (S,) Mbps per site; ``capacity``:
    (G,) Mbps per gateway; ``core``: the instant's (rows, cols, km) edges; ``pop_tree``: a
    function (core, PoP) → (distance, next node), as ``AccessNetwork.pop_tree``."""
    rows, cols, w = core
    for _ in range(ROUNDS):
        via = hops.gateway >= 0
        load = np.bincount(hops.gateway[via], weights=demand[via], minlength=len(capacity))
        over = load > capacity * (1 + 1e-9)
        if not over[hops.gateway[via]].any():
            break
        full = over | (capacity <= load)
        # the full gateways' feeder links out of this instant's graph
        cut = (rows < n) & (cols >= g0) & (cols < p0)
        cut[cut] = full[cols[cut] - g0]
        reduced = (rows[~cut], cols[~cut], w[~cut])
        moved = np.flatnonzero(via & over[np.maximum(hops.gateway, 0)])
        alt_gw = np.full(len(serving), -1, np.int64)
        alt_len = np.full(len(serving), np.inf)
        alt_parts: dict[int, tuple] = {}
        for p in np.unique(site_pop[moved]).tolist():
            dist, pred = pop_tree(reduced, int(p))
            sites = moved[site_pop[moved] == p]
            g, hs, hk, hv = follow(sites, serving[sites], pred, n, g0, p0)
            alt_gw[sites] = g
            alt_len[sites] = np.where(g >= 0, dist[serving[sites]], np.inf)
            alt_parts[p] = (hs, hk, hv)
        # per overloaded gateway, its sites by detour; shed until the excess is covered
        cand = moved[alt_gw[moved] >= 0]
        if not len(cand):
            break
        detour = alt_len[cand] - hops.length[cand]
        g_now = hops.gateway[cand]
        o = np.lexsort((cand, detour, g_now))
        cand, g_now = cand[o], g_now[o]
        starts = np.flatnonzero(np.r_[True, g_now[1:] != g_now[:-1]])
        seg = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(cand)]))
        cum = np.cumsum(demand[cand])
        before = cum - demand[cand] - np.r_[0.0, cum][starts][seg]
        shed = cand[before < (load - capacity)[g_now]]
        # a new gateway takes them (smallest detour first) while they fit in its room
        g_new = alt_gw[shed]
        o = np.lexsort((shed, alt_len[shed] - hops.length[shed], g_new))
        shed, g_new = shed[o], g_new[o]
        starts = np.flatnonzero(np.r_[True, g_new[1:] != g_new[:-1]])
        seg = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(shed)]))
        cum = np.cumsum(demand[shed])
        taken = cum - np.r_[0.0, cum][starts][seg]
        go = shed[taken <= (capacity - load)[g_new] + 1e-9]
        if not len(go):
            break
        hops = _replace(hops, go, alt_gw, alt_len, alt_parts, site_pop)
    return hops


def _replace(hops: Hops, go: np.ndarray, alt_gw, alt_len, alt_parts: dict, site_pop) -> Hops:
    """``hops`` with the sites ``go`` on their alternative paths."""
    moving = np.zeros(len(hops.gateway), bool)
    moving[go] = True
    keep = ~moving[hops.site]
    site, kind, key = [hops.site[keep]], [hops.kind[keep]], [hops.key[keep]]
    for hs, hk, hv in alt_parts.values():
        take = moving[hs]
        site.append(hs[take])
        kind.append(hk[take])
        key.append(hv[take])
    gateway, length = hops.gateway.copy(), hops.length.copy()
    gateway[go], length[go] = alt_gw[go], alt_len[go]
    return Hops(gateway, length, np.concatenate(site), np.concatenate(kind),
                np.concatenate(key))
