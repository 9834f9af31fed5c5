"""Worker processes that never outlive the command that started them.

A pool's workers block writing results to a pipe nobody reads once their parent is gone
(``kill -9`` of ``pfpp compare`` left them alive, holding memory, for minutes). Each
worker asks the kernel to kill it when its parent dies (Linux's parent-death signal) and
checks, once set up, that the parent is still there.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, Literal

from pfpp_sim.errors import PfppError
from pfpp_sim.speed import keep_freed_memory, keeps_freed_memory

__all__ = ["ExecutorChoice", "check_executor", "execution", "lost_workers_explained", "open_executor", "process_pool"]

ExecutorChoice = Literal["serial", "processes", "dask"] | Executor
"""Where a command's runs go, the same for every command that runs many: ``"serial"`` (this
process), ``"processes"`` (local worker processes), ``"dask"`` (a local Dask cluster, or a
scheduler's address given beside it), or any ``concurrent.futures.Executor`` (e.g. a Dask
``Client.get_executor()``), which the caller keeps and closes."""

_PR_SET_PDEATHSIG = 1  # prctl option: signal this process when its parent dies


def _start_worker(parent: int, keep_freed: bool) -> None:
    """Initializer of every worker: die with the parent, and allocate as the parent does (:func:`~pfpp_sim.speed.keep_freed_memory`)."""
    _die_with_parent(parent)
    if keep_freed:
        keep_freed_memory()


def _die_with_parent(parent: int) -> None:
    """Be killed with the parent (Linux), and exit now if it is already gone."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass  # no prctl here: the pipe to a dead parent still ends the worker when it next reports
    if os.getppid() != parent:
        os._exit(1)


def process_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """A process pool whose workers exit when the process that made it dies.

    Workers allocate memory as this process does: when it keeps freed memory
    (:func:`~pfpp_sim.speed.keep_freed_memory`, as large runs do), so does each worker.

    Parameters
    ----------
    workers : int, optional
        Worker processes (default: all cores).

    Returns
    -------
    concurrent.futures.ProcessPoolExecutor
    """
    return ProcessPoolExecutor(
        max_workers=workers or os.cpu_count(), initializer=_start_worker, initargs=(os.getpid(), keeps_freed_memory()),
    )


def check_executor(executor: ExecutorChoice) -> None:
    """Refuse, in one line, an executor named by a string other than serial, processes or dask.

    Raises
    ------
    PfppError
        ``unknown executor 'threads': expected serial, processes or dask``.
    """
    if isinstance(executor, str) and executor not in ("serial", "processes", "dask"):
        raise PfppError(f"unknown executor {executor!r}: expected serial, processes or dask")


@contextmanager
def lost_workers_explained() -> Iterator[None]:
    """Turn a process pool whose worker died into one line saying the likely causes.

    A script that starts workers at its top level, without ``if __name__ == "__main__":``,
    makes every worker fail on start-up (workers are started by *spawn*, which imports the
    script again); so does a worker killed for lack of memory. Python reports either as a
    ``BrokenProcessPool`` traceback.

    Raises
    ------
    PfppError
        Instead of ``BrokenProcessPool``.
    """
    try:
        yield
    except BrokenProcessPool as err:
        raise PfppError(
            "a worker process stopped before finishing: a script must start runs under "
            "'if __name__ == \"__main__\":' (worker processes import it again), and a worker killed for "
            "lack of memory stops the same way; executor='serial' runs in this process"
        ) from err


def open_executor(kind: str | Executor, workers: int | None = None, scheduler: str | None = None) -> tuple[Executor, Callable[[], None]]:
    """An executor of ``"processes"`` or ``"dask"``, and the function that closes it.

    Parameters
    ----------
    kind : {"processes", "dask"} or concurrent.futures.Executor
        An executor given is returned as it is, with a ``close`` that does nothing: its
        owner closes it (:data:`ExecutorChoice`).
    workers : int, optional
        Worker processes (default: all cores); for Dask, those of a local cluster.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``); without it, Dask
        starts a local cluster of ``workers`` single-threaded processes.

    Returns
    -------
    tuple
        ``(executor, close)``; call ``close()`` when done (it cancels what is still queued).

    Raises
    ------
    PfppError
        If ``kind`` is ``"serial"`` or another string (:func:`check_executor`), or Dask is
        asked for and the ``dask`` extra is not installed.
    """
    if not isinstance(kind, str):
        return kind, lambda: None
    check_executor(kind)
    if kind == "serial":
        raise PfppError("executor 'serial': runs in this process need no executor")
    if kind == "processes":
        pool = process_pool(workers)
        return pool, lambda: pool.shutdown(cancel_futures=True)
    try:
        from distributed import Client, LocalCluster
    except ImportError as err:
        raise PfppError("the dask executor needs the 'dask' extra: pip install 'pfpp_sim[dask]'") from err
    if scheduler:
        client = Client(scheduler)
        cluster = None
    else:
        cluster = LocalCluster(n_workers=workers or os.cpu_count(), threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)

    def close() -> None:
        client.close()
        if cluster is not None:
            cluster.close()

    return client.get_executor(), close


def execution(executor: str | Executor, workers: int | None = None, scheduler: str | None = None) -> dict[str, Any]:
    """How a command spread its runs, as its manifest records it.

    Parameters
    ----------
    executor : {"serial", "processes", "dask"} or concurrent.futures.Executor
    workers : int, optional
        Worker processes asked for (default: all cores).
    scheduler : str, optional
        Address of the Dask scheduler used (``None``: a local cluster).

    Returns
    -------
    dict
        ``executor``, then ``workers`` for local processes or a local Dask cluster and
        ``scheduler`` for Dask; an executor object is named by its class, with its Dask
        client's scheduler address where it has one.
    """
    if not isinstance(executor, str):
        record: dict[str, Any] = {"executor": f"{type(executor).__module__}.{type(executor).__qualname__}"}
        client = getattr(executor, "_client", None)  # a Dask Client.get_executor()
        address = getattr(getattr(client, "scheduler", None), "address", None)
        return record | ({"scheduler": address} if address else {})
    if executor == "serial":
        return {"executor": "serial", "workers": 1}
    if executor == "dask" and scheduler:
        return {"executor": "dask", "scheduler": scheduler}
    record = {"executor": executor, "workers": workers or os.cpu_count() or 1}
    return record | ({"scheduler": "local cluster"} if executor == "dask" else {})
