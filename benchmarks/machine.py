"""How fast this machine is, on two fixed workloads, recorded beside each benchmark's figures.

The machines benchmarks run on differ from one session to another: the same commit has run
more than a quarter slower on one than on another. A figure is comparable with an earlier one only as
far as the machines are, so each benchmark also times, in the same run, two workloads that
do not depend on pfpp_sim:

- ``python_loop_s``: a loop of plain Python arithmetic, as departments', councils' and the
  model's Python code is;
- ``numpy_normals_s``: NumPy drawing ten million float32 standard normals, as the
  residents' numbers are drawn (random numbers and memory traffic, as in the compiled loops).

A benchmark figure that moved with both of them between two records moved with the machine.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

__all__ = ["describe", "speed"]

_NORMALS = 10_000_000
_LOOP = 2_000_000


def _python_loop() -> int:
    total = 0
    for i in range(_LOOP):
        total += i * i % 7
    return total


def _numpy_normals(out: np.ndarray) -> None:
    np.random.default_rng(0).standard_normal(out=out, dtype=np.float32)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _median_seconds(work, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def speed(repeats: int = 5) -> dict[str, object]:
    """This machine's CPU model and the median seconds of each fixed workload over ``repeats`` timings.

    Returns
    -------
    dict
        ``cpu``, ``python_loop_s``, ``numpy_normals_s``, ``repeats``.
    """
    out = np.empty(_NORMALS, dtype=np.float32)
    return {
        "cpu": _cpu_model(),
        "python_loop_s": round(_median_seconds(_python_loop, repeats), 4),
        "numpy_normals_s": round(_median_seconds(lambda: _numpy_normals(out), repeats), 4),
        "repeats": repeats,
    }


def describe(machine: dict[str, object]) -> str:
    """One sentence for a benchmark's Markdown report."""
    return (
        f"Machine ({machine['cpu']}), timed in the same run (`benchmarks/machine.py`, median of {machine['repeats']}): "
        f"a 2-million-step Python loop {machine['python_loop_s']:.3f} s, ten million NumPy float32 normals "
        f"{machine['numpy_normals_s']:.3f} s."
    )
