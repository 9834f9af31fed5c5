"""Calibration by simulated method of moments: identifiability and holdout (the targets: test_targets.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pfpp_sim
from pfpp_sim.calibration import Settings, calibrate, observed_targets
from pfpp_sim.calibration.fit import _Problem
from pfpp_sim.calibration.targets import FUEL_POVERTY, NEET_16_17, SERIES
from pfpp_sim.outcomes import basis_year
from pfpp_sim.scenario import load_scenario

PLACES = ["E06000032", "E08000024"]  # Luton, Sunderland
SMALL = Settings(replicates=1, max_iterations=30, fit_globals=())  # the synthetic fit converges in 26 evaluations
TRUE = {"E06000032": {"income_trend": 0.03, "neet_trend": 0.15}, "E08000024": {"income_trend": -0.03, "neet_trend": -0.1}}


def base():
    return load_scenario("baseline_history").with_overrides({"calibration": None})


def synthetic_targets(truth: dict, seed: int) -> pd.DataFrame:
    """Moments the model itself produces with known trends (on another seed than the fit's)."""
    targets = observed_targets(PLACES)
    problem = _Problem(base(), PLACES, targets, Settings(**{**SMALL.__dict__, "seed": seed}), None, None)
    x = np.array([truth[c][p] for p in ("income_trend", "neet_trend") for c in PLACES])
    return targets.assign(observed=problem.simulate(x, targets))


def test_the_replay_discontinues_no_stream_where_the_siloed_baseline_does():
    # Which streams ended when is not in the replay's data: a random discontinuation would
    # swing every place at once (assumption:replay_streams).
    events = {}
    for name in ("baseline_history", "siloed_baseline"):
        scenario = load_scenario(name).with_overrides({"run.places": ["E06000032"], "run.scale": 0.001, "run.horizon_months": 48})
        model = pfpp_sim.PfppModel(scenario, seed=1)
        model.run()
        events[name] = [text for _, text in model.events if " discontinued " in text]
    assert events["baseline_history"] == []
    assert events["siloed_baseline"], "E55's churn discontinues streams in four years of ten streams"


def test_neet_16_17_annual_basis_is_december_to_february():
    dates = pd.date_range("2020-11-01", periods=5, freq="MS")  # Nov 2020 .. Mar 2021
    assert basis_year(NEET_16_17, dates).tolist() == [-1, 2021, 2021, 2021, -1]
    assert basis_year(FUEL_POVERTY, dates).tolist() == [2020, 2020, 2021, 2021, 2021]


def test_calibration_recovers_known_trends_from_synthetic_data():
    # Identifiability: data made by the model itself with known trends, on another seed than
    # the fit's (so other residents and other draws of the evidence ranges), are fitted back
    # with small standard errors (under 0.01 log points a year for income, 0.05 for NEET),
    # and the truth lies within three of them. The optimiser converges and nothing is flagged.
    targets = synthetic_targets(TRUE, seed=11)
    fitted = calibrate(base(), PLACES, name="synthetic", settings=SMALL, targets=targets, workers=1)
    table = fitted.parameters.set_index(["parameter", "place_code"])
    for code, truth in TRUE.items():
        for parameter, most_se in (("income_trend", 0.01), ("neet_trend", 0.05)):
            value, se = table.loc[(parameter, code), ["value", "se"]]
            assert se < most_se, (parameter, code, se)
            assert abs(value - truth[parameter]) < 3 * se, (parameter, code, value, se, truth[parameter])
    assert fitted.mae()[FUEL_POVERTY] < 0.005
    assert fitted.fit.warnings == []


def test_holdout_compares_the_model_with_persistence_on_the_last_year():
    fitted = calibrate(
        base(), ["E06000032"], name="holdout", settings=Settings(**{**SMALL.__dict__, "max_iterations": 3}),
        holdout_last_year=True, workers=1,
    )
    assert fitted.holdout_evaluations > 0, "the held-out fit's evaluations are counted on their own"
    assert 0 < fitted.holdout_seconds < fitted.seconds
    summary = fitted.holdout.set_index("metric")
    observed = observed_targets(["E06000032"]).set_index(["metric", "year"])["observed"]
    for metric, years in SERIES.items():
        row = summary.loc[metric]
        assert row.held_out_year == years[-1]
        assert row.persistence_mae == pytest.approx(abs(observed[(metric, years[-1])] - observed[(metric, years[-2])]))
        assert row.better == ("model" if row.model_mae < row.persistence_mae else "persistence")
        assert np.isnan(row.change_correlation), "one place: no correlation over places"
    held = fitted.holdout_table.set_index("metric")
    assert not held.used.any()
    assert not [c for c in held if c.startswith("replicate_")], "each replicate's values feed the interval, not the table"
    for metric in SERIES:
        row = held.loc[metric]
        # The interval is centred on the forecast and holds the observation exactly when inside_90 says so.
        assert row.forecast == pytest.approx(row.last_observed + row.simulated - row.last_simulated)
        assert row.forecast_sd > 0 and row.high_90 - row.forecast == pytest.approx(row.forecast - row.low_90)
        assert row.inside_90 == (row.low_90 <= row.observed <= row.high_90)
        assert summary.loc[metric].coverage_90 == float(row.inside_90)



def test_baseline_history_reports_official_annual_bases_per_place():
    scenario = load_scenario("baseline_history").with_overrides({"run.places": ["E06000032"], "run.horizon_months": 36})
    result = pfpp_sim.run(scenario, seed=1, replicates=1, executor="serial")
    annual = result.annual.set_index(["metric", "year"])["value"]
    monthly = result.monthly.pivot_table(index="date", columns="metric", values="value", observed=True)
    assert annual[(FUEL_POVERTY, 2020)] == pytest.approx(monthly.loc["2020", FUEL_POVERTY].mean())
    winter = monthly.loc["2020-12-01":"2021-02-01", NEET_16_17]
    assert len(winter) == 3 and annual[(NEET_16_17, 2021)] == pytest.approx(winter.mean())
    assert set(result.annual.columns) >= {"place_code", "year", "metric", "value"}


def test_the_trend_error_a_predicted_change_owes_is_the_last_fitted_years_change_of_slope_times_the_standard_error():
    from types import SimpleNamespace

    from pfpp_sim.calibration.fit import _trend_change_sd

    targets = pd.DataFrame(
        [("A", FUEL_POVERTY, 2019, 0.1, 0.005), ("A", FUEL_POVERTY, 2021, 0.1, 0.005), ("A", FUEL_POVERTY, 2020, 0.1, 0.005),
         ("A", NEET_16_17, 2021, 0.05, 0.002)],
        columns=["place_code", "metric", "year", "observed", "sd"],
    )
    # Columns: income_trend of B (which has no moment), income_trend of A, neet_trend of A, a
    # global; jac is d residual / d scaled parameter, one row per moment as listed.
    jac = np.array([[0.0, -7.0, 0.0, 0.3], [0.0, -3.5, 0.0, 0.3], [0.0, -2.0, 0.0, 0.3], [0.0, 0.0, 4.0, 0.1]])
    problem = SimpleNamespace(
        targets=targets, names=[("income_trend", "B"), ("income_trend", "A"), ("neet_trend", "A"), ("world.young_people.neet_scarring", None)],
        result=SimpleNamespace(jac=jac), step=np.array([0.01, 0.01, 0.05, 0.1]),
    )
    sd = _trend_change_sd(problem, np.array([0.03, 0.02, 0.1, 0.05]))
    assert sd[("A", FUEL_POVERTY)] == pytest.approx((3.5 - 2.0) * 0.005 / 0.01 * 0.02)  # 2021's slope less 2020's, by year
    assert sd[("A", NEET_16_17)] == pytest.approx(4.0 * 0.002 / 0.05 * 0.1)  # a single year: its own slope
    assert len(sd) == 2
    # A trend without a standard error adds no trend error; the others keep theirs.
    assert _trend_change_sd(problem, np.array([0.03, np.nan, 0.1, 0.05])).index.tolist() == [("A", NEET_16_17)]


def test_a_fit_that_no_step_could_improve_on_counts_as_converged_one_stopped_early_does_not():
    from types import SimpleNamespace

    from pfpp_sim.calibration.fit import STALLED_TRIALS, _converged

    assert _converged(SimpleNamespace(success=True, njev=3, nfev=4))
    assert _converged(SimpleNamespace(success=False, njev=1, nfev=1 + STALLED_TRIALS))  # every trial rejected
    assert not _converged(SimpleNamespace(success=False, njev=1, nfev=STALLED_TRIALS))
    assert not _converged(SimpleNamespace(success=False, njev=2, nfev=12))  # it moved, then ran out of steps


def fake_problem(residuals, jacobian):
    from types import SimpleNamespace

    return SimpleNamespace(
        names=[("g", None)], bounds=(np.array([-10.0]), np.array([10.0])), settings=SimpleNamespace(max_iterations=12),
        values=lambda theta: theta, step=np.array([1.0]), residuals=residuals, jacobian=jacobian, message="", result=None,
        targets=pd.DataFrame({"metric": ["m"]}),
    )


def test_a_fit_whose_every_trial_step_is_rejected_stops_at_its_start_after_the_stalled_trials():
    from pfpp_sim.calibration.fit import STALLED_TRIALS, _converged, _fit

    calls = []
    # The Jacobian points the wrong way, as a noisy one at an optimum may: every step does worse.
    problem = fake_problem(lambda theta: calls.append(float(theta[0])) or theta + 1.0, lambda theta: -np.ones((1, theta.size)))
    values, _, objective = _fit(problem)
    assert values.tolist() == [0.0] and objective == 1.0
    assert problem.result.nfev == 1 + STALLED_TRIALS == len(calls) and problem.result.njev == 1
    assert _converged(problem.result)
    assert "No trial step improved on the start in 5 trials" in problem.message


def test_a_fit_that_moves_is_not_stopped_by_the_stall_rule():
    from pfpp_sim.calibration.fit import _converged, _fit

    problem = fake_problem(lambda theta: 3.0 * (theta - 2.0), lambda theta: 3.0 * np.ones((1, theta.size)))
    values, _, objective = _fit(problem)
    assert values[0] == pytest.approx(2.0) and objective == pytest.approx(0.0, abs=1e-12)
    assert problem.result.njev > 1 and _converged(problem.result)


PARAMETER_OF = {FUEL_POVERTY: "income_trend", NEET_16_17: "neet_trend"}
EVALUATED = []  # (problem, parameter values, months, damping) of each evaluation of linear_replicates


def linear_replicates(self, x, targets, months=None, damping=None):
    """A model that is a known linear map of each place's trend, with two replicates that differ: no model runs."""
    self.evaluations += 1
    EVALUATED.append((self, x.copy(), months, damping))
    if self.progress:
        self.progress(self.evaluations)
    column = {name: i for i, name in enumerate(self.names)}
    trend = np.array([x[column[(PARAMETER_OF[m], c)]] for c, m in zip(targets.place_code, targets.metric)])
    years = targets.year.to_numpy() - 2020
    simulated = targets.observed.to_numpy() + 0.1 * (trend - 0.02) * years
    return np.stack([simulated + r * 1e-4 * years for r in range(self.settings.replicates)])


def published_moments(codes: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    rows = [(c, m, y, 0.05 + 0.01 * rng.random(), 0.005) for m, years in SERIES.items() for y in years for c in codes]
    return pd.DataFrame(rows, columns=["place_code", "metric", "year", "observed", "sd"])


def test_the_held_out_fit_starts_cold_without_each_series_last_year_and_scores_with_all_published_years(monkeypatch):
    from pfpp_sim.calibration import fit

    monkeypatch.setattr(fit._Problem, "simulate_replicates", linear_replicates)
    EVALUATED.clear()
    codes = ["E06000032", "E08000024", "E07000062"]
    targets = published_moments(codes)
    asked, made, damping = [], [], load_scenario("baseline_forecast").world.trend_damping

    def problem_for(moments, cold=False):
        asked.append((sorted(set(zip(moments.metric, moments.year))), cold))
        made.append(fit._Problem(load_scenario("baseline_history"), codes, moments, Settings(replicates=2, fit_globals=()), None, None, cold=cold))
        return made[-1]

    intervals, with_intervals = [], fit.with_intervals
    monkeypatch.setattr(fit, "with_intervals", lambda *args: intervals.append(args) or with_intervals(*args))
    scores, table, evaluations = fit._holdout(problem_for, targets, damping)
    assert asked == [([(FUEL_POVERTY, 2019), (FUEL_POVERTY, 2020), *((NEET_16_17, y) for y in (2021, 2022, 2023))], True)]
    assert evaluations == made[0].evaluations > 1 and table.year.tolist() == [2021] * 3 + [2024] * 3
    calls = [(months, damping) for problem, _, months, damping in EVALUATED if problem is made[0]]
    assert calls[-1] == (fit._months("2019-01", targets), damping), "the held-out year forecast with the forecast's damping"
    assert {d for _, d in calls[:-1]} == {None}, "the fit itself replays the data years undamped"
    assert not [c for c in table if c.startswith("replicate_")]
    ((held, in_sample, _, monte_carlo),) = intervals
    assert in_sample.year.tolist() == targets[targets.year < targets.groupby("metric").year.transform("max")].year.tolist()
    # The replicates reach the interval: their changes into the held-out year differ by 1e-4.
    assert monte_carlo.to_dict() == pytest.approx({FUEL_POVERTY: 1e-4 / 2, NEET_16_17: 1e-4 / 2})
    assert np.isfinite(scores.set_index("metric").at[NEET_16_17, "change_correlation"]), "NEET's four published years, three changes"


def test_calibrate_opens_workers_for_its_replicates_unless_one_process_would_do(monkeypatch):
    from pfpp_sim.calibration import fit

    monkeypatch.setattr(fit._Problem, "simulate_replicates", linear_replicates)
    monkeypatch.setattr(fit.os, "cpu_count", lambda: 8)
    opened = []
    monkeypatch.setattr(fit, "open_executor", lambda *args: opened.append(args) or (None, lambda: opened.append("closed")))
    settings, targets = Settings(replicates=2, max_iterations=2, fit_globals=()), published_moments(PLACES)
    calibrated = calibrate(base(), PLACES, name="x", settings=settings, targets=targets)
    assert opened == [("processes", 2, None), "closed"], "one worker a replicate, at most one a core"
    assert calibrated.holdout is None and calibrated.holdout_evaluations == 0
    opened.clear()
    calibrate(base(), PLACES, name="x", settings=settings, targets=targets, workers=1)
    calibrate(base(), PLACES, name="x", settings=settings, targets=targets, executor="serial")
    assert opened == []
    calibrate(base(), PLACES, name="x", settings=settings, targets=targets, executor="dask", workers=1, scheduler="tcp://host:8786")
    assert opened == [("dask", 1, "tcp://host:8786"), "closed"]
    opened.clear()
    monkeypatch.setattr(fit.os, "cpu_count", lambda: None)
    calibrate(base(), PLACES, name="x", settings=settings, targets=targets)
    assert opened == [], "no core count known: one process"


def test_a_calibration_warm_starts_from_the_bases_fit_its_held_out_fit_from_zero_and_fits_globals_in_their_bounds(monkeypatch):
    from pfpp_sim.calibration import fit

    monkeypatch.setattr(fit._Problem, "simulate_replicates", linear_replicates)
    pool = object()
    monkeypatch.setattr(fit, "open_executor", lambda *_: (pool, lambda: None))
    EVALUATED.clear()
    counted = []
    warm = load_scenario("baseline_history")
    settings = Settings(replicates=2, max_iterations=2, fit_globals=("world.young_people.neet_scarring",))
    calibrated = calibrate(
        warm, PLACES, name="x", settings=settings, targets=published_moments(PLACES), holdout_last_year=True, progress=counted.append,
    )
    problems = list(dict.fromkeys(problem for problem, *_ in EVALUATED))
    assert len(problems) == 2 and all(problem.pool is pool for problem in problems)
    first = {problem: x for problem, x, *_ in reversed(EVALUATED)}  # each problem's first evaluation: its start
    fitted = [getattr(warm.calibration.place(c), p) for p in ("income_trend", "neet_trend") for c in PLACES]
    scarring = warm.world.young_people.neet_scarring.value
    np.testing.assert_allclose(first[problems[0]], [*fitted, scarring])
    np.testing.assert_allclose(first[problems[1]], [0.0] * 4 + [scarring])
    assert EVALUATED[-1][3] == fit.forecast_damping() is not None
    assert counted == [*range(1, problems[0].evaluations + 1), *range(1, problems[1].evaluations + 1)]
    assert calibrated.holdout_evaluations == problems[1].evaluations
    (row,) = calibrated.parameters[calibrated.parameters.place_code.isna()].itertuples()
    assert (row.parameter, row.unit, row.low, row.high) == ("world.young_people.neet_scarring", "fraction/year NEET", 0.0, 0.9)
    assert calibrated.fit.globals["world.young_people.neet_scarring"].unit == "fraction/year NEET"
    assert set(calibrated.fit.places) == set(PLACES) and set(calibrated.fit.places[PLACES[0]]) == {"income_trend", "neet_trend"}
    assert calibrated.evaluations == problems[0].evaluations and 0 < calibrated.holdout_seconds < calibrated.seconds < 600
    assert calibrated.fit.settings == {
        "start": "2019-01", "scale": 0.01, "replicates": 2, "seed": 1, "min_households_per_place": 2000,
        "min_young_people_per_place": 20000, "base_scenario_hash": warm.scenario_hash(),
    }


def test_standard_errors_are_least_squares_ones_in_parameter_units_and_nan_where_the_data_say_nothing():
    from pfpp_sim.calibration.fit import _standard_errors

    jac = np.array([[1.0, 0.0, 0.2], [0.0, 2.0, 0.1], [1.0, 1.0, 0.0], [0.5, 0.0, 0.3]])  # the third moves little, but moves
    fun = np.array([0.5, -1.0, 0.25, 2.0])
    step = np.array([0.01, 0.05, 0.1])
    s2 = float(fun @ fun) / (4 - 3)
    expected = np.sqrt(np.diag(np.linalg.inv(jac.T @ jac)) * s2) * step
    np.testing.assert_allclose(_standard_errors(jac, fun, step, np.array(["a"] * 4)), expected)
    # A parameter no moment moves has no standard error and spends no degree of freedom.
    square = np.array([[2.0, 0.0], [0.0, 0.0]])
    se = _standard_errors(square, np.array([1.0, 1.0]), np.array([1.0, 1.0]), np.array(["a", "a"]))
    assert se[0] == pytest.approx(np.sqrt(2.0 / 4.0)) and np.isnan(se[1])


def test_each_series_scales_its_parameters_errors_by_its_own_residual_variance():
    from pfpp_sim.calibration.fit import _standard_errors

    # Two series, each with its own parameter: the errors are those of fitting each alone.
    one = np.array([[1.0], [2.0], [1.0]])
    two = np.array([[1.0], [0.5], [3.0], [1.0]])
    jac = np.block([[one, np.zeros((3, 1))], [np.zeros((4, 1)), two]])
    fun = np.array([0.1, -0.2, 0.1, 3.0, -2.0, 1.0, 2.5])
    series = np.array(["fuel"] * 3 + ["neet"] * 4)
    alone = [np.sqrt(fun[:3] @ fun[:3] / 2 / (one.T @ one).item()), np.sqrt(fun[3:] @ fun[3:] / 3 / (two.T @ two).item())]
    np.testing.assert_allclose(_standard_errors(jac, fun, np.ones(2), series), alone)
    # Pooled, the quiet series' parameter would borrow the noisy one's misfit.
    assert _standard_errors(jac, fun, np.ones(2), np.array(["all"] * 7))[0] > 5 * alone[0]
    # A parameter moving both series weighs each moment by its series' variance, and its
    # leverage is shared between them: the degrees of freedom still add up to 7 - 3.
    shared = np.column_stack([jac, [1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0]])
    leverage = np.diag(shared @ np.linalg.inv(shared.T @ shared) @ shared.T)
    variance = np.where(series == "fuel", fun**2 @ (series == "fuel") / (3 - leverage[:3].sum()), fun**2 @ (series == "neet") / (4 - leverage[3:].sum()))
    expected = np.sqrt(np.diag(np.linalg.inv(shared.T @ (shared / variance[:, None]))))
    np.testing.assert_allclose(_standard_errors(shared, fun, np.ones(3), series), expected)
    assert leverage.sum() == pytest.approx(3.0)
    # A series fitted exactly gives its parameter an error of about 0, not a division by 0.
    exact = _standard_errors(jac, np.where(series == "fuel", 0.0, fun), np.ones(2), series)
    assert exact[0] == pytest.approx(0.0, abs=1e-5) and exact[1] == pytest.approx(alone[1])


def test_a_calibration_of_every_district_of_a_county_gives_the_county_their_trends(monkeypatch):
    from pfpp_sim.calibration import fit
    from pfpp_sim.calibration.counties import derived_county_trends

    monkeypatch.setattr(fit._Problem, "simulate_replicates", linear_replicates)
    districts = ["E07000061", "E07000062", "E07000063", "E07000064", "E07000065"]  # East Sussex's
    settings = Settings(replicates=1, max_iterations=2, fit_globals=())
    calibrated = calibrate(base(), districts, name="x", settings=settings, targets=published_moments(districts))
    fitted = calibrated.parameters[calibrated.parameters.place_code.isin(districts)].reset_index(drop=True)
    county, derived = derived_county_trends(fitted)
    assert calibrated.fit.derived_places == derived == {"E10000011": districts}
    pd.testing.assert_frame_equal(calibrated.parameters.iloc[len(fitted):].reset_index(drop=True), county.reset_index(drop=True))
    assert calibrated.parameters.index.tolist() == list(range(len(fitted) + len(county)))
    assert set(calibrated.fit.places["E10000011"]) == {"income_trend", "neet_trend"}


def test_calibrate_fits_the_published_years_through_the_year_asked(monkeypatch):
    from pfpp_sim.calibration import fit

    monkeypatch.setattr(fit._Problem, "simulate_replicates", linear_replicates)
    calibrated = calibrate(base(), PLACES, name="x", settings=Settings(replicates=1, max_iterations=2, fit_globals=()), through=2022)
    assert calibrated.fit.data_through == {FUEL_POVERTY: 2021, NEET_16_17: 2022}
    assert calibrated.table.year.max() == 2022


def test_calibrate_takes_the_executor_contract_of_every_experiment(monkeypatch):
    # An unknown executor is refused before anything runs; "serial" runs every replicate in
    # this process whatever the number of workers, and gives the fit "processes" gives.
    import pfpp_sim.calibration.fit as fit

    targets = synthetic_targets(TRUE, seed=11)
    with pytest.raises(pfpp_sim.PfppError, match="unknown executor 'threads'"):
        calibrate(base(), PLACES, name="x", settings=SMALL, targets=targets, executor="threads")
    settings = Settings(**{**SMALL.__dict__, "replicates": 2, "max_iterations": 2})
    pooled = calibrate(base(), PLACES, name="x", settings=settings, targets=targets, executor="processes", workers=2)
    monkeypatch.setattr(fit, "open_executor", lambda *_: pytest.fail("serial must not start workers"))
    serial = calibrate(base(), PLACES, name="x", settings=settings, targets=targets, executor="serial", workers=2)
    pd.testing.assert_frame_equal(serial.parameters, pooled.parameters)
