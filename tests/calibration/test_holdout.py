"""Scoring a held-out year: hand-computed errors, rank correlations and the pooled AR(1)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfpp_sim.calibration.holdout import (
    Z90,
    change_correlation,
    change_spread,
    change_weight,
    common_change_spread,
    monte_carlo_change_sd,
    pooled_ar1,
    score,
    with_forecasts,
    with_intervals,
)

M = "neet_16_17_rate"


def series(values: dict[str, list[float]], first_year: int = 2021) -> pd.DataFrame:
    return pd.DataFrame(
        [(code, M, first_year + i, v) for code, vs in values.items() for i, v in enumerate(vs)],
        columns=["place_code", "metric", "year", "observed"],
    )


def test_the_pooled_ar1_recovers_a_line_every_place_follows():
    # y[t+1] = 0.01 + 0.5 y[t] exactly, from different starting points.
    values = {}
    for code, y in (("A", 0.02), ("B", 0.06), ("C", 0.10)):
        path = [y]
        for _ in range(3):
            path.append(0.01 + 0.5 * path[-1])
        values[code] = path
    a, b = pooled_ar1(series(values))
    assert a == pytest.approx(0.01)
    assert b == pytest.approx(0.5)
    # A place with a year unpublished adds only the pairs it has both years of.
    gappy = series({**values, "D": [0.2, np.nan, 0.065, 0.0425]})  # on the line, 2022 missing
    assert pooled_ar1(gappy) == pytest.approx((0.01, 0.5))


def test_too_few_pairs_for_an_ar1_fall_back_to_persistence():
    assert pooled_ar1(series({"A": [0.05], "B": [0.07]})) == (0.0, 1.0)  # one year: no pair at all
    assert pooled_ar1(series({"A": [0.05, 0.06]})) == (0.0, 1.0)
    assert pooled_ar1(series({"A": [0.05, 0.06], "B": [0.05, 0.07], "C": [0.05, 0.02]})) == (0.0, 1.0)  # x does not vary


def fit_table(observed: pd.DataFrame, simulated: dict[str, list[float]]) -> pd.DataFrame:
    """A held-out fit's table: every year observed and simulated, the last year not used."""
    sim = series(simulated, first_year=int(observed.year.min())).rename(columns={"observed": "simulated"})
    table = observed.merge(sim, on=["place_code", "metric", "year"])
    return table.assign(used=table.year < table.year.max())


OBSERVED = {"A": [0.04, 0.05, 0.06], "B": [0.08, 0.07, 0.09], "C": [0.02, 0.03, 0.01]}


def test_forecasts_of_the_held_out_year_computed_by_hand():
    observed = series(OBSERVED)
    # Simulated changes into 2023: +0.005, +0.002, -0.005; levels off from the observed ones.
    table = fit_table(observed, {"A": [0.04, 0.05, 0.055], "B": [0.07, 0.07, 0.072], "C": [0.03, 0.03, 0.025]})
    out = with_forecasts(table)
    assert list(out) == [*table, "last_observed", "last_simulated", "change_weight", "forecast", "persistence", "ar1"]
    a, b = np.polyfit([0.04, 0.08, 0.02], [0.05, 0.07, 0.03], 1)[::-1]  # the only in-sample pairs: 2021 -> 2022
    assert out.last_observed.tolist() == [0.05, 0.07, 0.03]
    assert out.persistence.tolist() == [0.05, 0.07, 0.03]
    np.testing.assert_allclose(out.last_simulated, [0.05, 0.07, 0.03])
    np.testing.assert_allclose(out.forecast, [0.055, 0.072, 0.025])  # last observed + simulated change
    np.testing.assert_allclose(out.ar1, a + b * np.array([0.05, 0.07, 0.03]))
    row = score(out).iloc[0]
    assert list(row.index) == [
        "metric", "held_out_year", "places", "model_mae", "model_level_mae", "persistence_mae", "ar1_mae",
        "same_change_floor_mae", "model_rank_correlation", "ar1_rank_correlation", "change_weight", "coverage_90",
        "change_correlation", "better", "best",
    ]
    assert row.metric == M and row.held_out_year == 2023 and row.places == 3
    assert row.change_weight == 1.0 and np.isnan(row.coverage_90) and np.isnan(row.change_correlation)
    assert row.model_mae == pytest.approx((0.005 + 0.018 + 0.015) / 3)
    assert row.model_level_mae == pytest.approx((0.005 + 0.018 + 0.015) / 3)  # here the levels match the last year
    assert row.persistence_mae == pytest.approx((0.01 + 0.02 + 0.02) / 3)
    assert row.ar1_mae == pytest.approx(np.mean(np.abs(out.ar1 - [0.06, 0.09, 0.01])))
    # Observed changes +0.01, +0.02, -0.02: their median +0.01 leaves 0, 0.01 and 0.03.
    assert row.same_change_floor_mae == pytest.approx((0.0 + 0.01 + 0.03) / 3)
    # Predicted changes +0.005, +0.002, -0.005 against observed +0.01, +0.02, -0.02: ranks 3,2,1 vs 2,3,1.
    assert row.model_rank_correlation == pytest.approx(0.5)
    assert row.better == "model"


