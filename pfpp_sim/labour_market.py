"""Young people's labour market on the ILO basis: who seeks work, anchored to the official rate.

The official youth unemployment rate (ONS, ILO definitions) is the unemployed over the
economically active (employed + unemployed), ages 16-24. Employed includes students with
a (part-time) job; unemployed means without work, seeking and available, and includes
students seeking work, who are not NEET. The residents carry what that needs and no more:

- each young person's **job-search rank**, one uniform number (uint16) drawn once
  (:attr:`~pfpp_sim.population.YoungPeople.job_search_rank`): a NEET young person seeks
  work (is ILO unemployed) when the rank is below the place's NEET seeking limit, a
  student when it is below the students' limit; a student whose rank is at least
  :attr:`JobSeeking.student_employed_from` has a job (:func:`~pfpp_sim.dynamics.ilo_status`).
  The rank never changes, so changing a lever re-draws nobody's (common random numbers),
  and a person moves between seeking work and inactivity only when their status changes
  or a new year's limits do;
- **leaving education**: students aged 18 or more move into work at a monthly hazard that
  keeps the employed share of 18-24 year olds not NEET at ``employed_share_of_eet``
  (:func:`~pfpp_sim.population.leaving_education_hazard`).

The shares are the published ones: 32% of those not in full-time education or work seek
work (E82), 5.15% of full-time students (E90); 31.6% of full-time students have a job
(E90). Both seeking shares are scaled by one national factor so that England, as the sum
of its authorities as the model builds them, has the published rate of October-December
2022 (E81, :func:`anchor_factor`), and by each place's and each year's ONS model-based
unemployment rate (16+) relative to England in 2022, raised to ``unemployment_elasticity``
(:func:`job_seeking`). Seeking work does not change how fast a NEET young person leaves
NEET: no published flows by ILO status are vendored.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import optimize

from pfpp_sim import data
from pfpp_sim.population import EDUCATION, EMPLOYED, NEET, RANK_LEVELS, neet_18_24_share
from pfpp_sim.scenario import Scenario

__all__ = [
    "ANCHOR_NEET_PERIOD",
    "ANCHOR_YEAR",
    "Composition",
    "JobSeeking",
    "anchor_factor",
    "england_composition",
    "job_seeking",
    "national_rate",
    "year_factors",
]

ANCHOR_YEAR = 2022
"""Year of the anchor (E81, October-December 2022): the reference year of :func:`year_factors`."""
ANCHOR_NEET_PERIOD = 2023
"""DfE NEET 16-17 time period nearest the anchor (December 2022 to February 2023)."""


def year_factors(dates: pd.DatetimeIndex) -> np.ndarray:
    """England's modelled unemployment rate (16+) in each month's calendar year over its rate in :data:`ANCHOR_YEAR`.

    Years before or after the data take the first or last year's rate.

    Returns
    -------
    ndarray of float64, shape (len(dates),)
    """
    years, rates = _england_rates()
    at = np.searchsorted(years, np.minimum(dates.year.to_numpy(), years[-1]))  # a year before the data: 0, the first
    return rates[at] / rates[np.searchsorted(years, ANCHOR_YEAR)]


@lru_cache(maxsize=1)
def _england_rates() -> tuple[np.ndarray, np.ndarray]:
    """England's modelled unemployment rate by year (years in order), read once."""
    table = data.modelled_unemployment()
    england = table[table["area_code"] == data.ENGLAND].dropna(subset=["rate"]).sort_values("year")
    return england["year"].to_numpy(), england["rate"].to_numpy(dtype=np.float64)


@dataclass(frozen=True)
class Composition:
    """Every English authority's 16-24 year olds at the anchor, as the model builds them.

    Attributes
    ----------
    young_people : ndarray of float64, shape (n_places,)
        Real 16-24 year olds (Census 2021).
    neet, employed, education : ndarray of float64, shape (n_places,)
        Shares NEET, in work (not studying) and in education; they sum to 1.
    unemployment_relative : ndarray of float64, shape (n_places,)
        Modelled unemployment rate (16+) over England's (:func:`pfpp_sim.data.places`).
    """

    young_people: np.ndarray
    neet: np.ndarray
    employed: np.ndarray
    education: np.ndarray
    unemployment_relative: np.ndarray


