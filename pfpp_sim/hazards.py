"""The residents' baseline hazards, solved once when a run's residents are set up.

Each place's NEET entry hazards keep its starting NEET shares steady
(:func:`steady_neet_entry`); each place's monthly onset of probable mental disorder makes
prevalence follow the exogenous path in a reference world without interventions
(:func:`reference_cold_share`, :func:`baseline_onset`). Both depend on the starting
residents and the world only, never on a scenario's levers, so every scenario compared
on the same seed has the same baselines (common random numbers).
"""

from __future__ import annotations

import numpy as np

from pfpp_sim import compiled, dynamics
from pfpp_sim.exogenous import Exogenous
from pfpp_sim.population import AFTER_SCHOOL, EMPLOYED, NEET, YEARS_12_13, Population, YoungPeople, school_group

__all__ = ["REFERENCE_SAMPLE", "baseline_onset", "reference_cold_share", "steady_neet_entry"]

REFERENCE_SAMPLE = 2000
"""Young people per place whose homes make the reference cold-home path of the baseline
mental-health onset (:func:`reference_cold_share`): enough to measure a share of a few
per cent to about a point, and cheap at national scale."""


def steady_neet_entry(
    young: YoungPeople,
    n_places: int,
    exit_hazard: np.ndarray,
    *,
    months_since_september: int,
    floor: float,
    entry_factor: np.ndarray | None = None,
) -> np.ndarray:
    """Per-place NEET entry hazards that keep each place's starting NEET shares steady.

    For Years 12-13 (academic age 16-17, the DfE NEET 16-17 cohort) and those of
    academic age 18 or more apart, entry balances exit ``x`` (the mean exit hazard of the
    place's NEET young people) at the starting NEET share ``s``: the mean entry hazard of
    those not NEET is ``x * s / (1 - s)``. The base hazard ``e`` is that mean over the mean
    of their ``entry_factor`` (support that prevents NEET entry lowers some of them), at
    least ``floor``. (A year group starts Year 12 each September with the same share NEET,
    :func:`~pfpp_sim.dynamics.september_entry`, and Year 11 is in school, so the shares
    stay steady.)

    Parameters
    ----------
    young : YoungPeople
        The starting young people.
    n_places : int
    months_since_september : int
        :func:`~pfpp_sim.population.since_september` of the start month.
    exit_hazard : ndarray of float64, shape (n_young,)
        Each young person's monthly hazard of leaving NEET (to work or education) without support.
    floor : float
        Lowest entry hazard (``world.young_people.neet_entry_hazard_floor``).
    entry_factor : ndarray of float64, shape (n_young,), optional
        Each young person's entry hazard relative to the base hazard, from the support
        running at the start (:func:`~pfpp_sim.dynamics.neet_entry_hazard`; default: 1).

    Returns
    -------
    ndarray of float64, shape (n_places, 2)
        Monthly probabilities for Years 12-13 (column 0) and those past them (column 1).
    """
    school = school_group(young.age_months, months_since_september)
    neet = young.status == NEET
    entry = np.zeros((n_places, 2))
    for group, mask in enumerate((school == YEARS_12_13, school == AFTER_SCHOOL)):
        people = np.bincount(young.place[mask], minlength=n_places)
        in_neet = np.bincount(young.place[mask & neet], minlength=n_places)
        exit_sum = np.bincount(young.place[mask & neet], weights=exit_hazard[mask & neet], minlength=n_places)
        # A place with no one NEET in the group (exit_sum 0) has share 0, so entry 0 before the floor.
        mean_exit = exit_sum / np.maximum(in_neet, 1.0)
        share = in_neet / np.maximum(people, 1.0)
        hazard = mean_exit * share / np.maximum(1 - share, 1e-9)
        if entry_factor is not None:
            at_risk = mask & ~neet
            n_at_risk = np.bincount(young.place[at_risk], minlength=n_places)
            factor_sum = np.bincount(young.place[at_risk], weights=entry_factor[at_risk], minlength=n_places)
            # Where every factor is 0 (support prevents all entry) or no one is at risk, the base hazard stands.
            hazard /= np.where(factor_sum > 0, factor_sum / np.maximum(n_at_risk, 1.0), 1.0)
        entry[:, group] = np.maximum(hazard, floor)
    return entry


