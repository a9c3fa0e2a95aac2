"""Ground sites: bundled gateways and PoPs, terminal CSVs, moving tracks, synthetic populations."""

from __future__ import annotations

import numpy as np
import pytest

from leotwin.errors import InputError
from leotwin.ground.regions import resolve_region
from leotwin.ground.sites import (
    Track,
    gateways,
    load_sites_csv,
    load_tracks_csv,
    pops,
    synthetic_terminals,
)
from leotwin.timegrid.grid import parse_time


def test_bundled_gateways_and_pops():
    """shared/data README: 261 gateway rows at 222 distinct coordinates; 23 PoPs."""
    assert len(gateways(distinct=False)) == 261
    gw = gateways()
    assert len(gw) == 222 and gw.kind == "gateway"
    assert np.all(gw.min_elevation_deg == 25.0)
    savanna = gw.attrs["name"].index("Savanna, OK | Mega")
    assert gw.attrs["bands"][savanna] == "Ka+E" and gw.attrs["antennas"][savanna] == 72
    p = pops()
    assert len(p) == 23 and p.ids[0] == "POP1"
    assert np.all(np.abs(p.lat_deg) <= 90)


def test_terminal_csv(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("terminal_id,lat_deg,lon_deg,alt_m,plan\nT1,50.45,30.52,180,residential\n"
                    "T2,48.0,37.8,,roam\n")
    t = load_sites_csv(path)
    assert t.ids == ["T1", "T2"] and t.attrs["plan"] == ["residential", "roam"]
    assert t.alt_km[0] == pytest.approx(0.18) and t.alt_km[1] == 0.0
    assert np.all(t.min_elevation_deg == 25.0)


@pytest.mark.parametrize("text, line, message", [
    ("terminal_id,lat_deg\nT1,50\n", 1, "missing column(s) lon_deg"),
    ("terminal_id,lat_deg,lon_deg\nT1,fifty,30\n", 2, "expected a number, found 'fifty'"),
    ("terminal_id,lat_deg,lon_deg\nT1,95,30\n", 2, "lat_deg 95.0 is outside"),
    ("terminal_id,lat_deg,lon_deg\nT1,50,30\nT1,51,30\n", 3, "appears twice"),
    ("terminal_id,lat_deg,lon_deg\nT1,,30\n", 2, "missing value for column lat_deg"),
    ("lat_deg,lon_deg\n50,30\n", 1, "missing an id column"),
    ("terminal_id,lat_deg,lon_deg,min_elevation_deg\nT1,50,30,90\n", 2, "outside"),
])
def test_bad_terminal_csv(tmp_path, text, line, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_sites_csv(path)
    assert message in str(info.value) and info.value.line == line


def test_track_interpolation_and_speed():
    """Due east along the equator: 1° of longitude (111.2 km on the mean sphere) in one hour."""
    t0 = parse_time("2026-02-01T00:00:00Z")
    hour = 3600 * 10**9
    track = Track("V1", np.array([t0, t0 + hour]), np.array([0.0, 0.0]), np.array([30.0, 31.0]),
                  np.array([0.0, 0.0]))
    lat, lon, _, speed = track.at(np.array([t0 - hour, t0, t0 + hour // 2, t0 + 2 * hour]))
    assert np.allclose(lon, [30.0, 30.0, 30.5, 31.0], atol=1e-9) and np.allclose(lat, 0)
    assert speed[1] == pytest.approx(6371.0088 * np.pi / 180, rel=1e-9)
    assert speed[0] == 0.0 and speed[3] == 0.0  # before the first / after the last waypoint


def test_tracks_csv_and_time_order(tmp_path):
    path = tmp_path / "tracks.csv"
    path.write_text("terminal_id,time,lat_deg,lon_deg\nV1,2026-02-01T00:00Z,48,37\n"
                    "V1,2026-02-01T00:10Z,48.1,37.1\nV2,2026-02-01T00:00Z,47,36\n")
    tracks = load_tracks_csv(path)
    assert [t.terminal_id for t in tracks] == ["V1", "V2"]
    path.write_text("terminal_id,time,lat_deg,lon_deg\nV1,2026-02-01T00:10Z,48,37\n"
                    "V1,2026-02-01T00:00Z,48.1,37.1\n")
    with pytest.raises(InputError, match="not in time order") as info:
        load_tracks_csv(path)
    assert info.value.line == 3


def test_synthetic_populations_are_seeded_and_inside():
    ua = resolve_region("UA")
    a = synthetic_terminals(ua, 500, seed=7)
    b = synthetic_terminals(ua, 500, seed=7)
    c = synthetic_terminals(ua, 500, seed=8)
    assert np.array_equal(a.lat_deg, b.lat_deg) and not np.array_equal(a.lat_deg, c.lat_deg)
    assert ua.contains(a.lat_deg, a.lon_deg).all()
    kyiv = (50.45, 30.52)
    d = synthetic_terminals(ua, 300, seed=1, mode="clustered", centers=[kyiv], spread_km=20)
    assert ua.contains(d.lat_deg, d.lon_deg).all()
    dist = 6371 * np.radians(np.hypot(d.lat_deg - kyiv[0],
                                      (d.lon_deg - kyiv[1]) * np.cos(np.radians(kyiv[0]))))
    assert np.median(dist) < 40
    with pytest.raises(InputError, match="centre"):
        synthetic_terminals(ua, 10, seed=1, mode="clustered")
