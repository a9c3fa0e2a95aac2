"""Coverage of H3 cells: against an independent geometric prediction and against direct counts."""

from __future__ import annotations

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from leotwin.analysis.coverage import COVERAGE_COLUMNS, coverage
from leotwin.geodesy import WGS84, enu_basis, geodetic_to_ecef
from leotwin.ground.cells import CellSet, cover
from leotwin.ground.regions import resolve_region
from leotwin.links import VisibilityIndex, coverage_geometry
from leotwin.orbits import Constellation, PropagationOptions, WalkerShell, get_constellation
from leotwin.orbits import propagate as run_sgp4
from leotwin.timegrid import TimeGrid


def _expected_visible(shells, lat_deg: float, mask: float) -> float:
    """Mean number of satellites above the mask at a latitude, from geometry alone.

    A satellite of a shell with uniformly spread planes and phases is, at a random instant,
    uniform in (argument of latitude u, RAAN Ω).  The probability that it lies within the
    coverage cap λ(ε, h) of the site is the fraction of a fine (u, Ω) grid inside the cap
    (spherical Earth of the local geocentric radius, geocentric latitude).  Sum N·P over shells.
    """
    phi = np.radians(lat_deg)
    geoc = np.arctan((1 - WGS84.e2) * np.tan(phi))
    radius = float(np.linalg.norm(geodetic_to_ecef(lat_deg, 0.0, 0.0)))
    site = np.array([np.cos(geoc), 0.0, np.sin(geoc)])
    u = (np.arange(3000) + 0.5) * 2 * np.pi / 3000
    raan = (np.arange(3000) + 0.5) * 2 * np.pi / 3000
    cu, su = np.cos(u)[:, None], np.sin(u)[:, None]
    co, so = np.cos(raan)[None, :], np.sin(raan)[None, :]
    total = 0.0
    for shell in shells:
        i = np.radians(shell.inclination_deg)
        lam = np.radians(coverage_geometry(shell.altitude_km + 6378.135 - radius, mask,
                                           radius)["central_angle_deg"])
        dot = ((co * cu - so * su * np.cos(i)) * site[0] + (su * np.sin(i)) * site[2])
        total += shell.size * float((dot >= np.cos(lam)).mean())
    return total


def test_mean_visible_at_50n_matches_geometry():
    """starlink-gen1 above 25° at 50°N: the simulated mean over 36 longitudes and 12 h equals
    the geometric expectation (47.7 satellites, simulated 46.9; FACTS.md quotes 30–50 between
    56°N and 56°S)
    within 3 %.  The rest is Walker discreteness, J2 and the ellipsoid."""
    c = get_constellation("starlink-gen1")
    expected = _expected_visible(c.shells, 50.0, 25.0)
    lon = np.arange(-180.0, 180.0, 10.0)
    cells = CellSet(np.arange(len(lon), dtype=np.uint64), np.full(lon.shape, 50.0), lon,
                    np.ones(lon.shape), 5)
    result = coverage(c.satellites(), cells, TimeGrid.from_span("2026-01-01", "12h", "2m"), 25.0)
    simulated = float(result.mean_visible.mean())
    assert 35 < expected < 55
    assert abs(simulated / expected - 1) < 0.03, (simulated, expected)
    assert result.covered_fraction.min() == 1.0


def test_coverage_statistics_equal_direct_counts():
    """A sparse shell (gaps exist): every statistic equals a direct per-instant recount with
    the exact visibility index; serial and two processes give identical tables."""
    shell = WalkerShell("s", planes=3, sats_per_plane=4, inclination_deg=53.0, altitude_km=550)
    sats = Constellation("sparse", (shell,), "test").satellites()
    cells = cover(resolve_region("TW"), 4)
    grid = TimeGrid.from_span("2026-01-01T00:00:00Z", "6h", "30s")
    result = coverage(sats, cells, grid, 25.0)
    twin = coverage(sats, cells, grid, 25.0, workers=2)
    for name in ("covered_fraction", "mean_visible", "min_visible", "max_visible", "max_gap_s"):
        assert np.array_equal(getattr(result, name), getattr(twin, name)), name
    site = geodetic_to_ecef(cells.lat_deg, cells.lon_deg, 0 * cells.lat_deg)
    index = VisibilityIndex(site, enu_basis(cells.lat_deg, cells.lon_deg)[2], 25.0)
    eph = run_sgp4(sats, grid, PropagationOptions(geodetic=False))
    counts = np.stack([index.counts(eph.r_km[:, t]) for t in range(grid.count)])
    assert np.array_equal(result.mean_visible, counts.mean(axis=0))
    assert np.array_equal(result.max_visible, counts.max(axis=0))
    assert np.array_equal(result.min_visible, counts.min(axis=0))
    assert np.array_equal(result.covered_fraction, (counts > 0).mean(axis=0))
    for m in range(len(cells)):
        runs, run = [0], 0
        for seen in counts[:, m] > 0:
            run = 0 if seen else run + 1
            runs.append(run)
        assert result.max_gap_s[m] == max(runs) * 30.0
    assert 0 < result.covered_fraction.mean() < 1 and result.max_gap_s.max() > 0


