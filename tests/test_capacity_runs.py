"""Runs with a capacity section: capacity.parquet against the per-instant decisions and a
demand computed here (zoneinfo, the documented diurnal table), strict priority in a congested
cell, the same bytes on every backend, and bad capacity sections as one clear error."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import h3
import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from timezonefinder import TimezoneFinder

from leotwin.errors import InputError
from leotwin.sim.load import load_scenario
from leotwin.sim.runner import run_scenario
from leotwin.traffic.demand import DIURNAL, PLANS

DATA = Path(__file__).parent / "data"


def _scenario(tmp_path: Path, name: str, edit=None) -> Path:
    doc = yaml.safe_load((DATA / "small-scenario.yaml").read_text())
    doc["outputs"] = {"positions": False, "report": False, "decisions": "instants"}
    doc["capacity"] = {}
    if edit is not None:
        edit(doc)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _diurnal(hour: float) -> float:
    """The documented profile: 1 from 18 to 21 h, else the hourly values at mid-hour,
    linearly between them (written again here, not imported)."""
    if 18 <= hour < 21:
        return 1.0
    x = [h + 0.5 for h in range(-1, 25)]
    y = [DIURNAL[-1], *DIURNAL, DIURNAL[0]]
    return float(np.interp(hour, x, y))


def test_capacity_rows_add_up_against_the_decisions(tmp_path):
    """Every cell with allowed terminals at every slot, their count and demand from the
    per-instant decisions; nothing above a supply or a demand; an idle network carries every
    demand; a terminal denied throughout carries nothing."""
    def cars(doc):  # allowed movers (roam below the cap, registered): their cells change
        doc["ground"]["populations"].append(
            {"region": "UA", "count": 12, "prefix": "CAR-", "plan": "roam", "speed_kmh": 70,
             "actual_user": "authorized", "registered_fraction": 1.0})

    run = tmp_path / "run"
    run_scenario(load_scenario(_scenario(tmp_path, "cap", cars)), run)
    cap = pq.read_table(run / "capacity.parquet").to_pylist()
    inst = pq.read_table(run / "decision_instants.parquet").to_pylist()
    plans = {r["terminal_id"]: r["plan"] for r in
             pq.read_table(run / "terminals.parquet").to_pylist()}
    finder = TimezoneFinder()
    want: dict = {}
    for r in inst:
        if not r["allowed"]:
            continue
        cell = h3.latlng_to_cell(r["lat_deg"], r["lon_deg"], 5)
        lat, lon = h3.cell_to_latlng(cell)  # the cell's centre, and its time zone
        local = r["time"].astimezone(ZoneInfo(finder.timezone_at(lat=lat, lng=lon)))
        factor = _diurnal(local.hour + local.minute / 60)
        key = (r["time"], cell)
        n, d = want.get(key, (0, 0.0))
        want[key] = (n + 1, d + PLANS[plans[r["terminal_id"]]].down_mbps * factor)
    got = {(r["time"], r["h3_cell"]): r for r in cap}
    assert set(got) == set(want)
    for key, (n, d) in want.items():
        row = got[key]
        assert row["terminals"] == n
        assert row["demand_down_mbps"] == pytest.approx(d, rel=1e-12)
        assert row["allocated_down_mbps"] <= row["supply_down_mbps"] * (1 + 1e-9)
        assert row["allocated_down_mbps"] <= row["demand_down_mbps"] * (1 + 1e-12)
        if row["serving_sat"] is not None:  # idle: all carried
            assert row["allocated_down_mbps"] == pytest.approx(d, rel=1e-9)
            assert row["bottleneck_down"] is None
    car_cells = {h3.latlng_to_cell(r["lat_deg"], r["lon_deg"], 5) for r in inst
                 if r["terminal_id"].startswith("CAR-") and r["allowed"]}
    assert len(car_cells) > 12  # the cars changed cells while allowed
    terms = pq.read_table(run / "terminals.parquet").to_pylist()
    never = [t for t in terms if t["allowed_fraction"] == 0]
    assert never and all(t["throughput_down_mbps"] is None for t in never)
    summary = yaml.safe_load((run / "summary.json").read_text())
    assert summary["capacity"]["instants"] == len({r["time"] for r in inst})
    assert summary["capacity"]["enforcement"]["unauthorized_demand_blocked_mbps"] > 0


def test_strict_priority_in_a_congested_cell(tmp_path):
    """Three terminals in one cell asking far more than its one channel: the government
    terminal takes the cell's whole supply; roam and residential lite get nothing."""
    def edit(doc):
        doc["ground"]["populations"] = []
        doc["policy"]["log"] = []
        doc["policy"]["plans"] = {"residential-lite": {"in_motion": False}}
        doc["terminals"] = [
            {"id": f"T{k}", "plan": plan, "lat": 50.45, "lon": 30.52, "actual_user": "civilian"}
            for k, plan in enumerate(("government", "roam", "residential-lite"))]
        doc["network"]["rtt_terminals"] = []
        doc["capacity"] = {"profile": "cosmosim-0.956", "max_channels_per_cell": 1,
                           "plans": {p: {"down_mbps": 5000, "up_mbps": 10, "peak_mbps": 6000,
                                         "peak_up_mbps": 20, "tier": t}
                                     for p, t in (("government", 0), ("roam", 2),
                                                  ("residential-lite", 3))}}

    run = tmp_path / "run"
    run_scenario(load_scenario(_scenario(tmp_path, "tiers", edit)), run)
    rows = [r for r in pq.read_table(run / "capacity.parquet").to_pylist()
            if r["serving_sat"] is not None]
    assert rows
    for r in rows:
        assert r["bottleneck_down"] == "cell"
        assert r["allocated_down_priority_mbps"] == pytest.approx(r["supply_down_mbps"])
        assert r["allocated_down_roam_mbps"] == 0 and r["allocated_down_lite_mbps"] == 0
        assert r["supply_down_mbps"] <= 956.0 + 1e-9
    terms = {t["terminal_id"]: t for t in pq.read_table(run / "terminals.parquet").to_pylist()}
    assert terms["T0"]["throughput_down_mbps"] > 0
    assert terms["T1"]["throughput_down_mbps"] == 0 == terms["T2"]["throughput_down_mbps"]
    assert terms["T1"]["unmet_down_share"] == 1.0


