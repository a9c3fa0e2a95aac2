"""Capacity at one instant: sites' serving satellites, the resources their traffic crosses, and
the tiered allocation of the terminals' demands to them.

For every *site* (an H3 service cell, or a terminal of its own: ``sim.sites``) the serving
satellite is the one the run's assignment rule picks (``links.sky``), and its path to the
site's PoP is the shortest one over the instant's ISLs, feeder links and fibre
(``network.access.pop_tree``).  Its traffic crosses, in this order (``traffic.supply``):

* ``cell``: the beams the site's cell receives from that satellite, min(max channels, beams) ×
  channel;
* ``satellite``: the satellite's total user capacity, shared by every cell it serves;
* ``laser``: each ISL on the path, one resource per direction;
* ``gateway``: the gateway's feeder links, pooled: the satellites it tracks at this instant (at
  most its antennas, ``network.access``) × ``feeder_gbps`` — traffic arriving over the lasers
  may land on any of them (an approximation: a shortest path names one, but the gateway's
  satellites are one laser hop apart and the operator spreads the load).

Cell and satellite resources are counted in Mbps at the satellite's best spectral efficiency;
a site whose link runs at efficiency η (``traffic.link``) uses best/η of them per Mbps.  The
downlink and the uplink are allocated separately (lasers the other way round).  Sites with no
satellite in view or no path get nothing.

The **available** rate of a flow is what one of its terminals would measure in a speed test:
min(peak × η/best, its rate + the headroom of its path) — a terminal's peak is a share of one
user channel, which carries η/best of its best rate on a link at efficiency η — where the
headroom of a resource is what the flow's tier and the tiers above it leave (lower tiers
yield), and a flow held at a saturated resource gets at least that resource's water level (its
fair share).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

from leotwin.links.sky import SiteSky
from leotwin.network.access import AccessNetwork
from leotwin.traffic.allocation import allocate
from leotwin.traffic.assign import balance
from leotwin.traffic.link import ZENITH_SNR_DB, spectral_efficiency
from leotwin.traffic.paths import site_hops, spread_gateways
from leotwin.traffic.supply import Supply

KINDS = ("cell", "satellite", "laser", "gateway")
_SHIFT = np.int64(1) << np.int64(44)


@dataclass
class Users:
    """The terminals of the sites as flows: one per (site, tier, demand) group."""

    site: np.ndarray  # (F,) site index
    tier: np.ndarray  # (F,) 0 = the highest priority
    weight: np.ndarray  # (F,) terminals in the flow
    down_mbps: np.ndarray  # (F,) demand per terminal at this instant
    up_mbps: np.ndarray
    peak_mbps: np.ndarray  # (F,) a speed test's demand
    peak_up_mbps: np.ndarray


@dataclass
class Direction:
    """One direction's allocation: per flow and per site."""

    rate: np.ndarray  # (F,) Mbps per terminal
    available: np.ndarray  # (F,) Mbps a speed test would get
    supply: np.ndarray  # (S,) Mbps the site's cell can receive (at its link efficiency)
    demand: np.ndarray  # (S, K) Mbps asked, by tier
    allocated: np.ndarray  # (S, K) Mbps carried, by tier
    bottleneck: np.ndarray  # (S,) index into KINDS of what limits the site; −1 none
    factor: np.ndarray  # (F,) η/best of the flow's link: the share of its peak it can reach
    ceiling: np.ndarray  # (F,) Mbps the network would give a speed test (inf: unlimited)


@dataclass
class Instant:
    serving: np.ndarray  # (S,) satellite, −1 none
    served: np.ndarray  # (S,) bool: in view and a path to the PoP
    efficiency: np.ndarray  # (S,) b/s/Hz of the site's link
    down: Direction
    up: Direction


