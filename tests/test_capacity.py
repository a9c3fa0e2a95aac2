"""Capacity supply, link efficiency, demand in local time, the cells' spread over satellites, and
one instant's allocation rebuilt independently (brute-force sky, networkx paths, the LP
sequence of test_allocation)."""

import itertools
import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import networkx as nx
import numpy as np
import pytest
from scipy.sparse import csr_matrix

from leotwin.geodesy import enu_basis, geodetic_to_ecef
from leotwin.ground.sites import GroundSites, gateways, pops
from leotwin.links.sky import SiteSky
from leotwin.links.visibility import visible_pairs_brute
from leotwin.network.access import AccessNetwork, nearest_pop
from leotwin.network.isl import plus_grid
from leotwin.orbits import PropagationOptions, propagate
from leotwin.orbits.catalog import get_constellation
from leotwin.timegrid.grid import TimeGrid
from leotwin.traffic.assign import balance
from leotwin.traffic.demand import BUSY_HOURS, diurnal, local_hours, time_zones
from leotwin.traffic.link import spectral_efficiency
from leotwin.traffic.slot import Users, instant_capacity
from leotwin.traffic.supply import PROFILES, Supply, satellite_profiles
from test_allocation import lp_lexicographic


def test_v15_satellite_is_pekhterevs_arithmetic():
    """2,000 MHz × 2 polarisations × 5.11 b/s/Hz = 20.44 Gbps (CAPACITY.md, Pekhterev 2021)."""
    supply = Supply((PROFILES["v1.5"],), (0,))
    assert supply.satellite_mbps()[0] == pytest.approx(2000 * 2 * 5.11)
    assert PROFILES["v1.5"].channel_gbps * 1000 == pytest.approx(240 * 5.11)
    # a cell gets at most 8 channels of 240 MHz
    assert supply.cell_mbps()[0] == pytest.approx(8 * 240 * 5.11)


@pytest.mark.parametrize("beam", [0.956, 1.28, 2.5])
def test_cosmosim_cell_capacity(beam):
    """CosmoSim (IMC 2025): a cell receives at most 8 channels of one beam's capacity."""
    supply = Supply((PROFILES[f"cosmosim-{beam:g}"],), (0,))
    assert supply.cell_mbps()[0] == pytest.approx(8 * beam * 1000)
    assert supply.satellite_mbps()[0] == pytest.approx(48 * beam * 1000)


def test_profiles_by_shell():
    ids = ["starlink-2026-1-00-00", "starlink-2026-E-00-00", "starlink-gen2-A-01-02", "x"]
    profiles, index = satellite_profiles(ids)
    names = [profiles[i].name for i in index]
    assert names == ["v1.5", "v2-mini", "v2-mini", "v1.5"]
    profiles, index = satellite_profiles(ids, default="v3", by_shell={"1": "cosmosim-2.5"})
    assert [profiles[i].name for i in index] == ["cosmosim-2.5", "v2-mini", "v2-mini", "v3"]
    with pytest.raises(ValueError, match="unknown satellite profile"):
        satellite_profiles(ids, default="v9")


def test_link_efficiency_is_shannon_with_free_space_loss():
    for d in (550.0, 700.0, 1100.0, 2000.0):
        snr = 10 ** ((16.0 - 20 * math.log10(d / 550.0)) / 10)
        want = min(5.11, math.log2(1 + snr))
        assert spectral_efficiency(d, 5.11, 16.0) == pytest.approx(want, rel=1e-12)
    # twice the range: 6.02 dB less
    lo = spectral_efficiency(1100.0, 99.0, 10.0)
    assert lo == pytest.approx(math.log2(1 + 10 ** ((10 - 20 * math.log10(2)) / 10)))


