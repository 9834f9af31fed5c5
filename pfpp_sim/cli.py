"""The ``pfpp`` command line: a thin layer over the Python API.

User mistakes (bad scenario files, unknown places, unwritable folders) print one line
naming the file, key and value, and exit with status 2; no traceback.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import sys
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from pfpp_sim import data
from pfpp_sim.analysis import ALL_PLACES, all_places_note
from pfpp_sim.attribution import Explanation, explain
from pfpp_sim.calibration.coverage import run_warnings
from pfpp_sim.design import MEASURES, WIDE_SOBOL_CI
from pfpp_sim.discovery import discover
from pfpp_sim.errors import PfppError
from pfpp_sim.evidence import sourced_parameters
from pfpp_sim.experiment import Comparison, Results, compare, run
from pfpp_sim.robustness import DEFAULT_REPLICATES, DEFAULT_SAMPLES, Robustness, robustness
from pfpp_sim.robustness import TITLES as OUTCOME_TITLES
from pfpp_sim.scenario import Scenario, describe_sources, list_examples, list_presets, load_scenario
from pfpp_sim.sections import format_difference, format_value
from pfpp_sim.sensitivity import check_place, format_index, top_levers
from pfpp_sim.speed import keep_freed_memory
from pfpp_sim.storage import claim_folder, lock_folder, package_version, read_json
from pfpp_sim.sweep import load_sweep, plan_sweep, read_sweep, run_sweep
from pfpp_sim.workers import check_executor
from pfpp_sim.worlds import check_comparable

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Simulate joined-up versus siloed place-based funding in England.")
scenarios_app = typer.Typer(no_args_is_help=True, help="List and show scenario presets.")
app.add_typer(scenarios_app, name="scenarios")
out_console = Console(width=None if sys.stdout.isatty() else 140)
err_console = Console(stderr=True)

SeedOpt = Annotated[int, typer.Option(min=0, help="Root seed (0 is valid); replicates use their own streams of it.")]
WorkersOpt = Annotated[int | None, typer.Option(min=1, help="Worker processes (default: all cores).")]
SerialOpt = Annotated[bool, typer.Option("--serial", help="Run in this process, one replicate at a time (--executor serial).")]
ExecutorOpt = Annotated[str, typer.Option(help="serial, processes or dask.")]
SchedulerOpt = Annotated[str | None, typer.Option(help="Dask scheduler address, e.g. tcp://host:8786 (implies --executor dask).")]
PlacesOpt = Annotated[str | None, typer.Option(help="Override places: 'pilots', 'all' or comma-separated ONS codes.")]
HorizonOpt = Annotated[int | None, typer.Option(help="Override the horizon in months.")]
ScaleOpt = Annotated[float | None, typer.Option(help="Override simulated residents per real resident (e.g. 0.01).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a machine-readable summary instead of tables.")]
OverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="Replace what --out holds (once the new results are complete).")]
MAX_REPLICATES = 1000
"""Most replicates of a run or comparison, whose tables are held in memory until saved (a sweep streams its runs)."""
CalibrationOpt = Annotated[
    str | None, typer.Option("--calibration", help="Fit to use instead of the scenario's: a fit name, a fit file (.toml) or 'none'.")
]
ExplainReplicatesOpt = Annotated[int, typer.Option(help="Replicates of every combination of factors (>= 2 for confidence intervals).")]
FactorsOpt = Annotated[str | None, typer.Option(help="Comma-separated key prefixes, each grouping all that differs under it into one factor (e.g. world,mechanisms).")]
PermutationsOpt = Annotated[int | None, typer.Option(help="Estimate from this many sampled orderings per replicate (even), not exactly (default: exact up to 8 factors, else 32).")]


def _user_errors(func):
    """Report :class:`PfppError` as one line on stderr and exit 2; Ctrl+C as one line and exit 130."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except PfppError as err:
            err_console.print(f"[bold red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err_console.print(
                "[bold red]interrupted:[/] every file already written is complete; rerun the same command "
                "(a sweep, robustness run or explain with --resume) to finish", highlight=False, soft_wrap=True,
            )
            raise typer.Exit(130) from None

    return wrapper


def _with_run_overrides(scenario: Scenario, places: str | None, horizon: int | None, scale: float | None) -> Scenario:
    overrides: dict[str, object] = {}
    if places is not None:
        codes = [p.strip() for p in places.split(",") if p.strip()]
        if not codes:
            raise PfppError(f"--places = {places!r}: expected 'pilots', 'all' or comma-separated ONS codes, not nothing")
        overrides["run.places"] = places.strip() if places.strip() in ("pilots", "all") else codes
    if horizon is not None:
        overrides["run.horizon_months"] = horizon
    if scale is not None:
        overrides["run.scale"] = scale
    return scenario.with_overrides(overrides) if overrides else scenario


def _say_sources(scenario: Scenario) -> None:
    """Print on stderr where a scenario and its calibration came from (one line)."""
    err_console.print(f"scenario {describe_sources(scenario, version=package_version())}", highlight=False, markup=False, soft_wrap=True)


def _warn(message: str) -> None:
    """Print a warning on stderr as one line."""
    err_console.print(f"[bold yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


def _say_fit_coverage(*scenarios: Scenario) -> None:
    """Warn once if the scenarios run places outside the places their calibration was fitted on."""
    for warning in run_warnings(scenarios):
        _warn(warning["message"])


def _load(name: str, calibration: str | None, places: str | None, horizon: int | None, scale: float | None) -> Scenario:
    """Load a scenario for a command, apply the run options, and say where it came from.

    A run of every place also sets this process's allocator for large runs
    (:func:`~pfpp_sim.speed.keep_freed_memory`; the workers of its process pools do the same).
    """
    scenario = _with_run_overrides(load_scenario(name, calibration=calibration), places, horizon, scale)
    _say_sources(scenario)
    if scenario.run.places == "all":
        keep_freed_memory()
    return scenario


def _progress(enabled: bool, description: str = "replicates"):
    if not enabled:
        return None, None
    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
        console=err_console, transient=True,
    )
    task = bar.add_task(description, total=None)
    return bar, lambda done, total: bar.update(task, completed=done, total=total)


