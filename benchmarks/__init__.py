"""Performance benchmarks of pfpp_sim (run with ``python -m benchmarks [--quick]``).

Performance is measured here, never by timed unit tests. Three measurements:

- :func:`model_throughput`: the full model (``pfpp_joined_up``, the 14 default places, 60
  months) at several scales, in resident-steps per second (households plus young people,
  times months) and peak bytes per resident (``tracemalloc``, see below);
- :func:`default_runs`: seconds per default run of each preset, as
  ``pfpp_sim.experiment.run_replicate`` does it (build, run, tables);
- :func:`household_rule`: the household fuel-poverty rule as one Mesa agent per household
  versus vectorised (``pfpp_sim.dynamics``), side by side on the same households, with
  their speed ratio and a check that both give the same fuel-poverty rate within Monte
  Carlo error.

Memory is the peak of ``tracemalloc`` (Python objects and numpy buffers allocated while
building and running, after a warm-up run so that cached data tables are not counted),
divided by the number of residents. It is measured in a separate run from the timings,
because tracing slows allocation.
"""

from __future__ import annotations

import gc
import math
import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.naive_mesa import rule_parameters, run_naive, run_vectorised, sample_households
from pfpp_sim.experiment import run_replicate
from pfpp_sim.model import PfppModel
from pfpp_sim.scenario import load_scenario
from pfpp_sim.storage import environment, git_commit, write_json, write_text

__all__ = ["RESULTS", "default_runs", "household_rule", "markdown", "model_throughput", "run", "save"]

RESULTS = Path(__file__).resolve().parent / "results"
"""Where ``python -m benchmarks`` writes its results by default."""

PRESETS = ("pfpp_joined_up", "siloed_baseline")
SCALES = {"full": (0.001, 0.01, 0.1), "quick": (0.001, 0.01)}
RULE_HOUSEHOLDS = {"full": 20_000, "quick": 2_000}
RULE_MONTHS = 12


def _best(seconds: list[float]) -> dict[str, float]:
    return {"min": round(min(seconds), 4), "median": round(statistics.median(seconds), 4), "runs": len(seconds)}


def _peak_bytes(action: Callable[[], Any]) -> int:
    """Peak ``tracemalloc`` bytes while ``action`` runs."""
    gc.collect()
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _scaled(scale: float):
    # Scale means scale here: no minimum sample per place.
    overrides = {"run.scale": scale, "run.min_households_per_place": 0, "run.min_young_people_per_place": 0}
    return load_scenario("pfpp_joined_up").with_overrides(overrides)


def model_throughput(scales: tuple[float, ...], *, repeats: int = 3, seed: int = 1) -> list[dict[str, Any]]:
    """Resident-steps per second and peak bytes per resident of full runs at each scale.

    Residents are households plus young people; a run is 60 months of the
    ``pfpp_joined_up`` preset over the 14 default places with no minimum sample per
    place. Seconds are for ``PfppModel.run`` (the months), not for building the model.
    """
    rows = []
    for scale in scales:
        scenario = _scaled(scale)
        PfppModel(scenario, seed=seed).run()  # warm-up: caches data tables
        build, months = [], []
        for replicate in range(repeats):
            started = time.perf_counter()
            model = PfppModel(scenario, seed=seed, replicate=replicate)
            built = time.perf_counter()
            model.run()
            build.append(built - started)
            months.append(time.perf_counter() - built)
        residents = model.population.households.n + model.population.young.n
        peak = _peak_bytes(lambda scenario=scenario: PfppModel(scenario, seed=seed).run())
        rows.append(
            {
                "scale": scale,
                "households": model.population.households.n,
                "young_people": model.population.young.n,
                "months": model.horizon,
                "build_seconds": _best(build),
                "run_seconds": _best(months),
                "resident_steps_per_second": round(residents * model.horizon / min(months)),
                "peak_bytes_per_resident": round(peak / residents, 1),
            }
        )
    return rows


def default_runs(*, repeats: int = 5, seed: int = 1) -> list[dict[str, Any]]:
    """Seconds per default run of each preset via ``run_replicate`` (build, 60 months, tables)."""
    rows = []
    for preset in PRESETS:
        scenario = load_scenario(preset)
        run_replicate(scenario, seed, 0)  # warm-up
        seconds = []
        for replicate in range(repeats):
            started = time.perf_counter()
            run_replicate(scenario, seed, replicate)
            seconds.append(time.perf_counter() - started)
        rows.append({"preset": preset, "seconds": _best(seconds)})
    return rows


