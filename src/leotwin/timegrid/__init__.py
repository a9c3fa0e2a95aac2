"""UTC time grids, durations, Julian-date pairs, and Earth orientation (UT1−UTC, polar motion)."""

from leotwin.timegrid.eop import EarthOrientation, default_eop
from leotwin.timegrid.grid import TimeGrid, parse_duration, parse_time

__all__ = ["EarthOrientation", "TimeGrid", "default_eop", "parse_duration", "parse_time"]
