"""The fit report says plainly which fitted parameters the data do not pin down."""

from __future__ import annotations

import pandas as pd

from pfpp_sim.calibration.diagnostics import identification_warnings, unidentified
from pfpp_sim.calibration.fit import GLOBALS, Calibrated
from pfpp_sim.calibration.fitted import Estimate, FitFile
from pfpp_sim.calibration.report import write_calibration

LUTON = "E06000032"


def calibrated(scarring_se: float) -> Calibrated:
    parameters = pd.DataFrame(
        [
            ("income_trend", LUTON, 0.03, 0.01, "log points/year", -0.2, 0.2),
            ("neet_trend", LUTON, -0.1, 0.02, "log points/year", -0.5, 0.5),
            ("world.young_people.neet_scarring", None, 0.3, scarring_se, "fraction/year NEET", 0.0, 0.9),
        ],
        columns=["parameter", "place_code", "value", "se", "unit", "low", "high"],
    )
    table = pd.DataFrame(
        [(LUTON, "fuel_poverty_rate", 2019, 0.12, 0.005, 0.121, True), (LUTON, "neet_16_17_rate", 2021, 0.03, 0.004, 0.031, True)],
        columns=["place_code", "metric", "year", "observed", "sd", "simulated", "used"],
    )
    fit = FitFile(
        name="flagged", fitted_on="2026-01-31", data_through={"fuel_poverty_rate": 2019, "neet_16_17_rate": 2021},
        objective=1.0, moments=2, settings={"seed": 1, "start": "2019-01", "replicates": 1},
        globals={"world.young_people.neet_scarring": Estimate(value=0.3, se=scarring_se, unit="fraction/year NEET")},
        places={LUTON: {"income_trend": Estimate(value=0.03, se=0.01), "neet_trend": Estimate(value=-0.1, se=0.02)}},
        warnings=identification_warnings(unidentified(parameters)),
    )
    return Calibrated(fit=fit, table=table, parameters=parameters, evaluations=3, seconds=1.0, message="test")


def test_a_fitted_parameter_whose_standard_error_exceeds_its_value_is_flagged_in_the_report(tmp_path):
    flagged = calibrated(scarring_se=0.42)
    assert flagged.unidentified()["parameter"].tolist() == ["world.young_people.neet_scarring"]
    assert flagged.unidentified()["kind"].tolist() == ["not_distinguishable_from_zero"]
    assert calibrated(scarring_se=5.0).unidentified()["kind"].tolist() == ["not_identified"]
    html = write_calibration(flagged, tmp_path / "a")["report"].read_text()
    warnings = html.split("<h2>Warnings</h2>", 1)[1].split("<h2>", 1)[0]
    assert "world.young_people.neet_scarring (all places) = 0.3 fraction/year NEET has a standard error of 0.42" in warnings
    clear = calibrated(scarring_se=0.05)
    assert clear.unidentified().empty and not clear.fit.warnings
    assert "<h2>Warnings</h2>" not in write_calibration(clear, tmp_path / "b")["report"].read_text()


def test_the_price_pass_through_is_taken_from_evidence_not_fitted():
    assert "world.households.price_pass_through" not in GLOBALS
