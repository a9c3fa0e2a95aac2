"""Capacity supplied by satellites, their beams, service cells, gateways and lasers.

A satellite **profile** gives its user-link capacity (``../shared/reference/CAPACITY.md``,
FACTS.md §2; every figure has its source in :data:`PROFILES`):

* ``channel_gbps``: one beam on one user channel, bandwidth × spectral efficiency;
* ``beams``: beams lit at once (each on one channel);
* ``downlink_gbps`` / ``uplink_gbps``: the satellite's total user capacity (Pekhterev's
  arithmetic: 2,000 MHz × 2 polarisations × 5.11 b/s/Hz);
* ``spectral_efficiency``: the b/s/Hz at which these figures hold (the best modulation).  A link
  at a lower efficiency (a long slant range, ``traffic.link``) uses more of the satellite's and
  the cell's spectrum per Mbps: resources are counted in Mbps at this efficiency.

Beams hop between the cells a satellite serves in time (TDM beam hopping, Puchol 2022), so a
satellite's capacity is shared by its cells, and one cell receives at most
``max_channels_per_cell`` channels at once (CosmoSim, Bhosale et al., IMC 2025: 8).  A cell's
capacity is therefore min(min(max channels, beams) × channel, satellite total) — the most it
can get when it is the satellite's only demand; what it gets is the allocation's
(``traffic.allocation``).

Gateways: each antenna tracks one satellite (``network.access``), with a feeder link of
``feeder_gbps`` (Puchol: gateway uplink 25.6–32 Gbps per satellite); a gateway's total is the
satellites it tracks (at most its antennas: 8 Gen1 / 32 Gen2 at once by the FCC filing) ×
feeder.  Lasers: ``isl_gbps`` each way (Starlink 2024: 100 Gbps per link).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Pekhterev 2021 (SatMagazine), V1/V1.5: 64QAM with FEC 8/9
SPECTRAL_EFFICIENCY_V15 = 5.11
#: Pekhterev 2021: 240 MHz user channels, 8 beams per polarisation
CHANNEL_MHZ_V15 = 240.0
#: CosmoSim's cap on channels one cell receives (spectrum_management/constants.py)
MAX_CHANNELS_PER_CELL = 8
#: Puchol 2021 (bufferbloat starlink list): gateway uplink 25.6–32 Gbps per satellite
FEEDER_GBPS = 25.6
#: Starlink 2024 (FACTS.md §2 [Laser-2024]): 100 Gbps per laser link
ISL_GBPS = 100.0


@dataclass(frozen=True)
class SatelliteProfile:
    """User-link capacity of one satellite generation (module docstring); Gbps."""

    name: str
    beams: int
    channel_gbps: float
    downlink_gbps: float
    uplink_gbps: float
    source: str
    spectral_efficiency: float = SPECTRAL_EFFICIENCY_V15

    def __post_init__(self):
        if self.beams < 1 or self.channel_gbps <= 0 or self.downlink_gbps <= 0 \
                or self.uplink_gbps <= 0:
            raise ValueError(f"satellite profile {self.name}: capacities must be positive")


def _v15() -> SatelliteProfile:
    channel = CHANNEL_MHZ_V15 * SPECTRAL_EFFICIENCY_V15 / 1000.0  # 1.2264 Gbps
    return SatelliteProfile(
        "v1.5", beams=16, channel_gbps=channel,
        downlink_gbps=2000.0 * 2 * SPECTRAL_EFFICIENCY_V15 / 1000.0,  # 20.44
        uplink_gbps=500.0 * 2 * SPECTRAL_EFFICIENCY_V15 / 1000.0,  # 5.11
        source="Pekhterev 2021: 2,000 MHz Ku down x 2 polarisations x 5.11 b/s/Hz (64QAM, "
               "FEC 8/9), 8 beams per polarisation, 240 MHz channels; 500 MHz up (its "
               "spectral efficiency assumed equal to the downlink's)")


def _cosmosim(beam_gbps: float) -> SatelliteProfile:
    return SatelliteProfile(
        f"cosmosim-{beam_gbps:g}", beams=48, channel_gbps=beam_gbps,
        downlink_gbps=48 * beam_gbps, uplink_gbps=16 * beam_gbps,
        source=f"CosmoSim (Bhosale et al., IMC 2025): {beam_gbps:g} Gbps per Ku beam; 48 "
               "down and 16 up beams per satellite (Puchol 2021's beam model)")


_V15 = _v15()
#: the built-in profiles, by name
PROFILES: dict[str, SatelliteProfile] = {p.name: p for p in (
    _V15,
    SatelliteProfile(
        "v2-mini", beams=4 * _V15.beams, channel_gbps=_V15.channel_gbps, downlink_gbps=96.0,
        uplink_gbps=4 * _V15.uplink_gbps,
        source="~96 Gbps down, '~4x V1.5' (third-party estimates, FACTS.md §2); beams and "
               "uplink taken as 4x V1.5 (an assumption)"),
    SatelliteProfile(
        "v3", beams=816, channel_gbps=_V15.channel_gbps, downlink_gbps=1000.0,
        uplink_gbps=160.0,
        source="Starlink progress report, Jan 2025: 1 Tbps down, 160 Gbps up; beams: 1 Tbps "
               "/ one V1.5 channel (computed)"),
    _cosmosim(0.956), _cosmosim(1.28), _cosmosim(2.5),
)}

#: built-in constellations' shells that fly V2 minis (the Gen2 shells; FACTS.md §1.2, §1.4)
V2_SHELLS: dict[str, set[str] | None] = {"starlink-gen2": None, "starlink-gen2-granted": None,
             "starlink-2026": {"E", "F", "G"}}


@dataclass(frozen=True)
class Supply:
    """The capacities of one run: a profile per satellite and the ground segment's limits."""

    profiles: tuple[SatelliteProfile, ...]
    profile_of: tuple[int, ...]  # per satellite, an index into ``profiles``
    max_channels_per_cell: int = MAX_CHANNELS_PER_CELL
    feeder_gbps: float = FEEDER_GBPS
    isl_gbps: float = ISL_GBPS
    notes: dict = field(default_factory=dict)

    def spectral_efficiency(self) -> np.ndarray:
        """(N,) each satellite's best spectral efficiency, b/s/Hz."""
        per = np.array([p.spectral_efficiency for p in self.profiles])
        return per[np.asarray(self.profile_of, np.int64)]

    def satellite_mbps(self, direction: str = "down"):
        """(N,) each satellite's total user capacity, Mbps."""
        per = np.array([(p.downlink_gbps if direction == "down" else p.uplink_gbps) * 1000.0
                        for p in self.profiles])
        return per[np.asarray(self.profile_of, np.int64)]

    def cell_mbps(self, direction: str = "down"):
        """(N,) the most one cell can receive from each satellite, Mbps: min(min(max
        channels, beams) × channel, satellite total)."""
        chan = np.array([p.channel_gbps * 1000.0 for p in self.profiles])
        beams = np.array([p.beams for p in self.profiles])[np.asarray(self.profile_of, np.int64)]
        per_cell = (np.minimum(self.max_channels_per_cell, beams)
                    * chan[np.asarray(self.profile_of, np.int64)])
        return np.minimum(per_cell, self.satellite_mbps(direction))


def satellite_profiles(ids: list[str], default: str = "v1.5",
                       by_shell: dict[str, str] | None = None) -> tuple[tuple, tuple]:
    """The profile of each satellite id (``<constellation>-<shell>-<plane>-<slot>`` for built-in
    constellations, anything for TLE/OMM ones): ``by_shell`` (shell name → profile) first,
    then :data:`V2_SHELLS`, then ``default``.  Returns (profiles, index per satellite)."""
    for name in [default, *(by_shell or {}).values()]:
        if name not in PROFILES:
            raise ValueError(f"unknown satellite profile {name!r} (known: "
                             f"{', '.join(PROFILES)})")
    names: list[str] = []
    index: list[int] = []
    for sid in ids:
        name = default
        parts = sid.rsplit("-", 3)
        if len(parts) == 4:
            constellation, shell = parts[0], parts[1]
            if by_shell and shell in by_shell:
                name = by_shell[shell]
            elif constellation in V2_SHELLS:
                shells = V2_SHELLS[constellation]
                if shells is None or shell in shells:
                    name = "v2-mini"
        if name not in names:
            names.append(name)
        index.append(names.index(name))
    return tuple(PROFILES[n] for n in names), tuple(index)
