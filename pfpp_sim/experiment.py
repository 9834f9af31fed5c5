"""Runs and comparisons: ``(scenario, seed, replicate)`` -> tidy tables, on one or many cores.

Each replicate is a pure function of its scenario, root seed and replicate number, so
results are identical whatever the executor or the number of workers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pfpp_sim import data
from pfpp_sim.analysis import SUMMARY_UNITS, paired_differences, summarise_columns, summarise_run
from pfpp_sim.calibration.coverage import run_warnings
from pfpp_sim.model import PfppModel
from pfpp_sim.outcomes import EQUITY_GROUPS, EQUITY_MEASURES, FLOWS, OUTCOMES, RATES, basis_months, basis_year
from pfpp_sim.population import slice_sizes
from pfpp_sim.scenario import INTERVENTION_KEYS, Scenario, load_scenario
from pfpp_sim.storage import Claim, claim_folder, environment, git_commit, package_version, write_json, write_parquet
from pfpp_sim.workers import ExecutorChoice, check_executor, execution, lost_workers_explained, open_executor

__all__ = ["Comparison", "Results", "RunOutput", "compare", "run", "run_replicate", "run_summary"]

Progress = Callable[[int, int], None]


@dataclass
class RunOutput:
    """Tables of one replicate of one scenario (``monthly``: one row per place and month, one column per outcome)."""

    monthly: pd.DataFrame
    awards: pd.DataFrame
    places: pd.DataFrame
    summary: pd.DataFrame
    events: pd.DataFrame
    equity: pd.DataFrame
    spending: pd.DataFrame
    seconds: float


def _equity_table(model: PfppModel) -> pd.DataFrame:
    """Residents and outcomes by place, month and equity group, at real scale.

    Returns
    -------
    DataFrame
        ``place_code, month, breakdown, group`` and one column per
        :data:`~pfpp_sim.outcomes.EQUITY_MEASURES`.
    """
    pl = model.population.places
    groups = model.equity_groups
    n_groups, months = len(EQUITY_GROUPS), len(model.equity_records)
    hw, yw = pl.household_weight[:, None], pl.youth_weight[:, None]
    scale = {"households": hw, "fuel_poor": hw, "young_people": yw, "neet_16_24": yw, "youth_mh": yw, "young_16_17": yw, "neet_16_17": yw}
    records = [{"households": groups.household_count, "young_people": groups.young_count, **r} for r in model.equity_records]
    table = pd.DataFrame(
        {
            "place_code": np.tile(np.repeat(pl.codes, n_groups), months),
            "month": np.repeat(np.arange(months, dtype=np.int32), pl.n * n_groups),
            "breakdown": np.tile([b for b, _ in EQUITY_GROUPS], pl.n * months),
            "group": np.tile([g for _, g in EQUITY_GROUPS], pl.n * months),
        }
    )
    for name in EQUITY_MEASURES:
        table[name] = np.concatenate([(record[name] * scale[name]).ravel() for record in records])
    return table


def _spending_table(model: PfppModel) -> pd.DataFrame:
    """Each award's money by intervention (interventions in name order): delivered, returned and still held (GBP)."""
    line = model.ledger.by_line
    name_order = np.argsort(np.argsort(INTERVENTION_KEYS))  # each intervention's place in name order
    rows = np.lexsort((name_order[line["key"]], line["award"]))
    return pd.DataFrame(
        {
            "award_id": np.array([a.award_id for a in model.awards], dtype=np.int64)[line["award"][rows]],
            "intervention": np.asarray(INTERVENTION_KEYS)[line["key"][rows]],
            "delivered_gbp": line["delivered_p"][rows] / 100,
            "returned_gbp": line["returned_p"][rows] / 100,
            "held_gbp": line["held_p"][rows] / 100,
        }
    )


def _outcomes(model: PfppModel, names: Iterable[str]) -> dict[str, np.ndarray]:
    """Outcomes ``names`` of every month, each of shape (horizon * n_places,): month after month, the places in order."""
    return {name: np.concatenate([record[name] for record in model.records]) for name in names}


def _monthly_table(model: PfppModel) -> pd.DataFrame:
    """One row per place and month: the place, the month and its date, every outcome."""
    pl = model.population.places
    months = np.repeat(np.arange(model.horizon), pl.n)
    return pd.DataFrame(
        {
            "place_code": np.tile(pl.codes, model.horizon),
            "place_name": np.tile(pl.names, model.horizon),
            "month": months.astype(np.int32),
            "date": model.exo.dates[months].date,
            **_outcomes(model, OUTCOMES),
        }
    )


