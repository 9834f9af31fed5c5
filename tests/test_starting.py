"""A replicate's starting residents: built once per process, each run stepping its own copy."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pfpp_sim import starting
from pfpp_sim.exogenous import exogenous_paths, month_dates
from pfpp_sim.population import build_population
from pfpp_sim.scenario import load_scenario
from pfpp_sim.streams import stream

PLACES = ["E07000062", "E06000032"]  # Hastings, Luton


def small(name: str = "siloed_baseline", **overrides):
    return load_scenario(name).with_overrides({"run.places": PLACES, "run.horizon_months": 12, **overrides})


def columns(population) -> dict[str, np.ndarray]:
    return {
        f"{group.__class__.__name__}.{f.name}": getattr(group, f.name)
        for group in (population.households, population.young)
        for f in dataclasses.fields(group)
        if isinstance(getattr(group, f.name), np.ndarray)
    }


def built(scenario, seed: int, replicate: int):
    terms = starting.solved_at(scenario, exogenous_paths(scenario))
    return build_population(scenario, stream(seed, replicate, "population"), **terms)


def kept(scenario, seed: int, replicate: int):
    return starting.starting_population(scenario, exogenous_paths(scenario), seed=seed, replicate=replicate)


def test_kept_residents_are_those_built_for_the_replicate_whatever_the_levers():
    starting._kept.cache_clear()
    first = kept(small(), 3, 1)
    again = kept(small("pfpp_joined_up"), 3, 1)
    assert starting._kept.cache_info().hits == 1  # built once, for both
    expected = columns(built(small(), 3, 1))
    for population in (first, again):
        got = columns(population)
        assert got.keys() == expected.keys()
        for name, values in expected.items():
            np.testing.assert_array_equal(got[name], values, err_msg=name)


def test_each_run_steps_its_own_copy_of_the_kept_residents():
    first = kept(small(), 4, 0)
    first.households.income_dev[:] = 99.0
    first.young.status[:] = 0
    second = kept(small(), 4, 0)
    np.testing.assert_array_equal(second.households.income_dev, built(small(), 4, 0).households.income_dev)
    assert not np.shares_memory(first.young.status, second.young.status)


def test_other_starting_prices_get_their_own_residents():
    after_data = small(**{"run.start": "2022-04"})  # solved at its first month's price
    exo = exogenous_paths(after_data)
    dearer = dataclasses.replace(exo, price_gbp=exo.price_gbp * 2)
    again = starting.starting_population(after_data, dearer, seed=9, replicate=0)
    expected = build_population(after_data, stream(9, 0, "population"), **starting.solved_at(after_data, dearer))
    np.testing.assert_array_equal(again.households.base_income, expected.households.base_income)
    assert not np.array_equal(again.households.base_income, kept(after_data, 9, 0).households.base_income)


def test_a_start_in_its_data_year_is_solved_at_that_years_mean_price_support_and_income():
    # LILEE 2019 stands for the whole year's bills: the cap was GBP 1,137 a year for a
    # typical home to March, 1,254 to September and 1,179 to December.
    for start in ("2019-01", "2019-07"):
        scenario = small(**{"run.start": start, "world.households.price_pass_through.value": 1.0})
        terms = starting.solved_at(scenario, exogenous_paths(scenario))
        assert terms["fuel_price_gbp"] == pytest.approx((3 * 1137 + 6 * 1254 + 3 * 1179) / 12, abs=1.0), start
    # A start in April 2021 is solved at 2021's means: the cap changed in April and October
    # and the median income steps up each April, so the means lie between its months'.
    scenario = small(**{"run.start": "2021-04"})
    year = exogenous_paths(scenario, month_dates("2021-01", 12))
    terms = starting.solved_at(scenario, exogenous_paths(scenario))
    for arg, path in {"fuel_price_gbp": "price_gbp", "income_index": "income_index"}.items():
        values = getattr(year, path)
        assert values.min() < terms[arg] < values.max(), arg


def test_a_start_after_its_data_year_is_solved_at_its_first_month():
    scenario = small(**{"run.start": "2022-10"})  # LILEE's latest data year is 2021
    exo = exogenous_paths(scenario)
    terms = starting.solved_at(scenario, exo)
    assert terms == {
        "fuel_price_gbp": exo.price_gbp[0], "bill_discount_gbp": exo.bill_discount_gbp[0],
        "means_tested_gbp": exo.means_tested_gbp[0], "income_index": exo.income_index[0],
        "mh_prevalence": exo.mh_prevalence[0],
    }


def test_another_world_seed_or_replicate_gets_its_own_residents():
    base = columns(kept(small(), 5, 0))["Households.base_income"]
    from_2019 = small(**{"run.start": "2019-04"})  # NEET 16-17 carried back to it by the fit's trends
    for scenario, seed, replicate in [
        (small(**{"world.households.median_income.value": 30000}), 5, 0),
        (small(**{"run.places": PLACES[::-1]}), 5, 0),
        (small(), 6, 0),
        (small(), 5, 1),
    ]:
        other = columns(kept(scenario, seed, replicate))["Households.base_income"]
        assert not np.array_equal(other, base)
    fitted = columns(kept(from_2019, 5, 0))["Households.base_income"]
    unfitted = columns(kept(from_2019.model_copy(update={"calibration": None}), 5, 0))["Households.base_income"]
    assert not np.array_equal(fitted, unfitted)


@pytest.mark.parametrize(("limit", "kept_size"), [(3999, 0), (4000, 1)])
def test_a_population_of_more_households_than_the_keeping_limit_is_built_for_each_run(monkeypatch, limit, kept_size):
    # small() has 4,000 households (and 2,000 young people): kept up to a limit of 4,000.
    monkeypatch.setattr(starting, "KEEP_HOUSEHOLDS", limit)
    starting._kept.cache_clear()
    kept(small(), 8, 0)
    assert starting._kept.cache_info().currsize == kept_size
