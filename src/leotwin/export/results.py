"""The tables of a results directory (``leotwin run``): each schema declared once, and writers.

Columns, units and frames are documented in ``docs/reference/outputs.md``; the schemas here are
the contract.  Every writer writes into a folder that the caller publishes atomically
(``io.atomic.atomic_directory``), so a reader never sees a partial table.

==================  ==========================================================================
table               one row per
==================  ==========================================================================
coverage            region and H3 cell: coverage over the window, policy status at its end
decisions           (``export.decisions``) terminal and run of instants with one decision
terminals           terminal: registry attributes, allowed fraction, detection deactivation
rtt                 routed terminal and instant: RTT to its PoP, hops, gateway, path
policy_log          log entry: the scenario's (granted and refused) and detection's
positions           satellite and instant (``export.positions``), when asked for
==================  ==========================================================================
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from leotwin.io.atomic import write_parquet

UTC_NS = pa.timestamp("ns", tz="UTC")
#: separator of node ids in the ``path`` column of the rtt table
PATH_SEPARATOR = "-"

COVERAGE = pa.schema([
    ("region", pa.string()), ("h3_cell", pa.string()), ("lat_deg", pa.float64()),
    ("lon_deg", pa.float64()), ("covered_fraction", pa.float64()),
    ("mean_visible", pa.float64()), ("min_visible", pa.int32()), ("max_visible", pa.int32()),
    ("max_gap_s", pa.float64()), ("status_at_end", pa.string()),
])
TERMINALS = pa.schema([
    ("terminal_id", pa.string()), ("account", pa.string()), ("plan", pa.string()),
    ("home_country", pa.string()), ("actual_user", pa.string()), ("whitelisted", pa.string()),
    ("lat_deg", pa.float64()), ("lon_deg", pa.float64()), ("speed_kmh", pa.float64()),
    ("allowed_fraction", pa.float64()), ("deactivated_at", UTC_NS),
    ("h3_cell", pa.string()), ("geometry", pa.string()), ("motion", pa.string()),
])
RTT = pa.schema([
    ("time", UTC_NS), ("terminal_id", pa.string()), ("pop", pa.string()),
    ("rtt_ms", pa.float64()), ("hops", pa.int32()), ("gateway", pa.string()),
    ("serving_sat", pa.string()), ("path", pa.string()),
])
#: ``effective_at`` is when an entry took effect as granted, max(asked, decided);
#: ``requested_effective_at`` when it asked to (``policy.schema.LogEntry``); ``entry_kind`` is
#: ``change`` or ``correction`` (retroactive)
POLICY_LOG = pa.schema([
    *((name, pa.string()) for name in ("id", "requested_by", "decided_by", "decision",
                                       "reason", "change_kind", "change", "origin",
                                       "entry_kind")),
    ("requested_at", UTC_NS), ("decided_at", UTC_NS), ("effective_at", UTC_NS),
    ("requested_effective_at", UTC_NS), ("until", UTC_NS),
])


def _write(folder: Path, name: str, columns: dict, schema: pa.Schema) -> None:
    write_parquet(pa.table(columns, schema=schema), folder / f"{name}.parquet")


def write_coverage(folder: Path, parts: list[dict]) -> None:
    """``parts``: one dict of COVERAGE columns per region, in the scenario's order."""
    if parts:
        table = pa.concat_tables([pa.table(p, schema=COVERAGE) for p in parts])
    else:
        table = COVERAGE.empty_table()
    write_parquet(table, folder / "coverage.parquet")


#: terminals per row group of ``terminals.parquet`` (bounds the rows' Python objects)
TERMINAL_ROWS = 1 << 17


def write_terminals(folder: Path, terminals: list, speed_kmh: np.ndarray,
                    allowed_fraction: np.ndarray, deactivations: list[dict], sites=None,
                    movers=None, extra: tuple[pa.Schema, dict] | None = None) -> None:
    """``terminals``: the run's ``policy.schema.Terminal`` records; ``sites``: where their
    geometry was computed (``sim.sites.Sites``: each one's res-5 cell — a moving one's at the
    start — and ``cell``, ``terminal`` or ``moving``); ``movers``: the moving terminals
    (``ground.motion.Movers``: each one's ``motion``, the others' ``fixed``); ``extra``: more
    columns (a schema, and a (K,) array per name: NaN is written as null)."""
    import h3
    import pyarrow.parquet as pq

    deact = {d["terminal"]: d for d in deactivations}
    k = len(terminals)
    geometry = (np.where(sites.per_cell, "cell", "terminal").astype(object) if sites is not None
                else np.full(k, None, dtype=object))
    motion = np.full(k, "fixed", dtype=object)
    if movers is not None and len(movers):
        motion[movers.terminals] = movers.kinds
        if sites is not None:
            geometry[movers.terminals] = "moving"
    schema = TERMINALS if extra is None else pa.schema([*TERMINALS, *extra[0]])
    with open(folder / "terminals.parquet", "wb") as sink, \
            pq.ParquetWriter(sink, schema) as writer:  # a row group at a time
        for a in range(0, max(k, 1), TERMINAL_ROWS):
            part, sl = terminals[a:a + TERMINAL_ROWS], slice(a, a + TERMINAL_ROWS)
            cells = ([h3.int_to_str(int(c)) for c in sites.cell[sl]] if sites is not None
                     else [None] * len(part))
            writer.write_table(pa.table({
                "terminal_id": [t.id for t in part], "account": [t.account for t in part],
                "plan": [t.plan for t in part],
                "home_country": [t.home_country for t in part],
                "actual_user": [t.actual_user for t in part],
                "whitelisted": [",".join(t.whitelisted) for t in part],
                "lat_deg": [t.lat for t in part], "lon_deg": [t.lon for t in part],
                "speed_kmh": speed_kmh[sl], "allowed_fraction": allowed_fraction[sl],
                "deactivated_at": [deact[t.id]["effective_ns"] if t.id in deact else None
                                   for t in part],
                "h3_cell": cells, "geometry": geometry[sl].tolist(),
                "motion": motion[sl].tolist(),
                **({f.name: pa.array(extra[1][f.name][sl], f.type,
                                     mask=np.isnan(extra[1][f.name][sl]))
                    for f in extra[0]} if extra is not None else {}),
            }, schema=schema))


