"""Bad GeoJSON zones, site/track/pair CSVs, command-line values, results folders and
databases."""

from __future__ import annotations

import json
from pathlib import Path

from corpus_common import GOOD, WINDOW, Case

RING = [[36, 47], [39, 47], [39, 49], [36, 49], [36, 47]]


def _feature(coords, kind="Polygon") -> str:
    return json.dumps({"type": "Feature", "properties": {"name": "z"},
                       "geometry": {"type": kind, "coordinates": coords}})


def _geojson_faults():
    yield "nul-byte", _feature([RING]).replace('"z"', '"z\u0000"').replace("\\u0000", "\0"), \
        "NUL"
    yield "not-json", "{type: Feature}", "invalid JSON"
    yield "empty", "", "invalid JSON"
    yield "deep", "[" * 20_000 + "]" * 20_000, "nested"
    yield "duplicate-key", _feature([RING]).replace('"type": "Feature"',
                                                    '"type": "Feature", "type": "Point"'), \
        "appears twice"
    yield "coords-strings", _feature([[[str(a), str(b)] for a, b in RING]]), "number"
    yield "coords-bools", _feature([[[True, False]] * 5]), "number"
    yield "coords-nan", _feature([RING]).replace("[39, 49]", "[39, NaN]"), "NaN"
    yield "coords-infinity", _feature([RING]).replace("[39, 49]", "[Infinity, 49]"), "Infinity"
    yield "lat-95", _feature([[[36, 47], [39, 47], [39, 95], [36, 49], [36, 47]]]), "latitude"
    yield "two-points", _feature([[[36, 47], [39, 47]]]), "points"
    yield "unclosed", _feature([RING[:-1]]), "closed"
    yield "bow-tie", _feature([[[36, 47], [39, 49], [39, 47], [36, 49], [36, 47]]]), \
        "valid polygon"
    yield "point", _feature([30, 50], "Point"), "Polygon"
    yield "unknown-type", json.dumps({"type": "Circle"}), "Circle"
    yield "no-geometry", json.dumps({"type": "Feature", "properties": {}}), "geometry"
    yield "empty-collection", json.dumps({"type": "FeatureCollection", "features": []}), \
        "no Polygon"
    yield "multipolygon-overlap", _feature([[RING], [[[37, 48], [40, 48], [40, 50], [37, 50],
                                                      [37, 48]]]], "MultiPolygon"), "overlap"
    yield "a-list", "[1, 2]", "GeoJSON object"
    yield "point-three-strings", _feature([[["36", "47", "0"]] * 5]), "number"


def _geojson_cases():
    for name, text, expect in _geojson_faults():
        path = f"geojson/{name}.geojson"
        yield Case(f"coverage-geojson-{name}", path, text, f"coverage --region {{case}} "
                   f"{WINDOW} --constellation kuiper --out {{out}}", f"{name}.geojson|{expect}")
        scenario = f"{name}.scenario.yaml"
        yield Case(f"zone-geojson-{name}", path, text, f"policy check {{dir}}/{scenario}",
                   f"{name}.geojson|{expect}", extra={scenario: (GOOD / "scenario.yaml")
                   .read_text().replace("{tle: good.tle}", "{tle: ../good/good.tle}").replace(
                       "{polygon: [[36, 47], [39, 47], [39, 49], [36, 49], [36, 47]]}",
                       f"{{geojson: {name}.geojson}}")})


SITES = "id,lat_deg,lon_deg,alt_m\nA,50.45,30.52,150\nB,49.84,24.03,0\n"


