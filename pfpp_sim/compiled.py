"""Compiled loops for the residents' month: the young people's month, and the households' incomes, fuel poverty and counts.

Each loop does in one pass over a block's residents what the plain NumPy rules do in
many passes, each with a call's fixed cost: the young people's rules of
:mod:`~pfpp_sim.dynamics` (:func:`young_month`), the households' income shock, and their
month of fuel poverty (:func:`step_households`):
:func:`~pfpp_sim.dynamics.household_income` (with the young earners' sum),
:func:`~pfpp_sim.dynamics.fuel_poor` and :func:`~pfpp_sim.dynamics.fuel_poor_by_band`,
months in a cold home; the counts of young people by cell and state and of
fuel-poor households by cell (:func:`~pfpp_sim.outcomes.count_outcomes`); and, once per
run, the cold homes of the reference world that sets the baseline onset of mental
disorder (:func:`reference_cold_homes`); and the month's check that residents stay
sorted by place (:func:`falls`).
They make the same operations on the same numbers in the same order, so they give the
same results to the bit; ``tests/test_compiled.py`` checks them against the plain rules.
Exponentials stay in NumPy, whose ``exp`` differs from the compiled one in the last bit
for some arguments. The loops release the GIL, so blocks stepped in threads run at once.
They are compiled on first use and cached beside this file (numba's ``cache=True``).
"""

from __future__ import annotations

import numba
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
    YEARS_12_13,
)

__all__ = [
    "YOUNG_STATES", "falls", "flag_fuel_poor", "fuel_poor_cells", "household_incomes", "income_shocks", "reference_cold_homes", "step_households",
    "young_month", "young_state_cells",
]

YOUNG_STATES = 48
"""Combinations of a young person's counted flags: NEET, mental disorder, Years 12-13,
aged 18 or more (one bit each) and the ILO status (three values)."""


def income_shocks(dev, persistence, shock_sd, shocks):
    """:func:`~pfpp_sim.dynamics.income_shock` of a block, in place: AR(1) log-income deviations moved by the month's shocks.

    Parameters
    ----------
    dev : ndarray of float32, shape (n,)
        Written.
    persistence, shock_sd : numpy.float32
        Of the deviations' dtype, as NumPy turns a Python float in arithmetic with them.
    shocks : ndarray of float32, shape (n,)
        The month's standard normal numbers.
    """
    for i in range(dev.size):
        dev[i] = persistence * dev[i] + shock_sd * shocks[i]


