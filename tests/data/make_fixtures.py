"""Write the orbital-data fixtures of the test suite (run from the repository root).

Element sets: the ISS set quoted in python-sgp4's README (public catalogue data) and five
synthetic Starlink-like sets (550 km shell values, epochs in January 2026) made with
``sgp4.exporter.export_tle``.  Each object is written as 3LE, 2LE, and OMM in the four
CelesTrak serialisations (JSON, CSV, XML, KVN), with every OMM value copied *textually* from the
TLE columns, as CelesTrak derives them.  Run: ``.venv/bin/python tests/data/make_fixtures.py``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from sgp4.api import WGS72, Satrec
from sgp4.exporter import export_tle

HERE = Path(__file__).parent

ISS = ("ISS (ZARYA)",
       "1 25544U 98067A   19343.69339541  .00001764  00000-0  38792-4 0  9991",
       "2 25544  51.6439 211.2001 0007417  17.6667  85.6398 15.50103472202482")


def synthetic() -> list[tuple[str, str, str]]:
    out = []
    deg = math.pi / 180
    epoch0 = 27773.5  # 2026-01-15 12:00 UTC in days since 1949-12-31
    for k in range(5):
        sat = Satrec()
        sat.sgp4init(WGS72, "i", 44713 + k, epoch0 + 0.137 * k, 2.1e-4 + 1e-5 * k,
                     (1.2e-5 - 4e-6 * k) / (1440 * 1440 / (2 * math.pi)), 0.0,
                     1.4e-4 + 1e-5 * k, (90 + 7 * k) * deg, 53.05 * deg, (12 + 41 * k) * deg,
                     15.06 * 2 * math.pi / 1440, (10 + 5 * k) * deg)
        sat.classification, sat.intldesg = "U", f"19074{'ABCDE'[k]}"
        sat.elnum, sat.revnum = 999, 34567
        l1, l2 = export_tle(sat)
        out.append((f"STARLINK-{1007 + k}", l1, l2))
    return out


def implied(text: str) -> str:
    """TLE implied-decimal field ' 38792-4' → '0.38792e-4'."""
    text = text.strip()
    sign = "-" if text.startswith("-") else ""
    body = text.lstrip("+-")
    mantissa, exponent = body[:-2], body[-2:]
    return f"{sign}0.{mantissa}e{exponent}"


def omm_fields(name: str, l1: str, l2: str) -> dict[str, str]:
    year = int(l1[18:20])
    year += 1900 if year >= 57 else 2000
    day = float(l1[20:32])
    whole = int(day)
    seconds = round((day - whole) * 86400 * 1e6)
    hh, rem = divmod(seconds, 3600 * 10**6)
    mm, rem = divmod(rem, 60 * 10**6)
    ss, us = divmod(rem, 10**6)
    import datetime as dt

    date = dt.date(year, 1, 1) + dt.timedelta(days=whole - 1)
    launch = int(l1[9:11])
    launch += 1900 if launch >= 57 else 2000
    ndot = l1[33:43].strip()
    ndot = ("-0" + ndot[1:]) if ndot.startswith("-") else "0" + ndot.lstrip("+ ")
    return {
        "OBJECT_NAME": name,
        "OBJECT_ID": f"{launch}-{l1[11:17].strip()}",
        "EPOCH": f"{date.isoformat()}T{hh:02d}:{mm:02d}:{ss:02d}.{us:06d}",
        "MEAN_MOTION": l2[52:63].strip(),
        "ECCENTRICITY": "0." + l2[26:33],
        "INCLINATION": l2[8:16].strip(),
        "RA_OF_ASC_NODE": l2[17:25].strip(),
        "ARG_OF_PERICENTER": l2[34:42].strip(),
        "MEAN_ANOMALY": l2[43:51].strip(),
        "EPHEMERIS_TYPE": l1[62],
        "CLASSIFICATION_TYPE": l1[7],
        "NORAD_CAT_ID": l1[2:7].strip(),
        "ELEMENT_SET_NO": l1[64:68].strip(),
        "REV_AT_EPOCH": l2[63:68].strip(),
        "BSTAR": implied(l1[53:61]),
        "MEAN_MOTION_DOT": ndot,
        "MEAN_MOTION_DDOT": implied(l1[44:52]),
    }


def main() -> None:
    sets = [ISS, *synthetic()]
    (HERE / "sample.3le").write_text("".join(f"{n}\n{a}\n{b}\n" for n, a, b in sets))
    (HERE / "sample.tle").write_text("".join(f"{a}\n{b}\n" for _, a, b in sets))
    records = [omm_fields(*s) for s in sets]
    numeric = {"MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE",
               "ARG_OF_PERICENTER", "MEAN_ANOMALY", "BSTAR", "MEAN_MOTION_DOT",
               "MEAN_MOTION_DDOT", "EPHEMERIS_TYPE", "NORAD_CAT_ID", "ELEMENT_SET_NO",
               "REV_AT_EPOCH"}
    def typed(k: str, v: str):
        if k not in numeric:
            return v
        return float(v) if ("." in v or "e" in v) else int(v)

    as_json = [{k: typed(k, v) for k, v in r.items()} for r in records]
    (HERE / "sample.json").write_text(json.dumps(as_json, indent=1) + "\n")
    keys = list(records[0])
    (HERE / "sample.csv").write_text(
        ",".join(keys) + "\n" + "".join(",".join(r[k] for k in keys) + "\n" for r in records))
    meta = ("OBJECT_NAME", "OBJECT_ID")
    mean = ("EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE",
            "ARG_OF_PERICENTER", "MEAN_ANOMALY")
    tle = ("EPHEMERIS_TYPE", "CLASSIFICATION_TYPE", "NORAD_CAT_ID", "ELEMENT_SET_NO",
           "REV_AT_EPOCH", "BSTAR", "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT")
    xml = ['<?xml version="1.0" encoding="UTF-8"?>', '<ndm xmlns:xsi="http://www.w3.org/2001/'
           'XMLSchema-instance" xsi:noNamespaceSchemaLocation="https://sanaregistry.org/r/ndmxml_'
           'unqualified/ndmxml-2.0.0-master-2.0.xsd">']
    kvn = []
    for r in records:
        tag = lambda keys, r=r: "".join(f"<{k}>{r[k]}</{k}>" for k in keys)  # noqa: E731
        xml.append(
            '<omm id="CCSDS_OMM_VERS" version="2.0"><header><CREATION_DATE/><ORIGINATOR/>'
            f"</header><body><segment><metadata>{tag(meta)}<CENTER_NAME>EARTH</CENTER_NAME>"
            "<REF_FRAME>TEME</REF_FRAME><TIME_SYSTEM>UTC</TIME_SYSTEM><MEAN_ELEMENT_THEORY>SGP4"
            f"</MEAN_ELEMENT_THEORY></metadata><data><meanElements>{tag(mean)}</meanElements>"
            f"<tleParameters>{tag(tle)}</tleParameters></data></segment></body></omm>")
        kvn.append("CCSDS_OMM_VERS = 2.0\nCREATION_DATE = 2026-01-16T00:00:00\n"
                   "ORIGINATOR = 18 SPCS\n"
                   + "".join(f"{k} = {r[k]}\n" for k in meta)
                   + "CENTER_NAME = EARTH\nREF_FRAME = TEME\nTIME_SYSTEM = UTC\n"
                   "MEAN_ELEMENT_THEORY = SGP4\n"
                   + "".join(f"{k} = {r[k]}\n" for k in mean + tle))
    xml.append("</ndm>")
    (HERE / "sample.xml").write_text("\n".join(xml) + "\n")
    (HERE / "sample.kvn").write_text("\n".join(kvn))


if __name__ == "__main__":
    main()
