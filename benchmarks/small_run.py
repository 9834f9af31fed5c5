"""Where one small run's time goes: a run of the ``levers_lhs`` sweep, end to end.

Run ``python -m benchmarks.small_run [--repeats N] [--points N]``. The first ``--points``
design points of ``sweeps/levers_lhs.toml`` (14 places, 1:100, 60 months) are run as a
sweep's worker runs them (``sweep._run_batch``: the scenario with the point's levers,
``run_summary``), in this process, ``--repeats`` times, each time from a process that keeps
nothing yet (the kept set-ups and starting residents are cleared), and timed by phase:

- once per worker and replicate, setting up the model before month 0
  (``PfppModel._set_up``, kept by :meth:`~pfpp_sim.model.PfppModel.at_start` for the
  worker's next runs): the population (``starting_population``), the run-in of departments
  and councils (``PfppModel._run_in``) and the rest;
- for every run: copying the kept set-up and starting the run with the point's levers
  (``PfppModel.at_start`` less any setting up), the 60 months (``PfppModel.run``), and within
  them the month's parts as :mod:`benchmarks.month_cpu` splits them (thread CPU seconds);
  the tables ``run_summary`` builds (monthly, awards, places) and the sweep's selection of
  the summary; sending the result back from a worker (pickling and unpickling what
  ``_run_batch`` returns) and writing the run's Parquet file (``storage.write_parquet``);
- and, once per worker rather than per run, starting a worker process and importing the
  package in it (``workers.process_pool``, one worker, one trivial task).

Each figure is the median over the runs measured (at least three), or over the set-ups
(one per repeat). Results go to ``benchmarks/results/small_run.{json,md}`` (written
atomically), with the load average.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks import RESULTS, machine
from benchmarks.month_cpu import PARTS, _timed
from pfpp_sim import model as model_module
from pfpp_sim import starting
from pfpp_sim.model import PfppModel
from pfpp_sim.storage import environment, git_commit, write_json, write_parquet, write_text
from pfpp_sim.sweep import _Job, _plain, _run_batch, design_of, load_sweep
from pfpp_sim.workers import process_pool

SPEC = Path(__file__).resolve().parent.parent / "sweeps" / "levers_lhs.toml"


def _wall(owner, name: str, label: str, spent: Counter) -> tuple:
    """Wrap ``owner.name`` so that its wall seconds add to ``spent[label]``; return what puts it back."""
    original = vars(owner)[name]  # a classmethod is put back as one
    setattr(owner, name, _timed(getattr(owner, name), label, spent, clock=time.perf_counter))
    return owner, name, original


SET_UP = ("population", "run-in", "rest of setting up")
"""Phases of setting up a model, once per worker and replicate."""


def one_run(base, job: _Job, spec, folder: Path) -> dict[str, float]:
    """Wall seconds of each phase of one sweep run (setting up: 0 when kept), the months' parts in thread CPU seconds, and the bytes sent back."""
    spent: Counter = Counter()
    parts: Counter = Counter()
    timed_run = _timed(PfppModel.run, "months", spent, clock=time.perf_counter)

    def months(self, *args, **kwargs):
        parts.clear()  # the departments' and councils' steps of the run-in are part of setting up
        return timed_run(self, *args, **kwargs)

    wrapped = [
        _wall(model_module, "starting_population", "population", spent),
        _wall(PfppModel, "_run_in", "run-in", spent),
        _wall(PfppModel, "_set_up", "set-up", spent),
        _wall(PfppModel, "at_start", "start", spent),
        (PfppModel, "run", vars(PfppModel)["run"]),
    ]
    PfppModel.run = months
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in PARTS]
    try:
        for (owner, name, label), (_, _, func) in zip(PARTS, originals):
            setattr(owner, name, _timed(func, label, parts))
        started = time.perf_counter()
        done = _run_batch(base, [job], seed=spec.seed, outputs=spec.outputs, keep_places=spec.keep_places)
        total = time.perf_counter() - started
    finally:
        for owner, name, func in reversed(wrapped + originals):
            setattr(owner, name, func)
    began = time.perf_counter()
    sent = pickle.dumps(done)
    pickle.loads(sent)
    transfer = time.perf_counter() - began
    began = time.perf_counter()
    write_parquet(done[0][1], folder / f"run-{job.run_id:07d}.parquet")
    parquet = time.perf_counter() - began
    return {
        "population": spent["population"],
        "run-in": spent["run-in"],
        "rest of setting up": spent["set-up"] - spent["population"] - spent["run-in"],
        "copying the kept set-up and starting the run": spent["start"] - spent["set-up"],
        "the 60 months": spent["months"],
        "tables and the sweep's summary": total - spent["start"] - spent["months"],
        "sending the result back (pickle)": transfer,
        "writing the run's Parquet file": parquet,
        **{f"cpu: {label}": parts[label] for _, _, label in PARTS},
        "bytes sent back": float(len(sent)),
    }


