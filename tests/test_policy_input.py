"""Strict policy input (issue #12): duplicate keys in every format, meaning errors that name
what is wrong, changes that cannot take effect, and warnings for what is legal but suspicious."""

from __future__ import annotations

import pytest

from leotwin.errors import InputError
from leotwin.policy import load_policy
from leotwin.timegrid.grid import parse_time
from policy_files import ENTRY, policy_file

WHEN = parse_time("2026-03-01T00:00:00Z")




def test_a_duplicate_key_is_refused_with_both_lines(tmp_path):
    path = policy_file(tmp_path, """
    policy:
      log:
        - id: a
          requested_at: 2026-01-01
          requested_by: x
          decided_by: y
          decision: granted
          decision: refused
          change: {set_status: {region: UA, status: inactive}}
    """)
    with pytest.raises(InputError, match=r"key 'decision' appears twice .*line 8") as info:
        load_policy(path)
    assert info.value.line == 9


@pytest.mark.parametrize("body, needle", [
    ("policy:\n  log:\n" + ENTRY.format(id="o", change="{override: {region: IR}}"),
     "cannot take effect"),
    ("policy:\n  log:\n" + ENTRY.format(
        id="c", change="{set_cells: {cells: ['831e6cfffffffff'], status: blacklisted}}"),
     "resolution 3"),
    ("policy:\n  log:\n" + ENTRY.format(
        id="c", change="{set_cells: {cells: ['not-a-cell'], status: blacklisted}}"),
     "not a valid H3 cell id"),
    ("regions: {z: {polygon: [[30, 95], [31, 50], [32, 50], [30, 95]]}}\npolicy: {}\n",
     "outside lon"),
    ("regions: {z: {polygon: [[30, 50], [31, 50], [30, 50]]}}\npolicy: {}\n",
     "at least 3 distinct"),
    ("regions: {z: {cells: ['zzz']}}\npolicy: {}\n", "not a valid H3 cell id"),
    ("terminals: [{id: A}, {id: A}]\npolicy: {}\n", "terminal id 'A' is declared twice"),
    ("policy:\n  accounts: [{id: a}, {id: a}]\n", "account id 'a' is declared twice"),
    ("policy:\n  log:\n" + ENTRY.format(id="a", change="{set_status: {region: UA, "
                                                       "status: inactive}}")
     + ENTRY.format(id="b", change="{set_status: {region: UKR, status: active}}"),
     "set set_status UA differently at the same instant"),
])
def test_policy_that_cannot_take_effect_is_an_error(tmp_path, body, needle):
    with pytest.raises(InputError, match=needle):
        load_policy(policy_file(tmp_path, body))


def test_an_override_where_something_is_not_licensed_is_fine(tmp_path):
    body = ("policy:\n  log:\n"
            + ENTRY.format(id="ir", change="{set_status: {region: IR, status: not_licensed}}")
            + ENTRY.format(id="o", change="{override: {region: IR}}"))
    assert load_policy(policy_file(tmp_path, body)).warnings == []


def test_suspicious_policy_is_a_warning(tmp_path):
    body = ("regions: {PL: {polygon: [[20, 50], [21, 50], [21, 51], [20, 50]]}}\n"
            "policy:\n  log:\n"
            + ENTRY.format(id="r", change="{reactivate: {terminal: T}}")
            + ENTRY.format(id="s", change="{speed_cap: {region: UA}}")
            + """        - {id: late, requested_at: 2026-01-01, effective_at: 2026-01-02,
           decided_at: 2026-01-05, requested_by: x, decided_by: y, decision: granted,
           change: {whitelist: {region: UA}}}
""")
    loaded = load_policy(policy_file(tmp_path, body))
    text = "\n".join(loaded.warnings)
    assert "zone 'PL' has the name of a country (Poland)" in text
    assert "log entry 'r' (reactivate) changes nothing" in text
    assert "log entry 's' (speed_cap) changes nothing" in text
    assert "'late' was granted at 2026-01-05T00:00:00Z, after the 2026-01-02" in text
    assert len(loaded.warnings) == 4
    assert all(w.startswith(str(loaded.source)) for w in loaded.warnings)


@pytest.mark.parametrize("name, text, needle", [
    ("o.csv", "OBJECT_NAME,EPOCH,EPOCH\nX,2026-01-01T00:00:00,2026-01-02T00:00:00\n",
     "column 'EPOCH' appears twice"),
    ("o.kvn", "CCSDS_OMM_VERS = 2.0\nOBJECT_NAME = X\nEPOCH = 2026-01-01T00:00:00\n"
              "EPOCH = 2026-01-02T00:00:00\n", "key EPOCH appears twice"),
    ("o.json", '[{"OBJECT_NAME": "X", "EPOCH": "2026-01-01T00:00:00", '
               '"EPOCH": "2026-01-02T00:00:00"}]', "key 'EPOCH' appears twice"),
    ("o.xml", "<ndm><omm><body><segment><metadata><OBJECT_NAME>X</OBJECT_NAME>"
              "<OBJECT_NAME>Y</OBJECT_NAME></metadata></segment></body></omm></ndm>",
     "<OBJECT_NAME> appears twice"),
])
def test_duplicate_keys_are_refused_in_every_omm_format(tmp_path, name, text, needle):
    from leotwin.orbits import load_omm

    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError, match=needle):
        load_omm(path)


