"""Bad element sets: TLE/3LE and OMM in its four serialisations (JSON, CSV, XML, KVN)."""

from __future__ import annotations

import json

from corpus_common import WINDOW, Case, good


def _checksum(line: str) -> str:
    """The TLE checksum digit of columns 1-68 (digits count, '-' counts 1; mod 10)."""
    total = sum(int(c) if c.isdigit() else c == "-" for c in line[:68])
    return line[:68] + str(total % 10)


def _set(line: str, first: int, text: str, fix: bool = True) -> str:
    """``line`` with ``text`` written from column ``first`` (1-based), checksum fixed."""
    out = line[:first - 1] + text + line[first - 1 + len(text):]
    return _checksum(out) if fix else out


# the 3LE sample's first object: name on line 1, its line 1 on line 2, its line 2 on line 3
NAME, L1, L2 = good("good.3le").splitlines()[:3]
REST = "\n".join(good("good.3le").splitlines()[3:9]) + "\n"


def _tle_faults():
    """(id, lines of the first object, expected line number, expected text)."""
    yield "nul-in-line1", [NAME, L1[:30] + "\0" + L1[31:], L2], 2, "NUL"
    yield "nul-in-name", ["ISS\0ZARYA", L1, L2], 1, "NUL"
    yield "bell-in-name", ["ISS\x07", L1, L2], 1, "control character"
    yield "escape-in-line2", [NAME, L1, L2[:20] + "\x1b" + L2[21:]], 3, "control character"
    yield "bad-checksum", [NAME, L1[:68] + str((int(L1[68]) + 1) % 10), L2], 2, "checksum"
    yield "short-line1", [NAME, L1[:60], L2], 2, "69"
    yield "long-line2", [NAME, L1, L2 + "99"], 3, "69"
    yield "line2-first", [NAME, L2, L1], 2, "line 2 without"
    yield "no-line2", [NAME, L1], 2, "not followed"
    yield "name-only", [NAME], 2, "expected TLE line 1"
    yield "two-names", [NAME, NAME, L1, L2], 2, "expected TLE line 1"
    yield "catalogue-mismatch", [NAME, L1, _set(L2, 3, "25545")], 3, "catalogue number"
    yield "mean-motion-25", [NAME, L1, _set(L2, 53, "25.00000000")], 3, "mean motion"
    yield "mean-motion-zero", [NAME, L1, _set(L2, 53, " 0.00000000")], 3, "mean motion"
    yield "mean-motion-letters", [NAME, L1, _set(L2, 53, "15.5o103472")], 3, "mean motion"
    yield "inclination-200", [NAME, L1, _set(L2, 9, "200.0000")], 3, "inclination"
    yield "inclination-nan", [NAME, L1, _set(L2, 9, "     nan")], 3, "inclination"
    yield "raan-inf", [NAME, L1, _set(L2, 18, "     inf")], 3, "right ascension"
    yield "raan-361", [NAME, L1, _set(L2, 18, "361.0000")], 3, "right ascension"
    yield "argp-negative", [NAME, L1, _set(L2, 35, "-17.6667")], 3, "argument of perigee"
    yield "anomaly-letters", [NAME, L1, _set(L2, 44, " 85.6a98")], 3, "mean anomaly"
    yield "eccentricity-sign", [NAME, L1, _set(L2, 27, "-007417")], 3, "eccentricity"
    yield "epoch-day-400", [NAME, _set(L1, 21, "400.69339541"), L2], 2, "epoch day"
    yield "epoch-day-zero", [NAME, _set(L1, 21, "000.69339541"), L2], 2, "epoch day"
    yield "epoch-day-366-common", [NAME, _set(L1, 19, "19366.50000000"), L2], 2, "epoch day"
    yield "epoch-year-letters", [NAME, _set(L1, 19, "X9"), L2], 2, "epoch"
    yield "bstar-nan", [NAME, _set(L1, 54, "nan00-4"), L2], 2, "BSTAR"
    yield "bstar-letters", [NAME, _set(L1, 54, "3879Z-4"), L2], 2, "BSTAR"
    yield "ndot-inf", [NAME, _set(L1, 34, " inf     "), L2], 2, "first derivative"
    yield "classification-x", [NAME, _set(L1, 8, "X"), L2], 2, "classification"


