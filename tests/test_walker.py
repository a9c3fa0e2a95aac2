"""Walker geometry after SGP4 propagation, and the built-in catalogue."""

from __future__ import annotations

import numpy as np
import pytest

from leotwin.errors import InputError
from leotwin.orbits import CATALOG, PropagationOptions, WalkerShell, get_constellation, propagate
from leotwin.orbits.catalog import Constellation
from leotwin.orbits.walker import R_WGS72
from leotwin.timegrid import TimeGrid

TEME = PropagationOptions(frame="teme", geodetic=False, eop=None)


def _elements(shell: WalkerShell):
    """Osculating plane orientation and phase at epoch from TEME states (independent of
    leotwin's element bookkeeping): RAAN from the angular-momentum vector, argument of latitude
    from the position in the orbit plane."""
    c = Constellation("t", (shell,), "test")
    eph = propagate(c.satellites(), TimeGrid.from_span(shell.epoch, "1s", "1s"), TEME)
    r, v = eph.r_km[:, 0], eph.v_km_s[:, 0]
    h = np.cross(r, v)
    raan = np.degrees(np.arctan2(h[:, 0], -h[:, 1])) % 360
    incl = np.degrees(np.arccos(h[:, 2] / np.linalg.norm(h, axis=1)))
    node = np.stack([np.cos(np.radians(raan)), np.sin(np.radians(raan)), 0 * raan], axis=1)
    w = np.cross(h / np.linalg.norm(h, axis=1)[:, None], node)
    u = np.degrees(np.arctan2((r * w).sum(1), (r * node).sum(1))) % 360
    return raan, incl, u


def _wrap(a):
    return (a + 180) % 360 - 180


def test_walker_delta_geometry():
    """Plane RAANs Ω_p = p·360/P, in-plane spacing 360/S, inter-plane phase F·360/T.
    Tolerance 0.15°: J2 short-period terms (∝ sin 2u, measured ≤ 0.10° at 550 km / 53°) make
    the osculating angles we measure differ from the mean elements Walker's pattern sets."""
    shell = WalkerShell("x", planes=6, sats_per_plane=8, inclination_deg=53.0, altitude_km=550,
                        phasing_f=2, eccentricity=0.0)
    raan, incl, u = _elements(shell)
    p = np.repeat(np.arange(6), 8)
    j = np.tile(np.arange(8), 6)
    assert np.abs(_wrap(raan - p * 60.0)).max() < 0.15
    assert np.abs(incl - 53.0).max() < 0.15
    expected_u = j * 45.0 + p * 2 * 360.0 / 48
    assert np.abs(_wrap(u - expected_u)).max() < 0.15
    # in-plane neighbours 360/S apart; same slot in adjacent planes F·360/T apart
    assert np.allclose(_wrap(np.diff(u.reshape(6, 8), axis=1)), 45.0, atol=0.15)
    assert np.allclose(_wrap(u.reshape(6, 8)[1:, 0] - u.reshape(6, 8)[:-1, 0]), 15.0, atol=0.15)


def test_walker_star_and_half_slot():
    star = WalkerShell("s", planes=4, sats_per_plane=3, inclination_deg=97.6, altitude_km=560,
                       raan_spread_deg=180.0, phasing_f=0)
    raan, incl, _ = _elements(star)
    assert np.abs(_wrap(raan - np.repeat(np.arange(4) * 45.0, 3))).max() < 0.15
    assert np.abs(incl - 97.6).max() < 0.15
    half = WalkerShell("h", planes=4, sats_per_plane=10, inclination_deg=51.9,
                       mean_motion_rev_day=14.8, phasing="hypatia-half-slot")
    _, _, u = _elements(half)
    u = u.reshape(4, 10)
    assert np.allclose(_wrap(u[1] - u[0]), 18.0, atol=0.15)  # half of 360/10 on odd planes
    assert np.allclose(_wrap(u[2] - u[0]), 0.0, atol=0.15)


def test_altitude_and_inclination_after_a_day():
    """Mean geocentric radius over a day = R(WGS-72) + h within 0.2 km for every shell and
    inclination; geodetic height stays within the ellipsoid's ~21 km equator-to-pole spread
    plus J2 oscillation; the highest latitude reached equals the inclination."""
    for name in ("starlink-gen1", "kuiper", "starlink-gen2"):
        c = get_constellation(name)
        sats = c.satellites().subset(slice(0, None, 97))
        eph = propagate(sats, TimeGrid.from_span("2026-01-01", "1d", "60s"))
        radius = np.linalg.norm(eph.r_km, axis=-1).mean(axis=1)
        shell_of = [next(s for s in c.shells if i.split("-")[-3] == s.name) for i in sats.ids]
        h = np.array([s.altitude_km for s in shell_of])
        assert np.abs(radius - R_WGS72 - h).max() < 0.2
        assert np.all(eph.alt_km.min(axis=1) > h - 12) and np.all(eph.alt_km.max(axis=1) < h + 30)
        incl = np.array([s.inclination_deg for s in shell_of])
        assert np.all(np.abs(np.abs(eph.lat_deg).max(axis=1) - np.minimum(incl, 180 - incl))
                      < 0.3)


def test_catalogue_counts_and_ids():
    sizes = {name: c.size for name, c in CATALOG.items()}
    assert sizes["starlink-gen1"] == 4408 and sizes["starlink-gen1-shell1"] == 1584
    assert sizes["starlink-gen2"] == 29988 and sizes["starlink-gen2-granted"] == 10080
    assert sizes["kuiper"] == 3236
    assert sizes["starlink-2026"] == 4408 + 3 * 28 * 60  # Gen1 + granted Gen2 half filled
    assert sizes["hypatia-starlink-550"] == 1584 and sizes["hypatia-kuiper-630"] == 1156
    sats = get_constellation("starlink-gen1").satellites()
    assert len(set(sats.ids)) == len(sats) == 4408
    assert sats.ids[0] == "starlink-gen1-1-00-00" and sats.ids[-1] == "starlink-gen1-4b-3-42"
    assert all(c.sources for c in CATALOG.values())


def test_hypatia_kuiper_tles_match_golden_file(data_dir):
    """Our Hypatia recipe writes Hypatia's own TLE text, line for line (1,156 satellites)."""
    golden = (data_dir / "hypatia-kuiper630" / "tles_complete.txt").read_text().splitlines()
    assert golden[0].split() == ["34", "34"]
    shell = get_constellation("hypatia-kuiper-630").shells[0]
    ours = [line for rec in shell.hypatia_tle_lines("Kuiper-630") for line in rec]
    assert ours == golden[1:]
    sats = get_constellation("hypatia-kuiper-630").satellites()
    assert sats.recipes[35][1:] == (golden[1 + 3 * 35 + 1], golden[1 + 3 * 35 + 2])


@pytest.mark.parametrize("kwargs, field", [
    ({"planes": 0}, "planes"), ({"phasing_f": 72}, "phasing F"),
    ({"raan_spread_deg": 90.0}, "raan_spread"), ({"inclination_deg": 200.0}, "inclination"),
    ({"altitude_km": None}, "altitude_km or mean_motion"), ({"eccentricity": 1.0}, "eccentricity"),
])
def test_bad_shell_parameters(kwargs, field):
    base = dict(name="1", planes=72, sats_per_plane=22, inclination_deg=53.0, altitude_km=550.0)
    base.update(kwargs)
    with pytest.raises(InputError, match=field):
        WalkerShell(**base)


def test_unknown_constellation_lists_names():
    with pytest.raises(InputError, match="starlink-gen1"):
        get_constellation("starlink-gen9")
