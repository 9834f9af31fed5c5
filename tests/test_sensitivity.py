"""Sensitivity indices of a sweep, on outputs that are known functions of the parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pfpp_sim.errors import PfppError
from pfpp_sim.sensitivity import check_place, format_index, sweep_indices, top_levers
from pfpp_sim.sweep import Sweep, SweepSpec, design_of
from pfpp_sim.sweep_report import write_analysis

TWO = {"levers.pooling": {"low": 0.0, "high": 1.0}, "levers.data_sharing": {"low": 0.2, "high": 0.7}}


def spec(design: str, samples: int, outputs=("returned_gbp",), parameters=None) -> SweepSpec:
    return SweepSpec.model_validate({
        "name": "known", "base": "siloed_baseline", "design": design, "samples": samples, "seed": 4,
        "outputs": list(outputs), "parameters": parameters or TWO,
    })


def indices_of(sp: SweepSpec, **outputs) -> pd.Series:
    design = design_of(sp)
    results = design.assign(replicate=0, **{name: f(design) for name, f in outputs.items()})
    return sweep_indices(sp, results).set_index(["output", "parameter", "measure"])


def test_sobol_gives_all_of_an_additive_outputs_variance_to_the_parameter_that_drives_it():
    table = indices_of(spec("sobol", 512), returned_gbp=lambda d: 4.0 * d["levers.pooling"])
    value, conf = table["value"], table["conf"]
    for measure in ("S1", "ST"):
        assert value["returned_gbp", "levers.pooling", measure] == pytest.approx(1.0, abs=0.05)
        assert value["returned_gbp", "levers.data_sharing", measure] == pytest.approx(0.0, abs=0.05)
        assert 0 < conf["returned_gbp", "levers.pooling", measure] < 0.1
    assert not table["flag"].str.startswith("wide").any(), "512 samples pin the indices down"


def test_spearman_screening_gives_the_sign_and_strength_of_a_monotone_relation():
    table = indices_of(
        spec("lhs", 64, outputs=("returned_gbp", "overhead_gbp")),
        returned_gbp=lambda d: np.exp(3 * d["levers.pooling"]),  # monotone, not linear
        overhead_gbp=lambda d: -d["levers.data_sharing"],
    )["value"]
    assert table["returned_gbp", "levers.pooling", "spearman"] == pytest.approx(1.0)
    assert table["overhead_gbp", "levers.data_sharing", "spearman"] == pytest.approx(-1.0)
    assert table["overhead_gbp", "levers.data_sharing", "abs_spearman"] == pytest.approx(1.0)
    assert abs(table["returned_gbp", "levers.data_sharing", "spearman"]) < 0.3


def test_a_grid_parameter_held_at_one_level_has_no_rank_correlation():
    parameters = {"levers.pooling": {"levels": [0.0, 0.5, 1.0]}, "levers.carry_over": {"levels": [True]}}
    table = indices_of(spec("grid", 1, parameters=parameters), returned_gbp=lambda d: d["levers.pooling"] * 2)["value"]
    assert table["returned_gbp", "levers.carry_over", "spearman"] == 0.0 == table["returned_gbp", "levers.carry_over", "abs_spearman"]
    assert table["returned_gbp", "levers.pooling", "spearman"] == pytest.approx(1.0)


def test_an_output_that_never_changes_gets_a_headline_index_of_zero_for_every_parameter():
    table = indices_of(spec("sobol", 8), returned_gbp=lambda d: np.zeros(len(d)))
    assert list(table.index) == [("returned_gbp", "levers.pooling", "ST"), ("returned_gbp", "levers.data_sharing", "ST")]
    assert (table["value"] == 0).all() and table["conf"].isna().all() and (table["flag"] == "").all()


def test_undefined_outputs_take_the_mean_of_the_defined_ones_and_missing_outputs_are_skipped():
    sp = spec("lhs", 16, outputs=("returned_gbp", "overhead_gbp", "retrofits"))

    def with_gaps(d):
        y = d["levers.pooling"].to_numpy().copy()
        y[::4] = np.nan
        return y

    design = design_of(sp)
    results = design.assign(replicate=0, returned_gbp=with_gaps(design), overhead_gbp=np.nan)
    table = sweep_indices(sp, results).set_index(["output", "parameter", "measure"])["value"]
    filled = np.where(np.isnan(with_gaps(design)), np.nanmean(with_gaps(design)), with_gaps(design))
    expected = pd.Series(filled).corr(design["levers.pooling"], method="spearman")
    assert table["returned_gbp", "levers.pooling", "spearman"] == pytest.approx(expected)
    assert (table.xs("overhead_gbp", level="output") == 0).all(), "all undefined: constant"
    assert "retrofits" not in table.index.get_level_values("output")


def test_replicates_are_averaged_per_design_point_first():
    sp = spec("lhs", 8)
    design = design_of(sp)
    x = design["levers.pooling"].to_numpy()
    noise = np.where(np.arange(len(x)) % 2 == 0, 5.0, -5.0)  # cancels within each point
    results = pd.concat([design.assign(replicate=0, returned_gbp=x + noise), design.assign(replicate=1, returned_gbp=x - noise)])
    table = sweep_indices(sp, results).set_index(["parameter", "measure"])["value"]
    assert table["levers.pooling", "spearman"] == pytest.approx(1.0)


def test_top_levers_rank_each_outputs_parameters_by_the_headline_measure():
    indices = pd.DataFrame({
        "output": ["a", "a", "a", "a", "b", "b"],
        "parameter": ["p", "q", "p", "q", "p", "q"],
        "measure": ["ST", "ST", "S1", "S1", "ST", "ST"],
        "value": [0.2, 0.7, 0.9, 0.1, 0.5, 0.4],
        "conf": [0.01] * 6,
        "flag": [""] * 6,
    })
    top = top_levers(indices, "sobol")
    assert list(top.columns) == ["output", "rank", "parameter", "value", "conf", "flag"]
    assert top[["output", "rank", "parameter"]].values.tolist() == [["a", 1, "q"], ["a", 2, "p"], ["b", 1, "p"], ["b", 2, "q"]]


@pytest.mark.parametrize(
    ("measure", "output", "value", "conf", "expected"),
    [
        ("ST", "returned_gbp", 0.534, 0.049, "0.53 ±0.05"),
        ("abs_spearman", "fuel_poverty_rate", 0.8, np.nan, "0.80"),
        ("mu_star", "fuel_poverty_rate", 0.0125, 0.001, "1.25 pp ±0.10 pp"),
        ("sigma", "returned_gbp", 18_920_000.0, np.nan, "£18.92m"),
        ("mu_star", "bids", 12.0, 1.5, "12.0 ±1.5"),
    ],
)
def test_an_index_is_shown_in_its_outputs_unit_when_it_has_one(measure, output, value, conf, expected):
    assert format_index(measure, output, value, conf) == expected


def _sweep(by_place: pd.DataFrame | None) -> Sweep:
    return Sweep(spec("lhs", 4), pd.DataFrame(), pd.DataFrame(), by_place, {}, Path("s"))


def test_a_place_the_sweep_did_not_keep_is_refused_naming_what_it_kept():
    check_place(_sweep(None), "ALL")
    with pytest.raises(PfppError) as info:
        check_place(_sweep(None), "E07000062")
    assert str(info.value) == ("--place E07000062: sweep known has no results for this place; "
                               "it kept all places together only (set keep_places = true in the spec)")
    kept = _sweep(pd.DataFrame({"place_code": ["E06000032", "ALL", "E07000062"]}))
    check_place(kept, "E07000062")
    with pytest.raises(PfppError, match=r"; it kept E06000032, E07000062$"):
        check_place(kept, "E08000035")


def known_sweep(keep_places: bool) -> Sweep:
    """An LHS sweep whose outputs are known functions of its two levers, per place too."""
    sp = spec("lhs", 40, outputs=("returned_gbp", "fuel_poverty_rate"))
    design = design_of(sp)
    results = design.assign(run_id=design["point"], replicate=0, returned_gbp=4.0e6 * design["levers.pooling"],
                            fuel_poverty_rate=0.2 - 0.1 * design["levers.data_sharing"])
    by_place = None
    if keep_places:  # Luton follows data sharing for money too; Hastings as all places
        luton = results.assign(place_code="E06000032", returned_gbp=-1.0e6 * design["levers.data_sharing"])
        by_place = pd.concat([results.assign(place_code="ALL"), luton, results.assign(place_code="E07000062")], ignore_index=True)
    return Sweep(sp, design, results, by_place, {}, Path("s"))


def test_the_written_analysis_holds_every_places_indices_its_ranking_and_its_chart(tmp_path, monkeypatch):
    import pfpp_sim.sensitivity as sensitivity

    sweep = known_sweep(keep_places=True)
    _read_as(monkeypatch, tmp_path, sweep)
    files = write_analysis(tmp_path)
    table = pd.read_parquet(files["indices"])
    assert list(table.columns) == sensitivity.COLUMNS
    assert list(dict.fromkeys(table.place_code)) == ["ALL", "E06000032", "E07000062"]
    for place, results in (("ALL", sweep.results), ("E06000032", sweep.by_place[sweep.by_place.place_code == "E06000032"])):
        expected = sweep_indices(sweep.spec, results).reset_index(drop=True)
        got = table[table.place_code == place].drop(columns="place_code").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected[got.columns])
    rho = table.set_index(["place_code", "output", "parameter", "measure"])["value"]
    assert rho["ALL", "returned_gbp", "levers.pooling", "abs_spearman"] == pytest.approx(1.0)
    assert rho["E06000032", "returned_gbp", "levers.data_sharing", "abs_spearman"] == pytest.approx(1.0)
    md = files["report"].read_text()
    assert md.startswith("# Sensitivity of sweep known (lhs design)\n\nHeadline measure: ")
    assert "| returned_gbp | levers.pooling | 1.00 | levers.data_sharing (" in md
    assert "| fuel_poverty_rate | levers.data_sharing | 1.00 | levers.pooling (" in md
    assert "| E06000032 | returned_gbp | levers.data_sharing | 1.00 |" in md
    assert "| E07000062 | returned_gbp | levers.pooling | 1.00 |" in md
    assert md.count("\n| ALL | ") == (table.place_code == "ALL").sum()
    assert len(md.split("## All indices")[1].strip().splitlines()) == len(table) + 2
    assert files["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pd.testing.assert_frame_equal(sensitivity.analyse_places(tmp_path), table)


def test_an_analysis_of_all_places_only_has_no_place_section_and_flags_imprecise_indices(tmp_path, monkeypatch):

    sweep = known_sweep(keep_places=False)
    _read_as(monkeypatch, tmp_path, sweep)
    md = write_analysis(tmp_path)["report"].read_text()
    assert "## Most influential lever by place" not in md
    assert set(pd.read_parquet(tmp_path / "analysis.parquet").place_code) == {"ALL"}
    flagged = (pd.read_parquet(tmp_path / "analysis.parquet").flag != "").sum()
    assert (f"**{flagged} of " in md) == (flagged > 0)


def test_the_chart_has_a_bar_for_each_lever_and_outcome_at_its_index():
    from pfpp_sim.sensitivity import sensitivity_figure

    sweep = known_sweep(keep_places=False)
    indices = sweep_indices(sweep.spec, sweep.results)
    [ax] = sensitivity_figure(sweep.spec, indices).axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["fuel_poverty_rate", "returned_gbp"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["levers.data_sharing", "levers.pooling"]
    widths = sorted(round(bar.get_width(), 6) for bar in ax.patches)
    headline = indices[indices.measure == "abs_spearman"]["value"]
    assert widths == sorted(round(v, 6) for v in headline)  # one bar per lever and outcome, as long as its index


def _read_as(monkeypatch, folder: Path, sweep: Sweep) -> None:
    """Make the folder read as the sweep given, by the analysis and by its report."""
    import pfpp_sim.sensitivity as sensitivity
    import pfpp_sim.sweep_report as sweep_report

    for module in (sensitivity, sweep_report):
        monkeypatch.setattr(module, "read_sweep", lambda f: {Path(folder): sweep}[Path(f)])


def _written(tmp_path: Path, monkeypatch, sweep: Sweep) -> tuple[pd.DataFrame, str]:

    _read_as(monkeypatch, tmp_path, sweep)
    files = write_analysis(tmp_path)
    assert files == {"indices": tmp_path / "analysis.parquet", "report": tmp_path / "analysis.md", "chart": tmp_path / "sensitivity.png"}
    return pd.read_parquet(files["indices"]), files["report"].read_text()


def test_the_written_analysis_reads_exactly_as_documented_line_by_line(tmp_path, monkeypatch):
    table, md = _written(tmp_path, monkeypatch, known_sweep(keep_places=True))
    v = table.set_index(["place_code", "output", "parameter", "measure"])["value"]

    def abs_rho(place, output, parameter):
        return f"{v[place, output, parameter, 'abs_spearman']:.2f}"

    expected = [
        "# Sensitivity of sweep known (lhs design)", "", "Headline measure: |Spearman rank correlation|.", "",
        "## Which lever matters most for which outcome (all places)", "", "| Outcome | Most influential | Value | Next |",
        "|---|---|---:|---|",
        f"| fuel_poverty_rate | levers.data_sharing | 1.00 | levers.pooling ({abs_rho('ALL', 'fuel_poverty_rate', 'levers.pooling')}) |",
        f"| returned_gbp | levers.pooling | 1.00 | levers.data_sharing ({abs_rho('ALL', 'returned_gbp', 'levers.data_sharing')}) |",
        "", "## Most influential lever by place", "", "| Place | Outcome | Most influential | Value |", "|---|---|---|---:|",
        "| E06000032 | fuel_poverty_rate | levers.data_sharing | 1.00 |",
        "| E06000032 | returned_gbp | levers.data_sharing | 1.00 |",
        "| E07000062 | fuel_poverty_rate | levers.data_sharing | 1.00 |",
        "| E07000062 | returned_gbp | levers.pooling | 1.00 |",
        "", "## All indices", "", "| Place | Outcome | Parameter | Measure | Value | Flag |", "|---|---|---|---|---:|---|",
        *[f"| {r.place_code} | {r.output} | {r.parameter} | {r.measure} | {r.value:.2f} |  |" for r in table.itertuples()],
    ]
    assert md.split("\n") == [*expected, ""]


def test_morris_indices_are_written_in_their_outputs_unit_with_their_interval(tmp_path, monkeypatch):
    sp = spec("morris", 12, outputs=("returned_gbp",))
    design = design_of(sp)
    results = design.assign(run_id=design["point"], replicate=0, returned_gbp=4.0e6 * design["levers.pooling"])
    table, md = _written(tmp_path, monkeypatch, Sweep(sp, design, results, None, {}, Path("s")))
    mu = table.set_index(["parameter", "measure"])
    pooling, sharing = mu.loc[("levers.pooling", "mu_star")], mu.loc[("levers.data_sharing", "mu_star")]
    assert pooling.value == pytest.approx(4.0e6) and np.isfinite(pooling.conf)
    shown = format_index("mu_star", "returned_gbp", pooling.value, pooling.conf)
    assert shown.startswith("£4.00m ±£")
    assert f"| returned_gbp | levers.pooling | {shown} | levers.data_sharing ({format_index('mu_star', 'returned_gbp', sharing.value, sharing.conf)}) |" in md
    assert f"| ALL | returned_gbp | levers.pooling | mu_star | {shown} |  |" in md
    assert "Headline measure: Morris mu*." in md


def test_a_sweep_of_one_lever_has_no_next_lever_and_flagged_indices_are_counted(tmp_path, monkeypatch):
    sp = spec("sobol", 8, parameters={"levers.pooling": {"low": 0.0, "high": 1.0}})
    design = design_of(sp)
    noise = np.random.default_rng(0).normal(size=len(design))
    results = design.assign(run_id=design["point"], replicate=0, returned_gbp=design["levers.pooling"] + noise)
    table, md = _written(tmp_path, monkeypatch, Sweep(sp, design, results, None, {}, Path("s")))
    flagged = int((table.flag != "").sum())
    assert 0 < flagged < len(table) or flagged == len(table)
    assert f"| returned_gbp | levers.pooling | {format_index('ST', 'returned_gbp', *table.set_index('measure').loc['ST', ['value', 'conf']])} | - |" in md
    assert (f"\n\n**{flagged} of {len(table)} indices are flagged** (outside [0, 1], or a 95% CI wider than +/-0.1): read them "
            "as imprecise and rerun with more samples.\n\n## All indices\n") in md


@pytest.mark.parametrize(("measure", "value", "conf", "flag"), [
    ("ST", 1.0, 0.0, ""),
    ("ST", 0.0, 0.1, ""),
    ("S1", 1.5, 0.0, "outside [0, 1]: more samples needed"),
    ("S1", -0.1, 0.0, "outside [0, 1]: more samples needed"),
    ("ST", 0.5, 0.11, "wide CI (+/-0.11): more samples needed"),
    ("mu_star", 5.0, 9.0, ""),
])
def test_a_sobol_index_is_flagged_only_beyond_zero_and_one_or_with_a_ci_wider_than_a_tenth(measure, value, conf, flag):
    from pfpp_sim.design import _flag

    assert _flag(measure, value, conf) == flag


def test_an_output_missing_or_constant_does_not_stop_the_outputs_after_it():
    sp = spec("lhs", 16, outputs=("overhead_gbp", "bid_cost_gbp", "returned_gbp"))
    design = design_of(sp)
    results = design.assign(replicate=0, bid_cost_gbp=1.0, returned_gbp=design["levers.pooling"])  # no overhead_gbp
    table = sweep_indices(sp, results)
    assert list(dict.fromkeys(table.output)) == ["bid_cost_gbp", "returned_gbp"]
    assert table.set_index(["output", "parameter", "measure"]).value["returned_gbp", "levers.pooling", "spearman"] == pytest.approx(1.0)


def test_morris_intervals_are_the_same_every_time_for_the_specs_seed():
    sp = spec("morris", 12)
    design = design_of(sp)
    results = design.assign(replicate=0, returned_gbp=design["levers.pooling"] ** 2 + design["levers.data_sharing"])
    first, second = sweep_indices(sp, results), sweep_indices(sp, results)
    assert first.conf.notna().any()
    pd.testing.assert_frame_equal(first, second)


def test_analyse_names_the_place_and_the_chart_its_measure_and_sweep(tmp_path, monkeypatch):
    import pfpp_sim.sensitivity as sensitivity

    sweep = known_sweep(keep_places=True)
    _read_as(monkeypatch, tmp_path, sweep)
    assert set(sensitivity.analyse(tmp_path, place="E06000032").place_code) == {"E06000032"}
    [ax] = sensitivity.sensitivity_figure(sweep.spec, sweep_indices(sweep.spec, sweep.results)).axes
    assert ax.get_xlabel() == "|Spearman rank correlation|"
    assert "Sensitivity of each outcome to each lever (known)" in [ax.get_title(loc=side) for side in ("left", "center", "right")]
