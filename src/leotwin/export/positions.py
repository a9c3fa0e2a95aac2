"""The ``positions`` table: one row per satellite and instant.

Columns (the file contract of ``leotwin propagate``):

=========  ==============================  =====================================================
column     type / unit                     meaning
=========  ==============================  =====================================================
sat_id     string                          catalogue number (real data) or
                                           ``<constellation>-<shell>-<plane>-<slot>``
time       timestamp[ns, UTC] (Parquet);   the instant, UTC
           ISO 8601 with ``Z`` (CSV)
x_km …     float64, km                     position in the chosen frame (ITRF default, or TEME)
vx_km_s …  float64, km/s                   velocity in the same frame (ITRF: Earth-fixed)
lat_deg    float64, degrees                WGS-84 geodetic latitude (always from ITRF)
lon_deg    float64, degrees (−180, 180]    WGS-84 longitude
alt_km     float64, km                     height above the WGS-84 ellipsoid
=========  ==============================  =====================================================

Rows are ordered by time, then by satellite in input order.  States for which SGP4 reported an
error are left out (they are listed on standard error instead).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from leotwin.errors import InputError
from leotwin.io.atomic import atomic_output
from leotwin.orbits.kernel import Ephemeris
from leotwin.timegrid.grid import NS_PER_S

POSITION_COLUMNS = ("sat_id", "time", "x_km", "y_km", "z_km", "vx_km_s", "vy_km_s", "vz_km_s",
                    "lat_deg", "lon_deg", "alt_km")
FORMATS = {".parquet": "parquet", ".csv": "csv"}
# ids and ISO times never hold a comma or a quote, so no quoting is needed
_CSV_OPTIONS = pacsv.WriteOptions(quoting_style="none", include_header=False)


def table_format(path: str | Path, option: str = "--out") -> str:
    """``parquet`` or ``csv`` from the file suffix."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"expected a file name ending in .parquet or .csv, got '{path}'",
                         source=option)
    return FORMATS[suffix]


def _time_unit(step_ns: int, start_ns: int) -> str:
    for unit, size in (("s", NS_PER_S), ("ms", 10**6), ("us", 10**3)):
        if step_ns % size == 0 and start_ns % size == 0:
            return unit
    return "ns"


def ephemeris_table(eph: Ephemeris, csv: bool = False) -> pa.Table:
    """Rows of one block, time-major, without errored states.

    ``sat_id`` is dictionary-encoded (indices into the id list), so no string is copied per row.
    """
    n, t = eph.error.shape
    ok = (eph.error == 0).T.ravel()  # (t, n) order
    all_ok = bool(ok.all())

    def column(values: np.ndarray) -> pa.Array:  # (n, t) → time-major, errored rows dropped
        flat = np.ascontiguousarray(values.T).ravel()
        return pa.array(flat if all_ok else flat[ok])

    sat_idx = np.tile(np.arange(n, dtype=np.int32), t)
    time_ns = np.repeat(eph.grid.ns, n)
    if not all_ok:
        sat_idx, time_ns = sat_idx[ok], time_ns[ok]
    ids = pa.array(eph.sat_ids, type=pa.string())
    cols: dict[str, pa.Array] = {}
    if csv:
        cols["sat_id"] = ids.take(pa.array(sat_idx))
        unit: Any = _time_unit(eph.grid.step_ns, eph.grid.start_ns)  # a numpy unit code
        stamps = time_ns.astype("datetime64[ns]")
        text = np.char.add(np.datetime_as_string(stamps, unit=unit), "Z")
        cols["time"] = pa.array(text, type=pa.string())
    else:
        cols["sat_id"] = pa.DictionaryArray.from_arrays(pa.array(sat_idx), ids)
        cols["time"] = pa.array(time_ns, type=pa.timestamp("ns", tz="UTC"))
    for k, name in enumerate(("x_km", "y_km", "z_km")):
        cols[name] = column(eph.r_km[..., k])
    for k, name in enumerate(("vx_km_s", "vy_km_s", "vz_km_s")):
        cols[name] = column(eph.v_km_s[..., k])
    for name, arr in (("lat_deg", eph.lat_deg), ("lon_deg", eph.lon_deg), ("alt_km", eph.alt_km)):
        if arr is None:
            raise ValueError("the positions table needs geodetic coordinates (geodetic=True)")
        cols[name] = column(arr)
    return pa.table(cols)


def write_positions(path: str | Path, blocks: Iterable[Ephemeris]) -> int:
    """Write propagated blocks to ``path`` (.parquet or .csv) atomically; returns rows written."""
    fmt = table_format(path)
    rows = 0
    with atomic_output(path) as tmp:
        writer = sink = None
        try:
            for eph in blocks:
                table = ephemeris_table(eph, csv=fmt == "csv")
                if writer is None:
                    if fmt == "parquet":  # into our own file: closed even when a write fails
                        sink = open(tmp, "wb")
                        writer = pq.ParquetWriter(sink, table.schema, compression="snappy",
                                                  use_dictionary=["sat_id"])
                    else:
                        tmp.write_text(",".join(table.column_names) + "\n")
                        sink = open(tmp, "ab")  # closed in the finally below
                        writer = pacsv.CSVWriter(sink, table.schema, write_options=_CSV_OPTIONS)
                writer.write_table(table)
                rows += table.num_rows
        finally:
            try:
                if writer is not None:
                    writer.close()
            finally:
                if sink is not None:
                    sink.close()
    return rows
