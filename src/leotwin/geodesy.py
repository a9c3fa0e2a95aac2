"""WGS-84 geodesy: geodetic ↔ Earth-fixed Cartesian, and local east/north/up frames.

Ellipsoid: WGS-84, a = 6378.137 km, f = 1/298.257223563 (NIMA TR8350.2).  Formulas from
Vallado, *Fundamentals of Astrodynamics and Applications*, 4th ed., §3.2–3.4 (SITE, ECEF→LLA),
as summarised in ``PHYSICS.md`` §5.4–5.5.  All lengths in km, angles in radians unless a name
ends in ``_deg``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Ellipsoid:
    """A reference ellipsoid: equatorial radius ``a_km`` and flattening ``f``."""

    name: str
    a_km: float
    f: float

    @property
    def e2(self) -> float:
        """First eccentricity squared, e² = f(2 − f)."""
        return self.f * (2.0 - self.f)

    @property
    def b_km(self) -> float:
        """Polar radius b = a(1 − f)."""
        return self.a_km * (1.0 - self.f)


WGS84 = Ellipsoid("WGS-84", 6378.137, 1.0 / 298.257223563)
#: WGS-72 (a = 6378.135 km, f = 1/298.26): SGP4's Earth (Hoots & Roehrich, Spacetrack Report
#: No. 3, 1980; Vallado et al. 2006, "Revisiting Spacetrack Report #3", AIAA 2006-6753) and the
#: ellipsoid Hypatia uses for its ground stations.
WGS72 = Ellipsoid("WGS-72", 6378.135, 1.0 / 298.26)
#: Earth's gravitational parameter in SGP4's WGS-72 constants, km³/s² (Vallado et al. 2006;
#: python-sgp4 ``wgs72``; PHYSICS.md §5.1).
MU_WGS72_KM3_S2 = 398600.8
#: Mean Earth radius R₁ = (2a + b)/3 of GRS 80, km (IUGG; H. Moritz, "Geodetic Reference System
#: 1980", Bulletin Géodésique 54, 1980): the sphere for great-circle distances.
MEAN_EARTH_RADIUS_KM = 6371.0088
#: Highest satellite altitude leotwin plans candidate searches for, km (LEO ends at 2,000 km,
#: IADC Space Debris Mitigation Guidelines, 2007, §3.3.2).
LEO_CEILING_KM = 2000.0


def geodetic_to_ecef(lat_deg, lon_deg, alt_km, ellipsoid: Ellipsoid = WGS84) -> np.ndarray:
    """Geodetic latitude/longitude (degrees) and height (km) → ECEF position (km), shape (..., 3).

    r = ((N+h)cosφ cosλ, (N+h)cosφ sinλ, (N(1−e²)+h) sinφ),  N = a/√(1 − e² sin²φ).
    """
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    h = np.asarray(alt_km, dtype=np.float64)
    sin_lat = np.sin(lat)
    cos_lat = np.cos(lat)
    n = ellipsoid.a_km / np.sqrt(1.0 - ellipsoid.e2 * sin_lat * sin_lat)
    return np.stack(
        [
            (n + h) * cos_lat * np.cos(lon),
            (n + h) * cos_lat * np.sin(lon),
            (n * (1.0 - ellipsoid.e2) + h) * sin_lat,
        ],
        axis=-1,
    )


def ecef_to_geodetic(
    x: np.ndarray,
    y: np.ndarray,
    z: np.ndarray,
    ellipsoid: Ellipsoid = WGS84,
    out: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ECEF (km) → geodetic latitude (deg), longitude (deg, −180…180] and height (km).

    Bowring's method (B. R. Bowring, "Transformation from spatial to geographical coordinates",
    Survey Review 23(181), 1976) with the reduced latitude β refined twice::

        tan β₀ = (a/b)·z/p,    tan φ = (z + e′²·b·sin³β) / (p − e²·a·cos³β),    tan β = (1−f) tan φ

    p = √(x² + y²), e′² = e²/(1 − e²), then h = p/cos φ − N(φ) (or z/sin φ − N(1−e²) near the
    poles).  Measured against exact inverses of :func:`geodetic_to_ecef` for heights −1 … 2 000 km:
    max error 8e-8 mas in latitude and 5e-6 mm in height — better than three fixed-point
    iterations (PHYSICS.md §5.4), and without trigonometric calls except two ``arctan``.
    ``out`` = (lat, lon, alt) arrays to write into.
    """
    a, b, e2 = ellipsoid.a_km, ellipsoid.b_km, ellipsoid.e2
    ep2_b = e2 / (1.0 - e2) * b
    e2_a = e2 * a
    x, y, z = np.asarray(x, np.float64), np.asarray(y, np.float64), np.asarray(z, np.float64)
    if out is None:
        lon = np.degrees(np.arctan2(y, x))
    else:
        lon = np.arctan2(y, x, out=out[1])
        np.degrees(lon, out=lon)
    p = np.maximum(np.sqrt(x * x + y * y), 1e-15)  # on the polar axis: avoid 0/0
    t = z * (a / b) / p  # tan β₀
    for _ in range(2):
        c = 1.0 / np.sqrt(1.0 + t * t)  # cos β
        s = t * c  # sin β
        num = z + ep2_b * s * s * s
        den = p - e2_a * c * c * c
        t = num / den * (b / a)
    tan_phi = num / den
    cos_phi = 1.0 / np.sqrt(1.0 + tan_phi * tan_phi)
    sin_phi = tan_phi * cos_phi
    n = a / np.sqrt(1.0 - e2 * sin_phi * sin_phi)
    near_pole = cos_phi < 1e-3
    h = p / cos_phi - n
    if np.any(near_pole):
        h = np.where(near_pole, z / np.where(near_pole, sin_phi, 1.0) - n * (1.0 - e2), h)
    if out is None:
        return np.degrees(np.arctan(tan_phi)), lon, h
    lat = np.arctan(tan_phi, out=out[0])
    np.degrees(lat, out=lat)
    out[2][...] = h
    return lat, lon, out[2]


def enu_basis(lat_deg, lon_deg) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit east, north and up vectors (ECEF) at geodetic latitude/longitude, each (..., 3).

    û = (cosφ cosλ, cosφ sinλ, sinφ), ê = (−sinλ, cosλ, 0), n̂ = (−sinφ cosλ, −sinφ sinλ, cosφ)
    — the geodetic (ellipsoid-normal) up, not the geocentric radial direction.
    """
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    east = np.stack([-so, co, np.zeros_like(so)], axis=-1)
    north = np.stack([-sl * co, -sl * so, cl], axis=-1)
    up = np.stack([cl * co, cl * so, sl], axis=-1)
    return east, north, up
