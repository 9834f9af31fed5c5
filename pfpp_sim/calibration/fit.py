"""Simulated method of moments with common random numbers (``scipy.optimize.least_squares``).

The parameters are, for each place, ``income_trend`` (household income relative to the
poverty line, log points/year; moves fuel poverty) and ``neet_trend`` (16-17 NEET entry
hazard, log points/year; moves NEET 16-17), plus a few global scenario parameters
(:data:`GLOBALS`). Every evaluation runs the same seeds and replicates, so the objective
is a fixed function of the parameters (common random numbers) and finite differences
measure the parameters, not the noise. A place's trends move only its own moments, so
the Jacobian is sparse: all places' trends are perturbed together and each place reads
its own response, costing a few runs per iteration whatever the number of places.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from pfpp_sim.calibration.counties import derived_county_trends
from pfpp_sim.calibration.diagnostics import convergence_warnings, identification_warnings, unidentified
from pfpp_sim.calibration.fitted import PLACE_PARAMETERS, Estimate, FitFile
from pfpp_sim.calibration.holdout import monte_carlo_change_sd, score, with_forecasts, with_intervals
from pfpp_sim.calibration.targets import FUEL_POVERTY, missing_moments, observed_targets
from pfpp_sim.evidence import Sourced
from pfpp_sim.exogenous import month_dates
from pfpp_sim.model import PfppModel
from pfpp_sim.outcomes import basis_year
from pfpp_sim.scenario import Scenario, load_scenario
from pfpp_sim.workers import ExecutorChoice, check_executor, open_executor

__all__ = ["GLOBALS", "PLACE_BOUNDS", "Calibrated", "Settings", "calibrate", "simulate_moments"]

GLOBALS = {
    "world.young_people.neet_scarring": (0.0, 0.9, 0.1, "fraction/year NEET"),
}
"""Global parameters fitted: key path -> (lower, upper, finite-difference step, unit).

