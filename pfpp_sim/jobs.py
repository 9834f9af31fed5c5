"""Many runs on an executor, each result kept as it arrives: what sweeps, explanations and robustness runs share.

A job is any object with a hashable ``key`` attribute (a run number; a ``(combination,
replicate)`` pair). ``work(batch) -> [(key, table or error message)]`` runs a batch of jobs
in a worker. Each finished table goes to a store: :class:`Kept` holds them in memory, and
:class:`pfpp_sim.storage.RunFolder` writes each to its own Parquet file as it arrives, so
that a run cut short at any point resumes with no duplicate and no missing job. Which
worker runs which job never changes a result: each job draws its own random streams.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import as_completed
from typing import Any, Protocol

import pandas as pd

from pfpp_sim.workers import ExecutorChoice, lost_workers_explained, open_executor

__all__ = ["Kept", "Store", "Work", "run_jobs"]

Work = Callable[[list[Any]], list[tuple[Hashable, "pd.DataFrame | str"]]]
"""``work(batch) -> [(key, table or error message)]``, picklable (a module-level function or a ``functools.partial`` of one)."""


class Store(Protocol):
    """Where finished jobs' tables are kept (:class:`Kept`, :class:`pfpp_sim.storage.RunFolder`)."""

    def finished(self, keys: Iterable[Hashable]) -> set[Hashable]:
        """The keys among ``keys`` whose table is held (and readable)."""

    def put(self, key: Hashable, table: pd.DataFrame) -> None:
        """Keep a finished job's table."""

    def get(self, key: Hashable) -> pd.DataFrame:
        """A finished job's table."""


class Kept:
    """Finished jobs' tables held in memory (nothing written, nothing to resume)."""

    def __init__(self) -> None:
        self._tables: dict[Hashable, pd.DataFrame] = {}

    def finished(self, keys: Iterable[Hashable]) -> set[Hashable]:
        return {key for key in keys if key in self._tables}

    def put(self, key: Hashable, table: pd.DataFrame) -> None:
        self._tables[key] = table

    def get(self, key: Hashable) -> pd.DataFrame:
        return self._tables[key]


def run_jobs(
    work: Work,
    jobs: Sequence[Any],
    store: Store,
    *,
    executor: ExecutorChoice,
    workers: int | None = None,
    scheduler: str | None = None,
    batch_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[tuple[Any, str]]:
    """Run the jobs whose table the store does not hold yet; keep each table as it arrives.

    Parameters
    ----------
    work : callable
        ``work(batch) -> [(key, table or error message)]``, picklable; it runs in the workers.
    jobs : sequence
        Objects with a hashable ``key``, in the order batches are formed.
    store : Store
        Where finished tables are (or go).
    executor : {"serial", "processes", "dask"} or concurrent.futures.Executor
        A single pending job runs in this process whatever the executor.
    workers : int, optional
        Worker processes (default: all cores).
    scheduler : str, optional
        Dask scheduler address.
    batch_size : int, optional
        Jobs sent to a worker at once (default: about a quarter of each worker's share, at most 50).
    progress : callable, optional
        ``progress(done, total)``, first with the jobs already held, then as jobs finish.

    Returns
    -------
    list of (job, str)
        The jobs that failed, with their error messages; every other job's table is in the store.
    """
    held = store.finished(job.key for job in jobs)
    pending = [job for job in jobs if job.key not in held]
    done = len(jobs) - len(pending)
    if progress:
        progress(done, len(jobs))
    failures: list[tuple[Any, str]] = []
    by_key = {job.key: job for job in pending}

    def keep(results) -> None:
        nonlocal done
        for key, table in results:
            if isinstance(table, str):
                failures.append((by_key[key], table))
                continue
            store.put(key, table)
            done += 1
        if progress:
            progress(done, len(jobs))

    if executor == "serial" or len(pending) <= 1:
        for job in pending:
            keep(work([job]))
        return failures
    size = batch_size or max(1, min(50, math.ceil(len(pending) / ((workers or os.cpu_count() or 1) * 4))))
    pool, close = open_executor(executor, workers, scheduler)
    try:
        with lost_workers_explained():
            futures = [pool.submit(work, pending[i : i + size]) for i in range(0, len(pending), size)]
            for future in as_completed(futures):
                keep(future.result())
    finally:
        close()
    return failures
