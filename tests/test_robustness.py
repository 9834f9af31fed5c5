"""Robustness runs end to end on one small place: executors, resuming, the command line, the report, bad input."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from output import error_lines
from typer.testing import CliRunner

from pfpp_sim import compare, load_scenario
from pfpp_sim.analysis import ALL_PLACES, SUMMARY_METRICS
from pfpp_sim.calibration.coverage import run_warnings
from pfpp_sim.cli import _print_robustness, app
from pfpp_sim.errors import PfppError, ScenarioError
from pfpp_sim.report import report_sections, write_report
from pfpp_sim.robustness import _world_differences, load_robustness, robustness, run_worlds
from pfpp_sim.sections import format_difference
from pfpp_sim.storage import RunFolder, environment
from pfpp_sim.worlds import apply_world, uncertainty_space

FAULTS = Path(__file__).with_name("faults.py")
BASE = """
name = "base"
extends = "siloed_baseline"
[run]
places = ["E07000062"]
horizon_months = 12
[world.young_people]
neet_exit_hazard = { value = 0.12, unit = "probability/month", source = "assumption:neet_exit_hazard", low = 0.06, high = 0.18 }
[mechanisms]
reporting_cost = { value = 8000, unit = "GBP/grant/year", source = "assumption:reporting_cost", low = 4000, high = 16000 }
[user_sources.hub_audit]
description = "Recovery share after our hub's course"
reference = "Bradford hubs audit 2023"
range_reason = "the audit's smallest and largest hub"
[interventions.mh_hub]
effect = { value = 0.185, unit = "probability", source = "user:hub_audit", low = 0.1, high = 0.25 }
"""
ALTERNATIVE = """
name = "joined"
extends = "base"
[levers]
pooling = 1.0
timeline_alignment = true
carry_over = true
data_sharing = 0.7
"""
SETTINGS = {"samples": 3, "replicates": 2, "seed": 3}
OPTIONS = ["--samples", "3", "--replicates", "2", "--seed", "3"]
TABLES = ("design", "robustness", "summary", "influence", "flips")


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("scenarios")
    (folder / "base.toml").write_text(BASE, encoding="utf-8")
    (folder / "joined.toml").write_text(ALTERNATIVE, encoding="utf-8")
    return folder / "base.toml", folder / "joined.toml"


@pytest.fixture(scope="module")
def serial(files, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("robustness") / "serial"
    robustness(*files, out, executor="serial", **SETTINGS)
    return out


def tables(folder: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES}


def assert_same_results(folder: Path, expected: Path) -> None:
    ours, theirs = tables(folder), tables(expected)
    for name in TABLES:
        pd.testing.assert_frame_equal(ours[name], theirs[name], obj=name)


def test_results_are_the_same_serially_on_processes_and_on_a_dask_cluster(files, serial, tmp_path):
    robustness(*files, tmp_path / "processes", executor="processes", workers=2, **SETTINGS)
    assert_same_results(tmp_path / "processes", serial)
    pytest.importorskip("distributed", reason="the dask extra is part of make test")
    robustness(*files, tmp_path / "dask", executor="dask", workers=2, **SETTINGS)
    assert_same_results(tmp_path / "dask", serial)


def test_the_default_world_and_a_sampled_world_give_what_compare_gives_for_their_scenarios(files, serial):
    result = load_robustness(serial)
    base, alternative = (load_scenario(f) for f in files)
    row = result.design.iloc[2]
    assert row["sampled"]
    for world, values in ((0, {}), (2, {path: row[path] for path in result.space.names})):
        pair = apply_world(base, alternative, values)
        expected = compare(*pair, seed=3, replicates=2, executor="serial").comparison
        expected = expected[expected["place_code"] == ALL_PLACES].set_index("metric")
        ours = result.worlds[(result.worlds["world"] == world) & (result.worlds["place_code"] == ALL_PLACES)].set_index("metric")
        shared = ours.index.intersection(expected.index)
        assert len(shared) >= 12
        pd.testing.assert_series_equal(ours.loc[shared, "difference"], expected.loc[shared, "difference"], check_names=False, atol=1e-9)


def test_the_manifest_records_both_scenarios_the_space_and_the_design(files, tmp_path):
    # Its own run, not the module's: mutation testing links a function's mutants only to the tests that call it.
    own = tmp_path / "own"
    robustness(*files, own, executor="serial", **SETTINGS)
    manifest = json.loads((own / "manifest.json").read_text())
    base, alternative = (load_scenario(f) for f in files)
    assert manifest["kind"] == "robustness" and manifest["complete"]
    assert manifest["scenarios"]["base"]["hash"] == base.scenario_hash()
    assert manifest["scenarios"]["joined"]["hash"] == alternative.scenario_hash()
    factors = {f["path"]: f for f in manifest["space"]["factors"]}
    assert factors["world.young_people.neet_exit_hazard"] == {
        "path": "world.young_people.neet_exit_hazard", "unit": "probability/month", "source": "assumption:neet_exit_hazard",
        "value": 0.12, "low": 0.06, "high": 0.18,
    }
    assert (manifest["design"], manifest["samples"], manifest["worlds"], manifest["seed"], manifest["replicates"]) == ("lhs", 3, 4, 3, 2)
    assert manifest["runs"] == 4 * 2 * 2 and manifest["git_commit"] and manifest["pfpp_sim_version"]
    assert manifest["execution"] == {"executor": "serial", "workers": 1}
    assert sorted(p.name for p in (own / "runs").iterdir()) == [f"run-{w:07d}.parquet" for w in range(4)]
    for name, scenario in (("base", base), ("joined", alternative)):
        assert manifest["scenarios"][name] == json.loads(json.dumps({
            "hash": scenario.scenario_hash(), "extends": scenario.extends, "sources": [src._asdict() for src in scenario.sources],
            "parameters": scenario.model_dump(mode="json"),
        }, default=str))
    assert manifest["environment"] == environment() and manifest["warnings"] == run_warnings([base, alternative])


def test_a_run_killed_while_writing_a_world_resumes_to_the_same_results(files, serial, tmp_path):
    out = tmp_path / "killed"
    args = ["robustness", str(files[0]), str(files[1]), *OPTIONS, "--executor", "serial", "--out", str(out)]
    # Parquet writes: design.parquet, then one file per world; the 4th is world 2.
    killed = subprocess.run([sys.executable, str(FAULTS), "4", *args], check=False, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert sorted(p.name for p in (out / "runs").glob("run-*.parquet")) == ["run-0000000.parquet", "run-0000001.parquet"]
    assert len(list((out / "runs").glob(".run-0000002.parquet.*.tmp"))) == 1, "the kill lands mid-write"
    assert not (out / "robustness.parquet").exists()
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 2
    assert error_lines(again.stderr) == [f"error: {out} already holds 2 finished worlds of this robustness run: rerun with --resume, or use another --out"]
    resumed = CliRunner().invoke(app, [*args, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert not list((out / "runs").glob(".*.tmp"))
    assert_same_results(out, serial)


def test_the_command_prints_one_line_per_outcome_and_json_gives_the_same_shares(files, serial):
    args = ["robustness", str(files[0]), str(files[1]), *OPTIONS, "--out", str(serial), "--resume"]
    printed = CliRunner().invoke(app, args)
    assert printed.exit_code == 0, printed.output
    summary = pd.read_parquet(serial / "summary.parquet")
    fuel = summary[(summary["place_code"] == ALL_PLACES) & (summary["metric"] == "fuel_poverty_rate")].iloc[0]
    assert f"Fuel poverty: joined {fuel.direction} in {fuel.sign_holds:.0%} of 3 worlds (default " in printed.stdout
    assert printed.stdout.count(" of 3 worlds") + printed.stdout.count("over 3 worlds") == (summary["place_code"] == ALL_PLACES).sum()
    as_json = CliRunner().invoke(app, [*args, "--json"])
    assert as_json.exit_code == 0, as_json.output
    payload = json.loads(as_json.stdout)
    shares = {o["metric"]: o["sign_holds"] for o in payload["outcomes"]}
    assert shares["fuel_poverty_rate"] == fuel.sign_holds
    space = uncertainty_space(load_scenario(files[0]), load_scenario(files[1]))
    assert payload["factors"] == space.names
    assert {"world.young_people.neet_exit_hazard", "mechanisms.reporting_cost", "interventions.mh_hub.effect"} <= set(payload["factors"]), (
        "the ranges the base file gives, its own source's too"
    )
    assert (payload["sampled_worlds"], payload["replicates"], payload["design"]) == (3, 2, "lhs")


def test_the_report_of_a_robustness_folder_says_whether_the_answer_would_hold(serial):
    title, sections = report_sections(serial)
    assert title == "pfpp_sim report: would joined vs base hold?"
    assert [s.title for s in sections] == [
        "What differs", "Would it hold?", "What moves the difference", "Sampled assumptions", "Assumptions", "Manifest",
        "Appendix: every assumption",
    ]
    summary = pd.read_parquet(serial / "summary.parquet").set_index(["place_code", "metric"])
    fuel = summary.loc[(ALL_PLACES, "fuel_poverty_rate")]
    (name, alt, _), = sections[1].figures
    assert name == "robustness_spread"
    assert f"Fuel poverty: {fuel.direction} in {fuel.sign_holds:.0%}" in alt
    assert f"{fuel.direction} in {fuel.sign_holds:.0%}" in sections[1].body
    assert "world.young_people.neet_exit_hazard" in sections[3].body and "0.06" in sections[3].body
    assert (
        "<td>interventions.mh_hub.effect</td><td>probability</td><td>user:hub_audit</td><td>0.185</td><td>0.1</td><td>0.25</td>"
        "<td>the analyst&#x27;s own: the audit&#x27;s smallest and largest hub (Bradford hubs audit 2023)</td>"
    ) in sections[3].body, "the analyst's own source is sampled, with its reason"
    assert "<td>hub_audit</td><td>Recovery share after our hub&#x27;s course</td>" in sections[4].body
    files = write_report(serial)
    assert "Would it hold?" in files["report"].read_text(encoding="utf-8")
    assert files["robustness_spread"].read_bytes().startswith(b"\x89PNG")



def test_the_report_and_the_command_mark_a_correlation_that_cannot_be_told_from_zero(serial, tmp_path, capsys):
    folder = tmp_path / "copy"
    shutil.copytree(serial, folder)
    influence = pd.DataFrame({
        "metric": "fuel_poverty_rate", "factor": ["mechanisms.reporting_cost", "world.young_people.neet_exit_hazard"],
        "measure": "prcc", "value": [-0.62, 0.08], "conf": [0.2, 0.2],
    })
    influence.to_parquet(folder / "influence.parquet")
    moves = report_sections(folder)[1][2]
    assert moves.title == "What moves the difference"
    assert "mechanisms.reporting_cost (-0.62)" in moves.body
    assert "world.young_people.neet_exit_hazard (+0.08, within noise)" in moves.body
    result = load_robustness(folder)
    assert result.top_factors("fuel_poverty_rate")["within_noise"].tolist() == [False, True]
    fuel = next(o for o in result.payload()["outcomes"] if o["metric"] == "fuel_poverty_rate")
    assert [f["within_noise"] for f in fuel["top_factors"]] == [False, True]
    _print_robustness(result, folder)
    printed = capsys.readouterr().out
    assert "mechanisms.reporting_cost (prcc -0.62)" in printed and printed.count("within noise)") == 1

BAD = {
    "horizon": ('joined.toml', 'name = "joined"\nextends = "base"\n[run]\nhorizon_months = 24\n', [],
                "joined.toml: run.horizon_months = 24: the same as in {base} (12)"),
    "places": ('joined.toml', 'name = "joined"\nextends = "base"\n[run]\nplaces = ["E06000032"]\n', [],
               "joined.toml: run.places = ['E06000032']: the same as in {base} (['E07000062'])"),
    "start": ('joined.toml', 'name = "joined"\nextends = "base"\n[run]\nstart = "2022-04"\n', [],
              "joined.toml: run.start = '2022-04': the same as in {base} ('2021-04')"),
    "calibration": ('joined.toml', 'name = "joined"\nextends = "base"\ncalibration = "none"\n', [],
                    "joined.toml: calibration = 'none': the same calibration as {base} (england)"),
    "low_above_high": ('joined.toml', BASE.replace("low = 0.06, high = 0.18", "low = 0.18, high = 0.06").replace('"base"', '"joined"'), [],
                       "joined.toml: world.young_people.neet_exit_hazard = {'value': 0.12, "),
    "zero_samples": (None, None, ["--samples", "0"], "robustness: samples = 0: a whole number of at least 1"),
    "negative_samples": (None, None, ["--samples", "-8"], "robustness: samples = -8: a whole number of at least 1"),
    "sobol_not_a_power_of_two": (None, None, ["--design", "sobol", "--samples", "100"],
                                 "robustness: samples = 100: a power of two for the sobol design (e.g. 64 or 128)"),
    "one_replicate": (None, None, ["--replicates", "1"], "robustness: replicates = 1: a whole number of at least 2"),
    "unknown_design": (None, None, ["--design", "grid"], "robustness: design = 'grid': one of lhs, sobol, morris"),
    "unknown_executor": (None, None, ["--executor", "threads"], "unknown executor 'threads': expected serial, processes or dask"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_naming_the_file_or_option_with_exit_code_2_and_writes_nothing(tmp_path, case):
    replaced, text, options, expected = BAD[case]
    (tmp_path / "base.toml").write_text(BASE, encoding="utf-8")
    (tmp_path / "joined.toml").write_text(ALTERNATIVE, encoding="utf-8")
    if replaced:
        (tmp_path / replaced).write_text(text, encoding="utf-8")
    base, alternative = str(tmp_path / "base.toml"), str(tmp_path / "joined.toml")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["robustness", base, alternative, *OPTIONS, "--executor", "serial", *options, "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    expected = expected.replace("joined.toml", alternative).replace("{base}", base)
    assert lines[0].startswith(f"error: {expected}"), lines[0]
    if case == "low_above_high":
        assert lines[0].endswith("expected low <= value <= high, got 0.18 <= 0.12 <= 0.06")
    assert not out.exists()


@pytest.mark.parametrize(
    ("option", "message"),
    [({"seed": -1}, "robustness: seed = -1: a whole number of at least 0"),
     ({"workers": 0}, "robustness: workers = 0: a whole number of at least 1"),
     ({"replicates": 1}, "robustness: replicates = 1: a whole number of at least 2")],
)
def test_the_python_api_refuses_bad_options_before_writing_anything(files, tmp_path, option, message):
    with pytest.raises(ScenarioError) as info:
        robustness(*files, tmp_path / "out", **{**SETTINGS, **option})
    assert str(info.value).startswith(message)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [({"kind": "sweep"}, "holds a folder of kind 'sweep', not this robustness run: use another --out"),
     ({"robustness_hash": "0" * 16}, f"holds a different robustness run (hash {'0' * 16}): use another --out"),
     ({"code": "0.0.1 (commit abc)"}, "was started by pfpp_sim 0.0.1 (commit abc), this is ")],
)
def test_a_folder_of_another_run_or_model_version_is_refused_and_left_as_it_was(files, serial, tmp_path, change, message):
    manifest = {**json.loads((serial / "manifest.json").read_text()), **change}
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PfppError) as info:
        robustness(*files, out, resume=True, **SETTINGS)
    assert str(info.value).startswith(f"{out} ") and message in str(info.value)
    assert [p.name for p in out.iterdir()] == ["manifest.json"]


def test_a_run_as_large_as_allowed_with_seed_0_and_one_worker_returns_what_it_wrote(files, tmp_path, monkeypatch):
    module = sys.modules["pfpp_sim.robustness"]  # the package's name robustness is the function
    monkeypatch.setattr(module, "MAX_WORLD_REPLICATES", 8)  # 4 worlds (the default and 3 sampled) x 2 replicates: just allowed
    out, seen = tmp_path / "out", []

    def progress(done: int, total: int) -> None:
        seen.append((done, total, json.loads((out / "manifest.json").read_text())["complete"]))

    result = robustness(*files, out, samples=3, replicates=2, seed=0, workers=1, executor="serial", progress=progress)
    assert seen == [(done, 4, False) for done in range(5)], "counted in worlds from 0; the manifest says incomplete while they run"
    manifest = json.loads((out / "manifest.json").read_text())
    assert result.manifest == manifest and manifest["complete"] and manifest["seed"] == 0 and manifest["prim"] == result.prim
    names = {"design": "design.parquet", "worlds": "robustness.parquet", "summary": "summary.parquet", "influence": "influence.parquet",
             "flips": "flips.parquet", "manifest": "manifest.json"}
    assert manifest["files"] == names and result.files == {k: out / v for k, v in names.items()}
    assert isinstance(manifest["seconds"], float) and 0 < manifest["seconds"] < 600 and manifest["seconds"] == round(manifest["seconds"], 3)
    assert (result.base, result.alternative, result.samples, result.seed, result.replicates) == ("base", "joined", 3, 0, 2)
    with pytest.raises(ScenarioError) as info:
        robustness(*files, tmp_path / "larger", samples=3, replicates=3, seed=0, executor="serial")
    assert str(info.value) == "robustness: samples = 3: at most 8 worlds x replicates, not 12"
    assert not (tmp_path / "larger").exists()


def test_a_scenario_compared_with_itself_runs_as_base_and_base_alternative_with_no_difference(files, tmp_path):
    result = robustness(files[0], files[0], tmp_path / "out", samples=1, replicates=2, seed=1, executor="serial")
    assert (result.base, result.alternative) == ("base", "base_alternative")
    assert set(result.manifest["scenarios"]) == {"base", "base_alternative"}
    assert (result.worlds["difference"] == 0).all()


@pytest.mark.parametrize(
    ("option", "message"),
    [({"seed": True}, "robustness: seed = True: a whole number of at least 0"),
     ({"replicates": 2.5}, "robustness: replicates = 2.5: a whole number of at least 2 (each world's difference gets a CI)"),
     ({"workers": 2.5}, "robustness: workers = 2.5: a whole number of at least 1")],
)
def test_options_that_are_not_whole_numbers_are_refused(files, tmp_path, option, message):
    with pytest.raises(ScenarioError) as info:
        robustness(*files, tmp_path / "out", **{**SETTINGS, **option})
    assert str(info.value) == message
    assert not (tmp_path / "out").exists()


def test_scenarios_over_other_months_are_refused_naming_both_by_name(files, tmp_path):
    base = load_scenario(files[0])
    other = load_scenario(files[1]).with_overrides({"run.horizon_months": 24})
    with pytest.raises(ScenarioError) as info:
        robustness(base, other, tmp_path / "out", **SETTINGS)
    assert str(info.value).startswith("joined: run.horizon_months = 24: the same as in base (12): ")


def test_a_world_that_fails_is_named_with_its_values_and_the_finished_worlds_are_kept(files, tmp_path):
    base, alternative = (load_scenario(f) for f in files)
    design = pd.DataFrame({"world": [0, 1], "sampled": [False, True], "world.young_people.neet_exit_hazard": [0.12, 2.0]})
    with pytest.raises(PfppError) as info:
        run_worlds(design, base, alternative, seed=3, replicates=2, executor="serial")
    assert str(info.value).startswith("1 world(s) failed; first: world 1 (world.young_people.neet_exit_hazard=2): ")
    assert str(info.value).endswith(". 1 finished worlds are kept")
    store = RunFolder(tmp_path / "runs")
    with pytest.raises(PfppError) as info:
        run_worlds(design, base, alternative, seed=3, replicates=2, executor="serial", store=store)
    assert str(info.value).endswith(f". 1 finished worlds are kept in {store.folder}; rerun with --resume after fixing")
    kept = store.get(0)
    assert list(kept.columns) == ["world", "scenario", "replicate", "place_code", "metric", "value"]
    assert set(kept["scenario"]) == {"base", "alternative"} and set(kept["replicate"]) == {0, 1} and set(kept["world"]) == {0}


def test_world_differences_are_ordered_all_places_first_and_rounding_counts_as_no_difference():
    rows = []
    for world in (1, 0):
        for place in ("E2", ALL_PLACES, "E1"):
            for metric in ("returned_gbp", "fuel_poverty_rate"):
                for replicate in (0, 1):
                    base = 1e6 if metric == "returned_gbp" else 0.1
                    change = base * 1e-12 if place == "E1" else base * 0.1 * (replicate + 1)  # E1: rounding only
                    rows += [(world, "base", replicate, place, metric, base), (world, "alternative", replicate, place, metric, base + change)]
    runs = pd.DataFrame(rows, columns=["world", "scenario", "replicate", "place_code", "metric", "value"])
    table = _world_differences(runs)
    order = [(w, p, m) for w in (0, 1) for p in (ALL_PLACES, "E1", "E2") for m in sorted(("returned_gbp", "fuel_poverty_rate"), key=list(SUMMARY_METRICS).index)]
    assert list(zip(table["world"], table["place_code"], table["metric"])) == order
    rounding = table[table["place_code"] == "E1"]
    assert (rounding[["difference", "ci_low", "ci_high"]] == 0).all().all()
    real = table[table["place_code"] == "E2"]
    assert (real["difference"] > 0).all() and (real["ci_high"] > 0).all()
    assert list(table.index) == list(range(len(table))) and "index" not in table.columns


def test_a_headline_says_how_often_the_sign_holds_and_whether_the_default_is_within_noise(serial):
    result = load_robustness(serial)
    summary = result.summary.copy()
    at = (summary["place_code"] == ALL_PLACES) & (summary["metric"] == "fuel_poverty_rate")
    summary.loc[at, ["direction", "sign_holds", "worlds", "q05", "q95"]] = ["lower", 0.75, 4, -0.004, 0.001]
    summary.loc[at, ["default_difference", "default_ci_low", "default_ci_high"]] = [-0.002, -0.003, -0.001]
    nan = float("nan")
    spread = f"5-95%: {format_difference('fuel_poverty_rate', -0.004, nan, nan)} to {format_difference('fuel_poverty_rate', 0.001, nan, nan)}"
    default = format_difference("fuel_poverty_rate", -0.002, -0.003, -0.001)
    clear = replace(result, summary=summary.copy())
    assert clear.headline("fuel_poverty_rate") == f"Fuel poverty: joined lower in 75% of 4 worlds (default {default}; {spread})"
    summary.loc[at, ["default_ci_high"]] = 0.0005
    noisy = replace(result, summary=summary.copy())
    default = format_difference("fuel_poverty_rate", -0.002, -0.003, 0.0005)
    assert noisy.headline("fuel_poverty_rate") == (
        f"Fuel poverty: joined lower in 75% of 4 worlds (default {default}; {spread}; the default difference is within replicate noise)"
    )
    summary.loc[at, ["direction", "sign_holds"]] = ["no difference", nan]
    none = replace(result, summary=summary.copy())
    assert none.headline("fuel_poverty_rate") == f"Fuel poverty: no difference with the scenarios as given ({spread} over 4 worlds)"
    summary.loc[at, ["direction", "sign_holds"]] = ["lower", nan]
    assert replace(result, summary=summary).headline("fuel_poverty_rate").startswith("Fuel poverty: no difference with the scenarios as given")
    summary.loc[at, ["direction", "sign_holds"]] = ["no difference", 0.5]
    assert replace(result, summary=summary).headline("fuel_poverty_rate").startswith("Fuel poverty: no difference with the scenarios as given")


@pytest.mark.parametrize(("ci_low", "ci_high", "noisy"), [(0.0, 0.001, True), (0.5, 0.9, False), (-0.001, 0.0, True)])
def test_a_default_difference_is_clear_of_noise_only_when_its_interval_excludes_zero(serial, ci_low, ci_high, noisy):
    result = load_robustness(serial)
    summary = result.summary.copy()
    at = (summary["place_code"] == ALL_PLACES) & (summary["metric"] == "fuel_poverty_rate")
    summary.loc[at, ["direction", "sign_holds", "worlds", "default_difference", "default_ci_low", "default_ci_high"]] = [
        "lower", 0.75, 4, (ci_low + ci_high) / 2, ci_low, ci_high,
    ]
    sentence = replace(result, summary=summary).headline("fuel_poverty_rate")
    assert sentence.endswith("; the default difference is within replicate noise)") == noisy, sentence


def test_a_headline_reads_its_own_outcomes_row_and_names_an_outcome_without_a_title_by_its_metric(serial):
    result = load_robustness(serial)
    summary = result.summary.copy()
    first = summary.index[0]
    assert (summary.at[first, "place_code"], summary.at[first, "metric"]) != (ALL_PLACES, "youth_mh_rate")
    mh = (summary["place_code"] == ALL_PLACES) & (summary["metric"] == "youth_mh_rate")
    summary.loc[mh, ["direction", "sign_holds", "worlds"]] = ["higher", 0.25, 4]
    assert replace(result, summary=summary).headline("youth_mh_rate").startswith("Youth probable mental disorder: joined higher in 25% of 4 worlds")
    untitled = summary[mh].assign(metric="an_untitled_metric")
    with_untitled = replace(result, summary=pd.concat([summary, untitled], ignore_index=True))
    assert with_untitled.headline("an_untitled_metric").startswith("an_untitled_metric: joined higher in 25% of 4 worlds")


def test_top_factors_list_the_headline_measure_and_spearman_largest_first_without_zero_or_missing_values(serial):
    result = load_robustness(serial)
    influence = pd.DataFrame({
        "metric": ["fuel_poverty_rate"] * 8 + ["returned_gbp"],
        "factor": ["a", "b", "c", "d", "e", "f", "g", "h", "a"],
        "measure": ["prcc", "prcc", "spearman", "prcc", "prcc", "mu_star", "prcc", "prcc", "prcc"],
        "value": [0.3, -0.9, 0.5, 0.0, float("nan"), 5.0, 0.1, 0.2, 0.99],
        "conf": [0.2, 0.2, 0.6, 0.2, 0.2, 0.1, 0.2, 0.2, 0.1],
    })
    ranked = replace(result, influence=influence)
    top = ranked.top_factors("fuel_poverty_rate")
    assert top["factor"].tolist() == ["b", "c", "a"] and top["within_noise"].tolist() == [False, True, False]
    assert list(top.columns) == ["metric", "factor", "measure", "value", "conf", "within_noise"]
    assert ranked.top_factors("fuel_poverty_rate", k=4)["factor"].tolist() == ["b", "c", "a", "h"]
    every = ranked.top_factors("fuel_poverty_rate", k=10)
    assert every["factor"].tolist() == ["b", "c", "a", "h", "g"], "neither the zero nor the missing value"
    assert every["within_noise"].tolist() == [False, True, False, False, True], "a value equal to its threshold is not within noise"
    assert ranked.top_factors("retrofits").empty


def test_the_payload_gives_missing_numbers_as_none_and_each_outcomes_flip_box_or_none(serial):
    result = load_robustness(serial)
    flips = pd.DataFrame({"metric": ["fuel_poverty_rate"], "factor": ["mechanisms.reporting_cost"], "low": [4000.0], "high": [float("nan")]})
    payload = replace(result, flips=flips).payload()
    assert json.loads(json.dumps(payload, allow_nan=False)) == payload, "no NaN anywhere: JSON as is"
    outcomes = {o["metric"]: o for o in payload["outcomes"]}
    assert outcomes["fuel_poverty_rate"]["flip_box"] == [{"factor": "mechanisms.reporting_cost", "low": 4000.0, "high": None}]
    assert all(o["flip_box"] is None for m, o in outcomes.items() if m != "fuel_poverty_rate")
    summary = result.summary[result.summary["place_code"] == ALL_PLACES]
    assert [o["metric"] for o in payload["outcomes"]] == summary["metric"].tolist()
    assert all(o["place_code"] == ALL_PLACES for o in payload["outcomes"])
    assert all(list(o) == [*summary.columns, "top_factors", "flip_box"] for o in payload["outcomes"])
    assert outcomes["fuel_poverty_rate"]["sign_holds"] == summary.set_index("metric").loc["fuel_poverty_rate", "sign_holds"]
    assert (payload["base"], payload["alternative"], payload["design"], payload["samples"], payload["seed"]) == ("base", "joined", "lhs", 3, 3)
    assert payload["sampled_worlds"] == 3 and payload["replicates"] == 2 and payload["prim"] == result.prim
    assert payload["factors"] == result.space.names
    assert payload["not_sampled"] == [{"path": p, "reason": r} for p, r in result.space.not_sampled]
    assert payload["files"] == {k: str(v) for k, v in result.files.items()} and set(payload["files"]) == {
        "design", "worlds", "summary", "influence", "flips", "manifest"}


def test_a_folder_whose_run_did_not_finish_is_not_read_back(serial, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(serial, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "complete": False}))
    with pytest.raises(PfppError) as info:
        load_robustness(folder)
    assert str(info.value) == f"{folder} does not hold a finished robustness run (rerun 'pfpp robustness' with --resume)"
    back = load_robustness(serial)
    assert back.files == {k: serial / v for k, v in manifest["files"].items()} and back.manifest == manifest
    assert (back.method, back.samples, back.seed, back.replicates, back.prim) == ("lhs", 3, 3, 2, manifest["prim"])