The price pass-through is not fitted: bills under the price cap and the Energy Price
Guarantee are the cap (EVIDENCE E08-E16), and 2019-2021, when the cap barely moved, could
not identify it (a shipped fit had 0.35 with a standard error of 0.42)."""
PLACE_BOUNDS = {"income_trend": (-0.2, 0.2, 0.01, "log points/year"), "neet_trend": (-0.5, 0.5, 0.05, "log points/year")}
"""Per-place parameters: name -> (lower, upper, finite-difference step, unit); each moves one series."""
_MOVES = {"income_trend": FUEL_POVERTY, "neet_trend": "neet_16_17_rate"}
FORECAST_PRESET = "baseline_forecast"
"""The preset whose trend damping the held-out year is forecast with: it forecasts from the latest data."""


@dataclass(frozen=True)
class Settings:
    """How a calibration simulates: the same for every evaluation (common random numbers).

    Young people are over-sampled (``min_young_people_per_place``) so that a place's
    NEET 16-17 rate, a few per cent of a few thousand, is measured to a fraction of a
    percentage point.
    """

    start: str = "2019-01"
    scale: float = 0.01
    min_households_per_place: int = 2000
    min_young_people_per_place: int = 20000
    replicates: int = 2
    seed: int = 1
    max_iterations: int = 12
    fit_globals: tuple[str, ...] = tuple(GLOBALS)


@dataclass
class Calibrated:
    """A fitted calibration and how well it reproduces its targets."""

    fit: FitFile  # with its warnings
    table: pd.DataFrame  # place_code, metric, year, observed, sd, simulated, used
    parameters: pd.DataFrame  # parameter, place_code, value, se, unit, low, high
    evaluations: int
    seconds: float
    message: str  # how the optimiser stopped
    holdout: pd.DataFrame | None = None  # per metric: MAEs and rank correlations (calibration.holdout.score)
    holdout_table: pd.DataFrame | None = None  # per place: observed, last observed, each forecast
    holdout_evaluations: int = 0  # model evaluations of the held-out fit, not counted in ``evaluations``
    holdout_seconds: float = 0.0  # of ``seconds``, those the held-out fit and its scores took

    def unidentified(self) -> pd.DataFrame:
        """Fitted parameters the data do not pin down, or cannot tell from zero.

        Returns
        -------
        pandas.DataFrame
            The flagged rows of :attr:`parameters`, with a ``kind`` column (see
            :func:`~pfpp_sim.calibration.diagnostics.unidentified`).
        """
        return unidentified(self.parameters)

    def missing_moments(self) -> dict[str, list[str]]:
        """Places fitted with fewer moments than the official series hold, and what they lack.

        Returns
        -------
        dict of str to list of str
            ONS code -> its missing moments as ``"metric year"``; a place fitted with none
            is listed too. Counties given their districts' trends are not fitted, so not checked.
        """
        fitted = self.parameters.place_code.dropna()
        codes = [c for c in dict.fromkeys(fitted) if c not in self.fit.derived_places]
        return missing_moments(self.table, codes)

    def mae(self, *, by_place: bool = False) -> dict[str, float] | pd.DataFrame:
        """Mean absolute error of simulated against observed rates in the fitted years (fraction).

        Returns a dict by metric, or with ``by_place`` a frame of places by metric.
        """
        frame = self.table[self.table["used"]]
        error = (frame.simulated - frame.observed).abs()
        if by_place:
            return error.groupby([frame.place_code, frame.metric]).mean().unstack("metric")
        return {m: float(e.mean()) for m, e in error.groupby(frame.metric)}


def _months(start: str, targets: pd.DataFrame) -> int:
    """Months from ``start`` through the last month any of the targets needs."""
    return len(pd.period_range(start, _last_month(targets), freq="M"))


def _last_month(targets: pd.DataFrame) -> pd.Timestamp:
    last = [pd.Timestamp(f"{year}-12-01") if metric == FUEL_POVERTY else pd.Timestamp(f"{year}-02-01")
            for metric, year in targets[["metric", "year"]].drop_duplicates().itertuples(index=False)]
    return max(last)


def _scenario(
    base: Scenario, codes: list[str], settings: Settings, months: int, places: dict, globals_: dict, through: dict[str, int],
    damping: Sourced | None = None,
) -> Scenario:
    data = base.model_dump(mode="python")
    if damping is not None:
        data["world"]["trend_damping"] = damping.model_dump(mode="python")
    data["run"].update(
        start=settings.start, horizon_months=months, places=codes, scale=settings.scale,
        min_households_per_place=settings.min_households_per_place,
        min_young_people_per_place=settings.min_young_people_per_place,
    )
    data["calibration"] = {"name": "candidate", "fitted_on": dt.date.today().isoformat(), "data_through": through, "places": places}
    for path, value in globals_.items():
        node = data
        for part in path.split("."):
            node = node[part]
        node.update(value=float(value), low=None, high=None)
    return Scenario.model_validate(data)


def simulate_moments(scenario: Scenario, seed: int, replicate: int, metrics: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """Run one replicate and return each metric's annual rates on its official basis.

    Returns
    -------
    dict of str to DataFrame
        Per metric, a frame indexed by year with one column per place code (fraction).
    """
    model = PfppModel(scenario, seed=seed, replicate=replicate).run()
    dates = month_dates(scenario.run.start, scenario.run.horizon_months)
    out = {}
    for metric in metrics:
        monthly = pd.DataFrame(np.stack([r[metric] for r in model.records]), columns=model.population.places.codes)
        out[metric] = monthly.groupby(basis_year(metric, dates)).mean().drop(index=-1, errors="ignore")
    return out


class _Problem:
    """Residuals of one calibration: parameters (scaled) -> standardised moment errors."""

    def __init__(self, base, codes, targets, settings, pool, progress, *, cold=False):
        self.base, self.codes, self.targets, self.settings = base, codes, targets, settings
        self.cold = cold  # place trends start from zero, not from the base's fit
        self.pool, self.progress = pool, progress
        self.months = _months(settings.start, targets)
        self.metrics = tuple(sorted(targets["metric"].unique()))
        self.data_through = {m: int(g["year"].max()) for m, g in targets.groupby("metric")}
        self.evaluations = 0
        self.message = ""
        self.result: optimize.OptimizeResult | None = None  # the optimiser's, once it has stopped
        self._cache: dict[bytes, np.ndarray] = {}
        # Scaled parameters: x = start + step * theta, theta = 0 at the start.
        self.names = [(p, c) for p in PLACE_PARAMETERS for c in codes] + [(g, None) for g in settings.fit_globals]
        start, step, low, high = [], [], [], []
        for name, code in self.names:
            lo, hi, h, _ = PLACE_BOUNDS[name] if code else GLOBALS[name]
            x0 = self._base_value(name, code)
            start.append(x0)
            step.append(h)
            low.append((lo - x0) / h)
            high.append((hi - x0) / h)
        self.start, self.step = np.array(start), np.array(step)
        self.bounds = (np.array(low), np.array(high))

    def _base_value(self, name: str, code: str | None) -> float:
        if code is None:
            node = self.base
            for part in name.split("."):
                node = getattr(node, part)
            return float(node.value)
        return float(getattr(self.base.calibration.place(code), name)) if self.base.calibration and not self.cold else 0.0

    def values(self, theta: np.ndarray) -> np.ndarray:
        return np.clip(self.start + self.step * theta, *self._raw_bounds())

    def _raw_bounds(self):
        return self.start + self.step * self.bounds[0], self.start + self.step * self.bounds[1]

    def scenario(self, x: np.ndarray, months: int | None = None, damping: Sourced | None = None) -> Scenario:
        n = len(self.codes)
        places = {c: {p: float(x[i * n + j]) for i, p in enumerate(PLACE_PARAMETERS)} for j, c in enumerate(self.codes)}
        globals_ = {name: x[len(PLACE_PARAMETERS) * n + k] for k, name in enumerate(self.settings.fit_globals)}
        return _scenario(self.base, self.codes, self.settings, months or self.months, places, globals_, self.data_through, damping)

    def simulate(self, x: np.ndarray, targets: pd.DataFrame, months: int | None = None, damping: Sourced | None = None) -> np.ndarray:
        """Each target's simulated value, the mean over the replicates."""
        return self.simulate_replicates(x, targets, months, damping).mean(axis=0)

    def simulate_replicates(
        self, x: np.ndarray, targets: pd.DataFrame, months: int | None = None, damping: Sourced | None = None,
    ) -> np.ndarray:
        """Each target's simulated value in each replicate: shape ``(replicates, targets)``."""
        scenario = self.scenario(x, months, damping)
        jobs = [(scenario, self.settings.seed, r, self.metrics) for r in range(self.settings.replicates)]
        if self.pool is None:
            runs = [simulate_moments(*job) for job in jobs]
        else:
            runs = list(self.pool.map(simulate_moments, *zip(*jobs)))
        self.evaluations += 1
        if self.progress:
            self.progress(self.evaluations)
        out = np.empty((len(runs), len(targets)))
        for i, (code, metric, year) in enumerate(targets[["place_code", "metric", "year"]].itertuples(index=False)):
            out[:, i] = [run[metric].at[year, code] for run in runs]
        return out

    def residuals(self, theta: np.ndarray) -> np.ndarray:
        """Standardised errors ``(simulated - observed) / sd`` at scaled parameters ``theta``."""
        key = theta.tobytes()
        if key not in self._cache:
            simulated = self.simulate(self.values(theta), self.targets)
            self._cache = {key: (simulated - self.targets["observed"].to_numpy()) / self.targets["sd"].to_numpy()}
        return self._cache[key]

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """Forward differences of one step per parameter, grouped by the sparsity pattern.

        All per-place parameters move together (each reads only its own place's series),
        each global parameter on its own: ``1 + number of globals`` runs.
        """
        base = self.residuals(theta)
        pattern = self.pattern
        jac = np.zeros(pattern.shape)
        local = np.array([code is not None for _, code in self.names])
        groups = [np.flatnonzero(local)] + [[j] for j in np.flatnonzero(~local)]
        for columns in groups:
            if len(columns) == 0:
                continue
            h = np.where(theta[columns] + 1.0 <= self.bounds[1][columns], 1.0, -1.0)
            moved = theta.copy()
            moved[columns] += h
            change = self.residuals(moved) - base
            for j, hj in zip(columns, h):
                jac[pattern[:, j], j] = change[pattern[:, j]] / hj
        self._cache = {theta.tobytes(): base}
        return jac

    @property
    def pattern(self) -> np.ndarray:
        """Which moments (rows) each parameter (column) may move."""
        rows = self.targets.reset_index(drop=True)
        pattern = np.zeros((len(rows), len(self.names)), dtype=bool)
        for j, (name, code) in enumerate(self.names):
            pattern[:, j] = ((rows["place_code"] == code) & (rows["metric"] == _MOVES[name])) if code else True
        return pattern


