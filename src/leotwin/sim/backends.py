"""Execution backends: one ordered, windowed map over an executor.

``serial`` computes each item when its result is asked for; ``process`` uses a
``concurrent.futures.ProcessPoolExecutor`` on local cores (forked where the platform allows, so
the shared payload is inherited rather than pickled); ``dask`` uses the executor interface of a
``dask.distributed`` client — a LocalCluster of ``workers`` processes, or the scheduler given.
Results come back in item order, with at most ``2 × workers`` items in flight, so memory stays
bounded by the item size and every backend yields the same results in the same order.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from leotwin.errors import InputError

BACKENDS = ("serial", "process", "dask")
#: items in flight per worker: one computing, one waiting to be consumed
IN_FLIGHT_PER_WORKER = 2

_SHARED: dict[str, Any] = {}


def shared_payload() -> Any:
    """The payload that :func:`ordered_map` handed to this worker process."""
    return _SHARED["payload"]


def _set_payload(payload: Any = None) -> None:
    if payload is not None:
        _SHARED["payload"] = payload


def check_backend(name: str) -> str:
    if name not in BACKENDS:
        raise InputError(f"unknown backend '{name}': expected {', '.join(BACKENDS)}",
                         source="--backend")
    return name


class _Deferred:
    """A future of the serial backend: computed when its result is asked for."""

    def __init__(self, fn: Callable, item: Any, payload: Any):
        self.fn, self.item, self.payload = fn, item, payload

    def result(self) -> Any:
        return self.fn(self.item, self.payload)


@contextlib.contextmanager
def _submitter(fn: Callable, payload: Any, backend: str, workers: int,
               scheduler: str | None) -> Iterator[Callable[[Any], Any]]:
    """A function item → future that computes ``fn(item, payload)`` on ``backend``."""
    if backend == "serial":
        yield lambda item: _Deferred(fn, item, payload)
        return
    if backend == "process":
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        _SHARED["payload"] = payload  # inherited by forked workers
        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        initargs = () if ctx.get_start_method() == "fork" else (payload,)
        try:
            with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_set_payload,
                                     initargs=initargs) as pool:
                yield lambda item: pool.submit(fn, item)
        finally:
            _SHARED.pop("payload", None)  # the parent keeps no run's inputs alive
        return
    from dask.distributed import Client, LocalCluster

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        shared = client.scatter(payload, broadcast=True)
        executor = client.get_executor(pure=False)
        yield lambda item: executor.submit(fn, item, shared)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def ordered_map(fn: Callable[[Any, Any], Any], items: Iterable, payload: Any, *,
                backend: str = "serial", workers: int = 1,
                scheduler: str | None = None) -> Iterator[Any]:
    """Yield ``fn(item, payload)`` for each item, in order, computed on ``backend``.

    ``fn`` must be a module-level function; in ``process`` workers it is called as
    ``fn(item)`` and reads the payload with :func:`shared_payload`.
    """
    check_backend(backend)
    window = 1 if backend == "serial" else IN_FLIGHT_PER_WORKER * max(1, workers)
    todo = list(items)
    with _submitter(fn, payload, backend, workers, scheduler) as submit:
        pending = deque(submit(item) for item in todo[:window])
        for k in range(len(todo)):
            result = pending.popleft().result()
            if k + window < len(todo):
                pending.append(submit(todo[k + window]))
            yield result
