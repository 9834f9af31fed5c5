"""Speed settings: the residents' engine's blocks, threads and drawing ahead, reused starting residents and random numbers, and the allocator.

None of them changes a result. Residents are stepped in blocks of whole places, with each
month's random numbers drawn for everyone first in the rules' order, so the numbers each
person gets do not depend on the blocks, on the threads that step them or on whether they
were drawn a month ahead or read from those an earlier run from the same set-up drew
(:class:`~pfpp_sim.residents.ResidentEngine`). The plain serial
path is ``threads=1, draw_ahead=False``. The defaults below are what
:class:`~pfpp_sim.residents.ResidentEngine` uses when it is not told otherwise.

:func:`keep_freed_memory` changes how the whole process allocates memory; it is opt-in,
called by the ``pfpp`` command for runs of every place and for calibrations, and by the
benchmarks, never by building a model.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from typing import TypeVar

import numpy as np

__all__ = [
    "BLOCK_HOUSEHOLDS", "BLOCK_THREADS", "DRAW_AHEAD_HOUSEHOLDS", "KEEP_HOUSEHOLDS", "KEEP_NUMBERS_BYTES", "keep_freed_memory",
    "keeps_freed_memory", "run_all", "submit", "thread_pool",
]

BLOCK_HOUSEHOLDS = 1 << 17
"""Households at which a block of places closes: residents are stepped block by block
(:func:`~pfpp_sim.population.place_blocks`), so a month's temporary arrays stay small
and in cache whatever the number of residents."""

DRAW_AHEAD_HOUSEHOLDS = 1 << 18
"""From this many households, by default, next month's resident random numbers are drawn in
a helper thread while the model does the rest of its month
(:class:`~pfpp_sim.streams.DrawingAhead`), and blocks of residents are stepped by up to
:data:`BLOCK_THREADS` threads. Blocks write disjoint rows and use numbers drawn
beforehand, so the results are the same either way."""

BLOCK_THREADS = 4
"""Most threads stepping blocks at once by default (no more than the machine's CPUs)."""

T = TypeVar("T")

_freed_memory_kept = False  # set by keep_freed_memory: process pools pass it on to their workers

KEEP_HOUSEHOLDS = 1 << 18
"""Households up to which a replicate's starting residents, and a model's set-up before
month 0, are kept in the process and reused by its next runs
(:func:`~pfpp_sim.starting.starting_population`, :meth:`~pfpp_sim.model.PfppModel.at_start`);
a larger population is built for each run, as keeping it would double a large run's memory."""

KEEP_NUMBERS_BYTES = 1 << 26
"""Bytes of resident random numbers, over a run's months, up to which a kept set-up also
keeps them for its next runs (:class:`~pfpp_sim.streams.KeptNumbers`): 64 MB, about 30 MB
for the 14 default places at 1:100 over 60 months."""


def keep_freed_memory() -> None:
    """Ask glibc's malloc to keep freed memory for reuse instead of returning it to the system.

    Every month allocates and frees block-sized temporaries many times; by default glibc
    hands memory above a moving threshold back to the system and takes it back page by
    page (six times the page faults of a default run, and in threads the faults
    serialise). This keeps up to 256 MB of freed memory per arena and serves
    allocations below 32 MB from the arenas, for the rest of the process and of the
    workers of the process pools it starts later (:func:`~pfpp_sim.workers.process_pool`
    sets it in each: Mesa has workers started afresh, not forked). It also caps the
    arenas at two: each thread that draws numbers or steps a block would otherwise get an
    arena of its own, each keeping its freed memory (at national scale, 0.3 GB more peak
    memory in one measurement).

    It also stops numpy asking the kernel for transparent huge pages for its large
    arrays (``madvise(MADV_HUGEPAGE)``, numpy's default from Linux 4.6, which the
    environment variable ``NUMPY_MADVISE_HUGEPAGE=0`` turns off only before numpy is
    imported). Each huge page is zeroed whole when first touched: on the 2-core machine
    of ``benchmarks/``, building the national model and stepping it six months took
    12.6 s of system time with huge pages and 3.4 s without, the months that list
    intervention groups (arrays of every household) 2.9-3.7 s of wall time each
    instead of 0.8 s, and peak memory 0.3 GB more. Linux with glibc only; a no-op
    elsewhere. It changes no result.
    """
    global _freed_memory_kept
    _freed_memory_kept = True
    if not sys.platform.startswith("linux"):
        return
    _no_huge_pages()
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_trim_threshold, m_top_pad, m_mmap_threshold, m_arena_max = -1, -2, -3, -8  # glibc's mallopt parameters
    libc.mallopt(m_arena_max, 2)
    libc.mallopt(m_mmap_threshold, 32 << 20)
    libc.mallopt(m_trim_threshold, 256 << 20)
    libc.mallopt(m_top_pad, 64 << 20)


def keeps_freed_memory() -> bool:
    """Whether :func:`keep_freed_memory` was called in this process."""
    return _freed_memory_kept


def _no_huge_pages() -> None:
    """Stop numpy advising transparent huge pages for the arrays it allocates from now on (if this numpy can)."""
    multiarray = getattr(getattr(np, "_core", None), "multiarray", None)  # numpy 2; numpy 1.26 has it in np.core
    set_madvise = getattr(multiarray or np.core.multiarray, "_set_madvise_hugepage", None)
    if set_madvise is not None:
        set_madvise(False)


def thread_pool(threads: int) -> AbstractContextManager[ThreadPoolExecutor | None]:
    """A pool of ``threads`` threads as a context, or ``None`` as a context for one thread.

    Parameters
    ----------
    threads : int
        At least 1.

    Returns
    -------
    context manager of ThreadPoolExecutor or None
    """
    return ThreadPoolExecutor(threads) if threads > 1 else nullcontext()


def submit(pool: ThreadPoolExecutor | None, job: Callable[[], T]) -> Future[T]:
    """``job`` submitted to a thread pool if given, else run now: its result as a future either way.

    Parameters
    ----------
    pool : ThreadPoolExecutor or None
    job : callable
        Called with no arguments.

    Returns
    -------
    concurrent.futures.Future
        Of what ``job`` returns; without a pool, already done (a failure is raised at once).
    """
    if pool is not None:
        return pool.submit(job)
    done: Future[T] = Future()
    done.set_result(job())
    return done


def run_all(jobs: list[Callable[[], None]], pool: ThreadPoolExecutor | None) -> None:
    """Run independent jobs, in a thread pool if given, else one after another; re-raise the first failure.

    Parameters
    ----------
    jobs : list of callable
        Each called with no arguments; what it returns is dropped.
    pool : ThreadPoolExecutor or None
    """
    if pool is None:
        for job in jobs:
            job()
        return
    for future in [pool.submit(job) for job in jobs]:
        future.result()
