"""Behaviour of the synthetic residents: calibration to observed rates, conservation, seeds."""

from __future__ import annotations

from dataclasses import fields
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pfpp_sim import data
from pfpp_sim.errors import DataError
from pfpp_sim.exogenous import exogenous_paths
from pfpp_sim.model import PfppModel
from pfpp_sim.population import (
    AFTER_SCHOOL,
    AGE_16,
    AGE_18,
    AGE_25,
    EMPLOYED,
    NEET,
    YEARS_12_13,
    _lookup,
    _search_sorted,
    build_population,
    employed_by_age,
    fuel_poverty_target_year,
    leaving_education_hazard,
    neet_18_24_share,
    neet_target_period,
    place_blocks,
    place_sizes,
    school_group,
    since_september,
    solve_income_level,
    years_after_data,
    young_people_homes,
)
from pfpp_sim.scenario import load_scenario
from pfpp_sim.starting import solved_at, starting_population
from pfpp_sim.streams import stream
from pfpp_sim.trends import damped_trend_years, data_centre, months_between

TWO_PLACES = ["E07000062", "E06000032"]  # Hastings, Luton


def scenario(**overrides):
    return load_scenario("siloed_baseline").with_overrides(overrides)


def columns(group) -> dict[str, np.ndarray]:
    return {f.name: getattr(group, f.name) for f in fields(group) if isinstance(getattr(group, f.name), np.ndarray)}


def built(sc, seed=4, threads=None, **terms):
    """The population ``build_population`` draws for ``sc`` (terms as a model's set-up solves them, unless given)."""
    return build_population(sc, stream(seed, 0, "population"), threads=threads, **(terms or solved_at(sc, exogenous_paths(sc))))


def observed_fuel_poverty(codes: list[str], year: int) -> np.ndarray:
    lilee = data.fuel_poverty("LILEE")
    return lilee[lilee["data_year"] == year].set_index("area_code").loc[codes, "rate"].to_numpy()


def observed_neet_16_17(codes: list[str], period: int) -> np.ndarray:
    neet = data.neet_16_17()
    neet = neet[neet["time_period"] == period].set_index("area_code")["neet_rate"]
    return neet.loc[data.places(codes)["neet_area_code"]].to_numpy()


@pytest.mark.parametrize(("start", "lilee_year"), [("2021-04", 2021), ("2019-04", 2019)])
def test_start_rates_reproduce_observed_fuel_poverty_and_neet_in_every_default_place(start, lilee_year):
    model = PfppModel(scenario(**{"run.start": start, "run.horizon_months": 1}), seed=1)
    codes = model.population.places.codes
    assert sorted(codes) == sorted(data.PILOT_CODES)
    assert model.scenario.run.scale == 0.01
    assert fuel_poverty_target_year(int(start[:4])) == lilee_year
    fuel_poverty = observed_fuel_poverty(codes, lilee_year)
    neet = observed_neet_16_17(codes, neet_target_period(int(start[:4])))
    # Before the first NEET period (2021) the observed rate is carried back by each place's fitted trend.
    years_before = max(neet_target_period(int(start[:4])) - int(start[:4]) - (int(start[5:]) - 1) / 12, 0)
    neet = neet * np.exp(-model.population.places.neet_trend * years_before)
    np.testing.assert_allclose(model.population.places.target_fuel_poverty, fuel_poverty)
    np.testing.assert_allclose(model.population.places.target_neet_16_17, neet, rtol=1e-12)
    np.testing.assert_allclose(model.initial_rates["fuel_poverty_rate"], fuel_poverty, atol=0.01)
    np.testing.assert_allclose(model.initial_rates["neet_16_17_rate"], neet, atol=0.01)


def test_start_rates_reproduce_observed_fuel_poverty_when_support_is_being_paid():
    # April 2023: the 2022/23 universal bill support and a means-tested cost-of-living
    # payment fall in the trailing 12 months of the first simulated month.
    model = PfppModel(scenario(**{"run.start": "2023-04", "run.horizon_months": 1}), seed=1)
    assert model.exo.bill_discount_gbp[0] > 0
    assert model.exo.means_tested_gbp[0] > 0
    np.testing.assert_allclose(
        model.initial_rates["fuel_poverty_rate"], model.population.places.target_fuel_poverty, atol=0.01
    )


