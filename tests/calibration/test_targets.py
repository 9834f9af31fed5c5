"""Calibration targets: the official moments a baseline must reproduce, and their weights."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from pfpp_sim import data
from pfpp_sim.calibration import observed_targets
from pfpp_sim.calibration.targets import (
    FUEL_POVERTY,
    FUEL_POVERTY_SD,
    NEET_16_17,
    NEET_SD_FLOOR,
    SERIES,
    complete_places,
    missing_moments,
    sample_places,
)

HASTINGS, EAST_SUSSEX, SUNDERLAND = "E07000062", "E10000011", "E08000024"


def test_targets_are_lilee_from_2019_and_a_districts_neet_is_its_countys():
    targets = observed_targets(["E07000062", "E10000011"])  # Hastings, East Sussex
    fuel = targets[targets.metric == FUEL_POVERTY]
    assert sorted(fuel.year.unique()) == list(SERIES[FUEL_POVERTY])  # no LIHC years before the break
    neet = targets[targets.metric == NEET_16_17].pivot(index="year", columns="place_code", values="observed")
    np.testing.assert_array_equal(neet["E07000062"], neet["E10000011"])
    assert (targets.sd > 0).all()
    assert observed_targets(["E07000062"], through=2020).year.max() == 2020


def test_samples_of_places_are_reproducible_and_exclude_pilots():
    first, again = sample_places(10, seed=3), sample_places(10, seed=3)
    assert first == again and len(set(first)) == 10
    assert not set(first) & set(data.PILOT_CODES)
    with pytest.raises(ValueError, match="sample size"):
        sample_places(10_000, seed=3)


def test_a_neet_moments_sd_is_the_binomial_error_of_its_cohort_and_never_below_the_floor(monkeypatch):
    published = data.neet_16_17()
    row = published[(published.area_code == SUNDERLAND) & (published.time_period == 2022)].iloc[0]
    neet = observed_targets([SUNDERLAND]).set_index(["metric", "year"])
    assert neet.loc[(NEET_16_17, 2022), "observed"] == row.neet_rate
    binomial = np.sqrt(row.neet_rate * (1 - row.neet_rate) / row.cohort)
    assert binomial > NEET_SD_FLOOR and neet.loc[(NEET_16_17, 2022), "sd"] == pytest.approx(binomial, rel=1e-12)
    assert (neet.loc[FUEL_POVERTY, "sd"] == FUEL_POVERTY_SD).all(), "DESNZ publishes no error: the assumed one"
    # A cohort so large that the binomial error falls below the floor takes the floor.
    monkeypatch.setattr(data, "neet_16_17", lambda: published.assign(cohort=published.cohort * 10_000))
    floored = observed_targets([SUNDERLAND])
    assert (floored[floored.metric == NEET_16_17].sd == NEET_SD_FLOOR).all()


def test_a_year_a_place_has_no_published_figure_for_is_no_moment_and_is_named_as_missing(monkeypatch):
    fuel, neet = data.fuel_poverty("LILEE"), data.neet_16_17()
    def lilee_without_hastings_2020(measure):
        assert measure == "LILEE", "the targets never mix in LIHC"
        return fuel[~((fuel.area_code == HASTINGS) & (fuel.data_year == 2020))]

    monkeypatch.setattr(data, "fuel_poverty", lilee_without_hastings_2020)
    monkeypatch.setattr(data, "neet_16_17", lambda: neet[~((neet.area_code == EAST_SUSSEX) & (neet.time_period == 2023))])
    targets = observed_targets([HASTINGS, EAST_SUSSEX])
    have = set(targets[["place_code", "metric", "year"]].itertuples(index=False, name=None))
    assert (HASTINGS, FUEL_POVERTY, 2020) not in have and (EAST_SUSSEX, FUEL_POVERTY, 2020) in have
    assert not {(HASTINGS, NEET_16_17, 2023), (EAST_SUSSEX, NEET_16_17, 2023)} & have, "a district takes its county's NEET"
    assert len(targets) == 2 * 7 - 3
    assert missing_moments(targets, [HASTINGS, EAST_SUSSEX]) == {
        HASTINGS: [f"{FUEL_POVERTY} 2020", f"{NEET_16_17} 2023"],
        EAST_SUSSEX: [f"{NEET_16_17} 2023"],
    }


def test_a_place_fitted_without_any_published_moment_is_named_with_everything_it_lacks():
    moments = pd.DataFrame([("A", m, y) for m, years in SERIES.items() for y in years], columns=["place_code", "metric", "year"])
    lacking = missing_moments(moments[moments.year != 2019], ["A", "B"])
    assert lacking == {"A": ["fuel_poverty_rate 2019"], "B": [f"{m} {y}" for m, years in SERIES.items() for y in years]}
    assert missing_moments(moments, ["A"]) == {}


def test_a_sample_may_hold_one_place_or_every_complete_place_outside_the_pilots_and_no_other_number():
    pool = [c for c in complete_places() if c not in data.PILOT_CODES]
    assert len(sample_places(1, seed=0)) == 1
    assert sample_places(len(pool), seed=0) == pool
    for n in (0, len(pool) + 1):
        with pytest.raises(ValueError, match=f"^{re.escape(f'expected a sample size from 1 to {len(pool)}, got {n}')}$"):
            sample_places(n, seed=0)
