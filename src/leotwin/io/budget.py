"""Work bounded before it starts: what a command will write and hold, against what the machine
has.

Each command that may produce a large output (``propagate``, ``coverage``, ``rtt``, ``run``)
makes an :class:`Estimate` from its inputs alone (satellites × instants, rows per table, bytes
per row measured on real runs, see ``benchmarks/RESULTS.md``) and calls :func:`check_budget`
before any work.  More output than the free space of the output's file system is refused unless
the user says to go on (``--ignore-free-space``: the space may be freed during the run); more
memory than the machine has available is always refused, since a run that swaps or is killed
by the kernel helps no one.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from leotwin.errors import InputError


def human_bytes(n: float) -> str:
    """``n`` bytes in words: '4.5 MB' (powers of 1000)."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,.0f} B"


@dataclass(frozen=True)
class Estimate:
    """What a command will do: ``work`` in words (e.g. '2,600,000 states'), the bytes of
    output it will write and the bytes of memory it will hold at its peak."""

    work: str
    out_bytes: float
    memory_bytes: float

    def describe(self) -> str:
        return (f"{self.work}: about {human_bytes(self.out_bytes)} of output and "
                f"{human_bytes(self.memory_bytes)} of memory")


def available_memory() -> int:
    """Bytes of memory the kernel can give without swapping (MemAvailable), or the physical
    memory where /proc/meminfo is missing."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def free_space(folder: Path) -> int:
    """Bytes free for an unprivileged user on ``folder``'s file system."""
    return shutil.disk_usage(folder).free


def check_budget(estimate: Estimate, out: str | os.PathLike[str], *,
                 ignore_free_space: bool = False, source: str = "--out",
                 memory: int | None = None, free: int | None = None) -> None:
    """Raise :class:`InputError` (with the estimate and the limit) when ``estimate`` does not fit
    the memory available or the free space beside ``out``.  ``memory``/``free`` override the
    machine's figures (tests)."""
    memory = available_memory() if memory is None else memory
    if estimate.memory_bytes > memory:
        raise InputError(f"{estimate.describe()}, but {human_bytes(memory)} of memory is "
                         "available: shorten the time window, lengthen the step or use fewer "
                         "satellites, terminals or cells", source=source)
    folder = Path(out).parent if str(Path(out).parent) else Path(".")
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = free_space(folder) if free is None else free
    if estimate.out_bytes > free and not ignore_free_space:
        raise InputError(f"{estimate.describe()}, but {folder} has {human_bytes(free)} free: "
                         "shorten the time window or lengthen the step (or pass "
                         "--ignore-free-space to start anyway)", source=source)
