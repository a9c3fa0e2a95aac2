"""Rules whose breakage the suite once missed (issue #12): one region resolver everywhere;
status precedence cell > zone (later zones over earlier) > country; the waitlist's home
exemption; the ``test`` status; reactivation; strict policy input."""

from __future__ import annotations

import textwrap

import h3
import pytest

from leotwin.errors import InputError
from leotwin.policy import PolicyEngine, load_policy
from leotwin.policy.schema import PolicyFile
from leotwin.timegrid.grid import parse_time

KYIV = (50.45, 30.52)
WHEN = parse_time("2026-03-01T00:00:00Z")
#: two overlapping zones around Kyiv: "big" declared first, "small" inside it
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


# --- strict input ---------------------------------------------------------------------------

def _file(tmp_path, body: str):
    path = tmp_path / "p.yaml"
    path.write_text(textwrap.dedent(body))
    return path


ENTRY = """
        - id: {id}
          requested_at: 2026-01-01
          requested_by: x
          decided_by: y
          decision: granted
          change: {change}
"""


def test_a_duplicate_key_is_refused_with_both_lines(tmp_path):
    path = _file(tmp_path, """
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
        load_policy(_file(tmp_path, body))


def test_an_override_where_something_is_not_licensed_is_fine(tmp_path):
    body = ("policy:\n  log:\n"
            + ENTRY.format(id="ir", change="{set_status: {region: IR, status: not_licensed}}")
            + ENTRY.format(id="o", change="{override: {region: IR}}"))
    assert load_policy(_file(tmp_path, body)).warnings == []


def test_suspicious_policy_is_a_warning(tmp_path):
    body = ("regions: {PL: {polygon: [[20, 50], [21, 50], [21, 51], [20, 50]]}}\n"
            "policy:\n  log:\n"
            + ENTRY.format(id="r", change="{reactivate: {terminal: T}}")
            + ENTRY.format(id="s", change="{speed_cap: {region: UA}}")
            + """        - {id: late, requested_at: 2026-01-01, effective_at: 2026-01-02,
           decided_at: 2026-01-05, requested_by: x, decided_by: y, decision: granted,
           change: {whitelist: {region: UA}}}
""")
    loaded = load_policy(_file(tmp_path, body))
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