HARTLEPOOL = "E06000001"  # not a pilot: no fitted trends


def forecast(**overrides):
    places = {"run.places": ["E07000062", HARTLEPOOL], "run.horizon_months": 1}
    # The pilots' fit, so that Hartlepool is a place outside the fit (the england fit covers every place).
    return load_scenario("baseline_forecast", calibration="pilots").with_overrides({**places, **overrides})


def test_a_forecast_starts_after_the_latest_data_of_both_series():
    run = load_scenario("baseline_forecast").run
    lilee = data.fuel_poverty("LILEE")["data_year"].max()
    neet = data.neet_16_17()["time_period"].max()
    assert (lilee, neet) == (fuel_poverty_target_year(run.start_year), neet_target_period(run.start_year)) == (2021, 2024)
    assert run.start == "2024-03", "the first month after December 2023 to February 2024"
    assert months_between(data_centre("fuel_poverty_rate", lilee), run.start) == 32, "LILEE 2021 stands at mid-2021"


def test_a_forecast_with_held_trends_starts_each_place_at_its_latest_published_rates():
    model = PfppModel(forecast(**{"world.trend_damping": None}), seed=1)
    codes = model.population.places.codes
    np.testing.assert_allclose(model.population.places.target_fuel_poverty, observed_fuel_poverty(codes, 2021))
    np.testing.assert_allclose(model.initial_rates["fuel_poverty_rate"], observed_fuel_poverty(codes, 2021), atol=1e-3)
    np.testing.assert_allclose(model.population.places.target_neet_16_17, observed_neet_16_17(codes, 2024))
    np.testing.assert_allclose(model.initial_rates["neet_16_17_rate"], observed_neet_16_17(codes, 2024), atol=0.01)


def test_a_forecast_carries_the_latest_fuel_poverty_forward_by_the_damped_income_trend():
    # Given LILEE 2021, which stands at mid-2021, and a start 32 months after: a place's
    # income level is the one that reproduces its published rate, moved by its fitted
    # income trend over those months, damped as in the run; a place outside the fit keeps
    # its published rate.
    damping = {"value": 0.8, "unit": "fraction/year", "source": "assumption:trend_damping", "low": 0.0, "high": 0.95}
    damped = PfppModel(forecast(**{"world.trend_damping": damping}), seed=1)
    held = PfppModel(forecast(**{"world.trend_damping": None}), seed=1)
    places = damped.population.places
    years = float(damped_trend_years(32, damped.scenario.world.trend_damping.value))
    # As built, before the support the run-in leaves running scales each place's incomes.
    built = [starting_population(m.scenario, m.exo, seed=1, replicate=0).places for m in (damped, held)]
    carried = built[0].income_level / built[1].income_level
    np.testing.assert_allclose(carried, np.exp(places.income_trend * years), rtol=1e-12)
    hastings, hartlepool = places.income_trend
    assert hastings < 0 and hartlepool == 0
    damped_start, held_start = damped.initial_rates["fuel_poverty_rate"], held.initial_rates["fuel_poverty_rate"]
    assert damped_start[0] > held_start[0], "Hastings' incomes trended down"
    assert damped_start[1] == held_start[1]
    # NEET 2024 (December 2023 to February 2024) stands at mid-January: a month of damped trend to March.
    neet_years = float(damped_trend_years(1, damped.scenario.world.trend_damping.value))
    np.testing.assert_allclose(places.target_neet_16_17, held.population.places.target_neet_16_17 * np.exp(places.neet_trend * neet_years), rtol=1e-12)


def test_years_after_data_carry_nothing_within_the_data_years_or_when_trends_are_held():
    fit = load_scenario("siloed_baseline").calibration
    assert years_after_data("fuel_poverty_rate", 2021, "2021-04", fit, 0.8) == 0.0
    assert years_after_data("fuel_poverty_rate", 2021, "2024-03", fit, 0.0) == 0.0
    assert years_after_data("fuel_poverty_rate", 2021, "2024-03", None, 0.8) == 0.0
    assert years_after_data("fuel_poverty_rate", 2021, "2024-03", fit, 0.8) == pytest.approx(float(damped_trend_years(32, 0.8)))


