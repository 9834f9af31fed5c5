"""Teaching app: how long 'Why do the two sides differ?' takes at the app's defaults.

Run ``python -m benchmarks.app_why [--months 12 36 60]`` (needs the ``app`` extra). At the
app's default settings (Hastings, scale 0.01, seed 1, *PfPP joined up* on the right: seven
levers differ), for each month it steps both sides to that month and times
:func:`pfpp_sim.app.why.explain_sides` three ways, in this order:

- *serial*: every run one after another in this process, the reference;
- *first question*: a process pool on every core made for the call, as the app's first
  question of a session (its workers have to start and import pfpp_sim);
- *later question*: on a pool already running, as the app's later questions.

The ratio of each to the serial reference is the speed-up from the worker processes,
net of starting them. It also times one run (building it; then each month) to check
:data:`~pfpp_sim.app.why.BUILD_MONTHS`, and turns the serial reference's own CPU time
(which other work on the machine changes less than its wall time) into CPU milliseconds
per run-month, which is what :data:`~pfpp_sim.app.why.BUDGET_RUN_MONTHS` costs. Target:
under 10 s a question, first or later. The load average before and after is recorded: on
a shared machine Linux gives each session a fair share of the cores (autogroup), so the
worker processes then speed up little. Results go to
``benchmarks/results/app_why.{json,md}`` (written atomically).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from pfpp_sim.app.session import Settings, baseline_scenario, chosen_scenario, start_run
from pfpp_sim.app.why import BUDGET_RUN_MONTHS, BUILD_MONTHS, explain_sides, side_values
from pfpp_sim.storage import environment, git_commit, write_json, write_text
from pfpp_sim.workers import process_pool

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_S = 10.0
MONTHS = (12, 36, 60)


def _one_run(settings: Settings, horizon: int) -> dict[str, float]:
    """Seconds to build one run of the right side, and per month after that (best of 3)."""
    scenario = chosen_scenario(settings)
    start_run(scenario, seed=settings.seed, months=0)  # loads the data tables once
    build, months = [], []
    for _ in range(3):
        started = time.perf_counter()
        model = start_run(scenario, seed=settings.seed, months=0)
        built = time.perf_counter()
        while model.month < horizon:
            model.step()
        build.append(built - started)
        months.append((time.perf_counter() - built) / horizon)
    return {"build_s": min(build), "month_s": min(months), "build_in_months": min(build) / min(months)}


def _warm_up(settings: Settings) -> int:
    """In a worker: build one run, as the app's first question leaves its workers; the worker's process id."""
    start_run(chosen_scenario(settings), seed=settings.seed, months=1)
    return os.getpid()


def _question(settings: Settings, month: int, shown, executor) -> tuple[float, float, object]:
    """Wall seconds, this process's CPU seconds, and the explanation."""
    started, cpu = time.perf_counter(), time.process_time()
    why = explain_sides(settings, month, shown=shown, executor=executor)
    return time.perf_counter() - started, time.process_time() - cpu, why


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, nargs="+", default=list(MONTHS), help="months reached (default 12 36 60)")
    parser.add_argument("--results", default=str(RESULTS), help="folder for app_why.json and .md (default benchmarks/results)")
    args = parser.parse_args(argv)
    settings = Settings()
    load_before = os.getloadavg()
    one_run = _one_run(settings, max(args.months))
    pool = process_pool()
    # The later questions' pool: every worker started (one per task waiting), each with a run built.
    workers = {f.result() for f in [pool.submit(_warm_up, settings) for _ in range(os.cpu_count() or 1)]}
    rows = []
    try:
        for month in args.months:
            left = start_run(baseline_scenario(settings), seed=settings.seed, months=month)
            right = start_run(chosen_scenario(settings), seed=settings.seed, months=month)
            shown = (side_values(left, month), side_values(right, month))
            serial_s, serial_cpu_s, why = _question(settings, month, shown, "serial")
            first_s, _, first = _question(settings, month, shown, "processes")
            later_s, _, later = _question(settings, month, shown, pool)
            for other in (first, later):
                np.testing.assert_array_equal(other.contribution, why.contribution)  # results do not depend on the executor
            run_months = why.runs * (month + BUILD_MONTHS)
            rows.append({
                "month": month,
                "factors": len(why.factors),
                "design": "exact" if why.exact else f"sampled, {why.permutations} orderings",
                "histories": why.replicates,
                "runs": why.runs,
                "planned_run_months": run_months,
                "serial_s": round(serial_s, 2),
                "serial_cpu_s": round(serial_cpu_s, 2),
                "first_question_s": round(first_s, 2),
                "later_question_s": round(later_s, 2),
                "speed_up_first": round(serial_s / first_s, 2),
                "speed_up_later": round(serial_s / later_s, 2),
                "cpu_ms_per_run_month": round(1000 * serial_cpu_s / run_months, 3),
                "adds_up": bool(np.allclose(why.contribution.sum(axis=1), why.difference, rtol=1e-12, atol=1e-6)),
            })
            print(json.dumps(rows[-1]))
    finally:
        pool.shutdown()
    worst = max(max(r["first_question_s"], r["later_question_s"]) for r in rows)
    cpu_ms = max(r["cpu_ms_per_run_month"] for r in rows)
    result = {
        "benchmark": "app_why",
        "settings": {"place": settings.place, "preset": settings.preset, "scale": settings.scale, "seed": settings.seed},
        "one_run": {k: round(v, 4) for k, v in one_run.items()},
        "build_months_assumed": BUILD_MONTHS,
        "budget_run_months": BUDGET_RUN_MONTHS,
        "later_question_workers": len(workers),
        "budget_cpu_s": round(BUDGET_RUN_MONTHS * cpu_ms / 1000, 1),
        "months": rows,
        "target_s": TARGET_S,
        "worst_s": worst,
        "meets_target": worst < TARGET_S,
        "load_average": {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]},
        "environment": {**environment(), "machine": platform.machine(), "cpus": os.cpu_count()},
        "git_commit": git_commit(),
    }
    folder = Path(args.results)
    write_json(result, folder / "app_why.json")
    load = result["load_average"]
    table = "\n".join(
        f"| {r['month']} | {r['design']}, {r['histories']} {'history' if r['histories'] == 1 else 'histories'} | {r['runs']} | "
        f"{r['serial_s']} | {r['first_question_s']} ({r['speed_up_first']}x) | {r['later_question_s']} ({r['speed_up_later']}x) | "
        f"{r['cpu_ms_per_run_month']} |"
        for r in rows
    )
    write_text(
        "# Teaching app: 'Why do the two sides differ?'\n\n`python -m benchmarks.app_why`: `explain_sides` at the app's defaults "
        f"(Hastings, scale {settings.scale}, seed {settings.seed}, {settings.preset} against the siloed baseline: {rows[0]['factors']} levers "
        f"differ), {os.cpu_count()} cores, commit {result['git_commit']}; load average (1, 5, 15 min) {tuple(load['before'])} before, "
        f"{tuple(load['after'])} after.\n\n"
        "| month | design | runs | serial s (reference) | first question s (speed-up) | later question s (speed-up) | "
        "serial CPU ms/run-month |\n|---:|---|---:|---:|---:|---:|---:|\n"
        f"{table}\n\n"
        f"Target: under {TARGET_S:.0f} s a question; slowest measured {worst} s "
        f"({'met' if result['meets_target'] else 'not met'}). One run: {one_run['build_s']:.3f} s to build, "
        f"{1000 * one_run['month_s']:.2f} ms a month, so building costs {one_run['build_in_months']:.1f} months "
        f"(`BUILD_MONTHS` = {BUILD_MONTHS}). The budget of {BUDGET_RUN_MONTHS:,} run-months is about "
        f"{result['budget_cpu_s']} CPU-seconds at the slowest rate measured here.\n",
        folder / "app_why.md",
    )
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