def test_capacity_is_the_same_on_every_backend(tmp_path):
    loaded = load_scenario(_scenario(tmp_path, "b"))
    run_scenario(loaded, tmp_path / "serial")
    run_scenario(loaded, tmp_path / "process", backend="process", workers=2)
    for name in ("capacity", "terminals"):
        a = pq.read_table(tmp_path / "serial" / f"{name}.parquet")
        b = pq.read_table(tmp_path / "process" / f"{name}.parquet")
        assert a.equals(b), name


def test_a_run_without_capacity_has_no_capacity_outputs(tmp_path):
    run = tmp_path / "run"
    run_scenario(load_scenario(_scenario(tmp_path, "none", lambda d: d.pop("capacity"))), run)
    assert not (run / "capacity.parquet").exists()
    assert "throughput_down_mbps" not in pq.read_schema(run / "terminals.parquet").names
    assert "capacity" not in yaml.safe_load((run / "summary.json").read_text())


@pytest.mark.parametrize("section, field", [
    ({"profile": "v9"}, "capacity.profile"),
    ({"profiles_by_shell": {"0": "v9"}}, "capacity.profiles_by_shell.0"),
    ({"plans": {"gold": {"down_mbps": 1, "up_mbps": 1, "peak_mbps": 1, "peak_up_mbps": 1,
                         "tier": 1}}}, "capacity.plans.gold"),
    ({"every": "0s"}, "capacity.every"),
    ({"max_channels_per_cell": 0}, "capacity.max_channels_per_cell"),
    ({"plans": {"roam": {"down_mbps": 1, "up_mbps": 1, "peak_mbps": 1, "peak_up_mbps": 1,
                         "tier": 9}}}, "capacity.plans.roam.tier"),
])
def test_bad_capacity_section_is_one_clear_error(tmp_path, section, field):
    with pytest.raises(InputError) as err:
        load_scenario(_scenario(tmp_path, "bad", lambda d: d.update(capacity=section)))
    assert err.value.field == field


def test_local_time_of_the_window():
    """The window of the small scenario is at night in Kyiv (01:40–02:20 EET)."""
    t = datetime(2026, 2, 9, 23, 40, tzinfo=UTC).astimezone(ZoneInfo("Europe/Kyiv"))
    assert (t.hour, t.minute) == (1, 40)


def test_interval_walker_reads_what_at_reads():
    """The pointer walk over decision rows gives at each instant what the search gives."""
    from leotwin.policy.intervals import DecisionIntervals

    rng = np.random.default_rng(5)
    allowed = rng.random((60, 40)) < 0.6
    allowed[:, :5] = allowed[:1, :5]  # some terminals never change
    iv = DecisionIntervals.from_dense(allowed, np.zeros((60, 40), np.uint32))
    walker = iv.walker()
    for t in sorted(rng.choice(60, 25, replace=False).tolist()):
        np.testing.assert_array_equal(walker.allowed(t), iv.at(t, t + 1)[0][0])
    with pytest.raises(ValueError):
        walker.allowed(0)


def test_the_whitelist_frees_front_line_capacity_for_the_units(tmp_path):
    """ukraine-2026-capacity: units and unregistered users share congested front cells until
    the whitelist (10 Feb 00:00 UTC); then the units' unmet demand nearly vanishes."""
    loaded = load_scenario("ukraine-2026-capacity").with_window(
        start="2026-02-09T23:30:00Z", duration="1h")
    summary = run_scenario(loaded, tmp_path / "run", report=False)
    before, after = summary["capacity"]["phases"]
    assert after["from"] == "2026-02-10T00:00:00Z"
    units_before, units_after = (p["by_class"]["authorized"] for p in (before, after))
    assert units_before["unmet_down_share"] > 0.2 > 0.1 > units_after["unmet_down_share"]
    assert units_after["throughput_down_mbps"] > units_before["throughput_down_mbps"]
    assert before["by_class"]["unauthorized"]["carried_down_mbps"] > 0
    assert after["by_class"]["unauthorized"]["carried_down_mbps"] == 0
    assert after["by_class"]["unauthorized"]["blocked_demand_down_mbps"] > 0
    # the report shows the phases, with the units' unmet share before and after
    from leotwin.analysis.report import write_report

    page = write_report(tmp_path / "run").read_text()
    assert "<h2>Capacity</h2>" in page and "id='capacity-phases'" in page
    for share in (units_before["unmet_down_share"], units_after["unmet_down_share"]):
        assert "<td>authorized</td><td>" in page and f"{100 * share:.1f} %" in page
