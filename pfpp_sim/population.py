"""Residents as numpy struct-of-arrays across all places, and how they are built.

Residents are sorted by place, so place ``p`` owns the slice
``households.slices[p]`` of every household column (likewise for young people).
Each place's starting LILEE fuel-poverty rate and NEET 16-17 rate are reproduced
exactly (to one simulated resident) by construction: a per-place income level is
solved so that the observed share of households is fuel poor at the prices, payments and
income the rate stands for (:func:`~pfpp_sim.starting.solved_at`: its data year's mean
for a run starting in or before that year, else the start month's).
A run that starts before the first NEET data period starts from the first observed
rate carried back by the place's fitted NEET trend (the scenario's calibration). A run
that starts after a series' latest data starts from its latest published rate carried
forward by the place's fitted trend, damped beyond the data as in the run
(:func:`years_after_data`; nothing is carried when the trends are held, the default).
18-24 year olds not NEET are in work with the chance that rises with age in the steady
state of leaving education (:func:`employed_by_age`), and each young person draws a
job-search rank (:mod:`pfpp_sim.labour_market`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
from scipy import optimize, stats

from pfpp_sim import data
from pfpp_sim.errors import DataError
from pfpp_sim.scenario import Calibration, RunSettings, Scenario
from pfpp_sim.speed import DRAW_AHEAD_HOUSEHOLDS, submit, thread_pool
from pfpp_sim.trends import data_centre, months_between, years_beyond_data

__all__ = [
    "BAND_C",
    "BAND_D",
    "EDUCATION",
    "EMPLOYED",
    "ILO_EMPLOYED",
    "ILO_INACTIVE",
    "ILO_UNEMPLOYED",
    "MONTHS_18_TO_24",
    "NEET",
    "RANK_LEVELS",
    "TENURES",
    "Block",
    "Households",
    "PlaceTable",
    "Population",
    "YoungPeople",
    "build_population",
    "employed_by_age",
    "fuel_poverty_target_year",
    "leaving_education_hazard",
    "neet_18_24_share",
    "neet_target_period",
    "place_blocks",
    "place_sizes",
    "school_group",
    "since_september",
    "slice_sizes",
    "solve_income_level",
    "young_people_homes",
    "years_after_data",
]

BAND_C = 2
BAND_D = 3
TENURES = ("owner", "social_rent", "private_rent")
EDUCATION, EMPLOYED, NEET = 0, 1, 2
ILO_EMPLOYED, ILO_UNEMPLOYED, ILO_INACTIVE = 0, 1, 2
"""A young person's ILO labour-market status (:func:`~pfpp_sim.dynamics.ilo_status`)."""
MONTHS_18_TO_24 = 7 * 12
RANK_LEVELS = (1 << 16) - 1
"""Values a job-search rank takes, 0 to ``RANK_LEVELS - 1`` (uint16): a limit of ``L``
selects the share ``L / RANK_LEVELS``, and ``RANK_LEVELS`` itself is a limit no rank reaches."""
AGE_16, AGE_17, AGE_18, AGE_25 = 16 * 12, 17 * 12, 18 * 12, 25 * 12
YEAR_11, YEARS_12_13, AFTER_SCHOOL = 0, 1, 2
"""A young person's school group by DfE academic age (:func:`school_group`)."""


@dataclass
class PlaceTable:
    """Per-place facts, one entry per place in run order."""

    codes: list[str]
    names: list[str]
    real_households: np.ndarray  # float64, (P,)
    real_young_people: np.ndarray  # float64, (P,)
    household_weight: np.ndarray  # float64, (P,), real households per simulated one
    youth_weight: np.ndarray  # float64, (P,), real young people per simulated one
    income_level: np.ndarray  # float64, (P,), fitted income multiplier
    target_fuel_poverty: np.ndarray  # float64, (P,), observed LILEE rate
    target_neet_16_17: np.ndarray  # float64, (P,), NEET 16-17 rate at the start (observed; see build_population)
    neet_18_24: np.ndarray  # float64, (P,), starting 18-24 NEET share
    income_trend: np.ndarray  # float64, (P,), fitted log points/year (0 without a calibration)
    neet_trend: np.ndarray  # float64, (P,), fitted log points/year (0 without a calibration)
    unemployment_relative: np.ndarray  # float64, (P,), modelled unemployment rate (16+) over England's (data.places)

    @property
    def n(self) -> int:
        return len(self.codes)


