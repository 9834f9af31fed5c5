"""Sweep throughput: the 1,000-run LHS over five levers on the 14 default places at 1:100.

Run ``python -m benchmarks.sweep_throughput [--quick]``. It measures, in one session:

- runs/s of the same LHS sweep with 1 worker and with 2 workers (processes executor),
  on ``--subset`` runs (default 200), and the speed-up from 1 to 2 workers;
- the wall time of the full 1,000-run sweep (``sweeps/levers_lhs.toml``) with 2 workers,
  against the 5-minute target.

Results go to ``benchmarks/results/sweep_throughput.{json,md}`` (written atomically).
``--quick`` uses 20 runs and skips the full sweep.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import tomllib
from pathlib import Path

from pfpp_sim.storage import git_commit, package_version, write_json, write_text
from pfpp_sim.sweep import run_sweep

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "sweeps" / "levers_lhs.toml"
RESULTS = Path(__file__).resolve().parent / "results"
TARGET_S = 300.0


def _spec_with_samples(folder: Path, samples: int) -> Path:
    text = SPEC.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    path = folder / f"levers_lhs_{samples}.toml"
    path.write_text(text.replace(f"samples = {data['samples']}", f"samples = {samples}", 1), encoding="utf-8")
    return path


def _timed_sweep(spec: Path, out: Path, workers: int) -> float:
    started = time.perf_counter()
    run_sweep(spec, out, executor="processes", workers=workers)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 runs, no full sweep")
    parser.add_argument("--subset", type=int, default=200, help="runs for the 1- vs 2-worker comparison")
    args = parser.parse_args(argv)
    subset = 20 if args.quick else args.subset
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        spec = _spec_with_samples(folder, subset)
        one = _timed_sweep(spec, folder / "one", 1)
        two = _timed_sweep(spec, folder / "two", 2)
        full = None if args.quick else _timed_sweep(SPEC, folder / "full", 2)
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
        "full_runs": None if full is None else 1000,
        "full_seconds_2_workers": None if full is None else round(full, 1),
        "full_target_seconds": TARGET_S,
        "full_meets_target": None if full is None else full < TARGET_S,
        "cpu_count": os.cpu_count(),
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
    if full is not None:
        rows.append(f"| full 1,000-run sweep, 2 workers (target < {TARGET_S:.0f} s) | {full:.1f} s |")
    write_text("# Sweep throughput\n\n`python -m benchmarks.sweep_throughput`"
               f"{' --quick' if args.quick else ''}, {os.cpu_count()} cores, commit {result['git_commit']}.\n\n"
               + "\n".join(rows) + "\n", RESULTS / "sweep_throughput.md")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
