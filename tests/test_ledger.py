"""Behaviour of the awards' ledger as arrays (``pfpp_sim/ledger.py``) and of the orders councils place from it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfpp_sim.agents.council import order_lines
from pfpp_sim.capacity import capacity_share, monthly_order_p
from pfpp_sim.errors import InvariantError
from pfpp_sim.funding import Award
from pfpp_sim.ledger import NOT_MOBILISED, Columns, Ledger
from pfpp_sim.scenario import KEY_INDEX


def award(ledger: Ledger, *, place: int = 0, deadline: int = 24, shares: dict[str, float] | None = None, amount_p: int = 12_000) -> Award:
    """A funded award of ``ledger`` whose teams all deliver at their steady rate from month 0."""
    grant = Award(
        award_id=ledger.by_award.n, programme="home_upgrade", department="DESNZ", place=place, round=0, pooled=False,
        competitive=False, award_month=0, period_start=0, deadline=deadline, allocated_p=0, ledger=ledger,
    )
    grant.add_funds(amount_p, shares or {"retrofit": 1.0}, 0, 0)
    for key in grant.lines:
        grant.ready[key] = grant.steady[key] = 0
    return grant


RUSH = 3  # months of rush before a deadline, as the presets' deadline_rush_months


def orders(ledger: Ledger, month: int, rank: list[int], *, skip: np.ndarray | None = None) -> tuple[list[int], list[int], list[int]]:
    skip = np.zeros(ledger.by_award.n, dtype=bool) if skip is None else skip
    lines, budget_p, lost = order_lines(ledger, month, np.array(rank), skip=skip, headroom=1.5, rush_months=RUSH)
    return lines.tolist(), budget_p.tolist(), lost.tolist()


# ------------------------------------------------------------------ columns


@settings(max_examples=50)
@given(rows=st.lists(st.integers(-(2**40), 2**40), max_size=40))
def test_columns_keep_every_row_and_give_unset_columns_their_default_and_dtype_as_they_grow(rows):
    columns = Columns({"value": (np.int64, 0), "other": (np.int64, -1), "share": (np.float64, 0)})
    assert [columns.append({"value": v}) for v in rows] == list(range(len(rows)))
    assert columns.n == len(rows)
    assert columns["value"].tolist() == rows
    assert columns["other"].tolist() == [-1] * len(rows)
    assert columns["share"].dtype == np.float64 and columns["share"].tolist() == [0.0] * len(rows)


# ------------------------------------------------------------------ lines seen as an award's dicts


def test_an_awards_lines_read_as_dicts_by_intervention_in_the_order_funded():
    ledger = Ledger()
    grant = award(ledger, shares={"income_advice": 1.0, "retrofit": 3.0})
    assert list(grant.held_p) == list(grant.lines) == ["income_advice", "retrofit"]
    assert grant.held_p == {"income_advice": 3_000, "retrofit": 9_000}
    assert grant.delivered_by_p == {} and "retrofit" not in grant.delivered_by_p  # nothing delivered yet
    grant.spend("retrofit", 100, 0, month=1)
    assert grant.delivered_by_p == {"retrofit": 100} and len(grant.delivered_by_p) == 1
    assert ledger.by_line["delivered_p"].tolist() == [0, 100]


def test_a_team_not_yet_mobilised_has_no_ready_or_steady_month():
    ledger = Ledger()
    grant = Award(
        award_id=0, programme="home_upgrade", department="DESNZ", place=0, round=0, pooled=False, competitive=False,
        award_month=0, period_start=0, deadline=12, allocated_p=0, ledger=ledger,
    )
    grant.add_funds(1_000, {"retrofit": 1.0}, 0, 0)
    assert "retrofit" not in grant.ready and dict(grant.steady) == {}
    assert ledger.by_line["ready"].tolist() == [NOT_MOBILISED]
    with pytest.raises(KeyError, match="retrofit"):
        grant.ready["retrofit"]
    grant.ready["retrofit"] = -3  # a team mobilised in the run-in, before month 0
    assert grant.ready == {"retrofit": -3} and "retrofit" in grant.ready and "mh_hub" not in grant.ready
    with pytest.raises(TypeError, match="never removed"):
        del grant.held_p["retrofit"]
    with pytest.raises(AttributeError, match="one intervention at a time"):
        grant.ready = {"retrofit": 0}


def test_setting_an_intervention_an_award_has_no_line_for_adds_its_line():
    ledger = Ledger()
    first, second = award(ledger), award(ledger)
    second.held_p["mh_hub"] = 500
    line = second.lines["mh_hub"]
    assert (ledger.by_line["award"][line], ledger.by_line["key"][line]) == (second.row, KEY_INDEX["mh_hub"])
    assert second.held_p == {"retrofit": 12_000, "mh_hub": 500} and "mh_hub" not in first.held_p
    assert second.held_total_p == 12_500


def test_a_new_award_holds_what_it_is_given_and_may_deliver_from_its_award_or_period_start_whichever_is_later():
    ledger = Ledger()
    fields = {"programme": "home_upgrade", "department": "DESNZ", "place": 3, "round": 0, "pooled": False, "competitive": False}
    early = Award(award_id=7, award_month=2, period_start=5, deadline=17, allocated_p=300, overhead_p=20, ledger=ledger, **fields)
    late = Award(award_id=8, award_month=6, period_start=5, deadline=17, allocated_p=0, ledger=ledger, **fields)
    assert ledger.by_award["start"].tolist() == [5, 6] and ledger.by_award["place"].tolist() == [3, 3]
    assert (early.allocated_p, early.overhead_p, early.delivered_p, early.returned_p, early.duplicated_p) == (300, 20, 0, 0, 0)
    assert (early.known_bits, early.first_delivery, early.last_delivery, early.closed, early.extended) == (0, -1, -1, False, False)
    assert ledger.by_award["stream_bit"].tolist() == [0, 0] and (late.overhead_p, late.award_id, late.row) == (0, 8, 1)


# ------------------------------------------------------------------ checks and spending, many awards at once


def test_the_check_of_many_awards_names_the_first_wrong_one_in_the_order_given():
    ledger = Ledger()
    grants = [award(ledger, place=p) for p in range(4)]
    ledger.check(np.arange(4), 5)
    grants[3].delivered_p += 1
    grants[1].last_delivery = grants[1].deadline
    with pytest.raises(InvariantError, match=r"^spend after deadline: award 1 \(home_upgrade\), month 5, place 1$"):
        ledger.check(np.arange(4), 5)
    with pytest.raises(
        InvariantError,
        match=r"^ledger does not balance: award 3 .*month 5, place 3: allocated 12000 != delivered 1 \+ overhead 0 \+ returned 0 \+ held 12000 \(pence\)$",
    ):
        ledger.check(np.array([3, 1]), 5)
    ledger.check(np.array([0, 2]), 5)


def test_spending_many_lines_at_once_moves_each_from_held_to_delivered_and_dates_the_deliveries():
    ledger = Ledger()
    first, second = award(ledger), award(ledger, shares={"income_advice": 1.0, "bill_support": 1.0})
    lines = np.array([first.lines["retrofit"], second.lines["income_advice"], second.lines["bill_support"]])
    ledger.spend(lines, np.array([1_000, 200, 0]), np.array([10, 0, 0]), 3)
    assert (first.delivered_p, first.duplicated_p, first.first_delivery, first.last_delivery) == (1_000, 10, 3, 3)
    assert (second.delivered_p, second.first_delivery) == (200, 3)
    assert second.held_p == {"income_advice": 5_800, "bill_support": 6_000}
    ledger.spend(lines[:1], np.array([1]), np.array([0]), 7)
    assert (first.first_delivery, first.last_delivery, second.last_delivery) == (3, 7, 3)
    ledger.check(np.arange(2), 7)


@pytest.mark.parametrize(
    ("amounts", "duplicated", "month", "error"),
    [
        ([1_000, 12_001], [0, 0], 3, r"^overspend: award 1 \(home_upgrade\) retrofit, month 3, place 0$"),
        ([1_000, -1], [0, 0], 3, r"^overspend: award 1 "),
        ([1_000, 5], [0, 6], 3, r"^overspend: award 1 "),
        ([1_000, 5], [0, 0], 24, r"^spend after deadline: award 0 "),
    ],
)
def test_spending_that_any_line_cannot_afford_spends_nothing_and_names_that_line(amounts, duplicated, month, error):
    ledger = Ledger()
    first, second = award(ledger), award(ledger)
    lines = np.array([first.lines["retrofit"], second.lines["retrofit"]])
    with pytest.raises(InvariantError, match=error):
        ledger.spend(lines, np.array(amounts), np.array(duplicated), month)
    assert ledger.by_line["held_p"].tolist() == [12_000, 12_000] and first.delivered_p == 0


def test_money_held_by_award_sums_each_awards_lines():
    ledger = Ledger()
    award(ledger, amount_p=700)
    award(ledger, shares={"income_advice": 1.0, "retrofit": 1.0}, amount_p=900)
    held = ledger.held_by_award(np.array([1, 0]))
    assert held.dtype == np.int64 and held.tolist() == [900, 700]


# ------------------------------------------------------------------ M6: the councils' orders


def test_councils_order_in_their_turn_each_its_awards_oldest_first_and_each_awards_lines_in_the_order_funded():
    # Awards 0 and 2 in place 0, 1 and 3 in place 1; place 1's council has the first turn.
    ledger = Ledger()
    grants = [award(ledger, place=p % 2, shares={"retrofit": 1.0, "income_advice": 1.0}) for p in range(4)]
    lines, _, _ = orders(ledger, 0, rank=[1, 0])
    expected = [grants[a].lines[key] for a in (1, 3, 0, 2) for key in ("retrofit", "income_advice")]
    assert lines == expected


def test_a_line_orders_its_plan_then_in_the_rush_what_its_team_can_deliver_and_no_line_of_a_closed_skipped_or_ended_award_orders():
    ledger = Ledger()
    grants = [award(ledger, place=p) for p in range(4)]
    plan = grants[0].plan_p["retrofit"]  # 12,000 over 24 months
    assert orders(ledger, 0, rank=[0, 1, 2, 3]) == ([0, 1, 2, 3], [plan] * 4, [0] * 4)
    grants[1].closed = True
    skip = np.array([False, False, True, False])
    assert orders(ledger, 24 - RUSH, rank=[0, 1, 2, 3], skip=skip)[:2] == ([0, 3], [int(plan * 1.5)] * 2)
    assert orders(ledger, 24, rank=[0, 1, 2, 3])[0] == []


def test_a_line_whose_team_is_not_ready_orders_nothing_and_loses_a_month_once_its_money_may_be_spent():
    ledger = Ledger()
    early, later = award(ledger, place=0), award(ledger, place=1)
    early.ready["retrofit"] = later.ready["retrofit"] = 4
    ledger.by_award["start"][1] = 2  # the second award's period starts in month 2
    assert orders(ledger, 1, rank=[0, 1]) == ([], [], [1, 0])
    assert orders(ledger, 3, rank=[0, 1]) == ([], [], [1, 1])
    assert orders(ledger, 4, rank=[0, 1])[0] == [0, 1]


def plain_orders(
    ledger: Ledger, month: int, rank: np.ndarray, *, skip: np.ndarray, headroom: float, rush_months: float,
) -> tuple[np.ndarray, ...]:
    """The month's orders by the capacity rules in NumPy, as :func:`order_lines` gives them in one compiled pass."""
    a, line = ledger.by_award, ledger.by_line
    award = line["award"]
    deadline, ready, held = a["deadline"][award], line["ready"], line["held_p"]
    live = np.flatnonzero((held > 0) & (month < deadline) & ~a["closed"][award] & ~skip[award])
    waiting = live[month < ready[live]]
    lost = np.bincount(a["place"][award[waiting]][month >= a["start"][award[waiting]]], minlength=rank.size)
    lines = live[month >= ready[live]]
    share = capacity_share(month, ready[lines], line["steady"][lines])
    budget_p = monthly_order_p(held[lines], line["plan_p"][lines], headroom=headroom, share=share, rush=deadline[lines] - month <= rush_months)
    ordered = budget_p > 0
    lines, budget_p = lines[ordered], budget_p[ordered]
    placed = np.lexsort((lines, award[lines], rank[a["place"][award[lines]]]))
    return lines[placed], budget_p[placed], lost


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_awards=st.integers(0, 30), month=st.integers(0, 30))
def test_the_compiled_orders_are_those_of_the_capacity_rules(seed, n_awards, month):
    # Awards in three places, topped up in turn, with teams ready, ramping, steady or not
    # mobilised, some closed or skipped: the same orders, in the same order, and the same months lost.
    rng = np.random.default_rng(seed)
    ledger = Ledger()
    for _ in range(n_awards):
        ledger.by_award.append({"place": rng.integers(3), "start": rng.integers(0, 12), "deadline": rng.integers(6, 36), "closed": rng.random() < 0.2})
    for row in rng.integers(0, max(n_awards, 1), size=3 * n_awards):  # lines of an award funded at different times
        for key in rng.choice(list(KEY_INDEX), size=rng.integers(1, 3), replace=False):
            ready = NOT_MOBILISED if rng.random() < 0.1 else int(rng.integers(0, 20))
            steady = ready if ready == NOT_MOBILISED else ready + int(rng.integers(0, 12))
            held = int(rng.integers(-10, 10**6)) if rng.random() < 0.9 else 0
            ledger.add_line(int(row), str(key), held_p=held, plan_p=int(rng.integers(0, 10**5)), ready=ready, steady=steady)
    skip = rng.random(ledger.by_award.n) < 0.1
    rank, headroom, rush = rng.permutation(3), float(rng.uniform(1.0, 2.0)), float(rng.uniform(1.0, 6.0))
    compiled = order_lines(ledger, month, rank, skip=skip, headroom=headroom, rush_months=rush)
    for got, expected in zip(compiled, plain_orders(ledger, month, rank, skip=skip, headroom=headroom, rush_months=rush), strict=True):
        np.testing.assert_array_equal(got, expected)