@dataclass
class Households:
    """Household columns, each shape (n_households,)."""

    place: np.ndarray  # int16
    tenure: np.ndarray  # uint8, index into TENURES
    base_income: np.ndarray  # float64 GBP/year, equivalised after housing costs
    income_dev: np.ndarray  # float32, log deviation (AR(1))
    income_gain_until: np.ndarray  # int32 month index (exclusive) to which the income-advice gain lasts
    band: np.ndarray  # uint8, 0 = A ... 6 = G
    means_tested: np.ndarray  # bool, receives means-tested cost-of-living payments
    bill_support: np.ndarray  # float64 GBP/year while active
    bill_support_until: np.ndarray  # int32 month index (exclusive)
    fuel_poor: np.ndarray  # bool
    months_cold: np.ndarray  # int32
    slices: list[slice] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.place)


@dataclass
class YoungPeople:
    """Young people aged 16-24, each column shape (n_young,)."""

    place: np.ndarray  # int16
    household: np.ndarray  # int32 index into households
    age_months: np.ndarray  # int16
    status: np.ndarray  # uint8: EDUCATION, EMPLOYED, NEET
    months_neet: np.ndarray  # int16
    mh_disorder: np.ndarray  # bool
    careers_until: np.ndarray  # int32 month index (exclusive)
    ips_until: np.ndarray  # int32
    asb_until: np.ndarray  # int32
    job_search_rank: np.ndarray  # uint16, drawn once: below the place's limit, seeks work when not in work (labour_market)
    ilo_status: np.ndarray  # uint8: ILO_EMPLOYED, ILO_UNEMPLOYED, ILO_INACTIVE (set by the model each month)
    slices: list[slice] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.place)


@dataclass
class Population:
    """All residents of a run, across places."""

    places: PlaceTable
    households: Households
    young: YoungPeople


def slice_sizes(slices: list[slice]) -> np.ndarray:
    """Residents in each place's slice (:attr:`Households.slices`, :attr:`YoungPeople.slices`), ndarray of int64."""
    return np.array([s.stop - s.start for s in slices], dtype=np.int64)


def since_september(month: np.ndarray | int) -> np.ndarray | int:
    """Whole months from the last 1 September to the first day of a calendar month (1-12).

    September gives 0, August 11: a young person's age on the last 1 September (their
    DfE academic age) is their age in months less this.
    """
    return (np.asarray(month) - 9) % 12 if np.ndim(month) else (int(month) - 9) % 12


def school_group(age_months: np.ndarray, months_since_september: int) -> np.ndarray:
    """Each young person's school group by DfE academic age (age on the last 31 August).

    ``YEAR_11``: academic age 15, in compulsory school (16 already, but their Year 12
    starts next September); ``YEARS_12_13``: academic age 16 or 17, the cohort of the
    DfE NEET 16-17 statistic (which so counts some 18-year-olds and not the youngest
    16-year-olds); ``AFTER_SCHOOL``: academic age 18 or more.

    Parameters
    ----------
    age_months : ndarray of int16, shape (n,)
        Ages on the first day of a month.
    months_since_september : int
        :func:`since_september` of that month.

    Returns
    -------
    ndarray of uint8, shape (n,)
    """
    academic = age_months - np.int16(months_since_september)
    return (academic >= AGE_16).view(np.uint8) + (academic >= AGE_18).view(np.uint8)


