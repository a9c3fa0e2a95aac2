"""Passes of satellites over a ground site: rise, culmination and set above an elevation mask.

Coarse sampling (default every 10 s) finds the sign changes of el(t) − ε and the local maxima;
each event is then refined on the continuous SGP4 → ITRF → topocentric elevation: rise and set
by Brent's method (``scipy.optimize.brentq``, 1e-4 s), culmination by bounded minimisation of
−el (``minimize_scalar``, 1e-3 s).  A pass already in progress at the window's start has no
rise time, one still in progress at its end no set time.  Sampling also refines local maxima
that come within 3° of the mask between samples, so short grazing passes are not missed.  A
maximum on the window's edge is no culmination: its time is empty and ``max_elevation_deg`` is
then the highest elevation within the window.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from leotwin.geodesy import enu_basis, geodetic_to_ecef
from leotwin.ground.sites import check_mask
from leotwin.links.elevation import elevation_deg
from leotwin.orbits.frames import earth_rotation, teme_to_itrf_inplace
from leotwin.orbits.propagate import PropagationOptions, iter_propagate
from leotwin.orbits.satellites import SatelliteSet
from leotwin.timegrid.eop import default_eop
from leotwin.timegrid.grid import NS_PER_S, TimeGrid, ns_to_jd_fr

PASS_COLUMNS = ("sat_id", "rise_time", "culmination_time", "set_time", "max_elevation_deg")


class _Elevation:
    """Continuous elevation of one satellite at a site (seconds since ``t0_ns``)."""

    def __init__(self, satrec, site, up, t0_ns: int, eop):
        self.sat, self.site, self.up, self.t0, self.eop = satrec, site, up, t0_ns, eop

    def __call__(self, seconds) -> np.ndarray:
        s = np.atleast_1d(np.asarray(seconds, dtype=np.float64))
        ns = self.t0 + np.round(s * NS_PER_S).astype(np.int64)
        jd, fr = ns_to_jd_fr(ns)
        _, r, _ = self.sat.sgp4_array(jd, fr)
        r = r[None]
        teme_to_itrf_inplace(r, None, *earth_rotation(jd, fr, self.eop))
        return elevation_deg(r[0] - self.site, self.up)


def find_passes(sats: SatelliteSet, lat_deg: float, lon_deg: float, alt_km: float,
                grid: TimeGrid, min_elevation_deg: float = 25.0, *, workers: int = 1
                ) -> list[dict]:
    """Passes above the mask during ``grid``'s span, sampled at ``grid``'s step then refined.

    Returns dicts with ``sat_id``, ``rise_time``/``culmination_time``/``set_time`` (UTC ns, or
    None outside the window) and ``max_elevation_deg``, ordered by culmination.
    """
    mask = check_mask(min_elevation_deg)
    site = geodetic_to_ecef(lat_deg, lon_deg, alt_km)
    up = enu_basis(lat_deg, lon_deg)[2]
    eop = default_eop()
    options = PropagationOptions(geodetic=False, eop=eop)
    blocks = [b for b in iter_propagate(sats, grid, options, workers=workers)]
    el = np.concatenate([elevation_deg(b.r_km - site, up) for b in blocks], axis=1)
    step = grid.step_ns / NS_PER_S
    end = (grid.count - 1) * step
    passes = []
    for n in range(len(sats)):
        e = el[n]
        if not np.isfinite(e).any() or np.nanmax(e) < mask - 3.0:
            continue
        f = _Elevation(sats.satrecs[n], site, up, grid.start_ns, eop)
        passes += _passes_of(sats.ids[n], e, f, mask, step, end, grid.start_ns)
    def order(p):
        t = p["culmination_time"] or p["rise_time"] or p["set_time"] or grid.start_ns
        return (t, p["sat_id"])

    passes.sort(key=order)
    return passes


def _passes_of(sat_id, e, f, mask, step, end, t0_ns) -> list[dict]:
    above = e >= mask
    k = np.arange(len(e))
    intervals: list[tuple[int | None, int | None]] = []  # (start or None, end or None)
    start = None if above[0] else -1
    for i in range(1, len(e)):
        if above[i] and not above[i - 1]:
            start = i
        elif not above[i] and above[i - 1]:
            intervals.append((start, i))
            start = -1
    if above[-1]:
        intervals.append((start, None))
    # local maxima below the mask but close to it: a short pass may hide between samples
    inner = k[1:-1]
    peaks = inner[(e[inner] >= e[inner - 1]) & (e[inner] >= e[inner + 1]) & ~above[inner]
                  & (e[inner] > mask - 3.0)]
    out = []

    def ns(seconds):
        return None if seconds is None else t0_ns + round(seconds * NS_PER_S)

    def g(x):
        return float(f(x)[0]) - mask

    for a, b in intervals:
        lo = 0.0 if a is None else (a - 1) * step
        hi = end if b is None else b * step
        rise = None if a is None else brentq(g, (a - 1) * step, a * step, xtol=1e-4)
        sett = None if b is None else brentq(g, (b - 1) * step, b * step, xtol=1e-4)
        top = minimize_scalar(lambda x: -float(f(x)[0]), bounds=(lo, hi), method="bounded",
                              options={"xatol": 1e-3})
        # a maximum on the window's edge is not a culmination (still rising at the end, or
        # already past it at the start): no time, and the peak is the highest within the window
        at_edge = (a is None and top.x - lo < 0.01) or (b is None and hi - top.x < 0.01)
        out.append({"sat_id": sat_id, "rise_time": ns(rise),
                    "culmination_time": None if at_edge else ns(top.x),
                    "set_time": ns(sett), "max_elevation_deg": float(-top.fun)})
    for p in peaks:
        top = minimize_scalar(lambda x: -float(f(x)[0]), bounds=((p - 1) * step, (p + 1) * step),
                              method="bounded", options={"xatol": 1e-3})
        if -top.fun >= mask:
            rise = brentq(g, (p - 1) * step, top.x, xtol=1e-4)
            sett = brentq(g, top.x, (p + 1) * step, xtol=1e-4)
            out.append({"sat_id": sat_id, "rise_time": ns(rise), "culmination_time": ns(top.x),
                        "set_time": ns(sett), "max_elevation_deg": float(-top.fun)})
    return out