def household_rule(n: int, *, months: int = RULE_MONTHS, seed: int = 1, repeats: int = 5) -> dict[str, Any]:
    """Naive per-agent Mesa versus vectorised fuel-poverty rule on the same ``n`` households.

    Returns speeds (household-steps per second), their ratio, bytes per household and
    the fuel-poverty rates of both, with the Monte Carlo standard error of their
    difference: households are independent given their starting state, so the
    difference of two independent rates has variance at most ``2 p (1 - p) / n``.
    """
    params = rule_parameters()
    households = sample_households(n, params, seed)
    naive = run_naive(households, params, months, seed)
    vectorised = min((run_vectorised(households, params, months, seed) for _ in range(repeats)), key=lambda r: r.step_seconds)
    naive_bytes = _peak_bytes(lambda: run_naive(households, params, 1, seed))
    vectorised_bytes = _peak_bytes(lambda: run_vectorised(households, params, 1, seed))
    steps = n * months
    rate = float(naive.rates.mean())
    se = math.sqrt(2 * rate * (1 - rate) / n)
    return {
        "households": n,
        "months": months,
        "naive": {
            "build_seconds": round(naive.build_seconds, 4),
            "step_seconds": round(naive.step_seconds, 4),
            "steps_per_second": round(steps / naive.step_seconds),
            "peak_bytes_per_household": round(naive_bytes / n, 1),
            "fuel_poverty_rate_mean": round(rate, 5),
            "fuel_poverty_rate_last": round(float(naive.rates[-1]), 5),
        },
        "vectorised": {
            "step_seconds": round(vectorised.step_seconds, 6),
            "steps_per_second": round(steps / vectorised.step_seconds),
            "peak_bytes_per_household": round(vectorised_bytes / n, 1),
            "fuel_poverty_rate_mean": round(float(vectorised.rates.mean()), 5),
            "fuel_poverty_rate_last": round(float(vectorised.rates[-1]), 5),
        },
        "speed_ratio": round(naive.step_seconds / vectorised.step_seconds, 1),
        "rate_difference_mean": round(float(vectorised.rates.mean() - naive.rates.mean()), 5),
        "rate_difference_last": round(float(vectorised.rates[-1] - naive.rates[-1]), 5),
        "rate_difference_se": round(se, 5),
        "rates_agree": bool(
            abs(vectorised.rates.mean() - naive.rates.mean()) <= 4 * se and abs(vectorised.rates[-1] - naive.rates[-1]) <= 4 * se
        ),
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    """Run every benchmark; ``quick`` runs only the smallest two scales and fewer repeats."""
    mode = "quick" if quick else "full"
    started = time.perf_counter()
    throughput = model_throughput(SCALES[mode], repeats=2 if quick else 3)
    runs = default_runs(repeats=2 if quick else 5)
    rule = household_rule(RULE_HOUSEHOLDS[mode])
    at_default = next(row for row in throughput if row["scale"] == 0.01)
    return {
        "command": "python -m benchmarks" + (" --quick" if quick else ""),
        "mode": mode,
        "git_commit": git_commit(),
        "environment": {**environment(), "machine": platform.machine(), "cpus": os.cpu_count()},
        "memory_method": "tracemalloc peak during build and run, after a warm-up run, divided by residents",
        "model_throughput": throughput,
        "default_runs": runs,
        "household_rule": rule,
        "model_versus_naive_rule": round(at_default["resident_steps_per_second"] / rule["naive"]["steps_per_second"], 1),
        "seconds": round(time.perf_counter() - started, 1),
    }


def markdown(results: dict[str, Any]) -> str:
    """The results as Markdown tables."""
    lines = [
        f"# pfpp_sim benchmarks ({results['mode']})",
        "",
        (
            f"`{results['command']}`, commit `{results['git_commit']}`, "
            f"Python {results['environment']['python']}, numpy {results['environment']['numpy']}, "
            f"Mesa {results['environment']['mesa']}, {results['environment']['cpus']} CPUs."
        ),
        "",
        "## Full model: `pfpp_joined_up`, 14 default places, 60 months",
        "",
        "| scale | households | young people | run s (min) | resident-steps/s | peak bytes/resident |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["model_throughput"]:
        lines.append(
            f"| {row['scale']} | {row['households']:,} | {row['young_people']:,} | {row['run_seconds']['min']:.3f} "
            f"| {row['resident_steps_per_second']:,} | {row['peak_bytes_per_resident']:,.0f} |"
        )
    lines += [
        "",
        "## Default run (`run_replicate`, scale 0.01, 60 months, tables included)",
        "",
        "| preset | s/run (min) | s/run (median) | runs |",
        "|---|---:|---:|---:|",
    ]
    for row in results["default_runs"]:
        s = row["seconds"]
        lines.append(f"| {row['preset']} | {s['min']:.3f} | {s['median']:.3f} | {s['runs']} |")
    rule = results["household_rule"]
    naive, vec = rule["naive"], rule["vectorised"]
    lines += [
        "",
        f"## Household fuel-poverty rule: {rule['households']:,} households, {rule['months']} months",
        "",
        "| implementation | household-steps/s | peak bytes/household | fuel-poverty rate (mean of months) |",
        "|---|---:|---:|---:|",
        f"| naive Mesa, one agent per household | {naive['steps_per_second']:,} | {naive['peak_bytes_per_household']:,.0f} | {naive['fuel_poverty_rate_mean']:.4f} |",
        f"| vectorised (`pfpp_sim.dynamics`) | {vec['steps_per_second']:,} | {vec['peak_bytes_per_household']:,.0f} | {vec['fuel_poverty_rate_mean']:.4f} |",
        "",
        (
            f"Speed ratio {rule['speed_ratio']:,}x; rate difference {rule['rate_difference_mean']:+.4f} "
            f"(standard error {rule['rate_difference_se']:.4f}; agree within 4 SE: {rule['rates_agree']}). "
            f"Full model at scale 0.01 versus the naive rule: {results['model_versus_naive_rule']:,}x resident-steps/s."
        ),
        "",
        f"Memory: {results['memory_method']}.",
        "",
    ]
    return "\n".join(lines)


def save(results: dict[str, Any], out: str | Path = RESULTS) -> dict[str, Path]:
    """Write ``<mode>.json`` and ``<mode>.md`` into ``out`` atomically (temporary file, then rename)."""
    out = Path(out)
    return {
        "json": write_json(results, out / f"{results['mode']}.json"),
        "markdown": write_text(markdown(results), out / f"{results['mode']}.md"),
    }
