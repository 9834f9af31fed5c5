"""The model's resident rules twice: one Mesa agent per resident, and the model's vectorised step.

The naive reference is what a first Mesa version of pfpp_sim would look like: every
household and every young person is a ``mesa.Agent`` with scalar state and its own
``step``, and the model advances them with ``AgentSet.do``. It applies the same monthly
rules, with the same parameters, as :meth:`pfpp_sim.model.PfppModel.step_residents`:

- young people (stepped first): NEET exits into education and into work (18 and over),
  with duration scarring and a probable mental disorder, employment support raising exits
  into work only (by mental-health status); NEET entry hazard by place and school group
  (none in Year 11; Years 12-13 with the fitted NEET trend, held after its data years; those
  past them), careers guidance and outreach; moves between education,
  employment and NEET, students of 18 and over leaving education for work; mental-health onset (odds raised by a cold home, baseline onset
  solved per place at set-up from the prevalence path and the reference cold homes) and recovery; ageing, with those turning 25 replaced
  by 16-year-olds in school in the same household (with a job-search rank of their own); on
  1 September, Year 12 starters NEET with their place's NEET 16-17 rate; ILO status from status, job-search
  rank and the month's seeking limits of the place;
- households: AR(1) log-income shock, the fitted income trend (in its data years), income after housing
  costs moving with the national median (as the relative poverty line does), income advice gains, earnings of employed young people, cost-of-living
  payments), required fuel cost by band with bill support, the LILEE fuel-poverty flag,
  months in a cold home;
- then each place's outcome rates (:func:`pfpp_sim.outcomes.resident_rates`).

Both versions start from the same residents: those a :class:`~pfpp_sim.model.PfppModel`
builds, with some interventions already running (:func:`activate_interventions`) so that
every branch of the rules is used. They draw their own random numbers (the naive one from
Mesa's ``Model.random``, the faster of Mesa's generators for one number at a time), so
their rates differ by Monte Carlo error only. The naive version exists only as a
reference for the benchmarks; the model never uses it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import mesa
import numpy as np

from pfpp_sim.model import PfppModel
from pfpp_sim.outcomes import resident_rates
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
    RANK_LEVELS,
)
from pfpp_sim.scenario import Scenario

__all__ = [
    "NaiveHousehold",
    "NaiveResidentsModel",
    "NaiveYoungPerson",
    "RuleRun",
    "activate_interventions",
    "rates_agree",
    "run_naive",
    "run_vectorised",
]

COMPARED = ("fuel_poverty_rate", "neet_16_24_rate", "youth_unemployment_rate", "youth_mh_rate")
"""National (all simulated residents) rates compared between the two versions."""


def activate_interventions(model: PfppModel, *, seed: int, share: float = 0.1, months: int = 6) -> None:
    """Start some interventions on a share of residents, in place, so every branch of the rules runs.

    A ``share`` of households each get the income-advice gain and bill support (for
    ``months``), and a ``share`` of young people each get careers guidance, employment
    support and outreach (for ``months``), chosen independently.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(99,)))
    h, y = model.population.households, model.population.young
    h.income_gain_until[rng.random(h.n) < share] = months
    supported = rng.random(h.n) < share
    h.bill_support[supported] = model.effect["bill_support"]
    h.bill_support_until[supported] = months
    for column in (y.careers_until, y.ips_until, y.asb_until):
        column[rng.random(y.n) < share] = months


