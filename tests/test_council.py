"""Councils' decisions: finding teams (M1), trust and the pooling gate (M5), what levers cost, bid costs that
follow the size of the bid, and teams whose capacity caps delivery."""

from __future__ import annotations

import numpy as np
import pytest

from pfpp_sim.agents.council import Council, need_shares, order_lines
from pfpp_sim.competition import bid_cost_p
from pfpp_sim.funding import Award, Round, split_pence, to_pence
from pfpp_sim.ledger import Ledger
from pfpp_sim.model import PfppModel
from pfpp_sim.scenario import DEPARTMENTS, INTERVENTION_KEYS, load_scenario

PLACES = ["E07000062"]  # Hastings
TWO_PLACES = ["E07000062", "E06000032"]  # Hastings, Luton: what one council does stays in its place
SEED = 5


def small(name: str = "siloed_baseline", horizon: int = 12, *, places: list[str] = PLACES, **overrides):
    return load_scenario(name).with_overrides({"run.places": places, "run.horizon_months": horizon, **overrides})


def trust_path(model: PfppModel) -> np.ndarray:
    """Trust of the first council in every department after each month, shape (months + 1, departments)."""
    council = model.councils[0]
    path = [[council.trust[d] for d in DEPARTMENTS]]
    while model.month < model.horizon:
        model.step()
        path.append([council.trust[d] for d in DEPARTMENTS])
    return np.array(path)


# ------------------------------------------------------------------ M5: trust


def test_siloed_funding_builds_no_trust_so_no_council_could_ever_pool():
    # Given the siloed baseline (open awards, but no joint work), trust never rises and
    # stays below the threshold that gates pooling.
    model = PfppModel(small(horizon=36), seed=SEED)
    path = trust_path(model)
    assert np.all(np.diff(path, axis=0) <= 0), "trust rose without joint work"
    assert path.max() < model.mech["trust_threshold"]


def test_without_joint_work_trust_decays_towards_its_floor_by_the_decay_rate():
    model = PfppModel(small(), seed=SEED)
    council, mech = model.councils[0], model.mech
    council.trust = {d: 0.45 for d in DEPARTMENTS}
    council.trust["DWP"] = 0.05  # below the floor: it rises towards it
    council._build_trust(set())
    assert council.trust["DESNZ"] == pytest.approx(0.45 + mech["trust_decay"] * (mech["trust_floor"] - 0.45), abs=1e-12)
    assert council.trust["DWP"] == pytest.approx(0.05 + mech["trust_decay"] * (mech["trust_floor"] - 0.05), abs=1e-12)


@pytest.mark.parametrize(
    ("secondments", "campus"), [(False, False), (True, False), (False, True), (True, True)], ids=["plain", "secondments", "campus", "both"]
)
def test_joint_work_closes_the_trust_gap_faster_with_secondments_and_a_campus(secondments, campus):
    sc = small(**{"levers.secondments": secondments, "levers.policy_campus": campus})
    model = PfppModel(sc, seed=SEED)
    council, mech = model.councils[0], model.mech
    council.trust = {d: 0.3 for d in DEPARTMENTS}
    council._build_trust({"DESNZ"})
    gain = mech["trust_gain"]
    gain *= mech["secondment_trust_multiplier"] if secondments else 1.0
    gain *= mech["campus_trust_multiplier"] if campus else 1.0
    assert council.trust["DESNZ"] == pytest.approx(0.3 + min(gain, 1.0) * 0.7, abs=1e-12)


def test_trust_gained_in_a_month_never_takes_trust_past_one():
    # Given a gain that, with secondments and a campus, would close twice the gap in a
    # month, joint work closes the gap and no more.
    overrides = {"mechanisms.trust_gain.value": 0.5, "levers.secondments": True, "levers.policy_campus": True}
    model = PfppModel(small(**overrides), seed=SEED)
    council = model.councils[0]
    assert model.mech["trust_gain"] * model.mech["secondment_trust_multiplier"] * model.mech["campus_trust_multiplier"] > 1
    council._build_trust({"DESNZ"})
    assert council.trust["DESNZ"] == 1.0


def test_negotiating_a_pooled_budget_is_joint_work_that_builds_trust_until_pooling_starts():
    # Given only the pooling lever (no secondments, no campus), negotiating the pool is
    # the joint work that lifts trust over the threshold, and pooled awards follow.
    model = PfppModel(small(horizon=36, **{"levers.pooling": 1.0}), seed=SEED)
    path = trust_path(model)
    desnz = path[:, DEPARTMENTS.index("DESNZ")]
    assert desnz[0] < model.mech["trust_threshold"] <= desnz.max()
    assert any(award.pooled for award in model.awards)


