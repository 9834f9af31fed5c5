"""Robustness: ``pfpp robustness siloed_baseline pfpp_joined_up --samples 256`` at default settings.

Run ``python -m benchmarks.robustness``. It runs the command as a user would (a child
``python -m pfpp_sim robustness ... --json``: 14 places at 1:100, 60 months, the default
replicates, processes on every core), and records:

- the wall time of the whole command against the 10-minute target (DESIGN.md §7), and
  the load average before and after (other work on the machine slows it);
- the worlds, replicates, runs and sampled assumptions it ran;
- per outcome, the share of worlds in which the sign holds and the noise share (how much
  of the spread across worlds replicate noise alone would give), which is what the
  default number of replicates has to keep low.

Results go to ``benchmarks/results/robustness.{json,md}`` (written atomically).
``--samples``, ``--replicates``, ``--places`` and ``--horizon`` run a smaller case.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pfpp_sim.storage import environment, git_commit, write_json, write_text

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_S = 600.0
OUTCOMES = ("fuel_poverty_rate", "neet_16_17_rate", "youth_unemployment_rate", "youth_mh_rate", "returned_gbp", "overhead_gbp")
"""Outcomes whose findings the Markdown table shows (the JSON keeps every outcome)."""


def _shown(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=256, help="sampled worlds (default 256)")
    parser.add_argument("--replicates", type=int, default=None, help="paired replicates per world (default: the command's)")
    parser.add_argument("--places", default=None, help="places (default: the scenarios')")
    parser.add_argument("--horizon", type=int, default=None, help="months (default: the scenarios')")
    parser.add_argument("--results", default=str(RESULTS), help="folder for robustness.json and .md (default benchmarks/results)")
    parser.add_argument("--keep", default=None, help="keep the robustness run's folder here (default: a temporary folder, removed)")
    args = parser.parse_args(argv)
    options = ["--samples", str(args.samples)]
    for flag, value in (("--replicates", args.replicates), ("--places", args.places), ("--horizon", args.horizon)):
        if value is not None:
            options += [flag, str(value)]
    command = ["pfpp", "robustness", "siloed_baseline", "pfpp_joined_up", *options]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep) if args.keep else Path(tmp) / "out"
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pfpp_sim", *command[1:], "--json", "--out", str(out)], capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.strip()}")
    payload = json.loads(done.stdout)
    outcomes = {o["metric"]: {k: o[k] for k in ("direction", "sign_holds", "default_difference", "q05", "q95", "noise_share")}
                for o in payload["outcomes"]}
    worlds = payload["sampled_worlds"] + 1
    result = {
        "benchmark": "robustness",
        "command": " ".join(command),
        "wall_seconds": round(wall, 1),
        "target_seconds": TARGET_S,
        "meets_target": wall < TARGET_S,
        "sampled_worlds": payload["sampled_worlds"],
        "replicates": payload["replicates"],
        "runs": worlds * payload["replicates"] * 2,
        "assumptions_sampled": len(payload["factors"]),
        "not_sampled": len(payload["not_sampled"]),
        "outcomes": outcomes,
        "load_average": {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]},
        "environment": {**environment(), "machine": platform.machine(), "cpus": os.cpu_count()},
        "git_commit": git_commit(),
    }
    folder = Path(args.results)
    write_json(result, folder / "robustness.json")
    rows = [
        f"| {metric} | {o['direction']} | {_shown(o['sign_holds'], '.0%')} | {_shown(o['noise_share'], '.2f')} |"
        for metric, o in outcomes.items() if metric in OUTCOMES
    ]
    load = result["load_average"]
    write_text(
        f"# Robustness\n\n`{result['command']}` (`python -m benchmarks.robustness`), {os.cpu_count()} cores, commit "
        f"{result['git_commit']}; load average (1, 5, 15 min) {tuple(load['before'])} before, {tuple(load['after'])} after.\n\n"
        "| measure | value |\n|---|---:|\n"
        f"| wall time of the command (target < {TARGET_S:.0f} s) | {result['wall_seconds']} s |\n"
        f"| sampled worlds (+ the default world) | {result['sampled_worlds']} |\n"
        f"| paired replicates per world | {result['replicates']} |\n"
        f"| model runs | {result['runs']:,} |\n"
        f"| assumptions sampled | {result['assumptions_sampled']} |\n\n"
        "| outcome | direction as given | same sign in | noise share |\n|---|---|---:|---:|\n" + "\n".join(rows) + "\n",
        folder / "robustness.md",
    )
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
