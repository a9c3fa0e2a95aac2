"""Walker constellations: shells of P planes × S satellites with every parameter explicit.

Walker delta pattern i: T/P/F (Walker, "Satellite constellations", J. Brit. Interplanet. Soc. 37,
1984): plane p (0 … P−1) has right ascension Ω_p = Ω₀ + p·Δ/P with Δ = 360° (delta) or 180°
(star); satellite j (0 … S−1) in plane p has mean anomaly

    M_pj = j·360°/S + p·F·360°/T,   T = P·S,  F ∈ {0 … P−1}.

Hypatia's generator (snkas/hypatia ``satgen``) uses no F but a "half-slot shift on odd planes":
M_pj = j·360°/S + (p mod 2)·180°/S; it is the named phasing ``"hypatia-half-slot"``.

Altitude is converted to the SGP4 (Kozai) mean motion such that the orbit-averaged geocentric
radius equals R⊕ + h, R⊕ = 6378.135 km (SGP4's WGS-72 equatorial radius) — what a filing's
"550 km shell" means.  The geodetic height of a circular orbit still varies by ~20 km along the
orbit because the Earth is flattened.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from pydantic import BeforeValidator, ConfigDict, Field, StrictInt
from sgp4.api import WGS72, Satrec

from leotwin.errors import InputError
from leotwin.geodesy import MU_WGS72_KM3_S2
from leotwin.geodesy import WGS72 as WGS72_ELLIPSOID
from leotwin.orbits.tle import with_checksum
from leotwin.timegrid.grid import NS_PER_DAY, ns_to_iso, parse_time

MU_WGS72 = MU_WGS72_KM3_S2

#: the most satellites one shell may hold: about three times the largest filing ever made
#: (Rwanda's CINNAMON-937 at the ITU, 337,320 satellites), so a typo is refused before any
#: array is built
MAX_SHELL_SATELLITES = 1_000_000

R_WGS72 = WGS72_ELLIPSOID.a_km  # km, SGP4's Earth radius
DAYS_1949_TO_1970 = 7306.0  # SGP4 epochs count days from 1949-12-31 00:00 UTC (JD 2433281.5)

Phasing = Literal["walker", "hypatia-half-slot"]


def _text(v):
    """YAML reads ``name: 1`` as an int and an unquoted epoch as a datetime: keep them text."""
    return v.isoformat() if hasattr(v, "isoformat") else str(v)


Text = Annotated[str, BeforeValidator(_text)]


@dataclass(frozen=True)
class WalkerShell:
    """One shell.  Give ``altitude_km`` *or* ``mean_motion_rev_day``.

    Attributes
    ----------
    name: shell label used in satellite ids (``"1"``, ``"4a"``, ``"A"``).
    planes, sats_per_plane: P and S.
    inclination_deg: orbit inclination.
    phasing_f: Walker F (0 … P−1), ignored for ``phasing="hypatia-half-slot"``.
    raan_spread_deg: 360 (Walker delta) or 180 (Walker star).
    raan0_deg: right ascension of plane 0.
    eccentricity, arg_perigee_deg: the same for every satellite.
    epoch: ISO 8601 UTC epoch of the elements.
    bstar: drag term (1/earth radii); 0 means no drag.
    source: citation (FACTS.md key or filing).

    The same class is the ``constellation.shells`` entry of a scenario file: pydantic validates
    the annotated bounds and rejects unknown keys, then ``__post_init__`` checks the rest.
    """

    __pydantic_config__ = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: Text
    planes: Annotated[StrictInt, Field(ge=1)]
    sats_per_plane: Annotated[StrictInt, Field(ge=1)]
    inclination_deg: Annotated[float, Field(ge=0, le=180)]
    altitude_km: float | None = None
    mean_motion_rev_day: float | None = None
    phasing_f: Annotated[StrictInt, Field(ge=0)] = 1
    phasing: Phasing = "walker"
    raan_spread_deg: float = 360.0
    raan0_deg: float = 0.0
    eccentricity: Annotated[float, Field(ge=0, lt=1)] = 0.0
    arg_perigee_deg: float = 0.0
    epoch: Text = "2026-01-01T00:00:00Z"
    bstar: float = 0.0
    source: str = ""

    def __post_init__(self) -> None:
        where = f"shell {self.name}"
        if (self.altitude_km is None) == (self.mean_motion_rev_day is None):
            raise InputError("give altitude_km or mean_motion_rev_day (exactly one)", field=where)
        if self.planes < 1 or self.sats_per_plane < 1:
            raise InputError("planes and sats_per_plane must be at least 1", field=where)
        if self.planes * self.sats_per_plane > MAX_SHELL_SATELLITES:
            raise InputError(f"{self.planes:,} planes × {self.sats_per_plane:,} satellites is "
                             f"{self.planes * self.sats_per_plane:,} satellites: expected at most "
                             f"{MAX_SHELL_SATELLITES:,} in a shell (the largest filing, "
                             "CINNAMON-937, has 337,320 in all)", field=where)
        if not 0 <= self.phasing_f < self.planes:
            raise InputError(f"phasing F must be in 0 … {self.planes - 1}, got {self.phasing_f}",
                             field=where)
        if self.phasing not in ("walker", "hypatia-half-slot"):
            raise InputError(f"phasing must be walker or hypatia-half-slot, got {self.phasing}",
                             field=where)
        if self.raan_spread_deg not in (180.0, 360.0):
            raise InputError("raan_spread_deg must be 360 (delta) or 180 (star)", field=where)
        if not 0.0 <= self.inclination_deg <= 180.0:
            raise InputError("inclination_deg must be within [0, 180]", field=where)
        if not 0.0 <= self.eccentricity < 1.0:
            raise InputError("eccentricity must be within [0, 1)", field=where)
        if self.altitude_km is not None and not 100.0 <= self.altitude_km <= 40_000.0:
            raise InputError("altitude_km must be within [100, 40000]", field=where)
        if self.mean_motion_rev_day is not None and not 0.9 < self.mean_motion_rev_day < 17.0:
            raise InputError("mean_motion_rev_day must be within (0.9, 17)", field=where)
        parse_time(self.epoch, source=f"{where} epoch")

    @property
    def size(self) -> int:
        """T = P·S."""
        return self.planes * self.sats_per_plane

    def raan_deg(self) -> np.ndarray:
        """Right ascension of each satellite's plane, shape (P·S,), plane-major order."""
        p = np.repeat(np.arange(self.planes), self.sats_per_plane)
        return (self.raan0_deg + p * self.raan_spread_deg / self.planes) % 360.0

    def mean_anomaly_deg(self) -> np.ndarray:
        """Mean anomaly of each satellite at epoch, shape (P·S,), plane-major order."""
        p = np.repeat(np.arange(self.planes), self.sats_per_plane)
        j = np.tile(np.arange(self.sats_per_plane), self.planes)
        m = j * 360.0 / self.sats_per_plane
        if self.phasing == "walker":
            m = m + p * self.phasing_f * 360.0 / self.size
        else:
            m = m + (p % 2) * 180.0 / self.sats_per_plane
        return m % 360.0

    def mean_motion(self) -> float:
        """Kozai mean motion in rev/day (given, or solved from the altitude)."""
        if self.mean_motion_rev_day is not None:
            return float(self.mean_motion_rev_day)
        assert self.altitude_km is not None  # the model requires one of the two
        return mean_motion_for_altitude(self.altitude_km, self.inclination_deg, self.eccentricity)

    def epoch_days_1949(self) -> float:
        """Epoch as SGP4 wants it: days since 1949-12-31 00:00 UTC."""
        return DAYS_1949_TO_1970 + parse_time(self.epoch) / NS_PER_DAY

    def sgp4init_args(self, first_satnum: int = 1) -> list[tuple]:
        """Arguments of ``Satrec.sgp4init(WGS72, 'i', …)`` for every satellite (plane-major)."""
        n_rad_min = self.mean_motion() * 2.0 * math.pi / 1440.0
        deg = math.pi / 180.0
        epoch = self.epoch_days_1949()
        raan = self.raan_deg()
        ma = self.mean_anomaly_deg()
        return [
            (first_satnum + k, epoch, self.bstar, 0.0, 0.0, self.eccentricity,
             self.arg_perigee_deg * deg, self.inclination_deg * deg, float(ma[k]) * deg,
             n_rad_min, float(raan[k]) * deg)
            for k in range(self.size)
        ]

    def hypatia_tle_lines(self, name: str) -> list[tuple[str, str, str]]:
        """Hypatia's TLE recipe: (name, line 1, line 2) per satellite, as its ``satgen`` writes.

        Epoch field ``00001.00000000`` (2000-01-01 00:00 UTC), all drag terms zero, eccentricity
        written with 7 implied digits, angles rounded to 1e-4° and mean motion to 1e-8 rev/day by
        the TLE text (reproduced deliberately: Hypatia's golden files come from these lines).
        """
        if parse_time(self.epoch) != parse_time("2000-01-01T00:00:00Z"):
            raise InputError("Hypatia TLEs have the epoch 2000-01-01 00:00 UTC", field=self.name)
        ecc = f"{round(self.eccentricity * 1e7):07d}"
        raan, ma = self.raan_deg(), self.mean_anomaly_deg()
        out = []
        for k in range(self.size):
            num = k + 1
            l1 = f"1 {num:05d}U 00000ABC 00001.00000000  .00000000  00000-0  00000+0 0    0"
            l2 = (f"2 {num:05d} {self.inclination_deg:8.4f} {raan[k]:8.4f} {ecc} "
                  f"{self.arg_perigee_deg:8.4f} {ma[k]:8.4f} {self.mean_motion():11.8f}    0")
            out.append((f"{name} {k}", with_checksum(l1), with_checksum(l2)))
        return out


