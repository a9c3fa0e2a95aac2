"""Unusual but valid inputs are accepted and mean what they say (the other half of the bad-input
corpus, ``tests/data/bad/valid/``): CRLF line endings, a byte-order mark, tabs, trailing spaces
and blank lines, 3LE names with digits and Space-Track's ``0`` prefix, the CCSDS unit
annotations of OMM, quoted CSV fields, zones across the antimeridian and around a pole, and
country codes in lower case."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.csv as pacsv
import pytest

from leotwin.ground.sites import load_sites_csv
from leotwin.orbits.tle import load_tle

VALID = Path(__file__).parent / "data" / "bad" / "valid"
GOOD = VALID.parent / "good"
WINDOW = ("--start", "2026-01-15", "--duration", "10m", "--step", "5m")


def _positions(cli, tmp_path, option: str, path: Path):
    out = tmp_path / f"{path.name}.csv"
    code, _, err = cli("propagate", option, path, *WINDOW, "--out", out)
    assert code == 0, err
    return pacsv.read_csv(out).to_pydict()


@pytest.mark.parametrize("name", ["crlf.3le", "bom.3le", "names-with-digits.3le",
                                  "trailing-spaces-blank-lines.tle"])
def test_element_sets_with_unusual_layout_give_the_same_states(cli, tmp_path, name):
    """The same six element sets as good.3le, laid out differently: identical states."""
    assert _positions(cli, tmp_path, "--tle", VALID / name) == _positions(
        cli, tmp_path, "--tle", GOOD / "good.3le")


def test_3le_names_with_digits_are_names():
    sats = load_tle(VALID / "names-with-digits.3le")
    assert sats.names[:3] == ["ISS (ZARYA)", "1KUNS-PF", "2020-001A 44715"]
    assert sats.ids[:3] == ["25544", "44713", "44714"]


@pytest.mark.parametrize("name", ["units-and-tabs.kvn", "crlf-bom.csv", "units.xml"])
def test_omm_with_ccsds_units_tabs_crlf_and_bom_reads_as_the_plain_file(cli, tmp_path, name):
    plain = GOOD / ("good" + Path(name).suffix)
    assert _positions(cli, tmp_path, "--omm", VALID / name) == _positions(
        cli, tmp_path, "--omm", plain)


def test_quoted_csv_fields_bom_and_crlf():
    sites = load_sites_csv(VALID / "sites-crlf-bom-quoted.csv")
    assert sites.ids == ["A", "B"]
    assert list(sites.lat_deg) == [50.45, -33.9] and list(sites.alt_km) == [0.15, 0.0]
    assert sites.attrs["name"] == ["Kyiv, centre", 'Sydney "harbour"']


@pytest.mark.parametrize("lat, lon, inside", [
    (55, 179.5, "pacific"), (55, -175, "pacific"), (55, 171, "pacific"), (55, 160, None),
    (85, 45, "arctic"), (89.9, -120, "arctic"), (79, 45, None),
])
def test_antimeridian_and_polar_zones_hold_what_they_enclose(cli, lat, lon, inside):
    code, out, err = cli("decide", VALID / "zones.yaml", "--terminal", "t-one/1 ä",
                         "--lat", lat, "--lon", lon, "--time", "2026-02-01T00:00Z")
    assert code == 0, err
    decision = json.loads(out)
    assert ("REGION_INACTIVE" in decision["reasons"]) == (inside is not None), decision
    if inside:
        assert f"not enabled in {inside}" in decision["explanation"]


def test_lowercase_country_codes_where_documented(cli, tmp_path):
    """``ua`` (a speed cap) and ``ukr``/``Ukraine`` (a whitelist) name Ukraine; so does
    ``--region ua``."""
    code, out, err = cli("decide", VALID / "zones.yaml", "--terminal", "t-one/1 ä", "--lat",
                         50.4, "--lon", 30.5, "--speed-kmh", 100, "--time", "2026-02-01T00:00Z")
    assert code == 0, err
    assert json.loads(out)["reasons"] == ["SPEED_CAP"]
    code, out, err = cli("coverage", "--region", "ua", *WINDOW, "--constellation", "kuiper",
                         "--h3-res", "2", "--out", tmp_path / "ua.csv")
    assert code == 0, err
    assert json.loads(out)["code"] == "UA"


def test_relative_paths_are_relative_to_the_file_that_names_them(cli, tmp_path, monkeypatch):
    """One rule for run, policy check and decide: a scenario's TLE, GeoJSON zone and gateway
    table are found beside the scenario, whatever the current directory."""
    folder = tmp_path / "scenarios"
    (folder / "data").mkdir(parents=True)
    shutil.copy(GOOD / "good.tle", folder / "data" / "sats.tle")
    (folder / "data" / "zone.geojson").write_text(json.dumps({
        "type": "Polygon", "coordinates": [[[36, 47], [39, 47], [39, 49], [36, 49], [36, 47]]]}))
    (folder / "data" / "gw.csv").write_text("id,lat_deg,lon_deg,antennas\nG1,50.1,30.2,8\n")
    text = (GOOD / "scenario.yaml").read_text().replace(
        "{tle: good.tle}", "{tle: data/sats.tle}").replace(
        "{polygon: [[36, 47], [39, 47], [39, 49], [36, 49], [36, 47]]}",
        "{geojson: data/zone.geojson}").replace("gateways: bundled", "gateways: data/gw.csv")
    scenario = folder / "relative.yaml"
    scenario.write_text(text)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, _, err = cli("policy", "check", scenario)
    assert code == 0, err
    code, out, err = cli("decide", scenario, "--terminal", "KYIV", "--lat", 48, "--lon", 37,
                         "--time", "2026-01-15T00:00Z")
    assert code == 0 and "zone_a" in out, err
    code, _, err = cli("run", scenario, "--out", elsewhere / "r", "--no-report")
    assert code == 0, err
    assert json.loads((elsewhere / "r" / "summary.json").read_text())["satellites"] == 6
    # the control plane over the same scenario: its engine finds the zone's file too
    from fastapi.testclient import TestClient

    from leotwin.controlplane.app import create_app
    from leotwin.controlplane.auth import create_token
    from leotwin.controlplane.store import Store

    store = Store(elsewhere / "cp.db")
    token = create_token(store, "viewer")
    store.close()
    client = TestClient(create_app(scenario, elsewhere / "cp.db"))
    r = client.post("/v1/decisions", json={"terminal_id": "KYIV", "lat": 48, "lon": 37,
                                           "time": "2026-01-15T00:00Z"},
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and "zone_a" in r.json()["explanation"], r.text


def test_libyaml_and_pure_python_parsers_read_the_same_values_and_lines(monkeypatch):
    """The C parser is used when PyYAML has it; PyYAML's own gives the same document."""
    import yaml

    import leotwin.io.yamlfile as yamlfile

    def read(loader):
        monkeypatch.setattr(yamlfile, "_COMPOSER", loader)
        doc = yamlfile.load_yaml((VALID / "zones.yaml").read_text(), "zones.yaml")
        return doc, [yamlfile.line_at(doc, loc) for loc in (
            ("regions", "arctic"), ("terminals", 0, "whitelisted"), ("policy", "log", 2))]

    c_doc, c_lines = read(getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    py_doc, py_lines = read(yaml.SafeLoader)
    assert c_doc == py_doc and c_lines == py_lines == [5, 7, 14]