def _sites_faults():
    yield "nul-in-field", SITES.replace("A,50", "A\0,50"), "line 2|NUL"
    yield "control-in-field", SITES.replace("A,50", "A\x07,50"), "line 2|control character"
    yield "latin1", SITES.replace("A,50", "Ä,50").encode("latin-1"), "UTF-8"
    yield "empty", "", "id column"
    yield "header-only", "id,lat_deg,lon_deg\n", "no sites"
    yield "missing-lat", SITES.replace("lat_deg", "latitude"), "lat_deg"
    yield "duplicate-column", SITES.replace("alt_m\n", "alt_m,lat_deg\n").replace(
        "150\n", "150,10\n").replace(",0\n", ",0,10\n"), "appears twice"
    yield "extra-values", SITES.replace("A,50.45,30.52,150", "A,50.45,30.52,150,9"), \
        "line 2|more values"
    yield "lat-95", SITES.replace("50.45", "95"), "line 2|lat_deg"
    yield "lat-nan", SITES.replace("50.45", "nan"), "line 2|lat_deg"
    yield "lon-inf", SITES.replace("30.52", "inf"), "line 2|lon_deg"
    yield "lat-text", SITES.replace("50.45", "north"), "line 2|lat_deg"
    yield "alt-text", SITES.replace(",150", ",high"), "line 2|alt_m"
    yield "alt-inf", SITES.replace(",150", ",inf"), "line 2|alt_m"
    yield "duplicate-id", SITES.replace("B,49", "A,49"), "line 3|appears twice"
    yield "empty-id", SITES.replace("B,49", ",49"), "line 3|empty id"
    yield "unclosed-quote", SITES.replace("A,50", '"A,50'), "quote"


def _sites_cases():
    gateways = "id,lat_deg,lon_deg,antennas\nG1,50.1,30.2,8\n"
    for name, text, expect in _sites_faults():
        path = f"sites/{name}.csv"
        yield Case(f"sites-{name}", path, text, "sites {case}", f"{name}.csv|{expect}")
        yield Case(f"rtt-stations-{name}", path, text, f"rtt {WINDOW} --constellation kuiper "
                   "--from A --to B --ground-stations {case} --out {out}",
                   f"{name}.csv|{expect}")
        scenario = f"{name}.scenario.yaml"
        yield Case(f"gateways-{name}", path, text, "run {dir}/" + scenario +
                   " --out {outdir} --overwrite", f"{name}.csv|{expect}",
                   extra={scenario: (GOOD / "scenario.yaml").read_text().replace(
                       "{tle: good.tle}", "{tle: ../good/good.tle}").replace(
                       "gateways: bundled", f"gateways: {name}.csv")})
    yield Case("gateways-antennas-text", "sites/antennas-text.csv",
               gateways.replace(",8\n", ",eight\n"), "run {dir}/antennas.scenario.yaml --out "
               "{outdir} --overwrite", "antennas-text.csv|line 2|antennas",
               extra={"antennas.scenario.yaml": (GOOD / "scenario.yaml").read_text().replace(
                   "{tle: good.tle}", "{tle: ../good/good.tle}").replace(
                   "gateways: bundled", "gateways: antennas-text.csv")})
    tracks = ("terminal_id,time,lat_deg,lon_deg\nT,2026-01-15T00:00:00Z,50,30\n"
              "T,2026-01-15T00:10:00Z,50.1,30.1\n")
    for name, text, expect in (
            ("feb-30", tracks.replace("01-15T00:10", "02-30T00:10"), "line 3|time"),
            ("month-13", tracks.replace("01-15T00:10", "13-15T00:10"), "line 3|time"),
            ("words", tracks.replace("2026-01-15T00:10:00Z", "later"), "line 3|time"),
            ("out-of-order", tracks.replace("00:10:00Z", "00:00:00Z"), "line 3|time order"),
            ("lat-nan", tracks.replace(",50.1,", ",nan,"), "line 3|lat_deg"),
            ("nul", tracks.replace("T,2026-01-15T00:10", "T\0,2026-01-15T00:10"), "line 3|NUL"),
            ("missing-time", tracks.replace("terminal_id,time", "terminal_id,when"), "time"),
            ("empty-id", tracks.replace("\nT,2026-01-15T00:10", "\n,2026-01-15T00:10"),
             "line 3|terminal_id")):
        yield Case(f"tracks-{name}", f"tracks/{name}.csv", text, "sites --tracks {case}",
                   f"{name}.csv|{expect}")
    pairs = "src,dst\nManila,Tokyo\n"
    for name, text, expect in (
            ("extra-values", pairs.replace("Tokyo", "Tokyo,Delhi"), "line 2|more values"),
            ("missing-dst", "src\nManila\n", "dst"), ("empty", "", "src"),
            ("duplicate-column", "src,dst,dst\nManila,Tokyo,Delhi\n", "appears twice"),
            ("unknown-place", pairs.replace("Tokyo", "Atlantis"), "line 2|Atlantis"),
            ("nul", pairs.replace("Tokyo", "To\0kyo"), "line 2|NUL"),
            ("empty-dst", "src,dst\nManila,\n", "line 2|dst"),
            ("header-only", "src,dst\n", "no pairs")):
        yield Case(f"pairs-{name}", f"pairs/{name}.csv", text, f"rtt {WINDOW} --constellation "
                   "kuiper --pairs {case} --out {out}", f"{name}.csv|{expect}")