EXACT_FIT_VARIANCE = 1e-12
"""Least residual variance of a series (standardised units): a series fitted exactly gives its parameters errors of about 0, not a division by 0."""


def _standard_errors(jac: np.ndarray, residuals: np.ndarray, step: np.ndarray, series: np.ndarray) -> np.ndarray:
    """Approximate standard errors from the Jacobian at the optimum, in parameter units.

    The moments' weights (``1 / sd**2``, :mod:`~pfpp_sim.calibration.targets`) are
    assumptions, and the misfit they leave differs by series (in the shipped England fit the
    mean squared standardised residual is 1.27 for fuel poverty and 2.25 for NEET), so each
    series' moments are scaled by that series' own residual variance: its residuals' sum of
    squares over its degrees of freedom, its moments less the parameters spent on them (the
    sum of its moments' leverages, the diagonal of the hat matrix, which over all series adds
    up to the number of identified parameters). The covariance is then the inverse of
    ``J' W J``, ``W`` the inverse variances. One pooled variance would lend one series' misfit
    to the parameters of the other.

    Parameters
    ----------
    jac : ndarray
        Jacobian of the standardised residuals in scaled parameters, moments by parameters.
    residuals : ndarray
        Standardised residuals at the optimum, one per moment.
    step : ndarray
        Each parameter's unit of scaling (parameter units per scaled unit).
    series : ndarray
        Each moment's series (metric), one label per moment.

    Returns
    -------
    ndarray
        One standard error per parameter, NaN where no moment moves it.
    """
    jac, residuals = np.asarray(jac, dtype=float), np.asarray(residuals, dtype=float)
    se = np.full(jac.shape[1], np.nan)
    identified = np.abs(jac).sum(axis=0) > 0
    if not identified.any():
        return se
    moves = jac[:, identified]
    leverage = np.einsum("ij,ij->i", moves @ np.linalg.pinv(moves.T @ moves), moves)
    variance = np.empty(len(residuals))
    for label in np.unique(series):
        rows = series == label
        dof = max(rows.sum() - leverage[rows].sum(), 1.0)
        variance[rows] = max(float(np.sum(residuals[rows] ** 2)) / dof, EXACT_FIT_VARIANCE)
    cov = np.linalg.pinv(moves.T @ (moves / variance[:, None]))
    se[identified] = np.sqrt(np.clip(np.diag(cov), 0, None)) * step[identified]
    return se