class NaiveHousehold(mesa.Agent):
    """One household as a Mesa agent, with scalar state and its own monthly step."""

    def __init__(self, model: NaiveResidentsModel, place: int, base_income: float, income_dev: float, income_gain_until: int,
                 band: int, means_tested: bool, bill_support: float, bill_support_until: int, fuel_poor: bool) -> None:
        super().__init__(model)
        self.place = place
        self.base_income = base_income
        self.income_dev = income_dev
        self.income_gain_until = income_gain_until
        self.band = band
        self.means_tested = means_tested
        self.bill_support = bill_support
        self.bill_support_until = bill_support_until
        self.fuel_poor = fuel_poor
        self.months_cold = 0
        self.young: list[NaiveYoungPerson] = []

    def update_fuel_poverty(self, t: int) -> None:
        """Income after housing costs against required fuel cost: the LILEE flag."""
        m = self.model
        employed = sum(m.youth_link[self.place] for person in self.young if person.status == EMPLOYED)
        index = m.income_index[t]
        income = self.base_income * math.exp(self.income_dev) * index + m.gain_gbp * (self.income_gain_until > t) + m.youth_earnings * index * employed
        if self.means_tested:
            income += m.means_tested_gbp[t]
        discount = (self.bill_support if self.bill_support_until > t else 0.0) + m.bill_discount_gbp[t]
        cost = max(m.price_gbp[t] * m.band_cost[self.band] - discount, 0.0)
        self.fuel_poor = self.band >= BAND_D and income - cost < m.poverty_line[t]

    def step(self) -> None:
        m = self.model
        t = m.month
        self.income_dev = m.persistence * self.income_dev + m.shock_sd * m.random.gauss(0.0, 1.0)
        if m.income_growth is not None and t < m.income_trend_months:
            self.base_income *= m.income_growth[self.place]
        self.update_fuel_poverty(t)
        if self.fuel_poor:
            self.months_cold += 1


class NaiveYoungPerson(mesa.Agent):
    """One young person aged 16-24 as a Mesa agent, linked to a household agent."""

    def __init__(self, model: NaiveResidentsModel, place: int, household: NaiveHousehold, age_months: int, status: int,
                 months_neet: int, mh_disorder: bool, careers_until: int, ips_until: int, asb_until: int,
                 job_search_rank: int, ilo_status: int) -> None:
        super().__init__(model)
        self.place = place
        self.household = household
        self.age_months = age_months
        self.status = status
        self.months_neet = months_neet
        self.mh_disorder = mh_disorder
        self.careers_until = careers_until
        self.ips_until = ips_until
        self.asb_until = asb_until
        self.job_search_rank = job_search_rank
        self.ilo_status = ilo_status
        household.young.append(self)

    def step(self) -> None:
        m = self.model
        t, rnd = m.month, m.random
        leave = m.exit_base * (1.0 - m.scarring) ** (min(max(self.months_neet, 0), 48) / 12.0)
        if self.mh_disorder:
            leave *= m.mh_multiplier
        leave = min(max(leave, 0.0), 1.0)
        if self.age_months >= AGE_18:
            to_education = leave * (1.0 - m.employed_share)
            to_work = leave * m.employed_share
            if self.ips_until > t:
                to_work *= m.ips_risk_ratio if self.mh_disorder else m.ips_risk_ratio_other
            to_work = min(to_work, 1.0 - to_education)
        else:
            to_education, to_work = leave, 0.0
        academic = self.age_months - m.since_september[t]
        entry_h = 0.0 if academic < AGE_16 else m.entry_base[self.place][academic >= AGE_18]
        if self.careers_until > t:
            entry_h *= 1.0 - m.careers_effect
        if self.asb_until > t:
            entry_h *= 1.0 - m.asb_effect
        draw = rnd.random()
        if self.status == NEET:
            if draw < to_education:
                self.status = EDUCATION
            elif draw < to_education + to_work:
                self.status = EMPLOYED
        elif draw < entry_h:
            self.status = NEET
        elif self.status == EDUCATION and self.age_months >= AGE_18 and draw >= 1.0 - m.leave_education:
            self.status = EMPLOYED
        self.months_neet = self.months_neet + 1 if self.status == NEET else 0
        odds = m.onset_base[self.place] / (1.0 - m.onset_base[self.place])
        if self.household.fuel_poor:
            odds *= m.cold_home_odds_ratio
        draw = rnd.random()
        self.mh_disorder = draw >= m.recovery if self.mh_disorder else draw < odds / (1.0 + odds)
        self.age_months += 1
        if self.age_months >= AGE_25:  # replaced by a 16-year-old in the same household
            self.age_months = AGE_16
            self.status = EDUCATION
            self.months_neet = 0
            self.mh_disorder = rnd.random() < m.prevalence
            self.careers_until = self.ips_until = self.asb_until = 0
            self.job_search_rank = rnd.randrange(RANK_LEVELS)
        if m.since_september[t + 1] == 0:
            start_neet = m.year_12_neet[self.place]
            if self.careers_until > t:
                start_neet *= 1.0 - m.careers_effect
            if self.asb_until > t:
                start_neet *= 1.0 - m.asb_effect
            if self.age_months < AGE_17 and rnd.random() < start_neet:
                self.status = NEET  # starts Year 12 without a place
        seeking = self.job_search_rank < (m.neet_limit if self.status == NEET else m.student_limit)[self.place]
        if self.status == EMPLOYED or (self.status == EDUCATION and self.job_search_rank >= m.student_employed_from):
            self.ilo_status = ILO_EMPLOYED
        else:
            self.ilo_status = ILO_UNEMPLOYED if seeking else ILO_INACTIVE