@pytest.mark.parametrize("levers", [("secondments",), ("policy_campus",), ("secondments", "policy_campus")], ids="+".join)
def test_secondments_or_a_campus_are_joint_work_with_every_department(levers):
    # Given secondments or a campus alone, with no pooling and no aligned rounds, the
    # council works jointly with every department, even one it has no contact with yet.
    model = PfppModel(small(**{f"levers.{lever}": True for lever in levers}), seed=SEED)
    council = model.councils[0]
    council.contact_from["DWP"] = model.month + 1
    assert council.joint_work() == set(DEPARTMENTS)


def test_the_siloed_baseline_has_no_joint_work_even_with_open_awards():
    model = PfppModel(small(), seed=SEED)
    for _ in range(6):
        model.step()
    assert model.open_awards(place=0)
    assert model.councils[0].joint_work() == set()


def test_pooling_needs_trust_at_the_threshold_contact_and_finished_negotiation():
    model = PfppModel(small("pfpp_joined_up"), seed=SEED)
    council, mech = model.councils[0], model.mech
    ready = int(mech["pooling_negotiation_months"])
    council.contact_from["DESNZ"] = 0
    council.trust["DESNZ"] = mech["trust_threshold"]
    assert council.can_pool("DESNZ", ready)
    assert not council.can_pool("DESNZ", ready - 1)
    council.trust["DESNZ"] = np.nextafter(mech["trust_threshold"], 0.0)
    assert not council.can_pool("DESNZ", ready)
    council.trust["DESNZ"] = mech["trust_threshold"]
    council.contact_from["DESNZ"] = ready + 1
    assert not council.can_pool("DESNZ", ready)


# ------------------------------------------------------------------ M1: contacts


@pytest.mark.parametrize(
    ("levers", "mechanism"),
    [
        ({}, "months_to_find_team"),
        ({"levers.single_point_of_contact": True}, "months_to_find_team_spoc"),
        ({"levers.policy_campus": True}, "months_to_find_team_campus"),
        ({"levers.senior_contact": True}, "months_to_find_team_senior"),
    ],
    ids=["alone", "single_point_of_contact", "policy_campus", "senior_contact"],
)
def test_each_contact_lever_sets_the_months_to_find_a_team(levers, mechanism):
    model = PfppModel(small(**levers), seed=SEED)
    assert model.councils[0].months_to_find_team() == round(model.mech[mechanism])


def test_at_the_start_a_council_still_looking_for_a_team_finds_it_within_the_runs_contact_months():
    model = PfppModel(small(**{"levers.single_point_of_contact": True}), seed=SEED)
    council = model.councils[0]
    council.contact_from.update(DESNZ=10, DWP=-3)  # still looking; found before the start
    council.start_run()
    assert council.contact_from["DESNZ"] == round(model.mech["months_to_find_team_spoc"])
    assert council.contact_from["DWP"] == -3


def test_funding_mapping_finds_the_team_of_a_replacement_stream_sooner():
    mapped = PfppModel(small(**{"levers.funding_mapping": True}), seed=SEED)
    plain = PfppModel(small(), seed=SEED)
    for model in (mapped, plain):
        model.councils[0].lose_contact("DWP", 3)
    assert mapped.councils[0].contact_from["DWP"] == 3 + round(mapped.mech["months_to_find_replacement_mapped"])
    assert plain.councils[0].contact_from["DWP"] == 3 + round(plain.mech["months_to_find_team"])
    assert mapped.councils[0].contact_from["DWP"] < plain.councils[0].contact_from["DWP"]


# ------------------------------------------------------------------ cost of levers


