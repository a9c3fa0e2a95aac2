"""Whitelist registrations under the 2026 rules (policy.registration): limits per owner, the
processing delay, and the built-in variant that uses them.  Expected values follow from the
published rules (1 without the device / 3 with it per person, 10 per company, no limit for a
critically important enterprise, 48 h), worked out by hand."""

from __future__ import annotations

import pytest

from leotwin.policy import PolicyEngine
from leotwin.policy.schema import UA_2026_RULES, PolicyFile
from leotwin.timegrid.grid import parse_time

KYIV = (50.45, 30.52)
H = 3600 * 10**9
T0 = parse_time("2026-02-04T00:00:00Z")
AFTER = T0 + 10 * 24 * H  # long after every registration is processed


def _engine(terminals, registrations, rules=True, extra=()):
    log = [{"id": "wl", "requested_at": "2026-01-01", "requested_by": "x", "decided_by": "y",
            "decision": "granted", "change": {"whitelist": {"region": "UA"}}}]
    if rules:
        log.append({"id": "rules", "requested_at": "2026-02-01", "requested_by": "x",
                    "decided_by": "y", "decision": "granted",
                    "change": {"registration_rules": {"region": "Ukraine"}}})
    for k, (tid, at, presented) in enumerate(registrations):
        log.append({"id": f"r{k}", "requested_at": at, "requested_by": "x",
                    "decided_by": "y", "decision": "granted", "sequence": k,
                    "change": {"register": {"terminal": tid, "region": "UKR",
                                            "device_presented": presented}}})
    log += list(extra)
    return PolicyEngine(PolicyFile.model_validate({"terminals": terminals,
                                                   "policy": {"log": log}}))


def _allowed(engine, tid, t=AFTER):
    return engine.explain(tid, *KYIV, 0, 0, t)["allowed"]


def test_the_defaults_are_the_published_rules():
    assert UA_2026_RULES == {"person_without_device": 1, "person_with_device": 3,
                             "company": 10, "critical": None, "processing_hours": 48.0}
    from leotwin.policy.changes import RegistrationRules

    assert RegistrationRules(region="UA").model_dump(exclude={"region"}) == UA_2026_RULES


def test_a_person_registers_one_without_the_device_and_three_with_it():
    people = [{"id": f"T{k}", "owner": "anna"} for k in range(5)]
    e = _engine(people, [("T0", T0, False), ("T1", T0 + H, False), ("T2", T0 + 2 * H, True),
                         ("T3", T0 + 3 * H, True), ("T4", T0 + 4 * H, True)])
    # T0 (1st, without the device): ok; T1 (2nd, without): over 1; T2, T3 (with): 2nd and
    # 3rd; T4 (4th, with): over 3
    assert [_allowed(e, f"T{k}") for k in range(5)] == [True, False, True, True, False]
    why = e.explain("T4", *KYIV, 0, 0, AFTER)["explanation"]
    assert "owner anna already has 3 terminal(s) registered in UA" in why


def test_companies_ten_critical_enterprises_unlimited():
    firm = [{"id": f"F{k:02d}", "owner": "acme", "owner_kind": "company"} for k in range(12)]
    grid = [{"id": f"G{k:02d}", "owner": "grid", "owner_kind": "critical"} for k in range(12)]
    regs = [(t["id"], T0 + k * H, False) for k, t in enumerate(firm + grid)]
    e = _engine(firm + grid, regs)
    assert sum(_allowed(e, t["id"]) for t in firm) == 10
    assert [_allowed(e, f"F{k:02d}") for k in (9, 10, 11)] == [True, False, False]
    assert all(_allowed(e, t["id"]) for t in grid)


def test_registrations_take_effect_after_48_hours_of_processing():
    e = _engine([{"id": "T"}], [("T", T0, True)])
    assert not _allowed(e, "T", T0 + 47 * H)
    assert "being processed until 2026-02-06T00:00:00Z" in e.explain(
        "T", *KYIV, 0, 0, T0 + 47 * H)["explanation"]
    assert _allowed(e, "T", T0 + 48 * H)
    # without rules in force a registration takes effect at once
    e2 = _engine([{"id": "T"}], [("T", T0, True)], rules=False)
    assert _allowed(e2, "T", T0)


def test_grandfathered_terminals_count_and_a_withdrawal_frees_a_slot():
    terminals = [{"id": "OLD", "owner": "bo", "whitelisted": ["UA"]}, {"id": "NEW", "owner": "bo"},
                 {"id": "NEXT", "owner": "bo"}]
    e = _engine(terminals, [("NEW", T0, False)])
    assert _allowed(e, "OLD") and not _allowed(e, "NEW")  # the old one fills the 1 slot
    withdraw = {"id": "w", "requested_at": T0 + H, "requested_by": "x", "decided_by": "y",
                "decision": "granted",
                "change": {"register": {"terminal": "OLD", "region": "UA",
                                        "registered": False}}}
    e = _engine(terminals, [("NEXT", T0 + 2 * H, False)], extra=[withdraw])
    assert not _allowed(e, "OLD") and _allowed(e, "NEXT")


