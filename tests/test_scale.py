"""What makes big runs possible, checked against the plain way: decision intervals against
every instant, shards against one pass, per-cell geometry against per-terminal geometry."""

from __future__ import annotations

import json
from pathlib import Path

import h3.api.basic_int as h3i
import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from leotwin.policy.intervals import DecisionIntervals
from leotwin.policy.reasons import Reason
from leotwin.policy.run import enforcement
from leotwin.sim.load import load_scenario
from leotwin.sim.runner import run_scenario

DATA = Path(__file__).parent / "data"
TABLES = ("coverage", "rtt", "decisions", "cells", "terminals", "policy_log")


def _dense_run(seed: int, n_t: int, k: int):
    rng = np.random.default_rng(seed)
    # runs of equal values, as decisions have: change at a few instants only
    reasons = np.zeros((n_t, k), np.uint32)
    for j in range(k):
        t = 0
        while t < n_t:
            n = int(rng.integers(1, max(2, n_t // 3)))
            reasons[t:t + n, j] = rng.choice([0, 0, 1 << 5, 1 << 6, (1 << 5) | (1 << 12)])
            t += n
    in_view = (reasons & (1 << 12)) == 0
    return reasons == 0, reasons, in_view


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), n_t=st.integers(1, 40), k=st.integers(1, 30))
def test_intervals_hold_every_instant(seed, n_t, k):
    """Property: the intervals of any run give back every instant's decision, tile each
    terminal's window without gap or overlap, and are fewer rows than instants × terminals
    when decisions repeat."""
    allowed, reasons, view = _dense_run(seed, n_t, k)
    iv = DecisionIntervals.from_dense(allowed, reasons, view)
    a, r, v = iv.at(0, n_t)
    assert np.array_equal(a, allowed) and np.array_equal(r, reasons) and np.array_equal(v, view)
    assert np.array_equal(np.bincount(iv.terminal, weights=iv.length, minlength=k),
                          np.full(k, n_t))
    for j in range(k):
        rows = iv.terminal == j
        assert iv.first[rows][0] == 0 and iv.end[rows][-1] == n_t
        assert np.array_equal(iv.first[rows][1:], iv.end[rows][:-1])
        # a new row only where the decision changed
        changes = 1 + int((np.diff(reasons[:, j].astype(np.int64)) != 0).sum())
        assert rows.sum() == changes


@pytest.mark.parametrize("seed", [3, 4])
def test_enforcement_from_intervals_equals_counting_every_instant(seed):
    """The enforcement figures counted from intervals equal those counted over the (T, K)
    arrays by the definitions (docs/policy.md § "Enforcement metrics"), written out here."""
    n_t, k = 37, 25
    allowed, reasons, _ = _dense_run(seed, n_t, k)
    labels = np.random.default_rng(seed).choice(["authorized", "civilian", "unauthorized"], k)
    ids = [f"T{j}" for j in range(k)]
    got = enforcement(DecisionIntervals.from_dense(allowed, reasons), labels, terminal_ids=ids,
                      deactivations=[], first_ns=0)
    denied = ~allowed
    for cls, key in (("unauthorized", "unauthorized_blocked"),
                     ("authorized", "collateral_authorized"), ("civilian", "collateral_civilian")):
        sel = labels == cls
        assert got[key] == denied[:, sel].mean()
        assert got[f"{key}_over_time"] == denied[:, sel].mean(axis=1).tolist()
        want = {r.name: ((reasons[:, sel] & np.uint32(r)) != 0).mean() for r in Reason}
        assert got["denied_by_reason"][cls] == {n: v for n, v in want.items() if v > 0}
    unauth = labels == "unauthorized"
    assert got["time_to_deactivation_s"]["used_and_never_deactivated"] == int(
        allowed[:, unauth].any(axis=0).sum())


def _scenario(tmp_path: Path, name: str, edit) -> Path:
    doc = yaml.safe_load((DATA / "small-scenario.yaml").read_text())
    doc["outputs"] = {"positions": False, "report": False}
    edit(doc)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _tables(run: Path) -> dict:
    return {t: pq.read_table(run / f"{t}.parquet") for t in TABLES}


def test_shards_give_the_same_bytes_as_one_pass_with_a_cluster_rule(tmp_path):
    """Shards of 3 terminals (serial and 2 processes) against one shard of all: identical
    tables, with a cluster rule that needs more terminals than a shard holds — its condition
    is reduced over all terminals before the shards run."""
    def edit(doc):
        doc["policy"]["detection"].append(
            {"rule": "cluster", "zone": "zone_a", "radius_km": 400, "min_terminals": 5,
             "minutes": 2, "delay_minutes": 2})
        doc["ground"]["populations"][1]["speed_kmh"] = 0  # detected by the cluster rule only

    loaded = load_scenario(_scenario(tmp_path, "cluster", edit))
    run_scenario(loaded, tmp_path / "one", shard_terminals=10_000)
    run_scenario(loaded, tmp_path / "many", shard_terminals=3)
    run_scenario(loaded, tmp_path / "proc", shard_terminals=3, backend="process", workers=2)
    one = _tables(tmp_path / "one")
    log = one["policy_log"].to_pydict()
    assert log["origin"].count("detection") >= 5  # the cluster rule fired
    for other in ("many", "proc"):
        got = _tables(tmp_path / other)
        for t in TABLES:
            assert one[t].equals(got[t]), (t, other)


def _at_centres(doc):
    """Every terminal at the centre of its res-5 cell, several to a cell."""
    doc["ground"]["populations"] = []
    doc["policy"]["detection"] = []
    doc["network"]["rtt_terminals"] = []
    cells = [h3i.latlng_to_cell(lat, lon, 5) for lat, lon in
             ((50.45, 30.52), (49.84, 24.03), (48.0, 37.8), (46.48, 30.72))]
    doc["terminals"] = [
        {"id": f"C{c}-{j}", "plan": "residential", "actual_user": "civilian",
         "lat": h3i.cell_to_latlng(cell)[0], "lon": h3i.cell_to_latlng(cell)[1],
         "whitelisted": ["UA"] if j % 2 else []}
        for c, cell in enumerate(cells) for j in range(5)]


@pytest.mark.parametrize("mask, isl", [(25, "plus-grid"), (60, "plus-grid"), (25, "none")])
def test_per_cell_and_per_terminal_geometry_agree_where_they_must(tmp_path, mask, isl):
    """Fixed terminals standing at their cell's centre: the cell's sky is theirs, so both
    modes give the same decisions (satellite in view and path to the gateway included, at a
    60° mask and without ISLs where those are often missing)."""
    def edit(doc):
        _at_centres(doc)
        doc["ground"]["min_elevation_deg"] = mask
        doc["network"]["isl"] = isl
        doc["time"]["duration"] = "60m"

    runs = {}
    for mode in ("cell", "terminal"):
        def mode_edit(doc, mode=mode):
            edit(doc)
            doc["network"]["geometry"] = mode
        runs[mode] = tmp_path / mode
        run_scenario(load_scenario(_scenario(tmp_path, mode, mode_edit)), runs[mode])
    cell, term = _tables(runs["cell"]), _tables(runs["terminal"])
    assert cell["decisions"].equals(term["decisions"]) and cell["cells"].equals(term["cells"])
    assert set(cell["terminals"].column("geometry").to_pylist()) == {"cell"}
    assert set(term["terminals"].column("geometry").to_pylist()) == {"terminal"}
    s = json.loads((runs["cell"] / "summary.json").read_text())
    assert s["geometry"]["sites"] == 4 and s["geometry"]["terminals_per_cell"] == 20
    if mask == 60 or isl == "none":  # the network's answers are exercised
        reasons = set(cell["decisions"].column("reasons").to_pylist())
        assert any("NO_" in r for r in reasons)


def test_the_cells_table_counts_every_terminal_instant(tmp_path):
    """Per cell × hour × class: the terminal-instants add up to terminals × instants, and the
    allowed ones to the summary's allowed fraction; 15-minute bins hold the same totals."""
    def edit(doc):  # fixed terminals (moving ones: tests/test_moving_runs.py)
        doc["outputs"]["cells_every"] = "15m"
        doc["ground"]["populations"][1]["motion"] = {"path": "fixed"}

    run = tmp_path / "run"
    run_scenario(load_scenario(_scenario(tmp_path, "bins", edit)), run)
    cells = pq.read_table(run / "cells.parquet").to_pydict()
    s = json.loads((run / "summary.json").read_text())
    total = s["terminals"] * s["instants"]
    assert sum(cells["terminal_instants"]) == total
    assert sum(cells["allowed"]) + sum(cells["denied"]) == total
    assert sum(cells["allowed"]) / total == pytest.approx(s["decisions"]["allowed_fraction"],
                                                          abs=1e-15)
    assert len(set(cells["time"])) == 3  # 40 min in 15-min bins
    terms = pq.read_table(run / "terminals.parquet").to_pydict()
    per_cell = {}
    for c, u in zip(terms["h3_cell"], terms["actual_user"], strict=True):
        per_cell[(c, u)] = per_cell.get((c, u), 0) + 1
    for t, c, u, n in zip(cells["time"], cells["h3_cell"], cells["actual_user"],
                          cells["terminals"], strict=True):
        assert per_cell[(c, u)] == n, t
    speed = sum(cells["denied_SPEED_CAP"])
    assert speed > 0 and speed <= sum(cells["denied"])


def test_a_run_on_an_existing_dask_scheduler_gives_the_serial_bytes(tmp_path):
    """``--dask-scheduler ADDRESS``: both passes run on a cluster the run did not start (a
    ``LocalCluster`` here, reached by its address), in shards of 7 terminals: serial bytes."""
    from dask.distributed import LocalCluster

    loaded = load_scenario(_scenario(tmp_path, "remote", lambda doc: None))
    run_scenario(loaded, tmp_path / "serial")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        run_scenario(loaded, tmp_path / "remote", backend="dask",
                     scheduler=cluster.scheduler_address, shard_terminals=7)
        assert len(cluster.workers) == 2  # still up: the run closed only its client
    one, got = _tables(tmp_path / "serial"), _tables(tmp_path / "remote")
    for t in TABLES:
        assert one[t].equals(got[t]), t


def test_the_world_example_denies_exactly_taiwan_and_crimea(tmp_path):
    """``world-2026`` shortened (2,000 terminals, 2 minutes): the run completes on the
    9,448-satellite fleet, and a terminal is denied REGION_INACTIVE exactly where it stands in
    Taiwan or in the Crimea polygon (shapely on the source polygons, not the engine)."""
    import shapely

    from leotwin.data import builtin_scenarios
    from leotwin.ground.regions import countries

    doc = yaml.safe_load(builtin_scenarios()["world-2026"].read_text())
    doc["ground"]["populations"][0]["count"] = 2000
    doc["time"]["duration"] = "2m"
    doc["outputs"] = {"report": False}
    path = tmp_path / "world.yaml"
    path.write_text(yaml.safe_dump(doc))
    run = tmp_path / "run"
    s = run_scenario(load_scenario(path), run)
    assert s["satellites"] == 9448 and s["terminals"] == 2003
    terms = pq.read_table(run / "terminals.parquet").to_pydict()
    dec = pq.read_table(run / "decisions.parquet").to_pydict()
    inactive = {t for t, r in zip(dec["terminal_id"], dec["reasons"], strict=True)
                if "REGION_INACTIVE" in r}
    taiwan = countries().by_code("TW").geometry
    crimea = shapely.Polygon(doc["regions"]["crimea"]["polygon"])
    lon, lat = np.array(terms["lon_deg"]), np.array(terms["lat_deg"])
    want = shapely.intersects_xy(taiwan, lon, lat) | shapely.intersects_xy(crimea, lon, lat)
    assert want.sum() > 0
    assert inactive == {t for t, w in zip(terms["terminal_id"], want, strict=True) if w}
    assert all(dec["satellite_in_view"])