@pytest.mark.parametrize(
    ("levers", "cost", "share"),
    [
        ({"levers.data_sharing": 0.5}, "data_sharing_cost", 0.5),
        ({"levers.data_sharing": 1.0}, "data_sharing_cost", 1.0),
        ({"levers.single_point_of_contact": True}, "contact_cost", 1.0),
        ({"levers.senior_contact": True}, "senior_contact_cost", 1.0),
        ({"levers.funding_mapping": True}, "funding_mapping_cost", 1.0),
        ({"levers.secondments": True}, "secondment_cost", 1.0),
        ({"levers.policy_campus": True}, "campus_cost", 1.0),
    ],
    ids=["half_data_sharing", "data_sharing", "single_point_of_contact", "senior_contact", "funding_mapping", "secondments", "policy_campus"],
)
def test_each_lever_adds_its_yearly_cost_to_every_councils_overhead(levers, cost, share):
    model = PfppModel(small(places=TWO_PLACES, **levers), seed=SEED).run()
    paid = sum(record["lever_cost_gbp"] for record in model.records)
    np.testing.assert_allclose(paid, share * model.mech[cost], rtol=1e-12)
    for record in model.records:
        assert np.all(record["overhead_gbp"] >= record["lever_cost_gbp"]) and np.all(record["lever_cost_gbp"] > 0)


def test_levers_that_are_off_cost_nothing():
    model = PfppModel(small(), seed=SEED).run()
    assert all(record["lever_cost_gbp"][0] == 0 for record in model.records)


# ============================================================ bids and teams

HASTINGS, BIRMINGHAM = "E07000062", "E08000025"
SMALL = {"run.scale": 0.001, "run.min_households_per_place": 300, "run.min_young_people_per_place": 150}


def scenario(**overrides):
    return load_scenario("siloed_baseline").with_overrides({**SMALL, "run.places": [HASTINGS, BIRMINGHAM], **overrides})


def run_until(sc, months: int) -> PfppModel:
    model = PfppModel(sc, seed=7)
    for _ in range(months):
        model.step()
    return model


def total(model: PfppModel, name: str):
    return sum(record[name] for record in model.records)


# ------------------------------------------------------------------ bids (D14)


def test_hastings_and_birmingham_pay_different_bid_costs():
    model = run_until(scenario(**{"levers.single_point_of_contact": True, "run.horizon_months": 24}), 24)
    per_bid = total(model, "bid_cost_gbp") / total(model, "bids")
    hastings, birmingham = per_bid[0], per_bid[1]
    assert birmingham > hastings, per_bid
    # ...but less than in proportion to the bids: Birmingham has ~10x Hastings' households.
    assert birmingham / hastings < 10 * 0.5, per_bid


# ------------------------------------------------------------------ teams (D13, D14)


def retrofit_awards(model: PfppModel):
    return [a for a in model.awards if a.programme == "home_upgrade"]


def recording_orders(model: PfppModel) -> list[tuple[int, object, str, int]]:
    """Record every order the councils place as (month, award, intervention, budget in pence)."""
    orders, place_orders = [], model._place_orders

    def record(councils):
        placed = place_orders(councils)
        rows = model.ledger.by_line["award"][placed.line]
        orders.extend((model.month, model.awards[row], INTERVENTION_KEYS[key], budget_p) for row, key, budget_p in zip(rows, placed.key, placed.budget_p))
        return placed

    model._place_orders = record
    return orders


def ordered_from(model: PfppModel, award: Award, t: int) -> tuple[list[int], np.ndarray]:
    """What the councils order from ``award`` in month ``t`` (pence, in the order placed), and each place's mobilisation months lost."""
    ledger = award.ledger
    lines, budget_p, lost = order_lines(
        ledger, t, np.arange(model.population.places.n), skip=np.zeros(ledger.by_award.n, dtype=bool),
        headroom=model.mech["team_headroom"], rush_months=model.mech["deadline_rush_months"],
    )
    return [budget for line, budget in zip(lines.tolist(), budget_p.tolist()) if ledger.by_line["award"][line] == award.row], lost


FORMULA_RETROFIT = {"levers.competitive_share": 0.0, "run.horizon_months": 30}


def test_a_new_retrofit_team_first_delivers_a_month_after_award_and_is_steady_a_year_after():
    # Formula funding, so each council gets a retrofit award; no team exists before it.
    model = run_until(scenario(**FORMULA_RETROFIT), 30)
    assert retrofit_awards(model)
    for award in retrofit_awards(model):
        assert award.ready["retrofit"] == award.award_month + 1  # E69 less E93: a month from award to installs
        assert award.steady["retrofit"] == award.award_month + 12  # E68: steady delivery a year after award
        assert award.first_delivery >= award.award_month + 1


