"""Process-parallel SGP4: satellites split across worker processes writing into shared memory.

python-sgp4's C++ loop holds the GIL and its wheels are built without OpenMP (PHYSICS.md §1.2),
so threads give nothing; processes do.  The output arrays live in anonymous shared ``mmap``
buffers created before the workers are forked; each worker runs the same :class:`BlockKernel` as
the serial path on a contiguous range of satellites and writes straight into its rows, so no
state vector is pickled or copied, and the arrays handed back *are* those buffers.  The
per-element arithmetic is the same code on the same values, so results are bit-identical to the
serial path.  Where ``fork`` is unavailable, workers are spawned and rebuild their ``Satrec``
objects from the picklable recipes (named shared memory, copied out at the end).
"""

from __future__ import annotations

import mmap
import multiprocessing as mp
from collections.abc import Iterator
from itertools import pairwise
from multiprocessing import shared_memory
from typing import Any

import numpy as np

from leotwin.orbits.kernel import (
    KERNEL_CHUNK_STATES,
    BlockKernel,
    Ephemeris,
    PropagationOptions,
)
from leotwin.orbits.satellites import SatelliteSet
from leotwin.timegrid.grid import TimeGrid

_STATE: dict = {}
_SPEC = (("r", 3, np.float64), ("v", 3, np.float64), ("e", 0, np.uint8),
         ("lat", 0, np.float64), ("lon", 0, np.float64), ("alt", 0, np.float64))


def _fork_available() -> bool:
    return "fork" in mp.get_all_start_methods()


class _Buffers:
    """Shared output buffers for up to (N, t_max) states.

    ``fork``: anonymous ``MAP_SHARED`` mmaps inherited by the children.  ``spawn``: named
    ``SharedMemory`` blocks the children attach to by name.
    """

    def __init__(self, n: int, t_max: int, geodetic: bool, names: dict | None = None):
        self.n = n
        self.raw: dict[str, Any] = {}  # mmap.mmap or SharedMemory
        self.named = names is not None or not _fork_available()
        for key, width, dtype in _SPEC:
            if key in ("lat", "lon", "alt") and not geodetic:
                continue
            size = max(1, n * t_max * max(width, 1) * np.dtype(dtype).itemsize)
            if not self.named:
                self.raw[key] = mmap.mmap(-1, size)
            elif names is None:
                self.raw[key] = shared_memory.SharedMemory(create=True, size=size)
            else:
                self.raw[key] = shared_memory.SharedMemory(name=names[key])

    def __getstate__(self):  # spawn: children re-attach by name
        return {"n": self.n, "names": {k: s.name for k, s in self.raw.items()}}

    def __setstate__(self, state):
        self.__init__(state["n"], 0, "lat" in state["names"], state["names"])

    def view(self, t: int) -> dict[str, np.ndarray]:
        """C-contiguous arrays of shape (N, t[, 3]) over the start of each buffer."""
        out = {}
        for key, width, dtype in _SPEC:
            if key in self.raw:
                shape = (self.n, t, width) if width else (self.n, t)
                buf = self.raw[key].buf if self.named else self.raw[key]
                out[key] = np.frombuffer(buf, dtype=dtype, count=int(np.prod(shape))
                                         ).reshape(shape)
        return out

    def release(self, unlink: bool) -> None:
        """Close named blocks (the mmaps are freed when the last array over them goes)."""
        if self.named:
            for shm in self.raw.values():
                shm.close()
                if unlink:
                    shm.unlink()
        self.raw = {}


def _init_worker(sats, options, chunk_states, buffers):
    _STATE.update(sats=sats, options=options, chunk_states=chunk_states, kernels={},
                  buffers=buffers)


def _task(args) -> None:
    lo, hi, start_ns, step_ns, count = args
    kernels = _STATE["kernels"]
    if (lo, hi) not in kernels:
        kernels[(lo, hi)] = BlockKernel(_STATE["sats"].subset(slice(lo, hi)), _STATE["options"],
                                        _STATE["chunk_states"])
    a = _STATE["buffers"].view(count)
    geo = (a["lat"][lo:hi], a["lon"][lo:hi], a["alt"][lo:hi]) if "lat" in a else None
    kernels[(lo, hi)].run(TimeGrid(start_ns, step_ns, count), a["r"][lo:hi], a["v"][lo:hi],
                          a["e"][lo:hi], geo)


def _ranges(n: int, parts: int) -> list[tuple[int, int]]:
    edges = np.linspace(0, n, parts + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in pairwise(edges) if b > a]


class _Pool:
    """Workers bound to one set of shared buffers of up to (N, t_max) states."""

    def __init__(self, sats: SatelliteSet, options: PropagationOptions, t_max: int,
                 workers: int, chunk_states: int):
        self.buffers = _Buffers(len(sats), t_max, options.geodetic)
        self.ranges = _ranges(len(sats), workers)
        ctx = mp.get_context("fork" if _fork_available() else "spawn")
        self.pool = ctx.Pool(processes=len(self.ranges), initializer=_init_worker,
                             initargs=(sats, options, chunk_states, self.buffers))

    def fill(self, grid: TimeGrid) -> dict[str, np.ndarray]:
        """Compute the grid's states into the shared buffers; returns views of them."""
        tasks = [(lo, hi, grid.start_ns, grid.step_ns, grid.count) for lo, hi in self.ranges]
        self.pool.map(_task, tasks, chunksize=1)
        return self.buffers.view(grid.count)

    def close(self) -> None:
        self.pool.close()
        self.pool.join()
        self.buffers.release(unlink=True)


def _ephemeris(sats, grid, options, arrays, copy: bool) -> Ephemeris:
    def get(key):
        if key not in arrays:
            return None
        return np.array(arrays[key], copy=True) if copy else arrays[key]

    return Ephemeris(list(sats.ids), grid, options.frame, get("r"), get("v"), get("e"),
                     get("lat"), get("lon"), get("alt"))


def propagate_parallel(sats: SatelliteSet, grid: TimeGrid, options: PropagationOptions, *,
                       chunk_states: int, workers: int) -> Ephemeris:
    """Whole-grid propagation over ``workers`` processes (see :func:`propagate`)."""
    pool = _Pool(sats, options, grid.count, min(workers, len(sats)), chunk_states)
    try:
        # Anonymous mmaps outlive the pool through the arrays; named blocks must be copied.
        return _ephemeris(sats, grid, options, pool.fill(grid), copy=pool.buffers.named)
    finally:
        pool.close()


def iter_propagate_parallel(sats: SatelliteSet, grid: TimeGrid, options: PropagationOptions, *,
                            step: int, workers: int,
                            chunk_states: int = KERNEL_CHUNK_STATES) -> Iterator[Ephemeris]:
    """Time blocks of ``step`` instants, each computed by all workers (see :func:`iter_propagate`).

    The shared buffers are reused for every block, so each yielded block is a private copy.
    """
    pool = _Pool(sats, options, min(step, grid.count), min(workers, len(sats)), chunk_states)
    try:
        for _, sub in grid.blocks(step):
            yield _ephemeris(sats, sub, options, pool.fill(sub), copy=True)
    finally:
        pool.close()
