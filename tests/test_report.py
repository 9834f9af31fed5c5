"""The report of a run, comparison or sweep folder: sections, figures, tables and errors."""

from __future__ import annotations

import base64
import html
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from pfpp_sim import compare, explain, load_scenario, run
from pfpp_sim.analysis import ALL_PLACES, equity_rates, trajectory_bands, trajectory_differences
from pfpp_sim.assumption_sections import assumptions_appendix, assumptions_section
from pfpp_sim.errors import PfppError
from pfpp_sim.evidence import ASSUMPTIONS, assumed_parameters
from pfpp_sim.factors import factor_set
from pfpp_sim.report import read_manifest, report_sections, write_report
from pfpp_sim.scenario import Scenario
from pfpp_sim.scenario_sections import differences, readable_name
from pfpp_sim.sections import FOREST, format_difference
from pfpp_sim.storage import write_parquet

SMALL = {"run.places": ["E07000062", "E06000032"], "run.horizon_months": 24}
PNG = b"\x89PNG\r\n\x1a\n"
RUN_SECTIONS = [
    "What was run", "Summary", "Trajectories", "Where the money went", "Funding flows", "Equity", "Assumptions", "Manifest",
    "Appendix: every assumption",
]


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
    assert [s.title for s in sections] == ["What differs", "Summary", "Paired differences", *RUN_SECTIONS[2:]]
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
    summary = sections[1].body
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
    for (data, _), (name, path) in zip(embedded, figures.items()):
        assert path == compare_folder / "figures" / f"{name}.png"
        assert base64.b64decode(data) == path.read_bytes()
        assert path.read_bytes().startswith(PNG)
    assert "http://" not in html and "https://" not in html, "self-contained: nothing fetched"
    assert not list(compare_folder.rglob("*.tmp"))


def test_the_appendix_lists_every_assumed_parameter_once_and_no_evidenced_one(compare_folder):
    _, sections = report_sections(compare_folder)
    appendix = sections[-1]
    assert appendix.title == "Appendix: every assumption"
    assumed = assumed_parameters(small("siloed_baseline"))
    assert assumed
    for path, value in assumed:
        assert f"<td>{path}</td>" in appendix.body
        assert value.source.split(":", 1)[1] in appendix.body
    assert "world.households.poverty_line_share" not in appendix.body  # backed by EVIDENCE.md
    html = write_report(compare_folder)["report"].read_text(encoding="utf-8")
    for path, _ in assumed:  # the two presets share every assumption: none is listed as differing
        assert html.count(f"<td>{path}</td>") == 1, path
    # Calibrated values are listed apart, in the assumptions section, with the fit they come from.
    body = next(s.body for s in sections if s.title == "Assumptions")
    assert "<td>england</td>" in body and "world.young_people.neet_scarring = " in body
    assert "<td>world.young_people.neet_scarring</td>" not in html
    assert "No assumption differs between the scenarios" in body and "#appendix-every-assumption" in body


def _manifest(*scenarios):
    return {"scenarios": {sc.name: {"parameters": sc.model_dump(mode="json")} for sc in scenarios}}


def test_the_assumptions_section_lists_the_assumptions_that_differ_before_pointing_to_the_appendix():
    base = small("siloed_baseline")
    alternative = base.with_overrides({"world.young_people.neet_exit_hazard.value": 0.05}, name="slower_exits")
    manifest = _manifest(base, alternative)
    body = assumptions_section(manifest, [base.name, alternative.name]).body
    n_assumed = len(assumed_parameters(base))
    assert body.startswith(f"<p>1 of the {n_assumed} assumed parameters differs between the scenarios:</p><table>")
    assert (
        "<td>world.young_people.neet_exit_hazard</td><td>probability/month</td><td>0.12</td><td>0.05</td>"
        "<td>0.06 to 0.18; 0.05 to 0.05</td>"
    ) in body
    assert body.count("<tr><td>") == 1 + 2, "the differing assumption, then each scenario's calibration"
    appendix = assumptions_appendix(manifest, [base.name, alternative.name]).body
    cited = {value.source.removeprefix("assumption:") for _, value in assumed_parameters(base)}
    rules = [name for name in ASSUMPTIONS if name not in cited]
    assert "local_need_shares" in rules and "deadline_rush" not in rules
    assert appendix.count("<tr><td>") == n_assumed + len(rules)
    assert f"<p>The registry's {len(rules)} other entries set no parameter of these scenarios" in appendix
    entry = ASSUMPTIONS["local_need_shares"]
    assert f"<tr><td>local_need_shares</td><td>{html.escape(entry.description)}</td><td>{html.escape(entry.range_reason)}</td></tr>" in appendix


