"""Baseline hazards solved at set-up: NEET entry that keeps NEET shares steady, mental-health onset on the prevalence path
of a reference world's cold homes."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from pfpp_sim import hazards
from pfpp_sim.hazards import baseline_onset, reference_cold_share, steady_neet_entry
from pfpp_sim.population import AGE_16, AGE_18, BAND_D, EDUCATION, EMPLOYED, NEET


def test_entry_balances_the_mean_exit_of_neet_young_people_at_their_starting_share():
    # Place 0: four 18-24 year olds, one NEET leaving at 0.3 a month -> entry 0.3 * (1/4) / (3/4) = 0.1.
    # Place 1: no one NEET -> the floor; no 16-17 year olds anywhere -> the floor.
    young = SimpleNamespace(
        age_months=np.full(6, AGE_18 + 12), status=np.array([NEET, EDUCATION, EDUCATION, EDUCATION, EDUCATION, EDUCATION]),
        place=np.array([0, 0, 0, 0, 1, 1]),
    )
    entry = steady_neet_entry(young, 2, np.full(6, 0.3), months_since_september=0, floor=0.001)
    np.testing.assert_allclose(entry, [[0.001, 0.1], [0.001, 0.001]])
    younger = SimpleNamespace(age_months=np.full(2, AGE_16), status=np.array([NEET, EDUCATION]), place=np.array([0, 0]))
    assert steady_neet_entry(younger, 1, np.zeros(2), months_since_september=0, floor=0.0)[0, 0] == 0.0, (
        "no one leaves, no one enters"
    )


def test_entry_of_years_12_13_counts_their_cohort_by_academic_age_and_leaves_year_11_out():
    # In January (4 months after 1 September): 16y2m is Year 11 (aged 15 on 31 August), 16y6m
    # and 18y2m are in Years 12-13, 18y6m and 19y are past them.
    young = SimpleNamespace(
        age_months=np.array([AGE_16 + 2, AGE_16 + 6, AGE_18 + 2, AGE_18 + 6, AGE_18 + 12]),
        status=np.array([NEET, EDUCATION, NEET, NEET, NEET]), place=np.zeros(5, dtype=int),
    )
    entry = steady_neet_entry(young, 1, np.array([0.9, 0.2, 0.2, 0.1, 0.3]), months_since_september=4, floor=0.0)
    # Years 12-13: one NEET of two, leaving at 0.2 -> 0.2 * (1/2) / (1/2); past them: both NEET, so
    # all NEET -> (0.1 + 0.3) / 2 / 1e-9. The NEET Year 11 pupil (exit 0.9) is in neither.
    assert entry[0, 0] == pytest.approx(0.2)
    assert entry[0, 1] == pytest.approx(0.2 / 1e-9)


def test_onset_balances_recovery_at_the_prevalence_and_falls_as_more_homes_are_cold():
    prevalence, recovery, odds_ratio = np.array([0.2]), 0.05, 2.0
    warm, cold = baseline_onset(prevalence, recovery, odds_ratio, np.array([[0.0, 0.5]]))[0]
    assert warm == pytest.approx(recovery * 0.2 / 0.8)
    assert cold == pytest.approx(warm / 1.5)


def test_support_at_the_start_raises_the_base_hazard_by_the_mean_entry_factor_of_those_at_risk_in_the_group():
    # In September: 16y6m is in Years 12-13, 19y is past them. Entry factors of the NEET (0.1) never count.
    after, year_12 = AGE_18 + 12, AGE_16 + 6
    people = [  # (place, age, status, exit hazard, entry factor)
        (0, year_12, NEET, 0.2, 0.1), (0, year_12, EDUCATION, 0.0, 0.25),
        (0, after, NEET, 0.3, 0.1), (0, after, EDUCATION, 0.0, 0.5), (0, after, EDUCATION, 0.0, 0.5), (0, after, EDUCATION, 0.0, 1.1),
        (1, after, NEET, 0.3, 0.1), (1, after, EDUCATION, 0.0, 0.0),  # every factor 0: the base hazard stands
        (2, after, NEET, 0.3, 0.1), (2, after, EDUCATION, 0.0, 0.5),
        (4, after, NEET, 0.3, 0.1),  # all NEET: entry at once for anyone who joins the group
    ]  # place 3: no one
    place, age, status, exits, factor = (np.array(column) for column in zip(*people))
    young = SimpleNamespace(age_months=age, status=status, place=place)
    entry = steady_neet_entry(young, 5, exits, months_since_september=0, floor=0.001, entry_factor=factor)
    # Years 12-13 of place 0: 0.2 * (1/2) / (1/2) over the factor 0.25; past them: 0.3 * (1/4) / (3/4) over the mean 0.7.
    np.testing.assert_allclose(entry, [[0.8, 0.1 / 0.7], [0.001, 0.3], [0.001, 0.6], [0.001, 0.001], [0.001, 0.3 / 1e-9]])
    plain = steady_neet_entry(young, 5, exits, months_since_september=0, floor=0.001)
    np.testing.assert_allclose(plain, [[0.2, 0.1], [0.001, 0.3], [0.001, 0.3], [0.001, 0.001], [0.001, 0.3 / 1e-9]])


def test_onset_is_at_most_half_a_month():
    onset = baseline_onset(np.array([0.9, 0.2]), 0.2, 1.0, np.zeros((2, 1)))
    np.testing.assert_allclose(onset[:, 0], [0.5, 0.2 * 0.2 / 0.8])


def reference_by_hand(pop, exo, youth_link, band_cost, earnings, growth, trend_months, beyond, sample):
    """reference_cold_share written plainly: person by person, month by month."""
    h, y = pop.households, pop.young
    share = np.zeros((len(exo.dates), pop.places.n))
    for t in range(len(exo.dates)):
        s = max(t - 1, 0)  # month t sees the households' state after month t - 1's step
        for p, block in enumerate(y.slices):
            people = list(range(block.start, block.stop))
            chosen = [people[round(k * (len(people) - 1) / (sample - 1))] for k in range(sample)] if len(people) > sample else people
            cold = 0
            for i in chosen:
                home = y.household[i]
                working = sum(youth_link[y.place[j]] for j in range(y.n) if y.household[j] == home and y.status[j] == EMPLOYED)
                g = 1.0 if growth is None else growth[p] ** min(t, trend_months)
                income = h.base_income[home] * np.exp(float(h.income_dev[home])) * g * np.exp(pop.places.income_trend[p] * beyond[t])
                income = income * exo.income_index[s] + earnings * exo.income_index[s] * working + h.means_tested[home] * exo.means_tested_gbp[s]
                cost = max(exo.price_gbp[s] * band_cost[h.band[home]] - exo.bill_discount_gbp[s], 0.0)
                cold += h.band[home] >= BAND_D and income - cost < exo.poverty_line_gbp[s]
            share[t, p] = cold / len(chosen)
    return share


def test_the_reference_cold_share_follows_the_drivers_and_the_households_incomes_person_by_person(monkeypatch):
    # Incomes around the poverty line plus fuel costs, so that each driver moves many homes across it:
    # places of 40, 25, 1 and 2 young people (3-person samples of the first two when the sample is 3), two
    # to a home; the lone young person of the third place lives in a cold home, the last place's home is
    # never cold (band B).
    rng = np.random.default_rng(5)
    sizes, months = [40, 25, 1, 2], 8
    n_young = sum(sizes)
    place = np.repeat(np.arange(len(sizes)), sizes)
    first_home = np.cumsum([0, *[(n + 1) // 2 for n in sizes[:-1]]])
    household = np.concatenate([first + np.arange(n) // 2 for first, n in zip(first_home, sizes)])
    n_homes = household.max() + 1
    band_cost = np.array([0.5, 0.6, 0.8, 1.0, 1.2, 1.5, 2.0])
    band = rng.choice([2, 3, 4, 6], n_homes).astype(np.uint8)
    pop = SimpleNamespace(
        households=SimpleNamespace(  # each home's income within 8% of £9,000 plus £1,900 times its band's cost ratio
            n=n_homes, base_income=(9000.0 + 1900.0 * band_cost[band]) * rng.uniform(0.92, 1.08, n_homes),
            income_dev=rng.normal(0.0, 0.02, n_homes).astype(np.float32), band=band, means_tested=rng.random(n_homes) < 0.5,
        ),
        young=SimpleNamespace(
            n=n_young, place=place, household=household, status=rng.choice([EDUCATION, EMPLOYED, NEET], n_young),
            slices=[slice(a, b) for a, b in zip(np.cumsum([0, *sizes[:-1]]), np.cumsum(sizes))],
        ),
        places=SimpleNamespace(n=4, income_trend=np.array([0.0, -0.1, 0.08, 0.0])),
    )
    lone, last = household[-3], household[-1]
    pop.households.band[lone], pop.households.base_income[lone] = 6, 8000.0
    pop.households.band[last] = 1
    exo = SimpleNamespace(
        dates=pd.date_range("2022-01-01", periods=months, freq="MS"),
        income_index=np.array([1.0, 1.02, 1.04, 1.04, 1.08, 1.08, 1.1, 1.1]),
        means_tested_gbp=np.array([0.0, 300.0, 650.0, 650.0, 950.0, 950.0, 0.0, 0.0]),
        price_gbp=np.array([1200.0, 1500.0, 1900.0, 1900.0, 2500.0, 2500.0, 2000.0, 2000.0]),
        bill_discount_gbp=np.array([0.0, 150.0, 0.0, 400.0, 400.0, 400.0, 0.0, 0.0]),
        poverty_line_gbp=np.array([10000.0, 10200.0, 10400.0, 10400.0, 10800.0, 10800.0, 11000.0, 11000.0]),
    )
    youth_link = np.array([0.9, 1.3, 1.0, 1.1])
    beyond = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 0.5, 0.75, 1.0])
    for sample in (3, 2000):
        monkeypatch.setattr(hazards, "REFERENCE_SAMPLE", sample)
        for growth in (np.array([1.0, 0.99, 1.02, 1.0]), None):
            got = reference_cold_share(
                pop, exo, youth_link=youth_link, band_cost=band_cost, youth_earnings_gbp=900.0, income_growth=growth,
                income_trend_months=3, income_beyond_years=beyond,
            )
            expected = reference_by_hand(pop, exo, youth_link, band_cost, 900.0, growth, 3, beyond, sample)
            np.testing.assert_allclose(got, expected, err_msg=f"sample {sample}, growth {growth}")
            if sample > max(sizes):  # everyone counted: many homes near the line, moving across it from month to month
                assert ((0.0 < got[:, :2]) & (got[:, :2] < 1.0)).all() and len(np.unique(got[:, 0])) > 3, got
