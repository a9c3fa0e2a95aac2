"""The decision tables of a run, written from its decision intervals (``policy.intervals``).

==================  ==========================================================================
table               one row per
==================  ==========================================================================
decisions           terminal and run of instants [from, to) with the same decision
decision_instants   terminal and instant (``outputs.decisions: instants``), streamed
cells               H3 res-5 service cell × time bin × user class: terminal-instants allowed,
                    denied, and denied for each reason
==================  ==========================================================================

Every table is written in row groups of bounded size (:data:`ROW_GROUP_ROWS`), so memory does
not grow with the run; columns are in ``docs/reference/outputs.md``.
"""

from __future__ import annotations

from pathlib import Path

import h3
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from leotwin.policy.intervals import DecisionIntervals
from leotwin.policy.reasons import Reason, reason_names

UTC_NS = pa.timestamp("ns", tz="UTC")
#: rows per Parquet row group of the streamed tables
ROW_GROUP_ROWS = 1 << 20
REASON_COLUMNS = [f"denied_{r.name}" for r in Reason]

DECISIONS = pa.schema([
    ("terminal_id", pa.dictionary(pa.int32(), pa.string())), ("from", UTC_NS), ("to", UTC_NS),
    ("instants", pa.int32()), ("allowed", pa.bool_()), ("reason_mask", pa.uint32()),
    ("reasons", pa.string()), ("satellite_in_view", pa.bool_()),
])
DECISION_INSTANTS = pa.schema([
    ("time", UTC_NS), ("terminal_id", pa.dictionary(pa.int32(), pa.string())),
    ("allowed", pa.bool_()), ("reason_mask", pa.uint32()), ("reasons", pa.string()),
    ("satellite_in_view", pa.bool_()), ("lat_deg", pa.float64()), ("lon_deg", pa.float64()),
    ("speed_kmh", pa.float64()),
])
CELLS = pa.schema([
    ("time", UTC_NS), ("h3_cell", pa.string()), ("actual_user", pa.string()),
    ("terminals", pa.int32()), ("terminal_instants", pa.int64()), ("allowed", pa.int64()),
    ("denied", pa.int64()), *((name, pa.int64()) for name in REASON_COLUMNS),
])


def _names(masks: np.ndarray) -> pa.Array:
    """The reason names of each mask, joined with ``|``."""
    uniq, inverse = np.unique(masks, return_inverse=True)
    words = pa.array(["|".join(reason_names(int(m))) for m in uniq], type=pa.string())
    return words.take(pa.array(inverse.ravel().astype(np.int32)))


def _ids(ids: list[str], index: np.ndarray) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(index.astype(np.int32)),
                                          pa.array(ids, type=pa.string()))


def write_decisions(folder: Path, iv: DecisionIntervals, ids: list[str], time_ns: np.ndarray,
                    step_ns: int) -> None:
    """One row per interval, ordered by terminal, then time; ``to`` is exclusive (the next
    instant, or the window's end)."""
    edges = np.append(np.asarray(time_ns, np.int64), int(time_ns[-1]) + step_ns
                      if len(time_ns) else 0)
    with pq.ParquetWriter(folder / "decisions.parquet", DECISIONS) as writer:
        for a in range(0, max(len(iv), 1), ROW_GROUP_ROWS):
            sl = slice(a, a + ROW_GROUP_ROWS)
            writer.write_table(pa.table({
                "terminal_id": _ids(ids, iv.terminal[sl]), "from": edges[iv.first[sl]],
                "to": edges[iv.end[sl]], "instants": iv.length[sl].astype(np.int32),
                "allowed": iv.allowed[sl], "reason_mask": iv.reasons[sl],
                "reasons": _names(iv.reasons[sl]), "satellite_in_view": iv.in_view[sl],
            }, schema=DECISIONS))