def test_the_analysts_own_sources_are_listed_with_the_assumptions_as_theirs():
    base = small("siloed_baseline")
    data = base.model_dump(mode="python")
    data["name"] = "audited_hubs"
    data["user_sources"] = {
        "hub_audit": {"description": "Recovery share after our hub's course", "reference": "Bradford hubs audit 2023"},
        "outreach_survey": {"description": "Fall in NEET entry after our outreach", "reference": "Luton youth survey 2023"},
    }
    data["interventions"]["mh_hub"]["effect"] = {"value": 0.25, "unit": "probability", "source": "user:hub_audit", "low": 0.15, "high": 0.35}
    data["interventions"]["asb_outreach"]["effect"] = {"value": 0.08, "unit": "fraction", "source": "user:outreach_survey", "low": 0.04, "high": 0.12}
    alternative = Scenario.model_validate(data)
    manifest = _manifest(base, alternative)
    body = assumptions_section(manifest, [base.name, alternative.name]).body
    n_assumed = len(assumed_parameters(alternative))
    assert body.startswith(f"<p>2 of the {n_assumed} assumed parameters differ between the scenarios:</p><table>")
    assert (
        "<td>interventions.mh_hub.effect</td><td>probability</td><td>-</td><td>0.25</td><td>0.15 to 0.35</td>"
        "<td>hub_audit (the analyst&#x27;s own): Recovery share after our hub&#x27;s course Reference: Bradford hubs audit 2023</td>"
    ) in body, "a value evidence backs in the base, the analyst's own in the alternative"
    assert (
        "<td>0 to 0.15; 0.04 to 0.12</td><td>asb_outreach_effect: Proportional fall in the NEET entry hazard after outreach.; "
        "outreach_survey (the analyst&#x27;s own): Fall in NEET entry after our outreach Reference: Luton youth survey 2023</td>"
    ) in body, "each scenario's source of a value they both assume"
    assert f"{n_assumed} parameters rest on an assumption rather than evidence, 2 of them on the analyst's own sources" in body
    assert (
        "<tr><td>audited_hubs</td><td>hub_audit</td><td>Recovery share after our hub&#x27;s course</td>"
        "<td>Bradford hubs audit 2023</td><td>-</td><td>interventions.mh_hub.effect</td></tr>"
    ) in body
    appendix = assumptions_appendix(manifest, [base.name, alternative.name]).body
    assert "hub_audit (the analyst&#x27;s own)" in appendix


def test_what_differs_lists_every_differing_lever_with_both_values_and_the_descriptions(compare_folder):
    _, sections = report_sections(compare_folder)
    panel = sections[0]
    assert panel.title == "What differs"
    base, alternative = small("siloed_baseline"), small("pfpp_joined_up")
    assert f"<strong>Base:</strong> {base.description}" in panel.body
    assert f"<strong>Alternative:</strong> {alternative.description}" in panel.body
    levers = [f.name for f in factor_set(base, alternative).factors]
    assert levers and all(name.startswith("levers.") for name in levers)
    rows = re.findall(r"<tr><th scope='row'>(.*?)</th><td>(.*?)</td><td>(.*?)</td></tr>", panel.body)
    assert [re.search(r"<code>(.*?)</code>", head).group(1) for head, _, _ in rows] == levers
    shown = {"levers.pooling": ("0%", "100%"), "levers.data_sharing": ("0%", "70%"), "levers.secondments": ("no", "yes")}
    for head, base_value, alternative_value in rows:
        key = re.search(r"<code>(.*?)</code>", head).group(1)
        assert head.startswith(readable_name(key) + " <span class='kind'>(policy lever)</span>")
        assert (base_value, alternative_value) == shown.get(key, (base_value, alternative_value))
        assert base_value != alternative_value
    for setting in ("<td>Start</td><td>2021-04</td>", "<td>Horizon</td><td>24 months (2021-04 to 2023-03)</td>",
                    "<td>Places</td><td>Hastings (E07000062), Luton (E06000032)</td>", "<td>Replicates</td><td>2</td>",
                    "<td>Seed</td><td>4</td>", "<td>Scale</td><td>1 in 100 real residents simulated</td>"):
        assert setting in panel.body