def test_a_team_in_its_ramp_orders_a_growing_share_of_its_plan():
    model = PfppModel(scenario(**FORMULA_RETROFIT), seed=7)
    orders = recording_orders(model)
    for _ in range(24):
        model.step()
    headroom = model.mech["team_headroom"]
    for award in retrofit_awards(model):
        ordered = {month: budget_p for month, a, key, budget_p in orders if a is award and key == "retrofit"}
        ready, steady, plan = award.ready["retrofit"], award.steady["retrofit"], award.plan_p["retrofit"]
        assert min(ordered) == ready
        for month in range(ready, steady):
            share = (month - ready + 1) / (steady - ready + 1)
            assert ordered[month] == min(plan, int(plan * headroom * share)), month
        assert ordered[ready] < plan  # the first month of a new team delivers a fraction of the plan


def test_an_order_beyond_a_teams_capacity_is_ordered_only_up_to_capacity():
    model = run_until(scenario(**FORMULA_RETROFIT), 23)
    award = next(a for a in retrofit_awards(model) if model.month >= a.steady["retrofit"] and model.month < a.deadline)
    award.held_p["retrofit"] += 10**11  # far more than the team can deliver
    (budget_p,), _ = ordered_from(model, award, award.deadline - 1)  # the last month: the council rushes to spend all it holds
    assert budget_p == int(award.plan_p["retrofit"] * model.mech["team_headroom"])


# ============================================================ decisions, one at a time
# Each test below sets one council's state by hand and checks one decision exactly, so
# that removing the mechanism or the lever it names fails it.


def test_after_the_run_in_trust_has_decayed_from_its_initial_value_towards_the_floor():
    # Given the siloed years before the run (no joint work), every department's trust has
    # moved from the initial trust towards the floor by the decay rate every month.
    model = PfppModel(small(), seed=SEED)
    mech = model.mech
    assert mech["initial_trust"] != mech["trust_floor"] and model.run_in_months > 0
    left = (1.0 - mech["trust_decay"]) ** model.run_in_months
    expected = mech["trust_floor"] + (mech["initial_trust"] - mech["trust_floor"]) * left
    for department in DEPARTMENTS:
        assert model.councils[0].trust[department] == pytest.approx(expected, rel=1e-12), department


def test_pooling_needs_the_pooling_lever():
    model = PfppModel(small(), seed=SEED)
    council, mech = model.councils[0], model.mech
    council.contact_from["DESNZ"] = 0
    council.trust["DESNZ"] = 1.0
    assert not council.can_pool("DESNZ", int(mech["pooling_negotiation_months"]) + 1)


def ring_fenced(*programmes: str) -> dict:
    return {f"programmes.{key}.ring_fenced": True for key in programmes}


DFE_STREAMS = ("careers", "youth_participation_grants")


def test_pooling_is_joint_work_only_with_departments_whose_team_is_found_and_whose_streams_may_be_pooled():
    # Given pooling, with DfE's streams ring-fenced and DWP's team not yet found, the council
    # works jointly with every other funding department.
    model = PfppModel(small(**{"levers.pooling": 0.5, **ring_fenced(*DFE_STREAMS)}), seed=SEED)
    council = model.councils[0]
    council.contact_from.update(dict.fromkeys(DEPARTMENTS, 0), DWP=model.month + 1)
    assert council.joint_work() == council.funders - {"DfE", "DWP"}
    assert "DfE" in council.funders


def test_aligned_timelines_are_joint_work_with_every_funding_department_whose_team_is_found_ring_fenced_or_not():
    model = PfppModel(small(**{"levers.timeline_alignment": True, **ring_fenced(*DFE_STREAMS)}), seed=SEED)
    council = model.councils[0]
    council.contact_from.update(dict.fromkeys(DEPARTMENTS, 0), DWP=model.month + 1)
    assert council.joint_work() == council.funders - {"DWP"}
    assert "DfE" in council.funders


# ------------------------------------------------------------------ M3: bids


def bidding_council(**overrides):
    model = PfppModel(small(places=TWO_PLACES, **overrides), seed=SEED)
    council = model.councils[0]
    council.contact_from["DESNZ"] = 0
    return model, council


def bid_cost_of(model, ask_p: int) -> int:
    mech = model.mech
    return bid_cost_p(
        ask_p, typical_cost_gbp=mech["bid_cost"], typical_scheme_gbp=mech["bid_cost_scheme_value"], elasticity=mech["bid_cost_elasticity"]
    )


@pytest.mark.parametrize("ask_gbp", [20_000, 630_000, 5_000_000])
def test_a_council_bids_when_the_expected_grant_beats_the_bid_cost_and_pays_that_cost(ask_gbp):
    model, council = bidding_council()
    cost_p = bid_cost_of(model, ask_gbp * 100)
    assert council.decides_to_bid("DESNZ", "home_upgrade", ask_p=ask_gbp * 100, expected_p=cost_p + 1)
    assert model.flows["bid_cost_gbp"].tolist() == [cost_p / 100, 0]
    assert model.flows["bids"].tolist() == [1, 0]


