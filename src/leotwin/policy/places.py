"""One resolver for every place a policy names a region.

A region is named in statuses, caps, bans, whitelists and registrations, overrides, spill-overs,
home countries, payers and detection zones.  Each name resolves the same way everywhere: a zone
declared under ``regions:`` (its exact name) first, else a country by ISO 3166-1 alpha-2 or
alpha-3 code or its Natural Earth name, in any case (``UA``, ``UKR``, ``Ukraine``, ``ukraine``).
Every resolved name has one *canonical* spelling — the zone's name, or the country's ISO
alpha-2 code (its Natural Earth code where it has none) — and the policy state is kept under
canonical names only, so ``UKR`` and ``UA`` are one region and a waitlist exempts a terminal
whose home is ``Ukraine`` exactly as one whose home is ``UA``.
"""

from __future__ import annotations

from collections.abc import Iterable

from leotwin.ground.regions import countries


class RegionNames:
    """Resolve region names of a policy with zones ``zone_names`` (see module docstring)."""

    def __init__(self, zone_names: Iterable[str]):
        self.zone_names = list(zone_names)
        self._zone = {name: k for k, name in enumerate(self.zone_names)}
        self.countries = countries()

    def key(self, name: str) -> tuple[str, int]:
        """``("z", zone index)`` or ``("c", country index)``; KeyError when unknown."""
        if name in self._zone:
            return ("z", self._zone[name])
        return ("c", self.countries.index_of(name))

    def known(self, name: str) -> bool:
        try:
            self.key(name)
        except KeyError:
            return False
        return True

    def canonical(self, name: str) -> str:
        """The one spelling of the region ``name`` names; KeyError when unknown."""
        kind, idx = self.key(name)
        if kind == "z":
            return self.zone_names[idx]
        region = self.countries.regions[idx]
        return region.iso_a2 or region.code

    def canonical_or_self(self, name: str) -> str:
        """``canonical(name)`` when ``name`` is a region, else ``name`` unchanged (payers
        are ids, or regions when a government pays)."""
        try:
            return self.canonical(name)
        except KeyError:
            return name

    def shadowed_country(self, zone: str) -> str | None:
        """The country a zone's name also names (the zone wins; a likely mistake), or None."""
        try:
            region = self.countries.regions[self.countries.index_of(zone)]
        except KeyError:
            return None
        return region.name
