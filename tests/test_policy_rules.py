"""Rules whose breakage the suite once missed (issue #12): one region resolver everywhere;
status precedence cell > zone (later zones over earlier) > country; the waitlist's home
exemption; the ``test`` status; reactivation; strict policy input."""

from __future__ import annotations

import textwrap

import h3
import pytest

from leotwin.policy import PolicyEngine, load_policy
from leotwin.policy.schema import PolicyFile
from leotwin.timegrid.grid import parse_time
from policy_files import ENTRY

KYIV = (50.45, 30.52)


WHEN = parse_time("2026-03-01T00:00:00Z")


ZONES = {"big": {"polygon": [[29.5, 49.5], [31.5, 49.5], [31.5, 51.5], [29.5, 51.5],
                             [29.5, 49.5]]},
         "small": {"polygon": [[30.3, 50.3], [30.7, 50.3], [30.7, 50.6], [30.3, 50.6],
                               [30.3, 50.3]]}}


def _engine(log, terminals=(), accounts=(), regions=None):
    entries = [{"id": str(k), "requested_at": "2026-01-01", "requested_by": "x",
                "decided_by": "y", "decision": "granted", "sequence": k, "change": c}
               for k, c in enumerate(log)]
    return PolicyEngine(PolicyFile.model_validate({
        "regions": ZONES if regions is None else regions, "terminals": list(terminals),
        "policy": {"accounts": list(accounts), "log": entries}}))


def _reasons(engine, terminal="T", place=KYIV, speed=0.0, t=WHEN):
    return set(engine.explain(terminal, *place, 0.0, speed, t)["reasons"])


@pytest.mark.parametrize("home", ["UA", "UKR", "Ukraine", "ukraine"])
def test_waitlist_exempts_the_home_country_however_it_is_spelt(home):
    e = _engine([{"set_status": {"region": "UA", "status": "waitlisted"}}],
                terminals=[{"id": "T", "home_country": home}, {"id": "U"}])
    assert _reasons(e, "T") == set()
    assert _reasons(e, "U") == {"REGION_WAITLISTED"}  # no home, not registered


@pytest.mark.parametrize("spelling", ["UA", "UKR", "Ukraine"])
def test_whitelist_and_registration_resolve_alike(spelling):
    e = _engine([{"whitelist": {"region": spelling}},
                 {"register": {"terminal": "R", "region": "Ukraine"}}],
                terminals=[{"id": "T", "whitelisted": ["UKR"]}, {"id": "R"}, {"id": "N"}])
    assert _reasons(e, "T") == set()
    assert _reasons(e, "R") == set()
    assert _reasons(e, "N") == {"NOT_WHITELISTED"}


def test_status_spellings_are_one_region():
    """``UA`` then ``UKR`` set the same region: the later (by sequence) wins."""
    e = _engine([{"set_status": {"region": "UA", "status": "inactive"}},
                 {"set_status": {"region": "UKR", "status": "active"}}],
                terminals=[{"id": "T"}])
    assert _reasons(e) == set()
    assert e.state_at(WHEN).status == {"UA": "active"}


def test_cell_overrides_zone_overrides_country():
    cell = h3.latlng_to_cell(*KYIV, 5)
    country = {"set_status": {"region": "UA", "status": "inactive"}}
    zone = {"set_status": {"region": "big", "status": "active"}}
    cells = {"set_cells": {"cells": [cell], "status": "blacklisted"}}
    t = [{"id": "T"}]
    assert _reasons(_engine([country], t)) == {"REGION_INACTIVE"}
    assert _reasons(_engine([country, zone], t)) == set()
    # the cell wins over the zone, whatever order the log sets them in
    assert _reasons(_engine([country, zone, cells], t)) == {"CELL_BLACKLISTED"}
    assert _reasons(_engine([cells, zone, country], t)) == {"CELL_BLACKLISTED"}
    # outside the cell, inside the zone: the zone's status
    near = (KYIV[0] + 0.3, KYIV[1] + 0.3)
    assert h3.latlng_to_cell(*near, 5) != cell
    assert _reasons(_engine([country, zone, cells], t), place=near) == set()


