"""Attribution of model differences to factors, through the Python API, on small settings."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pfpp_sim import compare, explain, load_scenario
from pfpp_sim.analysis import ALL_PLACES
from pfpp_sim.attribution import attribute, designs
from pfpp_sim.errors import PfppError

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


def test_an_interrupted_explanation_resumes_from_its_runs_to_the_same_result(tmp_path, two_levers):
    first = two_levers
    args = (first.factors.base, first.factors.alternative)
    kwargs = {"seed": 2, "replicates": 2, "executor": "serial", "store": tmp_path / "runs"}
    explain(*args, **kwargs)
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
    pd.testing.assert_frame_equal(pd.read_parquet(files["attribution"]), three_levers.attribution)
    manifest = json.loads(files["manifest"].read_text())
    assert manifest["kind"] == "explain" and manifest["method"] == "exact" and manifest["runs"] == 24
    assert manifest["base"] == "siloed_baseline" and manifest["alternative"] == "policy_campus"
    assert manifest["scenarios"]["policy_campus"]["hash"] == three_levers.factors.alternative.scenario_hash()
    assert [f["name"] for f in manifest["factors"]] == three_levers.factors.names
    assert manifest["factors"][0]["changes"] == {"levers.data_sharing": {"base": 0.0, "alternative": 0.3}}
    assert manifest["seed"] == 3 and manifest["replicates"] == 3 and manifest["git_commit"] and manifest["pfpp_sim_version"]
    assert manifest["execution"] == {"executor": "serial", "workers": 1}