@contextmanager
def _runs_progress(enabled: bool, what: str):
    """A progress bar that appears at its first report, after an experiment's checks, so a refusal prints one line only."""
    if not enabled:
        yield None
        return
    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
        console=err_console, transient=True,
    )
    task = bar.add_task(what, total=None)

    def update(done: int, total: int) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total)

    try:
        yield update
    finally:
        if bar.live.is_started:
            bar.stop()


COMPARE_TABLES = {
    "Outcomes, mean of the last 12 months": ("fuel_poverty_rate", "neet_16_17_rate", "youth_mh_rate"),
    "Money and delivery, whole run": ("returned_gbp", "overhead_gbp", "months_to_first_delivery"),
}
TITLES = {
    "fuel_poverty_rate": "Fuel poverty",
    "neet_16_17_rate": "NEET 16-17",
    "youth_mh_rate": "Youth mental disorder",
    "returned_gbp": "Money returned",
    "overhead_gbp": "Overhead",
    "months_to_first_delivery": "Months to first delivery",
}


def _print_comparison(result: Comparison) -> None:
    table = result.comparison
    names = result.places.drop_duplicates("place_code").set_index("place_code")["place_name"].to_dict()
    names[ALL_PLACES] = "All places"
    out_console.print(
        f"\n[bold]{result.alternative}[/] vs [bold]{result.base}[/]: {result.replicates} paired replicates, seed {result.seed}; "
        "each cell: base -> alternative, then the paired difference [95% CI]."
    )
    for title, metrics in COMPARE_TABLES.items():
        rich_table = Table(title=title, title_justify="left", show_lines=False)
        rich_table.add_column("Place")
        for metric in metrics:
            rich_table.add_column(TITLES[metric], justify="right")
        for code in [*dict.fromkeys(table["place_code"])]:
            rows = table[table["place_code"] == code].set_index("metric")
            cells = []
            for metric in metrics:
                row = rows.loc[metric]
                cells.append(
                    f"{format_value(metric, row.base_mean)} -> {format_value(metric, row.alternative_mean)}\n"
                    f"{format_difference(metric, row.difference, row.ci_low, row.ci_high)}"
                )
            style = "bold" if code == ALL_PLACES else None
            rich_table.add_row(names.get(code, code), *cells, style=style)
        out_console.print(rich_table)
    _print_nesting(result.places)


def _print_scale_floor(result: Results) -> None:
    """Say when places were simulated with more residents than ``--scale`` asked for (their minimum sample)."""
    for name, sc in result.scenarios.items():
        places = result.places[result.places["scenario"] == name].drop_duplicates("place_code")
        used = places[["scale_households", "scale_young_people"]].to_numpy()
        floored = places[(used > sc.run.scale * 1.001).any(axis=1)]
        if len(floored):
            out_console.print(
                f"note: {name} asked for scale {sc.run.scale:g}, but {len(floored)} of {len(places)} places are simulated with "
                f"their minimum sample (run.min_households_per_place = {sc.run.min_households_per_place}, "
                f"run.min_young_people_per_place = {sc.run.min_young_people_per_place}): scale used "
                f"{used.min():.3g} to {used.max():.3g} (places.parquet: scale_households, scale_young_people). "
                "Results are at real scale either way.", highlight=False,
            )


def _print_nesting(places) -> None:
    note = all_places_note(places)
    if note:
        out_console.print(note, highlight=False)


def _print_run(result: Results) -> None:
    summary = result.summary.groupby(["place_code", "metric"], sort=False)["value"].mean().unstack("metric")
    names = result.places.drop_duplicates("place_code").set_index("place_code")["place_name"].to_dict()
    names[ALL_PLACES] = "All places"
    metrics = ["fuel_poverty_rate", "neet_16_17_rate", "youth_mh_rate", "delivered_gbp", "returned_gbp", "overhead_gbp", "months_to_first_delivery"]
    table = Table(title=f"{', '.join(result.scenarios)}: mean of {result.replicates} replicate(s), seed {result.seed}", title_justify="left")
    table.add_column("Place")
    for metric in metrics:
        table.add_column(TITLES.get(metric, metric.replace("_gbp", "").replace("_", " ").capitalize()), justify="right")
    for code, row in summary.iterrows():
        table.add_row(names.get(code, code), *[format_value(m, row[m]) for m in metrics], style="bold" if code == ALL_PLACES else None)
    out_console.print(table)
    _print_nesting(result.places)


def _json_summary(result: Results) -> dict:
    payload = {
        "scenarios": {name: sc.scenario_hash() for name, sc in result.scenarios.items()},
        "seed": result.seed,
        "replicates": result.replicates,
        "seconds": round(result.seconds, 3),
        "files": {k: str(v) for k, v in result.files.items()},
        "warnings": result.warnings,
        "summary": result.summary.groupby(["scenario", "place_code", "metric"])["value"].mean().unstack("metric")
        .reset_index().replace({np.nan: None}).to_dict(orient="records"),
    }
    if isinstance(result, Comparison) and result.comparison is not None:
        payload["comparison"] = result.comparison.replace({np.nan: None}).to_dict(orient="records")
    return payload


EXPLAIN_METRICS = tuple(m for metrics in COMPARE_TABLES.values() for m in metrics)


def _cell(metric: str, row) -> str:
    return format_difference(metric, row.contribution, row.ci_low, row.ci_high)