def test_the_forecast_starts_from_the_last_observed_value_not_the_simulated_level():
    # The model is 0.02 too high at every level, but its change is right: the forecast is exact.
    observed = series(OBSERVED)
    table = fit_table(observed, {c: [v + 0.02 for v in vs] for c, vs in OBSERVED.items()})
    row = score(with_forecasts(table)).iloc[0]
    assert row.model_mae == pytest.approx(0.0, abs=1e-12)
    assert row.model_level_mae == pytest.approx(0.02)
    assert row.model_rank_correlation == pytest.approx(1.0)
    assert row.better == "model" and row.best == "model"


def test_a_model_worse_than_persistence_is_named_so_and_the_best_forecast_named():
    observed = series({"A": [0.04, 0.05, 0.05], "B": [0.08, 0.07, 0.07], "C": [0.02, 0.03, 0.03], "D": [0.05, 0.05, 0.05]})
    table = fit_table(observed, {"A": [0.04, 0.05, 0.06], "B": [0.08, 0.07, 0.08], "C": [0.02, 0.03, 0.04], "D": [0.05] * 3})
    row = score(with_forecasts(table)).iloc[0]
    assert row.persistence_mae == 0.0 and row.model_mae == pytest.approx(0.0075)
    assert row.better == "persistence" and row.best == "persistence"


def test_a_model_exactly_as_good_as_persistence_is_not_called_better():
    observed = series(OBSERVED)
    held = with_forecasts(fit_table(observed, OBSERVED))
    row = score(held.assign(forecast=held.persistence)).iloc[0]
    assert row.model_mae == row.persistence_mae and row.better == "persistence"


def test_scores_keep_the_series_in_the_order_of_the_held_out_table_with_each_ones_change_correlation():
    observed = pd.concat([series(OBSERVED), series(OBSERVED).assign(metric="fuel_poverty_rate")], ignore_index=True)
    one = fit_table(series(OBSERVED), OBSERVED)
    table = pd.concat([one, one.assign(metric="fuel_poverty_rate")], ignore_index=True)  # NEET first, then fuel poverty
    scores = score(with_forecasts(table), observed)
    assert scores.metric.tolist() == [M, "fuel_poverty_rate"]
    # Changes (+0.01, -0.01, +0.01) then (+0.01, +0.02, -0.02): one correlation, the same for both series.
    expected = np.corrcoef([0.01, -0.01, 0.01], [0.01, 0.02, -0.02])[0, 1]
    np.testing.assert_allclose(scores.change_correlation, [expected, expected])


@pytest.mark.parametrize(
    ("predicted", "observed", "expected"),
    [
        ([0.01, 0.02], [0.01, 0.02], np.nan),  # two places are too few to rank
        ([0.01, 0.01, 0.02], [0.01, 0.02, 0.03], stats_spearman := 0.8660254037844387),  # two distinct predictions rank
        ([0.01, 0.02, 0.03], [0.01, 0.01, 0.02], stats_spearman),  # two distinct observations rank
        ([0.01, 0.02, 0.03, np.nan], [0.01, 0.02, np.nan, 0.03], np.nan),  # only places with both count: two here
        ([0.01, 0.02, 0.03, 0.04], [0.01, 0.02, 0.03, np.nan], 1.0),  # three with both: ranked without the fourth
        ([0.01, 0.01, 0.01], [0.01, 0.02, 0.03], np.nan),  # one prediction for all: nothing told apart
    ],
)
def test_the_rank_correlation_of_changes_needs_three_places_with_both_and_two_distinct_values_of_each(predicted, observed, expected):
    n = len(predicted)
    held = pd.DataFrame({
        "place_code": [f"P{i}" for i in range(n)], "metric": M, "year": 2023, "observed": 0.1 + np.array(observed),
        "last_observed": 0.1, "forecast": 0.1 + np.array(predicted), "simulated": 0.1, "persistence": 0.1, "ar1": 0.1,
        "change_weight": 1.0,
    })
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # never ranks a constant (scipy would warn)
        row = score(held).iloc[0]
    np.testing.assert_allclose(row.model_rank_correlation, expected)