def _places_table(model: PfppModel) -> pd.DataFrame:
    """One row per place: its real and simulated residents, scale, observed and starting rates, nesting."""
    pl = model.population.places
    within = data.nested_places(pl.codes)
    return pd.DataFrame(
        {
            "place_code": pl.codes,
            "place_name": pl.names,
            "real_households": pl.real_households,
            "real_young_people": pl.real_young_people,
            "simulated_households": slice_sizes(model.population.households.slices),
            "simulated_young_people": slice_sizes(model.population.young.slices),
            "scale_households": 1.0 / pl.household_weight,
            "scale_young_people": 1.0 / pl.youth_weight,
            "income_level": pl.income_level,
            "observed_fuel_poverty_rate": pl.target_fuel_poverty,
            "observed_neet_16_17_rate": pl.target_neet_16_17,
            "within_code": [within.get(code, "") for code in pl.codes],
            "in_all_places": [code not in within for code in pl.codes],
            **{f"start_{k}": np.asarray(rates) for k, rates in model.initial_rates.items()},
        }
    )


def _awards_table(model: PfppModel) -> pd.DataFrame:
    """One row per award: who gave it to whom, when, and its money (GBP)."""
    a, awards = model.ledger.by_award, model.awards

    def each(name: str) -> list:
        return [getattr(award, name) for award in awards]

    return pd.DataFrame(
        {
            "award_id": np.array(each("award_id"), dtype=np.int64),
            "programme": each("programme"),
            "department": each("department"),
            "place_code": np.asarray(model.population.places.codes)[a["place"]],
            "round": np.array(each("round"), dtype=np.int64),
            "pooled": a["pooled"].copy(),
            "competitive": np.array(each("competitive"), dtype=bool),
            "award_month": np.array(each("award_month"), dtype=np.int64),
            "period_start": np.array(each("period_start"), dtype=np.int64),
            "deadline": a["deadline"].copy(),
            "first_delivery": a["first_delivery"].copy(),
            "allocated_gbp": a["allocated_p"] / 100,
            "delivered_gbp": a["delivered_p"] / 100,
            "grant_overhead_gbp": a["overhead_p"] / 100,
            "returned_gbp": a["returned_p"] / 100,
            "held_gbp": model.ledger.held_by_award(np.arange(a.n)) / 100,
            "duplicated_gbp": a["duplicated_p"] / 100,
        }
    )


def run_replicate(scenario: Scenario, seed: int, replicate: int) -> RunOutput:
    """Run one replicate to the horizon and return its tables.

    Parameters
    ----------
    scenario : Scenario
    seed : int
        Root seed (0 is valid).
    replicate : int
        Replicate number; selects this replicate's random streams.

    Returns
    -------
    RunOutput
    """
    started = time.perf_counter()
    model = PfppModel.at_start(scenario, seed=seed, replicate=replicate).run()
    monthly, awards, places = _monthly_table(model), _awards_table(model), _places_table(model)
    summary = summarise_run(monthly, awards, places)
    events = pd.DataFrame(model.events, columns=["month", "event"])
    return RunOutput(
        monthly, awards, places, summary, events, _equity_table(model), _spending_table(model), time.perf_counter() - started
    )


def _summary(model: PfppModel) -> pd.DataFrame:
    """A run's summary (:func:`~pfpp_sim.analysis.summarise_run`) from the columns of its tables it reads, the tables unbuilt."""
    pl, a = model.population.places, model.ledger.by_award
    codes = np.asarray(pl.codes, dtype=object)
    within = data.nested_places(pl.codes)
    monthly = {
        "place_code": np.tile(codes, model.horizon), "month": np.repeat(np.arange(model.horizon), pl.n),
        **_outcomes(model, (*RATES, *FLOWS)),
    }
    award_month = np.fromiter((award.award_month for award in model.awards), dtype=np.int64, count=a.n)
    awards = {"place_code": codes[a["place"]], "award_month": award_month, "first_delivery": a["first_delivery"], "deadline": a["deadline"]}
    places = {
        "place_code": codes, "real_households": pl.real_households, "real_young_people": pl.real_young_people,
        "in_all_places": np.array([code not in within for code in pl.codes]),
    }
    return summarise_columns(monthly, awards, places)


