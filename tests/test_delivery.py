"""Behaviour of delivery (``pfpp_sim/delivery.py``): orders turned into recipients and spending."""

from __future__ import annotations

import numpy as np
import pytest

from pfpp_sim.agents.council import POOLED_BIT
from pfpp_sim.delivery import Orders, _batches, deliver, delivery_flows
from pfpp_sim.funding import Award
from pfpp_sim.ledger import Ledger
from pfpp_sim.population import BAND_D, Households, PlaceTable, Population, YoungPeople
from pfpp_sim.scenario import INTERVENTION_KEYS, KEY_INDEX
from pfpp_sim.targeting import RecipientRecords

UNIT_COST_P = 100.0
STREAM_BITS = {"household_support": 1, "home_upgrade": 2}


def homes(fuel_poor: int, others: int) -> Population:
    """One place of ``fuel_poor`` fuel-poor homes in band D, then ``others`` homes in band C that are not, and two young people."""
    n = fuel_poor + others
    one = np.ones(1)
    places = PlaceTable(
        codes=["E07000062"], names=["Hastings"], real_households=n * one, real_young_people=2 * one,
        household_weight=one, youth_weight=one, income_level=one, target_fuel_poverty=0 * one,
        target_neet_16_17=0 * one, neet_18_24=0 * one, income_trend=0 * one, neet_trend=0 * one,
        unemployment_relative=one,
    )
    poor = np.arange(n) < fuel_poor
    households = Households(
        place=np.zeros(n, dtype=np.int16), tenure=np.zeros(n, dtype=np.uint8), base_income=np.full(n, 20000.0),
        income_dev=np.zeros(n, dtype=np.float32), income_gain_until=np.zeros(n, dtype=np.int32),
        band=np.where(poor, BAND_D, BAND_D - 1).astype(np.uint8), means_tested=np.zeros(n, dtype=bool),
        bill_support=np.zeros(n), bill_support_until=np.zeros(n, dtype=np.int32), fuel_poor=poor,
        months_cold=np.zeros(n, dtype=np.int32), slices=[slice(0, n)],
    )
    young = YoungPeople(
        place=np.zeros(2, dtype=np.int16), household=np.zeros(2, dtype=np.int32), age_months=np.full(2, 200, dtype=np.int16),
        status=np.zeros(2, dtype=np.uint8), months_neet=np.zeros(2, dtype=np.int16), mh_disorder=np.zeros(2, dtype=bool),
        careers_until=np.zeros(2, dtype=np.int32), ips_until=np.zeros(2, dtype=np.int32), asb_until=np.zeros(2, dtype=np.int32),
        job_search_rank=np.zeros(2, dtype=np.uint16), ilo_status=np.zeros(2, dtype=np.uint8), slices=[slice(0, 2)],
    )
    return Population(places=places, households=households, young=young)


def award(ledger: Ledger, programme: str = "household_support", *, pooled: bool = False) -> Award:
    return Award(
        award_id=ledger.by_award.n, programme=programme, department="DWP", place=0, round=0, pooled=pooled, competitive=False,
        award_month=0, period_start=0, deadline=12, allocated_p=0, known_bits=STREAM_BITS.get(programme, 0),
        stream_bit=STREAM_BITS.get(programme, 0), ledger=ledger,
    )


def orders_of(*placed: tuple[Award, str, int]) -> Orders:
    """The orders of (award, intervention, budget in pence) triples, of awards of one ledger, each line holding its budget."""
    for grant, key, budget_p in placed:
        grant.held_p[key] = grant.held_p.get(key, 0) + budget_p
    lines = np.array([grant.lines[key] for grant, key, _ in placed])
    return Orders.of(placed[0][0].ledger, lines, np.array([budget_p for *_, budget_p in placed], dtype=np.int64))


def one_order(key: str, budget_p: int, programme: str = "household_support") -> Orders:
    """One order of ``budget_p`` pence of ``key`` from a new award of ``programme``."""
    return orders_of((award(Ledger(), programme), key, budget_p))


def run(pop: Population, orders: Orders, *, precision: float = 1.0, seed: int = 0):
    records = RecipientRecords(pop.households.n, pop.young.n)
    done = deliver(
        orders, pop, cold=np.zeros(pop.young.n, dtype=bool), records=records,
        unit_cost_p=np.full((len(INTERVENTION_KEYS), 1), UNIT_COST_P), precision=np.full(orders.size, precision),
        sees_others=0.0, rng=np.random.default_rng(seed),
    )
    return orders, done, records


def test_an_order_serves_its_budget_over_the_unit_cost_and_spends_its_budget():
    # Given 4 fuel-poor homes among 10 and precise targeting, an order of 3 recipients' worth.
    pop = homes(4, 6)
    _, done, records = run(pop, one_order("income_advice", 3 * int(UNIT_COST_P)))
    assert (done.served.tolist(), done.intended.tolist(), done.spend_p.tolist()) == ([3], [3], [300])
    assert done.duplicated.tolist() == done.duplicated_p.tolist() == [0]
    assert sorted(done.recipients.tolist()) == sorted(set(done.recipients.tolist())) and set(done.recipients.tolist()) <= {0, 1, 2, 3}
    assert list(done.by_intervention())[0][0] == "income_advice"
    assert records.received["income_advice"].sum() == 3
    for column in ("served", "duplicated", "intended", "spend_p", "duplicated_p", "recipients", "recipient_key"):
        assert getattr(done, column).dtype == np.int64, f"{column}: whole residents and whole pence"


