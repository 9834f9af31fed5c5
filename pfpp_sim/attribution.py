"""Attribution: what drives each difference between two scenarios (``pfpp explain``).

:func:`explain` splits the paired difference (alternative - base) of every summary outcome,
per place and for all places, among the factors that differ between the two scenarios
(:mod:`pfpp_sim.factors`), by Shapley values (:mod:`pfpp_sim.shapley`): exact over all
``2**k`` combinations of ``k`` factors up to :data:`EXACT_UP_TO`, estimated from sampled
orderings beyond (flagged ``method = "sampled"``). Replicate ``r`` of every combination
runs on replicate ``r``'s random streams, the same as the base's and the alternative's
(common random numbers), so what differs between combinations is the factors, not noise.

Per replicate, the factors' contributions add up exactly to that replicate's difference,
as do their main effects plus interaction shares; the means over replicates, reported with
95% t intervals, add up to the mean difference that ``pfpp compare`` reports for the same
seed and replicates.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from pfpp_sim import shapley
from pfpp_sim.analysis import mean_interval
from pfpp_sim.calibration.coverage import run_warnings
from pfpp_sim.errors import PfppError
from pfpp_sim.experiment import run_summary
from pfpp_sim.factors import FactorSet, factor_set
from pfpp_sim.jobs import Kept, Store, run_jobs
from pfpp_sim.outcomes import OUTCOMES
from pfpp_sim.scenario import Scenario, load_scenario
from pfpp_sim.storage import RunFolder, environment, git_commit, package_version, read_json, write_json, write_parquet
from pfpp_sim.streams import stream
from pfpp_sim.workers import ExecutorChoice, check_executor, execution

__all__ = ["DEFAULT_PERMUTATIONS", "EXACT_UP_TO", "MEASURES", "TOTAL", "Explanation", "attribute", "designs", "explain"]

Progress = Callable[[int, int], None]
EXACT_UP_TO = 8
"""Most factors attributed exactly (``2**8 = 256`` combinations per replicate); beyond, orderings are sampled."""
DEFAULT_PERMUTATIONS = 32
"""Orderings sampled per replicate beyond :data:`EXACT_UP_TO` factors, unless told otherwise."""
TOTAL = "total"
"""Factor name of the ``total`` rows: the paired difference itself."""
MEASURES = ("total", "shapley", "main_effect", "interaction", "pair_interaction")
"""What a row of the attribution table holds, in table order:

- ``total``: the difference, alternative - base (factor ``"total"``);
- ``shapley``: the factor's contribution; these rows add up to the total;
- ``main_effect``: the factor switched alone, from the base;
- ``interaction``: the factor's share of interactions, ``shapley - main_effect``; main
  effects plus interaction shares add up to the total too;
- ``pair_interaction``: Shapley interaction index of two factors (factor ``"a & b"``):
  positive when they reinforce each other; exact attributions only; not part of any sum.
