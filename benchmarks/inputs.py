"""What the validation layer of #13 costs, and how good the pre-flight estimate is.

``validation``: reading a 30,000-object 3LE file (the size of the public catalogue) and a
scenario listing 50,000 terminals, strictly (leotwin: size bound, UTF-8, control characters,
every field; YAML with line numbers, tags, aliases, dates, composed by libyaml when present)
against the same parse without the new checks in the same process (the TLE parser on text read
by ``Path.read_text``; PyYAML's own pure-Python ``safe_load``, which keeps no line numbers).
``preflight``: the estimate of ``sim.preflight`` against the run it estimates (bytes written,
peak RSS of a fresh process), on built-in scenarios.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from common import best_of

ROOT = Path(__file__).resolve().parents[1]


def _catalogue(n: int) -> str:
    """``n`` 3LE objects: the sample ISS set under new catalogue numbers (checksums fixed)."""
    name, l1, l2 = (ROOT / "tests/data/sample.3le").read_text().splitlines()[:3]

    def fix(line: str) -> str:
        total = sum(int(c) if c.isdigit() else c == "-" for c in line[:68])
        return line[:68] + str(total % 10)

    out = []
    for k in range(n):
        num = f"{10000 + k:05d}"
        out += [f"{name} {k}", fix(l1[:2] + num + l1[7:]), fix(l2[:2] + num + l2[7:])]
    return "\n".join(out) + "\n"


def _scenario(n: int) -> str:
    base = (ROOT / "tests/data/bad/good/scenario.yaml").read_text()
    rows = "".join(f"  - {{id: T{k}, plan: roam, lat: {45 + k % 7}.5, lon: {25 + k % 13}.25,"
                   f" actual_user: civilian, whitelisted: [UA]}}\n" for k in range(n))
    return base.replace("terminals:\n", "terminals:\n" + rows, 1)


def validation(quick: bool) -> None:
    import yaml

    from leotwin.io.yamlfile import load_yaml
    from leotwin.orbits.tle import load_tle, parse_tle_text

    n_sats, n_terms = (3_000, 5_000) if quick else (30_000, 50_000)
    with tempfile.TemporaryDirectory() as tmp:
        tle = Path(tmp) / "catalogue.3le"
        tle.write_text(_catalogue(n_sats))
        strict, sats = best_of(lambda: load_tle(tle))
        plain, recs = best_of(lambda: parse_tle_text(tle.read_text(), str(tle)))
        assert len(sats) == len(recs) == n_sats
        text = _scenario(n_terms)
        located, doc = best_of(lambda: load_yaml(text, "s.yaml"))
        safe, ref = best_of(lambda: yaml.safe_load(text))
        assert len(doc["terminals"]) == len(ref["terminals"]) == n_terms + 1
        mb = tle.stat().st_size
    print(f"\n### validation: {n_sats:,}-object 3LE ({mb / 1e6:.1f} MB), scenario with "
          f"{n_terms:,} terminals ({len(text) / 1e6:.1f} MB)\n\n| read | seconds (best of 3) "
          "| vs baseline | baseline |\n|---|---|---|---|")
    print(f"| load_tle (strict) | {strict:.3f} | {strict / plain:.2f}x | parse_tle_text on "
          f"read_text: {plain:.3f} s |")
    print(f"| load_yaml (lines, tags, aliases, dates) | {located:.3f} | {located / safe:.2f}x "
          f"| yaml.safe_load: {safe:.3f} s |")


def preflight(quick: bool) -> None:
    names = ["small"] if quick else ["ukraine-2026", "taiwan", "ukraine-2026-whitelist-rules"]
    print("\n### preflight: the estimate against the run (fresh process each)\n\n| scenario | "
          "estimated output | written | estimated memory | peak RSS |\n|---|---|---|---|---|")
    for name in names:
        ref = str(ROOT / "tests/data/small-scenario.yaml") if name == "small" else name
        code = ("import json,sys; from leotwin.sim.load import load_scenario; "
                "from leotwin.sim.preflight import preflight; "
                f"e=preflight(load_scenario({ref!r})); "
                "print(json.dumps([e.out_bytes, e.memory_bytes]))")
        est_out, est_mem = json.loads(subprocess.run([sys.executable, "-c", code], check=True,
                                                     capture_output=True, text=True).stdout)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "r"
            subprocess.run([sys.executable, "-m", "leotwin", "run", ref, "--out", str(out),
                            "--no-report"], check=True, capture_output=True, cwd=tmp)
            written = sum(p.stat().st_size for p in out.iterdir())
            rss = json.loads((out / "summary.json").read_text())["peak_rss_mib"] * 2**20
        print(f"| {name} | {est_out / 1e6:.1f} MB | {written / 1e6:.1f} MB | "
              f"{est_mem / 1e6:.0f} MB | {rss / 1e6:.0f} MB |")