@dataclass(frozen=True)
class Block:
    """Consecutive whole places whose residents are stepped together.

    Young people link only to households of their own place, so a block's young people
    and households can be updated without looking outside the block.

    Attributes
    ----------
    places : slice
        The block's places, in run order.
    households, young : slice
        The block's households and young people (rows of every column).
    household_slices, young_slices : list of slice
        Each place's rows relative to the block's first row.
    household_sizes, young_sizes : ndarray of int64, shape (n_block_places,)
        Households and young people of each place (for ``np.repeat`` of per-place values).
    """

    places: slice
    households: slice
    young: slice
    household_slices: list[slice]
    young_slices: list[slice]
    household_sizes: np.ndarray
    young_sizes: np.ndarray


def place_blocks(pop: Population, households_per_block: int) -> list[Block]:
    """Split the places into blocks of consecutive places with about ``households_per_block`` households.

    A place is never split; a place larger than ``households_per_block`` is a block on its own.

    Parameters
    ----------
    pop : Population
    households_per_block : int
        Households at which a block is closed (at least 1).

    Returns
    -------
    list of Block
        Covering every place once, in run order.
    """
    h_slices, y_slices = pop.households.slices, pop.young.slices
    blocks, first = [], 0
    for p in range(len(h_slices)):
        last = p + 1 == len(h_slices)
        if not last and h_slices[p].stop - h_slices[first].start < households_per_block:
            continue
        hs = slice(h_slices[first].start, h_slices[p].stop)
        ys = slice(y_slices[first].start, y_slices[p].stop)
        blocks.append(
            Block(
                places=slice(first, p + 1),
                households=hs,
                young=ys,
                household_slices=[slice(s.start - hs.start, s.stop - hs.start) for s in h_slices[first : p + 1]],
                young_slices=[slice(s.start - ys.start, s.stop - ys.start) for s in y_slices[first : p + 1]],
                household_sizes=slice_sizes(h_slices[first : p + 1]),
                young_sizes=slice_sizes(y_slices[first : p + 1]),
            )
        )
        first = p + 1
    return blocks


def young_people_homes(
    neet: np.ndarray,
    tenure: np.ndarray,
    income: np.ndarray,
    draw: np.ndarray,
    *,
    tenure_weight: np.ndarray,
    neet_gradient: float,
) -> np.ndarray:
    """Place one place's young people in its households, by tenure and household income.

    A household's weight is its tenure's ``tenure_weight``; for a NEET young person it is
    also ``exp(-neet_gradient * r)``, with ``r`` the household's income rank in the place
    (0 = lowest, towards 1 = highest), so NEET young people live in lower-income homes,
    as young people from disadvantaged families are more often NEET (EVIDENCE E88). Each
    person's home is found from one uniform number by inverse weighted sampling, so changing
    a weight moves homes without re-drawing anything else (common random numbers).

    Parameters
    ----------
    neet : ndarray of bool, shape (n_young,)
    tenure : ndarray of uint8, shape (n_households,)
    income : ndarray of float64, shape (n_households,)
        Household income (any scale: only ranks are used).
    draw : ndarray of float64, shape (n_young,)
        One uniform number in [0, 1) per young person.
    tenure_weight : ndarray of float64, shape (3,)
        Relative weight of owner, social-rent and private-rent households.
    neet_gradient : float
        Log-weight fall from the lowest- to the highest-income household, for NEET young people.

    Returns
    -------
    ndarray of int64, shape (n_young,)
        Each young person's household, an index into the place's households.
    """
    n = income.size
    rank = np.empty(n)
    rank[_income_order(income)] = np.arange(n) / max(n, 1)
    base = tenure_weight[tenure]
    home = np.empty(draw.size, dtype=np.int64)
    for group, weight in ((~neet, base), (neet, base * np.exp(-neet_gradient * rank))):
        cumulative = np.cumsum(weight)
        home[group] = _search_sorted(cumulative, draw[group] * cumulative[-1])
    return np.minimum(home, n - 1)


def _income_order(income: np.ndarray) -> np.ndarray:
    """Households from the lowest income to the highest, tied incomes in household order.

    A quicksort (several times faster than a stable sort) gives that order whenever no two
    incomes are equal, which one comparison of neighbours checks; a stable sort otherwise.
    """
    order = np.argsort(income)
    ranked = income[order]
    return np.argsort(income, kind="stable") if np.any(ranked[1:] == ranked[:-1]) else order