"""


def designs(k: int, replicates: int, *, seed: int, permutations: int | None = None) -> dict[int, shapley.Design]:
    """The Shapley design of each replicate: exact, or orderings drawn from the replicate's own stream.

    Parameters
    ----------
    k : int
        Number of factors.
    replicates : int
    seed : int
        Root seed; replicate ``r`` draws its orderings from stream ``"attribution"``.
    permutations : int, optional
        Sample this many orderings per replicate (even). Default: exact up to
        :data:`EXACT_UP_TO` factors, else :data:`DEFAULT_PERMUTATIONS` orderings.

    Returns
    -------
    dict of int to Design
        Sampled designs differ between replicates, so the interval over replicates also
        covers the error of sampling orderings.
    """
    if permutations is None and k <= EXACT_UP_TO:
        design = shapley.exact(k)
        return {r: design for r in range(replicates)}
    n = permutations or DEFAULT_PERMUTATIONS
    return {r: shapley.sampled(k, n, stream(seed, r, "attribution")) for r in range(replicates)}


def _long(cells: pd.MultiIndex, measure: str, names: Sequence[str], matrix: np.ndarray) -> pd.DataFrame:
    """``matrix`` (one row per cell, one column per name) as rows of ``place_code, metric, measure, factor, value``."""
    return pd.DataFrame(
        {
            "place_code": np.repeat(cells.get_level_values("place_code"), len(names)),
            "metric": np.repeat(cells.get_level_values("metric"), len(names)),
            "measure": measure,
            "factor": np.tile(np.asarray(names, dtype=object), len(cells)),
            "value": matrix.ravel(),
        }
    )


def attribute(values: pd.DataFrame, designs: dict[int, shapley.Design], names: Sequence[str], *, confidence: float = 0.95) -> pd.DataFrame:
    """Shapley attribution of each outcome, per replicate, then mean and interval over replicates.

    Parameters
    ----------
    values : DataFrame
        ``replicate, combination, place_code, metric, value``: every combination of each
        replicate's design.
    designs : dict of int to Design
        Per replicate, from :func:`designs`.
    names : sequence of str
        Factor names, in bit order.
    confidence : float, default=0.95

    Returns
    -------
    DataFrame
        ``place_code, metric, measure, factor, contribution, ci_low, ci_high, n`` (see
        :data:`MEASURES`). A replicate in which any combination has no value for an outcome
        (e.g. no award, so no months to first delivery) is left out of all of that
        outcome's rows, so its rows still add up; ``n`` counts the replicates used.
    """
    first = values[(values["replicate"] == values["replicate"].min()) & (values["combination"] == 0)]
    cells = pd.MultiIndex.from_frame(first[["place_code", "metric"]])
    pair_names = [f"{names[i]} & {names[j]}" for i, j in shapley.pairs(len(names))]
    frames = []
    for replicate, rows in values.groupby("replicate", sort=True):  # replicate after replicate, whatever the rows' order
        design = designs[replicate]
        table = rows.pivot(index=["place_code", "metric"], columns="combination", values="value").reindex(index=cells, columns=design.masks)
        v = table.to_numpy(dtype=float, copy=True)
        v[np.isnan(v).any(axis=1)] = np.nan
        frames += [
            _long(cells, "total", [TOTAL], design.totals(v)[:, None]),
            _long(cells, "shapley", names, design.shapley_values(v)),
            _long(cells, "main_effect", names, design.main_effects(v)),
            _long(cells, "interaction", names, design.interactions(v)),
        ]
        pair_values = design.pair_interactions(v)
        if pair_values is not None:
            frames.append(_long(cells, "pair_interaction", pair_names, pair_values))
    per_replicate = pd.concat(frames).dropna()  # only a value can be missing
    keys = ["place_code", "metric", "measure", "factor"]
    out = mean_interval(per_replicate, keys, confidence=confidence).rename(columns={"mean": "contribution"})
    order = {
        "place_code": {c: i for i, c in enumerate(dict.fromkeys(cells.get_level_values("place_code")))},
        "metric": {m: i for i, m in enumerate(dict.fromkeys(cells.get_level_values("metric")))},
        "measure": {m: i for i, m in enumerate(MEASURES)},
        "factor": {f: i for i, f in enumerate([TOTAL, *names, *pair_names])},
    }
    return out.sort_values(keys, key=lambda column: column.map(order[column.name]), ignore_index=True)


class _Run(NamedTuple):
    mask: int  # the combination: bit i set = factor i as the alternative has it
    replicate: int

    @property
    def key(self) -> tuple[int, int]:
        return (self.mask, self.replicate)


def _run_batch(factors: FactorSet, seed: int, jobs: list[_Run]) -> list[tuple[tuple[int, int], pd.DataFrame | str]]:
    """Run a batch of combinations' replicates in a worker; a failed run returns its error message."""
    done = []
    combination = functools.cache(factors.combination)  # each combination's scenario made once per batch
    for job in jobs:
        try:
            summary = run_summary(combination(job.mask), seed, job.replicate)
        except Exception as err:  # noqa: BLE001 - any failure is named with its combination and replicate by the caller
            done.append((job.key, f"{type(err).__name__}: {err}"))
            continue
        done.append((job.key, summary[["place_code", "metric", "value"]]))
    return done


def _run_file(key: tuple[int, int]) -> str:
    mask, replicate = key
    return f"run-r{replicate:05d}-c{mask:016x}.parquet"


def _open_store(folder: Path, key: dict[str, Any], resume: bool) -> RunFolder:
    """The folder of an explanation's finished runs, checked to hold runs of this explanation only."""
    key_file = folder / "explain.json"
    if key_file.exists() and read_json(key_file) != key:
        raise PfppError(f"{folder} holds runs of another explanation (scenarios, factors, seed or code version differ): use another --out")
    runs = RunFolder(folder, name=_run_file)
    if runs.count() and not resume:
        raise PfppError(f"{folder} already holds {runs.count()} finished runs of this explanation: rerun with --resume, or use another --out")
    write_json(key, key_file)
    return runs


