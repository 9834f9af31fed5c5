"""pfpp_sim.load: every kind of results folder reads back as the object that wrote it, tables equal."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import pfpp_sim
from pfpp_sim import (
    Comparison,
    Explanation,
    Results,
    Robustness,
    Sweep,
    compare,
    explain,
    load,
    load_scenario,
    robustness,
    run,
    run_sweep,
)
from pfpp_sim.errors import PfppError

TINY = {"run.places": ["E07000062", "E06000032"], "run.horizon_months": 12}
TABLES = ("monthly", "annual", "awards", "places", "summary", "events", "equity", "spending")


def tiny(name: str):
    return load_scenario(name).with_overrides(TINY)


def assert_same_results(loaded: Results, saved: Results) -> None:
    for table in TABLES:
        pd.testing.assert_frame_equal(getattr(loaded, table), getattr(saved, table), obj=table)
    assert {n: s.scenario_hash() for n, s in loaded.scenarios.items()} == {n: s.scenario_hash() for n, s in saved.scenarios.items()}
    assert {n: s.sources for n, s in loaded.scenarios.items()} == {n: s.sources for n, s in saved.scenarios.items()}
    assert (loaded.seed, loaded.replicates, loaded.execution) == (saved.seed, saved.replicates, saved.execution)
    assert loaded.manifest() == saved.manifest()


def test_a_run_folder_loads_as_the_results_that_were_saved(tmp_path):
    saved = run(tiny("siloed_baseline"), seed=4, replicates=2, executor="serial")
    saved.save(tmp_path / "run")
    loaded = load(tmp_path / "run")
    assert type(loaded) is Results
    assert_same_results(loaded, saved)


def test_a_comparison_folder_loads_as_a_comparison_with_its_paired_differences(tmp_path):
    saved = compare(tiny("siloed_baseline"), tiny("pfpp_joined_up"), seed=2, replicates=2, executor="serial")
    saved.save(tmp_path / "compare")
    loaded = load(str(tmp_path / "compare"))
    assert isinstance(loaded, Comparison)
    assert_same_results(loaded, saved)
    pd.testing.assert_frame_equal(loaded.comparison, saved.comparison)
    assert (loaded.base, loaded.alternative) == ("siloed_baseline", "pfpp_joined_up")


def test_a_preset_loaded_from_a_file_keeps_the_files_it_came_from(tmp_path):
    (tmp_path / "mine.toml").write_text('name = "mine"\ndescription = "d"\nextends = "siloed_baseline"\n[run]\nplaces = ["E07000062"]\nhorizon_months = 6\n')
    saved = run(tmp_path / "mine.toml", seed=1, executor="serial")
    saved.save(tmp_path / "out")
    (source, parent, *_) = load(tmp_path / "out").scenarios["mine"].sources
    assert (source.role, source.origin, Path(source.path).name) == ("scenario", "file", "mine.toml")
    assert (parent.role, parent.name) == ("extends", "siloed_baseline")


def test_a_sweep_folder_loads_as_the_sweep_run_sweep_returned_with_each_kept_place(tmp_path):
    spec = tmp_path / "sweep.toml"
    spec.write_text('''
name = "places"
base = "siloed_baseline"
design = "lhs"
samples = 3
keep_places = true
outputs = ["fuel_poverty_rate", "returned_gbp"]
[overrides]
"run.places" = ["E07000062", "E06000032"]
"run.horizon_months" = 12
[parameters."levers.pooling"]
low = 0.0
high = 1.0
''', encoding="utf-8")
    returned = run_sweep(spec, tmp_path / "out", executor="serial")
    loaded = load(tmp_path / "out")
    assert isinstance(loaded, Sweep) and loaded.spec == returned.spec and loaded.manifest == returned.manifest
    for table in ("design", "results", "by_place"):
        pd.testing.assert_frame_equal(getattr(loaded, table), getattr(returned, table), obj=table)
    assert set(loaded.by_place["place_code"]) == {"ALL", "E07000062", "E06000032"}
    together = loaded.by_place[loaded.by_place["place_code"] == "ALL"].reset_index(drop=True)
    pd.testing.assert_series_equal(together["returned_gbp"], loaded.results["returned_gbp"])


def test_an_explanation_folder_loads_with_its_factors_and_groups(tmp_path):
    base = tiny("siloed_baseline")
    alternative = base.with_overrides({"levers.carry_over": True, "levers.data_sharing": 0.5}, name="two")
    saved = explain(base, alternative, seed=1, replicates=2, groups=["levers.data_sharing"], executor="serial")
    saved.save(tmp_path / "why")
    loaded = load(tmp_path / "why")
    assert isinstance(loaded, Explanation)
    assert loaded.factors.names == saved.factors.names and loaded.groups == ("levers.data_sharing",)
    pd.testing.assert_frame_equal(loaded.attribution, saved.attribution)
    pd.testing.assert_frame_equal(loaded.combinations, saved.combinations)
    assert loaded.manifest() == saved.manifest()


def test_a_robustness_folder_loads_as_robustness(tmp_path):
    base = load_scenario("siloed_baseline").with_overrides({"run.places": ["E07000062"], "run.horizon_months": 6})
    alternative = base.with_overrides({"levers.carry_over": True}, name="carry")
    saved = robustness(base, alternative, tmp_path / "hold", samples=2, replicates=2, seed=1, executor="serial")
    loaded = load(tmp_path / "hold")
    assert isinstance(loaded, Robustness)
    pd.testing.assert_frame_equal(loaded.summary, saved.summary)
    pd.testing.assert_frame_equal(loaded.worlds, saved.worlds)


def test_a_folder_without_a_manifest_or_of_an_unknown_kind_is_one_clear_error(tmp_path):
    with pytest.raises(PfppError, match="is not a results folder .expected manifest.json"):
        load(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "poem"}))
    with pytest.raises(PfppError, match="kind = 'poem': expected run, compare, sweep, explain or robustness"):
        load(tmp_path)


def test_a_manifest_whose_scenario_was_edited_is_refused(tmp_path):
    run(tiny("siloed_baseline"), seed=1, executor="serial").save(tmp_path / "run")
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    manifest["scenarios"]["siloed_baseline"]["parameters"]["levers"]["pooling"] = 0.5
    (tmp_path / "run" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PfppError, match="hash to .*not the recorded"):
        pfpp_sim.load(tmp_path / "run")
