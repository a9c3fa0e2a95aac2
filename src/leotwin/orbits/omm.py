"""CCSDS Orbit Mean-Elements Messages (OMM) in CelesTrak's four serialisations: JSON, CSV, XML, KVN.

Keys and units: CCSDS 502.0-B-3 (OMM) with the ``tleParameters`` of SGP4 element sets, as served
by CelesTrak GP and SupGP (FACTS.md §5): ``EPOCH`` (UTC, ISO 8601), ``MEAN_MOTION`` (rev/day),
``ECCENTRICITY``, ``INCLINATION``, ``RA_OF_ASC_NODE``, ``ARG_OF_PERICENTER``, ``MEAN_ANOMALY``
(deg), ``NORAD_CAT_ID``, ``BSTAR`` (1/earth radii), ``MEAN_MOTION_DOT`` (rev/day²),
``MEAN_MOTION_DDOT`` (rev/day³).  Records are validated here, then initialised by
``satellites.initialize_omm`` so that an OMM and the TLE of the same element set give a
bit-identical ``Satrec``.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from os import PathLike
from pathlib import Path
from typing import Any

from leotwin.errors import InputError
from leotwin.io.jsonfile import load_json
from leotwin.io.text import read_text, unique_header
from leotwin.orbits.elements import range_problem, unit_problem
from leotwin.orbits.satellites import SatelliteSet

REQUIRED = (
    "EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER", "MEAN_ANOMALY", "NORAD_CAT_ID", "BSTAR", "MEAN_MOTION_DOT",
    "MEAN_MOTION_DDOT",
)
_EPOCH = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z?$"
)
FORMATS = ("json", "csv", "xml", "kvn")


class _Where:
    """Where a record came from, for messages: file plus line or record number."""

    def __init__(self, source: str, line: int | None = None, record: int | None = None):
        self.source, self.line, self.record = source, line, record

    def error(self, message: str, key: str | None = None, line: int | None = None) -> InputError:
        field = key if self.record is None else f"record {self.record} {key or ''}".strip()
        return InputError(message, source=self.source, line=line or self.line, field=field)


def normalise_omm(fields: dict, where: _Where) -> dict:
    """Check one OMM record and return the normalised field dict for ``initialize_omm``."""
    fields = {str(k).strip().upper(): v for k, v in fields.items()}
    missing = [k for k in REQUIRED if fields.get(k) in (None, "")]
    if missing:
        raise where.error(f"missing required OMM key(s) {', '.join(missing)}", missing[0])
    theory = str(fields.get("MEAN_ELEMENT_THEORY") or "SGP4").strip().upper()
    if theory not in ("SGP4", "SGP/SGP4"):
        raise where.error(
            f"MEAN_ELEMENT_THEORY is '{theory}': only SGP4 mean elements can be propagated "
            "(SGP4-XP sets need the SGP4-XP propagator)", "MEAN_ELEMENT_THEORY")
    for key, expected in (("REF_FRAME", "TEME"), ("CENTER_NAME", "EARTH"), ("TIME_SYSTEM", "UTC")):
        value = fields.get(key)
        if value not in (None, "") and str(value).strip().upper() != expected:
            raise where.error(f"{key} is '{value}', expected {expected}", key)
    out: dict = {}
    for key in REQUIRED[1:]:
        text = str(fields[key]).strip()
        try:
            value = float(text)
        except ValueError:
            raise where.error(f"expected a number, found '{text}'", key) from None
        if value != value or value in (float("inf"), float("-inf")):
            raise where.error(f"expected a finite number, found '{text}'", key)
        problem = range_problem(key, value)
        if problem:
            raise where.error(problem, key)
        out[key] = text
    catno = out["NORAD_CAT_ID"]
    if not re.fullmatch(r"\d{1,9}(\.0*)?", catno):
        raise where.error(f"expected a whole catalogue number, found '{catno}'", "NORAD_CAT_ID")
    catalogue = int(float(catno))
    # python-sgp4 stores at most Alpha-5 numbers (≤ 339 999); larger OMM-only numbers keep
    # their id in leotwin and are initialised with satnum 0.
    out["NORAD_CAT_ID"] = str(catalogue if catalogue <= 339_999 else 0)
    out["_CATALOGUE"] = str(catalogue)
    out["EPOCH"] = _normalise_epoch(str(fields["EPOCH"]).strip(), where)
    out["OBJECT_NAME"] = str(fields.get("OBJECT_NAME") or "").strip()
    out["OBJECT_ID"] = str(fields.get("OBJECT_ID") or "").strip() or "1900-000A"
    out["CLASSIFICATION_TYPE"] = str(fields.get("CLASSIFICATION_TYPE") or "U").strip() or "U"
    for key, default in (("EPHEMERIS_TYPE", "0"), ("ELEMENT_SET_NO", "999"),
                         ("REV_AT_EPOCH", "0")):
        text = str(fields.get(key) if fields.get(key) not in (None, "") else default).strip()
        if not re.fullmatch(r"-?\d+(\.0*)?", text):
            raise where.error(f"expected a whole number, found '{text}'", key)
        out[key] = str(int(float(text)))
    return out


def _normalise_epoch(text: str, where: _Where) -> str:
    """EPOCH → ``YYYY-MM-DDTHH:MM:SS.ffffff`` (``omm.initialize`` needs the fraction)."""
    m = _EPOCH.match(text)
    if not m:
        raise where.error(f"expected EPOCH as ISO 8601 UTC (2026-01-01T12:00:00.000000), "
                          f"found '{text}'", "EPOCH")
    frac = (m.group(7) or "0")[:6].ljust(6, "0")
    try:
        y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
        datetime(y, mo, d, h, mi, s)
    except ValueError as exc:
        raise where.error(f"EPOCH '{text}' is not a valid date: {exc}", "EPOCH") from None
    year = int(m.group(1))
    if not 1957 <= year <= 2100:
        raise where.error(f"EPOCH year {year} is outside 1957 … 2100", "EPOCH")
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}T{m.group(4)}:{m.group(5)}:{m.group(6)}.{frac}"


# --- the four serialisations -------------------------------------------------------------------

def _records_json(text: str, source: str):
    data = load_json(text, source)
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise InputError("expected a JSON list of OMM objects", source=source)
    for k, item in enumerate(data, 1):
        if not isinstance(item, dict):
            raise InputError(f"record {k} is a {type(item).__name__}, expected an OMM object",
                             source=source)
        yield item, _Where(source, record=k)


def _records_csv(text: str, source: str):
    reader = csv.DictReader(io.StringIO(text))
    unique_header(reader.fieldnames, source)
    if not reader.fieldnames or "EPOCH" not in [f.strip().upper() for f in reader.fieldnames]:
        raise InputError("expected a CSV header row with OMM keys (OBJECT_NAME, EPOCH, …)",
                         source=source, line=1)
    for row in reader:
        if None in row:
            raise InputError("more values than header columns", source=source,
                             line=reader.line_num)
        if all(v in (None, "") for v in row.values()):
            continue
        yield row, _Where(source, line=reader.line_num)


def _records_xml(text: str, source: str):
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InputError(f"invalid XML: {exc}", source=source, line=exc.position[0]) from None
    segments = root.findall(".//segment")
    if not segments:
        raise InputError("no <segment> elements: expected CCSDS OMM XML (ndm/omm/body/segment)",
                         source=source)
    for k, segment in enumerate(segments, 1):
        fields: dict[str, str] = {}
        for part in ("metadata", "data/meanElements", "data/tleParameters"):
            node = segment.find(part)
            if node is not None:
                for child in node:
                    if child.tag in fields:
                        raise InputError(f"<{child.tag}> appears twice in segment {k}: keep "
                                         "one", source=source)
                    if "units" in child.attrib:
                        problem = unit_problem(child.tag, child.attrib["units"])
                        if problem:
                            raise InputError(problem, source=source, field=f"segment {k} "
                                             f"{child.tag}")
                    fields[child.tag] = (child.text or "").strip()
        yield fields, _Where(source, record=k)


_KVN_LINE = re.compile(r"^\s*([A-Z_0-9]+)\s*=\s*(.*?)\s*(\[[^\]]*\])?\s*$")


def _records_kvn(text: str, source: str):
    fields: dict | None = None
    start = 0
    lines: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("COMMENT"):
            continue
        m = _KVN_LINE.match(stripped)
        if not m:
            raise InputError("expected 'KEY = value'", source=source, line=n)
        key, value = m.group(1), m.group(2)
        if m.group(3):  # a unit annotation, "[deg]": honoured when it is the CCSDS unit
            problem = unit_problem(key, m.group(3)[1:-1])
            if problem:
                raise InputError(problem, source=source, line=n, field=key)
        if key == "CCSDS_OMM_VERS":
            if fields is not None:
                yield fields, _KvnWhere(source, start, lines)
            fields, start, lines = {}, n, {}
            continue
        if fields is None:
            raise InputError("expected CCSDS_OMM_VERS before the first key", source=source,
                             line=n)
        if key in fields:
            raise InputError(f"key {key} appears twice in one OMM (first on line "
                             f"{lines[key]}): keep one", source=source, line=n)
        fields[key] = value
        lines[key] = n
    if fields is None:
        raise InputError("no OMM found: expected CCSDS_OMM_VERS = …", source=source)
    yield fields, _KvnWhere(source, start, lines)


class _KvnWhere(_Where):
    def __init__(self, source: str, start: int, lines: dict[str, int]):
        super().__init__(source, line=start)
        self.lines = lines

    def error(self, message, key=None, line=None):
        return super().error(message, key, line or self.lines.get(key or "", self.line))


_READERS = {"json": _records_json, "csv": _records_csv, "xml": _records_xml, "kvn": _records_kvn}


def detect_format(path: Path, text: str) -> str:
    """OMM serialisation from the file's suffix, else from its first characters."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    head = text.lstrip()[:200]
    if head.startswith(("[", "{")):
        return "json"
    if head.startswith("<"):
        return "xml"
    if head.startswith("CCSDS_OMM_VERS") or head.startswith("COMMENT"):
        return "kvn"
    if head.upper().startswith("OBJECT_NAME") or "EPOCH" in head.split("\n", 1)[0].upper():
        return "csv"
    if head.startswith(("1 ", "2 ")):
        raise InputError("this looks like TLE, not OMM: give it with --tle", source=path)
    raise InputError("cannot tell the OMM format: expected a .json, .csv, .xml or .kvn file",
                     source=path)