def test_a_council_does_not_bid_when_the_expected_grant_only_matches_the_bid_cost():
    model, council = bidding_council()
    ask_p = 50_000_000
    assert not council.decides_to_bid("DESNZ", "home_upgrade", ask_p=ask_p, expected_p=bid_cost_of(model, ask_p))
    assert model.flows["bid_cost_gbp"][0] == model.flows["bids"][0] == 0


@pytest.mark.parametrize(
    "mechanism", ["bid_cost", "bid_cost_scheme_value", "bid_cost_elasticity"],
)
def test_each_bid_cost_parameter_changes_what_a_bid_costs(mechanism):
    # Doubling any one of the three changes what the council pays for the same bid.
    ask_p = 200_000_000
    base, council = bidding_council()
    value = base.mech[mechanism]
    other, other_council = bidding_council(**{f"mechanisms.{mechanism}.value": 2 * value})
    for _, c in ((base, council), (other, other_council)):
        assert c.decides_to_bid("DESNZ", "home_upgrade", ask_p=ask_p, expected_p=ask_p)
    assert other.flows["bid_cost_gbp"][0] == bid_cost_of(other, ask_p) / 100 != base.flows["bid_cost_gbp"][0]


def test_a_council_without_contact_misses_the_window_and_pays_nothing():
    model, council = bidding_council()
    council.contact_from["DESNZ"] = model.month + 1
    assert not council.decides_to_bid("DESNZ", "home_upgrade", ask_p=10**9, expected_p=10**9)
    assert model.flows["bids"][0] == 0
    assert model.events == [(model.month, "Hastings missed the DESNZ home_upgrade window: no contact yet")]


# ------------------------------------------------------------------ M6: teams


def new_award(
    model, *, shares: dict[str, float] | None = None, amount_p: int = 12_000_000, period_start: int | None = None, months: int = 12,
    ledger: Ledger | None = None,
) -> Award:
    """A home-upgrade award at place 0, in ``ledger`` (default: one of its own)."""
    start = model.month if period_start is None else period_start
    award = Award(
        award_id=999, programme="home_upgrade", department="DESNZ", place=0, round=0, pooled=False, competitive=False,
        award_month=model.month, period_start=start, deadline=start + months, allocated_p=0, ledger=ledger,
    )
    award.add_funds(amount_p, shares or {"retrofit": 1.0}, 0, model.month)
    return award


def test_a_new_council_trusts_every_department_at_the_initial_trust_and_has_yet_to_find_their_teams_or_recruit_its_own():
    model = PfppModel(small(places=TWO_PLACES, **{"levers.single_point_of_contact": True}), seed=SEED)
    council = Council(model, 1)
    assert council.label == "Luton"
    assert council.trust == dict.fromkeys(DEPARTMENTS, model.mech["initial_trust"])
    assert council.contact_from == dict.fromkeys(DEPARTMENTS, model.month + round(model.mech["months_to_find_team_spoc"]))
    assert not council.pooling
    award = new_award(model)
    award.place = 1
    council.mobilise(award)
    assert award.ready["retrofit"] == model.month + model.mobilisation["retrofit"] > model.month
    assert model.flows["recruitment_cost_gbp"].tolist() == [0, model.mech["recruitment_cost"]]


def test_a_team_funded_until_within_the_retention_months_is_kept_on_and_delivers_at_its_steady_rate_at_once():
    model = PfppModel(small(), seed=SEED)
    council, retention = model.councils[0], int(model.mech["staff_retention_months"])
    assert retention > 0
    council.team_until["retrofit"] = model.month - retention  # its last funded month was `retention` months ago
    award = new_award(model)
    council.mobilise(award)
    assert award.ready["retrofit"] == award.steady["retrofit"] == model.month
    assert model.flows["recruitment_cost_gbp"][0] == 0
    assert council.team_until["retrofit"] == award.deadline - 1


def test_an_award_carried_over_keeps_its_teams_funded_until_the_month_before_its_new_deadline():
    model = PfppModel(small(), seed=SEED)
    council = model.councils[0]
    award = new_award(model, shares={"retrofit": 0.5, "income_advice": 0.5})
    council.mobilise(award)
    award.deadline += 7  # carried over (Award.close)
    council.keep_teams(award)
    assert {key: council.team_until[key] for key in award.lines} == dict.fromkeys(["retrofit", "income_advice"], award.deadline - 1)


