"""Departments: competitive rounds share a fixed pot, and rounds land when their year's evidence says."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pfpp_sim.agents.department import Department, Stream, _Bid
from pfpp_sim.funding import Round, to_pence
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


@pytest.mark.parametrize(("aligned_lag", "months"), [(0, [0, 12, 24]), (2, [2, 14, 26]), (1.6, [2, 14, 26])])
def test_with_aligned_timelines_every_round_awards_the_aligned_lag_into_its_period(aligned_lag, months):
    # UKSPF unaligned: 10 months into its first year (E70), 6 into later ones; aligned, the
    # assumed aligned lag (whole months: 1.6 acts as 2) in every round.
    scenario = pilots(36, **{
        "levers.stream_churn": 0.0, "levers.timeline_alignment": True, "programmes.shared_prosperity.later_award_lag.value": 6,
        "mechanisms.aligned_award_lag_months.value": aligned_lag,
    })
    assert award_months(run_until(scenario, 36), "shared_prosperity") == months


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


# ============================================================ decisions, one at a time
# Each test below sets up one round, competition or churn by hand in a small run of two
# places and checks what the department does exactly, so that removing the mechanism or
# lever it names fails it.

TWO_PLACES = {"run.places": ["E07000062", "E06000032"], "levers.stream_churn": 0.0}  # Hastings, Luton


def two_places(name: str = "siloed_baseline", horizon: int = 36, **overrides) -> PfppModel:
    return PfppModel(load_scenario(name).with_overrides({**TWO_PLACES, "run.horizon_months": horizon, **overrides}), seed=SEED)


def stream_of(model: PfppModel, key: str) -> tuple[Department, Stream]:
    return next((d, s) for d in model.departments for s in d.streams if s.key == key)


def allocate(model: PfppModel, key: str) -> list:
    """Allocate one grant of a round of ``key`` whose funding period starts now; the awards it opened."""
    department, stream = stream_of(model, key)
    before = len(model.awards)
    department._allocate_grant(stream, Round(model.month, model.month, model.month, model.month + stream.period_months))
    return model.awards[before:]


def able_to_pool(model: PfppModel, place: int, department: str) -> None:
    """Negotiation over and trust at its highest: the council may pool the department's streams."""
    model.month = math.ceil(model.mech["pooling_negotiation_months"])
    model.councils[place].trust[department] = 1.0


@pytest.mark.parametrize("ring_fenced", [False, True], ids=["poolable", "ring_fenced"])
def test_a_round_gives_a_council_that_can_pool_the_pooling_share_and_splits_the_rest_between_formula_and_competition(ring_fenced):
    # Given half of every stream pooled and 40% by competition, Hastings (which can pool)
    # pools half its home_upgrade money unless the stream is ring-fenced; Luton (which
    # cannot) pools none. Both bid for far more than the pot, so the pot is awarded whole.
    model = two_places(**{"levers.pooling": 0.5, "levers.competitive_share": 0.4, "programmes.home_upgrade.ring_fenced": ring_fenced})
    able_to_pool(model, 0, "DESNZ")
    budget = model.scenario.programmes["home_upgrade"].budget.value
    awards = allocate(model, "home_upgrade")
    pot = 0
    for place, households in enumerate(model.population.places.real_households):
        amount = to_pence(budget * households * 2)  # GBP a household a year, for a 24-month period
        pooled = round(amount * 0.5) if place == 0 and not ring_fenced else 0
        competitive = round((amount - pooled) * 0.4)
        pot += competitive
        mine = [a for a in awards if a.place == place]
        assert [a.allocated_p for a in mine if a.pooled] == ([pooled] if pooled else []), place
        assert [(a.allocated_p, a.competitive) for a in mine if not a.pooled][0] == (amount - pooled - competitive, False), place
    assert sum(a.allocated_p for a in awards if a.competitive) == pot
    assert model.flows["bids"].tolist() == [1, 1]


def test_a_flat_sum_per_council_is_the_same_for_every_council_whatever_its_size():
    model = two_places("pfpp_as_delivered")
    grant = model.scenario.programmes["pfpp_grant"]
    awards = allocate(model, "pfpp_grant")
    assert [(a.place, a.allocated_p) for a in awards] == [(0, to_pence(grant.budget.value * 2)), (1, to_pence(grant.budget.value * 2))]


