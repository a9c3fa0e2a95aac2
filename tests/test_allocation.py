"""The tiered max-min allocation against an independent optimum: a sequence of linear
programmes solved by HiGHS (scipy.optimize.linprog), terminal by terminal; and its properties
on larger instances (capacities, demands, no waste, tier order)."""

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from leotwin.traffic.allocation import allocate


def network_instance(rng):
    """Cells → satellites → gateways (and now and then a shared laser): terminals of random
    tiers and demands, one flow per terminal; a cell's and a satellite's capacities are
    spectrum (MHz), used at 1/spectral efficiency of the cell per Mbps."""
    n_cells, n_sats, n_gw = rng.integers(1, 5), rng.integers(1, 4), rng.integers(1, 3)
    sat_of_cell = rng.integers(0, n_sats, n_cells)
    gw_of_sat = rng.integers(0, n_gw, n_sats)
    laser = rng.random(n_sats) < 0.3  # these satellites reach their gateway over one laser
    n_res = n_cells + n_sats + n_gw + 1
    cap = np.concatenate([rng.uniform(20, 400, n_cells), rng.uniform(30, 600, n_sats),
                          rng.uniform(50, 800, n_gw), rng.uniform(20, 300, 1)])
    rows, coef = [], []
    tiers, demand = [], []
    se = rng.uniform(1.0, 5.11, n_cells)
    for c in range(n_cells):
        for _ in range(rng.integers(1, 4)):
            s = sat_of_cell[c]
            r = [c, n_cells + s, n_cells + n_sats + gw_of_sat[s]]
            a = [1 / se[c], 1 / se[c], 1.0]
            if laser[s]:
                r.append(n_res - 1)
                a.append(1.0)
            rows.append(r)
            coef.append(a)
            tiers.append(rng.integers(0, 3))
            demand.append(rng.choice([rng.uniform(1, 50), rng.uniform(50, 500), 0.0],
                                     p=[0.45, 0.5, 0.05]))
    return _csr(rows, n_res, coef), cap, np.array(demand), np.array(tiers)


def random_instance(rng):
    """Arbitrary routes: each flow crosses a random subset of the resources."""
    n_flows, n_res = rng.integers(1, 9), rng.integers(1, 6)
    rows = [list(np.flatnonzero(rng.random(n_res) < 0.5)) for _ in range(n_flows)]
    coef = [list(rng.uniform(0.1, 3.0, len(r))) for r in rows]
    cap = rng.uniform(1, 300, n_res)
    cap[rng.random(n_res) < 0.1] = 0.0
    return (_csr(rows, n_res, coef), cap, rng.uniform(0, 200, n_flows),
            rng.integers(0, 3, n_flows))


def _csr(rows, n_res, coef=None):
    indptr = np.cumsum([0] + [len(r) for r in rows])
    idx = np.array([i for r in rows for i in r], dtype=np.int64)
    data = np.ones(len(idx)) if coef is None else np.array([a for c in coef for a in c])
    return csr_matrix((data, idx, indptr), shape=(len(rows), n_res))


def lp_lexicographic(route, cap, demand, tier):
    """Lexicographic max-min by tier from linear programmes only: per tier, maximise the
    common level t of the unfrozen terminals; freeze those that cannot exceed t (each one an
    LP of its own); repeat.  Independent of the progressive filling under test."""
    a = route.toarray()
    n = len(demand)
    x = np.zeros(n)
    fixed = np.zeros(n, bool)
    for k in sorted(set(tier.tolist())):
        fixed |= (tier == k) & (demand <= 0)
        free = (tier == k) & ~fixed
        while free.any():
            def bounds(t_lo, t_hi, fixed=fixed, k=k):
                b = []
                for i in range(n):
                    if fixed[i]:
                        b.append((x[i], x[i]))
                    elif tier[i] == k:
                        b.append((0.0, demand[i]))
                    else:
                        b.append((0.0, 0.0))  # lower tiers come later
                return [*b, (t_lo, t_hi)]
            a_ub = [np.r_[a[:, r], 0.0] for r in range(a.shape[1])]
            b_ub = list(cap)
            for i in np.flatnonzero(free):
                row = np.zeros(n + 1)
                row[i], row[n] = -1.0, 1.0  # t <= x_i
                a_ub.append(row)
                b_ub.append(0.0)
            a_ub, b_ub = np.array(a_ub), np.array(b_ub)
            c = np.zeros(n + 1)
            c[n] = -1.0
            res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds(0, None), method="highs")
            assert res.status == 0
            t = res.x[n]
            frozen_now = []
            for i in np.flatnonzero(free):
                if demand[i] <= t * (1 + 1e-9) + 1e-9:
                    frozen_now.append(i)
                    continue
                c = np.zeros(n + 1)
                c[i] = -1.0
                r = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds(t, t), method="highs")
                assert r.status == 0
                if r.x[i] <= t * (1 + 1e-7) + 1e-7:
                    frozen_now.append(i)
            assert frozen_now
            for i in frozen_now:
                x[i] = min(t, demand[i])
                fixed[i] = True
                free[i] = False
    return x


