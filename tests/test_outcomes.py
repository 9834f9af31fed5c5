"""Equity breakdown: outcomes by tenure and by household income quintile."""

from __future__ import annotations

import numpy as np
import pytest

from pfpp_sim import residents
from pfpp_sim.experiment import run
from pfpp_sim.model import PfppModel
from pfpp_sim.outcomes import EQUITY_GROUPS, resident_equity, resident_rates
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
    monthly = small_run.monthly.set_index(["replicate", "place_code", "month"]).loc[totals.index]
    np.testing.assert_allclose(totals["fuel_poor"] / totals["households"], monthly["fuel_poverty_rate"], rtol=1e-12)
    np.testing.assert_allclose(totals["neet_16_24"] / totals["young_people"], monthly["neet_16_24_rate"], rtol=1e-12)
    np.testing.assert_allclose(totals["youth_mh"] / totals["young_people"], monthly["youth_mh_rate"], rtol=1e-12)


def test_groups_cover_every_real_household_once_per_breakdown(small_run):
    equity = small_run.equity[small_run.equity["month"] == 0]
    real = small_run.places.drop_duplicates("place_code").set_index("place_code")["real_households"]
    for breakdown, rows in equity.groupby("breakdown"):
        households = rows.groupby(["replicate", "place_code"])["households"].sum()
        np.testing.assert_allclose(households.to_numpy(), real.loc[households.index.get_level_values("place_code")].to_numpy())
    assert set(zip(equity["breakdown"], equity["group"])) == set(EQUITY_GROUPS)


def test_income_quintiles_are_equal_fifths_and_the_lowest_is_most_fuel_poor(small_run):
    quintiles = small_run.equity[(small_run.equity["breakdown"] == "income_quintile") & (small_run.equity["month"] == 0)]
    for _, place in quintiles.groupby(["replicate", "place_code"]):
        assert place["households"].max() - place["households"].min() <= place["households"].sum() * 0.001
        rates = (place["fuel_poor"] / place["households"]).to_numpy()
        assert rates[0] == rates.max()


def test_counts_made_block_by_block_give_the_rates_and_equity_counts_of_all_places(monkeypatch):
    monkeypatch.setattr(residents, "BLOCK_HOUSEHOLDS", 3_000)  # several places per block, several blocks
    scenario = load_scenario("siloed_baseline").with_overrides({"run.horizon_months": 3})
    model = PfppModel(scenario, seed=4)
    assert 1 < len(model.blocks) < model.population.places.n
    for _ in range(3):
        model.step()
        rates, equity = resident_rates(model.population), resident_equity(model.population, model.equity_groups)
        for name, values in rates.items():
            np.testing.assert_array_equal(model.rates[name], values)
        for name, values in equity.items():
            np.testing.assert_array_equal(model.equity_records[-1][name], values)