def test_a_council_without_contact_still_gets_formula_money_and_misses_only_competitive_windows():
    model = two_places(**{"levers.competitive_share": 0.5})
    for council in model.councils:
        council.contact_from["DWP"] = model.month + 1
    awards = allocate(model, "household_support")
    assert sorted(a.place for a in awards) == [0, 1] and not any(a.competitive for a in awards)
    assert [text for _, text in model.events if "missed" in text] == [
        "Hastings missed the DWP household_support window: no contact yet",
        "Luton missed the DWP household_support window: no contact yet",
    ]
    model = two_places(**{"levers.competitive_share": 0.0})
    for council in model.councils:
        council.contact_from["DWP"] = model.month + 1
    assert len(allocate(model, "household_support")) == 2 and not model.events


def test_with_no_chance_of_success_nobody_bids_and_the_whole_pot_is_left_unawarded():
    model = two_places(**{"mechanisms.bid_success_probability.value": 0.0})
    assert allocate(model, "home_upgrade") == []
    desnz, _ = stream_of(model, "home_upgrade")
    budget = model.scenario.programmes["home_upgrade"].budget.value
    assert desnz.unawarded_p["home_upgrade"] == sum(to_pence(budget * h * 2) for h in model.population.places.real_households)
    assert not model.flows["bids"].any() and not model.flows["bid_cost_gbp"].any()


PENNY = {"programmes.pfpp_grant.budget.value": 0.005}  # 1p a council over two years


@pytest.mark.parametrize(
    ("overrides", "kind", "unawarded_p"),
    [
        ({}, "formula", 0),
        ({"levers.pooling": 1.0}, "pooled", 0),
        ({"levers.competitive_share": 1.0, "mechanisms.bid_cost.value": 0.0}, "competitive", 0),
        ({"levers.competitive_share": 1.0}, None, 1),
    ],
    ids=["formula", "pooled", "won_by_a_free_bid", "not_worth_a_bid"],
)
def test_not_a_penny_of_a_round_is_lost(overrides, kind, unawarded_p):
    # A round worth one penny to Hastings is still awarded by formula, pooled, won in
    # competition, or recorded as a pot nobody won.
    model = two_places("pfpp_as_delivered", **{**PENNY, "run.places": ["E07000062"], **overrides})
    able_to_pool(model, 0, "MHCLG")
    opened = allocate(model, "pfpp_grant")
    kinds = {(False, False): "formula", (True, False): "pooled", (False, True): "competitive"}
    assert [(a.place, a.allocated_p, kinds[a.pooled, a.competitive]) for a in opened] == ([(0, 1, kind)] if kind else [])
    mhclg, _ = stream_of(model, "pfpp_grant")
    assert mhclg.unawarded_p["pfpp_grant"] == unawarded_p
    assert not [text for _, text in model.events if "failed" in text]


def compete(model: PfppModel, asks_gbp: tuple[int, int], scores: tuple[float, float], pot_gbp: int) -> Department:
    department, stream = stream_of(model, "home_upgrade")
    bids = [_Bid(council, ask * 100) for council, ask in zip(model.councils, asks_gbp)]
    department._compete(stream, Round(model.month, model.month, model.month, model.month + 24), bids, np.array(scores), pot_gbp * 100)
    return department


@pytest.mark.parametrize(
    ("pot_gbp", "awarded_gbp", "events"),
    [
        (100_000, [20_000, 80_000], ["DESNZ home_upgrade: Hastings bid scaled down to GBP 20,000 of GBP 50,000"]),
        (80_000, [0, 80_000], ["DESNZ home_upgrade: Hastings bid failed"]),
        (130_000, [50_000, 80_000], []),
        (200_000, [50_000, 80_000], ["DESNZ home_upgrade: GBP 70,000 of a GBP 200,000 pot not awarded (too few bids)"]),
    ],
    ids=["marginal_bid_scaled_down", "marginal_bid_fails", "pot_just_enough", "pot_too_large"],
)
def test_a_competition_funds_the_best_bid_first_and_says_what_happened_to_every_other_bid_and_to_the_pot(pot_gbp, awarded_gbp, events):
    # Given Luton's bid (GBP 80,000) scored above Hastings' (GBP 50,000).
    model = two_places()
    department = compete(model, (50_000, 80_000), (0.2, 0.9), pot_gbp)
    awarded = [next((a.allocated_p for a in model.awards if a.place == place), 0) for place in (0, 1)]
    assert awarded == [gbp * 100 for gbp in awarded_gbp]
    assert all(a.competitive and not a.pooled for a in model.awards)
    assert model.events == [(model.month, text) for text in events]
    assert department.unawarded_p["home_upgrade"] == (pot_gbp - sum(awarded_gbp)) * 100


