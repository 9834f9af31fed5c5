"""A run on places outside its calibration's fit still runs, says so once, and records it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pfpp_sim
from pfpp_sim.calibration.coverage import NAMED_PLACES, run_warnings
from pfpp_sim.scenario import load_scenario
from pfpp_sim.sweep import run_sweep

LUTON, HARTLEPOOL = "E06000032", "E06000001"  # Luton is a pilot (in the shipped pilots fit), Hartlepool is not
SHORT = {"run.horizon_months": 2}


def pfpp(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pfpp_sim", *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def test_a_run_on_a_place_outside_its_fit_warns_once_and_the_manifest_records_it(tmp_path):
    done = pfpp("run", "siloed_baseline", "--places", f"{LUTON},{HARTLEPOOL}", "--horizon", "2", "--calibration", "pilots",
                "--out", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: scenario siloed_baseline: calibration pilots was fitted on 14 places, and 1 of the 2 places in the run is "
        f"not among them: {HARTLEPOOL} (Hartlepool). They run with zero fitted trends (income and NEET 16-17) and the fit's "
        "global values, so their baselines are not calibrated to their own data."
    ]
    [recorded] = json.loads((tmp_path / "out" / "manifest.json").read_text())["warnings"]
    assert recorded["kind"] == "places_outside_calibration" and recorded["calibration"] == "pilots"
    assert recorded["places"] == [HARTLEPOOL] and recorded["fitted_places"] == 14 and recorded["run_places"] == 2


def test_both_sides_of_a_comparison_share_one_warning_naming_them():
    base = load_scenario("siloed_baseline", calibration="pilots").with_overrides({"run.places": [HARTLEPOOL]})
    joined = load_scenario("pfpp_joined_up", calibration="pilots").with_overrides({"run.places": [HARTLEPOOL]})
    [warning] = run_warnings([base, joined])
    assert warning["scenarios"] == ["siloed_baseline", "pfpp_joined_up"]
    assert warning["message"].startswith("scenarios siloed_baseline, pfpp_joined_up: calibration pilots")


def test_a_run_of_every_place_names_the_first_places_and_counts_the_rest():
    [warning] = run_warnings([load_scenario("siloed_baseline", calibration="pilots").with_overrides({"run.places": "all"})])
    outside = len(warning["places"])
    assert warning["run_places"] - outside == 13  # every pilot but East Sussex county, which "all" (E06-E09) leaves out
    assert f"and {outside - NAMED_PLACES} more (the manifest lists them all)" in warning["message"]


def test_a_sweep_outside_its_fit_records_the_warning_in_its_manifest(tmp_path):
    (tmp_path / "pilots_fit.toml").write_text('name = "pilots_fit"\nextends = "siloed_baseline"\ncalibration = "pilots"\n')
    spec = tmp_path / "spec.toml"
    spec.write_text(
        'name = "outside"\nbase = "pilots_fit.toml"\ndesign = "lhs"\nsamples = 1\noutputs = ["fuel_poverty_rate"]\n'
        f'[overrides]\n"run.places" = ["{HARTLEPOOL}"]\n"run.horizon_months" = 2\n'
        '[parameters."levers.pooling"]\nlow = 0.0\nhigh = 1.0\n'
    )
    manifest = run_sweep(spec, tmp_path / "out", executor="serial").manifest
    assert [w["places"] for w in manifest["warnings"]] == [[HARTLEPOOL]]


def test_runs_on_fitted_places_or_without_a_calibration_do_not_warn():
    fitted = load_scenario("siloed_baseline").with_overrides({"run.places": [LUTON], **SHORT})
    result = pfpp_sim.run(fitted, executor="serial")
    assert result.warnings == [] and result.manifest()["warnings"] == []
    uncalibrated = load_scenario("siloed_baseline", calibration="none").with_overrides({"run.places": [HARTLEPOOL]})
    assert run_warnings([uncalibrated]) == []


def test_the_shipped_england_fit_covers_every_place_and_pilot_a_preset_runs():
    for places in ("all", "pilots"):
        scenario = load_scenario("siloed_baseline").with_overrides({"run.places": places})
        assert scenario.calibration.name == "england"
        assert run_warnings([scenario]) == [], places


def test_any_authority_runs_with_the_shipped_england_fit_and_says_so_in_one_line(tmp_path):
    # Blackpool and Leeds: neither is a pilot.
    done = pfpp("run", "baseline_history", "--places", "E06000009,E08000035", "--horizon", "2", "--out", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "calibration england (shipped with pfpp_sim" in line]
    assert said == ["scenario baseline_history: preset baseline_history, extends preset siloed_baseline; calibration england "
                    f"(shipped with pfpp_sim {pfpp_sim.__version__})"]
    assert not [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    places = json.loads((tmp_path / "out" / "manifest.json").read_text())["scenarios"]["baseline_history"]["parameters"]
    assert set(places["calibration"]["places"]) >= {"E06000009", "E08000035"}
