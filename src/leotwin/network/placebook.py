"""Named places for routing: bundled cities, ``lat,lon`` strings, or ids from a site CSV."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from leotwin.errors import InputError
from leotwin.ground.sites import GroundSites, cities, load_sites_csv

_LATLON = re.compile(r"^\s*([-+]?\d+(?:\.\d*)?)\s*,\s*([-+]?\d+(?:\.\d*)?)\s*$")


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.casefold())


class PlaceBook:
    """Resolves place names to ground stations and collects the stations a run needs."""

    def __init__(self, ground_file: Path | None = None, min_elevation_deg: float = 25.0):
        self.cities = cities()
        self.extra = load_sites_csv(ground_file) if ground_file is not None else None
        self.mask = min_elevation_deg
        self.names: list[str] = []
        self.lat: list[float] = []
        self.lon: list[float] = []
        self.alt: list[float] = []
        self.hypatia_ids: list[int | None] = []

    def resolve(self, text: str, option: str) -> int:
        """Index of the station for ``text`` (added on first use)."""
        text = str(text).strip()
        if text in self.names:
            return self.names.index(text)
        m = _LATLON.match(text)
        if m:
            lat, lon = float(m.group(1)), float(m.group(2))
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise InputError(f"'{text}' is not a valid lat,lon (latitude in [-90, 90], "
                                 "longitude in [-180, 180])", source=option)
            return self._add(text, lat, lon, 0.0, None)
        if self.extra is not None and text in self.extra.ids:
            k = self.extra.ids.index(text)
            return self._add(text, self.extra.lat_deg[k], self.extra.lon_deg[k],
                             self.extra.alt_km[k], None)
        wanted = _key(text)
        for k, name in enumerate(self.cities.ids):
            aliases = {_key(name), *(_key(p) for p in re.split(r"[()]", name) if p.strip("-"))}
            if wanted in aliases:
                return self._add(name, self.cities.lat_deg[k], self.cities.lon_deg[k],
                                 self.cities.alt_km[k], self.cities.attrs["hypatia_id"][k])
        raise InputError(f"unknown place '{text}': expected a city of the bundled top-100 list "
                         "(e.g. Manila, Kyiv is not in it: use 50.45,30.52), 'lat,lon', or an id "
                         "from --ground-stations", source=option)

    def _add(self, name, lat, lon, alt, hypatia_id) -> int:
        self.names.append(name)
        self.lat.append(float(lat))
        self.lon.append(float(lon))
        self.alt.append(float(alt))
        self.hypatia_ids.append(hypatia_id)
        return len(self.names) - 1

    def stations(self) -> GroundSites:
        n = len(self.names)
        return GroundSites(list(self.names), np.array(self.lat), np.array(self.lon),
                           np.array(self.alt), np.full(n, self.mask), "terminal")
