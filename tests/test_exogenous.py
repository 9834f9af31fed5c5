"""Exogenous monthly paths: the price households pay and the national median income."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pfpp_sim import data, dynamics
from pfpp_sim.exogenous import exogenous_paths
from pfpp_sim.model import PfppModel
from pfpp_sim.population import BAND_C, BAND_D
from pfpp_sim.scenario import load_scenario

BAND_E = BAND_D + 1


def paths(start: str = "2021-04", horizon: int = 30, name: str = "siloed_baseline"):
    scenario = load_scenario(name).with_overrides({"run.start": start, "run.horizon_months": horizon})
    return scenario, exogenous_paths(scenario)


def test_households_pay_the_price_cap_and_the_energy_price_guarantee_in_2022_by_default():
    # Bills under the price cap and the Energy Price Guarantee are the cap (E08-E16): the
    # whole rise of 2022 reaches households, with the shipped calibration as without one.
    for name in ("siloed_baseline", "baseline_history"):
        scenario, exo = paths(name=name)
        assert scenario.world.households.price_pass_through.value == 1.0
        price = pd.Series(exo.price_gbp, index=exo.dates)
        assert price["2021-04-01"] == 1138
        assert price["2022-04-01"] == 1971
        assert price["2022-10-01"] == 2500  # EPG, below the 3,549 cap
        assert price["2023-07-01"] == 2074


def test_the_poverty_line_in_a_month_is_sixty_per_cent_of_that_financial_years_national_median():
    scenario, exo = paths(start="2019-01", horizon=96, name="baseline_history")
    medians = data.median_income().set_index("fye")["median_gbp_per_year"]
    anchor = scenario.world.households.median_income.value / medians[2020]  # E87 level in FYE 2020, moved as E86
    line = pd.Series(exo.poverty_line_gbp, index=exo.dates)
    for month, fye in [("2019-01-01", 2020), ("2019-04-01", 2020), ("2020-03-01", 2020), ("2020-04-01", 2021),
                       ("2022-10-01", 2023), ("2024-03-01", 2024), ("2026-12-01", 2024)]:
        assert line[month] == pytest.approx(0.6 * anchor * medians[fye]), month
    index = pd.Series(exo.income_index, index=exo.dates)
    assert index["2022-10-01"] == pytest.approx(medians[2023] / medians[2020])
    assert medians[2023] == 34_500 and medians[2020] == 30_500


def test_a_household_whose_income_moves_with_the_median_keeps_its_status_when_the_median_rises():
    band = np.array([BAND_D, BAND_E, BAND_D, BAND_C], dtype=np.uint8)
    base = np.array([9_000.0, 16_000.0, 30_000.0, 5_000.0])
    zero = np.zeros(4)
    line = 0.6 * 24_752
    flags = []
    for index in (1.0, 1.13, 1.5):
        income = dynamics.household_income(base, np.zeros(4, dtype=np.float32), zero, zero, 0.0, 0.0, income_index=index)
        np.testing.assert_allclose(income, base * index)
        flags.append(dynamics.fuel_poor(band, income, zero, line * index))
    for later in flags[1:]:
        np.testing.assert_array_equal(later, flags[0])
    np.testing.assert_array_equal(flags[0], [True, False, False, False])


def test_the_fuel_poverty_rate_does_not_drift_when_only_the_nominal_median_moves(monkeypatch):
    # With no energy costs, no payments and no interventions, fuel poverty depends on
    # income against the line alone: a rising national median lifts both (incomes are
    # indexed to it), so the rate is the same month by month as with a flat median.
    costless = {f"world.households.band_cost.{b}.value": 0.0 for b in "ABCDEFG"}
    scenario = load_scenario("siloed_baseline").with_overrides(
        {"run.places": ["E07000062"], "run.start": "2019-01", "run.horizon_months": 64, **costless}
    )
    support = data.household_support()
    monkeypatch.setattr(data, "household_support", lambda: support.iloc[:0])

    def fuel_poverty_path() -> tuple[np.ndarray, np.ndarray]:
        model = PfppModel(scenario, seed=3)
        rates = []
        for t in range(scenario.run.horizon_months):
            rates.append(model.step_residents(t)["fuel_poor"].sum())
        return np.array(rates), model.exo.income_index

    rising, index = fuel_poverty_path()
    assert index.max() > 1.2
    table = data.median_income()
    monkeypatch.setattr(data, "median_income", lambda: table.assign(median_gbp_per_year=float(table.median_gbp_per_year.iloc[0])))
    flat, index = fuel_poverty_path()
    assert index.max() == 1.0
    np.testing.assert_array_equal(rising, flat)
    assert rising.min() > 0


@pytest.mark.parametrize("share", [0.5, 0.25])
def test_only_the_share_passed_through_of_each_change_in_the_cap_reaches_bills(share):
    # Given a pass-through below 1, expect each month's price to move from the first
    # month's by that share of the cap's move, so bills rise less in 2022.
    scenario, exo = paths()
    partial = exogenous_paths(scenario.with_overrides({"world.households.price_pass_through.value": share}))
    assert partial.price_gbp[0] == exo.price_gbp[0]
    np.testing.assert_allclose(partial.price_gbp - partial.price_gbp[0], share * (exo.price_gbp - exo.price_gbp[0]))


def test_the_poverty_line_is_the_given_share_of_the_median():
    scenario, exo = paths()
    half = exogenous_paths(scenario.with_overrides({"world.households.poverty_line_share.value": 0.5}))
    np.testing.assert_allclose(half.poverty_line_gbp, exo.poverty_line_gbp * 0.5 / 0.6)


def test_the_paths_are_read_only():
    _, exo = paths()
    with pytest.raises(ValueError, match="read-only"):
        exo.price_gbp[0] = 0.0


def test_bill_support_and_payments_are_each_eligibilitys_schemes_started_in_the_last_12_months():
    # The Energy Bills Support Scheme (all households: six instalments from October 2022,
    # GBP 400) and the cost-of-living payments (means tested: GBP 326 and 324 in July and
    # November 2022, 301, 300 and 299 in April 2023, October 2023 and February 2024).
    _, exo = paths(start="2022-06", horizon=24)
    universal = pd.Series(exo.bill_discount_gbp, index=exo.dates)
    means_tested = pd.Series(exo.means_tested_gbp, index=exo.dates)
    expected_universal = {"2022-09-01": 0, "2022-10-01": 66, "2023-03-01": 400, "2023-09-01": 400, "2023-10-01": 334, "2024-02-01": 67}
    expected_means = {"2022-06-01": 0, "2022-07-01": 326, "2022-11-01": 650, "2023-04-01": 951, "2023-07-01": 625, "2024-02-01": 900}
    assert {day: universal[day] for day in expected_universal} == expected_universal
    assert {day: means_tested[day] for day in expected_means} == expected_means


def test_prevalence_is_each_years_value_in_january_and_interpolated_between_years():
    scenario, exo = paths(start="2021-01", horizon=24)
    prevalence = scenario.world.young_people.mh_prevalence
    by_month = pd.Series(exo.mh_prevalence, index=exo.dates)
    assert by_month["2021-01-01"] == prevalence["2021"].value
    assert by_month["2022-01-01"] == prevalence["2022"].value
    assert by_month["2021-07-01"] == pytest.approx((prevalence["2021"].value + prevalence["2022"].value) / 2)
    assert by_month["2021-04-01"] == pytest.approx(prevalence["2021"].value + 0.25 * (prevalence["2022"].value - prevalence["2021"].value))


def test_before_the_first_price_cap_the_first_is_paid_and_after_the_last_the_last():
    caps = data.energy_price_cap().sort_values("effective_date")
    first, last = caps["effective_date"].iloc[0], caps["effective_date"].iloc[-1]
    _, before = paths(start=f"{first.year - 1}-01", horizon=14)
    assert before.price_gbp[0] == caps["paid_gbp_per_year"].iloc[0]
    assert before.price_gbp[12 + first.month - 1] == caps["paid_gbp_per_year"].iloc[0]  # the first cap's own month
    _, after = paths(start=f"{last.year + 2}-01", horizon=2)
    assert (after.price_gbp == caps["paid_gbp_per_year"].iloc[-1]).all()


def test_paths_are_built_for_the_months_asked_for():
    scenario, _ = paths()
    dates = pd.date_range("2019-01-01", periods=12, freq="MS")
    exo = exogenous_paths(scenario, dates)
    assert exo.dates.equals(dates) and exo.price_gbp.size == 12
