"""What terminals ask for: a busy-hour demand per plan, a diurnal profile in local time, a tier.

**Defaults** (:data:`PLANS`; every one can be replaced in a scenario or on the command line):

* ``down_mbps`` / ``up_mbps``: the mean demand of one terminal in the busy hour.  An
  assumption of the model, of the order of fixed broadband's busy-hour average per subscriber
  (a few Mbps: ~600 GB a month is 1.9 Mbps on average, and the busy hour carries about twice
  the mean); nothing Starlink publishes gives it.
* ``peak_mbps`` / ``peak_up_mbps``: what a speed test of one terminal reaches on a link at the
  best spectral efficiency when the network is not what limits it: 270 / 36 Mbps, the one
  global parameter (down and up) fitted on the calibration countries of Starlink's Dec 2025
  metrics (``benchmarks/capacity.py``; fit, leave-out and result in ``benchmarks/RESULTS.md``).
* ``tier``: the priority order of Starlink's plans (CAPACITY.md, 2025 plans and ToS): Priority
  (government, maritime and aviation are Priority data plans) 0 > Standard (Residential) 1 >
  Roam/Mobile 2 > Residential Lite 3 ("always deprioritised").

**Diurnal profile** (:data:`DIURNAL`): demand relative to the busy hour by local hour, 1.0 from
18 to 21 h (Starlink's "peak hours", latency report Mar 2024), a night trough of 0.15 at 4 h —
the usual shape of residential traffic (an assumption).  Local time is the IANA time zone of
the terminal's position (``timezonefinder``, polygons from timezone-boundary-builder, and the
standard library's ``zoneinfo`` with the ``tzdata`` package), so daylight saving is honoured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

#: busy-hour window in local time, hours [start, end) (Starlink, Mar 2024: 18–21 h)
BUSY_HOURS = (18, 21)

#: demand by local hour (0..23) relative to the busy hour (module docstring)
DIURNAL = np.array([0.45, 0.30, 0.20, 0.16, 0.15, 0.18, 0.25, 0.35, 0.45, 0.50, 0.55, 0.58,
                    0.60, 0.60, 0.62, 0.66, 0.72, 0.85, 1.00, 1.00, 1.00, 0.90, 0.75, 0.60])


@dataclass(frozen=True)
class PlanDemand:
    """A plan's demand per terminal (Mbps) and tier (0 = the highest priority)."""

    down_mbps: float
    up_mbps: float
    peak_mbps: float
    peak_up_mbps: float
    tier: int


#: default demand and tier per plan (module docstring); plans not listed take ``residential``'s
PEAK_MBPS, PEAK_UP_MBPS = 270.0, 36.0
PLANS: dict[str, PlanDemand] = {
    "government": PlanDemand(4.0, 0.6, PEAK_MBPS, PEAK_UP_MBPS, 0),
    "maritime": PlanDemand(4.0, 0.6, PEAK_MBPS, PEAK_UP_MBPS, 0),
    "aviation": PlanDemand(4.0, 0.6, PEAK_MBPS, PEAK_UP_MBPS, 0),
    "residential": PlanDemand(4.0, 0.6, PEAK_MBPS, PEAK_UP_MBPS, 1),
    "roam": PlanDemand(2.0, 0.3, PEAK_MBPS, PEAK_UP_MBPS, 2),
    "residential-lite": PlanDemand(4.0, 0.6, PEAK_MBPS, PEAK_UP_MBPS, 3),
}
TIER_NAMES = ("priority", "standard", "roam", "lite")


def plan_demand(plan: str, overrides: dict[str, PlanDemand] | None = None) -> PlanDemand:
    """The demand of ``plan``: ``overrides`` first, then :data:`PLANS`, else residential's."""
    if overrides and plan in overrides:
        return overrides[plan]
    return PLANS.get(plan, PLANS["residential"])


@lru_cache(maxsize=1)
def _finder():
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


def time_zones(lat_deg, lon_deg) -> np.ndarray:
    """(n,) the IANA time zone name at each point (``Etc/GMT±h`` at sea)."""
    tf = _finder()
    lat = np.asarray(lat_deg, float).ravel()
    lon = np.asarray(lon_deg, float).ravel()
    out = []
    for a, b in zip(lat, lon, strict=True):
        name = tf.timezone_at(lng=float(b), lat=float(a))
        if name is None:  # outside every polygon (the poles): nautical time
            name = f"Etc/GMT{-round(b / 15):+d}" if round(b / 15) else "UTC"
        out.append(name)
    return np.array(out, dtype=object)


def utc_offset_h(zones: np.ndarray, time_ns: np.ndarray) -> np.ndarray:
    """(n, t) the UTC offset (hours) of each zone at each instant (ns since the Unix epoch)."""
    names, inverse = np.unique(np.asarray(zones, dtype=str), return_inverse=True)
    t = np.asarray(time_ns, np.int64).ravel()
    per = np.empty((len(names), len(t)))
    for k, name in enumerate(names):
        tz = ZoneInfo(name)
        for j, ns in enumerate(t):
            moment = datetime.fromtimestamp(ns / 1e9, UTC)
            offset = tz.utcoffset(moment)
            per[k, j] = offset.total_seconds() / 3600.0 if offset is not None else 0.0
    return per[inverse.ravel()]


def local_hours(zones: np.ndarray, time_ns: np.ndarray) -> np.ndarray:
    """(n, t) local clock time in hours [0, 24) of each zone at each instant."""
    t = np.asarray(time_ns, np.int64).ravel()
    utc_h = (t % (86_400 * 10**9)) / 3.6e12
    return (utc_h[None, :] + utc_offset_h(zones, t)) % 24.0


def diurnal(hours: np.ndarray) -> np.ndarray:
    """Demand relative to the busy hour at local clock times ``hours`` (piecewise linear
    between the hourly values of :data:`DIURNAL`, each at the middle of its hour)."""
    h = np.asarray(hours, float)
    x = np.arange(-0.5, 25.0, 1.0)
    y = np.r_[DIURNAL[-1], DIURNAL, DIURNAL[0]]
    out = np.interp(h % 24.0, x, y)
    busy = ((h % 24.0) >= BUSY_HOURS[0]) & ((h % 24.0) < BUSY_HOURS[1])
    return np.where(busy, 1.0, out)
