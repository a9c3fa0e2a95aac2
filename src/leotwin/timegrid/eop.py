"""Earth-orientation parameters: UT1−UTC, polar motion and leap seconds from a bundled IERS table.

GMST-82, the angle that turns SGP4's TEME frame into the pseudo-Earth-fixed frame, is a function
of UT1, not UTC; using UTC instead costs up to 0.46 km at LEO (|UT1−UTC| < 0.9 s; PHYSICS.md §5.3).
Polar motion (x_p, y_p) moves the pole by ≲ 0.6″, ≲ 20 m at LEO radius.

The table is IERS ``finals2000A.all`` (Bulletin A) from 1980 on, daily at 0h UTC, with about a
year of predictions (see ``data/eop/finals2000A_daily.csv`` for its provenance; rebuilt by
``scripts/build_eop_table.py``).  Between days we interpolate linearly in UT1−TAI, which is
continuous across leap seconds, and add TAI−UTC back.  Outside the table the nearest value is held
(``covers`` tells whether a time is inside).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

ARCSEC_TO_RAD = np.pi / (180.0 * 3600.0)


@dataclass(frozen=True)
class EarthOrientation:
    """Daily EOP samples (UTC MJD at 0h) with leap seconds.

    Attributes
    ----------
    mjd: float64 (D,) UTC modified Julian dates of the samples.
    dut1_s: float64 (D,) UT1−UTC in seconds.
    xp_arcsec, yp_arcsec: float64 (D,) polar motion in arcseconds.
    predicted: bool (D,) True where the sample is an IERS prediction.
    leap_mjd, tai_utc_s: the TAI−UTC step function (in force from ``leap_mjd`` on).
    """

    mjd: np.ndarray
    dut1_s: np.ndarray
    xp_arcsec: np.ndarray
    yp_arcsec: np.ndarray
    predicted: np.ndarray
    leap_mjd: np.ndarray
    tai_utc_s: np.ndarray

    def tai_minus_utc(self, mjd_utc: np.ndarray) -> np.ndarray:
        """TAI−UTC in seconds at the given UTC MJDs (10 s before 1972)."""
        idx = np.searchsorted(self.leap_mjd, mjd_utc, side="right") - 1
        return np.where(idx >= 0, self.tai_utc_s[np.clip(idx, 0, None)], 10.0)

    def dut1(self, mjd_utc: np.ndarray) -> np.ndarray:
        """UT1−UTC in seconds, interpolated linearly in UT1−TAI between daily samples."""
        mjd_utc = np.asarray(mjd_utc, dtype=np.float64)
        ut1_tai_samples = self.dut1_s - self.tai_minus_utc(self.mjd)
        ut1_tai = np.interp(mjd_utc, self.mjd, ut1_tai_samples)
        return ut1_tai + self.tai_minus_utc(mjd_utc)

    def polar_motion(self, mjd_utc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Polar motion (x_p, y_p) in radians, interpolated linearly."""
        mjd_utc = np.asarray(mjd_utc, dtype=np.float64)
        xp = np.interp(mjd_utc, self.mjd, self.xp_arcsec) * ARCSEC_TO_RAD
        yp = np.interp(mjd_utc, self.mjd, self.yp_arcsec) * ARCSEC_TO_RAD
        return xp, yp

    def covers(self, mjd_utc: np.ndarray) -> np.ndarray:
        """True where the table has samples around the time (measured or predicted)."""
        mjd_utc = np.asarray(mjd_utc, dtype=np.float64)
        return (mjd_utc >= self.mjd[0]) & (mjd_utc <= self.mjd[-1])


@cache
def default_eop() -> EarthOrientation:
    """The bundled IERS table (loaded once per process)."""
    from leotwin.data import eop_columns, leap_second_columns

    table = eop_columns()
    leaps = leap_second_columns()
    return EarthOrientation(
        mjd=table["mjd"].astype(np.float64),
        dut1_s=table["dut1_s"].astype(np.float64),
        xp_arcsec=table["xp_arcsec"].astype(np.float64),
        yp_arcsec=table["yp_arcsec"].astype(np.float64),
        predicted=table["flag"] == "P",
        leap_mjd=leaps["mjd"].astype(np.float64),
        tai_utc_s=leaps["tai_minus_utc_s"].astype(np.float64),
    )


def zero_eop() -> EarthOrientation:
    """A table with UT1 = UTC and no polar motion (for reproducing tools that ignore EOP)."""
    z = np.zeros(2)
    return EarthOrientation(
        mjd=np.array([0.0, 1e6]), dut1_s=z, xp_arcsec=z, yp_arcsec=z,
        predicted=np.zeros(2, bool), leap_mjd=np.array([0.0]), tai_utc_s=np.array([0.0]),
    )
