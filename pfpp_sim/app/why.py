"""'Why do the two sides differ?': the app's two sides at the month reached, split among what differs.

The left side is the siloed baseline and the right side the room's settings, on the same
place, scale and random numbers; they differ by a few *factors* (levers, and the
programme settings of some presets, :mod:`pfpp_sim.factors`). :func:`explain_sides` runs
the baseline with combinations of the right side's factors up to the month the room has
reached, on the same random numbers, and splits each shown value's difference (right -
left: the three rates on the charts and money to date) among the factors by Shapley
values (:mod:`pfpp_sim.shapley`), as ``pfpp explain`` does, but for one place and one
month.

Each run costs its months, so what fits the room's patience depends on the month:
:func:`plan` keeps the runs within :data:`BUDGET_RUN_MONTHS` (about 10 CPU-seconds at the
default scale, as ``benchmarks/results/app_why.md`` measured). It runs every combination when they fit, with two more histories (other
random numbers) for a range when those fit too; otherwise it estimates the Shapley values
from as many sampled orderings of the factors as fit, and says so.

The two shown sides are used as the combinations "none" and "all" of the shown history,
so the contributions add up to exactly the difference the charts show.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from dataclasses import dataclass
from itertools import groupby
from typing import Any, Literal

import numpy as np

from pfpp_sim import shapley
from pfpp_sim.app.narrative import label
from pfpp_sim.app.session import LEVER_LABELS, Settings, baseline_scenario, chosen_scenario, money_to_date, rate_series, start_run
from pfpp_sim.attribution import designs
from pfpp_sim.errors import PfppError
from pfpp_sim.factors import ABSENT, Factor, FactorSet, factor_set
from pfpp_sim.model import PfppModel
from pfpp_sim.scenario import Scenario
from pfpp_sim.workers import process_pool

__all__ = [
    "BUDGET_RUN_MONTHS",
    "BUILD_MONTHS",
    "MAX_REPLICATES",
    "METRICS",
    "Plan",
    "Why",
    "explain_sides",
    "factor_label",
    "plan",
    "side_values",
]

METRICS = {
    "fuel_poverty_rate": "Fuel poverty",
    "neet_16_24_rate": "NEET, aged 16-24",
    "youth_mh_rate": "Probable mental disorder, 16-24",
    "returned_gbp": "Money returned, to date",
    "overhead_gbp": "All overhead, to date",
    "delivered_gbp": "Money delivered, to date",
}
"""What is explained, in panel order: rates in percent (as charted), money in GBP to date (real scale).

Overhead is all overhead (bids, recruitment, governance, grant top-slices, levers), as on
the monitor cards, not the grant overhead of the funding-flow diagram.
"""
BUILD_MONTHS = 12
"""Building a run (residents, agents and their run-in) costs about as much as 12 of its months at the default scale.

``python -m benchmarks.app_why`` measures it: 10 to 14 months over its runs.
"""
BUDGET_RUN_MONTHS = 4_500
"""Most run-months (each run: the month reached plus :data:`BUILD_MONTHS`) one explanation may use.

