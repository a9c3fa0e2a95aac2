"""The scenario file: one YAML file for a whole run, validated before anything runs.

Sections (all but ``time`` and ``constellation`` optional):

``name``, ``description``, ``sources``  what the scenario models and where its assumptions come from
``seed``                                random seed (synthetic populations)
``time``                                ``{start, duration, step}`` (ISO 8601; durations: 6h, 60s)
``constellation``                       ``{builtin: NAME}``, ``{tle: FILE}``, ``{omm: FILE}`` or
                                        ``{shells: [{name, planes, sats_per_plane, …}]}``
``ground``                              coverage ``regions`` (ISO codes or zones), ``h3_res``,
                                        ``min_elevation_deg``, synthetic ``populations``,
                                        ``gateways``/``pops`` (``bundled`` or a CSV),
                                        ``tracks`` (a CSV of moving terminals' waypoints)
``network``                             ``isl`` (plus-grid, none, nearest-k), ``rtt_terminals``
                                        (ids whose path to their PoP is routed), slot period/offset,
                                        assignment ``rule``, ``fibre_stretch``,
                                        ``geometry`` (per cell or per terminal)
``regions``, ``terminals``, ``policy``  as in a policy file (``policy.schema``); a scenario's
                                        terminals may also give a ``motion``
``capacity``                            supply, demand and allocation per scheduler slot
                                        (``traffic``): satellite ``profile``, ground limits,
                                        demand per plan; absent: no capacity pass
``outputs``                             ``positions`` (write the satellite positions table),
                                        ``report``, ``decisions`` (``intervals`` or also
                                        ``instants``), ``cells_every`` (time bin of cells)
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictInt, field_validator, model_validator

from leotwin.ground.motion import PATHS
from leotwin.orbits.walker import WalkerShell
from leotwin.policy.schema import PolicySection, Strict, Terminal, Zone
from leotwin.policy.vocabulary import DEFAULT_PLAN, UserClass


class TimeWindow(Strict):
    start: str
    duration: str
    step: str

    @field_validator("start", "duration", "step", mode="before")
    @classmethod
    def _text(cls, v):
        return v.isoformat() if hasattr(v, "isoformat") else str(v)


class ConstellationRef(Strict):
    builtin: str | None = None
    tle: str | None = None
    omm: str | None = None
    shells: list[WalkerShell] | None = None

    @model_validator(mode="after")
    def _one(self) -> ConstellationRef:
        given = (self.builtin, self.tle, self.omm, self.shells)
        if sum(x is not None for x in given) != 1:
            raise ValueError("give exactly one of builtin, tle, omm or shells")
        return self


class Motion(Strict):
    """How a terminal with a speed moves (``ground.motion``).  Without one, a terminal with a
    speed above zero takes a ``random-walk``; ``fixed`` keeps it in place with the speed as a
    declared value only."""

    path: Literal[PATHS] = "random-walk"  # type: ignore[valid-type]
    #: initial heading, clockwise from north (``straight``, ``random-walk``); None: drawn
    heading_deg: float | None = Field(default=None, ge=0, lt=360)
    #: ``random-walk``: length of a leg and σ of the turn between legs
    leg_km: float = Field(default=5.0, gt=0, le=1000)
    turn_deg: float = Field(default=45.0, ge=0, le=180)
    #: ``random-walk``: the region the walk stays in (a population's default: its region)
    stay_in: str | None = None
    #: ``orbit``: the circle's radius around the terminal's place
    radius_km: float = Field(default=5.0, gt=0, le=1000)


class ScenarioTerminal(Terminal):
    """A scenario's terminal: a registry entry (``policy.schema.Terminal``) that may move."""

    motion: Motion | None = None


#: terminals of one synthetic population at most
MAX_POPULATION = 1_000_000


class Population(Strict):
    """Synthetic terminals inside a region (seeded)."""

    region: str
    #: how many; ``national``: the region's cited national total (``ground.populations``)
    count: StrictInt | Literal["national"]
    #: with ``count: national``: this share of the national total of ``national_region``
    #: (default: ``region``), so several populations (user classes) split one total
    share: float = Field(default=1.0, gt=0, le=1)
    national_region: str | None = None
    #: ``population``: where people live (GeoNames towns of ≥ 1,000, by population)
    mode: Literal["uniform", "clustered", "population"] = "uniform"
    centers: list[tuple[float, float]] = []
    spread_km: float = Field(default=50.0, gt=0)
    prefix: str = "P"
    plan: str = DEFAULT_PLAN
    account: str | None = None
    actual_user: UserClass | None = None
    registered_fraction: float = Field(default=0.0, ge=0, le=1)
    registered_region: str | None = None
    speed_kmh: float = Field(default=0.0, ge=0)
    #: how its terminals move when ``speed_kmh`` > 0 (default: a random walk in ``region``)
    motion: Motion | None = None
    alt_m: float = 0.0
    #: whitelist owners: each owner (a person, a company or a critically important
    #: enterprise) holds ``terminals_per_owner`` consecutive terminals of the population
    owner_kind: Literal["person", "company", "critical"] = "person"
    terminals_per_owner: StrictInt = Field(default=1, ge=1)
    #: when set, the registered terminals apply at this time, through the log (``register``
    #: entries, subject to any ``registration_rules`` in force), instead of being on the
    #: whitelist from the start
    register_at: str | None = None
    device_presented: bool = True

    @field_validator("count")
    @classmethod
    def _count(cls, v):
        if isinstance(v, int) and not 0 < v <= MAX_POPULATION:
            raise ValueError(f"expected a whole number from 1 to {MAX_POPULATION:,}, or "
                             "national")
        return v

    @field_validator("register_at", mode="before")
    @classmethod
    def _register_at(cls, v):
        return None if v is None else str(v)


