"""Runs and comparisons through the Python API."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pandas as pd

from pfpp_sim import compare, load_scenario, run
from pfpp_sim.analysis import paired_differences
from pfpp_sim.workers import execution

SMALL = {"run.places": ["E07000062", "E06000032"], "run.horizon_months": 24}


def small(name: str):
    return load_scenario(name).with_overrides(SMALL)


def test_results_do_not_depend_on_executor_or_workers():
    serial = run(small("siloed_baseline"), seed=5, replicates=3, executor="serial")
    pooled = run(small("siloed_baseline"), seed=5, replicates=3, executor="processes", workers=2)
    pd.testing.assert_frame_equal(serial.monthly, pooled.monthly)
    pd.testing.assert_frame_equal(serial.awards, pooled.awards)
    assert serial.manifest()["execution"] == {"executor": "serial", "workers": 1}
    assert pooled.manifest()["execution"] == {"executor": "processes", "workers": 2}


def test_the_manifest_names_a_given_executor_and_a_dask_clients_scheduler():
    with ThreadPoolExecutor(2) as pool:
        threaded = run(small("siloed_baseline"), seed=5, replicates=2, executor=pool)
    assert threaded.manifest()["execution"] == {"executor": "concurrent.futures.thread.ThreadPoolExecutor"}
    one_job = run(small("siloed_baseline"), seed=5, replicates=1, executor="processes", workers=2)
    assert one_job.manifest()["execution"] == {"executor": "serial", "workers": 1}, "one run needs no pool"
    client = SimpleNamespace(scheduler=SimpleNamespace(address="tcp://10.0.0.5:8786"))
    dask_like = type("ClientExecutor", (), {"_client": client})()
    assert execution(dask_like)["scheduler"] == "tcp://10.0.0.5:8786"
    assert execution("dask", 4, "tcp://10.0.0.5:8786") == {"executor": "dask", "scheduler": "tcp://10.0.0.5:8786"}


def test_replicates_differ_from_each_other():
    results = run(small("siloed_baseline"), seed=5, replicates=2, executor="serial")
    rates = results.monthly[results.monthly["metric"] == "fuel_poverty_rate"]
    by_rep = rates.groupby("replicate")["value"].apply(np.asarray)
    assert not np.array_equal(by_rep[0], by_rep[1])


def test_comparison_of_a_scenario_with_itself_has_zero_difference():
    sc = small("siloed_baseline")
    result = compare(sc, sc, seed=2, replicates=3, executor="serial")
    table = result.comparison
    defined = table["base_mean"].notna()
    assert defined.mean() > 0.8, "most metrics are defined in a two-year run"
    assert (table.loc[defined, "difference"] == 0).all()
    assert table.loc[~defined, "alternative_mean"].isna().all(), "a metric undefined in one run is undefined in the other"


def test_swapping_base_and_alternative_negates_every_difference_and_its_interval():
    base, alternative = small("siloed_baseline"), small("pfpp_joined_up")
    forward = compare(base, alternative, seed=2, replicates=3, executor="serial").comparison.set_index(["place_code", "metric"])
    backward = compare(alternative, base, seed=2, replicates=3, executor="serial").comparison.set_index(["place_code", "metric"])
    backward = backward.loc[forward.index]
    assert (forward["difference"] != 0).sum() > 10, "the two presets differ"
    np.testing.assert_allclose(forward["difference"], -backward["difference"], atol=1e-9)
    np.testing.assert_allclose(forward["ci_low"], -backward["ci_high"], atol=1e-9)
    np.testing.assert_allclose(forward["base_mean"], backward["alternative_mean"])


def test_paired_differences_interval_covers_the_mean_difference():
    rows = []
    for replicate, (a, b) in enumerate([(1.0, 2.0), (2.0, 2.5), (3.0, 4.5)]):
        rows += [("base", replicate, "P", "m", a), ("alt", replicate, "P", "m", b)]
    summary = pd.DataFrame(rows, columns=["scenario", "replicate", "place_code", "metric", "value"])
    out = paired_differences(summary, "base", "alt").iloc[0]
    assert out["difference"] == 1.0
    assert out["ci_low"] < 1.0 < out["ci_high"]
    # t(0.975, 2) * sd([1, .5, 1.5]) / sqrt(3) = 4.303 * 0.5 / 1.732
    assert np.isclose(out["ci_high"] - 1.0, 4.302653 * 0.5 / np.sqrt(3), rtol=1e-5)


def test_annual_rates_average_months_and_money_sums():
    results = run(small("siloed_baseline"), seed=1, executor="serial")
    monthly, annual = results.monthly, results.annual
    place = monthly["place_code"].iloc[0]
    mask = (monthly["place_code"] == place) & (monthly["date"].dt.year == 2022)
    value = monthly[mask].groupby("metric", observed=True)["value"]
    got = annual.set_index(["place_code", "year", "metric"])["value"]
    assert np.isclose(got[(place, 2022, "fuel_poverty_rate")], value.mean()["fuel_poverty_rate"])
    assert np.isclose(got[(place, 2022, "delivered_gbp")], value.sum()["delivered_gbp"])


def test_monthly_and_annual_tables_are_long_with_typed_dates_and_flag_partial_years():
    scenario = small("siloed_baseline").with_overrides({"run.horizon_months": 22})  # April 2021 to January 2023
    results = run(scenario, seed=1, executor="serial")
    monthly, annual = results.monthly, results.annual
    assert list(monthly.columns) == ["scenario", "replicate", "place_code", "month", "date", "year", "partial_year", "metric", "value"]
    assert pd.api.types.is_datetime64_any_dtype(monthly["date"])
    assert (monthly["date"].dt.day == 1).all() and monthly["date"].min() == pd.Timestamp("2021-04-01")
    assert len(monthly) == 2 * 22 * monthly["metric"].nunique()
    partial = monthly.drop_duplicates(["place_code", "year"]).set_index(["place_code", "year"])["partial_year"]
    assert partial.xs(2021, level="year").all() and not partial.xs(2022, level="year").any() and partial.xs(2023, level="year").all()
    months = annual[annual["metric"] == "fuel_poverty_rate"].drop_duplicates("year").set_index("year")
    assert months["months"].to_dict() == {2021: 9, 2022: 12, 2023: 1}
    assert months["partial_year"].to_dict() == {2021: True, 2022: False, 2023: True}
    neet = annual[annual["metric"] == "neet_16_17_rate"].drop_duplicates("year").set_index("year")  # December to February
    assert neet["months"].to_dict() == {2022: 3, 2023: 2} and neet["partial_year"].to_dict() == {2022: False, 2023: True}


def test_saved_tables_carry_the_unit_of_every_metric_in_their_metadata(tmp_path):
    from pfpp_sim.outcomes import OUTCOMES
    from pfpp_sim.storage import table_metadata

    results = compare(small("siloed_baseline"), small("pfpp_joined_up"), seed=1, replicates=2, executor="serial")
    results.save(tmp_path / "out")
    for table in ("monthly", "annual", "summary", "comparison"):
        units = table_metadata(tmp_path / "out" / f"{table}.parquet")["units"]
        frame = pd.read_parquet(tmp_path / "out" / f"{table}.parquet")
        assert set(frame["metric"].astype(str)) <= set(units), table
    assert table_metadata(tmp_path / "out" / "monthly.parquet")["units"]["fuel_poverty_rate"] == OUTCOMES["fuel_poverty_rate"].unit
    assert table_metadata(tmp_path / "out" / "summary.parquet")["units"]["returned_gbp"] == "GBP"
    assert table_metadata(tmp_path / "out" / "awards.parquet") == {}