def test_a_team_whose_funding_ended_before_the_retention_months_is_recruited_again_at_the_recruitment_cost():
    model = PfppModel(small(places=TWO_PLACES), seed=SEED)
    council, retention = model.councils[0], int(model.mech["staff_retention_months"])
    council.team_until["retrofit"] = model.month - retention - 1
    award = new_award(model)
    council.mobilise(award)
    assert award.ready["retrofit"] == model.month + model.mobilisation["retrofit"]
    assert award.steady["retrofit"] == model.month + model.months_to_steady["retrofit"]
    assert award.ready["retrofit"] > model.month
    assert model.flows["recruitment_cost_gbp"].tolist() == [model.mech["recruitment_cost"], 0]
    assert model.mech["recruitment_cost"] > 0


def test_a_team_for_money_awarded_before_its_funding_period_is_mobilised_from_the_period_start():
    model = PfppModel(small(), seed=SEED)
    council = model.councils[0]
    award = new_award(model, period_start=model.month + 4)
    council.mobilise(award)
    assert award.ready["retrofit"] == model.month + 4 + model.mobilisation["retrofit"]


def orders_of(model, award, t: int) -> list[int]:
    """What the council orders from ``award`` (of a ledger of its own) in month ``t``; its mobilisation months lost are added to the model's flows."""
    ordered, lost = ordered_from(model, award, t)
    model.flows["mobilisation_months_lost"] += lost
    return ordered


def steady_award(model, *, months: int = 12, ledger: Ledger | None = None) -> Award:
    award = new_award(model, amount_p=10**10, months=months, ledger=ledger)
    award.ready["retrofit"] = award.steady["retrofit"] = model.month
    return award


@pytest.mark.parametrize("rush", [1, 3, 5, 4.7])
def test_a_council_orders_its_plan_until_the_last_months_then_rushes_to_spend_what_it_holds(rush):
    # Given a steady team holding far more than its plan, the council orders the plan in
    # every month before the last deadline_rush_months (whole months: 4.7 rushes for 4),
    # then as much as the team can deliver.
    model = PfppModel(small(**{"mechanisms.deadline_rush_months.value": rush}), seed=SEED)
    award = steady_award(model)
    plan, capacity = award.plan_p["retrofit"], int(award.plan_p["retrofit"] * model.mech["team_headroom"])
    assert capacity > plan
    months = [orders_of(model, award, t) for t in range(award.deadline - 7, award.deadline + 1)]
    assert months == [[plan]] * (7 - int(rush)) + [[capacity]] * int(rush) + [[]]


def test_the_model_passes_its_deadline_rush_to_the_councils_orders():
    model = PfppModel(small(**{"mechanisms.deadline_rush_months.value": 5}), seed=SEED)
    award = steady_award(model, ledger=model.ledger)
    plan, capacity = award.plan_p["retrofit"], int(award.plan_p["retrofit"] * model.mech["team_headroom"])
    budgets = []
    for t in (award.deadline - 6, award.deadline - 5):
        model.month = t
        orders = model._place_orders(model.councils)
        budgets.append(orders.budget_p[model.ledger.by_line["award"][orders.line] == award.row].tolist())
    assert budgets == [[plan], [capacity]]


def test_in_the_rush_a_council_orders_no_more_than_it_still_holds():
    model = PfppModel(small(), seed=SEED)
    award = steady_award(model)
    award.held_p["retrofit"] = award.plan_p["retrofit"] + 7  # a little more than the plan, less than capacity
    assert orders_of(model, award, award.deadline - 1) == [award.plan_p["retrofit"] + 7]


def test_a_team_not_yet_delivering_loses_each_month_of_the_funding_period_but_none_before_it():
    model = PfppModel(small(places=TWO_PLACES), seed=SEED)
    award = new_award(model, period_start=model.month + 2)
    award.ready["retrofit"], award.steady["retrofit"] = model.month + 5, model.month + 5
    lost = []
    for t in range(model.month, model.month + 7):
        before = model.flows["mobilisation_months_lost"][0]
        assert orders_of(model, award, t) == ([] if t < award.ready["retrofit"] else [award.plan_p["retrofit"]])
        lost.append(model.flows["mobilisation_months_lost"][0] - before)
    assert lost == [0, 0, 1, 1, 1, 0, 0]
    assert model.flows["mobilisation_months_lost"][1] == 0


