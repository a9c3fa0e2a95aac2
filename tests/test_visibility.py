"""Visibility: coverage geometry, look angles, and the KD-tree candidate search vs brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leotwin.geodesy import enu_basis, geodetic_to_ecef
from leotwin.links import VisibilityIndex, coverage_geometry, look_angles, visible_pairs_brute
from leotwin.links.visibility import DIRECT_MAX_SITES


def test_starlink_550_km_25_degrees():
    """FACTS.md §1.5 / PHYSICS.md §5.5: ground radius 941 km, max slant range 1 123 km."""
    g = coverage_geometry(550.0, 25.0)
    assert abs(g["ground_radius_km"] - 941.0) < 2.0
    assert abs(g["max_slant_range_km"] - 1123.0) < 2.0
    assert abs(g["one_way_delay_ms"] - 3.75) < 0.01


def test_formulas_at_630_km_30_degrees_against_exact_ecef_on_a_sphere():
    """At the returned central angle λ, a site on a sphere sees the satellite at exactly ε and
    at exactly the returned slant range (independent ECEF computation, 1e-9 relative)."""
    r_earth, h, eps = 6371.0, 630.0, 30.0
    g = coverage_geometry(h, eps, r_earth)
    lam = np.radians(g["central_angle_deg"])
    sat = np.array([r_earth + h, 0.0, 0.0])
    site = r_earth * np.array([np.cos(lam), np.sin(lam), 0.0])
    rho = sat - site
    up = site / r_earth
    el = np.degrees(np.arcsin(rho @ up / np.linalg.norm(rho)))
    assert abs(el - eps) < 1e-9
    assert abs(np.linalg.norm(rho) / g["max_slant_range_km"] - 1) < 1e-12
    # PHYSICS.md closed forms: ε + η + λ = 90°, d(ε) = √((R+h)² − R²cos²ε) − R sin ε
    assert abs(eps + g["nadir_angle_deg"] + g["central_angle_deg"] - 90.0) < 1e-12
    d = np.sqrt((r_earth + h) ** 2 - (r_earth * np.cos(np.radians(eps))) ** 2) \
        - r_earth * np.sin(np.radians(eps))
    assert abs(d - g["max_slant_range_km"]) < 1e-9


def test_look_angles_cardinal_directions():
    lat, lon = 50.0, 30.0
    site = geodetic_to_ecef(lat, lon, 0.0)
    e, n, u = enu_basis(lat, lon)
    for vec, az, el in ((u, None, 90.0), (n + 0.1 * u, 0.0, None), (e + 0.1 * u, 90.0, None),
                        (-n + 0.1 * u, 180.0, None), (-e + 0.1 * u, 270.0, None)):
        a, elev, rng = look_angles(site + 700.0 * vec / np.linalg.norm(vec), site, lat, lon)
        assert abs(rng - 700.0) < 1e-9
        if az is not None:
            assert abs((a - az + 180) % 360 - 180) < 1e-9
        if el is not None:
            assert abs(elev - el) < 1e-9


def _random_sites(rng, m):
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, m)))
    lon = rng.uniform(-180, 180, m)
    alt = rng.uniform(-0.4, 5.0, m)
    return geodetic_to_ecef(lat, lon, alt), enu_basis(lat, lon)[2]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 400), m=st.integers(1, 600),
       low=st.floats(200, 1500), spread=st.floats(0, 1500), mask=st.floats(0, 89.9),
       per_site=st.booleans())
def test_candidate_search_equals_brute_force(seed, n, m, low, spread, mask, per_site):
    """Property: on random constellations and sites, with one mask or one per site, the
    KD-tree finds exactly the brute-force pairs (and the same elevations and ranges)."""
    rng = np.random.default_rng(seed)
    sites, up = _random_sites(rng, m)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    sats = geodetic_to_ecef(lat, rng.uniform(-180, 180, n), low + rng.uniform(0, spread, n))
    masks = rng.uniform(0, mask, m) if per_site else mask
    got = VisibilityIndex(sites, up, masks).pairs(sats)
    want = visible_pairs_brute(sats, sites, up, masks)
    for a, b in zip(got, want, strict=True):
        assert np.array_equal(a, b)


def test_candidate_search_at_scale_and_with_failed_states():
    rng = np.random.default_rng(3)
    sites, up = _random_sites(rng, 20_000)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 2000)))
    sats = geodetic_to_ecef(lat, rng.uniform(-180, 180, 2000), rng.uniform(330, 620, 2000))
    sats[::97] = np.nan  # SGP4 failures are NaN: never visible
    got = VisibilityIndex(sites, up, 25.0).pairs(sats)
    want = visible_pairs_brute(sats, sites, up, 25.0)
    assert len(got[0]) > 10_000
    assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))
    assert not np.isin(np.arange(0, 2000, 97), got[0]).any()
    assert np.all(got[2] >= 25.0)


def test_mask_validation():
    from leotwin.errors import InputError
    from leotwin.ground.sites import check_mask

    for bad in (-1, 90, 95, "x"):
        with pytest.raises(InputError, match="elevation"):
            check_mask(bad)


@pytest.mark.parametrize("m", [1, 3, DIRECT_MAX_SITES, DIRECT_MAX_SITES + 1, 40])
def test_few_and_many_sites_give_the_same_pairs(m):
    """Both candidate paths (every pair for few sites, the KD-tree beyond) find exactly the
    pairs an independent elevation formula finds, failed (NaN) satellites never among them."""
    rng = np.random.default_rng(m)
    sites, up = _random_sites(rng, m)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 3000)))
    sats = geodetic_to_ecef(lat, rng.uniform(-180, 180, 3000), rng.uniform(330, 1200, 3000))
    sats[::61] = np.nan
    si, gi, el, rng_km = VisibilityIndex(sites, up, 25.0).pairs(sats)
    rho = sats[:, None, :] - sites[None, :, :]
    with np.errstate(invalid="ignore"):
        elev = np.degrees(np.arcsin(np.einsum("nmk,mk->nm", rho, up)
                                    / np.sqrt(np.einsum("nmk,nmk->nm", rho, rho))))
    want_s, want_g = np.nonzero(elev >= 25.0)
    assert len(want_s) > 0
    assert np.array_equal(si, want_s) and np.array_equal(gi, want_g)
    assert np.allclose(el, elev[want_s, want_g], atol=1e-9)
    assert np.allclose(rng_km, np.linalg.norm(rho, axis=-1)[want_s, want_g], rtol=1e-12)


def test_highest_by_site_equals_a_loop_over_pairs():
    """The satellite each site sees highest (ties: the lowest index), against a plain loop."""
    from leotwin.links.visibility import highest_by_site

    rng = np.random.default_rng(5)
    n = 3000
    si = rng.integers(0, 200, n)
    gi = rng.integers(0, 60, n)
    el = np.round(rng.uniform(25, 90, n), 1)  # rounded: ties happen
    want = np.full(70, -1)
    best = np.full(70, -np.inf)
    for s, g, e in zip(si, gi, el, strict=True):
        w = want[g]
        if w < 0 or e > best[g] or (e == best[g] and s < w):
            want[g], best[g] = s, e
    np.testing.assert_array_equal(highest_by_site(si, gi, el, 70), want)
    assert (want[60:] == -1).all()