def test_an_order_delivers_no_more_than_its_group_holds_and_spends_only_for_those_it_served():
    # Given only 4 homes that retrofit can reach (bands D-G), an order for 10 retrofits.
    pop = homes(4, 6)
    _, done, _ = run(pop, one_order("retrofit", 10 * int(UNIT_COST_P), "home_upgrade"))
    assert done.served.tolist() == [4]
    assert done.spend_p.tolist() == [400]
    assert sorted(done.recipients.tolist()) == [0, 1, 2, 3]


def test_a_stream_never_serves_a_resident_twice_in_one_month():
    # Given a stream that places two orders of 3 homes' income advice in one month: the
    # second is fulfilled after the first and finds 3 other homes.
    pop = homes(4, 6)
    grant = award(Ledger())
    _, done, _ = run(pop, orders_of((grant, "income_advice", 300), (grant, "income_advice", 300)), precision=0.5)
    assert done.served.tolist() == [3, 3]
    assert done.recipients.size == len(set(done.recipients.tolist())) == 6


def test_an_order_of_a_fraction_of_a_recipient_is_rounded_up_or_down_by_its_own_draw():
    pop = homes(4, 6)
    served = {int(run(pop, one_order("income_advice", 50), seed=seed)[1].served[0]) for seed in range(20)}
    assert served == {0, 1}


def test_the_orders_of_a_month_are_columns_of_the_award_lines_they_spend_from():
    ledger = Ledger()
    siloed, pooled = award(ledger, "home_upgrade"), award(ledger, "pooled", pooled=True)
    siloed.known_bits, siloed.place = 5, 2
    orders = orders_of((siloed, "retrofit", 500), (pooled, "income_advice", 700))
    assert orders.size == 2 and orders.line.tolist() == [siloed.lines["retrofit"], pooled.lines["income_advice"]]
    assert orders.place.tolist() == [2, 0] and orders.known_bits.tolist() == [5, 0]
    assert orders.key.tolist() == [KEY_INDEX["retrofit"], KEY_INDEX["income_advice"]]
    assert orders.budget_p.tolist() == [500, 700]
    assert orders.pooled.tolist() == [False, True]
    assert orders.stream_bit.tolist() == [STREAM_BITS["home_upgrade"], POOLED_BIT]
    assert orders.take(np.array([False, True])).line.tolist() == [pooled.lines["income_advice"]]


def test_delivery_flows_count_recipients_at_their_real_weight_and_spending_in_pounds():
    pop = homes(4, 6)
    ledger = Ledger()
    orders, done, _ = run(pop, orders_of((award(ledger, "home_upgrade"), "retrofit", 200), (award(ledger), "income_advice", 300)))
    weight = np.full((len(INTERVENTION_KEYS), 1), 50.0)  # 50 real homes a simulated one
    flows = delivery_flows(orders, done, weight, 1)
    assert flows["deliveries"].tolist() == [250.0]
    assert flows["delivered_gbp"].tolist() == [5.0]
    assert flows["retrofits"].tolist() == flows["retrofits_to_fuel_poor"].tolist() == [100.0]
    assert flows["duplicated_gbp"].tolist() == [0.0]


def test_orders_are_fulfilled_in_rounds_of_one_per_place_and_intervention_with_a_pooled_teams_complement_first():
    # Orders 0-4: Hastings retrofit twice, Luton retrofit, Hastings income advice (pooled),
    # Luton retrofit again (pooled). Income advice comes after retrofit, its complement.
    retrofit, advice = KEY_INDEX["retrofit"], KEY_INDEX["income_advice"]
    chosen, first = _batches(
        np.arange(5), np.array([0, 0, 1, 0, 1]), np.array([retrofit, retrofit, retrofit, advice, retrofit]),
        np.array([False, False, False, True, True]),
    )
    assert [b.tolist() for b in np.split(chosen, first[1:])] == [[0, 2], [3], [1, 4]] and first[0] == 0


def test_many_orders_of_many_places_are_fulfilled_in_the_order_each_council_placed_them():
    # 200 orders for two interventions in eight places: the k-th order of a place and
    # intervention is in round k, and every round holds one order per pair.
    rng = np.random.default_rng(1)
    places, keys = rng.integers(0, 8, 200), rng.integers(0, 2, 200)
    chosen, first = _batches(np.arange(200), places, keys, np.zeros(200, dtype=bool))
    round_of = np.empty(200, dtype=int)
    for k, batch in enumerate(np.split(chosen, first[1:])):
        round_of[batch] = k
        pairs = list(zip(places[batch].tolist(), keys[batch].tolist()))
        assert len(set(pairs)) == len(pairs)
    for pair in set(zip(places.tolist(), keys.tolist())):
        mine = np.flatnonzero((places == pair[0]) & (keys == pair[1]))
        assert round_of[mine].tolist() == list(range(mine.size)), pair


@pytest.mark.parametrize("precision", [0.0, 1.0])
def test_an_order_draws_its_intended_share_by_its_precision(precision):
    # Given 4 fuel-poor homes among 10, an order of 4 homes' income advice.
    _, done, _ = run(homes(4, 6), one_order("income_advice", 400), precision=precision)
    assert done.intended.tolist() == [4 if precision else 0]
