"""Faults injected into pfpp's Parquet writes, for the fault tests (tests/README.md lists them).

As a script, ``python tests/faults.py N ARGS...`` runs ``pfpp ARGS...`` and kills itself
with SIGKILL, as ``kill -9`` would, half way through writing its N-th Parquet file.
"""

from __future__ import annotations

import errno
import io
import itertools
import os
import signal
import sys
from collections.abc import Callable

import pandas as pd

REAL_TO_PARQUET = pd.DataFrame.to_parquet


def half_written(nth: int, then: Callable[[], None]):
    """A ``DataFrame.to_parquet`` whose ``nth`` call writes half the file, flushes it to disk, then calls ``then``."""
    calls = itertools.count(1)

    def to_parquet(frame, handle, *args, **kwargs):
        if next(calls) != nth:
            return REAL_TO_PARQUET(frame, handle, *args, **kwargs)
        buffer = io.BytesIO()
        REAL_TO_PARQUET(frame, buffer, *args, **kwargs)
        blob = buffer.getvalue()
        handle.write(blob[: len(blob) // 2])
        handle.flush()
        os.fsync(handle.fileno())
        then()

    return to_parquet


def disk_full() -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def ctrl_c() -> None:
    raise KeyboardInterrupt


def kill_9() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    pd.DataFrame.to_parquet = half_written(int(sys.argv[1]), kill_9)
    from pfpp_sim.cli import app

    app(sys.argv[2:], prog_name="pfpp")
