"""Monthly resident rules: pure, vectorised functions over population columns.

Each rule takes columns (shape ``(n,)``), parameters and, if stochastic, a
``Generator``, and returns new arrays. They are the plain statement of the rules: the
residents' engine sets its residents up with some of them, and steps them month by month
with :mod:`pfpp_sim.compiled`, loops that make the same operations in one pass and that
``tests/test_compiled.py`` checks against these functions to the bit.
"""

from __future__ import annotations

import numpy as np

from pfpp_sim.population import (
    AGE_16,
    AGE_17,
    AGE_18,
    AGE_25,
    BAND_D,
    EDUCATION,
    EMPLOYED,
    ILO_EMPLOYED,
    ILO_INACTIVE,
    ILO_UNEMPLOYED,
    NEET,
)

__all__ = [
    "age_and_replace",
    "fuel_cost",
    "fuel_poor",
    "fuel_poor_by_band",
    "household_income",
    "ilo_status",
    "income_shock",
    "mental_health_transition",
    "neet_entry_hazard",
    "neet_exit_hazard",
    "neet_exit_tables",
    "neet_exits_looked_up",
    "onset_in_home",
    "september_entry",
    "youth_transition",
]


def income_shock(dev: np.ndarray, persistence: float, shock_sd: float, rng: np.random.Generator) -> np.ndarray:
    """Advance log-income deviations one month: AR(1) around zero.

    Parameters
    ----------
    dev : ndarray of float32 or float64, shape (n_households,)
    persistence : float
        AR(1) coefficient per month.
    shock_sd : float
        Standard deviation of the monthly shock (log points).
    rng : numpy.random.Generator or DrawnAhead
        The ``households`` stream (one number per household), or the numbers drawn ahead.

    Returns
    -------
    ndarray of the dtype of ``dev``, shape (n_households,)
    """
    return persistence * dev + shock_sd * rng.standard_normal(dev.size, dtype=dev.dtype)


def household_income(
    base_income: np.ndarray,
    income_dev: np.ndarray,
    income_gain: np.ndarray,
    employed_youth: np.ndarray,
    youth_earnings_gbp: float,
    support_gbp: np.ndarray,
    *,
    income_index: float = 1.0,
) -> np.ndarray:
    """Equivalised household income after housing costs, GBP/year.

    Base incomes are kept relative to the national median of FYE 2020; ``income_index``
    (the national median of the month's financial year relative to FYE 2020) makes them
    nominal, so they move with the relative poverty line. Gains, earnings and payments
    are given in nominal GBP.

    Parameters
    ----------
    base_income : ndarray of float64, shape (n_households,)
        GBP/year of FYE 2020 median income.
    income_gain : ndarray of float64, shape (n_households,), or float
        Income-advice gain, GBP/year.
    income_dev : ndarray of float32 or float64, shape (n_households,)
        Log deviation of income.
    employed_youth : ndarray of float, shape (n_households,)
        Number of employed young people in each household.
    youth_earnings_gbp : float
        Equivalised addition per employed young person, GBP/year.
    support_gbp : ndarray of float64, shape (n_households,), or float
        Cost-of-living payments received in the last 12 months, GBP.
    income_index : float, default=1.0
        National median income relative to FYE 2020.
    """
    income = base_income * np.exp(income_dev)
    if income_index != 1.0:
        income *= income_index
    if np.ndim(income_gain) or income_gain:
        income += income_gain
    income += youth_earnings_gbp * employed_youth
    if np.ndim(support_gbp) or support_gbp:  # adding 0.0 changes no (positive) income
        income += support_gbp
    return income


def fuel_cost(band: np.ndarray, price_gbp: float, band_cost: np.ndarray, discount_gbp: np.ndarray) -> np.ndarray:
    """Required fuel cost, GBP/year: typical (band D) price times the band's ratio, less support.

    Parameters
    ----------
    band : ndarray of uint8, shape (n_households,)
        FPEER band, 0 = A ... 6 = G.
    price_gbp : float
        Price paid by a typical household this month, GBP/year.
    band_cost : ndarray of float64, shape (7,)
        Cost of each band relative to band D.
    discount_gbp : ndarray of float64, shape (n_households,), or float
        Bill support received, GBP/year.
    """
    if np.ndim(discount_gbp) == 0:  # one discount for all: cost of each band, then look it up
        return np.maximum(price_gbp * band_cost - discount_gbp, 0.0)[band]
    cost = (price_gbp * band_cost)[band]
    cost -= discount_gbp
    return np.maximum(cost, 0.0, out=cost)