def test_residents_are_conserved_in_every_place_over_a_run():
    model = PfppModel(scenario(**{"run.places": TWO_PLACES, "run.horizon_months": 36}), seed=2)
    pop = model.population
    n_places = pop.places.n
    households = np.bincount(pop.households.place, minlength=n_places)
    young = np.bincount(pop.young.place, minlength=n_places)
    homes = pop.young.household.copy()
    for _ in range(36):
        model.step()
        np.testing.assert_array_equal(np.bincount(pop.households.place, minlength=n_places), households)
        np.testing.assert_array_equal(np.bincount(pop.young.place, minlength=n_places), young)
        np.testing.assert_array_equal(pop.young.household, homes)
    assert pop.households.n == households.sum()
    assert pop.young.n == young.sum()


def test_young_people_live_in_a_household_of_their_own_place():
    pop = PfppModel(scenario(**{"run.places": TWO_PLACES, "run.horizon_months": 1}), seed=2).population
    np.testing.assert_array_equal(pop.households.place[pop.young.household], pop.young.place)
    for p, (hs, ys) in enumerate(zip(pop.households.slices, pop.young.slices)):
        assert np.all(pop.households.place[hs] == p)
        assert np.all(pop.young.place[ys] == p)


def test_young_peoples_ages_stay_between_16_and_25_over_a_run():
    model = PfppModel(scenario(**{"run.places": ["E07000062"], "run.horizon_months": 36}), seed=3)
    ages = model.population.young.age_months
    assert ages.min() >= AGE_16 and ages.max() < AGE_25
    turned = 0
    for _ in range(36):
        before = model.population.young.age_months.copy()
        model.step()
        ages = model.population.young.age_months
        assert ages.min() >= AGE_16 and ages.max() < AGE_25
        turned += int((before == AGE_25 - 1).sum())
        np.testing.assert_array_equal(ages[before == AGE_25 - 1], AGE_16)
    assert turned > 0


def test_the_same_seed_gives_identical_residents_and_another_seed_does_not():
    sc = scenario(**{"run.places": TWO_PLACES, "run.horizon_months": 1})
    first, again, other = (PfppModel(sc, seed=s).population for s in (4, 4, 5))
    for group in ("households", "young"):
        a, b, c = (columns(getattr(pop, group)) for pop in (first, again, other))
        for name in a:
            np.testing.assert_array_equal(a[name], b[name], err_msg=f"{group}.{name}")
        assert any(a[name].shape != c[name].shape or not np.array_equal(a[name], c[name]) for name in a)
    assert not np.array_equal(first.households.base_income, other.households.base_income)


def test_the_residents_do_not_depend_on_the_threads_that_settle_their_places():
    # Places are settled (homes, income levels) beside the drawing of the next ones, or
    # after each is drawn: the residents and the places' levels are the same to the bit.
    sc = scenario(**{"run.places": [*TWO_PLACES, "E08000025"], "run.horizon_months": 1})
    plain, *others = (built(sc, threads=threads) for threads in (1, 2, 3))
    for group in ("households", "young"):
        expected = columns(getattr(plain, group))
        for other in others:
            for name, values in columns(getattr(other, group)).items():
                np.testing.assert_array_equal(values, expected[name], err_msg=f"{group}.{name}")
    for other in others:
        np.testing.assert_array_equal(other.places.income_level, plain.places.income_level)
    assert np.unique(plain.places.income_level).size == 3


def test_seed_zero_is_a_seed_like_any_other():
    sc = scenario(**{"run.places": ["E07000062"], "run.horizon_months": 1})
    zero, one = PfppModel(sc, seed=0).population, PfppModel(sc, seed=1).population
    np.testing.assert_array_equal(zero.households.base_income, PfppModel(sc, seed=0).population.households.base_income)
    assert not np.array_equal(zero.households.base_income, one.households.base_income)


