"""The young people's labour market on the ILO basis: leaving education, job seeking, the official rate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pfpp_sim import data, labour_market
from pfpp_sim.dynamics import ilo_status
from pfpp_sim.model import PfppModel
from pfpp_sim.population import (
    AGE_18,
    EDUCATION,
    EMPLOYED,
    ILO_EMPLOYED,
    ILO_UNEMPLOYED,
    MONTHS_18_TO_24,
    NEET,
    RANK_LEVELS,
    employed_by_age,
    leaving_education_hazard,
)
from pfpp_sim.scenario import load_scenario

TWO_PLACES = ["E07000062", "E06000032"]  # Hastings, Luton


@pytest.fixture(autouse=True)
def _computed_afresh():
    """Each test computes the anchor, England's composition and rates itself, not from an earlier test's cache."""
    for cached in (labour_market._anchor_factor, labour_market._composition, labour_market._england_rates):
        cached.cache_clear()


def scenario(**overrides):
    return load_scenario("siloed_baseline").with_overrides(overrides)


# ------------------------------------------------------------ leaving education for work


@pytest.mark.parametrize("share", [0.3, 0.55, 0.8])
def test_the_leaving_education_hazard_gives_the_employed_share_on_average_over_ages_18_to_24(share):
    hazard = leaving_education_hazard(share)
    employed = employed_by_age(np.arange(MONTHS_18_TO_24), hazard)
    assert employed[0] == 0.0
    assert np.all(np.diff(employed) > 0)
    assert employed.mean() == pytest.approx(share, abs=1e-9)


def test_the_split_of_18_to_24_year_olds_between_work_and_education_stays_steady_over_a_run():
    # Given students who leave education for work as they age (and the age profile that
    # steady state implies at the start), expect the employed share of 18-24 year olds
    # not NEET to stay at employed_share_of_eet instead of draining into education.
    sc = scenario(**{"run.places": TWO_PLACES, "run.horizon_months": 48, "run.min_young_people_per_place": 20000})
    model = PfppModel(sc, seed=5)
    y = model.population.young
    target = model.scenario.world.young_people.employed_share_of_eet.value

    def employed_share() -> float:
        older = (y.age_months >= AGE_18) & (y.status != NEET)
        return float(np.mean(y.status[older] == EMPLOYED))

    shares = [employed_share()]
    for _ in range(48):
        model.step()
        shares.append(employed_share())
    assert abs(shares[0] - target) < 0.01, shares[0]
    assert max(abs(s - target) for s in shares) < 0.02, shares
    oldest, youngest = y.age_months >= 24 * 12, y.age_months < 19 * 12
    not_neet = y.status != NEET
    assert np.mean(y.status[oldest & not_neet] == EMPLOYED) > np.mean(y.status[youngest & not_neet] == EMPLOYED) + 0.3


# ------------------------------------------------------------ job seeking: places and years


def test_job_seeking_shares_scale_with_the_places_modelled_unemployment_rate_and_the_elasticity():
    sc = scenario(**{"world.young_people.unemployment_elasticity.value": 0.5})
    yw = sc.world.young_people
    dates = pd.date_range("2022-10-01", periods=3, freq="MS")
    seeking = labour_market.job_seeking(sc, np.array([1.0, 1.44]), dates)
    anchor = labour_market.anchor_factor(sc)
    expected_neet = np.rint(yw.neet_seeking_work_share.value * anchor * np.array([1.0, 1.2]) * RANK_LEVELS)
    expected_student = np.rint(yw.student_seeking_work_share.value * anchor * np.array([1.0, 1.2]) * RANK_LEVELS)
    np.testing.assert_array_equal(seeking.neet_limit, np.tile(expected_neet, (3, 1)))
    np.testing.assert_array_equal(seeking.student_limit, np.tile(expected_student, (3, 1)))
    assert seeking.student_employed_from == round((1 - yw.student_employed_share.value) * RANK_LEVELS)


def test_job_seeking_moves_with_englands_modelled_unemployment_rate_by_calendar_year_held_beyond_the_data():
    # Years after the data take the last year's rate, years before it the first year's.
    table = data.modelled_unemployment().set_index(["area_code", "year"])["rate"]
    england = {year: table[(data.ENGLAND, year)] for year in (2019, 2022, 2023)}
    first = min(year for code, year in table.index if code == data.ENGLAND)
    dates = pd.DatetimeIndex(["2019-06-01", "2022-12-01", "2023-01-01", "2026-03-01", f"{first}-01-01", f"{first - 3}-01-01"])
    np.testing.assert_allclose(
        labour_market.year_factors(dates),
        [england[2019] / england[2022], 1.0, england[2023] / england[2022], england[2023] / england[2022],
         table[(data.ENGLAND, first)] / england[2022], table[(data.ENGLAND, first)] / england[2022]],
    )


def test_the_anchor_gives_england_as_the_sum_of_its_authorities_the_published_youth_unemployment_rate():
    for employed_share, elasticity in ((0.45, 1.0), (0.55, 1.0), (0.55, 0.5)):
        sc = scenario(**{
            "world.young_people.employed_share_of_eet.value": employed_share,
            "world.young_people.unemployment_elasticity.value": elasticity,
        })
        yw = sc.world.young_people
        c = labour_market.england_composition(sc)
        assert c.young_people.size == len(data.places("all"))
        np.testing.assert_allclose(c.neet + c.employed + c.education, 1.0)
        k = labour_market.anchor_factor(sc)
        # By hand: each authority's unemployed and in work, weighted by its young people.
        scale = k * c.unemployment_relative**elasticity
        unemployed = c.neet * yw.neet_seeking_work_share.value * scale + c.education * yw.student_seeking_work_share.value * scale
        in_work = c.employed + c.education * yw.student_employed_share.value
        rate = np.dot(c.young_people, unemployed) / np.dot(c.young_people, unemployed + in_work)
        assert rate == pytest.approx(yw.unemployment_rate_16_24_anchor.value, abs=1e-9)


@pytest.mark.parametrize(("target", "factor"), [(0.0, 0.0), (0.99, 100.0)], ids=["no unemployment", "beyond the caps"])
def test_an_anchor_of_no_unemployment_needs_no_seeking_and_one_out_of_reach_stops_at_the_largest_factor(target, factor):
    sc = scenario(**{"world.young_people.unemployment_rate_16_24_anchor.value": target})
    assert labour_market.anchor_factor(sc) == factor


def test_the_national_rate_is_the_authorities_unemployed_over_their_economically_active_by_hand():
    # Two authorities of 100 and 300 young people; the second's unemployment rate (16+) is 4 times the first's.
    sc = scenario(**{
        "world.young_people.neet_seeking_work_share.value": 0.3, "world.young_people.student_seeking_work_share.value": 0.1,
        "world.young_people.student_employed_share.value": 0.3, "world.young_people.unemployment_elasticity.value": 0.5,
    })
    c = labour_market.Composition(
        young_people=np.array([100.0, 300.0]), neet=np.array([0.1, 0.2]), employed=np.array([0.3, 0.4]),
        education=np.array([0.6, 0.4]), unemployment_relative=np.array([1.0, 4.0]),
    )
    # Factor 1.5, scaled by 4 ** 0.5 in the second: seeking shares 0.45 and 0.9 of the NEET, 0.15 and 0.3 of students.
    # Unemployed 100 (0.1 * 0.45 + 0.6 * 0.15) + 300 (0.2 * 0.9 + 0.4 * 0.3) = 103.5; in work
    # 100 (0.3 + 0.6 * 0.3) + 300 (0.4 + 0.4 * 0.3) = 204.
    assert labour_market.national_rate(sc, c, 1.5) == pytest.approx(103.5 / 307.5)
    # Factor 4: NEET shares 1.2 and 2.4 capped at 1; students' 0.4 and 0.8, the second capped at 1 - 0.3 (those
    # with a job do not seek one): unemployed 100 (0.1 + 0.6 * 0.4) + 300 (0.2 + 0.4 * 0.7) = 178.
    assert labour_market.national_rate(sc, c, 4.0) == pytest.approx(178.0 / 382.0)


def test_the_seeking_and_job_tables_hold_every_month_place_and_status_as_uint16():
    sc = scenario()
    dates = pd.date_range("2022-10-01", periods=4, freq="MS")
    seeking = labour_market.job_seeking(sc, np.array([0.8, 1.0, 1.3]), dates)
    assert seeking.unemployed_below.shape == (4, 3, 3) and seeking.unemployed_below.dtype == np.uint16
    assert not seeking.unemployed_below[..., EMPLOYED].any(), "no one in work seeks work"
    assert seeking.employed_from.shape == (3,) and seeking.employed_from.dtype == np.uint16
    jobs = round((1 - sc.world.young_people.student_employed_share.value) * RANK_LEVELS)
    assert seeking.employed_from[[EDUCATION, EMPLOYED, NEET]].tolist() == [jobs, 0, RANK_LEVELS]


def test_every_young_person_in_work_is_ilo_employed_whatever_their_rank():
    seeking = labour_market.job_seeking(scenario(), np.array([1.0]), pd.date_range("2022-10-01", periods=1, freq="MS"))
    ranks = np.array([0, 1, RANK_LEVELS // 2, RANK_LEVELS - 1], dtype=np.uint16)
    status = ilo_status(np.full(4, EMPLOYED, dtype=np.uint8), ranks, seeking.unemployed_below[0], seeking.employed_from, np.zeros(4, dtype=int))
    assert (status == ILO_EMPLOYED).all()


def test_a_place_with_a_higher_modelled_unemployment_rate_has_a_higher_youth_unemployment_rate():
    # Birmingham's modelled unemployment rate (16+) is about twice Cornwall's.
    codes = ["E08000025", "E06000052"]
    relative = data.places(codes).set_index("area_code")["unemployment_relative"]
    assert relative["E08000025"] > 1.5 * relative["E06000052"]
    model = PfppModel(scenario(**{"run.places": codes, "run.horizon_months": 1, "run.start": "2022-10"}), seed=2)
    neet_limit = model.residents.job_seeking.neet_limit[0]
    assert neet_limit[0] / neet_limit[1] == pytest.approx(relative["E08000025"] / relative["E06000052"], rel=1e-3)
    rate = model.initial_rates["youth_unemployment_rate"]
    assert rate[0] > rate[1] + 0.03, rate


# ------------------------------------------------------------ the acceptance test


E81 = {  # ILO unemployment rate 16-24, UK: period -> (first month, last month, rate)
    "Oct-Dec 2022": ("2022-10", "2022-12", 0.113),
    "Feb-Apr 2023": ("2023-02", "2023-04", 0.109),
    "Oct-Dec 2023": ("2023-10", "2023-12", 0.116),
    "Nov 2023-Jan 2024": ("2023-11", "2024-01", 0.121),
}


def test_national_youth_unemployment_rate_of_the_siloed_baseline_is_within_two_points_of_the_published_rate():
    # Given every English authority at 1:500 from October 2022 for two years, expect
    # England's ILO youth unemployment rate (unemployed / economically active, 16-24),
    # counted over all places, within 2 percentage points of E81 in each published period.
    sc = scenario(**{"run.places": "all", "run.scale": 0.002, "run.start": "2022-10", "run.horizon_months": 24})
    model = PfppModel(sc, seed=1)
    weight = model.population.places.youth_weight
    national = []
    for _ in range(24):
        model.step()
        counts = model.counts
        national.append(np.dot(counts["unemployed_16_24"], weight) / np.dot(counts["active_16_24"], weight))
    months = pd.period_range("2022-10", periods=24, freq="M")
    for period, (first, last, published) in E81.items():
        window = (months >= pd.Period(first, "M")) & (months <= pd.Period(last, "M"))
        simulated = float(np.mean(np.array(national)[window]))
        assert abs(simulated - published) < 0.02, f"{period}: simulated {simulated:.4f}, published {published}"


# ------------------------------------------------------------ CRN and employment support


def test_changing_a_lever_does_not_redraw_who_would_seek_work():
    sc = scenario(**{"run.places": TWO_PLACES, "run.horizon_months": 30})
    lever = sc.with_overrides({"levers.pooling": 0.6, "levers.data_sharing": 0.8})
    base, other = PfppModel(sc, seed=6), PfppModel(lever, seed=6)
    assert base.population.young.job_search_rank.dtype == np.uint16
    np.testing.assert_array_equal(base.population.young.job_search_rank, other.population.young.job_search_rank)
    base.run()
    other.run()
    # Newcomers (16-year-olds replacing those turning 25) draw theirs from their own stream.
    np.testing.assert_array_equal(base.population.young.job_search_rank, other.population.young.job_search_rank)
    assert not np.array_equal(base.population.young.status, other.population.young.status)


def test_employment_support_moves_more_job_seekers_into_work_on_the_same_draws():
    # Given the same residents and random numbers, employment support for every NEET young
    # person seeking work sends a superset of them into work in the month.
    sc = scenario(**{"run.places": TWO_PLACES, "run.horizon_months": 2})
    without, with_support = PfppModel(sc, seed=8), PfppModel(sc, seed=8)
    y = with_support.population.young
    seekers = (y.status == NEET) & (y.ilo_status == ILO_UNEMPLOYED) & (y.age_months >= AGE_18)
    assert seekers.sum() > 80  # enough to see a difference
    y.ips_until[seekers] = 6
    without.step_residents(0)
    with_support.step_residents(0)
    worked_without = seekers & (without.population.young.status == EMPLOYED)
    worked_with = seekers & (y.status == EMPLOYED)
    assert np.all(worked_with[worked_without])
    assert worked_with.sum() > worked_without.sum()
    np.testing.assert_array_equal(y.status[~seekers], without.population.young.status[~seekers])
