"""Departments: competitive rounds share a fixed pot, and rounds land when their year's evidence says."""

from __future__ import annotations

import pytest

from pfpp_sim.funding import to_pence
from pfpp_sim.model import PfppModel
from pfpp_sim.scenario import load_scenario

PILOTS = {"run.scale": 0.0005, "run.min_households_per_place": 200, "run.min_young_people_per_place": 100, "levers.stream_churn": 0.0}
SEED = 5


def pilots(horizon: int, **overrides):
    """The 14 pilot places, tiny, with no stream discontinued (unless overridden), so rounds land as timed."""
    return load_scenario("siloed_baseline").with_overrides({**PILOTS, "run.horizon_months": horizon, **overrides})


def run_until(scenario, months: int, replicate: int = 0) -> PfppModel:
    model = PfppModel(scenario, seed=SEED, replicate=replicate)
    for _ in range(months):
        model.step()
    return model


def pot_p(model: PfppModel, key: str) -> int:
    """The competitive part of a single-grant programme's round over the run's places (no pooling)."""
    programme = model.scenario.programmes[key]
    places = model.population.places
    basis = places.real_households if programme.budget_basis == "households" else places.real_young_people
    years = programme.funding_period_months / 12
    return sum(round(to_pence(programme.budget.value * b * years) * programme.competitive_share) for b in basis)


def round_total_p(model: PfppModel, key: str) -> int:
    """What the first competitive round of a programme in the run awarded (earlier rounds ran in the run-in)."""
    awards = [a for a in model.awards if a.programme == key and a.competitive]
    first = min((a.round for a in awards), default=None)
    return sum(a.allocated_p for a in awards if a.round == first)


# ----------------------------------------------------------------- pots (D7)


@pytest.mark.parametrize("replicate", range(4))
def test_a_competitive_round_never_awards_more_than_its_pot(replicate):
    model = run_until(pilots(24, **{"levers.single_point_of_contact": True}), 24, replicate)
    for key in ("home_upgrade", "youth_mental_health", "safer_streets"):
        assert round_total_p(model, key) <= pot_p(model, key), key


def test_with_every_council_bidding_a_round_awards_its_whole_pot_in_every_replicate():
    # Every council finds the team within a month, so every council bids.
    scenario = pilots(14, **{"levers.single_point_of_contact": True})
    totals = []
    for replicate in range(3):
        model = run_until(scenario, 14, replicate)
        totals.append((round_total_p(model, "home_upgrade"), round_total_p(model, "safer_streets")))
    expected = (pot_p(model, "home_upgrade"), pot_p(model, "safer_streets"))
    assert totals == [expected] * 3, (totals, expected)


def test_a_pot_nobody_bids_for_is_not_awarded_and_is_recorded():
    # No council finds the department's team in time, so nobody bids.
    model = run_until(pilots(14, **{"mechanisms.months_to_find_team.value": 60}), 14)
    assert round_total_p(model, "home_upgrade") == 0
    desnz = next(d for d in model.departments if d.name == "DESNZ")
    assert desnz.unawarded_p["home_upgrade"] == pot_p(model, "home_upgrade")
    assert any("home_upgrade" in text and "not awarded" in text for _, text in model.events)


def test_every_bid_that_fails_is_logged():
    model = run_until(pilots(14, **{"levers.single_point_of_contact": True}), 14)
    award_month = min(a.award_month for a in model.awards if a.programme == "home_upgrade")
    winners = {a.place for a in model.awards if a.programme == "home_upgrade"}
    failed = [text for month, text in model.events if month == award_month and "home_upgrade" in text and "bid failed" in text]
    assert len(failed) == model.population.places.n - len(winners) > 0


def test_a_bid_asks_for_its_share_grossed_up_by_the_chance_of_success():
    model = run_until(pilots(14, **{"levers.single_point_of_contact": True}), 14)
    programme = model.scenario.programmes["home_upgrade"]
    basis = model.population.places.real_households
    asks = {
        place: round(to_pence(programme.budget.value * basis[place] * 2) / model.mech["bid_success_probability"])
        for place in range(model.population.places.n)
    }
    winners = [a for a in model.awards if a.programme == "home_upgrade"]
    assert winners and all(a.allocated_p <= asks[a.place] for a in winners)
    assert sum(a.allocated_p == asks[a.place] for a in winners) >= len(winners) - 1  # all but the one scaled down


# ----------------------------------------------------------------- timing (D13)


def award_months(model: PfppModel, key: str) -> list[int]:
    return sorted({a.award_month for a in model.awards if a.programme == key})


def test_later_rounds_of_a_stream_get_the_award_lag_of_later_years():
    # UKSPF: awards 10 months into its first year (E70), about 6 into later years (E94).
    scenario = pilots(60, **{"levers.stream_churn": 0.0, "programmes.shared_prosperity.later_award_lag.value": 6})
    model = run_until(scenario, 60)
    assert award_months(model, "shared_prosperity") == [10, 12 + 6, 24 + 6, 36 + 6, 48 + 6]


def test_a_stream_that_replaces_a_discontinued_one_starts_again_with_a_first_round_lag():
    # Every stream is discontinued every April and replaced at once (no gap): each
    # replacement is a new stream in its first year, so it lands 10 months in, not 6.
    scenario = pilots(
        40,
        **{"levers.stream_churn": 1.0, "mechanisms.stream_gap_months.value": 0,
           "programmes.shared_prosperity.later_award_lag.value": 6},
    )
    model = run_until(scenario, 40)
    assert award_months(model, "shared_prosperity") == [10, 12 + 10, 24 + 10]
