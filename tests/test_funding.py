"""Behaviour of the funding ledger: exact pence, deadlines, clawback and round timing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfpp_sim.errors import InvariantError
from pfpp_sim.funding import Award, order_spend_p, round_timing, split_pence, to_pence

SHARES = {"income_advice": 0.5, "bill_support": 0.5}


def new_award(*, period_start: int = 0, deadline: int = 12, award_month: int = 0) -> Award:
    return Award(
        award_id=0, programme="household_support", department="DWP", place=0, round=0, pooled=False,
        competitive=False, award_month=award_month, period_start=period_start, deadline=deadline, allocated_p=0,
    )


def funded_award(amount_p: int = 1_200_000, overhead_p: int = 100_000, **timing) -> Award:
    award = new_award(**timing)
    award.add_funds(amount_p, SHARES, overhead_p, award.award_month)
    return award


# -------------------------------------------------------------------- split_pence

share_dicts = st.dictionaries(
    st.text(min_size=1, max_size=6),
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
    min_size=1,
    max_size=8,
).filter(lambda shares: sum(shares.values()) > 0)


@given(total_p=st.integers(min_value=0, max_value=10**15), shares=share_dicts)
def test_split_pence_parts_sum_exactly_to_the_total(total_p, shares):
    parts = split_pence(total_p, shares)
    assert set(parts) == set(shares)
    assert sum(parts.values()) == total_p
    assert all(isinstance(v, int) and v >= 0 for v in parts.values())


@given(total_p=st.integers(min_value=0, max_value=10**12), shares=share_dicts)
def test_split_pence_parts_are_within_a_penny_of_their_share(total_p, shares):
    parts = split_pence(total_p, shares)
    whole = sum(shares.values())
    for key, share in shares.items():
        assert abs(parts[key] - total_p * share / whole) < 1 + 1e-6


def test_split_pence_gives_nothing_to_a_zero_share():
    assert split_pence(101, {"a": 1.0, "b": 0.0}) == {"a": 101, "b": 0}


@pytest.mark.parametrize("share", [0.0, -1.0, float("nan"), float("inf")])
def test_split_pence_refuses_a_single_share_that_is_not_a_positive_number(share):
    assert split_pence(101, {"a": 0.25}) == {"a": 101}
    with pytest.raises(ValueError) as info:
        split_pence(101, {"a": share})
    assert str(info.value) == f"shares must be finite and sum to more than 0, got {{'a': {share}}}"


def test_split_pence_gives_the_leftover_penny_to_the_largest_remainder():
    # 10p by 1:2 is 3.33p and 6.67p: the floors leave a penny, which goes to the 0.67.
    assert split_pence(10, {"a": 1.0, "b": 2.0}) == {"a": 3, "b": 7}
    assert split_pence(10, {"b": 2.0, "a": 1.0}) == {"b": 7, "a": 3}
    # The remainder decides, not the size of the part: 6.1p and 3.9p give 6p and 4p.
    assert split_pence(10, {"a": 0.61, "b": 0.39}) == {"a": 6, "b": 4}


def test_split_pence_gives_tied_leftover_pennies_to_the_first_shares():
    assert split_pence(2, {"a": 1.0, "b": 1.0, "c": 1.0}) == {"a": 1, "b": 1, "c": 0}


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_split_pence_refuses_a_share_that_is_not_finite(bad):
    with pytest.raises(ValueError, match="shares must be finite and sum to more than 0"):
        split_pence(100, {"a": 1.0, "b": bad})


def test_split_pence_refuses_shares_that_sum_to_zero():
    # Otherwise money silently disappears: the parts sum to at most len(shares).
    with pytest.raises(ValueError):
        split_pence(1000, {"a": 0.0, "b": 0.0})


def test_to_pence_rounds_to_the_nearest_penny():
    assert to_pence(0.006) == 1  # truncating would give 0
    assert to_pence(0.004) == 0
    assert to_pence(123.456) == 12346
    assert to_pence(19.999) == 2000
    assert to_pence(25000) == 2_500_000


# ----------------------------------------------------------------------- spending


def test_spend_moves_money_from_held_to_delivered():
    award = funded_award()
    award.spend("income_advice", 50_000, 10_000, month=3)
    assert award.delivered_p == 50_000
    assert award.duplicated_p == 10_000
    assert award.held_p["income_advice"] == 550_000 - 50_000
    assert (award.first_delivery, award.last_delivery) == (3, 3)
    award.check(3)


def test_spend_after_the_deadline_raises_invariant_error():
    award = funded_award(deadline=12)
    with pytest.raises(InvariantError, match="deadline"):
        award.spend("income_advice", 1, 0, month=12)
    assert award.delivered_p == 0


def test_spend_on_a_closed_award_raises_invariant_error():
    award = funded_award(deadline=12)
    award.close(carry_over=False, carry_over_months=12)
    with pytest.raises(InvariantError):
        award.spend("income_advice", 1, 0, month=11)


def test_overspend_raises_invariant_error_and_leaves_the_ledger_unchanged():
    award = funded_award()
    held = dict(award.held_p)
    with pytest.raises(InvariantError, match="overspend"):
        award.spend("income_advice", held["income_advice"] + 1, 0, month=1)
    with pytest.raises(InvariantError, match="overspend"):
        award.spend("retrofit", 1, 0, month=1)
    with pytest.raises(InvariantError, match="overspend"):
        award.spend("income_advice", 100, 101, month=1)
    with pytest.raises(InvariantError, match="overspend"):
        award.spend("income_advice", -1, 0, month=1)
    assert award.held_p == held
    assert award.delivered_p == 0
    award.check(1)


def test_planned_monthly_spend_spreads_money_over_the_months_left():
    award = new_award(period_start=0, deadline=12)
    award.add_funds(1_100_000, SHARES, 100_000, 2)  # 500,000p each over the 10 months left
    assert award.plan_p == {"income_advice": 50_000, "bill_support": 50_000}
    award.add_funds(220_000, SHARES, 0, 9)  # 110,000p each over the 3 months left
    assert award.plan_p == {"income_advice": 50_000 + 36_666, "bill_support": 50_000 + 36_666}


def test_money_added_in_the_deadline_month_is_planned_for_that_month():
    award = new_award(period_start=0, deadline=12)
    award.add_funds(200, SHARES, 0, 12)
    assert award.plan_p == {"income_advice": 100, "bill_support": 100}


def test_money_added_before_the_period_is_spread_over_the_whole_period():
    award = new_award(period_start=6, deadline=12, award_month=3)
    award.add_funds(1_200, SHARES, 0, 3)
    assert award.plan_p == {"income_advice": 100, "bill_support": 100}


def test_spending_nothing_changes_nothing():
    award = funded_award()
    before = (dict(award.held_p), award.delivered_p, award.first_delivery)
    award.spend("income_advice", 0, 0, 3)
    assert (dict(award.held_p), award.delivered_p, award.first_delivery) == before


def test_first_delivery_is_the_month_of_the_first_spend_even_month_zero():
    award = funded_award()
    award.spend("income_advice", 100, 0, 0)
    award.spend("income_advice", 100, 0, 4)
    assert (award.first_delivery, award.last_delivery) == (0, 4)


@pytest.mark.parametrize(
    ("spend", "invariant"),
    [(("income_advice", 1, 0, 12), "spend after deadline"), (("income_advice", 10**9, 0, 3), "overspend")],
)
def test_refused_spend_names_the_place_code(spend, invariant):
    award = funded_award(deadline=12)
    award.place_code = "E07000062"
    with pytest.raises(InvariantError, match=rf"^{invariant}: award 0 \(household_support\).*month {spend[3]}, place E07000062$"):
        award.spend(*spend)


def test_carry_over_extends_an_award_holding_a_single_penny():
    award = funded_award(amount_p=100_001, overhead_p=100_000)
    assert award.held_total_p == 1
    assert award.close(carry_over=True, carry_over_months=6) == 0
    assert award.extended and not award.closed


def test_overhead_is_top_sliced_and_never_exceeds_the_amount():
    award = new_award()
    award.add_funds(1_000, SHARES, 5_000, 0)
    assert award.overhead_p == 1_000
    assert award.held_total_p == 0
    award.check(0)


# ------------------------------------------------------------------ closing


def test_close_claws_back_everything_held():
    award = funded_award()
    award.spend("bill_support", 200_000, 0, month=5)
    held = award.held_total_p
    returned = award.close(carry_over=False, carry_over_months=12)
    assert returned == held
    assert award.returned_p == held
    assert award.held_total_p == 0
    assert award.closed
    award.check(12)
    assert award.allocated_p == award.delivered_p + award.overhead_p + award.returned_p


def test_closing_an_award_again_returns_nothing_more_and_keeps_its_ledger():
    award = funded_award()
    returned = award.close(carry_over=False, carry_over_months=0)
    by_intervention = dict(award.returned_by_p)
    assert returned > 0
    assert award.close(carry_over=False, carry_over_months=0) == 0
    assert award.returned_p == returned and award.returned_by_p == by_intervention
    award.check(13)


def test_spending_on_an_intervention_the_award_never_funded_is_an_overspend_unless_it_spends_nothing():
    award = funded_award(deadline=12)  # income advice and bill support only
    award.spend("retrofit", 0, 0, month=3)
    assert "retrofit" not in award.held_p and award.delivered_p == 0
    for amount_p, duplicated_p in ((1, 0), (-1, 0), (0, 1)):
        with pytest.raises(InvariantError, match=r"^overspend: award 0 \(household_support\) retrofit, month 3, place 0$"):
            award.spend("retrofit", amount_p, duplicated_p, month=3)
    with pytest.raises(InvariantError, match=r"^spend after deadline: award 0 \(household_support\), month 12, place 0$"):
        award.spend("retrofit", 0, 0, month=12)
    award.close(carry_over=False, carry_over_months=0)
    with pytest.raises(InvariantError, match=r"^spend after deadline: .*month 5, place 0$"):
        award.spend("retrofit", 0, 0, month=5)


def test_delivered_and_returned_are_also_kept_by_intervention():
    award = funded_award()
    award.spend("bill_support", 200_000, 0, month=5)
    award.spend("bill_support", 50_000, 0, month=6)
    award.spend("income_advice", 30_000, 0, month=6)
    held = dict(award.held_p)
    award.close(carry_over=False, carry_over_months=12)
    assert award.delivered_by_p == {"bill_support": 250_000, "income_advice": 30_000}
    assert award.returned_by_p == held
    assert sum(award.delivered_by_p.values()) == award.delivered_p
    assert sum(award.returned_by_p.values()) == award.returned_p


def test_carry_over_extends_the_deadline_once_then_claws_back():
    award = funded_award(deadline=12)
    assert award.close(carry_over=True, carry_over_months=6) == 0
    assert (award.deadline, award.extended, award.closed) == (18, True, False)
    award.spend("income_advice", 10_000, 0, month=15)
    held = award.held_total_p
    assert award.close(carry_over=True, carry_over_months=6) == held
    assert award.deadline == 18
    assert award.closed
    award.check(18)


def test_carry_over_does_not_extend_an_award_with_nothing_held():
    award = funded_award(amount_p=100_000, overhead_p=100_000)
    assert award.close(carry_over=True, carry_over_months=6) == 0
    assert award.closed
    assert award.deadline == 12


def test_check_reports_an_unbalanced_ledger_with_month_and_place():
    award = funded_award()
    award.delivered_p += 1
    with pytest.raises(InvariantError, match=r"ledger does not balance.*month 4, place 0"):
        award.check(4)


@pytest.mark.parametrize("balance", ["delivered_p", "overhead_p", "returned_p"])
def test_check_reports_a_negative_balance_even_when_the_ledger_adds_up(balance):
    award = funded_award()
    award.allocated_p += -1 - getattr(award, balance)
    setattr(award, balance, -1)
    with pytest.raises(InvariantError, match=r"^negative balance: award 0 \(household_support\), month 2, place 0$"):
        award.check(2)


def test_check_reports_money_held_below_zero_for_one_intervention_though_the_total_is_right():
    award = funded_award()
    award.held_p["income_advice"] += award.held_p["bill_support"] + 1
    award.held_p["bill_support"] = -1
    with pytest.raises(InvariantError, match=r"^negative balance: .*month 3, place 0$"):
        award.check(3)


def test_check_reports_a_delivery_in_the_deadline_month():
    award = funded_award(deadline=12)
    award.last_delivery = 12
    with pytest.raises(InvariantError, match=r"^spend after deadline: .*month 12, place 0$"):
        award.check(12)
    award.last_delivery = 11
    award.check(12)


def test_check_names_the_place_code_when_the_award_has_one():
    award = funded_award()
    award.place_code = "E07000062"
    award.delivered_p += 1
    with pytest.raises(InvariantError, match=r"month 1, place E07000062:"):
        award.check(1)


# ------------------------------------------------------------------ round timing


def test_aligned_round_awards_on_the_first_month_of_its_period():
    rnd = round_timing(12, period_months=24, window_months=2, award_lag=5, aligned=True, aligned_lag=0)
    assert rnd.award_month == 12
    assert rnd.window_open == 10
    assert rnd.deadline == 36


@pytest.mark.parametrize(("aligned_lag", "award_month"), [(2, 14), (5, 17), (7, 17)])
def test_an_aligned_round_awards_its_aligned_lag_into_the_period_but_never_later_than_unaligned(aligned_lag, award_month):
    rnd = round_timing(12, period_months=24, window_months=2, award_lag=5, aligned=True, aligned_lag=aligned_lag)
    assert (rnd.award_month, rnd.window_open, rnd.deadline) == (award_month, award_month - 2, 36)


def test_unaligned_round_awards_late_but_keeps_the_same_deadline():
    aligned = round_timing(12, period_months=24, window_months=2, award_lag=5, aligned=True, aligned_lag=0)
    late = round_timing(12, period_months=24, window_months=2, award_lag=5, aligned=False, aligned_lag=0)
    assert late.award_month == 12 + 5
    assert late.window_open == 12 + 5 - 2
    assert late.deadline == aligned.deadline
    assert late.period_start == aligned.period_start == 12


# ------------------------------------------------------- property: the ledger

KEYS = ("retrofit", "income_advice", "bill_support")
add_op = st.tuples(
    st.just("add"),
    st.integers(0, 10**9),
    st.dictionaries(st.sampled_from(KEYS), st.floats(0.01, 1.0), min_size=1),
    st.integers(0, 10**8),
)
spend_op = st.tuples(st.just("spend"), st.sampled_from(KEYS), st.integers(-10, 10**9), st.integers(0, 10**9))
close_op = st.tuples(st.just("close"), st.booleans(), st.integers(0, 24))
operations = st.lists(st.tuples(st.integers(0, 6), st.one_of(add_op, spend_op, close_op)), max_size=40)


@settings(max_examples=200)
@given(ops=operations, deadline=st.integers(1, 36))
def test_any_sequence_of_operations_keeps_the_ledger_balanced_to_the_penny(ops, deadline):
    award = new_award(deadline=deadline)
    month = 0
    for advance, op in ops:
        month += advance
        if op[0] == "add":
            _, amount_p, shares, overhead_p = op
            award.add_funds(amount_p, shares, overhead_p, month)
        elif op[0] == "spend":
            _, key, amount_p, duplicated_p = op
            amount_p = min(amount_p, award.held_p.get(key, 0)) if amount_p % 2 else amount_p
            before = (dict(award.held_p), award.delivered_p, award.duplicated_p)
            try:
                award.spend(key, amount_p, min(duplicated_p, max(amount_p, 0)), month)
            except InvariantError:
                assert (award.held_p, award.delivered_p, award.duplicated_p) == before
        elif month >= award.deadline and not award.closed:
            _, carry_over, carry_months = op
            award.close(carry_over=carry_over, carry_over_months=carry_months)
        award.check(month)
        assert award.allocated_p == award.delivered_p + award.overhead_p + award.returned_p + award.held_total_p
        assert award.last_delivery < award.deadline


# ------------------------------------------------------- what a delivery order spends


def test_an_order_that_serves_all_it_asked_for_spends_its_budget():
    # 2.5 homes' worth at 400p a home: rounded up to 3 or down to 2, the order spends its
    # 1,000p either way, so homes x cost equals spend in expectation (0.5 x 3 + 0.5 x 2 = 2.5).
    spend = order_spend_p(np.array([3, 2]), np.array([3, 2]), np.array([400.0, 400.0]), np.array([1_000, 1_000]))
    np.testing.assert_array_equal(spend, [1_000, 1_000])


def test_an_order_short_of_residents_to_serve_spends_only_for_those_it_served():
    spend = order_spend_p(np.array([1, 0]), np.array([3, 2]), np.array([400.0, 400.0]), np.array([1_000, 1_000]))
    np.testing.assert_array_equal(spend, [400, 0])


def test_what_orders_spend_is_whole_pence():
    # Spend is moved between integer ledgers: a float could not hold every penny past 2**53.
    spend = order_spend_p(np.array([1, 3]), np.array([3, 3]), np.array([333.4, 333.4]), np.array([1_000, 1_000]))
    assert spend.dtype == np.int64
    np.testing.assert_array_equal(spend, [333, 1_000])
