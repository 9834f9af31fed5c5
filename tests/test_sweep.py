"""Sweeps: designs, resumable storage, executors and sensitivity analysis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from faults import disk_full, half_written
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from output import error_lines
from toml_fuzz import assert_one_line_naming, mutate, table_paths, write_toml
from typer.testing import CliRunner

from pfpp_sim import sweep as sweep_module
from pfpp_sim.analysis import SUMMARY_UNITS
from pfpp_sim.calibration.coverage import run_warnings
from pfpp_sim.cli import app
from pfpp_sim.design import _flag
from pfpp_sim.errors import PfppError, ScenarioError
from pfpp_sim.jobs import run_jobs
from pfpp_sim.scenario import list_presets
from pfpp_sim.sensitivity import analyse, sweep_indices, top_levers
from pfpp_sim.storage import environment, git_commit, package_version, table_metadata
from pfpp_sim.sweep import MAX_RUNS, SweepSpec, design_of, load_sweep, plan_sweep, read_sweep, run_sweep, sweep_results
from pfpp_sim.workers import execution

FAULTS = Path(__file__).with_name("faults.py")

SMALL = '''
name = "small"
base = "siloed_baseline"
design = "{design}"
samples = {samples}
replicates = {replicates}
seed = 3
outputs = ["fuel_poverty_rate", "returned_gbp", "retrofits"]

[overrides]
"run.places" = ["E07000062"]
"run.horizon_months" = 12

[parameters."levers.pooling"]
{pooling}

[parameters."levers.data_sharing"]
low = 0.0
high = 1.0
'''


def spy_on_run_jobs(monkeypatch) -> list[dict]:
    """The keyword arguments of every call the sweep module makes to :func:`~pfpp_sim.jobs.run_jobs`, which still runs."""
    asked = []
    monkeypatch.setattr(sweep_module, "run_jobs", lambda *args, **kwargs: asked.append(kwargs) or run_jobs(*args, **kwargs))
    return asked


def spec_file(tmp_path: Path, *, design="lhs", samples=4, replicates=1, pooling="low = 0.0\nhigh = 1.0", extra="") -> Path:
    path = tmp_path / f"{design}.toml"
    path.write_text(SMALL.format(design=design, samples=samples, replicates=replicates, pooling=pooling) + extra, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("design", "samples", "pooling", "expected"),
    [
        ("lhs", 5, "low = 0.0\nhigh = 1.0", 5),
        ("sobol", 4, "low = 0.0\nhigh = 1.0", 4 * (2 + 2)),
        ("morris", 3, "low = 0.0\nhigh = 1.0", 3 * (2 + 1)),
        ("grid", 1, "levels = [0.0, 0.5, 1.0]", 3 * 3),
    ],
)
def test_design_sizes_follow_the_method(tmp_path, design, samples, pooling, expected):
    path = spec_file(tmp_path, design=design, samples=samples, pooling=pooling)
    if design == "grid":
        path.write_text(path.read_text().replace("low = 0.0\nhigh = 1.0\n", "low = 0.0\nhigh = 1.0\nsteps = 3\n"))
    spec, _ = load_sweep(path)
    design_frame = design_of(spec)
    assert len(design_frame) == expected
    assert design_frame["levers.pooling"].between(0, 1).all()


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (("design = \"lhs\"", "design = \"random\""), "design"),
        (("[parameters.\"levers.pooling\"]", "[parameters.\"levers.poolling\"]"), "parameters.levers.poolling"),
        (("seed = 3", "seed = 3\ncolour = 1"), "colour"),
        (("\"retrofits\"]", "\"happiness\"]"), "outputs"),
        (("low = 0.0\nhigh = 1.0", "low = 1.0\nhigh = 0.0"), "parameters.levers.pooling"),
        (("\"run.horizon_months\" = 12", "\"run.horizon_monthz\" = 12"), "overrides.run.horizon_monthz"),
    ],
)
def test_bad_sweep_spec_names_file_and_key(tmp_path, change, key):
    path = spec_file(tmp_path)
    path.write_text(path.read_text().replace(*change, 1))
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    assert str(path) in str(info.value) and key in str(info.value)


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("no_such_preset", f"a scenario file ending .toml or a preset ({', '.join(list_presets())})"),
        ("missing.toml", "an existing scenario file"),
        ("/etc/passwd", "a scenario file ending .toml or a preset"),
        ("../siloed_baseline", "a scenario file ending .toml or a preset"),
    ],
    ids=["unknown_preset", "missing_file", "not_toml", "path_without_toml"],
)
def test_bad_base_scenario_names_the_spec_file_and_base(tmp_path, base, expected):
    path = spec_file(tmp_path)
    path.write_text(path.read_text().replace('base = "siloed_baseline"', f"base = {base!r}"))
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    assert str(info.value).startswith(f"{path}: base = {base!r}: {expected}")


def test_base_scenario_file_is_found_beside_the_spec_not_in_the_working_folder(tmp_path, monkeypatch):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "mine.toml").write_text('name = "mine"\nextends = "siloed_baseline"\n[levers]\npooling = 0.25\n')
    (tmp_path / "mine.toml").write_text('name = "decoy"\nextends = "siloed_baseline"\n')
    path = spec_file(tmp_path / "specs")
    path.write_text(path.read_text().replace('base = "siloed_baseline"', 'base = "mine.toml"'))
    monkeypatch.chdir(tmp_path)
    assert load_sweep(path)[1].name == "mine"


@pytest.mark.parametrize(
    ("design", "pooling", "key"),
    [("lhs", "low = 0.0\nhigh = 1.0", "samples"), ("grid", "levels = [0.0, 1.0]", "parameters")],
)
def test_a_sweep_of_more_than_a_million_runs_is_refused_before_anything_runs(tmp_path, design, pooling, key):
    path = spec_file(tmp_path, design=design, samples=MAX_RUNS, replicates=2, pooling=pooling)
    if design == "grid":
        path.write_text(path.read_text().replace("low = 0.0\nhigh = 1.0\n", "low = 0.0\nhigh = 1.0\nsteps = 100\n")
                        + "".join(f'[parameters."mechanisms.{m}.value"]\nlow = 0.0\nhigh = 1.0\nsteps = 100\n'
                                  for m in ("bid_cost", "reporting_cost", "recruitment_cost")))
    with pytest.raises(ScenarioError, match=f"{key} = .*at most 1,000,000 runs"):
        run_sweep(path, tmp_path / "out", executor="serial")
    assert not (tmp_path / "out").exists()


def test_an_unknown_executor_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(PfppError, match="unknown executor 'threads'"):
        run_sweep(spec_file(tmp_path), tmp_path / "out", executor="threads")
    assert not (tmp_path / "out").exists()


SPEC_TEXT = SMALL.format(design="lhs", samples=4, replicates=1, pooling="low = 0.0\nhigh = 1.0")


@st.composite
def mutated_specs(draw) -> dict:
    """The small valid spec with one to three random mutations."""
    spec = tomllib.loads(SPEC_TEXT)
    return mutate(draw, spec, table_paths(spec))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=mutated_specs())
def test_fuzzed_sweep_spec_loads_or_raises_one_line_naming_the_file_and_a_key(tmp_path, spec):
    path = write_toml(tmp_path / "fuzzed.toml", spec)
    try:
        loaded, _ = load_sweep(path)
    except ScenarioError as err:
        assert_one_line_naming(err, path, set(SweepSpec.model_fields) | set(spec))
    else:
        assert loaded.runs <= MAX_RUNS


def test_folder_with_runs_needs_resume_and_loses_nothing(tmp_path):
    path = spec_file(tmp_path, samples=3)
    run_sweep(path, tmp_path / "out", executor="serial")
    before = sorted(p.name for p in (tmp_path / "out" / "runs").iterdir())
    with pytest.raises(PfppError) as info:
        run_sweep(path, tmp_path / "out", executor="serial")
    assert str(info.value) == f"{tmp_path / 'out'} already holds 3 finished runs of this sweep: rerun with --resume, or use another --out"
    assert sorted(p.name for p in (tmp_path / "out" / "runs").iterdir()) == before
    other = spec_file(tmp_path, samples=4)
    with pytest.raises(PfppError) as info:
        run_sweep(other, tmp_path / "out", executor="serial", resume=True)
    spec_hash = json.loads((tmp_path / "out" / "manifest.json").read_text())["spec_hash"]
    assert str(info.value) == f"{tmp_path / 'out'} holds a different sweep (spec hash {spec_hash}); use another --out"
    assert sorted(p.name for p in (tmp_path / "out" / "runs").iterdir()) == before


def test_killed_sweep_resumes_with_no_duplicate_and_no_missing_run(tmp_path):
    path = spec_file(tmp_path, samples=12)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "pfpp_sim", "sweep", str(path), "--executor", "serial", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "runs").glob("run-*.parquet"))) < 3:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = len(list((out / "runs").glob("run-*.parquet")))
    assert 3 <= partial < 12, "the kill should land mid-sweep"
    resumed = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    results = pd.read_parquet(out / "results.parquet")
    assert sorted(results["run_id"]) == list(range(12))
    assert not list((out / "runs").glob(".*.tmp"))
    run_sweep(path, tmp_path / "clean", executor="serial")
    pd.testing.assert_frame_equal(results, pd.read_parquet(tmp_path / "clean" / "results.parquet"))


def test_sweep_killed_half_way_through_writing_a_run_resumes_to_the_same_results(tmp_path):
    path = spec_file(tmp_path, samples=6)
    out = tmp_path / "killed"
    args = ["sweep", str(path), "--executor", "serial", "--out", str(out)]
    # Parquet writes: design.parquet, then one file per run; the 4th is run 2.
    killed = subprocess.run([sys.executable, str(FAULTS), "4", *args], capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL
    assert sorted(p.name for p in (out / "runs").glob("run-*.parquet")) == ["run-0000000.parquet", "run-0000001.parquet"]
    assert len(list((out / "runs").glob(".run-0000002.parquet.*.tmp"))) == 1, "the kill lands mid-write"
    assert not (out / "results.parquet").exists()
    resumed = subprocess.run([sys.executable, "-m", "pfpp_sim", *args, "--resume"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert not list((out / "runs").glob(".*.tmp"))
    run_sweep(path, tmp_path / "clean", executor="serial")
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), pd.read_parquet(tmp_path / "clean" / "results.parquet"))


def test_disk_full_during_a_sweep_is_one_line_and_resume_finishes_it(tmp_path, monkeypatch):
    path = spec_file(tmp_path, samples=5)
    out = tmp_path / "out"
    args = ["sweep", str(path), "--executor", "serial", "--out", str(out)]
    with monkeypatch.context() as patch:
        patch.setattr(pq, "write_table", half_written(4, disk_full))
        full = CliRunner().invoke(app, args)
    assert full.exit_code == 2
    assert error_lines(full.stderr) == [f"error: cannot write {out / 'runs' / 'run-0000002.parquet'}: No space left on device"]
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["run-0000000.parquet", "run-0000001.parquet"]
    resumed = CliRunner().invoke(app, [*args, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert sorted(pd.read_parquet(out / "results.parquet")["run_id"]) == list(range(5))


def test_ctrl_c_stops_a_sweep_with_one_line_and_resume_finishes_it(tmp_path):
    path = spec_file(tmp_path, samples=40)
    out = tmp_path / "out"
    args = ["sweep", str(path), "--executor", "serial", "--out", str(out)]
    # The sweep sends itself SIGINT, as Ctrl+C would, once its fifth Parquet file is written: a
    # signal from outside could land after a fast sweep had finished. A background shell starts
    # children with SIGINT ignored; restore the default, as a terminal has it.
    interrupted = subprocess.run([sys.executable, str(FAULTS), "--sigint", "5", *args], capture_output=True, text=True,
                                 timeout=300, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert interrupted.returncode == 130, interrupted.stderr
    assert len(error_lines(interrupted.stderr)) == 1, interrupted.stderr
    assert error_lines(interrupted.stderr)[0].startswith("interrupted: every file already written is complete"), interrupted.stderr
    written = sorted((out / "runs").iterdir())
    assert 0 < len(written) < 40, "the interrupt should land mid-sweep"
    assert all(len(pd.read_parquet(p)) > 0 for p in written), "every file left is complete"
    resumed = subprocess.run([sys.executable, "-m", "pfpp_sim", *args, "--resume"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert sorted(pd.read_parquet(out / "results.parquet")["run_id"]) == list(range(40))


def test_dask_local_cluster_and_one_worker_give_the_same_results_as_processes(tmp_path):
    pytest.importorskip("distributed", reason="the dask extra is part of make test")
    path = spec_file(tmp_path, samples=6, replicates=2)
    run_sweep(path, tmp_path / "processes", executor="processes", workers=2)
    run_sweep(path, tmp_path / "dask", executor="dask", workers=2)
    run_sweep(path, tmp_path / "serial", executor="serial")
    expected = pd.read_parquet(tmp_path / "processes" / "results.parquet")
    for other in ("dask", "serial"):
        pd.testing.assert_frame_equal(expected, pd.read_parquet(tmp_path / other / "results.parquet"))
    recorded = {name: json.loads((tmp_path / name / "manifest.json").read_text())["execution"] for name in ("processes", "dask", "serial")}
    assert recorded == {
        "processes": {"executor": "processes", "workers": 2},
        "dask": {"executor": "dask", "workers": 2, "scheduler": "local cluster"},
        "serial": {"executor": "serial", "workers": 1},
    }


def test_a_design_value_the_scenario_refuses_stops_the_sweep_before_any_run(tmp_path):
    path = spec_file(tmp_path, pooling="low = 0.5\nhigh = 1.5")
    with pytest.raises(ScenarioError) as info:
        run_sweep(path, tmp_path / "out", executor="serial")
    assert str(info.value).startswith(f"{path}: parameters.levers.pooling = 1.")
    assert str(info.value).endswith(": a value the scenario accepts (Input should be less than or equal to 1)")
    assert not (tmp_path / "out").exists()


def test_a_sweep_into_a_folder_of_other_files_is_refused_unless_overwrite(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "comparison.parquet").write_bytes(b"not a sweep")
    path = spec_file(tmp_path, samples=2)
    with pytest.raises(PfppError) as info:
        run_sweep(path, out, executor="serial")
    assert str(info.value) == f"--out {out} holds files that are not a sweep; give --overwrite to replace them, or choose another folder"
    assert (out / "comparison.parquet").read_bytes() == b"not a sweep"
    run_sweep(path, out, executor="serial", overwrite=True)
    assert not (out / "comparison.parquet").exists() and (out / "results.parquet").exists()


def test_failed_run_is_named_with_its_parameters_and_finished_runs_are_kept(tmp_path):
    path = spec_file(tmp_path, design="grid", pooling="levels = [0.0]")
    path.write_text(path.read_text().replace('[parameters."levers.data_sharing"]\nlow = 0.0\nhigh = 1.0',
                                             '[parameters."run.places"]\nlevels = [["E07999999"], ["E07000062"], ["E07999998"]]'))
    with pytest.raises(PfppError) as info:
        run_sweep(path, tmp_path / "out", executor="serial")
    assert str(info.value) == (
        "2 run(s) failed; first: run 0 (point 0, replicate 0; levers.pooling=0.0, run.places=['E07999999']): "
        "DataError: places: unknown place code 'E07999999'; expected 'pilots', 'all' or ONS codes of areas in "
        f"census2021_tenure.csv and census2021_age_5y.csv. 1 finished runs are kept in {tmp_path / 'out' / 'runs'}; "
        "rerun with --resume after fixing"
    )
    assert [p.name for p in (tmp_path / "out" / "runs").glob("run-*.parquet")] == ["run-0000001.parquet"]


def test_sobol_finds_the_retrofit_budget_dominates_households_retrofitted(tmp_path):
    spec = tmp_path / "budget.toml"
    spec.write_text('''
name = "budget"
base = "siloed_baseline"
design = "sobol"
samples = 32
seed = 11
outputs = ["retrofits"]

[overrides]
"run.places" = ["E07000062"]
"run.horizon_months" = 30
"run.min_households_per_place" = 8000
"programmes.home_upgrade.competitive_share" = 0.0
"levers.stream_churn" = 0.0

[parameters."programmes.home_upgrade.budget.value"]
low = 2
high = 60

[parameters."levers.data_sharing"]
low = 0.0
high = 1.0

[parameters."levers.local_priority_weight"]
low = 0.0
high = 1.0
''', encoding="utf-8")
    run_sweep(spec, tmp_path / "out", workers=2)
    ranked = top_levers(analyse(tmp_path / "out"), "sobol")
    assert ranked.iloc[0]["parameter"] == "programmes.home_upgrade.budget.value"


def test_analyse_refuses_a_folder_that_is_not_a_sweep(tmp_path):
    with pytest.raises(PfppError, match="not a sweep folder"):
        analyse(tmp_path)


def test_prim_finds_the_lever_range_that_drives_money_returned(tmp_path):
    pytest.importorskip("ema_workbench", reason="the ema extra is part of make test")
    from pfpp_sim.discovery import discover

    spec = tmp_path / "timelines.toml"
    spec.write_text('''
name = "timelines"
base = "siloed_baseline"
design = "lhs"
samples = 60
seed = 5
outputs = ["returned_gbp"]

[overrides]
"run.places" = ["E07000062"]
"run.horizon_months" = 24
"levers.stream_churn" = 0.0

[parameters."programmes.household_support.award_lag.value"]
low = 0
high = 10
integer = true

[parameters."levers.data_sharing"]
low = 0.0
high = 1.0
''', encoding="utf-8")
    run_sweep(spec, tmp_path / "out", workers=2)
    found = discover(tmp_path / "out", "returned_gbp", high=True)
    restricted = found.limits.set_index("parameter")
    assert "programmes.household_support.award_lag.value" in restricted.index
    assert float(restricted.loc["programmes.household_support.award_lag.value", "min"]) > 0
    assert found.density > 0.5


# ------------------------------------------------------------- Sobol indices


def test_a_sobol_design_of_a_size_that_is_not_a_power_of_two_is_refused(tmp_path):
    path = spec_file(tmp_path, design="sobol", samples=3)
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    assert str(info.value) == f"{path}: samples = 3: Value error, a power of two for a sobol design (Saltelli sampling), e.g. 2 or 4"


def test_sobol_indices_outside_the_unit_interval_or_with_wide_intervals_are_flagged():
    spec = SweepSpec.model_validate({
        "name": "flags", "base": "siloed_baseline", "design": "sobol", "samples": 4, "seed": 3, "outputs": ["returned_gbp"],
        "parameters": {"levers.pooling": {"low": 0.0, "high": 1.0}, "levers.data_sharing": {"low": 0.0, "high": 1.0}},
    })
    design = design_of(spec)
    rng = np.random.default_rng(0)
    # An output driven by pooling with noise: four samples cannot pin its indices down.
    y = design["levers.pooling"].to_numpy() + 0.5 * rng.standard_normal(len(design))
    results = design.assign(replicate=0, returned_gbp=y)
    indices = sweep_indices(spec, results).set_index(["parameter", "measure"])
    sobol = indices[indices.index.get_level_values("measure").isin(["S1", "ST"])]
    assert (sobol["flag"] != "").all(), sobol
    out = sobol[(sobol["value"] < 0) | (sobol["value"] > 1)]
    assert (out["flag"] == "outside [0, 1]: more samples needed").all()
    assert _flag("S1", 0.4, 0.05) == "" and _flag("S1", 0.4, 0.2) == "wide CI (+/-0.20): more samples needed"
    assert _flag("mu_star", 3.0, 0.5) == "", "only Sobol indices are bounded by [0, 1]"


def test_resume_runs_again_a_run_file_damaged_on_disk(tmp_path):
    path = spec_file(tmp_path, samples=3)
    clean = run_sweep(path, tmp_path / "clean", executor="serial")
    out = tmp_path / "out"
    run_sweep(path, out, executor="serial")
    damaged = out / "runs" / "run-0000001.parquet"
    blob = bytearray(damaged.read_bytes())
    for i in range(len(blob) // 3, len(blob) // 3 + 32):
        blob[i] ^= 0xFF
    damaged.write_bytes(bytes(blob))
    with pytest.raises(PfppError, match="run-0000001.parquet is not a readable Parquet table"):
        sweep_results(out)
    run_sweep(path, out, executor="serial", resume=True)
    pd.testing.assert_frame_equal(sweep_results(out), sweep_results(tmp_path / "clean"))
    assert clean.manifest["runs"] == 3 and len(clean.results) == 3


def test_a_sweep_spec_nested_too_deep_is_one_line(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 1000 + "]" * 1000 + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    assert str(info.value) == f"{path}: <file> = None: valid TOML (tables or arrays nested too deep)"


# ------------------------------------------------------------- Morris effects


@pytest.mark.parametrize("morris_levels", [4, 6])
def test_morris_effects_are_per_full_range_for_switches_and_sliders_alike(morris_levels):
    # A known linear model: switching carry-over on adds 3; pooling from 0 to 1 adds 2 and
    # data sharing from 0.2 to 0.7 adds 5. Every elementary effect is then exact.
    spec = SweepSpec.model_validate({
        "name": "known", "base": "siloed_baseline", "design": "morris", "samples": 6, "morris_levels": morris_levels,
        "seed": 1, "outputs": ["returned_gbp"],
        "parameters": {
            "levers.carry_over": {"levels": [False, True]},
            "levers.pooling": {"low": 0.0, "high": 1.0},
            "levers.data_sharing": {"low": 0.2, "high": 0.7},
        },
    })
    design = design_of(spec)
    y = 3.0 * design["levers.carry_over"].astype(float) + 2.0 * design["levers.pooling"] + 10.0 * design["levers.data_sharing"]
    indices = sweep_indices(spec, design.assign(replicate=0, returned_gbp=y)).set_index(["parameter", "measure"])["value"]
    assert indices["levers.carry_over", "mu_star"] == pytest.approx(3.0)
    assert indices["levers.pooling", "mu_star"] == pytest.approx(2.0)
    assert indices["levers.data_sharing", "mu_star"] == pytest.approx(5.0)
    assert indices.xs("sigma", level="measure").abs().max() == pytest.approx(0.0, abs=1e-9)


def test_morris_effect_of_a_three_level_parameter_is_per_change_from_first_to_last_level():
    # Three funding periods; the output rises by 1 per level step, so 2 from first to last.
    spec = SweepSpec.model_validate({
        "name": "three", "base": "siloed_baseline", "design": "morris", "samples": 8, "seed": 2, "outputs": ["returned_gbp"],
        "parameters": {"levers.funding_period_months": {"levels": [12, 24, 36]}, "levers.pooling": {"low": 0.0, "high": 1.0}},
    })
    design = design_of(spec)
    y = design["levers.funding_period_months"].astype(float) / 12.0
    indices = sweep_indices(spec, design.assign(replicate=0, returned_gbp=y)).set_index(["parameter", "measure"])["value"]
    assert indices["levers.funding_period_months", "mu_star"] == pytest.approx(2.0)
    assert indices["levers.pooling", "mu_star"] == pytest.approx(0.0)


# ------------------------------------------------------------------ results read back
def test_a_sweep_keeping_places_writes_one_row_per_run_and_one_per_run_and_place_and_reads_them_back(tmp_path):
    path = spec_file(tmp_path, samples=2, replicates=2)
    path.write_text(path.read_text().replace("seed = 3\n", "seed = 3\nkeep_places = true\n"))
    seen = []
    sweep = run_sweep(path, tmp_path / "out", executor="serial", progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (4, 4)
    assert plan_sweep(path)["runs"] == 4
    outputs = ["fuel_poverty_rate", "returned_gbp", "retrofits"]
    params = ["levers.pooling", "levers.data_sharing"]
    results = sweep.results
    assert list(results.columns) == ["run_id", "point", "replicate", *params, *outputs]
    assert results.index.equals(pd.RangeIndex(4))
    assert list(zip(results["run_id"], results["point"], results["replicate"])) == [(0, 0, 0), (1, 0, 1), (2, 1, 0), (3, 1, 1)]
    by_place = sweep.by_place
    assert list(by_place.columns) == ["run_id", "point", "replicate", "place_code", *params, *outputs]
    assert list(zip(by_place["run_id"], by_place["place_code"])) == [(r, p) for r in range(4) for p in ("ALL", "E07000062")]
    pd.testing.assert_frame_equal(by_place, pd.read_parquet(tmp_path / "out" / "results_by_place.parquet"))
    pd.testing.assert_frame_equal(by_place, sweep_results(tmp_path / "out", by_place=True))
    pd.testing.assert_frame_equal(results, sweep_results(tmp_path / "out"))
    everyone = by_place[by_place["place_code"] == "ALL"].drop(columns="place_code").reset_index(drop=True)
    pd.testing.assert_frame_equal(everyone, results)
    read = read_sweep(tmp_path / "out")
    assert read.folder == tmp_path / "out"
    pd.testing.assert_frame_equal(read.design, pd.read_parquet(tmp_path / "out" / "design.parquet"))
    pd.testing.assert_frame_equal(read.by_place, by_place)
    assert table_metadata(tmp_path / "out" / "results_by_place.parquet") == table_metadata(tmp_path / "out" / "results.parquet")
    assert set(table_metadata(tmp_path / "out" / "results.parquet")["units"]) == set(outputs)


def test_a_sweep_that_keeps_no_places_writes_no_table_by_place(tmp_path):
    sweep = run_sweep(spec_file(tmp_path, samples=2), tmp_path / "out", executor="serial")
    assert sweep.by_place is None and not (tmp_path / "out" / "results_by_place.parquet").exists()
    assert set(pd.read_parquet(tmp_path / "out" / "runs" / "run-0000000.parquet")["place_code"]) == {"ALL"}


def test_reading_a_folder_that_is_not_a_finished_sweep_says_what_it_holds_and_what_to_do(tmp_path):
    path = spec_file(tmp_path, samples=2)
    run_sweep(path, tmp_path / "out", executor="serial")
    manifest_path = tmp_path / "out" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for change, expected in [
        ({"complete": False}, f"{tmp_path / 'out'} holds an unfinished sweep: complete it with 'pfpp sweep lhs.toml --out {tmp_path / 'out'} --resume'"),
        ({"kind": "comparison"}, f"{tmp_path / 'out'} holds a comparison folder, not a sweep (expected a folder written by 'pfpp sweep')"),
        ({"parameter_order": None}, "the sweep manifest lacks its spec or parameter order (written by another version?): rerun the sweep"),
        ({"spec": None}, "the sweep manifest lacks its spec or parameter order (written by another version?): rerun the sweep"),
    ]:
        changed = {k: v for k, v in {**manifest, **change}.items() if v is not None}
        manifest_path.write_text(json.dumps(changed))
        with pytest.raises(PfppError) as info:
            read_sweep(tmp_path / "out")
        assert str(info.value) == expected
    manifest_path.write_text(json.dumps({k: v for k, v in manifest.items() if k != "kind"}))
    with pytest.raises(PfppError, match=" holds a results folder, not a sweep"):
        read_sweep(tmp_path / "out")
    for run in (tmp_path / "out" / "runs").glob("run-*.parquet"):
        run.unlink()
    with pytest.raises(PfppError) as info:
        sweep_results(tmp_path / "out")
    assert str(info.value) == f"{tmp_path / 'out'} holds no finished runs (expected a sweep folder with runs/run-*.parquet)"


def test_a_sweep_s_manifest_records_its_spec_base_environment_and_time_and_its_tables_their_units(tmp_path):
    path = spec_file(tmp_path, samples=2, replicates=2)
    spec, base = load_sweep(path)
    sweep = run_sweep(path, tmp_path / "out", executor="serial")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert sweep.manifest == manifest
    seconds = manifest.pop("seconds")
    assert isinstance(seconds, float) and 0 < seconds < 600 and round(seconds, 3) == seconds
    assert manifest == {
        "kind": "sweep", "name": "small", "spec": spec.model_dump(mode="json"), "spec_hash": spec.spec_hash(),
        "parameter_order": ["levers.pooling", "levers.data_sharing"], "spec_file": "lhs.toml", "base_scenario": base.name,
        "base_scenario_hash": base.scenario_hash(), "runs": 4, "seed": 3, "pfpp_sim_version": package_version(),
        "git_commit": git_commit(), "environment": environment(), "execution": execution("serial", None, None),
        "warnings": run_warnings([base]), "complete": True,
    }
    units = {"fuel_poverty_rate": SUMMARY_UNITS["fuel_poverty_rate"], "returned_gbp": "GBP", "retrofits": SUMMARY_UNITS["retrofits"]}
    assert table_metadata(tmp_path / "out" / "results.parquet") == {"units": units}
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out" / "design.parquet"), design_of(spec))


def test_a_sweep_spec_s_errors_name_the_file_the_key_the_value_and_what_was_expected(tmp_path):
    path = spec_file(tmp_path)
    path.write_text(path.read_text().replace("seed = 3", "seed = 3\ncolour = 1"))
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    assert str(info.value) == f"{path}: colour = 1: unknown key (check the spelling; unknown keys are not allowed)"
    with pytest.raises(ScenarioError) as info:
        load_sweep(tmp_path / "nope.toml")
    assert str(info.value).startswith(f"{tmp_path / 'nope.toml'}: <file> = ") and str(info.value).endswith(": an existing sweep spec file")
    path = spec_file(tmp_path)
    path.write_text(path.read_text().replace('"run.horizon_months" = 12', '"run.horizon_months" = -5'))
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    assert str(info.value) == f"{path}: overrides.run.horizon_months = -5: Input should be greater than or equal to 1"


def test_a_sweep_of_exactly_a_million_runs_is_accepted_and_one_more_is_named_in_full(tmp_path):
    assert load_sweep(spec_file(tmp_path, samples=MAX_RUNS))[0].runs == MAX_RUNS
    path = spec_file(tmp_path, samples=MAX_RUNS, replicates=2)
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    assert str(info.value) == f"{path}: samples = 1000000: a sweep of at most 1,000,000 runs (design points x replicates), not 2,000,000"


def test_a_morris_design_uses_the_levels_the_spec_asks_for(tmp_path):
    path = spec_file(tmp_path, design="morris", samples=2)
    path.write_text(path.read_text().replace("seed = 3", "seed = 3\nmorris_levels = 6"))
    spec, _ = load_sweep(path)
    levels = set(design_of(spec)["levers.data_sharing"].round(9))
    assert levels <= {round(k / 5, 9) for k in range(6)} and not levels <= {0.0, 1 / 3, 2 / 3, 1.0}


def test_the_worker_count_and_scheduler_asked_for_reach_the_pool_and_the_manifest(tmp_path, monkeypatch):
    asked = spy_on_run_jobs(monkeypatch)
    run_sweep(spec_file(tmp_path, samples=2), tmp_path / "out", executor="serial", workers=3)
    assert (asked[0]["workers"], asked[0]["scheduler"]) == (3, None)
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["execution"] == execution("serial", 3, None)


def test_a_sweep_s_manifest_says_it_is_unfinished_until_its_last_run_is_written(tmp_path):
    seen = []

    def progress(*_: int) -> None:
        seen.append(json.loads((tmp_path / "out" / "manifest.json").read_text())["complete"])

    run_sweep(spec_file(tmp_path, samples=2), tmp_path / "out", executor="serial", progress=progress)
    assert seen and not any(seen)
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["complete"] is True