def test_later_declared_zones_override_earlier_ones():
    big_off = {"set_status": {"region": "big", "status": "inactive"}}
    small_on = {"set_status": {"region": "small", "status": "active"}}
    t = [{"id": "T"}]
    # "small" is declared after "big": it wins inside it, in either log order
    assert _reasons(_engine([big_off, small_on], t)) == set()
    assert _reasons(_engine([small_on, big_off], t)) == set()
    # declared the other way round, "big" wins
    flipped = {"small": ZONES["small"], "big": ZONES["big"]}
    assert _reasons(_engine([big_off, small_on], t, regions=flipped)) == {"REGION_INACTIVE"}


def test_test_status_admits_only_the_test_programme():
    e = _engine([{"set_status": {"region": "UA", "status": "test"}}],
                terminals=[{"id": "T", "account": "beta"}, {"id": "U", "account": "plain"}],
                accounts=[{"id": "beta", "test_program": True}, {"id": "plain"}])
    assert _reasons(e, "T") == set()
    assert _reasons(e, "U") == {"REGION_INACTIVE"}


def test_reactivate_restores_service():
    log = [{"deactivate": {"terminal": "T", "why": "found at the front"}}]
    t = [{"id": "T"}]
    assert _reasons(_engine(log, t)) == {"TERMINAL_DEACTIVATED"}
    assert _reasons(_engine([*log, {"reactivate": {"terminal": "T"}}], t)) == set()
    # reactivating another terminal does not
    assert _reasons(_engine([*log, {"reactivate": {"terminal": "X"}}], t)) == \
        {"TERMINAL_DEACTIVATED"}




def test_a_zone_file_is_found_next_to_the_policy_wherever_it_runs(tmp_path, monkeypatch):
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "kyiv.geojson").write_text(
        '{"type": "Polygon", "coordinates": [[[30.3, 50.3], [30.7, 50.3], [30.7, 50.6], '
        '[30.3, 50.6], [30.3, 50.3]]]}')
    path = folder / "p.yaml"
    path.write_text(textwrap.dedent("""
    regions: {kyiv: {geojson: kyiv.geojson}}
    terminals: [{id: T}]
    policy:
      log:
    """) + ENTRY.format(id="k", change="{set_status: {region: kyiv, status: inactive}}"))
    monkeypatch.chdir(tmp_path)  # not the policy's folder
    e = PolicyEngine(load_policy(path))
    assert _reasons(e) == {"REGION_INACTIVE"}
    assert _reasons(e, place=(49.84, 24.03)) == set()  # Lviv, outside the zone


def test_a_cell_can_switch_service_on_inside_an_inactive_country():
    cell = h3.latlng_to_cell(*KYIV, 5)
    e = _engine([{"set_status": {"region": "UA", "status": "inactive"}},
                 {"set_cells": {"cells": [cell], "status": "active"}}], [{"id": "T"}])
    assert _reasons(e) == set()
    near = (KYIV[0] + 0.3, KYIV[1] + 0.3)
    assert _reasons(e, place=near) == {"REGION_INACTIVE"}
    e2 = _engine([{"set_cells": {"cells": [cell], "status": "inactive"}}], [{"id": "T"}])
    assert _reasons(e2) == {"REGION_INACTIVE"}  # a cell's own status, not "blacklisted"


def test_an_override_lifts_only_its_own_region():
    e = _engine([{"set_status": {"region": "IR", "status": "not_licensed"}},
                 {"set_status": {"region": "SD", "status": "not_licensed"}},
                 {"override": {"region": "IR", "accounts": ["civil"]}}],
                terminals=[{"id": "T", "account": "civil"}, {"id": "U", "account": "other"}],
                accounts=[{"id": "civil"}, {"id": "other"}])
    tehran, khartoum = (35.69, 51.39), (15.5, 32.5)
    assert _reasons(e, "T", tehran) == set()
    assert _reasons(e, "U", tehran) == {"REGION_NOT_LICENSED"}
    assert _reasons(e, "T", khartoum) == {"REGION_NOT_LICENSED"}
    # an unknown terminal is never covered by an override
    assert _reasons(e, "X", tehran) == {"REGION_NOT_LICENSED", "UNKNOWN_TERMINAL"}


