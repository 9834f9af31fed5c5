"""The calibration's simulated-method-of-moments problem: candidate scenarios, scaled parameters, residuals, Jacobian.

A fake model stands in for the simulation wherever the arithmetic, not the model, is tested.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from pfpp_sim.calibration import Calibrated, FitFile, Settings, fit
from pfpp_sim.calibration.fit import GLOBALS, _Problem, _scenario, _table, simulate_moments
from pfpp_sim.calibration.fitted import PLACE_PARAMETERS, Estimate
from pfpp_sim.calibration.targets import FUEL_POVERTY, NEET_16_17, SERIES
from pfpp_sim.scenario import load_scenario
from tests.calibration.test_fit import PARAMETER_OF, base

LUTON, SUNDERLAND = "E06000032", "E08000024"
PLACES = [LUTON, SUNDERLAND]
SCARRING = "world.young_people.neet_scarring"
ODDS = "world.young_people.cold_home_odds_ratio"  # evidence with a published range, fitted here as a second global
ODDS_BOUNDS = (1.0, 4.0, 0.25, "odds ratio")


def moments(codes: list[str]) -> pd.DataFrame:
    """Every published moment of each place, each with its own observed value and sd."""
    rows = [(c, m, y) for m, years in SERIES.items() for y in years for c in codes]
    return pd.DataFrame(
        [(c, m, y, 0.05 + 0.001 * k, 0.002 * (1 + k % 3)) for k, (c, m, y) in enumerate(rows)],
        columns=["place_code", "metric", "year", "observed", "sd"],
    )


@pytest.fixture
def two_globals(monkeypatch):
    """Settings fitting the NEET scarring and, as a second global, the cold-home odds ratio."""
    monkeypatch.setitem(GLOBALS, ODDS, ODDS_BOUNDS)
    return Settings(fit_globals=(SCARRING, ODDS))


def linear_model(problem: _Problem, evaluated: list):
    """A fake ``simulate``: each moment moves linearly with its own place's trend and with every global.

    Returns the fake and its exact Jacobian of the residuals in the scaled parameters.
    """
    rows = problem.targets
    column = {name: j for j, name in enumerate(problem.names)}
    own = np.array([column[(PARAMETER_OF[m], c)] for c, m in zip(rows.place_code, rows.metric)])
    shared = np.array([j for j, (_, code) in enumerate(problem.names) if code is None])
    slope = 0.1 * (1 + np.arange(len(rows)))
    global_slope = 0.01 * np.outer(1 + np.arange(len(rows)), 1 + np.arange(len(shared)))

    def simulate(x, targets):
        evaluated.append(x.copy())
        return targets.observed.to_numpy() + slope * x[own] + global_slope @ x[shared]

    jac = np.zeros((len(rows), len(problem.names)))
    jac[np.arange(len(rows)), own] = slope * problem.step[own]
    jac[:, shared] = global_slope * problem.step[shared]
    return simulate, jac / rows.sd.to_numpy()[:, None]


def test_the_last_month_a_target_needs_is_december_for_fuel_poverty_and_february_for_neet():
    fuel = pd.DataFrame({"metric": [FUEL_POVERTY, FUEL_POVERTY], "year": [2020, 2021]})
    neet = pd.DataFrame({"metric": [NEET_16_17], "year": [2022]})
    assert fit._last_month(fuel) == pd.Timestamp("2021-12-01")
    assert fit._last_month(neet) == pd.Timestamp("2022-02-01")
    assert fit._last_month(pd.concat([fuel, neet.assign(year=2021)])) == pd.Timestamp("2021-12-01")
    assert fit._months("2019-01", fuel) == 36 and fit._months("2019-01", neet) == 38


def test_a_candidate_scenario_runs_the_settings_run_not_the_bases():
    other = base().with_overrides({
        "run.start": "2020-03", "run.horizon_months": 7, "run.places": ["E06000001"], "run.scale": 0.002,
        "run.min_households_per_place": 11, "run.min_young_people_per_place": 13,
    })
    settings = Settings(start="2019-04", scale=0.003, min_households_per_place=123, min_young_people_per_place=456)
    places = {LUTON: {"income_trend": 0.01, "neet_trend": -0.1}}
    through = {FUEL_POVERTY: 2021, NEET_16_17: 2023}
    candidate = _scenario(other, PLACES, settings, 30, places, {}, through)
    assert candidate.run.model_dump() == {
        "start": "2019-04", "horizon_months": 30, "places": PLACES, "scale": 0.003,
        "min_households_per_place": 123, "min_young_people_per_place": 456,
    }
    calibration = candidate.calibration
    assert (calibration.name, calibration.fitted_on, calibration.data_through) == ("candidate", dt.date.today().isoformat(), through)
    assert calibration.place(LUTON).model_dump() == places[LUTON]
    assert candidate.world.trend_damping is None, "no damping given: the base's (none)"


def test_a_fitted_global_becomes_a_point_value_at_its_path(two_globals):
    candidate = _scenario(base(), PLACES, two_globals, 12, {}, {SCARRING: np.float64(0.42), ODDS: np.float64(2.5)}, {})
    young = candidate.world.young_people
    assert base().world.young_people.cold_home_odds_ratio.low is not None, "the base's evidence has a range"
    assert young.neet_scarring.model_dump() == {"value": 0.42, "unit": "fraction/year NEET", "source": "calibrated:england", "low": None, "high": None}
    assert young.cold_home_odds_ratio.model_dump() == {"value": 2.5, "unit": "odds ratio", "source": "E50", "low": None, "high": None}


def test_a_problems_candidate_reads_x_parameter_by_parameter_over_the_places_then_the_globals(two_globals):
    problem = _Problem(base(), PLACES, moments(PLACES), two_globals, None, None)
    assert problem.names == [
        ("income_trend", LUTON), ("income_trend", SUNDERLAND), ("neet_trend", LUTON), ("neet_trend", SUNDERLAND),
        (SCARRING, None), (ODDS, None),
    ]
    x = np.array([0.01, -0.02, 0.1, -0.2, 0.3, 2.5])
    damping = fit.forecast_damping()
    candidate = problem.scenario(x, damping=damping)
    assert {c: p.model_dump() for c, p in candidate.calibration.places.items()} == {
        LUTON: {"income_trend": 0.01, "neet_trend": 0.1}, SUNDERLAND: {"income_trend": -0.02, "neet_trend": -0.2},
    }
    young = candidate.world.young_people
    assert (young.neet_scarring.value, young.cold_home_odds_ratio.value) == (0.3, 2.5)
    assert candidate.calibration.data_through == problem.data_through == {FUEL_POVERTY: 2021, NEET_16_17: 2024}
    assert candidate.world.trend_damping == damping is not None
    assert candidate.run.horizon_months == problem.months == 62, "January 2019 through February 2024"
    assert problem.scenario(x, months=5).run.horizon_months == 5
    assert problem.scenario(x).world.trend_damping is None


def test_a_problem_starts_from_the_bases_fitted_trends_unless_cold_or_unfitted(two_globals):
    warm, targets = load_scenario("baseline_history"), moments(PLACES)
    fitted = [getattr(warm.calibration.place(c), p) for p in PLACE_PARAMETERS for c in PLACES]
    globals_ = [warm.world.young_people.neet_scarring.value, warm.world.young_people.cold_home_odds_ratio.value]
    problem = _Problem(warm, PLACES, targets, two_globals, None, None)
    assert problem.start.tolist() == [*fitted, *globals_] and 0.0 not in fitted
    assert _Problem(warm, PLACES, targets, two_globals, None, None, cold=True).start.tolist() == [0.0] * 4 + globals_
    assert _Problem(base(), PLACES, targets, two_globals, None, None).start.tolist() == [0.0] * 4 + globals_
    assert (problem.evaluations, problem.message, problem.result) == (0, "", None)


def test_the_scaled_parameters_are_steps_from_the_start_within_the_parameters_bounds(two_globals):
    problem = _Problem(load_scenario("baseline_history"), PLACES, moments(PLACES), two_globals, None, None)
    low, high = [-0.2, -0.2, -0.5, -0.5, 0.0, 1.0], [0.2, 0.2, 0.5, 0.5, 0.9, 4.0]  # PLACE_BOUNDS, GLOBALS
    np.testing.assert_array_equal(problem.step, [0.01, 0.01, 0.05, 0.05, 0.1, 0.25])
    np.testing.assert_allclose(problem.start + problem.step * problem.bounds[0], low, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(problem.start + problem.step * problem.bounds[1], high, rtol=1e-12)
    theta = np.array([1.0, -2.0, 3.0, 0.0, 1.5, -2.0])
    np.testing.assert_allclose(problem.values(theta), problem.start + problem.step * theta, rtol=1e-12)
    np.testing.assert_allclose(problem.values(np.array([1e3, -1e3, 1e3, -1e3, 1e3, -1e3])), [0.2, -0.2, 0.5, -0.5, 0.9, 1.0])


def test_simulate_replicates_runs_every_replicate_of_the_candidate_and_reads_each_targets_rate(monkeypatch):
    runs = []

    def fake_moments(scenario, seed, replicate, metrics):
        runs.append((scenario, seed, replicate, metrics))
        years = range(2015, 2026)
        return {m: pd.DataFrame({c: [10 * replicate + 0.1 * k + y / 1e4 for y in years] for k, c in enumerate(PLACES)}, index=years)
                for m in metrics}

    monkeypatch.setattr(fit, "simulate_moments", fake_moments)
    counted, targets = [], moments(PLACES)
    problem = _Problem(base(), PLACES, targets, Settings(replicates=3, seed=7, fit_globals=()), None, counted.append)
    damping = fit.forecast_damping()
    out = problem.simulate_replicates(problem.start, targets, 20, damping)
    assert [(seed, r, m) for _, seed, r, m in runs] == [(7, r, (FUEL_POVERTY, NEET_16_17)) for r in range(3)]
    assert {(s.run.horizon_months, s.world.trend_damping) for s, *_ in runs} == {(20, damping)}
    place = targets.place_code.map({LUTON: 0.0, SUNDERLAND: 0.1}).to_numpy()
    np.testing.assert_allclose(out, [10 * r + place + targets.year.to_numpy() / 1e4 for r in range(3)])
    runs.clear()
    np.testing.assert_allclose(problem.simulate(problem.start, targets, 9, damping), out.mean(axis=0))
    assert {(s.run.horizon_months, s.world.trend_damping) for s, *_ in runs} == {(9, damping)}
    assert problem.evaluations == 2 and counted == [1, 2], "one evaluation per call, whatever the replicates"


def test_simulate_moments_gives_each_metrics_annual_rates_without_the_months_outside_its_basis():
    scenario = base().with_overrides({
        "run.places": [LUTON], "run.scale": 0.001, "run.horizon_months": 15,  # January 2019 to March 2020
        "run.min_households_per_place": 200, "run.min_young_people_per_place": 500,
    })
    first, second = (simulate_moments(scenario, 1, r, (FUEL_POVERTY, NEET_16_17)) for r in (0, 1))
    for metric in (FUEL_POVERTY, NEET_16_17):
        assert first[metric].index.tolist() == [2019, 2020], metric
        assert first[metric].columns.tolist() == [LUTON]
    assert not first[FUEL_POVERTY].equals(second[FUEL_POVERTY]), "each replicate has its own random streams"


def test_residuals_are_the_simulated_less_the_observed_moments_in_standard_deviations():
    targets = moments(PLACES)
    problem = _Problem(base(), PLACES, targets, Settings(fit_globals=()), None, None)
    asked = []

    def simulate(x, rows):
        asked.append((x.tolist(), rows))
        return rows.observed.to_numpy() + 0.001 * np.arange(len(rows))

    problem.simulate = simulate
    theta = np.array([1.0, 2.0, -1.0, 0.5])
    np.testing.assert_allclose(problem.residuals(theta), 0.001 * np.arange(len(targets)) / targets.sd.to_numpy())
    assert asked == [(problem.values(theta).tolist(), targets)]


def test_the_jacobian_moves_all_places_trends_in_one_run_and_each_global_in_its_own(two_globals):
    problem = _Problem(load_scenario("baseline_history"), PLACES, moments(PLACES), two_globals, None, None)
    evaluated = []
    problem.simulate, expected = linear_model(problem, evaluated)
    theta = np.array([1.0, -1.0, 2.0, 0.5, 0.0, 1.0])
    np.testing.assert_allclose(problem.jacobian(theta), expected, rtol=1e-6)
    assert not expected[~problem.pattern].any(), "a trend moves only its own place's series"
    moved = [np.r_[1.0, 1.0, 1.0, 1.0, 0.0, 0.0], np.r_[0.0, 0.0, 0.0, 0.0, 1.0, 0.0], np.r_[0.0, 0.0, 0.0, 0.0, 0.0, 1.0]]
    np.testing.assert_allclose(evaluated, [problem.values(theta + step) for step in [np.zeros(6), *moved]], rtol=1e-12)


def test_the_jacobian_steps_back_from_the_upper_bound_but_forward_onto_it(two_globals):
    problem = _Problem(base(), PLACES, moments(PLACES), two_globals, None, None)
    evaluated = []
    problem.simulate, expected = linear_model(problem, evaluated)
    on_bound, one_below = problem.bounds[1].copy(), problem.bounds[1] - 1.0
    assert (one_below + 1.0 == problem.bounds[1]).all(), "a forward step would end exactly on the bound"
    for theta, step in ((on_bound, -1.0), (one_below, 1.0)):
        evaluated.clear()
        np.testing.assert_allclose(problem.jacobian(theta), expected, rtol=1e-6)
        np.testing.assert_allclose(
            evaluated[1], problem.values(theta + step * np.r_[1.0, 1.0, 1.0, 1.0, 0.0, 0.0]), rtol=1e-12, err_msg=str(step),
        )
        assert len(evaluated) == 4


def test_a_problem_without_places_still_differences_its_globals():
    targets = moments(PLACES)
    problem = _Problem(base(), [], targets, Settings(fit_globals=(SCARRING,)), None, None)
    slope, evaluated = 0.01 * (1 + np.arange(len(targets))), []

    def simulate(x, asked):
        evaluated.append(x.copy())
        return asked.observed.to_numpy() + slope * x[0]

    problem.simulate = simulate
    np.testing.assert_allclose(problem.jacobian(np.zeros(1)), (slope * 0.1 / targets.sd.to_numpy())[:, None], rtol=1e-6)
    assert len(evaluated) == 2


def test_a_table_holds_each_replicates_values_only_when_asked(monkeypatch):
    seen = []
    runs = np.array([[0.1, 0.2, 0.3], [0.3, 0.4, 0.5]])

    def fake_replicates(self, x, rows, months=None, damping=None):
        seen.append((self, x.tolist(), rows, months, damping))
        return runs

    monkeypatch.setattr(fit._Problem, "simulate_replicates", fake_replicates)
    targets = moments([LUTON]).iloc[[0, 2, 5]].reset_index(drop=True)  # fuel poverty 2019 and 2021, NEET 2023
    problem = _Problem(base(), [LUTON], targets, Settings(fit_globals=()), None, None)
    used, damping = pd.Series([True, False, True]), fit.forecast_damping()
    table = _table(problem, problem.start, targets, used, damping)
    assert table.columns.tolist() == [*targets.columns, "simulated", "used"]
    np.testing.assert_allclose(table.simulated, [0.2, 0.3, 0.4])
    assert table.used.tolist() == [True, False, True]
    with_runs = _table(problem, problem.start, targets, used, damping, replicates=True)
    np.testing.assert_array_equal(with_runs[["replicate_0", "replicate_1"]].to_numpy().T, runs)
    assert seen == [(problem, problem.start.tolist(), targets, 50, damping)] * 2, "January 2019 through February 2023"


def test_an_estimate_keeps_its_unit_and_has_no_standard_error_where_none_was_found():
    row = SimpleNamespace(value=0.03, se=0.01, unit="log points/year")
    assert fit._estimate(row) == Estimate(value=0.03, se=0.01, unit="log points/year")
    assert fit._estimate(SimpleNamespace(value=0.03, se=np.nan, unit="log points/year")) == Estimate(value=0.03, unit="log points/year")


def test_missing_moments_leaves_out_the_counties_given_their_districts_trends():
    county, districts = "E10000011", ["E07000061", "E07000062"]  # East Sussex; Eastbourne, Hastings
    table = moments(districts)
    table = table[~((table.place_code == districts[1]) & (table.year == 2024))]
    parameters = pd.DataFrame({"parameter": ["income_trend"] * 3 + [SCARRING], "place_code": [*districts, county, None]})
    calibrated = Calibrated(
        fit=FitFile(name="x", fitted_on="2025-01-01", data_through={}, objective=0.0, moments=len(table), derived_places={county: districts}),
        table=table, parameters=parameters, evaluations=0, seconds=0.0, message="",
    )
    assert calibrated.missing_moments() == {districts[1]: [f"{NEET_16_17} 2024"]}