def write_decision_instants(folder: Path, iv: DecisionIntervals, ids: list[str],
                            time_ns: np.ndarray, lat: np.ndarray, lon: np.ndarray,
                            speed_kmh: np.ndarray, movers=None) -> None:
    """Every terminal at every instant, ordered by time, then terminal; written a block of
    instants at a time.  ``movers`` (``ground.motion.Movers``): the moving terminals, whose
    place and speed are those of each instant."""
    k = iv.n_terminals
    per = max(1, ROW_GROUP_ROWS // max(k, 1))
    index = np.arange(k, dtype=np.int64)
    cols = movers.terminals if movers is not None else np.zeros(0, np.int64)
    with pq.ParquetWriter(folder / "decision_instants.parquet", DECISION_INSTANTS) as writer:
        for t0 in range(0, len(time_ns), per):
            t1 = min(t0 + per, len(time_ns))
            allowed, reasons, view = iv.at(t0, t1)
            n = t1 - t0
            la, lo, sp = (np.tile(np.asarray(x, np.float64), (n, 1))
                          for x in (lat, lon, speed_kmh))
            if len(cols):
                m_lat, m_lon, _alt, m_speed = movers.at(time_ns[t0:t1])
                la[:, cols], lo[:, cols], sp[:, cols] = m_lat, m_lon, m_speed
            writer.write_table(pa.table({
                "time": np.repeat(time_ns[t0:t1], k), "terminal_id": _ids(ids, np.tile(index, n)),
                "allowed": allowed.ravel(), "reason_mask": reasons.ravel(),
                "reasons": _names(reasons.ravel()), "satellite_in_view": view.ravel(),
                "lat_deg": la.ravel(), "lon_deg": lo.ravel(), "speed_kmh": sp.ravel(),
            }, schema=DECISION_INSTANTS))


#: terminals whose intervals are cut into pieces at once (bounds the cells table's memory)
CELL_TERMINALS = 1 << 16


def _pieces(iv: DecisionIntervals, rows: slice, cell: np.ndarray, runs, n_instants: int):
    """The decision intervals ``rows`` cut where a moving terminal changes cell: (interval row,
    first, end, cell) of each piece.  ``runs`` (``sim.shards.CellRuns``, the same terminals):
    the moving terminals' runs of one cell; every other terminal stays in
    ``cell[terminal]``."""
    t_n = np.int64(n_instants)
    term_iv = iv.terminal[rows].astype(np.int64)
    first_iv = iv.first[rows]
    index = np.arange(rows.start, rows.stop)
    if runs is None or not len(runs.terminal):
        return index, first_iv, iv.end[rows], np.asarray(cell, np.uint64)[term_iv]
    iv_key = term_iv * t_n + first_iv
    run_key = runs.terminal * t_n + runs.first
    start = np.union1d(iv_key, run_key)
    term = start // t_n
    end = np.minimum(np.append(start[1:], (term[-1] + 1) * t_n), (term + 1) * t_n)
    row = index[np.searchsorted(iv_key, start, side="right") - 1]
    piece_cell = np.asarray(cell, np.uint64)[term]
    moving = np.isin(term, runs.terminal)
    r = np.searchsorted(run_key, start[moving], side="right") - 1
    piece_cell[moving] = runs.cell[r]
    return row, start - term * t_n, end - term * t_n, piece_cell


def write_cells(folder: Path, iv: DecisionIntervals, cell: np.ndarray, labels: list,
                time_ns: np.ndarray, bin_instants: int, runs=None) -> None:
    """Terminal-instants per (time bin of ``bin_instants`` instants, res-5 cell, user class);
    ordered by bin, cell, class.  Each interval is cut at the bins' edges, and where a moving
    terminal changes cell (``runs``, ``sim.shards.CellRuns``); ``terminals`` counts the
    terminals with instants in the bin, cell and class.  Counted :data:`CELL_TERMINALS`
    terminals at a time (every figure adds up over disjoint terminals)."""
    classes = sorted({lab or "" for lab in labels})
    cls = np.searchsorted(classes, np.array([lab or "" for lab in labels]))
    cell = np.asarray(cell, np.uint64)
    run_cells = runs.cell if runs is not None else np.zeros(0, np.uint64)
    cells = np.unique(np.concatenate([cell, run_cells]))
    n_groups = len(cells) * len(classes)
    n_bins = (len(time_ns) + bin_instants - 1) // bin_instants
    size = n_bins * n_groups
    names_out = ["terminal_instants", "allowed", "denied", *REASON_COLUMNS]
    columns = {name: np.zeros(size, np.int64) for name in names_out}
    terminals = np.zeros(size, np.int64)
    k = iv.n_terminals
    for a in range(0, max(k, 1), CELL_TERMINALS):
        b = min(a + CELL_TERMINALS, k)
        i0, i1 = np.searchsorted(iv.terminal, [a, b])
        block_runs = None
        if runs is not None and len(runs.terminal):
            r0, r1 = np.searchsorted(runs.terminal, [a, b])
            block_runs = type(runs)(runs.terminal[r0:r1], runs.first[r0:r1],
                                    runs.cell[r0:r1])
        row0, first, end, piece_cell = _pieces(iv, slice(int(i0), int(i1)), cell, block_runs,
                                               len(time_ns))
        if not len(row0):
            continue
        term0 = iv.terminal[row0].astype(np.int64)
        group0 = np.searchsorted(cells, piece_cell) * len(classes) + cls[term0]
        # cut the pieces at bin edges: one per (piece, bin it touches)
        b0 = first // bin_instants
        b1 = (end - 1) // bin_instants
        reps = (b1 - b0 + 1).astype(np.int64)
        piece = np.repeat(np.arange(len(row0)), reps)
        nth = np.arange(len(piece)) - np.repeat(np.cumsum(reps) - reps, reps)
        piece_bin = b0[piece] + nth
        lo = np.maximum(first[piece], piece_bin * bin_instants)
        hi = np.minimum(end[piece], (piece_bin + 1) * bin_instants)
        weight = (hi - lo).astype(np.int64)
        row = row0[piece]
        key = piece_bin * n_groups + group0[piece]

        def total(mask=None, key=key, weight=weight) -> np.ndarray:
            w = weight if mask is None else weight * mask
            return np.bincount(key, weights=w, minlength=size).astype(np.int64)

        present = np.unique(key * np.int64(k) + term0[piece]) // k
        terminals += np.bincount(present, minlength=size)
        columns["terminal_instants"] += total()
        columns["allowed"] += total(iv.allowed[row])
        columns["denied"] += total(~iv.allowed[row])
        for name, r in zip(REASON_COLUMNS, Reason, strict=True):
            columns[name] += total((iv.reasons[row] & np.uint32(r)) != 0)
    g = np.tile(np.arange(n_groups), n_bins)
    keep = terminals > 0
    names = np.array([h3.int_to_str(int(c)) for c in cells], dtype=object)
    users = np.array([c or None for c in classes], dtype=object)
    bin_start = np.asarray(time_ns, np.int64)[np.arange(n_bins) * bin_instants]
    table = pa.table({
        "time": np.repeat(bin_start, n_groups)[keep], "h3_cell": names[(g // len(classes))[keep]],
        "actual_user": users[(g % len(classes))[keep]],
        "terminals": terminals[keep].astype(np.int32),
        **{k: v[keep] for k, v in columns.items()},
    }, schema=CELLS)
    with pq.ParquetWriter(folder / "cells.parquet", CELLS) as writer:
        for a in range(0, max(table.num_rows, 1), ROW_GROUP_ROWS):
            writer.write_table(table.slice(a, ROW_GROUP_ROWS))
