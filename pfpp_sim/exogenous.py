"""Exogenous drivers as monthly paths: energy price paid, bill support, payments, prevalence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pfpp_sim import data
from pfpp_sim.scenario import Scenario

__all__ = ["Exogenous", "month_dates", "exogenous_paths"]


@dataclass(frozen=True)
class Exogenous:
    """Monthly exogenous paths, each shape (horizon,)."""

    dates: pd.DatetimeIndex
    price_gbp: np.ndarray  # typical (band D) price paid, GBP/year (cap, or EPG when lower)
    bill_discount_gbp: np.ndarray  # universal bill support received in the last 12 months, GBP
    means_tested_gbp: np.ndarray  # cost-of-living payments received in the last 12 months, GBP
    mh_prevalence: np.ndarray  # probable disorder of young people, fraction


def month_dates(start: str, horizon: int) -> pd.DatetimeIndex:
    """First day of each simulated month."""
    return pd.date_range(pd.Timestamp(f"{start}-01"), periods=horizon, freq="MS")


def _trailing_12(dates: pd.DatetimeIndex, payments: pd.DataFrame) -> np.ndarray:
    paid = np.zeros(len(dates))
    for row in payments.itertuples():
        months = (dates >= row.start_date) & (dates < row.start_date + pd.DateOffset(months=12))
        paid[months] += row.amount_gbp
    return paid


def exogenous_paths(scenario: Scenario) -> Exogenous:
    """Build the monthly exogenous paths of a scenario from the vendored data.

    Before the first price in the data the first is used; after the last, the last.
    Only the share ``world.households.price_pass_through`` of each change in price since
    the start month reaches households. Prevalence is interpolated linearly between the scenario's yearly values.
    """
    run = scenario.run
    dates = month_dates(run.start, run.horizon_months)
    caps = data.energy_price_cap().sort_values("effective_date")
    idx = np.searchsorted(caps["effective_date"].to_numpy(), dates.to_numpy(), side="right") - 1
    price = caps["paid_gbp_per_year"].to_numpy(dtype=np.float64)[np.clip(idx, 0, len(caps) - 1)]
    price = price[0] + scenario.world.households.price_pass_through.value * (price - price[0])
    support = data.household_support()
    universal = support[support["eligibility"] == "all_households"]
    means_tested = support[support["eligibility"] == "means_tested"]
    prevalence = scenario.world.young_people.mh_prevalence
    years = np.array(sorted(int(y) for y in prevalence), dtype=np.float64)
    values = np.array([prevalence[str(int(y))].value for y in years])
    when = dates.year + (dates.month - 1) / 12.0
    return Exogenous(
        dates=dates,
        price_gbp=price,
        bill_discount_gbp=_trailing_12(dates, universal),
        means_tested_gbp=_trailing_12(dates, means_tested),
        mh_prevalence=np.interp(when, years, values),
    )
