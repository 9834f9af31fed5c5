"""Attribution of model differences to factors, through the Python API, on small settings."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pandas as pd
import pytest

from pfpp_sim import attribution, compare, explain, load_scenario
from pfpp_sim.analysis import ALL_PLACES
from pfpp_sim.attribution import DEFAULT_PERMUTATIONS, attribute, designs
from pfpp_sim.calibration.coverage import run_warnings
from pfpp_sim.errors import PfppError
from pfpp_sim.outcomes import OUTCOMES
from pfpp_sim.storage import environment, git_commit, package_version

TINY = {"run.places": ["E07000062", "E06000032"], "run.horizon_months": 12}
RATES = ["fuel_poverty_rate", "neet_16_17_rate", "youth_mh_rate"]


def tiny(name: str, **overrides):
    return load_scenario(name).with_overrides({**TINY, **overrides})


@pytest.fixture(scope="module")
def three_levers():
    """policy_campus vs siloed: data sharing, policy campus and secondments (8 combinations x 3 replicates)."""
    return explain(tiny("siloed_baseline"), tiny("policy_campus"), seed=3, replicates=3, executor="serial")


@pytest.fixture(scope="module")
def one_lever_and_two_dummies():
    """carry_over switched, a programme whose description alone differs, and a named lever identical in both."""
    base = tiny("siloed_baseline")
    alternative = base.with_overrides(
        {"levers.carry_over": True, "levers.competitive_share": 0.0, "programmes.home_upgrade.description": "renamed"},
        name="carry_over_only",
    )
    return explain(base, alternative, seed=2, replicates=2, groups=["levers.pooling"], executor="serial")


@pytest.fixture(scope="module")
def two_levers():
    """carry_over and competitive_share switched (4 combinations x 2 replicates)."""
    base = tiny("siloed_baseline")
    alternative = base.with_overrides({"levers.carry_over": True, "levers.competitive_share": 0.0}, name="two_levers")
    return explain(base, alternative, seed=2, replicates=2, executor="serial")


def rows(result, measure, place=ALL_PLACES):
    table = result.attribution
    return table[(table["measure"] == measure) & (table["place_code"] == place)]


def per_replicate(result, replicate):
    """The attribution of one replicate alone (its contributions, without an interval)."""
    values = result.combinations[result.combinations["replicate"] == replicate]
    plan = designs(len(result.factors.factors), result.replicates, seed=result.seed, permutations=result.permutations)
    return attribute(values, plan, result.factors.names)


def sums_by_cell(table, measures):
    picked = table[table["measure"].isin(measures)]
    return picked.groupby(["place_code", "metric"], sort=False)["contribution"].sum()


def totals(table):
    return table[table["measure"] == "total"].set_index(["place_code", "metric"])["contribution"]


def assert_add_up(result, table, measures):
    """The rows of ``measures`` add up to each outcome's total, to the rounding of the outcome's values."""
    total = totals(table)
    level = result.combinations.assign(size=result.combinations["value"].abs()).groupby(["place_code", "metric"])["size"].max()
    gap = (sums_by_cell(table, measures).reindex(total.index) - total).abs()
    assert (gap <= 1e-12 * level.reindex(total.index) + 1e-15).all(), gap.max()


def test_contributions_and_main_effects_plus_interactions_add_up_to_the_total_per_replicate_and_on_average(three_levers):
    for table in (three_levers.attribution, per_replicate(three_levers, 0), per_replicate(three_levers, 2)):
        assert_add_up(three_levers, table, ["shapley"])
        assert_add_up(three_levers, table, ["main_effect", "interaction"])


def test_the_total_is_the_paired_difference_that_compare_reports(three_levers):
    comparison = compare(tiny("siloed_baseline"), tiny("policy_campus"), seed=3, replicates=3, executor="serial").comparison
    expected = comparison.set_index(["place_code", "metric"])["difference"].dropna()
    got = totals(three_levers.attribution).reindex(expected.index)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-12, atol=1e-12)


def test_every_outcome_per_place_and_for_all_places_has_a_row_with_an_interval(three_levers):
    table = three_levers.attribution
    assert list(table.columns) == [
        "base", "alternative", "place_code", "metric", "measure", "factor", "contribution", "ci_low", "ci_high", "n", "method",
    ]
    assert set(table["place_code"]) == {"E07000062", "E06000032", ALL_PLACES}
    shapley = rows(three_levers, "shapley")
    assert set(shapley["factor"]) == {"levers.data_sharing", "levers.policy_campus", "levers.secondments"}
    assert (shapley["n"] == 3).all() and (shapley["ci_low"] <= shapley["contribution"]).all()
    assert set(table["method"]) == {"exact"}
    pairs = rows(three_levers, "pair_interaction")
    assert len(pairs[pairs["metric"] == "returned_gbp"]) == 3  # three pairs of three factors


def test_a_pair_differing_in_one_lever_attributes_all_of_the_difference_to_it():
    base = tiny("siloed_baseline")
    result = explain(base, base.with_overrides({"levers.carry_over": True}, name="carry"), seed=1, replicates=2, executor="serial")
    shapley = rows(result, "shapley").set_index("metric")
    total = rows(result, "total").set_index("metric")
    assert (shapley["factor"] == "levers.carry_over").all()
    pd.testing.assert_series_equal(shapley["contribution"], total["contribution"])
    assert (rows(result, "interaction")["contribution"] == 0).all()


def test_a_factor_identical_in_both_scenarios_gets_exactly_zero(one_lever_and_two_dummies):
    table = one_lever_and_two_dummies.attribution
    pooling = table[table["factor"].str.contains("levers.pooling")]
    assert set(pooling["measure"]) == {"shapley", "main_effect", "interaction", "pair_interaction"}
    assert (pooling["contribution"] == 0).all() and (pooling["ci_low"] == 0).all() and (pooling["ci_high"] == 0).all()


def test_a_factor_that_differs_but_changes_nothing_the_model_reads_gets_exactly_zero(one_lever_and_two_dummies):
    table = one_lever_and_two_dummies.attribution
    renamed = table[table["factor"] == "programmes.home_upgrade"]
    assert len(renamed) and (renamed["contribution"] == 0).all()


def test_the_levers_that_act_share_the_whole_difference(one_lever_and_two_dummies):
    result = one_lever_and_two_dummies
    assert result.factors.names == ["levers.carry_over", "levers.competitive_share", "programmes.home_upgrade", "levers.pooling"]
    acting = rows(result, "shapley")
    acting = acting[acting["factor"].isin(["levers.carry_over", "levers.competitive_share"])]
    summed = acting.groupby("metric")["contribution"].sum()
    total = rows(result, "total").set_index("metric")["contribution"]
    np.testing.assert_allclose(summed.reindex(total.index), total, rtol=1e-9, atol=1e-6)
    assert total["returned_gbp"] != 0 or total["overhead_gbp"] != 0, "the acting levers change something"


def test_results_are_identical_on_two_worker_processes(two_levers):
    first = two_levers
    pooled = explain(first.factors.base, first.factors.alternative, seed=2, replicates=2, executor="processes", workers=2)
    pd.testing.assert_frame_equal(first.attribution, pooled.attribution)
    pd.testing.assert_frame_equal(first.combinations, pooled.combinations)


def test_a_sampled_attribution_is_flagged_adds_up_and_keeps_exact_main_effects(three_levers):
    sampled = explain(
        three_levers.factors.base, three_levers.factors.alternative, seed=3, replicates=3, permutations=2, executor="serial"
    )
    table = sampled.attribution
    assert set(table["method"]) == {"sampled"} and sampled.permutations == 2 and "pair_interaction" not in set(table["measure"])
    assert_add_up(sampled, table, ["shapley"])
    exact_main = three_levers.attribution.query("measure == 'main_effect'").set_index(["place_code", "metric", "factor"])
    sampled_main = table.query("measure == 'main_effect'").set_index(["place_code", "metric", "factor"])
    np.testing.assert_allclose(sampled_main["contribution"], exact_main["contribution"].reindex(sampled_main.index), rtol=1e-12)
    for replicate, design in designs(3, 3, seed=3, permutations=2).items():
        run = sampled.combinations.query(f"replicate == {replicate}")["combination"].unique()
        np.testing.assert_array_equal(np.sort(run), design.masks)
    again = explain(three_levers.factors.base, three_levers.factors.alternative, seed=3, replicates=3, permutations=2, executor="serial")
    pd.testing.assert_frame_equal(again.attribution, table)  # the orderings are drawn from the seed's streams


def test_an_interrupted_explanation_resumes_from_its_runs_to_the_same_result(tmp_path, two_levers):
    first = two_levers
    args = (first.factors.base, first.factors.alternative)
    kwargs = {"seed": 2, "replicates": 2, "executor": "serial", "store": tmp_path / "runs"}
    explain(*args, **kwargs)
    assert json.loads((tmp_path / "runs" / "explain.json").read_text()) == {
        "base": args[0].scenario_hash(), "alternative": args[1].scenario_hash(), "factors": first.factors.names, "seed": 2,
        "pfpp_sim_version": package_version(), "git_commit": git_commit(),
    }
    runs = sorted((tmp_path / "runs").glob("run-*.parquet"))
    assert len(runs) == 8
    for path in runs[::3]:
        path.unlink()  # as if killed before these ran
    (tmp_path / "runs" / ".run-r00000-c0000000000000001.parquet.x.tmp").write_bytes(b"half")
    with pytest.raises(PfppError, match="already holds 5 finished runs of this explanation: rerun with --resume"):
        explain(*args, **kwargs)
    calls = []
    resumed = explain(*args, **kwargs, resume=True, progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (5, 8) and calls[-1] == (8, 8)
    assert not list((tmp_path / "runs").glob("*.tmp"))
    pd.testing.assert_frame_equal(resumed.attribution, first.attribution)


def test_a_store_of_another_explanation_is_refused_before_anything_runs(tmp_path, two_levers):
    first = two_levers
    store = tmp_path / "runs"
    store.mkdir()
    (store / "explain.json").write_text(json.dumps({"base": "another"}), encoding="utf-8")
    with pytest.raises(PfppError, match="holds runs of another explanation"):
        explain(first.factors.base, first.factors.alternative, seed=9, replicates=2, store=store, resume=True, executor="serial")
    assert [p.name for p in store.iterdir()] == ["explain.json"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"replicates": 1}, r"replicates = 1: expected at least 2 \(a confidence interval over replicates needs two\)"),
        ({"permutations": 3}, r"permutations = 3: expected an even number, at least 2"),
        ({"executor": "threads"}, r"unknown executor 'threads': expected serial, processes or dask"),
    ],
)
def test_bad_settings_are_refused_in_one_line_before_anything_runs(tmp_path, kwargs, message):
    with pytest.raises(PfppError, match=message):
        explain(tiny("siloed_baseline"), tiny("policy_campus"), store=tmp_path / "runs", **kwargs)
    assert not (tmp_path / "runs").exists()


def test_save_writes_the_tables_and_a_manifest_of_kind_explain(tmp_path, three_levers):
    files = three_levers.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["attribution.parquet", "combinations.parquet", "manifest.json"]
    assert sorted(files) == ["attribution", "combinations", "manifest"]
    pd.testing.assert_frame_equal(pd.read_parquet(files["combinations"]), three_levers.combinations)
    pd.testing.assert_frame_equal(pd.read_parquet(files["attribution"]), three_levers.attribution)
    manifest = json.loads(files["manifest"].read_text())
    assert manifest["kind"] == "explain" and manifest["method"] == "exact" and manifest["runs"] == 24
    assert manifest["base"] == "siloed_baseline" and manifest["alternative"] == "policy_campus"
    assert manifest["scenarios"]["policy_campus"]["hash"] == three_levers.factors.alternative.scenario_hash()
    assert [f["name"] for f in manifest["factors"]] == three_levers.factors.names
    assert manifest["factors"][0]["changes"] == {"levers.data_sharing": {"base": 0.0, "alternative": 0.3}}
    assert manifest["seed"] == 3 and manifest["replicates"] == 3 and manifest["git_commit"] and manifest["pfpp_sim_version"]
    assert manifest["execution"] == {"executor": "serial", "workers": 1}
    for scenario in (three_levers.factors.base, three_levers.factors.alternative):
        assert manifest["scenarios"][scenario.name] == {
            "hash": scenario.scenario_hash(), "extends": scenario.extends, "parameters": scenario.model_dump(mode="json"),
        }
    assert manifest["environment"] == environment() and manifest["seconds"] == round(three_levers.seconds, 3)
    assert manifest["warnings"] == run_warnings([three_levers.factors.base, three_levers.factors.alternative])
    assert manifest["outcomes"] == {k: {"unit": o.unit, "description": o.description} for k, o in OUTCOMES.items()}
    pairs = list(three_levers.combinations[["replicate", "combination"]].drop_duplicates().itertuples(index=False))
    assert pairs == sorted(pairs) and len(pairs) == 24  # replicate after replicate, each combination in turn


def synthetic(design, replicates=3, missing=None, extra_mask=None):
    """Values of two places and two outcomes in which factor "zeta" adds 1 + r, "alpha" 2 and both together 4 more.

    The places and outcomes are listed in an order other than sorted (Z9 before A1,
    y_rate before b_rate); ``missing`` (replicate, mask) has no value for Z9's y_rate;
    ``extra_mask`` adds runs of a combination outside the design, with values that would
    change every sum.
    """
    rows = []
    masks = [*design.masks.tolist(), *([extra_mask] if extra_mask is not None else [])]
    for r in range(replicates):
        for mask in masks:
            zeta, alpha = mask & 1, mask >> 1 & 1
            value = 10.0 + (1 + r) * zeta + 2 * alpha + 4 * zeta * alpha + (1000.0 if mask == extra_mask else 0.0)
            for place in ("Z9", "A1"):
                for metric in ("y_rate", "b_rate"):
                    gone = (r, mask) == missing and (place, metric) == ("Z9", "y_rate")
                    rows.append((r, mask, place, metric, np.nan if gone else value))
    return pd.DataFrame(rows, columns=["replicate", "combination", "place_code", "metric", "value"])


def test_attribute_splits_each_replicate_exactly_and_orders_rows_by_place_outcome_measure_and_factor():
    plan = designs(2, 3, seed=0)
    table = attribute(synthetic(plan[0]), plan, ["zeta", "alpha"])
    first = table.drop_duplicates(["place_code", "metric"])
    assert first["place_code"].tolist() == ["Z9", "Z9", "A1", "A1"] and first["metric"].tolist() == ["y_rate", "b_rate"] * 2
    one = table[(table["place_code"] == "Z9") & (table["metric"] == "y_rate")]
    assert list(zip(one["measure"], one["factor"])) == [
        ("total", "total"), ("shapley", "zeta"), ("shapley", "alpha"), ("main_effect", "zeta"), ("main_effect", "alpha"),
        ("interaction", "zeta"), ("interaction", "alpha"), ("pair_interaction", "zeta & alpha"),
    ]
    # Replicates r = 0, 1, 2: zeta alone adds 1 + r (mean 2), alpha 2, both together 4 more.
    expected = [2 + 2 + 4, 2 + 2, 2 + 2, 2, 2, 2, 2, 4]
    np.testing.assert_allclose(one["contribution"], expected, rtol=1e-12)
    assert set(table["n"]) == {3}
    alone = one.set_index(["measure", "factor"]).loc[("main_effect", "zeta")]
    half = 4.302652729749464 * 1.0 / np.sqrt(3)  # t(0.975, 2) x sd (1) / sqrt(n)
    assert alone["ci_low"] == pytest.approx(2 - half, rel=1e-9) and alone["ci_high"] == pytest.approx(2 + half, rel=1e-9)


def test_attribute_takes_the_confidence_of_its_intervals():
    plan = designs(2, 3, seed=0)
    table = attribute(synthetic(plan[0]), plan, ["zeta", "alpha"], confidence=0.5)
    alone = table[(table["measure"] == "main_effect") & (table["factor"] == "zeta")].iloc[0]
    half = 0.816496580927726 / np.sqrt(3)  # t(0.75, 2) x sd (1) / sqrt(n)
    assert alone["ci_high"] - alone["contribution"] == pytest.approx(half, rel=1e-9)


def test_attribute_leaves_out_a_replicate_missing_a_value_of_an_outcome_from_that_outcome_only():
    plan = designs(2, 3, seed=0)
    table = attribute(synthetic(plan[0], missing=(1, 3)), plan, ["zeta", "alpha"])
    gap = (table["place_code"] == "Z9") & (table["metric"] == "y_rate")
    assert set(table.loc[gap, "n"]) == {2} and set(table.loc[~gap, "n"]) == {3}
    alone = table[gap & (table["measure"] == "main_effect") & (table["factor"] == "zeta")]
    assert alone["contribution"].item() == pytest.approx((1 + 3) / 2)  # replicates 0 and 2


def test_attribute_reads_each_replicates_own_design_and_ignores_runs_of_other_combinations():
    plan = designs(3, 2, seed=1, permutations=2)
    missing = sorted(set(range(8)) - set(plan[0].masks.tolist()))
    assert missing and missing[0] < plan[0].masks.max(), "replicate 0's design misses no combination within it: pick another seed"
    values = synthetic(plan[0], replicates=1)
    values = pd.concat([values, synthetic(plan[1], replicates=2).query("replicate == 1")], ignore_index=True)
    with_extra = pd.concat([values, synthetic(plan[0], replicates=1, extra_mask=missing[0]).query(f"combination == {missing[0]}")])
    names = ["zeta", "alpha", "omega"]
    pd.testing.assert_frame_equal(attribute(with_extra, plan, names), attribute(values, plan, names))


def test_save_removes_an_older_manifest_first_and_names_a_folder_it_cannot_write(tmp_path, three_levers, monkeypatch):
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")

    def full(frame, path):
        raise PfppError(f"cannot write {path.name} ({len(frame)} rows): disk full")

    monkeypatch.setattr(attribution, "write_parquet", full)
    with pytest.raises(PfppError, match="disk full"):
        three_levers.save(tmp_path)
    assert not (tmp_path / "manifest.json").exists()  # no manifest: the folder claims no explanation
    blocker = tmp_path / "a_file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(PfppError, match=r"^cannot write to .*a_file: Not a directory$"):
        three_levers.save(blocker)


def test_a_failed_run_fails_the_explanation_naming_the_first_by_combination_then_replicate(monkeypatch, two_levers):
    factors = two_levers.factors
    failing = {(factors.combination(2).scenario_hash(), 0), (factors.combination(1).scenario_hash(), 1)}
    real = attribution.run_summary

    def run_summary(scenario, seed, replicate):
        if (scenario.scenario_hash(), replicate) in failing:
            raise RuntimeError("boom")
        return real(scenario, seed, replicate)

    monkeypatch.setattr(attribution, "run_summary", run_summary)
    done = attribution._run_batch(factors, 2, [attribution._Run(2, 0), attribution._Run(0, 0)])  # a batch goes on after a failure
    assert [key for key, _ in done] == [(2, 0), (0, 0)] and done[0][1] == "RuntimeError: boom" and isinstance(done[1][1], pd.DataFrame)
    message = f"2 run(s) failed; first: replicate 1 of siloed_baseline with two_levers's {factors.label(1)}: RuntimeError: boom"
    with pytest.raises(PfppError, match=f"^{re.escape(message)}$"):
        explain(factors.base, factors.alternative, seed=2, replicates=2, executor="serial")


@pytest.mark.parametrize(
    ("executor", "workers", "scheduler", "recorded"),
    [
        ("dask", 3, "tcp://HOST:8786", {"executor": "dask", "scheduler": "tcp://HOST:8786"}),
        ("processes", 3, None, {"executor": "processes", "workers": 3}),
    ],
)
def test_explain_hands_its_executor_workers_and_scheduler_to_the_runs_and_records_them(
    monkeypatch, two_levers, executor, workers, scheduler, recorded,
):
    seen = {}
    real = attribution.run_jobs

    def run_jobs(work, jobs, store, **kwargs):
        seen.update(kwargs)
        return real(work, jobs, store, **{**kwargs, "executor": "serial", "workers": None, "scheduler": None})

    monkeypatch.setattr(attribution, "run_jobs", run_jobs)
    result = explain(
        two_levers.factors.base, two_levers.factors.alternative, seed=2, replicates=2, executor=executor, workers=workers, scheduler=scheduler,
    )
    assert {k: seen[k] for k in ("executor", "workers", "scheduler")} == {"executor": executor, "workers": workers, "scheduler": scheduler}
    assert result.execution == recorded
    pd.testing.assert_frame_equal(result.attribution, two_levers.attribution)


def test_scenarios_named_by_preset_are_loaded_and_an_alternative_of_the_same_name_is_renamed(monkeypatch):
    base = tiny("siloed_baseline")
    same_name = base.with_overrides({"levers.carry_over": True})
    loaded = []

    def load(name):
        loaded.append(name)
        return {"first": base, "second": same_name}[name]

    monkeypatch.setattr(attribution, "load_scenario", load)
    started = time.perf_counter()
    result = explain("first", "second", seed=2, replicates=2, executor="serial")
    assert 0 < result.seconds <= time.perf_counter() - started
    table = result.attribution
    assert loaded == ["first", "second"] and result.factors.alternative.name == "siloed_baseline_alternative"
    assert list(table.columns) == ["base", "alternative", "place_code", "metric", "measure", "factor", "contribution", "ci_low", "ci_high", "n", "method"]
    assert set(table["base"]) == {"siloed_baseline"} and set(table["alternative"]) == {"siloed_baseline_alternative"}
    assert result.method == "exact" and set(table["method"]) == {"exact"} and result.permutations is None


def test_up_to_eight_factors_are_attributed_exactly_and_more_by_orderings_drawn_from_the_seed():
    assert all(design.exact for design in designs(8, 2, seed=0).values())
    nine = designs(9, 2, seed=0)
    assert not any(design.exact for design in nine.values()) and nine[0].permutations == DEFAULT_PERMUTATIONS
    assert not np.array_equal(nine[0].masks, nine[1].masks)  # each replicate its own orderings
    assert not np.array_equal(designs(9, 1, seed=1)[0].masks, designs(9, 1, seed=2)[0].masks)
    np.testing.assert_array_equal(designs(9, 1, seed=1)[0].masks, designs(9, 1, seed=1)[0].masks)


def test_explain_runs_ten_replicates_on_seed_0_on_every_cores_worker_processes_unless_told_otherwise(monkeypatch, two_levers):
    class Seen(Exception):
        pass

    def run_jobs(work, jobs, _store, **kwargs):
        raise Seen(work.args[1], len(jobs), kwargs["executor"], kwargs["workers"], kwargs["scheduler"])

    monkeypatch.setattr(attribution, "run_jobs", run_jobs)
    with pytest.raises(Seen) as seen:
        explain(two_levers.factors.base, two_levers.factors.alternative)
    assert seen.value.args == (0, 10 * 4, "processes", None, None)  # seed, runs (10 replicates of 4 combinations), how
