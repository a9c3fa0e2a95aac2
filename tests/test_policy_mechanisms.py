"""Every mechanism of the public record that can be expressed (FACTS.md §4, P1–P14), each as a
small policy checked with ``decide`` at chosen places and times."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from leotwin.policy import PolicyEngine, enforcement, load_policy, run_policy
from leotwin.timegrid import TimeGrid
from leotwin.timegrid.grid import parse_time

KYIV, LVIV, TAIPEI, HELSINKI = (50.45, 30.52), (49.84, 24.03), (25.033, 121.565), (60.17, 24.94)
IMATRA = (61.17, 28.76)  # Finland, ~7 km from the Russian border
DONETSK_AREA, SEVASTOPOL, TEHRAN = (48.02, 38.80), (44.60, 33.52), (35.69, 51.39)


def policy(tmp_path, body: str, name="p.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return PolicyEngine(load_policy(path))


def entry(eid, change, at="2022-01-01", decision="granted", **extra):
    lines = [f"        - id: {eid}", f"          requested_at: {at}",
             "          requested_by: someone", "          decided_by: SpaceX",
             f"          decision: {decision}", f"          change: {change}"]
    lines += [f"          {k}: {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def decide(engine, terminal, place, when, speed=0.0, alt=0.0):
    out = engine.explain(terminal, place[0], place[1], alt, speed, parse_time(when))
    return out["allowed"], set(out["reasons"])


def test_p1_country_licensing_geofence(tmp_path):
    e = policy(tmp_path, """
    terminals: [{id: T, plan: roam}]
    policy:
      default_status: not_licensed
      log:
""" + entry("ua", "{set_status: {region: UA, status: active}}"))
    assert decide(e, "T", KYIV, "2024-05-01") == (True, set())
    assert decide(e, "T", (15.5, 32.5), "2024-05-01") == (False, {"REGION_NOT_LICENSED"})  # Sudan


def test_p2_blacklisted_cells_and_p3_spillover(tmp_path):
    import h3

    cell = h3.latlng_to_cell(KYIV[0], KYIV[1], 5)
    e = policy(tmp_path, """
    terminals: [{id: T, plan: residential}]
    policy:
      log:
""" + entry("ru", "{set_status: {region: RU, status: not_licensed}}")
        + entry("cell", f"{{set_cells: {{cells: ['{cell}'], status: blacklisted}}}}")
        + entry("spill", "{spillover: {from: RU, into: FI, buffer_km: 15}}"))
    assert decide(e, "T", KYIV, "2023-01-01") == (False, {"CELL_BLACKLISTED"})
    assert decide(e, "T", (KYIV[0] + 0.5, KYIV[1]), "2023-01-01") == (True, set())
    # beams for Russia spill over into Finland near the border (Oulu test), not in Helsinki
    assert decide(e, "T", IMATRA, "2023-01-01") == (False, {"CELL_BLACKLISTED"})
    assert decide(e, "T", HELSINKI, "2023-01-01") == (True, set())


def test_p4_taiwan_not_licensed_and_the_activated_variant():
    tw = PolicyEngine(load_policy("taiwan"))
    assert decide(tw, "TW-CIV-001", TAIPEI, "2026-03-01") == (False, {"REGION_NOT_LICENSED"})
    alt = PolicyEngine(load_policy("taiwan-activated"))
    assert decide(alt, "TW-CIV-001", TAIPEI, "2025-06-01") == (False, {"REGION_NOT_LICENSED"})
    assert decide(alt, "TW-CIV-001", TAIPEI, "2026-03-01") == (True, set())


def test_p5_plans_in_motion_and_country_bans(tmp_path):
    e = policy(tmp_path, """
    terminals:
      - {id: HOME, plan: residential}
      - {id: ROAM, plan: roam}
      - {id: SHIP, plan: maritime}
    policy:
      log:
""" + entry("jp", "{in_motion_ban: {region: JP}}"))
    tokyo, osaka = (35.68, 139.69), (34.69, 135.50)
    assert decide(e, "HOME", KYIV, "2024-01-01", speed=40) == (False, {"IN_MOTION_NOT_ALLOWED"})
    assert decide(e, "ROAM", KYIV, "2024-01-01", speed=140) == (True, set())
    assert decide(e, "ROAM", KYIV, "2024-01-01", speed=170) == (False, {"SPEED_CAP"})
    assert decide(e, "ROAM", tokyo, "2024-01-01", speed=60) == (False, {"IN_MOTION_NOT_ALLOWED"})
    assert decide(e, "ROAM", osaka, "2024-01-01", speed=5) == (True, set())  # below 10 mph
    assert decide(e, "SHIP", tokyo, "2024-01-01", speed=30) == (True, set())  # not land use


def test_p6_funding_suspended_for_one_payers_fleet(tmp_path):
    e = policy(tmp_path, """
    terminals:
      - {id: DONATED, account: fleet-a, plan: government}
      - {id: SHARED, account: fleet-b, plan: government}
    policy:
      accounts:
        - {id: fleet-a, payers: [spacex]}
        - {id: fleet-b, payers: [spacex, pentagon]}
      log:
""" + entry("suspend", "{funding: {payer: spacex, status: suspended}}", at="2022-10-01")
        + entry("resume", "{funding: {payer: spacex, status: active}}", at="2022-10-15"))
    assert decide(e, "DONATED", KYIV, "2022-09-30") == (True, set())
    assert decide(e, "DONATED", KYIV, "2022-10-05") == (False, {"FUNDING_SUSPENDED"})
    assert decide(e, "SHARED", KYIV, "2022-10-05") == (True, set())  # another payer takes over
    assert decide(e, "DONATED", KYIV, "2022-10-20") == (True, set())


def test_p7_p8_crimea_not_enabled_and_the_refused_request_stays_visible():
    loaded = load_policy("ukraine")
    e = PolicyEngine(loaded)
    assert decide(e, "UA-ARMY-001", SEVASTOPOL, "2022-09-10") == (False, {"REGION_INACTIVE"})
    assert decide(e, "UA-ARMY-001", DONETSK_AREA, "2022-10-01") == (False, {"REGION_INACTIVE"})
    refused = [x for x in loaded.doc.policy.log if x.decision == "refused"]
    assert [x.id for x in refused] == ["crimea-enable-request"]
    from leotwin.policy.state import refused_until

    assert [x.id for x in refused_until(loaded.doc, parse_time("2023-01-01"))] == [
        "crimea-enable-request"]
    assert refused_until(loaded.doc, parse_time("2022-09-01")) == []


def test_p6_activation_of_ukraine():
    e = PolicyEngine(load_policy("ukraine"))
    assert decide(e, "UA-CIV-001", KYIV, "2022-02-25") == (False, {"REGION_NOT_LICENSED"})
    assert decide(e, "UA-CIV-001", KYIV, "2022-02-27") == (True, set())


def test_p9_drone_use_as_a_speed_and_altitude_class(tmp_path):
    """The 2023 drone restriction's mechanism was never disclosed; a policy can express it as
    speed and altitude caps on a region."""
    e = policy(tmp_path, """
    terminals: [{id: T, plan: government}]
    policy:
      log:
""" + entry("alt", "{altitude_cap: {region: UA, max_m: 500}}"))
    assert decide(e, "T", KYIV, "2023-03-01", alt=300) == (True, set())
    assert decide(e, "T", KYIV, "2023-03-01", alt=1200) == (False, {"ALTITUDE_CAP"})


def test_p10_detection_deactivates_unauthorized_terminals():
    e = PolicyEngine(load_policy("ukraine"))
    doc = e.doc
    ids = [t.id for t in doc.terminals]
    lat = [t.lat for t in doc.terminals]
    lon = [t.lon for t in doc.terminals]
    grid = TimeGrid.from_span("2024-02-11T00:00:00Z", "4h", "10m")
    run = run_policy(e, ids, grid, lat, lon)
    gone = {d["terminal"]: d for d in run.deactivations}
    assert set(gone) == {"RU-UNAUTH-001"}  # in the occupied zone for 30 min, then +60 min
    assert gone["RU-UNAUTH-001"]["detected_at"] == "2024-02-11T00:30:00Z"
    assert gone["RU-UNAUTH-001"]["effective_at"] == "2024-02-11T01:30:00Z"
    k = ids.index("RU-UNAUTH-001")
    after = grid.ns >= parse_time("2024-02-11T01:30:00Z")
    from leotwin.policy import Reason

    assert np.all(run.reasons[after, k] & Reason.TERMINAL_DEACTIVATED)
    metrics = enforcement(run, [t.actual_user for t in doc.terminals])
    assert metrics["collateral_authorized"] == 0.0
    assert 0.0 < metrics["unauthorized_blocked"] < 1.0  # RU-UNAUTH-002 is outside the zone
    assert metrics["time_to_deactivation_s"]["used_and_never_deactivated"] == 1


def test_p11_speed_cap_and_whitelist_2026():
    e = PolicyEngine(load_policy("ukraine"))
    when = "2026-03-01"
    assert decide(e, "UA-ARMY-001", (48.46, 35.05), when, speed=120) == (False, {"SPEED_CAP"})
    assert decide(e, "UA-ARMY-001", (48.46, 35.05), when, speed=60) == (True, set())
    assert decide(e, "UA-ARMY-001", (48.46, 35.05), "2026-01-15", speed=120) == (True, set())
    # the whitelist: an unregistered Ukrainian terminal is cut off (collateral) ...
    assert decide(e, "UA-CIV-001", KYIV, when) == (False, {"NOT_WHITELISTED"})
    # ... a registered one is served, and before 10 Feb both were
    assert decide(e, "UA-CIV-002", LVIV, when) == (True, set())
    assert decide(e, "UA-CIV-001", KYIV, "2026-02-05") == (True, set())


def test_p12_cluster_detection_in_an_unlicensed_country(tmp_path):
    e = policy(tmp_path, """
    policy:
      log:
