"""WGS-84 geodesy: forward transform against Skyfield, inverse by exact round trip."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from skyfield.api import wgs84

from leotwin.geodesy import WGS84, ecef_to_geodetic, enu_basis, geodetic_to_ecef


def test_forward_matches_skyfield():
    rng = np.random.default_rng(7)
    lat, lon = rng.uniform(-90, 90, 500), rng.uniform(-180, 180, 500)
    h = rng.uniform(-0.5, 2000, 500)
    ours = geodetic_to_ecef(lat, lon, h)
    theirs = wgs84.latlon(lat, lon, elevation_m=h * 1000).itrs_xyz.km.T
    assert np.abs(ours - theirs).max() < 1e-9  # km: 1 µm


@settings(max_examples=300, deadline=None)
@given(lat=st.floats(-90, 90), lon=st.floats(-179.999, 180), h=st.floats(-10, 40_000))
def test_inverse_round_trip(lat, lon, h):
    """From ground level to GEO: exact to 1e-9″ (3e-11 km of latitude) and 1 µm of height."""
    x, y, z = geodetic_to_ecef(lat, lon, h)
    lat2, lon2, h2 = ecef_to_geodetic(x, y, z)
    assert abs(lat2 - lat) * 3600 < 1e-9 * max(1.0, (WGS84.a_km + h) / WGS84.a_km)
    if abs(lat) < 89.99999:
        assert abs((lon2 - lon + 180) % 360 - 180) * 3600 < 1e-9
    assert abs(h2 - h) < 1e-6


def test_poles_and_equator():
    lat, _, h = ecef_to_geodetic(np.array([0.0, WGS84.a_km + 1]), np.array([0.0, 0.0]),
                                   np.array([WGS84.b_km + 550, 0.0]))
    assert np.allclose(lat, [90, 0], atol=1e-12)
    assert np.allclose(h, [550, 1], atol=1e-9)


def test_enu_is_orthonormal_and_up_is_ellipsoid_normal():
    e, n, u = enu_basis(np.array([48.0]), np.array([35.0]))
    m = np.stack([e[0], n[0], u[0]])
    assert np.allclose(m @ m.T, np.eye(3), atol=1e-15)
    # up is the normal: a small step along it changes only the height
    p = geodetic_to_ecef(48.0, 35.0, 0.0) + u[0] * 1.0
    lat, _, h = ecef_to_geodetic(*p)
    assert abs(lat - 48.0) < 1e-12 and abs(h - 1.0) < 1e-12