def test_what_differs_names_run_settings_programmes_and_sourced_values_on_both_sides():
    base = small("siloed_baseline")
    alternative = load_scenario("pfpp_as_delivered").with_overrides(
        {**SMALL, "run.horizon_months": 12, "mechanisms.bid_cost.value": 30000.0}
    )
    rows = {r.key: r for r in differences(base, alternative, {"E07000062": "Hastings"})}
    assert list(rows) == ["run.horizon_months", "levers.senior_contact", "levers.funding_mapping", "mechanisms.bid_cost",
                          "programmes.pfpp_grant"]
    assert (rows["run.horizon_months"].base, rows["run.horizon_months"].alternative) == (
        "24 months (2021-04 to 2023-03)", "12 months (2021-04 to 2022-03)")
    assert rows["mechanisms.bid_cost"].base.startswith("25,000 GBP/bid (source E60")
    assert rows["mechanisms.bid_cost"].alternative == "30,000 GBP/bid (source E60)"
    grant = rows["programmes.pfpp_grant"]
    assert (grant.name, grant.kind, grant.base) == ("PfPP grant programme", "funding programme", "not run")
    assert "MHCLG; 125,000 GBP/council/year, 24-month funding periods" in grant.alternative
    assert differences(base, base.with_overrides({}, name="same")) == []


def test_manifest_section_names_scenarios_seed_version_and_commit(compare_folder):
    _, sections = report_sections(compare_folder)
    body = next(s.body for s in sections if s.title == "Manifest")
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
    assert [s.title for s in sections][:4] == ["What differs", "Summary", "Paired differences", "What drives the difference"]
    drives = sections[3]
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
    assert [s.title for s in sections] == ["What differs", "What drives the difference", "Manifest"]
    assert "levers.data_sharing, levers.policy_campus, levers.secondments" in sections[2].body
    assert "<code>levers.policy_campus</code>" in sections[0].body
    files = write_report(folder)
    assert sorted(files) == ["attribution_fuel_poverty_rate", "attribution_neet_16_17_rate", "attribution_returned_gbp",
                             "attribution_youth_mh_rate", "report"]
    assert files["attribution_returned_gbp"].read_bytes().startswith(PNG)


# -------------------------------------------------------- figures a decision-maker reads


@pytest.fixture(scope="module")
def one_place_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("one_place")
    one = {"run.places": ["E07000062"], "run.horizon_months": 12}
    base, alternative = (load_scenario(name).with_overrides(one) for name in ("siloed_baseline", "pfpp_joined_up"))
    compare(base, alternative, seed=4, replicates=2, executor="serial").save(folder)
    return folder


def _figure(sections, name):
    return next(figure for s in sections for n, _, figure in s.figures if n == name)


def test_forest_panels_share_one_labelled_axis_per_outcome_across_places(compare_folder):
    _, sections = report_sections(compare_folder)
    axes = [ax for ax in _figure(sections, "forest").axes if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in axes] == [title for title, _, _ in FOREST.values()]
    comparison = pd.read_parquet(compare_folder / "comparison.parquet").set_index(["metric", "place_code"])
    codes = [ALL_PLACES, "E07000062", "E06000032"]
    for ax, (metric, (_, scale, unit)) in zip(axes, FOREST.items()):
        assert ax.get_xlabel() == f"alternative - base, {unit}"
        points = ax.lines[0].get_xdata()  # every place on this one axis
        np.testing.assert_allclose(points, scale * comparison.loc[[(metric, c) for c in codes], "difference"].to_numpy())
        low, high = ax.get_xlim()
        assert low < 0 < high, "the zero line inside the panel"
    assert [t.get_text() for t in axes[0].get_yticklabels()] == ["All places", "Hastings", "Luton"]
    assert {unit for _, _, unit in FOREST.values()} == {"pp", "£m"}


def test_a_one_place_comparison_has_no_all_places_row_or_panel(one_place_folder):
    _, sections = report_sections(one_place_folder)
    forest = _figure(sections, "forest")
    assert [t.get_text() for t in forest.axes[0].get_yticklabels()] == ["Hastings"]
    assert "diamond" not in forest.get_suptitle()
    trajectory = _figure(sections, "trajectory_fuel_poverty_rate")
    assert [ax.get_title(loc="left") for ax in trajectory.axes if ax.get_visible() and ax.get_title(loc="left")] == ["Hastings"]
    alts = {name: alt for s in sections for name, alt, _ in s.figures}
    assert "all places" not in alts["forest"].lower() and "Hastings: Fuel poverty" in alts["forest"]
    assert "Hastings in the last month" in alts["trajectory_fuel_poverty_rate"]


