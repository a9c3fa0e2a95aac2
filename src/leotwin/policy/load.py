"""Read and check a policy file: schema errors and meaning errors name the file, line and field.

Meaning checks beyond the schema: every region named in a change is a country (ISO code or
Natural Earth name) or a declared zone; every plan and account exists; two granted changes that
set the same thing to different values at the same instant need different ``sequence`` numbers
(otherwise the log does not say which wins); detection rules name known reason codes and zones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

import leotwin.policy.checks as checks
from leotwin.data import resolve_scenario
from leotwin.errors import InputError
from leotwin.io.text import read_text
from leotwin.io.yamlfile import line_at, load_yaml
from leotwin.policy.places import RegionNames
from leotwin.policy.reasons import parse_reasons
from leotwin.policy.schema import DEFAULT_PLANS, PolicyFile


@dataclass
class LoadedPolicy:
    doc: PolicyFile
    source: str
    raw: object  # the Located YAML tree, for line numbers
    #: legal but suspicious findings of ``policy.checks.warnings``, one line each
    warnings: list[str] = field(default_factory=list)

    def line(self, *loc) -> int | None:
        return line_at(self.raw, loc)


def load_policy(ref: str | Path) -> LoadedPolicy:
    path = resolve_scenario(ref)
    raw = load_yaml(read_text(path), str(path))
    if not isinstance(raw, dict) or "policy" not in raw:
        raise InputError("expected a 'policy:' section", source=path, line=1)
    try:
        doc = PolicyFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        field = ".".join(str(p) for p in loc)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "literal_error":
            msg = f"{msg}, got {err.get('input')!r}"
        raise InputError(msg, source=path, line=line_at(raw, loc), field=field) from None
    loaded = LoadedPolicy(doc, str(path), raw)
    check_meaning(loaded)
    return loaded


def plans_of(doc: PolicyFile) -> dict:
    return {**DEFAULT_PLANS, **doc.policy.plans}


def region_known(doc: PolicyFile, name: str) -> bool:
    """Whether ``name`` names a zone of ``doc`` or a country (``policy.places``)."""
    return RegionNames(doc.regions).known(name)


def _check_zones(loaded: LoadedPolicy) -> None:
    """Each zone's GeoJSON file exists (relative to the file that names it) and each polygon
    is valid (a ring that crosses itself has no inside)."""
    from shapely import is_valid_reason
    from shapely.geometry import Polygon

    for name, zone in loaded.doc.regions.items():
        line = loaded.line("regions", name)
        if zone.geojson is not None:
            path = Path(zone.geojson)
            if not path.is_absolute():
                path = Path(loaded.source).parent / path
            if not path.is_file():
                raise InputError(f"GeoJSON file '{zone.geojson}' not found (paths are relative "
                                 "to the file that names them)", source=loaded.source,
                                 line=line, field=f"regions.{name}.geojson")
        if zone.polygon is not None:
            polygon = Polygon(zone.polygon)
            if not polygon.is_valid:
                raise InputError(f"not a valid polygon: {is_valid_reason(polygon)} (the ring "
                                 "must not cross itself)", source=loaded.source, line=line,
                                 field=f"regions.{name}.polygon")
            from leotwin.ground.geometry import clean_multipolygon

            if clean_multipolygon([polygon]).is_empty:
                raise InputError("the polygon has no area once split at the antimeridian: an "
                                 "edge spanning more than 180° of longitude is read as "
                                 "crossing it (add vertices, e.g. at longitude 0)",
                                 source=loaded.source, line=line,
                                 field=f"regions.{name}.polygon")


def check_meaning(loaded: LoadedPolicy) -> None:
    doc, src = loaded.doc, loaded.source
    plans = plans_of(doc)
    accounts = {a.id for a in doc.policy.accounts}
    for k, t in enumerate(doc.terminals):
        if t.plan not in plans:
            raise InputError(f"unknown plan '{t.plan}': expected one of {', '.join(plans)}",
                             source=src, line=loaded.line("terminals", k, "plan"),
                             field=f"terminals.{k}.plan")
        if t.account is not None and t.account not in accounts:
            raise InputError(f"unknown account '{t.account}': declare it under policy.accounts",
                             source=src, line=loaded.line("terminals", k, "account"),
                             field=f"terminals.{k}.account")
        for region in [*t.whitelisted, *([t.home_country] if t.home_country else [])]:
            if not region_known(doc, region):
                raise InputError(f"unknown region '{region}'", source=src,
                                 line=loaded.line("terminals", k), field=f"terminals.{k}")
    for what, ids, base in (("terminal", [t.id for t in doc.terminals], ("terminals",)),
                            ("account", [a.id for a in doc.policy.accounts],
                             ("policy", "accounts"))):
        seen: set[str] = set()
        for k, i in enumerate(ids):
            if i in seen:
                path = (*base, k)
                raise InputError(f"{what} id '{i}' is declared twice", source=src,
                                 line=loaded.line(*path),
                                 field=".".join(map(str, path)) + ".id")
            seen.add(i)
    _check_zones(loaded)
    names = RegionNames(doc.regions)
    seen_ids = set()
    slots: dict[tuple, tuple] = {}
    for k, entry in enumerate(doc.policy.log):
        where = ("policy", "log", k)
        if entry.id in seen_ids:
            raise InputError(f"log id '{entry.id}' is used twice", source=src,
                             line=loaded.line(*where, "id"), field=f"policy.log.{k}.id")
        seen_ids.add(entry.id)
        body, kind = entry.change.body, entry.change.kind
        for attr in ("region", "from_", "into"):
            name = getattr(body, attr, None)
            if name is not None and not region_known(doc, name):
                raise InputError(f"unknown region '{name}': expected an ISO code, a country "
                                 "name or a zone declared under regions", source=src,
                                 line=loaded.line(*where, "change"),
                                 field=f"policy.log.{k}.change.{kind}.{attr.rstrip('_')}")
        for plan in [*(getattr(body, "plans", None) or []),
                     *([body.plan] if kind == "set_plan" else [])]:
            if plan not in plans:
                raise InputError(f"unknown plan '{plan}'", source=src,
                                 line=loaded.line(*where, "change"),
                                 field=f"policy.log.{k}.change.{kind}.plans")
        if entry.decision != "granted":
            continue
        target = _target(kind, body, names)
        if target is None:
            continue
        key = (target, entry.effective, entry.sequence)
        # the value it sets, regions spelt canonically (UA and UKR set the same thing)
        value = body.model_copy(update={"region": names.canonical(body.region)}
                                if hasattr(body, "region") else {}).model_dump_json()
        if key in slots and slots[key][1] != value:
            other = slots[key][0]
            raise InputError(
                f"changes '{doc.policy.log[other].id}' and '{entry.id}' set {target[0]} "
                f"{target[1]} differently at the same instant: give them different 'sequence' "
                "numbers to say which applies last", source=src,
                line=loaded.line(*where, "sequence") or loaded.line(*where),
                field=f"policy.log.{k}")
        slots[key] = (k, value)
    for k, rule in enumerate(doc.policy.detection):
        where = ("policy", "detection", k)
        try:
            parse_reasons(rule.reasons)
        except InputError as exc:
            raise InputError(exc.message, source=src, line=loaded.line(*where, "reasons"),
                             field=f"policy.detection.{k}.reasons") from None
        if rule.rule == "denied_for" and not rule.reasons:
            raise InputError("denied_for needs a list of reasons", source=src,
                             line=loaded.line(*where), field=f"policy.detection.{k}.reasons")
        if rule.rule in ("in_zone", "cluster") and rule.zone is not None \
                and not region_known(doc, rule.zone):
            raise InputError(f"unknown region '{rule.zone}'", source=src,
                             line=loaded.line(*where, "zone"), field=f"policy.detection.{k}.zone")
        if rule.rule == "in_zone" and rule.zone is None:
            raise InputError("in_zone needs a zone", source=src, line=loaded.line(*where),
                             field=f"policy.detection.{k}.zone")
    for finding in checks.errors(doc):
        raise InputError(finding.message, source=src, line=loaded.line(*finding.where),
                         field=".".join(map(str, finding.where)))
    loaded.warnings = [str(InputError(f.message, source=src, line=loaded.line(*f.where),
                                      field=".".join(map(str, f.where))))
                       for f in checks.warnings(doc)]


def _target(kind: str, body, names: RegionNames) -> tuple | None:
    """What a change sets, for conflict detection (None: changes that only add); regions by
    their canonical name, so ``UA`` and ``UKR`` are one target."""
    if kind in ("set_status", "speed_cap", "altitude_cap", "in_motion_ban", "whitelist",
                "registration_rules"):
        return (kind, names.canonical(body.region))
    if kind == "funding":
        return (kind, names.canonical_or_self(body.payer))
    if kind in ("register",):
        return (kind, f"{body.terminal}@{names.canonical(body.region)}")
    if kind in ("deactivate", "reactivate"):
        return ("activation", body.terminal)
    if kind == "set_plan":
        return (kind, body.terminal)
    return None