def test_duplicate_csv_columns_and_geojson_keys_are_refused(tmp_path):
    from leotwin.ground.regions import load_geojson_region
    from leotwin.ground.sites import load_sites_csv

    csv_path = tmp_path / "s.csv"
    csv_path.write_text("id,lat_deg,lon_deg,lat_deg\nA,50,30,51\n")
    with pytest.raises(InputError, match="column 'lat_deg' appears twice"):
        load_sites_csv(csv_path)
    gj = tmp_path / "z.geojson"
    gj.write_text('{"type": "Polygon", "type": "Point", "coordinates": []}')
    with pytest.raises(InputError, match="key 'type' appears twice"):
        load_geojson_region(gj)


@pytest.mark.parametrize("body, needle", [
    ("policy:\n  log:\n" + ENTRY.format(id="s", change="{set_status: {region: UA, "
                                                       "status: superactive}}"),
     "got 'superactive'"),
    ("policy:\n  log:\n" + ENTRY.format(id="o", change="{override: {region: IR, "
                                                       "plans: [platinum]}}"),
     "unknown plan 'platinum'"),
    ("policy:\n  detection:\n    - {rule: in_zone, minutes: 5, zone: atlantis}\n",
     "unknown region 'atlantis'"),
    ("policy:\n  detection:\n    - {rule: cluster, minutes: 5, zone: atlantis}\n",
     "unknown region 'atlantis'"),
    ("policy:\n  detection:\n    - {rule: in_zone, minutes: 5}\n", "in_zone needs a zone"),
    ("policy:\n  detection:\n    - {rule: denied_for, minutes: 5}\n",
     "denied_for needs a list of reasons"),
    ("policy:\n  detection:\n    - {rule: denied_for, minutes: 5, reasons: [BORED]}\n",
     "unknown reason code 'BORED'"),
])
def test_meaning_errors_name_what_is_wrong(tmp_path, body, needle):
    with pytest.raises(InputError, match=needle):
        load_policy(policy_file(tmp_path, body))


def test_the_same_change_twice_at_one_instant_is_no_conflict(tmp_path):
    body = ("policy:\n  log:\n"
            + ENTRY.format(id="a", change="{set_status: {region: UA, status: inactive}}")
            + ENTRY.format(id="b", change="{set_status: {region: UKR, status: inactive}}"))
    assert load_policy(policy_file(tmp_path, body)).doc.policy.log[1].id == "b"


@pytest.mark.parametrize("extra, ok", [
    # the override's region becomes not licensed while it is in force: fine
    (ENTRY.replace("2026-01-01", "2026-03-01").format(
        id="ir", change="{set_status: {region: IR, status: not_licensed}}"), True),
    # ... only after the override has ended: it could never lift anything
    (ENTRY.replace("2026-01-01", "2026-09-01").format(
        id="ir", change="{set_status: {region: IR, status: not_licensed}}"), False),
    # a spill-over that makes cells not licensed counts
    (ENTRY.format(id="sp", change="{spillover: {from: IR, into: IQ, buffer_km: 20, "
                                  "status: not_licensed}}"), True),
])
def test_an_override_is_checked_over_the_time_it_is_in_force(tmp_path, extra, ok):
    override = """        - {id: o, requested_at: 2026-01-01, until: 2026-06-01, requested_by: x,
           decided_by: y, decision: granted, change: {override: {region: IR}}}
"""
    path = policy_file(tmp_path, "policy:\n  log:\n" + override + extra)
    if ok:
        load_policy(path)
    else:
        with pytest.raises(InputError, match="cannot take effect"):
            load_policy(path)


def test_a_grant_decided_exactly_at_its_until_is_never_in_force(tmp_path):
    body = """policy:
  log:
    - {id: e, requested_at: 2026-01-01, effective_at: 2026-01-02, until: 2026-01-03,
       decided_at: 2026-01-03, requested_by: x, decided_by: y, decision: granted,
       change: {whitelist: {region: UA}}}
"""
    with pytest.raises(InputError, match="never in force"):
        load_policy(policy_file(tmp_path, body))


