"""Fitted trends beyond their data: held still, or damped so that their drift levels off."""

from __future__ import annotations

import numpy as np
import pytest

from pfpp_sim.trends import damped_trend_years, data_centre, months_between, years_beyond_data

MONTHS = np.arange(0, 241)


def test_a_held_trend_moves_no_further_after_its_data():
    np.testing.assert_array_equal(damped_trend_years(MONTHS, 0.0), 0.0)


def test_an_undamped_trend_goes_on_at_its_fitted_rate():
    np.testing.assert_allclose(damped_trend_years(MONTHS, 1.0), MONTHS / 12)


@pytest.mark.parametrize("damping", [0.5, 0.8, 0.95])
def test_a_damped_trend_drifts_less_than_an_undamped_one_and_levels_off(damping):
    years = damped_trend_years(MONTHS, damping)
    assert np.all((years[1:] > 0) & (years[1:] < MONTHS[1:] / 12))
    assert np.all(np.diff(years) > 0) and np.all(np.diff(years, 2) < 0), "it grows, each month by less"
    q = damping ** (1 / 12)
    limit = q / (1 - q) / 12
    assert years[-1] < limit
    assert damped_trend_years(12 * 1000, damping) == pytest.approx(limit)


def test_the_first_months_after_the_data_move_by_the_damped_monthly_rate():
    # Month k after the end moves by a twelfth of the trend times damping ** (k / 12).
    steps = np.diff(damped_trend_years(np.arange(0, 25), 0.8))
    np.testing.assert_allclose(steps, 0.8 ** (np.arange(1, 25) / 12) / 12)
    assert steps[11] == pytest.approx(0.8 / 12), "a year after the data end the trend runs at 0.8 of its rate"


def test_a_damping_factor_nearer_1_gives_more_drift_beyond_the_data():
    drift = [float(damped_trend_years(60, d)) for d in (0.0, 0.5, 0.8, 0.95, 1.0)]
    assert drift == sorted(drift) and len(set(drift)) == len(drift)


def test_months_before_or_at_the_data_end_carry_no_drift():
    np.testing.assert_array_equal(damped_trend_years(np.arange(-24, 1), 0.8), 0.0)


def test_a_series_rate_stands_at_the_centre_of_its_data_year():
    assert data_centre("fuel_poverty_rate", 2021) == "2021-07"  # LILEE data year: January to December
    assert data_centre("neet_16_17_rate", 2024) == "2024-02"  # DfE time period: December to February
    assert months_between("2022-01", "2024-03") == 26
    assert months_between("2024-03", "2022-01") == -26


def test_a_run_that_starts_before_the_data_end_counts_damped_years_from_the_end():
    years = years_beyond_data("2021-04", "2022-01", 24, 0.8)
    np.testing.assert_array_equal(years[:10], 0.0)  # April 2021 to January 2022: within the data years
    np.testing.assert_allclose(years[9:], damped_trend_years(np.arange(16), 0.8))


def test_a_run_that_starts_after_the_data_end_goes_on_where_the_damped_trend_had_got_to():
    years = years_beyond_data("2024-03", "2022-01", 12, 0.8)
    np.testing.assert_allclose(years, damped_trend_years(26 + np.arange(13), 0.8) - damped_trend_years(26, 0.8))
    assert years[12] < damped_trend_years(12, 0.8), "two years on, the trend runs slower than just after the data"


def test_a_trend_without_an_end_has_no_years_beyond_its_data():
    np.testing.assert_array_equal(years_beyond_data("2024-03", None, 12, 0.8), 0.0)


def test_months_between_counts_two_digit_months():
    assert months_between("2020-12", "2021-11") == 11
    assert months_between("2021-10", "2021-12") == 2
    assert months_between("2021-12", "2021-10") == -2


def test_a_series_without_a_trend_end_moves_by_nothing_in_any_month():
    np.testing.assert_array_equal(years_beyond_data("2021-07", None, 5, 0.8), np.zeros(6))
