"""Faults injected into pfpp's Parquet writes, for the fault tests (tests/README.md lists them).

As a script, ``python tests/faults.py N ARGS...`` runs ``pfpp ARGS...`` and kills itself
with SIGKILL, as ``kill -9`` would, half way through writing its N-th Parquet file;
``python tests/faults.py --sigint N ARGS...`` sends itself SIGINT, as Ctrl+C in a terminal
would, once its N-th Parquet file is written.
"""

from __future__ import annotations

import errno
import io
import itertools
import os
import signal
import sys
from collections.abc import Callable

import pyarrow.parquet as pq

REAL_WRITE_TABLE = pq.write_table


def half_written(nth: int, then: Callable[[], None]):
    """A ``pyarrow.parquet.write_table`` whose ``nth`` call writes half the file, flushes it to disk, then calls ``then``.

    Every Parquet file pfpp writes goes through it (``pfpp_sim.storage.write_parquet``).
    """
    calls = itertools.count(1)

    def write_table(table, handle, *args, **kwargs):
        if next(calls) != nth:
            return REAL_WRITE_TABLE(table, handle, *args, **kwargs)
        buffer = io.BytesIO()
        REAL_WRITE_TABLE(table, buffer, *args, **kwargs)
        blob = buffer.getvalue()
        handle.write(blob[: len(blob) // 2])
        handle.flush()
        os.fsync(handle.fileno())
        then()

    return write_table


def then_sigint(nth: int):
    """A ``pyarrow.parquet.write_table`` that sends its own process SIGINT once its ``nth`` call has written the file."""
    calls = itertools.count(1)

    def write_table(table, handle, *args, **kwargs):
        REAL_WRITE_TABLE(table, handle, *args, **kwargs)
        if next(calls) == nth:
            os.kill(os.getpid(), signal.SIGINT)

    return write_table


def disk_full() -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def ctrl_c() -> None:
    raise KeyboardInterrupt


def kill_9() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    if sys.argv[1] == "--sigint":
        pq.write_table = then_sigint(int(sys.argv[2]))
        pfpp_args = sys.argv[3:]
    else:
        pq.write_table = half_written(int(sys.argv[1]), kill_9)
        pfpp_args = sys.argv[2:]
    from pfpp_sim.cli import app

    app(pfpp_args, prog_name="pfpp")
