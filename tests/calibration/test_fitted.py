"""Fitted calibration files: round trip, lookup, and how scenarios embed them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfpp_sim.calibration.fitted import FIT_DIR, Estimate, FitFile, read_fit, write_fit
from pfpp_sim.errors import ScenarioError
from pfpp_sim.model import PfppModel
from pfpp_sim.scenario import describe_sources, load_scenario

LUTON = "E06000032"
finite = st.floats(min_value=-0.5, max_value=0.5, allow_nan=False)


def fit_file(name="mine", income=0.02, neet=-0.1, pass_through=0.5) -> FitFile:
    return FitFile(
        name=name, fitted_on="2026-01-31", data_through={"fuel_poverty_rate": 2022, "neet_16_17_rate": 2024}, objective=3.5, moments=7,
        settings={"seed": 1, "start": "2019-01"},
        globals={"world.households.price_pass_through": Estimate(value=pass_through, se=0.1, unit="fraction")},
        places={LUTON: {"income_trend": Estimate(value=income, se=None), "neet_trend": Estimate(value=neet, se=0.01)}},
    )


def sha256_8(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:8]


def write_scenario(folder: Path, body: str) -> Path:
    path = folder / "mine.toml"
    path.write_text('name = "mine"\nextends = "siloed_baseline"\n' + body)
    return path


@settings(max_examples=30, deadline=None)
@given(income=finite, neet=finite, se=st.none() | st.floats(min_value=0, max_value=1))
def test_fit_files_round_trip_through_toml(tmp_path_factory, income, neet, se):
    folder = tmp_path_factory.mktemp("fit")
    fit = fit_file(income=income, neet=neet).model_copy(
        update={"places": {LUTON: {"income_trend": Estimate(value=income, se=se), "neet_trend": Estimate(value=neet)}}}
    )
    path = write_fit(fit, folder / FIT_DIR / "mine.toml", header="a header")
    assert path.read_text().startswith("# a header")
    import os

    cwd = os.getcwd()
    os.chdir(folder)
    try:
        assert read_fit("mine", named_in="test") == fit
    finally:
        os.chdir(cwd)


def test_a_scenario_naming_a_fit_embeds_its_trends_and_global_values(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_fit(fit_file(), FIT_DIR / "mine.toml")
    sc = load_scenario(write_scenario(tmp_path, 'calibration = "mine"\n'))
    assert sc.calibration.name == "mine"
    assert sc.calibration.place(LUTON).neet_trend == -0.1
    assert sc.calibration.place("E08000025").income_trend == 0.0  # not fitted: no trend
    pass_through = sc.world.households.price_pass_through
    assert (pass_through.value, pass_through.source) == (0.5, "calibrated:mine")
    uncalibrated = load_scenario(write_scenario(tmp_path, 'calibration = "none"\n'))
    assert uncalibrated.calibration is None
    assert uncalibrated.world.households.price_pass_through.source.startswith("assumption:")
    assert sc.scenario_hash() != uncalibrated.scenario_hash()


def test_a_fit_in_the_current_directory_is_used_before_a_shipped_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_fit(fit_file(name="england", pass_through=0.123), FIT_DIR / "england.toml")
    assert load_scenario("siloed_baseline").world.households.price_pass_through.value == 0.123


@pytest.mark.parametrize(
    ("value", "expected"),
    [('"no_such_fit"', "fitted calibration"), ('"../secrets"', "fitted calibration"), ("3", "calibration")],
)
def test_a_bad_calibration_name_is_a_one_line_error_naming_the_key(tmp_path, monkeypatch, value, expected):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError, match=expected) as err:
        load_scenario(write_scenario(tmp_path, f"calibration = {value}\n"))
    assert "calibration" in str(err.value) and "\n" not in str(err.value)


def test_an_invalid_fit_file_is_an_error_naming_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / FIT_DIR).mkdir(parents=True)
    (tmp_path / FIT_DIR / "broken.toml").write_text('name = "broken"\nfitted_on = "yesterday"\n')
    with pytest.raises(ScenarioError, match="broken.toml") as err:
        load_scenario(write_scenario(tmp_path, 'calibration = "broken"\n'))
    assert "fitted_on" in str(err.value)


def test_income_and_neet_trends_move_their_series_in_their_direction(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_fit(fit_file(income=0.1, neet=0.3, pass_through=1.0), FIT_DIR / "up.toml")
    run = {"run.places": [LUTON], "run.horizon_months": 36, "run.min_young_people_per_place": 5000}
    flat = load_scenario(write_scenario(tmp_path, 'calibration = "none"\n')).with_overrides(run)
    trended = load_scenario(write_scenario(tmp_path, 'calibration = "up"\n')).with_overrides(run)
    a, b = PfppModel(flat, seed=2).run(), PfppModel(trended, seed=2).run()

    def last_year(model, metric):
        return np.mean([r[metric][0] for r in model.records[-12:]])

    assert last_year(b, "fuel_poverty_rate") < last_year(a, "fuel_poverty_rate") - 0.01
    assert last_year(b, "neet_16_17_rate") > last_year(a, "neet_16_17_rate") + 0.003


def test_fitted_trends_do_not_act_after_their_data_years(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    old = fit_file(income=0.1, neet=0.3, pass_through=1.0).model_copy(update={"data_through": {"fuel_poverty_rate": 2021, "neet_16_17_rate": 2022}})
    write_fit(old, FIT_DIR / "old.toml")
    run = {"run.places": [LUTON], "run.start": "2022-04", "run.horizon_months": 12}
    flat = load_scenario(write_scenario(tmp_path, 'calibration = "none"\n')).with_overrides(run)
    fitted = load_scenario(write_scenario(tmp_path, 'calibration = "old"\n')).with_overrides(run)
    a, b = PfppModel(flat, seed=2).run(), PfppModel(fitted, seed=2).run()
    for ra, rb in zip(a.records, b.records):
        np.testing.assert_array_equal(ra["fuel_poverty_rate"], rb["fuel_poverty_rate"])
        np.testing.assert_array_equal(ra["neet_16_17_rate"], rb["neet_16_17_rate"])


def test_trends_end_at_the_centre_of_their_series_last_data_year():
    from pfpp_sim.scenario import Calibration

    fit = Calibration(name="x", fitted_on="2026-01-31", data_through={"fuel_poverty_rate": 2021, "neet_16_17_rate": 2024})
    assert fit.trend_end("fuel_poverty_rate") == "2021-07"  # DESNZ data year: calendar 2021, centre 1 July
    assert fit.trend_end("neet_16_17_rate") == "2024-02"  # DfE time period 2024: Dec 2023 - Feb 2024, centre mid-January
    assert fit.trend_end("youth_mh_rate") is None
    assert fit.place("E06000032") == fit.place("E08000025") and fit.place("E06000032").income_trend == 0.0


def test_a_fit_setting_a_key_the_scenario_lacks_is_an_error_naming_the_fit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = fit_file().model_copy(update={"globals": {"world.households.no_such_thing": Estimate(value=1.0, unit="fraction")}})
    write_fit(bad, FIT_DIR / "mine.toml")
    with pytest.raises(ScenarioError, match=r"calibration mine: globals") as err:
        load_scenario(write_scenario(tmp_path, 'calibration = "mine"\n'))
    assert "world.households.no_such_thing" in str(err.value)


def test_a_fitted_global_keeps_the_scenarios_unit_and_drops_its_range(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fit = fit_file().model_copy(update={"globals": {"world.young_people.cold_home_odds_ratio": Estimate(value=2.5, unit="other")}})
    write_fit(fit, FIT_DIR / "mine.toml")
    odds = load_scenario(write_scenario(tmp_path, 'calibration = "mine"\n')).world.young_people.cold_home_odds_ratio
    assert (odds.value, odds.unit, odds.source, odds.low, odds.high) == (2.5, "odds ratio", "calibrated:mine", None, None)


def test_a_fit_from_the_current_directory_is_named_with_its_file_and_whether_it_replaces_the_shipped_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mine, england = write_fit(fit_file(), FIT_DIR / "mine.toml"), write_fit(fit_file(name="england"), FIT_DIR / "england.toml")
    line = describe_sources(load_scenario(write_scenario(tmp_path, 'calibration = "mine"\n')), version="9.9")
    assert line.endswith(f"; calibration mine from {mine} (sha256 {sha256_8(mine)})"), line
    line = describe_sources(load_scenario("siloed_baseline"), version="9.9")
    assert line.endswith(f"; calibration england from {england}, replacing the shipped fit (sha256 {sha256_8(england)})"), line


@pytest.mark.parametrize("as_text", [False, True], ids=["path", "text"])
def test_a_fit_file_given_instead_of_the_scenarios_fit_is_embedded_and_named_with_its_file(tmp_path, monkeypatch, as_text):
    monkeypatch.chdir(tmp_path)
    path = write_fit(fit_file(name="elsewhere", pass_through=0.321), Path("fits/elsewhere.toml"))
    sc = load_scenario("siloed_baseline", calibration=str(path) if as_text else path)
    assert sc.calibration.name == "elsewhere" and sc.world.households.price_pass_through.value == 0.321
    assert describe_sources(sc, version="9.9").endswith("; calibration elsewhere from fits/elsewhere.toml (sha256 " + sha256_8(path) + ")")


def test_a_fit_named_instead_of_the_scenarios_fit_replaces_it_and_a_bad_one_is_blamed_on_the_option(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_fit(fit_file(), FIT_DIR / "mine.toml")
    assert load_scenario("siloed_baseline", calibration="mine").calibration.name == "mine"
    assert load_scenario("siloed_baseline", calibration="none").calibration is None
    with pytest.raises(ScenarioError, match=r"^--calibration: calibration = 'no_such_fit': 'none' or a fitted calibration"):
        load_scenario("siloed_baseline", calibration="no_such_fit")
