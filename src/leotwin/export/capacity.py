"""``capacity.parquet``: one row per H3 service cell and allocated instant (``sim.capacity``).

Columns (units: Mbps; shares in [0, 1]), documented in ``docs/reference/outputs.md``:
``time``, ``h3_cell``; ``terminals`` allowed in the cell then; ``busy_hour`` (18–21 h at the
cell's local time); ``serving_sat`` and ``efficiency`` (b/s/Hz of its worst link); per direction
``supply`` (what the cell's beams can carry at its link efficiency), ``demand``, ``allocated``,
``utilisation`` (allocated ÷ supply), ``unmet`` (demand − allocated) and ``bottleneck`` (the
resource that limits its traffic: cell, satellite, laser, gateway; null when none does); the
downlink's demand and allocation per tier (priority, standard, roam, lite).

With a capacity section the terminals table gains :data:`THROUGHPUT` columns.
"""

from __future__ import annotations

from pathlib import Path

import h3
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from leotwin.traffic.demand import TIER_NAMES
from leotwin.traffic.slot import KINDS

UTC_NS = pa.timestamp("ns", tz="UTC")
_DIRECTION = ("supply_{d}_mbps", "demand_{d}_mbps", "allocated_{d}_mbps", "utilisation_{d}",
              "unmet_{d}_mbps")
CAPACITY = pa.schema([
    ("time", UTC_NS), ("h3_cell", pa.string()), ("terminals", pa.int64()),
    ("busy_hour", pa.bool_()), ("serving_sat", pa.string()), ("efficiency", pa.float64()),
    *((c.format(d="down"), pa.float64()) for c in _DIRECTION),
    ("bottleneck_down", pa.string()),
    *((f"{what}_down_{tier}_mbps", pa.float64()) for tier in TIER_NAMES
      for what in ("demand", "allocated")),
    *((c.format(d="up"), pa.float64()) for c in _DIRECTION),
    ("bottleneck_up", pa.string()),
])
#: per terminal, over the allocated instants at which it is allowed: mean Mbps carried, the
#: share of its demand not met, and the mean speed test in its cell's busy hour
THROUGHPUT = pa.schema([
    ("throughput_down_mbps", pa.float64()), ("throughput_up_mbps", pa.float64()),
    ("unmet_down_share", pa.float64()), ("speedtest_down_busy_mbps", pa.float64()),
    ("speedtest_up_busy_mbps", pa.float64()),
])


_KIND_NAMES = pa.array(list(KINDS), pa.string())


def _index(values: np.ndarray) -> pa.Array:
    """Indices for ``take``, null where negative (no satellite, no bottleneck)."""
    v = np.asarray(values, np.int64)
    return pa.array(np.maximum(v, 0), mask=v < 0)


class CapacityWriter:
    """Rows of ``capacity.parquet`` added a block at a time (a row group each)."""

    def __init__(self, folder: Path, sat_ids: list[str]):
        self.path = Path(folder) / "capacity.parquet"
        self.sat_names = pa.array(list(sat_ids), pa.string())
        self.writer = pq.ParquetWriter(self.path, CAPACITY)
        self.rows = 0
        self.congested = 0  # rows with a downlink bottleneck
        self.busy_rows = 0
        self.busy_utilisation = 0.0  # Σ downlink utilisation over busy-hour rows

    def add(self, rows: dict[str, np.ndarray]) -> None:
        if not rows or not len(rows["cell"]):
            return
        cols = {}
        for field in CAPACITY:
            name = field.name
            if name == "time":
                cols[name] = pa.array(rows["time_ns"], UTC_NS)
            elif name == "h3_cell":  # a block repeats its cells: each named once
                uniq, inverse = np.unique(rows["cell"], return_inverse=True)
                names = pa.array([h3.int_to_str(int(c)) for c in uniq.tolist()], pa.string())
                cols[name] = names.take(pa.array(inverse.ravel()))
            elif name == "serving_sat":
                cols[name] = self.sat_names.take(_index(rows["serving"]))
            elif name.startswith("bottleneck_"):
                cols[name] = _KIND_NAMES.take(_index(rows[name]))
            else:
                cols[name] = pa.array(rows[name], field.type)
        self.writer.write_table(pa.table(cols, schema=CAPACITY))
        self.rows += len(rows["cell"])
        self.congested += int((rows["bottleneck_down"] >= 0).sum())
        busy = rows["busy_hour"]
        self.busy_rows += int(busy.sum())
        self.busy_utilisation += float(rows["utilisation_down"][busy].sum())

    def close(self) -> None:
        self.writer.close()


def throughput_columns(sums: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The :data:`THROUGHPUT` columns from ``sim.capacity`` sums (NaN → null when the terminal
    was never allowed, or never in a busy hour, at an allocated instant)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        n, busy = sums["allowed"], sums["busy"]
        out = {
            "throughput_down_mbps": np.where(n > 0, sums["rate_down"] / n, np.nan),
            "throughput_up_mbps": np.where(n > 0, sums["rate_up"] / n, np.nan),
            "unmet_down_share": np.where(sums["demand_down"] > 0,
                                         1.0 - sums["rate_down"] / sums["demand_down"], np.nan),
            "speedtest_down_busy_mbps": np.where(busy > 0, sums["test_down"] / busy, np.nan),
            "speedtest_up_busy_mbps": np.where(busy > 0, sums["test_up"] / busy, np.nan),
        }
    out["unmet_down_share"] = np.clip(out["unmet_down_share"], 0.0, 1.0)
    return out
