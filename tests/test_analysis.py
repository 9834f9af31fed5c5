"""Summaries over places: "All places" counts every real resident and pound once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pfpp_sim import data
from pfpp_sim.analysis import (
    ALL_PLACES,
    SUMMARY_METRICS,
    all_places_note,
    equity_rates,
    mean_interval,
    paired_differences,
    repeated_place,
    summarise_columns,
    summarise_run,
    trajectory_bands,
    trajectory_differences,
)
from pfpp_sim.experiment import run, run_summary
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


def test_a_summary_only_run_counts_a_nested_district_as_the_full_runs_summary_does(nested_run):
    (scenario,) = nested_run.scenarios.values()
    expected = nested_run.summary.drop(columns=["scenario", "replicate"])
    pd.testing.assert_frame_equal(run_summary(scenario, 5, 0), expected, check_exact=True)


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


# ------------------------------------------------ summaries checked by hand


def _months(n_months: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Two places over ``n_months`` whose rates rise by 0.01 a month and flows by 1 a month."""
    codes = ["A", "B"]
    month = np.repeat(np.arange(n_months), 2)
    monthly = pd.DataFrame({"place_code": codes * n_months, "month": month})
    for i, name in enumerate(RATES):
        monthly[name] = 0.1 * (i + 1) + 0.01 * month + np.tile([0.0, 0.05], n_months)
    for name in FLOWS:
        monthly[name] = 1.0 + month + np.tile([0.0, 100.0], n_months)
    monthly["retrofits"] = np.tile([2.0, 0.0], n_months)
    monthly["retrofits_to_fuel_poor"] = np.tile([1.0, 0.0], n_months)
    awards = pd.DataFrame(
        {"place_code": ["A", "A", "B"], "award_month": [0, 2, 0], "first_delivery": [3, -1, 0], "deadline": [12, 10, 13]}
    )
    places = pd.DataFrame(
        {"place_code": codes, "real_households": [300.0, 100.0], "real_young_people": [10.0, 30.0], "in_all_places": [True, True]}
    )
    return monthly, awards, places


def test_a_run_summary_takes_rates_over_the_last_year_and_totals_money_over_the_run():
    monthly, awards, places = _months(15)
    summary = summarise_run(monthly, awards, places).set_index(["place_code", "metric"])["value"]
    last_year = np.arange(3, 15)  # months 3..14
    for i, name in enumerate(RATES):
        a = 0.1 * (i + 1) + 0.01 * last_year.mean()
        assert summary["A", name] == pytest.approx(a) and summary["B", name] == pytest.approx(a + 0.05)
        weight = (300, 100) if RATES[name].weight == "households" else (10, 30)
        assert summary[ALL_PLACES, name] == pytest.approx((a * weight[0] + (a + 0.05) * weight[1]) / sum(weight))
    money = sum(1.0 + m for m in range(15))
    assert summary["A", "returned_gbp"] == money and summary["B", "returned_gbp"] == money + 1500
    assert summary[ALL_PLACES, "returned_gbp"] == 2 * money + 1500
    # waits: A 3 - 0 and, never delivered, its deadline 10 - 2; B delivered in its award month, month 0
    assert summary["A", "months_to_first_delivery"] == (3 + 8) / 2 and summary["B", "months_to_first_delivery"] == 0
    assert summary[ALL_PLACES, "months_to_first_delivery"] == pytest.approx((3 + 8 + 0) / 3)
    assert summary["A", "retrofit_fuel_poor_share"] == 0.5 and np.isnan(summary["B", "retrofit_fuel_poor_share"])
    assert summary[ALL_PLACES, "retrofit_fuel_poor_share"] == 0.5
    assert set(summary.index.get_level_values("metric")) == set(SUMMARY_METRICS)


def test_the_summary_of_a_runs_columns_is_the_summary_of_its_tables():
    monthly, awards, places = _months(15)
    columns = [{name: frame[name].to_numpy() for name in frame.columns} for frame in (monthly, awards, places)]
    pd.testing.assert_frame_equal(summarise_columns(*columns), summarise_run(monthly, awards, places), check_exact=True)


def test_a_summary_without_retrofits_or_awards_leaves_their_shares_and_waits_undefined():
    monthly, awards, places = _months(3)
    monthly["retrofits"] = 0.0
    summary = summarise_run(monthly, awards.iloc[:0], places).set_index(["place_code", "metric"])["value"]
    assert np.isnan(summary[ALL_PLACES, "retrofit_fuel_poor_share"]) and np.isnan(summary[ALL_PLACES, "months_to_first_delivery"])
    assert np.isnan(summary["A", "months_to_first_delivery"])


def _pairs(values: dict[str, list[float]]) -> pd.DataFrame:
    rows = [(scenario, r, "P", "m", v) for scenario, vs in values.items() for r, v in enumerate(vs)]
    return pd.DataFrame(rows, columns=["scenario", "replicate", "place_code", "metric", "value"])


