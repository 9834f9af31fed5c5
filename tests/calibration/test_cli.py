"""`pfpp calibrate` run as a user would, on one place and few iterations."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest


def pfpp(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pfpp_sim", *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def test_calibrate_writes_a_fit_that_scenarios_then_use_and_a_report(tmp_path):
    done = pfpp("calibrate", "--places", "E06000032", "--name", "luton", "--max-iterations", "1", "--replicates", "1",
                "--workers", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "scenario baseline_history: preset baseline_history, extends preset siloed_baseline; calibration " in done.stderr
    assert "fuel_poverty_rate" in done.stdout and "neet_16_17_rate" in done.stdout
    fit = tomllib.loads((tmp_path / "calibration" / "fitted" / "luton.toml").read_text())
    assert set(fit["places"]) == {"E06000032"} and fit["moments"] == 7
    assert "warning: not converged: the optimiser stopped after 1 of at most 1 steps" in done.stderr  # --max-iterations 1
    assert [w["kind"] for w in fit["warnings"]][:1] == ["not_converged"]
    report = tmp_path / "calibration" / "reports" / "luton"
    html = (report / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3 and "Parameters" in html
    assert json.loads((report / "manifest.json").read_text())["kind"] == "calibration"
    scenario = tmp_path / "luton_run.toml"
    scenario.write_text('name = "luton_run"\nextends = "siloed_baseline"\ncalibration = "luton"\n')
    shown = pfpp("scenarios", "show", str(scenario), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "Calibration: luton" in shown.stdout
    as_json = json.loads(pfpp("scenarios", "show", str(scenario), "--json", cwd=tmp_path).stdout)
    assert as_json["world"]["young_people"]["neet_scarring"]["source"] == "calibrated:luton"
    assert as_json["world"]["households"]["price_pass_through"]["source"] == "assumption:price_pass_through"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "exactly one of"),
        (["--all-pilots", "--sample", "3"], "exactly one of"),
        (["--places", "E99999999"], "E99999999"),
        (["--sample", "100000"], "sample size"),
        (["--all-pilots", "--name", "../x"], "--name"),
    ],
)
def test_calibrate_reports_bad_choices_in_one_line(tmp_path, args, expected):
    done = pfpp("calibrate", *args, cwd=tmp_path)
    assert done.returncode == 2
    assert expected in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "calibration").exists()


def test_places_all_fits_every_english_authority_under_the_name_england(tmp_path, monkeypatch):
    # The fit itself is replaced by a stand-in: what is checked is what the command asks for.
    from typer.testing import CliRunner

    import pfpp_sim.calibration as calibration
    from pfpp_sim import cli, data
    from pfpp_sim.cli import app
    from tests.calibration.test_report import many_places

    asked = {}

    def fake_calibrate(base, codes, *, name, executor, **settings):
        asked.update(base=base.name, codes=codes, name=name, executor=executor, holdout=settings["holdout_last_year"])
        return many_places(3)

    monkeypatch.setattr(calibration, "calibrate", fake_calibrate)
    monkeypatch.setattr(cli, "keep_freed_memory", lambda: asked.update(allocator_set=True))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["calibrate", "--places", "all", "--holdout-last-year"])
    assert result.exit_code == 0, result.output
    assert asked["allocator_set"], "a calibration's large runs keep freed memory and take no huge pages"
    assert asked["codes"] == data.places("all")["area_code"].tolist() and len(asked["codes"]) == 292
    assert asked["name"] == "england" and asked["executor"] == "processes"
    assert asked["base"] == "baseline_history" and asked["holdout"]
    assert "a pooled AR(1)" in result.stdout and "┃ Floor ┃" in result.stdout
    shown = many_places(3).holdout.set_index("metric").change_correlation  # over every published year of the 3 places
    assert shown.notna().all() and all(f"{value:+.2f}" in result.stdout for value in shown)
    assert (tmp_path / "calibration" / "reports" / "flagged" / "holdout.png").is_file()


def test_an_unknown_calibrate_executor_is_one_line(tmp_path):
    done = pfpp("calibrate", "--places", "E06000032", "--executor", "threads", cwd=tmp_path)
    assert done.returncode == 2
    assert "unknown executor 'threads': expected serial, processes or dask" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "calibration").exists()
