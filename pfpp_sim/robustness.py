"""Robustness: would a comparison's answer survive the model's assumptions?

``robustness(base, alternative, out)`` samples the assumptions the two scenarios share
over their ranges (:mod:`pfpp_sim.worlds`), runs both scenarios in every sampled world
on common random numbers, and reports per outcome how often the sign of the paired
difference (alternative - base) is the same as with the scenarios as given, how the
difference is spread, which assumptions move it most, and where it flips.

Every world uses the same root seed and replicate numbers, for both scenarios: the
differences between worlds come from the assumptions, not from noise, and replicate
noise is measured separately (each world's difference has its own confidence interval).
A world is one job (:func:`pfpp_sim.jobs.run_jobs`): its file
``runs/run-<world>.parquet`` is written atomically as it finishes, so an interrupted run
resumes with no duplicate and no missing world, and results do not depend on the
executor or the number of workers.

Files written into ``out``: ``design.parquet`` (the worlds and their sampled values),
``runs/``, ``robustness.parquet`` (paired difference per world, place and outcome),
``summary.parquet`` (per place and outcome), ``influence.parquet`` (per outcome and
assumption), ``flips.parquet`` (PRIM boxes) and ``manifest.json``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pfpp_sim.analysis import ALL_PLACES, SUMMARY_METRICS, paired_differences
from pfpp_sim.calibration.coverage import run_warnings
from pfpp_sim.errors import PfppError, ScenarioError
from pfpp_sim.experiment import run_summary
from pfpp_sim.jobs import Kept, Store, run_jobs
from pfpp_sim.robustness_analysis import CORRELATIONS, MEASURES, analyze
from pfpp_sim.scenario import Scenario, load_scenario
from pfpp_sim.sections import HEADLINE, format_difference
from pfpp_sim.storage import (
    RunFolder,
    environment,
    git_commit,
    lock_folder,
    package_version,
    read_json,
    read_table,
    write_json,
    write_parquet,
)
from pfpp_sim.workers import ExecutorChoice, check_executor, execution
from pfpp_sim.worlds import OPTIONS, Design, Space, apply_world, check_comparable, check_samples, sample, uncertainty_space

__all__ = [
    "DEFAULT_REPLICATES",
    "DEFAULT_SAMPLES",
    "MAX_WORLD_REPLICATES",
    "TITLES",
    "Robustness",
    "load_robustness",
    "robustness",
    "run_worlds",
]

Progress = Callable[[int, int], None]
DEFAULT_SAMPLES = 256
DEFAULT_REPLICATES = 4
"""Paired replicates per world; see ``docs/trust.md`` for how this default was chosen."""
MAX_WORLD_REPLICATES = 1_000_000
"""Largest robustness run accepted: worlds times replicates (each a base and an alternative run)."""
ROLES = ("base", "alternative")
ROUNDING = 1e-9
"""A paired difference (and its CI) within this share of the outcome's size is floating-point rounding: it counts as zero."""
TITLES = {
    **dict(HEADLINE),
    "youth_unemployment_rate": "Youth unemployment",
    "youth_unemployment_rate_18_24": "Youth unemployment, 18-24",
    "allocated_gbp": "Money allocated",
    "bid_cost_gbp": "Bid costs",
    "retrofits": "Retrofits",
}
"""Titles of the outcomes, as people read them."""


@dataclass(frozen=True)
class _World:
    run_id: int  # the world number; 0 is the default world
    values: dict[str, float]

    @property
    def key(self) -> int:
        return self.run_id


