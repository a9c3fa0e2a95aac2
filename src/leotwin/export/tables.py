"""Write any Arrow table to Parquet or CSV, atomically (the results' file contracts)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from leotwin.export.positions import table_format
from leotwin.io.atomic import atomic_output, write_parquet


def csv_ready(table: pa.Table) -> pa.Table:
    """Timestamps as ISO 8601 with ``Z`` (empty when null), as the positions CSV writes them."""
    cols = []
    for name in table.column_names:
        col = table[name]
        if pa.types.is_timestamp(col.type):
            values = col.to_numpy(zero_copy_only=False).astype("datetime64[ns]")
            text = np.char.add(np.datetime_as_string(values, unit="ms"), "Z").astype(object)
            text[np.isnat(values)] = None
            col = pa.array(text, type=pa.string())
        cols.append(col)
    return pa.table(dict(zip(table.column_names, cols, strict=True)))


def write_table(path: str | Path, table: pa.Table) -> None:
    """``path`` (.parquet or .csv) ← ``table``, atomically."""
    fmt = table_format(path)
    with atomic_output(path) as tmp:
        if fmt == "parquet":
            write_parquet(table, tmp, compression="snappy")
        else:
            pacsv.write_csv(csv_ready(table), tmp,
                            write_options=pacsv.WriteOptions(quoting_style="needed"))