def _tle_cases():
    for name, lines, line, text in _tle_faults():
        for fmt in ("3le", "tle"):
            body = lines if fmt == "3le" else [x for x in lines if x is not NAME]
            if fmt == "tle" and ("name" in name):
                continue
            n = line if fmt == "3le" else line - (1 if NAME in lines[:line] else 0)
            content = "\n".join(body) + "\n" + REST
            path = f"tle/{name}.{fmt}"
            yield Case(f"{fmt}-{name}", path, content,
                       f"propagate --tle {{case}} {WINDOW} --out {{out}}",
                       f"{name}.{fmt}|line {n}|{text}")
            if fmt == "3le":
                yield Case(f"passes-{name}", path, content,
                           "passes --tle {case} --lat 50 --lon 30 --start 2026-01-15T00:00Z "
                           "--duration 10m --out {out}", f"{name}.3le|line {n}|{text}")
    yield Case("tle-empty", "tle/empty.tle", "", f"propagate --tle {{case}} {WINDOW} "
               "--out {out}", "empty.tle|no element sets")
    yield Case("tle-blank", "tle/blank.tle", "\n \n\t\n", f"propagate --tle {{case}} {WINDOW} "
               "--out {out}", "blank.tle|no element sets")
    yield Case("tle-latin1", "tle/latin1.3le", ("ISS Ä\n" + L1 + "\n" + L2 + "\n").encode(
        "latin-1"), f"propagate --tle {{case}} {WINDOW} --out {{out}}", "latin1.3le|UTF-8")
    yield Case("tle-binary", "tle/binary.tle", bytes(range(256)) * 4,
               f"propagate --tle {{case}} {WINDOW} --out {{out}}", "binary.tle")
    yield Case("tle-duplicate-object", "tle/duplicate.3le",
               "\n".join([NAME, L1, L2, NAME, L1, L2]) + "\n",
               f"propagate --tle {{case}} {WINDOW} --out {{out}}", "duplicate.3le|appears twice")
    yield Case("tle-is-omm", "tle/omm.tle", good("good.json"),
               f"propagate --tle {{case}} {WINDOW} --out {{out}}", "omm.tle|--omm")


# --- OMM ---------------------------------------------------------------------------------------

RECORDS = json.loads(good("good.json"))[:2]
ISS = RECORDS[0]


def _omm_faults():
    """(id, key, value written in the first record, expected text); value None drops the key."""
    yield "missing-epoch", "EPOCH", None, "EPOCH"
    yield "missing-mean-motion", "MEAN_MOTION", None, "MEAN_MOTION"
    yield "mean-motion-25", "MEAN_MOTION", "25.0", "MEAN_MOTION"
    yield "mean-motion-zero", "MEAN_MOTION", "0", "MEAN_MOTION"
    yield "mean-motion-nan", "MEAN_MOTION", "NaN", "MEAN_MOTION"
    yield "eccentricity-1.5", "ECCENTRICITY", "1.5", "ECCENTRICITY"
    yield "eccentricity-inf", "ECCENTRICITY", "Infinity", "ECCENTRICITY"
    yield "inclination-200", "INCLINATION", "200", "INCLINATION"
    yield "inclination-text", "INCLINATION", "fifty", "INCLINATION"
    yield "raan-negative", "RA_OF_ASC_NODE", "-1", "RA_OF_ASC_NODE"
    yield "bstar-nan", "BSTAR", "nan", "BSTAR"
    yield "bstar-inf", "BSTAR", "-inf", "BSTAR"
    yield "ndot-text", "MEAN_MOTION_DOT", "fast", "MEAN_MOTION_DOT"
    yield "epoch-feb-30", "EPOCH", "2026-02-30T00:00:00.000000", "EPOCH"
    yield "epoch-month-13", "EPOCH", "2026-13-01T00:00:00.000000", "EPOCH"
    yield "epoch-hour-25", "EPOCH", "2026-01-01T25:00:00.000000", "EPOCH"
    yield "epoch-words", "EPOCH", "yesterday", "EPOCH"
    yield "epoch-year-3000", "EPOCH", "3000-01-01T00:00:00.000000", "EPOCH"
    yield "catalogue-text", "NORAD_CAT_ID", "ISS", "NORAD_CAT_ID"
    yield "catalogue-fraction", "NORAD_CAT_ID", "25544.5", "NORAD_CAT_ID"
    yield "frame-gcrf", "REF_FRAME", "GCRF", "REF_FRAME"
    yield "center-mars", "CENTER_NAME", "MARS", "CENTER_NAME"
    yield "time-tai", "TIME_SYSTEM", "TAI", "TIME_SYSTEM"
    yield "theory-sgp4xp", "MEAN_ELEMENT_THEORY", "SGP4-XP", "MEAN_ELEMENT_THEORY"
    yield "nul-in-name", "OBJECT_NAME", "ISS\0", "NUL"
    yield "control-in-name", "OBJECT_NAME", "ISS\x08", "control character"


