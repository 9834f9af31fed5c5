"""The README's examples, run as a reader would run them.

Every ``pfpp`` command line in the README is parsed by the command line itself (an
unknown command, option or a value of the wrong type fails here). Then the commands run,
in README order, in a scratch folder holding the README's scenario file and copies of
``sweeps/``:

- as written: ``scenarios``, ``validate``, ``report``, ``analyse`` and the sweep commands;
- made small, so the suite stays short: ``run``, ``compare``, ``explain`` and
  ``robustness`` get ``--places E07000062 --horizon 12`` (and at most 2 replicates and
  3 samples) appended, which override the README's values; the sweep files are copies cut
  to one place, 6 months (24 for the PRIM example) and a few samples;
- parsed only: ``calibrate`` (minutes of fitting), ``app`` (serves until stopped) and a
  sweep on a Dask scheduler at ``tcp://HOST:8786`` (a placeholder address).

The README's scenario file (the TOML block) loads and says what its comment says, the
Python block runs as written, and the held-out table shows the shipped ``england``
report's scores.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest
import typer

from pfpp_sim import load_scenario
from pfpp_sim.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SMALL = ["--places", "E07000062", "--horizon", "12"]
PARSED_ONLY = ("calibrate", "app", "tcp://HOST")
SWEEP_MONTHS = {"levers_lhs": 24}
"""Months of the cut sweeps: 6, or 24 where PRIM looks for the runs returning most money (none is returned before a deadline)."""


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.MULTILINE | re.DOTALL)


def commands() -> list[list[str]]:
    """Every ``pfpp`` command line of the README's shell blocks, as arguments, comments dropped."""
    found = []
    for block in blocks("sh"):
        for line in block.splitlines():
            at = line.find(".venv/bin/pfpp ")
            if at >= 0:  # a command, or one named in a comment ("make app  # or .venv/bin/pfpp app; then open ...")
                found.append(shlex.split(line[at:].split(";")[0], comments=True)[1:])
    return found


def test_the_readme_shows_commands_of_every_kind():
    kinds = {args[0] for args in commands()}
    assert {"scenarios", "run", "compare", "explain", "robustness", "sweep", "analyse", "report", "validate", "calibrate"} <= kinds


@pytest.mark.parametrize("args", commands(), ids=lambda args: " ".join(args)[:60])
def test_every_readme_command_line_parses(args):
    command, rest, context = typer.main.get_command(app), list(args), None
    while hasattr(command, "get_command"):  # a group (pfpp, pfpp scenarios): find the subcommand
        context = type(command).context_class(command, info_name="pfpp", parent=context)
        name, *rest = rest
        command = command.get_command(context, name)
        assert command is not None, f"unknown command {name!r} in: pfpp {' '.join(args)}"
    command.make_context(name, rest, parent=context)  # parses every option and argument, or raises


def test_the_readme_scenario_file_loads_and_ring_fences_what_its_comment_says(tmp_path):
    (toml,) = [block for block in blocks("toml") if "my_scenario" in block]
    path = tmp_path / "my_scenario.toml"
    path.write_text(toml, encoding="utf-8")
    scenario = load_scenario(path)
    assert "pool every stream but DfE careers and DWP youth employment" in toml
    assert {key for key, p in scenario.programmes.items() if p.ring_fenced} == {"careers", "youth_employment"}
    assert (scenario.programmes["careers"].department, scenario.programmes["youth_employment"].department) == ("DfE", "DWP")
    assert scenario.levers.pooling == 1.0 and scenario.levers.data_sharing == 0.8
    assert (ROOT / "scenarios" / "examples" / "my_scenario.toml").read_text(encoding="utf-8") == toml, "the shipped example is the README's"


