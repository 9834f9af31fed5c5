"""Summaries over places: "All places" counts every real resident and pound once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pfpp_sim import data
from pfpp_sim.analysis import ALL_PLACES, all_places_note, equity_rates, summarise_run, trajectory_bands
from pfpp_sim.experiment import run
from pfpp_sim.outcomes import FLOWS, RATES
from pfpp_sim.scenario import load_scenario

EAST_SUSSEX, HASTINGS, LUTON = "E10000011", "E07000062", "E06000032"


@pytest.fixture(scope="module")
def nested_run():
    """East Sussex (county), Hastings (a district inside it) and Luton, one short run."""
    scenario = load_scenario("siloed_baseline").with_overrides(
        {"run.places": [EAST_SUSSEX, HASTINGS, LUTON], "run.horizon_months": 14}
    )
    return run(scenario, seed=5, replicates=1, executor="serial")


def _toy(in_all: list[bool]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Two months of three places with round numbers, for hand-checked totals."""
    codes = ["A", "B", "C"]
    monthly = pd.DataFrame({"place_code": codes * 2, "month": np.repeat([0, 1], 3)})
    for name in RATES:
        monthly[name] = [0.1, 0.3, 0.2] * 2
    for name in FLOWS:
        monthly[name] = [10.0, 20.0, 40.0] * 2
    awards = pd.DataFrame(
        {"place_code": codes, "award_month": [0, 0, 0], "first_delivery": [1, 1, 1], "deadline": [5, 5, 5]}
    )
    places = pd.DataFrame(
        {"place_code": codes, "real_households": [100.0, 40.0, 60.0], "real_young_people": [10.0, 4.0, 6.0], "in_all_places": in_all}
    )
    return monthly, awards, places


def test_all_places_leaves_out_a_place_counted_within_another():
    monthly, awards, places = _toy([True, False, True])
    total = summarise_run(monthly, awards, places).query("place_code == @ALL_PLACES").set_index("metric")["value"]
    assert total["returned_gbp"] == pytest.approx(2 * (10 + 40))  # B is inside A: not added again
    assert total["fuel_poverty_rate"] == pytest.approx((0.1 * 100 + 0.2 * 60) / 160)


def test_all_places_adds_every_place_when_none_is_nested():
    monthly, awards, places = _toy([True, True, True])
    total = summarise_run(monthly, awards, places).query("place_code == @ALL_PLACES").set_index("metric")["value"]
    assert total["returned_gbp"] == pytest.approx(2 * (10 + 20 + 40))
    assert total["fuel_poverty_rate"] == pytest.approx((0.1 * 100 + 0.3 * 40 + 0.2 * 60) / 200)


def test_places_table_says_which_place_is_counted_within_which(nested_run):
    places = nested_run.places.drop_duplicates("place_code").set_index("place_code")
    assert places.loc[HASTINGS, "within_code"] == EAST_SUSSEX
    assert not places.loc[HASTINGS, "in_all_places"]
    assert places.loc[[EAST_SUSSEX, LUTON], "in_all_places"].all()
    assert (places.loc[[EAST_SUSSEX, LUTON], "within_code"] == "").all()


def test_nested_district_is_counted_once_in_run_totals(nested_run):
    summary = nested_run.summary.set_index(["place_code", "metric"])["value"]
    for metric in ("allocated_gbp", "returned_gbp", "overhead_gbp"):
        assert summary[(ALL_PLACES, metric)] == pytest.approx(summary[(EAST_SUSSEX, metric)] + summary[(LUTON, metric)])
    places = nested_run.places.set_index("place_code")
    w = places.loc[[EAST_SUSSEX, LUTON], "real_households"]
    expected = (summary[(EAST_SUSSEX, "fuel_poverty_rate")] * w[EAST_SUSSEX] + summary[(LUTON, "fuel_poverty_rate")] * w[LUTON]) / w.sum()
    assert summary[(ALL_PLACES, "fuel_poverty_rate")] == pytest.approx(expected)


def test_nested_district_is_counted_once_in_trajectories_and_equity(nested_run):
    bands = trajectory_bands(nested_run.monthly, nested_run.places, "fuel_poverty_rate")
    last = bands[bands["month"] == bands["month"].max()].set_index("place_code")["mean"]
    places = nested_run.places.set_index("place_code")
    w = places.loc[[EAST_SUSSEX, LUTON], "real_households"]
    assert last[ALL_PLACES] == pytest.approx((last[EAST_SUSSEX] * w[EAST_SUSSEX] + last[LUTON] * w[LUTON]) / w.sum())
    rates = equity_rates(nested_run.equity, nested_run.places)
    equity = nested_run.equity[nested_run.equity["month"] > nested_run.equity["month"].max() - 12]
    counted = equity[equity["place_code"].isin([EAST_SUSSEX, LUTON]) & (equity["breakdown"] == "tenure")].groupby("group")
    by_group = (counted["fuel_poor"].sum() / counted["households"].sum()).to_dict()
    got = rates[(rates["breakdown"] == "tenure") & (rates["metric"] == "fuel_poverty_rate")].set_index("group")["value"]
    assert got.to_dict() == pytest.approx(by_group)


def test_all_places_note_names_the_nested_places(nested_run):
    note = all_places_note(nested_run.places)
    assert "Hastings" in note and "East Sussex" in note
    assert all_places_note(nested_run.places[nested_run.places["place_code"] != HASTINGS]) == ""


def test_nesting_comes_from_the_vendored_county_lookup():
    assert data.nested_places([EAST_SUSSEX, HASTINGS, LUTON]) == {HASTINGS: EAST_SUSSEX}
    assert data.nested_places([HASTINGS, LUTON]) == {}
    assert data.nested_places(list(data.PILOT_CODES)) == {HASTINGS: EAST_SUSSEX}