def run_summary(scenario: Scenario, seed: int, replicate: int) -> pd.DataFrame:
    """Run one replicate to the horizon and return only its summary: ``run_replicate(...).summary``, without the other tables.

    For sweeps, attribution and robustness, which keep the summary of each run.

    Parameters
    ----------
    scenario : Scenario
    seed : int
        Root seed (0 is valid).
    replicate : int
        Replicate number; selects this replicate's random streams.

    Returns
    -------
    DataFrame
        ``place_code, metric, value`` (:func:`~pfpp_sim.analysis.summarise_run`).
    """
    return _summary(PfppModel.at_start(scenario, seed=seed, replicate=replicate).run())


def _execute(
    jobs: list[tuple[Scenario, int, int]],
    *,
    executor: ExecutorChoice,
    workers: int | None,
    scheduler: str | None,
    progress: Progress | None,
) -> list[RunOutput]:
    """Run jobs in order-independent fashion and return outputs in job order."""
    outputs: list[RunOutput | None] = [None] * len(jobs)
    done = 0
    if _in_process(executor, workers, len(jobs)):
        for i, job in enumerate(jobs):
            outputs[i] = run_replicate(*job)
            done += 1
            if progress:
                progress(done, len(jobs))
        return outputs  # type: ignore[return-value]
    pool, close = open_executor(executor, workers, scheduler)
    try:
        with lost_workers_explained():
            futures = {pool.submit(run_replicate, *job): i for i, job in enumerate(jobs)}
            for future in as_completed(futures):
                outputs[futures[future]] = future.result()
                done += 1
                if progress:
                    progress(done, len(jobs))
    finally:
        close()
    return outputs  # type: ignore[return-value]


def _stack(outputs: Sequence[RunOutput], labels: Sequence[tuple[str, int]], attr: str) -> pd.DataFrame:
    frames = []
    for (scenario, replicate), output in zip(labels, outputs):
        frame = getattr(output, attr)
        frames.append(frame.assign(scenario=scenario, replicate=replicate)[["scenario", "replicate", *frame.columns]])
    return pd.concat(frames, ignore_index=True)


MONTHLY_COLUMNS = ("scenario", "replicate", "place_code", "month", "date", "year", "partial_year", "metric", "value")
"""Columns of ``monthly.parquet``: one row per scenario, replicate, place, month and outcome."""
ANNUAL_COLUMNS = ("scenario", "replicate", "place_code", "year", "months", "partial_year", "metric", "value")
"""Columns of ``annual.parquet``: one row per scenario, replicate, place, year and outcome."""


def _units(outcomes) -> dict[str, str]:
    return {name: outcome.unit for name, outcome in outcomes.items()}


def _long_monthly(wide: pd.DataFrame) -> pd.DataFrame:
    """The tidy monthly table (:data:`MONTHLY_COLUMNS`) from one column per outcome.

    ``date`` is the first day of the month (datetime64); ``partial_year`` marks the months
    of a calendar year the run covers only in part.
    """
    dates = pd.to_datetime(wide["date"]).astype("datetime64[ms]")  # the resolution Parquet keeps, so a saved table reads back equal
    keys = wide[["scenario", "replicate", "place_code", "month"]].assign(date=dates, year=dates.dt.year.astype(np.int32))
    covered = keys.groupby(["scenario", "replicate", "place_code", "year"], sort=False)["month"].transform("size")
    keys["partial_year"] = covered.to_numpy() < 12
    n = len(keys)
    long = keys.iloc[np.tile(np.arange(n), len(OUTCOMES))].reset_index(drop=True)
    long["metric"] = pd.Categorical(np.repeat(list(OUTCOMES), n), categories=list(OUTCOMES))
    long["value"] = np.concatenate([wide[name].to_numpy(dtype=np.float64) for name in OUTCOMES])
    return long[list(MONTHLY_COLUMNS)]


def _annual(wide: pd.DataFrame) -> pd.DataFrame:
    """Annual table (:data:`ANNUAL_COLUMNS`) from monthly values with one column per outcome.

    Rates are means over the year's simulated months and money and counts are sums, by
    calendar year, except the official series in :data:`~pfpp_sim.outcomes.ANNUAL_BASIS`
    (NEET 16-17 on the DfE time-period basis, three months). A year is reported from
    whatever months of it were simulated: ``months`` says how many, and ``partial_year``
    is true when that is fewer than the year's basis holds.
    """
    dates = pd.DatetimeIndex(pd.to_datetime(wide["date"]))
    keys = ["scenario", "replicate", "place_code", "year"]
    frames = []
    for name, outcome in OUTCOMES.items():
        frame = wide[keys[:3]].assign(year=basis_year(name, dates), value=wide[name].to_numpy())
        grouped = frame[frame["year"] >= 0].groupby(keys, sort=False)["value"]
        table = (grouped.sum() if outcome.kind == "flow" else grouped.mean()).reset_index()
        months = grouped.size().to_numpy().astype(np.int32)
        frames.append(table.assign(months=months, partial_year=months < basis_months(name), metric=name))
    annual = pd.concat(frames, ignore_index=True)
    annual["metric"] = pd.Categorical(annual["metric"], categories=list(OUTCOMES))
    return annual[list(ANNUAL_COLUMNS)]