def test_places_without_a_last_observed_value_are_left_out_of_the_scores():
    observed = series({"A": [0.04, 0.05, 0.06], "B": [0.08, 0.07, 0.09]})
    observed = pd.concat([observed, series({"C": [0.03]}, first_year=2023)], ignore_index=True)
    simulated = series({"A": [0.04, 0.05, 0.06], "B": [0.08, 0.07, 0.09]})
    simulated = pd.concat([simulated, series({"C": [0.5]}, first_year=2023)], ignore_index=True)
    table = observed.assign(simulated=simulated.observed, used=observed.year < 2023)
    out = with_forecasts(table)
    assert np.isnan(out.set_index("place_code").at["C", "forecast"])
    row = score(out).iloc[0]
    assert row.places == 2 and row.model_mae == 0.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.0, 0.3), min_size=3, max_size=3), st.lists(st.floats(0.0, 0.3), min_size=3, max_size=3))
def test_swapping_model_and_ar1_forecasts_swaps_their_scores(model, ar1):
    held = with_forecasts(fit_table(series(OBSERVED), OBSERVED)).assign(forecast=model, ar1=ar1)
    swapped = held.assign(forecast=held.ar1, ar1=held.forecast)
    a, b = score(held).iloc[0], score(swapped).iloc[0]
    assert a.model_mae == pytest.approx(b.ar1_mae) and a.ar1_mae == pytest.approx(b.model_mae)
    np.testing.assert_equal([a.model_rank_correlation, a.ar1_rank_correlation], [b.ar1_rank_correlation, b.model_rank_correlation])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-0.05, 0.05), min_size=3, max_size=8), st.floats(-0.05, 0.05))
def test_no_forecast_of_one_change_for_every_place_beats_the_same_change_floor(changes, shift):
    last = [0.1 + 0.01 * i for i in range(len(changes))]
    observed = series({f"P{i}": [y, y + c] for i, (y, c) in enumerate(zip(last, changes))})
    held = with_forecasts(fit_table(observed, {f"P{i}": [y, y] for i, y in enumerate(last)}))
    held = held.assign(forecast=held.last_observed + shift)
    row = score(held).iloc[0]
    assert row.same_change_floor_mae <= min(row.persistence_mae, row.model_mae) + 1e-12


def test_the_change_spread_is_the_root_mean_square_of_each_years_changes_about_their_mean():
    observed = series({"A": [0.04, 0.05, 0.06], "B": [0.08, 0.07, 0.09]})
    # 2021 -> 2022: +0.01, -0.01 (mean 0); 2022 -> 2023: +0.01, +0.02 (mean 0.015).
    spread = change_spread(observed)
    assert spread[M] == pytest.approx(np.sqrt(np.mean(np.square([0.01, -0.01, -0.005, 0.005]))))
    assert change_spread(series({"A": [0.04], "B": [0.08]})).empty  # no pair of years


def test_the_common_change_spread_is_the_root_mean_square_of_each_years_mean_change():
    observed = series({"A": [0.04, 0.05, 0.06], "B": [0.08, 0.07, 0.09]})
    # Mean changes: 2021 -> 2022 is 0, 2022 -> 2023 is 0.015.
    assert common_change_spread(observed)[M] == pytest.approx(np.sqrt((0.0**2 + 0.015**2) / 2))
    assert common_change_spread(series({"A": [0.04], "B": [0.08]})).empty


def test_the_change_correlation_is_positive_when_places_keep_moving_and_negative_when_they_move_back():
    trending = series({"A": [0.04, 0.05, 0.06, 0.07], "B": [0.08, 0.07, 0.06, 0.05], "C": [0.05, 0.05, 0.05, 0.05]})
    assert change_correlation(trending)[M] == pytest.approx(1.0)
    # By hand: changes (+0.01, -0.01, 0) then (-0.01, +0.01, 0): correlation -1, then back again.
    noisy = series({"A": [0.04, 0.05, 0.04, 0.05], "B": [0.08, 0.07, 0.08, 0.07], "C": [0.05, 0.05, 0.05, 0.05]})
    assert change_correlation(noisy)[M] == pytest.approx(-1.0)
    mixed = series({"A": [0.04, 0.05, 0.06, 0.05], "B": [0.08, 0.07, 0.06, 0.07], "C": [0.05, 0.05, 0.05, 0.05]})
    assert change_correlation(mixed)[M] == pytest.approx((1.0 - 1.0) / 2)
    assert change_correlation(series({"A": [0.04, 0.05], "B": [0.08, 0.07]})).empty  # one change: nothing to correlate