STALLED_TRIALS = 5
"""Trial steps, all rejected, after which a fit that never left its start stops, converged."""


class _Stalled(Exception):
    """Every trial step from the start was rejected :data:`STALLED_TRIALS` times."""


class _Trials:
    """The optimiser's calls of the residuals and the Jacobian, counted, to stop a stalled fit.

    Started at an optimum (``make calibrate`` starts from the shipped fit), every trial step
    raises the objective and the trust region shrinks fourfold after each, so after
    :data:`STALLED_TRIALS` rejected trials no step within a thousandth of the first radius
    does better. The optimiser itself would go on to its step limit: ``xtol`` is relative to
    the scaled parameters, which are zero at the start, so it cannot be met there.
    """

    def __init__(self, problem: _Problem):
        self.problem, self.evaluations, self.jacobians = problem, 0, 0
        self.start_residuals: np.ndarray | None = None
        self.start_jacobian: np.ndarray | None = None

    def residuals(self, theta: np.ndarray) -> np.ndarray:
        if _stalled(self.evaluations, self.jacobians):
            raise _Stalled
        self.evaluations += 1
        out = self.problem.residuals(theta)
        if self.evaluations == 1:
            self.start_residuals = out
        return out

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        jac = self.problem.jacobian(theta)
        self.jacobians += 1
        if self.jacobians == 1:
            self.start_jacobian = jac
        return jac


def _stalled(evaluations: int, jacobians: int) -> bool:
    """One Jacobian (no step accepted) and :data:`STALLED_TRIALS` trials after the start's evaluation."""
    return jacobians == 1 and evaluations - 1 >= STALLED_TRIALS


def _converged(result: optimize.OptimizeResult) -> bool:
    """Whether the optimiser met a tolerance, or no step could improve on where it started (:class:`_Trials`)."""
    return bool(result.success) or _stalled(result.nfev, result.njev)


def _fit(problem: _Problem) -> tuple[np.ndarray, np.ndarray, float]:
    """Minimise the weighted squared errors; return values, standard errors and objective."""
    trials = _Trials(problem)
    start = np.zeros(len(problem.names))
    try:
        result = optimize.least_squares(
            trials.residuals, start, jac=trials.jacobian, bounds=problem.bounds,
            method="trf", x_scale=1.0, max_nfev=problem.settings.max_iterations, ftol=1e-4, xtol=1e-3,
        )
    except _Stalled:
        result = optimize.OptimizeResult(
            x=start, fun=trials.start_residuals, jac=trials.start_jacobian, nfev=trials.evaluations, njev=1, success=False, status=-2,
            message=f"No trial step improved on the start in {STALLED_TRIALS} trials.",
        )
    problem.message = f"{result.message} ({result.nfev} steps, {result.njev} Jacobians)"
    problem.result = result
    se = _standard_errors(result.jac, result.fun, problem.step, problem.targets["metric"].to_numpy())
    return problem.values(result.x), se, float(np.sum(result.fun**2))


