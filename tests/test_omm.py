"""OMM import in CelesTrak's four serialisations; equivalence with the same TLEs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from leotwin.errors import InputError
from leotwin.orbits import PropagationOptions, load_omm, load_tle, propagate
from leotwin.timegrid import TimeGrid

# ``epochdays`` is left out: sgp4init derives it as a float sum (whole_jd − jan0 + fraction), one
# ulp from the TLE's parsed text; propagation uses the split jdsatepoch/jdsatepochF compared here.
ATTRS = ("satnum", "epochyr", "jdsatepoch", "jdsatepochF", "ndot", "nddot", "bstar",
         "inclo", "nodeo", "ecco", "argpo", "mo", "no_kozai", "classification", "ephtype",
         "elnum", "revnum")


@pytest.mark.parametrize("fmt", ["json", "csv", "xml", "kvn"])
def test_omm_equals_tle(data_dir, fmt):
    """Same element sets as TLE and as OMM → identical Satrec and identical positions
    (python-sgp4's ``test_omm_*_matches_old_tle`` criterion, PHYSICS.md §7 anchor 6)."""
    tle = load_tle(data_dir / "sample.3le")
    omm = load_omm(data_dir / f"sample.{fmt}")
    assert omm.ids == tle.ids and omm.names == tle.names
    for a, b in zip(tle.satrecs, omm.satrecs, strict=True):
        for attr in ATTRS:
            assert getattr(a, attr) == getattr(b, attr), attr
    grid = TimeGrid.from_span("2026-01-14T00:00:00Z", "2d", "17m")
    pa, pb = propagate(tle, grid), propagate(omm, grid)
    assert np.array_equal(pa.r_km, pb.r_km, equal_nan=True)
    assert np.array_equal(pa.v_km_s, pb.v_km_s, equal_nan=True)
    assert np.array_equal(pa.error, pb.error)


def test_format_detected_from_content(data_dir, tmp_path):
    for fmt in ("json", "xml", "kvn", "csv"):
        target = tmp_path / f"noext_{fmt}"
        target.write_text((data_dir / f"sample.{fmt}").read_text())
        assert len(load_omm(target)) == 6


@pytest.fixture
def records(data_dir):
    return json.loads((data_dir / "sample.json").read_text())


@pytest.mark.parametrize("change, message", [
    ({"EPOCH": None}, "missing required OMM key(s) EPOCH"),
    ({"EPOCH": "2026-13-45T00:00:00"}, "is not a valid date"),
    ({"EPOCH": "yesterday"}, "expected EPOCH as ISO 8601"),
    ({"MEAN_MOTION": "fast"}, "expected a number, found 'fast'"),
    ({"ECCENTRICITY": 1.2}, "ECCENTRICITY 1.2"),
    ({"INCLINATION": -3}, "INCLINATION -3.0"),
    ({"MEAN_ELEMENT_THEORY": "SGP4-XP"}, "SGP4-XP"),
    ({"REF_FRAME": "GCRF"}, "expected TEME"),
    ({"NORAD_CAT_ID": "12a"}, "expected a number, found '12a'"),
    ({"NORAD_CAT_ID": "12.5"}, "whole catalogue number"),
])
def test_bad_omm_json_names_record_and_field(tmp_path, records, change, message):
    rec = dict(records[2])
    for key, value in change.items():
        if value is None:
            rec.pop(key)
        else:
            rec[key] = value
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([records[0], records[1], rec]))
    with pytest.raises(InputError) as info:
        load_omm(path)
    text = str(info.value)
    assert message in text and "record 3" in text and str(path) in text


def test_bad_omm_csv_names_line(tmp_path, data_dir):
    lines = (data_dir / "sample.csv").read_text().splitlines()
    lines[3] = lines[3].replace("2019-074B,2026-01-14T15:17:16.800000", "2019-074B,2026-01-14")
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as info:
        load_omm(path)
    assert info.value.line == 4 and "EPOCH" in str(info.value)


def test_bad_omm_kvn_names_line(tmp_path, data_dir):
    text = (data_dir / "sample.kvn").read_text().replace("MEAN_MOTION = 15.06000000",
                                                         "MEAN_MOTION = x", 1)
    path = tmp_path / "bad.kvn"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_omm(path)
    line = text.splitlines().index("MEAN_MOTION = x") + 1
    assert info.value.line == line and "MEAN_MOTION" in str(info.value)


@pytest.mark.parametrize("name, text, message", [
    ("broken.json", '[{"EPOCH": ', "invalid JSON"),
    ("broken.xml", "<ndm><omm>", "invalid XML"),
    ("empty.xml", "<ndm></ndm>", "no <segment> elements"),
    ("empty.json", "[]", "no OMM records"),
    ("tle.txt", "1 25544U 98067A ...\n", "looks like TLE"),
    ("dup.json", "DUP", "appears twice"),
])
def test_malformed_omm_files(tmp_path, records, name, text, message):
    if text == "DUP":
        text = json.dumps([records[1], records[1]])
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_omm(path)


def test_epoch_without_fraction_is_normalised(tmp_path, records):
    """python-sgp4's omm.initialize needs fractional seconds (PHYSICS.md §1.5 gotcha)."""
    plain, full = tmp_path / "nofrac.json", tmp_path / "frac.json"
    plain.write_text(json.dumps([dict(records[1], EPOCH="2026-01-14T12:00:00")]))
    full.write_text(json.dumps([dict(records[1], EPOCH="2026-01-14T12:00:00.000000")]))
    a, b = load_omm(plain).satrecs[0], load_omm(full).satrecs[0]
    assert (a.jdsatepoch, a.jdsatepochF) == (b.jdsatepoch, b.jdsatepochF) == (2461054.5, 0.5)


def test_large_omm_catalogue_numbers_keep_their_id(tmp_path, records):
    rec = dict(records[1], NORAD_CAT_ID=812345)
    path = tmp_path / "big.json"
    path.write_text(json.dumps([rec]))
    sats = load_omm(path)
    assert sats.ids == ["812345"]
    eph = propagate(sats, TimeGrid.from_span("2026-01-14", "10m", "1m"),
                    PropagationOptions(geodetic=False))
    assert (eph.error == 0).all()
