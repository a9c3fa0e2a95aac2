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

#: glibc settings of the Dask workers this module starts (docs/guide/dask.md gives them for
#: the workers of an existing cluster)
WORKER_MALLOC = {"MALLOC_TRIM_THRESHOLD_": 1 << 26, "MALLOC_MMAP_THRESHOLD_": 1 << 25}

_SHARED: dict[str, Any] = {}


def shared_payload() -> Any:
    """The payload that :meth:`Backend.map` handed to this worker process."""
    return _SHARED["payload"]


def _set_payload(payload: Any = None) -> None:
    if payload is not None:
        _SHARED["payload"] = payload


def check_backend(name: str) -> str:
    if name not in BACKENDS:
        raise InputError(f"unknown backend '{name}': expected {', '.join(BACKENDS)}",
                         source="--backend")
    return name


def _dask_call(fn: Callable, item: Any, data: bytes, key: str) -> Any:
    """``fn(item, payload)`` on a Dask worker; the payload is unpickled once per map."""
    cached = _SHARED.get("dask")
    if cached is None or cached[0] != key:
        import pickle

        _SHARED["dask"] = cached = (key, pickle.loads(data))
    return fn(item, cached[1])


def _forget_payload() -> None:
    _SHARED.pop("dask", None)


class _Deferred:
    """A future of the serial backend: computed when its result is asked for."""

    def __init__(self, fn: Callable, item: Any, payload: Any):
        self.fn, self.item, self.payload = fn, item, payload

    def result(self) -> Any:
        return self.fn(self.item, self.payload)


class Backend:
    """A backend for the maps of one run, as a context manager: a Dask client (and its
    LocalCluster) starts once and serves every map; ``process`` forks a pool per map, so each
    map's payload is inherited rather than pickled."""

    def __init__(self, backend: str = "serial", workers: int = 1,
                 scheduler: str | None = None):
        self.backend, self.workers, self.scheduler = check_backend(backend), workers, scheduler
        self.client: Any = None
        self.cluster: Any = None

    def __enter__(self) -> Backend:
        if self.backend == "dask":
            from dask.distributed import Client, LocalCluster

            if self.scheduler:
                self.client = Client(self.scheduler)
            else:
                import dask

                # Dask's default MALLOC_TRIM_THRESHOLD_=65536 also freezes glibc's mmap
                # threshold at 128 KiB, so every large temporary array is mapped and unmapped
                # afresh: measured 40 % slower chunks; these values restore the speed
                environ = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}),
                           **WORKER_MALLOC}
                with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
                    self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                                processes=True, dashboard_address=None)
                self.client = Client(self.cluster)
        return self

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None

    def map(self, fn: Callable[[Any, Any], Any], items: Iterable, payload: Any
            ) -> Iterator[Any]:
        """Yield ``fn(item, payload)`` for each item, in order, with at most ``2 × workers``
        items in flight.  ``fn`` must be a module-level function; in ``process`` workers it is
        called as ``fn(item)`` and reads the payload with :func:`shared_payload`."""
        window = 1 if self.backend == "serial" else IN_FLIGHT_PER_WORKER * max(1, self.workers)
        todo = list(items)
        with self._submitter(fn, payload) as submit:
            pending = deque(submit(item) for item in todo[:window])
            for k in range(len(todo)):
                result = pending.popleft().result()
                if k + window < len(todo):
                    pending.append(submit(todo[k + window]))
                yield result

    @contextlib.contextmanager
    def _submitter(self, fn: Callable, payload: Any) -> Iterator[Callable[[Any], Any]]:
        """A function item → future that computes ``fn(item, payload)``."""
        if self.backend == "serial":
            yield lambda item: _Deferred(fn, item, payload)
            return
        if self.backend == "process":
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            _SHARED["payload"] = payload  # inherited by forked workers
            ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
            initargs = () if ctx.get_start_method() == "fork" else (payload,)
            try:
                with ProcessPoolExecutor(self.workers, mp_context=ctx,
                                         initializer=_set_payload, initargs=initargs) as pool:
                    yield lambda item: pool.submit(fn, item)
            finally:
                _SHARED.pop("payload", None)  # the parent keeps no run's inputs alive
            return
        if self.client is None:
            raise RuntimeError("a dask Backend maps only inside its with block")
        # the payload travels pickled, once to each worker, and is unpickled once there:
        # scattering the object itself makes Dask walk it (measured 3 s vs 0.3 s for the
        # 19 MB decision plan of ukraine-national)
        import pickle
        import uuid

        key = uuid.uuid4().hex
        shared = self.client.scatter(pickle.dumps(payload, protocol=5), broadcast=True,
                                     hash=False)
        executor = self.client.get_executor(pure=False)
        try:
            yield lambda item: executor.submit(_dask_call, fn, item, shared, key)
        finally:
            self.client.cancel(shared)
            self.client.run(_forget_payload)
