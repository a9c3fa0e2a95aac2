"""Moving terminals (``ground.motion``, ``ground.celltrack``, ``sim.clusters``) against
independent references: WGS84 geodesics (pyproj), H3 itself at every instant, and pairwise
distances counted by brute force."""

from __future__ import annotations

import h3.api.basic_int as h3i
import numpy as np
import pytest
from pyproj import Geod

from leotwin.ground.celltrack import CellTracker
from leotwin.ground.motion import (
    Movers,
    destination,
    orbit,
    random_walk,
    straight,
)
from leotwin.ground.regions import countries
from leotwin.timegrid.grid import NS_PER_S

GEOD = Geod(ellps="WGS84")
T0 = 1_770_000_000 * NS_PER_S
HOUR = 3600 * NS_PER_S


def _geodesic_speeds(lat, lon, time_ns):
    """(n−1, M) km/h between consecutive instants, along WGS84 geodesics."""
    _, _, d = GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    return d / 1000.0 / (np.diff(time_ns)[:, None] / HOUR)


def test_destination_matches_the_wgs84_geodesic():
    """Spherical destinations lie at the distance and initial bearing asked, measured along
    WGS84 geodesics (pyproj), within 0.6 % and 0.3°: the sphere of the mean radius against
    the ellipsoid, whose radii of curvature lie within 0.6 % of it (6,335-6,400 km)."""
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(-70, 70, 200), rng.uniform(-180, 180, 200)
    bearing, dist = rng.uniform(0, 360, 200), rng.uniform(1, 500, 200)
    la, lo = destination(lat, lon, bearing, dist)
    az, _, d = GEOD.inv(lon, lat, lo, la)
    assert np.allclose(d / 1000.0, dist, rtol=0.006)
    assert np.all(np.abs((az - bearing + 180) % 360 - 180) < 0.3)


def test_a_straight_path_keeps_its_speed_and_heading():
    lat, lon = np.array([50.0, 10.0]), np.array([30.0, -60.0])
    g = straight(np.array([0, 1]), lat, lon, np.zeros(2), 80.0, T0, T0 + 6 * HOUR,
                 np.array([45.0, 200.0]))
    t = T0 + np.arange(0, 6 * 3600 + 1, 60) * NS_PER_S
    la, lo, _alt, speed = g.at(t)
    assert np.allclose(speed[:-1], 80.0, rtol=1e-9)  # the sphere's own measure
    assert np.allclose(_geodesic_speeds(la, lo, t), 80.0, rtol=0.006)
    az, _, _ = GEOD.inv(lon, lat, lo[1], la[1])
    assert np.allclose(az % 360, [45.0, 200.0], atol=0.5)
    after = g.at(np.array([T0 + 7 * HOUR]))
    assert np.all(after[3] == 0) and np.allclose(after[0][0], la[-1])  # stays at the end


def test_a_random_walk_stays_in_its_region_at_its_speed():
    ua = countries().by_code("UA")
    rng = np.random.default_rng(5)
    start = np.array([[50.45, 30.52], [48.3, 38.0], [46.5, 30.7], [51.4, 23.9]])
    g = random_walk(np.arange(4), start[:, 0], start[:, 1], np.zeros(4), 60.0, T0,
                    T0 + 24 * HOUR, rng, leg_km=5.0, turn_deg=45.0, inside=ua.contains)
    assert np.all(ua.contains(g.lat_deg, g.lon_deg))  # every waypoint inside
    t = T0 + np.arange(0, 24 * 3600, 15) * NS_PER_S
    la, lo, _alt, speed = g.at(t)
    moving = speed > 0
    assert moving.mean() > 0.8  # a few legs wait at the border
    assert np.allclose(speed[moving], 60.0, rtol=1e-6)
    geo = _geodesic_speeds(la, lo, t)
    both = moving[:-1] & moving[1:]
    assert np.allclose(geo[both], 60.0, rtol=0.02)  # a turn inside a step cuts the corner
    assert np.median(np.abs(geo[both] / 60.0 - 1)) < 0.005
    assert np.ptp(la) > 0.5  # it got somewhere


def test_an_orbit_circles_its_centre_at_its_speed():
    """Distance from the centre and ground speed along WGS84 geodesics (pyproj), within the
    ellipsoid's 0.6 %; as many laps as the speed makes of the circle."""
    lat, lon = np.array([48.0, -33.9]), np.array([37.5, 18.4])
    g = orbit(np.array([0, 1]), lat, lon, np.zeros(2), 120.0, T0, T0 + 2 * HOUR,
              np.random.default_rng(2), radius_km=10.0)
    t = T0 + np.arange(0, 2 * 3600, 5) * NS_PER_S
    la, lo, _alt, speed = g.at(t)
    for c in range(2):
        n = len(t)
        _, _, r = GEOD.inv(np.full(n, lon[c]), np.full(n, lat[c]), lo[:, c], la[:, c])
        assert np.allclose(r / 1000.0, 10.0, rtol=0.006)
        assert np.allclose(_geodesic_speeds(la[:, [c]], lo[:, [c]], t), 120.0, rtol=0.006)
        bearing = np.unwrap(np.radians(GEOD.inv(np.full(n, lon[c]), np.full(n, lat[c]),
                                                lo[:, c], la[:, c])[0]))
        laps = 120.0 * (t[-1] - t[0]) / HOUR / (2 * np.pi * 10.0)
        assert abs(abs(bearing[-1] - bearing[0]) / (2 * np.pi) - laps) < 0.01
    assert np.all(speed == 120.0)
    after = g.at(np.array([T0 + 3 * HOUR]))
    assert np.all(after[3] == 0)


@pytest.mark.parametrize("res", [5, 7])
def test_the_cell_tracker_gives_h3s_cell_at_every_instant(res):
    """Against ``h3.latlng_to_cell`` at each instant (brute force), over walks that cross
    many cells, with far fewer H3 calls than instants."""
    rng = np.random.default_rng(11)
    lat, lon = rng.uniform(45, 52, 50), rng.uniform(23, 40, 50)
    g = random_walk(np.arange(50), lat, lon, np.zeros(50), 90.0, T0, T0 + 6 * HOUR, rng,
                    leg_km=3.0, turn_deg=60.0)
    t = T0 + np.arange(0, 6 * 3600, 15) * NS_PER_S
    la, lo, _alt, _speed = g.at(t)
    track = CellTracker(50, res)
    changes = 0
    last = None
    for i in range(len(t)):
        got = track.update(la[i], lo[i])
        want = [h3i.latlng_to_cell(float(a), float(b), res) for a, b in zip(la[i], lo[i],
                                                                             strict=True)]
        assert got.tolist() == want
        changes += 0 if last is None else int((got != last).sum())
        last = got
    assert changes > 50
    assert track.h3_calls < {5: 0.05, 7: 0.3}[res] * la.size  # res 7: 1.2-km edges


def test_movers_select_and_order():
    a = straight(np.array([4, 1]), np.array([50.0, 49.0]), np.array([30.0, 31.0]),
                 np.zeros(2), 50.0, T0, T0 + HOUR, np.array([0.0, 90.0]))
    m = Movers([a], ["straight", "straight"])
    sub = m.between(0, 3)
    assert sub.terminals.tolist() == [1] and sub.kinds == ["straight"]
    lat, _, _, _ = m.at(np.array([T0]))
    assert np.allclose(lat, [[50.0, 49.0]], rtol=0, atol=1e-12)
