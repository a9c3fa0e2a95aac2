"""Pass prediction against Skyfield's ``find_events`` on the same UT1 table."""

from __future__ import annotations

import numpy as np
from skyfield.api import EarthSatellite, wgs84

from leotwin.links.passes import find_passes
from leotwin.orbits import get_constellation, load_tle
from leotwin.timegrid import TimeGrid
from leotwin.timegrid.grid import NS_PER_S, parse_time
from skyfield_bridge import skyfield_timescale


def _skyfield_events(satrec, ts, lat, lon, t0, t1, mask):
    sat = EarthSatellite.from_satrec(satrec, ts)
    times, events = sat.find_events(wgs84.latlon(lat, lon), t0, t1, altitude_degrees=mask)
    return [(int(e), t) for e, t in zip(events, times, strict=True)]


def test_passes_agree_with_skyfield_within_one_second(data_dir):
    lat, lon, mask = 50.4501, 30.5234, 25.0
    sats = load_tle(data_dir / "sample.3le") + get_constellation(
        "starlink-gen1-shell1").satellites().subset(slice(0, None, 53))
    grid = TimeGrid.from_span("2026-01-15T00:00:00Z", "12h", "10s")
    ours = find_passes(sats, lat, lon, 0.0, grid, mask)
    ts = skyfield_timescale()
    t0 = ts.utc(2026, 1, 15)
    t1 = ts.utc(2026, 1, 15, 12, 0, -10)  # last sample of the half-open grid
    start_ns = parse_time("2026-01-15T00:00:00Z")

    def to_ns(t):
        utc = t.utc  # (year, month, day, hour, minute, second)
        day = parse_time(f"{int(utc[0]):04d}-{int(utc[1]):02d}-{int(utc[2]):02d}T00:00:00Z")
        return day + round(((utc[3] * 60 + utc[4]) * 60 + utc[5]) * NS_PER_S)

    compared = 0
    for n, satrec in enumerate(sats.satrecs):
        mine = [p for p in ours if p["sat_id"] == sats.ids[n]]
        events = _skyfield_events(satrec, ts, lat, lon, t0, t1, mask)
        rises = [to_ns(t) for e, t in events if e == 0]
        culms = [to_ns(t) for e, t in events if e == 1]
        sets = [to_ns(t) for e, t in events if e == 2]
        ours_culms = sorted(p["culmination_time"] for p in mine if p["culmination_time"])
        assert len(ours_culms) == len(culms), sats.ids[n]
        for a, b in zip(ours_culms, culms, strict=True):
            assert abs(a - b) < NS_PER_S
            compared += 1
        ours_sets = sorted(p["set_time"] for p in mine if p["set_time"])
        assert len(ours_sets) == len(sets)
        assert all(abs(a - b) < NS_PER_S for a, b in zip(ours_sets, sets, strict=True))
        ours_rises = sorted(p["rise_time"] for p in mine if p["rise_time"])
        assert len(ours_rises) == len(rises)
        assert all(abs(a - b) < NS_PER_S for a, b in zip(ours_rises, rises, strict=True))
    assert compared >= 20
    assert all(p["max_elevation_deg"] >= mask for p in ours)
    assert start_ns <= min(p["culmination_time"] for p in ours if p["culmination_time"])
    assert np.isfinite([p["max_elevation_deg"] for p in ours]).all()
