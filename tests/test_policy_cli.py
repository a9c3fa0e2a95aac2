"""``leotwin policy check|as-of`` and ``leotwin decide``: outputs and bad input."""

from __future__ import annotations

import json
import textwrap

import pytest

GOOD = """\
terminals:
  - {id: T1, account: a1, plan: roam, whitelisted: [UA]}
policy:
  accounts: [{id: a1}]
  log:
    - id: one
      requested_at: 2026-01-30
      effective_at: 2026-02-01
      requested_by: Ministry
      decided_by: SpaceX
      decision: granted
      change: {speed_cap: {region: UA, max_kmh: 75}}
    - id: two
      requested_at: 2026-02-02
      requested_by: Ministry
      decided_by: SpaceX
      decision: refused
      reason: not this time
      change: {whitelist: {region: UA}}
"""


def test_decide_and_as_of(cli, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(GOOD)
    code, out, _ = cli("decide", path, "--terminal", "T1", "--lat", "50.45", "--lon", "30.52",
                       "--speed-kmh", "120", "--time", "2026-02-05T00:00Z")
    assert code == 0
    doc = json.loads(out)
    assert doc == {"allowed": False, "reasons": ["SPEED_CAP"],
                   "explanation": doc["explanation"]}
    assert "120 km/h exceeds the cap of 75 km/h" in doc["explanation"]
    code, out, _ = cli("decide", path, "--terminal", "GHOST", "--lat", "50.45", "--lon", "30.52",
                       "--time", "2026-02-05T00:00Z")
    assert json.loads(out)["reasons"] == ["UNKNOWN_TERMINAL"]
    code, out, _ = cli("policy", "as-of", path, "--time", "2026-03-01")
    state = json.loads(out)
    assert state["speed_caps_kmh"] == {"UA": 75.0} and state["whitelist_required"] == []
    assert [r["id"] for r in state["refused"]] == ["two"]
    code, out, _ = cli("policy", "as-of", path, "--time", "2026-01-31")
    assert json.loads(out)["speed_caps_kmh"] == {} and json.loads(out)["refused"] == []


def _bad(text_from, text_to):
    assert text_from in GOOD
    return GOOD.replace(text_from, text_to)


@pytest.mark.parametrize("text, line, needle", [
    (_bad("region: UA, max_kmh", "region: Atlantis, max_kmh"), 12, "unknown region 'Atlantis'"),
    (_bad("plan: roam", "plan: platinum"), 2, "unknown plan 'platinum'"),
    (_bad("requested_at: 2026-01-30", "requested_at: 2026-02-03"), 6,
     "effective_at is before requested_at"),
    (_bad("decision: granted", "decision: maybe"), 11, "'granted' or 'refused'"),
    (_bad("max_kmh: 75}", "max_kmh: fast}"), 12, "valid number"),
    (_bad("change: {speed_cap: {region: UA, max_kmh: 75}}",
          "change: {speed_cap: {region: UA, max_kmh: 75}, whitelist: {region: UA}}"), 12,
     "exactly one of"),
    (GOOD + "  detection:\n    - {rule: denied_for, reasons: [BAD_CODE], minutes: 5}\n", 21,
     "unknown reason code 'BAD_CODE'"),
    (GOOD.replace("    - id: two", textwrap.dedent("""\
        - id: clash
          requested_at: 2026-01-30
          effective_at: 2026-02-01
          requested_by: Ministry
          decided_by: SpaceX
          decision: granted
          change: {speed_cap: {region: UA, max_kmh: 90}}
        - id: two""").replace("\n", "\n    ").replace("- id: clash", "    - id: clash", 1)),
     13, "set speed_cap UA differently at the same instant"),
    ("policy: [\n", 2, "invalid YAML"),
    ("name: x\n", 1, "expected a 'policy:' section"),
])
def test_bad_policy_files(cli, tmp_path, text, line, needle):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    code, out, err = cli("policy", "check", path)
    assert code == 2, (out, err)
    assert needle in err and f"line {line}" in err, err
    assert len(err.strip().splitlines()) == 1 and str(path) in err


def test_decide_bad_arguments(cli, tmp_path):
    for args, needle in ((["--lat", "95"], "latitude 95"),
                         (["--speed-kmh", "-3"], "speed -3.0 km/h is outside"),
                         (["--time", "whenever"], "ISO 8601")):
        base = {"--terminal": "T", "--lat": "50", "--lon": "30", "--time": "2026-01-01"}
        base.update(dict(zip(args[::2], args[1::2], strict=True)))
        code, _, err = cli("decide", "ukraine", *[x for kv in base.items() for x in kv])
        assert code == 2 and needle in err, err
    code, _, err = cli("decide", "no-such-scenario", "--terminal", "T", "--lat", "0", "--lon",
                       "0", "--time", "2026-01-01")
    assert code == 2 and "neither a scenario file nor a built-in scenario" in err


def test_example_of_every_mechanism(cli):
    """examples/policy-mechanisms.yaml documents each mechanism; it must stay valid and mean
    what its comments say."""
    from pathlib import Path

    example = Path(__file__).parents[1] / "examples" / "policy-mechanisms.yaml"
    code, out, err = cli("policy", "check", example)
    assert code == 0 and "valid" in out, err
    code, out, _ = cli("decide", example, "--terminal", "T-ROAM", "--lat", "35.68", "--lon",
                       "139.69", "--speed-kmh", "60", "--time", "2024-06-01T00:00Z")
    assert json.loads(out)["reasons"] == ["IN_MOTION_NOT_ALLOWED"]
    code, out, _ = cli("decide", example, "--terminal", "T-IR", "--lat", "35.69", "--lon",
                       "51.39", "--time", "2022-10-01T00:00Z")
    assert json.loads(out)["allowed"] is True
    code, out, _ = cli("decide", example, "--terminal", "T-FLEET", "--lat", "48.46", "--lon",
                       "35.05", "--time", "2022-10-05T00:00Z")
    assert json.loads(out)["reasons"] == ["FUNDING_SUSPENDED"]


def test_yaml_boolean_ids_are_refused(cli, tmp_path):
    path = tmp_path / "b.yaml"
    path.write_text(GOOD.replace("- id: two", "- id: no"))
    code, _, err = cli("policy", "check", path)
    assert code == 2 and "put it in quotes" in err and "line 13" in err