def test_paired_differences_give_each_mean_the_t_interval_at_the_confidence_asked_for():
    summary = _pairs({"base": [1.0, 2.0, 3.0, 4.0], "alt": [2.0, 2.5, 4.5, 5.0]})  # differences 1, .5, 1.5, 1
    row = paired_differences(summary, "base", "alt", confidence=0.9).iloc[0]
    assert (row["base_mean"], row["alternative_mean"], row["difference"], row["n"]) == (2.5, 3.5, 1.0, 4)
    half = 2.353363 * np.std([1, 0.5, 1.5, 1], ddof=1) / 2  # t(0.95, 3) sd / sqrt(4)
    assert row["ci_low"] == pytest.approx(1.0 - half, rel=1e-6) and row["ci_high"] == pytest.approx(1.0 + half, rel=1e-6)
    assert list(paired_differences(summary, "base", "alt").columns) == [
        "place_code", "metric", "base_mean", "alternative_mean", "difference", "n", "ci_low", "ci_high"
    ]


def test_a_replicate_missing_from_one_side_is_left_out_and_one_pair_has_no_interval():
    summary = _pairs({"base": [1.0, 2.0], "alt": [4.0]})
    row = paired_differences(summary, "base", "alt").iloc[0]
    assert (row["difference"], row["n"]) == (3.0, 1) and np.isnan(row["ci_low"]) and np.isnan(row["ci_high"])


def test_mean_interval_gives_each_groups_mean_and_t_interval():
    values = pd.DataFrame({"g": ["x", "x", "x", "y"], "value": [1.0, 2.0, 6.0, 5.0]})
    out = mean_interval(values, ["g"], confidence=0.95).set_index("g")
    half = 4.302653 * np.std([1, 2, 6], ddof=1) / np.sqrt(3)
    assert out.loc["x", "mean"] == 3.0 and out.loc["x", "n"] == 3
    assert out.loc["x", "ci_low"] == pytest.approx(3.0 - half, rel=1e-6) and out.loc["x", "ci_high"] == pytest.approx(3.0 + half, rel=1e-6)
    assert out.loc["y", "mean"] == 5.0 and np.isnan(out.loc["y", "ci_low"])
    assert list(out.reset_index().columns) == ["g", "mean", "ci_low", "ci_high", "n"]


def _monthly_long(values: dict[tuple[str, int, str], list[float]]) -> pd.DataFrame:
    rows = [
        (scenario, replicate, code, month, pd.Timestamp(2022, month + 1, 1), "fuel_poverty_rate", v)
        for (scenario, replicate, code), vs in values.items()
        for month, v in enumerate(vs)
    ]
    return pd.DataFrame(rows, columns=["scenario", "replicate", "place_code", "month", "date", "metric", "value"])


TWO_PLACES = pd.DataFrame(
    {"place_code": ["A", "B"], "real_households": [300.0, 100.0], "real_young_people": [1.0, 1.0], "in_all_places": [True, True]}
)


def test_trajectory_bands_give_the_mean_and_central_range_over_replicates_for_each_place_and_all_places():
    monthly = _monthly_long({
        ("s", r, code): [v + 0.1 * r, v + 0.2 * r] for r in range(5) for code, v in (("A", 0.1), ("B", 0.5))
    })
    bands = trajectory_bands(monthly, TWO_PLACES, "fuel_poverty_rate", coverage=0.5).set_index(["place_code", "month"])
    reps = 0.1 + 0.1 * np.arange(5)
    assert bands.loc[("A", 0), "mean"] == pytest.approx(reps.mean())
    assert bands.loc[("A", 0), "low"] == pytest.approx(np.quantile(reps, 0.25))
    assert bands.loc[("A", 0), "high"] == pytest.approx(np.quantile(reps, 0.75))
    together = (0.1 * 300 + 0.5 * 100) / 400
    assert bands.loc[(ALL_PLACES, 0), "mean"] == pytest.approx(together + 0.2)  # replicates add 0.1 r to both places
    assert bands.loc[(ALL_PLACES, 1), "high"] == pytest.approx(together + 0.2 * 3)
    assert bands.loc[("B", 1), "date"] == pd.Timestamp(2022, 2, 1)