def _search_sorted(edges: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``np.searchsorted(edges, keys, side="right")``, searched in ascending order of ``keys``.

    Each search then starts from the last one's answer, which keeps the edges in cache
    (about 2.5 times faster for a place's young people). Equal keys get equal answers, so
    the order of ties does not matter.
    """
    order = np.argsort(keys)
    found = np.empty(keys.size, dtype=np.intp)
    found[order] = np.searchsorted(edges, keys[order], side="right")
    return found


def employed_by_age(months_past_18: np.ndarray, hazard: float) -> np.ndarray:
    """Share in work of young people not NEET, by months since their 18th birthday.

    Everyone not NEET is in education at 18 (16-17 year olds work only through
    education or training); each month from 18 a student leaves education for work with
    probability ``hazard``: ``1 - (1 - hazard) ** months``.

    Parameters
    ----------
    months_past_18 : ndarray of int, shape (n,)
    hazard : float
        Monthly probability, in [0, 1].

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


def neet_18_24_share(neet_16_24_rate: float, neet_16_17: np.ndarray, england_neet_16_17: float) -> np.ndarray:
    """Starting NEET share of a place's 18-24 year olds: the national 16-24 rate scaled by its 16-17 rate.

    assumption:neet_18_24_relative; at most 0.6.

    Parameters
    ----------
    neet_16_24_rate : float
        ``world.young_people.neet_16_24_rate`` (E44).
    neet_16_17 : ndarray of float64
        The places' NEET 16-17 rates.
    england_neet_16_17 : float
        England's NEET 16-17 rate in the same period.

    Returns
    -------
    ndarray of float64, the shape of ``neet_16_17``
    """
    return np.clip(neet_16_24_rate * np.asarray(neet_16_17, dtype=np.float64) / england_neet_16_17, 0.0, 0.6)


def fuel_poverty_target_year(start_year: int) -> int:
    """LILEE data year matched to a start year (2019-2021 available; LIHC is not mixed in)."""
    return int(min(max(start_year, 2019), 2021))


def neet_target_period(start_year: int) -> int:
    """DfE time period (Dec-Feb average) matched to a start year (2021-2024 available)."""
    return int(min(max(start_year, 2021), 2024))


def years_after_data(metric: str, year: int, start: str, calibration: Calibration | None, damping: float) -> float:
    """Years of a place's fitted trend between where a published rate stands and a later start.

    A run that starts after a series' latest data starts from that rate moved by the
    trend over the months between, as the run itself moves it beyond the data: damped
    by ``damping`` a year from the trend's data end (:func:`~pfpp_sim.trends.years_beyond_data`).
    So the place starts where the trend would have taken it, and held trends (damping 0,
    the default) start it at the published rate. A start within or before the data year
    carries nothing forward.

    Parameters
    ----------
    metric : str
        ``"fuel_poverty_rate"`` or ``"neet_16_17_rate"``.
    year : int
        The rate's LILEE data year or DfE time period.
    start : str
        The run's first month, YYYY-MM.
    calibration : Calibration or None
        The scenario's fit (its ``trend_end``); None: no trends, nothing carried.
    damping : float
        ``world.trend_damping``, in [0, 1].

    Returns
    -------
    float
        Years of trend, at least 0; multiply by a place's trend (log points a year).
    """
    end = calibration.trend_end(metric) if calibration else None
    rate_at = data_centre(metric, year)  # a published rate is a mean over its year: it stands at the centre
    return float(years_beyond_data(rate_at, end, max(months_between(rate_at, start), 0), damping)[-1])


def _lookup(frame: pd.DataFrame, codes: list[str], column: str, what: str) -> np.ndarray:
    table = frame.set_index("area_code")[column]
    missing = [c for c in codes if c not in table.index or pd.isna(table.get(c))]
    if missing:
        raise DataError(f"no {what} for place {missing[0]} in the vendored data (pfpp_sim/data/tables)")
    return table.loc[codes].to_numpy(dtype=np.float64)


def solve_income_level(adjusted_income: np.ndarray, threshold: np.ndarray, eligible: np.ndarray, n_target: int) -> float:
    """Income multiplier m such that exactly ``n_target`` eligible households are fuel poor.

    A household is fuel poor when ``m * adjusted_income < threshold`` and it is eligible
    (band D-G). ``m`` is put half-way between the ``n_target``-th largest of the ratios
    ``threshold / adjusted_income`` and the next (found by a partition, not a sort).

    Parameters
    ----------
    adjusted_income : ndarray of float64, shape (n,)
        The part of each household's income the multiplier scales, GBP/year (positive).
    threshold : ndarray of float64, shape (n,)
        The value that part must reach for the household not to be fuel poor, GBP/year.
    eligible : ndarray of bool, shape (n,)
        Homes in bands D-G.
    n_target : int

    Returns
    -------
    float

    Raises
    ------
    DataError
        If fewer than ``n_target`` homes are in bands D-G.
    """
    ratio = threshold[eligible] / adjusted_income[eligible]
    n = ratio.size
    if n_target > n:
        raise DataError(
            f"cannot reach the observed fuel-poverty rate: {n_target} fuel-poor households needed "
            f"but only {n} simulated homes are in bands D-G"
        )
    if n == 0:
        return 1.0
    if n_target == 0:
        return float(ratio.max() * 1.01)
    if n_target == n:
        upper = ratio.min()
        return float(0.5 * (upper + upper * 0.5))
    ascending = np.partition(ratio, (n - n_target - 1, n - n_target))  # the n_target-th largest and the next in place
    upper, lower = ascending[n - n_target], ascending[n - n_target - 1]
    return float(0.5 * (upper + lower))


def _settling_threads(n_households: np.ndarray) -> int:
    """Threads :func:`build_population` settles places in by default: two for a large population, else none (1)."""
    return 2 if int(n_households.sum()) >= DRAW_AHEAD_HOUSEHOLDS else 1


def _real_young_people(table: pd.DataFrame) -> np.ndarray:
    """Real young people (16-24) of each place of a :func:`~pfpp_sim.data.places` table."""
    return table["age_16_17"].to_numpy(dtype=np.float64) + table["age_18_24"].to_numpy(dtype=np.float64)


def place_sizes(run: RunSettings, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Simulated households and young people of each place: real ones times the scale, at least the minimum sample and 1.

    Parameters
    ----------
    run : RunSettings
        Its scale and minimum samples.
    table : DataFrame
        The run's places (:func:`~pfpp_sim.data.places`).

    Returns
    -------
    n_households, n_young : ndarray of int64, shape (n_places,)
    """
    n_h = np.maximum(np.rint(table["households"].to_numpy(dtype=np.float64) * run.scale), run.min_households_per_place)
    n_y = np.maximum(np.rint(_real_young_people(table) * run.scale), run.min_young_people_per_place)
    return np.maximum(n_h.astype(np.int64), 1), np.maximum(n_y.astype(np.int64), 1)


def build_population(
    scenario: Scenario,
    rng: np.random.Generator,
    *,
    fuel_price_gbp: float,
    mh_prevalence: float,
    bill_discount_gbp: float = 0.0,
    means_tested_gbp: float = 0.0,
    income_index: float = 1.0,
    threads: int | None = None,
) -> Population:
    """Build the synthetic residents of every place in a scenario.

    Parameters
    ----------
    scenario : Scenario
        Supplies places, scale and the world parameters.
    rng : numpy.random.Generator
        The ``population`` stream.
    fuel_price_gbp : float
        Price paid by a typical (band D) household, GBP/year, that the income levels are
        solved at (:func:`~pfpp_sim.starting.solved_at`: the data year's mean, or the start
        month's).
    mh_prevalence : float
        Probable-disorder prevalence of young people at the start, fraction.
    bill_discount_gbp : float, default=0.0
        Universal bill support received in the last 12 months, GBP, solved at as the price is.
    means_tested_gbp : float, default=0.0
        Cost-of-living payments received by means-tested households in the last 12
        months, GBP, solved at as the price is.
    income_index : float, default=1.0
        National median income, solved at as the price is, relative to FYE 2020
        (:attr:`~pfpp_sim.exogenous.Exogenous.income_index`). Base incomes are built in
        FYE 2020 terms (around ``median_income``) and are nominal times this index, as
        the poverty line is.
    threads : int, optional
        Threads that work out each place's homes and income level from its numbers
        while the next places' are drawn: by default two from
        :data:`~pfpp_sim.speed.DRAW_AHEAD_HOUSEHOLDS` households, else none (1). The
        residents do not depend on it.

    Returns
    -------
    Population

    Raises
    ------
    DataError
        If a place lacks the data needed to build it.
    """
    run = scenario.run
    hw = scenario.world.households
    yw = scenario.world.young_people
    table = data.places(run.places)
    codes = table["area_code"].tolist()
    fp_year = fuel_poverty_target_year(run.start_year)
    fp = data.fuel_poverty("LILEE")
    fp = fp[fp["data_year"] == fp_year]
    target_fp = _lookup(fp, codes, "rate", f"LILEE fuel poverty {fp_year}")
    neet = data.neet_16_17()
    period = neet_target_period(run.start_year)
    neet = neet[neet["time_period"] == period]
    target_neet = _lookup(neet, table["neet_area_code"].tolist(), "neet_rate", f"NEET 16-17 {period}")
    england_neet = float(neet.set_index("area_code").loc[data.ENGLAND, "neet_rate"])
    fits = [scenario.calibration.place(code) if scenario.calibration else None for code in codes]
    income_trend = np.array([f.income_trend if f else 0.0 for f in fits])
    neet_trend = np.array([f.neet_trend if f else 0.0 for f in fits])
    # Carried to the start by the place's trends: back over the years before the first NEET
    # period; forward, damped, over the months after a series' latest data.
    damping = scenario.world.trend_damping_per_year
    years_before_data = max(period - run.start_year - (run.start_month - 1) / 12.0, 0.0)
    neet_years_after = years_after_data("neet_16_17_rate", period, run.start, scenario.calibration, damping)
    target_neet = np.clip(target_neet * np.exp(neet_trend * (neet_years_after - years_before_data)), 0.0, 1.0)
    fp_years_after = years_after_data("fuel_poverty_rate", fp_year, run.start, scenario.calibration, damping)
    income_carried = np.exp(income_trend * fp_years_after)

    real_h = table["households"].to_numpy(dtype=np.float64)
    real_1617 = table["age_16_17"].to_numpy(dtype=np.float64)
    real_y = _real_young_people(table)
    n_h, n_y = place_sizes(run, table)

    band_cost = np.asarray(hw.band_cost.as_list())
    home_tenure_weight = np.array([1.0, yw.social_rent_home_weight.value, yw.private_rent_home_weight.value])
    tenure_income = np.array([1.0, hw.social_rent_income.value, hw.private_rent_income.value])
    poverty_line = hw.poverty_line_share.value * hw.median_income.value * income_index
    persistence = hw.income_persistence.value
    dev_sd = hw.income_shock_sd.value / np.sqrt(max(1.0 - persistence**2, 1e-9))
    earnings = yw.youth_earnings.value * income_index
    leave_education = leaving_education_hazard(yw.employed_share_of_eet.value)

    # Means-tested households: the lowest incomes nationally (before each place's level).
    means_cut = hw.median_income.value * np.exp(hw.income_spread.value * stats.norm.ppf(hw.means_tested_share.value))
    h_cols: dict[str, list[np.ndarray]] = {k: [] for k in ("place", "tenure", "base", "dev", "band", "means")}
    y_cols: dict[str, list[np.ndarray]] = {k: [] for k in ("place", "household", "age", "status", "months", "mh")}
    income_level = np.empty(len(codes))
    neet_1824 = np.empty(len(codes))
    h_offset = 0
    tenure_shares = table[["share_owner", "share_social_rent", "share_private_rent"]].to_numpy(dtype=np.float64)

    def settle(p, tenure, band, raw, dev, status, home_draw, means, first_household):
        """Place ``p``'s young people's homes (rows of all households), its base incomes and its income level, from its drawn numbers."""
        nh = tenure.size
        household = young_people_homes(
            status == NEET, tenure, raw, home_draw, tenure_weight=home_tenure_weight, neet_gradient=yw.neet_home_income_gradient.value,
        )
        # Solve the income level that reproduces the observed fuel-poverty rate, with the
        # same income and cost terms the model's fuel-poverty update uses, at the price,
        # payments and income index given.
        # Each simulated young person stands for (real young / simulated young) people and each
        # household for (real households / simulated households): weight their earnings so a
        # household gets the real number of employed young people per household.
        link = (real_y[p] / status.size) / (real_h[p] / nh) if real_h[p] > 0 else 1.0
        youth_income = earnings * link * np.bincount(household[status == EMPLOYED], minlength=nh)
        cost = np.maximum(fuel_price_gbp * band_cost[band] - bill_discount_gbp, 0.0)
        threshold = poverty_line + cost - youth_income - np.where(means, means_tested_gbp, 0.0)
        adjusted = raw * np.exp(dev) * income_index
        n_target = int(np.rint(target_fp[p] * nh))
        # Reproduces the published rate at the start, then moved by the trend since its data year.
        level = solve_income_level(adjusted, threshold, band >= BAND_D, n_target) * income_carried[p]
        return (household + first_household).astype(np.int32), raw * level, level

    # Each place's numbers are drawn in turn from the one stream; what follows from them
    # (homes, income level) is worked out beside the drawing of the next places.
    settled = []  # each place's homes, base incomes and income level, in place order
    with thread_pool(_settling_threads(n_h) if threads is None else threads) as pool:
        for p, code in enumerate(codes):
            nh, ny = int(n_h[p]), int(n_y[p])
            shares = tenure_shares[p]
            tenure = rng.choice(3, size=nh, p=shares / shares.sum()).astype(np.uint8)
            bands = data.energy_efficiency_bands(code).shares
            band = rng.choice(7, size=nh, p=bands / bands.sum()).astype(np.uint8)
            raw = hw.median_income.value * tenure_income[tenure] * np.exp(hw.income_spread.value * rng.standard_normal(nh))
            dev = (dev_sd * rng.standard_normal(nh)).astype(np.float32)

            # Young people of this place, linked to its households.
            n1617 = int(np.rint(ny * real_1617[p] / real_y[p])) if real_y[p] > 0 else 0
            age = np.concatenate(
                [rng.integers(AGE_16, AGE_18, size=n1617), rng.integers(AGE_18, AGE_25, size=ny - n1617)]
            ).astype(np.int16)
            status = np.full(ny, EDUCATION, dtype=np.uint8)
            # Year 11 stays in school; of Years 12-13 (the DfE cohort, some already 18) the
            # k_neet with the lowest draws are NEET: one draw per person whatever the rate
            # (common random numbers).
            group = school_group(age, since_september(run.start_month))
            cohort = np.flatnonzero(group == YEARS_12_13)
            k_neet = int(np.rint(target_neet[p] * cohort.size))
            status[cohort[np.argsort(rng.random(ny)[cohort], kind="stable")[:k_neet]]] = NEET
            share_1824 = float(neet_18_24_share(yw.neet_16_24_rate.value, target_neet[p], england_neet))
            neet_1824[p] = share_1824
            older = np.flatnonzero(group == AFTER_SCHOOL)
            k_old = int(np.rint(share_1824 * older.size))
            status[rng.permutation(older)[:k_old]] = NEET
            # Those of 18 or more not NEET (Year 13 pupils who have turned 18 among them) are in
            # work with the steady-state chance for their age: one draw per person whatever the chance.
            rest = np.flatnonzero((age >= AGE_18) & (status != NEET))
            in_work = employed_by_age(age[rest] - AGE_18, leave_education)
            status[rest[rng.random(ny)[rest] < in_work]] = EMPLOYED
            # Months already NEET: geometric with the exit hazard (at least 1e-6, so a zero hazard
            # gives long spells), capped at three years (assumption:neet_duration_caps).
            spell = rng.geometric(max(yw.neet_exit_hazard.value, 1e-6), size=ny)
            months = np.where(status == NEET, np.minimum(spell - 1, 36), 0)
            home_draw = rng.random(ny)
            mh = rng.random(ny) < mh_prevalence
            means = raw <= means_cut
            job = partial(settle, p, tenure, band, raw, dev, status, home_draw, means, h_offset)
            settled.append(submit(pool, job))

            h_cols["place"].append(np.full(nh, p, dtype=np.int16))
            h_cols["tenure"].append(tenure)
            h_cols["dev"].append(dev)
            h_cols["band"].append(band)
            h_cols["means"].append(means)
            y_cols["place"].append(np.full(ny, p, dtype=np.int16))
            y_cols["age"].append(age)
            y_cols["status"].append(status)
            y_cols["months"].append(months.astype(np.int16))
            y_cols["mh"].append(mh)
            h_offset += nh
    for p, done in enumerate(settled):
        household, base, income_level[p] = done.result()
        y_cols["household"].append(household)
        h_cols["base"].append(base)

    def cat(cols, key):
        return np.concatenate(cols[key])

    base = cat(h_cols, "base")
    n_total = base.size
    h_bounds = np.concatenate([[0], np.cumsum(n_h)])
    y_bounds = np.concatenate([[0], np.cumsum(n_y)])
    households = Households(
        place=cat(h_cols, "place"),
        tenure=cat(h_cols, "tenure"),
        base_income=base,
        income_dev=cat(h_cols, "dev"),
        income_gain_until=np.zeros(n_total, dtype=np.int32),
        band=cat(h_cols, "band"),
        means_tested=cat(h_cols, "means"),
        bill_support=np.zeros(n_total),
        bill_support_until=np.zeros(n_total, dtype=np.int32),
        fuel_poor=np.zeros(n_total, dtype=bool),
        months_cold=np.zeros(n_total, dtype=np.int32),
        slices=[slice(int(a), int(b)) for a, b in zip(h_bounds[:-1], h_bounds[1:])],
    )
    n_young = int(y_bounds[-1])
    # Drawn after everything else, so no other resident's numbers move (common random numbers).
    job_search_rank = rng.integers(0, RANK_LEVELS, size=n_young, dtype=np.uint16)
    young = YoungPeople(
        place=cat(y_cols, "place"),
        household=cat(y_cols, "household"),
        age_months=cat(y_cols, "age"),
        status=cat(y_cols, "status"),
        months_neet=cat(y_cols, "months"),
        mh_disorder=cat(y_cols, "mh"),
        careers_until=np.zeros(n_young, dtype=np.int32),
        ips_until=np.zeros(n_young, dtype=np.int32),
        asb_until=np.zeros(n_young, dtype=np.int32),
        job_search_rank=job_search_rank,
        ilo_status=np.full(n_young, ILO_INACTIVE, dtype=np.uint8),
        slices=[slice(int(a), int(b)) for a, b in zip(y_bounds[:-1], y_bounds[1:])],
    )
    places = PlaceTable(
        codes=codes,
        names=table["area_name"].tolist(),
        real_households=real_h,
        real_young_people=real_y,
        household_weight=real_h / n_h,
        youth_weight=real_y / n_y,
        income_level=income_level,
        target_fuel_poverty=target_fp,
        target_neet_16_17=target_neet,
        neet_18_24=neet_1824,
        income_trend=income_trend,
        neet_trend=neet_trend,
        unemployment_relative=table["unemployment_relative"].to_numpy(dtype=np.float64),
    )
    return Population(places=places, households=households, young=young)