def instant_capacity(r_now: np.ndarray, sky: SiteSky, access: AccessNetwork, supply: Supply,
                     users: Users, tiers: int, *, dense: bool | None = None,
                     zenith_snr_db: float = ZENITH_SNR_DB, balanced: bool = True,
                     cell_key: np.ndarray | None = None, core=None) -> Instant:
    """The allocation at the instant of ITRF positions ``r_now`` (N, 3) km (module
    docstring); ``tiers``: the number of tiers reported per site; ``balanced``: overloaded
    satellites shed sites to others in view (``traffic.assign``); ``cell_key``: (S,) the
    service cell of each site as a small integer (sites of one cell share its beams; default:
    a cell each); ``core``: this instant's ``access.core_edges``, when known."""
    n = len(r_now)
    core = access.core_edges(r_now) if core is None else core
    pops = np.unique(sky.site_pop)
    trees = {int(p): access.pop_tree(core, int(p)) for p in pops}
    dense = sky.dense(n) if dense is None else dense
    near = sky.near(r_now[:, None])[:, 0] if dense else None
    to_pop = ({p: t[0] for p, t in trees.items()} if access.rule == "least-latency" else None)
    serving = sky.best(r_now, dense, to_pop, near)
    s = sky.m
    best = supply.spectral_efficiency()
    site_demand = np.bincount(users.site, weights=users.weight * users.down_mbps, minlength=s)
    if balanced and _overloaded(r_now, serving, sky, site_demand, best, supply, zenith_snr_db):
        si, gi, el, rng = sky.visible(r_now, dense, near)
        cost = best[si] / spectral_efficiency(rng, best[si], zenith_snr_db)
        serving = balance(serving, si, gi, el, site_demand, cost,
                          supply.satellite_mbps("down"))
    # satellites each gateway tracks now (its antenna-limited feeder links)
    c_rows, c_cols, _ = core
    g0, p0 = access.first_gateway_node, access.first_pop_node
    feed = (c_rows < n) & (c_cols >= g0) & (c_cols < p0)
    tracked = np.bincount(c_cols[feed] - g0, minlength=access.g)
    hops = site_hops(serving, sky.site_pop, trees, n, g0, p0)
    if balanced:
        hops = spread_gateways(hops, serving, sky.site_pop, site_demand,
                               tracked * supply.feeder_gbps * 1000.0, core, n, g0, p0,
                               access.pop_tree)
    served = hops.gateway >= 0
    cell = np.arange(s) if cell_key is None else np.asarray(cell_key, np.int64)
    on = np.flatnonzero(served)
    rows = np.concatenate([on, on, hops.site]).astype(np.int64)
    kinds = np.concatenate([np.zeros(len(on), np.int64), np.ones(len(on), np.int64),
                            hops.kind]).astype(np.int64)
    keys_up = np.concatenate([cell[on], serving[on], hops.key]).astype(np.int64)
    slant = np.full(s, np.inf)
    ok = serving >= 0
    slant[ok] = np.linalg.norm(r_now[serving[ok]] - sky.index.site_ecef[ok], axis=1)
    eff = np.zeros(s)
    eff[ok] = spectral_efficiency(slant[ok], best[serving[ok]], zenith_snr_db)
    res = _Resources(rows, kinds, keys_up, serving, eff, best, tracked, users, s)
    out = {direction: _direction(direction, res, serving, served, eff, best, supply, users,
                                 tiers, s) for direction in ("down", "up")}
    return Instant(serving, served, eff, out["down"], out["up"])


def _overloaded(r_now: np.ndarray, serving: np.ndarray, sky: SiteSky, demand: np.ndarray,
                best: np.ndarray, supply: Supply, zenith_snr_db: float) -> bool:
    """Whether the rule's choice asks more of some satellite than its capacity (only then are
    the sites spread: the pairs in view are the costly part)."""
    on = np.flatnonzero((serving >= 0) & (demand > 0))
    if not len(on):
        return False
    d = np.linalg.norm(r_now[serving[on]] - sky.index.site_ecef[on], axis=1)
    use = demand[on] * best[serving[on]] / spectral_efficiency(d, best[serving[on]],
                                                               zenith_snr_db)
    load = np.bincount(serving[on], weights=use, minlength=len(best))
    return bool(np.any(load > supply.satellite_mbps("down") * (1 + 1e-9)))