def _execute(factors: FactorSet, seed: int, jobs: list[_Run], *, store: Store, executor, workers, scheduler, progress) -> pd.DataFrame:
    """Run every job not already in the store; return all their summaries."""
    work = functools.partial(_run_batch, factors, seed)
    failures = run_jobs(work, jobs, store, executor=executor, workers=workers, scheduler=scheduler, progress=progress)
    if failures:
        job, message = min(failures)  # by combination, then replicate (a _Run's order)
        raise PfppError(
            f"{len(failures)} run(s) failed; first: replicate {job.replicate} of {factors.base.name} with "
            f"{factors.alternative.name}'s {factors.label(job.mask)}: {message}"
        )
    return pd.concat(
        [store.get(job.key).assign(replicate=job.replicate, combination=job.mask) for job in sorted(jobs, key=lambda job: (job.replicate, job.mask))],
        ignore_index=True,
    )[["replicate", "combination", "place_code", "metric", "value"]]


@dataclass
class Explanation:
    """What drives each difference between two scenarios: Shapley attribution with 95% intervals.

    Attributes
    ----------
    factors : FactorSet
        The base, the alternative and the factors that differ (bit ``i`` of a combination
        is ``factors.factors[i]``).
    seed, replicates : int
    method : {"exact", "sampled"}
    permutations : int or None
        Orderings sampled per replicate (None when exact).
    combinations : DataFrame
        ``replicate, combination, place_code, metric, value``: every run's summary.
    attribution : DataFrame
        ``base, alternative, place_code, metric, measure, factor, contribution, ci_low,
        ci_high, n, method`` (see :data:`MEASURES`).
    seconds : float
    execution : dict
        How the runs were spread (:func:`pfpp_sim.workers.execution`).
    groups : tuple of str
        The key prefixes grouped into one factor each (see :func:`~pfpp_sim.factors.factor_set`).
    """

    factors: FactorSet
    seed: int
    replicates: int
    method: Literal["exact", "sampled"]
    permutations: int | None
    combinations: pd.DataFrame
    attribution: pd.DataFrame
    seconds: float
    files: dict[str, Path] = field(default_factory=dict)
    execution: dict[str, Any] = field(default_factory=dict)
    groups: tuple[str, ...] = ()

    def manifest(self) -> dict[str, Any]:
        """Provenance: both scenarios (hash, contents), the factors in bit order, method, seed, version, commit, warnings."""
        base, alternative = self.factors.base, self.factors.alternative
        return {
            "kind": "explain",
            "pfpp_sim_version": package_version(),
            "git_commit": git_commit(),
            "seed": self.seed,
            "replicates": self.replicates,
            "base": base.name,
            "alternative": alternative.name,
            "scenarios": {
                sc.name: {"hash": sc.scenario_hash(), "extends": sc.extends, "parameters": sc.model_dump(mode="json")}
                for sc in (base, alternative)
            },
            "method": self.method,
            "permutations": self.permutations,
            "groups": list(self.groups),
            "factors": [f.as_dict() for f in self.factors.factors],
            "runs": int(self.combinations[["replicate", "combination"]].drop_duplicates().shape[0]),
            "environment": environment(),
            "execution": self.execution,
            "warnings": run_warnings([base, alternative]),
            "seconds": round(self.seconds, 3),
            "files": {k: Path(v).name for k, v in self.files.items()},
            "outcomes": {k: {"unit": o.unit, "description": o.description} for k, o in OUTCOMES.items()},
        }

    def save(self, out: str | Path) -> dict[str, Path]:
        """Write ``attribution.parquet``, ``combinations.parquet`` and ``manifest.json`` into ``out`` (atomic writes).

        The manifest is written last and an older one removed first, so a folder with a
        manifest holds one complete explanation.

        Raises
        ------
        PfppError
            If a file cannot be written (the message names it and the reason).
        """
        out = Path(out)
        try:
            (out / "manifest.json").unlink(missing_ok=True)
        except OSError as err:
            raise PfppError(f"cannot write to {out}: {err.strerror or err}") from err
        self.files = {
            "attribution": write_parquet(self.attribution, out / "attribution.parquet"),
            "combinations": write_parquet(self.combinations, out / "combinations.parquet"),
        }
        self.files["manifest"] = write_json(self.manifest(), out / "manifest.json")
        return self.files