def _print_explanation(result: Explanation) -> None:
    table = result.attribution[result.attribution["place_code"] == ALL_PLACES]
    levels = result.combinations[result.combinations["place_code"] == ALL_PLACES]
    full = (1 << len(result.factors.factors)) - 1
    same = {f.name for f in result.factors.factors if not f.changes}
    k = len(result.factors.factors)
    how = (
        f"exact Shapley values over all {1 << k} combinations"
        if result.method == "exact"
        else f"a sampled estimate from {result.permutations} orderings per replicate, not exact"
    )
    out_console.print(
        f"\n[bold]{result.factors.alternative.name}[/] vs [bold]{result.factors.base.name}[/], all places: what drives the difference. "
        f"{k} factors; {how}; {result.replicates} paired replicates, seed {result.seed}.\n"
        "Contribution: the factor's share of the difference [95% CI]; contributions add up to the total. "
        "Alone: the factor switched on its own from the base. Interaction: contribution - alone; "
        "alone effects plus interactions add up to the total too.",
        highlight=False,
    )
    for metric in EXPLAIN_METRICS:
        rows = table[table["metric"] == metric]
        total = rows[rows["measure"] == "total"].iloc[0]
        means = levels[levels["metric"] == metric].groupby("combination")["value"].mean()
        factors = rows[rows["measure"] == "shapley"].set_index("factor")
        alone = rows[rows["measure"] == "main_effect"].set_index("factor")
        interaction = rows[rows["measure"] == "interaction"].set_index("factor")
        title = (
            f"{TITLES[metric]}: {format_value(metric, means.get(0))} -> {format_value(metric, means.get(full))}, "
            f"difference {_cell(metric, total)}"
        )
        rich_table = Table(title=title, title_justify="left")
        for column, justify in (("Factor", "left"), ("Contribution [95% CI]", "right"), ("Alone", "right"), ("Interaction", "right")):
            rich_table.add_column(column, justify=justify)
        for name in factors["contribution"].abs().sort_values(ascending=False, kind="stable").index:
            label = f"{name} (same in both)" if name in same else name
            rich_table.add_row(
                escape(label), _cell(metric, factors.loc[name]), _cell(metric, alone.loc[name]), _cell(metric, interaction.loc[name])
            )
        sums = [alone["contribution"].sum(), interaction["contribution"].sum()]
        rich_table.add_row(
            "Total", _cell(metric, total), *[format_difference(metric, v, np.nan, np.nan) for v in sums], style="bold"
        )
        out_console.print(rich_table)
        pairs = rows[rows["measure"] == "pair_interaction"]
        if len(pairs):
            strongest = pairs.loc[pairs["contribution"].abs().idxmax()]
            out_console.print(f"  Strongest pairwise interaction: {escape(strongest.factor)} {_cell(metric, strongest)}", highlight=False)


def _explain_json(result: Explanation, out: Path) -> dict:
    manifest = result.manifest()
    return {
        "out": str(out),
        **{key: manifest[key] for key in ("base", "alternative", "method", "permutations", "seed", "replicates", "runs", "seconds")},
        "factors": result.factors.names,
        "files": {k: str(v) for k, v in result.files.items()},
        "attribution": result.attribution.replace({np.nan: None}).to_dict(orient="records"),
    }


def _finish(result: Results, out: Path, as_json: bool, *, scale_given: bool = False, explanation: Explanation | None = None) -> None:
    if as_json:
        payload = _json_summary(result)
        if explanation is not None:
            payload["explain"] = _explain_json(explanation, out / "explain")
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
        return
    if isinstance(result, Comparison):
        _print_comparison(result)
    else:
        _print_run(result)
    if scale_given:
        _print_scale_floor(result)
    tables = ", ".join(p.name for p in result.files.values())
    out_console.print(f"\nResults written to [bold]{out}/[/] ({tables}) in {result.seconds:.1f} s")
    if explanation is not None:
        _print_explanation(explanation)
        out_console.print(f"\nAttribution written to [bold]{out / 'explain'}/[/] in {explanation.seconds:.1f} s")
    out_console.print(f"Write the HTML report with: pfpp report {out}", highlight=False)


def _executor(executor: str, scheduler: str | None, *, serial: bool = False) -> str:
    """The executor a command's options name: ``--serial`` and ``--scheduler`` choose it outright."""
    return "serial" if serial else "dask" if scheduler else executor


def _launch(
    call, out: Path, *, seed: int, executor: str, scheduler: str | None, workers: int | None, as_json: bool,
    show_progress: bool, scale_given: bool, overwrite: bool,
) -> None:
    """Claim the output folder, run ``call`` with a progress bar, then save and print its results."""
    check_executor(executor)  # before the folder is claimed
    with claim_folder(out, overwrite=overwrite) as claim:
        bar, progress = _progress(show_progress and not as_json)
        with bar or nullcontext():
            result = call(seed=seed, executor=executor, workers=workers, scheduler=scheduler, progress=progress)
        result.publish(claim)
    _finish(result, out, as_json, scale_given=scale_given)