class _Resources:
    """The resources the sites' traffic crosses (as ``KINDS``) and each flow's route over
    them: the same in both directions (a laser's two directions have equal capacities, so
    the downlink, which crosses each laser the other way, shares resources as the uplink
    does)."""

    def __init__(self, rows, kinds, keys, serving, eff, best, tracked, users: Users, s: int):
        # resource ids by kind: the cells, the satellites, the gateways, then the lasers used
        n, g = len(best), len(tracked)
        laser = kinds == 2
        links, which = np.unique(keys[laser], return_inverse=True)
        offset = np.array([0, s, s + n + g, s + n])  # by kind: cell, satellite, laser, gateway
        self.res = offset[kinds] + keys
        self.res[laser] = s + n + g + which.ravel()
        self.kind = np.repeat(np.array([0, 1, 3, 2]), [s, n, g, len(links)])
        self.key = np.r_[np.arange(s), np.arange(n), np.arange(g), links]
        self.rows, self.kinds, self.serving, self.tracked = rows, kinds, serving, tracked
        self.coef = np.ones(len(rows))
        spectrum = kinds <= 1
        with np.errstate(divide="ignore"):
            self.coef[spectrum] = best[serving[rows[spectrum]]] / eff[rows[spectrum]]
        order = np.argsort(rows, kind="stable")
        site_route = csr_matrix((self.coef[order], self.res[order],
                                 np.r_[0, np.cumsum(np.bincount(rows, minlength=s))]),
                                shape=(s, len(self.key)))
        self.route = site_route[users.site]

    def capacity(self, direction: str, supply: Supply) -> np.ndarray:
        """(R,) Mbps of each resource in ``direction`` (spectrum ones at best efficiency)."""
        cap = np.zeros(len(self.kind))
        cell_mbps, sat_mbps = supply.cell_mbps(direction), supply.satellite_mbps(direction)
        # a cell's beams: the most its (first) site's serving satellite gives one cell
        cell_rows = np.flatnonzero(self.kinds == 0)[::-1]
        cap[self.res[cell_rows]] = cell_mbps[self.serving[self.rows[cell_rows]]]
        sel = self.kind == 1
        cap[sel] = sat_mbps[self.key[sel]]
        cap[self.kind == 2] = supply.isl_gbps * 1000.0
        sel = self.kind == 3
        cap[sel] = self.tracked[self.key[sel]] * supply.feeder_gbps * 1000.0
        return cap


def _direction(direction: str, resources: _Resources, serving: np.ndarray,
               served: np.ndarray, eff: np.ndarray, best: np.ndarray, supply: Supply,
               users: Users, tiers: int, s: int) -> Direction:
    cap = resources.capacity(direction, supply)
    route, res, coef, kinds, rows = (resources.route, resources.res, resources.coef,
                                     resources.kinds, resources.rows)
    f_site = users.site
    demand = users.down_mbps if direction == "down" else users.up_mbps
    peak = users.peak_mbps if direction == "down" else users.peak_up_mbps
    demand = np.where(served[f_site], demand, 0.0)
    alloc = allocate(route, cap, demand, users.tier, users.weight)
    rate = alloc.rate
    # headroom per flow: capacity its tier and the ones above leave, per unit, on its path
    pair_flow = np.repeat(np.arange(len(f_site)), np.diff(route.indptr))
    pair_res, pair_a = route.indices, route.data
    w_rate = alloc.rate * users.weight
    tier_c = np.minimum(users.tier, tiers)
    r_n = len(resources.kind)
    used = np.bincount(tier_c[pair_flow] * r_n + pair_res, weights=pair_a * w_rate[pair_flow],
                       minlength=(tiers + 1) * r_n).reshape(tiers + 1, r_n)
    used_upto = np.cumsum(used, axis=0)  # row k: what tiers 0 … k carry on each resource
    room = np.maximum(cap[pair_res] - used_upto[tier_c[pair_flow], pair_res], 0.0) / pair_a
    head = np.full(len(f_site), np.inf)
    filled = np.flatnonzero(np.diff(route.indptr) > 0)  # pairs come by flow (CSR rows)
    if len(filled):
        head[filled] = np.minimum.reduceat(room, route.indptr[filled])
    # a terminal's peak holds at the best efficiency; its link's efficiency scales it
    factor = np.where(served[f_site], eff[f_site] / best[np.maximum(serving[f_site], 0)], 0.0)
    fair = np.where(np.isfinite(alloc.level), alloc.level, 0.0)
    ceiling = np.where(served[f_site], np.maximum(rate + head, fair), 0.0)
    available = np.minimum(peak * factor, ceiling)
    # per site
    site_supply = np.zeros(s)
    cell_rows = kinds == 0
    site_supply[rows[cell_rows]] = cap[res[cell_rows]] / coef[cell_rows]
    site_supply[~served] = 0.0
    slot_of = f_site * tiers + tier_c.clip(0, tiers - 1)
    dem = np.bincount(slot_of, weights=demand * users.weight,
                      minlength=s * tiers).reshape(s, tiers)
    got = np.bincount(slot_of, weights=w_rate, minlength=s * tiers).reshape(s, tiers)
    neck = np.full(s, -1, np.int64)
    limited = alloc.bottleneck >= 0
    kind_of_res = resources.kind.astype(np.int64)
    # a site's bottleneck: that of its flows held back (the highest tier's first)
    order_f = np.flatnonzero(limited)[np.argsort(-users.tier[limited], kind="stable")]
    neck[f_site[order_f]] = kind_of_res[alloc.bottleneck[order_f]]
    return Direction(rate, available, site_supply, dem, got, neck, factor, ceiling)