def test_the_prediction_interval_adds_the_common_change_to_the_spread_about_it():
    observed = series({"A": [0.04, 0.06, 0.06], "B": [0.08, 0.08, 0.09]})
    table = fit_table(observed, {"A": [0.04, 0.06, 0.06], "B": [0.08, 0.08, 0.08]})
    out = with_intervals(with_forecasts(table), observed[observed.year < 2023], pd.Series(dtype=float))
    # 2021 -> 2022: +0.02 and 0, about their mean 0.01 (spread 0.01); the mean change itself is 0.01.
    np.testing.assert_allclose(out.forecast_sd, [np.hypot(0.01, 0.01)] * 2)


def test_the_monte_carlo_sd_of_the_change_pools_the_replicates_variance_over_places_by_hand():
    observed = series({"A": [0.04, 0.05, 0.06], "B": [0.08, 0.07, 0.09]})
    table = fit_table(observed, {"A": [0.04, 0.05, 0.055], "B": [0.08, 0.07, 0.07]})
    # Two replicates; the changes into 2023 they simulate: A +0.004 and +0.006, B -0.002 and +0.002.
    first = {("A", 2022): 0.050, ("A", 2023): 0.054, ("B", 2022): 0.070, ("B", 2023): 0.068}
    second = {("A", 2022): 0.050, ("A", 2023): 0.056, ("B", 2022): 0.070, ("B", 2023): 0.072}
    keys = list(zip(table.place_code, table.year))
    table = table.assign(replicate_0=[first.get(k, 0.0) for k in keys], replicate_1=[second.get(k, 0.0) for k in keys])
    # Variance over replicates: A (0.002^2)/2 = 2e-6, B (0.004^2)/2 = 8e-6; of the mean of two: halved.
    expected = np.sqrt(np.mean([2e-6 / 2, 8e-6 / 2]))
    assert monte_carlo_change_sd(table)[M] == pytest.approx(expected)
    assert monte_carlo_change_sd(table.drop(columns="replicate_1")).empty  # one replicate: no spread to measure
    held = with_forecasts(table)
    out = with_intervals(held, observed[observed.year < 2023], pd.Series(dtype=float), monte_carlo_change_sd(table))
    # What pooling leaves of it: the simulated changes +0.005 and 0 spread with variance 1.25e-5,
    # 2.5e-6 of it Monte Carlo error, so a place's own change has weight 0.8.
    assert held.change_weight.tolist() == pytest.approx([0.8, 0.8])
    np.testing.assert_allclose(out.forecast_sd, np.hypot(0.01, expected * np.sqrt(0.8)))  # the change spread of 2021 -> 2022 is 0.01


def test_the_prediction_interval_adds_the_change_spread_and_the_trends_error_by_hand():
    observed = series({"A": [0.04, 0.05, 0.06], "B": [0.08, 0.07, 0.09]})
    table = fit_table(observed, {"A": [0.04, 0.05, 0.055], "B": [0.08, 0.07, 0.07]})
    held = with_forecasts(table)
    out = with_intervals(held, observed[observed.year < 2023], pd.Series({("A", M): 0.004}))
    spread = 0.01  # 2021 -> 2022: +0.01 and -0.01 about their mean 0
    np.testing.assert_allclose(out.forecast_sd, [np.hypot(spread, 0.004), spread])  # B has no trend error given
    np.testing.assert_allclose(out.high_90 - out.forecast, Z90 * out.forecast_sd)
    np.testing.assert_allclose(out.forecast - out.low_90, Z90 * out.forecast_sd)
    # A: 0.06 lies within 0.055 +- 1.645 * 0.0108; B: 0.09 is outside 0.070 +- 1.645 * 0.01.
    assert out.inside_90.tolist() == [True, False]
    assert score(out).iloc[0].coverage_90 == 0.5