def test_another_replicate_draws_other_residents():
    sc = scenario(**{"run.places": ["E07000062"], "run.horizon_months": 1})
    first, second = PfppModel(sc, seed=4, replicate=0), PfppModel(sc, seed=4, replicate=1)
    assert not np.array_equal(first.population.households.base_income, second.population.households.base_income)


def test_changing_a_lever_does_not_redraw_the_residents():
    sc = scenario(**{"run.places": TWO_PLACES, "run.horizon_months": 24})
    pooled = sc.with_overrides({"levers.pooling": 0.6, "levers.data_sharing": 0.8})
    base, lever = PfppModel(sc, seed=6), PfppModel(pooled, seed=6)
    for group in ("households", "young"):
        a, b = columns(getattr(base.population, group)), columns(getattr(lever.population, group))
        for name in a:
            np.testing.assert_array_equal(a[name], b[name], err_msg=f"{group}.{name}")
    # Income shocks come from their own stream, so they stay paired through a run
    # even though the levers change who gets which intervention.
    base.run()
    lever.run()
    np.testing.assert_array_equal(base.population.households.income_dev, lever.population.households.income_dev)


def test_a_zero_neet_exit_hazard_builds_residents_with_long_spells():
    model = PfppModel(scenario(**{"world.young_people.neet_exit_hazard.value": 0.0, "run.horizon_months": 1, "run.places": ["E06000032"]}), seed=1)
    young = model.population.young
    assert (young.months_neet[young.status == 2] == 36).all()


# ----------------------------------------- D15: young people's homes follow income and tenure


def _homes(**overrides):
    sc = scenario(**{"run.places": ["E06000032", "E08000024"], "run.horizon_months": 1, "run.min_young_people_per_place": 20000, **overrides})
    return PfppModel(sc, seed=7).population


def _income_rank(pop) -> np.ndarray:
    """Each household's income rank within its place, 0 (lowest) to 1."""
    rank = np.empty(pop.households.n)
    for s in pop.households.slices:
        order = np.argsort(pop.households.base_income[s], kind="stable")
        rank[s.start + order] = np.arange(order.size) / order.size
    return rank


def test_neet_young_people_live_in_lower_income_households_and_a_zero_gradient_removes_the_difference():
    graded = _homes()
    flat = _homes(**{"world.young_people.neet_home_income_gradient.value": 0.0})
    for pop, low, high in ((graded, 0.04, 0.12), (flat, -0.015, 0.015)):
        y = pop.young
        rank = _income_rank(pop)[y.household]
        neet = y.status == NEET
        gap = rank[~neet].mean() - rank[neet].mean()
        assert low < gap < high, gap
    np.testing.assert_array_equal(graded.young.status, flat.young.status)  # one draw per person: only homes move


def test_young_peoples_tenure_mix_follows_the_home_weights():
    weights = {"world.young_people.social_rent_home_weight.value": 3.0, "world.young_people.private_rent_home_weight.value": 0.5}
    pop = _homes(**weights)
    h, y = pop.households, pop.young
    for hs, ys in zip(h.slices, y.slices):
        share = np.bincount(h.tenure[hs], minlength=3) / (hs.stop - hs.start)
        others = y.household[ys][y.status[ys] != NEET]
        expected = share * np.array([1.0, 3.0, 0.5]) / (share * np.array([1.0, 3.0, 0.5])).sum()
        observed = np.bincount(h.tenure[others], minlength=3) / others.size
        np.testing.assert_allclose(observed, expected, atol=0.015)


def test_young_peoples_homes_follow_incomes_ranked_with_ties_in_household_order():
    # Given tied incomes, homes are those of a stable ranking (the quick ranking is only
    # taken when no two incomes are equal), and homes found in any order of the draws are
    # those a direct search finds.
    rng = np.random.default_rng(5)
    for income in (rng.lognormal(10, 0.5, 500), rng.integers(0, 20, 500).astype(np.float64)):
        tenure = rng.integers(0, 3, 500).astype(np.uint8)
        neet, draw = rng.random(300) < 0.3, rng.random(300)
        weights = np.array([1.0, 1.4, 1.2])
        homes = young_people_homes(neet, tenure, income, draw, tenure_weight=weights, neet_gradient=1.5)
        rank = np.empty(500)
        rank[np.argsort(income, kind="stable")] = np.arange(500) / 500
        expected = np.empty(300, dtype=np.int64)
        for group, weight in ((~neet, weights[tenure]), (neet, weights[tenure] * np.exp(-1.5 * rank))):
            cumulative = np.cumsum(weight)
            expected[group] = np.searchsorted(cumulative, draw[group] * cumulative[-1], side="right")
        np.testing.assert_array_equal(homes, np.minimum(expected, 499))


