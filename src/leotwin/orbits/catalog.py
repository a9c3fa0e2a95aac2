"""Built-in constellations: the filed Starlink and Kuiper shells, a model of the Starlink fleet
in orbit in January 2026, and Hypatia's two test shells.

Every shell cites its source; keys in brackets refer to ``../shared/reference/FACTS.md`` §1 and §7.
Walker phasing F is not in any filing: we use F = 1 for filed shells (a modelling choice — set
``phasing_f`` on your own shells).  Filed shells have the epoch 2026-01-01 00:00 UTC and no drag;
Hypatia's have the epoch 2000-01-01 00:00 UTC, as its generator writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from leotwin.errors import InputError
from leotwin.orbits.satellites import SatelliteSet
from leotwin.orbits.walker import WalkerShell

_GEN1 = "FCC 21-48 (27 Apr 2021) as tabulated in FACTS.md §1.1"
_GEN2 = "SpaceX Gen2 amended application (Jan 2022), FACTS.md §1.2 [LEOCraft], [Gen2-2022-grant]"
_FLEET_2026 = ("about 9,400 operational satellites, Jan 2026 (FACTS.md §1.4 [AdvTV-2026], "
               "[Lower-480]): Gen1 (§1.1) and the granted Gen2 shells (§1.2 [Gen2-2022-grant]) "
               "half filled")
_KUIPER = ("FCC 20-102, Kuiper Systems LLC Order and Authorization (30 Jul 2020), "
           "IBFS SAT-LOA-20190704-00057, Technical Appendix Table A-1")
_HYPATIA = "Hypatia (Kassing et al., IMC 2020), snkas/hypatia satgen; FACTS.md [Hypatia-cfg]"


@dataclass(frozen=True)
class Constellation:
    """A named set of Walker shells."""

    name: str
    shells: tuple[WalkerShell, ...]
    description: str
    tle_recipe: str = "sgp4init"  # or "hypatia": elements go through Hypatia's TLE text

    @property
    def size(self) -> int:
        return sum(s.size for s in self.shells)

    @property
    def sources(self) -> str:
        return "; ".join(dict.fromkeys(s.source for s in self.shells))

    def satellites(self) -> SatelliteSet:
        """All satellites, shell by shell, plane-major; ids ``<name>-<shell>-<plane>-<slot>``."""
        ids: list[str] = []
        recipes: list[tuple] = []
        first = 1
        for shell in self.shells:
            wp = len(str(shell.planes - 1))
            ws = len(str(shell.sats_per_plane - 1))
            labels = [f"{self.name}-{shell.name}-{p:0{wp}d}-{j:0{ws}d}"
                      for p in range(shell.planes) for j in range(shell.sats_per_plane)]
            if self.tle_recipe == "hypatia":
                recipes += [("tle", l1, l2) for _, l1, l2 in shell.hypatia_tle_lines(self.name)]
            else:
                recipes += [("init", args) for args in shell.sgp4init_args(first)]
            ids += labels
            first += shell.size
        return SatelliteSet(ids=ids, recipes=recipes, source=f"built-in {self.name}")


def _shells(rows, source, **common):
    return tuple(
        WalkerShell(name=n, altitude_km=h, inclination_deg=i, planes=p, sats_per_plane=s,
                    source=source, **common)
        for n, h, i, p, s in rows
    )


_GEN1_ROWS = [("1", 550, 53.0, 72, 22), ("2", 540, 53.2, 72, 22), ("3", 570, 70.0, 36, 20),
              ("4a", 560, 97.6, 6, 58), ("4b", 560, 97.6, 4, 43)]
_GEN2_ROWS = [("A", 340, 53.0, 48, 110), ("B", 345, 46.0, 48, 110), ("C", 350, 38.0, 48, 110),
              ("D", 360, 96.9, 30, 120), ("E", 525, 53.0, 28, 120), ("F", 530, 43.0, 28, 120),
              ("G", 535, 33.0, 28, 120), ("H", 604, 148.0, 12, 12), ("I", 614, 115.7, 18, 18)]
_KUIPER_ROWS = [("630", 630, 51.9, 34, 34), ("610", 610, 42.0, 36, 36), ("590", 590, 33.0, 28, 28)]


def _hypatia(name: str, mm: float, incl: float, p: int, s: int) -> Constellation:
    shell = WalkerShell(name="0", mean_motion_rev_day=mm, inclination_deg=incl, planes=p,
                        sats_per_plane=s, phasing="hypatia-half-slot", eccentricity=1e-7,
                        epoch="2000-01-01T00:00:00Z", source=_HYPATIA)
    return Constellation(name, (shell,), f"Hypatia's {p}x{s} test shell, {mm} rev/day, "
                         f"{incl} deg, half-slot phasing", tle_recipe="hypatia")


CATALOG: dict[str, Constellation] = {
    c.name: c
    for c in (
        Constellation("starlink-gen1", _shells(_GEN1_ROWS, _GEN1),
                      "Starlink Gen1 after FCC 21-48: five shells, 540-570 km"),
        Constellation("starlink-gen1-shell1", _shells(_GEN1_ROWS[:1], _GEN1),
                      "Starlink Gen1 shell 1: 550 km, 53 deg, 72x22"),
        Constellation("starlink-gen2", _shells(_GEN2_ROWS, _GEN2),
                      "Starlink Gen2 (Jan 2022 application): nine shells, 340-614 km"),
        Constellation("starlink-gen2-granted", _shells(_GEN2_ROWS[4:7], _GEN2),
                      "Starlink Gen2 as granted 1 Dec 2022: 525/530/535 km shells"),
        # the fleet in orbit: no public shell table gives it, so Gen1's five shells (4,408)
        # plus the three granted Gen2 shells at 525-535 km with half of each plane's 120 slots
        # filled (28 x 60 each, 5,040): 9,448, the ~9,400 operational of Jan 2026 — a model
        Constellation("starlink-2026",
                      _shells(_GEN1_ROWS, _GEN1) + _shells(
                          [(n, h, i, p, s // 2) for n, h, i, p, s in _GEN2_ROWS[4:7]],
                          _FLEET_2026),
                      "Starlink in orbit, Jan 2026 (a model: ~9,400 operational): Gen1 and the "
                      "525/530/535 km Gen2 shells half filled; 9,448 satellites"),
        Constellation("kuiper", _shells(_KUIPER_ROWS, _KUIPER),
                      "Amazon Kuiper as authorized (FCC 20-102): three shells, 590-630 km"),
        _hypatia("hypatia-starlink-550", 15.19, 53.0, 72, 22),
        _hypatia("hypatia-kuiper-630", 14.80, 51.9, 34, 34),
    )
}


def get_constellation(name: str) -> Constellation:
    """A built-in constellation by name; unknown names list the valid ones."""
    try:
        return CATALOG[name]
    except KeyError:
        raise InputError(
            f"unknown constellation '{name}': expected one of {', '.join(CATALOG)}",
            source="--constellation",
        ) from None