def _ready() -> int:
    """A worker's first task: what every run needs imported."""
    from pfpp_sim import experiment  # noqa: F401 (imported to be timed)

    return os.getpid()


def worker_start() -> float:
    """Wall seconds to start one worker process and have it import the package and answer."""
    began = time.perf_counter()
    pool = process_pool(1)
    try:
        pool.submit(_ready).result()
    finally:
        pool.shutdown()
    return time.perf_counter() - began


def measure(*, points: int, repeats: int) -> dict:
    """Each run phase's median over ``points * repeats`` runs, each set-up phase's over ``repeats`` set-ups, and the worker start-up's over ``repeats``."""
    spec, base = load_sweep(SPEC)
    design = design_of(spec).head(points)
    jobs = [_Job(point, point, 0, {k: _plain(design.at[point, k]) for k in spec.parameters}) for point in range(len(design))]
    runs, set_ups = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            model_module._kept_set_up.cache_clear()
            starting._kept.cache_clear()
            done = [one_run(base, job, spec, Path(tmp)) for job in jobs]
            set_ups.append({phase: done[0].pop(phase) for phase in SET_UP})
            for run in done[1:]:
                if any(run.pop(phase) for phase in SET_UP):
                    raise RuntimeError("a run after the first set up its model again: the set-up was not kept")
            runs += done
    medians = {phase: statistics.median(run[phase] for run in runs) for phase in runs[0]}
    set_up = {phase: statistics.median(s[phase] for s in set_ups) for phase in SET_UP}
    starts = [worker_start() for _ in range(repeats)]
    return {"runs": len(runs), "medians": medians, "set_up": set_up, "worker_start_s": statistics.median(starts), "worker_starts": starts}


def markdown(result: dict) -> str:
    """The Markdown report: the phases of a run (wall), then the months by part (thread CPU)."""
    medians = result["medians"]
    phases = {k: v for k, v in medians.items() if not k.startswith("cpu: ") and k != "bytes sent back"}
    cpu = {k.removeprefix("cpu: "): v for k, v in medians.items() if k.startswith("cpu: ")}
    total = sum(phases.values())
    lines = [
        "# Where one small run's time goes",
        "",
        f"`{result['command']}`: {result['runs']} runs of `sweeps/levers_lhs.toml` (14 places, 1:100, 60 months), "
        f"one at a time in one process; commit `{result['commit']}`, {result['cpus']} CPUs, load average "
        f"(1, 5, 15 min) {result['load_before']} before and {result['load_after']} after. Medians over the runs. "
        + machine.describe(result["machine"]),
        "",
        "| phase | wall s/run (median) | share |",
        "|---|---:|---:|",
        *(f"| {phase} | {seconds:.4f} | {seconds / total:.0%} |" for phase, seconds in phases.items()),
        f"| **sum of the medians** | {total:.4f} | 100% |",
        "",
        f"Once per worker and replicate, not per run (the set-up is kept for the worker's next runs; median of {len(result['worker_starts'])}):",
        "",
        "| setting up | wall s |",
        "|---|---:|",
        *(f"| {phase} | {seconds:.4f} |" for phase, seconds in result["set_up"].items()),
        f"| **sum of the medians** | {sum(result['set_up'].values()):.4f} |",
        "",
        "The 60 months by part (thread CPU seconds, as `benchmarks.month_cpu` counts them; helper threads run beside "
        "the main one, so they may add up to more than the months' wall time):",
        "",
        "| part | CPU s/run (median) |",
        "|---|---:|",
        *(f"| {label} | {seconds:.4f} |" for label, seconds in sorted(cpu.items(), key=lambda item: -item[1])),
        "",
        f"Once per worker, not per run: starting a worker process and importing the package in it takes "
        f"{result['worker_start_s']:.2f} s (median of {len(result['worker_starts'])}). A run sends back "
        f"{medians['bytes sent back'] / 1024:.1f} KiB.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=3, help="design points of levers_lhs run (default 3)")
    parser.add_argument("--repeats", type=int, default=3, help="times each point is run (default 3)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for small_run.json and .md")
    args = parser.parse_args(argv)
    if args.points * args.repeats < 3:
        parser.error("at least three runs are needed for a median: raise --points or --repeats")
    load_before = tuple(round(x, 2) for x in os.getloadavg())
    speed = machine.speed()
    result = measure(points=args.points, repeats=args.repeats)
    result.update(
        command=f"python -m benchmarks.small_run --points {args.points} --repeats {args.repeats}",
        commit=git_commit(), cpus=os.cpu_count(), load_before=load_before,
        load_after=tuple(round(x, 2) for x in os.getloadavg()), environment=environment(), machine=speed,
    )
    write_json(result, args.results / "small_run.json")
    text = markdown(result)
    write_text(text, args.results / "small_run.md")
    print(text)
    return result


if __name__ == "__main__":
    main()