def fuel_poor(band: np.ndarray, income_gbp: np.ndarray, fuel_cost_gbp: np.ndarray, poverty_line_gbp: float) -> np.ndarray:
    """Flag households that are fuel poor under LILEE (EVIDENCE E20).

    Band D-G and income after housing and required fuel costs below the poverty line.

    Returns
    -------
    ndarray of bool, shape (n_households,)
    """
    return (band >= BAND_D) & (income_gbp - fuel_cost_gbp < poverty_line_gbp)


def fuel_poor_by_band(band: np.ndarray, income_gbp: np.ndarray, band_cost_gbp: np.ndarray, poverty_line_gbp: float) -> np.ndarray:
    """:func:`fuel_poor` when every household of a band has the same fuel cost: the same flags in fewer passes.

    Bands A-C are given a cost of minus infinity, so their income after fuel costs is
    infinite and never below the line; each household then takes one lookup and one
    comparison.

    Parameters
    ----------
    band : ndarray of uint8, shape (n_households,)
    income_gbp : ndarray of float64, shape (n_households,)
    band_cost_gbp : ndarray of float64, shape (7,)
        Required fuel cost of each band, GBP/year (:func:`fuel_cost` of each band).
    poverty_line_gbp : float

    Returns
    -------
    ndarray of bool, shape (n_households,)
    """
    cost = np.where(np.arange(band_cost_gbp.size) >= BAND_D, band_cost_gbp, -np.inf).take(band)
    return np.subtract(income_gbp, cost, out=cost) < poverty_line_gbp


