"""Scoring a held-out year: hand-computed errors, rank correlations and the pooled AR(1)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfpp_sim.calibration.holdout import pooled_ar1, score, with_forecasts

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


def test_too_few_pairs_for_an_ar1_fall_back_to_persistence():
    assert pooled_ar1(series({"A": [0.05, 0.06]})) == (0.0, 1.0)
    assert pooled_ar1(series({"A": [0.05, 0.06], "B": [0.05, 0.07], "C": [0.05, 0.02]})) == (0.0, 1.0)  # x does not vary


def test_forecasts_of_the_held_out_year_computed_by_hand():
    observed = series({"A": [0.04, 0.05, 0.06], "B": [0.08, 0.07, 0.09], "C": [0.02, 0.03, 0.01]})
    held = observed[observed.year == 2023].assign(simulated=[0.055, 0.072, 0.025])
    out = with_forecasts(held, observed)
    a, b = np.polyfit([0.04, 0.08, 0.02], [0.05, 0.07, 0.03], 1)[::-1]  # the only in-sample pairs: 2021 -> 2022
    assert out.last_observed.tolist() == [0.05, 0.07, 0.03]
    assert out.persistence.tolist() == [0.05, 0.07, 0.03]
    np.testing.assert_allclose(out.ar1, a + b * np.array([0.05, 0.07, 0.03]))
    row = score(out).iloc[0]
    assert row.metric == M and row.held_out_year == 2023 and row.places == 3
    assert row.model_mae == pytest.approx((0.005 + 0.018 + 0.015) / 3)
    assert row.persistence_mae == pytest.approx((0.01 + 0.02 + 0.02) / 3)
    assert row.ar1_mae == pytest.approx(np.mean(np.abs(out.ar1 - [0.06, 0.09, 0.01])))
    # Predicted changes +0.005, +0.002, -0.005 against observed +0.01, +0.02, -0.02: ranks 3,2,1 vs 2,3,1.
    assert row.model_rank_correlation == pytest.approx(0.5)
    assert row.better == "model"


def test_a_model_worse_than_persistence_is_named_so_and_the_best_forecast_named():
    observed = series({"A": [0.04, 0.05, 0.05], "B": [0.08, 0.07, 0.07], "C": [0.02, 0.03, 0.03], "D": [0.05, 0.05, 0.05]})
    held = observed[observed.year == 2023].assign(simulated=[0.06, 0.08, 0.04, 0.06])
    row = score(with_forecasts(held, observed)).iloc[0]
    assert row.persistence_mae == 0.0
    assert row.better == "persistence" and row.best == "persistence"


def test_places_without_a_last_observed_value_are_left_out_of_the_scores():
    observed = series({"A": [0.04, 0.05, 0.06], "B": [0.08, 0.07, 0.09]})
    observed = pd.concat([observed, series({"C": [0.03]}, first_year=2023)], ignore_index=True)
    held = observed[observed.year == 2023].assign(simulated=[0.06, 0.09, 0.5])
    row = score(with_forecasts(held, observed)).iloc[0]
    assert row.places == 2 and row.model_mae == 0.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.0, 0.3), min_size=3, max_size=3), st.lists(st.floats(0.0, 0.3), min_size=3, max_size=3))
def test_swapping_model_and_ar1_forecasts_swaps_their_scores(model, ar1):
    observed = series({"A": [0.04, 0.05, 0.06], "B": [0.08, 0.07, 0.09], "C": [0.02, 0.03, 0.01]})
    held = with_forecasts(observed[observed.year == 2023].assign(simulated=model), observed).assign(ar1=ar1)
    swapped = held.assign(simulated=held.ar1, ar1=held.simulated)
    a, b = score(held).iloc[0], score(swapped).iloc[0]
    assert a.model_mae == pytest.approx(b.ar1_mae) and a.ar1_mae == pytest.approx(b.model_mae)
    np.testing.assert_equal([a.model_rank_correlation, a.ar1_rank_correlation], [b.ar1_rank_correlation, b.model_rank_correlation])


def test_the_prediction_interval_adds_the_in_sample_error_and_the_trends_error_by_hand():
    from pfpp_sim.calibration.holdout import Z90, with_intervals

    observed = series({"A": [0.04, 0.05, 0.06], "B": [0.08, 0.07, 0.09]})
    in_sample = observed[observed.year < 2023].assign(simulated=lambda f: f.observed + [0.003, -0.003, 0.004, -0.004])
    held = with_forecasts(observed[observed.year == 2023].assign(simulated=[0.055, 0.070]), observed)
    out = with_intervals(held, in_sample, pd.Series({("A", M): 0.004}))
    rmse = np.sqrt(np.mean(np.square([0.003, 0.003, 0.004, 0.004])))
    np.testing.assert_allclose(out.forecast_sd, [np.hypot(rmse, 0.004), rmse])  # B has no trend error given
    np.testing.assert_allclose(out.high_90 - out.low_90, 2 * Z90 * out.forecast_sd)
    # A: 0.06 lies within 0.055 +- 1.645 * 0.0054; B: 0.09 is far outside 0.070 +- 1.645 * 0.0035.
    assert out.inside_90.tolist() == [True, False]
    assert score(out).iloc[0].coverage_90 == 0.5


def test_a_wider_trend_error_never_lowers_the_coverage():
    from pfpp_sim.calibration.holdout import with_intervals

    observed = series({"A": [0.04, 0.05, 0.06], "B": [0.08, 0.07, 0.09], "C": [0.02, 0.03, 0.01]})
    in_sample = observed[observed.year < 2023].assign(simulated=lambda f: f.observed + 0.001)
    held = with_forecasts(observed[observed.year == 2023].assign(simulated=[0.05, 0.08, 0.02]), observed)
    coverage = [score(with_intervals(held, in_sample, pd.Series({(c, M): sd for c in "ABC"}))).iloc[0].coverage_90
                for sd in (0.0, 0.002, 0.01, 0.05)]
    assert coverage == sorted(coverage) and coverage[0] < 1.0 == coverage[-1]