About 10 CPU-seconds at the default scale (2.1-2.2 CPU-ms a run-month, measured by
``python -m benchmarks.app_why``; wall time depends on the cores free).
"""
MAX_REPLICATES = 3
"""Histories explained when every combination of all of them fits: the shown one and two others."""

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Plan:
    """Which combinations to run, in how many histories.

    Attributes
    ----------
    design : shapley.Design
        Exact, or sampled orderings (``design.permutations`` of them).
    replicates : int
        Histories: replicate 0 is the one shown; others only when the design is exact.
    runs : int
        New runs: every combination of every history, less the two shown sides.
    """

    design: shapley.Design
    replicates: int
    runs: int


def plan(k: int, month: int, *, seed: int, budget_run_months: int = BUDGET_RUN_MONTHS) -> Plan:
    """The most thorough explanation of ``k`` factors at ``month`` within the budget.

    In order of preference: every combination in :data:`MAX_REPLICATES` histories, then
    in fewer; else the most sampled orderings (in antithetic pairs, drawn from the
    ``"attribution"`` stream of ``seed``, as ``pfpp explain`` draws them) whose
    combinations fit, and never fewer than two.

    Parameters
    ----------
    k : int
        Factors that differ, at least 1.
    month : int
        Months each run steps, at least 1.
    seed : int
        The sides' seed.
    budget_run_months : int, default=BUDGET_RUN_MONTHS

    Returns
    -------
    Plan
    """
    per_run = month + BUILD_MONTHS
    combinations = 1 << k
    for replicates in range(MAX_REPLICATES, 0, -1):
        runs = combinations - 2 + (replicates - 1) * combinations
        if runs * per_run <= budget_run_months:
            return Plan(shapley.exact(k), replicates, runs)
    # Orderings drawn for n + 2 start with those drawn for n, so the runs only grow with n;
    # they stop growing at every combination, which did not fit.
    chosen = designs(k, 1, seed=seed, permutations=2)[0]
    while len(chosen.masks) < combinations:
        design = designs(k, 1, seed=seed, permutations=chosen.permutations + 2)[0]
        if (len(design.masks) - 2) * per_run > budget_run_months:
            break
        chosen = design
    return Plan(chosen, 1, len(chosen.masks) - 2)


def side_values(model: PfppModel, month: int) -> np.ndarray:
    """The shown values of one side at ``month``, as the charts and cards compute them.

    Parameters
    ----------
    model : PfppModel
        A side (or a combination) that has run at least ``month`` months.
    month : int
        Months run, at least 1.

    Returns
    -------
    ndarray of float64, shape (len(METRICS),)
        Rates in percent in month ``month``, money in GBP to date, in :data:`METRICS` order.

    Raises
    ------
    PfppError
        If the model has not run ``month`` months.
    """
    if not 1 <= month <= model.month:
        raise PfppError(f"month = {month}: expected 1 to {model.month} (the months this run has reached)")
    rates, money = rate_series(model), money_to_date(model)
    return np.array([(rates[name] if name in rates else money[name])[month - 1] for name in METRICS], dtype=np.float64)


def _value_text(lever: str, value: Any) -> str:
    if value is None:
        return "baseline rate" if lever == "stream_churn" else "each stream's own"
    if isinstance(value, bool):
        return "on" if value else "off"
    if lever == "funding_period_months":
        return f"{value} months"
    if lever == "competitive_share":
        return f"{value:.0%}"
    if lever == "stream_churn":
        return f"{value:.0%} a year"
    return f"{value:g}" if isinstance(value, float) else str(value)


def factor_label(factor: Factor) -> tuple[str, str]:
    """A factor as the room reads it: its name, and what changes from the left side to the right.

    Parameters
    ----------
    factor : Factor

    Returns
    -------
    (str, str)
        E.g. ``("Data sharing", "0 → 0.8")``, ``("Careers programme", "ring fenced: off → on")``,
        ``("PfPP grant programme", "on your side only")``.
    """
    root, _, rest = factor.name.partition(".")
    if root == "levers":
        (_, base, alternative), = factor.changes
        return LEVER_LABELS.get(rest, label(rest)), f"{_value_text(rest, base)} → {_value_text(rest, alternative)}"
    name = f"{label(rest)} programme" if root == "programmes" else label(factor.name.rsplit(".", 1)[-1])
    if any(alternative is ABSENT for _, _, alternative in factor.changes):
        return name, "in the baseline only"
    if any(base is ABSENT for _, base, _ in factor.changes):
        return name, "on your side only"
    if len(factor.changes) > 1:
        return name, f"{len(factor.changes)} settings differ"
    (path, base, alternative), = factor.changes
    return name, f"{label(path.rsplit('.', 1)[-1]).lower()}: {_value_text('', base)} → {_value_text('', alternative)}"


@dataclass(frozen=True, eq=False)
class Why:
    """Why the two sides differ at one month: each factor's contribution to each shown value.

    Attributes
    ----------
    settings : Settings
    month : int
        Months both sides had run.
    factors : tuple of (str, str)
        Each factor's name and change (:func:`factor_label`), in bit order; empty when
        the two sides are the same.
    left, right : ndarray of float64, shape (len(METRICS),)
        The shown values of each side (:func:`side_values`).
    contribution, alone, interaction : ndarray of float64, shape (len(METRICS), k)
        In the shown history: each factor's Shapley value, its effect switched alone from
        the left side, and their difference (its share of interactions).
    spread : ndarray of float64, shape (len(METRICS), k + 1, 2), or None
        Lowest and highest contribution over the histories (the last row: the
        difference itself), when more than one was run.
    exact : bool
        Every combination ran; otherwise the contributions are estimated from
        ``permutations`` sampled orderings.
    permutations : int
        0 when exact.
    replicates : int
        Histories explained.
    runs : int
        New runs made (the two shown sides come on top).
    seconds : float
    """

    settings: Settings
    month: int
    factors: tuple[tuple[str, str], ...]
    left: np.ndarray
    right: np.ndarray
    contribution: np.ndarray
    alone: np.ndarray
    interaction: np.ndarray
    spread: np.ndarray | None
    exact: bool
    permutations: int
    replicates: int
    runs: int
    seconds: float

    @property
    def difference(self) -> np.ndarray:
        """Right minus left, shape (len(METRICS),)."""
        return self.right - self.left


def _run_jobs(factors: FactorSet, seed: int, month: int, jobs: list[tuple[int, int]]) -> list[tuple[int, int, np.ndarray]]:
    """Run ``(combination, replicate)`` jobs to ``month`` in a worker and return their shown values."""
    done = []
    for mask, batch in groupby(jobs, key=lambda job: job[0]):
        scenario = factors.combination(mask)
        for _, replicate in batch:
            done.append((mask, replicate, side_values(start_run(scenario, seed=seed, months=month, replicate=replicate), month)))
    return done


def _run_all(
    factors: FactorSet,
    seed: int,
    month: int,
    jobs: list[tuple[int, int]],
    *,
    executor: Literal["serial", "processes"] | Executor,
    workers: int | None,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> list[tuple[int, int, np.ndarray]] | None:
    """All jobs, in small batches so progress moves; None as soon as ``cancel`` is set."""
    results: list[tuple[int, int, np.ndarray]] = []
    if executor == "serial":
        for job in jobs:
            if cancel is not None and cancel.is_set():
                return None
            results += _run_jobs(factors, seed, month, [job])
            if progress:
                progress(len(results), len(jobs))
        return results
    own = executor == "processes"
    pool: Executor = process_pool(workers) if own else executor  # type: ignore[assignment]
    size = max(1, math.ceil(len(jobs) / (4 * (workers or os.cpu_count() or 1))))
    futures = {pool.submit(_run_jobs, factors, seed, month, jobs[i : i + size]) for i in range(0, len(jobs), size)}
    try:
        while futures:
            if cancel is not None and cancel.is_set():
                return None
            finished, futures = wait(futures, timeout=0.1, return_when=FIRST_COMPLETED)
            for future in finished:
                results += future.result()
            if finished and progress:
                progress(len(results), len(jobs))
        return results
    finally:
        # A cancelled explanation does not wait for the batches already running: the room has moved on.
        if own:
            pool.shutdown(wait=not futures, cancel_futures=True)
        for future in futures:
            future.cancel()


def _check_comparable(base: Scenario, alternative: Scenario) -> None:
    """Refuse sides that are run differently (a preset with its own start or horizon): that is no lever to split."""
    for key in ("run", "calibration"):
        left, right = getattr(base, key), getattr(alternative, key)
        if left != right:
            shown_left, shown_right = left.model_dump(mode="json") if left else {}, right.model_dump(mode="json") if right else {}
            differ = [
                f"{label(name).lower()} {shown_left.get(name)} on the left, {shown_right.get(name)} on your side"
                for name in dict.fromkeys([*shown_left, *shown_right]) if shown_left.get(name) != shown_right.get(name)
            ] if key == "run" else ["another calibration"]
            raise PfppError(
                f"cannot split the difference: the two sides are run differently ({'; '.join(differ)}), and only levers and "
                "programme settings can be split; choose another preset for your side"
            )


def explain_sides(
    settings: Settings,
    month: int,
    *,
    shown: tuple[np.ndarray, np.ndarray],
    budget_run_months: int = BUDGET_RUN_MONTHS,
    executor: Literal["serial", "processes"] | Executor = "processes",
    workers: int | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> Why | None:
    """Split the difference between the two sides at ``month`` among the factors that differ.

    Parameters
    ----------
    settings : Settings
        The room's settings: the left side is :func:`~pfpp_sim.app.session.baseline_scenario`,
        the right :func:`~pfpp_sim.app.session.chosen_scenario`, replicate 0 of ``settings.seed``.
    month : int
        Months both sides have run, 1 to the horizon.
    shown : (ndarray, ndarray)
        :func:`side_values` of the left and right sides at ``month``, each of shape
        (len(METRICS),): the combinations "none" and "all" of the shown history, so the
        contributions add up to the difference the charts show.
    budget_run_months : int, default=BUDGET_RUN_MONTHS
        See :func:`plan`.
    executor : {"serial", "processes"} or concurrent.futures.Executor, default="processes"
        Where the runs go: this process, a process pool made for this call (shut down
        after it), or an executor the caller keeps (the app keeps one per session, so
        only its first explanation waits for worker processes to start). Results do not
        depend on it.
    workers : int, optional
        Worker processes of the ``"processes"`` pool (default: all cores).
    progress : callable, optional
        ``progress(done, total)`` as batches of runs finish.
    cancel : threading.Event, optional
        Set it to stop: runs not started are dropped and None is returned.

    Returns
    -------
    Why or None
        With no factors when the two sides are the same; None if cancelled.

    Raises
    ------
    PfppError
        If ``month`` is outside 1 to the horizon, ``shown`` does not hold one value per
        metric for each side, or the two sides are run differently (another start,
        horizon or calibration: nothing a factor can explain).
    """
    started = time.perf_counter()
    base, alternative = baseline_scenario(settings), chosen_scenario(settings)
    horizon = base.run.horizon_months
    if not 1 <= month <= horizon:
        raise PfppError(f"month = {month}: expected 1 to {horizon} (the months both sides have run)")
    left, right = (np.asarray(v, dtype=np.float64) for v in shown)
    if left.shape != (len(METRICS),) or right.shape != (len(METRICS),):
        raise PfppError(f"shown = arrays of shape {left.shape} and {right.shape}: expected ({len(METRICS)},) each, one value per metric")
    if base.scenario_hash() == alternative.scenario_hash():
        none = np.zeros((len(METRICS), 0))
        return Why(settings, month, (), left, right, none, none, none, None, True, 0, 1, 0, time.perf_counter() - started)
    _check_comparable(base, alternative)
    factors = factor_set(base, alternative)
    k = len(factors.factors)
    chosen = plan(k, month, seed=settings.seed, budget_run_months=budget_run_months)
    design, full = chosen.design, (1 << k) - 1
    jobs = [(int(m), r) for m in design.masks for r in range(chosen.replicates) if r > 0 or m not in (0, full)]
    results = _run_all(factors, settings.seed, month, jobs, executor=executor, workers=workers, progress=progress, cancel=cancel)
    if results is None:
        return None
    values = np.empty((chosen.replicates, len(METRICS), len(design.masks)))
    position = {int(m): i for i, m in enumerate(design.masks)}
    values[0, :, 0], values[0, :, position[full]] = left, right
    for mask, replicate, shown_values in results:
        values[replicate, :, position[mask]] = shown_values
    contribution = design.shapley_values(values)  # (replicates, metrics, k)
    spread = None
    if chosen.replicates > 1:
        both = np.concatenate([contribution, design.totals(values)[..., None]], axis=2)
        spread = np.stack([both.min(axis=0), both.max(axis=0)], axis=-1)
    return Why(
        settings, month, tuple(factor_label(f) for f in factors.factors), left, right,
        contribution[0], design.main_effects(values[0]), design.interactions(values[0]), spread,
        design.exact, design.permutations, chosen.replicates, chosen.runs, time.perf_counter() - started,
    )
