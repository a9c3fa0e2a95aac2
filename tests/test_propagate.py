"""The propagation engine: blocks, backends and SGP4 error codes."""

from __future__ import annotations

import pkgutil

import numpy as np

from leotwin.orbits import PropagationOptions, get_constellation, iter_propagate, propagate
from leotwin.orbits.tle import parse_tle_text, satellites_from_tle_records
from leotwin.timegrid import TimeGrid


def _kuiper():
    return get_constellation("kuiper").satellites().subset(slice(0, None, 11))


def test_blocks_and_backends_are_bit_identical():
    """PHYSICS.md §7 anchor 8: serial, blocked and process-parallel results are identical."""
    sats = _kuiper()
    grid = TimeGrid.from_span("2026-03-01T00:00:00Z", "3h", "45s")
    full = propagate(sats, grid)
    small = propagate(sats, grid, chunk_states=1000)
    par = propagate(sats, grid, workers=2)
    blocks = list(iter_propagate(sats, grid, block_states=5000))
    par_blocks = list(iter_propagate(sats, grid, block_states=5000, workers=2))
    assert len(blocks) > 1
    for other in (small, par):
        for name in ("r_km", "v_km_s", "error", "lat_deg", "lon_deg", "alt_km"):
            assert np.array_equal(getattr(full, name), getattr(other, name)), name
    for seq in (blocks, par_blocks):
        for name in ("r_km", "lat_deg", "alt_km"):
            joined = np.concatenate([getattr(b, name) for b in seq], axis=1)
            assert np.array_equal(getattr(full, name), joined), name
        assert np.array_equal(np.concatenate([b.grid.ns for b in seq]), grid.ns)


def test_satrec_array_matches_single_satellite_api():
    """Our vectorised kernel (TEME) equals python-sgp4's per-satellite sgp4_array bit for bit."""
    sats = _kuiper()
    grid = TimeGrid.from_span("2026-03-01T00:00:00Z", "1h", "60s")
    ours = propagate(sats, grid, PropagationOptions(frame="teme", geodetic=False, eop=None))
    jd, fr = grid.jd_fr()
    for n, sat in enumerate(sats.satrecs[:10]):
        _e, r, v = sat.sgp4_array(jd, fr)
        assert np.array_equal(ours.r_km[n], r) and np.array_equal(ours.v_km_s[n], v)


def test_itrf_is_earth_fixed_and_teme_is_not():
    """A geostationary object (28626, inclined 1.9°) stays within 0.5° of longitude and its
    inclination in latitude in ITRF, and turns 360° in a sidereal day in TEME."""
    lines = pkgutil.get_data("sgp4", "SGP4-VER.TLE").decode("ascii").splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith("1 28626"))
    sats = satellites_from_tle_records(
        parse_tle_text(f"{lines[i][:69]}\n{lines[i + 1][:69]}\n"), "geo")
    grid = TimeGrid.from_span("2004-06-01T00:00:00Z", "1d", "1h")
    itrf = propagate(sats, grid)
    teme = propagate(sats, grid, PropagationOptions(frame="teme"))
    assert np.ptp(itrf.lon_deg) < 0.5 and abs(itrf.lat_deg).max() < 2.0
    lon_teme = np.degrees(np.arctan2(teme.r_km[0, :, 1], teme.r_km[0, :, 0]))
    assert np.ptp(np.unwrap(np.radians(lon_teme))) > np.radians(300)
    assert np.allclose(np.linalg.norm(itrf.r_km, axis=-1), np.linalg.norm(teme.r_km, axis=-1))


def test_errors_are_surfaced_not_silent():
    """A low, high-drag set decays within a day: SGP4 reports code 6 with its first time, and
    those states are NaN rather than underground positions."""
    line1 = "1 00001U 00001A   26001.00000000  .01000000  00000-0  50000-1 0  9990"
    line2 = "2 00001  51.6000  10.0000 0010000  90.0000  12.0000 16.00000000    00"
    from leotwin.orbits.tle import with_checksum

    text = with_checksum(line1[:68]) + "\n" + with_checksum(line2[:68]) + "\n"
    sats = satellites_from_tle_records(parse_tle_text(text), "decay")
    eph = propagate(sats, TimeGrid.from_span("2026-01-01T00:00:00Z", "20d", "1h"))
    assert eph.error.any()
    summary = eph.error_summary()
    assert summary[0]["sat_id"] == "1" and summary[0]["code"] == 6
    assert "decayed" in summary[0]["message"]
    bad = eph.error[0] != 0
    assert np.isnan(eph.r_km[0][bad]).all() and np.isnan(eph.alt_km[0][bad]).all()
    assert np.isfinite(eph.r_km[0][~bad]).all()