class NaiveResidentsModel(mesa.Model):
    """Every resident of a :class:`~pfpp_sim.model.PfppModel` as a Mesa agent, with its parameters.

    Parameters
    ----------
    source : PfppModel
        Supplies the starting residents and every parameter (read, never changed).
    seed : int
        Seed of Mesa's generators.
    """

    def __init__(self, source: PfppModel, *, seed: int) -> None:
        super().__init__(seed=seed)
        sc = source.scenario
        hw, yw = sc.world.households, sc.world.young_people
        pop, exo = source.population, source.exo
        self.month = 0
        self.places = pop.places
        self.persistence, self.shock_sd = hw.income_persistence.value, hw.income_shock_sd.value
        self.poverty_line, self.income_index = exo.poverty_line_gbp.tolist(), exo.income_index.tolist()
        engine = source.residents
        self.band_cost = engine.band_cost.tolist()
        self.price_gbp, self.bill_discount_gbp = exo.price_gbp.tolist(), exo.bill_discount_gbp.tolist()
        self.means_tested_gbp, self.mh_prevalence = exo.means_tested_gbp.tolist(), exo.mh_prevalence.tolist()
        self.youth_earnings, self.gain_gbp = yw.youth_earnings.value, source.effect["income_advice"]
        self.youth_link = engine.youth_link.tolist()
        self.income_growth = None if engine.income_growth is None else engine.income_growth.tolist()
        self.income_trend_months, self.neet_trend_months = engine.income_trend_months, engine.neet_trend_months
        self.exit_base, self.scarring = yw.neet_exit_hazard.value, yw.neet_scarring.value
        self.mh_multiplier, self.ips_risk_ratio = yw.mh_job_finding_multiplier.value, source.effect["employment_support"]
        self.ips_risk_ratio_other = source.effect_without_disorder["employment_support"]
        self.careers_effect, self.asb_effect = source.effect["careers_guidance"], source.effect["asb_outreach"]
        self.employed_share, self.recovery = yw.employed_share_of_eet.value, yw.mh_recovery_hazard.value
        self.leave_education, self.job_seeking = engine.leave_education, engine.job_seeking
        self.cold_home_odds_ratio = source.cold_home_odds_ratio
        self.entry_hazard = engine.entry_hazard.tolist()
        self.since_september = engine.since_september.tolist()
        self.base_onset = engine.base_onset.tolist()
        h, y = pop.households, pop.young
        households = [
            NaiveHousehold(self, *row)
            for row in zip(h.place.tolist(), h.base_income.tolist(), h.income_dev.tolist(), h.income_gain_until.tolist(),
                           h.band.tolist(), h.means_tested.tolist(), h.bill_support.tolist(), h.bill_support_until.tolist(),
                           h.fuel_poor.tolist())
        ]
        for place, household, *row in zip(y.place.tolist(), y.household.tolist(), y.age_months.tolist(), y.status.tolist(),
                                          y.months_neet.tolist(), y.mh_disorder.tolist(), y.careers_until.tolist(),
                                          y.ips_until.tolist(), y.asb_until.tolist(), y.job_search_rank.tolist(),
                                          y.ilo_status.tolist()):
            NaiveYoungPerson(self, place, households[household], *row)
        self.households = self.agents_by_type[NaiveHousehold]
        self.young = self.agents_by_type[NaiveYoungPerson]

    def step(self) -> None:
        """Young people, then households, one month; then each place's rates."""
        t = self.month
        prevalence = self.mh_prevalence[t]
        drift = [math.exp(trend * min(t + 1, self.neet_trend_months) / 12.0) for trend in self.places.neet_trend.tolist()]
        self.entry_base = [(hz[0] * d, hz[1]) for hz, d in zip(self.entry_hazard, drift)]
        self.year_12_neet = [min(rate * d, 1.0) for rate, d in zip(self.places.target_neet_16_17.tolist(), drift)]
        self.prevalence = prevalence
        self.onset_base = self.base_onset[t]
        self.neet_limit = self.job_seeking.neet_limit[t].tolist()
        self.student_limit = self.job_seeking.student_limit[t].tolist()
        self.student_employed_from = self.job_seeking.student_employed_from
        self.young.do("step")
        self.households.do("step")
        self.rates = self.resident_rates()
        self.month += 1

    def resident_rates(self) -> dict[str, np.ndarray]:
        """Each place's rates, as :func:`pfpp_sim.outcomes.resident_rates` measures them."""
        n = self.places.n
        households, fuel_poor = [0] * n, [0] * n
        for household in self.households:
            households[household.place] += 1
            fuel_poor[household.place] += household.fuel_poor
        young, young_1617, neet_1617, neet, mh = ([0] * n for _ in range(5))
        active, unemployed, active_1824, unemployed_1824 = ([0] * n for _ in range(4))
        for person in self.young:
            p, is_neet = person.place, person.status == NEET
            is_active, is_unemployed = person.ilo_status != ILO_INACTIVE, person.ilo_status == ILO_UNEMPLOYED
            young[p] += 1
            neet[p] += is_neet
            mh[p] += person.mh_disorder
            active[p] += is_active
            unemployed[p] += is_unemployed
            if AGE_16 <= person.age_months - self.since_september[self.month + 1] < AGE_18:
                young_1617[p] += 1
                neet_1617[p] += is_neet
            if person.age_months >= AGE_18:
                active_1824[p] += is_active
                unemployed_1824[p] += is_unemployed
        return {
            "fuel_poverty_rate": _share(fuel_poor, households),
            "neet_16_17_rate": _share(neet_1617, young_1617),
            "neet_16_24_rate": _share(neet, young),
            "youth_unemployment_rate": _share(unemployed, active),
            "youth_unemployment_rate_18_24": _share(unemployed_1824, active_1824),
            "youth_mh_rate": _share(mh, young),
        }


