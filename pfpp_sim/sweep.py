"""Parameter sweeps: a validated spec, a design (grid, LHS, Sobol, Morris), resumable runs.

A sweep is ``(spec) -> one Parquet file per run`` in ``<out>/runs/``, written atomically
as results arrive, plus ``design.parquet``, ``results.parquet`` and ``manifest.json``.
Rerunning with ``resume=True`` skips runs whose file exists, so a sweep killed at any
point (even ``kill -9``) completes with no duplicate and no missing run. Replicate ``r``
of every design point uses the same random streams (common random numbers), so
differences between points come from the parameters, not from noise; results do not
depend on the executor or the number of workers.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from pfpp_sim.analysis import ALL_PLACES, SUMMARY_METRICS, SUMMARY_UNITS
from pfpp_sim.calibration.coverage import run_warnings
from pfpp_sim.design import Parameter, ParameterSpace, sample
from pfpp_sim.errors import PfppError, ScenarioError
from pfpp_sim.experiment import run_summary
from pfpp_sim.jobs import Kept, Store, run_jobs
from pfpp_sim.scenario import Scenario, list_presets, load_scenario
from pfpp_sim.storage import (
    RunFolder,
    empty_folder,
    environment,
    git_commit,
    holds_files,
    lock_folder,
    package_version,
    read_json,
    read_table,
    read_toml,
    write_json,
    write_parquet,
)
from pfpp_sim.workers import ExecutorChoice, check_executor, execution

__all__ = [
    "MAX_RUNS", "Sweep", "SweepSpec", "design_of", "load_sweep", "plan_sweep", "read_sweep", "run_design", "run_sweep",
    "spec_from_manifest", "sweep_results",
]

Progress = Callable[[int, int], None]
MAX_RUNS = 1_000_000
"""Largest sweep accepted (design points times replicates); a larger one is a typo or a job for several sweeps."""


class SweepSpec(BaseModel):
    """A sweep: base scenario, what varies, how it is sampled, and what is kept."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    name: str = Field(pattern=r"^[A-Za-z0-9_]+$", description="the sweep's name (default output folder results/sweep-NAME)")
    description: str = Field("", description="what the sweep asks")
    base: str = Field(min_length=1, description="preset name or scenario file (relative to the spec)")
    design: Literal["grid", "lhs", "sobol", "morris"] = Field(description="how points are chosen (runs per design: below)")
    samples: int = Field(16, ge=1, le=1_000_000, description="lhs: points; sobol: N (N*(D+2) points); morris: trajectories")
    morris_levels: int = Field(4, ge=2, le=20, description="morris: grid levels of each parameter")
    replicates: int = Field(1, ge=1, le=10_000, description="runs of each design point on other random numbers")
    seed: int = Field(0, ge=0, description="root seed of the design and of every run")
    outputs: list[str] = Field(default_factory=lambda: list(SUMMARY_METRICS), min_length=1, description="summary metrics kept (default: all)")
    keep_places: bool = Field(False, description="keep per-place summaries too, not only all places")
    overrides: dict[str, Any] = Field(default_factory=dict, description="fixed changes to the base scenario")
    parameters: dict[str, Parameter] = Field(min_length=1, description="[parameters]: scenario key path -> range or levels")

    @field_validator("samples")
    @classmethod
    def _sobol_power_of_two(cls, value: int, info: ValidationInfo) -> int:
        # Saltelli's sampling is balanced only for powers of two; other sizes give indices
        # far outside [0, 1] (SALib only warns).
        if info.data.get("design") == "sobol" and value & (value - 1):
            raise ValueError(f"a power of two for a sobol design (Saltelli sampling), e.g. {1 << (value.bit_length() - 1)} or {1 << value.bit_length()}")
        return value

    @field_validator("outputs")
    @classmethod
    def _known_outputs(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(SUMMARY_METRICS))
        if unknown:
            raise ValueError(f"unknown output {unknown[0]!r}; expected some of {', '.join(SUMMARY_METRICS)}")
        return value

    @model_validator(mode="after")
    def _design_fits(self) -> SweepSpec:
        if self.design == "grid":
            for key, parameter in self.parameters.items():
                if parameter.levels is None and parameter.steps is None:
                    raise ValueError(f"grid design: parameter {key!r} needs levels or steps")
        return self

    @property
    def space(self) -> ParameterSpace:
        """The swept parameters, as :func:`pfpp_sim.design.sample` and :func:`~pfpp_sim.design.analyze` take them."""
        return ParameterSpace(self.parameters)

    @property
    def runs(self) -> int:
        """Runs in the sweep: design points times replicates."""
        n = len(self.parameters)
        if self.design == "grid":
            points = math.prod(len(parameter.grid()) for parameter in self.parameters.values())
        else:
            points = self.samples * {"lhs": 1, "sobol": n + 2, "morris": n + 1}[self.design]
        return points * self.replicates

    def spec_hash(self) -> str:
        """Short SHA-256 of the spec; parameter order counts (it sets the design's columns)."""
        content = {"spec": self.model_dump(mode="json"), "parameter_order": list(self.parameters)}
        blob = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def load_sweep(path: str | Path) -> tuple[SweepSpec, Scenario]:
    """Load a sweep spec and its base scenario; check every key path exists.

    Raises
    ------
    ScenarioError
        Naming the file, the key path, the bad value and what was expected.
    """
    path = Path(path)
    data, _ = read_toml(path, what="sweep spec file")
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as err:
        bad = err.errors()[0]
        msg = "unknown key (check the spelling; unknown keys are not allowed)" if bad["type"] == "extra_forbidden" else bad["msg"]
        raise ScenarioError(path, ".".join(str(p) for p in bad["loc"]), bad.get("input"), msg) from err
    if spec.runs > MAX_RUNS:
        key, value = ("parameters", list(spec.parameters)) if spec.design == "grid" else ("samples", spec.samples)
        raise ScenarioError(path, key, value, f"a sweep of at most {MAX_RUNS:,} runs (design points x replicates), not {spec.runs:,}")
    base = load_scenario(_base_path(path, spec.base))
    try:
        base = base.with_overrides(spec.overrides)
        for key, parameter in spec.parameters.items():
            base.with_overrides({key: parameter.grid()[0]})
    except ScenarioError as err:
        raise ScenarioError(path, f"parameters.{err.key}" if err.key in spec.parameters else f"overrides.{err.key}", err.value, err.expected) from err
    return spec, base