""" + entry("mm", "{set_status: {region: MM, status: not_licensed}}") + """
      detection:
        - {rule: cluster, zone: MM, radius_km: 5, min_terminals: 5, minutes: 0}
    """)
    rng = np.random.default_rng(2)
    lat = np.concatenate([16.78 + rng.normal(0, 0.005, 8), [19.0, 21.0]])  # west of Myawaddy
    lon = np.concatenate([98.38 + rng.normal(0, 0.005, 8), [96.0, 95.0]])
    ids = [f"K{k}" for k in range(10)]
    run = run_policy(e, ids, TimeGrid.from_span("2025-10-22", "1h", "30m"), lat, lon)
    assert {d["terminal"] for d in run.deactivations} == set(ids[:8])


def test_p13_operator_override_in_a_not_licensed_country(tmp_path):
    e = policy(tmp_path, """
    terminals:
      - {id: ACTIVIST, account: civil-society, plan: roam}
      - {id: OTHER, account: anyone, plan: roam}
    policy:
      accounts: [{id: civil-society}, {id: anyone}]
      log:
""" + entry("ir", "{set_status: {region: IR, status: not_licensed}}")
        + entry("gl-d2", "{override: {region: IR, accounts: [civil-society]}}", at="2022-09-23"))
    assert decide(e, "ACTIVIST", TEHRAN, "2022-09-01") == (False, {"REGION_NOT_LICENSED"})
    assert decide(e, "ACTIVIST", TEHRAN, "2022-10-01") == (True, set())
    assert decide(e, "OTHER", TEHRAN, "2022-10-01") == (False, {"REGION_NOT_LICENSED"})


def test_p14_statement_as_a_refused_counterfactual(tmp_path):
    """'Starlink will never turn off its terminals': a request to switch Ukraine off, refused,
    changes nothing but stays in the log."""
    e = policy(tmp_path, """
    terminals: [{id: T, plan: government}]
    policy:
      log:
""" + entry("switch-off", "{set_status: {region: UA, status: inactive}}",
                at="2025-03-09",
                decision="refused"))
    assert decide(e, "T", KYIV, "2025-04-01") == (True, set())
    assert [x.decision for x in e.doc.policy.log] == ["refused"]


def test_unknown_terminal_is_still_judged_and_every_reason_is_listed():
    e = PolicyEngine(load_policy("ukraine"))
    allowed, reasons = decide(e, "NOBODY", DONETSK_AREA, "2026-03-01", speed=120)
    assert not allowed
    assert reasons == {"UNKNOWN_TERMINAL", "REGION_INACTIVE", "SPEED_CAP", "NOT_WHITELISTED"}


@pytest.mark.parametrize("name", ["ukraine", "taiwan", "taiwan-activated"])
def test_builtin_scenarios_validate(cli, name):
    code, out, err = cli("policy", "check", name)
    assert code == 0 and "valid" in out, err


def test_p5_abroad_too_long_is_detected(tmp_path):
    e = policy(tmp_path, """
    terminals:
      - {id: TRAVELLER, plan: roam, home_country: PL}
      - {id: LOCAL, plan: roam, home_country: UA}
    policy:
      detection:
        - {rule: outside_home, minutes: 120, delay_minutes: 0}
    """)
    run = run_policy(e, ["TRAVELLER", "LOCAL"], TimeGrid.from_span("2024-01-01", "4h", "1h"),
                     [KYIV[0], KYIV[0]], [KYIV[1], KYIV[1]])
    assert [d["terminal"] for d in run.deactivations] == ["TRAVELLER"]
    assert run.deactivations[0]["detected_at"] == "2024-01-01T02:00:00Z"


def test_network_reasons_combine_with_policy_reasons():
    e = PolicyEngine(load_policy("ukraine"))
    when = parse_time("2026-03-01")
    allowed, reasons = e.decide(["UA-CIV-002"] * 3, [LVIV[0]] * 3, [LVIV[1]] * 3, 0, 0, when,
                                satellite_in_view=[True, False, True],
                                path_to_gateway=[True, False, False])
    from leotwin.policy import reason_names

    assert allowed.tolist() == [True, False, False]
    assert reason_names(reasons[1]) == ["NO_SATELLITE_IN_VIEW", "NO_PATH_TO_GATEWAY"]
    assert reason_names(reasons[2]) == ["NO_PATH_TO_GATEWAY"]