def _json(records) -> str:
    return json.dumps(records, indent=1, allow_nan=True)


def _csv(records) -> str:
    keys = list(records[0])
    for r in records[1:]:
        keys += [k for k in r if k not in keys]
    rows = [",".join(keys)] + [",".join(str(r.get(k, "")) for k in keys) for r in records]
    return "\n".join(rows) + "\n"


_META = ("OBJECT_NAME", "OBJECT_ID", "CENTER_NAME", "REF_FRAME", "TIME_SYSTEM",
         "MEAN_ELEMENT_THEORY")
_MEAN = ("EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE",
         "ARG_OF_PERICENTER", "MEAN_ANOMALY")


def _full(r: dict) -> dict:
    return {"CENTER_NAME": "EARTH", "REF_FRAME": "TEME", "TIME_SYSTEM": "UTC",
            "MEAN_ELEMENT_THEORY": "SGP4", **r}


def _xml(records, attrs: dict | None = None) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<ndm>"]
    for r in records:
        r = _full(r)

        def tags(keys, r=r):
            return "".join(f"<{k}{(attrs or {}).get(k, '')}>{r[k]}</{k}>" for k in keys
                           if k in r)
        rest = [k for k in r if k not in _META and k not in _MEAN]
        out.append(f'<omm id="CCSDS_OMM_VERS" version="2.0"><header/><body><segment>'
                   f"<metadata>{tags(_META)}</metadata><data><meanElements>{tags(_MEAN)}"
                   f"</meanElements><tleParameters>{tags(rest)}</tleParameters></data>"
                   "</segment></body></omm>")
    return "\n".join([*out, "</ndm>"]) + "\n"


def _kvn(records, units: dict | None = None) -> str:
    out = []
    for r in records:
        out.append("CCSDS_OMM_VERS = 2.0")
        out += [f"{k} = {v}{(units or {}).get(k, '')}" for k, v in _full(r).items()]
        out.append("")
    return "\n".join(out)


WRITERS = {"json": _json, "csv": _csv, "xml": _xml, "kvn": _kvn}


def _omm(fmt: str, name: str, content, expect: str) -> Case:
    return Case(f"omm-{fmt}-{name}", f"omm/{name}.{fmt}", content,
                f"propagate --omm {{case}} {WINDOW} --out {{out}}", f"{name}.{fmt}|{expect}")


