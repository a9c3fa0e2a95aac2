"""The ``policy:`` section of a scenario file (and its ``regions:`` and ``terminals:``), as
pydantic models: validated at the edge, with errors that name the file, line and field.

Every change in the log is one mapping with exactly one of these keys:

=================  ===========================================================================
``set_status``     ``{region, status}`` — a country (ISO code/name) or zone: active,
                   not_licensed, inactive, blacklisted, waitlisted, test  (P1, P4, P6, P8)
``set_cells``      ``{cells: [h3…], status}`` — H3 res-5 cells; cell overrides zone overrides
                   country  (P2)
``spillover``      ``{from, into, buffer_km, status}`` — cells of ``into`` whose centres lie within
                   ``buffer_km`` of ``from`` get ``status`` (beams that reach across a border, P3)
``speed_cap``      ``{region, max_kmh}`` (null removes)  (P11)
``altitude_cap``   ``{region, max_m}``
``in_motion_ban``  ``{region, banned}`` — land in-motion use banned (Japan, Jordan, Mexico; P5)
``whitelist``      ``{region, required}`` — only registered terminals are served  (P11)
``register``       ``{terminal, region, registered}`` — whitelist membership
``funding``        ``{payer, status}`` — active or suspended  (P6)
``assign_payer``   ``{account, payer, replace}``
``deactivate``     ``{terminal, why}`` / ``reactivate`` ``{terminal}``  (P10, P12)
``set_plan``       ``{terminal, plan}`` — a registered terminal changes plan (the registry's
                   changes are log entries too, so a plan change never rewrites the past)
``override``       ``{region, accounts, plans, enabled}`` — operator override enabling service in a
                   not-licensed region for some accounts/plans (Iran 2022, P13)
=================  ===========================================================================
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from leotwin.policy.vocabulary import CELL_RES, DEFAULT_PLAN, PLAN_NAMES, Status, UserClass
from leotwin.timegrid.grid import parse_time


def _text_id(v):
    if isinstance(v, bool):
        raise ValueError("YAML read this id as true/false (yes, no, on and off are booleans in "
                         "YAML): put it in quotes")
    return str(v)


def _to_ns(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        value = value.isoformat()
    if isinstance(value, datetime):
        return parse_time(value)
    return parse_time(str(value))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SetStatus(Strict):
    region: str
    status: Status


def _h3_cells(cells: list[str], resolution: int | None = None) -> list[str]:
    """Valid H3 cell ids (at ``resolution`` when given), or a ValueError naming the first
    that is not."""
    import h3

    for c in cells:
        if not h3.is_valid_cell(c):
            raise ValueError(f"'{c}' is not a valid H3 cell id")
        if resolution is not None and h3.get_resolution(c) != resolution:
            raise ValueError(f"cell '{c}' is at H3 resolution {h3.get_resolution(c)}; service "
                             f"cells are at resolution {resolution} (a cell at another "
                             "resolution would never match a terminal's cell)")
    return cells


class SetCells(Strict):
    cells: list[str] = Field(min_length=1)
    status: Status

    @field_validator("cells")
    @classmethod
    def _cells(cls, v):
        return _h3_cells(v, CELL_RES)


class Spillover(Strict):
    from_: str = Field(alias="from")
    into: str
    buffer_km: float = Field(gt=0, le=500)
    status: Status = "blacklisted"


class SpeedCap(Strict):
    region: str
    max_kmh: float | None = Field(default=None, ge=0)


class AltitudeCap(Strict):
    region: str
    max_m: float | None = Field(default=None, ge=0)


class InMotionBan(Strict):
    region: str
    banned: bool = True


class Whitelist(Strict):
    region: str
    required: bool = True


class Register(Strict):
    terminal: str
    region: str
    registered: bool = True


class Funding(Strict):
    payer: str
    status: Literal["active", "suspended"]


class AssignPayer(Strict):
    account: str
    payer: str
    replace: bool = False


class Deactivate(Strict):
    terminal: str
    why: str = "deactivated by the operator"


class Reactivate(Strict):
    terminal: str


class SetPlan(Strict):
    terminal: str
    plan: str


class Override(Strict):
    region: str
    accounts: list[str] | None = None
    plans: list[str] | None = None
    enabled: bool = True


CHANGE_KINDS = {
    "set_status": SetStatus, "set_cells": SetCells, "spillover": Spillover,
    "speed_cap": SpeedCap, "altitude_cap": AltitudeCap, "in_motion_ban": InMotionBan,
    "whitelist": Whitelist, "register": Register, "funding": Funding,
    "assign_payer": AssignPayer, "deactivate": Deactivate, "reactivate": Reactivate,
    "override": Override, "set_plan": SetPlan,
}


class Change(Strict):
    """Exactly one kind of change (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    set_status: SetStatus | None = None
    set_cells: SetCells | None = None
    spillover: Spillover | None = None
    speed_cap: SpeedCap | None = None
    altitude_cap: AltitudeCap | None = None
    in_motion_ban: InMotionBan | None = None
    whitelist: Whitelist | None = None
    register_: Register | None = Field(default=None, alias="register")
    funding: Funding | None = None
    assign_payer: AssignPayer | None = None
    deactivate: Deactivate | None = None
    reactivate: Reactivate | None = None
    override: Override | None = None
    set_plan: SetPlan | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Change:
        given = [k for k in CHANGE_KINDS if getattr(self, _attr(k)) is not None]
        if len(given) != 1:
            raise ValueError(f"a change has exactly one of {', '.join(CHANGE_KINDS)}; "
                             f"found {len(given)}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in CHANGE_KINDS if getattr(self, _attr(k)) is not None)

    @property
    def body(self):
        return getattr(self, _attr(self.kind))


def _attr(kind: str) -> str:
    """Attribute name of a change kind (``register`` would shadow a pydantic attribute)."""
    return "register_" if kind == "register" else kind


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
    payers: list[str] = []
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
    whitelisted: list[str] = []
    actual_user: UserClass | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    alt_m: float = 0.0
    speed_kmh: float = Field(default=0.0, ge=0)
    #: when it entered the registry (UTC ns); None: always (scenario terminals).  Before it, a
    #: decision for it carries UNKNOWN_TERMINAL.
    registered_at: int | None = None

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
    reasons: list[str] = []
    zone: str | None = None
    radius_km: float = Field(default=5.0, gt=0)
    min_terminals: int = Field(default=10, ge=2)
    name: str | None = None


class PolicySection(Strict):
    default_status: Status = "active"
    in_motion_threshold_kmh: float = Field(default=16.09, gt=0)  # 10 mph (FACTS.md P5, 2023)
    plans: dict[str, Plan] = {}
    accounts: list[Account] = []
    log: list[LogEntry] = []
    detection: list[Detection] = []


class PolicyFile(BaseModel):
    """A scenario file as far as the policy needs it (other sections are ignored here)."""

    model_config = ConfigDict(extra="allow")

    name: str = "policy"
    regions: dict[str, Zone] = {}
    terminals: list[Terminal] = []
    policy: PolicySection
