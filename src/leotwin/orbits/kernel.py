"""The SGP4 block kernel and its inputs and outputs: options, the ephemeris, the kernel itself.

This module is what the serial path (``orbits.propagate``) and the process-parallel path
(``orbits.parallel``) share; each depends on it and not on the other.  The hot path is
python-sgp4's C++ ``SatrecArray`` (Vallado's SGP4, WGS-72) writing into preallocated buffers,
then numpy for the Earth rotation (``frames``) and WGS-84 geodetic coordinates (``geodesy``).
Arrays are satellite-major: ``r[n, t, :]`` is satellite n at instant t, in km; ``v`` in km/s.

SGP4 error codes (python-sgp4 ``SGP4_ERRORS``): 1 mean eccentricity out of range, 2 mean motion
negative, 3 perturbed eccentricity out of range, 4 semi-latus rectum negative, 6 decayed (the
satellite is below the surface).  The C++ loop NaN-fills codes 1–5 and keeps a position for 6;
we set every errored state to NaN and return the codes in ``error`` so callers can say why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from sgp4.api import SGP4_ERRORS, SatrecArray

from leotwin.geodesy import ecef_to_geodetic
from leotwin.orbits.frames import earth_rotation, teme_to_itrf_inplace
from leotwin.orbits.satellites import SatelliteSet
from leotwin.timegrid.eop import EarthOrientation, default_eop
from leotwin.timegrid.grid import TimeGrid, ns_to_iso

Frame = Literal["itrf", "teme"]
#: Default states per streamed time block (satellites × instants): 2**18 states ≈ 18 MiB.
DEFAULT_BLOCK_STATES = 1 << 18
#: States per kernel chunk: small enough that the numpy passes over a chunk stay in cache
#: (2**16 states ≈ 4.6 MiB; measured 12 % faster than 2**18 for starlink-gen1 over a day).
KERNEL_CHUNK_STATES = 1 << 16
BYTES_PER_STATE = 3 * 8 + 3 * 8 + 1 + 3 * 8  # r, v, error code, lat/lon/alt


@dataclass
class PropagationOptions:
    """How to turn SGP4 output into positions.

    frame: ``"itrf"`` (Earth-fixed, default) or ``"teme"`` (SGP4's own frame).
    geodetic: also compute WGS-84 latitude, longitude (deg) and height (km) of each state.
    eop: Earth-orientation table for UT1 and polar motion; ``None`` means UT1 = UTC, no polar
        motion (only to reproduce tools that ignore them).
    polar_motion: apply x_p, y_p from ``eop`` (≲ 20 m at LEO).
    """

    frame: Frame = "itrf"
    geodetic: bool = True
    eop: EarthOrientation | None = field(default_factory=default_eop)
    polar_motion: bool = True

    def __post_init__(self) -> None:
        if self.frame not in ("itrf", "teme"):
            from leotwin.errors import InputError

            raise InputError(f"unknown frame '{self.frame}': expected itrf or teme",
                             source="--frame")


@dataclass
class Ephemeris:
    """Propagated states of N satellites at T instants (satellite-major arrays).

    r_km, v_km_s: float64 (N, T, 3) in ``frame``; NaN where ``error`` ≠ 0.
    error: uint8 (N, T) SGP4 error code, 0 = fine.
    lat_deg, lon_deg, alt_km: float64 (N, T) WGS-84 geodetic, or None if not asked.
    """

    sat_ids: list[str]
    grid: TimeGrid
    frame: Frame
    r_km: np.ndarray
    v_km_s: np.ndarray
    error: np.ndarray
    lat_deg: np.ndarray | None = None
    lon_deg: np.ndarray | None = None
    alt_km: np.ndarray | None = None

    def error_summary(self) -> list[dict]:
        """One entry per satellite with errors: code, message, first time and count of states."""
        out = []
        for n in np.flatnonzero(self.error.any(axis=1)):
            bad = np.flatnonzero(self.error[n])
            code = int(self.error[n, bad[0]])
            out.append({
                "sat_id": self.sat_ids[n],
                "code": code,
                "message": SGP4_ERRORS.get(code, "unknown error"),
                "first_time": ns_to_iso(self.grid.start_ns + int(bad[0]) * self.grid.step_ns),
                "states": int(bad.size),
            })
        return out


def block_instants(n_sats: int, block_states: int = DEFAULT_BLOCK_STATES) -> int:
    """Instants per time block so that one block holds about ``block_states`` states."""
    return max(1, block_states // max(1, n_sats))


class BlockKernel:
    """Propagates a fixed list of satellites into caller-owned, satellite-major arrays.

    The satellites are cut into chunks of about ``chunk_states / T`` satellites, each with its
    own ``SatrecArray``; SGP4 writes every chunk straight into its contiguous rows of the output
    (no copy), and the Earth rotation is evaluated once per instant for all chunks.
    """

    def __init__(self, sats: SatelliteSet, options: PropagationOptions,
                 chunk_states: int = KERNEL_CHUNK_STATES):
        self.sats = sats
        self.n = len(sats)
        self.options = options
        self.chunk_states = chunk_states
        self._chunks: tuple[int, list] | None = None

    def _arrays(self, t: int) -> list[tuple[int, int, Any]]:
        size = max(1, self.chunk_states // max(1, t))
        if self._chunks is None or self._chunks[0] != size:
            self.sats.satrec_array  # noqa: B018 - checks that the C++ extension is present
            chunks = [(a, min(a + size, self.n), SatrecArray(self.sats.satrecs[a:a + size]))
                      for a in range(0, self.n, size)]
            self._chunks = (size, chunks)
        return self._chunks[1]

    def run(self, grid: TimeGrid, r_out: np.ndarray, v_out: np.ndarray, e_out: np.ndarray,
            geo_out: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
        """Fill ``r_out``/``v_out`` (n, t, 3) float64, ``e_out`` (n, t) uint8 and optionally
        ``geo_out`` = (lat, lon, alt), each (n, t), for the instants of ``grid``.  All outputs
        must be C-contiguous."""
        opt = self.options
        jd, fr = grid.jd_fr()
        rot = earth_rotation(jd, fr, opt.eop, opt.polar_motion)
        for a, b, array in self._arrays(grid.count):
            r, v, e = r_out[a:b], v_out[a:b], e_out[a:b]
            array._sgp4(jd, fr, e, r, v)  # python-sgp4's buffer-filling entry point
            if opt.frame == "itrf":
                teme_to_itrf_inplace(r, v, *rot)
                r_itrf = r
            elif geo_out is not None:
                r_itrf = r.copy()
                teme_to_itrf_inplace(r_itrf, None, *rot)
            bad = e != 0
            if bad.any():
                r[bad] = np.nan
                v[bad] = np.nan
                if geo_out is not None:
                    r_itrf[bad] = np.nan
            if geo_out is not None:
                ecef_to_geodetic(r_itrf[..., 0], r_itrf[..., 1], r_itrf[..., 2],
                                 out=(geo_out[0][a:b], geo_out[1][a:b], geo_out[2][a:b]))


def allocate(n: int, t: int, geodetic: bool):
    r = np.empty((n, t, 3))
    v = np.empty((n, t, 3))
    e = np.empty((n, t), dtype=np.uint8)
    geo = tuple(np.empty((n, t)) for _ in range(3)) if geodetic else None
    return r, v, e, geo
