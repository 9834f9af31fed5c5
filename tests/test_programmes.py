"""The shipped programmes against the evidence: retrofit money, cost and homes, and grant sizes."""

from __future__ import annotations

import re

import numpy as np
import pytest

from pfpp_sim.data import ENGLAND, tenure, youth_population
from pfpp_sim.model import PfppModel
from pfpp_sim.scenario import load_scenario

PLACES = ["E07000062", "E08000025"]  # Hastings, Birmingham
LAD_HOMES = 18_500 + 20_500 + 19_500  # E92: homes upgraded by LAD phases 1, 2 and 3
LAD_YEARS = 3  # LAD1-3 allocations cover FY2020/21 to FY2022/23 (E32, E33)
ENGLAND_HOUSEHOLDS = 23_436_085  # E95, Census 2021


def keys(source: str) -> set[str]:
    return set(re.findall(r"E\d\d", source))


def tiny(name: str = "siloed_baseline", **overrides):
    return load_scenario(name).with_overrides(
        {"run.places": PLACES, "run.scale": 0.001, "run.min_households_per_place": 300,
         "run.min_young_people_per_place": 150, **overrides}
    )


# ------------------------------------------------------------------- retrofit (D4)


def test_retrofit_cost_per_home_comes_from_the_programmes_that_set_the_retrofit_budget():
    scenario = load_scenario("siloed_baseline")
    cost = scenario.interventions.retrofit.unit_cost
    budget = scenario.programmes["home_upgrade"].budget
    assert keys(cost.source) and keys(cost.source) <= keys(budget.source), (cost.source, budget.source)


def test_a_national_retrofit_budget_buys_as_many_homes_as_those_programmes_delivered():
    scenario = load_scenario("siloed_baseline")
    budget = scenario.programmes["home_upgrade"].budget.value * ENGLAND_HOUSEHOLDS * LAD_YEARS
    homes = budget / scenario.interventions.retrofit.unit_cost.value
    assert homes == pytest.approx(LAD_HOMES, rel=0.02), homes


def test_england_households_match_the_vendored_census():
    table = tenure()
    assert int(table.loc[table["area_code"] == ENGLAND, "households"].iloc[0]) == ENGLAND_HOUSEHOLDS


def test_retrofit_spend_is_homes_delivered_times_cost_per_home():
    # Fine enough (1:2) that a simulated home stands for few real ones: the stochastic
    # rounding of homes ordered then averages out within a per cent over a run.
    scenario = tiny(**{"levers.competitive_share": 0.0, "run.scale": 0.5, "run.horizon_months": 36})
    model = PfppModel(scenario, seed=3).run()
    spent_gbp = sum(a.delivered_by_p.get("retrofit", 0) for a in model.awards) / 100
    homes = sum(record["retrofits"].sum() for record in model.records)
    assert homes > 0
    assert homes * model.unit_cost["retrofit"] == pytest.approx(spent_gbp, rel=0.01)


# ------------------------------------------------------------------- grant sizes (D16)


def test_a_programme_paid_as_several_grants_opens_one_award_per_grant_each_with_its_own_reporting_cost():
    grants = {"value": 3, "unit": "grants/council/round", "source": "assumption:small_grants", "low": 2, "high": 6}
    model = PfppModel(tiny(**{"programmes.careers.grants": grants}), seed=3)
    for _ in range(14):
        model.step()
    careers = [a for a in model.awards if a.programme == "careers" and a.round == 0]
    assert len(careers) == 3 * len(PLACES)
    years = (careers[0].deadline - careers[0].period_start) / 12
    for award in careers:
        assert award.overhead_p == round(model.mech["reporting_cost"] * years * 100)
    by_place = {}
    for award in careers:
        by_place.setdefault(award.place, []).append(award.allocated_p)
    single = PfppModel(tiny(), seed=3)
    for _ in range(14):
        single.step()
    for award in (a for a in single.awards if a.programme == "careers" and a.round == 0):
        assert sum(by_place[award.place]) == pytest.approx(award.allocated_p, abs=3)


def national_grant_values_gbp(scenario) -> np.ndarray:
    """Yearly value of each grant of each programme across England (the LGA's basis, E54-E56)."""
    youth = youth_population()
    england = {
        "households": ENGLAND_HOUSEHOLDS,
        "young_people": float(youth.loc[youth["area_code"] == ENGLAND, "age_16_24"].iloc[0]),
    }
    values = []
    for programme in scenario.programmes.values():
        grants = 1 if programme.grants is None else int(round(programme.grants.value))
        values += [programme.budget.value * england[programme.budget_basis] / grants] * grants
    return np.array(values)


def test_about_a_quarter_of_national_grants_are_worth_under_a_million_a_year():
    # E56: almost a quarter of the grants issued to councils each year were worth under
    # GBP 1m in all (national basis: a grant's whole yearly value across England).
    values = national_grant_values_gbp(load_scenario("siloed_baseline"))
    assert 0.15 <= (values < 1e6).mean() <= 0.35, np.sort(values)


def test_many_grants_a_council_receives_are_under_100k():
    # E07: PfPP's spend mapping found many grants under GBP 100k awarded to the pilot
    # councils (per-council basis: one award to one council). "Many" is read as at least
    # a quarter of the awards; the simulated pilots' awards at real scale are compared.
    model = PfppModel(
        load_scenario("siloed_baseline").with_overrides(
            {"run.horizon_months": 24, "run.scale": 0.001, "run.min_households_per_place": 300,
             "run.min_young_people_per_place": 150, "levers.single_point_of_contact": True}
        ),
        seed=3,
    ).run()
    sizes = np.array([a.allocated_p / 100 for a in model.awards if not a.pooled])
    assert (sizes < 1e5).mean() >= 0.25, np.percentile(sizes, [10, 25, 50, 75])
    assert (sizes < 1e6).mean() < 1.0
