"""Tiered max-min fair allocation of shared capacities to flows on fixed routes.

A **flow** is a group of terminals with the same tier, the same demand per terminal and the same
route (the list of resources it crosses: its cell's beams, its satellite, the lasers, the feeder
link and the gateway).  Each resource has a capacity in its own unit, and each flow uses
``a_fr`` of it per Mbps (1 for Mbps resources such as a laser; 1/spectral efficiency, MHz per
Mbps, for the spectrum of a beam or a satellite).  The allocation is

* **strict priority between tiers**: tier 0 is served first on the whole capacity, tier 1 on
  what tier 0 left, and so on (Starlink's Priority > Standard > Roam > Residential Lite order,
  ``traffic.demand``);
* **max-min fair within a tier**: the lexicographic max-min allocation of the terminals' rates
  subject to every resource's capacity and to each terminal's demand (Bertsekas & Gallager,
  *Data Networks*, 2nd ed., §6.5.2, "progressive filling").

Progressive filling raises every unfrozen rate together until a resource saturates or a demand
is met.  It is computed here one **water level** per resource: the level λ_r solving
Σ_f a_fr·w_f·min(d_f, λ) = residual_r over the unfrozen flows on r (sorted demands, prefix sums).
Levels only rise as flows freeze elsewhere (freezing a flow at min(d, λ*) with λ* ≤ λ_r
removes at most what it would have taken at λ_r), so any resource whose level is the lowest
among the resources of all its flows saturates at exactly that level in the sequential
algorithm: every such local minimum is frozen in the same round, and flows whose demand lies
below the levels of all their resources are frozen at their demand.  Each round freezes at
least the global minimum, so the rounds are bounded by the resources; in practice a handful.

All arrays: numpy; routes: a ``scipy.sparse`` CSR matrix (flows × resources).  Checked against
a sequence of linear programmes (``scipy.optimize.linprog``, HiGHS) in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

#: relative slack under which a resource counts as saturated
SATURATED = 1e-9


@dataclass
class Allocation:
    """The result of :func:`allocate`.

    ``rate``: (F,) Mbps per terminal of each flow; ``used``: (R,) Mbps carried by each
    resource; ``level``: (F,) the water level of the flow's bottleneck resource when the flow is
    capacity-limited, ``inf`` when it got its demand; ``bottleneck``: (F,) that resource's
    index, −1 for demand-limited flows."""

    rate: np.ndarray
    used: np.ndarray
    level: np.ndarray
    bottleneck: np.ndarray


def allocate(route: csr_matrix, capacity: np.ndarray, demand: np.ndarray, tier: np.ndarray,
             weight: np.ndarray | None = None) -> Allocation:
    """Strict-priority, max-min fair rates (module docstring).

    ``route``: (F, R) CSR, a_fr > 0 where flow f crosses resource r (units of r per Mbps);
    ``capacity``: (R,) in each resource's unit;
    ``demand``: (F,) Mbps per terminal; ``tier``: (F,) int, 0 the highest priority;
    ``weight``: (F,) terminals per flow (1 each by default)."""
    route = csr_matrix(route)
    route.sum_duplicates()
    n_flows, n_res = route.shape
    capacity = np.asarray(capacity, np.float64)
    demand = np.maximum(np.asarray(demand, np.float64), 0.0)
    tier = np.asarray(tier, np.int64)
    weight = np.ones(n_flows) if weight is None else np.asarray(weight, np.float64)
    if capacity.shape != (n_res,) or demand.shape != (n_flows,) or tier.shape != (n_flows,):
        raise ValueError("route, capacity, demand and tier disagree in size")
    rate = np.zeros(n_flows)
    level = np.full(n_flows, np.inf)
    bottleneck = np.full(n_flows, -1, np.int64)
    residual = capacity.copy()
    # the (flow, resource) pairs of every route, by flow
    pair_flow = np.repeat(np.arange(n_flows), np.diff(route.indptr))
    pair_res = route.indices.astype(np.int64)
    pair_a = route.data.astype(np.float64)
    if np.any(pair_a <= 0):
        raise ValueError("route coefficients must be positive")
    full = np.bincount(pair_res, weights=pair_a * (demand * weight)[pair_flow], minlength=n_res)
    if np.all(full <= capacity * (1.0 - SATURATED)):  # every demand fits: served in full
        rate = np.where(weight > 0, demand, 0.0)
        return Allocation(rate=rate, used=np.bincount(
            pair_res, weights=pair_a * (rate * weight)[pair_flow], minlength=n_res),
            level=level, bottleneck=bottleneck)
    for t in np.unique(tier):
        active = (tier == t) & (demand > 0) & (weight > 0)
        _fill(active, pair_flow, pair_res, pair_a, demand, weight, residual, rate, level,
              bottleneck)
    used = np.bincount(pair_res, weights=pair_a * (rate * weight)[pair_flow], minlength=n_res)
    return Allocation(rate=rate, used=used, level=level, bottleneck=bottleneck)


def _fill(active: np.ndarray, pair_flow: np.ndarray, pair_res: np.ndarray, pair_a: np.ndarray,
          demand: np.ndarray,
          weight: np.ndarray, residual: np.ndarray, rate: np.ndarray, level: np.ndarray,
          bottleneck: np.ndarray) -> None:
    """Progressive filling of one tier's ``active`` flows on ``residual`` (updated in place)."""
    active = active.copy()
    n_res = len(residual)
    while active.any():
        on = active[pair_flow]
        pf, pr, pa = pair_flow[on], pair_res[on], pair_a[on]
        lam = water_levels(pr, demand[pf], pa * weight[pf], residual, n_res)
        # each flow's lowest resource level (inf: no resource limits it)
        mu = np.full(len(active), np.inf)
        np.minimum.at(mu, pf, lam[pr])
        # resources at the lowest level among all their flows' resources (local minima)
        floor = np.full(n_res, np.inf)
        np.minimum.at(floor, pr, mu[pf])
        ready = np.isfinite(lam) & (lam <= floor)
        done = active & (demand <= mu)  # demand below every level: served in full
        hit = np.zeros(len(active), bool)
        hit[pf[ready[pr]]] = True
        hit &= active & ~done
        if not (done.any() or hit.any()):  # cannot happen; guards an endless loop
            raise RuntimeError("progressive filling made no progress")
        rate[done] = demand[done]
        rate[hit] = np.minimum(demand[hit], mu[hit])
        level[hit] = mu[hit]
        # the bottleneck: the lowest-index ready resource at the flow's level
        sel = hit[pf] & ready[pr] & (lam[pr] <= mu[pf])
        best = np.full(len(active), np.iinfo(np.int64).max)
        np.minimum.at(best, pf[sel], pr[sel])
        bottleneck[hit] = best[hit]
        frozen = done | hit
        take = np.bincount(pr, weights=np.where(frozen[pf], pa * (rate * weight)[pf], 0.0),
                           minlength=n_res)
        residual -= take
        np.maximum(residual, 0.0, out=residual)
        active &= ~frozen