def _base_path(spec_path: Path, base: str) -> Path | str:
    """Where a spec's base scenario is: a ``.toml`` file relative to the spec, or a preset name."""
    if base.endswith(".toml"):
        beside = spec_path.parent / base
        if beside.is_file():
            return beside
        raise ScenarioError(spec_path, "base", base, f"an existing scenario file (looked for {beside})")
    if base not in list_presets():
        raise ScenarioError(spec_path, "base", base, f"a scenario file ending .toml or a preset ({', '.join(list_presets())})")
    return base


def spec_from_manifest(manifest: dict[str, Any]) -> SweepSpec:
    """Rebuild a sweep's spec from its manifest, parameters in their original order."""
    if "parameter_order" not in manifest or "spec" not in manifest:
        raise PfppError("the sweep manifest lacks its spec or parameter order (written by another version?): rerun the sweep")
    data = dict(manifest["spec"])
    data["parameters"] = {name: data["parameters"][name] for name in manifest["parameter_order"]}
    return SweepSpec.model_validate(data)


def design_of(spec: SweepSpec) -> pd.DataFrame:
    """A spec's design points: its space sampled by its method, size and seed (:func:`pfpp_sim.design.sample`)."""
    return sample(spec.space, spec.samples, spec.seed, method=spec.design, morris_levels=spec.morris_levels)


@dataclass(frozen=True)
class _Job:
    run_id: int
    point: int
    replicate: int
    overrides: dict[str, Any]

    @property
    def key(self) -> int:
        return self.run_id


def _run_batch(base: Scenario, jobs: list[_Job], seed: int, outputs: list[str], keep_places: bool) -> list[tuple[int, pd.DataFrame | str]]:
    """Run a batch in a worker; a failed run returns its error message instead of a table."""
    done: list[tuple[int, pd.DataFrame | str]] = []
    for job in jobs:
        try:
            scenario = base.with_overrides(job.overrides)
            summary = run_summary(scenario, seed, job.replicate)
        except Exception as err:  # reported with the run's parameters by the caller
            done.append((job.run_id, f"{type(err).__name__}: {err}"))
            continue
        rows = summary["metric"].isin(outputs).to_numpy()
        if not keep_places:
            rows = rows & (summary["place_code"].to_numpy() == ALL_PLACES)
        kept = {name: column.array[rows] for name, column in summary.items()}
        done.append((job.run_id, pd.DataFrame({**kept, "run_id": job.run_id, "point": job.point, "replicate": job.replicate})))
    return done


