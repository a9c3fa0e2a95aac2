"""``leotwin policy check|as-of`` and ``leotwin decide``."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from leotwin.errors import InputError
from leotwin.ground.sites import check_altitude, check_position, check_speed
from leotwin.policy.engine import PolicyEngine
from leotwin.policy.load import load_policy
from leotwin.policy.state import VIEWS, as_of, describe_view, in_force, refused_until
from leotwin.timegrid.grid import ns_to_iso, parse_time

app = typer.Typer()
policy_app = typer.Typer(help="Check a policy, or print the policy in force at a time.",
                         no_args_is_help=True)
Scenario = Annotated[str, typer.Argument(help="Scenario file or built-in scenario name.")]


@policy_app.command("check")
def check(scenario: Scenario) -> None:
    """Validate a scenario (everything a run reads, and its estimated size) or a policy file
    (schema and meaning); print a summary."""
    estimate = _scenario_estimate(scenario)
    loaded = load_policy(scenario)
    doc = loaded.doc
    PolicyEngine(loaded)  # builds zones: bad GeoJSON, cells or polygons fail here
    log = doc.policy.log
    granted = sum(e.decision == "granted" for e in log)
    console = Console(highlight=False, soft_wrap=True)
    for warning in loaded.warnings:
        console.print(f"warning: {warning}")
    console.print(
        f"{loaded.source}: valid — {len(log)} log entries ({granted} granted, "
        f"{len(log) - granted} refused), {len(doc.regions)} zones, {len(doc.terminals)} "
        f"terminals, {len(doc.policy.detection)} detection rules"
        + (f", {len(loaded.warnings)} warning(s)" if loaded.warnings else "")
        + (f"; a run: {estimate.describe()}" if estimate else ""))


def _scenario_estimate(ref: str):
    """For a scenario file: load it completely, read every file it names, and estimate its run
    (``sim.preflight``); None for a policy file."""
    from leotwin.data import resolve_scenario
    from leotwin.io.text import read_text
    from leotwin.io.yamlfile import load_yaml

    path = resolve_scenario(ref)
    raw = load_yaml(read_text(path), str(path))
    if not (isinstance(raw, dict) and "time" in raw and "constellation" in raw):
        return None
    from leotwin.io.budget import check_budget
    from leotwin.sim.load import load_scenario
    from leotwin.sim.preflight import preflight

    loaded = load_scenario(path)
    estimate = preflight(loaded)
    # memory is the machine's limit wherever the run writes; free space is checked by run
    check_budget(estimate, path, ignore_free_space=True, source=loaded.source)
    return estimate


@policy_app.command("as-of")
def as_of_command(
    scenario: Scenario,
    time: Annotated[str, typer.Option("--time", help="ISO 8601 UTC.")],
    known_at: Annotated[str | None, typer.Option(
        "--known-at", help="Fold what was decided by this time (ISO 8601 UTC; default: "
                           "--time, the policy in force as known then).")] = None,
    view: Annotated[str, typer.Option(help="granted: each grant from max(effective_at, "
                                           "decided_at); requested: from effective_at.")
                    ] = "granted",
) -> None:
    """The policy at a time, and the requests refused up to then (JSON).  Without options:
    what was in force at --time, as known then (later decisions never change it)."""
    loaded = load_policy(scenario)
    t = parse_time(time, source="--time")
    if view not in VIEWS:
        raise InputError(f"unknown view '{view}': expected one of {', '.join(VIEWS)}",
                         source="--view")
    known = None if known_at is None else parse_time(known_at, source="--known-at")
    state = as_of(loaded.doc, t, known_at=known, view=view)  # type: ignore[arg-type]
    out = {
        "as_of": ns_to_iso(t), "view": view,
        "known_at": ns_to_iso(known) if known is not None else (
            ns_to_iso(t) if view == "granted" else "every decision"),
        "meaning": describe_view(t, known, view),
        "default_status": state.default_status,
        "status": state.status, "cells": state.cells,
        "spillovers": [{"from": a, "into": b, "buffer_km": c, "status": d}
                       for a, b, c, d in state.spillovers],
        "speed_caps_kmh": state.speed_caps, "altitude_caps_m": state.altitude_caps,
        "in_motion_bans": sorted(state.in_motion_bans),
        "whitelist_required": sorted(state.whitelist_required),
        "registered": {k: sorted(v) for k, v in state.registered.items()},
        "payer_status": state.payer_status, "account_payers": state.account_payers,
        "deactivated": state.deactivated,
        "registration_rules": state.registration_rules,
        "registrations_pending": {k: ns_to_iso(v) for k, v in
                                  state.pending_registrations.items()},
        "registrations_rejected": state.rejected_registrations,
        "overrides": [{"region": r, "accounts": sorted(a) if a else None,
                       "plans": sorted(p) if p else None} for r, a, p in state.overrides],
        "granted_in_force": [e.id for e in in_force(loaded.doc, t, known_at=known,
                                                    view=view)],  # type: ignore[arg-type]
        "refused": [{"id": e.id, "requested_at": ns_to_iso(e.requested_at),
                     "requested_by": e.requested_by, "decided_by": e.decided_by,
                     "reason": e.reason, "change": e.change.model_dump(exclude_none=True,
                                                                        by_alias=True)}
                    for e in refused_until(loaded.doc, t)],
    }
    print(json.dumps(out, indent=2, ensure_ascii=False))


@app.command()
def decide(
    scenario: Scenario,
    terminal: Annotated[str, typer.Option(help="Terminal id (unknown ids are still judged).")],
    lat: Annotated[float, typer.Option(help="Latitude, degrees.")],
    lon: Annotated[float, typer.Option(help="Longitude, degrees.")],
    time: Annotated[str, typer.Option(help="ISO 8601 UTC.")],
    alt_m: Annotated[float, typer.Option(help="Altitude above WGS-84, metres.")] = 0.0,
    speed_kmh: Annotated[float, typer.Option(help="Ground speed, km/h.")] = 0.0,
) -> None:
    """Allow or deny one terminal at a place and time, with every reason, as JSON (for a
    scenario: over its whole registry, populations included, as ``leotwin run`` decides)."""
    check_position(lat, lon)
    check_speed(speed_kmh)
    check_altitude(alt_m)
    t = parse_time(time, source="--time")
    print(json.dumps(_engine(scenario).explain(terminal, lat, lon, alt_m, speed_kmh, t),
                     ensure_ascii=False))


def _engine(ref: str) -> PolicyEngine:
    """The engine a run of ``ref`` decides with (its populations and their registrations
    included) when ``ref`` is a scenario, else the engine of a policy file."""
    from leotwin.data import resolve_scenario
    from leotwin.io.text import read_text
    from leotwin.io.yamlfile import load_yaml

    path = resolve_scenario(ref)
    raw = load_yaml(read_text(path), str(path))
    if isinstance(raw, dict) and "time" in raw and "constellation" in raw:
        from leotwin.sim.assemble import scenario_engine
        from leotwin.sim.load import load_scenario

        return scenario_engine(load_scenario(path))
    return PolicyEngine(load_policy(path))
