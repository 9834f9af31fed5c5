"""The pfpp command line, run as a user would (a subprocess), on small settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

SMALL = ["--places", "E07000062,E06000032", "--horizon", "24"]


def pfpp(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pfpp_sim", *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_same_seed_twice_gives_byte_identical_parquet(tmp_path):
    first = pfpp("run", "siloed_baseline", "--seed", "7", "--out", str(tmp_path / "a"))
    second = pfpp("run", "siloed_baseline", "--seed", "7", "--out", str(tmp_path / "b"))
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    files = sorted(p.name for p in (tmp_path / "a").glob("*.parquet"))
    assert {"monthly.parquet", "annual.parquet", "awards.parquet", "summary.parquet"} <= set(files)
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_another_seed_gives_different_outputs(tmp_path):
    for seed in ("7", "8"):
        assert pfpp("run", "siloed_baseline", "--seed", seed, *SMALL, "--out", str(tmp_path / seed)).returncode == 0
    a = pd.read_parquet(tmp_path / "7" / "monthly.parquet")
    b = pd.read_parquet(tmp_path / "8" / "monthly.parquet")
    assert not a["fuel_poverty_rate"].equals(b["fuel_poverty_rate"])


def test_run_writes_annual_table_and_manifest(tmp_path):
    result = pfpp("run", "siloed_baseline", "--seed", "3", *SMALL, "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    annual = pd.read_parquet(tmp_path / "annual.parquet")
    assert {"place_code", "year", "metric", "value"} <= set(annual.columns)
    assert {"fuel_poverty_rate", "neet_16_17_rate", "returned_gbp"} <= set(annual["metric"])
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["seed"] == 3
    assert len(manifest["scenarios"]["siloed_baseline"]["hash"]) == 16
    assert manifest["git_commit"] and manifest["pfpp_sim_version"]
    assert not list(tmp_path.glob("*.tmp")), "no temporary files left behind"


def test_compare_json_reports_paired_confidence_intervals(tmp_path):
    result = pfpp("compare", "siloed_baseline", "pfpp_joined_up", "--replicates", "3", *SMALL, "--json", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    rows = [r for r in payload["comparison"] if r["place_code"] == "ALL" and r["metric"] == "returned_gbp"]
    assert rows and rows[0]["n"] == 3
    assert rows[0]["ci_low"] <= rows[0]["difference"] <= rows[0]["ci_high"]
    assert (tmp_path / "comparison.parquet").exists()


def test_compare_prints_table_and_output_folder(tmp_path):
    result = pfpp("compare", "siloed_baseline", "pfpp_joined_up", "--replicates", "2", *SMALL, "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Fuel poverty" in result.stdout and "Money returned" in result.stdout and "Hastings" in result.stdout
    assert str(tmp_path) in result.stdout.replace("\n", "")


@pytest.mark.parametrize(
    ("body", "expected_key"),
    [
        ('extends = "siloed_baseline"\nname = "x"\n[levers]\npoolling = 0.5\n', "levers.poolling"),
        ('extends = "siloed_baseline"\nname = "x"\n[programmes.home_upgrade.budget]\nvalue = -5\n', "programmes.home_upgrade.budget.value"),
        ('extends = "siloed_baseline"\nname = "x"\n[run]\nscale = "big"\n', "run.scale"),
        ('extends = "no_such_preset"\nname = "x"\n', "extends"),
    ],
)
def test_validate_bad_file_prints_one_line_naming_file_and_key(tmp_path, body, expected_key):
    path = write(tmp_path, "bad.toml", body)
    result = pfpp("validate", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and expected_key in lines[0]
    assert "Traceback" not in result.stderr


def test_validate_accepts_every_preset():
    result = pfpp("validate", "siloed_baseline", "pfpp_joined_up", "funding_simplification", "policy_campus", "stop_start", "hastings_fuel_poverty")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok:") == 6


def test_unknown_place_code_is_a_one_line_error(tmp_path):
    result = pfpp("run", "siloed_baseline", "--places", "E07999999", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "E07999999" in result.stderr and "Traceback" not in result.stderr


def test_unwritable_output_folder_is_a_clear_error(tmp_path):
    blocker = write(tmp_path, "file", "not a folder")
    result = pfpp("run", "siloed_baseline", *SMALL, "--out", str(blocker / "out"))
    assert result.returncode == 2
    assert "cannot write" in result.stderr and "Traceback" not in result.stderr


def test_scenarios_list_and_show():
    listed = pfpp("scenarios", "list", "--json")
    assert listed.returncode == 0
    assert {"siloed_baseline", "pfpp_joined_up", "stop_start"} <= set(json.loads(listed.stdout))
    shown = pfpp("scenarios", "show", "hastings_fuel_poverty", "--json")
    assert json.loads(shown.stdout)["run"]["places"] == ["E07000062"]


def test_sweep_then_analyse_prints_the_levers_that_matter(tmp_path):
    spec = write(tmp_path, "grid.toml", '''
name = "grid"
base = "siloed_baseline"
design = "grid"
outputs = ["returned_gbp", "fuel_poverty_rate"]
[overrides]
"run.places" = ["E07000062"]
"run.horizon_months" = 24
[parameters."levers.timeline_alignment"]
levels = [false, true]
[parameters."levers.data_sharing"]
levels = [0.0, 1.0]
''')
    swept = pfpp("sweep", str(spec), "--out", str(tmp_path / "sweep"), "--workers", "2")
    assert swept.returncode == 0, swept.stderr
    assert "4 runs" in swept.stdout
    analysed = pfpp("analyse", str(tmp_path / "sweep"))
    assert analysed.returncode == 0, analysed.stderr
    assert "returned_gbp" in analysed.stdout and "levers.timeline_alignment" in analysed.stdout
    assert (tmp_path / "sweep" / "sensitivity.png").stat().st_size > 0


def test_analyse_on_a_run_folder_says_what_was_expected(tmp_path):
    assert pfpp("run", "siloed_baseline", *SMALL, "--out", str(tmp_path / "run")).returncode == 0
    result = pfpp("analyse", str(tmp_path / "run"))
    assert result.returncode == 2
    assert "not a sweep" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