def run_design(
    design: pd.DataFrame,
    base: Scenario | str | Path,
    *,
    seed: int = 0,
    replicates: int = 1,
    outputs: list[str] | None = None,
    by_place: bool = False,
    executor: ExecutorChoice = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    store: Store | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Run every point of a design on a base scenario, ``replicates`` times each.

    Replicate ``r`` of every point runs on replicate ``r``'s random streams of ``seed``
    (common random numbers), so differences between points come from the parameters;
    results do not depend on the executor or the number of workers.

    Parameters
    ----------
    design : DataFrame
        ``point`` then one column per scenario key path (:func:`pfpp_sim.design.sample`).
    base : Scenario, str or Path
        The scenario each point changes (or a preset name, or a TOML path).
    seed : int, default=0
    replicates : int, default=1
    outputs : list of str, optional
        Summary metrics kept (default: all of :data:`pfpp_sim.analysis.SUMMARY_METRICS`).
    by_place : bool, default=False
        One row per run and place (each place, and ``"ALL"``) instead of one per run.
    executor : {"serial", "processes", "dask"} or concurrent.futures.Executor, default="processes"
    workers : int, optional
        Worker processes (default: all cores).
    scheduler : str, optional
        Dask scheduler address (with ``executor="dask"``).
    store : Store, optional
        Where finished runs are kept: a :class:`pfpp_sim.storage.RunFolder` makes the run
        resumable (runs already in it are not run again); default: in memory.
    progress : callable, optional
        ``progress(done, total)`` as runs finish.

    Returns
    -------
    DataFrame
        ``run_id, point, replicate`` (and ``place_code`` with ``by_place``), the design's
        parameter columns, then one column per output: what :func:`pfpp_sim.design.analyze` takes.

    Raises
    ------
    PfppError
        Before any run: an unknown executor or output, a design without its ``point``
        numbers, or a design value the scenario does not accept (naming the parameter and the value). After runs: the first
        failed run and its parameters (finished runs are kept in ``store``).
    """
    check_executor(executor)
    base = base if isinstance(base, Scenario) else load_scenario(base)
    outputs = list(SUMMARY_METRICS) if outputs is None else list(outputs)
    unknown = sorted(set(outputs) - set(SUMMARY_METRICS))
    if unknown:
        raise PfppError(f"unknown output {unknown[0]!r}; expected some of {', '.join(SUMMARY_METRICS)}")
    if "point" not in design or not np.array_equal(design["point"].to_numpy(), np.arange(len(design))):
        raise PfppError("design: expected a 'point' column numbering the rows 0, 1, 2, ... (as pfpp_sim.design.sample gives)")
    design = design.reset_index(drop=True)
    _check_design("design", base, design.drop(columns="point"))
    runs = _run_points(design, base, seed=seed, replicates=replicates, outputs=outputs, keep_places=by_place, store=store or Kept(),
                       executor=executor, workers=workers, scheduler=scheduler, progress=progress)
    return _wide_results(runs, design, by_place=by_place)


def _run_points(design, base, *, seed, replicates, outputs, keep_places, store: Store, executor, workers, scheduler, progress) -> pd.DataFrame:
    """Every run of a design, long (``run_id, point, replicate, place_code, metric, value``), each kept in ``store`` as it finishes."""
    names = [c for c in design.columns if c != "point"]
    # Replicate after replicate, so that a worker's batch shares what its runs start from (PfppModel.at_start).
    jobs = [
        _Job(point * replicates + r, point, r, {k: _plain(design.at[point, k]) for k in names})
        for r in range(replicates)
        for point in range(len(design))
    ]
    work = functools.partial(_run_batch, base, seed=seed, outputs=outputs, keep_places=keep_places)
    failures = run_jobs(work, jobs, store, executor=executor, workers=workers, scheduler=scheduler, progress=progress)
    if failures:
        job, message = min(failures, key=lambda f: f[0].run_id)
        params = ", ".join(f"{k}={v}" for k, v in job.overrides.items())
        kept = f" in {store.folder}; rerun with --resume after fixing" if isinstance(store, RunFolder) else ""
        raise PfppError(
            f"{len(failures)} run(s) failed; first: run {job.run_id} (point {job.point}, replicate {job.replicate}; {params}): "
            f"{message}. {len(jobs) - len(failures)} finished runs are kept{kept}"
        )
    return pd.concat([store.get(job.key) for job in sorted(jobs, key=lambda job: job.run_id)], ignore_index=True)


def run_sweep(
    spec_path: str | Path,
    out: str | Path,
    *,
    executor: ExecutorChoice = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run (or resume) a sweep and write its results.

    Parameters
    ----------
    spec_path : str or Path
        Sweep spec TOML.
    out : str or Path
        Output folder.
    executor : {"serial", "processes", "dask"} or concurrent.futures.Executor, default="processes"
        ``dask`` uses a local cluster, or the scheduler at ``scheduler``.
    workers : int, optional
        Worker processes (default: all cores).
    scheduler : str, optional
        Dask scheduler address, e.g. ``"tcp://10.0.0.5:8786"``.
    resume : bool, default=False
        Skip runs already written. Without it, a folder that holds runs is an error.
    overwrite : bool, default=False
        Empty ``out`` first. Without it (or ``resume``), a folder that holds files is an error.
    progress : callable, optional
        ``progress(done, total)`` as runs finish.

    Returns
    -------
    Sweep
        The finished sweep, as :func:`read_sweep` reads it (``.manifest``: ``manifest.json``).

    Raises
    ------
    PfppError
        On a bad spec or design point (before any run), a folder holding other files or
        another sweep, another process writing to the folder, or failed runs (finished
        runs are kept; the message names the first failed run and its parameters).
    """
    check_executor(executor)
    spec_path, out = Path(spec_path), Path(out)
    spec, base, design = _checked(spec_path)
    with lock_folder(out):
        return _run_locked(spec_path, spec, base, design, out, executor=executor, workers=workers, scheduler=scheduler,
                           resume=resume, overwrite=overwrite, progress=progress)


def plan_sweep(spec_path: str | Path) -> dict[str, Any]:
    """What a sweep would run, checked as :func:`run_sweep` checks it, without running anything.

    Parameters
    ----------
    spec_path : str or Path
        Sweep spec TOML.

    Returns
    -------
    dict
        ``name``, ``design``, ``parameters`` (names), ``points`` (design points),
        ``replicates`` and ``runs`` (points times replicates).

    Raises
    ------
    ScenarioError
        On a bad spec or a design value the base scenario does not accept.
    """
    spec, _, design = _checked(Path(spec_path))
    return {
        "name": spec.name, "design": spec.design, "parameters": list(spec.parameters),
        "points": len(design), "replicates": spec.replicates, "runs": len(design) * spec.replicates,
    }


def _checked(spec_path: Path) -> tuple[SweepSpec, Scenario, pd.DataFrame]:
    """A sweep's spec, base scenario and design, every design value checked."""
    spec, base = load_sweep(spec_path)
    design = design_of(spec)
    _check_design(spec_path, base, design[list(spec.parameters)])
    return spec, base, design


def _check_design(source: Path | str, base: Scenario, design: pd.DataFrame) -> None:
    """Refuse, before any run, a value of the design that the scenario does not accept.

    Each parameter's distinct values are checked (its lowest and highest when there are
    many), one at a time on the base scenario.
    """
    for name in design.columns:
        values = list({repr(v): v for v in design[name]}.values())
        checked = values if len(values) <= 50 else [min(values), max(values)]
        for value in checked:
            try:
                base.with_overrides({name: _plain(value)})
            except ScenarioError as err:
                raise ScenarioError(source, f"parameters.{name}", _plain(value), f"a value the scenario accepts ({err.expected})") from None


def _run_locked(spec_path, spec, base, design, out: Path, *, executor, workers, scheduler, resume, overwrite, progress) -> dict[str, Any]:
    started = time.perf_counter()
    manifest_path = out / "manifest.json"
    if overwrite:
        empty_folder(out)
    if holds_files(out) and not manifest_path.exists():
        raise PfppError(f"--out {out} holds files that are not a sweep; give --overwrite to replace them, or choose another folder")
    existing = RunFolder(out / "runs").count()
    if manifest_path.exists():
        previous = read_json(manifest_path)
        if previous.get("spec_hash") != spec.spec_hash():
            raise PfppError(f"{out} holds a different sweep (spec hash {previous.get('spec_hash')}); use another --out")
    if existing and not resume:
        raise PfppError(f"{out} already holds {existing} finished runs of this sweep: rerun with --resume, or use another --out")
    write_parquet(design, out / "design.parquet")
    manifest = {
        "kind": "sweep",
        "name": spec.name,
        "spec": spec.model_dump(mode="json"),
        "spec_hash": spec.spec_hash(),
        "parameter_order": list(spec.parameters),
        "spec_file": spec_path.name,
        "base_scenario": base.name,
        "base_scenario_hash": base.scenario_hash(),
        "runs": len(design) * spec.replicates,
        "seed": spec.seed,
        "pfpp_sim_version": package_version(),
        "git_commit": git_commit(),
        "environment": environment(),
        "execution": execution(executor, workers, scheduler),
        "warnings": run_warnings([base]),
    }
    write_json({**manifest, "complete": False}, manifest_path)
    runs = _run_points(design, base, seed=spec.seed, replicates=spec.replicates, outputs=spec.outputs, keep_places=spec.keep_places,
                       store=RunFolder(out / "runs"), executor=executor, workers=workers, scheduler=scheduler, progress=progress)
    units = {"units": {name: SUMMARY_UNITS[name] for name in spec.outputs}}
    results = write_parquet(_wide_results(runs, design, by_place=False), out / "results.parquet", metadata=units)
    if spec.keep_places:
        write_parquet(_wide_results(runs, design, by_place=True), out / "results_by_place.parquet", metadata=units)
    manifest = {**manifest, "complete": True, "seconds": round(time.perf_counter() - started, 3)}
    write_json(manifest, manifest_path)
    return read_sweep(results.parent)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def sweep_results(out: str | Path, *, by_place: bool = False) -> pd.DataFrame:
    """All finished runs of a sweep, one row per run (and place).

    Parameters
    ----------
    out : str or Path
        A sweep folder.
    by_place : bool, default=False
        One row per run and place (each place kept by ``keep_places``, and ``"ALL"``)
        instead of one per run for all places together.

    Returns
    -------
    DataFrame
        ``run_id, point, replicate`` (and ``place_code`` when ``by_place``), the design's
        parameter columns, then one column per kept output.
    """
    out = Path(out)
    return _wide_results(_read_runs(out), read_table(out / "design.parquet"), by_place=by_place)


def _read_runs(out: Path) -> pd.DataFrame:
    """Every finished run's summary rows (long: ``run_id, point, replicate, place_code, metric, value``)."""
    runs = RunFolder(out / "runs").read_all()
    if runs is None:
        raise PfppError(f"{out} holds no finished runs (expected a sweep folder with runs/run-*.parquet)")
    return runs


def _wide_results(runs: pd.DataFrame, design: pd.DataFrame, *, by_place: bool) -> pd.DataFrame:
    """:func:`sweep_results` from the runs' rows and the design."""
    index = ["run_id", "point", "replicate", "place_code"] if by_place else ["run_id", "point", "replicate"]
    if not by_place:
        runs = runs[runs["place_code"] == ALL_PLACES]
    wide = runs.pivot_table(index=index, columns="metric", values="value", aggfunc="first", sort=False)
    wide.columns.name = None
    wide = wide[[m for m in SUMMARY_METRICS if m in wide.columns]]
    table = wide.reset_index().merge(design, on="point", how="left")
    order = ["run_id", "point", "replicate", *(["place_code"] if by_place else []), *design.columns.drop("point"), *wide.columns]
    return table[order].sort_values(index[:1] + index[3:], ignore_index=True, kind="stable")


@dataclass(frozen=True)
class Sweep:
    """A finished sweep: its spec, design and results (what :func:`run_sweep` returns and :func:`read_sweep` reads).

    Attributes
    ----------
    spec : SweepSpec
    design : DataFrame
        ``point`` and one column per parameter.
    results : DataFrame
        One row per run, all places together (``results.parquet``; :func:`sweep_results`).
    by_place : DataFrame or None
        One row per run and place (``results_by_place.parquet``), when the spec keeps places.
    manifest : dict
    folder : Path
    """

    spec: SweepSpec
    design: pd.DataFrame
    results: pd.DataFrame
    by_place: pd.DataFrame | None
    manifest: dict[str, Any]
    folder: Path


def read_sweep(folder: str | Path) -> Sweep:
    """A finished sweep, read back from its folder.

    Raises
    ------
    PfppError
        If the folder is not a sweep, or the sweep is unfinished (saying how to finish it).
    """
    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if not folder.is_dir() or not manifest_path.is_file():
        raise PfppError(f"{folder} is not a sweep folder (expected manifest.json and runs/ written by 'pfpp sweep')")
    manifest = read_json(manifest_path)
    if manifest.get("kind") != "sweep":
        raise PfppError(f"{folder} holds a {manifest.get('kind', 'results')} folder, not a sweep (expected a folder written by 'pfpp sweep')")
    if not manifest.get("complete"):
        raise PfppError(f"{folder} holds an unfinished sweep: complete it with 'pfpp sweep {manifest.get('spec_file')} --out {folder} --resume'")
    spec = spec_from_manifest(manifest)
    by_place = read_table(folder / "results_by_place.parquet") if spec.keep_places else None
    return Sweep(spec, read_table(folder / "design.parquet"), read_table(folder / "results.parquet"), by_place, manifest, folder)