def england_composition(scenario: Scenario) -> Composition:
    """England's authorities (``places("all")``) as :func:`~pfpp_sim.population.build_population` builds them at the anchor.

    16-17 year olds are NEET at their area's DfE rate (period :data:`ANCHOR_NEET_PERIOD`)
    and otherwise in education; 18-24 year olds are NEET at
    :func:`~pfpp_sim.population.neet_18_24_share` of it and otherwise in work at
    ``employed_share_of_eet``; ages split as in Census 2021.

    Returns
    -------
    Composition
        Shared between calls with the same parameters: read, do not modify.
    """
    yw = scenario.world.young_people
    return _composition(yw.neet_16_24_rate.value, yw.employed_share_of_eet.value)


@lru_cache(maxsize=8)
def _composition(neet_16_24_rate: float, employed_share: float) -> Composition:
    table = data.places("all")
    neet_table = data.neet_16_17()
    rates = neet_table[neet_table["time_period"] == ANCHOR_NEET_PERIOD].set_index("area_code")["neet_rate"]
    neet_1617 = rates.loc[table["neet_area_code"]].to_numpy(dtype=np.float64)
    young = (table["age_16_17"] + table["age_18_24"]).to_numpy(dtype=np.float64)
    share_1617 = table["age_16_17"].to_numpy(dtype=np.float64) / young
    neet_1824 = neet_18_24_share(neet_16_24_rate, neet_1617, float(rates[data.ENGLAND]))
    neet = share_1617 * neet_1617 + (1.0 - share_1617) * neet_1824
    employed = (1.0 - share_1617) * (1.0 - neet_1824) * employed_share
    return Composition(young, neet, employed, 1.0 - neet - employed, table["unemployment_relative"].to_numpy(dtype=np.float64))


