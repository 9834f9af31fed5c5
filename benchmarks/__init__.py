"""Performance benchmarks of pfpp_sim (``python -m benchmarks`` or ``pfpp bench``).

Performance is measured here, never by timed unit tests. One run measures, side by side:

- the full model's throughput and peak memory at several scales of the national run
  (``siloed_baseline``, all 292 places, 120 months), each scale in a fresh process
  (:mod:`benchmarks.scaling`): resident-steps per second (households plus young people,
  times months) and peak bytes per resident;
- the model's resident rules as one Mesa agent per resident versus the model's
  vectorised step, on the same starting residents (:mod:`benchmarks.naive_mesa`): their
  speeds, whether they give the same rates within Monte Carlo error, and the speed of the
  full model against the naive reference;
- seconds per default run of each preset (``pfpp_sim.experiment.run_replicate``);
- with ``--national``, the 1:1 point of the scaling table and the national command
  ``pfpp run siloed_baseline --places all --scale 1 --horizon 120`` itself (wall time and
  peak RSS of the child process).
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import time
import tracemalloc
from pathlib import Path
from typing import Any

from benchmarks import machine
from benchmarks.naive_mesa import NaiveResidentsModel, rates_agree, run_naive, run_vectorised, starting_model
from benchmarks.scaling import measure_in_child, national_run, national_scenario
from pfpp_sim.experiment import run_replicate
from pfpp_sim.scenario import load_scenario
from pfpp_sim.speed import keep_freed_memory
from pfpp_sim.storage import environment, git_commit, write_json, write_text

__all__ = ["MODES", "RESULTS", "default_runs", "markdown", "naive_comparison", "run", "save", "scaling"]

RESULTS = Path(__file__).resolve().parent / "results"
"""Where ``python -m benchmarks`` writes its results by default."""

PRESETS = ("pfpp_joined_up", "siloed_baseline")
MODES = {
    # scales of the national run (about 1.2e4, 2.3e4, 2.3e5 and 2.3e6 households), months, repeats of small scales
    "full": {"scales": (0.0005, 0.001, 0.01, 0.1), "horizon": 120, "naive_scales": (0.001, 0.01), "naive_months": 12,
             "repeats": 3, "naive_repeats": 3},
    # with --national, the rules are also compared on the 2.9 M residents of scale 0.1 (about 2 GB of agents)
    "quick": {"scales": (0.0005, 0.001), "horizon": 12, "naive_scales": (0.0005,), "naive_months": 3, "repeats": 1,
              "naive_repeats": 1},
}
NATIONAL_SCALE = 1.0
NATIONAL_NAIVE = {"scale": 0.1, "months": 6}
"""The naive comparison added by ``--national``: one run of each version, the naive agents' bytes not traced."""


def _best(seconds: list[float]) -> dict[str, float]:
    return {"min": round(min(seconds), 4), "median": round(statistics.median(seconds), 4), "runs": len(seconds)}


def scaling(scales: tuple[float, ...], *, horizon: int, repeats: int) -> list[dict[str, Any]]:
    """One row per scale of the national run, each measured in a fresh process (see :mod:`benchmarks.scaling`).

    Scales up to 0.01 are run ``repeats`` times (best run time kept), larger ones once.
    """
    return [measure_in_child(scale, horizon=horizon, repeats=repeats if scale <= 0.01 else 1) for scale in scales]


def _agents_bytes(scenario, seed: int) -> int:
    """Python memory held by the naive model's agents (``tracemalloc``, after building them)."""
    source = starting_model(scenario, seed=seed)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        model = NaiveResidentsModel(source, seed=seed)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    del model
    return held