@app.command("run")
@_user_errors
def run_command(
    scenario: Annotated[str, typer.Argument(help="Preset name or scenario TOML file.")],
    seed: SeedOpt = 0,
    replicates: Annotated[int, typer.Option(min=1, max=MAX_REPLICATES, help="Replicates to run.")] = 1,
    out: Annotated[Path | None, typer.Option(help="Output folder (default results/<scenario>-seed<seed>).")] = None,
    workers: WorkersOpt = None,
    serial: SerialOpt = False,
    executor: ExecutorOpt = "processes",
    scheduler: SchedulerOpt = None,
    places: PlacesOpt = None,
    horizon: HorizonOpt = None,
    scale: ScaleOpt = None,
    calibration: CalibrationOpt = None,
    overwrite: OverwriteOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a scenario and write monthly, annual, award and summary tables as Parquet."""
    sc = _load(scenario, calibration, places, horizon, scale)
    _say_fit_coverage(sc)
    _launch(
        lambda **kw: run(sc, replicates=replicates, **kw),
        out or Path("results") / f"{sc.name}-seed{seed}",
        seed=seed, executor=_executor(executor, scheduler, serial=serial), scheduler=scheduler, workers=workers, as_json=as_json,
        show_progress=replicates > 1, scale_given=scale is not None, overwrite=overwrite,
    )


@app.command("compare")
@_user_errors
def compare_command(
    base: Annotated[str, typer.Argument(help="Base scenario (preset name or TOML file).")],
    alternative: Annotated[str, typer.Argument(help="Alternative scenario (preset name or TOML file).")],
    seed: SeedOpt = 0,
    replicates: Annotated[int, typer.Option(min=2, max=MAX_REPLICATES, help="Paired replicates (>= 2 for confidence intervals).")] = 20,
    out: Annotated[Path | None, typer.Option(help="Output folder (default results/<base>-vs-<alternative>-seed<seed>).")] = None,
    workers: WorkersOpt = None,
    serial: SerialOpt = False,
    executor: ExecutorOpt = "processes",
    scheduler: SchedulerOpt = None,
    places: PlacesOpt = None,
    horizon: HorizonOpt = None,
    scale: ScaleOpt = None,
    calibration: CalibrationOpt = None,
    overwrite: OverwriteOpt = False,
    as_json: JsonOpt = False,
    with_explain: Annotated[bool, typer.Option("--explain", help="Also attribute each difference to the levers and other keys "
                                               "that differ (as 'pfpp explain', same seed and replicates), into OUT/explain.")] = False,
) -> None:
    """Compare two scenarios on common random numbers: paired differences with 95% CIs."""
    a = _load(base, calibration, places, horizon, scale)
    b = _load(alternative, calibration, places, horizon, scale)
    _say_fit_coverage(a, b)
    out = out or Path("results") / f"{a.name}-vs-{b.name}-seed{seed}"
    executor = _executor(executor, scheduler, serial=serial)
    if not with_explain:
        _launch(
            lambda **kw: compare(a, b, replicates=replicates, **kw), out,
            seed=seed, executor=executor, scheduler=scheduler, workers=workers, as_json=as_json, show_progress=True,
            scale_given=scale is not None, overwrite=overwrite,
        )
        return
    check_executor(executor)
    spread = {"executor": executor, "workers": workers, "scheduler": scheduler}
    with claim_folder(out, overwrite=overwrite) as claim:
        with _runs_progress(not as_json, "attribution runs") as progress:  # first: it refuses a pair it cannot explain before anything runs
            explanation = explain(a, b, seed=seed, replicates=replicates, progress=progress, **spread)
        bar, progress = _progress(not as_json)
        with bar or nullcontext():
            result = compare(a, b, seed=seed, replicates=replicates, progress=progress, **spread)
        result.publish(claim, also=lambda folder: explanation.save(folder / "explain"))
    explanation.files = {name: out / "explain" / path.name for name, path in explanation.files.items()}
    _finish(result, out, as_json, scale_given=scale is not None, explanation=explanation)


@app.command("explain")
@_user_errors
def explain_command(
    base: Annotated[str, typer.Argument(help="Base scenario (preset name or TOML file).")],
    alternative: Annotated[str, typer.Argument(help="Alternative scenario (preset name or TOML file).")],
    seed: SeedOpt = 0,
    replicates: ExplainReplicatesOpt = 10,
    out: Annotated[Path | None, typer.Option(help="Output folder (default results/explain-<base>-vs-<alternative>-seed<seed>).")] = None,
    factors: FactorsOpt = None,
    permutations: PermutationsOpt = None,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = "processes",
    scheduler: SchedulerOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Reuse the runs an interrupted explain left in --out.")] = False,
    places: PlacesOpt = None,
    horizon: HorizonOpt = None,
    scale: ScaleOpt = None,
    calibration: CalibrationOpt = None,
    overwrite: OverwriteOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Say what drives each difference: Shapley attribution to the levers and other keys that differ, with 95% CIs."""
    a = _load(base, calibration, places, horizon, scale)
    b = _load(alternative, calibration, places, horizon, scale)
    _say_fit_coverage(a, b)
    out = out or Path("results") / f"explain-{a.name}-vs-{b.name}-seed{seed}"
    groups = [g.strip() for g in factors.split(",") if g.strip()] if factors else ()
    with lock_folder(out):  # one writer; its runs are kept in out/runs for --resume
        if out.is_dir() and any(out.iterdir()) and not (resume or overwrite):
            raise PfppError(f"--out {out} already holds files; give --resume to continue an explain there, --overwrite to replace them, or choose another folder")
        if overwrite and out.is_dir():
            shutil.rmtree(out)
        with _runs_progress(not as_json, "runs") as progress:
            result = explain(
                a, b, seed=seed, replicates=replicates, groups=groups, permutations=permutations,
                executor=_executor(executor, scheduler), workers=workers, scheduler=scheduler,
                store=out / "runs", resume=resume, progress=progress,
            )
        result.save(out)
    if as_json:
        sys.stdout.write(json.dumps(_explain_json(result, out), indent=2, default=str) + "\n")
        return
    _print_explanation(result)
    tables = ", ".join(p.name for p in result.files.values())
    out_console.print(f"\n{result.manifest()['runs']:,} runs; written to [bold]{out}/[/] ({tables}) in {result.seconds:.1f} s")
    out_console.print(f"Write the HTML report with: pfpp report {out}", highlight=False)


@app.command("sweep")
@_user_errors
def sweep_command(
    spec: Annotated[Path, typer.Argument(help="Sweep spec TOML (see sweeps/).")],
    out: Annotated[Path | None, typer.Option(help="Output folder (default results/sweep-<spec name>).")] = None,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = "processes",
    scheduler: SchedulerOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Skip runs already finished in --out.")] = False,
    overwrite: OverwriteOpt = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the spec and every design value, print the run count, run nothing.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a parameter sweep (grid, LHS, Sobol or Morris); resumable after any interruption."""
    out = out or Path("results") / f"sweep-{spec.stem}"
    base = load_sweep(spec)[1]
    _say_sources(base)
    _say_fit_coverage(base)
    plan = plan_sweep(spec)
    if dry_run:
        if as_json:
            sys.stdout.write(json.dumps(plan, indent=2) + "\n")
            return
        out_console.print(f"Sweep {plan['name']} would make {_run_count(plan)}; every design value checked. Nothing was run.", highlight=False)
        return
    if not as_json:
        out_console.print(f"Sweep {plan['name']}: {_run_count(plan)}", highlight=False)
    bar, progress = _progress(not as_json, "runs")
    with bar or nullcontext():
        manifest = run_sweep(
            spec, out, executor=_executor(executor, scheduler), workers=workers, scheduler=scheduler, resume=resume, overwrite=overwrite,
            progress=progress,
        ).manifest
    if as_json:
        sys.stdout.write(json.dumps({"out": str(out), **manifest}, indent=2, default=str) + "\n")
        return
    out_console.print(f"Sweep {manifest['name']}: {manifest['runs']} runs finished in {manifest['seconds']:.1f} s")
    out_console.print(f"Results: [bold]{out / 'results.parquet'}[/]; analyse with: pfpp analyse {out}")


def _run_count(plan: dict) -> str:
    points, replicates = plan["points"], plan["replicates"]
    return (f"{plan['runs']:,} runs ({plan['design']} design: {points:,} points x {replicates:,} "
            f"replicate{'s' if replicates > 1 else ''}, {len(plan['parameters'])} parameters)")


@app.command("analyse")
@_user_errors
def analyse_command(
    sweep_dir: Annotated[Path, typer.Argument(help="A finished sweep folder.")],
    prim: Annotated[str | None, typer.Option(help="Also run PRIM scenario discovery on this output (needs the 'ema' extra).")] = None,
    low: Annotated[bool, typer.Option("--low", help="With --prim: cases are the lowest 20% of runs, not the highest.")] = False,
    place: Annotated[str, typer.Option(help="Show the indices of this place (ONS code; the sweep must keep places), not all places.")] = ALL_PLACES,
    as_json: JsonOpt = False,
) -> None:
    """Sensitivity of each outcome to each lever (Sobol, Morris or rank correlations); optional PRIM."""
    from pfpp_sim.sweep_report import write_analysis, write_discovery  # with Matplotlib: imported only by the commands that chart

    check_place(read_sweep(sweep_dir), place)  # before anything is written
    files = write_analysis(sweep_dir)
    if prim:
        found = discover(sweep_dir, prim, high=not low)
        files["prim"] = write_discovery(sweep_dir, found)
    every = pd.read_parquet(files["indices"])
    indices = every[every["place_code"] == place]
    spec = read_json(sweep_dir / "manifest.json")["spec"]
    ranked = top_levers(indices, spec["design"])
    if as_json:
        sys.stdout.write(json.dumps({"files": {k: str(v) for k, v in files.items()}, "indices": indices.replace({np.nan: None}).to_dict(orient="records")}, indent=2) + "\n")
        return
    where = "all places" if place == ALL_PLACES else place
    measure, label = MEASURES[spec["design"]]
    table = Table(title=f"Which lever matters most, {where} ({label})", title_justify="left")
    for column in ("Outcome", "1st", "2nd", "3rd"):
        table.add_column(column)
    for output, group in ranked.groupby("output", sort=False):
        cells = [f"{r.parameter} ({format_index(measure, output, r.value, r.conf)}){' !' if r.flag else ''}" for r in group.head(3).itertuples()]
        table.add_row(output, *cells, *[""] * (3 - len(cells)))
    out_console.print(table)
    others = sorted(set(every["place_code"]) - {ALL_PLACES, place})
    if others:
        out_console.print(f"Indices of {len(others)} more places are in analysis.parquet and analysis.md; show one with --place CODE.", highlight=False)
    flagged = indices[indices["flag"] != ""]
    if len(flagged):
        out_console.print(
            f"! {len(flagged)} of {len(indices)} indices lie outside [0, 1] or have a 95% CI wider than ±{WIDE_SOBOL_CI}: "
            "read them as imprecise and rerun the sweep with more samples (see analysis.md).", highlight=False,
        )
    if prim:
        box = Table(title=f"PRIM: where {found.cases} (coverage {found.coverage:.0%}, density {found.density:.0%})", title_justify="left")
        for column in ("Parameter", "From", "To"):
            box.add_column(column)
        for row in found.limits.itertuples():
            box.add_row(row.parameter, row.min, row.max)
        out_console.print(box)
    out_console.print(f"Written: {', '.join(str(p) for p in files.values())}")


@app.command("robustness")
@_user_errors
def robustness_command(
    base: Annotated[str, typer.Argument(help="Base scenario (preset name or TOML file).")],
    alternative: Annotated[str, typer.Argument(help="Alternative scenario (preset name or TOML file).")],
    samples: Annotated[int, typer.Option(help="LHS: sampled worlds; sobol: N, a power of two (N(D+2) worlds for D assumptions); "
                                         "morris: trajectories (N(D+1) worlds).")] = DEFAULT_SAMPLES,
    design: Annotated[str, typer.Option(help="lhs, sobol or morris.")] = "lhs",
    replicates: Annotated[int, typer.Option(help="Paired replicates of both scenarios in every world (at least 2).")] = DEFAULT_REPLICATES,
    seed: SeedOpt = 0,
    places: PlacesOpt = None,
    horizon: HorizonOpt = None,
    scale: ScaleOpt = None,
    include_evidence: Annotated[bool, typer.Option("--include-evidence", help="Also sample evidence values with a published "
                                                   "range, fixed per world (otherwise drawn per replicate).")] = False,
    out: Annotated[Path | None, typer.Option(help="Output folder (default results/robustness-<base>-vs-<alternative>-seed<seed>).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run in --out.")] = False,
    executor: Annotated[str, typer.Option(help="serial, processes or dask.")] = "processes",
    workers: WorkersOpt = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, e.g. tcp://host:8786 (implies --executor dask).")] = None,
    calibration: CalibrationOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Would the answer hold? Compare two scenarios in worlds sampled over the assumptions' ranges."""
    a = _load(base, calibration, places, horizon, scale)
    b = _load(alternative, calibration, places, horizon, scale)
    check_comparable(a, b, base_label=base, alternative_label=alternative)
    _say_fit_coverage(a, b)
    out = out or Path("results") / f"robustness-{a.name}-vs-{b.name}-seed{seed}"
    bar, update = _progress(not as_json, "worlds")

    def progress(done: int, total: int) -> None:
        if bar is not None and bar.tasks[0].total is None:
            bar.console.print(f"{total:,} worlds (the scenarios as given and {total - 1:,} sampled) x {replicates} replicates x 2 "
                              f"scenarios = {total * replicates * 2:,} runs", highlight=False, markup=False, soft_wrap=True)
        if update:
            update(done, total)

    with bar or nullcontext():
        result = robustness(a, b, out, samples=samples, design=design, replicates=replicates, seed=seed, include_evidence=include_evidence,
                            resume=resume, executor=_executor(executor, scheduler), workers=workers, scheduler=scheduler, progress=progress)
    if as_json:
        sys.stdout.write(json.dumps({"out": str(out), **result.payload()}, indent=2, default=str) + "\n")
        return
    _print_robustness(result, out)


def _print_robustness(result: Robustness, out: Path) -> None:
    out_console.print(
        f"\n{result.alternative} vs {result.base}, all places, in {result.sampled_worlds:,} worlds sampled over "
        f"{len(result.space.factors)} assumptions ({result.method}, {result.replicates} paired replicates each, seed {result.seed}):",
        highlight=False, markup=False,
    )
    totals = result.summary[result.summary["place_code"] == ALL_PLACES]
    for metric in totals["metric"]:
        out_console.print(result.headline(metric), highlight=False, markup=False)
    table = Table(title="What moves each difference most", title_justify="left")
    for column in ("Outcome", "1st", "2nd", "3rd"):
        table.add_column(column)
    flips = Table(title="Where the sign flips (PRIM)", title_justify="left")
    for column in ("Outcome", "Worlds flipped", "Box"):
        flips.add_column(column)
    for row in totals.itertuples():
        cells = [
            f"{r.factor} ({r.measure} {r.value:.2f}{', within noise' if r.within_noise else ''})" for r in result.top_factors(row.metric).itertuples()
        ]
        title = escape(OUTCOME_TITLES.get(row.metric, row.metric))
        cells = cells or ["does not vary across worlds" if row.q05 == row.q95 else "-"]
        table.add_row(title, *map(escape, cells), *[""] * (3 - len(cells)))
        if np.isfinite(row.flips) and row.flips > 0:
            box = result.flips[result.flips["metric"] == row.metric]
            shown = "; ".join(f"{r.factor} in [{r.min:.4g}, {r.max:.4g}]" for r in box.itertuples() if r.factor) or (
                "spread over the whole space (no box)" if len(box) else result.prim)
            flips.add_row(title, f"{int(row.flips)} of {row.worlds}", escape(shown))
    out_console.print(table)
    if flips.row_count:
        out_console.print(flips)
    if result.space.not_sampled:
        out_console.print(f"Not sampled ({len(result.space.not_sampled)}): " + "; ".join(
            f"{path}: {reason}" for path, reason in result.space.not_sampled), highlight=False, markup=False)
    out_console.print(f"Results written to {out}/ ({', '.join(p.name for p in result.files.values())})", highlight=False, markup=False)
    out_console.print(f"Write the HTML report with: pfpp report {out}", highlight=False, markup=False)


@app.command("calibrate")
@_user_errors
def calibrate_command(
    places: Annotated[str | None, typer.Option(help="Places to fit: 'all' (every English authority; fit name england), 'pilots' or comma-separated ONS codes.")] = None,
    all_pilots: Annotated[bool, typer.Option("--all-pilots", help="Fit the 14 PfPP pilot places.")] = False,
    sample: Annotated[int | None, typer.Option(min=1, help="Fit N randomly chosen non-pilot local authorities (by --seed).")] = None,
    through: Annotated[int | None, typer.Option(help="Last data year to fit (default: all vendored years).")] = None,
    holdout_last_year: Annotated[bool, typer.Option("--holdout-last-year", help="Also fit without each series' last year and compare the model with persistence on it.")] = False,
    name: Annotated[str | None, typer.Option(help="Name of the fit (default: england, pilots, sample<N>_seed<seed> or places).")] = None,
    base: Annotated[str, typer.Option(help="Baseline scenario replayed (preset or TOML).")] = "baseline_history",
    out: Annotated[Path, typer.Option(help="Calibration folder: fit to OUT/fitted/<name>.toml, report to OUT/reports/<name>/.")] = Path("calibration"),
    seed: SeedOpt = 1,
    replicates: Annotated[int, typer.Option(min=1, help="Replicates averaged in every evaluation.")] = 2,
    max_iterations: Annotated[int, typer.Option(min=1, help="Most optimiser steps per fit.")] = 12,
    abc: Annotated[str | None, typer.Option(help="Also run ABC-SMC for the trends of this place (an ONS code; needs the 'abc' extra).")] = None,
    workers: WorkersOpt = None,
    executor: Annotated[str, typer.Option(help="serial, processes or dask: where each evaluation's replicates run.")] = "processes",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, e.g. tcp://host:8786 (implies --executor dask).")] = None,
) -> None:
    """Fit the baseline to official fuel-poverty and NEET series (simulated method of moments)."""
    from pfpp_sim.calibration import Settings, calibrate
    from pfpp_sim.calibration.coverage import NAMED_PLACES
    from pfpp_sim.calibration.report import write_calibration
    from pfpp_sim.calibration.targets import sample_places

    chosen = [all_pilots, places is not None, sample is not None]
    if sum(chosen) != 1:
        raise PfppError("pfpp calibrate: give exactly one of --all-pilots, --places CODES or --sample N")
    if all_pilots:
        codes, default_name = list(data.PILOT_CODES), "pilots"
    elif sample is not None:
        try:
            codes = sample_places(sample, seed)
        except ValueError as err:
            raise PfppError(f"pfpp calibrate --sample {sample}: {err}") from None
        default_name = f"sample{sample}_seed{seed}"
    elif places.strip() in ("all", "pilots"):
        codes = data.places(places.strip())["area_code"].tolist()
        default_name = "england" if places.strip() == "all" else "pilots"
    else:
        codes, default_name = data.places([p.strip() for p in places.split(",") if p.strip()])["area_code"].tolist(), "places"
    check_executor(executor)
    fit_name = name or default_name
    if not re.fullmatch(r"[A-Za-z0-9_]+", fit_name):
        raise PfppError(f"pfpp calibrate --name {fit_name!r}: expected letters, digits and underscores")
    if abc is not None and abc not in codes:
        raise PfppError(f"pfpp calibrate --abc {abc}: expected one of the places fitted ({', '.join(codes)})")
    settings = Settings(seed=seed, replicates=replicates, max_iterations=max_iterations)
    base_scenario = load_scenario(base)
    _say_sources(base_scenario)
    keep_freed_memory()  # every run holds at least 20,000 young people a place: large arrays every month
    with err_console.status("Calibrating") as status:
        result = calibrate(
            base_scenario, codes, name=fit_name, settings=settings, through=through, holdout_last_year=holdout_last_year,
            executor=_executor(executor, scheduler), workers=workers, scheduler=scheduler,
            progress=lambda n: status.update(f"Calibrating {len(codes)} places: {n} model evaluations"),
        )
    posteriors = []
    if abc is not None:
        from pfpp_sim.calibration.abc import abc_posterior

        fitted_base = load_scenario(base).with_overrides({f"{k}.value": v.value for k, v in result.fit.globals.items()})
        with err_console.status(f"ABC-SMC for {abc}"):
            posteriors.append(abc_posterior(fitted_base, abc, database=out / "reports" / fit_name / f"abc_{abc}.db", seed=seed))
    files = write_calibration(result, out, posteriors)
    table = Table(
        title=f"Fit {fit_name}: mean absolute error, percentage points, in sample and in the held-out year", title_justify="left",
        caption="Level: the model's simulated level; AR(1): a pooled AR(1); floor: the lowest error any forecast of one "
                "change for every place can reach (it reads the held-out year); rank r: rank correlation of the model's "
                "predicted with the observed change; own: the weight of a place's own simulated change against the mean over "
                "places (the share not Monte Carlo error); cover: the share of held-out values inside the 90% interval; "
                "change r: correlation of each published change with the next, over places",
        caption_justify="left",
    )
    for column in ("Series", "In sample", "Year", "Model", "Level", "Persistence", "AR(1)", "Floor",
                   "Rank r", "Own", "Cover", "Change r", "Better"):
        table.add_column(column, min_width=len("fuel_poverty_rate") if column == "Series" else None)
    holdout = {} if result.holdout is None else {r.metric: r for r in result.holdout.itertuples()}
    for metric, value in result.mae().items():
        h = holdout.get(metric)
        cells = ("",) * 11 if h is None else (
            str(h.held_out_year), f"{100 * h.model_mae:.2f}", f"{100 * h.model_level_mae:.2f}", f"{100 * h.persistence_mae:.2f}",
            f"{100 * h.ar1_mae:.2f}", f"{100 * h.same_change_floor_mae:.2f}",
            f"{h.model_rank_correlation:+.2f}", f"{h.change_weight:.2f}", f"{h.coverage_90:.0%}", f"{h.change_correlation:+.2f}",
            h.better,
        )
        table.add_row(metric, f"{100 * value:.2f}", *cells)
    out_console.print(table)
    lacking = result.missing_moments()
    if lacking:
        _warn(f"{len(lacking)} place(s) lack published years and were fitted to fewer moments: "
              + "; ".join(f"{code} ({', '.join(missing)})" for code, missing in list(lacking.items())[:NAMED_PLACES])
              + (" ..." if len(lacking) > NAMED_PLACES else "") + " (listed in the report)")
    held = f" (the held-out fit: {result.holdout_evaluations} evaluations, {result.holdout_seconds:.0f} s)" if result.holdout is not None else ""
    out_console.print(f"{len(codes)} places, {result.evaluations} evaluations, {result.seconds:.0f} s{held}. {result.message}")
    for warning in result.fit.warnings:
        _warn(warning.message)
    out_console.print(f"Fit: [bold]{files['fit']}[/] (scenarios use it with calibration = \"{fit_name}\")")
    out_console.print(f"Report: [bold]{files['report']}[/]")


@app.command("report")
@_user_errors
def report_command(
    folder: Annotated[Path, typer.Argument(help="A folder written by 'pfpp run', 'compare', 'sweep' or 'robustness'.")],
) -> None:
    """Write a self-contained HTML report of a run, comparison, sweep or robustness folder, with its figures as PNGs."""
    from pfpp_sim.report import write_report  # with Matplotlib: imported only by the commands that chart

    files = write_report(folder)
    out_console.print(f"{len(files) - 1} figures written to [bold]{folder / 'figures'}/[/]")
    out_console.print(f"Report: [bold]{files['report']}[/]")


@app.command("app")
@_user_errors
def app_command(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1). Giving a non-loopback "
                                                "address, e.g. 0.0.0.0 for a room network, opens the app to that network.")] = None,
) -> None:
    """Start the teaching app in the browser (siloed vs joined-up, side by side)."""
    from pfpp_sim.app import serve

    if host is None:
        out_console.print(f"Teaching app on http://127.0.0.1:{port} (Ctrl+C to stop)")
    serve(host or "127.0.0.1", port, allow_remote=host is not None)