@settings(max_examples=200, deadline=None)
@given(
    ratio=st.lists(st.integers(1, 800), min_size=0, max_size=40),
    eligible_draw=st.lists(st.booleans(), min_size=40, max_size=40),
    data=st.data(),
)
def test_the_solved_income_level_lies_halfway_between_the_target_ratio_and_the_next(ratio, eligible_draw, data):
    # The level is defined on the ratios sorted from the largest: half-way between the
    # n_target-th and the next (half the last when every eligible home is to be fuel poor,
    # just above the largest when none is), whatever way it is found.
    n = len(ratio)
    threshold, adjusted = np.array(ratio, dtype=np.float64) / 8, np.ones(n)  # ratios an eighth apart at least
    eligible = np.array(eligible_draw[:n], dtype=bool)
    ordered = np.sort(threshold[eligible])[::-1]
    n_target = data.draw(st.integers(0, ordered.size))
    if ordered.size == 0:
        expected = 1.0
    elif n_target == 0:
        expected = float(ordered[0] * 1.01)
    else:
        upper = ordered[n_target - 1]
        lower = ordered[n_target] if n_target < ordered.size else upper * 0.5
        expected = float(0.5 * (upper + lower))
    assert solve_income_level(adjusted, threshold, eligible, n_target) == expected
    if ordered.size and 0 < n_target < ordered.size and ordered[n_target - 1] > ordered[n_target]:
        assert np.count_nonzero(expected * adjusted[eligible] < threshold[eligible]) == n_target


def test_an_income_level_for_more_fuel_poor_homes_than_bands_d_to_g_hold_is_an_error():
    with pytest.raises(DataError, match="3 fuel-poor households needed but only 2 simulated homes are in bands D-G"):
        solve_income_level(np.ones(4), np.ones(4), np.array([True, True, False, False]), 3)


# ------------------------------------------------------------------ what building draws


def test_each_places_residents_fill_its_slice_one_place_after_another():
    pop = built(scenario(**{"run.horizon_months": 1}))
    for group in (pop.households, pop.young):
        starts, stops = [s.start for s in group.slices], [s.stop for s in group.slices]
        assert starts[0] == 0 and stops[-1] == group.n and starts[1:] == stops[:-1]
        for p, rows in enumerate(group.slices):
            assert rows.stop > rows.start and (group.place[rows] == p).all()


def test_the_residents_columns_keep_their_small_dtypes():
    # A national run holds 23 M households and 6 M young people: the dtypes are its memory.
    pop = built(scenario(**{"run.places": TWO_PLACES, "run.horizon_months": 1}))
    expected = {
        "households": {
            "place": np.int16, "tenure": np.uint8, "base_income": np.float64, "income_dev": np.float32, "income_gain_until": np.int32,
            "band": np.uint8, "means_tested": np.bool_, "bill_support": np.float64, "bill_support_until": np.int32,
            "fuel_poor": np.bool_, "months_cold": np.int32,
        },
        "young": {
            "place": np.int16, "household": np.int32, "age_months": np.int16, "status": np.uint8, "months_neet": np.int16,
            "mh_disorder": np.bool_, "careers_until": np.int32, "ips_until": np.int32, "asb_until": np.int32,
            "job_search_rank": np.uint16, "ilo_status": np.uint8,
        },
    }
    for group, dtypes in expected.items():
        assert {name: values.dtype for name, values in columns(getattr(pop, group)).items()} == {k: np.dtype(v) for k, v in dtypes.items()}
    places = pop.places
    table = data.places(TWO_PLACES)
    np.testing.assert_array_equal(places.real_households, table["households"].to_numpy(dtype=np.float64))
    np.testing.assert_array_equal(places.real_young_people, (table["age_16_17"] + table["age_18_24"]).to_numpy(dtype=np.float64))