class Ground(Strict):
    regions: list[str] = []
    h3_res: StrictInt = Field(default=5, ge=0, le=15)
    min_elevation_deg: float = Field(default=25.0, ge=0, lt=90)
    populations: list[Population] = []
    gateways: str = "bundled"
    pops: str = "bundled"
    #: waypoints of moving terminals (``terminal_id,time,lat_deg,lon_deg[,alt_m]``): each named
    #: terminal of the scenario follows its track instead of its ``motion``
    tracks: str | None = None


class Network(Strict):
    isl: Literal["plus-grid", "none", "nearest-k"] = "plus-grid"
    rtt_terminals: list[str] = []
    rule: Literal["highest-elevation", "least-latency"] = "highest-elevation"
    slot_period_s: float = Field(default=15.0, gt=0)
    slot_offset_s: float = Field(default=12.0, ge=0)
    fibre_stretch: float = Field(default=1.5, ge=1)
    #: where the sky is computed (``sim.sites``): per H3 res-5 cell for the fixed terminals
    #: of a cell holding at least ``cell_min_terminals`` (``auto``), per cell always, or per
    #: terminal
    geometry: Literal["auto", "cell", "terminal"] = "auto"
    cell_min_terminals: StrictInt = Field(default=4, ge=1)


class Outputs(Strict):
    positions: bool = False
    report: bool = True
    #: decisions as intervals (always), and per instant too (``instants``)
    decisions: Literal["intervals", "instants"] = "intervals"
    #: the time bin of the per-cell table (``cells.parquet``)
    cells_every: str = "1h"

    @field_validator("cells_every")
    @classmethod
    def _every(cls, v: str) -> str:
        from leotwin.timegrid.grid import parse_duration

        if parse_duration(v, source="outputs.cells_every") <= 0:
            raise ValueError("expected a duration greater than zero, such as 15m or 1h")
        return v


class PlanCapacity(Strict):
    """A plan's demand per terminal and tier (``traffic.demand.PlanDemand``)."""

    down_mbps: float = Field(ge=0, le=10_000)
    up_mbps: float = Field(ge=0, le=10_000)
    peak_mbps: float = Field(gt=0, le=100_000)
    peak_up_mbps: float = Field(gt=0, le=100_000)
    tier: StrictInt = Field(ge=0, le=3)


class Capacity(Strict):
    """The capacity pass (``sim.capacity``); every field has a cited default
    (``traffic.supply``, ``traffic.demand``, ``traffic.link``)."""

    #: the instants allocated: every scheduler ``slot`` start, or every given duration
    every: str = "slot"
    #: satellite profile where the constellation's shells name none, and per shell name
    profile: str = "v1.5"
    profiles_by_shell: dict[str, str] = {}
    max_channels_per_cell: StrictInt = Field(default=8, ge=1, le=64)
    feeder_gbps: float = Field(default=25.6, gt=0, le=10_000)
    isl_gbps: float = Field(default=100.0, gt=0, le=10_000)
    zenith_snr_db: float = Field(default=16.0, ge=-10, le=40)
    #: spread cells over satellites and gateways in view when one is overloaded
    balance: bool = True
    #: multiplies every demand (a what-if on the subscribers' use)
    demand_scale: float = Field(default=1.0, ge=0, le=1000)
    #: demand and tier per plan name, replacing the defaults of ``traffic.demand.PLANS``
    plans: dict[str, PlanCapacity] = {}

    @field_validator("every")
    @classmethod
    def _every(cls, v: str) -> str:
        from leotwin.timegrid.grid import parse_duration

        if v != "slot" and parse_duration(v, source="capacity.every") <= 0:
            raise ValueError("expected slot, or a duration greater than zero such as 1m")
        return v


class Scenario(Strict):
    name: str
    description: str = ""
    sources: list[str] = []
    seed: StrictInt = 0
    time: TimeWindow
    constellation: ConstellationRef
    ground: Ground = Ground()
    network: Network = Network()
    regions: dict[str, Zone] = {}
    terminals: list[ScenarioTerminal] = []
    policy: PolicySection = PolicySection()
    capacity: Capacity | None = None
    outputs: Outputs = Outputs()