@pytest.mark.parametrize("kind", ["network", "random"])
def test_allocation_equals_the_linear_programmes(kind):
    rng = np.random.default_rng(15 if kind == "network" else 16)
    make = network_instance if kind == "network" else random_instance
    for _ in range(120):  # 240 instances in all
        route, cap, demand, tier = make(rng)
        got = allocate(route, cap, demand, tier).rate
        want = lp_lexicographic(route, cap, demand, tier)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6 * max(1.0, cap.max()))


def test_weights_are_terminals_of_one_flow():
    """A flow of weight w is w identical terminals: the same rates as w separate flows."""
    rng = np.random.default_rng(3)
    for _ in range(50):
        route, cap, demand, tier = network_instance(rng)
        w = rng.integers(1, 5, len(demand))
        rows = np.repeat(np.arange(len(demand)), w)
        expanded = allocate(route[rows], cap, demand[rows], tier[rows]).rate
        grouped = allocate(route, cap, demand, tier, w).rate
        np.testing.assert_allclose(grouped[rows], expanded, rtol=1e-9, atol=1e-9)


def test_properties_on_larger_instances():
    """Never above a capacity or a demand; no capacity idle while a demand it could carry is
    unmet; a higher tier never worse off than a lower one on the same route."""
    rng = np.random.default_rng(7)
    for _ in range(40):
        n_flows, n_res = 400, 60
        k = rng.integers(1, 5, n_flows)
        rows = [list(rng.choice(n_res, size=m, replace=False)) for m in k]
        route = _csr(rows, n_res, [list(rng.uniform(0.2, 1.0, len(r))) for r in rows])
        cap = rng.uniform(10, 2000, n_res)
        demand = rng.exponential(40, n_flows)
        tier = rng.integers(0, 4, n_flows)
        w = rng.integers(1, 30, n_flows).astype(float)
        out = allocate(route, cap, demand, tier, w)
        load = route.T @ (out.rate * w)
        assert np.all(load <= cap * (1 + 1e-9) + 1e-9)
        np.testing.assert_allclose(load, out.used, rtol=1e-9, atol=1e-6)
        assert np.all(out.rate <= demand * (1 + 1e-12) + 1e-12)
        assert np.all(out.rate >= 0)
        # every unmet flow crosses a saturated resource (its bottleneck)
        unmet = out.rate < demand * (1 - 1e-9)
        saturated = load >= cap * (1 - 1e-7)
        assert np.all(out.bottleneck[unmet] >= 0)
        assert np.all(saturated[out.bottleneck[unmet]])
        for f in np.flatnonzero(unmet):
            assert saturated[route[f].indices].any()
        # tier order on identical routes: the higher tier gets its demand or at least as much
        key = {}
        for f, r in enumerate(rows):
            key.setdefault(tuple(sorted(r)), []).append(f)
        for group in key.values():
            for i in group:
                for j in group:
                    if tier[i] < tier[j]:
                        assert (out.rate[i] >= min(demand[i], out.rate[j]) * (1 - 1e-9))


def test_max_min_fair_within_a_tier_on_one_resource():
    """Hand-checkable: 100 Mbps shared by demands 10, 40, 80 → 10, 45, 45."""
    route = _csr([[0], [0], [0]], 1)
    out = allocate(route, np.array([100.0]), np.array([10.0, 40.0, 80.0]), np.zeros(3, int))
    np.testing.assert_allclose(out.rate, [10, 40, 50])
    out = allocate(route, np.array([100.0]), np.array([10.0, 60.0, 80.0]), np.zeros(3, int))
    np.testing.assert_allclose(out.rate, [10, 45, 45])
    # strict priority: tier 0 first
    out = allocate(route, np.array([100.0]), np.array([70.0, 60.0, 80.0]), np.array([1, 0, 1]))
    np.testing.assert_allclose(out.rate, [20, 60, 20])
