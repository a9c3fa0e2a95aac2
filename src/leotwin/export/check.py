"""A results directory checked before it is read: ``leotwin export`` and ``leotwin diff`` name
the broken file (a truncated Parquet, a ``summary.json`` that is not a JSON object, a table
without the columns of its schema) in one line, instead of failing inside pyarrow."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from leotwin.errors import InputError
from leotwin.export.decisions import CELLS, DECISION_INSTANTS, DECISIONS
from leotwin.export.positions import POSITION_COLUMNS
from leotwin.export.results import COVERAGE, POLICY_LOG, RTT, TERMINALS
from leotwin.io.jsonfile import load_json
from leotwin.io.text import read_text

#: columns added after a table was first written: a run from before them is still read
LATER_COLUMNS = {"terminals": ("motion",)}
#: the tables of a run and the columns each must hold (a table may hold more)
COLUMNS = {"coverage": COVERAGE.names, "decisions": DECISIONS.names,
           "terminals": [c for c in TERMINALS.names if c not in LATER_COLUMNS["terminals"]],
           "rtt": RTT.names, "policy_log": POLICY_LOG.names,
           "positions": list(POSITION_COLUMNS), "cells": CELLS.names,
           "decision_instants": DECISION_INSTANTS.names}
#: keys of summary.json that export and diff read
SUMMARY_KEYS = ("scenario", "enforcement")


def read_summary(run: Path) -> dict:
    """``summary.json`` of a run, checked to be a JSON object with the keys readers need."""
    path = Path(run) / "summary.json"
    if not path.is_file():
        raise InputError(f"'{run}' is not a leotwin results directory (no summary.json)",
                         source=path)
    summary = load_json(read_text(path), str(path))
    if not isinstance(summary, dict):
        raise InputError("expected a JSON object (a run's summary)", source=path)
    missing = [k for k in SUMMARY_KEYS if k not in summary]
    if missing:
        raise InputError(f"missing key(s) {', '.join(missing)}: not a leotwin run summary",
                         source=path)
    return summary


def check_table(path: Path, name: str) -> None:
    """Raise :class:`InputError` naming ``path`` when it is not a readable Parquet file with
    the columns of table ``name``."""
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        reason = str(exc).split(". ")[0].split(": ")[-1]
        raise InputError(f"not a readable Parquet file ({reason}): the run is damaged; run "
                         "the scenario again", source=path) from None
    missing = [c for c in COLUMNS[name] if c not in schema.names]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)} of the {name} table",
                         source=path)


def check_run(run: str | Path) -> dict:
    """The run's summary, after checking it and every table present in ``run``."""
    run = Path(run)
    if not run.is_dir():
        raise InputError(f"'{run}' is not a results directory", source="RUN")
    summary = read_summary(run)
    for name in COLUMNS:
        path = run / f"{name}.parquet"
        if path.exists():
            check_table(path, name)
    regions = run / "regions.geojson"
    if regions.exists():
        doc = load_json(read_text(regions), str(regions))
        if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
            raise InputError("expected a GeoJSON FeatureCollection", source=regions)
    return summary


def read_table(run: Path, name: str) -> pa.Table:
    """Table ``name`` of a checked run (a damaged data page is still one clear line)."""
    path = Path(run) / f"{name}.parquet"
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"cannot read the table: {str(exc).splitlines()[0]}",
                         source=path) from None