def test_an_intervention_that_holds_nothing_orders_nothing_and_loses_no_months_while_the_next_one_orders():
    # Given an award whose first intervention was given nothing (a share too small for a
    # penny), the council orders only the other, whether or not the teams deliver yet.
    model = PfppModel(small(), seed=SEED)
    award = new_award(model, shares={"income_advice": 1e-12, "retrofit": 1.0}, amount_p=10**10)
    assert list(award.held_p) == ["income_advice", "retrofit"] and award.held_p["income_advice"] == 0
    award.ready.update(income_advice=model.month + 1, retrofit=model.month + 1)
    assert orders_of(model, award, model.month) == []
    assert model.flows["mobilisation_months_lost"][0] == 1  # retrofit's only
    award.ready.update(income_advice=model.month, retrofit=model.month)
    award.steady.update(income_advice=model.month, retrofit=model.month)
    assert orders_of(model, award, model.month) == [award.plan_p["retrofit"]]


def test_a_team_not_yet_delivering_does_not_hold_up_the_orders_of_the_awards_other_teams():
    model = PfppModel(small(), seed=SEED)
    award = new_award(model, shares={"income_advice": 1.0, "retrofit": 1.0}, amount_p=10**10)
    award.ready.update(income_advice=model.month + 3, retrofit=model.month)
    award.steady.update(income_advice=model.month + 3, retrofit=model.month)
    assert orders_of(model, award, model.month) == [award.plan_p["retrofit"]]


def test_in_the_rush_a_council_orders_even_the_last_penny_it_holds():
    model = PfppModel(small(), seed=SEED)
    award = steady_award(model)
    award.held_p["retrofit"] = 1
    assert orders_of(model, award, award.deadline - 1) == [1]


def test_an_award_holding_less_than_a_penny_a_month_orders_nothing():
    # Its team was sized for a plan of 0 pence a month, so it can deliver nothing.
    model = PfppModel(small(), seed=SEED)
    award = new_award(model, amount_p=11, months=12)
    award.ready["retrofit"] = award.steady["retrofit"] = model.month
    assert award.plan_p["retrofit"] == 0
    assert all(orders_of(model, award, t) == [] for t in range(model.month, award.deadline))


# ------------------------------------------------------------------ M2: pooled budgets


def pooled_round(model, months: int = 12) -> Round:
    return Round(period_start=model.month, window_open=model.month, award_month=model.month, deadline=model.month + months)


def test_local_need_weighs_each_domain_by_its_rate_relative_to_the_places_mean_shared_equally_by_its_interventions():
    # Given fuel poverty at 20% here and 10% in the other place, NEET alike in both and no
    # youth mental disorder anywhere (a mean of 0: every place counts as average).
    rates = {"fuel_poverty_rate": np.array([0.2, 0.1]), "neet_16_24_rate": np.array([0.1, 0.1]), "youth_mh_rate": np.zeros(2)}
    keys_by_domain = {
        "fuel_poverty": ["retrofit", "income_advice", "bill_support"],
        "neet": ["careers_guidance", "employment_support", "asb_outreach"],
        "mental_health": ["mh_hub"],
    }
    # Relative rates 4/3, 1 and 1 (sum 10/3): domain shares 0.4, 0.3 and 0.3.
    assert need_shares(rates, 0, keys_by_domain) == pytest.approx({
        "retrofit": 0.4 / 3, "income_advice": 0.4 / 3, "bill_support": 0.4 / 3,
        "careers_guidance": 0.1, "employment_support": 0.1, "asb_outreach": 0.1, "mh_hub": 0.3,
    }, rel=1e-12)


def test_a_councils_local_need_is_that_of_the_rates_recorded_before_the_month_all_month():
    model = PfppModel(small(places=TWO_PLACES), seed=SEED)
    council = model.councils[1]
    assert council.need() == need_shares(model.rates, 1, model.keys_by_domain)
    before = council.need()
    model.rates = {**model.rates, "youth_mh_rate": model.rates["youth_mh_rate"][::-1].copy()}  # as if recorded mid-month
    assert council.need() is before
    model.month += 1
    assert council.need() == need_shares(model.rates, 1, model.keys_by_domain) != before