def naive_comparison(scale: float, *, months: int, repeats: int = 1, seed: int = 1, agent_bytes: bool = True) -> dict[str, Any]:
    """Naive Mesa versus vectorised resident rules on the same starting residents (national run at ``scale``).

    Each is run ``repeats`` times (the vectorised one at least 3) and its fastest run kept.
    ``agent_bytes`` also measures the naive agents' memory (building them again under
    ``tracemalloc``, which is slow for millions of agents); otherwise it is ``None``.
    """
    scenario = national_scenario(scale, months)
    naive = min((run_naive(scenario, months, seed=seed) for _ in range(repeats)), key=lambda r: r.step_seconds)
    vectorised = min((run_vectorised(scenario, months, seed=seed) for _ in range(max(repeats, 3))), key=lambda r: r.step_seconds)
    model = starting_model(scenario, seed=seed)
    households, young = model.population.households.n, model.population.young.n
    del model
    steps = naive.residents * months
    agreement = rates_agree(naive, vectorised, households, young)
    return {
        "scale": scale,
        "households": households,
        "young_people": young,
        "months": months,
        "repeats": repeats,
        "naive": {
            "build_seconds": round(naive.build_seconds, 3),
            "step_seconds": round(naive.step_seconds, 3),
            "resident_steps_per_second": round(steps / naive.step_seconds),
            "agent_bytes_per_resident": round(_agents_bytes(scenario, seed) / naive.residents, 1) if agent_bytes else None,
        },
        "vectorised_rules": {
            "step_seconds": round(vectorised.step_seconds, 4),
            "resident_steps_per_second": round(steps / vectorised.step_seconds),
        },
        "rules_speed_ratio": round(naive.step_seconds / vectorised.step_seconds, 1),
        "rates": agreement,
        "rates_agree": all(v["agree"] for v in agreement.values()),
    }


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


def _naive_reference(naive: list[dict[str, Any]]) -> dict[str, Any]:
    """The naive comparison with the fastest naive rate (the conservative reference)."""
    return max(naive, key=lambda row: row["naive"]["resident_steps_per_second"])


