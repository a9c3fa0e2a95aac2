"""Bad scenario files (YAML): bytes, syntax, duplicates, tags and aliases, dates, numbers,
zones, references and work too large to start; each run by ``policy check`` and ``run``."""

from __future__ import annotations

from corpus_common import Case, good

BASE = good("scenario.yaml").replace("{tle: good.tle}", "{tle: ../good/good.tle}")


def _sub(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _line(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def _faults():
    """(id, text, expected parts of the error besides the file name)."""
    def edit(name, old, new, expect, at=None):
        text = _sub(old, new)
        line = _line(text, at or new.strip().splitlines()[0][:40])
        return name, text, f"line {line}|{expect}"

    # bytes
    yield "nul-byte", _sub("name: good", "name: go\0od"), "line 2|NUL"
    yield "bell", _sub("description: the", "description: \x07the"), "line 3|control character"
    yield "latin1", _sub("name: good", "name: göod").encode("latin-1"), "UTF-8"
    yield "empty", "", "line 1"
    yield "only-comment", "# nothing\n", "line 1"
    yield "a-list", "- 1\n- 2\n", "line 1"
    yield "a-string", "hello\n", "line 1"
    # syntax
    yield "bad-indent", _sub("  h3_res: 3", " h3_res: 3"), "invalid YAML"
    yield "tab-indent", _sub("  h3_res: 3", "\th3_res: 3"), "invalid YAML"
    yield "unclosed-flow", _sub("[UA, zone_a]", "[UA, zone_a"), "invalid YAML"
    yield "unclosed-quote", _sub("name: good", 'name: "good'), "invalid YAML"
    yield "truncated", BASE[: BASE.index("regions:\n  zone_a") + 14], "regions"
    # duplicates, tags, aliases, nesting
    yield edit("duplicate-key", "seed: 1", "seed: 1\nseed: 2", "appears twice", "seed: 2")
    yield edit("duplicate-decision", "decision: granted",
               "decision: granted\n      decision: refused", "appears twice",
               "decision: refused")
    yield "python-tag", _sub("seed: 1", "seed: !!python/object/apply:os.system [echo hi]"), \
        "line 4|tag"
    yield "python-name-tag", _sub("name: good", "name: !!python/name:os.system"), "line 2|tag"
    yield "custom-tag", _sub("seed: 1", "seed: !mine 1"), "line 4|tag"
    yield "binary-tag", _sub("name: good", "name: !!binary aGVsbG8="), "line 2|tag"
    yield "set-tag", _sub("name: good", "name: !!set {a, b}"), "line 2|tag"
    yield "billion-laughs", "\n".join(
        ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
        + [f"{chr(98 + k)}: &{chr(98 + k)} [" + ", ".join([f"*{chr(97 + k)}"] * 10) + "]"
           for k in range(9)] + BASE.splitlines()[1:]) + "\n", "alias"
    yield "recursive-anchor", _sub("sources: []", "sources: &s [*s]", BASE.replace(
        "seed: 1", "sources: []\nseed: 1")), "line 4|alias"
    yield "deep-nesting", _sub("seed: 1", "seed: " + "[" * 5000 + "]" * 5000), "nest"
    yield "merge-key-alias", _sub("outputs: {positions: false, report: false}",
                                  "x: &o {positions: false}\noutputs: {<<: *o, report: false}"), \
        "merge keys"
    yield "list-as-key", _sub("seed: 1", "? [a, b]\n: 1\nseed: 1"), "line 4|key"
    # dates
    yield edit("feb-30", "requested_at: 2026-01-01", "requested_at: 2026-02-30", "date")
    yield edit("month-13", "requested_at: 2026-01-01", "requested_at: 2026-13-01", "date")
    yield edit("day-zero", "requested_at: 2026-01-01", "requested_at: 2026-01-00", "date")
    yield edit("hour-25", "start: 2026-01-15T00:00:00Z", "start: 2026-01-15T25:00:00Z", "date",
               "time:")
    yield edit("start-feb-30", "start: 2026-01-15T00:00:00Z", "start: 2026-02-30T00:00:00Z",
               "date", "time:")
    yield edit("start-words", "start: 2026-01-15T00:00:00Z", "start: tomorrow", "ISO 8601",
               "time:")
    yield edit("start-year-1900", "start: 2026-01-15T00:00:00Z", "start: 1900-01-01T00:00:00Z",
               "1900", "time:")
    yield edit("effective-feb-29-common", "requested_at: 2026-01-01",
               "requested_at: 2026-01-01\n      effective_at: 2027-02-29", "date",
               "effective_at")
    # numbers
    for key, old, bad in (
            ("alt-nan", "alt_m: 150", "alt_m: .nan"), ("alt-inf", "alt_m: 150", "alt_m: .inf"),
            ("speed-nan", "speed_kmh: 0,", "speed_kmh: .nan,"),
            ("speed-negative", "speed_kmh: 0,", "speed_kmh: -5,"),
            ("lat-nan", "lat: 50.45", "lat: .nan"), ("lat-95", "lat: 50.45", "lat: 95"),
            ("lon-inf", "lon: 30.52", "lon: -.inf"), ("lat-text", "lat: 50.45", "lat: north"),
            ("fibre-nan", "fibre_stretch: 1.5", "fibre_stretch: .nan"),
            ("fibre-inf", "fibre_stretch: 1.5", "fibre_stretch: .inf"),
            ("fibre-below-1", "fibre_stretch: 1.5", "fibre_stretch: 0.5"),
            ("slot-inf", "slot_period_s: 15", "slot_period_s: .inf"),
            ("slot-nan", "slot_period_s: 15", "slot_period_s: .nan"),
            ("slot-zero", "slot_period_s: 15", "slot_period_s: 0"),
            ("mask-nan", "min_elevation_deg: 25", "min_elevation_deg: .nan"),
            ("mask-90", "min_elevation_deg: 25", "min_elevation_deg: 90"),
            ("h3-res-99", "h3_res: 3", "h3_res: 99"), ("h3-res-text", "h3_res: 3", "h3_res: x"),
            ("count-text", "count: 5,", "count: many,"), ("count-bool", "count: 5,", "count: yes,"),
            ("count-float", "count: 5,", "count: 5.5,"), ("count-zero", "count: 5,", "count: 0,"),
            ("count-huge", "count: 5,", "count: 1000000000,"),
            ("cap-nan", "max_kmh: 75", "max_kmh: .nan"),
            ("cap-negative", "max_kmh: 75", "max_kmh: -1"),
            ("minutes-inf", "minutes: 30,", "minutes: .inf,"),
            ("seed-text", "seed: 1", "seed: one"), ("seed-float", "seed: 1", "seed: 1.5")):
        field = bad.split(":")[0].strip()
        yield edit(key, old, bad, field, bad.split(",")[0] if "count" in key else None) \
            if key.startswith(("count", "slot", "fibre", "mask", "h3", "seed", "minutes",
                               "cap")) else (key, _sub(old, bad), f"{field}")
    # time window and size of the work
    yield edit("step-zero", "step: 5m}", "step: 0s}", "step", "time:")
    yield edit("step-negative", "step: 5m}", "step: -5m}", "step", "time:")
    yield edit("step-nan", "step: 5m}", "step: nans}", "step", "time:")
    yield edit("duration-inf", "duration: 10m", "duration: infh", "duration", "time:")
    yield edit("step-longer", "step: 5m}", "step: 1h}", "two instants", "time:")
    yield edit("too-many-instants", "duration: 10m, step: 5m", "duration: 36500d, step: 1ms",
               "instants", "time:")
    yield edit("billions-of-satellites", "constellation: {tle: ../good/good.tle}",
               "constellation:\n  shells:\n    - {name: huge, planes: 100000, sats_per_plane: "
               "100000, inclination_deg: 53, altitude_km: 550}", "satellites", "- {name: huge")
    yield "too-many-states", _sub("count: 5,", "count: 100000,", _sub(
        "duration: 10m, step: 5m", "duration: 30d, step: 1s")), "states|memory"
    yield "at-instant-limit", _sub("duration: 10m, step: 5m", "duration: 1d, step: 1ms"), \
        "86,400,000 instants|memory"
    # zones and cells
    yield edit("polygon-two-points", "[[36, 47], [39, 47], [39, 49], [36, 49], [36, 47]]",
               "[[36, 47], [39, 47]]", "3 distinct", "zone_a:")
    yield edit("polygon-lat-95", "[39, 49], [36, 49]", "[39, 95], [36, 49]", "outside",
               "zone_a:")
    yield edit("polygon-nan", "[39, 49], [36, 49]", "[39, .nan], [36, 49]", "zone_a", "zone_a:")
    yield edit("polygon-three-values", "[39, 49], [36, 49]", "[39, 49, 1], [36, 49]",
               "[lon, lat]", "zone_a:")
    yield edit("polygon-bow-tie", "[[36, 47], [39, 47], [39, 49], [36, 49], [36, 47]]",
               "[[36, 47], [39, 49], [39, 47], [36, 49], [36, 47]]", "valid polygon", "zone_a:")
    yield edit("cells-invalid-h3", "{polygon: [[36, 47], [39, 47], [39, 49], [36, 49], [36, 47]]}",
               "{cells: [85123456fffffff]}", "H3", "zone_a:")
    yield edit("cells-not-hex", "{polygon: [[36, 47], [39, 47], [39, 49], [36, 49], [36, 47]]}",
               "{cells: [zz]}", "H3", "zone_a:")
    yield edit("cells-empty", "{polygon: [[36, 47], [39, 47], [39, 49], [36, 49], [36, 47]]}",
               "{cells: []}", "cell", "zone_a:")
    yield edit("zone-two-kinds", "{polygon: [[36, 47], [39, 47], [39, 49], [36, 49], [36, 47]]}",
               "{cells: [85194ad3fffffff], polygon: [[1, 1], [2, 1], [2, 2]]}", "exactly one",
               "zone_a:")
    # references and vocabulary
    yield edit("tle-missing", "{tle: ../good/good.tle}", "{tle: missing.tle}", "missing.tle",
               "constellation:")
    yield edit("tle-is-folder", "{tle: ../good/good.tle}", "{tle: ../good}", "good",
               "constellation:")
    yield edit("geojson-missing", "{polygon: [[36, 47], [39, 47], [39, 49], [36, 49], [36, 47]]}",
               "{geojson: nowhere.geojson}", "nowhere.geojson", "zone_a:")
    yield edit("gateways-missing", "gateways: bundled", "gateways: none.csv", "none.csv")
    yield edit("unknown-key", "seed: 1", "seed: 1\nsede: 2", "unknown key", "sede")
    yield edit("unknown-region", "regions: [UA, zone_a]", "regions: [UA, Atlantis]", "Atlantis")
    yield edit("unknown-plan", "plan: residential", "plan: platinum", "platinum")
    yield edit("unknown-isl", "isl: nearest-k", "isl: mesh", "mesh")
    yield edit("unknown-constellation", "{tle: ../good/good.tle}", "{builtin: starlink-gen9}",
               "starlink-gen9", "constellation:")
    yield edit("unknown-decision", "decision: granted", "decision: maybe", "maybe")
    yield edit("unknown-reason", "reasons: [SPEED_CAP]", "reasons: [TOO_FAST]", "TOO_FAST")
    yield edit("unknown-rtt-terminal", "rtt_terminals: [KYIV]", "rtt_terminals: [LVIV]", "LVIV")
    yield edit("id-empty", "- id: cap", "- id: ''", "id")
    yield edit("id-nul", "- id: cap", '- id: "c\\0ap"', "NUL")
    yield edit("id-control", "- id: cap", '- id: "c\\x07ap"', "control character")
    yield edit("terminal-id-newline", "{id: KYIV,", '{id: "KY\\nIV",', "line break")
    yield edit("description-nul", "description: the base", 'description: "the\\0base',
               "invalid YAML")
    yield edit("name-list", "name: good", "name: [good]", "name")
    yield edit("whitelisted-string", "whitelisted: [UA]}", "whitelisted: 12}", "whitelisted")


def scenario_cases() -> list[Case]:
    out = []
    for name, text, expect in _faults():
        path = f"scenario/{name}.yaml"
        out.append(Case(f"check-{name}", path, text, "policy check {case}",
                        f"{name}.yaml|{expect}"))
        out.append(Case(f"run-{name}", path, text, "run {case} --out {outdir} --overwrite",
                        f"{name}.yaml|{expect}"))
    for name in ("python-tag", "billion-laughs", "nul-byte", "too-many-instants"):
        out.append(Case(f"serve-{name}", f"scenario/{name}.yaml", dict(_faults_by_name())[name],
                        "serve --scenario {case} --db {db}", f"{name}.yaml"))
        out.append(Case(f"decide-{name}", f"scenario/{name}.yaml", dict(_faults_by_name())[name],
                        "decide {case} --terminal KYIV --lat 50 --lon 30 "
                        "--time 2026-01-15T00:00Z", f"{name}.yaml"))
    return out


def _faults_by_name():
    return [(n, t) for n, t, _ in _faults()]