@pytest.mark.parametrize("change, noop", [
    ("{altitude_cap: {region: UA}}", True),
    ("{in_motion_ban: {region: JP, banned: false}}", True),
    ("{whitelist: {region: UA, required: false}}", True),
    ("{register: {terminal: T, region: UA, registered: false}}", True),
    ("{override: {region: IR, enabled: false}}", True),
])
def test_each_removal_that_removes_nothing_is_a_warning(tmp_path, change, noop):
    body = "terminals: [{id: T}]\npolicy:\n  log:\n" + ENTRY.format(id="x", change=change)
    warnings = load_policy(policy_file(tmp_path, body)).warnings
    assert any("changes nothing" in w for w in warnings) is noop


@pytest.mark.parametrize("first, then", [
    ("{deactivate: {terminal: T}}", "{reactivate: {terminal: T}}"),
    ("{speed_cap: {region: UA, max_kmh: 75}}", "{speed_cap: {region: UKR}}"),
    ("{altitude_cap: {region: UA, max_m: 100}}", "{altitude_cap: {region: UA}}"),
    ("{in_motion_ban: {region: JP}}", "{in_motion_ban: {region: Japan, banned: false}}"),
    ("{whitelist: {region: UA}}", "{whitelist: {region: UA, required: false}}"),
    ("{register: {terminal: T, region: UA}}",
     "{register: {terminal: T, region: UA, registered: false}}"),
    ("{set_status: {region: IR, status: not_licensed}}", "{set_status: {region: IR, "
                                                          "status: not_licensed}}"),
])
def test_a_removal_of_what_is_in_force_is_no_warning(tmp_path, first, then):
    body = ("terminals: [{id: T}]\npolicy:\n  log:\n" + ENTRY.format(id="a", change=first)
            + ENTRY.replace("2026-01-01", "2026-02-01").format(id="b", change=then))
    assert load_policy(policy_file(tmp_path, body)).warnings == []


def test_retroactive_and_until_boundaries_are_refused():
    from pydantic import ValidationError

    base = {"id": "e", "requested_at": WHEN, "requested_by": "x", "decided_by": "y",
            "decision": "granted", "change": {"whitelist": {"region": "UA"}}}
    from leotwin.policy.schema import LogEntry

    with pytest.raises(ValidationError, match="retroactive"):
        LogEntry.model_validate({**base, "retroactive": True, "effective_at": WHEN,
                                 "decided_at": WHEN})
    with pytest.raises(ValidationError, match="until must be after"):
        LogEntry.model_validate({**base, "until": WHEN})


def test_log_entries_and_changes_cannot_be_edited_in_place():
    from pydantic import ValidationError

    from leotwin.policy.schema import LogEntry

    e = LogEntry.model_validate({"id": "e", "requested_at": WHEN, "requested_by": "x",
                                 "decided_by": "y", "decision": "granted",
                                 "change": {"whitelist": {"region": "UA"}}})
    with pytest.raises(ValidationError):
        e.decision = "refused"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        e.change.whitelist.required = False  # type: ignore[union-attr,misc]
    with pytest.raises(ValidationError):
        e.change.whitelist = None  # type: ignore[misc]


def test_an_override_ending_as_its_region_becomes_unlicensed_cannot_take_effect(tmp_path):
    body = """policy:
  log:
    - {id: o, requested_at: 2026-01-01, until: 2026-06-01, requested_by: x, decided_by: y,
       decision: granted, change: {override: {region: IR}}}
    - {id: ir, requested_at: 2026-06-01, requested_by: x, decided_by: y, decision: granted,
       change: {set_status: {region: IR, status: not_licensed}}}
"""
    path = tmp_path / "p.yaml"
    path.write_text(body)
    with pytest.raises(InputError, match="cannot take effect"):
        load_policy(path)


@pytest.mark.parametrize("args, needle", [
    (["--alt-m", "inf"], "height inf m is outside"),
    (["--alt-m", "nan"], "height nan m is outside"),
    (["--speed-kmh", "inf"], "speed inf km/h is outside"),
    (["--speed-kmh", "nan"], "speed nan km/h is outside"),
    (["--speed-kmh", "-1"], "speed -1.0 km/h is outside"),
])
def test_decide_refuses_non_finite_heights_and_speeds(cli, args, needle):
    code, _, err = cli("decide", "ukraine", "--terminal", "T", "--lat", "50.45", "--lon",
                       "30.52", "--time", "2026-03-01T00:00Z", *args)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_passes_refuses_a_non_finite_height(cli, tmp_path):
    code, _, err = cli("passes", "--lat", "50", "--lon", "30", "--alt-m", "inf",
                       "--constellation", "hypatia-kuiper-630", "--start",
                       "2026-03-01T00:00Z", "--duration", "10m", "--out",
                       tmp_path / "p.csv")
    assert code == 2 and "height inf m is outside" in err and not (tmp_path / "p.csv").exists()
