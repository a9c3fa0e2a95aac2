"""Each site's serving satellite (``links.sky``) against brute force and the access network,
and the per-cell sites of a run (``sim.sites``)."""

from __future__ import annotations

import h3.api.basic_int as h3i
import numpy as np
import pytest

from leotwin.geodesy import enu_basis, geodetic_to_ecef
from leotwin.links.sky import SiteSky


def _brute(sats, lat, lon, alt_km, mask_deg):
    """Elevation of every satellite from every site, by the textbook formula (einsum)."""
    site = geodetic_to_ecef(lat, lon, alt_km)
    up = enu_basis(lat, lon)[2]
    rho = sats[:, None, :] - site[None, :, :]
    with np.errstate(invalid="ignore"):
        el = np.degrees(np.arcsin(np.einsum("nmk,mk->nm", rho, up)
                                  / np.linalg.norm(rho, axis=-1)))
    el = np.where(np.isfinite(el), el, -90.0)
    return el, el >= np.broadcast_to(mask_deg, (len(lat),))[None, :]


def _shell(rng, n, lo=500.0, hi=600.0):
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    return geodetic_to_ecef(lat, rng.uniform(-180, 180, n), rng.uniform(lo, hi, n))


@pytest.mark.parametrize("spread, expect_dense", [(3.0, True), (180.0, False)])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_highest_satellite_equals_brute_force(seed, spread, expect_dense):
    """Regional sites (the dense method) and sites over the globe (the KD-tree): the satellite
    each site sees highest and whether it sees one equal an independent elevation formula,
    with one mask per site and failed (NaN) satellites."""
    rng = np.random.default_rng(seed)
    m = 300
    lat = np.clip(48.5 + rng.uniform(-spread, spread, m) / 2, -89, 89)
    lon = 31.0 + rng.uniform(-spread, spread, m)
    alt = rng.uniform(0, 2.0, m)
    mask = rng.uniform(10, 40, m)
    sats = _shell(rng, 4000)
    sats[::53] = np.nan
    sky = SiteSky(geodetic_to_ecef(lat, lon, alt), enu_basis(lat, lon)[2], mask)
    dense = sky.dense(len(sats))
    assert dense == expect_dense
    near = sky.near(sats[:, None, :])[:, 0] if dense else None
    got = sky.best(sats, dense, near=near)
    el, vis = _brute(sats, lat, lon, alt, mask)
    margin = np.abs(el - mask[None, :])
    clear = (margin > 1e-9).all(axis=0)  # no satellite on the mask itself
    assert np.array_equal((got >= 0)[clear], vis.any(axis=0)[clear])
    score = np.where(vis, el, -np.inf)
    want = score.argmax(axis=0)
    top2 = np.sort(score, axis=0)[-2:]
    unique_top = (top2[1] - top2[0] > 1e-9) & vis.any(axis=0) & clear
    assert unique_top.sum() > 0.8 * m * (vis.any(axis=0).mean())
    assert np.array_equal(got[unique_top], want[unique_top])
    assert (got >= 0).sum() > 0


def test_least_latency_equals_the_access_network_rule():
    """``least-latency`` per site (range + the PoP's distance from the satellite) picks what
    ``network.access`` assigns a terminal at a slot start, on Starlink Gen1 over Ukraine."""
    from leotwin.ground.sites import GroundSites, gateways, pops
    from leotwin.network.access import AccessNetwork
    from leotwin.network.isl import plus_grid
    from leotwin.orbits import PropagationOptions, get_constellation, propagate
    from leotwin.timegrid import TimeGrid

    c = get_constellation("starlink-gen1")
    sats = c.satellites()
    grid = TimeGrid.from_span("2026-02-09T20:00:00Z", "2m", "1m")
    r = propagate(sats, grid, PropagationOptions(geodetic=False)).r_km
    rng = np.random.default_rng(4)
    m = 120
    lat, lon = rng.uniform(45, 52, m), rng.uniform(23, 40, m)
    terms = GroundSites([f"T{k}" for k in range(m)], lat, lon, np.zeros(m), np.full(m, 25.0))
    net = AccessNetwork(len(sats), terms, gateways(), pops(), plus_grid(c),
                        rule="least-latency")
    sky = SiteSky(geodetic_to_ecef(lat, lon, np.zeros(m)), enu_basis(lat, lon)[2], 25.0,
                  net.pop_of)
    for t in range(grid.count):
        core = net.core_edges(r[:, t])
        to_pop = {int(p): net.pop_tree(core, int(p))[0] for p in np.unique(net.pop_of)}
        want = net.choose(r[:, t], to_pop)
        for dense in (True, False):
            got = sky.best(r[:, t], dense, to_pop)
            assert np.array_equal(got, want)
        assert (want >= 0).all()


def test_sites_share_a_cell_only_where_asked():
    """``auto``: a cell's fixed terminals share its centre when the cell holds at least the
    threshold; routed terminals and sparse cells keep their own positions; ``terminal``
    keeps everyone's."""
    from leotwin.sim.sites import CELL_RES, place_sites

    base = h3i.latlng_to_cell(50.45, 30.52, CELL_RES)
    other = h3i.latlng_to_cell(49.84, 24.03, CELL_RES)
    clat, clon = h3i.cell_to_latlng(base)
    rng = np.random.default_rng(2)
    lat = np.array([clat + rng.uniform(-0.01, 0.01) for _ in range(5)] + [49.84, 49.841])
    lon = np.array([clon + rng.uniform(-0.01, 0.01) for _ in range(5)] + [24.03, 24.031])
    assert {h3i.latlng_to_cell(a, b, CELL_RES) for a, b in zip(lat, lon, strict=True)} == {
        base, other}
    k = len(lat)
    exact = np.zeros(k, bool)
    exact[0] = True  # routed
    args = (lat, lon, np.zeros(k), np.full(k, 25.0), np.zeros(k, np.int64), exact)
    s = place_sites(*args, "auto", 4)
    assert s.per_cell.tolist() == [False, True, True, True, True, False, False]
    shared = s.site_of[1:5]
    assert len(set(shared.tolist())) == 1
    assert (s.lat_deg[shared[0]], s.lon_deg[shared[0]]) == (clat, clon)
    assert len(s) == 4  # the routed one, the cell, two sparse ones
    assert len(place_sites(*args, "cell", 4)) == 3  # the routed one and two cells
    t = place_sites(*args, "terminal", 4)
    assert not t.per_cell.any() and len(t) == k
    assert np.array_equal(t.lat_deg[t.site_of], lat)
