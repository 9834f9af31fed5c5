"""The pfpp command line, run as a user would (a subprocess), on small settings."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from faults import ctrl_c, disk_full, half_written
from output import error_lines
from scipy import stats
from typer.testing import CliRunner

from pfpp_sim import ledger, storage
from pfpp_sim.calibration.fitted import fit_path
from pfpp_sim.cli import app

SMALL = ["--places", "E07000062,E06000032", "--horizon", "24"]
TINY = ["--places", "E07000062,E06000032", "--horizon", "12"]
FAULTS = Path(__file__).with_name("faults.py")


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
    a, b = (pd.read_parquet(tmp_path / seed / "monthly.parquet") for seed in ("7", "8"))
    assert a[["place_code", "month", "metric"]].equals(b[["place_code", "month", "metric"]])
    assert not a["value"].equals(b["value"])


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
    # The printed difference is the mean over replicates of alternative - base, from the saved runs.
    summary = pd.read_parquet(tmp_path / "summary.parquet")
    returned = summary[(summary["place_code"] == "ALL") & (summary["metric"] == "returned_gbp")].set_index(["scenario", "replicate"])["value"]
    per_replicate = (returned["pfpp_joined_up"] - returned["siloed_baseline"]).to_numpy()
    half = stats.t.ppf(0.975, 2) * per_replicate.std(ddof=1) / np.sqrt(3)
    assert rows[0]["difference"] == pytest.approx(per_replicate.mean())
    assert (rows[0]["ci_low"], rows[0]["ci_high"]) == pytest.approx((per_replicate.mean() - half, per_replicate.mean() + half))
    assert rows[0]["base_mean"] == pytest.approx(returned["siloed_baseline"].mean())
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


def test_scenarios_show_prints_the_run_settings_and_every_sourced_value_by_key_path():
    shown = CliRunner().invoke(app, ["scenarios", "show", "hastings_fuel_poverty"], env={"COLUMNS": "300"})
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert any("horizon_months" in line and "60" in line for line in lines)
    assert any("places" in line and "E07000062" in line for line in lines)
    for key in ("world.households.price_pass_through", "mechanisms.trust_threshold", "interventions.retrofit.unit_cost", "programmes.home_upgrade.budget"):
        assert any(f"│ {key} " in line for line in lines), key


def test_scenarios_show_lists_the_analysts_own_sources_as_written(tmp_path):
    path = write(tmp_path, "audited.toml", '''
name = "audited"
description = "d"
extends = "siloed_baseline"
[user_sources.hub_audit]
description = "Recovery share after our [bold]hub's[/bold] course"
reference = "Bradford hubs audit 2023"
[interventions.mh_hub]
effect = { value = 0.25, unit = "probability", source = "user:hub_audit", low = 0.15, high = 0.35 }
''')
    shown = CliRunner().invoke(app, ["scenarios", "show", str(path)], env={"COLUMNS": "300"})
    assert shown.exit_code == 0, shown.output
    assert any("│ hub_audit " in line and "[bold]hub's[/bold] course" in line and "Bradford hubs audit 2023" in line for line in shown.output.splitlines())
    assert any("│ interventions.mh_hub.effect " in line and "user:hub_audit" in line for line in shown.output.splitlines())


def test_a_sweep_dry_run_prints_the_run_count_and_runs_nothing(tmp_path):
    spec = write(tmp_path, "lhs.toml", '''
name = "lhs"
base = "siloed_baseline"
design = "morris"
samples = 3
replicates = 2
[parameters]
"levers.pooling" = { low = 0.0, high = 1.0 }
"levers.carry_over" = { levels = [false, true] }
''')
    out = tmp_path / "out"
    result = pfpp("sweep", str(spec), "--out", str(out), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "would make 18 runs (morris design: 9 points x 2 replicates, 2 parameters)" in result.stdout  # 3 x (2 + 1) x 2
    assert not out.exists()


def test_a_sweep_dry_run_refuses_a_design_value_the_scenario_does_not_accept(tmp_path):
    spec = write(tmp_path, "bad.toml", '''
name = "bad"
base = "siloed_baseline"
design = "grid"
[parameters]
"levers.pooling" = { levels = [0.5, 2.0] }
''')
    result = pfpp("sweep", str(spec), "--dry-run")
    assert result.returncode == 2
    assert "parameters.levers.pooling = 2.0" in result.stderr and "Traceback" not in result.stderr


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


def test_analyse_gives_indices_per_kept_place_in_pp_and_pounds(tmp_path):
    spec = write(tmp_path, "morris.toml", '''
name = "morris"
base = "siloed_baseline"
design = "morris"
samples = 2
keep_places = true
outputs = ["overhead_gbp", "fuel_poverty_rate"]
[overrides]
"run.places" = ["E07000062", "E06000032"]
"run.horizon_months" = 12
[parameters."levers.carry_over"]
levels = [false, true]
[parameters."levers.data_sharing"]
low = 0.0
high = 1.0
''')
    out = tmp_path / "sweep"
    assert pfpp("sweep", str(spec), "--out", str(out), "--executor", "serial").returncode == 0
    together = pfpp("analyse", str(out))
    assert together.returncode == 0, together.stderr
    assert "Which lever matters most, all places (Morris mu*)" in together.stdout
    assert "Indices of 2 more places are in analysis.parquet" in together.stdout
    overhead = next(line for line in together.stdout.splitlines() if line.startswith("│ overhead_gbp"))
    assert re.search(r"levers.data_sharing \(£0\.[0-9]*[1-9][0-9]*m", overhead), overhead  # data sharing costs money: £m, not GBP
    rates = next(line for line in together.stdout.splitlines() if line.startswith("│ fuel_poverty_rate"))
    assert " pp" in rates, rates
    one = pfpp("analyse", str(out), "--place", "E07000062")
    assert one.returncode == 0 and "Which lever matters most, E07000062" in one.stdout
    indices = pd.read_parquet(out / "analysis.parquet")
    assert set(indices["place_code"]) == {"ALL", "E07000062", "E06000032"}
    assert "## Most influential lever by place" in (out / "analysis.md").read_text()
    missing = pfpp("analyse", str(out), "--place", "E09000001")
    assert missing.returncode == 2
    assert error_lines(missing.stderr) == [
        "error: --place E09000001: sweep morris has no results for this place; it kept E06000032, E07000062"
    ]


def test_analyse_on_a_run_folder_says_what_was_expected(tmp_path):
    assert pfpp("run", "siloed_baseline", *SMALL, "--out", str(tmp_path / "run")).returncode == 0
    result = pfpp("analyse", str(tmp_path / "run"))
    assert result.returncode == 2
    assert "not a sweep" in result.stderr and "Traceback" not in result.stderr
    assert len(error_lines(result.stderr)) == 1


# ------------------------------------------------------------------ faults


def pfpp_here(*args: str):
    """Run the command line in this process (so a test can inject a fault) and return the result."""
    return CliRunner().invoke(app, list(args))


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.parquet"))}


@pytest.mark.parametrize(
    ("command", "nth"),
    [
        (["run", "siloed_baseline", *TINY], 2),
        (["compare", "siloed_baseline", "pfpp_joined_up", "--replicates", "2", "--serial", *TINY], 9),
    ],
    ids=["run", "compare"],
)
def test_killed_half_way_through_writing_leaves_the_earlier_results_whole(tmp_path, command, nth):
    out = tmp_path / "out"
    assert pfpp_here(*command, "--seed", "1", "--out", str(out)).exit_code == 0  # an earlier, complete result
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    killed = subprocess.run(
        [sys.executable, str(FAULTS), str(nth), *command, "--seed", "2", "--out", str(out), "--overwrite"], capture_output=True, timeout=300
    )
    assert killed.returncode == -signal.SIGKILL
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before, "the folder still holds the earlier results, whole"
    assert list(tmp_path.glob(".out.*.new")), "the kill landed while the new results were being written beside it"
    rerun = pfpp_here(*command, "--seed", "2", "--out", str(out), "--overwrite")
    assert rerun.exit_code == 0, rerun.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "nothing left beside it"
    assert pfpp_here(*command, "--seed", "2", "--out", str(tmp_path / "clean")).exit_code == 0
    assert digests(out) == digests(tmp_path / "clean")


def test_disk_full_during_a_run_is_one_line_naming_the_file_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(pq, "write_table", half_written(3, disk_full))
    result = pfpp_here("run", "siloed_baseline", *TINY, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert error_lines(result.stderr) == [f"error: cannot write {tmp_path / 'out' / 'awards.parquet'}: No space left on device"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES], ids=["read_only_file_system", "permission_denied"])
def test_an_output_folder_that_cannot_be_written_is_one_line_naming_it(tmp_path, monkeypatch, code):
    def refuse(*_args, **_kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    result = pfpp_here("run", "siloed_baseline", *TINY, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert error_lines(result.stderr) == [f"error: cannot write to {tmp_path}: {os.strerror(code)}"]
    assert list(tmp_path.iterdir()) == []


def test_a_broken_ledger_stops_the_run_naming_the_invariant_month_and_place(tmp_path, monkeypatch):
    spend = ledger.Ledger.spend
    skimmed = []

    def skim(self, lines, amount_p, duplicated_p, month):
        spend(self, lines, amount_p, duplicated_p, month)
        holding = lines[self.by_line["held_p"][lines] > 0]
        if month >= 5 and holding.size:
            self.by_line["held_p"][holding[0]] -= 1  # a penny vanishes from the ledger
            skimmed.append(month)

    monkeypatch.setattr(ledger.Ledger, "spend", skim)
    result = pfpp_here("run", "siloed_baseline", *SMALL, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    lines = error_lines(result.stderr)
    assert len(lines) == 1
    assert lines[0].startswith("error: ledger does not balance: award ")
    assert f", month {skimmed[0]}, place E0" in lines[0]
    assert list(tmp_path.iterdir()) == [], "a stopped run writes no results"


def test_ctrl_c_while_saving_is_one_line_and_exit_130(tmp_path, monkeypatch):
    monkeypatch.setattr(pq, "write_table", half_written(2, ctrl_c))
    result = pfpp_here("run", "siloed_baseline", *TINY, "--out", str(tmp_path / "out"))
    assert result.exit_code == 130
    assert error_lines(result.stderr)[0].startswith("interrupted: every file already written is complete")
    assert list(tmp_path.iterdir()) == []


def test_an_output_folder_holding_files_is_refused_before_running_unless_overwrite(tmp_path):
    out = tmp_path / "out"
    assert pfpp_here("compare", "siloed_baseline", "pfpp_joined_up", "--replicates", "2", *TINY, "--out", str(out)).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    refused = pfpp_here("run", "siloed_baseline", *TINY, "--out", str(out))
    assert refused.exit_code == 2
    assert error_lines(refused.stderr) == [f"error: --out {out} already holds files; give --overwrite to replace them, or choose another folder"]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    replaced = pfpp_here("run", "siloed_baseline", *TINY, "--out", str(out), "--overwrite")
    assert replaced.exit_code == 0
    assert "comparison.parquet" not in {p.name for p in out.iterdir()}, "nothing of the comparison is left to mix with the run"
    assert json.loads((out / "manifest.json").read_text())["kind"] == "run"


def test_a_folder_another_command_is_writing_to_is_refused(tmp_path):
    out = tmp_path / "out"
    with storage.lock_folder(out):
        result = pfpp("run", "siloed_baseline", *TINY, "--out", str(out))
    assert result.returncode == 2
    assert error_lines(result.stderr) == [f"error: --out {out}: another pfpp command is writing to this folder; wait for it or choose another folder"]
    assert not out.exists()


def test_output_files_follow_the_users_umask(tmp_path):
    old = os.umask(0o027)
    try:
        assert pfpp("run", "siloed_baseline", *TINY, "--out", str(tmp_path / "out")).returncode == 0
    finally:
        os.umask(old)
    assert {oct(p.stat().st_mode & 0o777) for p in (tmp_path / "out").iterdir()} == {oct(0o640)}
    assert oct((tmp_path / "out").stat().st_mode & 0o777) == oct(0o750)


def test_rich_markup_in_a_bad_key_is_printed_as_written_on_one_line(tmp_path):
    path = write(tmp_path, "markup.toml", 'extends = "siloed_baseline"\nname = "x"\n"[/x]" = 1\n"[red]y" = 2\n')
    result = pfpp_here("validate", str(path))
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}: [/x] = 1: unknown key (check the spelling; unknown keys are not allowed)\n"


def test_a_bad_scenario_writes_no_output_folder(tmp_path):
    path = write(tmp_path, "bad.toml", 'extends = "siloed_baseline"\nname = "x"\n[levers]\npooling = 2\n')
    result = pfpp_here("run", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "levers.pooling" in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_unknown_sweep_executor_is_one_line_and_writes_nothing(tmp_path):
    spec = write(tmp_path, "grid.toml", 'name = "g"\nbase = "siloed_baseline"\ndesign = "grid"\n[parameters."levers.pooling"]\nlevels = [0.0]\n')
    result = pfpp_here("sweep", str(spec), "--executor", "threads", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert error_lines(result.stderr) == ["error: unknown executor 'threads': expected serial, processes or dask"]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [["run", "siloed_baseline"], ["compare", "siloed_baseline", "pfpp_joined_up"],
                                     ["compare", "siloed_baseline", "pfpp_joined_up", "--explain"]])
def test_an_unknown_run_or_compare_executor_is_one_line_and_writes_nothing(tmp_path, command):
    result = pfpp_here(*command, "--executor", "threads", "--places", "E07000062", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert error_lines(result.stderr) == ["error: unknown executor 'threads': expected serial, processes or dask"]
    assert not (tmp_path / "out").exists()


def test_run_and_compare_take_the_executor_and_scheduler_every_command_that_runs_many_takes(monkeypatch, tmp_path):
    # What the command hands the Python API is checked; the runs themselves are the API's tests.
    import pfpp_sim.cli as cli

    asked = []

    def fake(*_, **kwargs):
        asked.append({k: kwargs[k] for k in ("executor", "workers", "scheduler")})
        raise cli.PfppError("stop here")

    monkeypatch.setattr(cli, "run", fake)
    monkeypatch.setattr(cli, "compare", fake)
    where = ["--places", "E07000062", "--out", str(tmp_path / "out")]
    pfpp_here("run", "siloed_baseline", "--scheduler", "tcp://10.0.0.5:8786", *where)
    pfpp_here("compare", "siloed_baseline", "pfpp_joined_up", "--executor", "dask", "--workers", "3", *where)
    pfpp_here("run", "siloed_baseline", "--serial", "--executor", "dask", *where)
    assert asked == [
        {"executor": "dask", "workers": None, "scheduler": "tcp://10.0.0.5:8786"},
        {"executor": "dask", "workers": 3, "scheduler": None},
        {"executor": "serial", "workers": None, "scheduler": None},
    ]


def test_the_app_listens_only_on_this_machine_unless_a_host_is_given(monkeypatch):
    calls = []
    monkeypatch.setattr("pfpp_sim.app.serve", lambda host, port, *, allow_remote: calls.append((host, port, allow_remote)))
    assert pfpp_here("app").exit_code == 0
    assert pfpp_here("app", "--host", "0.0.0.0", "--port", "9000").exit_code == 0
    assert calls == [("127.0.0.1", 8765, False), ("0.0.0.0", 9000, True)]


# ------------------------------------------------------------- determinism


def test_same_seed_gives_byte_identical_tables_whatever_the_executor_and_workers(tmp_path):
    runs = {"serial": ["--serial"], "one_worker": ["--workers", "1"], "two_workers": ["--workers", "2"]}
    for name, option in runs.items():
        result = pfpp_here("run", "siloed_baseline", *TINY, "--replicates", "3", "--seed", "4", *option, "--out", str(tmp_path / name))
        assert result.exit_code == 0, result.output
    hashes = [digests(tmp_path / name) for name in runs]
    assert len(hashes[0]) == 8
    assert hashes[0] == hashes[1] == hashes[2]


# -------------------------------------------------------------- provenance


def test_run_compare_and_sweep_say_which_scenario_files_and_fit_they_used(tmp_path):
    line = "scenario siloed_baseline: preset siloed_baseline; calibration england (shipped with pfpp_sim "
    ran = pfpp("run", "siloed_baseline", *TINY, "--out", str(tmp_path / "run"))
    assert ran.returncode == 0 and line in ran.stderr, ran.stderr
    compared = pfpp("compare", "siloed_baseline", "pfpp_joined_up", *TINY, "--replicates", "2", "--out", str(tmp_path / "cmp"))
    assert compared.returncode == 0 and line in compared.stderr
    assert "scenario pfpp_joined_up: preset pfpp_joined_up, extends preset siloed_baseline; calibration england" in compared.stderr
    spec = write(tmp_path, "spec.toml", 'name = "s"\nbase = "siloed_baseline"\ndesign = "grid"\nreplicates = 1\nseed = 1\n'
                 'outputs = ["fuel_poverty_rate"]\n[overrides]\n"run.places" = ["E07000062"]\n"run.horizon_months" = 6\n'
                 '[parameters."levers.pooling"]\nlevels = [0.0]\n')
    swept = pfpp("sweep", str(spec), "--out", str(tmp_path / "sweep"), "--executor", "serial")
    assert swept.returncode == 0 and line in swept.stderr, swept.stderr
    manifest = json.loads((tmp_path / "cmp" / "manifest.json").read_text())
    sources = manifest["scenarios"]["pfpp_joined_up"]["sources"]
    assert [(s["role"], s["name"], s["origin"]) for s in sources] == [
        ("scenario", "pfpp_joined_up", "preset"), ("extends", "siloed_baseline", "preset"), ("calibration", "england", "shipped"),
    ]
    assert all(len(s["sha256"]) == 64 for s in sources)


def test_a_fit_in_the_working_folder_is_announced_as_replacing_the_shipped_one(tmp_path):
    shipped = fit_path("england")
    (tmp_path / "calibration" / "fitted").mkdir(parents=True)
    (tmp_path / "calibration" / "fitted" / "england.toml").write_bytes(shipped.read_bytes() + b"\n# fitted again here\n")
    result = pfpp("run", "siloed_baseline", *TINY, "--out", "r", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "calibration england from calibration/fitted/england.toml, replacing the shipped fit (sha256 " in result.stderr


def test_a_copy_of_the_shipped_fit_in_the_working_folder_is_the_shipped_fit(tmp_path):
    (tmp_path / "calibration" / "fitted").mkdir(parents=True)
    (tmp_path / "calibration" / "fitted" / "england.toml").write_bytes(fit_path("england").read_bytes())  # as in the repository
    result = pfpp("run", "siloed_baseline", *TINY, "--out", "r", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "calibration england (shipped with pfpp_sim" in result.stderr and "replacing" not in result.stderr


def test_calibration_option_chooses_the_fit_or_none(tmp_path):
    none = pfpp("run", "siloed_baseline", *TINY, "--calibration", "none", "--out", str(tmp_path / "none"))
    assert none.returncode == 0 and "calibration none (no fitted trends)" in none.stderr
    manifest = json.loads((tmp_path / "none" / "manifest.json").read_text())
    assert manifest["scenarios"]["siloed_baseline"]["parameters"]["calibration"] is None
    missing = pfpp("run", "siloed_baseline", *TINY, "--calibration", str(tmp_path / "nofit.toml"), "--out", str(tmp_path / "x"))
    assert missing.returncode == 2
    lines = missing.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {tmp_path / 'nofit.toml'}: <file> = ")
    assert lines[0].endswith(": an existing fitted calibration file")
    assert not (tmp_path / "x").exists()


# ------------------------------------------------------- command-line mistakes


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "siloed_baseline", "--seed", "-1"], "error: Invalid value for '--seed': Input should be greater than or equal to 0 (see: pfpp run --help)"),
        (["run", "siloed_baseline", "--workers", "-1"], "error: Invalid value for '--workers': Input should be greater than or equal to 1 (see: pfpp run --help)"),
        (["compare", "siloed_baseline", "stop_start", "--replicates", "100000"],
         "error: Invalid value for '--replicates': Input should be less than or equal to 1000 (see: pfpp compare --help)"),
        (["run", "siloed_baseline", "--places", ""], "error: --places = '': expected 'pilots', 'all' or comma-separated ONS codes, not nothing"),
        (["run", "siloed_baseline", "--places", "W06000015"],
         "error: places: W06000015 is in Wales; only English local authorities are covered (ONS codes starting E06, E07, E08, E09 or E10)"),
        (["nocommand"], "error: No such command 'nocommand'. (see: pfpp --help)"),
    ],
    ids=["negative_seed", "negative_workers", "too_many_replicates", "empty_places", "welsh_place", "unknown_command"],
)
def test_command_line_mistakes_are_one_line_with_exit_code_2_and_write_nothing(tmp_path, args, expected):
    result = pfpp(*args, "--out", str(tmp_path / "out")) if args[0] != "nocommand" else pfpp(*args)
    assert result.returncode == 2
    assert error_lines(result.stderr) == [expected], result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_a_scale_below_the_minimum_sample_is_reported_with_the_scale_used(tmp_path):
    result = pfpp("run", "siloed_baseline", "--places", "E07000062", "--horizon", "3", "--scale", "1e-9", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "asked for scale 1e-09, but 1 of 1 places are simulated with their minimum sample" in result.stdout.replace("\n", " ")
    places = pd.read_parquet(tmp_path / "places.parquet")
    assert places["scale_households"].item() == pytest.approx(2000 / places["real_households"].item())


# ------------------------------------------------------- orphaned workers


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found |= {int(child) for child in text}
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _describe(pid: int) -> str:
    """A process's state, parent and command line, to say what survived."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except FileNotFoundError:
        return "gone"
    return f"state {stat[0]}, parent {stat[1]}: {command}"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(
    "command",
    [
        ["compare", "siloed_baseline", "pfpp_joined_up", "--replicates", "40", "--workers", "2", *SMALL],
        ["calibrate", "--places", "E06000032", "--replicates", "2", "--workers", "2", "--max-iterations", "50"],
    ],
    ids=["compare", "calibrate"],
)
def test_workers_exit_when_the_command_that_started_them_is_killed(tmp_path, command):
    proc = subprocess.Popen([sys.executable, "-m", "pfpp_sim", *command, "--out", str(tmp_path / "out")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    deadline = time.time() + 120
    workers: set[int] = set()
    while time.time() < deadline and len(workers) < 2:
        time.sleep(0.2)
        workers = _children(proc.pid)
    assert len(workers) >= 2, "the pool started its workers"
    proc.kill()
    proc.wait()
    deadline = time.time() + 60  # the kernel's SIGKILL lands at once; a loaded machine may take a while to reap
    while time.time() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.2)
    survivors = {pid: _describe(pid) for pid in workers if _alive(pid)}
    assert not survivors, f"no worker outlives its parent: {survivors}"


# ------------------------------------------------------------- explain


def test_explain_prints_what_drives_each_difference_and_writes_the_attribution(tmp_path):
    out = tmp_path / "why"
    args = ["explain", "siloed_baseline", "policy_campus", *TINY, "--replicates", "2", "--seed", "1", "--executor", "serial", "--out", str(out)]
    result = pfpp(*args)
    assert result.returncode == 0, result.stderr
    assert "policy_campus vs siloed_baseline, all places: what drives the difference. 3 factors; exact Shapley values" in result.stdout
    assert "scenario siloed_baseline: preset siloed_baseline; calibration england (shipped with pfpp_sim " in result.stderr
    assert "scenario policy_campus: preset policy_campus, extends preset siloed_baseline; calibration england" in result.stderr
    for text in ("Fuel poverty: ", "Money returned: ", "levers.data_sharing", "Total", "Strongest pairwise interaction", "16 runs"):
        assert text in result.stdout, text
    assert sorted(p.name for p in out.iterdir()) == ["attribution.parquet", "combinations.parquet", "manifest.json", "runs"]
    again = pfpp_here(*args, "--resume", "--json")  # every run is reused
    assert again.exit_code == 0, again.output
    payload = json.loads(again.stdout)
    assert payload["method"] == "exact" and payload["runs"] == 16 and payload["factors"][0] == "levers.data_sharing"
    rows = [r for r in payload["attribution"] if r["place_code"] == "ALL" and r["metric"] == "overhead_gbp" and r["measure"] == "shapley"]
    assert len(rows) == 3 and all(r["ci_low"] <= r["contribution"] <= r["ci_high"] for r in rows)
    assert len(payload["attribution"]) == len(pd.read_parquet(out / "attribution.parquet"))


def test_compare_with_explain_saves_an_attribution_whose_totals_are_the_comparison(tmp_path):
    out = tmp_path / "cmp"
    result = pfpp_here("compare", "siloed_baseline", "policy_campus", *TINY, "--replicates", "2", "--serial", "--explain", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "what drives the difference" in result.stdout and (out / "explain" / "attribution.parquet").exists()
    comparison = pd.read_parquet(out / "comparison.parquet").set_index(["place_code", "metric"])["difference"]
    attribution = pd.read_parquet(out / "explain" / "attribution.parquet").query("measure == 'total'").set_index(["place_code", "metric"])
    assert np.allclose(attribution["contribution"], comparison.reindex(attribution.index), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("alternative", "options", "expected"),
    [
        ('[run]\nhorizon_months = 24\n[levers]\ncarry_over = true\n', [], "run.horizon_months = 24: the same run settings in both"),
        ('[run]\nplaces = ["E07000062"]\n[levers]\ncarry_over = true\n', [], "run.places = ['E07000062']: the same run settings in both"),
        ('[run]\nstart = "2022-04"\n[levers]\ncarry_over = true\n', [], "run.start = '2022-04': the same run settings in both"),
        ("", [], "nothing to explain: other and siloed_baseline have the same levers"),
        ("[levers]\ncarry_over = true\n", ["--replicates", "1"], "replicates = 1: expected at least 2"),
        ("[levers]\ncarry_over = true\n", ["--permutations", "3"], "permutations = 3: expected an even number"),
        ("[levers]\ncarry_over = true\n", ["--factors", "levers.poolling"], "--factors = 'levers.poolling': a key path of the scenarios"),
    ],
    ids=["horizon", "places", "start", "nothing_differs", "one_replicate", "odd_permutations", "unknown_factor"],
)
def test_explain_refuses_what_it_cannot_explain_in_one_line_and_writes_nothing(tmp_path, alternative, options, expected):
    path = write(tmp_path, "other.toml", f'name = "other"\nextends = "siloed_baseline"\n{alternative}')
    result = pfpp_here("explain", "siloed_baseline", str(path), *options, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.stderr
    assert not (tmp_path / "out").exists()