def test_trajectory_differences_pair_replicates_and_give_a_t_interval():
    monthly = _monthly_long({
        **{("base", r, "A"): [0.2, 0.2 + 0.01 * r] for r in range(3)},
        **{("alt", r, "A"): [0.1, 0.1 + 0.03 * r] for r in range(3)},
    })
    out = trajectory_differences(monthly, TWO_PLACES, "fuel_poverty_rate", "base", "alt").set_index(["place_code", "month"])
    assert list(out.reset_index().columns) == ["place_code", "month", "date", "mean", "low", "high"]
    assert out.loc[("A", 0), "mean"] == pytest.approx(-0.1) and out.loc[("A", 0), "low"] == pytest.approx(-0.1)
    differences = [-0.1 + 0.02 * r for r in range(3)]
    half = 4.302653 * np.std(differences, ddof=1) / np.sqrt(3)
    assert out.loc[("A", 1), "mean"] == pytest.approx(-0.08)
    assert out.loc[("A", 1), "high"] == pytest.approx(-0.08 + half, rel=1e-5)
    assert out.loc[(ALL_PLACES, 1), "mean"] == pytest.approx(-0.08), "B has no rows: all places is A"


def test_equity_rates_sum_counts_over_the_last_months_of_counted_places():
    rows = []
    for month in range(4):
        for code in ("A", "B"):
            rows.append({"scenario": "s", "replicate": 0, "place_code": code, "month": month, "breakdown": "tenure",
                         "group": "owner", "households": 100.0, "fuel_poor": 10.0 * (month + 1) if code == "A" else 50.0,
                         "young_people": 10.0, "neet_16_24": 1.0, "youth_mh": 2.0, "young_16_17": 4.0, "neet_16_17": 1.0})
    equity = pd.DataFrame(rows)
    places = TWO_PLACES.assign(in_all_places=[True, False])
    out = equity_rates(equity, places, last_months=2).set_index("metric")["value"]
    assert out["fuel_poverty_rate"] == pytest.approx((30 + 40) / 200)  # A's months 2 and 3 only
    assert out["neet_16_17_rate"] == 0.25 and out["neet_16_24_rate"] == 0.1 and out["youth_mh_rate"] == 0.2


def test_repeated_place_names_the_one_place_all_places_would_repeat():
    assert repeated_place(TWO_PLACES) is None
    assert repeated_place(TWO_PLACES.assign(in_all_places=[False, True])) == "B"
    assert all_places_note(TWO_PLACES.assign(place_name=["a", "b"], within_code=["", ""])) == ""


def test_two_replicates_give_an_interval_on_one_degree_of_freedom_at_the_default_95_percent():
    row = paired_differences(_pairs({"base": [1.0, 2.0], "alt": [2.0, 4.0]}), "base", "alt").iloc[0]  # differences 1 and 2
    half = 12.706205 * np.std([1, 2], ddof=1) / np.sqrt(2)  # t(0.975, 1)
    assert row["ci_high"] == pytest.approx(1.5 + half, rel=1e-6)
    out = mean_interval(pd.DataFrame({"g": ["x", "x"], "value": [1.0, 2.0]}), ["g"]).iloc[0]
    assert out["ci_low"] == pytest.approx(1.5 - half, rel=1e-6)


def test_trajectories_weight_young_peoples_rates_by_young_people_and_leave_out_places_counted_within_others():
    rows = {("s", r, code): [v + 0.01 * r] for r in range(3) for code, v in (("A", 0.1), ("B", 0.5), ("C", 0.9))}
    monthly = _monthly_long(rows).assign(metric="neet_16_24_rate")
    places = pd.DataFrame({
        "place_code": ["A", "B", "C"] * 3, "real_households": [1.0, 1.0, 1.0] * 3, "real_young_people": [30.0, 10.0, 5.0] * 3,
        "in_all_places": [True, True, False] * 3,  # one row per replicate and place, as runs give them; C is inside A
        "replicate": np.repeat([0, 1, 2], 3),
    })
    bands = trajectory_bands(monthly, places, "neet_16_24_rate").set_index(["place_code", "month"])
    assert bands.loc[(ALL_PLACES, 0), "mean"] == pytest.approx((0.1 * 30 + 0.5 * 10) / 40 + 0.01)
    two = pd.concat([monthly, monthly.assign(scenario="t", value=monthly["value"] + 0.02 + 0.005 * monthly["replicate"])])
    diff = trajectory_differences(two, places, "neet_16_24_rate", "s", "t", confidence=0.5).set_index(["place_code", "month"])
    half = 0.816497 * 0.005 / np.sqrt(3)  # t(0.75, 2) sd / sqrt(3)
    assert diff.loc[("C", 0), "mean"] == pytest.approx(0.025) and diff.loc[(ALL_PLACES, 0), "low"] == pytest.approx(0.025 - half, rel=1e-5)


def test_the_note_names_every_place_counted_within_another_from_a_table_of_replicates():
    places = pd.DataFrame({
        "place_code": ["K", "d1", "d2"] * 2, "place_name": ["Kent", "Dover", "Thanet"] * 2, "within_code": ["", "K", "K"] * 2,
        "replicate": np.repeat([0, 1], 3),
    })
    assert all_places_note(places) == "All places counts every resident and pound once: Dover within Kent, Thanet within Kent, not again."