def test_income_deviations_start_at_their_stationary_spread():
    # An AR(1) deviation with persistence r and monthly shocks of sd s has spread s / sqrt(1 - r^2).
    sc = scenario(**{"world.households.income_persistence.value": 0.9, "world.households.income_shock_sd.value": 0.1})
    dev = built(sc).households.income_dev
    assert dev.size > 20_000
    assert np.std(dev) == pytest.approx(0.1 / np.sqrt(1 - 0.9**2), rel=0.03)


def test_the_lowest_incomes_nationally_are_means_tested():
    # Owners' incomes are the national distribution (no tenure factor): the means-tested
    # share of them is the share of households below the national cut.
    sc = scenario(**{"run.horizon_months": 1})
    h = built(sc).households
    owners = h.tenure == 0
    share = sc.world.households.means_tested_share.value
    assert np.mean(h.means_tested[owners]) == pytest.approx(share, abs=4 * np.sqrt(share * (1 - share) / owners.sum()))
    assert np.mean(h.means_tested[~owners]) > share  # tenants' incomes are lower


def test_each_places_households_follow_its_census_tenure_shares():
    sc = scenario(**{"run.horizon_months": 1})
    h = built(sc).households
    table = data.places(sc.run.places)
    shares = table[["share_owner", "share_social_rent", "share_private_rent"]].to_numpy()
    for p, rows in enumerate(h.slices):
        expected = shares[p] / shares[p].sum()
        observed = np.bincount(h.tenure[rows], minlength=3) / (rows.stop - rows.start)
        np.testing.assert_allclose(observed, expected, atol=4 * np.sqrt(0.25 / (rows.stop - rows.start)))


def test_tenants_incomes_relative_to_owners_follow_the_tenure_income_factors():
    sc = scenario(**{"run.horizon_months": 1})
    hw = sc.world.households
    h = built(sc).households
    for tenure, factor in ((1, hw.social_rent_income.value), (2, hw.private_rent_income.value)):
        gaps = [
            np.log(h.base_income[rows][h.tenure[rows] == tenure]).mean() - np.log(h.base_income[rows][h.tenure[rows] == 0]).mean()
            for rows in h.slices
        ]
        assert np.mean(gaps) == pytest.approx(np.log(factor), abs=0.05)


def test_neet_shares_at_the_start_are_exactly_the_places_targets():
    # Of Years 12-13, the place's NEET 16-17 share; of those past school, its 18-24 share
    # (rounded to whole young people); the others of 18 or more not NEET are in work with
    # the steady-state chance for their age.
    sc = scenario(**{"run.horizon_months": 1})
    pop = built(sc)
    y, places = pop.young, pop.places
    group = school_group(y.age_months, since_september(sc.run.start_month))
    for p, rows in enumerate(y.slices):
        neet, in_group = y.status[rows] == NEET, group[rows]
        cohort, older = in_group == YEARS_12_13, in_group == AFTER_SCHOOL
        assert neet[cohort].sum() == int(np.rint(places.target_neet_16_17[p] * cohort.sum()))
        assert neet[older].sum() == int(np.rint(places.neet_18_24[p] * older.sum()))
    adults = (y.age_months >= AGE_18) & (y.status != NEET)
    hazard = leaving_education_hazard(sc.world.young_people.employed_share_of_eet.value)
    expected = employed_by_age(y.age_months[adults] - AGE_18, hazard)
    in_work = y.status[adults] == EMPLOYED
    assert in_work.mean() == pytest.approx(expected.mean(), abs=4 * np.sqrt((expected * (1 - expected)).sum()) / adults.sum())


