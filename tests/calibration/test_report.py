"""The fit report says plainly which fitted parameters the data do not pin down."""

from __future__ import annotations

import json

import numpy as np
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


def many_places(n: int, *, drop: tuple[str, str, int] | None = None) -> Calibrated:
    """A synthetic fit of ``n`` authorities with every official year, and its held-out year scored."""
    from pfpp_sim import data
    from pfpp_sim.calibration.holdout import score, with_forecasts, with_intervals
    from pfpp_sim.calibration.targets import SERIES

    codes = data.places("all")["area_code"].tolist()[:n]
    rng = np.random.default_rng(3)
    rows = [(c, m, y, 0.1 + 0.01 * rng.standard_normal(), 0.005) for c in codes for m, years in SERIES.items() for y in years]
    table = pd.DataFrame(rows, columns=["place_code", "metric", "year", "observed", "sd"])
    if drop is not None:
        table = table[[row != drop for row in table[["place_code", "metric", "year"]].itertuples(index=False, name=None)]]
    table = table.assign(simulated=table.observed + 0.002, used=True).reset_index(drop=True)
    last = table.groupby("metric").year.transform("max")
    held = with_forecasts(table.assign(used=last > table.year))
    held = with_intervals(held, table[last > table.year], pd.Series(dtype=float))
    base = calibrated(scarring_se=0.05)
    parameters = pd.DataFrame(
        [(p, c, 0.0, 0.01, "log points/year", -0.2, 0.2) for c in codes for p in ("income_trend", "neet_trend")],
        columns=base.parameters.columns,
    )
    return Calibrated(fit=base.fit, table=table, parameters=parameters, evaluations=1, seconds=9.0, message="test",
                      holdout=score(held, table), holdout_table=held, holdout_evaluations=4, holdout_seconds=6.0)


def test_a_fit_of_many_places_is_drawn_as_one_scatter_per_series_with_the_held_out_year_scored(tmp_path):
    files = write_calibration(many_places(45), tmp_path)
    html = files["report"].read_text()
    assert html.count("data:image/png;base64,") == 4  # two scatters, the residuals' spread, the held-out changes
    for name in ("fit_fuel_poverty_rate", "fit_neet_16_17_rate", "residuals", "holdout_figure"):
        width, height = _png_size(files[name])
        assert width <= 1200 and height <= 1200, (name, width, height)  # not one panel per place
    section = html.split("<h2>Out-of-sample check</h2>", 1)[1]
    assert "pooled AR(1)" in section and "ar1_mae_pp" in section and "model_rank_correlation" in section
    assert "coverage_90" in section and "low_90" in section and "same_change_floor_mae_pp" in section
    places = pd.read_parquet(files["holdout_places"])
    assert places.place_code.nunique() == 45 and {"forecast", "persistence", "ar1", "last_observed"} <= set(places.columns)
    assert "Places with missing data" not in html
    assert "1 model evaluations of" in html and "and 4 for the held-out fit (6 s); 9 s in all" in html
    manifest = json.loads(files["manifest"].read_text())
    assert (manifest["evaluations"], manifest["holdout_evaluations"], manifest["holdout_seconds"]) == (1, 4, 6.0)


def test_places_lacking_a_published_year_are_named_in_the_report(tmp_path):
    from pfpp_sim import data

    code = data.places("all")["area_code"].iloc[4]
    html = write_calibration(many_places(6, drop=(code, "fuel_poverty_rate", 2019)), tmp_path)["report"].read_text()
    section = html.split("<h2>Places with missing data</h2>", 1)[1].split("<h2>", 1)[0]
    assert f"({code})" in section and "fuel_poverty_rate 2019" in section
    assert section.count("</tr>") == 2  # the header and that one place


def _png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[16:24]
    return int.from_bytes(head[:4], "big"), int.from_bytes(head[4:], "big")
