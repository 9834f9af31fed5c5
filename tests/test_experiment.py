"""Runs and comparisons through the Python API."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from pfpp_sim import compare, load_scenario, run
from pfpp_sim import workers as workers_module
from pfpp_sim.analysis import paired_differences
from pfpp_sim.errors import PfppError
from pfpp_sim.experiment import run_replicate, run_summary
from pfpp_sim.model import PfppModel
from pfpp_sim.outcomes import OUTCOMES
from pfpp_sim.storage import claim_folder
from pfpp_sim.workers import execution

SMALL = {"run.places": ["E07000062", "E06000032"], "run.horizon_months": 24}


def small(name: str):
    return load_scenario(name).with_overrides(SMALL)


def test_results_do_not_depend_on_executor_or_workers():
    serial = run(small("siloed_baseline"), seed=5, replicates=3, executor="serial")
    pooled = run(small("siloed_baseline"), seed=5, replicates=3, executor="processes", workers=3)
    pd.testing.assert_frame_equal(serial.monthly, pooled.monthly)
    pd.testing.assert_frame_equal(serial.awards, pooled.awards)
    assert serial.manifest()["execution"] == {"executor": "serial", "workers": 1}
    assert pooled.manifest()["execution"] == {"executor": "processes", "workers": 3}
    assert 0 < serial.seconds < 600 and 0 < pooled.seconds < 600


def test_a_local_dask_cluster_gives_the_same_runs_as_this_process_and_says_so():
    serial = run(small("siloed_baseline"), seed=5, replicates=2, executor="serial")
    on_dask = run(small("siloed_baseline"), seed=5, replicates=2, executor="dask", workers=1)
    pd.testing.assert_frame_equal(serial.monthly, on_dask.monthly)
    pd.testing.assert_frame_equal(serial.awards, on_dask.awards)
    assert on_dask.manifest()["execution"] == {"executor": "dask", "workers": 1, "scheduler": "local cluster"}


def test_an_unknown_executor_is_refused_before_anything_runs():
    with pytest.raises(PfppError, match=r"^unknown executor 'threads': expected serial, processes or dask$"):
        run(small("siloed_baseline"), executor="threads", progress=lambda *_: pytest.fail("a replicate ran"))


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


# --------------------------------------------------- the tables of one replicate


@pytest.fixture
def one_run():
    """A joined-up run (pooled and siloed awards, carry-over) and the same model run directly.

    Built for each test, not once per module: mutation testing runs only the tests that
    reached a function, and a shared fixture reaches it in the first test alone.
    """
    scenario = small("pfpp_joined_up")
    return run_replicate(scenario, 3, 1), PfppModel(scenario, seed=3, replicate=1).run()


def test_the_awards_table_holds_every_award_as_the_model_recorded_it_in_pounds(one_run):
    output, model = one_run
    awards = output.awards.set_index("award_id")
    assert len(awards) == len(model.awards) and awards["pooled"].any() and not awards["pooled"].all()
    for a in model.awards:
        row = awards.loc[a.award_id]
        assert (row["programme"], row["department"], row["place_code"]) == (a.programme, a.department, model.population.places.codes[a.place])
        assert (row["round"], row["pooled"], row["competitive"]) == (a.round, a.pooled, a.competitive)
        assert (row["award_month"], row["period_start"], row["deadline"]) == (a.award_month, a.period_start, a.deadline)
        assert row["first_delivery"] == a.first_delivery or (pd.isna(row["first_delivery"]) and a.first_delivery is None)
        pence = (a.allocated_p, a.delivered_p, a.overhead_p, a.returned_p, a.held_total_p, a.duplicated_p)
        pounds = ("allocated_gbp", "delivered_gbp", "grant_overhead_gbp", "returned_gbp", "held_gbp", "duplicated_gbp")
        assert [row[c] for c in pounds] == [p / 100 for p in pence], a.award_id


def test_a_summary_only_run_gives_the_full_runs_summary(one_run):
    output, _ = one_run
    pd.testing.assert_frame_equal(run_summary(small("pfpp_joined_up"), 3, 1), output.summary)


def test_the_spending_table_splits_each_awards_money_by_intervention_in_pounds(one_run):
    output, model = one_run
    spending = output.spending.set_index(["award_id", "intervention"])
    expected = {
        (a.award_id, key): (a.delivered_by_p.get(key, 0) / 100, a.returned_by_p.get(key, 0) / 100, a.held_p.get(key, 0) / 100)
        for a in model.awards
        for key in set(a.held_p) | set(a.delivered_by_p) | set(a.returned_by_p)
    }
    assert set(spending.index) == set(expected)
    got = {k: tuple(v) for k, v in spending[["delivered_gbp", "returned_gbp", "held_gbp"]].iterrows()}
    assert got == expected
    assert spending["delivered_gbp"].sum() > 0 and spending["held_gbp"].sum() > 0
    per_award = output.spending.groupby("award_id")["intervention"].apply(list)
    assert all(keys == sorted(keys) for keys in per_award), "interventions in order within each award"


def test_money_returned_at_deadlines_is_in_the_awards_and_spending_tables_in_pounds():
    # A siloed run without carry-over returns what its awards have not spent by their deadlines.
    scenario = small("siloed_baseline")
    output, model = run_replicate(scenario, 3, 1), PfppModel(scenario, seed=3, replicate=1).run()
    assert sum(a.returned_p for a in model.awards) > 0
    returned = output.awards.set_index("award_id")["returned_gbp"]
    assert {a.award_id: a.returned_p / 100 for a in model.awards} == returned.to_dict()
    spending = output.spending.set_index(["award_id", "intervention"])["returned_gbp"]
    expected = {(a.award_id, key): pence / 100 for a in model.awards for key, pence in a.returned_by_p.items()}
    assert expected and {k: spending[k] for k in expected} == expected
    assert spending.drop(list(expected)).eq(0).all(), "nothing returned from the other interventions"


def test_the_events_table_lists_the_models_events_in_order_and_the_seconds_the_run_took(one_run):
    output, model = one_run
    assert list(output.events.columns) == ["month", "event"] and len(model.events) > 0
    assert list(output.events.itertuples(index=False, name=None)) == list(model.events)
    started = time.perf_counter()
    timed = run_replicate(small("siloed_baseline"), 3, 1)
    assert 0 < timed.seconds <= time.perf_counter() - started


def test_the_places_table_gives_real_and_simulated_sizes_scales_and_starting_rates(one_run):
    output, model = one_run
    pl, pop = model.population.places, model.population
    places = output.places
    assert list(places["place_code"]) == list(pl.codes) and list(places["place_name"]) == list(pl.names)
    assert list(places["simulated_households"]) == [s.stop - s.start for s in pop.households.slices]
    assert list(places["simulated_young_people"]) == [s.stop - s.start for s in pop.young.slices]
    np.testing.assert_allclose(places["scale_households"] * places["real_households"], places["simulated_households"], rtol=1e-9)
    np.testing.assert_allclose(places["scale_young_people"] * places["real_young_people"], places["simulated_young_people"], rtol=1e-9)
    for name, rates in model.initial_rates.items():
        np.testing.assert_array_equal(places[f"start_{name}"], rates)
    np.testing.assert_array_equal(places["observed_fuel_poverty_rate"], pl.target_fuel_poverty)
    np.testing.assert_array_equal(places["observed_neet_16_17_rate"], pl.target_neet_16_17)
    np.testing.assert_array_equal(places["income_level"], pl.income_level)
    assert places["in_all_places"].all() and (places["within_code"] == "").all(), "two districts of different counties"


def test_the_monthly_table_holds_each_places_recorded_outcomes_with_its_name_and_date(one_run):
    output, model = one_run
    monthly, pl = output.monthly, model.population.places
    assert len(monthly) == model.horizon * pl.n
    first = monthly[monthly["month"] == 0]
    assert list(first["place_code"]) == list(pl.codes) and list(first["place_name"]) == list(pl.names)
    assert monthly["date"].iloc[-1] == model.exo.dates[model.horizon - 1].date()
    for name in ("fuel_poverty_rate", "delivered_gbp", "returned_gbp"):
        np.testing.assert_array_equal(monthly[name], np.concatenate([record[name] for record in model.records]))


def test_equity_groups_add_up_to_each_places_residents_and_rates(one_run):
    output, model = one_run
    equity, monthly, places = output.equity, output.monthly, output.places.set_index("place_code")
    for breakdown, cells in equity.groupby("breakdown"):
        totals = cells.groupby(["place_code", "month"]).sum(numeric_only=True)
        month0 = totals.xs(0, level="month")
        np.testing.assert_allclose(month0["households"], places.loc[month0.index, "real_households"], rtol=1e-9, err_msg=breakdown)
        np.testing.assert_allclose(month0["young_people"], places.loc[month0.index, "real_young_people"], rtol=1e-9, err_msg=breakdown)
        rates = monthly.set_index(["place_code", "month"]).loc[totals.index]
        np.testing.assert_allclose(totals["fuel_poor"] / totals["households"], rates["fuel_poverty_rate"], rtol=1e-9)
        np.testing.assert_allclose(totals["neet_16_24"] / totals["young_people"], rates["neet_16_24_rate"], rtol=1e-9)
        np.testing.assert_allclose(totals["youth_mh"] / totals["young_people"], rates["youth_mh_rate"], rtol=1e-9)
        np.testing.assert_allclose(totals["neet_16_17"] / totals["young_16_17"], rates["neet_16_17_rate"], rtol=1e-9)
    assert equity["fuel_poor"].sum() > 0 and equity["youth_mh"].sum() > 0
    assert list(equity.columns[:4]) == ["place_code", "month", "breakdown", "group"]
    assert equity["month"].dtype == np.int32 == monthly["month"].dtype


# --------------------------------------------------------------- the Python API


def test_a_scenario_given_by_its_file_is_loaded_from_it_to_run_or_compare(tmp_path):
    path = tmp_path / "two_places.toml"
    path.write_text('name = "two_places"\nextends = "siloed_baseline"\n[run]\nplaces = ["E07000062"]\nhorizon_months = 3\n')
    by_file = run(path, replicates=1, executor="serial")
    assert list(by_file.scenarios) == ["two_places"]
    assert by_file.scenarios["two_places"].scenario_hash() == load_scenario(path).scenario_hash()
    assert set(by_file.monthly["place_code"]) == {"E07000062"} and by_file.monthly["month"].max() == 2
    compared = compare(path, path, replicates=1, executor="serial")
    assert compared.base == "two_places"


def test_run_defaults_to_seed_zero_and_one_replicate_on_worker_processes():
    scenario = small("siloed_baseline")
    default = run(scenario, workers=1)
    assert (default.seed, default.replicates) == (0, 1)
    pd.testing.assert_frame_equal(default.monthly, run(scenario, seed=0, executor="serial").monthly)
    two = run(scenario, replicates=2, workers=1)
    assert two.manifest()["execution"] == {"executor": "serial", "workers": 1}, "one worker asked for: no pool"
    cores = os.cpu_count() or 1
    every_core = run(scenario, replicates=2).manifest()["execution"]
    assert every_core == ({"executor": "processes", "workers": cores} if cores > 1 else {"executor": "serial", "workers": 1})


def test_compare_defaults_to_seed_zero_and_passes_its_workers_on():
    base = small("siloed_baseline").with_overrides({"run.horizon_months": 3})
    result = compare(base, small("stop_start").with_overrides({"run.horizon_months": 3}), replicates=2, workers=1)
    assert result.seed == 0 and result.manifest()["execution"] == {"executor": "serial", "workers": 1}
    assert list(result.scenarios) == ["siloed_baseline", "stop_start"] == [result.base, result.alternative]


def test_a_scenario_compared_with_itself_names_the_second_copy_the_alternative():
    scenario = small("siloed_baseline").with_overrides({"run.horizon_months": 3})
    result = compare(scenario, scenario, replicates=2, executor="serial")
    assert (result.base, result.alternative) == ("siloed_baseline", "siloed_baseline_alternative")
    assert set(result.comparison["alternative"]) == {"siloed_baseline_alternative"}
    assert result.scenarios["siloed_baseline_alternative"].scenario_hash() == scenario.scenario_hash()


@pytest.mark.parametrize("call", [run, lambda sc, **kw: compare(sc, sc, **kw)], ids=["run", "compare"])
def test_fewer_than_one_replicate_is_refused_naming_the_value(call):
    with pytest.raises(ValueError, match=r"^replicates must be at least 1, got 0$"):
        call(small("siloed_baseline"), replicates=0, executor="serial")


def test_the_manifest_is_plain_json_with_the_scenario_as_its_file_would_say_it(tmp_path):
    scenario = small("siloed_baseline").with_overrides({"run.horizon_months": 3})
    results = run(scenario, seed=4, executor="serial")
    manifest = results.manifest()
    assert json.loads(json.dumps(manifest)) == manifest, "nothing but JSON types"
    recorded = manifest["scenarios"]["siloed_baseline"]
    assert recorded["parameters"] == scenario.model_dump(mode="json") and recorded["hash"] == scenario.scenario_hash()
    assert recorded["extends"] == scenario.extends and recorded["parameters"]["run"]["start"] == "2021-04"
    assert [s["role"] for s in recorded["sources"]] == ["scenario", "calibration"]
    assert (manifest["kind"], manifest["seed"], manifest["replicates"]) == ("run", 4, 1)
    assert manifest["pfpp_sim_version"] and manifest["environment"] and manifest["seconds"] >= 0
    assert manifest["outcomes"]["returned_gbp"] == {"unit": "GBP", "description": OUTCOMES["returned_gbp"].description}
    results.save(tmp_path / "out")
    saved = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert saved["files"] == {name: f"{name}.parquet" for name in
                              ("monthly", "annual", "awards", "places", "summary", "events", "equity", "spending")}


def test_saving_into_a_folder_that_holds_results_needs_overwrite(tmp_path):
    results = run(small("siloed_baseline").with_overrides({"run.horizon_months": 3}), executor="serial")
    results.save(tmp_path / "out")
    with pytest.raises(PfppError, match="already holds files; give --overwrite"):
        results.save(tmp_path / "out")
    results.save(tmp_path / "out", overwrite=True)
    assert (tmp_path / "out" / "manifest.json").exists()


def test_publishing_writes_what_also_adds_into_the_same_folder(tmp_path):
    results = run(small("siloed_baseline").with_overrides({"run.horizon_months": 3}), executor="serial")
    with claim_folder(tmp_path / "out", overwrite=False) as claim:
        results.publish(claim, also=lambda folder: (folder / "extra.txt").write_text(folder.name))
    assert (tmp_path / "out" / "extra.txt").exists() and (tmp_path / "out" / "summary.parquet").exists()


def test_progress_counts_each_finished_replicate_out_of_all_whatever_the_executor(monkeypatch):
    scenario = small("siloed_baseline").with_overrides({"run.horizon_months": 2})
    serial: list[tuple[int, int]] = []
    run(scenario, replicates=3, executor="serial", progress=lambda done, total: serial.append((done, total)))
    assert serial == [(1, 3), (2, 3), (3, 3)]
    pools: list[int | None] = []
    real_pool = workers_module.process_pool
    monkeypatch.setattr(workers_module, "process_pool", lambda workers: pools.append(workers) or real_pool(workers))
    pooled: list[tuple[int, int]] = []
    compare(scenario, scenario, replicates=2, workers=2, progress=lambda done, total: pooled.append((done, total)))
    assert pooled == [(1, 4), (2, 4), (3, 4), (4, 4)] and pools == [2]


def test_a_given_executor_runs_the_replicates():
    submitted = []

    class Counting(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            submitted.append(args[1:])
            return super().submit(fn, *args, **kwargs)

    with Counting(2) as pool:
        run(small("siloed_baseline").with_overrides({"run.horizon_months": 2}), seed=7, replicates=2, executor=pool)
    assert sorted(submitted) == [(7, 0), (7, 1)]


def test_one_replicate_is_a_comparison_without_intervals_and_twenty_are_the_default():
    scenario = small("siloed_baseline").with_overrides({"run.horizon_months": 1})
    one = compare(scenario, small("stop_start").with_overrides({"run.horizon_months": 1}), replicates=1, executor="serial")
    assert (one.comparison["n"] == 1).all() and one.comparison["ci_low"].isna().all()
    default = compare(scenario, scenario, executor="serial")
    assert default.replicates == 20 and sorted(default.summary["replicate"].unique()) == list(range(20))


def test_the_manifest_records_warnings_and_the_seconds_to_the_millisecond():
    outside = load_scenario("siloed_baseline", calibration="pilots").with_overrides({"run.places": ["E06000001"], "run.horizon_months": 1})
    results = run(outside, executor="serial")
    assert results.warnings and results.manifest()["warnings"] == results.warnings
    assert "E06000001" in results.warnings[0]["message"]
    results.seconds = 1.23456
    assert results.manifest()["seconds"] == 1.235


def test_tables_keep_the_runs_place_order_plain_types_and_a_plain_index():
    results = compare(small("siloed_baseline"), small("stop_start"), seed=1, replicates=2, executor="serial")
    monthly, annual = results.monthly, results.annual
    for name in ("monthly", "annual", "awards", "places", "summary", "events", "equity", "spending"):
        table = getattr(results, name)
        pd.testing.assert_index_equal(table.index, pd.RangeIndex(len(table)), obj=name)
        assert list(table.columns[:2]) == ["scenario", "replicate"], name
    assert monthly["metric"].cat.categories.tolist() == list(OUTCOMES) == annual["metric"].cat.categories.tolist()
    assert annual["metric"].tolist()[0] == list(OUTCOMES)[0] and monthly["metric"].tolist()[-1] == list(OUTCOMES)[-1]
    assert (monthly["year"].dtype, annual["year"].dtype, annual["months"].dtype) == (np.int32, np.int32, np.int32)
    assert (monthly["value"].dtype, monthly["partial_year"].dtype, annual["partial_year"].dtype) == (np.float64, bool, bool)
    # rows in the run's order of places (Hastings first), not sorted by code
    assert monthly["place_code"].iloc[0] == "E07000062" == annual["place_code"].iloc[0]
    assert annual.drop_duplicates(["scenario", "replicate"])[["scenario", "replicate"]].values.tolist() == [
        ["siloed_baseline", 0], ["siloed_baseline", 1], ["stop_start", 0], ["stop_start", 1]
    ]


def test_one_worker_or_one_replicate_runs_in_this_process_without_a_pool(monkeypatch):
    scenario = small("siloed_baseline").with_overrides({"run.horizon_months": 2})

    def no_pool(workers):
        raise AssertionError(f"a pool of {workers} was started")

    monkeypatch.setattr(workers_module, "process_pool", no_pool)
    one_worker = run(scenario, replicates=2, executor="processes", workers=1)
    one_job = run(scenario, replicates=1, executor="processes", workers=2)
    pd.testing.assert_frame_equal(one_job.summary, run(scenario, executor="serial").summary)
    assert len(one_worker.summary.replicate.unique()) == 2


def test_the_manifest_names_the_commit_and_a_comparison_its_kind_base_and_alternative(tmp_path):
    from pfpp_sim.storage import git_commit

    base = small("siloed_baseline").with_overrides({"run.horizon_months": 3})
    result = compare(base, small("stop_start").with_overrides({"run.horizon_months": 3}), replicates=2, executor="serial")
    manifest = result.manifest()
    assert manifest["git_commit"] == git_commit()
    assert (manifest["kind"], manifest["base"], manifest["alternative"]) == ("compare", "siloed_baseline", "stop_start")
    assert set(result.comparison["base"]) == {"siloed_baseline"} and set(result.comparison["alternative"]) == {"stop_start"}
    files = result.save(tmp_path / "out")
    assert files["manifest"] == tmp_path / "out" / "manifest.json"
    assert json.loads(files["manifest"].read_text())["kind"] == "compare"
