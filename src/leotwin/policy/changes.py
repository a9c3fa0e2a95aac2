"""The kinds of change a policy log entry makes, as pydantic models: exactly one per entry.

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
``register``       ``{terminal, region, registered, device_presented}`` — whitelist membership
``registration_rules`` ``{region, person_without_device, person_with_device, company,
                   critical, processing_hours}`` — limits per owner and a processing delay for
                   registrations in a region (Ukraine's whitelist, Feb 2026; P11)
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

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

from leotwin.policy.vocabulary import CELL_RES, Status


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


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
    #: whether the owner presented the device when registering (Ukraine 2026: a person may
    #: register one terminal without it, three with it)
    device_presented: bool = True


#: Ukraine's whitelist rules as published by the Ministry of Digital Transformation (3 Feb
#: 2026; docs/guide/policy.md § "Whitelist rules" has the sources): a person (or sole
#: proprietor) registers at most 1 terminal without presenting the device and at most 3 with
#: it, a legal entity at most 10, a critically important enterprise any number; applications
#: are processed within 48 hours
UA_2026_RULES = {"person_without_device": 1, "person_with_device": 3, "company": 10,
                 "critical": None, "processing_hours": 48.0}


class RegistrationRules(Strict):
    """Limits per owner and a processing delay for registrations in ``region`` while in force
    (``policy.registration``); ``None`` is no limit.  Defaults: Ukraine 2026."""

    region: str
    person_without_device: StrictInt | None = Field(default=1, ge=0)
    person_with_device: StrictInt | None = Field(default=3, ge=0)
    company: StrictInt | None = Field(default=10, ge=0)
    critical: StrictInt | None = Field(default=None, ge=0)
    processing_hours: float = Field(default=48.0, ge=0, le=24 * 365)


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
    "override": Override, "set_plan": SetPlan, "registration_rules": RegistrationRules,
}


class Change(Strict):
    """Exactly one kind of change (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              allow_inf_nan=False)

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
    registration_rules: RegistrationRules | None = None

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