def test_an_observation_on_either_end_of_the_interval_lies_inside_it():
    observed = series({"A": [0.04, 0.04, 0.06], "B": [0.08, 0.08, 0.09]})  # no in-sample change: only the trend error
    held = with_forecasts(fit_table(observed, {"A": [0.04, 0.04, 0.05], "B": [0.08, 0.08, 0.08]}))
    trend_sd = pd.Series({("A", M): 0.5, ("B", M): 0.5})
    ends = with_intervals(held, observed[observed.year < 2023], trend_sd)
    on_ends = held.assign(observed=[ends.low_90.iloc[0], ends.high_90.iloc[1]])
    out = with_intervals(on_ends, observed[observed.year < 2023], trend_sd)
    assert out.forecast_sd.tolist() == [0.5, 0.5]
    assert out.inside_90.tolist() == [True, True]


def test_a_wider_trend_error_never_lowers_the_coverage():
    observed = series({"A": [0.04, 0.05, 0.06], "B": [0.08, 0.07, 0.09], "C": [0.02, 0.03, 0.01]})
    held = with_forecasts(fit_table(observed, {"A": [0.04, 0.05, 0.05], "B": [0.08, 0.07, 0.07], "C": [0.02, 0.03, 0.03]}))
    in_sample = observed[observed.year < 2023]
    coverage = [score(with_intervals(held, in_sample, pd.Series({(c, M): sd for c in "ABC"}))).iloc[0].coverage_90
                for sd in (0.0, 0.002, 0.01, 0.05)]
    assert coverage == sorted(coverage) and coverage[0] < 1.0 == coverage[-1]


def with_replicates(observed: pd.DataFrame, changes: dict[str, list[float]]) -> pd.DataFrame:
    """A held-out fit's table whose replicates simulate each place's last observed value, then these changes."""
    table = fit_table(observed, {c: list(v) for c, v in observed.groupby("place_code")["observed"]})
    last = table.year.max()
    for r in range(len(next(iter(changes.values())))):
        start = table.place_code.map(observed[observed.year == last - 1].set_index("place_code").observed)
        step = table.place_code.map({c: v[r] for c, v in changes.items()})
        table[f"replicate_{r}"] = np.where(table.year == last, start + step, start)
    replicates = [c for c in table if c.startswith("replicate_")]
    return table.assign(simulated=table[replicates].mean(axis=1))


def test_a_places_simulated_change_is_pooled_towards_the_mean_by_the_share_not_monte_carlo_error():
    observed = series(OBSERVED)
    table = with_replicates(observed, {"A": [0.004, 0.006], "B": [-0.002, 0.002], "C": [0.010, 0.010]})
    # Mean changes 0.005, 0, 0.010 spread with variance 2.5e-5; the Monte Carlo variance of each
    # mean of two is 1e-6, 4e-6 and 0, pooled 5/3 e-6: the weight is (2.5e-5 - 5/3 e-6) / 2.5e-5.
    weight = (2.5e-5 - 5e-6 / 3) / 2.5e-5
    assert change_weight(table)[M] == pytest.approx(weight)
    out = with_forecasts(table)
    last = np.array([0.05, 0.07, 0.03])
    np.testing.assert_allclose(out.forecast, last + 0.005 + weight * (np.array([0.005, 0.0, 0.010]) - 0.005))


def test_when_monte_carlo_error_explains_the_spread_every_place_gets_the_mean_change():
    # Every place simulates +0.004 and -0.004 or the reverse: the places' changes differ by chance alone.
    observed = series(OBSERVED)
    table = with_replicates(observed, {"A": [0.004, -0.004], "B": [-0.004, 0.004], "C": [0.003, -0.003]})
    assert change_weight(table)[M] == 0.0
    out = with_forecasts(table)
    np.testing.assert_allclose(out.forecast, out.last_observed)  # the mean change is 0
    assert np.isnan(score(out).iloc[0].model_rank_correlation)  # no change told apart from another


def test_places_whose_replicates_agree_and_change_alike_keep_their_own_change():
    # No Monte Carlo error and no spread: 0 / 0, which leaves each place its own (common) change.
    table = with_replicates(series(OBSERVED), {"A": [0.004, 0.004], "B": [0.004, 0.004], "C": [0.004, 0.004]})
    assert change_weight(table).to_dict() == {M: 1.0}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-0.02, 0.02), st.floats(-0.02, 0.02)), min_size=3, max_size=3))
def test_pooling_keeps_the_mean_simulated_change_and_weights_within_zero_and_one(changes):
    observed = series(OBSERVED)
    table = with_replicates(observed, dict(zip("ABC", changes)))
    out = with_forecasts(table)
    assert 0.0 <= out.change_weight.iloc[0] <= 1.0
    simulated = (out.simulated - out.last_simulated).mean()
    assert (out.forecast - out.last_observed).mean() == pytest.approx(simulated, abs=1e-12)