@dataclass
class Results:
    """Replicates of one or more scenarios, as tidy tables.

    ``monthly`` has the columns :data:`MONTHLY_COLUMNS` and ``annual`` :data:`ANNUAL_COLUMNS`
    (one row per outcome, its unit in :data:`~pfpp_sim.outcomes.OUTCOMES` and in each
    Parquet file's metadata); the README's table of files describes the others.

    ``warnings`` says what the results should be read with: places run outside the places
    their calibration was fitted on (:func:`~pfpp_sim.calibration.coverage.run_warnings`).
    The manifest records them.
    """

    scenarios: dict[str, Scenario]
    seed: int
    replicates: int
    monthly: pd.DataFrame
    annual: pd.DataFrame
    awards: pd.DataFrame
    places: pd.DataFrame
    summary: pd.DataFrame
    events: pd.DataFrame
    equity: pd.DataFrame
    spending: pd.DataFrame
    seconds: float
    comparison: pd.DataFrame | None = None
    files: dict[str, Path] = field(default_factory=dict)
    execution: dict[str, Any] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def manifest(self) -> dict:
        """Provenance: scenario hashes and contents, seed, version, commit, timings, warnings."""
        return {
            "kind": "run",
            "pfpp_sim_version": package_version(),
            "git_commit": git_commit(),
            "seed": self.seed,
            "replicates": self.replicates,
            "scenarios": {
                name: {
                    "hash": sc.scenario_hash(), "extends": sc.extends, "sources": [src._asdict() for src in sc.sources],
                    "parameters": sc.model_dump(mode="json"),
                }
                for name, sc in self.scenarios.items()
            },
            "environment": environment(),
            "execution": self.execution,
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
            "files": {k: Path(v).name for k, v in self.files.items()},
            "outcomes": {k: {"unit": o.unit, "description": o.description} for k, o in OUTCOMES.items()},
        }

    def save(self, out: str | Path, *, overwrite: bool = False) -> dict[str, Path]:
        """Write every table as Parquet and a ``manifest.json`` into the folder ``out``.

        The folder is filled whole: the files are written beside it and put in its place
        only when all are complete (:func:`~pfpp_sim.storage.claim_folder`), so it never
        mixes files of two runs.

        Parameters
        ----------
        out : str or Path
        overwrite : bool, default=False
            Replace the files ``out`` holds (otherwise a folder that holds files is refused).

        Raises
        ------
        PfppError
            If ``out`` holds files and ``overwrite`` is false, another process is writing to
            it, or a file cannot be written (the message names it and the reason).
        """
        with claim_folder(out, overwrite=overwrite) as claim:
            return self.publish(claim)

    def publish(self, claim: Claim, *, also: Callable[[Path], object] | None = None) -> dict[str, Path]:
        """Write the results into a claimed folder (see :meth:`save`) and return their paths.

        ``also(folder)``, if given, writes more into the same folder before it is put in place.
        """

        def write(folder: Path) -> dict[str, Path]:
            files = self._write(folder)
            if also is not None:
                also(folder)
            return files

        self.files = claim.publish(write)
        return self.files

    def _write(self, folder: Path) -> dict[str, Path]:
        tables = {
            "monthly": self.monthly,
            "annual": self.annual,
            "awards": self.awards,
            "places": self.places,
            "summary": self.summary,
            "events": self.events,
            "equity": self.equity,
            "spending": self.spending,
        }
        if self.comparison is not None:
            tables["comparison"] = self.comparison
        units = {"monthly": _units(OUTCOMES), "annual": _units(OUTCOMES), "summary": SUMMARY_UNITS, "comparison": SUMMARY_UNITS}
        files = {
            name: write_parquet(frame, folder / f"{name}.parquet", metadata={"units": dict(units[name])} if name in units else None)
            for name, frame in tables.items()
        }
        self.files = files  # the manifest lists them
        files["manifest"] = write_json(self.manifest(), folder / "manifest.json")
        return files


