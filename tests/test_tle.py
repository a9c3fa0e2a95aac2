"""TLE/3LE import: the good files load, every malformed line is named precisely."""

from __future__ import annotations

import pytest

from leotwin.errors import InputError
from leotwin.orbits import load_tle, parse_tle_text
from leotwin.orbits.tle import tle_checksum

ISS1 = "1 25544U 98067A   19343.69339541  .00001764  00000-0  38792-4 0  9991"
ISS2 = "2 25544  51.6439 211.2001 0007417  17.6667  85.6398 15.50103472202482"


def test_checksum_rule():
    # digits summed, '-' counts one, everything else zero, modulo 10
    assert tle_checksum(ISS1) == 1 and tle_checksum(ISS2) == 2
    assert tle_checksum("1 -" + "0" * 65) == 2


def test_two_and_three_line_files(data_dir):
    three = load_tle(data_dir / "sample.3le")
    two = load_tle(data_dir / "sample.tle")
    assert three.ids == two.ids == ["25544", "44713", "44714", "44715", "44716", "44717"]
    assert three.names[0] == "ISS (ZARYA)" and two.names[0] == "25544"
    assert three.satrecs[0].satnum == 25544
    assert three.satrecs[0].no_kozai == two.satrecs[0].no_kozai


def test_mixed_two_and_three_line_records_and_space_track_prefix():
    text = f"0 ISS (ZARYA)\n{ISS1}\n{ISS2}\n\n" + _starlink()
    recs = parse_tle_text(text, "mixed.tle")
    assert [r.name for r in recs] == ["ISS (ZARYA)", None]


def test_alpha5_catalogue_number():
    l1 = "1 A0001U 98067A   19343.69339541  .00001764  00000-0  38792-4 0  999"
    l2 = "2 A0001  51.6439 211.2001 0007417  17.6667  85.6398 15.50103472202482"
    l1 += str(tle_checksum(l1))
    l2 = l2[:68] + str(tle_checksum(l2))
    (rec,) = parse_tle_text(f"{l1}\n{l2}\n")
    assert rec.catalogue_number == "A0001"


def _starlink() -> str:
    return ("1 44713U 19074A   26014.50000000  .00001200  00000-0  21000-3 0  9997\n"
            "2 44713  53.0500  10.0000 0001400  90.0000  12.0000 15.06000000345679\n")


def _fix(line: str) -> str:
    return line[:68] + str(tle_checksum(line))


@pytest.mark.parametrize("text, line, message", [
    (f"{ISS1[:68]}7\n{ISS2}\n", 1, "bad checksum: column 69 is '7'"),
    (f"{ISS1[:60]}\n{ISS2}\n", 1, "has 60 characters, expected 69"),
    (f"{ISS1}\n{_fix(ISS2[:8] + ' 51.6x39' + ISS2[16:])}\n", 2, "valid inclination"),
    (f"{ISS2}\n", 1, "line 2 without a preceding line 1"),
    (f"{ISS1}\n", 1, "not followed by its line 2"),
    (f"{ISS1}\n{_fix(ISS2[:8] + '191.6439' + ISS2[16:])}\n", 2, "inclination 191.6439 deg"),
    (f"{ISS1}\n{_fix(ISS2[:52] + ' 0.00000000' + ISS2[63:])}\n", 2, "mean motion 0.0"),
    (f"{_fix(ISS1[:20] + '400.69339541' + ISS1[32:])}\n{ISS2}\n", 1, "epoch day 400.69339541"),
    (f"{ISS1}\n{_fix(ISS2[:2] + '25545' + ISS2[7:])}\n", 2, "differs from line 1"),
    (f"{ISS1}\n{ISS2}\n{ISS1}\n{ISS2}\n", 3, "appears twice (also at line 1)"),
    (f"NAME A\nNAME B\n{ISS1}\n{ISS2}\n", 2, "expected TLE line 1 after the name line 1"),
    ('[{"OBJECT_NAME": "X"}]\n', 1, "looks like OMM JSON"),
    ("NAME ONLY\n", 1, "not followed by TLE lines"),
])
def test_malformed_tle_names_the_line(text, line, message):
    with pytest.raises(InputError) as info:
        parse_tle_text(text, "bad.tle")
    err = info.value
    assert err.source == "bad.tle" and err.line == line, str(err)
    assert message in str(err)
    assert "\n" not in str(err)


def test_empty_and_missing_files(tmp_path):
    empty = tmp_path / "empty.tle"
    empty.write_text("\n\n")
    with pytest.raises(InputError, match="no element sets found"):
        load_tle(empty)
    with pytest.raises(InputError, match="file not found"):
        load_tle(tmp_path / "nope.tle")
    binary = tmp_path / "bin.tle"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(InputError, match="not UTF-8"):
        load_tle(binary)