def explain(
    base: Scenario | str | Path,
    alternative: Scenario | str | Path,
    *,
    seed: int = 0,
    replicates: int = 10,
    groups: Sequence[str] = (),
    permutations: int | None = None,
    executor: ExecutorChoice = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    store: str | Path | None = None,
    resume: bool = False,
    progress: Progress | None = None,
) -> Explanation:
    """Attribute each outcome's difference between two scenarios to the factors that differ.

    Parameters
    ----------
    base, alternative : Scenario, str or Path
        Scenarios (or preset names, or TOML paths) with the same run settings and calibration.
    seed : int, default=0
        Root seed, as in :func:`pfpp_sim.compare`: with the same seed and replicates the
        total difference equals the comparison's.
    replicates : int, default=10
        At least 2 (an interval needs two).
    groups : sequence of str, default=()
        Key prefixes grouping differences into one factor each (see :func:`pfpp_sim.factors.factor_set`).
    permutations : int, optional
        Sample this many orderings per replicate (even) instead of the default (exact up to
        :data:`EXACT_UP_TO` factors, else :data:`DEFAULT_PERMUTATIONS`).
    executor : {"serial", "processes", "dask"} or concurrent.futures.Executor, default="processes"
        Results are identical whatever the executor and number of workers.
    workers : int, optional
        Worker processes (default: all cores).
    scheduler : str, optional
        Dask scheduler address (with ``executor="dask"``).
    store : str or Path, optional
        Folder where each finished run is kept as Parquet, so an interrupted explanation
        can be resumed.
    resume : bool, default=False
        Reuse the runs in ``store``; without it, a store holding runs is an error.
    progress : callable, optional
        ``progress(done, total)``: first with the number of runs, then as runs finish.

    Returns
    -------
    Explanation

    Raises
    ------
    PfppError
        In one line, before anything runs: different run settings or calibrations,
        nothing differing, fewer than 2 replicates, a bad number of permutations, an
        unknown executor, a combination that is not a valid scenario, or a store holding
        other runs. After runs: the first failed run, named by its combination.
    """
    started = time.perf_counter()
    if replicates < 2:
        raise PfppError(f"replicates = {replicates}: expected at least 2 (a confidence interval over replicates needs two)")
    if permutations is not None and (permutations < 2 or permutations % 2):
        raise PfppError(f"permutations = {permutations}: expected an even number, at least 2 (orderings are sampled in antithetic pairs)")
    check_executor(executor)
    a = base if isinstance(base, Scenario) else load_scenario(base)
    b = alternative if isinstance(alternative, Scenario) else load_scenario(alternative)
    if a.name == b.name:
        b = b.with_overrides({}, name=f"{b.name}_alternative")
    factors = factor_set(a, b, groups=groups)
    plan = designs(len(factors.factors), replicates, seed=seed, permutations=permutations)
    masks = sorted({int(m) for design in plan.values() for m in design.masks})
    for mask in masks:
        factors.combination(mask)  # every combination is valid before anything runs
    # Replicate after replicate, so that a worker's batch shares what its runs start from (PfppModel.at_start).
    jobs = sorted({_Run(int(m), r) for r, design in plan.items() for m in design.masks}, key=lambda job: (job.replicate, job.mask))
    kept: Store = Kept()
    if store is not None:
        key = {
            "base": a.scenario_hash(),
            "alternative": b.scenario_hash(),
            "factors": factors.names,
            "seed": seed,
            "pfpp_sim_version": package_version(),
            "git_commit": git_commit(),
        }
        kept = _open_store(Path(store), key, resume)
    values = _execute(factors, seed, jobs, store=kept, executor=executor, workers=workers, scheduler=scheduler, progress=progress)
    method = "exact" if plan[0].exact else "sampled"
    table = attribute(values, plan, factors.names)
    table.insert(0, "alternative", b.name)
    table.insert(0, "base", a.name)
    table["method"] = method
    return Explanation(
        factors, seed, replicates, method, plan[0].permutations or None, values, table, time.perf_counter() - started,
        execution=execution(executor, workers, scheduler), groups=tuple(groups),
    )