def _table(
    problem: _Problem, x: np.ndarray, targets: pd.DataFrame, used: pd.Series, damping: Sourced | None = None, *, replicates: bool = False,
) -> pd.DataFrame:
    """The targets with their simulated values (``simulated``, the replicates' mean) and ``used``.

    With ``replicates``, ``replicate_<r>`` columns also hold each replicate's value.
    """
    runs = problem.simulate_replicates(x, targets, _months(problem.settings.start, targets), damping=damping)
    table = targets.assign(simulated=runs.mean(axis=0), used=used.to_numpy())
    return table.assign(**{f"replicate_{r}": run for r, run in enumerate(runs)}) if replicates else table


def forecast_damping() -> Sourced | None:
    """``world.trend_damping`` of :data:`FORECAST_PRESET`: how fitted trends go on beyond their data in a forecast."""
    return load_scenario(FORECAST_PRESET).world.trend_damping


def _holdout(problem_for, targets: pd.DataFrame, damping: Sourced | None) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Fit without each metric's last year; score the model, persistence and a pooled AR(1) on it.

    The fit starts from zero trends, not from the base's fitted ones (which saw the held-out
    year), and forecasts the held-out year with its trends damped beyond their data as
    ``baseline_forecast`` damps them (``damping``). The scores also carry each series'
    :func:`~pfpp_sim.calibration.holdout.change_correlation` over all its published years.

    Returns
    -------
    scores, table : DataFrame
        :func:`~pfpp_sim.calibration.holdout.score`'s scores and the per-place forecasts.
    evaluations : int
        Model evaluations of the held-out fit, its forecast included.
    """
    last = targets.groupby("metric")["year"].transform("max")
    used = targets["year"] < last
    problem = problem_for(targets[used].reset_index(drop=True), cold=True)
    x, se, _ = _fit(problem)
    table = _table(problem, x, targets, used, damping=damping, replicates=True)
    held = with_forecasts(table)
    held = with_intervals(held, targets[used], _trend_change_sd(problem, se), monte_carlo_change_sd(table))
    return score(held, targets), held.drop(columns=[c for c in held if c.startswith("replicate_")]), problem.evaluations


def _trend_change_sd(problem: _Problem, se: np.ndarray) -> pd.Series:
    """Standard deviation a series' predicted one-year change owes to the error of its place's trend.

    The change of the simulated rate per unit of the trend over the last fitted year (the
    optimiser's last Jacobian at that year's moment less the year before's; at the one
    year when a place has a single one), times the trend's standard error (the delta
    method). A year of trend within the data; beyond it the damped trend moves a little
    less, so this errs wide.

    Returns
    -------
    pandas.Series
        Indexed by ``(place_code, metric)``, in rate units (fractions).
    """
    rows = problem.targets.reset_index(drop=True)
    jac = np.asarray(problem.result.jac)
    out = {}
    for j, (name, code) in enumerate(problem.names):
        if code is None:
            continue
        metric = _MOVES[name]
        mine = rows[(rows.place_code == code) & (rows.metric == metric)].sort_values("year")
        if mine.empty or not np.isfinite(se[j]):
            continue
        slope = [jac[i, j] * rows.at[i, "sd"] / problem.step[j] for i in mine.index[-2:]]  # d simulated / d trend
        out[(code, metric)] = abs(slope[-1] - (slope[0] if len(slope) == 2 else 0.0)) * se[j]
    return pd.Series(out, dtype=float)


def _estimate(row) -> Estimate:
    return Estimate(value=row.value, se=row.se if np.isfinite(row.se) else None, unit=row.unit)


def calibrate(
    base: Scenario,
    codes: list[str],
    *,
    name: str,
    settings: Settings = Settings(),
    through: int | None = None,
    holdout_last_year: bool = False,
    targets: pd.DataFrame | None = None,
    executor: ExecutorChoice = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Calibrated:
    """Fit per-place trends and global parameters so a baseline reproduces official series.

    A two-tier county whose districts are all among ``codes`` (and which is not itself)
    gets trends derived from theirs (:mod:`pfpp_sim.calibration.counties`), listed in the
    fit's ``derived_places``.

    Parameters
    ----------
    base : Scenario
        The baseline whose programmes and world are replayed (``baseline_history``).
    codes : list of str
        ONS codes of the places to fit.
    name : str
        Name of the fit (letters, digits, underscores).
    settings : Settings, optional
    through : int, optional
        Last data year to fit (default: all vendored years).
    holdout_last_year : bool, default=False
        Also fit, from zero trends, without each series' last year, and score the model's
        forecast of that year from the latest data (trends damped as in
        :data:`FORECAST_PRESET`) against persistence (the last observed value carried
        forward) and a pooled AR(1) (:mod:`pfpp_sim.calibration.holdout`).
    targets : DataFrame, optional
        Moments to fit (``place_code, metric, year, observed, sd``); default the official
        series (:func:`~pfpp_sim.calibration.targets.observed_targets`). Tests pass
        synthetic moments here.
    executor : {"serial", "processes", "dask"} or concurrent.futures.Executor, default="processes"
        Where replicates run, as in :func:`pfpp_sim.run`; the fit is the same whatever it is.
    workers : int, optional
        Processes running replicates in parallel (default: one per core, at most the
        number of replicates); 1 runs in this process.
    scheduler : str, optional
        Dask scheduler address (with ``executor="dask"``; default a local cluster).
    progress : callable, optional
        Called with the number of model evaluations so far.

    Returns
    -------
    Calibrated
    """
    started = time.perf_counter()
    check_executor(executor)
    targets = observed_targets(codes, through=through) if targets is None else targets.reset_index(drop=True)
    workers = min(workers or os.cpu_count() or 1, settings.replicates)
    in_process = executor == "serial" or (executor == "processes" and workers == 1)
    pool, close = (None, lambda: None) if in_process else open_executor(executor, workers, scheduler)
    try:
        def problem_for(moments: pd.DataFrame, cold: bool = False) -> _Problem:
            return _Problem(base, codes, moments, settings, pool, progress, cold=cold)

        problem = problem_for(targets)
        x, se, objective = _fit(problem)
        table = _table(problem, x, targets, pd.Series(True, index=targets.index))
        fitted = time.perf_counter()
        holdout, held, held_evaluations = _holdout(problem_for, targets, forecast_damping()) if holdout_last_year else (None, None, 0)
        holdout_seconds = time.perf_counter() - fitted
    finally:
        close()
    rows = []
    for i, (param, code) in enumerate(problem.names):
        low, high, _, unit = PLACE_BOUNDS[param] if code else GLOBALS[param]
        rows.append((param, code, float(x[i]), float(se[i]), unit, low, high))
    parameters = pd.DataFrame(rows, columns=["parameter", "place_code", "value", "se", "unit", "low", "high"])
    counties, derived = derived_county_trends(parameters)
    parameters = pd.concat([parameters, counties], ignore_index=True) if derived else parameters
    stopped = problem.result
    warnings = convergence_warnings(
        converged=_converged(stopped), steps=int(stopped.nfev), max_steps=settings.max_iterations, objective=objective,
        detail=str(stopped.message),
    ) + identification_warnings(unidentified(parameters))
    fit = FitFile(
        name=name,
        fitted_on=dt.date.today().isoformat(),
        data_through={m: int(g["year"].max()) for m, g in targets.groupby("metric")},
        objective=objective,
        moments=len(targets),
        settings={
            "start": settings.start, "scale": settings.scale, "replicates": settings.replicates, "seed": settings.seed,
            "min_households_per_place": settings.min_households_per_place,
            "min_young_people_per_place": settings.min_young_people_per_place,
            "base_scenario_hash": base.scenario_hash(),
        },
        globals={
            r.parameter: _estimate(r) for r in parameters[parameters.place_code.isna()].itertuples()
        },
        places={
            code: {
                r.parameter: _estimate(r) for r in parameters[parameters.place_code == code].itertuples()
            }
            for code in [*codes, *derived]
        },
        derived_places=derived,
        warnings=warnings,
    )
    return Calibrated(
        fit=fit, table=table, parameters=parameters, evaluations=problem.evaluations, message=problem.message,
        seconds=time.perf_counter() - started, holdout=holdout, holdout_table=held,
        holdout_evaluations=held_evaluations, holdout_seconds=holdout_seconds,
    )