class RttRows:
    """Rows of the rtt table, added one routed instant at a time."""

    def __init__(self) -> None:
        self.rows: dict[str, list] = {name: [] for name in RTT.names}

    def add(self, now: int, ids: list[str], step, sats, access) -> None:
        """``step``: a ``network.access.AccessStep`` for the terminals ``ids`` of ``access``."""
        from leotwin.network.routing import rtt_ms

        rows = self.rows
        for j, tid in enumerate(ids):
            length = step.length_km[j]
            ok = np.isfinite(length)
            pop = access.pops.ids[access.pop_of[j]]
            rows["time"].append(now)
            rows["terminal_id"].append(tid)
            rows["pop"].append(pop)
            rows["rtt_ms"].append(float(rtt_ms(length)) if ok else float("nan"))
            rows["hops"].append(len(step.paths[j]) + 2 if ok else None)  # + up and gateway legs
            gw = int(step.gateway[j])
            rows["gateway"].append(access.gateways.ids[gw] if gw >= 0 else None)
            serving = int(step.serving[j])
            rows["serving_sat"].append(sats.ids[serving] if serving >= 0 else None)
            rows["path"].append(PATH_SEPARATOR.join(
                [tid, *(sats.ids[x] for x in step.paths[j]), access.gateways.ids[gw], pop])
                if ok and gw >= 0 else "")

    def extend(self, other: RttRows) -> None:
        """Append the rows of ``other`` (later instants)."""
        for name, values in other.rows.items():
            self.rows[name].extend(values)

    def rtt_ms(self) -> np.ndarray:
        return np.array(self.rows["rtt_ms"], dtype=float)

    def write(self, folder: Path) -> None:
        _write(folder, "rtt", self.rows, RTT)


def write_policy_log(folder: Path, log: list, deactivations: list[dict]) -> None:
    """The scenario's log entries (``policy.schema.LogEntry``, granted and refused) followed by
    the deactivations that detection rules decided during the run."""
    rows: dict[str, list] = {name: [] for name in POLICY_LOG.names}

    def add(**values) -> None:
        for key, value in values.items():
            rows[key].append(value)

    for e in log:
        add(id=e.id, requested_at=e.requested_at, decided_at=e.decided,
            effective_at=e.effective, requested_effective_at=e.requested_effective,
            until=e.until, requested_by=e.requested_by, decided_by=e.decided_by,
            decision=e.decision, reason=e.reason, change_kind=e.change.kind,
            change=json.dumps(e.change.model_dump(exclude_none=True, by_alias=True)),
            origin="scenario", entry_kind=e.kind)
    for d in deactivations:
        add(id=f"detect-{d['terminal']}",
            requested_at=d["detected_ns"], decided_at=d["detected_ns"],
            effective_at=d["effective_ns"], requested_effective_at=d["effective_ns"],
            until=None, requested_by=d["decided_by"], entry_kind="change",
            decided_by=d["decided_by"], decision="granted",
            reason=f"detected by rule '{d['rule']}'", change_kind="deactivate",
            change=json.dumps({"deactivate": {"terminal": d["terminal"]}}), origin="detection")
    _write(folder, "policy_log", rows, POLICY_LOG)


def write_regions(folder: Path, names: list[str], regions: list) -> None:
    """``regions.geojson``: the coverage regions' polygons (``ground.regions.Region``)."""
    from shapely.geometry import mapping

    (folder / "regions.geojson").write_text(json.dumps({
        "type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"kind": "region", "region": name,
                                               "name": r.name},
             "geometry": mapping(r.geometry)} for name, r in zip(names, regions, strict=True)]}))


class PositionsWriter:
    """``positions.parquet`` written chunk by chunk (ITRF positions and velocities)."""

    def __init__(self, folder: Path):
        self.path = folder / "positions.parquet"
        self.writer: pq.ParquetWriter | None = None
        self.sink: BinaryIO | None = None  # our own file: closed at once when a write fails

    def add(self, sats, grid, start: int, r: np.ndarray, v: np.ndarray) -> None:
        """States ``r``/``v`` (N, t, 3) of instants ``start …`` of ``grid``."""
        from leotwin.export.positions import ephemeris_table
        from leotwin.geodesy import ecef_to_geodetic
        from leotwin.orbits.kernel import Ephemeris

        sub = grid.block(start, start + r.shape[1])
        lat, lon, alt = ecef_to_geodetic(r[..., 0], r[..., 1], r[..., 2])
        err = np.where(np.isfinite(r[..., 0]), 0, 1).astype(np.uint8)
        table = ephemeris_table(Ephemeris(sats.ids, sub, "itrf", r, v, err, lat, lon, alt))
        if self.writer is None:
            self.sink = open(self.path, "wb")
            self.writer = pq.ParquetWriter(self.sink, table.schema, compression="snappy",
                                           use_dictionary=["sat_id"])
        self.writer.write_table(table)

    def close(self) -> None:
        try:
            if self.writer is not None:
                self.writer.close()
        finally:
            self.discard()

    def discard(self) -> None:
        """Close the file without finishing it (the run failed; its folder is removed)."""
        if self.sink is not None:
            self.sink.close()
            self.sink = None
