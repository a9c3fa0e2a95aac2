"""Request and response bodies of the control-plane API (pydantic), and its bounded types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, field_validator

from leotwin.errors import InputError
from leotwin.timegrid.grid import parse_time

#: every integer parameter fits a signed 64-bit column (SQLite and PostgreSQL BIGINT)
MAX_INT = 2**62
RequestId = Annotated[int, PathParam(ge=1, le=MAX_INT)]
#: decisions in one batch request
MAX_BATCH = 10_000
#: rows in one page of a listing
MAX_PAGE = 10_000


class Model(BaseModel):
    """A request body: unknown fields and non-finite numbers (``NaN``, ``Infinity``; a
    free-form ``change`` is checked by the policy's own models) are errors (422).  Strings
    holding a control character or a lone surrogate are refused before the body reaches a
    model, for every body, query and path at once (``controlplane.app``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def _time(v) -> int:
    try:
        return parse_time(v if isinstance(v, datetime) else str(v))
    except InputError as exc:
        raise ValueError(exc.message) from None


class DecisionIn(Model):
    terminal_id: str = Field(min_length=1, max_length=128)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    alt_m: float = Field(default=0.0, ge=-500, le=50_000)
    speed_kmh: float = Field(default=0.0, ge=0, le=5_000)
    time: int

    _t = field_validator("time", mode="before")(lambda cls, v: _time(v))


class DecisionBatch(Model):
    decisions: list[DecisionIn] = Field(min_length=1, max_length=MAX_BATCH)


class DecisionOut(BaseModel):
    terminal_id: str
    time: str
    allowed: bool
    reasons: list[str]
    explanation: str
    serving_satellite: str | None = None
    gateway: str | None = None


class TerminalIn(Model):
    terminal_id: str = Field(min_length=1, max_length=128)
    account: str = Field(min_length=1, max_length=128)
    plan: str
    home_country: str | None = None
    whitelisted: list[str] = []
    #: who registers it on a whitelist (default: the terminal itself) and what kind of owner
    owner: str | None = Field(default=None, min_length=1, max_length=128)
    owner_kind: Literal["person", "company", "critical"] = "person"


class PlanIn(Model):
    plan: str


class WhitelistIn(Model):
    region: str
    registered: bool = True
    device_presented: bool = True


class DeactivateIn(Model):
    reason: str = Field(min_length=1, max_length=1000)


class RequestIn(Model):
    """A policy request.  On the wall clock (default) it is filed now and may take effect now
    or later.  ``what_if: true`` files it on the scenario's clock: ``requested_at`` and
    ``effective_at`` lie inside the scenario's window, and it is kept apart from real
    requests (decisions and the policy include it only with ``what_if=true``)."""

    change: dict
    reason: str = Field(min_length=1, max_length=2000)
    requested_by: str | None = Field(default=None, max_length=200)
    effective_at: int | None = None
    until: int | None = None
    what_if: bool = False
    requested_at: int | None = None  # what-if only: the scenario time it is filed at

    _t = field_validator("effective_at", "until", "requested_at", mode="before")(
        lambda cls, v: None if v is None else _time(v))


class DecideIn(Model):
    decision: Literal["granted", "refused"]
    reason: str = Field(min_length=1, max_length=2000)
    #: what-if requests only: the scenario time of the decision (default: when it was filed)
    decided_at: int | None = None

    _t = field_validator("decided_at", mode="before")(
        lambda cls, v: None if v is None else _time(v))
