"""Calibration: ``pfpp calibrate --places all --holdout-last-year`` as ``make calibrate`` runs it.

Run ``python -m benchmarks.calibration``. It runs the command as a user would (a child
``python -m pfpp_sim calibrate ...``: every English authority, warm-started from the
shipped fit, then the held-out fit from zero trends, processes on every core) and records:

- the wall time of the whole command against the 20-minute target, with the load average
  before and after (other work on the machine slows it);
- the peak resident set size of its largest process (the command or one of its workers,
  from ``os.wait4``);
- the model evaluations of the fit and, separately, of the held-out fit with the minutes it
  took, the optimiser's stopping message, the objective and the held-out scores (model, persistence and pooled AR(1) mean absolute errors, coverage of the 90%
  interval) that the fit's manifest records.

Results go to ``benchmarks/results/calibration.{json,md}`` (written atomically).
``--places`` fits fewer places (``pilots``, or ONS codes), ``--max-iterations`` and
``--replicates`` run a smaller case; ``--keep DIR`` keeps the fit and its report in ``DIR``
(``DIR/fitted/<name>.toml``, ``DIR/reports/<name>/``).
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
TARGET_S = 1200.0


def _run(command: list[str]) -> tuple[float, int, str]:
    """Run ``python -m pfpp_sim`` with ``command``; return wall seconds, peak RSS bytes and stdout."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        # A wide console: the command's closing line (the optimiser's stop) is read whole.
        child = subprocess.Popen([sys.executable, "-m", "pfpp_sim", *command], stdout=out, stderr=err, env={**os.environ, "COLUMNS": "400"})
        _, status, usage = os.wait4(child.pid, 0)  # the child's usage, with the largest of the workers it reaped
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"pfpp {' '.join(command)} failed:\n{stderr[-2000:]}")
    return wall, usage.ru_maxrss * 1024, stdout  # Linux reports KiB


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", default="all", help="places fitted: all (default), pilots or ONS codes")
    parser.add_argument("--results", default=str(RESULTS), help="folder for calibration.json and .md (default benchmarks/results)")
    parser.add_argument("--max-iterations", type=int, default=None, help="most optimiser steps per fit (default: the command's)")
    parser.add_argument("--replicates", type=int, default=None, help="replicates per evaluation (default: the command's)")
    parser.add_argument("--name", default="bench", help="name of the fit (default bench; england to remake the shipped one)")
    parser.add_argument("--keep", default=None, help="keep the fit and its report here (default: a temporary folder, removed)")
    args = parser.parse_args(argv)
    command = ["calibrate", "--places", args.places, "--holdout-last-year", "--name", args.name]
    for flag, value in (("--max-iterations", args.max_iterations), ("--replicates", args.replicates)):
        if value is not None:
            command += [flag, str(value)]
    load_before = os.getloadavg()
    commit = git_commit()  # the code the command runs, before its outputs change the tree
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep) if args.keep else Path(tmp)
        wall, peak, stdout = _run([*command, "--out", str(out)])
        manifest = json.loads((out / "reports" / args.name / "manifest.json").read_text())
    fit = manifest["fit"]
    result = {
        "benchmark": "calibration",
        "command": "pfpp " + " ".join(command),
        "wall_seconds": round(wall, 1),
        "target_seconds": TARGET_S,
        "meets_target": wall < TARGET_S,
        "peak_rss_bytes_largest_process": peak,
        "places": len(fit["places"]) - len(fit.get("derived_places", [])),
        "moments": fit["moments"],
        "evaluations": manifest["evaluations"],
        "holdout_evaluations": manifest["holdout_evaluations"],
        "fit_seconds": manifest["seconds"],
        "holdout_seconds": manifest["holdout_seconds"],
        "objective": fit["objective"],
        "stopped": next((line.strip() for line in stdout.splitlines() if " evaluations, " in line), ""),
        "warnings": len(fit["warnings"]),
        "holdout": manifest["holdout"],
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "git_commit": commit,
        "environment": environment(),
    }
    results = Path(args.results)
    write_json(result, results / "calibration.json")
    write_text(_markdown(result), results / "calibration.md")
    print(_markdown(result))
    return result


def _markdown(r: dict) -> str:
    lines = [
        "# Calibration",
        "",
        f"`{r['command']}` (warm-started from the shipped fit; the held-out fit from zero trends), "
        f"{r['cpus']} cores, commit {r['git_commit']}.",
        "",
        "| places | moments | evaluations: fit, held-out fit | wall | of which the held-out fit | target "
        "| peak RSS, largest process | load before | load after |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---|",
        f"| {r['places']} | {r['moments']} | {r['evaluations']}, {r['holdout_evaluations']} | {r['wall_seconds'] / 60:.1f} min | "
        f"{r['holdout_seconds'] / 60:.1f} min | "
        f"{r['target_seconds'] / 60:.0f} min ({'met' if r['meets_target'] else 'not met'}) | "
        f"{r['peak_rss_bytes_largest_process'] / 2**30:.2f} GiB | {', '.join(map(str, r['load_average_before']))} | "
        f"{', '.join(map(str, r['load_average_after']))} |",
        "",
        f"Optimiser: {r['stopped']}",
        "",
        "Held-out year, mean absolute error in percentage points:",
        "",
        "| series | year | model | model level | persistence | pooled AR(1) | rank corr. | 90% coverage | change corr. |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for h in r["holdout"] or []:
        lines.append(
            f"| {h['metric']} | {h['held_out_year']} | {100 * h['model_mae']:.2f} | {100 * h['model_level_mae']:.2f} | "
            f"{100 * h['persistence_mae']:.2f} | {100 * h['ar1_mae']:.2f} | {h['model_rank_correlation']:+.2f} | "
            f"{h['coverage_90']:.0%} | {h.get('change_correlation', float('nan')):+.2f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
