"""Where a month's CPU time goes: seconds of CPU per month by part of the model's month.

``python -m benchmarks.month_cpu --scale 1 --months 12`` builds the all-places
``siloed_baseline`` model at that scale (as :mod:`benchmarks.scaling` does), runs it for
``--months`` months with each part timed by the CPU time of the thread that runs it
(:func:`time.thread_time`), and prints a Markdown table: the parts that run in helper
threads (drawing the next month's numbers, stepping blocks of residents) are counted in
full, so their sum can exceed the wall time on several cores. The rest of the process's
CPU time (user and system, all threads), the total and the wall time close the table,
which is printed and written to ``benchmarks/results/month_cpu.md`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import time
from collections import Counter
from pathlib import Path

from benchmarks import RESULTS
from benchmarks.scaling import national_scenario
from pfpp_sim import delivery, residents
from pfpp_sim.agents import Council, Department
from pfpp_sim.model import PfppModel
from pfpp_sim.residents import ResidentEngine
from pfpp_sim.speed import keep_freed_memory
from pfpp_sim.storage import git_commit, write_text

PARTS = [
    (residents, "draw_shocks", "drawing income shocks (helper thread)"),
    (residents, "draw_young", "drawing young people's numbers (helper thread)"),
    (ResidentEngine, "_step_households", "households' step and outcome counts (block threads)"),
    (ResidentEngine, "_step_young", "young people's step (block threads)"),
    (residents, "apply_effects", "interventions' effects starting"),
    (delivery, "target_groups", "listing who each intervention can reach"),
    (delivery, "select_recipients", "choosing recipients"),
    (Department, "step", "departments' decisions"),
    (Council, "step", "councils' decisions"),
    (PfppModel, "_place_orders", "councils' orders"),
    (PfppModel, "_check", "run-time checks"),
]
"""(owner, attribute, label) of each timed part; the owner's attribute is wrapped while measuring."""


def _timed(func, label: str, spent: Counter, clock=time.thread_time):
    """``func`` wrapped so that its seconds on ``clock`` (this thread's CPU by default) add to ``spent[label]``."""
    @functools.wraps(func)
    def timed(*args, **kwargs):
        begin = clock()
        try:
            return func(*args, **kwargs)
        finally:
            spent[label] += clock() - begin

    return timed


def measure(scale: float, months: int, *, seed: int = 1) -> tuple[Counter, float, float]:
    """CPU seconds by part, process CPU seconds and wall seconds of ``months`` months at ``scale``."""
    keep_freed_memory()  # as the national command does
    spent: Counter = Counter()
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in PARTS]
    try:
        for (owner, name, label), (_, _, func) in zip(PARTS, originals):
            setattr(owner, name, _timed(func, label, spent))
        model = PfppModel(national_scenario(scale, months), seed=seed)
        spent.clear()  # the run-in before month 0 is part of building the model, not of a month
        before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        model.run()
        after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - started
    finally:
        for owner, name, func in originals:
            setattr(owner, name, func)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return spent, cpu, wall


def table(spent: Counter, cpu: float, wall: float, *, scale: float, months: int) -> str:
    """The Markdown report of :func:`measure`: a header with the commit and load, then CPU s/month by part."""
    per_month = 1.0 / months
    rest = cpu - sum(spent.values())
    lines = [
        f"# CPU seconds per month by part: all places at scale {scale}, {months} months",
        "",
        (
            f"`python -m benchmarks.month_cpu --scale {scale} --months {months}`, commit `{git_commit()}`, "
            f"{os.cpu_count()} CPUs, load average (1, 5, 15 min) {tuple(round(x, 2) for x in os.getloadavg())} after."
        ),
        "",
        "| part | CPU s/month | share of process CPU |",
        "|---|---:|---:|",
        *(f"| {label} | {seconds * per_month:.3f} | {seconds / cpu:.0%} |" for label, seconds in spent.most_common()),
        f"| everything else (listing groups in pool threads, records, system time) | {rest * per_month:.3f} | {rest / cpu:.0%} |",
        f"| **process CPU (all threads, user + system)** | {cpu * per_month:.3f} | 100% |",
        f"| **wall** | {wall * per_month:.3f} | |",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--out", type=Path, default=RESULTS / "month_cpu.md", help="Markdown file to write (atomically).")
    args = parser.parse_args()
    spent, cpu, wall = measure(args.scale, args.months)
    text = table(spent, cpu, wall, scale=args.scale, months=args.months)
    print(text)
    print(f"Wrote {write_text(text, args.out)}")


if __name__ == "__main__":
    main()
