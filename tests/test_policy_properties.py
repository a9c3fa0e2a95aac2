"""Property-based tests of the policy engine (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leotwin.policy import PolicyEngine
from leotwin.policy.schema import PolicyFile
from leotwin.timegrid.grid import parse_time

T0 = parse_time("2026-01-01T00:00:00Z")
DAY = 86_400 * 10**9
COUNTRIES = ["UA", "PL", "RO", "MD", "BY"]
PLACES = [(50.45, 30.52), (52.23, 21.01), (44.43, 26.10), (47.01, 28.86), (53.90, 27.56),
          (48.0, 37.8)]
TERMINALS = [
    {"id": "A", "account": "acc1", "plan": "residential", "whitelisted": ["UA"]},
    {"id": "B", "account": "acc2", "plan": "roam"},
    {"id": "C", "account": "acc1", "plan": "government", "whitelisted": ["UA", "PL"]},
    {"id": "D", "account": "acc2", "plan": "maritime"},
]
ACCOUNTS = [{"id": "acc1", "payers": ["p1"]}, {"id": "acc2", "payers": ["p1", "p2"]}]
ZONE = {"east": {"polygon": [[36.0, 47.0], [39.5, 47.0], [39.5, 49.5], [36.0, 49.5],
                             [36.0, 47.0]]}}

restriction = st.one_of(
    st.builds(lambda r, s: {"set_status": {"region": r, "status": s}},
              st.sampled_from([*COUNTRIES, "east"]),
              st.sampled_from(["inactive", "not_licensed", "blacklisted"])),
    st.builds(lambda r, v: {"speed_cap": {"region": r, "max_kmh": v}},
              st.sampled_from([*COUNTRIES, "east"]), st.floats(10, 200)),
    st.builds(lambda r, v: {"altitude_cap": {"region": r, "max_m": v}},
              st.sampled_from(COUNTRIES), st.floats(0, 3000)),
    st.builds(lambda r: {"in_motion_ban": {"region": r}}, st.sampled_from(COUNTRIES)),
    st.builds(lambda r: {"whitelist": {"region": r}}, st.sampled_from([*COUNTRIES, "east"])),
    st.builds(lambda p: {"funding": {"payer": p, "status": "suspended"}},
              st.sampled_from(["p1", "p2"])),
    st.builds(lambda t: {"deactivate": {"terminal": t}}, st.sampled_from("ABCD")),
)


def _doc(changes, times=None) -> PolicyFile:
    log = []
    for k, change in enumerate(changes):
        eff = T0 if times is None else times[k][0]
        entry = {"id": str(k), "requested_at": eff, "requested_by": "x", "decided_by": "y",
                 "decision": "granted", "sequence": k, "change": change}
        if times is not None and times[k][1] is not None:
            entry["until"] = times[k][1]
        log.append(entry)
    return PolicyFile.model_validate({"regions": ZONE, "terminals": TERMINALS,
                                      "policy": {"accounts": ACCOUNTS, "log": log}})


decisions = st.lists(st.tuples(st.sampled_from(["A", "B", "C", "D", "nobody"]),
                               st.integers(0, len(PLACES) - 1), st.floats(0, 250),
                               st.floats(0, 5000)), min_size=1, max_size=25)


def _arrays(ds, when):
    ids = [d[0] for d in ds]
    lat = [PLACES[d[1]][0] for d in ds]
    lon = [PLACES[d[1]][1] for d in ds]
    return ids, lat, lon, [d[3] for d in ds], [d[2] for d in ds], [when] * len(ds)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.lists(restriction, max_size=6), extra=restriction, ds=decisions)
def test_adding_a_restriction_never_allows_what_was_denied(base, extra, ds):
    # caps only tighten when the region has none yet (a new cap could replace a lower one)
    kind = next(iter(extra))
    if kind in ("speed_cap", "altitude_cap") and any(
            next(iter(b)) == kind and b[kind]["region"] == extra[kind]["region"] for b in base):
        return
    args = _arrays(ds, T0 + DAY)
    allowed_before, _ = PolicyEngine(_doc(base)).decide(*args)
    allowed_after, reasons = PolicyEngine(_doc([*base, extra])).decide(*args)
    assert not np.any(allowed_after & ~allowed_before)
    assert np.array_equal(allowed_after, reasons == 0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.lists(restriction, min_size=1, max_size=6),
       spans=st.lists(st.tuples(st.integers(0, 10), st.one_of(st.none(), st.integers(1, 10))),
                      min_size=6, max_size=6),
       day=st.integers(0, 12), ds=decisions)
def test_interval_compiled_decisions_equal_a_replay_of_what_is_in_force(changes, spans, day, ds):
    """The engine compiles the fold once per interval between log instants; a fresh engine
    given only the entries in force at t (a replay up to t, expired ones left out, each at its
    own effective time so that a later change still overrides an earlier one) must decide the
    same."""
    times = [(T0 + a * DAY, None if b is None else T0 + (a + b) * DAY)
             for a, b in spans[:len(changes)]]
    when = T0 + day * DAY + DAY // 2
    full = PolicyEngine(_doc(changes, times))
    in_force = [(c, (a, None)) for c, (a, b) in zip(changes, times, strict=True)
                if a <= when and (b is None or when < b)]
    replay = PolicyEngine(_doc([c for c, _ in in_force], [t for _, t in in_force]))
    args = _arrays(ds, when)
    _, ra = full.decide(*args)
    _, rb = replay.decide(*args)
    assert np.array_equal(ra, rb)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.lists(restriction, max_size=6), ds=decisions,
       days=st.lists(st.integers(-2, 3), min_size=25, max_size=25))
def test_vectorised_decisions_equal_one_at_a_time(changes, ds, days):
    engine = PolicyEngine(_doc(changes))
    ids, lat, lon, alt, speed, _ = _arrays(ds, 0)
    when = [T0 + days[k] * DAY for k in range(len(ds))]
    allowed, reasons = engine.decide(ids, lat, lon, alt, speed, when)
    for k in range(len(ds)):
        a1, r1 = engine.decide([ids[k]], [lat[k]], [lon[k]], [alt[k]], [speed[k]], [when[k]])
        assert a1[0] == allowed[k] and r1[0] == reasons[k]