def test_what_competitions_leave_unawarded_adds_up_over_rounds():
    model = two_places()
    compete(model, (50_000, 80_000), (0.2, 0.9), 200_000)
    department = compete(model, (50_000, 80_000), (0.2, 0.9), 140_000)
    assert department.unawarded_p["home_upgrade"] == (70_000 + 10_000) * 100


def test_each_round_is_numbered_from_the_runs_first_and_the_next_follows_one_funding_period_later():
    model = run_until(load_scenario("siloed_baseline").with_overrides({**TWO_PLACES, "run.horizon_months": 30}), 30)
    awards = sorted((a.award_month, a.round) for a in model.awards if a.programme == "household_support" and a.round >= 0)
    assert sorted(set(awards)) == [(3, 0), (15, 1), (27, 2)]


def test_a_new_stream_runs_its_set_number_of_rounds_from_the_run_start_and_is_never_discontinued():
    # Every other stream is discontinued each April; one of two set rounds goes on.
    sc = load_scenario("siloed_baseline").with_overrides(
        {**TWO_PLACES, "run.horizon_months": 48, "levers.stream_churn": 1.0, "programmes.household_support.rounds": 2}
    )
    model = run_until(sc, 48)
    assert award_months(model, "household_support") == [3, 15]
    assert award_months(model, "careers") == []  # discontinued every April before its round is awarded


def test_at_its_deadline_a_department_claws_back_what_its_award_still_holds():
    model = two_places()
    department, stream = stream_of(model, "home_upgrade")
    award = model.open_award(stream, Round(model.month, model.month, model.month, model.month + 1), model.councils[0], 10**6, competitive=False)
    department.step()
    assert award in model.open_awards()
    model.month += 1
    department.step()
    assert award.closed and award.returned_p > 0 and award not in model.open_awards()


def test_a_stream_has_no_round_whose_funding_period_starts_at_or_after_the_horizon():
    model = two_places(horizon=36)
    department, stream = stream_of(model, "careers")
    assert department._round_from(stream, 35) is not None
    assert department._round_from(stream, 36) is None


def test_a_run_that_ends_before_any_streams_next_round_awards_nothing_new():
    # Starting in September, this financial year's rounds were awarded before the start
    # and the next begin after the three months of the run.
    model = PfppModel(load_scenario("siloed_baseline").with_overrides({**TWO_PLACES, "run.horizon_months": 3, "run.start": "2021-09"}), seed=SEED)
    assert any(s.next_round is None for d in model.departments for s in d.streams)
    model.run()
    assert all(a.round == -1 for a in model.awards)


@pytest.mark.parametrize(("gap", "months"), [(6, 12), (12, 12), (13, 24)])
def test_a_discontinued_stream_is_replaced_by_a_new_one_after_the_gap_and_councils_must_find_its_team_again(gap, months):
    # Discontinued in April, replaced on the first April at least the gap on: the gap acts in whole years.
    model = two_places(**{
        "levers.stream_churn": 1.0, "levers.funding_mapping": False, "programmes.youth_employment.rounds": 2,
        "mechanisms.stream_gap_months.value": gap,
    })
    assert model.is_fy_start(model.month)
    dwp, household = stream_of(model, "household_support")
    _, youth = stream_of(model, "youth_employment")
    youth_round = youth.next_round
    household.first_round_done = True
    dwp._churn(model.month)
    replacement = model.month + months
    assert household.next_round.period_start == replacement and not household.first_round_done
    assert household.next_round.award_month == replacement + household.award_lags[0]
    assert youth.next_round == youth_round  # a stream of set rounds is committed for them all
    assert model.events == [(model.month, f"DWP discontinued household_support; a replacement stream opens after {months} months")]
    for council in model.councils:
        assert council.contact_from["DWP"] == model.month + council.months_to_find_team()
        assert council.contact_from["DfE"] <= model.month


def test_without_churn_no_stream_is_discontinued():
    model = two_places(**{"levers.stream_churn": 0.0})
    dwp, household = stream_of(model, "household_support")
    before = household.next_round
    dwp._churn(model.month)
    assert household.next_round == before and not model.events
