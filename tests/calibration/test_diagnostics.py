"""A fit warns when its optimiser stops early or the data do not pin a parameter down, and keeps the warnings."""

from __future__ import annotations

import pandas as pd

from pfpp_sim.calibration import Settings, calibrate, observed_targets
from pfpp_sim.calibration.diagnostics import convergence_warnings, identification_warnings, unidentified
from pfpp_sim.calibration.fitted import read_fit_file
from pfpp_sim.calibration.report import write_calibration
from pfpp_sim.calibration.targets import FUEL_POVERTY
from tests.calibration.test_fit import base

LUTON = "E06000032"
ONE_STEP = Settings(replicates=1, max_iterations=1, fit_globals=())


def parameters(scarring_se: float) -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("income_trend", LUTON, 0.03, 0.01, "log points/year", -0.2, 0.2),
            ("world.young_people.neet_scarring", None, 0.35, scarring_se, "fraction/year NEET", 0.0, 0.9),
        ],
        columns=["parameter", "place_code", "value", "se", "unit", "low", "high"],
    )


def test_a_fit_stopped_by_its_step_limit_warns_that_it_did_not_converge_and_keeps_the_warning(tmp_path):
    fitted = calibrate(base(), [LUTON], name="one_step", settings=ONE_STEP, workers=1)
    stopped = [w for w in fitted.fit.warnings if w.kind == "not_converged"]
    assert len(stopped) == 1
    assert "after 1 of at most 1 steps" in stopped[0].message
    assert f"objective {fitted.fit.objective:.4g}" in stopped[0].message
    files = write_calibration(fitted, tmp_path)
    assert read_fit_file(files["fit"]).warnings == fitted.fit.warnings
    html = files["report"].read_text()
    assert "<h2>Warnings</h2>" in html and "after 1 of at most 1 steps" in html


def test_a_trend_that_no_fitted_moment_moves_is_not_identified():
    # Given only fuel-poverty moments, nothing measures Luton's NEET trend: it has no standard error.
    targets = observed_targets([LUTON])
    fitted = calibrate(
        base(), [LUTON], name="no_neet", settings=ONE_STEP, targets=targets[targets.metric == FUEL_POVERTY], workers=1
    )
    flagged = {w.parameter: w for w in fitted.fit.warnings if w.parameter}
    assert flagged["neet_trend"].kind == "not_identified" and flagged["neet_trend"].place_code == LUTON
    expected = f"not identified: neet_trend of {LUTON} = 0 log points/year has no standard error"
    assert flagged["neet_trend"].message.startswith(expected)


def test_a_standard_error_wider_than_the_bounds_is_named_with_its_numbers():
    # As a fit once reported for the price pass-through: a standard error of 1.87 on a 0-1 scale.
    [warning] = identification_warnings(unidentified(parameters(scarring_se=1.87)))
    assert warning.kind == "not_identified" and warning.parameter == "world.young_people.neet_scarring"
    assert warning.message == (
        "not identified: world.young_people.neet_scarring (all places) = 0.35 fraction/year NEET "
        "has a standard error of 1.87, wider than its bounds 0 to 0.9"
    )


def test_a_standard_error_larger_than_the_value_is_not_distinguishable_from_zero():
    [warning] = identification_warnings(unidentified(parameters(scarring_se=0.42)))
    assert warning.kind == "not_distinguishable_from_zero"
    assert "standard error of 0.42, larger than its value" in warning.message


def test_a_converged_fit_with_clear_estimates_has_no_warnings():
    assert convergence_warnings(converged=True, steps=8, max_steps=12, objective=3.0, detail="`xtol` satisfied") == []
    assert identification_warnings(unidentified(parameters(scarring_se=0.05))) == []