def test_months_already_neet_are_spells_with_the_exit_hazard_capped_at_three_years():
    sc = scenario(**{"world.young_people.neet_exit_hazard.value": 0.2})
    y = built(sc).young
    neet = y.status == NEET
    assert (y.months_neet[~neet] == 0).all()
    months = y.months_neet[neet]
    assert months.min() == 0 and months.max() <= 36
    # A spell of geometric length with exit hazard h has lasted 0 months with chance h:
    # in all places together, and in each place (each young person draws their own).
    assert np.mean(months == 0) == pytest.approx(0.2, abs=4 * np.sqrt(0.2 * 0.8 / months.size))
    for rows in y.slices:
        own = y.months_neet[rows][neet[rows]]
        assert np.mean(own == 0) == pytest.approx(0.2, abs=4 * np.sqrt(0.2 * 0.8 / own.size) + 1 / own.size)


def test_residents_built_without_support_or_payments_are_built_at_the_base_index():
    sc = scenario(**{"run.places": TWO_PLACES, "run.horizon_months": 1})
    plain = built(sc, fuel_price_gbp=1200.0, mh_prevalence=0.15)
    explicit = built(sc, fuel_price_gbp=1200.0, mh_prevalence=0.15, bill_discount_gbp=0.0, means_tested_gbp=0.0, income_index=1.0)
    np.testing.assert_array_equal(plain.households.base_income, explicit.households.base_income)
    np.testing.assert_array_equal(plain.places.income_level, explicit.places.income_level)


def test_a_scenario_without_a_calibration_builds_places_without_trends():
    sc = scenario(**{"run.start": "2019-04", "run.horizon_months": 1}).model_copy(update={"calibration": None})
    places = built(sc).places
    assert not places.income_trend.any() and not places.neet_trend.any()
    np.testing.assert_allclose(places.target_neet_16_17, observed_neet_16_17(places.codes, 2021), rtol=1e-12)


@pytest.mark.parametrize(
    ("table", "column", "what"), [("fuel_poverty", "rate", "LILEE fuel poverty 2021"), ("neet_16_17", "neet_rate", "NEET 16-17 2021")],
)
def test_a_place_without_a_published_rate_cannot_be_built(monkeypatch, table, column, what):
    published, luton = getattr(data, table), "E06000032"  # a unitary authority: its NEET rate is its own

    def without_luton(*args):
        frame = published(*args).copy()
        frame.loc[frame["area_code"] == luton, column] = np.nan
        return frame

    monkeypatch.setattr(data, table, without_luton)
    with pytest.raises(DataError, match=f"no {what} for place {luton} in the vendored data"):
        built(scenario(**{"run.places": TWO_PLACES, "run.horizon_months": 1}))


def test_a_place_missing_from_a_data_table_is_named_in_the_error():
    frame = pd.DataFrame({"area_code": ["E1", "E2", "E3"], "rate": [0.1, np.nan, 0.3]})
    np.testing.assert_array_equal(_lookup(frame, ["E3", "E1"], "rate", "a rate"), [0.3, 0.1])
    for codes, missing in ((["E1", "E2"], "E2"), (["E1", "E9", "E2"], "E9")):
        with pytest.raises(DataError, match=f"no a rate for place {missing} in the vendored data"):
            _lookup(frame, codes, "rate", "a rate")


# --------------------------------------------------------------------- calendar and ages


def test_months_since_september_of_a_month_and_of_an_array_of_months():
    months = np.arange(1, 13)
    expected = [4, 5, 6, 7, 8, 9, 10, 11, 0, 1, 2, 3]
    assert [since_september(int(m)) for m in months] == expected
    np.testing.assert_array_equal(since_september(months), expected)


def test_school_groups_change_on_the_sixteenth_and_eighteenth_academic_birthdays():
    ages = np.array([AGE_16 - 1, AGE_16, AGE_18 - 1, AGE_18, AGE_18 + 5], dtype=np.int16)
    np.testing.assert_array_equal(school_group(ages, 0), [0, 1, 1, 2, 2])
    np.testing.assert_array_equal(school_group(ages + 3, 3), [0, 1, 1, 2, 2])


def test_the_neet_16_17_period_is_the_start_year_within_the_published_years():
    assert [neet_target_period(year) for year in (2015, 2021, 2023, 2024, 2030)] == [2021, 2021, 2023, 2024, 2024]