def neet_exit_hazard(
    months_neet: np.ndarray,
    mh_disorder: np.ndarray,
    ips_active: np.ndarray,
    age_months: np.ndarray,
    *,
    base: float,
    scarring: float,
    mh_multiplier: float,
    work_share: float,
    ips_risk_ratio_disorder: float,
    ips_risk_ratio_other: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Monthly probabilities that a NEET young person moves into work, and into education.

    The hazard of leaving falls by ``scarring`` per year already NEET (duration
    dependence) and a probable mental disorder multiplies it by ``mh_multiplier``. Of
    those aged 18 or more, a share ``work_share`` leave into work, the rest into
    education; 16-17 year olds leave into education only. Employment support multiplies
    the exits into work only: by ``ips_risk_ratio_disorder`` for a young person with a
    probable mental disorder (EVIDENCE E41: trials of Individual Placement and Support with
    people with severe mental illness, on employment), by ``ips_risk_ratio_other`` for the
    others (an assumption); exits into education are unchanged.

    :func:`neet_exits_looked_up` in :func:`neet_exit_tables` of the parameters.

    Parameters
    ----------
    months_neet : ndarray of int16, shape (n,)
    mh_disorder, ips_active : ndarray of bool, shape (n,)
    age_months : ndarray of int16, shape (n,)

    Returns
    -------
    to_work, to_education : ndarray of float64, shape (n,)
        Probabilities; their sum is at most 1.
    """
    tables = neet_exit_tables(
        base=base, scarring=scarring, mh_multiplier=mh_multiplier, work_share=work_share,
        ips_risk_ratio_disorder=ips_risk_ratio_disorder, ips_risk_ratio_other=ips_risk_ratio_other,
    )
    return neet_exits_looked_up(months_neet, mh_disorder, ips_active, age_months, tables)


def neet_exit_tables(
    *,
    base: float,
    scarring: float,
    mh_multiplier: float,
    work_share: float,
    ips_risk_ratio_disorder: float,
    ips_risk_ratio_other: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The exit probabilities of :func:`neet_exit_hazard` for every combination of months NEET, disorder and support.

    Worked out once for a run's parameters, they give each month's exits by lookups
    alone (:func:`neet_exits_looked_up`). Parameters as in :func:`neet_exit_hazard`.

    Returns
    -------
    leave, to_education : ndarray of float64, shape (98,)
        The hazard of leaving NEET, and of leaving into education at 18 or more, at row
        ``2 * months + disorder`` (months NEET 0 to 48).
    to_work : ndarray of float64, shape (196,)
        The hazard of leaving into work at 18 or more, at row ``2 * (2 * months + disorder) + support``.
    """
    by_months = base * (1.0 - scarring) ** (np.arange(49) / 12.0)  # months_neet >= 0, capped at 48: assumption:neet_duration_caps
    leave = np.clip(by_months[:, None] * np.array([1.0, mh_multiplier]), 0.0, 1.0)  # (49, 2)
    education = leave * (1.0 - work_share)
    work = leave[:, :, None] * work_share * np.array([[1.0, ips_risk_ratio_other], [1.0, ips_risk_ratio_disorder]])
    work = np.minimum(work, (1.0 - education)[:, :, None])
    return leave.ravel(), education.ravel(), work.ravel()


def neet_exits_looked_up(
    months_neet: np.ndarray,
    mh_disorder: np.ndarray,
    ips_active: np.ndarray,
    age_months: np.ndarray,
    tables: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`neet_exit_hazard` of these young people from its tables (:func:`neet_exit_tables`).

    Parameters
    ----------
    months_neet : ndarray of int16, shape (n,)
    mh_disorder, ips_active : ndarray of bool, shape (n,)
    age_months : ndarray of int16, shape (n,)
    tables : tuple of ndarray of float64
        :func:`neet_exit_tables` of the parameters.

    Returns
    -------
    to_work, to_education : ndarray of float64, shape (n,)
    """
    leave, education, work = tables
    row = np.clip(months_neet, 0, 48).astype(np.intp)
    row *= 2
    row += np.asarray(mh_disorder, dtype=bool)
    older = age_months >= AGE_18
    to_education = np.where(older, education.take(row), leave.take(row))
    row *= 2
    row += np.asarray(ips_active, dtype=bool)
    to_work = np.where(older, work.take(row), 0.0)
    return to_work, to_education


def neet_entry_hazard(
    base_by_person: np.ndarray,
    careers_active: np.ndarray,
    asb_active: np.ndarray,
    *,
    careers_effect: float,
    asb_effect: float,
) -> np.ndarray:
    """Monthly probability that a young person in education or work becomes NEET."""
    return base_by_person * np.where(careers_active, 1.0 - careers_effect, 1.0) * np.where(asb_active, 1.0 - asb_effect, 1.0)


def youth_transition(
    status: np.ndarray,
    months_neet: np.ndarray,
    age_months: np.ndarray,
    exit_to_work: np.ndarray,
    exit_to_education: np.ndarray,
    entry_hazard: np.ndarray,
    rng: np.random.Generator,
    *,
    leave_education: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Move young people between education, employment and NEET for one month.

    One number ``u`` per person: a NEET young person goes into education when
    ``u < exit_to_education``, into work when ``u`` falls in the next ``exit_to_work``,
    and stays NEET otherwise; anyone else becomes NEET when ``u < entry_hazard``, and a
    student aged 18 or more who does not leaves education for work when
    ``u >= 1 - leave_education`` (the top of the interval, so a lever that moves NEET
    entry moves no one's leaving education). A change in the exits to work (employment
    support) moves no one's exit to education. ``rng`` is the ``young_people`` stream,
    or a :class:`~pfpp_sim.streams.DrawnAhead` holding the numbers drawn for these people.

    Parameters
    ----------
    status : ndarray of uint8, shape (n,)
    months_neet, age_months : ndarray of int16, shape (n,)
    exit_to_work, exit_to_education : ndarray of float64, shape (n_neet,)
        Exit probabilities of the NEET young people (``status == NEET``), in order
        (:func:`neet_exit_hazard` of them); no one else's are needed.
    entry_hazard : ndarray of float64, shape (n,)
        Probability of becoming NEET (used for those not NEET).
    leave_education : float
        Monthly probability that a student aged 18 or more leaves education for work
        (:func:`~pfpp_sim.labour_market.leaving_education_hazard`).

    Returns
    -------
    status : ndarray of uint8
    months_neet : ndarray of int16

    Raises
    ------
    ValueError
        If the exit probabilities are not one per NEET young person.
    """
    # One draw per person whatever their state, so that scenarios compared on the same seed
    # keep the same random numbers for the same person (common random numbers).
    draw = rng.random(status.size)
    is_neet = status == NEET
    neet = np.flatnonzero(is_neet)
    if exit_to_work.shape != neet.shape or exit_to_education.shape != neet.shape:
        raise ValueError(
            f"exit probabilities: expected one per NEET young person ({neet.size}), got {exit_to_work.size} and {exit_to_education.size}"
        )
    new_status = status.copy()
    new_status[~is_neet & (draw < entry_hazard)] = NEET
    if leave_education > 0.0:  # few draws are at the top: look only at those
        top = np.flatnonzero(draw >= 1.0 - leave_education)
        top = top[(new_status[top] == EDUCATION) & (age_months[top] >= AGE_18)]  # students who stayed so (none was NEET)
        new_status[top] = EMPLOYED
    neet_draw = draw[neet]
    to_education = neet_draw < exit_to_education
    to_work = ~to_education & (neet_draw < exit_to_education + exit_to_work) & (age_months[neet] >= AGE_18)
    new_status[neet[to_education]] = EDUCATION
    new_status[neet[to_work]] = EMPLOYED
    months = months_neet + 1
    months *= new_status == NEET  # 0 for anyone not NEET now
    return new_status, months


def ilo_status(
    status: np.ndarray, rank: np.ndarray, unemployed_below: np.ndarray, employed_from: np.ndarray, place: np.ndarray | None = None
) -> np.ndarray:
    """Young people's labour-market status on the ILO basis, from their status and job-search rank.

    In work (``EMPLOYED``) is employed. A NEET young person whose rank is below their
    place's NEET limit seeks work and is unemployed, otherwise inactive. A student whose
    rank is at least the students' job limit has a (part-time) job and is employed; below
    the students' seeking limit they seek work and are unemployed (not NEET); otherwise
    inactive. The limits come as two small tables by status, so the rule is two lookups
    and two comparisons per person.

    Parameters
    ----------
    status : ndarray of uint8, shape (n,)
        ``EDUCATION``, ``EMPLOYED`` or ``NEET``.
    rank : ndarray of uint16, shape (n,)
        Job-search rank (:attr:`~pfpp_sim.population.YoungPeople.job_search_rank`), below
        :data:`~pfpp_sim.population.RANK_LEVELS`.
    unemployed_below : ndarray of uint16, shape (3,) or (n_places, 3)
        By status, the rank below which a young person seeks work: the students' seeking
        limit, 0 for those in work, the NEET limit (:class:`~pfpp_sim.labour_market.JobSeeking`);
        by place and status when ``place`` is given.
    employed_from : ndarray of uint16, shape (3,)
        By status, the rank from which a young person has a job: the students' job limit, 0
        for those in work, :data:`~pfpp_sim.population.RANK_LEVELS` (none) for NEET; at
        least ``unemployed_below`` for each status.
    place : ndarray of int, shape (n,), optional
        Each young person's place: the row of ``unemployed_below`` that applies.

    Returns
    -------
    ndarray of uint8, shape (n,)
        ``ILO_EMPLOYED``, ``ILO_UNEMPLOYED`` or ``ILO_INACTIVE``.
    """
    if place is None:
        seeking_limit = unemployed_below.take(status)
    else:  # one flat lookup of (place, status): cheaper than indexing two axes
        row = place.astype(np.intp)
        row *= unemployed_below.shape[1]
        row += status
        seeking_limit = unemployed_below.reshape(-1).take(row)
    unemployed = (rank < seeking_limit).view(np.uint8)
    employed = (rank >= employed_from.take(status)).view(np.uint8)
    # At most one of the two holds: each status's seeking limit is at most its job limit.
    out = np.full(status.shape, ILO_INACTIVE, dtype=np.uint8)
    out -= unemployed * np.uint8(ILO_INACTIVE - ILO_UNEMPLOYED)
    out -= employed * np.uint8(ILO_INACTIVE - ILO_EMPLOYED)
    return out


def onset_in_home(onset_hazard: np.ndarray, odds_ratio: float) -> np.ndarray:
    """Monthly onset probability of probable mental disorder with its odds multiplied by ``odds_ratio``.

    A cold (fuel-poor) home multiplies the odds of onset by the cold-home odds ratio
    (EVIDENCE E50); a warm home by 1. Worked out per place for both kinds of home, it
    gives each young person's onset by a lookup instead of arithmetic per person.

    Parameters
    ----------
    onset_hazard : ndarray of float64
        Baseline monthly onset probability (below 1).
    odds_ratio : float

    Returns
    -------
    ndarray of float64, the shape of ``onset_hazard``
    """
    odds = onset_hazard / (1.0 - onset_hazard)
    odds = odds * odds_ratio
    return odds / (1.0 + odds)


def mental_health_transition(mh_disorder: np.ndarray, onset: np.ndarray, recovery_hazard: float, rng: np.random.Generator) -> np.ndarray:
    """Onset and recovery of probable mental disorder for one month.

    One number ``u`` per person: someone with a disorder recovers when
    ``u < recovery_hazard``, anyone else has an onset when ``u < onset``.

    Parameters
    ----------
    mh_disorder : ndarray of bool, shape (n_young,)
    onset : ndarray of float64, shape (n_young,)
        Each person's monthly onset probability: their place's in a warm or a cold home
        (:func:`onset_in_home`).
    recovery_hazard : float
        Monthly probability of recovery.
    rng : numpy.random.Generator or DrawnAhead
        The ``young_people`` stream (one number per person), or the numbers drawn ahead.

    Returns
    -------
    ndarray of bool, shape (n_young,)
    """
    draw = rng.random(mh_disorder.size)
    return (mh_disorder & (draw >= recovery_hazard)) | (~mh_disorder & (draw < onset))


def age_and_replace(
    age_months: np.ndarray, status: np.ndarray, months_neet: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Age everyone a month; those turning 25 are replaced by a new 16-year-old in school.

    The newcomer is in Year 11 (in education) until the September their Year 12 starts
    (:func:`september_entry`). The replacement keeps the place and household link, so
    residents are conserved.

    Returns
    -------
    age_months, status, months_neet, replaced : ndarrays
        ``replaced`` is a bool mask of the newcomers.
    """
    age = (age_months + 1).astype(np.int16)
    replaced = age >= AGE_25
    new = np.flatnonzero(replaced)
    age[new] = AGE_16
    new_status = status.astype(np.uint8)  # a copy
    new_status[new] = EDUCATION
    months = months_neet.astype(np.int16)  # a copy
    months[new] = 0
    return age, new_status, months, replaced


def september_entry(status: np.ndarray, age_months: np.ndarray, neet_rate: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Year 11 leavers start Year 12 on 1 September: each does not take up a place with their place's NEET 16-17 rate.

    Those starting are those of academic age 16: aged 16 on 31 August, so 16 years
    and 0 to 11 months on 1 September; all were in school (Year 11) until now.

    The cohort flow of the DfE NEET 16-17 statistic: a year group joins it each
    September (and the oldest leaves it as they reach academic age 18), so a place's
    rate in the next December-February moves with the share of its new cohort that
    starts NEET.

    Parameters
    ----------
    status : ndarray of uint8, shape (n,)
    age_months : ndarray of int16, shape (n,)
        Ages on 1 September.
    neet_rate : ndarray of float64, shape (n,)
        Each person's place's NEET 16-17 rate (moved by its fitted trend).
    rng : numpy.random.Generator or DrawnAhead
        The ``young_people`` stream (one number per person, entering or not), or the
        numbers drawn ahead.

    Returns
    -------
    ndarray of uint8, shape (n,)
    """
    draw = rng.random(status.size)
    return np.where((age_months < AGE_17) & (draw < neet_rate), np.uint8(NEET), status)