def test_trajectories_have_the_paired_difference_beneath_each_place(compare_folder):
    _, sections = report_sections(compare_folder)
    visible = [ax for ax in _figure(sections, "trajectory_fuel_poverty_rate").axes if ax.get_visible()]
    levels, beneath = visible[:3], visible[3:]
    assert len(beneath) == 3
    monthly = pd.read_parquet(compare_folder / "monthly.parquet")
    places = pd.read_parquet(compare_folder / "places.parquet")
    bands = trajectory_bands(monthly, places, "fuel_poverty_rate").set_index(["place_code", "month", "scenario"])["mean"].unstack()
    paired = trajectory_differences(monthly, places, "fuel_poverty_rate", "siloed_baseline", "pfpp_joined_up")
    paired = paired.set_index(["place_code", "month"])
    # The mean of the paired differences is the difference of the means; its interval holds it.
    expected = (bands["pfpp_joined_up"] - bands["siloed_baseline"]).reindex(paired.index)
    np.testing.assert_allclose(paired["mean"], expected, atol=1e-12)
    assert (paired["low"] <= paired["mean"]).all() and (paired["mean"] <= paired["high"]).all()
    for ax, code in zip(beneath, [ALL_PLACES, "E07000062", "E06000032"]):
        np.testing.assert_allclose(ax.lines[0].get_ydata(), 100 * paired.loc[code, "mean"].to_numpy())
        assert beneath[0].get_shared_y_axes().joined(beneath[0], ax), "one difference scale for all places"
    assert not beneath[0].get_shared_y_axes().joined(beneath[0], levels[0])
    alt = next(alt for s in sections for name, alt, _ in s.figures if name == "trajectory_fuel_poverty_rate")
    assert "paired difference pfpp_joined_up - siloed_baseline" in alt


def test_a_run_report_has_no_difference_panels(run_folder):
    _, sections = report_sections(run_folder)
    figure = _figure(sections, "trajectory_fuel_poverty_rate")
    assert len([ax for ax in figure.axes if ax.get_visible()]) == 3


def test_equity_shows_neet_16_17_as_well_as_16_24(compare_folder):
    _, sections = report_sections(compare_folder)
    equity = next(s for s in sections if s.title == "Equity")
    for group in ("Owner", "Social rent", "Q1 lowest", "Q5 highest"):
        for outcome in ("NEET 16-17", "NEET 16-24"):
            assert f"<td>{group}</td><td>{outcome}</td>" in equity.body
    assert "NEET 16-17" in equity.figures[0][1]
    places = pd.read_parquet(compare_folder / "places.parquet")
    rates = equity_rates(pd.read_parquet(compare_folder / "equity.parquet"), places)
    neet = rates[rates["metric"] == "neet_16_17_rate"]
    assert len(neet) == len(rates) // 4 and neet["value"].between(0, 1).all()


def test_an_equity_table_without_neet_16_17_is_one_line_asking_for_a_rerun(tmp_path, compare_folder):
    folder = _copy(compare_folder, tmp_path / "copy")
    equity = pd.read_parquet(folder / "equity.parquet").drop(columns=["young_16_17", "neet_16_17"])
    write_parquet(equity, folder / "equity.parquet")
    with pytest.raises(PfppError) as info:
        report_sections(folder)
    assert str(info.value) == (
        f"{folder}/equity.parquet lacks young_16_17 (written by an older pfpp_sim; rerun the command that wrote the folder)"
    )


def test_every_rate_outcome_is_shown_in_percent_and_points_whatever_its_name_ends_with():
    from pfpp_sim.outcomes import OUTCOMES
    from pfpp_sim.sections import format_difference, format_value

    rates = [m for m, o in OUTCOMES.items() if o.kind == "rate"]
    assert "youth_unemployment_rate_18_24" in rates
    for metric in rates:
        assert format_value(metric, 0.1234) == "12.3%", metric
        assert format_difference(metric, -0.0009, -0.0015, -0.0003) == "-0.09 pp [-0.15, -0.03]", metric