def household_incomes(
    base_income, exp_dev, income_index, gain_until, t, gain_gbp, youth_gbp, young_household, young_status, young_place,
    link_by_place, first_household, means_tested, payment_gbp,
):
    """Equivalised income after housing costs of each household of a block, GBP/year.

    :func:`~pfpp_sim.dynamics.household_income` of a block: base income times
    ``exp_dev``, times ``income_index`` (when not 1), plus the income-advice gain while it
    runs, plus ``youth_gbp`` for each employed young person (weighted by their place's
    link), plus the means-tested payment.

    Parameters
    ----------
    base_income : ndarray of float64, shape (n,)
    exp_dev : ndarray of float32, shape (n,)
        ``np.exp`` of each household's income deviation.
    income_index : float
    gain_until : ndarray of int32, shape (n,)
        Month to which each household's income-advice gain lasts (exclusive).
    t : int
        The month.
    gain_gbp : float
        The income-advice gain, GBP/year.
    youth_gbp : float
        Equivalised addition per employed young person, GBP/year (nominal).
    young_household : ndarray of int32, shape (m,)
        Each of the block's young people's household.
    young_status : ndarray of uint8, shape (m,)
    young_place : ndarray of int16, shape (m,)
    link_by_place : ndarray of float64, shape (n_places,)
        Weight of a young person's earnings in their household's income, by place.
    first_household : int
        Row of the block's first household.
    means_tested : ndarray of bool, shape (n,)
    payment_gbp : float
        Means-tested payment received in the last 12 months, GBP (0: none).

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    employed = _employed_by_home(young_household, young_status, young_place, link_by_place, first_household, base_income.size)
    income = np.empty(base_income.size)
    for i in range(base_income.size):
        income[i] = _income(
            base_income[i], exp_dev[i], income_index, gain_until[i] > t, gain_gbp, youth_gbp * employed[i], means_tested[i], payment_gbp,
        )
    return income


def _employed_by_home(young_household, young_status, young_place, link_by_place, first_household, n):
    """Employed young people of each of a block's ``n`` households, weighted by their place's link (float64)."""
    employed = np.zeros(n)  # summed in young people's order, as np.bincount sums
    for j in range(young_household.size):
        # Adding 0.0 for those not employed changes no sum, and needs no branch.
        employed[young_household[j] - first_household] += link_by_place[young_place[j]] * (young_status[j] == EMPLOYED)
    return employed


def _income(base_income, exp_dev, income_index, gaining, gain_gbp, earnings_gbp, means_tested, payment_gbp):
    """One household's income (:func:`household_incomes`), with its young people's earnings ``earnings_gbp``."""
    value = base_income * np.float64(exp_dev)
    if income_index != 1.0:
        value *= income_index
    if gaining:
        value += gain_gbp
    value += earnings_gbp
    if payment_gbp != 0.0:
        value += payment_gbp * means_tested  # adding 0.0 changes no (positive) income
    return value


def flag_fuel_poor(fuel_poor, band, income, cost_by_band, support_until, support_gbp, t, price_gbp, band_cost, discount_gbp, line_gbp):
    """Flag fuel-poor households of a block in ``fuel_poor`` (LILEE, EVIDENCE E20).

    Band D-G and income after required fuel costs below the poverty line. A household
    without bill support running in month ``t`` has its band's cost ``cost_by_band``
    (:func:`~pfpp_sim.dynamics.fuel_cost` under the universal discount); one with bill
    support running, the band's cost less its support and the discount, at least 0.

    Parameters
    ----------
    fuel_poor : ndarray of bool, shape (n,)
        Written.
    band : ndarray of uint8, shape (n,)
    income : ndarray of float64, shape (n,)
        GBP/year.
    cost_by_band : ndarray of float64, shape (7,)
        Each band's cost under the universal discount, GBP/year, and minus infinity for
        bands A-C (:func:`~pfpp_sim.dynamics.fuel_poor_by_band`), which are never fuel poor.
    support_until : ndarray of int32, shape (n,)
    support_gbp : ndarray of float64, shape (n,)
        Bill support while it runs, GBP/year.
    t : int
    price_gbp : float
        Price paid by a typical (band D) household, GBP/year.
    band_cost : ndarray of float64, shape (7,)
        Each band's cost relative to band D.
    discount_gbp, line_gbp : float
        The universal discount and the poverty line, GBP/year.
    """
    for i in range(band.size):
        b = band[i]  # without branches on the band or the flag, which no predictor guesses
        cost = cost_by_band[b]
        if support_until[i] > t:
            cost = _supported_cost(b, price_gbp * band_cost[b], support_gbp[i] + discount_gbp)
        fuel_poor[i] = income[i] - cost < line_gbp


def _supported_cost(band, cost_gbp, support_gbp):
    """The fuel cost of a home in ``band`` whose band costs ``cost_gbp`` with bill support and discount ``support_gbp`` running (:func:`flag_fuel_poor`)."""
    return max(cost_gbp - support_gbp, 0.0) if band >= BAND_D else -np.inf


def step_households(homes, young, first_household, t, exp_dev, month, tables, counted):
    """A block's households' fuel poverty in month ``t``, in one pass; written in place.

    For each household, its income (:func:`household_incomes`), whether it is fuel poor
    (:func:`flag_fuel_poor`), a month more in a cold home if so, and its count in its
    cell's fuel-poor households (as :func:`fuel_poor_cells` counts them); then whether each
    young person's home is fuel poor.

    Parameters
    ----------
    homes : tuple of ndarray
        The block's columns: base income (float64), income-advice gain until (int32),
        means tested (bool), band (uint8), bill support until (int32), bill support
        (float64), fuel poor (bool, written) and months in a cold home (int32, written).
    young : tuple of ndarray
        The block's young people's household (int32), status (uint8), place (int16) and
        whether their home is fuel poor (bool, written).
    first_household : int
        Row of the block's first household.
    t : int
        The month.
    exp_dev : ndarray of float32
        ``np.exp`` of each household's income deviation.
    month : tuple of float
        The income index, the income-advice gain, the equivalised earnings of an employed
        young person, the means-tested payment, the price a band D household pays, the
        universal discount and the poverty line (GBP/year).
    tables : tuple of ndarray of float64
        The link of young people's earnings by place, each band's cost under the
        universal discount (minus infinity for bands A-C) and each band's cost relative
        to band D.
    counted : tuple
        Each household's equity cell, the block's first cell and the fuel-poor households
        by cell to add to (int64, shape (n_cells,); written).
    """
    base_income, gain_until, means_tested, band, support_until, support_gbp, fuel_poor, months_cold = homes
    young_household, young_status, young_place, cold_home = young
    income_index, gain_gbp, youth_gbp, payment_gbp, price_gbp, discount_gbp, line_gbp = month
    link_by_place, cost_by_band, band_cost = tables
    cells, first_cell, counts = counted
    employed = _employed_by_home(young_household, young_status, young_place, link_by_place, first_household, band.size)
    for i in range(band.size):
        income = _income(
            base_income[i], exp_dev[i], income_index, gain_until[i] > t, gain_gbp, youth_gbp * employed[i], means_tested[i], payment_gbp,
        )
        b = band[i]
        cost = cost_by_band[b]
        if support_until[i] > t:
            cost = _supported_cost(b, price_gbp * band_cost[b], support_gbp[i] + discount_gbp)
        poor = income - cost < line_gbp
        fuel_poor[i] = poor
        months_cold[i] += poor
        counts[cells[i] - first_cell] += poor
    for j in range(young_household.size):
        cold_home[j] = fuel_poor[young_household[j] - first_household]


def reference_cold_homes(counts, place, real, trend, index, youth_gbp, employed, means, means_gbp, band, cost_by_band, line_gbp):
    """Add to ``counts`` each place's sampled young people whose home is fuel poor in a month of the reference world.

    :func:`~pfpp_sim.hazards.reference_cold_share`'s month: a home's income is its real
    income moved by its place's trend and the income index, plus its working young
    people's earnings and the means-tested payment; fuel poor under LILEE (EVIDENCE E20)
    with its band's cost.

    Parameters
    ----------
    counts : ndarray of int64, shape (n_places,)
        Written.
    place : ndarray of int16, shape (n,)
        Each sampled young person's place.
    real : ndarray of float64, shape (n,)
        Their home's starting income (base income times its deviation), GBP/year.
    trend : ndarray of float64, shape (n_places,)
        Each place's income trend factor.
    index : float
        The national median income index.
    youth_gbp : float
        A working young person's earnings, GBP/year, at the index.
    employed : ndarray of float64, shape (n,)
        Working young people of the home, weighted to real ones.
    means : ndarray of bool, shape (n,)
        Whether the home is means tested.
    means_gbp : float
        The means-tested payment, GBP/year.
    band : ndarray of uint8, shape (n,)
    cost_by_band : ndarray of float64, shape (7,)
        Each band's fuel cost, GBP/year.
    line_gbp : float
        The poverty line, GBP/year.
    """
    for i in range(real.size):
        income = real[i] * trend[place[i]] * index
        income += youth_gbp * employed[i] + (means_gbp if means[i] else 0.0)
        counts[place[i]] += band[i] >= BAND_D and income - cost_by_band[band[i]] < line_gbp


def fuel_poor_cells(cells, fuel_poor, first_cell, n_cells):
    """Fuel-poor households of each cell (place, tenure, income quintile) of a block, ndarray of int64, shape (n_cells,)."""
    counts = np.zeros(n_cells, dtype=np.int64)
    for i in range(cells.size):
        counts[cells[i] - first_cell] += fuel_poor[i]
    return counts


def young_state_cells(cells, first_cell, n_cells, ilo_status, status, mh_disorder, age_months, months_since_september):
    """Young people of a block by cell and counted state, ndarray of int64, shape (n_cells, :data:`YOUNG_STATES`).

    A state is NEET + 2 mental disorder + 4 Years 12-13 + 8 aged 18 or more + 16 ILO
    status (:func:`pfpp_sim.outcomes._young_states`).
    """
    counts = np.zeros((n_cells, YOUNG_STATES), dtype=np.int64)
    for j in range(cells.size):
        counts[cells[j] - first_cell, _young_state(ilo_status[j], status[j], mh_disorder[j], age_months[j], months_since_september)] += 1
    return counts


def _young_state(ilo_status, status, mh_disorder, age_months, months_since_september):
    """One young person's counted state (:func:`young_state_cells`)."""
    group = _school_group(age_months, months_since_september)
    return 16 * int(ilo_status) + int(status == NEET) + 2 * int(mh_disorder) + 4 * int(group == YEARS_12_13) + 8 * int(age_months >= AGE_18)