def reference_cold_share(
    pop: Population,
    exo: Exogenous,
    *,
    youth_link: np.ndarray,
    band_cost: np.ndarray,
    youth_earnings_gbp: float,
    income_growth: np.ndarray | None,
    income_trend_months: int,
    income_beyond_years: np.ndarray,
) -> np.ndarray:
    """Share of each place's young people whose home would be fuel poor each month with no interventions.

    The reference world of :func:`baseline_onset`: the starting households (a sample of
    at most :data:`REFERENCE_SAMPLE` young people's homes per place) under the exogenous
    drivers alone: the price paid, universal bill support, means-tested payments, the
    national median income and the fitted income trend (damped beyond its data, as
    households' incomes are); starting incomes, bands and jobs otherwise. Month ``t`` has
    the state the young people's step of month ``t`` sees (the households' step of month
    ``t - 1``; month 0, the set-up).

    Parameters
    ----------
    pop : Population
        The starting residents (read only).
    exo : Exogenous
        The run's exogenous paths; their length is the horizon.
    youth_link : ndarray of float64, shape (n_places,)
        Real young people per real household a simulated young person stands for.
    band_cost : ndarray of float64, shape (7,)
        Fuel cost multiplier of each band.
    youth_earnings_gbp : float
        A working young person's contribution to household income, GBP/year of FYE 2020.
    income_growth : ndarray of float64, shape (n_places,), or None
        Monthly growth factor of base incomes in the trend's data years (None: no trends).
    income_trend_months : int
        Months of the run before the income trend's data end.
    income_beyond_years : ndarray of float64, shape (horizon + 1,)
        Years of the income trend acting beyond its data, from the start to each month.

    Returns
    -------
    ndarray of float64, shape (horizon, n_places)
    """
    h, y = pop.households, pop.young
    n_places, horizon = pop.places.n, len(exo.dates)
    sample = np.concatenate([
        np.linspace(s.start, s.stop - 1, min(s.stop - s.start, REFERENCE_SAMPLE)).astype(np.int64) for s in y.slices
    ])
    place = y.place[sample]
    home = y.household[sample]
    link = youth_link[y.place]
    employed = np.bincount(y.household, weights=np.where(y.status == EMPLOYED, link, 0.0))[home]  # long enough for every home of a young person
    real = h.base_income[home] * np.exp(h.income_dev[home].astype(np.float64))
    band, means = h.band[home], h.means_tested[home]
    growth = np.ones(n_places) if income_growth is None else income_growth
    income_trend = pop.places.income_trend
    counted = np.maximum(np.bincount(place, minlength=n_places), 1)
    share = np.empty((horizon, n_places))
    bands = np.arange(band_cost.size)
    for t in range(horizon):
        s = max(t - 1, 0)
        index = float(exo.income_index[s])
        trend = growth ** min(t, income_trend_months) * np.exp(income_trend * income_beyond_years[t])
        cost_by_band = dynamics.fuel_cost(bands, float(exo.price_gbp[s]), band_cost, float(exo.bill_discount_gbp[s]))
        cold = np.zeros(n_places, dtype=np.int64)
        compiled.reference_cold_homes(
            cold, place, real, trend, index, youth_earnings_gbp * index, employed, means, float(exo.means_tested_gbp[s]), band,
            cost_by_band, float(exo.poverty_line_gbp[s]),
        )
        share[t] = cold / counted
    return share


def baseline_onset(prevalence: np.ndarray, recovery: float, cold_home_odds_ratio: float, cold_share: np.ndarray) -> np.ndarray:
    """Cold home -> mental health: each place's monthly baseline onset of probable disorder.

    Solved once, at set-up, so that in the reference world (:func:`reference_cold_share`)
    prevalence follows the exogenous path: at steady state, onset ``o`` (raised by the
    cold-home odds ratio in cold homes) balances recovery ``r``, so
    ``o * (1 + (OR - 1) * cold_share) = r * P / (1 - P)``. It is not solved again from
    the run's own cold homes: when interventions (or income churn) leave fewer young
    people in cold homes than the reference, fewer fall ill, and prevalence in the
    place falls below the path.

    Parameters
    ----------
    prevalence : ndarray of float64, shape (horizon,)
        The exogenous prevalence path ``P``.
    recovery : float
        Monthly recovery hazard ``r``.
    cold_home_odds_ratio : float
    cold_share : ndarray of float64, shape (horizon, n_places)
        :func:`reference_cold_share`.

    Returns
    -------
    ndarray of float64, shape (horizon, n_places)
        Probability per month, at most 0.5.
    """
    prevalence = prevalence[:, None]
    onset = recovery * prevalence / (1 - prevalence) / (1 + (cold_home_odds_ratio - 1) * cold_share)
    return np.minimum(onset, 0.5)  # never below 0: each factor is at least 0