def _omm_cases():
    for name, key, value, text in _omm_faults():
        rec = dict(ISS)
        if value is None:
            rec.pop(key)
        else:
            rec[key] = value
        for fmt, write in WRITERS.items():
            if fmt == "json" and isinstance(value, str) and value.lower().lstrip("-") in (
                    "nan", "inf", "infinity"):
                body = write([rec, RECORDS[1]]).replace(f'"{value}"', value.replace(
                    "nan", "NaN").replace("-inf", "-Infinity"))
                yield _omm(fmt, name, body, "line|not a finite JSON number")
                continue
            yield _omm(fmt, name, write([rec, RECORDS[1]]), text)
    for fmt, write in WRITERS.items():
        body = write(RECORDS)
        yield _omm(fmt, "empty", "", "")
        yield _omm(fmt, "truncated", body[: len(body) // 2], "truncated")
        yield _omm(fmt, "latin1", body.replace("ZARYA", "ZARYÄ").encode("latin-1"), "UTF-8")
        yield _omm(fmt, "nul-byte", body[:40] + "\0" + body[40:], "NUL")
        yield _omm(fmt, "duplicate-object", write([ISS, ISS]), "appears twice")
    # duplicate keys in every serialisation
    dup = _json([ISS]).replace('"EPOCH"', '"MEAN_MOTION": 25.0,\n  "EPOCH"', 1)
    yield _omm("json", "duplicate-key", dup, "appears twice")
    lines = _csv([ISS]).splitlines()
    yield _omm("csv", "duplicate-column", lines[0] + ",MEAN_MOTION\n" + lines[1] + ",25\n",
               "appears twice")
    yield _omm("csv", "extra-values", lines[0] + "\n" + lines[1] + ",25,26\n", "more values")
    yield _omm("kvn", "duplicate-key", _kvn([ISS]).replace("EPOCH =", "MEAN_MOTION = 25\nEPOCH =",
                                                           1), "appears twice")
    yield _omm("xml", "duplicate-tag", _xml([ISS]).replace(
        "<EPOCH>", "<MEAN_MOTION>25</MEAN_MOTION><EPOCH>", 1), "appears twice")
    # units per CCSDS 502.0-B-3: degrees and rev/day only; radians are refused, not misread
    yield _omm("kvn", "units-rad", _kvn([ISS], {"INCLINATION": " [rad]"}), "rad")
    yield _omm("kvn", "units-rad-s", _kvn([ISS], {"MEAN_MOTION": " [rad/s]"}), "rad/s")
    yield _omm("kvn", "units-km", _kvn([ISS], {"ECCENTRICITY": " [km]"}), "km")
    yield _omm("xml", "units-rad", _xml([ISS], {"INCLINATION": ' units="rad"'}), "rad")
    yield _omm("xml", "units-rad-s", _xml([ISS], {"MEAN_MOTION": ' units="rad/s"'}), "rad/s")
    # nesting and structure
    yield _omm("json", "deep", "[" * 20_000 + "]" * 20_000, "nested")
    yield _omm("json", "not-a-list", '"ISS"', "expected")
    yield _omm("json", "list-of-numbers", "[1, 2]", "record 1")
    yield _omm("json", "number-as-bool", _json([{**ISS, "INCLINATION": True}]), "INCLINATION")
    yield _omm("json", "number-as-list", _json([{**ISS, "INCLINATION": [51.6]}]),
               "INCLINATION")
    yield _omm("json", "object-key-nested", _json([{**ISS, "EPOCH": {"t": 1}}]), "EPOCH")
    yield _omm("xml", "deep", "<a>" * 5_000 + "</a>" * 5_000, "deep.xml")
    yield _omm("xml", "entity-expansion",
               '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
               '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
               '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
               ']>\n<ndm>&lol3;</ndm>\n', "entit")
    yield _omm("xml", "no-segment", "<ndm><omm/></ndm>\n", "segment")
    yield _omm("kvn", "no-equals", "CCSDS_OMM_VERS = 2.0\nEPOCH 2026-01-01\n", "KEY = value")
    yield _omm("kvn", "key-before-version", "EPOCH = 2026-01-01T00:00:00\n", "CCSDS_OMM_VERS")
    yield _omm("csv", "no-header", "1,2,3\n", "header")


def orbit_cases() -> list[Case]:
    return list(_tle_cases()) + list(_omm_cases())