def young_month(young, t, draws, newcomers, cold_home, tables, by_place, effects, months_since_september, september, counted):
    """Step a block's young people through month ``t``, in place; return the rows (in the block) of the newcomers.

    For each young person, in the order of the plain rules: NEET exits
    (:func:`~pfpp_sim.dynamics.neet_exits_looked_up`), NEET entry lowered by careers
    guidance and outreach (:func:`~pfpp_sim.dynamics.neet_entry_hazard`) and the move
    between education, work and NEET (:func:`~pfpp_sim.dynamics.youth_transition`); onset
    and recovery of mental disorder (:func:`~pfpp_sim.dynamics.mental_health_transition`);
    ageing and replacement at 25 (:func:`~pfpp_sim.dynamics.age_and_replace`), a newcomer
    with a disorder drawn from the prevalence, a new job-search rank and no support; in
    September, Year 12 starting NEET (:func:`~pfpp_sim.dynamics.september_entry`); and the
    ILO status (:func:`~pfpp_sim.dynamics.ilo_status`). The young people are then counted
    by cell and state as the month ends (as :func:`young_state_cells` counts them).

    Parameters
    ----------
    young : tuple of ndarray
        The block's columns, written in place: status (uint8), months NEET (int16), age in
        months (int16), mental disorder (bool), careers guidance, employment support and
        outreach active until (int32), job-search rank (uint16), ILO status (uint8), place (int16).
    t : int
        The month.
    draws : tuple of ndarray of float64
        Each young person's numbers for the move, the mind and September entry.
    newcomers : tuple of ndarray
        Each newcomer's number for a mental disorder (float64) and job-search rank (uint16), in order.
    cold_home : ndarray of bool
        Whether each young person's home was fuel poor last month.
    tables : tuple of ndarray of float64
        :func:`~pfpp_sim.dynamics.neet_exit_tables`.
    by_place : tuple of ndarray
        By place: NEET entry hazards of Years 12-13 and after (n_places, 2), the share
        starting Year 12 NEET, onset in a warm and in a cold home, and the ILO seeking
        limits by status (n_places, 3, uint16); then the job limits by status (3, uint16).
    effects : tuple of float
        Careers guidance's and outreach's effects on NEET entry, the recovery hazard, the
        prevalence for newcomers and the hazard of leaving education for work.
    months_since_september : int
        Months since September as month ``t`` starts.
    september : bool
        Whether month ``t`` ends in a September start (Year 12 begins).
    counted : tuple
        Each young person's cell (as ``cells`` of :func:`young_state_cells`), the block's
        first cell, and the counts by cell and state to add to (int64, shape
        (n_cells, :data:`YOUNG_STATES`); written).

    Returns
    -------
    ndarray of int64
        The newcomers' rows.
    """
    status, months_neet, age_months, mh_disorder, careers_until, ips_until, asb_until, rank, ilo, place = young
    move, mind, entry = draws
    newcomer_mind, newcomer_rank = newcomers
    leave, education, work = tables
    entry_base, year_12_neet, onset_warm, onset_cold, unemployed_below, employed_from = by_place
    careers_effect, asb_effect, recovery, prevalence, leave_education = effects
    cells, first_cell, counts = counted
    months_since_september_after = 0 if september else months_since_september + 1
    replaced = np.empty(status.size, dtype=np.int64)
    state = np.empty(status.size, dtype=np.uint8)  # each one's counted state as the month ends
    n_new = 0
    for j in range(status.size):
        p, s, age, u = place[j], status[j], age_months[j], move[j]
        older = age >= AGE_18
        if s == NEET:
            row = 2 * min(max(int(months_neet[j]), 0), 48) + int(mh_disorder[j])
            to_education = education[row] if older else leave[row]
            to_work = work[2 * row + int(ips_until[j] > t)] if older else 0.0
            if u < to_education:
                s = EDUCATION
            elif u < to_education + to_work and older:
                s = EMPLOYED
        else:
            group = _school_group(age, months_since_september)
            hazard = 0.0 if group == 0 else entry_base[p, group - 1]
            hazard = _entry_with_prevention(hazard, careers_until[j] > t, asb_until[j] > t, careers_effect, asb_effect)
            if u < hazard:
                s = NEET
            elif leave_education > 0.0 and u >= 1.0 - leave_education and s == EDUCATION and older:
                s = EMPLOYED
        months = (months_neet[j] + 1) if s == NEET else 0
        onset = onset_cold[p] if cold_home[j] else onset_warm[p]
        had = mh_disorder[j]  # recovery or onset, chosen without a branch, which no predictor could guess
        mh_disorder[j] = (had & (mind[j] >= recovery)) | ((not had) & (mind[j] < onset))
        age += 1
        if age >= AGE_25:
            if n_new == newcomer_mind.size:  # the newcomers' numbers are drawn for those turning 25 as the month starts
                raise ValueError("more young people turn 25 this month than newcomers' numbers were drawn for")
            age, s, months = AGE_16, EDUCATION, 0
            mh_disorder[j] = newcomer_mind[n_new] < prevalence
            rank[j] = newcomer_rank[n_new]
            careers_until[j] = ips_until[j] = asb_until[j] = 0
            replaced[n_new] = j
            n_new += 1
        if september and age < AGE_17:
            rate = _entry_with_prevention(year_12_neet[p], careers_until[j] > t, asb_until[j] > t, careers_effect, asb_effect)
            if entry[j] < rate:
                s = NEET
        status[j], months_neet[j], age_months[j] = s, months, age
        unemployed = rank[j] < unemployed_below[p, s]
        employed = rank[j] >= employed_from[s]
        ilo[j] = ILO_INACTIVE - int(unemployed) * (ILO_INACTIVE - ILO_UNEMPLOYED) - int(employed) * (ILO_INACTIVE - ILO_EMPLOYED)
        state[j] = _young_state(ilo[j], s, mh_disorder[j], age, months_since_september_after)
    # Counted in a pass of their own: in the loop above, each increment would hold up the
    # step's work until the increment before it had been stored.
    for j in range(status.size):
        counts[cells[j] - first_cell, state[j]] += 1
    return replaced[:n_new]