def test_unknown_terminals_are_not_exempt_from_land_in_motion_bans():
    e = _engine([{"in_motion_ban": {"region": "JP"}}], [{"id": "SHIP", "plan": "maritime"}])
    tokyo = (35.68, 139.76)
    assert _reasons(e, "SHIP", tokyo, speed=40) == set()  # maritime: exempt
    assert _reasons(e, "NOBODY", tokyo, speed=40) == {"IN_MOTION_NOT_ALLOWED",
                                                      "UNKNOWN_TERMINAL"}


def test_the_explanation_names_every_country_including_the_first():
    from leotwin.ground.regions import countries

    first = countries().regions[0]
    point = first.geometry.representative_point()
    e = _engine([{"set_status": {"region": first.iso_a2 or first.code,
                                 "status": "inactive"}}], [{"id": "T"}])
    text = e.explain("T", point.y, point.x, 0, 0, WHEN)["explanation"]
    assert f"at {first.name}," in text and "service is not enabled in " + first.name in text


def test_a_plan_without_in_motion_use_denies_motion():
    e = PolicyEngine(PolicyFile.model_validate({
        "terminals": [{"id": "T", "plan": "fleet"}],
        "policy": {"plans": {"fleet": {"max_speed_kmh": 50}}}}))
    assert _reasons(e, speed=30) == {"IN_MOTION_NOT_ALLOWED"}
    assert _reasons(e, speed=5) == set()


def test_boundaries_of_motion_caps_and_registration_are_inclusive():
    """At exactly the in-motion threshold, a cap or the time of registration the terminal is
    allowed (a rule denies only above a cap, and from its instant on)."""
    e = _engine([{"speed_cap": {"region": "UA", "max_kmh": 75}},
                 {"altitude_cap": {"region": "UA", "max_m": 500}}],
                [{"id": "HOME", "plan": "residential"}, {"id": "CAR", "plan": "roam"}])
    threshold = e.threshold
    assert _reasons(e, "HOME", speed=threshold) == set()
    assert _reasons(e, "HOME", speed=threshold + 0.01) == {"IN_MOTION_NOT_ALLOWED"}
    assert _reasons(e, "CAR", speed=75.0) == set()
    assert _reasons(e, "CAR", speed=75.01) == {"SPEED_CAP"}
    assert e.explain("CAR", *KYIV, 500.0, 0, WHEN)["allowed"]
    assert e.explain("CAR", *KYIV, 500.01, 0, WHEN)["reasons"] == ["ALTITUDE_CAP"]
    reg = PolicyEngine(PolicyFile.model_validate({"terminals": [
        {"id": "NEW", "registered_at": WHEN}], "policy": {}}))
    assert _reasons(reg, "NEW", t=WHEN) == set()
    assert _reasons(reg, "NEW", t=WHEN - 1) == {"UNKNOWN_TERMINAL"}


def test_a_change_applies_from_its_nanosecond_on():
    e = _engine([], [{"id": "T"}])
    late = PolicyEngine(PolicyFile.model_validate({"terminals": [{"id": "T"}], "policy": {
        "log": [{"id": "off", "requested_at": WHEN, "requested_by": "x", "decided_by": "y",
                 "decision": "granted",
                 "change": {"set_status": {"region": "UA", "status": "inactive"}}}]}}))
    assert _reasons(e) == set()
    assert _reasons(late, t=WHEN - 1) == set()
    assert _reasons(late, t=WHEN) == {"REGION_INACTIVE"}


def test_the_first_terminal_of_the_registry_keeps_its_plan():
    e = _engine([], [{"id": "FIRST", "plan": "roam"}, {"id": "SECOND", "plan": "roam"}])
    # roam is capped at 160 km/h: index 0 of the registry as much as any other
    assert _reasons(e, "FIRST", speed=170) == {"SPEED_CAP"}
    assert _reasons(e, "SECOND", speed=170) == {"SPEED_CAP"}