def _ratios(rows: list[dict[str, Any]], naive: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Full model's resident-steps/s (each scaling row) over the fastest naive rate measured."""
    reference = _naive_reference(naive)["naive"]["resident_steps_per_second"]
    return [
        {"scale": row["scale"], "residents": row["residents"],
         "full_model_over_naive": round(row["resident_steps_per_second"] / reference, 1)}
        for row in rows
    ]


def run(*, quick: bool = False, national: bool = False) -> dict[str, Any]:
    """Run every benchmark of a mode (``quick``: small scales, few months); ``national`` adds the 1:1 runs."""
    keep_freed_memory()  # the naive comparison and default runs in this process, as the national command has it
    mode = "quick" if quick else "full"
    settings = MODES[mode]
    started = time.perf_counter()
    load_before = os.getloadavg()
    speed = machine.speed()
    scales = settings["scales"] + ((NATIONAL_SCALE,) if national else ())
    rows = scaling(scales, horizon=settings["horizon"], repeats=settings["repeats"])
    # Before this process grows (the naive agents): on Linux a child started by vfork, as
    # subprocess does, reports at least its parent's peak RSS as its own.
    national_result = national_run() if national else None
    naive = [
        naive_comparison(scale, months=settings["naive_months"], repeats=settings["naive_repeats"] if scale <= 0.001 else 1)
        for scale in settings["naive_scales"]
    ]
    if national:
        naive.append(naive_comparison(NATIONAL_NAIVE["scale"], months=NATIONAL_NAIVE["months"], agent_bytes=False))
    runs = default_runs(repeats=2 if quick else 5)
    command = "python -m benchmarks" + (" --quick" if quick else "") + (" --national" if national else "")
    return {
        "command": command,
        "mode": mode,
        "national": national,
        "git_commit": git_commit(),
        "environment": {**environment(), "machine": platform.machine(), "cpus": os.cpu_count()},
        "load_average": {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]},
        "machine": speed,
        "scaling": rows,
        "naive_comparison": naive,
        "full_model_over_naive": _ratios(rows, naive),
        "default_runs": runs,
        "national_run": national_result,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _bytes(n: float | None) -> str:
    return "-" if n is None else f"{n:,.0f}"


def _gib(n: int | None) -> str:
    return "-" if n is None else f"{n / 2**30:.2f}"


def markdown(results: dict[str, Any]) -> str:
    """The results as Markdown tables."""
    env = results["environment"]
    load = results["load_average"]
    lines = [
        f"# pfpp_sim benchmarks ({results['mode']}{', national' if results['national'] else ''})",
        "",
        (
            f"`{results['command']}`, commit `{results['git_commit']}`, Python {env['python']}, numpy {env['numpy']}, "
            f"Mesa {env['mesa']}, {env['cpus']} CPUs; load average (1, 5, 15 min) {tuple(load['before'])} before, "
            f"{tuple(load['after'])} after; {results['seconds']} s in all. " + machine.describe(results["machine"])
        ),
        "",
        f"## Full model: `siloed_baseline`, all places, {results['scaling'][0]['months']} months, each scale in a fresh process",
        "",
        "| scale | households | young people | build s | run s | resident-steps/s | peak RSS GiB | peak bytes/resident |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["scaling"]:
        lines.append(
            f"| {row['scale']} | {row['households']:,} | {row['young_people']:,} | {row['build_seconds']:.2f} "
            f"| {row['run_seconds']:.2f} | {row['resident_steps_per_second']:,} | {_gib(row['peak_rss_bytes'])} "
            f"| {row['peak_bytes_per_resident']:,.0f} |"
        )
    lines += [
        "",
        (
            "*run s*: `PfppModel.run()` (all months; best of the repeats at scales up to 0.01); *build s*: building the "
            "model. *peak bytes/resident*: the process's peak RSS less its RSS before building, per resident."
        ),
        "",
        "## Resident rules: naive Mesa (one agent per resident) versus vectorised, same starting residents",
        "",
        (
            "| scale | households | young people | months | naive resident-steps/s | vectorised resident-steps/s "
            "| speed ratio | naive agent bytes/resident | rates agree |"
        ),
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in results["naive_comparison"]:
        lines.append(
            f"| {row['scale']} | {row['households']:,} | {row['young_people']:,} | {row['months']} "
            f"| {row['naive']['resident_steps_per_second']:,} | {row['vectorised_rules']['resident_steps_per_second']:,} "
            f"| {row['rules_speed_ratio']:,}x | {_bytes(row['naive']['agent_bytes_per_resident'])} | {row['rates_agree']} |"
        )
    first = results["naive_comparison"][0]
    reference = _naive_reference(results["naive_comparison"])
    lines += ["", f"Rates at scale {first['scale']}, all simulated residents, mean of the months:", ""]
    lines += ["| rate | naive | vectorised | difference | standard error | within 4 SE |", "|---|---:|---:|---:|---:|---|"]
    for name, r in first["rates"].items():
        lines.append(
            f"| {name} | {r['naive_mean']:.4f} | {r['vectorised_mean']:.4f} | {r['difference_mean']:+.4f} "
            f"| {r['standard_error']:.4f} | {r['agree']} |"
        )
    lines += [
        "",
        (
            f"## Full model versus the naive reference (its fastest rate: {reference['naive']['resident_steps_per_second']:,} "
            f"resident-steps/s at scale {reference['scale']})"
        ),
        "",
        "| scale | residents | full model / naive |",
        "|---:|---:|---:|",
    ]
    for row in results["full_model_over_naive"]:
        lines.append(f"| {row['scale']} | {row['residents']:,} | {row['full_model_over_naive']:,}x |")
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
    national = results.get("national_run")
    if national:
        lines += [
            "",
            "## National run",
            "",
            "| command | wall s | run s (manifest) | peak RSS GiB |",
            "|---|---:|---:|---:|",
            (
                f"| `{national['command']}` | {national['wall_seconds']:.1f} | {national['run_seconds']:.1f} "
                f"| {_gib(national['peak_rss_bytes'])} |"
            ),
        ]
    lines.append("")
    return "\n".join(lines)


def save(results: dict[str, Any], out: str | Path = RESULTS) -> dict[str, Path]:
    """Write ``<name>.json`` and ``<name>.md`` into ``out`` atomically (temporary file, then rename).

    ``<name>`` is the mode, with ``_national`` when the national runs were made.
    """
    out = Path(out)
    name = results["mode"] + ("_national" if results["national"] else "")
    return {
        "json": write_json(results, out / f"{name}.json"),
        "markdown": write_text(markdown(results), out / f"{name}.md"),
    }