def _option_cases():
    """Command-line values: the option is named (no case file; the case file is a note)."""
    base = f"propagate --constellation kuiper {WINDOW} --out {{out}}"
    opts = [
        ("start-feb-30", base.replace("2026-01-15T00:00Z", "2026-02-30T00:00Z"), "--start"),
        ("start-month-13", base.replace("2026-01-15T00:00Z", "2026-13-01T00:00Z"), "--start"),
        ("start-nul", base.replace("2026-01-15T00:00Z", "2026-01-15\0"), "--start"),
        ("step-inf", base.replace("--step 5m", "--step infs"), "--step"),
        ("step-nan", base.replace("--step 5m", "--step nanm"), "--step"),
        ("duration-huge", base.replace("--duration 10m", "--duration 1e400d"), "--duration"),
        ("too-many-states", base.replace("--duration 10m --step 5m",
                                         "--duration 30d --step 100ms"), "free"),
        ("coverage-too-many", f"coverage --region land {WINDOW} --constellation kuiper "
         "--h3-res 12 --out {out}", "memory"),
        ("passes-alt-inf", "passes --constellation kuiper --lat 50 --lon 30 --start "
         "2026-01-15T00:00Z --duration 10m --alt-m inf --out {out}", "--alt-m"),
        ("passes-lat-nan", "passes --constellation kuiper --lat nan --lon 30 --start "
         "2026-01-15T00:00Z --duration 10m --out {out}", "--lat"),
        ("passes-mask-nan", "passes --constellation kuiper --lat 50 --lon 30 --start "
         "2026-01-15T00:00Z --duration 10m --min-elevation nan --out {out}", "--min-elevation"),
        ("passes-sample-zero", "passes --constellation kuiper --lat 50 --lon 30 --start "
         "2026-01-15T00:00Z --duration 10m --sample 0s --out {out}", "--sample"),
        ("decide-alt-inf", "decide {good}/scenario.yaml --terminal KYIV --lat 50 --lon 30 "
         "--time 2026-01-15T00:00Z --alt-m inf", "--alt-m"),
        ("decide-speed-nan", "decide {good}/scenario.yaml --terminal KYIV --lat 50 --lon 30 "
         "--time 2026-01-15T00:00Z --speed-kmh nan", "--speed-kmh"),
        ("decide-lat-nan", "decide {good}/scenario.yaml --terminal KYIV --lat nan --lon 30 "
         "--time 2026-01-15T00:00Z", "--lat"),
        ("decide-time-feb-30", "decide {good}/scenario.yaml --terminal KYIV --lat 50 --lon 30 "
         "--time 2026-02-30T00:00Z", "--time"),
        ("decide-terminal-nul", "decide {good}/scenario.yaml --terminal K\0 --lat 50 --lon 30 "
         "--time 2026-01-15T00:00Z", "--terminal"),
        ("rtt-from-nan", f"rtt {WINDOW} --constellation kuiper --from nan,30 --to Lviv "
         "--out {out}", "--from"),
        ("rtt-mask-inf", f"rtt {WINDOW} --constellation kuiper --from Kyiv --to Lviv "
         "--min-elevation inf --out {out}", "--min-elevation"),
        ("as-of-feb-30", "policy as-of {good}/scenario.yaml --time 2026-02-30", "--time"),
    ]
    for name, argv, expect in opts:
        yield Case(f"option-{name}", f"options/{name}.txt", argv + "\n", argv, expect)