@dataclass
class Comparison(Results):
    """Two scenarios on the same seeds, with paired differences (alternative - base)."""

    base: str = ""
    alternative: str = ""

    def manifest(self) -> dict:
        """As :meth:`Results.manifest`, of kind ``"compare"``, naming the base and the alternative."""
        return {**super().manifest(), "kind": "compare", "base": self.base, "alternative": self.alternative}


def _in_process(executor: str | Executor, workers: int | None, jobs: int) -> bool:
    """Whether jobs run one after another in this process (no pool is worth starting)."""
    return executor == "serial" or (executor == "processes" and (workers or os.cpu_count() or 1) == 1) or jobs == 1


def _resolve(scenario: Scenario | str | Path) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def _collect(scenarios: list[Scenario], seed: int, replicates: int, executor, workers, scheduler, progress) -> Results:
    check_executor(executor)
    started = time.perf_counter()
    warnings = run_warnings(scenarios)
    jobs = [(sc, seed, r) for sc in scenarios for r in range(replicates)]
    labels = [(sc.name, r) for sc in scenarios for r in range(replicates)]
    outputs = _execute(jobs, executor=executor, workers=workers, scheduler=scheduler, progress=progress)
    wide = _stack(outputs, labels, "monthly")
    return Results(
        scenarios={sc.name: sc for sc in scenarios},
        seed=seed,
        replicates=replicates,
        monthly=_long_monthly(wide),
        annual=_annual(wide),
        awards=_stack(outputs, labels, "awards"),
        places=_stack(outputs, labels, "places"),
        summary=_stack(outputs, labels, "summary"),
        events=_stack(outputs, labels, "events"),
        equity=_stack(outputs, labels, "equity"),
        spending=_stack(outputs, labels, "spending"),
        seconds=time.perf_counter() - started,
        execution=execution("serial" if _in_process(executor, workers, len(jobs)) else executor, workers, scheduler),
        warnings=warnings,
    )


def run(
    scenario: Scenario | str | Path,
    *,
    seed: int = 0,
    replicates: int = 1,
    executor: ExecutorChoice = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> Results:
    """Run replicates of one scenario.

    Parameters
    ----------
    scenario : Scenario, str or Path
        A scenario, a preset name or a TOML path.
    seed : int, default=0
        Root seed; replicate ``r`` uses streams ``SeedSequence(seed, spawn_key=(r, id))``.
    replicates : int, default=1
    executor : {"serial", "processes", "dask"} or concurrent.futures.Executor, default="processes"
        Where replicates run, as for every command that runs many (sweeps, explain,
        robustness, calibration): in this process, on worker processes, on Dask (a local
        cluster, or ``scheduler``), or on any executor given (e.g. a Dask
        ``Client.get_executor()``). Results are identical whichever.
    workers : int, optional
        Worker processes (default: all cores); for Dask, those of a local cluster.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:8786``), with ``executor="dask"``.
    progress : callable, optional
        Called as ``progress(done, total)`` after each replicate.

    Returns
    -------
    Results
    """
    if replicates < 1:
        raise ValueError(f"replicates must be at least 1, got {replicates}")
    return _collect([_resolve(scenario)], seed, replicates, executor, workers, scheduler, progress)


def compare(
    base: Scenario | str | Path,
    alternative: Scenario | str | Path,
    *,
    seed: int = 0,
    replicates: int = 20,
    executor: ExecutorChoice = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """Run two scenarios on the same seeds and compute paired differences with 95% CIs.

    Parameters
    ----------
    base, alternative : Scenario, str or Path
    seed, replicates, executor, workers, scheduler, progress
        As in :func:`run`.

    Returns
    -------
    Comparison
        ``comparison`` holds ``place_code, metric, base_mean, alternative_mean,
        difference, n, ci_low, ci_high, base, alternative``.
    """
    a, b = _resolve(base), _resolve(alternative)
    if a.name == b.name:
        b = b.with_overrides({}, name=f"{b.name}_alternative")
    if replicates < 1:
        raise ValueError(f"replicates must be at least 1, got {replicates}")
    results = _collect([a, b], seed, replicates, executor, workers, scheduler, progress)
    comparison = Comparison(**vars(results), base=a.name, alternative=b.name)
    comparison.comparison = paired_differences(results.summary, a.name, b.name).assign(base=a.name, alternative=b.name)
    return comparison
