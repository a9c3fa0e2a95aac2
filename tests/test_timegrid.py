"""Time grids, durations and the bundled Earth-orientation table."""

from __future__ import annotations

import numpy as np
import pytest
from skyfield.api import load

from leotwin.errors import InputError
from leotwin.timegrid import TimeGrid, default_eop, parse_duration, parse_time
from leotwin.timegrid.grid import ns_to_iso


@pytest.mark.parametrize("text, seconds", [
    ("100ms", 0.1), ("90s", 90), ("15m", 900), ("15min", 900), ("24h", 86400), ("2d", 172800),
    ("1h30m", 5400), ("0.5s", 0.5), ("42", 42), ("1.5h", 5400),
])
def test_durations(text, seconds):
    assert parse_duration(text) == round(seconds * 1e9)


@pytest.mark.parametrize("text", ["", "-5s", "5 parsecs", "h", "1h-30m", "nan", "inf"])
def test_bad_durations(text):
    with pytest.raises(InputError, match="duration"):
        parse_duration(text, source="--step")


def test_times_and_grid():
    assert parse_time("1970-01-01T00:00:01Z") == 10**9
    assert parse_time("2026-01-01T02:00:00+02:00") == parse_time("2026-01-01T00:00:00")
    grid = TimeGrid.from_span("2000-01-01T00:00:00Z", "200s", "100ms")
    assert grid.count == 2000  # half-open, Hypatia's convention
    assert grid.ns[-1] - grid.ns[0] == 199_900_000_000
    jd, fr = grid.jd_fr()
    assert jd[0] == 2451544.5 and fr[0] == 0.0 and 0 <= fr.max() < 1
    assert ns_to_iso(grid.ns[1]) == "2000-01-01T00:00:00.1Z"
    assert sum(b.count for _, b in grid.blocks(333)) == 2000


@pytest.mark.parametrize("start, duration, step, message", [
    ("2026-01-01", "1h", "0s", "step"), ("2026-01-01", "0s", "1s", "duration"),
    ("2026-01-01", "1h", "-1s", "positive"), ("3026-01-01", "1h", "1s", "year"),
    ("1900-01-01", "1h", "1s", "year"), ("2099-12-01", "400d", "1d", "after 2100"),
    ("2026-01-01", "365d", "1ms", "instants"), ("soon", "1h", "1s", "ISO 8601"),
])
def test_bad_spans(start, duration, step, message):
    with pytest.raises(InputError, match=message):
        TimeGrid.from_span(start, duration, step)


def test_dut1_against_skyfield_builtin_table():
    """Our bundled IERS table vs Skyfield's own bundled IERS data on measured (not predicted)
    days: both are IERS Bulletin A values (measured 1e-14 s apart)."""
    eop = default_eop()
    ts = load.timescale(builtin=True)
    days = np.arange(0, 8000, 37) + 51544.0  # 2000 … 2021
    t = ts.utc(1858, 11, 17 + days)  # UTC MJD → Skyfield time
    ours = eop.dut1(days)
    theirs = t.dut1
    assert np.abs(ours - theirs).max() < 1e-6


def test_dut1_across_a_leap_second():
    """UT1−UTC jumps by +1 s at 2017-01-01 and is smooth in UT1−TAI on either side."""
    eop = default_eop()
    before = eop.dut1(np.array([57753.999999]))[0]
    after = eop.dut1(np.array([57754.0]))[0]
    assert after - before == pytest.approx(1.0, abs=1e-4)
    assert -0.9 < before < -0.3 and 0.1 < after < 0.9
    xp, yp = eop.polar_motion(np.array([60000.0]))
    assert 0 < abs(xp[0]) < 1e-5 and 0 < abs(yp[0]) < 1e-5  # radians: ≲ 0.6″
    assert eop.covers(np.array([60000.0]))[0] and not eop.covers(np.array([80000.0]))[0]
