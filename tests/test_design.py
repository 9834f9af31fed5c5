"""The experiment API after SALib: sample a space, run the design, analyze what it gave."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pfpp_sim
from pfpp_sim.analysis import SUMMARY_METRICS
from pfpp_sim.design import Parameter, ParameterSpace, analyze, sample
from pfpp_sim.errors import PfppError, ScenarioError
from pfpp_sim.jobs import Kept, run_jobs
from pfpp_sim.sensitivity import sweep_indices
from pfpp_sim.storage import RunFolder
from pfpp_sim.sweep import design_of, load_sweep, run_design, run_sweep
from pfpp_sim.worlds import Factor, Space
from tests.test_sweep import spec_file, spy_on_run_jobs

SPACE = ParameterSpace({"levers.carry_over": Parameter(levels=[False, True]), "levers.data_sharing": Parameter(low=0.0, high=1.0)})
SMALL = {"run.places": ["E07000062"], "run.horizon_months": 12}


def test_a_design_is_a_pure_function_of_its_space_size_seed_and_method():
    first = sample(SPACE, 8, 1, method="lhs")
    pd.testing.assert_frame_equal(first, sample(SPACE, 8, 1, method="lhs"))
    assert not first.equals(sample(SPACE, 8, 2, method="lhs"))
    assert list(first.columns) == ["point", "levers.carry_over", "levers.data_sharing"]
    assert first["point"].tolist() == list(range(8))
    assert set(first["levers.carry_over"]) <= {False, True} and first["levers.data_sharing"].between(0, 1).all()
    assert len(sample(SPACE, 4, 1, method="sobol")) == 4 * (2 + 2)
    assert len(sample(SPACE, 3, 1, method="morris")) == 3 * (2 + 1)
    for method, n in (("sobol", 4), ("morris", 3)):
        pd.testing.assert_frame_equal(sample(SPACE, n, 1, method=method), sample(SPACE, n, 1, method=method))
        assert not sample(SPACE, n, 1, method=method).equals(sample(SPACE, n, 2, method=method)), method


def test_a_grid_takes_every_combination_and_a_space_without_levels_or_steps_has_none():
    grid = sample(ParameterSpace({"a": Parameter(levels=[1, 2]), "b": Parameter(low=0.0, high=1.0, steps=3)}), 0, 0, method="grid")
    assert grid[["a", "b"]].values.tolist() == [[1, 0.0], [1, 0.5], [1, 1.0], [2, 0.0], [2, 0.5], [2, 1.0]]
    worlds = Space((Factor("world.x", "share", "assumption:x", 0.5, 0.0, 1.0),))
    with pytest.raises(PfppError, match="a Space has no grid"):
        sample(worlds, 4, 0, method="grid")
    with pytest.raises(PfppError, match="method 'random': expected one of grid, lhs, sobol, morris"):
        sample(SPACE, 4, 0, method="random")


def test_worlds_are_sampled_by_the_same_designs_with_the_default_world_first():
    from pfpp_sim.worlds import sample as sample_worlds

    space = Space((Factor("world.x", "share", "assumption:x", 0.5, 0.0, 1.0), Factor("world.y", "months", "assumption:y", 6.0, 3.0, 9.0)))
    worlds = sample_worlds(space, 8, 4, design="lhs")
    points = sample(space, 8, 4, method="lhs")
    assert worlds.iloc[0][["world.x", "world.y"]].tolist() == [0.5, 6.0] and not worlds.iloc[0]["sampled"]
    np.testing.assert_array_equal(worlds.iloc[1:][["world.x", "world.y"]].to_numpy(), points[["world.x", "world.y"]].to_numpy())
    np.testing.assert_allclose(space.shares(points), (points[["world.x", "world.y"]].to_numpy() - [0.0, 3.0]) / [1.0, 6.0])


def test_a_designs_values_are_shares_of_each_range_and_a_level_its_index_over_the_last_ones():
    space = ParameterSpace({
        "a": Parameter(low=2.0, high=6.0), "b": Parameter(levels=[False, True]), "c": Parameter(levels=["x", "y", "z"]),
        "d": Parameter(levels=[3]),
    })
    design = pd.DataFrame({
        "a": [2.0, 3.0, 6.0],
        "b": pd.Series([np.False_, np.True_, np.True_], dtype=object),  # numpy scalars, as a column of mixed values holds them
        "c": ["z", "x", "y"],
        "d": [3, 3, 3],
    })
    np.testing.assert_array_equal(space.shares(design), [[0.0, 0.0, 1.0, 0.0], [0.25, 1.0, 0.0, 0.0], [1.0, 1.0, 0.5, 0.0]])


def test_only_the_outputs_asked_for_that_the_results_hold_are_analysed():
    space = ParameterSpace({"a": Parameter(low=2.0, high=6.0)})
    results = pd.DataFrame({"point": [0, 1, 2, 3], "a": [2.0, 3.0, 4.0, 6.0], "x": [1.0, 2.0, 3.0, 4.0], "y": [4.0, 3.0, 2.0, 1.0]})
    asked = analyze(space, results, method="lhs", seed=0, outputs=["y", "missing"])
    assert asked["output"].unique().tolist() == ["y"]
    assert asked.loc[asked["measure"] == "spearman", "value"].tolist() == pytest.approx([-1.0])
    assert analyze(space, results, method="lhs", seed=0)["output"].unique().tolist() == ["x", "y"]


def test_a_design_run_in_memory_gives_the_sweep_of_the_same_spec_and_its_indices(tmp_path):
    path = spec_file(tmp_path, design="lhs", samples=4, replicates=2)
    spec, base = load_sweep(path)
    results = run_design(design_of(spec), base, seed=spec.seed, replicates=spec.replicates, outputs=spec.outputs, executor="serial")
    sweep = run_sweep(path, tmp_path / "out", executor="serial")
    pd.testing.assert_frame_equal(results, sweep.results)
    pd.testing.assert_frame_equal(analyze(spec.space, results, method="lhs", seed=spec.seed), sweep_indices(spec, sweep.results))
    assert not list(tmp_path.glob("out/runs/.*"))


def test_the_top_level_api_runs_a_design_on_a_preset_by_name_with_one_row_per_run_and_place():
    space = ParameterSpace({"levers.data_sharing": Parameter(low=0.0, high=1.0)})
    design = pfpp_sim.sample(space, 2, seed=1, method="lhs")
    base = pfpp_sim.load_scenario("siloed_baseline").with_overrides(SMALL)
    results = pfpp_sim.run_design(design, base, replicates=2, outputs=["fuel_poverty_rate"], by_place=True, executor="serial")
    assert len(results) == 2 * 2 * 2  # points x replicates x (the place and all places)
    assert set(results["place_code"]) == {"E07000062", "ALL"}
    indices = pfpp_sim.analyze(space, results[results["place_code"] == "ALL"], method="lhs", seed=1)
    assert set(indices["measure"]) == {"spearman", "abs_spearman"} and indices["output"].eq("fuel_poverty_rate").all()


@pytest.mark.parametrize(
    ("design", "options", "message"),
    [
        (pd.DataFrame({"levers.pooling": [0.5]}), {}, "design: expected a 'point' column numbering the rows 0, 1, 2"),
        (pd.DataFrame({"point": [3], "levers.pooling": [0.5]}), {}, "design: expected a 'point' column numbering the rows 0, 1, 2"),
        (pd.DataFrame({"point": [0], "levers.pooling": [0.5]}), {"outputs": ["happiness"]}, "unknown output 'happiness'"),
        (pd.DataFrame({"point": [0], "levers.pooling": [0.5]}), {"executor": "threads"}, "unknown executor 'threads'"),
    ],
)
def test_a_bad_design_or_option_is_refused_before_any_run(design, options, message):
    with pytest.raises(PfppError, match=f"^{message}"):
        run_design(design, "siloed_baseline", **options)


def test_an_unknown_output_is_refused_with_the_outputs_there_are():
    with pytest.raises(PfppError) as info:
        run_design(pd.DataFrame({"point": [0], "levers.pooling": [0.5]}), "siloed_baseline", outputs=["happiness"])
    assert str(info.value) == f"unknown output 'happiness'; expected some of {', '.join(SUMMARY_METRICS)}"


@pytest.mark.parametrize("values", [[0.5, 7.0], [7.0, 0.5]])
def test_a_design_value_the_scenario_refuses_names_the_parameter_and_value(values):
    with pytest.raises(ScenarioError) as info:
        run_design(pd.DataFrame({"point": [0, 1], "levers.data_sharing": values}), "siloed_baseline", executor="serial")
    assert str(info.value).startswith("design: parameters.levers.data_sharing = 7.0")


def test_a_failed_run_of_a_design_kept_in_memory_says_how_many_finished():
    design = pd.DataFrame({"point": [0], "run.places": [["E07999999"]]})
    with pytest.raises(PfppError) as info:
        run_design(design, pfpp_sim.load_scenario("siloed_baseline").with_overrides(SMALL), executor="serial")
    assert str(info.value).endswith("census2021_tenure.csv and census2021_age_5y.csv. 0 finished runs are kept")


def test_a_design_runs_on_seed_0_once_unless_told_and_its_worker_count_reaches_the_pool(monkeypatch):
    design = pd.DataFrame({"point": [0], "levers.data_sharing": [0.5]})
    base = pfpp_sim.load_scenario("siloed_baseline").with_overrides(SMALL)
    asked = spy_on_run_jobs(monkeypatch)
    default = run_design(design, base, outputs=["fuel_poverty_rate"], executor="serial", workers=3)
    assert asked[0]["workers"] == 3
    pd.testing.assert_frame_equal(default, run_design(design, base, seed=0, replicates=1, outputs=["fuel_poverty_rate"], executor="serial"))


class _Job:
    def __init__(self, key):
        self.key = key


def _square(jobs):
    return [(job.key, pd.DataFrame({"value": [job.key**2]})) if job.key != 3 else (job.key, "ValueError: three") for job in jobs]


@pytest.mark.parametrize("store", ["memory", "folder"])
def test_jobs_already_in_the_store_are_not_run_again_and_failures_are_returned(tmp_path, store):
    kept = Kept() if store == "memory" else RunFolder(tmp_path / "runs")
    kept.put(2, pd.DataFrame({"value": [-1]}))  # finished before: kept as it is
    seen = []
    failures = run_jobs(_square, [_Job(k) for k in range(5)], kept, executor="serial", progress=lambda done, total: seen.append((done, total)))
    assert [(job.key, message) for job, message in failures] == [(3, "ValueError: three")]
    assert [int(kept.get(k)["value"].iloc[0]) for k in (0, 1, 2, 4)] == [0, 1, -1, 16]
    assert kept.finished(range(5)) == {0, 1, 2, 4}
    assert seen[0] == (1, 5) and seen[-1] == (4, 5)


def test_a_run_folder_forgets_a_damaged_file_and_a_write_cut_short():
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        runs = RunFolder(Path(tmp) / "runs")
        runs.put(0, pd.DataFrame({"value": [1.0]}))
        runs.put(1, pd.DataFrame({"value": [2.0]}))
        runs.path(1).write_bytes(runs.path(1).read_bytes()[:-20])
        (runs.folder / ".run-0000002.parquet.x1.tmp").write_bytes(b"half")
        assert runs.finished([0, 1, 2]) == {0}
        assert sorted(p.name for p in runs.folder.iterdir()) == ["run-0000000.parquet"]
        assert runs.count() == 1 and runs.read_all()["value"].tolist() == [1.0]


def test_a_script_that_starts_workers_without_a_main_guard_is_told_so_in_one_line(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "unguarded.py"
    script.write_text(
        "import pfpp_sim\n"
        "space = pfpp_sim.ParameterSpace({'levers.data_sharing': pfpp_sim.Parameter(low=0.0, high=1.0)})\n"
        "base = pfpp_sim.load_scenario('siloed_baseline').with_overrides({'run.places': ['E07000062'], 'run.horizon_months': 3})\n"
        "pfpp_sim.run_design(pfpp_sim.sample(space, 2, 0), base, executor='processes', workers=2)\n",
        encoding="utf-8",
    )
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("pfpp_sim.errors.PfppError: a worker process stopped before finishing: a script must start runs under")


def test_a_design_s_whole_numbers_reach_the_scenario_as_python_integers():
    design = pd.DataFrame({"point": [0], "levers.funding_period_months": np.array([24], dtype=np.int64)})
    base = pfpp_sim.load_scenario("siloed_baseline").with_overrides(SMALL)
    results = run_design(design, base, outputs=["returned_gbp"], executor="serial")
    assert list(results["levers.funding_period_months"]) == [24]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"levels": [1, 2], "low": 0.0}, "give either levels or low/high, not both"),
        ({"levels": [1, 2], "high": 3.0}, "give either levels or low/high, not both"),
        ({"low": 0.0}, "give low and high, or levels"),
        ({"low": 1.0, "high": 1.0}, "expected low < high, got low=1.0, high=1.0"),
    ],
    ids=["levels and low", "levels and high", "low alone", "no width"],
)
def test_a_parameter_is_a_range_or_levels_and_a_spec_that_is_neither_is_told_why(fields, reason):
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as refused:
        Parameter(**fields)
    assert [str(error["ctx"]["error"]) for error in refused.value.errors()] == [reason]


def test_a_grid_has_three_points_unless_told_and_an_integer_range_gives_whole_numbers():
    assert Parameter(low=0.0, high=6.0).grid() == [0.0, 3.0, 6.0]
    whole = Parameter(low=0.0, high=6.0, integer=True, steps=4)
    assert whole.grid() == [0, 2, 4, 6] and all(type(v) is int for v in whole.grid())
    sampled = Parameter(low=1.0, high=6.0, integer=True).from_unit(np.array([1.4, 5.6]))
    assert sampled == [1, 6] and all(type(v) is int for v in sampled)
    assert Parameter(low=1.0, high=6.0).from_unit(np.array([1.4])) == [1.4]
    assert Parameter(levels=["a", "b", "c"]).bounds == [0.0, 1.0] and Parameter(low=1.0, high=6.0).bounds == [1.0, 6.0]


def test_a_design_is_a_latin_hypercube_unless_told_and_morris_uses_four_levels():
    pd.testing.assert_frame_equal(sample(SPACE, 8, 1), sample(SPACE, 8, 1, method="lhs"))
    pd.testing.assert_frame_equal(sample(SPACE, 3, 1, method="morris"), sample(SPACE, 3, 1, method="morris", morris_levels=4))
    assert not sample(SPACE, 3, 1, method="morris").equals(sample(SPACE, 3, 1, method="morris", morris_levels=6))