def _share(counts: list[int], totals: list[int]) -> np.ndarray:
    return np.array([c / n if n else 0.0 for c, n in zip(counts, totals)])


@dataclass(frozen=True)
class RuleRun:
    """National rates after each month, and the seconds spent.

    Attributes
    ----------
    rates : dict of str to ndarray of float64, shape (months,)
        Each of :data:`COMPARED`: the share of all simulated residents, month by month.
    build_seconds : float
        Creating the agents (naive) or copying the starting state (vectorised).
    step_seconds : float
        Advancing every resident ``months`` times, outcome rates included.
    residents : int
        Households plus young people.
    """

    rates: dict[str, np.ndarray]
    build_seconds: float
    step_seconds: float
    residents: int


def _national(rates: dict[str, np.ndarray], households: np.ndarray, young: np.ndarray) -> dict[str, float]:
    weights = {"fuel_poverty_rate": households, "neet_16_24_rate": young, "youth_unemployment_rate": young, "youth_mh_rate": young}
    return {k: float(np.dot(rates[k], weights[k]) / weights[k].sum()) for k in COMPARED}


def _sizes(model: PfppModel) -> tuple[np.ndarray, np.ndarray]:
    pop = model.population
    return (np.array([s.stop - s.start for s in pop.households.slices], dtype=float),
            np.array([s.stop - s.start for s in pop.young.slices], dtype=float))