def test_local_time_follows_the_zone_rules():
    """Local hours from the IANA zone, daylight saving included, against datetime itself."""
    zones = time_zones([50.45, 40.71, 35.68, -33.87], [30.52, -74.01, 139.69, 151.21])
    assert list(zones) == ["Europe/Kyiv", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
    moments = [datetime(2026, 1, 15, 17, 30, tzinfo=UTC), datetime(2026, 7, 15, 17, 30,
                                                                    tzinfo=UTC)]
    ns = np.array([int(m.timestamp()) * 10**9 for m in moments])
    got = local_hours(zones, ns)
    for i, z in enumerate(zones):
        for j, m in enumerate(moments):
            local = m.astimezone(ZoneInfo(z))
            assert got[i, j] == pytest.approx(local.hour + local.minute / 60)
    assert got[0, 0] == pytest.approx(19.5) and got[0, 1] == pytest.approx(20.5)  # EET/EEST


def test_diurnal_profile():
    h = np.arange(0, 24, 0.25)
    f = diurnal(h)
    busy = (h >= BUSY_HOURS[0]) & (h < BUSY_HOURS[1])
    assert np.all(f[busy] == 1.0) and np.all(f[~busy] < 1.0)
    assert f.min() == pytest.approx(0.15) and h[f.argmin()] == pytest.approx(4.5, abs=1)


def test_balance_relieves_an_overloaded_satellite_without_overloading_another():
    rng = np.random.default_rng(2)
    for _ in range(200):
        s, n = rng.integers(2, 12), rng.integers(2, 6)
        vis = rng.random((n, s)) < 0.7
        si, gi = np.nonzero(vis)
        el = rng.uniform(25, 90, len(si))
        cost = rng.uniform(1.0, 1.6, len(si))
        demand = rng.uniform(0, 100, s)
        cap = rng.uniform(50, 300, n)
        first = np.full(s, -1)
        for c in range(s):  # the highest satellite, brute force
            mine = np.flatnonzero(gi == c)
            if len(mine):
                first[c] = si[mine[np.argmax(el[mine])]]
        out = balance(first, si, gi, el, demand, cost, cap)

        before = _loads(first, si, gi, demand, cost, n)
        after = _loads(out, si, gi, demand, cost, n)
        for c in range(s):  # only to satellites in view
            assert (out[c] == first[c]) or vis[out[c], c]
        # a satellite within capacity before stays within it; no overload grows
        assert np.all((after <= cap + 1e-6) | (after <= before + 1e-6))
        assert np.maximum(after - cap, 0).sum() <= np.maximum(before - cap, 0).sum() + 1e-6


def _loads(assign, si, gi, demand, cost, n):
    """Each satellite's load, site by site."""
    total = np.zeros(n)
    for c in range(len(assign)):
        if assign[c] >= 0:
            k = np.flatnonzero((gi == c) & (si == assign[c]))[0]
            total[assign[c]] += demand[c] * cost[k]
    return total


@pytest.fixture(scope="module")
def instant():
    """Eight cells around Kyiv and Lviv on Gen1 shell 1 at one instant."""
    c = get_constellation("starlink-gen1-shell1")
    sats = c.satellites()
    grid = TimeGrid.from_span("2026-01-15T16:00:00Z", "15s", "15s")
    r = propagate(sats, grid, PropagationOptions(geodetic=False)).r_km[:, 0]
    lat = np.array([50.45, 50.50, 50.35, 50.60, 49.84, 49.90, 49.75, 48.0])
    lon = np.array([30.52, 30.70, 30.30, 30.40, 24.03, 24.20, 23.90, 37.8])
    gw, pp = gateways(), pops()
    pop = nearest_pop(lat, lon, pp)
    sky = SiteSky(geodetic_to_ecef(lat, lon, np.zeros(8)), enu_basis(lat, lon)[2],
                  np.full(8, 25.0), pop)
    one = GroundSites(["p"], lat[:1], lon[:1], np.zeros(1), np.full(1, 25.0))
    access = AccessNetwork(len(sats), one, gw, pp, plus_grid(c))
    return r, sky, access, lat, lon


LIMITS = {"ample": (100.0, 25.6, {0, 1}), "lasers": (3.0, 25.6, {2}),
          "feeders": (100.0, 0.3, {3})}


@pytest.mark.parametrize("ground", list(LIMITS))
def test_one_instant_against_an_independent_rebuild(instant, ground):
    """Cells and satellites saturate; with thin lasers or feeders, those do."""
    r, sky, access, _lat, _lon = instant
    isl, feeder, limits = LIMITS[ground]
    supply = Supply((PROFILES["v1.5"],), (0,) * len(r), isl_gbps=isl, feeder_gbps=feeder)
    # heavy demands so that cells and satellites saturate; three tiers, one terminal each
    f_site = np.repeat(np.arange(8), 3)
    tier = np.tile([0, 1, 2], 8)
    weight = np.ones(24)
    down = np.tile([4000.0, 5000.0, 6000.0], 8)
    users = Users(f_site, tier, weight, down, down / 8, np.full(24, 400.0), np.full(24, 60.0))
    out = instant_capacity(r, sky, access, supply, users, 3, balanced=False)
    # the serving satellite: the highest by brute force
    si, gi, el, rng = visible_pairs_brute(r, sky.index.site_ecef, sky.index.site_up, 25.0)
    for c in range(8):
        mine = np.flatnonzero(gi == c)
        assert out.serving[c] == si[mine[np.argmax(el[mine])]]
        k = mine[np.argmax(el[mine])]
        assert out.efficiency[c] == pytest.approx(spectral_efficiency(rng[k], 5.11))
    # the paths: networkx over this instant's graph, from the serving satellite to the PoP
    rows, cols, w = access.core_edges(r)
    g = nx.DiGraph()
    for a, b, x in zip(rows.tolist(), cols.tolist(), w.tolist(), strict=True):
        g.add_edge(a, b, weight=x)
    g0, p0, n = access.first_gateway_node, access.first_pop_node, len(r)
    tracked = np.zeros(access.g)
    for a, b in zip(rows.tolist(), cols.tolist(), strict=True):
        if a < n and g0 <= b < p0:
            tracked[b - g0] += 1
    res: dict = {}
    cap: list = []

    def rid(key, c):
        if key not in res:
            res[key] = len(cap)
            cap.append(c)
        return res[key]

    routes = []
    for c in range(8):
        s = int(out.serving[c])
        path = nx.shortest_path(g, s, p0 + int(sky.site_pop[c]), weight="weight")
        a = 5.11 / out.efficiency[c]
        route = {rid(("cell", c), 8 * 240 * 5.11): a, rid(("sat", s), 2000 * 2 * 5.11): a}
        for u, v in itertools.pairwise(path):
            if u < n and v < n:
                route[rid(("laser", v, u), isl * 1000)] = 1.0  # downlink: the other way
            elif u < n and g0 <= v < p0:
                route[rid(("gw", v), tracked[v - g0] * feeder * 1000)] = 1.0
        routes.append(route)
    m = np.zeros((24, len(cap)))
    for f in range(24):
        for j, a in routes[f_site[f]].items():
            m[f, j] = a
    want = lp_lexicographic(csr_matrix(m), np.array(cap), down, tier)
    np.testing.assert_allclose(out.down.rate, want, rtol=1e-6, atol=1e-3)
    kinds = set(out.down.bottleneck[out.down.bottleneck >= 0].tolist())
    assert limits <= kinds  # what limits them (indices into slot.KINDS)
    # per site sums
    np.testing.assert_allclose(out.down.allocated.sum(axis=1),
                               np.bincount(f_site, weights=out.down.rate * weight))
    np.testing.assert_allclose(out.down.demand.sum(axis=1), np.bincount(f_site, down * weight))


def test_gateway_spreading_keeps_paths_real_and_loads_within_room(instant):
    """With feeders too thin for the traffic of one gateway, sites move to other gateways:
    every path is still a chain of this instant's links from the serving satellite to its
    gateway, no gateway within its capacity is pushed over it, and the overload shrinks."""
    from leotwin.traffic.paths import site_hops, spread_gateways

    r, sky, access, _lat, _lon = instant
    n, g0, p0 = len(r), access.first_gateway_node, access.first_pop_node
    core = access.core_edges(r)
    rows, cols, _ = core
    edges = set(zip(rows.tolist(), cols.tolist(), strict=True))
    serving = sky.best(r, False)
    trees = {int(p): access.pop_tree(core, int(p)) for p in np.unique(sky.site_pop)}
    before = site_hops(serving, sky.site_pop, trees, n, g0, p0)
    demand = np.full(sky.m, 1000.0)
    feed = (rows < n) & (cols >= g0) & (cols < p0)
    cap = np.bincount(cols[feed] - g0, minlength=access.g) * 900.0
    after = spread_gateways(before, serving, sky.site_pop, demand, cap, core, n, g0, p0,
                            access.pop_tree)

    def loads(h):
        via = h.gateway >= 0
        return np.bincount(h.gateway[via], weights=demand[via], minlength=access.g)

    lb, la = loads(before), loads(after)
    assert (after.gateway != before.gateway).any()  # something moved
    assert np.all((la <= cap + 1e-6) | (la <= lb + 1e-6))
    assert np.maximum(la - cap, 0).sum() < np.maximum(lb - cap, 0).sum()
    for c in range(sky.m):
        lasers = after.key[(after.site == c) & (after.kind == 2)]
        node = int(serving[c])
        for key in lasers.tolist():  # in path order, each a link of this instant
            a, b = divmod(key, n)
            assert a == node and (a, b) in edges
            node = b
        assert (node, g0 + int(after.gateway[c])) in edges
