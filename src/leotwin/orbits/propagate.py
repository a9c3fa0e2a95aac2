"""Vectorised SGP4 propagation to TEME or ITRF: the whole grid at once, or in time blocks that
bound memory.

Both entry points run :class:`~leotwin.orbits.kernel.BlockKernel` (python-sgp4's C++
``SatrecArray``, Vallado's SGP4, WGS-72, then TEME → ITRF and WGS-84 geodetic); with
``workers > 1`` they hand the satellites to ``orbits.parallel``, whose results are bit-identical.
Arrays are satellite-major: ``r[n, t, :]`` is satellite n at instant t, in km; ``v`` in km/s.
"""

from __future__ import annotations

from collections.abc import Iterator

from leotwin.orbits.kernel import (
    BYTES_PER_STATE,
    DEFAULT_BLOCK_STATES,
    KERNEL_CHUNK_STATES,
    BlockKernel,
    Ephemeris,
    Frame,
    PropagationOptions,
    allocate,
    block_instants,
)
from leotwin.orbits.satellites import SatelliteSet
from leotwin.timegrid.grid import TimeGrid

__all__ = ["BYTES_PER_STATE", "DEFAULT_BLOCK_STATES", "KERNEL_CHUNK_STATES", "BlockKernel",
           "Ephemeris", "Frame", "PropagationOptions", "block_instants", "iter_propagate",
           "propagate"]


def propagate(
    sats: SatelliteSet,
    grid: TimeGrid,
    options: PropagationOptions | None = None,
    *,
    chunk_states: int = KERNEL_CHUNK_STATES,
    workers: int = 1,
) -> Ephemeris:
    """Propagate every satellite over the whole grid; arrays (N, T, 3).

    ``workers > 1`` splits the satellites over that many processes (results are bit-identical
    to ``workers=1``).  Memory: the result itself (≈ 73 bytes per state) plus one block.
    """
    options = options or PropagationOptions()
    if workers > 1:
        from leotwin.orbits.parallel import propagate_parallel

        return propagate_parallel(sats, grid, options, chunk_states=chunk_states,
                                  workers=workers)
    r, v, e, geo = allocate(len(sats), grid.count, options.geodetic)
    BlockKernel(sats, options, chunk_states).run(grid, r, v, e, geo)
    lat, lon, alt = geo if geo is not None else (None, None, None)
    return Ephemeris(list(sats.ids), grid, options.frame, r, v, e, lat, lon, alt)


# the same keyword signature as propagate(), on purpose: both are public entry points
def iter_propagate(
    sats: SatelliteSet,
    grid: TimeGrid,
    options: PropagationOptions | None = None,
    *,
    block_states: int = DEFAULT_BLOCK_STATES,
    workers: int = 1,
) -> Iterator[Ephemeris]:
    """Yield :class:`Ephemeris` blocks over consecutive time ranges (memory bounded by a block).

    Peak memory is proportional to ``block_states``: about 3.5 × its 73 bytes per state
    (a block being filled, the one being consumed, and temporaries; benchmarks/RESULTS.md).
    """
    options = options or PropagationOptions()
    step = block_instants(len(sats), block_states)
    if workers > 1:
        from leotwin.orbits.parallel import iter_propagate_parallel

        yield from iter_propagate_parallel(sats, grid, options, step=step, workers=workers)
        return
    kernel = BlockKernel(sats, options)
    for _, sub in grid.blocks(step):
        r, v, e, geo = allocate(len(sats), sub.count, options.geodetic)
        kernel.run(sub, r, v, e, geo)
        lat, lon, alt = geo if geo is not None else (None, None, None)
        yield Ephemeris(list(sats.ids), sub, options.frame, r, v, e, lat, lon, alt)