def test_the_18_to_24_neet_share_follows_the_places_16_17_rate_up_to_its_cap():
    np.testing.assert_allclose(neet_18_24_share(0.12, np.array([0.03, 0.06]), 0.05), [0.072, 0.144])
    np.testing.assert_allclose(neet_18_24_share(0.5, np.array([0.2]), 0.05), [0.6])  # at most 0.6


def test_no_one_is_in_work_before_18_and_the_leaving_hazard_reproduces_the_employed_share():
    np.testing.assert_array_equal(employed_by_age(np.array([-3, 0]), 0.05), [0.0, 0.0])
    assert employed_by_age(np.array([1]), 0.05)[0] == pytest.approx(0.05)
    assert leaving_education_hazard(0.0) == 0.0
    assert leaving_education_hazard(1.0) == 1.0
    assert leaving_education_hazard(0.995) == 1.0  # above what leaving at once gives (83 of 84 months in work)
    months = np.arange(0, 84)
    for share in (0.2, 0.5, 0.8):
        hazard = leaving_education_hazard(share)
        assert 0.0 < hazard < 1.0
        assert employed_by_age(months, hazard).mean() == pytest.approx(share, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    households=st.lists(st.integers(1, 9), min_size=1, max_size=12),
    young=st.data(),
    per_block=st.integers(1, 30),
)
def test_blocks_hold_whole_places_in_order_and_close_once_they_reach_the_block_size(households, young, per_block):
    def slices(sizes):
        bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]

    y_sizes = young.draw(st.lists(st.integers(1, 9), min_size=len(households), max_size=len(households)))
    h_slices, y_slices = slices(households), slices(y_sizes)
    pop = SimpleNamespace(households=SimpleNamespace(slices=h_slices), young=SimpleNamespace(slices=y_slices))
    blocks = place_blocks(pop, per_block)
    assert [p for b in blocks for p in range(b.places.start, b.places.stop)] == list(range(len(households)))
    for i, b in enumerate(blocks):
        own = range(b.places.start, b.places.stop)
        assert b.households == slice(h_slices[own[0]].start, h_slices[own[-1]].stop)
        assert b.young == slice(y_slices[own[0]].start, y_slices[own[-1]].stop)
        assert b.household_slices == [slice(h_slices[p].start - b.households.start, h_slices[p].stop - b.households.start) for p in own]
        assert b.young_slices == [slice(y_slices[p].start - b.young.start, y_slices[p].stop - b.young.start) for p in own]
        np.testing.assert_array_equal(b.household_sizes, [households[p] for p in own])
        np.testing.assert_array_equal(b.young_sizes, [y_sizes[p] for p in own])
        if i + 1 < len(blocks):
            assert sum(households[p] for p in own) >= per_block  # closed once it reached the size
        assert sum(households[p] for p in own[:-1]) < per_block  # not before


def test_place_sizes_are_the_scaled_residents_with_a_minimum_sample_and_at_least_one():
    table = data.places(TWO_PLACES)
    real_h, real_y = table["households"].to_numpy(), (table["age_16_17"] + table["age_18_24"]).to_numpy()
    tiny = scenario(**{"run.scale": 1e-9, "run.min_households_per_place": 0, "run.min_young_people_per_place": 0}).run
    for sizes in place_sizes(tiny, table):
        assert sizes.dtype == np.int64
        np.testing.assert_array_equal(sizes, [1, 1])
    run = scenario(**{"run.scale": 0.01, "run.min_households_per_place": 0, "run.min_young_people_per_place": 3000}).run
    n_h, n_y = place_sizes(run, table)
    np.testing.assert_array_equal(n_h, np.rint(real_h * 0.01))
    np.testing.assert_array_equal(n_y, np.maximum(np.rint(real_y * 0.01), 3000))


@settings(max_examples=100, deadline=None)
@given(
    edges=hnp.arrays(np.float64, st.integers(1, 30), elements=st.integers(0, 20).map(float)),
    keys=hnp.arrays(np.float64, st.integers(0, 40), elements=st.integers(-1, 21).map(float)),
)
def test_homes_are_searched_to_the_right_of_equal_edges(edges, keys):
    edges = np.sort(edges)
    np.testing.assert_array_equal(_search_sorted(edges, keys), np.searchsorted(edges, keys, side="right"))
