"""The ``policy:`` section of a scenario file (and its ``regions:`` and ``terminals:``), as
pydantic models: validated at the edge, with errors that name the file, line and field.

Every change in the log is one mapping with exactly one kind of change (``policy.changes``
lists them); this module holds the log entry with its times, plans, accounts, terminals, zones,
detection rules and the policy file.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

from leotwin.policy.changes import (  # noqa: F401  (re-exported: the schema's names)
    CHANGE_KINDS,
    UA_2026_RULES,
    Change,
    Strict,
    _h3_cells,
)
from leotwin.policy.vocabulary import DEFAULT_PLAN, PLAN_NAMES, Status, UserClass
from leotwin.timegrid.grid import parse_time


def _text_id(v):
    if isinstance(v, bool):
        raise ValueError("YAML read this id as true/false (yes, no, on and off are booleans in "
                         "YAML): put it in quotes")
    if isinstance(v, (int, float, str)) and not str(v).strip():
        raise ValueError("an id cannot be empty")
    if isinstance(v, str) and any(c in v for c in "\n\r\t"):
        raise ValueError("an id cannot hold a line break or a tab")
    return str(v)


def _to_ns(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        value = value.isoformat()
    if isinstance(value, datetime):
        return parse_time(value)
    return parse_time(str(value))


class LogEntry(Strict):
    """One request in the append-only policy log, with its three times (UTC ns):

    * ``requested_at``: when it was asked for;
    * ``decided_at``: when it was granted or refused (default: ``requested_at``);
    * ``effective_at``: when the requester asked it to take effect (default: ``requested_at``).

    A grant takes effect at ``max(effective_at, decided_at)`` (:attr:`effective`): a decision
    cannot change what was already in force, so the past never changes.  A *retroactive
    correction* (``retroactive: true``) is the one exception, and it is its own kind of entry:
    as known at the time it was in force from ``decided_at`` like any other, but the state *as
    corrected* (known at a later time, ``policy.state.as_of(..., known_at=…)``) applies it
    from ``effective_at``, which may then lie before ``requested_at``.
    """

    id: str
    requested_at: int
    decided_at: int | None = None  # defaults to requested_at
    effective_at: int | None = None  # defaults to requested_at
    until: int | None = None
    requested_by: str
    decided_by: str
    decision: Literal["granted", "refused"]
    reason: str = ""
    sequence: int = 0  # order among changes effective at the same instant
    retroactive: bool = False
    change: Change

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, v):
        return _text_id(v)

    @field_validator("requested_at", "decided_at", "effective_at", "until", mode="before")
    @classmethod
    def _time(cls, v):
        return None if v is None else _to_ns(v)

    @model_validator(mode="after")
    def _times(self) -> LogEntry:
        if self.decided < self.requested_at:
            raise ValueError("decided_at is before requested_at: a request is decided after "
                             "it is made")
        if self.retroactive:
            if self.effective_at is None or self.effective_at >= self.decided:
                raise ValueError("retroactive: true needs an effective_at before decided_at "
                                 "(a correction of the past); otherwise drop retroactive")
        elif self.requested_effective < self.requested_at:
            raise ValueError("effective_at is before requested_at: a change cannot take effect "
                             "before it is requested (a correction of the past is an entry "
                             "with retroactive: true)")
        if self.until is not None and self.until <= self.requested_effective:
            raise ValueError("until must be after effective_at")
        return self

    @property
    def decided(self) -> int:
        """When it was decided (UTC ns)."""
        return self.requested_at if self.decided_at is None else self.decided_at

    @property
    def requested_effective(self) -> int:
        """When the requester asked it to take effect (UTC ns): the "as requested" time."""
        return self.requested_at if self.effective_at is None else self.effective_at

    @property
    def effective(self) -> int:
        """When it took effect as granted (UTC ns): ``max(effective_at, decided_at)``."""
        return max(self.requested_effective, self.decided)

    @property
    def kind(self) -> str:
        """``correction`` for a retroactive correction, else ``change``."""
        return "correction" if self.retroactive else "change"


class Plan(Strict):
    in_motion: bool = False
    max_speed_kmh: float | None = Field(default=None, ge=0)
    max_altitude_m: float | None = Field(default=None, ge=0)
    exempt_from_land_bans: bool = False


#: Roam's in-motion speed limit, km/h (FACTS.md §4 P5)
ROAM_MAX_SPEED_KMH = 160.0
DEFAULT_PLANS = dict(zip(PLAN_NAMES, (
    # FACTS.md §4 P5: Standard/Priority no in-motion; Roam in motion up to 160 km/h
    Plan(in_motion=False),                                  # residential
    Plan(in_motion=True, max_speed_kmh=ROAM_MAX_SPEED_KMH),  # roam
    Plan(in_motion=True, exempt_from_land_bans=True),       # maritime
    Plan(in_motion=True, exempt_from_land_bans=True),       # aviation
    Plan(in_motion=True),                                   # government
), strict=True))


class Account(Strict):
    id: str
    payers: list[str] = Field(default_factory=list)
    test_program: bool = False

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, v):
        return _text_id(v)


class Terminal(Strict):
    id: str
    account: str | None = None
    plan: str = DEFAULT_PLAN
    home_country: str | None = None
    whitelisted: list[str] = Field(default_factory=list)
    actual_user: UserClass | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    alt_m: float = 0.0
    speed_kmh: float = Field(default=0.0, ge=0)
    #: when it entered the registry (UTC ns); None: always (scenario terminals).  Before it, a
    #: decision for it carries UNKNOWN_TERMINAL.
    registered_at: int | None = None
    #: who registers it on a whitelist (a person's or a company's id; default: the terminal
    #: itself) and what kind of owner that is, for ``registration_rules`` limits
    owner: str | None = None
    owner_kind: Literal["person", "company", "critical"] = "person"

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, v):
        return _text_id(v)


class Zone(Strict):
    """A named custom region: a GeoJSON file, a polygon ([lon, lat] ring) or H3 cells."""

    geojson: str | None = None
    polygon: list[list[float]] | None = None
    cells: list[str] | None = None

    @model_validator(mode="after")
    def _one(self) -> Zone:
        if sum(x is not None for x in (self.geojson, self.polygon, self.cells)) != 1:
            raise ValueError("a zone has exactly one of geojson, polygon or cells")
        if self.polygon is not None:
            ring = self.polygon
            for k, point in enumerate(ring):
                if len(point) != 2:
                    raise ValueError(f"polygon point {k} has {len(point)} values; expected "
                                     "[lon, lat]")
                lon, lat = point
                if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
                    raise ValueError(f"polygon point {k} [{lon}, {lat}] is outside lon "
                                     "[-180, 180], lat [-90, 90] (points are [lon, lat])")
            if len({tuple(p) for p in ring}) < 3:
                raise ValueError("a polygon needs at least 3 distinct [lon, lat] points")
        if self.cells is not None:
            if not self.cells:
                raise ValueError("a cells zone needs at least one H3 cell")
            _h3_cells(self.cells)
        return self


class Detection(Strict):
    """Deactivate terminals denied for some reasons (or in a zone, or clustered) for too long.

    ``denied_for``: denied with any of ``reasons`` for ``minutes`` in a row;
    ``in_zone``: located in ``zone`` for ``minutes`` in a row;
    ``cluster``: at least ``min_terminals`` within ``radius_km`` of each other in ``zone`` for
    ``minutes``; ``outside_home``: used outside the terminal's home country for ``minutes``
    (e.g. 86 400 for the 60 days a roam trip may last, P5).  Deactivation takes effect
    ``delay_minutes`` after detection.
    """

    rule: Literal["denied_for", "in_zone", "cluster", "outside_home"]
    minutes: float = Field(ge=0)
    delay_minutes: float = Field(default=0, ge=0)
    reasons: list[str] = Field(default_factory=list)
    zone: str | None = None
    radius_km: float = Field(default=5.0, gt=0)
    min_terminals: StrictInt = Field(default=10, ge=2)
    name: str | None = None


class PolicySection(Strict):
    default_status: Status = "active"
    in_motion_threshold_kmh: float = Field(default=16.09, gt=0)  # 10 mph (FACTS.md P5, 2023)
    plans: dict[str, Plan] = Field(default_factory=dict)
    accounts: list[Account] = Field(default_factory=list)
    log: list[LogEntry] = Field(default_factory=list)
    detection: list[Detection] = Field(default_factory=list)


class PolicyFile(BaseModel):
    """A scenario file as far as the policy needs it (other sections are ignored here)."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    name: str = "policy"
    regions: dict[str, Zone] = Field(default_factory=dict)
    terminals: list[Terminal] = Field(default_factory=list)
    policy: PolicySection
