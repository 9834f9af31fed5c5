"""Councils: bid costs that follow the size of the bid, and teams whose capacity caps delivery."""

from __future__ import annotations

from pfpp_sim.model import PfppModel
from pfpp_sim.scenario import load_scenario

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
    orders, place_order = [], model.order_delivery

    def record(award, key, budget_p):
        orders.append((model.month, award, key, budget_p))
        place_order(award, key, budget_p)

    model.order_delivery = record
    return orders


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
    council = model.councils[award.place]
    award.held_p["retrofit"] += 10**11  # far more than the team can deliver
    model._orders.clear()
    council._order(award, award.deadline - 1)  # the last month: the council rushes to spend all it holds
    (order,) = [o for o in model._orders if o[0] is award and o[1] == "retrofit"]
    assert order[2] == int(award.plan_p["retrofit"] * model.mech["team_headroom"])
