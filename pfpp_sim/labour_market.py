"""Young people's labour market: leaving education for work, seeking work, the ILO measure.

The official youth unemployment rate (ONS, ILO definitions) is the unemployed over the
economically active (employed + unemployed), ages 16-24. Employed includes students with
a (part-time) job; unemployed means without work, seeking and available, and includes
students seeking work, who are not NEET. The residents carry what that needs and no more:

- each young person's **job-search rank**, one uniform number (uint16) drawn once: a NEET
  young person seeks work (is ILO unemployed) when the rank is below the place's NEET
  seeking limit, a student when it is below the students' limit; a student with a rank at
  or above :attr:`JobSeeking.student_employed_from` has a job. The rank never changes, so
  changing a lever re-draws nobody's (common random numbers), and a person moves between
  seeking work and inactivity only when their status changes or the year's limits do;
- **leaving education**: students aged 18 or more move into work at a monthly hazard that
  keeps the employed share of 18-24 year olds not NEET at ``employed_share_of_eet``
  (:func:`leaving_education_hazard`), instead of everyone who turns 18 in education
  staying in it until 25.

The seeking shares are the published ones: 32% of those not in full-time education or
work seek work (E82), 5.2% of full-time students (E90); 31.6% of full-time students have a
job (E90). Both seeking shares are scaled by one national factor so that England, as the
model builds it, has the published rate of October-December 2022 (E81,
:func:`anchor_factor`), and by each place's and each year's ONS model-based unemployment
rate (16+) relative to England in 2022, raised to ``unemployment_elasticity``
(:func:`job_seeking`). Seeking work does not change how fast a NEET young person leaves
NEET: no published flows by ILO status are vendored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from pfpp_sim import data
from pfpp_sim.scenario import Scenario

__all__ = [
    "ANCHOR_NEET_PERIOD",
    "ANCHOR_YEAR",
    "MONTHS_18_TO_24",
    "RANK_LEVELS",
    "JobSeeking",
    "anchor_factor",
    "employed_by_age",
    "england_composition",
    "job_seeking",
    "leaving_education_hazard",
    "year_factors",
]

ANCHOR_YEAR = 2022
"""Year of the anchor (E81, October-December 2022): its modelled unemployment rate is the reference of :func:`year_factors`."""
ANCHOR_NEET_PERIOD = 2023
"""DfE NEET 16-17 time period nearest the anchor (December 2022 to February 2023)."""
MONTHS_18_TO_24 = 7 * 12
RANK_LEVELS = (1 << 16) - 1
"""Values a job-search rank takes, 0 to ``RANK_LEVELS - 1`` (uint16): a limit of ``L``
selects the share ``L / RANK_LEVELS``, and ``RANK_LEVELS`` itself is a limit no rank reaches."""


def employed_by_age(months_past_18: np.ndarray, hazard: float) -> np.ndarray:
    """Share in work of young people not NEET, by months since their 18th birthday.

    Everyone not NEET is in education at 18 (16-17 year olds work only through
    education or training); each month from 18 a student leaves education for work with
    probability ``hazard``: ``1 - (1 - hazard) ** months``.

    Parameters
    ----------
    months_past_18 : ndarray of int, shape (n,)
    hazard : float
        Monthly probability, in [0, 1).

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    return 1.0 - (1.0 - hazard) ** np.maximum(np.asarray(months_past_18, dtype=np.float64), 0.0)


def leaving_education_hazard(employed_share: float) -> float:
    """Monthly hazard of leaving education for work that gives ``employed_share`` over ages 18-24.

    The hazard whose steady state (ages spread evenly over 18-24, :func:`employed_by_age`)
    has a share ``employed_share`` of 18-24 year olds not NEET in work. Shares of 83/84
    or more (all but those just turned 18) need everyone to leave at once: 1.

    Parameters
    ----------
    employed_share : float
        ``world.young_people.employed_share_of_eet``, in [0, 1].

    Returns
    -------
    float
        Probability per month.
    """
    months = np.arange(MONTHS_18_TO_24)
    if employed_share <= 0.0:
        return 0.0
    if employed_share >= employed_by_age(months, 1.0).mean():
        return 1.0
    return float(optimize.brentq(lambda h: employed_by_age(months, h).mean() - employed_share, 0.0, 1.0, xtol=1e-15))


