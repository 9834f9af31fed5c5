"""The report of a run, comparison or sweep folder: sections, figures, tables and errors."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from pfpp_sim import compare, explain, load_scenario, run
from pfpp_sim.analysis import ALL_PLACES, equity_rates, trajectory_bands
from pfpp_sim.errors import PfppError
from pfpp_sim.evidence import assumed_parameters
from pfpp_sim.report import read_manifest, report_sections, write_report
from pfpp_sim.sections import format_difference

SMALL = {"run.places": ["E07000062", "E06000032"], "run.horizon_months": 24}
PNG = b"\x89PNG\r\n\x1a\n"
RUN_SECTIONS = ["Summary", "Trajectories", "Where the money went", "Funding flows", "Equity", "Assumptions", "Manifest"]


def small(name: str):
    return load_scenario(name).with_overrides(SMALL)


@pytest.fixture(scope="module")
def compare_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare")
    compare(small("siloed_baseline"), small("pfpp_joined_up"), seed=4, replicates=2, executor="serial").save(folder)
    return folder


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    run(small("stop_start"), seed=4, replicates=2, executor="serial").save(folder)
    return folder


def test_a_comparison_report_has_every_section_with_figures_and_alt_text(compare_folder):
    title, sections = report_sections(compare_folder)
    assert title == "pfpp_sim report: pfpp_joined_up vs siloed_baseline"
    assert [s.title for s in sections] == ["Summary", "Paired differences", *RUN_SECTIONS[1:]]
    figures = [name for s in sections for name, _, _ in s.figures]
    assert figures == [
        "forest",
        "trajectory_fuel_poverty_rate",
        "trajectory_neet_16_17_rate",
        "trajectory_youth_mh_rate",
        "waterfall",
        "flows_siloed_baseline",
        "flows_pfpp_joined_up",
        "equity",
    ]
    alts = {name: alt for s in sections for name, alt, _ in s.figures}
    # Alt text gives the numbers the figures show, read back from the tables.
    comparison = pd.read_parquet(compare_folder / "comparison.parquet").query("place_code == @ALL_PLACES").set_index("metric")
    fuel = comparison.loc["fuel_poverty_rate"]
    assert format_difference("fuel_poverty_rate", fuel["difference"], fuel["ci_low"], fuel["ci_high"]) in alts["forest"]
    monthly = pd.read_parquet(compare_folder / "monthly.parquet")
    places = pd.read_parquet(compare_folder / "places.parquet")
    bands = trajectory_bands(monthly, places, "youth_mh_rate")
    end = bands[(bands["place_code"] == ALL_PLACES) & (bands["month"] == bands["month"].max())].set_index("scenario")["mean"]
    assert f"siloed_baseline {100 * end['siloed_baseline']:.1f}%" in alts["trajectory_youth_mh_rate"]
    awards = pd.read_parquet(compare_folder / "awards.parquet")
    allocated = awards[awards["scenario"] == "pfpp_joined_up"]["allocated_gbp"].sum() / 2
    assert f"pfpp_joined_up: allocated £{allocated / 1e6:,.1f}m" in alts["waterfall"]


def test_a_run_report_has_no_paired_differences(run_folder):
    title, sections = report_sections(run_folder)
    assert title == "pfpp_sim report: stop_start"
    assert [s.title for s in sections] == RUN_SECTIONS


def test_the_summary_shows_youth_unemployment_on_the_ilo_basis_with_its_paired_difference(compare_folder):
    _, sections = report_sections(compare_folder)
    summary = sections[0].body
    row = re.search(r"<td>Youth unemployment 16-24 \(ILO: unemployed / economically active\)</td>(.*?)</tr>", summary)
    assert row, summary
    assert re.findall(r"\d+\.\d%", row.group(1)), row.group(1)
    assert " pp [" in row.group(1)


def test_report_html_embeds_the_same_pngs_it_writes_beside_it(compare_folder):
    files = write_report(compare_folder)
    html = files["report"].read_text(encoding="utf-8")
    embedded = re.findall(r"<img src='data:image/png;base64,([^']+)' alt='([^']+)'>", html)
    figures = {k: v for k, v in files.items() if k != "report"}
    assert len(embedded) == len(figures) == 8
    for (data, alt), (name, path) in zip(embedded, figures.items()):
        assert path == compare_folder / "figures" / f"{name}.png"
        assert base64.b64decode(data) == path.read_bytes()
        assert path.read_bytes().startswith(PNG)
    assert "http://" not in html and "https://" not in html, "self-contained: nothing fetched"
    assert not list(compare_folder.rglob("*.tmp"))


def test_assumptions_table_lists_every_assumed_parameter_and_no_evidenced_one(compare_folder):
    _, sections = report_sections(compare_folder)
    body = next(s.body for s in sections if s.title == "Assumptions")
    assumed = assumed_parameters(small("siloed_baseline"))
    assert assumed
    for path, value in assumed:
        assert f"<td>{path}</td>" in body
        assert value.source.split(":", 1)[1] in body
    assert "world.households.poverty_line_share" not in body  # backed by EVIDENCE.md
    # Calibrated values are listed apart, with the fit they come from.
    assert "<td>pilots</td>" in body and "world.young_people.neet_scarring = " in body
    assert "<td>world.young_people.neet_scarring</td>" not in body


def test_manifest_section_names_scenarios_seed_version_and_commit(compare_folder):
    _, sections = report_sections(compare_folder)
    body = sections[-1].body
    manifest = json.loads((compare_folder / "manifest.json").read_text())
    for expected in (
        manifest["git_commit"],
        manifest["pfpp_sim_version"],
        "siloed_baseline",
        "pfpp_joined_up",
        manifest["scenarios"]["pfpp_joined_up"]["hash"],
    ):
        assert expected in body
    assert "<td>seed</td><td>4</td>" in body


def test_equity_rates_over_groups_average_to_the_summary_rate(compare_folder):
    equity = pd.read_parquet(compare_folder / "equity.parquet")
    summary = pd.read_parquet(compare_folder / "summary.parquet")
    places = pd.read_parquet(compare_folder / "places.parquet")
    rates = equity_rates(equity, places)
    counted = places.loc[places["in_all_places"], "place_code"]
    last = equity[(equity["month"] > equity["month"].max() - 12) & equity["place_code"].isin(counted)]
    for (scenario, replicate), rows in last[last["breakdown"] == "tenure"].groupby(["scenario", "replicate"]):
        overall = summary[
            (summary["scenario"] == scenario)
            & (summary["replicate"] == replicate)
            & (summary["place_code"] == ALL_PLACES)
            & (summary["metric"] == "fuel_poverty_rate")
        ]["value"].item()
        assert rows["fuel_poor"].sum() / rows["households"].sum() == pytest.approx(overall, rel=1e-12)
    assert rates["value"].between(0, 1).all()


def test_waterfall_steps_close_to_the_delivered_total(compare_folder):
    awards = pd.read_parquet(compare_folder / "awards.parquet")
    totals = awards.groupby("scenario")[["allocated_gbp", "grant_overhead_gbp", "returned_gbp", "held_gbp", "delivered_gbp"]].sum()
    left = totals["allocated_gbp"] - totals["grant_overhead_gbp"] - totals["returned_gbp"] - totals["held_gbp"]
    np.testing.assert_allclose(left, totals["delivered_gbp"], atol=0.01 * len(awards))


def test_a_missing_folder_is_a_one_line_error_naming_what_was_expected(tmp_path):
    with pytest.raises(
        PfppError, match=r"no such folder \(expected a folder written by 'pfpp run', 'pfpp compare', 'pfpp explain', 'pfpp sweep' or 'pfpp robustness'"
    ):
        read_manifest(tmp_path / "nowhere")


def test_a_folder_without_a_manifest_is_an_error(tmp_path):
    with pytest.raises(PfppError, match="no manifest.json"):
        read_manifest(tmp_path)


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ({"kind": "benchmark"}, "of kind 'benchmark' \\(expected run, compare, explain, sweep or robustness"),
        ({"seed": 1}, "of kind None \\(expected run, compare, explain, sweep or robustness"),
        ({"kind": "sweep", "complete": False}, "unfinished sweep"),
        ([1, 2], "of kind None"),
    ],
)
def test_a_folder_of_the_wrong_kind_is_an_error(tmp_path, manifest, message):
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PfppError, match=message):
        read_manifest(tmp_path)


def test_a_folder_missing_a_table_names_the_table(tmp_path, run_folder):
    for path in run_folder.glob("*.json"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    with pytest.raises(PfppError, match="lacks monthly.parquet"):
        report_sections(tmp_path)


@pytest.mark.parametrize("case", ["missing", "no manifest", "wrong kind"])
def test_cli_report_errors_are_one_line_with_exit_code_2(tmp_path, case):
    folder = tmp_path / "results"
    if case != "missing":
        folder.mkdir()
    if case == "wrong kind":
        (folder / "manifest.json").write_text('{"kind": "calibration"}')
    result = subprocess.run(
        [sys.executable, "-m", "pfpp_sim", "report", str(folder)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(folder) in lines[0] and "expected" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_cli_report_prints_where_the_report_is(run_folder):
    result = subprocess.run(
        [sys.executable, "-m", "pfpp_sim", "report", str(run_folder)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    assert str(run_folder / "report.html") in result.stdout.replace("\n", "")


# -------------------------------------------------------- damaged folders


def _copy(folder, to):
    to.mkdir()
    for path in folder.iterdir():
        if path.is_file():
            (to / path.name).write_bytes(path.read_bytes())
    return to


@pytest.mark.parametrize("damage", ["truncated", "bit_flipped"])
def test_a_damaged_table_is_one_line_naming_it(tmp_path, compare_folder, damage):
    folder = _copy(compare_folder, tmp_path / "copy")
    table = folder / "summary.parquet"
    blob = bytearray(table.read_bytes())
    if damage == "truncated":
        blob = blob[: len(blob) // 2]
    else:
        for i in range(len(blob) // 3, len(blob) // 3 + 64):
            blob[i] ^= 0xFF
    table.write_bytes(bytes(blob))
    with pytest.raises(PfppError) as info:
        report_sections(folder)
    message = str(info.value)
    assert len(message.splitlines()) == 1
    assert message.startswith(f"{table} is not a readable Parquet table (") and message.endswith("rerun the command that wrote it")


@pytest.mark.parametrize("key", ["seed", "replicates", "base", "scenarios"])
def test_a_manifest_missing_a_key_is_one_line_naming_the_key(tmp_path, compare_folder, key):
    folder = _copy(compare_folder, tmp_path / "copy")
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest[key]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PfppError) as info:
        report_sections(folder)
    expected = "scenarios" if key == "scenarios" else key
    assert str(info.value) == f"{folder}/manifest.json lacks {expected} (expected the manifest its command writes; rerun that command)"


def test_a_manifest_whose_base_and_alternative_are_swapped_is_refused_not_mislabelled(tmp_path, compare_folder):
    folder = _copy(compare_folder, tmp_path / "copy")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["base"], manifest["alternative"] = manifest["alternative"], manifest["base"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PfppError) as info:
        report_sections(folder)
    assert str(info.value) == (
        f"{folder}: manifest.json names 'pfpp_joined_up' as the base but comparison.parquet holds 'siloed_baseline': "
        "the folder is inconsistent; rerun the comparison"
    )


def test_the_comparison_table_names_its_base_and_alternative(compare_folder):
    comparison = pd.read_parquet(compare_folder / "comparison.parquet")
    assert set(comparison["base"]) == {"siloed_baseline"} and set(comparison["alternative"]) == {"pfpp_joined_up"}


@pytest.fixture(scope="module")
def explained_compare_folder(tmp_path_factory):
    """A comparison of policy_campus with siloed_baseline, with its attribution in explain/ (as compare --explain writes)."""
    folder = tmp_path_factory.mktemp("explained")
    base, alternative = small("siloed_baseline"), small("policy_campus")
    compare(base, alternative, seed=4, replicates=2, executor="serial").save(folder)
    explain(base, alternative, seed=4, replicates=2, executor="serial").save(folder / "explain")
    return folder


def test_a_comparison_with_an_attribution_says_what_drives_the_difference(explained_compare_folder):
    _, sections = report_sections(explained_compare_folder)
    assert [s.title for s in sections][:3] == ["Summary", "Paired differences", "What drives the difference"]
    drives = sections[2]
    assert [name for name, _, _ in drives.figures] == [
        "attribution_fuel_poverty_rate", "attribution_neet_16_17_rate", "attribution_youth_mh_rate", "attribution_returned_gbp",
    ]
    attribution = pd.read_parquet(explained_compare_folder / "explain" / "attribution.parquet")
    sharing = attribution.query("place_code == 'ALL' and metric == 'fuel_poverty_rate' and measure == 'shapley' and factor == 'levers.data_sharing'").iloc[0]
    _, alt, _ = drives.figures[0]
    assert f"levers.data_sharing {100 * sharing.contribution:+.2f} pp" in alt and "total" in alt
    assert "levers.policy_campus" in drives.body and "add up to the difference" in drives.body
    assert "Strongest pairwise interaction" in drives.body


def test_a_comparison_without_an_attribution_has_no_such_section(compare_folder):
    assert "What drives the difference" not in [s.title for s in report_sections(compare_folder)[1]]


def test_an_explain_folder_reports_what_drives_the_difference_and_its_manifest(explained_compare_folder):
    folder = explained_compare_folder / "explain"
    title, sections = report_sections(folder)
    assert title == "pfpp_sim report: what drives policy_campus vs siloed_baseline"
    assert [s.title for s in sections] == ["What drives the difference", "Manifest"]
    assert "levers.data_sharing, levers.policy_campus, levers.secondments" in sections[1].body
    files = write_report(folder)
    assert sorted(files) == ["attribution_fuel_poverty_rate", "attribution_neet_16_17_rate", "attribution_returned_gbp",
                             "attribution_youth_mh_rate", "report"]
    assert files["attribution_returned_gbp"].read_bytes().startswith(PNG)