def test_coverage_cli(cli, tmp_path):
    out = tmp_path / "tw.parquet"
    code, stdout, err = cli("coverage", "--constellation", "starlink-gen1-shell1", "--region",
                            "TWN", "--start", "2026-01-01T00:00:00Z", "--duration", "30m",
                            "--step", "60s", "--out", out)
    assert code == 0, err
    table = pq.read_table(out)
    assert tuple(table.column_names) == COVERAGE_COLUMNS
    assert table.num_rows == len(cover(resolve_region("TW"), 5))
    assert '"code": "TW"' in stdout
    csv_out = tmp_path / "ua.csv"
    code, _, err = cli("coverage", "--constellation", "kuiper", "--region", "UA", "--h3-res", "3",
                       "--start", "2026-01-01", "--duration", "10m", "--step", "5m",
                       "--min-elevation", "30", "--out", csv_out)
    assert code == 0, err
    assert tuple(pacsv.read_csv(csv_out).column_names) == COVERAGE_COLUMNS


def test_passes_and_regions_cli(cli, tmp_path, data_dir):
    out = tmp_path / "p.parquet"
    code, _, err = cli("passes", "--tle", data_dir / "sample.3le", "--lat", "50.45", "--lon",
                       "30.52", "--start", "2026-01-15T00:00Z", "--duration", "6h", "--out", out)
    assert code == 0, err
    table = pq.read_table(out)
    assert table.column_names == ["sat_id", "rise_time", "culmination_time", "set_time",
                                  "max_elevation_deg"]
    assert table.num_rows >= 3 and min(table["max_elevation_deg"].to_pylist()) >= 25.0
    code, stdout, _ = cli("regions")
    assert code == 0 and "UKR" in stdout and "Taiwan" in stdout
    code, stdout, _ = cli("regions", "show", "UA")
    assert code == 0 and "571," in stdout and "2,363" in stdout


def test_ground_cli_bad_input(cli, tmp_path):
    out = tmp_path / "x.parquet"
    base = ["--constellation", "kuiper", "--start", "2026-01-01", "--duration", "1h",
            "--step", "1m", "--out", str(out)]
    cases = [
        (["coverage", "--region", "XX", *base], "unknown region 'XX'"),
        (["coverage", "--region", "UA", "--h3-res", "16", *base], "H3 resolution"),
        (["coverage", "--region", "UA", "--min-elevation", "90", *base], "[0, 90)"),
        (["coverage", "--region", "UA", "--min-elevation", "-5", *base], "[0, 90)"),
        (["passes", "--lat", "95", "--lon", "0", *base[:-4], "--out", str(out),
          "--duration", "1h"], "latitude 95"),
    ]
    for args, needle in cases:
        code, _, err = cli(*args)
        assert code == 2 and needle in err and len(err.strip().splitlines()) == 1, (args, err)
    assert not list(tmp_path.iterdir())


def test_sites_cli(cli, tmp_path):
    code, out, _ = cli("sites", "--kind", "gateway")
    assert code == 0 and "222 gateway sites" in out and "US 111" in out
    tracks = tmp_path / "tracks.csv"
    tracks.write_text("terminal_id,time,lat_deg,lon_deg\nV1,2026-02-01T00:00Z,48,37\n"
                      "V1,2026-02-01T00:10Z,48.1,37.1\n")
    code, out, _ = cli("sites", tracks, "--tracks")
    assert code == 0 and "2026-02-01T00:10" in out and "80.3" in out
    for text, needle in (("terminal_id,lat_deg\nT1,50\n", "missing column(s) lon_deg"),
                         ("terminal_id,lat_deg,lon_deg\nT1,abc,30\n", "line 2, field lat_deg"),
                         ("terminal_id,time,lat_deg,lon_deg\nV1,2026-02-01T00:10Z,48,37\n"
                          "V1,2026-02-01T00:00Z,48,37\n", "not in time order")):
        bad = tmp_path / "bad.csv"
        bad.write_text(text)
        code, _, err = cli("sites", bad, *(["--tracks"] if "time" in text else []))
        assert code == 2 and needle in err and len(err.strip().splitlines()) == 1, err
    bad_zone = tmp_path / "zone.geojson"
    bad_zone.write_text('{"type": "Point", "coordinates": [30, 50]}')
    code, _, err = cli("regions", "show", bad_zone)
    assert code == 2 and "expected a Polygon or MultiPolygon" in err