def _shares(neet_seeking: float, student_seeking: float, student_employed: float, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Seeking shares of NEET young people and of students at ``scale`` times the published ones.

    NEET shares are at most 1, students' at most the share without a job.
    """
    return np.minimum(neet_seeking * scale, 1.0), np.minimum(student_seeking * scale, 1.0 - student_employed)


_ANCHOR_INPUTS = (
    "neet_16_24_rate", "employed_share_of_eet", "neet_seeking_work_share", "student_seeking_work_share",
    "student_employed_share", "unemployment_elasticity", "unemployment_rate_16_24_anchor",
)
"""The ``world.young_people`` parameters the anchor depends on, in the order :func:`_anchor_factor` takes them."""


def _rate(composition: Composition, factor: float, neet_seeking: float, student_seeking: float, student_employed: float,
          elasticity: float) -> float:
    c = composition
    neet, student = _shares(neet_seeking, student_seeking, student_employed, factor * c.unemployment_relative**elasticity)
    unemployed = np.dot(c.young_people, c.neet * neet + c.education * student)
    in_work = np.dot(c.young_people, c.employed + c.education * student_employed)
    return float(unemployed / (unemployed + in_work))


def national_rate(scenario: Scenario, composition: Composition, factor: float) -> float:
    """England's youth unemployment rate at the anchor with both seeking shares scaled by ``factor``.

    Each authority's seeking shares are scaled by ``factor`` and by its
    ``unemployment_relative ** unemployment_elasticity``; England's rate is its
    authorities' unemployed over their economically active, each authority weighted by
    its young people.

    Returns
    -------
    float
    """
    values = [getattr(scenario.world.young_people, k).value for k in _ANCHOR_INPUTS[2:6]]
    return _rate(composition, factor, *values)


def anchor_factor(scenario: Scenario) -> float:
    """The factor on both seeking shares that gives England the published youth unemployment rate.

    Solves ``national_rate(factor) = unemployment_rate_16_24_anchor`` (E81, October-December
    2022) over England as the sum of its authorities (:func:`england_composition`), so that
    the places' differences (their NEET shares and unemployment rates) average out to the
    published national rate. 100 if even that factor falls short (shares at their caps).
    Computed once for each set of the parameters it depends on.

    Returns
    -------
    float
    """
    return _anchor_factor(*(getattr(scenario.world.young_people, k).value for k in _ANCHOR_INPUTS))


@lru_cache(maxsize=8)
def _anchor_factor(neet_16_24_rate: float, employed_share: float, neet_seeking: float, student_seeking: float,
                   student_employed: float, elasticity: float, target: float) -> float:
    composition = _composition(neet_16_24_rate, employed_share)

    def gap(factor: float) -> float:
        return _rate(composition, factor, neet_seeking, student_seeking, student_employed, elasticity) - target

    if target <= 0.0:
        return 0.0
    if gap(100.0) < 0.0:
        return 100.0
    return float(optimize.brentq(gap, 0.0, 100.0, xtol=1e-12))


@dataclass(frozen=True)
class JobSeeking:
    """Job-search rank limits of every month and place, by status (the tables of :func:`~pfpp_sim.dynamics.ilo_status`).

    Attributes
    ----------
    unemployed_below : ndarray of uint16, shape (horizon, n_places, 3)
        By status (``EDUCATION``, ``EMPLOYED``, ``NEET``): a young person whose job-search
        rank is below it seeks work: the students' limit, 0, the NEET limit.
    employed_from : ndarray of uint16, shape (3,)
        By status: a young person whose rank is at least it has a job: the students'
        limit, 0 (in work), :data:`~pfpp_sim.population.RANK_LEVELS` (never, for NEET).
    """

    unemployed_below: np.ndarray
    employed_from: np.ndarray

    @property
    def neet_limit(self) -> np.ndarray:
        """NEET young people seek work below this rank, shape (horizon, n_places)."""
        return self.unemployed_below[..., NEET]

    @property
    def student_limit(self) -> np.ndarray:
        """Students seek work below this rank, shape (horizon, n_places)."""
        return self.unemployed_below[..., EDUCATION]

    @property
    def student_employed_from(self) -> int:
        """Students have a job from this rank."""
        return int(self.employed_from[EDUCATION])


def job_seeking(scenario: Scenario, unemployment_relative: np.ndarray, dates: pd.DatetimeIndex) -> JobSeeking:
    """Seeking limits by month and place: the published shares, anchored, scaled by place and year.

    A place's seeking share in a month is the published share times :func:`anchor_factor`
    times ``(unemployment_relative * year_factor) ** unemployment_elasticity``, with
    ``unemployment_relative`` the place's modelled unemployment rate (16+, mean of
    2019-2023) over England's and ``year_factor`` England's rate in the month's year over
    2022 (:func:`year_factors`); NEET shares are at most 1, students' at most the share
    without a job. A limit is the share times :data:`~pfpp_sim.population.RANK_LEVELS`, rounded.

    Parameters
    ----------
    scenario : Scenario
    unemployment_relative : ndarray of float64, shape (n_places,)
        :attr:`~pfpp_sim.population.PlaceTable.unemployment_relative`.
    dates : pandas.DatetimeIndex
        First day of each month.

    Returns
    -------
    JobSeeking
    """
    elasticity = scenario.world.young_people.unemployment_elasticity.value
    scale = anchor_factor(scenario) * (year_factors(dates)[:, None] * np.asarray(unemployment_relative)[None, :]) ** elasticity
    yw = scenario.world.young_people
    employed = yw.student_employed_share.value
    neet, student = _shares(yw.neet_seeking_work_share.value, yw.student_seeking_work_share.value, employed, scale)
    unemployed_below = np.zeros((*scale.shape, 3), dtype=np.uint16)
    unemployed_below[..., NEET] = np.rint(neet * RANK_LEVELS)
    unemployed_below[..., EDUCATION] = np.rint(student * RANK_LEVELS)
    employed_from = np.zeros(3, dtype=np.uint16)
    employed_from[[EDUCATION, EMPLOYED, NEET]] = int(np.rint((1.0 - employed) * RANK_LEVELS)), 0, RANK_LEVELS
    return JobSeeking(unemployed_below, employed_from)
