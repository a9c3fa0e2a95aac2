"""A set of satellites ready for SGP4: identifiers, initialised ``Satrec`` objects, and recipes.

``Satrec`` objects (python-sgp4's C++ wrapper) cannot be pickled, so each satellite also keeps a
small picklable *recipe* that rebuilds it bit-for-bit in another process:

* ``("tle", line1, line2)``  → ``Satrec.twoline2rv(line1, line2, WGS72)``
* ``("omm", fields)``        → :func:`initialize_omm` (``sgp4init`` with ``twoline2rv``'s units)
* ``("init", args)``         → ``Satrec().sgp4init(WGS72, 'i', *args)``

Gravity model WGS-72 and opsmode ``'i'`` throughout, as the element sets are fitted with
(AIAA 2006-6753 §"Gravity"; PHYSICS.md §5.1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import numpy as np
from sgp4.api import WGS72, Satrec, SatrecArray, accelerated

Recipe = tuple


def build_satrec(recipe: Recipe) -> Satrec:
    """Initialise one ``Satrec`` from its recipe (see module docstring)."""
    kind = recipe[0]
    if kind == "tle":
        return Satrec.twoline2rv(recipe[1], recipe[2], WGS72)
    sat = Satrec()
    if kind == "omm":
        initialize_omm(sat, recipe[1])
    elif kind == "init":
        sat.sgp4init(WGS72, "i", *recipe[1])
    else:  # pragma: no cover - programming error
        raise ValueError(f"unknown satellite recipe {kind!r}")
    return sat


_EPOCH0 = datetime(1949, 12, 31)
_XPDOTP = 1440.0 / (2.0 * math.pi)  # rev/day → rad/min, as SGP4's twoline2rv defines it
_DEG2RAD = math.pi / 180.0


def initialize_omm(sat: Satrec, fields: dict) -> None:
    """Initialise ``sat`` from a validated OMM field dict (see ``orbits.omm``).

    The same steps as python-sgp4's ``omm.initialize``, but with the unit conversions of
    Vallado's ``twoline2rv`` (n/xpdotp, ṅ/(xpdotp·1440), n̈/(xpdotp·1440²), degrees·π/180), so
    an element set given as OMM and as TLE yields a bit-identical ``Satrec``; ``omm.initialize``
    divides the mean motion as n/720·π, one ulp away.  Epoch: days since 1949-12-31 00:00 UTC.
    """
    sat.classification = fields["CLASSIFICATION_TYPE"]
    sat.intldesg = fields["OBJECT_ID"][2:].replace("-", "")
    sat.ephtype = int(fields["EPHEMERIS_TYPE"])
    sat.elnum = int(fields["ELEMENT_SET_NO"])
    sat.revnum = int(fields["REV_AT_EPOCH"])
    delta = datetime.strptime(fields["EPOCH"], "%Y-%m-%dT%H:%M:%S.%f") - _EPOCH0
    microseconds = delta.seconds * 1_000_000 + delta.microseconds
    epoch_days = delta.days + microseconds / 86_400_000_000
    if microseconds % 864 == 0:
        # A whole number of 1e-8 day (864 µs): an epoch with a TLE's 8 decimals.  Rounded so,
        # sgp4init keeps the exact 8-digit fraction (python-sgp4 model.sgp4init), as a TLE does.
        epoch_days = round(epoch_days, 8)
    sat.sgp4init(
        WGS72, "i", int(fields["NORAD_CAT_ID"]),
        epoch_days,
        float(fields["BSTAR"]),
        float(fields["MEAN_MOTION_DOT"]) / (_XPDOTP * 1440.0),
        float(fields["MEAN_MOTION_DDOT"]) / (_XPDOTP * 1440.0 * 1440.0),
        float(fields["ECCENTRICITY"]),
        float(fields["ARG_OF_PERICENTER"]) * _DEG2RAD,
        float(fields["INCLINATION"]) * _DEG2RAD,
        float(fields["MEAN_ANOMALY"]) * _DEG2RAD,
        float(fields["MEAN_MOTION"]) / _XPDOTP,
        float(fields["RA_OF_ASC_NODE"]) * _DEG2RAD,
    )


@dataclass
class SatelliteSet:
    """N satellites with string ids (``sat_id``), names and SGP4 state.

    ``sat_id`` is the catalogue number for real data (``"44713"``) and
    ``<constellation>-<shell>-<plane>-<slot>`` for generated shells (``"starlink-gen1-1-07-13"``,
    planes and slots counted from 0).
    """

    ids: list[str]
    recipes: list[Recipe]
    names: list[str] = field(default_factory=list)
    source: str = ""
    satrecs: list[Satrec] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if not self.names:
            self.names = list(self.ids)
        if not self.satrecs:
            self.satrecs = [build_satrec(r) for r in self.recipes]
        if not (len(self.ids) == len(self.recipes) == len(self.names) == len(self.satrecs)):
            raise ValueError("ids, recipes, names and satrecs must have the same length")

    def __len__(self) -> int:
        return len(self.ids)

    def __getstate__(self) -> dict:
        """Pickle without the (unpicklable) ``Satrec`` objects; they are rebuilt from recipes."""
        state = dict(self.__dict__)
        state["satrecs"] = []
        state.pop("satrec_array", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.satrecs = [build_satrec(r) for r in self.recipes]

    @cached_property
    def satrec_array(self) -> SatrecArray:
        """The vectorised propagator over all satellites (C++ loop, single-threaded)."""
        if not accelerated:  # pragma: no cover - depends on the installed wheel
            raise RuntimeError(
                "python-sgp4 is running without its C++ extension, so SatrecArray would be a slow "
                "Python loop: reinstall sgp4 from a wheel (pip install --force-reinstall sgp4)."
            )
        return SatrecArray(self.satrecs)

    def subset(self, index: Sequence[int] | slice | np.ndarray) -> SatelliteSet:
        """The satellites at the given positions, in that order."""
        idx = range(len(self))[index] if isinstance(index, slice) else list(np.asarray(index))
        return SatelliteSet(
            ids=[self.ids[i] for i in idx],
            recipes=[self.recipes[i] for i in idx],
            names=[self.names[i] for i in idx],
            source=self.source,
            satrecs=[self.satrecs[i] for i in idx],
        )

    def __add__(self, other: SatelliteSet) -> SatelliteSet:
        return SatelliteSet(
            ids=self.ids + other.ids,
            recipes=self.recipes + other.recipes,
            names=self.names + other.names,
            source="; ".join(s for s in (self.source, other.source) if s),
            satrecs=self.satrecs + other.satrecs,
        )