def parse_omm_text(text: str, source: str, fmt: str) -> list[tuple[dict, Any]]:
    """Validated OMM records (``sgp4.omm.initialize`` field dicts), each with where it was
    read (for error messages), from text in a given format."""
    if fmt not in _READERS:
        raise InputError(f"unknown OMM format '{fmt}': expected one of {', '.join(FORMATS)}",
                         source=source)
    out: list[tuple[dict, Any]] = []
    seen: dict[object, str] = {}
    for raw, where in _READERS[fmt](text, source):
        rec = normalise_omm(raw, where)
        catalogue = rec["_CATALOGUE"]
        if catalogue in seen:
            raise where.error(f"catalogue number {catalogue} appears twice (also {seen[catalogue]})"
                              ": keep one element set per object", "NORAD_CAT_ID")
        seen[catalogue] = (f"line {where.line}" if where.line else f"record {where.record}")
        out.append((rec, where))
    if not out:
        raise InputError("no OMM records found", source=source)
    return out


def load_omm(path: str | PathLike[str], fmt: str | None = None) -> SatelliteSet:
    """Read an OMM file (JSON, CSV, XML or KVN) into a :class:`SatelliteSet`."""
    path = Path(path)
    text = read_text(path)
    fmt = fmt or detect_format(path, text)
    records = parse_omm_text(text, str(path), fmt)
    ids, recipes, names = [], [], []
    for rec, _where in records:
        ids.append(rec.pop("_CATALOGUE"))
        names.append(rec["OBJECT_NAME"] or ids[-1])
        recipes.append(("omm", rec))
    # Elements SGP4 rejects at initialisation report their error code when propagated.
    return SatelliteSet(ids=ids, recipes=recipes, names=names, source=str(path))