@pytest.mark.parametrize("weight", [0.0, 0.25, 1.0])
def test_pooled_money_follows_department_shares_blended_with_local_need_by_the_local_priority_weight(weight):
    model = PfppModel(small(**{"levers.pooling": 1.0, "levers.local_priority_weight": weight}), seed=SEED)
    council = model.councils[0]
    need = need_shares(model.rates, 0, model.keys_by_domain)
    council.receive_pooled(10**9, {"retrofit": 1.0}, pooled_round(model), stream_bit=4)
    (award,) = [a for a in model.open_awards(place=0) if a.pooled]
    blended = {k: (1 - weight) * (k == "retrofit") + weight * need[k] for k in INTERVENTION_KEYS}
    expected = split_pence(10**9 - award.overhead_p, {k: v for k, v in blended.items() if v > 0})
    assert {k: v for k, v in award.held_p.items()} == expected
    assert award.overhead_p == to_pence(model.mech["reporting_cost"])  # one year of reporting for the pool


@pytest.mark.parametrize("burden", [1, 2.5])
def test_a_pooled_budget_pays_reporting_by_its_burden_for_the_length_of_its_funding_period_wherever_it_starts(burden):
    model = PfppModel(small(**{"levers.pooling": 1.0, "mechanisms.pooled_reporting_burden.value": burden}), seed=SEED)
    later = Round(period_start=model.month + 3, window_open=model.month, award_month=model.month, deadline=model.month + 21)
    model.councils[0].receive_pooled(10**9, {"retrofit": 1.0}, later, stream_bit=4)
    (award,) = [a for a in model.open_awards(place=0) if a.pooled]
    assert award.overhead_p == to_pence(model.mech["reporting_cost"] * burden * 1.5)


def test_a_council_spends_its_pooled_budget_until_the_deadline_then_closes_it_and_still_orders_from_its_other_awards():
    model = PfppModel(small(**{"levers.pooling": 1.0}), seed=SEED)
    council = model.councils[0]
    council.receive_pooled(10**10, {"retrofit": 1.0}, pooled_round(model, months=6), stream_bit=4)
    (pooled,) = [a for a in model.open_awards(place=0) if a.pooled]
    siloed = model._register(new_award(model, amount_p=10**10, months=12, ledger=model.ledger))
    for award in (pooled, siloed):
        award.ready["retrofit"] = award.steady["retrofit"] = model.month
    start = model.month
    for t in range(start, start + 7):
        model.month = t
        ordered = set(model.ledger.by_line["award"][model._place_orders(model.councils).line].tolist())
        assert (pooled in model.open_awards(place=0)) == (t < pooled.deadline), t
        assert (pooled.row in ordered) == (t < pooled.deadline), t
        assert siloed.row in ordered, t
    assert pooled.closed and pooled.held_total_p == 0 < pooled.returned_p


def test_a_pooled_budget_pays_its_reporting_cost_once_however_many_streams_join_it_and_knows_their_recipients():
    model = PfppModel(small(**{"levers.pooling": 1.0}), seed=SEED)
    council, rnd = model.councils[0], pooled_round(model, months=24)
    council.receive_pooled(10**8, {"retrofit": 1.0}, rnd, stream_bit=4)
    council.receive_pooled(10**8, {"mh_hub": 1.0}, rnd, stream_bit=16)
    (award,) = [a for a in model.open_awards(place=0) if a.pooled]
    assert award.allocated_p == 2 * 10**8
    assert award.overhead_p == to_pence(model.mech["reporting_cost"] * 2)
    assert award.known_bits & 4 and award.known_bits & 16
    assert council.pooling
    assert set(award.ready) == {"retrofit", "mh_hub"}


def test_a_pooling_council_pays_the_pooled_governance_cost_every_april_and_a_siloed_one_never():
    pooled = PfppModel(small("pfpp_joined_up", horizon=36, places=TWO_PLACES), seed=SEED).run()
    siloed = PfppModel(small(horizon=36, places=TWO_PLACES), seed=SEED).run()
    aprils = [month for month in range(36) if pooled.is_fy_start(month)]
    for place in range(2):
        paid = [(month, float(r["governance_cost_gbp"][place])) for month, r in enumerate(pooled.records) if r["governance_cost_gbp"][place]]
        first = min(a.award_month for a in pooled.awards if a.pooled and a.place == place)
        assert [month for month, _ in paid] == [month for month in aprils if month >= first], place
        assert all(cost == pooled.mech["pooled_governance_cost"] for _, cost in paid), place
    assert not any(r["governance_cost_gbp"].any() for r in siloed.records)
