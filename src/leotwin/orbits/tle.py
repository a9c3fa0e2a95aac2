"""Two- and three-line element sets: strict validation, then python-sgp4's own parser.

Column layout: CelesTrak "NORAD Two-Line Element Set Format" and Vallado, *Fundamentals*, 4th ed.,
Fig. 2-14; Alpha-5 catalogue numbers (a letter for the ten-thousands) per the 18 SPCS convention
that python-sgp4 supports.  Every problem is reported as one line naming the file, the line and
the field; nothing is half-loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from leotwin.errors import InputError
from leotwin.io.text import read_text
from leotwin.orbits.elements import range_problem
from leotwin.orbits.satellites import SatelliteSet

_ALPHA5 = r"[0-9A-HJ-NP-Z][0-9]{4}"  # letters I and O are not used
_INT = r" *-?[0-9]+"
_FLOAT = r" *[-+]?[0-9]*\.?[0-9]+"
_IMPLIED = r"[ +-][0-9 ]{5}[+-][0-9]"  # ±ddddd±e (implied leading decimal point)

# (name, 1-based first column, last column, regex the text must match)
_LINE1 = [
    ("line number", 1, 1, r"1"),
    ("catalogue number", 3, 7, r" *" + _ALPHA5 + r"| *[0-9]{1,5}"),
    ("classification", 8, 8, r"[UCS ]"),
    ("epoch year", 19, 20, r"[0-9]{2}"),
    ("epoch day", 21, 32, r"[ 0-9]{3}\.[0-9]{1,8} *"),
    ("mean motion first derivative", 34, 43, r" *[-+ ]?\.[0-9]{1,8}|[-+ ]?0?\.[0-9]+| *[-+]?0"),
    ("mean motion second derivative", 45, 52, _IMPLIED + r"| *[-+]?0+[-+]?0?"),
    ("BSTAR", 54, 61, _IMPLIED + r"| *[-+]?0+[-+]?0?"),
    ("ephemeris type", 63, 63, r"[0-9 ]"),
    ("element set number", 65, 68, r" *[0-9]*"),
]
_LINE2 = [
    ("line number", 1, 1, r"2"),
    ("catalogue number", 3, 7, r" *" + _ALPHA5 + r"| *[0-9]{1,5}"),
    ("inclination", 9, 16, _FLOAT),
    ("right ascension of the ascending node", 18, 25, _FLOAT),
    ("eccentricity", 27, 33, r"[0-9]{7}|[0-9 ]{7}"),
    ("argument of perigee", 35, 42, _FLOAT),
    ("mean anomaly", 44, 51, _FLOAT),
    ("mean motion", 53, 63, _FLOAT),
    ("revolution number", 64, 68, r" *[0-9]*"),
]
#: TLE column name → OMM key, whose range ``orbits.elements`` holds
_OMM_KEY = {
    "inclination": "INCLINATION", "right ascension of the ascending node": "RA_OF_ASC_NODE",
    "argument of perigee": "ARG_OF_PERICENTER", "mean anomaly": "MEAN_ANOMALY",
    "mean motion": "MEAN_MOTION",
}


def tle_checksum(line: str) -> int:
    """The TLE checksum of columns 1–68: sum of digits, each '-' counting 1, modulo 10."""
    return sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68]) % 10


def with_checksum(line68: str) -> str:
    """Append the checksum digit to a 68-column TLE line."""
    return f"{line68:<68.68s}{tle_checksum(line68)}"


@dataclass(frozen=True)
class TLERecord:
    """One element set as read: optional name, the two lines, and where they were."""

    name: str | None
    line1: str
    line2: str
    line_no: int  # 1-based line number of line 1 in the source

    @property
    def catalogue_number(self) -> str:
        """Catalogue number as text (Alpha-5 kept as written, leading zeros stripped)."""
        text = self.line1[2:7].strip()
        return text.lstrip("0") or "0" if text.isdigit() else text


def _check_line(text: str, fields, number: int, source: str, line_no: int,
                checksum: bool = True) -> None:
    if len(text) != 69:
        raise InputError(
            f"TLE line {number} has {len(text)} characters, expected 69",
            source=source, line=line_no,
        )
    for name, first, last, pattern in fields:
        value = text[first - 1:last]
        if not re.fullmatch(pattern, value):
            raise InputError(
                f"expected a valid {name} in columns {first}-{last}, found '{value}'",
                source=source, line=line_no, field=name,
            )
    expected = tle_checksum(text)
    if checksum and (not text[68].isdigit() or int(text[68]) != expected):
        raise InputError(
            f"bad checksum: column 69 is '{text[68]}', the checksum of columns 1-68 is {expected}",
            source=source, line=line_no, field="checksum",
        )


def _check_ranges(rec: TLERecord, source: str) -> None:
    l1, l2 = rec.line1, rec.line2
    for name, first, last, _ in _LINE2:
        if name in _OMM_KEY:
            problem = range_problem(_OMM_KEY[name], float(l2[first - 1:last]), name)
            if problem:
                raise InputError(problem, source=source, line=rec.line_no + 1,
                                 field=name)
    day = float(l1[20:32])
    year = int(l1[18:20])
    year += 1900 if year >= 57 else 2000
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1.0 <= day < (367.0 if leap else 366.0):
        raise InputError(
            f"epoch day {day} is outside 1 … {366 if leap else 365}.99999999 for {year}",
            source=source, line=rec.line_no, field="epoch day",
        )
    if l1[2:7] != l2[2:7]:
        raise InputError(
            f"line 2 catalogue number '{l2[2:7].strip()}' differs from line 1's "
            f"'{l1[2:7].strip()}'",
            source=source, line=rec.line_no + 1, field="catalogue number",
        )


_OTHER_FORMATS = [
    (re.compile(r"^\s*[\[{]"), "OMM JSON"),
    (re.compile(r"^\s*<"), "OMM XML"),
    (re.compile(r"^\s*CCSDS_OMM_VERS"), "OMM KVN"),
    (re.compile(r"^\s*OBJECT_NAME\s*,"), "OMM CSV"),
]


def parse_tle_text(text: str, source: str = "<text>", *, verify_checksum: bool = True
                   ) -> list[TLERecord]:
    """Parse 2-line and 3-line element sets (they may be mixed) and validate every field.

    A name line (3LE; an optional ``0 `` prefix as Space-Track writes it is removed) must be
    followed by line 1 then line 2.  Blank lines are ignored.  Raises :class:`InputError`.
    ``verify_checksum=False`` accepts wrong checksums (only for hand-made sets such as
    Vallado's verification cases 33333–33335).
    """
    lines = text.splitlines()
    records: list[TLERecord] = []
    name: tuple[str, int] | None = None
    i = 0
    while i < len(lines):
        raw = lines[i].rstrip()
        i += 1
        if not raw.strip():
            continue
        if not records and name is None:
            for pattern, fmt in _OTHER_FORMATS:
                if pattern.match(raw):
                    raise InputError(
                        f"this looks like {fmt}, not TLE: give it with --omm",
                        source=source, line=i,
                    )
        if raw.startswith("1 "):
            line1, line1_no = raw, i
            while i < len(lines) and not lines[i].strip():
                i += 1
            if i >= len(lines) or not lines[i].startswith("2 "):
                raise InputError("TLE line 1 is not followed by its line 2",
                                 source=source, line=line1_no)
            line2 = lines[i].rstrip()
            i += 1
            _check_line(line1, _LINE1, 1, source, line1_no, verify_checksum)
            _check_line(line2, _LINE2, 2, source, i, verify_checksum)
            rec = TLERecord(name[0] if name else None, line1, line2, line1_no)
            _check_ranges(rec, source)
            records.append(rec)
            name = None
        elif raw.startswith("2 "):
            raise InputError("TLE line 2 without a preceding line 1", source=source, line=i)
        else:
            if name is not None:
                raise InputError(
                    f"expected TLE line 1 after the name line {name[1]}, found another "
                    f"non-element line '{raw[:30]}'",
                    source=source, line=i,
                )
            label = raw.strip()
            name = (label[2:].strip() if label.startswith("0 ") else label, i)
    if name is not None:
        raise InputError("name line is not followed by TLE lines 1 and 2",
                         source=source, line=name[1])
    if not records:
        raise InputError("no element sets found: expected TLE or 3LE lines", source=source)
    seen: dict[str, int] = {}
    for rec in records:
        num = rec.catalogue_number
        if num in seen:
            raise InputError(
                f"catalogue number {num} appears twice (also at line {seen[num]}): "
                "keep one element set per object",
                source=source, line=rec.line_no, field="catalogue number",
            )
        seen[num] = rec.line_no
    return records


def satellites_from_tle_records(records: list[TLERecord], source: str) -> SatelliteSet:
    """Initialise SGP4 for each record.

    Elements SGP4 rejects at initialisation (e.g. a perturbed eccentricity out of range) are kept:
    their error code is reported for every instant they are propagated to, like any SGP4 error.
    """
    return SatelliteSet(
        ids=[r.catalogue_number for r in records],
        recipes=[("tle", r.line1, r.line2) for r in records],
        names=[r.name or r.catalogue_number for r in records],
        source=source,
    )


def load_tle(path: str | PathLike[str]) -> SatelliteSet:
    """Read a TLE/3LE file into a :class:`SatelliteSet` (ids are catalogue numbers)."""
    path = Path(path)
    text = read_text(path)
    return satellites_from_tle_records(parse_tle_text(text, str(path)), str(path))
