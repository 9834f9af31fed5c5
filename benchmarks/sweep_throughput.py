"""Sweep throughput: the 1,000-run LHS over five levers on the 14 default places at 1:100.

Run ``python -m benchmarks.sweep_throughput [--quick]``. It measures, in one session:

- runs/s of the same LHS sweep with 1 worker and with 2 workers (processes executor),
  on ``--subset`` runs (default 200), and the speed-up from 1 to 2 workers;
- the wall time of the full 1,000-run sweep (``sweeps/levers_lhs.toml``) with 2 workers,
  ``--repeats`` times (default 3; the median is reported), against the design's 5-minute
  target and the 60-second goal;
- a digest of each sweep's results (SHA-256 of its results table), so that the 1- and
  2-worker sweeps, the repeats, and commits that should not change results can be seen
  to give the same numbers;
- the load average before and after (other work on the machine slows it), and the
  machine's speed on fixed workloads (:mod:`benchmarks.machine`).

Results go to ``benchmarks/results/sweep_throughput.{json,md}`` (written atomically).
``--quick`` uses 20 runs and skips the full sweep.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import tempfile
import time
import tomllib
from pathlib import Path

import pandas as pd

from benchmarks import machine
from pfpp_sim.storage import git_commit, package_version, write_json, write_text
from pfpp_sim.sweep import run_sweep, sweep_results

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "sweeps" / "levers_lhs.toml"
RESULTS = Path(__file__).resolve().parent / "results"
TARGET_S = 300.0
GOAL_S = 60.0


def _spec_with_samples(folder: Path, samples: int) -> Path:
    text = SPEC.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    path = folder / f"levers_lhs_{samples}.toml"
    path.write_text(text.replace(f"samples = {data['samples']}", f"samples = {samples}", 1), encoding="utf-8")
    return path


def _timed_sweep(spec: Path, out: Path, workers: int) -> tuple[float, str]:
    """Wall seconds of a sweep, and the digest of its results."""
    started = time.perf_counter()
    run_sweep(spec, out, executor="processes", workers=workers)
    return time.perf_counter() - started, _digest(out)


def _digest(out: Path) -> str:
    """SHA-256 of a sweep's results table (values, in order), first 16 hex digits."""
    table = sweep_results(out)
    return hashlib.sha256(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes()).hexdigest()[:16]


def _load() -> tuple[float, ...]:
    return tuple(round(x, 2) for x in os.getloadavg())


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 runs, no full sweep")
    parser.add_argument("--subset", type=int, default=200, help="runs for the 1- vs 2-worker comparison")
    parser.add_argument("--repeats", type=int, default=3, help="times the full sweep is run (default 3)")
    args = parser.parse_args(argv)
    subset = 20 if args.quick else args.subset
    load_before = _load()
    speed = machine.speed()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        spec = _spec_with_samples(folder, subset)
        one, one_digest = _timed_sweep(spec, folder / "one", 1)
        two, two_digest = _timed_sweep(spec, folder / "two", 2)
        fulls = [] if args.quick else [_timed_sweep(SPEC, folder / f"full{i}", 2) for i in range(args.repeats)]
    full = statistics.median(seconds for seconds, _ in fulls) if fulls else None
    result = {
        "benchmark": "sweep_throughput",
        "spec": "sweeps/levers_lhs.toml",
        "places": 14,
        "scale": 0.01,
        "horizon_months": 60,
        "subset_runs": subset,
        "seconds_1_worker": round(one, 2),
        "seconds_2_workers": round(two, 2),
        "runs_per_s_1_worker": round(subset / one, 3),
        "runs_per_s_2_workers": round(subset / two, 3),
        "speedup_1_to_2_workers": round(one / two, 3),
        "subset_digests": [one_digest, two_digest],
        "same_results_1_and_2_workers": one_digest == two_digest,
        "full_runs": None if full is None else 1000,
        "full_seconds_2_workers": None if full is None else round(full, 1),
        "full_seconds_each": [round(seconds, 1) for seconds, _ in fulls],
        "full_digests": [digest for _, digest in fulls],
        "full_target_seconds": TARGET_S,
        "full_meets_target": None if full is None else full < TARGET_S,
        "full_goal_seconds": GOAL_S,
        "full_meets_goal": None if full is None else full < GOAL_S,
        "load_before": load_before,
        "load_after": _load(),
        "cpu_count": os.cpu_count(),
        "machine": speed,
        "python": platform.python_version(),
        "pfpp_sim_version": package_version(),
        "git_commit": git_commit(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_json(result, RESULTS / "sweep_throughput.json")
    rows = [
        "| measure | value |",
        "|---|---:|",
        f"| runs in the 1- vs 2-worker comparison | {subset} |",
        f"| runs/s, 1 worker | {result['runs_per_s_1_worker']} |",
        f"| runs/s, 2 workers | {result['runs_per_s_2_workers']} |",
        f"| speed-up 1 -> 2 workers | {result['speedup_1_to_2_workers']} |",
    ]
    rows.append(f"| results digest, 1 and 2 workers | {one_digest}, {two_digest} |")
    if full is not None:
        each = ", ".join(f"{seconds:.1f}" for seconds in result["full_seconds_each"])
        rows.append(f"| full 1,000-run sweep, 2 workers, median of {len(fulls)} ({each}) (target < {TARGET_S:.0f} s, goal < {GOAL_S:.0f} s) | {full:.1f} s |")
        rows.append(f"| results digest of each full sweep | {', '.join(result['full_digests'])} |")
    command = "python -m benchmarks.sweep_throughput" + (" --quick" if args.quick else f" --repeats {args.repeats}")
    write_text(f"# Sweep throughput\n\n`{command}`, {os.cpu_count()} cores, commit {result['git_commit']}; load average "
               f"(1, 5, 15 min) {load_before} before, {result['load_after']} after. {machine.describe(speed)}\n\n"
               + "\n".join(rows) + "\n", RESULTS / "sweep_throughput.md")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