def water_levels(res: np.ndarray, demand: np.ndarray, weight: np.ndarray,
                 residual: np.ndarray, n_res: int) -> np.ndarray:
    """(R,) per resource the level λ with Σ w·min(d, λ) = residual over its (flow) pairs
    (``res``, ``demand``, ``weight`` per pair: terminals × units per Mbps); ``inf`` where the
    demands all fit (or no flow uses it).  Vectorised over all resources: pairs sorted by
    (resource, demand), prefix sums within each resource."""
    out = np.full(n_res, np.inf)
    if not len(res):
        return out
    order = np.lexsort((demand, res))
    r, d, w = res[order], demand[order], weight[order]
    starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
    seg = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(r)]))
    wd = np.cumsum(w * d)
    ww = np.cumsum(w)
    base_wd = np.r_[0.0, wd][starts][seg]  # sums before each resource's first pair
    base_w = np.r_[0.0, ww][starts][seg]
    total_w = np.add.reduceat(w, starts)[seg]
    below_wd = np.r_[0.0, wd][:-1] - base_wd  # Σ w·d of the pairs before this one
    below_w = np.r_[0.0, ww][:-1] - base_w
    above_w = total_w - below_w  # weight of this pair and the ones after it
    cap = residual[r]
    fill = below_wd + d * above_w  # the load at λ = d
    over = fill >= cap * (1.0 - SATURATED)
    # the first pair of each resource at which the load reaches the residual
    first = np.flatnonzero(over & np.r_[True, (seg[1:] != seg[:-1]) | ~over[:-1]])
    first = first[np.r_[True, seg[first][1:] != seg[first][:-1]]] if len(first) else first
    lam = (cap[first] - below_wd[first]) / above_w[first]
    out[r[first]] = np.maximum(np.minimum(lam, d[first]), 0.0)
    return out
