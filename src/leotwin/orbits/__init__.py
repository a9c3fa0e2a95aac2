"""Orbits: Walker shells and built-in constellations, TLE/OMM import, SGP4 to TEME/ITRF/geodetic."""

from leotwin.orbits.catalog import CATALOG, Constellation, get_constellation
from leotwin.orbits.omm import load_omm
from leotwin.orbits.propagate import Ephemeris, PropagationOptions, iter_propagate, propagate
from leotwin.orbits.satellites import SatelliteSet
from leotwin.orbits.tle import load_tle, parse_tle_text
from leotwin.orbits.walker import WalkerShell

__all__ = [
    "CATALOG", "Constellation", "Ephemeris", "PropagationOptions", "SatelliteSet", "WalkerShell",
    "get_constellation", "iter_propagate", "load_omm", "load_tle", "parse_tle_text", "propagate",
]
