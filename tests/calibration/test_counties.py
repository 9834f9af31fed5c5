"""A county whose districts were all fitted takes their trends, weighted by what each trend moves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pfpp_sim import data
from pfpp_sim.calibration.counties import complete_counties, derived_county_trends

EAST_SUSSEX = "E10000011"
# Eastbourne, Hastings, Lewes, Rother, Wealden (written out, so that the first test checks the loader gives them)
DISTRICTS = ["E07000061", "E07000062", "E07000063", "E07000064", "E07000065"]


def parameters(codes: list[str]) -> pd.DataFrame:
    rows = [(p, c, 0.01 * (i + 1) * (1 if p == "income_trend" else -2), 0.001 * (i + 1), "log points/year", -0.2, 0.2)
            for i, c in enumerate(codes) for p in ("income_trend", "neet_trend")]
    rows.append(("world.young_people.neet_scarring", None, 0.4, 0.1, "fraction/year NEET", 0.0, 0.9))
    return pd.DataFrame(rows, columns=["parameter", "place_code", "value", "se", "unit", "low", "high"])


def test_east_sussex_takes_its_five_districts_trends_weighted_by_households_and_16_17_year_olds():
    assert data.county_districts()[EAST_SUSSEX] == DISTRICTS
    rows, derived = derived_county_trends(parameters(DISTRICTS))
    assert derived == {EAST_SUSSEX: DISTRICTS}
    facts = data.places(DISTRICTS)
    for parameter, column, sign in (("income_trend", "households", 1), ("neet_trend", "age_16_17", -2)):
        weights = facts[column].to_numpy(float) / facts[column].sum()
        values = sign * 0.01 * np.arange(1, 6)
        row = rows[(rows.parameter == parameter) & (rows.place_code == EAST_SUSSEX)].iloc[0]
        assert row.value == pytest.approx(weights @ values)
        assert row.se == pytest.approx(np.sqrt(np.sum((weights * 0.001 * np.arange(1, 6)) ** 2)))
        assert (row.low, row.high, row.unit) == (-0.2, 0.2, "log points/year")


def test_a_county_with_a_district_left_out_or_fitted_itself_gets_no_derived_trends():
    assert EAST_SUSSEX not in complete_counties(DISTRICTS[:-1])
    assert EAST_SUSSEX not in complete_counties([*DISTRICTS, EAST_SUSSEX])
    rows, derived = derived_county_trends(parameters(DISTRICTS[:-1]))
    assert rows.empty and derived == {}


def test_a_fit_of_every_authority_covers_every_county_whose_districts_are_places():
    counties = complete_counties(data.places("all")["area_code"].tolist())
    assert EAST_SUSSEX in counties and len(counties) == 21
    # Cumbria, North Yorkshire and Somerset: their districts were abolished in 2023 and are not places.
    assert set(data.county_districts()) - set(counties) == {"E10000006", "E10000023", "E10000027"}


def test_a_fit_file_keeps_which_counties_were_derived(tmp_path):
    from pfpp_sim.calibration.fitted import Estimate, FitFile, read_fit_file, write_fit

    fit = FitFile(
        name="derived", fitted_on="2026-12-04", data_through={"fuel_poverty_rate": 2021}, objective=1.0, moments=5,
        places={c: {"income_trend": Estimate(value=0.01)} for c in [*DISTRICTS, EAST_SUSSEX]},
        derived_places={EAST_SUSSEX: DISTRICTS},
    )
    assert read_fit_file(write_fit(fit, tmp_path / "derived.toml")) == fit