def _benchmarks():
    """The ``benchmarks`` package of the source checkout this ``pfpp_sim`` comes from."""
    root = Path(__file__).resolve().parent.parent
    if not (root / "benchmarks" / "__init__.py").is_file():
        raise PfppError(f"pfpp bench needs a source checkout: no benchmarks/ folder next to {Path(__file__).parent}")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    import benchmarks

    return benchmarks


@app.command("bench")
@_user_errors
def bench_command(
    quick: Annotated[bool, typer.Option("--quick", help="Two small scales, 12 months, a small naive run: under a minute.")] = False,
    national: Annotated[bool, typer.Option("--national", help="Also the 1:1 national run (about 23 M households), in the "
                                           "scaling table and as the `pfpp run` command: several minutes, about 3 GB.")] = False,
    out: Annotated[Path | None, typer.Option(help="Folder for the JSON and Markdown results (default benchmarks/results).")] = None,
) -> None:
    """Measure throughput and memory at several scales against a naive per-agent Mesa reference (see benchmarks/README.md)."""
    benchmarks = _benchmarks()
    files = benchmarks.save(benchmarks.run(quick=quick, national=national), out or benchmarks.RESULTS)
    out_console.print(files["markdown"].read_text(encoding="utf-8"), markup=False, highlight=False)
    out_console.print(f"Wrote {files['json']} and {files['markdown']}", highlight=False)


