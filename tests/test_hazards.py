"""Baseline hazards solved at set-up: NEET entry that keeps NEET shares steady, mental-health onset on the prevalence path."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from pfpp_sim.hazards import baseline_onset, steady_neet_entry
from pfpp_sim.population import AGE_16, AGE_18, EDUCATION, NEET


def test_entry_balances_the_mean_exit_of_neet_young_people_at_their_starting_share():
    # Place 0: four 18-24 year olds, one NEET leaving at 0.3 a month -> entry 0.3 * (1/4) / (3/4) = 0.1.
    # Place 1: no one NEET -> the floor; no 16-17 year olds anywhere -> the floor.
    young = SimpleNamespace(
        age_months=np.full(6, AGE_18 + 12), status=np.array([NEET, EDUCATION, EDUCATION, EDUCATION, EDUCATION, EDUCATION]),
        place=np.array([0, 0, 0, 0, 1, 1]),
    )
    entry = steady_neet_entry(young, 2, np.full(6, 0.3), months_since_september=0, default_exit=0.2, floor=0.001)
    np.testing.assert_allclose(entry, [[0.001, 0.1], [0.001, 0.001]])
    younger = SimpleNamespace(age_months=np.full(2, AGE_16), status=np.array([NEET, EDUCATION]), place=np.array([0, 0]))
    assert steady_neet_entry(younger, 1, np.zeros(2), months_since_september=0, default_exit=0.2, floor=0.0)[0, 0] == 0.0, (
        "no one leaves, no one enters"
    )


def test_entry_of_years_12_13_counts_their_cohort_by_academic_age_and_leaves_year_11_out():
    # In January (4 months after 1 September): 16y2m is Year 11 (aged 15 on 31 August), 16y6m
    # and 18y2m are in Years 12-13, 18y6m and 19y are past them.
    young = SimpleNamespace(
        age_months=np.array([AGE_16 + 2, AGE_16 + 6, AGE_18 + 2, AGE_18 + 6, AGE_18 + 12]),
        status=np.array([NEET, EDUCATION, NEET, NEET, NEET]), place=np.zeros(5, dtype=int),
    )
    entry = steady_neet_entry(young, 1, np.array([0.9, 0.2, 0.2, 0.1, 0.3]), months_since_september=4, default_exit=0.2, floor=0.0)
    # Years 12-13: one NEET of two, leaving at 0.2 -> 0.2 * (1/2) / (1/2); past them: both NEET, so
    # all NEET -> (0.1 + 0.3) / 2 / 1e-9. The NEET Year 11 pupil (exit 0.9) is in neither.
    assert entry[0, 0] == pytest.approx(0.2)
    assert entry[0, 1] == pytest.approx(0.2 / 1e-9)


def test_onset_balances_recovery_at_the_prevalence_and_falls_as_more_homes_are_cold():
    prevalence, recovery, odds_ratio = np.array([0.2]), 0.05, 2.0
    warm, cold = baseline_onset(prevalence, recovery, odds_ratio, np.array([[0.0, 0.5]]))[0]
    assert warm == pytest.approx(recovery * 0.2 / 0.8)
    assert cold == pytest.approx(warm / 1.5)
