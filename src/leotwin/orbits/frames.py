"""TEME → ITRF: the rotation by GMST-82 at UT1, and polar motion.

SGP4 returns positions in TEME ("true equator, mean equinox"), a quasi-inertial frame of date.
Vallado et al., "Revisiting Spacetrack Report #3", AIAA 2006-6753, Appendix C, define the way to
the Earth-fixed frame (PHYSICS.md §5.2)::

    θ = GMST-82(UT1)                       (IAU 1982 model, Aoki et al. 1982)
    r_PEF = R3(θ) r_TEME
    v_PEF = R3(θ) v_TEME − ω⊕ẑ × r_PEF
    r_ITRF = Wᵀ r_PEF,  v_ITRF = Wᵀ v_PEF  (polar motion x_p, y_p)

with R3(θ) = [[cosθ, sinθ, 0], [−sinθ, cosθ, 0], [0, 0, 1]].  ω⊕ is dθ/dt of the same GMST
polynomial (≈ 7.292115855e-5 rad/s), as in Skyfield.  Wᵀ uses the first-order (small-angle) form
[[1, 0, x_p], [0, 1, −y_p], [−x_p, y_p, 1]]; the neglected second-order terms are < 1e-11 rad,
sub-millimetre at LEO.

Treating TEME as GCRS would cost ~42 km; GAST instead of GMST ~0.5 km; UTC instead of UT1 up to
0.46 km (PHYSICS.md §5.3).  Arrays are satellite-major ``(N, T, 3)`` as ``SatrecArray`` gives them
and are rotated in place.
"""

from __future__ import annotations

import numpy as np

from leotwin.timegrid.eop import EarthOrientation
from leotwin.timegrid.grid import MJD_OFFSET

DAY_S = 86_400.0
J2000_JD = 2451545.0
TAU = 2.0 * np.pi


def gmst82(jd_ut1: np.ndarray, fr_ut1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GMST (IAU 1982) in radians and its rate in rad/s, from a split UT1 Julian date.

    θ[s] = 67310.54841 + (876600·3600 + 8640184.812866)·T + 0.093104·T² − 6.2e−6·T³,
    T = (JD_UT1 − 2451545.0)/36525 (AIAA 2006-6753 App. C, eq. C-5).  The 876600·3600·T term is
    whole days plus the day fraction, so we add the UT1 day fraction directly and keep the small
    polynomial separately, which preserves precision in float64.
    """
    t = ((jd_ut1 - J2000_JD) + fr_ut1) / 36525.0
    g = 67310.54841 + (8640184.812866 + (0.093104 - 6.2e-6 * t) * t) * t
    dg = 8640184.812866 + (2.0 * 0.093104 - 3.0 * 6.2e-6 * t) * t
    theta = ((jd_ut1 % 1.0) + fr_ut1 + (g / DAY_S) % 1.0) % 1.0 * TAU
    theta_dot = (1.0 + dg / (DAY_S * 36525.0)) * TAU / DAY_S
    return theta, theta_dot


def earth_rotation(
    jd_utc: np.ndarray, fr_utc: np.ndarray, eop: EarthOrientation | None, polar_motion: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """GMST-82 angle, rate and polar motion at UTC instants: (θ, θ̇ [rad/s], x_p, y_p [rad]).

    ``eop=None`` uses UT1 = UTC and no polar motion.
    """
    jd_utc = np.asarray(jd_utc, dtype=np.float64)
    fr_utc = np.asarray(fr_utc, dtype=np.float64)
    if eop is None:
        theta, theta_dot = gmst82(jd_utc, fr_utc)
        zero = np.zeros_like(theta)
        return theta, theta_dot, zero, zero
    mjd = (jd_utc - MJD_OFFSET) + fr_utc
    theta, theta_dot = gmst82(jd_utc, fr_utc + eop.dut1(mjd) / DAY_S)
    if polar_motion:
        xp, yp = eop.polar_motion(mjd)
    else:
        xp = yp = np.zeros_like(theta)
    return theta, theta_dot, xp, yp


def teme_to_itrf_inplace(
    r: np.ndarray,
    v: np.ndarray | None,
    theta: np.ndarray,
    theta_dot: np.ndarray,
    xp: np.ndarray,
    yp: np.ndarray,
) -> None:
    """Rotate TEME position (and velocity) arrays ``(..., T, 3)`` to ITRF in place.

    ``theta``, ``theta_dot``, ``xp``, ``yp`` have shape (T,) and broadcast over leading axes.
    Units: km and km/s in, km and km/s out.
    """
    c = np.cos(theta)
    s = np.sin(theta)
    x = r[..., 0].copy()
    y = r[..., 1]
    r[..., 0] = c * x + s * y
    r[..., 1] = c * y - s * x  # y is a view: read before the write completes (numpy buffers)
    if v is not None:
        vx = v[..., 0].copy()
        vy = v[..., 1]
        v[..., 0] = c * vx + s * vy + theta_dot * r[..., 1]
        v[..., 1] = c * vy - s * vx - theta_dot * r[..., 0]
    if np.any(xp) or np.any(yp):
        _polar_motion_inplace(r, xp, yp)
        if v is not None:
            _polar_motion_inplace(v, xp, yp)


def _polar_motion_inplace(a: np.ndarray, xp: np.ndarray, yp: np.ndarray) -> None:
    """a ← Wᵀ a with Wᵀ ≈ [[1, 0, x_p], [0, 1, −y_p], [−x_p, y_p, 1]] (Vallado App. C, C-9)."""
    x = a[..., 0].copy()
    y = a[..., 1].copy()
    z = a[..., 2]
    a[..., 0] = x + xp * z
    a[..., 1] = y - yp * z
    a[..., 2] = z - xp * x + yp * y


def teme_to_itrf(r_teme, v_teme, jd_utc, fr_utc, eop=None, polar_motion: bool = True):
    """Convenience form: copies of TEME ``(..., T, 3)`` arrays rotated to ITRF."""
    r = np.array(r_teme, dtype=np.float64, copy=True)
    v = None if v_teme is None else np.array(v_teme, dtype=np.float64, copy=True)
    theta, theta_dot, xp, yp = earth_rotation(
        np.atleast_1d(jd_utc), np.atleast_1d(fr_utc), eop, polar_motion
    )
    teme_to_itrf_inplace(r, v, theta, theta_dot, xp, yp)
    return r, v
