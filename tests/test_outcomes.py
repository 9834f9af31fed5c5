"""Equity breakdown: outcomes by tenure and by household income quintile."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfpp_sim.compiled import YOUNG_STATES
from pfpp_sim.experiment import run
from pfpp_sim.model import PfppModel
from pfpp_sim.outcomes import (
    _YOUNG_COUNTS,
    EQUITY_GROUPS,
    _cells_of_groups,
    _count_by_group,
    _quintiles_within_place,
    _young_measures,
    basis_months,
    basis_year,
    count_outcomes,
    display_scale,
    equity_groups,
    is_rate,
    resident_equity,
    resident_rates,
)
from pfpp_sim.population import (
    AGE_16,
    AGE_18,
    EDUCATION,
    EMPLOYED,
    ILO_EMPLOYED,
    ILO_INACTIVE,
    ILO_UNEMPLOYED,
    NEET,
    Households,
    PlaceTable,
    Population,
    YoungPeople,
)
from pfpp_sim.scenario import load_scenario


@pytest.fixture(scope="module")
def small_run():
    scenario = load_scenario("siloed_baseline").with_overrides(
        {"run.places": ["E07000062", "E06000032"], "run.horizon_months": 24}
    )
    return run(scenario, seed=3, replicates=2, executor="serial")


@pytest.mark.parametrize("breakdown", ["tenure", "income_quintile"])
def test_weighted_average_over_groups_equals_the_overall_rate(small_run, breakdown):
    equity = small_run.equity[small_run.equity["breakdown"] == breakdown]
    totals = equity.groupby(["replicate", "place_code", "month"]).sum(numeric_only=True)
    monthly = small_run.monthly.pivot_table(index=["replicate", "place_code", "month"], columns="metric", values="value", observed=True)
    monthly = monthly.loc[totals.index]
    np.testing.assert_allclose(totals["fuel_poor"] / totals["households"], monthly["fuel_poverty_rate"], rtol=1e-12)
    np.testing.assert_allclose(totals["neet_16_24"] / totals["young_people"], monthly["neet_16_24_rate"], rtol=1e-12)
    np.testing.assert_allclose(totals["youth_mh"] / totals["young_people"], monthly["youth_mh_rate"], rtol=1e-12)
    np.testing.assert_allclose(totals["neet_16_17"] / totals["young_16_17"], monthly["neet_16_17_rate"], rtol=1e-12)


def test_groups_cover_every_real_household_once_per_breakdown(small_run):
    equity = small_run.equity[small_run.equity["month"] == 0]
    real = small_run.places.drop_duplicates("place_code").set_index("place_code")["real_households"]
    for _, rows in equity.groupby("breakdown"):
        households = rows.groupby(["replicate", "place_code"])["households"].sum()
        np.testing.assert_allclose(households.to_numpy(), real.loc[households.index.get_level_values("place_code")].to_numpy())
    assert set(zip(equity["breakdown"], equity["group"])) == set(EQUITY_GROUPS)


def test_income_quintiles_are_equal_fifths_and_the_lowest_is_most_fuel_poor(small_run):
    quintiles = small_run.equity[(small_run.equity["breakdown"] == "income_quintile") & (small_run.equity["month"] == 0)]
    for _, place in quintiles.groupby(["replicate", "place_code"]):
        assert place["households"].max() - place["households"].min() <= place["households"].sum() * 0.001
        rates = (place["fuel_poor"] / place["households"]).to_numpy()
        assert rates[0] == rates.max()


def test_counts_made_block_by_block_give_the_rates_and_equity_counts_of_all_places():
    scenario = load_scenario("siloed_baseline").with_overrides({"run.horizon_months": 3})
    model = PfppModel(scenario, seed=4, block_households=3_000)  # several places per block, several blocks
    assert 1 < len(model.residents.blocks) < model.population.places.n
    for t in range(3):
        model.step()
        september = int(model.residents.since_september[t + 1])
        rates, equity = resident_rates(model.population, september), resident_equity(model.population, model.equity_groups, september)
        for name, values in rates.items():
            np.testing.assert_array_equal(model.rates[name], values)
        for name, values in equity.items():
            np.testing.assert_array_equal(model.equity_records[-1][name], values)


def _hand_made_population(young_status, ilo, ages) -> Population:
    """One place of two households and the given young people (all in household 0)."""
    n = len(young_status)
    one = np.ones(1)
    places = PlaceTable(
        codes=["E07000062"], names=["Hastings"], real_households=2 * one, real_young_people=n * one,
        household_weight=one, youth_weight=one, income_level=one, target_fuel_poverty=0 * one,
        target_neet_16_17=0 * one, neet_18_24=0 * one, income_trend=0 * one, neet_trend=0 * one,
        unemployment_relative=one,
    )
    households = Households(
        place=np.zeros(2, dtype=np.int16), tenure=np.zeros(2, dtype=np.uint8), base_income=np.full(2, 20000.0),
        income_dev=np.zeros(2, dtype=np.float32), income_gain_until=np.zeros(2, dtype=np.int32),
        band=np.zeros(2, dtype=np.uint8), means_tested=np.zeros(2, dtype=bool), bill_support=np.zeros(2),
        bill_support_until=np.zeros(2, dtype=np.int32), fuel_poor=np.zeros(2, dtype=bool),
        months_cold=np.zeros(2, dtype=np.int32), slices=[slice(0, 2)],
    )
    young = YoungPeople(
        place=np.zeros(n, dtype=np.int16), household=np.zeros(n, dtype=np.int32),
        age_months=np.array(ages, dtype=np.int16), status=np.array(young_status, dtype=np.uint8),
        months_neet=np.zeros(n, dtype=np.int16), mh_disorder=np.zeros(n, dtype=bool),
        careers_until=np.zeros(n, dtype=np.int32), ips_until=np.zeros(n, dtype=np.int32),
        asb_until=np.zeros(n, dtype=np.int32), job_search_rank=np.zeros(n, dtype=np.uint16),
        ilo_status=np.array(ilo, dtype=np.uint8), slices=[slice(0, n)],
    )
    return Population(places=places, households=households, young=young)


def test_youth_unemployment_rate_is_the_unemployed_over_the_economically_active_on_a_hand_made_population():
    # Given ten young people: a 16-year-old student with a job, a 17-year-old NEET seeking
    # work, and eight aged 18-24: two in work, one student with a job, one student seeking
    # work, two NEET seeking work, one NEET not seeking and one student neither.
    e, u, i = ILO_EMPLOYED, ILO_UNEMPLOYED, ILO_INACTIVE
    status = [EDUCATION, NEET, EMPLOYED, EMPLOYED, EDUCATION, EDUCATION, NEET, NEET, NEET, EDUCATION]
    ilo = [e, u, e, e, e, u, u, u, i, i]
    ages = [AGE_16, AGE_16 + 12, *([AGE_18 + 30] * 8)]
    rates = resident_rates(_hand_made_population(status, ilo, ages), 0)
    # 16-24: unemployed 4 (the 17-year-old, a student, two NEET) of active 8 (4 employed + 4).
    assert rates["youth_unemployment_rate"][0] == 4 / 8
    # 18-24: unemployed 3 of active 6.
    assert rates["youth_unemployment_rate_18_24"][0] == 3 / 6
    # NEET measures are unchanged: 4 of 10 aged 16-24, 1 of 2 aged 16-17.
    assert rates["neet_16_24_rate"][0] == 4 / 10
    assert rates["neet_16_17_rate"][0] == 1 / 2


def test_neet_16_17_counts_years_12_13_by_academic_age_and_18_24_counts_age_on_the_day():
    # On 1 January (4 months after 1 September): 16y2m was 15 on 31 August (Year 11, not in
    # the DfE cohort); 16y6m and 18y2m (in Year 13, turned 18 since September) are in it;
    # 18y6m is past it. The youngest and the oldest are NEET and seeking work.
    ages = [AGE_16 + 2, AGE_16 + 6, AGE_18 + 2, AGE_18 + 6]
    pop = _hand_made_population(
        [NEET, EDUCATION, EDUCATION, NEET], [ILO_UNEMPLOYED, ILO_INACTIVE, ILO_INACTIVE, ILO_UNEMPLOYED], ages
    )
    groups = equity_groups(pop, np.zeros(pop.households.n))
    # Both homes owned, tied incomes ranked in household order (quintiles 1 and 3); every young person in the first.
    np.testing.assert_array_equal(groups.household_count, [[2, 0, 0, 1, 0, 1, 0, 0]])
    np.testing.assert_array_equal(groups.young_count, [[4, 0, 0, 4, 0, 0, 0, 0]])
    january = count_outcomes(pop, groups, 4)
    assert (january["young_people"][0], january["neet_16_24"][0]) == (4, 2)
    assert (january["young_16_17"][0], january["neet_16_17"][0]) == (2, 0)
    assert (january["active_18_24"][0], january["unemployed_18_24"][0]) == (1, 1), "the ONS 18-24 rate counts age on the day"
    # On 1 September ages are academic ages: the two 16-year-olds are in Year 12.
    assert resident_rates(pop, 0)["neet_16_17_rate"][0] == 1 / 2
    assert resident_rates(pop, 4)["neet_16_17_rate"][0] == 0.0


def test_youth_unemployment_rate_is_zero_where_no_young_person_is_economically_active():
    rates = resident_rates(_hand_made_population([EDUCATION, NEET], [ILO_INACTIVE, ILO_INACTIVE], [AGE_18, AGE_18]), 0)
    assert rates["youth_unemployment_rate"][0] == 0.0
    assert rates["youth_unemployment_rate_18_24"][0] == 0.0


# --------------------------------------------------------------- definitions, one at a time


def test_each_young_state_counts_in_the_measures_its_flags_define():
    # A state is NEET + 2 disorder + 4 Years 12-13 + 8 aged 18 or more + 16 ILO status;
    # the DfE NEET 16-17 cohort is Years 12-13, and ILO activity and unemployment count
    # for all 16-24s and for those of 18 or more.
    table = _young_measures()
    assert table.shape == (YOUNG_STATES, len(_YOUNG_COUNTS)) and table.dtype == np.float64
    for state in range(YOUNG_STATES):
        ilo, rest = divmod(state, 16)
        adult, rest = divmod(rest, 8)
        cohort, rest = divmod(rest, 4)
        mh, neet = divmod(rest, 2)
        active, unemployed = ilo != ILO_INACTIVE, ilo == ILO_UNEMPLOYED
        expected = {
            "neet_16_24": neet, "youth_mh": mh, "young_16_17": cohort, "neet_16_17": cohort and neet, "active_16_24": active,
            "unemployed_16_24": unemployed, "active_18_24": active and adult, "unemployed_18_24": unemployed and adult,
        }
        assert dict(zip(_YOUNG_COUNTS, table[state].tolist())) == {k: float(bool(v)) for k, v in expected.items()}, state


def test_the_neet_16_17_year_is_its_december_to_february_and_other_years_are_calendar_years():
    dates = pd.date_range("2020-11-01", periods=5, freq="MS")  # November 2020 to March 2021
    np.testing.assert_array_equal(basis_year("neet_16_17_rate", dates), [-1, 2021, 2021, 2021, -1])
    np.testing.assert_array_equal(basis_year("fuel_poverty_rate", dates), [2020, 2020, 2021, 2021, 2021])
    assert basis_year("neet_16_17_rate", dates).dtype == np.int32
    assert (basis_months("neet_16_17_rate"), basis_months("fuel_poverty_rate"), basis_months("returned_gbp")) == (3, 12, 12)


def test_rates_are_shown_in_points_money_in_millions_and_counts_as_they_are():
    assert is_rate("fuel_poverty_rate") and is_rate("retrofit_fuel_poor_share") and not is_rate("retrofits")
    assert not is_rate("returned_gbp") and not is_rate("mobilisation_months_lost")
    assert is_rate("a_custom_rate") and is_rate("a_custom_share") and not is_rate("a_custom_count")  # by name alone
    assert display_scale("neet_16_24_rate") == (100.0, " pp", 2)
    assert display_scale("returned_gbp") == (1e-6, "m", 2)
    assert display_scale("retrofits") == (1.0, "", 1)


@settings(max_examples=200, deadline=None)
@given(
    incomes=st.lists(st.integers(0, 6), min_size=1, max_size=40),
    cut=st.integers(0, 40),
)
def test_income_quintiles_are_ranks_within_each_place_with_ties_in_household_order(incomes, cut):
    # Rank r of n (from the lowest income, tied incomes in household order) is in quintile r * 5 // n.
    income = np.array(incomes, dtype=np.float64)
    cut = min(cut, income.size)
    slices = [slice(0, cut), slice(cut, income.size)]
    expected = np.zeros(income.size, dtype=np.uint8)
    for s in slices:
        x = income[s]
        rank = np.empty(x.size, dtype=np.int64)
        rank[np.argsort(x, kind="stable")] = np.arange(x.size)
        expected[s] = rank * 5 // max(x.size, 1)
    np.testing.assert_array_equal(_quintiles_within_place(income, slices), expected)


def test_each_cell_of_a_place_is_in_its_tenure_group_and_its_quintile_group():
    table = _cells_of_groups()
    assert table.shape == (len(EQUITY_GROUPS), 15) and table.dtype == np.float64
    for cell in range(15):
        tenure, quintile = divmod(cell, 5)
        expected = np.zeros(len(EQUITY_GROUPS))
        expected[tenure] = expected[3 + quintile] = 1.0
        np.testing.assert_array_equal(table[:, cell], expected)


def test_counts_by_group_count_the_flagged_residents_of_each_place_by_tenure_and_by_quintile():
    # Cells of places 2 and 3 (tenure * 5 + quintile), counted as places 0 and 1 of a block.
    cells = np.array([2 * 15 + 0, 2 * 15 + 7, 2 * 15 + 7, 3 * 15 + 14, 3 * 15 + 5])
    flag = np.array([True, True, False, True, True])
    counts = _count_by_group(cells, 2, flag, first_place=2)
    assert counts.dtype == np.float64
    # By tenure (owner, social, private), then by quintile (Q1-Q5).
    np.testing.assert_array_equal(counts, [[1, 1, 0, 1, 0, 1, 0, 0], [0, 1, 1, 1, 0, 0, 0, 1]])
    np.testing.assert_array_equal(_count_by_group(cells - 30, 2), [[1, 2, 0, 1, 0, 2, 0, 0], [0, 1, 1, 1, 0, 0, 0, 1]])