def falls(values):
    """Whether any entry of ``values`` is below the one before it (``np.less(values[1:], values[:-1]).any()``, in one pass, with no array made).

    For the run-time check that residents stay sorted by place
    (:meth:`PfppModel._check_residents <pfpp_sim.model.PfppModel._check_residents>`).
    Every pair is compared, with no early exit, so that the loop is vectorised.
    """
    fell = False
    for i in range(1, values.size):
        fell |= values[i] < values[i - 1]
    return fell


def _school_group(age_months, months_since_september):
    """:func:`~pfpp_sim.population.school_group` of one young person: 0 Year 11, 1 Years 12-13, 2 after school."""
    academic = age_months - months_since_september
    return int(academic >= AGE_16) + int(academic >= AGE_18)


def _entry_with_prevention(hazard, careers, asb, careers_effect, asb_effect):
    """:func:`~pfpp_sim.dynamics.neet_entry_hazard` of one young person (the hazard unchanged with neither active)."""
    if careers or asb:
        return hazard * (1.0 - careers_effect if careers else 1.0) * (1.0 - asb_effect if asb else 1.0)
    return hazard


# Compiled here, not by decorators, so that mutation testing (which leaves decorated functions
# alone) mutates them too; with NUMBA_DISABLE_JIT=1 they run as plain Python.
_compile = numba.njit(cache=True, nogil=True)
income_shocks = _compile(income_shocks)
_employed_by_home = _compile(_employed_by_home)
_income = _compile(_income)
_supported_cost = _compile(_supported_cost)
household_incomes = _compile(household_incomes)
flag_fuel_poor = _compile(flag_fuel_poor)
step_households = _compile(step_households)
fuel_poor_cells = _compile(fuel_poor_cells)
reference_cold_homes = _compile(reference_cold_homes)
young_state_cells = _compile(young_state_cells)
falls = _compile(falls)
young_month = _compile(young_month)
_young_state = _compile(_young_state)
_school_group = _compile(_school_group)
_entry_with_prevention = _compile(_entry_with_prevention)