def mean_motion_for_altitude(altitude_km: float, inclination_deg: float,
                             eccentricity: float = 0.0) -> float:
    """Kozai mean motion (rev/day) whose SGP4 orbit has a mean geocentric radius R_WGS72 + h.

    Kepler's n = √(μ/a³) is only a start: with J2, the orbit-averaged radius differs from SGP4's
    Brouwer mean semi-major axis by ≈ J2·R²/a·(1 − 1.5 sin²i) — up to ~5 km at 33°, nearly
    nothing near 54.7°.  We propagate one satellite over one revolution (128 samples) and
    correct n by (r̄/a_target)^{3/2} until r̄ is within 1 m of R_WGS72 + h (3-4 steps).
    """
    target = R_WGS72 + altitude_km
    n = math.sqrt(MU_WGS72 / target**3) * 60.0  # rad/min
    incl = math.radians(inclination_deg)
    for _ in range(8):
        sat = Satrec()
        sat.sgp4init(WGS72, "i", 1, 27000.0, 0.0, 0.0, 0.0, eccentricity, 0.0, incl, 0.0, n, 0.0)
        period_min = 2.0 * math.pi / n
        t = np.arange(128) * period_min / 128
        fr = t / 1440.0
        _, r, _ = sat.sgp4_array(np.full(t.shape, sat.jdsatepoch), sat.jdsatepochF + fr)
        mean_radius = float(np.linalg.norm(r, axis=1).mean())
        n *= (mean_radius / target) ** 1.5
        if abs(mean_radius - target) < 1e-3:
            break
    return n * 1440.0 / (2.0 * math.pi)


def describe_epoch(shell: WalkerShell) -> str:
    """The shell's epoch normalised to ISO 8601 Z."""
    return ns_to_iso(parse_time(shell.epoch))
