"""Synthetic terminals placed where people live, and the national totals they default to.

``population`` placement draws each terminal's town with probability proportional to its
population, among the GeoNames places of ≥ 1,000 people inside the region (``data.
populated_places``: CC BY 4.0), then scatters it around the town's centre with a Gaussian of
standard deviation equal to the town's radius r = √(P / (π·D)) at an urban density D =
:data:`URBAN_DENSITY_PER_KM2` (an assumption of the model: a town of 1,000 spreads ~0.4 km,
one of 3 million ~22 km), at least :data:`MIN_SPREAD_KM`; points outside the region are drawn
again.  Everything is reproducible from the seed.

:data:`NATIONAL_TERMINALS` holds the cited national totals a population defaults to when its
``count`` is ``national``.
"""

from __future__ import annotations

import numpy as np

from leotwin.errors import InputError
from leotwin.geodesy import MEAN_EARTH_RADIUS_KM

#: people per km² of a town's built-up area, for its radius (an assumption, order of
#: magnitude of European towns)
URBAN_DENSITY_PER_KM2 = 2000.0
MIN_SPREAD_KM = 0.5
#: rejection-sampling rounds before giving up
MAX_DRAWS = 200

#: cited national totals of active Starlink terminals: region code → (count, source)
NATIONAL_TERMINALS: dict[str, tuple[int, str]] = {
    "UA": (50_000, "more than 50,000 Starlink terminals in Ukraine (Mykhailo Fedorov, "
                   "Ukraine's minister of digital transformation, Sept 2025)"),
}


def national_terminals(codes: list[str | None], where: str) -> int:
    """The cited national total of the first of a region's ``codes`` that has one."""
    for code in codes:
        if code and code.upper() in NATIONAL_TERMINALS:
            return NATIONAL_TERMINALS[code.upper()][0]
    known = ", ".join(sorted(NATIONAL_TERMINALS))
    raise InputError(f"no cited national total of terminals for this region (known: {known}): "
                     "give a count", field=where)


def places_in(region) -> dict[str, np.ndarray]:
    """The populated places (GeoNames ≥ 1,000 people) inside ``region``."""
    from leotwin.data import populated_places

    p = populated_places()
    west, south, east, north = region.bounds
    box = ((p["lat_deg"] >= south) & (p["lat_deg"] <= north) & (p["lon_deg"] >= west)
           & (p["lon_deg"] <= east))
    idx = np.flatnonzero(box)
    idx = idx[region.contains(p["lat_deg"][idx], p["lon_deg"][idx])]
    return {k: v[idx] for k, v in p.items()}


def population_positions(region, n: int, rng: np.random.Generator
                         ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` positions (lat, lon deg) inside ``region``, placed by population (module
    docstring)."""
    towns = places_in(region)
    if not len(towns["population"]):
        raise InputError("no populated place of 1,000 people or more lies inside the region: "
                         "use mode uniform", field="mode")
    weight = towns["population"].astype(np.float64)
    weight /= weight.sum()
    radius = np.maximum(np.sqrt(towns["population"] / (np.pi * URBAN_DENSITY_PER_KM2)),
                        MIN_SPREAD_KM)
    lat_out, lon_out = np.empty(0), np.empty(0)
    for _ in range(MAX_DRAWS):
        m = max(64, 2 * (n - lat_out.size))
        town = rng.choice(len(weight), size=m, p=weight)
        dn, de = rng.normal(0.0, 1.0, (2, m)) * radius[town]
        lat0 = towns["lat_deg"][town]
        lat = lat0 + np.degrees(dn / MEAN_EARTH_RADIUS_KM)
        lon = towns["lon_deg"][town] + np.degrees(
            de / (MEAN_EARTH_RADIUS_KM * np.cos(np.radians(lat0))))
        lat = np.clip(lat, -90.0, 90.0)
        lon = (lon + 180.0) % 360.0 - 180.0
        keep = region.contains(lat, lon)
        lat_out = np.concatenate([lat_out, lat[keep]])
        lon_out = np.concatenate([lon_out, lon[keep]])
        if lat_out.size >= n:
            return lat_out[:n], lon_out[:n]
    raise InputError("could not place the terminals inside the region", field="mode")