@app.command("validate")
@_user_errors
def validate_command(files: Annotated[list[str], typer.Argument(help="Scenario TOML files or preset names.")]) -> None:
    """Check scenario files; print one line per file, exit 2 at the first invalid one."""
    for name in files:
        sc = load_scenario(name)
        out_console.print(f"ok: {name} ({sc.name}, hash {sc.scenario_hash()})", highlight=False, markup=False)


@scenarios_app.command("list")
def scenarios_list(as_json: JsonOpt = False) -> None:
    """List the shipped presets with their descriptions, then the worked examples to copy."""
    rows = [(name, load_scenario(name).description) for name in list_presets()]
    examples = [(path, load_scenario(path).description) for path in list_examples()]
    if as_json:
        sys.stdout.write(json.dumps(dict(rows), indent=2) + "\n")
        return
    table = Table(show_header=True)
    table.add_column("Preset")
    table.add_column("What it represents")
    for name, description in rows:
        table.add_row(name, description)
    out_console.print(table)
    out_console.print("Worked examples (copy one beside your work and edit it):", highlight=False)
    for path, description in examples:
        out_console.print(f"  {path}: {description}", highlight=False, soft_wrap=True)


@scenarios_app.command("show")
@_user_errors
def scenarios_show(
    name: Annotated[str, typer.Argument(help="Preset name or TOML file.")],
    as_json: JsonOpt = False,
) -> None:
    """Show a scenario after inheritance, with every value's unit and source."""
    sc = load_scenario(name)
    if as_json:
        sys.stdout.write(json.dumps(sc.model_dump(mode="json"), indent=2) + "\n")
        return
    out_console.print(f"[bold]{sc.name}[/] (hash {sc.scenario_hash()}, extends {sc.extends or '-'})\n{sc.description}")
    fit = sc.calibration
    out_console.print(
        f"Calibration: {fit.name} (fitted {fit.fitted_on}; trends for {len(fit.places)} places)\n" if fit else "Calibration: none\n"
    )
    run = Table(title="Run", title_justify="left")
    run.add_column("Key")
    run.add_column("Value", justify="right")
    for key, value in sc.run.model_dump().items():
        run.add_row(key, ", ".join(value) if isinstance(value, list) else str(value))
    out_console.print(run)
    levers = Table(title="Levers", title_justify="left")
    levers.add_column("Lever")
    levers.add_column("Value", justify="right")
    for key, value in sc.levers.model_dump().items():
        levers.add_row(key, "as each stream" if value is None else str(value))
    out_console.print(levers)
    programmes = Table(title="Programmes", title_justify="left")
    for column in ("Stream", "Department", "Competitive", "Period (months)", "Window", "Rounds", "Ring-fenced", "Reporting", "Interventions"):
        programmes.add_column(column)
    for key, p in sc.programmes.items():
        programmes.add_row(
            key, p.department, f"{p.competitive_share:.0%}", str(p.funding_period_months), str(p.window_months),
            "ongoing" if p.rounds is None else str(p.rounds), "yes" if p.ring_fenced else "no", f"x{p.reporting_burden:g}",
            ", ".join(f"{k} {v:.0%}" for k, v in p.interventions.items()),
        )
    out_console.print(programmes)
    values = Table(title="Every sourced value (key paths for overrides and sweeps)", title_justify="left")
    for column in ("Key", "Value", "Unit", "Range", "Source"):
        values.add_column(column, justify="right" if column in ("Value", "Range") else "left", no_wrap=column == "Key", overflow="fold")
    for path, value in sourced_parameters(sc):
        values.add_row(path, f"{value.value:g}", value.unit, "" if value.low is None else f"{value.low:g}-{value.high:g}", value.source)
    out_console.print(values)
    if sc.user_sources:
        own = Table(title="The analyst's own sources (cited as user:KEY)", title_justify="left")
        for column in ("Key", "Description", "Reference", "Why this range"):
            own.add_column(column, overflow="fold")
        for key, source in sc.user_sources.items():
            own.add_row(*(escape(text) for text in (key, source.description, source.reference, source.range_reason or "-")))
        out_console.print(own)


def main() -> None:
    """The ``pfpp`` command: a mistake in the command line is one line on stderr and exit status 2."""
    try:
        code = app(prog_name="pfpp", standalone_mode=False)
    except Exception as err:
        if not _is_click_error(err):
            raise
        if type(err).__name__ == "NoArgsIsHelpError":  # a command or group named without what it needs: its help
            out_console.print(err.format_message(), highlight=False, markup=False)
            sys.exit(2)
        err_console.print(f"[bold red]error:[/] {escape(err.format_message())} (see: pfpp {_command_name(err)}--help)", highlight=False, soft_wrap=True)
        sys.exit(err.exit_code)
    sys.exit(code or 0)


def _is_click_error(err: Exception) -> bool:
    """True for the command-line parser's errors (click's, which Typer may carry its own copy of)."""
    return any(cls.__name__ == "ClickException" for cls in type(err).__mro__)


def _command_name(err: Exception) -> str:
    ctx = getattr(err, "ctx", None)
    path = ctx.command_path.split(" ", 1) if ctx else []
    return f"{path[1]} " if len(path) > 1 else ""