def shrink_sweeps(folder: Path) -> None:
    """Copies of sweeps/ cut to one place, a few months and few samples (PRIM needs a few dozen runs)."""
    (folder / "sweeps").mkdir()
    for spec in (ROOT / "sweeps").glob("*.toml"):
        data = tomllib.loads(spec.read_text(encoding="utf-8"))
        text = spec.read_text(encoding="utf-8")
        samples = {"sobol": 2, "lhs": 24, "morris": 2}.get(data["design"])
        if samples is not None:
            text = re.sub(r"^samples = \d+$", f"samples = {samples}", text, flags=re.MULTILINE)
        text = re.sub(r"^replicates = \d+$", "replicates = 1", text, flags=re.MULTILINE)
        text = re.sub(r'^"run\.(places|horizon_months)" = .*$\n', "", text, flags=re.MULTILINE)
        overrides = f'"run.places" = ["E07000062"]\n"run.horizon_months" = {SWEEP_MONTHS.get(spec.stem, 6)}'
        text = text.replace("[overrides]\n", f"[overrides]\n{overrides}\n") if "[overrides]" in text else text + f"\n[overrides]\n{overrides}\n"
        (folder / "sweeps" / spec.name).write_text(text, encoding="utf-8")


def made_small(args: list[str]) -> list[str]:
    if args[0] in ("run", "compare", "explain"):
        return [*args, *SMALL, "--replicates", "2"]
    if args[0] == "robustness":
        return [*args, *SMALL, "--replicates", "2", "--samples", "3"]
    return args


def test_the_readme_commands_and_python_run(tmp_path):
    pytest.importorskip("ema_workbench", reason="the README's PRIM example needs the ema extra, which make test installs")
    (toml,) = [block for block in blocks("toml") if "my_scenario" in block]
    (tmp_path / "my_scenario.toml").write_text(toml, encoding="utf-8")
    shrink_sweeps(tmp_path)
    demo = ["compare", "siloed_baseline", "pfpp_joined_up", "--seed", "1", "--out", "results/demo", "--overwrite"]  # make run
    for args in [demo, *commands()]:
        if any(word in " ".join(args) for word in PARSED_ONLY):
            continue
        full = made_small(args)
        done = subprocess.run([sys.executable, "-m", "pfpp_sim", *full], cwd=tmp_path, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"pfpp {' '.join(full)}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    assert (tmp_path / "results" / "demo" / "report.html").is_file()
    assert (tmp_path / "results" / "explain" / "report.html").is_file()
    assert (tmp_path / "results" / "grid" / "analysis.md").is_file()
    assert list((tmp_path / "results" / "lhs").glob("prim-returned_gbp.md"))

    comparison, design = blocks("python")
    shutil.rmtree(tmp_path / "results" / "mine", ignore_errors=True)
    for python in (comparison, design):
        done = subprocess.run([sys.executable, "-c", python], cwd=tmp_path, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "results" / "mine" / "comparison.parquet").is_file()
    assert "levers.carry_over" in done.stdout and "levers.data_sharing" in done.stdout  # the design's indices


def test_the_readme_held_out_table_is_the_shipped_england_reports():
    # Each figure of the README's held-out table, to the decimals shown, is the shipped report's (percentage points).
    scores = pd.read_parquet(ROOT / "calibration" / "reports" / "england" / "holdout.parquet").set_index("metric")
    rows = {"fuel_poverty_rate": "| fuel poverty, LILEE 2019-2021 |", "neet_16_17_rate": "| NEET 16-17, 2021-2024 |"}
    columns = ["held_out_year", "model_mae", "model_level_mae", "persistence_mae", "ar1_mae", "same_change_floor_mae",
               "model_rank_correlation", "change_weight", "coverage_90", "change_correlation"]
    for metric, start in rows.items():
        [line] = [line for line in README.splitlines() if line.startswith(start)]
        cells = [c.strip() for c in line.split("|")[3:-1]]  # after the series and its in-sample error
        assert len(cells) == len(columns), line
        for column, cell in zip(columns, cells):
            value = scores.at[metric, column] * (100 if column.endswith(("_mae", "_90")) else 1)
            shown = float(cell.rstrip("%"))
            decimals = len(cell.rstrip("%").partition(".")[2])
            assert round(float(value), decimals) == shown, (metric, column, value, cell)