def test_rules_lifted_with_until_no_longer_delay_registrations():
    rules = {"id": "rules2", "requested_at": "2026-02-01", "until": "2026-02-03",
             "requested_by": "x", "decided_by": "y", "decision": "granted",
             "change": {"registration_rules": {"region": "UA", "processing_hours": 10}}}
    e = _engine([{"id": "T"}], [("T", T0, True)], rules=False, extra=[rules])
    assert _allowed(e, "T", T0)


@pytest.fixture(scope="module")
def variant_run(tmp_path_factory):
    from leotwin.sim.load import load_scenario
    from leotwin.sim.runner import run_scenario

    out = tmp_path_factory.mktemp("wlr") / "run"
    run_scenario(load_scenario("ukraine-2026-whitelist-rules"), out, report=False)
    return out


def test_the_builtin_variant_leaves_out_whom_the_rules_leave_out(variant_run):
    import numpy as np
    import pyarrow.parquet as pq

    t = pq.read_table(variant_run / "terminals.parquet").to_pylist()
    share = {}
    for prefix in ("UNIT-", "CIV-", "LATE-", "FAMILY-", "SHOP-", "GRID-"):
        rows = [r["allowed_fraction"] for r in t if r["terminal_id"].startswith(prefix)]
        share[prefix] = (len(rows), float(np.mean(rows)))
    # the whitelist starts at 00:00 of an 8-h window from 20:00: denials cover 4 of 8 hours
    half = 0.5
    assert share["UNIT-"] == (300, 1.0)
    assert share["GRID-"] == (30, 1.0)  # a critical enterprise: 30 of 30 registered
    assert share["LATE-"] == (60, 1 - half)  # filed 9 Feb noon: processed only 11 Feb noon
    assert share["FAMILY-"] == (40, pytest.approx(1 - half / 4))  # 1 in 4 over 3 per person
    assert share["SHOP-"] == (36, pytest.approx(1 - half * 2 / 12))  # 2 in 12 over 10
    log = pq.read_table(variant_run / "policy_log.parquet").to_pylist()
    assert sum(r["id"].startswith("register-") for r in log) > 300


def test_a_registration_is_pending_from_the_instant_it_is_granted():
    from leotwin.policy.state import as_of, in_force

    e = _engine([{"id": "T"}], [("T", T0, True)])
    doc = e.doc
    assert as_of(doc, T0).pending_registrations == {"T": T0 + 48 * H}
    assert as_of(doc, T0 + H, known_at=T0).pending_registrations == {"T": T0 + 48 * H}
    assert as_of(doc, T0 + H, known_at=T0 - 1).pending_registrations == {}
    assert as_of(doc, T0 - 1).pending_registrations == {}
    assert as_of(doc, T0 + 48 * H).pending_registrations == {}
    # in_force lists the registration only once processed
    assert "r0" not in [x.id for x in in_force(doc, T0 + 47 * H)]
    assert "r0" in [x.id for x in in_force(doc, T0 + 48 * H)]


def test_a_country_without_an_iso_code_has_its_name_as_canonical_spelling():
    from leotwin.ground.regions import countries
    from leotwin.policy.places import RegionNames

    nameless = next(r for r in countries().regions if not r.iso_a2)
    assert RegionNames([]).canonical(nameless.name) == nameless.code == nameless.name


def test_registering_without_saying_counts_as_presenting_the_device():
    people = [{"id": f"T{k}", "owner": "ola"} for k in range(3)]
    log = [{"id": f"x{k}", "requested_at": T0 + k * H, "requested_by": "x", "decided_by": "y",
            "decision": "granted", "change": {"register": {"terminal": f"T{k}",
                                                             "region": "UA"}}}
           for k in range(3)]
    e = _engine(people, [], extra=log)
    assert all(_allowed(e, f"T{k}") for k in range(3))  # 3 with the device


def test_rules_taking_effect_at_the_instant_of_a_registration_apply_to_it():
    rules_at = {"id": "rules3", "requested_at": T0, "requested_by": "x", "decided_by": "y",
                "decision": "granted", "sequence": -1,
                "change": {"registration_rules": {"region": "UA", "processing_hours": 5}}}
    e = _engine([{"id": "T"}], [("T", T0, True)], rules=False, extra=[rules_at])
    assert not _allowed(e, "T", T0 + 4 * H)
    assert _allowed(e, "T", T0 + 5 * H)


def test_a_rejected_company_registration_says_so_and_rules_end_at_their_until():
    firm = [{"id": f"F{k:02d}", "owner": "acme", "owner_kind": "company"} for k in range(11)]
    e = _engine(firm, [(t["id"], T0 + k * H, True) for k, t in enumerate(firm)])
    assert "the limit for a company is 10" in e.explain("F10", *KYIV, 0, 0, AFTER)[
        "explanation"]
    ends = {"id": "rules4", "requested_at": "2026-02-01", "until": T0,
            "requested_by": "x", "decided_by": "y", "decision": "granted",
            "change": {"registration_rules": {"region": "UA"}}}
    e2 = _engine([{"id": "T"}], [("T", T0, True)], rules=False, extra=[ends])
    assert _allowed(e2, "T", T0)  # the rules ended at the instant it registered