def _run_cases():
    run = GOOD / "run"
    files = {p.name: p.read_bytes() for p in run.iterdir()}

    def broken(name, changes, argv, expect):
        folder = {**files, **changes}
        for k in [k for k, v in folder.items() if v is None]:
            folder.pop(k)
        first, *rest = sorted(folder)
        return Case(f"results-{name}", f"results/{name}/{first}", folder[first], argv,
                    expect, extra={k: folder[k] for k in rest})

    cov = files["coverage.parquet"]
    dec = files["decisions.parquet"]
    for fmt in ("geojson", "kml", "csv --table coverage"):
        slug = fmt.split()[0]
        export = f"export {{dir}} --format {fmt} --out {{tmp}}/out.{slug}"
        yield broken(f"{slug}-truncated", {"coverage.parquet": cov[: len(cov) // 2]},
                     export, "coverage.parquet")
        yield broken(f"{slug}-not-parquet", {"coverage.parquet": b"hello"},
                     export, "coverage.parquet")
        yield broken(f"{slug}-wrong-columns", {"coverage.parquet": dec},
                     export, "coverage.parquet|column")
        yield broken(f"{slug}-summary-broken", {"summary.json": b'{"scenario": '},
                     export, "summary.json")
        yield broken(f"{slug}-no-summary", {"summary.json": None},
                     export, "summary.json")
    yield broken("csv-decisions-truncated", {"decisions.parquet": dec[:100]},
                 "export {dir} --format csv --table decisions --out {tmp}/out.csv",
                 "decisions.parquet")
    yield broken("oem-no-positions", {}, "export {dir} --format oem --out {tmp}/out.oem",
                 "positions")
    yield broken("regions-broken", {"regions.geojson": b"{"},
                 "export {dir} --format geojson --out {tmp}/out.geojson", "regions.geojson")
    for name, change in (("truncated", {"coverage.parquet": cov[:200]}),
                         ("summary-broken", {"summary.json": b"[1, 2"}),
                         ("summary-a-list", {"summary.json": b"[1, 2]"}),
                         ("wrong-columns", {"decisions.parquet": cov}),
                         ("rtt-not-parquet", {"rtt.parquet": b"\0\0\0"})):
        yield broken(f"diff-{name}", change, "diff {good}/run {dir} --out {tmp}/out.html",
                     next(iter(change)))


def _db_cases():
    text = b"this is not a database\n"
    for name, argv in (("verify", "audit verify --db {case}"),
                       ("tokens", "tokens create --label a --role operator --db {case}")):
        yield Case(f"db-{name}-text", f"db/{name}-text.db", text, argv, "text.db|database")
        yield Case(f"db-{name}-truncated", f"db/{name}-truncated.db",
                   b"SQLite format 3\0" + b"\1" * 84, argv, "truncated.db|database")
        yield Case(f"db-{name}-url", f"db/{name}-url.txt", b"note\n",
                   argv.replace("{case}", "sqlite:///{dir}/no/such/folder.db"), "no/such")
    yield Case("db-verify-missing", "db/missing.txt", b"note\n", "audit verify --db {db}",
               "does not exist")
    yield Case("db-tokens-bad-role", "db/role.txt", b"note\n",
               "tokens create --label a --role superuser --db {db}", "superuser")
    yield Case("db-tokens-name-nul", "db/name.txt", b"note\n",
               "tokens create --label a\0b --role operator --db {db}", "--label")


def ground_cases() -> list[Case]:
    return (list(_geojson_cases()) + list(_sites_cases()) + list(_option_cases())
            + list(_run_cases()) + list(_db_cases()))


__all__ = ["Path", "ground_cases"]
