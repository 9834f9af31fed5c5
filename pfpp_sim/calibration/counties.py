"""Trends of two-tier counties, derived from their fitted districts.

A fit of every English authority fits districts, unitaries and boroughs (``places("all")``),
each to its own published series. A two-tier county (E10, e.g. East Sussex) is the sum of
its districts, so it is not fitted again beside them (its residents would be simulated
twice in one model, and its series are its districts' series added up). When every
district of a county has been fitted, the county takes their trends, weighted by what each
trend moves: households for ``income_trend`` (fuel poverty is a share of households) and
16-17 year olds for ``neet_trend``. Its standard error is that of the weighted mean with
the districts' errors taken as independent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pfpp_sim import data

__all__ = ["WEIGHTS", "complete_counties", "derived_county_trends"]

WEIGHTS = {"income_trend": "households", "neet_trend": "age_16_17"}
"""Per-place parameter -> the column of :func:`pfpp_sim.data.places` weighting its districts."""


def complete_counties(codes: list[str]) -> dict[str, list[str]]:
    """Counties not among ``codes`` whose districts all are, with those districts.

    Parameters
    ----------
    codes : list of str
        ONS codes of the places fitted.

    Returns
    -------
    dict of str to list of str
        County code -> its district codes, for every county a run can name
        (:func:`pfpp_sim.data.places`) whose districts were all fitted.
    """
    fitted = set(codes)
    return {county: districts for county, districts in data.county_districts().items()
            if county not in fitted and set(districts) <= fitted}


def derived_county_trends(parameters: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Per-place trend rows for the counties whose districts were all fitted.

    Parameters
    ----------
    parameters : pandas.DataFrame
        A fit's parameters (``parameter, place_code, value, se, unit, low, high``).

    Returns
    -------
    tuple
        The county rows (same columns; ``se`` NaN if a district's is) and the counties'
        districts (county code -> district codes).
    """
    local = parameters[parameters.place_code.notna()]
    counties = complete_counties(local.place_code.unique().tolist())
    rows = []
    for county, districts in counties.items():
        facts = data.places(districts).set_index("area_code")
        for parameter, column in WEIGHTS.items():
            fitted = local[local.parameter == parameter].set_index("place_code").loc[districts]
            weights = facts.loc[districts, column].to_numpy(dtype=float)
            weights = weights / weights.sum()
            value = float(weights @ fitted["value"].to_numpy())
            se = float(np.sqrt(np.sum((weights * fitted["se"].to_numpy()) ** 2)))
            first = fitted.iloc[0]
            rows.append((parameter, county, value, se, first.unit, first.low, first.high))
    return pd.DataFrame(rows, columns=parameters.columns), counties
