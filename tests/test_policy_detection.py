"""Detection semantics (policy.run): a condition held continuously for ≥ N minutes, measured
from its first sampled instant — the same at every step size — and enforcement metrics that
count from the first use attempt.  The reference is the definition, evaluated by hand on the
sampled condition (no engine code)."""

from __future__ import annotations

import numpy as np
import pytest

from leotwin.policy import PolicyEngine, enforcement, run_policy
from leotwin.policy.schema import PolicyFile
from leotwin.timegrid import TimeGrid
from leotwin.timegrid.grid import NS_PER_S, parse_time

KYIV = (50.45, 30.52)
START = "2026-03-01T00:00:00Z"
MIN = 60 * NS_PER_S


def _engine(minutes: float, delay: float = 0.0) -> PolicyEngine:
    terminals = [{"id": f"T{k}", "plan": "roam", "actual_user": "unauthorized"}
                 for k in range(6)]
    return PolicyEngine(PolicyFile.model_validate({
        "terminals": terminals,
        "policy": {"log": [{"id": "cap", "requested_at": "2026-01-01", "requested_by": "x",
                            "decided_by": "y", "decision": "granted",
                            "change": {"speed_cap": {"region": "UA", "max_kmh": 75}}}],
                   "detection": [{"rule": "denied_for", "reasons": ["SPEED_CAP"],
                                  "minutes": minutes, "delay_minutes": delay}]}}))


def _reference(cond: np.ndarray, ns: np.ndarray, minutes: float) -> int | None:
    """First sampled instant at which ``cond`` has held at every sample since the first
    sample of its current run, for at least ``minutes``."""
    since = None
    for t, on in zip(ns, cond, strict=True):
        if not on:
            since = None
            continue
        since = t if since is None else since
        if t - since >= minutes * MIN:
            return int(t)
    return None


@pytest.mark.parametrize("step_min", [1, 2, 3, 5, 10])
def test_detection_time_is_measured_from_the_first_instant_at_every_step(step_min):
    grid = TimeGrid.from_span(START, "2h", f"{step_min}m")
    n = grid.count
    # each terminal speeds above the cap from a different instant on (T5 stops after a while)
    onsets = [0, 1, 2, 3, 7, 1]
    speed = np.zeros((n, 6))
    for k, onset in enumerate(onsets):
        speed[onset:, k] = 120.0
    speed[3:, 5] = 0.0  # T5: two samples above the cap (1, 2), then stops
    run = run_policy(_engine(10), [f"T{k}" for k in range(6)], grid, KYIV[0], KYIV[1],
                     speed_kmh=speed)
    got = {d["terminal"]: parse_time(d["detected_at"]) for d in run.deactivations}
    for k in range(6):
        expected = _reference(speed[:, k] > 75, grid.ns, 10)
        assert got.get(f"T{k}") == expected, (k, step_min)
    # the definition, spelt out: detected exactly 10 min after the onset when the step
    # divides 10 min, else at the first sample after it
    first = int(grid.ns[onsets[1]])
    after = -(-10 // step_min) * step_min
    assert got["T1"] == first + after * MIN


def test_a_broken_condition_starts_again():
    grid = TimeGrid.from_span(START, "1h", "5m")
    speed = np.full((grid.count, 1), 120.0)
    speed[2, 0] = 0.0  # above the cap at 0, 5; below at 10; above from 15 on
    run = run_policy(_engine(10), ["T0"], grid, *KYIV,
                     speed_kmh=speed)
    assert [d["detected_at"] for d in run.deactivations] == ["2026-03-01T00:25:00Z"]
    assert run.deactivations[0]["condition_since"] == "2026-03-01T00:15:00Z"


def test_zero_minutes_detects_at_the_first_instant():
    grid = TimeGrid.from_span(START, "30m", "5m")
    speed = np.zeros((grid.count, 1))
    speed[3:, 0] = 120.0
    run = run_policy(_engine(0), ["T0"], grid, *KYIV, speed_kmh=speed)
    assert [d["detected_at"] for d in run.deactivations] == ["2026-03-01T00:15:00Z"]


def test_time_to_deactivation_counts_from_the_first_use_attempt():
    """A drone denied from the start (SPEED_CAP) is never allowed; the metric still counts
    from its first attempt: 10 min to detection + 30 min delay = 2,400 s."""
    grid = TimeGrid.from_span(START, "2h", "5m")
    run = run_policy(_engine(10, delay=30), ["T0", "T1"], grid, *KYIV,
                     speed_kmh=np.array([120.0, 120.0]))
    m = enforcement(run, ["unauthorized", "unauthorized"])
    assert m["time_to_deactivation_s"]["median"] == 2400.0
    assert m["time_to_detection_s"]["median"] == 600.0
    assert m["time_to_deactivation_s"]["deactivated"] == 2
    # denied for SPEED_CAP at every instant, deactivated for the last 80 of 120 min
    by = m["denied_by_reason"]["unauthorized"]
    assert by["SPEED_CAP"] == 1.0
    assert by["TERMINAL_DEACTIVATED"] == pytest.approx((grid.ns >= parse_time(START) + 40 * MIN
                                                        ).mean())


def test_collateral_is_broken_down_by_reason():
    doc = PolicyFile.model_validate({
        "terminals": [{"id": "A", "plan": "residential", "actual_user": "civilian"},
                      {"id": "B", "plan": "residential", "actual_user": "civilian",
                       "whitelisted": ["UA"]}],
        "policy": {"log": [
            {"id": "wl", "requested_at": "2026-03-01T00:30:00Z", "requested_by": "x",
             "decided_by": "y", "decision": "granted",
             "change": {"whitelist": {"region": "UA"}}}]}})
    grid = TimeGrid.from_span(START, "1h", "10m")
    run = run_policy(PolicyEngine(doc), ["A", "B"], grid, *KYIV,
                     speed_kmh=np.array([[0.0, 0.0]] * 3 + [[50.0, 0.0]] * 3))
    m = enforcement(run, ["civilian", "civilian"])
    by = m["denied_by_reason"]["civilian"]
    # A: not whitelisted at 00:30, 00:40, 00:50 (3 of 12 terminal-instants); moving on a
    # residential plan from 00:30 on (3 of 12)
    assert by == {"NOT_WHITELISTED": 3 / 12, "IN_MOTION_NOT_ALLOWED": 3 / 12}
    assert m["collateral_civilian"] == 3 / 12


@pytest.mark.parametrize("count, detected", [(5, True), (4, False)])
def test_a_cluster_of_exactly_min_terminals_is_detected(count, detected):
    """``cluster``: at least ``min_terminals`` within ``radius_km`` of each other."""
    doc = PolicyFile.model_validate({
        "terminals": [{"id": f"C{k}"} for k in range(count)],
        "policy": {"detection": [{"rule": "cluster", "minutes": 0, "min_terminals": 5,
                                  "radius_km": 5}]}})
    grid = TimeGrid.from_span(START, "10m", "5m")
    # within ~1.1 km of one another, around Kyiv
    lat = KYIV[0] + 0.01 * np.arange(count) / count
    lon = np.full(count, KYIV[1])
    run = run_policy(PolicyEngine(doc), [f"C{k}" for k in range(count)], grid, lat, lon)
    assert (len(run.deactivations) == count) is detected
    assert bool(run.deactivations) is detected
