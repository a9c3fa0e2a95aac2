"""A Skyfield ``Timescale`` fed from leotwin's EOP table, for cross-checks on the same UT1.

Skyfield is an independent reference, not a dependency of leotwin: this helper lives with the
tests (the benchmarks import it from here too) and imports Skyfield lazily.
Skyfield takes ΔT = TT − UT1 = (TAI−UTC) + 32.184 s − (UT1−UTC) on
a TT grid, leap seconds as (JD of the change, new TAI−UTC), and polar motion as (TT, x″, y″).
"""

from __future__ import annotations

from leotwin.timegrid.eop import EarthOrientation, default_eop


def skyfield_timescale(eop: EarthOrientation | None = None, polar_motion: bool = True):
    """A ``skyfield.timelib.Timescale`` whose UT1 and polar motion are ``eop``'s."""
    from skyfield.timelib import Timescale

    eop = eop or default_eop()
    tai_utc = eop.tai_minus_utc(eop.mjd)
    daily_tt = eop.mjd + 2400000.5 + (tai_utc + 32.184) / 86400.0
    delta_t = tai_utc + 32.184 - eop.dut1_s
    ts = Timescale((daily_tt, delta_t), eop.leap_mjd[1:] + 2400000.5, eop.tai_utc_s[1:])
    if polar_motion:
        ts.polar_motion_table = (daily_tt, eop.xp_arcsec, eop.yp_arcsec)
    return ts