def test_the_open_sea_takes_the_default_status_whatever_the_last_country_has():
    from leotwin.ground.regions import countries

    last = countries().regions[-1]
    e = _engine([{"set_status": {"region": last.iso_a2 or last.code, "status": "inactive"}}],
                [{"id": "T"}])
    atlantic = (30.0, -40.0)
    assert e.countries.lookup([atlantic[0]], [atlantic[1]])[0] == -1
    assert _reasons(e, place=atlantic) == set()


def test_unknown_terminals_are_not_in_the_test_programme_and_plans_exempt_as_documented():
    e = _engine([{"set_status": {"region": "UA", "status": "test"}}], [{"id": "T"}])
    assert _reasons(e, "NOBODY") == {"REGION_INACTIVE", "UNKNOWN_TERMINAL"}
    ban = _engine([{"in_motion_ban": {"region": "JP"}}],
                  [{"id": "PLANE", "plan": "aviation"}, {"id": "SHIP", "plan": "maritime"},
                   {"id": "GOV", "plan": "government"}])
    tokyo = (35.68, 139.76)
    assert _reasons(ban, "PLANE", tokyo, speed=300) == set()
    assert _reasons(ban, "SHIP", tokyo, speed=30) == set()
    assert _reasons(ban, "GOV", tokyo, speed=30) == {"IN_MOTION_NOT_ALLOWED"}


def test_an_explanation_gives_the_words_of_its_reasons_only():
    e = _engine([{"speed_cap": {"region": "UA", "max_kmh": 75}}], [{"id": "T", "plan": "roam"}])
    text = e.explain("T", *KYIV, 0, 100, WHEN)["explanation"]
    assert "exceeds the cap of 75 km/h" in text
    assert "not in the registry" not in text and "satellite" not in text


def test_assigning_a_payer_adds_to_the_accounts_payers_unless_it_replaces_them():
    e = _engine([{"assign_payer": {"account": "acc", "payer": "p2"}},
                 {"funding": {"payer": "p1", "status": "suspended"}}],
                [{"id": "T", "account": "acc"}], accounts=[{"id": "acc", "payers": ["p1"]}])
    assert e.state_at(WHEN).account_payers["acc"] == ["p1", "p2"]
    assert _reasons(e) == set()  # p2 still pays
    e2 = _engine([{"assign_payer": {"account": "acc", "payer": "p1", "replace": True}},
                  {"funding": {"payer": "p1", "status": "suspended"}}],
                 [{"id": "T", "account": "acc"}], accounts=[{"id": "acc", "payers": ["p2"]}])
    assert _reasons(e2) == {"FUNDING_SUSPENDED"}


def test_the_initial_state_resolves_names_on_its_own():
    from leotwin.policy.state import initial_state

    doc = PolicyFile.model_validate({"terminals": [{"id": "T", "whitelisted": ["Ukraine"]}],
                                     "policy": {}})
    assert initial_state(doc).registered == {"T": {"UA"}}


def test_an_override_by_plan_lifts_only_that_plan():
    e = _engine([{"set_status": {"region": "IR", "status": "not_licensed"}},
                 {"override": {"region": "IR", "plans": ["government"]}}],
                [{"id": "GOV", "plan": "government"}, {"id": "CAR", "plan": "roam"}])
    tehran = (35.69, 51.39)
    assert _reasons(e, "GOV", tehran) == set()
    assert _reasons(e, "CAR", tehran) == {"REGION_NOT_LICENSED"}


def test_an_unknown_terminal_is_waitlisted():
    e = _engine([{"set_status": {"region": "UA", "status": "waitlisted"}}], [{"id": "T"}])
    assert _reasons(e, "NOBODY") == {"REGION_WAITLISTED", "UNKNOWN_TERMINAL"}


def test_the_explanation_names_the_first_terminals_plan():
    e = _engine([], [{"id": "FIRST", "plan": "residential"}])
    text = e.explain("FIRST", *KYIV, 0, 40, WHEN)["explanation"]
    assert "on the residential plan" in text