def starting_model(scenario: Scenario, *, seed: int) -> PfppModel:
    """The model whose residents both versions start from, with some interventions running."""
    model = PfppModel(scenario, seed=seed)
    activate_interventions(model, seed=seed)
    return model


def run_naive(scenario: Scenario, months: int, *, seed: int) -> RuleRun:
    """Advance the starting residents as one Mesa agent each for ``months`` months."""
    source = starting_model(scenario, seed=seed)
    households, young = _sizes(source)
    started = time.perf_counter()
    model = NaiveResidentsModel(source, seed=seed)
    built = time.perf_counter()
    del source
    monthly: dict[str, list[float]] = {k: [] for k in COMPARED}
    stepping = 0.0
    for _ in range(months):
        begin = time.perf_counter()
        model.step()
        stepping += time.perf_counter() - begin
        for k, v in _national(model.rates, households, young).items():
            monthly[k].append(v)
    return RuleRun({k: np.array(v) for k, v in monthly.items()}, built - started, stepping, int(households.sum() + young.sum()))


def run_vectorised(scenario: Scenario, months: int, *, seed: int) -> RuleRun:
    """Advance the same starting residents with the model's vectorised step for ``months`` months.

    Only :meth:`PfppModel.step_residents` and :func:`pfpp_sim.outcomes.resident_rates`
    run: no departments, councils or deliveries, as in the naive version.
    """
    model = starting_model(scenario, seed=seed)
    households, young = _sizes(model)
    monthly: dict[str, list[float]] = {k: [] for k in COMPARED}
    stepping = 0.0
    for t in range(months):
        begin = time.perf_counter()
        model.step_residents(t)
        rates = resident_rates(model.population, int(model.residents.since_september[t + 1]))
        stepping += time.perf_counter() - begin
        for k, v in _national(rates, households, young).items():
            monthly[k].append(v)
    return RuleRun({k: np.array(v) for k, v in monthly.items()}, 0.0, stepping, int(households.sum() + young.sum()))


def rates_agree(naive: RuleRun, vectorised: RuleRun, households: int, young: int, *, within: float = 4.0) -> dict[str, dict]:
    """Compare the two runs' national rates: mean of months and last month, in standard errors.

    The two runs use independent random numbers from the same starting residents, so a
    rate's difference has variance at most ``2 p (1 - p) / n`` (``n`` households for fuel
    poverty, half the young people for youth unemployment, whose denominator, the
    economically active, is a little over half of them, and young people for the others);
    the mean over months varies no more than one month does. A rate agrees when both
    differences are within ``within`` of that error.
    """
    out = {}
    for key in COMPARED:
        n = households if key == "fuel_poverty_rate" else young // 2 if key == "youth_unemployment_rate" else young
        p = float(naive.rates[key].mean())
        se = math.sqrt(2 * p * (1 - p) / n)
        mean_diff = float(vectorised.rates[key].mean() - naive.rates[key].mean())
        last_diff = float(vectorised.rates[key][-1] - naive.rates[key][-1])
        out[key] = {
            "naive_mean": round(p, 5),
            "vectorised_mean": round(float(vectorised.rates[key].mean()), 5),
            "difference_mean": round(mean_diff, 5),
            "difference_last": round(last_diff, 5),
            "standard_error": round(se, 5),
            "agree": bool(abs(mean_diff) <= within * se and abs(last_diff) <= within * se),
        }
    return out

