"""Behaviour of the pure, vectorised resident rules in ``pfpp_sim.dynamics``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pfpp_sim import dynamics
from pfpp_sim.population import (
    AGE_16,
    AGE_18,
    AGE_25,
    BAND_D,
    EDUCATION,
    EMPLOYED,
    ILO_EMPLOYED,
    ILO_INACTIVE,
    ILO_UNEMPLOYED,
    NEET,
    RANK_LEVELS,
)
from pfpp_sim.streams import DrawnAhead

money = st.floats(min_value=0, max_value=200_000, allow_nan=False, width=64)


@st.composite
def households(draw):
    n = draw(st.integers(0, 50))
    band = draw(hnp.arrays(np.uint8, n, elements=st.integers(0, 6)))
    income = draw(hnp.arrays(np.float64, n, elements=money))
    cost = draw(hnp.arrays(np.float64, n, elements=st.floats(0, 10_000, allow_nan=False)))
    return band, income, cost


@given(households=households(), line=money)
def test_fuel_poor_flags_exactly_band_d_to_g_households_below_the_line(households, line):
    band, income, cost = households
    flagged = dynamics.fuel_poor(band, income, cost, line)
    assert flagged.dtype == bool
    assert flagged.shape == band.shape
    assert not flagged[band < BAND_D].any()
    np.testing.assert_array_equal(flagged, (band >= BAND_D) & (income - cost < line))


def test_fuel_poor_never_flags_an_efficient_home_however_poor():
    band = np.arange(7, dtype=np.uint8)
    flagged = dynamics.fuel_poor(band, np.zeros(7), np.full(7, 5_000.0), 15_600.0)
    np.testing.assert_array_equal(flagged, [False, False, False, True, True, True, True])


def test_fuel_cost_rises_with_band_and_falls_with_support_but_not_below_zero():
    ratios = np.array([0.45, 0.55, 0.76, 1.0, 1.25, 1.55, 1.9])
    band = np.arange(7, dtype=np.uint8)
    cost = dynamics.fuel_cost(band, 2_000.0, ratios, np.zeros(7))
    assert np.all(np.diff(cost) > 0)
    assert cost[BAND_D] == 2_000.0
    supported = dynamics.fuel_cost(band, 2_000.0, ratios, np.full(7, 1_000.0))
    np.testing.assert_allclose(supported, np.maximum(cost - 1_000.0, 0.0))
    assert dynamics.fuel_cost(band, 100.0, ratios, np.full(7, 1_000.0)).min() == 0.0


SPLIT = {"base": 0.12, "scarring": 0.3, "mh_multiplier": 0.6, "work_share": 0.55, "ips_risk_ratio_disorder": 1.63, "ips_risk_ratio_other": 1.2}
HAZARD = SPLIT
ADULT = 20 * 12


def total_exit(*args, **kwargs) -> np.ndarray:
    work, education = dynamics.neet_exit_hazard(*args, **kwargs)
    return work + education


def test_neet_exit_hazard_falls_with_months_neet():
    months = np.arange(0, 49, dtype=np.int16)
    off = np.zeros(months.size, dtype=bool)
    hazard = total_exit(months, off, off, np.full(months.size, ADULT, dtype=np.int16), **HAZARD)
    assert hazard[0] == pytest.approx(HAZARD["base"])
    assert np.all(np.diff(hazard) < 0)


def test_neet_exit_hazard_falls_with_a_mental_disorder_and_stays_a_probability():
    months = np.zeros(3, dtype=np.int16)
    mh = np.array([False, True, True])
    ips = np.array([False, False, True])
    age = np.full(3, ADULT, dtype=np.int16)
    hazard = total_exit(months, mh, ips, age, **{**HAZARD, "base": 0.9, "ips_risk_ratio_disorder": 3.0})
    assert hazard[1] < hazard[0]
    assert np.all((hazard >= 0) & (hazard <= 1))


def test_the_exit_tables_hold_each_months_disorder_and_support_hazard_at_its_documented_row():
    leave, education, work = dynamics.neet_exit_tables(**SPLIT)
    months = np.repeat(np.arange(49, dtype=np.int16), 4)
    mh, ips = np.tile([False, False, True, True], 49), np.tile([False, True], 98)
    to_work, to_education = dynamics.neet_exit_hazard(months, mh, ips, np.full(months.size, ADULT, dtype=np.int16), **SPLIT)
    np.testing.assert_array_equal(work, to_work)  # row 2 * (2 * months + disorder) + support
    np.testing.assert_array_equal(education, to_education[::2])  # row 2 * months + disorder
    young = np.full(months.size, 17 * 12, dtype=np.int16)
    np.testing.assert_array_equal(leave, dynamics.neet_exit_hazard(months, mh, ips, young, **SPLIT)[1][::2])


def test_neet_entry_hazard_falls_with_careers_guidance_and_outreach():
    base = np.full(4, 0.01)
    careers = np.array([False, True, False, True])
    asb = np.array([False, False, True, True])
    hazard = dynamics.neet_entry_hazard(base, careers, asb, careers_effect=0.08, asb_effect=0.05)
    np.testing.assert_allclose(hazard, 0.01 * np.array([1, 0.92, 0.95, 0.92 * 0.95]))


def test_youth_transition_counts_months_neet_and_resets_them_on_leaving():
    status = np.array([NEET, NEET, EDUCATION, EMPLOYED], dtype=np.uint8)
    months = np.array([3, 5, 0, 0], dtype=np.int16)
    age = np.full(4, ADULT, dtype=np.int16)
    to_work = np.array([0.0, 0.5])  # the NEET young people's only
    to_education = np.array([0.0, 0.5])
    entry_h = np.array([0.0, 0.0, 1.0, 0.0])
    new_status, new_months = dynamics.youth_transition(
        status, months, age, to_work, to_education, entry_h, np.random.default_rng(0), leave_education=0.0
    )
    assert new_status[0] == NEET and new_months[0] == 4
    assert new_status[1] in (EDUCATION, EMPLOYED) and new_months[1] == 0
    assert new_status[2] == NEET and new_months[2] == 1
    assert new_status[3] == EMPLOYED and new_months[3] == 0


def _mh_onset(odds_ratio: float, cold: np.ndarray, seed: int = 7) -> np.ndarray:
    n = cold.size
    onset = np.where(cold, dynamics.onset_in_home(np.float64(0.02), odds_ratio), dynamics.onset_in_home(np.float64(0.02), 1.0))
    return dynamics.mental_health_transition(np.zeros(n, dtype=bool), onset, 0.06, np.random.default_rng(seed))


def test_cold_home_odds_ratio_of_three_gives_more_onset_in_cold_homes():
    n = 20_000
    cold = np.arange(n) % 2 == 0
    neutral, raised = _mh_onset(1.0, cold), _mh_onset(3.0, cold)
    assert raised[cold].sum() > neutral[cold].sum()
    assert np.all(raised[cold] >= neutral[cold])  # same draws: onset only added
    np.testing.assert_array_equal(raised[~cold], neutral[~cold])
    assert raised[cold].mean() > 2 * raised[~cold].mean()


def test_odds_ratio_of_one_makes_cold_and_warm_homes_alike():
    n = 40_000
    cold = np.arange(n) % 2 == 0
    onset = _mh_onset(1.0, cold)
    assert abs(onset[cold].mean() - onset[~cold].mean()) < 0.006


def test_recovery_follows_the_recovery_hazard():
    n = 20_000
    disordered = np.ones(n, dtype=bool)
    after = dynamics.mental_health_transition(disordered, np.full(n, 0.02), 0.06, np.random.default_rng(3))
    assert abs((~after).mean() - 0.06) < 0.01


@given(
    ages=hnp.arrays(np.int16, st.integers(0, 200), elements=st.integers(AGE_16, AGE_25 - 1)),
    seed=st.integers(0, 2**32 - 1),
)
def test_age_and_replace_conserves_people_and_replaces_exactly_those_turning_25(ages, seed):
    rng = np.random.default_rng(seed)
    status = rng.integers(0, 3, size=ages.size).astype(np.uint8)
    months = np.where(status == NEET, rng.integers(1, 40, size=ages.size), 0).astype(np.int16)
    new_age, new_status, new_months, replaced = dynamics.age_and_replace(ages, status, months)
    assert new_age.shape == new_status.shape == new_months.shape == replaced.shape == ages.shape
    np.testing.assert_array_equal(replaced, ages + 1 >= AGE_25)
    np.testing.assert_array_equal(new_age[replaced], AGE_16)
    np.testing.assert_array_equal(new_age[~replaced], ages[~replaced] + 1)
    assert np.all((new_age >= AGE_16) & (new_age < AGE_25))
    np.testing.assert_array_equal(new_status[~replaced], status[~replaced])
    np.testing.assert_array_equal(new_months[~replaced], months[~replaced])
    assert (new_status[replaced] == EDUCATION).all(), "a newcomer is in Year 11, in school"
    assert not new_months[replaced].any()


def test_income_shock_is_a_mean_reverting_ar1():
    dev = np.full(50_000, 0.5)
    after = dynamics.income_shock(dev, 0.97, 0.05, np.random.default_rng(4))
    assert abs(after.mean() - 0.485) < 0.002
    assert abs(after.std() - 0.05) < 0.002


def test_youth_transition_uses_the_same_random_numbers_whatever_the_state():
    """Common random numbers: the draws consumed must not depend on who is NEET."""
    n = 500
    age = np.full(n, ADULT, dtype=np.int16)
    months = np.zeros(n, dtype=np.int16)
    hazard = np.full(n, 0.3)
    states = [np.zeros(n, dtype=np.uint8), np.full(n, 2, dtype=np.uint8)]  # all in education / all NEET
    after = []
    for status in states:
        rng = np.random.default_rng(4)
        exits = hazard[status == NEET]
        dynamics.youth_transition(status, months, age, exits, exits, hazard, rng, leave_education=0.02)
        after.append(rng.random())
    assert after[0] == after[1]


# ------------------------------------------- D10: exits to work and to education



def test_employment_support_raises_exits_to_work_and_leaves_exits_to_education_unchanged():
    months = np.array([0, 6, 24, 48, 0, 12], dtype=np.int16)
    mh = np.array([False, False, True, True, False, True])
    age = np.full(6, 20 * 12, dtype=np.int16)
    off = np.zeros(6, dtype=bool)
    work, education = dynamics.neet_exit_hazard(months, mh, off, age, **SPLIT)
    work_ips, education_ips = dynamics.neet_exit_hazard(months, mh, ~off, age, **SPLIT)
    np.testing.assert_array_equal(education_ips, education)
    by_months = 0.12 * (1 - 0.3) ** (months / 12.0) * np.where(mh, 0.6, 1.0)
    np.testing.assert_allclose(education, by_months * 0.45)
    np.testing.assert_allclose(work, by_months * 0.55)
    np.testing.assert_allclose(work_ips, work * np.where(mh, 1.63, 1.2))


def test_the_employment_support_effect_differs_by_mental_health_status():
    months = np.zeros(2, dtype=np.int16)
    mh = np.array([True, False])
    age = np.full(2, 19 * 12, dtype=np.int16)
    on, off = np.ones(2, dtype=bool), np.zeros(2, dtype=bool)
    ratio = dynamics.neet_exit_hazard(months, mh, on, age, **SPLIT)[0] / dynamics.neet_exit_hazard(months, mh, off, age, **SPLIT)[0]
    np.testing.assert_allclose(ratio, [1.63, 1.2])


def test_sixteen_and_seventeen_year_olds_exit_only_to_education_whatever_their_support():
    months = np.zeros(2, dtype=np.int16)
    age = np.full(2, AGE_16 + 6, dtype=np.int16)
    work, education = dynamics.neet_exit_hazard(months, np.zeros(2, dtype=bool), np.array([False, True]), age, **SPLIT)
    np.testing.assert_array_equal(work, 0.0)
    np.testing.assert_allclose(education, 0.12)


def test_exit_probabilities_must_be_one_per_neet_young_person():
    status = np.array([NEET, EDUCATION, NEET], dtype=np.uint8)
    months, age = np.zeros(3, dtype=np.int16), np.full(3, ADULT, dtype=np.int16)
    with pytest.raises(ValueError, match=r"one per NEET young person \(2\), got 3 and 3"):
        dynamics.youth_transition(status, months, age, np.zeros(3), np.zeros(3), np.zeros(3), DrawnAhead(np.zeros(3)), leave_education=0.0)


def test_one_draw_per_person_sends_a_neet_young_person_to_education_to_work_or_nowhere():
    status = np.full(4, NEET, dtype=np.uint8)
    months = np.full(4, 3, dtype=np.int16)
    age = np.full(4, 20 * 12, dtype=np.int16)
    to_work, to_education = np.full(4, 0.3), np.full(4, 0.2)
    draws = DrawnAhead(np.array([0.1, 0.25, 0.45, 0.6]))
    new, months_after = dynamics.youth_transition(status, months, age, to_work, to_education, np.zeros(4), draws, leave_education=0.0)
    np.testing.assert_array_equal(new, [EDUCATION, EMPLOYED, EMPLOYED, NEET])
    np.testing.assert_array_equal(months_after, [0, 0, 0, 4])


# ------------------------------------- youth labour market: leaving education, ILO status


def test_students_aged_18_or_more_leave_education_for_work_at_the_top_of_their_draw():
    # One draw per person: entry into NEET at the bottom of [0, 1), leaving education for
    # work at the top, so a lever that moves NEET entry moves no one's leaving education.
    status = np.full(6, EDUCATION, dtype=np.uint8)
    months = np.zeros(6, dtype=np.int16)
    age = np.array([ADULT, ADULT, ADULT, ADULT, AGE_16 + 6, AGE_16 + 23], dtype=np.int16)
    draws = DrawnAhead(np.array([0.01, 0.5, 0.97, 0.99, 0.99, 0.99]))
    none = np.zeros(0)  # no one is NEET
    new, _ = dynamics.youth_transition(status, months, age, none, none, np.full(6, 0.02), draws, leave_education=0.025)
    np.testing.assert_array_equal(new, [NEET, EDUCATION, EDUCATION, EMPLOYED, EDUCATION, EDUCATION])


def test_workers_and_neet_young_people_do_not_leave_education():
    status = np.array([EMPLOYED, NEET], dtype=np.uint8)
    months = np.array([0, 5], dtype=np.int16)
    age = np.full(2, ADULT, dtype=np.int16)
    new, months_after = dynamics.youth_transition(
        status, months, age, np.zeros(1), np.zeros(1), np.zeros(2), DrawnAhead(np.array([0.999, 0.999])), leave_education=0.5
    )
    np.testing.assert_array_equal(new, [EMPLOYED, NEET])
    np.testing.assert_array_equal(months_after, [0, 6])


def test_ilo_status_counts_students_with_a_job_as_employed_and_anyone_without_work_seeking_it_as_unemployed():
    # Ranks below a person's seeking limit seek work; students at or above the employed
    # threshold have a (part-time) job. NEET and students have their own seeking limits.
    status = np.array([EMPLOYED, EMPLOYED, NEET, NEET, NEET, EDUCATION, EDUCATION, EDUCATION, EDUCATION], dtype=np.uint8)
    rank = np.array([10, 65534, 99, 100, 65534, 9, 10, 39999, 40000], dtype=np.uint16)
    def by_status(student: int, neet: int, in_work: int = 0) -> np.ndarray:
        table = np.zeros(3, dtype=np.uint16)
        table[[EDUCATION, EMPLOYED, NEET]] = student, in_work, neet
        return table

    employed_from = by_status(40000, RANK_LEVELS)
    ilo = dynamics.ilo_status(status, rank, by_status(10, 100), employed_from)
    e, u, i = ILO_EMPLOYED, ILO_UNEMPLOYED, ILO_INACTIVE
    np.testing.assert_array_equal(ilo, [e, e, u, i, i, u, i, i, e])
    assert ilo.dtype == np.uint8
    everyone_seeks = dynamics.ilo_status(status, rank, by_status(10, RANK_LEVELS), employed_from)
    np.testing.assert_array_equal(everyone_seeks[status == NEET], u)


# ---------------------------------------------- exact values of the rules, checked by hand


def test_household_income_is_the_base_moved_by_its_shock_and_the_median_plus_gains_earnings_and_support():
    base = np.array([20_000.0, 10_000.0, 30_000.0])
    dev = np.array([0.0, np.log(2.0), -np.log(2.0)])
    gain = np.array([0.0, 500.0, 0.0])
    employed = np.array([0, 1, 2])
    support = np.array([100.0, 0.0, 50.0])
    income = dynamics.household_income(base, dev, gain, employed, 6_000.0, support, income_index=1.1)
    np.testing.assert_allclose(income, [22_000 + 100, 22_000 + 500 + 6_000, 16_500 + 12_000 + 50])
    plain = dynamics.household_income(base, dev, 0.0, np.zeros(3), 6_000.0, 0.0)  # the median of FYE 2020, nothing added
    np.testing.assert_allclose(plain, [20_000, 20_000, 15_000])


def test_one_bill_discount_for_every_home_is_taken_off_each_bands_cost_but_not_below_zero():
    ratios = np.array([0.45, 0.55, 0.76, 1.0, 1.25, 1.55, 1.9])
    band = np.array([0, 3, 6, 3], dtype=np.uint8)
    np.testing.assert_allclose(dynamics.fuel_cost(band, 2_000.0, ratios, 400.0), [500.0, 1_600.0, 3_400.0, 1_600.0])
    np.testing.assert_allclose(dynamics.fuel_cost(band, 2_000.0, ratios, 1_000.0), [0.0, 1_000.0, 2_800.0, 1_000.0])


def test_a_cold_home_multiplies_the_odds_of_onset_by_the_ratio():
    # Baseline onset 0.2 (odds 0.25); in a cold home with odds ratio 3 the odds are 0.75,
    # a probability of 0.75 / 1.75 = 0.4286. Draws just either side of each probability.
    cold = np.array([True, True, False, False])
    draws = np.array([0.4285, 0.4287, 0.1999, 0.2001])
    in_home = np.where(cold, dynamics.onset_in_home(np.float64(0.2), 3.0), dynamics.onset_in_home(np.float64(0.2), 1.0))
    np.testing.assert_allclose(in_home, [0.75 / 1.75, 0.75 / 1.75, 0.2, 0.2])
    onset = dynamics.mental_health_transition(np.zeros(4, dtype=bool), in_home, 0.06, DrawnAhead(draws))
    np.testing.assert_array_equal(onset, [True, False, True, False])
    recovered = dynamics.mental_health_transition(np.ones(2, dtype=bool), np.full(2, 0.2), 0.06, DrawnAhead(np.array([0.0599, 0.0601])))
    np.testing.assert_array_equal(recovered, [False, True])  # True: still a disorder


def test_an_income_shock_adds_the_spread_times_the_draw_to_the_decayed_deviation():
    dev = np.array([0.5, -0.2, 0.0])
    z = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(dynamics.income_shock(dev, 0.9, 0.1, DrawnAhead(z)), [0.55, -0.38, 0.05])


def test_a_young_person_counts_as_eighteen_from_the_month_they_turn_eighteen():
    # Exactly 18: a NEET exit may be into work, a student may leave for work, and a move
    # into work makes them employed; a month younger, none of these.
    age = np.array([AGE_18, AGE_18 - 1], dtype=np.int16)
    to_work, _ = dynamics.neet_exit_hazard(np.zeros(2), np.zeros(2, dtype=bool), np.zeros(2, dtype=bool), age, **HAZARD)
    assert to_work[0] > 0 and to_work[1] == 0
    students = np.full(2, EDUCATION, dtype=np.uint8)
    left, _ = dynamics.youth_transition(students, np.zeros(2, dtype=np.int16), age, np.zeros(0), np.zeros(0), np.zeros(2),
                                        DrawnAhead(np.array([0.99, 0.99])), leave_education=0.025)
    np.testing.assert_array_equal(left, [EMPLOYED, EDUCATION])
    neet = np.full(2, NEET, dtype=np.uint8)
    moved, _ = dynamics.youth_transition(neet, np.ones(2, dtype=np.int16), age, np.full(2, 0.5), np.zeros(2), np.zeros(2),
                                         DrawnAhead(np.array([0.1, 0.1])), leave_education=0.0)
    assert moved[0] == EMPLOYED


def test_on_1_september_a_year_12_starter_is_neet_when_their_draw_is_below_their_places_rate():
    # Aged 16y0m and 16y11m on 1 September start Year 12; 17y0m started a year ago.
    ages = np.array([AGE_16, AGE_16 + 11, AGE_16 + 11, AGE_16 + 12], dtype=np.int16)
    status = np.full(4, EDUCATION, dtype=np.uint8)
    rate = np.array([0.3, 0.3, 0.9, 0.9])
    new_status = dynamics.september_entry(status, ages, rate, DrawnAhead(np.array([0.29, 0.31, 0.5, 0.1])))
    np.testing.assert_array_equal(new_status, [NEET, EDUCATION, NEET, EDUCATION])


def test_exit_hazards_stay_probabilities_when_a_multiplier_would_push_them_above_one():
    work, education = dynamics.neet_exit_hazard(
        np.zeros(2), np.array([False, True]), np.zeros(2, dtype=bool), np.full(2, ADULT, dtype=np.int16),
        **{**HAZARD, "base": 0.6, "mh_multiplier": 2.5},
    )
    np.testing.assert_allclose(work + education, [0.6, 1.0])  # 0.6 x 2.5 = 1.5, held at 1
    np.testing.assert_allclose([work[1], education[1]], [0.55, 0.45])  # split by the work share of an exit of 1


def test_ilo_status_of_several_places_uses_each_persons_place_limits():
    rng = np.random.default_rng(0)
    status = rng.integers(0, 3, size=200).astype(np.uint8)
    rank = rng.integers(0, RANK_LEVELS, size=200).astype(np.uint16)
    place = np.sort(rng.integers(0, 4, size=200)).astype(np.int16)
    limits = rng.integers(0, 30000, size=(4, 3)).astype(np.uint16)
    limits[:, EMPLOYED] = 0
    employed_from = np.array([40000, 0, RANK_LEVELS], dtype=np.uint16)
    together = dynamics.ilo_status(status, rank, limits, employed_from, place)
    for p in range(4):
        alone = dynamics.ilo_status(status[place == p], rank[place == p], limits[p], employed_from)
        np.testing.assert_array_equal(together[place == p], alone)


def test_fuel_poverty_by_band_flags_the_households_fuel_poor_flags_with_each_bands_cost():
    rng = np.random.default_rng(2)
    band = rng.integers(0, 7, 5_000).astype(np.uint8)
    income = rng.lognormal(9.8, 0.6, 5_000)
    by_band = dynamics.fuel_cost(np.arange(7), 2_100.0, np.array([0.45, 0.55, 0.76, 1.0, 1.25, 1.55, 1.9]), 150.0)
    expected = dynamics.fuel_poor(band, income, by_band[band], 14_000.0)
    np.testing.assert_array_equal(dynamics.fuel_poor_by_band(band, income, by_band, 14_000.0), expected)
    assert expected.any() and not expected[band < 3].any()
