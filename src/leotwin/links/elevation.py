"""The elevation of a satellite seen from a ground site, and the one test of an elevation mask.

Every module that asks "is this satellite above the mask?" — candidate pairs
(``links.visibility``), dense cell counts (``analysis.counting``), passes (``links.passes``),
the control plane — uses these functions, so the criterion is written once.

With ρ = r_sat − r_site (ECEF, km) and û the site's geodetic up (the WGS-84 ellipsoid normal,
``geodesy.enu_basis``), the elevation is el = arcsin(ρ·û/|ρ|) (Vallado, *Fundamentals of
Astrodynamics and Applications*, 4th ed., Alg. 27, the "up" component of SEZ; PHYSICS.md §4.1).
For a mask ε ≥ 0 a satellite is visible iff el ≥ ε, i.e. ρ·û > 0 and (ρ·û)² ≥ sin²ε·|ρ|²:
no square root, no arcsine, and no flat-Earth distance cut-off (Hypatia's h/sin ε turns a 25°
mask into 19.8°).
"""

from __future__ import annotations

import numpy as np


def above_mask(rho_up: np.ndarray, rho2: np.ndarray, sin2_mask) -> np.ndarray:
    """True where a satellite is at or above the mask.

    ``rho_up`` = ρ·û (km), ``rho2`` = |ρ|² (km²), ``sin2_mask`` = sin²ε (broadcasts).
    """
    ok = rho_up > 0.0
    ok &= rho_up * rho_up >= sin2_mask * rho2
    return ok


def sin_elevation(rho: np.ndarray, up: np.ndarray) -> np.ndarray:
    """sin(el) = ρ·û/|ρ| for line-of-sight vectors ``rho`` (…, 3) and unit normals ``up``."""
    with np.errstate(invalid="ignore"):
        return (rho * up).sum(-1) / np.linalg.norm(rho, axis=-1)


def elevation_deg(rho: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Elevation (deg) for line-of-sight vectors ``rho`` (…, 3); NaN where ρ is NaN."""
    with np.errstate(invalid="ignore"):
        return np.degrees(np.arcsin(np.clip(sin_elevation(rho, up), -1.0, 1.0)))
