"""Behaviour frozen across refactorings: a run's tables hash to the values recorded before.

The digests below were recorded on the code *before* the restructuring of issue #11 (commit
b11cbb6) and must not change when code only moves.  A digest covers every Parquet table's
schema and values (timestamps as integer nanoseconds, floats by their exact bits),
``regions.geojson`` and ``summary.json`` less its wall-clock fields; it does not depend on the
Parquet writer's version string.  A change that *means* to change results updates the digest
in the same commit and says why.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from leotwin.sim.load import load_scenario
from leotwin.sim.runner import run_scenario
from leotwin.sim.scenario import Motion

DATA = Path(__file__).parent / "data"
VOLATILE = ("seconds", "peak_rss_mib", "phase_seconds")

#: recorded at b11cbb6 (before #11), serial backend.  The small scenario's digest changed once
#: since, on purpose: with the schemas declared in ``export.results``, ``terminals.account`` and
#: ``home_country`` are strings even when every value is empty (they were Arrow's ``null``
#: type); cast to the declared schema, the old table equals the new one (ba1e6ee… before).
#: Both changed once more in #12, on purpose and only there: ``policy_log`` gained
#: ``decided_at``, ``requested_effective_at`` and ``entry_kind`` (the log's time semantics),
#: and ``summary.json``'s enforcement counts time to deactivation from the first use attempt
#: (0 s → 2,400 s for the drones of ukraine-2026: detected 10 min after 20:00, deactivated 30
#: min later) and adds ``denied_by_reason`` and ``time_to_detection_s``.  Every other table is
#: equal to the one before (2945245c… and 60090a08… before).
FROZEN = {
    "ukraine-2026": "5bf26113b25a89967a00f1a7994f5dfc",
    "small-scenario": "4e0c484e7504fb23211ccfbd55289375",
}


def _column_bytes(col: pa.ChunkedArray) -> bytes:
    col = col.combine_chunks()
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    if pa.types.is_timestamp(col.type):
        col = col.cast(pa.int64())
    if (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)
            or pa.types.is_boolean(col.type)) and col.null_count == 0:
        arr = np.asarray(col.to_numpy(zero_copy_only=False))
        return str(arr.dtype).encode() + arr.tobytes()
    return json.dumps([repr(x) for x in col.to_pylist()]).encode()


#: the layout before #14, from a run's files: per-instant decisions were ``decisions.parquet``
#: (now ``decision_instants.parquet``, on request); the intervals, ``cells.parquet``, the
#: terminals' ``h3_cell``/``geometry`` and the summary's ``geometry``/``decisions.intervals``
#: are new
LEGACY_NAMES = {"decision_instants.parquet": "decisions.parquet", "decisions.parquet": None,
                "cells.parquet": None}
LEGACY_DROP = {"terminals.parquet": ("h3_cell", "geometry", "motion")}


def _as_in_14(name: str, table: pa.Table) -> pa.Table:
    """A table as #14 wrote it: terminals had no ``motion``; cells wrote a missing user class
    as "" (now null)."""
    if name == "terminals.parquet":
        return table.drop_columns(["motion"])
    if name == "cells.parquet":
        i = table.column_names.index("actual_user")
        return table.set_column(i, "actual_user", pc.fill_null(table.column(i), ""))
    return table


def run_digest(run: Path, legacy: bool = False, as_14: bool = False) -> str:
    """Digest of a results directory's contents (see module docstring); ``legacy``: of the
    tables and summary as they were before #14; ``as_14``: as they were in #14."""
    h = hashlib.sha256()
    files = {p.name: p for p in run.glob("*.parquet")}
    if legacy:
        files = {LEGACY_NAMES.get(n, n): p for n, p in files.items()
                 if LEGACY_NAMES.get(n, n) is not None}
    for name, path in sorted(files.items()):
        table = pq.read_table(path)
        if legacy:
            table = table.drop_columns([c for c in LEGACY_DROP.get(name, ())
                                        if c in table.column_names])
        elif as_14:
            table = _as_in_14(name, table)
        h.update(name.encode())
        h.update(table.schema.remove_metadata().to_string().encode())
        for name in table.column_names:
            h.update(name.encode())
            h.update(_column_bytes(table.column(name)))
    h.update((run / "regions.geojson").read_bytes())
    summary = json.loads((run / "summary.json").read_text())
    for key in VOLATILE:
        summary.pop(key, None)
    if legacy:
        summary.pop("geometry", None)
        summary["decisions"].pop("intervals", None)
    elif as_14:
        summary["geometry"].pop("terminals_moving", None)
    h.update(json.dumps(summary, sort_keys=True).encode())
    return h.hexdigest()[:32]


#: #14 changed the layout on purpose (decisions as intervals, per-cell geometry by default,
#: the cells table): these are the digests of the new layout, recorded when it was made; the
#: old tables are still produced exactly (``test_tables_unchanged``)
FROZEN_14 = {
    "ukraine-2026": "5952160d857e44eb0d68f20bef53ca55",
    "small-scenario": "7f7fe0e4a829efa209532f36f8ae03df",
}


#: The moving terminals of #14 made terminals with a speed move by default (``ground.motion``):
#: these are the digests of runs where they do, recorded when it was made; with every motion
#: ``fixed`` the tables of #14 are still produced exactly (``test_tables_unchanged_since_14``)
FROZEN_MOTION = {
    "ukraine-2026": "67187d099b3b3252e26def13c8b6b04a",
    "small-scenario": "1519e8a57643aee73fe497f343b49532",
}


def _source(name: str):
    return DATA / "small-scenario.yaml" if name == "small-scenario" else name


def _fixed(loaded):
    """Every terminal fixed in place, its speed a declared value only (as before motion)."""
    s = loaded.scenario
    fixed = Motion(path="fixed")
    ground = s.ground.model_copy(update={"populations": [
        p.model_copy(update={"motion": fixed}) for p in s.ground.populations]})
    return {"ground": ground,
            "terminals": [t.model_copy(update={"motion": fixed}) for t in s.terminals]}


@pytest.mark.parametrize("name", sorted(FROZEN))
def test_tables_unchanged(name, tmp_path):
    """Per terminal geometry, per-instant decisions, fixed terminals: the tables before #14,
    exactly."""
    loaded = load_scenario(_source(name))
    s = loaded.scenario
    loaded.scenario = s.model_copy(update={
        "network": s.network.model_copy(update={"geometry": "terminal"}),
        "outputs": s.outputs.model_copy(update={"decisions": "instants"}), **_fixed(loaded)})
    run_scenario(loaded, tmp_path / "run")
    assert run_digest(tmp_path / "run", legacy=True) == FROZEN[name]


@pytest.mark.parametrize("name", sorted(FROZEN_14))
def test_tables_unchanged_since_14(name, tmp_path):
    """Fixed terminals: the tables of #14, exactly."""
    loaded = load_scenario(_source(name))
    loaded.scenario = loaded.scenario.model_copy(update=_fixed(loaded))
    run_scenario(loaded, tmp_path / "run")
    assert run_digest(tmp_path / "run", as_14=True) == FROZEN_14[name]


@pytest.mark.parametrize("name", sorted(FROZEN_MOTION))
def test_tables_unchanged_since_motion(name, tmp_path):
    run_scenario(load_scenario(_source(name)), tmp_path / "run")
    assert run_digest(tmp_path / "run") == FROZEN_MOTION[name]
