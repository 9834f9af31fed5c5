"""Calibration targets: the official series a baseline must reproduce, with their weights.

Moments are each place's annual rates on the publisher's own basis
(:data:`pfpp_sim.outcomes.ANNUAL_BASIS`):

- ``fuel_poverty_rate``: DESNZ sub-regional LILEE, data years 2019-2021 (LIHC, used
  before 2019, is a different measure and is never mixed in);
- ``neet_16_17_rate``: DfE NCCIS NEET 16-17, time periods 2021-2024 (a district takes its
  county's rate, as the data are published for upper-tier authorities).

Each moment is weighted by ``1 / sd**2``. For NEET, ``sd`` is the binomial sampling error
of the published rate given its cohort, floored at :data:`NEET_SD_FLOOR`; DESNZ publishes
no error for its modelled estimates, so fuel poverty uses :data:`FUEL_POVERTY_SD`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pfpp_sim import data

__all__ = [
    "FUEL_POVERTY",
    "FUEL_POVERTY_SD",
    "NEET_16_17",
    "NEET_SD_FLOOR",
    "SERIES",
    "complete_places",
    "missing_moments",
    "observed_targets",
    "sample_places",
]

FUEL_POVERTY = "fuel_poverty_rate"
NEET_16_17 = "neet_16_17_rate"
SERIES = {FUEL_POVERTY: (2019, 2020, 2021), NEET_16_17: (2021, 2022, 2023, 2024)}
"""Years of each official series vendored for calibration."""
FUEL_POVERTY_SD = 0.005
"""Assumed error (fraction) of a modelled DESNZ local fuel-poverty estimate, for weighting (assumption:calibration_weights)."""
NEET_SD_FLOOR = 0.002
"""Smallest error (fraction) given to a published NEET 16-17 rate, for weighting (assumption:calibration_weights)."""


def observed_targets(codes: list[str], *, through: int | None = None) -> pd.DataFrame:
    """The observed moments of some places.

    Parameters
    ----------
    codes : list of str
        ONS codes of the places (as in :func:`pfpp_sim.data.places`).
    through : int, optional
        Last year of data to use (default: all vendored years).

    Returns
    -------
    pandas.DataFrame
        ``place_code, metric, year, observed, sd``, one row per available moment,
        sorted by metric, year and place order.
    """
    places = data.places(codes)
    fp = data.fuel_poverty("LILEE").set_index(["area_code", "data_year"])["rate"]
    neet = data.neet_16_17().set_index(["area_code", "time_period"])
    rows = []
    for metric, years in SERIES.items():
        for year in years:
            if through is not None and year > through:
                continue
            for code, neet_code in zip(places["area_code"], places["neet_area_code"]):
                if metric == FUEL_POVERTY:
                    value, sd = fp.get((code, year), np.nan), FUEL_POVERTY_SD
                else:
                    row = neet.loc[(neet_code, year)] if (neet_code, year) in neet.index else None
                    value = np.nan if row is None else float(row["neet_rate"])
                    sd = np.nan if row is None else max(np.sqrt(value * (1 - value) / row["cohort"]), NEET_SD_FLOOR)
                if np.isfinite(value):
                    rows.append((code, metric, year, float(value), float(sd)))
    return pd.DataFrame(rows, columns=["place_code", "metric", "year", "observed", "sd"])


def missing_moments(moments: pd.DataFrame, codes: list[str]) -> dict[str, list[str]]:
    """What each place lacks of :data:`SERIES`.

    Parameters
    ----------
    moments : pandas.DataFrame
        Observed moments (``place_code, metric, year``), as :func:`observed_targets` gives.
    codes : list of str
        The places to check, including any with no moment at all.

    Returns
    -------
    dict of str to list of str
        ONS code -> its missing moments as ``"metric year"``, for the places lacking any,
        in the order of ``codes``.
    """
    have = set(moments[["place_code", "metric", "year"]].itertuples(index=False, name=None))
    out = {}
    for code in codes:
        lacking = [f"{m} {y}" for m, years in SERIES.items() for y in years if (code, m, y) not in have]
        if lacking:
            out[code] = lacking
    return out


def complete_places() -> list[str]:
    """ONS codes of the local authorities with every moment of :data:`SERIES` (in data order)."""
    codes = data.places("all")["area_code"].tolist()
    lacking = missing_moments(observed_targets(codes), codes)
    return [c for c in codes if c not in lacking]


def sample_places(n: int, seed: int, *, exclude: tuple[str, ...] = data.PILOT_CODES) -> list[str]:
    """A reproducible random sample of ``n`` complete local authorities, not in ``exclude``.

    Raises
    ------
    ValueError
        If fewer than ``n`` places are available.
    """
    pool = [c for c in complete_places() if c not in exclude]
    if not 1 <= n <= len(pool):
        raise ValueError(f"expected a sample size from 1 to {len(pool)}, got {n}")
    picked = np.random.default_rng(seed).choice(len(pool), size=n, replace=False)
    return [pool[i] for i in sorted(picked)]