def _run_worlds(worlds: list[_World], *, base: Scenario, alternative: Scenario, seed: int, replicates: int) -> list[tuple[int, pd.DataFrame | str]]:
    """Run both scenarios in each world, on the same seed and replicates; a failed world returns its error message."""
    done: list[tuple[int, pd.DataFrame | str]] = []
    for world in worlds:
        try:
            pair = apply_world(base, alternative, world.values)
            # Both scenarios of a replicate one after the other: they share what their runs start from (PfppModel.at_start).
            summaries = {(role, r): run_summary(scenario, seed, r) for r in range(replicates) for role, scenario in zip(ROLES, pair)}
            frames = [summaries[role, r].assign(scenario=role, replicate=r) for role in ROLES for r in range(replicates)]
        except Exception as err:  # reported with the world's values by the caller
            done.append((world.run_id, f"{type(err).__name__}: {err}"))
            continue
        table = pd.concat(frames, ignore_index=True).assign(world=world.run_id)
        done.append((world.run_id, table[["world", "scenario", "replicate", "place_code", "metric", "value"]]))
    return done


def run_worlds(
    design: pd.DataFrame,
    base: Scenario,
    alternative: Scenario,
    *,
    seed: int,
    replicates: int,
    executor: ExecutorChoice = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    store: Store | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Run both scenarios in every world of a design; return every world's paired differences.

    Parameters
    ----------
    design : DataFrame
        From :func:`pfpp_sim.worlds.sample`.
    base, alternative : Scenario
    seed, replicates : int
        Every world runs replicates ``0 .. replicates - 1`` of ``seed``, both scenarios.
    executor, workers, scheduler, progress
        As in :func:`pfpp_sim.sweep.run_design`; ``progress(done, total)`` counts worlds.
    store : Store, optional
        Where finished worlds are kept: a :class:`pfpp_sim.storage.RunFolder` makes the
        run resumable (worlds already in it are not run again); default: in memory.

    Returns
    -------
    DataFrame
        ``world, place_code, metric, base_mean, alternative_mean, difference, ci_low,
        ci_high, n``: means over replicates and the paired difference with its 95% CI.

    Raises
    ------
    PfppError
        If a world fails: the first failed world and its values are named; finished
        worlds are kept in ``store``.
    """
    factors = [c for c in design.columns if c not in ("world", "sampled")]
    jobs = [
        _World(int(row["world"]), {name: float(row[name]) for name in factors} if row["sampled"] else {})
        for _, row in design.iterrows()
    ]
    store = store or Kept()
    work = functools.partial(_run_worlds, base=base, alternative=alternative, seed=seed, replicates=replicates)
    failures = run_jobs(work, jobs, store, executor=executor, workers=workers, scheduler=scheduler, batch_size=1, progress=progress)
    if failures:
        job, message = min(failures, key=lambda f: f[0].run_id)
        values = ", ".join(f"{k}={v:g}" for k, v in job.values.items()) or "the scenarios as given"
        kept = f" in {store.folder}; rerun with --resume after fixing" if isinstance(store, RunFolder) else ""
        raise PfppError(
            f"{len(failures)} world(s) failed; first: world {job.run_id} ({values}): {message}. "
            f"{len(jobs) - len(failures)} finished worlds are kept{kept}"
        )
    return _world_differences(pd.concat([store.get(job.key) for job in jobs], ignore_index=True))


def _world_differences(runs: pd.DataFrame) -> pd.DataFrame:
    table = paired_differences(runs, "base", "alternative", by=("world", "place_code"))
    # Money totals summed in another order differ in their last bits; such a difference is no difference.
    resolution = ROUNDING * np.maximum(table["base_mean"].abs(), table["alternative_mean"].abs())
    rounding = table[["difference", "ci_low", "ci_high"]].abs().max(axis=1) <= resolution
    table.loc[rounding, ["difference", "ci_low", "ci_high"]] = 0.0
    order = {m: i for i, m in enumerate(SUMMARY_METRICS)}
    table = table.assign(_all=table["place_code"] != ALL_PLACES, _m=table["metric"].map(order))
    return table.sort_values(["world", "_all", "place_code", "_m"]).drop(columns=["_all", "_m"]).reset_index(drop=True)


@dataclass
class Robustness:
    """A comparison repeated across sampled worlds, and what it says per outcome.

    Attributes
    ----------
    base, alternative : str
        Scenario names.
    space : Space
        What was sampled, and what was not (with the reason).
    design : DataFrame
        ``world, sampled`` and one column per factor (world 0: the scenarios as given).
    method : {"lhs", "sobol", "morris"}
    samples, seed, replicates : int
    worlds : DataFrame
        Paired difference per world, place and outcome (``robustness.parquet``).
    summary : DataFrame
        Per place and outcome (``summary.parquet``): the default world's difference and
        CI, ``direction``, ``sign_holds`` (share of sampled worlds with the default's
        sign), ``flips``, quantiles ``q05 .. q95``, ``ci_below_zero`` / ``ci_above_zero``
        (shares of worlds whose CI excludes zero on that side) and ``noise_share``.
    influence : DataFrame
        ``metric, factor, measure, value, conf`` (``influence.parquet``).
    flips : DataFrame
        PRIM boxes of the worlds where the sign flips (``flips.parquet``).
    prim : str
        ``"ran"``, or why PRIM was skipped.
    manifest : dict
    files : dict of str to Path
    """

    base: str
    alternative: str
    space: Space
    design: pd.DataFrame
    method: str
    samples: int
    seed: int
    replicates: int
    worlds: pd.DataFrame
    summary: pd.DataFrame
    influence: pd.DataFrame
    flips: pd.DataFrame
    prim: str
    manifest: dict = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def sampled_worlds(self) -> int:
        """Number of sampled worlds (the default world not counted)."""
        return int(self.design["sampled"].sum())

    def top_factors(self, metric: str, k: int = 3) -> pd.DataFrame:
        """The ``k`` assumptions that move an outcome's difference most, by the design's headline measure.

        Returns
        -------
        DataFrame
            ``metric, factor, measure, value, conf, within_noise``, largest absolute value
            first; ``within_noise`` where a correlation is smaller than its threshold
            ``conf`` (it cannot be told from zero). An assumption with no influence (value
            0) is not listed, so an outcome whose difference is the same in every world
            lists none.
        """
        measures = {MEASURES[self.method][0], "spearman"}
        rows = self.influence[(self.influence["metric"] == metric) & self.influence["measure"].isin(measures)]
        rows = rows[np.isfinite(rows["value"]) & (rows["value"] != 0)]
        rows = rows.assign(within_noise=rows["measure"].isin(CORRELATIONS) & (rows["value"].abs() < rows["conf"]))
        return rows.reindex(rows["value"].abs().sort_values(ascending=False).index).head(k).reset_index(drop=True)

    def headline(self, metric: str) -> str:
        """One sentence on an outcome for all places, e.g. ``Fuel poverty: pfpp_joined_up lower in 97% of 256 worlds (...)``."""
        row = self.summary[(self.summary["place_code"] == ALL_PLACES) & (self.summary["metric"] == metric)].iloc[0]
        title = TITLES.get(metric, metric)
        nan = float("nan")
        default = format_difference(metric, row.default_difference, row.default_ci_low, row.default_ci_high)
        spread = f"5-95%: {format_difference(metric, row.q05, nan, nan)} to {format_difference(metric, row.q95, nan, nan)}"
        if row.direction == "no difference" or not np.isfinite(row.sign_holds):
            return f"{title}: no difference with the scenarios as given ({spread} over {int(row.worlds)} worlds)"
        noisy = "" if row.default_ci_low > 0 or row.default_ci_high < 0 else "; the default difference is within replicate noise"
        return (
            f"{title}: {self.alternative} {row.direction} in {row.sign_holds:.0%} of {int(row.worlds)} worlds "
            f"(default {default}; {spread}{noisy})"
        )

    def payload(self) -> dict[str, Any]:
        """A JSON-ready summary: settings, what was sampled, and per outcome (all places) the findings."""
        outcomes = []
        for row in self.summary[self.summary["place_code"] == ALL_PLACES].itertuples(index=False):
            record = {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row._asdict().items()}
            record["top_factors"] = self.top_factors(row.metric).drop(columns="metric").replace({np.nan: None}).to_dict(orient="records")
            box = self.flips[self.flips["metric"] == row.metric]
            record["flip_box"] = box.drop(columns="metric").replace({np.nan: None}).to_dict(orient="records") or None
            outcomes.append(record)
        return {
            "base": self.base,
            "alternative": self.alternative,
            "design": self.method,
            "samples": self.samples,
            "sampled_worlds": self.sampled_worlds,
            "replicates": self.replicates,
            "seed": self.seed,
            "factors": self.space.names,
            "not_sampled": [{"path": p, "reason": r} for p, r in self.space.not_sampled],
            "prim": self.prim,
            "outcomes": outcomes,
            "files": {k: str(v) for k, v in self.files.items()},
        }


def _resolve(scenario: Scenario | str | Path) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def _identity(base: Scenario, alternative: Scenario, space: Space, method: str, samples: int, seed: int, replicates: int) -> str:
    content = {
        "base": base.scenario_hash(), "alternative": alternative.scenario_hash(), "space": space.to_json(),
        "design": method, "samples": samples, "seed": seed, "replicates": replicates,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def _check_folder(out: Path, identity: str, code: str, resume: bool) -> None:
    manifest_path = out / "manifest.json"
    if manifest_path.is_file():
        previous = read_json(manifest_path)
        if previous.get("kind") != "robustness":
            raise PfppError(f"{out} holds a folder of kind {previous.get('kind')!r}, not this robustness run: use another --out")
        if previous.get("robustness_hash") != identity:
            raise PfppError(f"{out} holds a different robustness run (hash {previous.get('robustness_hash')}): use another --out")
        if previous.get("code") != code:
            raise PfppError(
                f"{out} was started by pfpp_sim {previous.get('code')}, this is {code}: resuming would mix worlds of two "
                "versions of the model; use another --out"
            )
    existing = RunFolder(out / "runs").count()
    if existing and not resume:
        raise PfppError(f"{out} already holds {existing} finished worlds of this robustness run: rerun with --resume, or use another --out")


def robustness(
    base: Scenario | str | Path,
    alternative: Scenario | str | Path,
    out: str | Path,
    *,
    samples: int = DEFAULT_SAMPLES,
    design: Design = "lhs",
    replicates: int = DEFAULT_REPLICATES,
    seed: int = 0,
    include_evidence: bool = False,
    resume: bool = False,
    executor: ExecutorChoice = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> Robustness:
    """Repeat a comparison across sampled worlds and say, per outcome, whether its answer holds.

    Parameters
    ----------
    base, alternative : Scenario, str or Path
        A scenario, a preset name or a TOML path; both over the same places, months,
        scale and calibration.
    out : str or Path
        Output folder (see the module docstring for its files).
    samples : int, default=256
        LHS: worlds; Sobol: base samples N, a power of two (N (D + 2) worlds for D
        assumptions); Morris: trajectories (N (D + 1) worlds).
    design : {"lhs", "sobol", "morris"}, default="lhs"
        LHS gives partial rank correlations, Sobol first- and total-order indices,
        Morris mu* of each assumption on each outcome's difference.
    replicates : int, default=4
        Paired replicates per world (at least 2: each world's difference gets a CI).
    seed : int, default=0
        Seeds the design and every run (0 is valid).
    include_evidence : bool, default=False
        Also sample evidence values with a published range, fixed per world.
    resume : bool, default=False
        Continue an interrupted run in ``out``; without it, a folder holding worlds is an error.
    executor : {"serial", "processes", "dask"} or concurrent.futures.Executor, default="processes"
    workers : int, optional
    scheduler : str, optional
        Dask scheduler address (with ``executor="dask"``).
    progress : callable, optional
        ``progress(done, total)`` in worlds.

    Returns
    -------
    Robustness

    Raises
    ------
    ScenarioError
        Before anything is written: the scenarios differ in a run setting or their
        calibration; ``samples``, ``design``, ``replicates``, ``seed`` or ``workers`` is
        not valid; the base holds no ranged assumption.
    PfppError
        An unknown executor, a folder holding another run, or failed worlds.
    """
    started = time.perf_counter()
    check_executor(executor)
    out = Path(out)
    a, b = _resolve(base), _resolve(alternative)
    if a.name == b.name:
        b = b.with_overrides({}, name=f"{b.name}_alternative")
    check_comparable(a, b, base_label=a.name, alternative_label=b.name)
    space = uncertainty_space(a, b, include_evidence=include_evidence)
    check_samples(space, samples, design)
    if isinstance(replicates, bool) or not isinstance(replicates, (int, np.integer)) or replicates < 2:
        raise ScenarioError(OPTIONS, "replicates", replicates, "a whole number of at least 2 (each world's difference gets a CI)")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ScenarioError(OPTIONS, "seed", seed, "a whole number of at least 0")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1):
        raise ScenarioError(OPTIONS, "workers", workers, "a whole number of at least 1")
    table = sample(space, samples, seed, design=design)
    if len(table) * replicates > MAX_WORLD_REPLICATES:
        raise ScenarioError(OPTIONS, "samples", samples, f"at most {MAX_WORLD_REPLICATES:,} worlds x replicates, not {len(table) * replicates:,}")
    identity = _identity(a, b, space, design, samples, seed, replicates)
    code = f"{package_version()} (commit {git_commit()})"
    with lock_folder(out):  # one writer at a time
        _check_folder(out, identity, code, resume)

        manifest = {
            "kind": "robustness",
            "base": a.name,
            "alternative": b.name,
            "scenarios": {
                sc.name: {
                "hash": sc.scenario_hash(), "extends": sc.extends, "sources": [src._asdict() for src in sc.sources],
                "parameters": sc.model_dump(mode="json"),
            }
            for sc in (a, b)
            },
            "robustness_hash": identity,
            "code": code,
            "space": space.to_json(),
            "design": design,
            "samples": samples,
            "worlds": len(table),
            "seed": seed,
            "replicates": replicates,
            "runs": len(table) * replicates * 2,
            "pfpp_sim_version": package_version(),
            "git_commit": git_commit(),
            "environment": environment(),
            "execution": execution(executor, workers, scheduler),
            "warnings": run_warnings([a, b]),
        }
        files = {"design": write_parquet(table, out / "design.parquet")}
        files["manifest"] = write_json({**manifest, "complete": False}, out / "manifest.json")
        worlds = run_worlds(table, a, b, seed=seed, replicates=replicates, executor=executor, workers=workers, scheduler=scheduler,
                            store=RunFolder(out / "runs"), progress=progress)
        found = analyze(space, table, worlds, method=design, seed=seed, alternative=b.name)
        files["worlds"] = write_parquet(worlds, out / "robustness.parquet")
        files["summary"] = write_parquet(found.summary, out / "summary.parquet")
        files["influence"] = write_parquet(found.influence, out / "influence.parquet")
        files["flips"] = write_parquet(found.flips, out / "flips.parquet")
        manifest.update(prim=found.prim, complete=True, seconds=round(time.perf_counter() - started, 3), files={k: v.name for k, v in files.items()})
        files["manifest"] = write_json(manifest, out / "manifest.json")
        return Robustness(
            a.name, b.name, space, table, design, samples, seed, replicates, worlds,
            found.summary, found.influence, found.flips, found.prim, manifest, files,
        )


def load_robustness(folder: str | Path) -> Robustness:
    """A finished robustness run, read back from its folder.

    Raises
    ------
    PfppError
        If the folder does not hold a finished robustness run.
    """
    folder = Path(folder)
    manifest = read_json(folder / "manifest.json")
    if manifest.get("kind") != "robustness" or not manifest.get("complete"):
        raise PfppError(f"{folder} does not hold a finished robustness run (rerun 'pfpp robustness' with --resume)")
    tables = {}
    for name in ("design", "robustness", "summary", "influence", "flips"):
        tables[name] = read_table(folder / f"{name}.parquet")
    return Robustness(
        manifest["base"], manifest["alternative"], Space.from_json(manifest["space"]), tables["design"], manifest["design"],
        manifest["samples"], manifest["seed"], manifest["replicates"], tables["robustness"], tables["summary"],
        tables["influence"], tables["flips"], manifest["prim"], manifest,
        {k: folder / v for k, v in manifest["files"].items()},
    )
