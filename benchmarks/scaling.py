"""Full-model throughput and peak memory at one scale, each in a fresh process.

``python -m benchmarks.scaling --scale 0.1 [--horizon 120] [--repeats 1]`` builds the
``siloed_baseline`` model of all places at that scale, with no minimum sample per place
(so residents follow the scale), runs it to the horizon and prints one JSON line:
residents, build and run seconds (best of ``--repeats``), and the process's peak
resident set size (RSS) with the RSS reached before building (imports and a small
warm-up run that loads the data tables). A fresh process per scale keeps one scale's
memory out of another's peak.

:func:`national_run` times the national command itself, ``pfpp run siloed_baseline
--places all --scale 1 --horizon 120``, in a child process, with its peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["NATIONAL_COMMAND", "measure", "measure_in_child", "national_run", "national_scenario"]

ROOT = Path(__file__).resolve().parent.parent
PRESET = "siloed_baseline"
NATIONAL_COMMAND = ["run", PRESET, "--places", "all", "--scale", "1", "--horizon", "120", "--serial"]
"""Arguments of ``pfpp`` for the national 1:1 run (ten years, every English place)."""


def national_scenario(scale: float, horizon: int):
    """``siloed_baseline`` over all places at ``scale`` for ``horizon`` months, no minimum sample per place."""
    from pfpp_sim.scenario import load_scenario

    overrides = {
        "run.places": "all", "run.scale": scale, "run.horizon_months": horizon,
        "run.min_households_per_place": 0, "run.min_young_people_per_place": 0,
    }
    return load_scenario(PRESET).with_overrides(overrides)


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def measure(scale: float, *, horizon: int = 120, repeats: int = 1, seed: int = 1) -> dict[str, Any]:
    """Build and run the all-places model at ``scale`` in this process; see the module docstring.

    Returns
    -------
    dict
        ``scale, households, young_people, residents, months, build_seconds,
        run_seconds`` (best of ``repeats``), ``resident_steps_per_second``,
        ``peak_rss_bytes``, ``rss_before_bytes``, ``peak_bytes_per_resident``
        (peak RSS less the RSS before building, per resident).
    """
    from pfpp_sim.model import PfppModel
    from pfpp_sim.speed import keep_freed_memory

    keep_freed_memory()  # as the national command does
    PfppModel(national_scenario(0.0005, 2), seed=seed).run()  # warm-up: imports and cached data tables
    before = _peak_rss_bytes()
    scenario = national_scenario(scale, horizon)
    build, run = [], []
    for replicate in range(repeats):
        started = time.perf_counter()
        model = PfppModel(scenario, seed=seed, replicate=replicate)
        built = time.perf_counter()
        model.run()
        build.append(built - started)
        run.append(time.perf_counter() - built)
        households, young = model.population.households.n, model.population.young.n
        del model
    peak = _peak_rss_bytes()
    residents = households + young
    return {
        "scale": scale,
        "households": households,
        "young_people": young,
        "residents": residents,
        "months": horizon,
        "build_seconds": round(min(build), 3),
        "run_seconds": round(min(run), 3),
        "repeats": repeats,
        "resident_steps_per_second": round(residents * horizon / min(run)),
        "peak_rss_bytes": peak,
        "rss_before_bytes": before,
        "peak_bytes_per_resident": round((peak - before) / residents, 1),
    }


def measure_in_child(scale: float, *, horizon: int = 120, repeats: int = 1, seed: int = 1) -> dict[str, Any]:
    """:func:`measure` in a fresh Python process (``python -m benchmarks.scaling``)."""
    command = [sys.executable, "-m", "benchmarks.scaling", "--scale", repr(scale), "--horizon", str(horizon),
               "--repeats", str(repeats), "--seed", str(seed)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[1:])} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def national_run(*, seed: int = 0, arguments: list[str] = NATIONAL_COMMAND) -> dict[str, Any]:
    """Run ``pfpp run siloed_baseline --places all --scale 1 --horizon 120 --serial`` in a child process.

    Parameters
    ----------
    seed : int, default=0
    arguments : list of str, default=NATIONAL_COMMAND
        The ``pfpp`` arguments (tests use a small run); ``--seed``, ``--out`` and
        ``--json`` are added.

    Returns
    -------
    dict
        ``command``, ``wall_seconds`` (the whole command: start-up, building, 120
        months, tables and Parquet files), ``peak_rss_bytes`` of the child (from
        ``os.wait4``), and ``run_seconds`` as the run's manifest records it.
    """
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        args = [*arguments, "--seed", str(seed), "--out", str(folder / "national"), "--json"]
        with open(folder / "stdout", "w+") as out, open(folder / "stderr", "w+") as err:
            started = time.perf_counter()
            child = subprocess.Popen([sys.executable, "-m", "pfpp_sim", *args], cwd=ROOT, stdout=out, stderr=err)
            _, status, usage = os.wait4(child.pid, 0)  # reaps the child with its own resource usage
            wall = time.perf_counter() - started
            child.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
    if child.returncode != 0:
        raise RuntimeError(f"pfpp {' '.join(args)} failed:\n{stderr[-2000:]}")
    return {
        "command": "pfpp " + " ".join(arguments),
        "wall_seconds": round(wall, 1),
        "run_seconds": json.loads(stdout)["seconds"],
        "peak_rss_bytes": usage.ru_maxrss * 1024,  # Linux reports KiB
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, required=True)
    parser.add_argument("--horizon", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    result = measure(args.scale, horizon=args.horizon, repeats=args.repeats, seed=args.seed)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
