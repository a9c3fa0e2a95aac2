"""Time semantics of the policy log (policy.state): the state in force at t folds only what was
decided by t; a late grant takes effect at max(effective_at, decided_at); a retroactive
correction is its own kind, applied from effective_at only in the state *as known later*; the
"as requested" view places every grant at the time it asked for."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leotwin.errors import InputError
from leotwin.policy import PolicyEngine
from leotwin.policy.load import check_meaning
from leotwin.policy.schema import PolicyFile
from leotwin.policy.state import as_of, in_force
from leotwin.timegrid.grid import parse_time

T0 = parse_time("2026-02-01T00:00:00Z")
H = 3600 * 10**9
KYIV = (50.45, 30.52)


def _doc(log, terminals=()):
    return PolicyFile.model_validate({"terminals": list(terminals),
                                      "policy": {"log": log}})


def _entry(eid, change, requested, *, decided=None, effective=None, until=None,
           decision="granted", retroactive=False, sequence=0):
    e = {"id": eid, "requested_at": requested, "requested_by": "x", "decided_by": "y",
         "decision": decision, "change": change, "sequence": sequence}
    for key, value in (("decided_at", decided), ("effective_at", effective), ("until", until)):
        if value is not None:
            e[key] = value
    if retroactive:
        e["retroactive"] = True
    return e


INACTIVE = {"set_status": {"region": "UA", "status": "inactive"}}


def test_a_late_grant_takes_effect_when_decided_not_when_asked():
    """Asked on day 0 to take effect at hour 1, granted at hour 5: at hour 3 the region was
    active (nothing was decided); from hour 5 it is inactive.  As requested, inactive at 3."""
    doc = _doc([_entry("late", INACTIVE, T0, effective=T0 + H, decided=T0 + 5 * H)])
    assert as_of(doc, T0 + 3 * H).status == {}
    assert as_of(doc, T0 + 5 * H).status == {"UA": "inactive"}
    # known later: still not in force at hour 3 — a late grant is not a correction
    assert as_of(doc, T0 + 3 * H, known_at=T0 + 10 * H).status == {}
    assert as_of(doc, T0 + 3 * H, view="requested").status == {"UA": "inactive"}
    e = doc.policy.log[0]
    assert (e.effective, e.requested_effective, e.decided) == (T0 + 5 * H, T0 + H, T0 + 5 * H)
    engine = PolicyEngine(doc)
    assert engine.explain("x", *KYIV, 0, 0, T0 + 3 * H)["reasons"] == ["UNKNOWN_TERMINAL"]
    assert "REGION_INACTIVE" in engine.explain("x", *KYIV, 0, 0, T0 + 5 * H)["reasons"]


def test_a_retroactive_correction_is_shown_as_such():
    doc = _doc([_entry("fix", INACTIVE, T0 + 5 * H, effective=T0 + H, decided=T0 + 6 * H,
                       retroactive=True)])
    e = doc.policy.log[0]
    assert e.kind == "correction"
    # in force at hour 3, as known at hour 3: nothing was decided yet
    assert as_of(doc, T0 + 3 * H).status == {}
    # ... and as known at hour 7, corrected
    assert as_of(doc, T0 + 3 * H, known_at=T0 + 7 * H).status == {"UA": "inactive"}
    # as known at the time, the correction was in force from its decision
    assert as_of(doc, T0 + 6 * H).status == {"UA": "inactive"}
    assert as_of(doc, T0 + 5 * H).status == {}
    assert [x.id for x in in_force(doc, T0 + 3 * H, known_at=T0 + 7 * H)] == ["fix"]


def test_retroactive_needs_an_effective_time_before_its_decision():
    with pytest.raises(ValueError, match="retroactive"):
        _doc([_entry("fix", INACTIVE, T0, effective=T0 + H, retroactive=True)])
    with pytest.raises(ValueError, match="decided_at is before requested_at"):
        _doc([_entry("e", INACTIVE, T0, decided=T0 - H)])
    with pytest.raises(ValueError, match="before it is requested"):
        _doc([_entry("e", INACTIVE, T0, effective=T0 - H)])


def test_refused_requests_are_known_from_their_decision():
    from leotwin.policy.state import refused_until

    doc = _doc([_entry("no", INACTIVE, T0, decided=T0 + 2 * H, decision="refused")])
    assert refused_until(doc, T0 + H) == []
    assert [e.id for e in refused_until(doc, T0 + 2 * H)] == ["no"]


def test_a_grant_decided_after_its_until_is_an_error(tmp_path):
    from leotwin.policy.load import LoadedPolicy

    doc = _doc([_entry("never", INACTIVE, T0, effective=T0 + H, until=T0 + 2 * H,
                       decided=T0 + 3 * H)])
    with pytest.raises(InputError, match="never in force"):
        check_meaning(LoadedPolicy(doc, "p.yaml", {}))


changes = st.sampled_from([
    INACTIVE, {"set_status": {"region": "UKR", "status": "blacklisted"}},
    {"speed_cap": {"region": "Ukraine", "max_kmh": 75}}, {"speed_cap": {"region": "UA"}},
    {"whitelist": {"region": "UA"}}, {"whitelist": {"region": "UA", "required": False}},
    {"deactivate": {"terminal": "A"}}, {"reactivate": {"terminal": "A"}},
    {"register": {"terminal": "A", "region": "UA"}},
])
hours = st.integers(0, 24)


@st.composite
def logs(draw):
    out = []
    for k in range(draw(st.integers(0, 8))):
        req = T0 + draw(hours) * H
        decided = req + draw(st.integers(0, 6)) * H
        retro = draw(st.booleans()) and decided > T0
        if retro:
            eff = T0 + draw(st.integers(0, (decided - T0) // H - 1)) * H if decided > T0 \
                else None
        else:
            eff = req + draw(st.integers(0, 6)) * H
        until = draw(st.one_of(st.none(), st.integers(1, 12)))
        out.append(_entry(str(k), draw(changes), req, decided=decided, effective=eff,
                          until=None if until is None else max(eff, req) + until * H,
                          decision=draw(st.sampled_from(["granted", "granted", "refused"])),
                          retroactive=retro, sequence=k))
    return out


def _known_by(log, t):
    """The log as it stood at ``t``: only what had been decided by then."""
    return [e for e in log if e.get("decided_at", e["requested_at"]) <= t]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=logs(), t1=hours, dt=st.integers(1, 30))
def test_the_past_never_changes(log, t1, dt):
    """For any log and t1 < t2: the state at t1 computed from the log as it stood at t2 equals
    the state at t1 computed from the log as it stood at t1."""
    t1 = T0 + t1 * H
    t2 = t1 + dt * H
    terminals = [{"id": "A", "plan": "roam"}]
    later, then = _doc(_known_by(log, t2), terminals), _doc(_known_by(log, t1), terminals)
    assert as_of(later, t1) == as_of(then, t1)
    # and the decisions the engine makes at t1 agree
    for place in (KYIV, (48.0, 37.8)):
        a = PolicyEngine(later).explain("A", *place, 0, 120, t1)
        b = PolicyEngine(then).explain("A", *place, 0, 120, t1)
        assert a == b


def test_each_view_says_what_it_answers():
    from leotwin.policy.state import describe_view

    t, k = T0 + 3 * H, T0 + 7 * H
    assert describe_view(t, None, "granted") == (
        "what was in force at 2026-02-01T03:00:00Z, as known then (later decisions never "
        "change it)")
    assert describe_view(t, t, "granted") == describe_view(t, None, "granted")
    assert describe_view(t, k, "granted").startswith(
        "the state at 2026-02-01T03:00:00Z as known at 2026-02-01T07:00:00Z")
    assert describe_view(t, None, "requested").startswith("as requested: every grant ever "
                                                          "granted")
    assert describe_view(t, k, "requested").startswith(
        "as requested: every grant decided by 2026-02-01T07:00:00Z")
    with pytest.raises(ValueError, match="unknown view"):
        as_of(_doc([]), t, view="wished")  # type: ignore[arg-type]


def test_disabling_an_override_removes_exactly_that_override():
    over = {"override": {"region": "IR", "accounts": ["a"]}}
    off = {"override": {"region": "IR", "accounts": ["a"], "enabled": False}}
    other = {"override": {"region": "IR", "plans": ["roam"]}}
    doc = _doc([_entry("1", over, T0, sequence=0), _entry("2", other, T0, sequence=1),
                _entry("3", off, T0 + H, sequence=2)])
    assert len(as_of(doc, T0).overrides) == 2
    assert as_of(doc, T0 + H).overrides == [("IR", None, frozenset({"roam"}))]


def test_an_entry_ends_at_its_until():
    doc = _doc([_entry("off", INACTIVE, T0, until=T0 + H)])
    assert as_of(doc, T0 + H - 1).status == {"UA": "inactive"}
    assert as_of(doc, T0 + H).status == {}
    assert [e.id for e in in_force(doc, T0 + H)] == []


def test_the_report_says_its_times_are_as_granted_and_names_late_grants(tmp_path):
    import yaml

    from leotwin.sim.load import load_scenario
    from leotwin.sim.runner import run_scenario

    doc = yaml.safe_load(open("tests/data/small-scenario.yaml"))
    doc["policy"]["log"].append({
        "id": "late-cap", "requested_at": "2026-02-01", "effective_at": "2026-02-02",
        "decided_at": "2026-02-05", "requested_by": "MoD", "decided_by": "SpaceX",
        "decision": "granted", "change": {"altitude_cap": {"region": "UA", "max_m": 3000}}})
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc))
    run_scenario(load_scenario(path), tmp_path / "run", report=True)
    page = (tmp_path / "run" / "report.html").read_text()
    assert "took effect as granted" in page
    assert "Granted later than asked: late-cap." in page