def year_factors(dates: pd.DatetimeIndex) -> np.ndarray:
    """England's modelled unemployment rate (16+) in each month's calendar year over its rate in :data:`ANCHOR_YEAR`.

    Years before or after the data take the first or last year's rate.

    Returns
    -------
    ndarray of float64, shape (len(dates),)
    """
    table = data.modelled_unemployment()
    england = table[table["area_code"] == data.ENGLAND].dropna(subset=["rate"]).set_index("year")["rate"].sort_index()
    years = np.clip(dates.year.to_numpy(), england.index.min(), england.index.max())
    return england.reindex(years).to_numpy() / england[ANCHOR_YEAR]


def england_composition(scenario: Scenario) -> tuple[float, float, float]:
    """Shares of England's 16-24 year olds NEET, in work (not studying) and in education, as the model builds them.

    16-17 year olds are NEET at England's DfE rate (period :data:`ANCHOR_NEET_PERIOD`) and
    otherwise in education; 18-24 year olds are NEET at ``neet_16_24_rate`` (England's
    18-24 share, see :func:`~pfpp_sim.population.build_population`) and otherwise in work
    at ``employed_share_of_eet``; ages split as in Census 2021.

    Returns
    -------
    neet, employed, education : float
        Fractions of 16-24 year olds; they sum to 1.
    """
    yw = scenario.world.young_people
    ages = data.youth_population().set_index("area_code").loc[data.ENGLAND]
    young_1617 = float(ages["age_16_17"] / ages["age_16_24"])
    neet_table = data.neet_16_17()
    neet_1617 = float(neet_table[(neet_table["area_code"] == data.ENGLAND) & (neet_table["time_period"] == ANCHOR_NEET_PERIOD)]["neet_rate"].iloc[0])
    neet_1824 = yw.neet_16_24_rate.value
    neet = young_1617 * neet_1617 + (1.0 - young_1617) * neet_1824
    employed = (1.0 - young_1617) * (1.0 - neet_1824) * yw.employed_share_of_eet.value
    return neet, employed, 1.0 - neet - employed


def anchor_factor(scenario: Scenario) -> float:
    """Factor on both seeking shares that gives England the published youth unemployment rate.

    With England's composition (:func:`england_composition`: NEET ``n``, in work ``w``,
    in education ``s``), the students' job share ``e`` and the seeking shares of NEET
    young people ``a`` and students ``b``, the rate is ``k (a n + b s) / (k (a n + b s) +
    w + e s)``; ``k`` makes it ``unemployment_rate_16_24_anchor`` (E81).

    Returns
    -------
    float
    """
    yw = scenario.world.young_people
    neet, employed, education = england_composition(scenario)
    rate = yw.unemployment_rate_16_24_anchor.value
    seeking = yw.neet_seeking_work_share.value * neet + yw.student_seeking_work_share.value * education
    in_work = employed + yw.student_employed_share.value * education
    if seeking <= 0.0:
        return 1.0
    return rate * in_work / ((1.0 - rate) * seeking)


@dataclass(frozen=True)
class JobSeeking:
    """Job-search rank limits of every month and place.

    Attributes
    ----------
    neet_limit, student_limit : ndarray of uint16, shape (horizon, n_places)
        A NEET young person (a student) whose job-search rank is below the limit seeks work.
    student_employed_from : int
        A student whose rank is at least this has a job.
    """

    neet_limit: np.ndarray
    student_limit: np.ndarray
    student_employed_from: int


def job_seeking(scenario: Scenario, unemployment_relative: np.ndarray, dates: pd.DatetimeIndex) -> JobSeeking:
    """Seeking limits by month and place: the published shares, anchored, scaled by place and year.

    A place's seeking share in a month is the national share times :func:`anchor_factor`
    times ``(unemployment_relative * year_factor) ** unemployment_elasticity``, with
    ``unemployment_relative`` the place's modelled unemployment rate (16+, mean of
    2019-2023) over England's and ``year_factor`` England's rate in the month's year over
    2022 (:func:`year_factors`); NEET shares are at most 1, students' at most the share
    without a job.

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
    yw = scenario.world.young_people
    elasticity = yw.unemployment_elasticity.value
    scale = anchor_factor(scenario) * (year_factors(dates)[:, None] * np.asarray(unemployment_relative)[None, :]) ** elasticity
    employed_from = int(round((1.0 - yw.student_employed_share.value) * RANK_LEVELS))
    neet = np.minimum(yw.neet_seeking_work_share.value * scale, 1.0)
    student = np.minimum(yw.student_seeking_work_share.value * scale, employed_from / RANK_LEVELS)
    return JobSeeking(
        neet_limit=np.rint(neet * RANK_LEVELS).astype(np.uint16),
        student_limit=np.rint(student * RANK_LEVELS).astype(np.uint16),
        student_employed_from=employed_from,
    )
