"""The valid range of every mean element, checked here once for TLE, 3LE and the four OMM
serialisations alike.

Units are those of CCSDS 502.0-B-3 (OMM) §4.2.4 and of the TLE columns (Hoots & Roehrich,
Spacetrack Report No. 3, 1980): angles in degrees, mean motion in revolutions per day.
"""

from __future__ import annotations

import math

#: OMM key → (low, high, unit, whether ``high`` is included); ``low`` is included except for
#: the mean motion, which must be positive.  Above 20 rev/day the semi-major axis lies below
#: the Earth's surface (n = 20 rev/day ↔ a ≈ 5,800 km); an eccentricity of 1 or more is not an
#: orbit.
RANGES: dict[str, tuple[float, float, str, bool]] = {
    "MEAN_MOTION": (0.0, 20.0, "rev/day", False),
    "ECCENTRICITY": (0.0, 1.0, "", False),
    "INCLINATION": (0.0, 180.0, "deg", True),
    "RA_OF_ASC_NODE": (0.0, 360.0, "deg", True),
    "ARG_OF_PERICENTER": (0.0, 360.0, "deg", True),
    "MEAN_ANOMALY": (0.0, 360.0, "deg", True),
}

#: the unit CCSDS 502.0-B-3 gives each key (Table 4-3), as an OMM may annotate it ([deg] in
#: KVN, units="deg" in XML); None: dimensionless
UNITS: dict[str, str | None] = {
    "MEAN_MOTION": "rev/day", "ECCENTRICITY": None, "INCLINATION": "deg",
    "RA_OF_ASC_NODE": "deg", "ARG_OF_PERICENTER": "deg", "MEAN_ANOMALY": "deg",
    "BSTAR": "1/ER", "MEAN_MOTION_DOT": "rev/day**2", "MEAN_MOTION_DDOT": "rev/day**3",
    "SEMI_MAJOR_AXIS": "km", "GM": "km**3/s**2",
}


def range_problem(key: str, value: float, label: str | None = None) -> str | None:
    """Why ``value`` is not a valid ``key`` (an OMM key; named ``label`` in the message,
    default ``key``), or None when it is valid."""
    label = label or key
    if not math.isfinite(value):
        return f"{label} {value} is not a finite number"
    if key not in RANGES:
        return None
    low, high, unit, closed = RANGES[key]
    ok = (low < value if key == "MEAN_MOTION" else low <= value) and (
        value <= high if closed else value < high)
    if ok:
        return None
    opening = "(" if key == "MEAN_MOTION" else "["
    return (f"{label} {value}{' ' + unit if unit else ''} is outside "
            f"{opening}{low:g}, {high:g}{']' if closed else ')'}")


def unit_problem(key: str, unit: str) -> str | None:
    """Why an annotated ``unit`` of ``key`` cannot be read, or None when it is the CCSDS unit
    (compared without case and spaces; ``^`` may stand for ``**``).  Other units are refused
    rather than converted: an OMM in radians read as degrees is wrong by a factor of 57."""
    expected = UNITS.get(key, "")
    given = unit.strip().lower().replace(" ", "").replace("^", "**")
    if expected is None:
        return None if given in ("", "n/a") else (
            f"{key} is dimensionless, found the unit [{unit.strip()}]")
    if not expected or given == expected.lower():
        return None
    return (f"{key} is given in [{unit.strip()}]: expected [{expected}] (CCSDS 502.0-B-3 units;"
            " convert the value)")
