"""Runs with terminals that move: speed caps and zones decided on real positions, the moving
sky, the cells a terminal drives through, clusters that form and dissolve, the same bytes on
every backend — each against a reference computed here without the run's code."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import h3.api.basic_int as h3i
import numpy as np
import pyarrow.parquet as pq
import pytest
import shapely
import yaml
from pyproj import Geod

from leotwin.errors import InputError
from leotwin.geodesy import enu_basis, geodetic_to_ecef
from leotwin.orbits import PropagationOptions, propagate
from leotwin.sim.assemble import assemble
from leotwin.sim.clusters import place_conditions
from leotwin.sim.load import load_scenario
from leotwin.sim.runner import run_scenario
from leotwin.timegrid.grid import NS_PER_S, parse_time

DATA = Path(__file__).parent / "data"
TABLES = ("coverage", "rtt", "decisions", "cells", "terminals", "policy_log")
# Kyiv → east ~10 km in 10 min (~60 km/h), then ~17 km in 10 min (~100 km/h), then parked
TRACK = """terminal_id,time,lat_deg,lon_deg
CAR,2026-02-09T23:40:00Z,50.45,30.52
CAR,2026-02-09T23:50:00Z,50.45,30.66045
CAR,2026-02-10T00:00:00Z,50.45,30.89454
"""


def _scenario(tmp_path: Path, name: str, edit) -> Path:
    doc = yaml.safe_load((DATA / "small-scenario.yaml").read_text())
    doc["outputs"] = {"positions": False, "report": False, "decisions": "instants"}
    edit(doc)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _with_car(doc, tmp_path):
    (tmp_path / "tracks.csv").write_text(TRACK)
    doc["ground"]["tracks"] = "tracks.csv"
    doc["terminals"].append({"id": "CAR", "plan": "roam", "actual_user": "authorized",
                             "lat": 50.45, "lon": 30.52, "whitelisted": ["UA"]})
    doc["time"]["step"] = "1m"


def test_a_tracked_terminal_is_capped_only_while_it_is_fast(tmp_path):
    """The 75 km/h cap denies the car exactly in the instants of its 100 km/h leg (from the
    CSV's times: 23:50 ≤ t < 00:00), and its positions are the track's."""
    run = tmp_path / "run"
    run_scenario(load_scenario(_scenario(tmp_path, "car", lambda d: _with_car(d, tmp_path))),
                 run)
    rows = pq.read_table(run / "decision_instants.parquet").to_pydict()
    car = [i for i, t in enumerate(rows["terminal_id"]) if t == "CAR"]
    t0 = parse_time("2026-02-09T23:50:00Z")
    t1 = parse_time("2026-02-10T00:00:00Z")
    lon = [30.52, 30.66045, 30.89454]
    legs = [Geod(ellps="WGS84").inv(a, 50.45, b, 50.45)[2] / 1000 * 6  # km per 10 min → km/h
            for a, b in pairwise(lon)]
    assert legs[0] < 75 < legs[1]
    for i in car:
        now = round(rows["time"][i].timestamp()) * NS_PER_S  # whole minutes
        capped = "SPEED_CAP" in rows["reasons"][i]
        assert capped == (t0 <= now < t1), rows["time"][i]
        want_speed = 0.0 if now >= t1 else (legs[1] if now >= t0 else legs[0])
        assert rows["speed_kmh"][i] == pytest.approx(want_speed, rel=0.006)
    last = car[-1]
    assert rows["lon_deg"][last] == pytest.approx(30.89454)
    terms = pq.read_table(run / "terminals.parquet").to_pydict()
    j = terms["terminal_id"].index("CAR")
    assert terms["motion"][j] == "track" and terms["geometry"][j] == "moving"


def test_the_moving_sky_is_the_sky_at_each_instants_position(tmp_path):
    """``satellite_in_view`` of every moving terminal at every instant against the textbook
    elevation of every satellite from where it stands then (brute force over all)."""
    def edit(doc):
        _with_car(doc, tmp_path)
        doc["ground"]["min_elevation_deg"] = 55  # so that view comes and goes

    path = _scenario(tmp_path, "sky", edit)
    run = tmp_path / "run"
    loaded = load_scenario(path)
    run_scenario(loaded, run)
    rows = pq.read_table(run / "decision_instants.parquet").to_pydict()
    inputs = assemble(loaded)
    grid = loaded.grid()
    eph = propagate(inputs.sats, grid, PropagationOptions(geodetic=False))
    movers = inputs.movers
    ids = [t.id for t in inputs.terminals]
    lat, lon, alt, _ = movers.at(grid.ns)
    k = len(ids)
    seen = []
    for c, j in enumerate(movers.terminals):
        for t in range(grid.count):
            site = geodetic_to_ecef(lat[t, c], lon[t, c], alt[t, c])
            up = enu_basis(lat[t, c], lon[t, c])[2]
            rho = eph.r_km[:, t] - site
            el = np.degrees(np.arcsin((rho @ up) / np.linalg.norm(rho, axis=1)))
            want = bool((el >= 55).any())
            got = rows["satellite_in_view"][t * k + j]
            assert rows["terminal_id"][t * k + j] == ids[j]
            assert got == want, (ids[j], t)
            seen.append(want)
    assert 0 < np.mean(seen) < 1


def test_cells_follow_a_moving_terminal(tmp_path):
    """The cells table counts each moving terminal's instants in the cell it is in at each
    instant (H3 at its per-instant position), and every terminal-instant once."""
    def edit(doc):
        doc["ground"]["populations"][1].update(speed_kmh=150, motion={"path": "straight"})
        doc["outputs"]["cells_every"] = "10m"

    run = tmp_path / "run"
    run_scenario(load_scenario(_scenario(tmp_path, "cells", edit)), run)
    rows = pq.read_table(run / "decision_instants.parquet").to_pydict()
    terms = pq.read_table(run / "terminals.parquet").to_pydict()
    user = dict(zip(terms["terminal_id"], terms["actual_user"], strict=True))
    times = sorted(set(rows["time"]))
    bin_of = {t: i // 5 for i, t in enumerate(times)}  # 2-min steps, 10-min bins
    want: dict = {}
    for t, tid, la, lo, ok in zip(rows["time"], rows["terminal_id"], rows["lat_deg"],
                                  rows["lon_deg"], rows["allowed"], strict=True):
        key = (bin_of[t], h3i.int_to_str(h3i.latlng_to_cell(la, lo, 5)), user[tid])
        n, a, who = want.get(key, (0, 0, set()))
        want[key] = (n + 1, a + ok, who | {tid})
    cells = pq.read_table(run / "cells.parquet").to_pydict()
    got = {}
    for t, c, u, n, a, m in zip(cells["time"], cells["h3_cell"], cells["actual_user"],
                                cells["terminal_instants"], cells["allowed"],
                                cells["terminals"], strict=True):
        got[(bin_of[t], c, u)] = (n, a, m)
    assert got == {k: (n, a, len(who)) for k, (n, a, who) in want.items()}
    moving = [t for t, m in zip(terms["terminal_id"], terms["motion"], strict=True)
              if m == "straight"]
    assert len(moving) == 10
    # at its speed at every instant, the window's last included (it does not stop there)
    speeds = [v for x, v in zip(rows["terminal_id"], rows["speed_kmh"], strict=True)
              if x in set(moving)]
    assert len(speeds) == 10 * len(times) and np.allclose(speeds, 150.0, rtol=1e-9)
    # they did change cells
    crossed = {tid for tid in moving
               if len({h3i.latlng_to_cell(la, lo, 5) for x, la, lo in zip(
                   rows["terminal_id"], rows["lat_deg"], rows["lon_deg"], strict=True)
                   if x == tid}) > 1}
    assert crossed == set(moving)
    assert None in cells["actual_user"] or all(u for u in cells["actual_user"])


def test_clusters_of_moving_terminals_against_pairwise_distances(tmp_path):
    """The reduce step with movers: at every instant, each terminal's cluster condition equals
    a count of all terminals within the radius (chord, by brute force) inside the zone."""
    def edit(doc):
        doc["policy"]["detection"].append(
            {"rule": "cluster", "zone": "zone_a", "radius_km": 60, "min_terminals": 3,
             "minutes": 2, "delay_minutes": 2})
        doc["ground"]["populations"][1].update(speed_kmh=200, count=15, mode="clustered",
                                               centers=[[48.0, 37.5]], spread_km=40)

    loaded = load_scenario(_scenario(tmp_path, "cl", edit))
    inputs = assemble(loaded)
    grid = loaded.grid()
    ids = [t.id for t in inputs.terminals]
    timelines = place_conditions(inputs.engine, inputs.lat, inputs.lon, ids, inputs.movers,
                                 grid.ns)
    (timeline,) = timelines.values()
    zone = shapely.Polygon(loaded.scenario.regions["zone_a"].polygon)
    lat, lon, _, _ = inputs.movers.at(grid.ns)
    flips = 0
    for t in range(grid.count):
        la, lo = inputs.lat.copy(), inputs.lon.copy()
        la[inputs.movers.terminals], lo[inputs.movers.terminals] = lat[t], lon[t]
        inside = shapely.intersects_xy(zone, lo, la)
        xyz = geodetic_to_ecef(la, lo, 0 * la)
        d = np.linalg.norm(xyz[:, None] - xyz[None, :], axis=-1)
        count = ((d <= 60) & inside[None, :]).sum(axis=1)
        want = inside & (count >= 3)
        got = timeline.at(t)
        assert np.array_equal(got, want), t
        flips += int((got != timeline.at(0)).sum())
    assert flips > 0  # the clusters changed as the terminals moved
    run_scenario(loaded, tmp_path / "one", shard_terminals=10_000)
    run_scenario(loaded, tmp_path / "many", shard_terminals=4, backend="process", workers=2)
    for table in TABLES:
        a = pq.read_table(tmp_path / "one" / f"{table}.parquet")
        assert a.equals(pq.read_table(tmp_path / "many" / f"{table}.parquet")), table


def test_a_routed_terminal_that_moves_is_routed_from_where_it_is(tmp_path):
    """At each slot start the moving routed terminal's RTT equals that of a fixed terminal
    standing where it is then (a run of its own per instant, brute force)."""
    def edit(doc):
        _with_car(doc, tmp_path)
        doc["network"]["rtt_terminals"] = ["CAR"]

    loaded = load_scenario(_scenario(tmp_path, "routed", edit))
    run_scenario(loaded, tmp_path / "run")
    rtt = pq.read_table(tmp_path / "run" / "rtt.parquet").to_pydict()
    inputs = assemble(loaded)
    lat, lon, _, _ = inputs.movers.at(loaded.grid().ns)
    c = list(inputs.movers.terminals).index([t.id for t in inputs.terminals].index("CAR"))
    for t in (0, 10, 19):
        def fixed(doc, t=t):
            _with_car(doc, tmp_path)
            doc["ground"].pop("tracks")
            doc["network"]["rtt_terminals"] = ["CAR"]
            doc["terminals"][-1].update(lat=float(lat[t, c]), lon=float(lon[t, c]))
            doc["time"].update(start=str(np.datetime64(int(loaded.grid().ns[t]), "ns")) + "Z",
                               duration="2m")
        still = tmp_path / f"still{t}"
        run_scenario(load_scenario(_scenario(tmp_path, f"still{t}", fixed)), still)
        want = pq.read_table(still / "rtt.parquet").to_pydict()
        assert rtt["rtt_ms"][t] == pytest.approx(want["rtt_ms"][0], abs=1e-9)
        assert rtt["serving_sat"][t] == want["serving_sat"][0]


@pytest.mark.parametrize("edit, field", [
    (lambda d: d["ground"].update(tracks="missing.csv"), "ground.tracks"),
    (lambda d: d["ground"]["populations"][1].update(motion={"path": "zigzag"}),
     "ground.populations.1.motion.path"),
    (lambda d: d["ground"]["populations"][1].update(motion={"stay_in": "Atlantis"}),
     "ground.populations.1.motion.stay_in"),
    (lambda d: d["terminals"][0].update(motion={"radius_km": -1}),
     "terminals.0.motion.radius_km"),
])
def test_bad_motion_is_one_clear_error(tmp_path, edit, field):
    with pytest.raises(InputError) as err:
        load_scenario(_scenario(tmp_path, "bad", edit))
    assert err.value.field == field


def test_a_track_of_an_unknown_terminal_is_refused(tmp_path):
    def edit(doc):
        _with_car(doc, tmp_path)
        doc["terminals"].pop()

    loaded = load_scenario(_scenario(tmp_path, "ghost", edit))
    with pytest.raises(InputError, match="terminal 'CAR' of the tracks is not among"):
        run_scenario(loaded, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_polygon_lost_at_the_antimeridian_is_refused(tmp_path):
    """A zone whose edge spans more than 180° of longitude would split into nothing: one
    clear error instead of an empty region."""
    def edit(doc):
        doc["regions"]["world"] = {"polygon": [[-180, -60], [180, -60], [180, 60], [-180, 60],
                                               [-180, -60]]}

    with pytest.raises(InputError, match="no area once split at the antimeridian") as err:
        load_scenario(_scenario(tmp_path, "world", edit))
    assert err.value.field == "regions.world.polygon"


def test_mover_blocks_do_not_change_the_tables(tmp_path, monkeypatch):
    """Moving terminals placed a few instants at a time (as a million of them are), and the
    cells table counted a few terminals at a time, give the tables of one block."""
    import leotwin.export.decisions as decisions
    import leotwin.sim.chunks as chunks
    import leotwin.sim.clusters as clusters

    def edit(doc):
        _with_car(doc, tmp_path)
        doc["network"]["rtt_terminals"] = ["CAR", "KYIV"]
        doc["policy"]["detection"].append(
            {"rule": "cluster", "zone": "zone_a", "radius_km": 60, "min_terminals": 3,
             "minutes": 2, "delay_minutes": 2})

    loaded = load_scenario(_scenario(tmp_path, "blocks", edit))
    run_scenario(loaded, tmp_path / "one")
    monkeypatch.setattr(chunks, "MOVER_ELEMENTS", 7)
    monkeypatch.setattr(clusters, "MOVER_ELEMENTS", 7)
    monkeypatch.setattr(decisions, "CELL_TERMINALS", 3)  # the cells table, 3 at a time
    run_scenario(loaded, tmp_path / "many")
    for table in (*TABLES, "decision_instants"):
        a = pq.read_table(tmp_path / "one" / f"{table}.parquet")
        assert a.equals(pq.read_table(tmp_path / "many" / f"{table}.parquet")), table


def test_terminals_in_row_groups_are_the_same_table(tmp_path, monkeypatch):
    """``terminals.parquet`` written a few rows at a time holds the one table."""
    import leotwin.export.results as results

    loaded = load_scenario(_scenario(tmp_path, "rows", lambda doc: None))
    run_scenario(loaded, tmp_path / "one")
    monkeypatch.setattr(results, "TERMINAL_ROWS", 4)
    run_scenario(loaded, tmp_path / "many")
    a = pq.read_table(tmp_path / "one" / "terminals.parquet")
    b = pq.read_table(tmp_path / "many" / "terminals.parquet")
    assert a.equals(b) and pq.ParquetFile(tmp_path / "many" / "terminals.parquet"
                                          ).num_row_groups > 5
