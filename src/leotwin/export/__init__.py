"""Exports: tables to Parquet/CSV (GeoJSON, CZML, KML and OEM follow with the scenario runner)."""

from leotwin.export.positions import POSITION_COLUMNS, write_positions

__all__ = ["POSITION_COLUMNS", "write_positions"]
