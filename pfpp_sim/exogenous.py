"""Exogenous drivers as monthly paths: energy price paid, bill support, payments, the
national median income and the poverty line, prevalence."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pfpp_sim import data
from pfpp_sim.scenario import Scenario

__all__ = ["Exogenous", "exogenous_paths", "financial_year_ending", "month_dates"]


@dataclass(frozen=True)
class Exogenous:
    """Monthly exogenous paths, each shape (horizon,)."""

    dates: pd.DatetimeIndex
    price_gbp: np.ndarray  # typical (band D) price paid, GBP/year (cap, or EPG when lower)
    bill_discount_gbp: np.ndarray  # universal bill support received in the last 12 months, GBP
    means_tested_gbp: np.ndarray  # cost-of-living payments received in the last 12 months, GBP
    mh_prevalence: np.ndarray  # probable disorder of young people, fraction
    income_index: np.ndarray  # national median income relative to FYE 2020 (households' incomes move with it)
    poverty_line_gbp: np.ndarray  # 60% of the national median income after housing costs, GBP/year

    def __post_init__(self) -> None:
        """Make the paths read only: a run reads them, and copies of a kept set-up share them (:meth:`~pfpp_sim.model.PfppModel.at_start`)."""
        for path in dataclasses.fields(self):
            if isinstance(value := getattr(self, path.name), np.ndarray):
                value.setflags(write=False)


def month_dates(start: str, horizon: int) -> pd.DatetimeIndex:
    """First day of each simulated month."""
    return pd.date_range(pd.Timestamp(f"{start}-01"), periods=horizon, freq="MS")


def _trailing_12(dates: pd.DatetimeIndex, payments: pd.DataFrame) -> np.ndarray:
    """Each month's sum of the payments that started in the 12 months to it, in the payments' order."""
    paid = np.zeros(len(dates))
    when = dates.to_numpy()
    starts = payments["start_date"]
    ends = (starts + pd.DateOffset(months=12)).to_numpy()
    for start, end, amount in zip(starts.to_numpy(), ends, payments["amount_gbp"].to_numpy(dtype=np.float64)):
        paid[(when >= start) & (when < end)] += amount
    return paid


def financial_year_ending(dates: pd.DatetimeIndex) -> np.ndarray:
    """The financial year each month falls in, as the year it ends (April 2022 -> 2023)."""
    return (dates.year + (dates.month >= 4)).to_numpy(dtype=np.int64)


def _income_index(dates: pd.DatetimeIndex) -> np.ndarray:
    """National median income of each month's financial year relative to FYE 2020 (E86).

    The median steps each April; before the first financial year in the data the first
    is held, after the last the last (no growth is assumed beyond the data).
    """
    medians = data.median_income()
    fye = medians["fye"].to_numpy()
    value = medians["median_gbp_per_year"].to_numpy(dtype=np.float64)
    at = np.clip(np.searchsorted(fye, financial_year_ending(dates)), 0, fye.size - 1)
    return value[at] / value[np.searchsorted(fye, 2020)]


def exogenous_paths(scenario: Scenario, dates: pd.DatetimeIndex | None = None) -> Exogenous:
    """Build the monthly exogenous paths of a scenario from the vendored data.

    Before the first price in the data the first is used; after the last, the last.
    Only the share ``world.households.price_pass_through`` of each change in price since
    the run's start month reaches households (whatever ``dates`` are). Prevalence is interpolated linearly between the scenario's yearly values.

    The poverty line is relative, as LILEE's is (E20): ``poverty_line_share`` of the
    national median equivalised income after housing costs of the month's financial year.
    Its level is ``world.households.median_income`` (the HBAI median of FYE 2020, E87);
    from year to year it moves as the ONS median household income does (E86), the only
    yearly series vendored (assumption:median_income_path). Household incomes are
    nominal and move with the same ``income_index``, so a rise in the median alone moves
    no household across the line; energy costs stay nominal (the price cap).

    Parameters
    ----------
    scenario : Scenario
    dates : pandas.DatetimeIndex, optional
        First day of each month to build (default: the run's months, :func:`month_dates`).

    Returns
    -------
    Exogenous
    """
    run = scenario.run
    dates = month_dates(run.start, run.horizon_months) if dates is None else dates
    caps = data.energy_price_cap().sort_values("effective_date")
    paid = caps["paid_gbp_per_year"].to_numpy(dtype=np.float64)

    def cap_at(when: pd.DatetimeIndex) -> np.ndarray:
        idx = np.searchsorted(caps["effective_date"].to_numpy(), when.to_numpy(), side="right") - 1
        return paid[np.clip(idx, 0, len(caps) - 1)]

    start_price = cap_at(month_dates(run.start, 1))[0]
    price = start_price + scenario.world.households.price_pass_through.value * (cap_at(dates) - start_price)
    support = data.household_support()
    universal = support[support["eligibility"] == "all_households"]
    means_tested = support[support["eligibility"] == "means_tested"]
    hw = scenario.world.households
    index = _income_index(dates)
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
        income_index=index,
        poverty_line_gbp=hw.poverty_line_share.value * hw.median_income.value * index,
    )
