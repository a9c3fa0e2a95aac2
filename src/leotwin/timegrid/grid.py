"""UTC time grids and the parsing of times and durations given by users.

Times are held as integer nanoseconds since 1970-01-01T00:00:00 UTC on the POSIX scale (86 400 s
per day, leap seconds not counted), exactly the day convention of SGP4's UTC Julian dates.  A grid
is ``start + k·step`` for ``k = 0 … count−1``, i.e. the half-open span ``[start, start+duration)``
(Hypatia's convention: 200 s at 100 ms gives 2 000 instants, the last at 199.9 s).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import numpy as np

from leotwin.errors import InputError

NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S
JD_UNIX_EPOCH = 2440587.5  # Julian date of 1970-01-01T00:00:00 UTC
MJD_OFFSET = 2400000.5

#: Range of years we accept for a grid: SGP4 element sets exist from 1957 (Sputnik) on; the TLE
#: two-digit year covers 1957–2056, OMM beyond.  Anything outside is almost certainly a typo.
MIN_YEAR, MAX_YEAR = 1957, 2100
#: The most instants one grid may hold (a year at 1 s is 3.2e7); more is almost certainly a typo.
MAX_STEPS = 100_000_000

_UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": NS_PER_S,
    "m": 60 * NS_PER_S,
    "min": 60 * NS_PER_S,
    "h": 3_600 * NS_PER_S,
    "d": NS_PER_DAY,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(ns|us|ms|min|s|m|h|d)")


def parse_duration(text: str, *, source: str = "duration") -> int:
    """Parse a duration such as ``100ms``, ``90s``, ``15m``, ``24h``, ``2d`` or ``1h30m``.

    Units: ``ns``, ``us``, ``ms``, ``s``, ``m``/``min`` (minutes), ``h``, ``d`` (86 400 s).
    A bare number is seconds.  Returns integer nanoseconds (exact for decimal input down to 1 ns).

    >>> parse_duration("1h30m") == 5400 * 10**9
    True
    """
    raw = str(text).strip().lower()
    if not raw:
        raise InputError("expected a duration such as 100ms, 90s, 15m, 24h or 2d, got ''",
                         source=source)
    if raw.startswith("-"):
        raise InputError(f"expected a positive duration, got '{text}'", source=source)
    try:
        return _seconds_to_ns(Decimal(raw))  # a bare number: seconds
    except InvalidOperation:
        pass
    pos, total = 0, Decimal(0)
    for match in _DURATION_PART.finditer(raw):
        if match.start() != pos and raw[pos:match.start()].strip():
            break
        total += Decimal(match.group(1)) * _UNITS_NS[match.group(2)]
        pos = match.end()
    if pos == 0 or raw[pos:].strip():
        raise InputError(
            f"expected a duration such as 100ms, 90s, 15m, 24h, 2d or 1h30m, got '{text}'",
            source=source,
        )
    return int(total.to_integral_value())


def _seconds_to_ns(seconds: Decimal) -> int:
    if not seconds.is_finite():
        raise InvalidOperation
    return int((seconds * NS_PER_S).to_integral_value())


def parse_time(text: str | datetime, *, source: str = "time") -> int:
    """Parse an ISO 8601 instant to integer nanoseconds since 1970-01-01 UTC.

    ``2026-01-01T00:00:00Z``, ``2026-01-01 12:00``, ``2026-01-01T02:00+02:00`` are accepted.
    A time without an offset is taken as UTC.
    """
    extra_ns = 0
    if isinstance(text, datetime):
        dt = text
    else:
        raw = str(text).strip()
        fine = _SUB_MICROSECOND.match(raw)
        if fine:  # nanoseconds (ns_to_iso writes them): datetime keeps microseconds only
            digits = fine.group(2).ljust(9, "0")
            raw = fine.group(1) + "." + digits[:6] + (fine.group(3) or "")
            extra_ns = int(digits[6:])
        try:
            dt = datetime.fromisoformat(raw.replace("z", "Z"))
        except ValueError:
            raise InputError(
                f"expected an ISO 8601 time such as 2026-01-01T00:00:00Z, got '{text}'",
                source=source,
            ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    dt = dt.astimezone(UTC)
    if not MIN_YEAR <= dt.year <= MAX_YEAR:
        raise InputError(
            f"expected a year between {MIN_YEAR} and {MAX_YEAR}, got {dt.year}", source=source
        )
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return ((delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1_000
            + extra_ns)


#: an ISO time whose fraction of a second has 7 to 9 digits
_SUB_MICROSECOND = re.compile(r"^(.*\d\d:\d\d:\d\d)\.(\d{7,9})(\D.*)?$")


def ns_to_iso(ns: int) -> str:
    """Format integer UTC nanoseconds as ISO 8601 with a ``Z`` (nanoseconds kept when non-zero)."""
    text = str(np.datetime64(int(ns), "ns"))
    text = re.sub(r"\.?0+$", "", text) if "." in text else text
    return text + "Z"


@dataclass(frozen=True)
class TimeGrid:
    """Evenly spaced UTC instants ``start_ns + k·step_ns``, ``k = 0 … count−1``.

    Attributes are integer nanoseconds (UTC, POSIX scale), so grids never drift: the 10 000th
    instant of a 100 ms grid is exactly 1 000 s after the start.
    """

    start_ns: int
    step_ns: int
    count: int

    def __post_init__(self) -> None:
        if self.step_ns <= 0:
            raise InputError(f"expected a step greater than zero, got {self.step_ns} ns",
                             source="step")
        if self.count <= 0:
            raise InputError("the time grid is empty: expected a duration longer than zero",
                             source="duration")
        if self.count > MAX_STEPS:
            raise InputError(
                f"the time grid would hold {self.count:,} instants (at most {MAX_STEPS:,}): "
                "use a longer step or a shorter duration",
                source="duration",
            )

    @classmethod
    def from_span(cls, start: str | int | datetime, duration: str | int, step: str | int
                  ) -> TimeGrid:
        """A grid over ``[start, start + duration)``; strings are parsed as ISO 8601 / durations."""
        start_ns = start if isinstance(start, int) else parse_time(start, source="--start")
        duration_ns = (duration if isinstance(duration, int)
                       else parse_duration(duration, source="--duration"))
        step_ns = step if isinstance(step, int) else parse_duration(step, source="--step")
        if step_ns <= 0:
            raise InputError(f"expected a step greater than zero, got '{step}'", source="--step")
        if duration_ns <= 0:
            raise InputError(f"expected a duration greater than zero, got '{duration}'",
                             source="--duration")
        end_ns = start_ns + duration_ns
        if end_ns > parse_time(f"{MAX_YEAR}-12-31T23:59:59"):
            raise InputError(f"the time span ends after {MAX_YEAR}: expected a shorter duration",
                             source="--duration")
        count = -(-duration_ns // step_ns)  # ceil: half-open span
        return cls(start_ns, step_ns, count)

    @property
    def ns(self) -> np.ndarray:
        """The instants as int64 nanoseconds since 1970-01-01 UTC, shape (count,)."""
        return self.start_ns + self.step_ns * np.arange(self.count, dtype=np.int64)

    @property
    def utc(self) -> np.ndarray:
        """The instants as ``datetime64[ns]`` (UTC), shape (count,)."""
        return self.ns.astype("datetime64[ns]")

    @property
    def seconds(self) -> np.ndarray:
        """Seconds since the grid's start, float64, shape (count,)."""
        return self.step_ns * np.arange(self.count, dtype=np.float64) / NS_PER_S

    def jd_fr(self) -> tuple[np.ndarray, np.ndarray]:
        """UTC Julian dates split for SGP4: whole part (x.5) and day fraction in [0, 1)."""
        return ns_to_jd_fr(self.ns)

    def block(self, start: int, stop: int) -> TimeGrid:
        """The sub-grid of instants ``start … stop−1``."""
        stop = min(stop, self.count)
        return TimeGrid(self.start_ns + start * self.step_ns, self.step_ns, stop - start)

    def blocks(self, size: int):
        """Yield ``(offset, sub-grid)`` pairs covering the grid in blocks of ``size`` instants."""
        for offset in range(0, self.count, max(1, size)):
            yield offset, self.block(offset, offset + size)


def ns_to_jd_fr(ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer UTC nanoseconds → (jd, fr): ``jd`` = 2440587.5 + whole days, ``fr`` in [0, 1).

    Both parts are exact to float64 rounding of the fraction (≈ 1e-17 day ≈ 1 ns), which is
    the split form python-sgp4 recommends for full precision.
    """
    ns = np.asarray(ns, dtype=np.int64)
    days, rem = np.divmod(ns, NS_PER_DAY)
    jd = JD_UNIX_EPOCH + days.astype(np.float64)
    fr = rem.astype(np.float64) / NS_PER_DAY
    return jd, fr


def ns_to_mjd(ns: np.ndarray) -> np.ndarray:
    """Integer UTC nanoseconds → UTC modified Julian date (float64, ≈ 1 µs resolution)."""
    ns = np.asarray(ns, dtype=np.int64)
    days, rem = np.divmod(ns, NS_PER_DAY)
    return (JD_UNIX_EPOCH - MJD_OFFSET) + days + rem / NS_PER_DAY
