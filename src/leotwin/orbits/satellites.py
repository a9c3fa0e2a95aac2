"""A set of satellites ready for SGP4: identifiers, initialised ``Satrec`` objects, and recipes.

``Satrec`` objects (python-sgp4's C++ wrapper) cannot be pickled, so each satellite also keeps a
small picklable *recipe* that rebuilds it bit-for-bit in another process:

* ``("tle", line1, line2)``  → ``Satrec.twoline2rv(line1, line2, WGS72)``
* ``("omm", fields)``        → ``sgp4.omm.initialize(Satrec(), fields, WGS72)``
* ``("init", args)``         → ``Satrec().sgp4init(WGS72, 'i', *args)``

Gravity model WGS-72 and opsmode ``'i'`` throughout, as the element sets are fitted with
(AIAA 2006-6753 §"Gravity"; PHYSICS.md §5.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from sgp4 import omm
from sgp4.api import WGS72, Satrec, SatrecArray, accelerated

Recipe = tuple


def build_satrec(recipe: Recipe) -> Satrec:
    """Initialise one ``Satrec`` from its recipe (see module docstring)."""
    kind = recipe[0]
    if kind == "tle":
        return Satrec.twoline2rv(recipe[1], recipe[2], WGS72)
    sat = Satrec()
    if kind == "omm":
        omm.initialize(sat, recipe[1], WGS72)
    elif kind == "init":
        sat.sgp4init(WGS72, "i", *recipe[1])
    else:  # pragma: no cover - programming error
        raise ValueError(f"unknown satellite recipe {kind!r}")
    return sat


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
