"""Delivery teams: first delivery, ramp to steady delivery and the monthly capacity that caps orders (M6)."""

from __future__ import annotations

import numpy as np
import pytest

from pfpp_sim.capacity import capacity_share, monthly_order_p


def test_a_team_delivers_nothing_before_its_first_delivery_month():
    assert capacity_share(4, ready=5, steady=16) == 0.0
    assert capacity_share(np.array([0, 2, 4]), ready=5, steady=16).tolist() == [0.0, 0.0, 0.0]


def test_a_team_ramps_up_linearly_from_first_to_steady_delivery():
    # First delivery in month 5, steady from month 16: 12 months of ramp, 1/12 more each month.
    assert [capacity_share(t, ready=5, steady=16) for t in (5, 6, 10, 15)] == pytest.approx([1 / 12, 2 / 12, 6 / 12, 11 / 12])
    assert capacity_share(16, ready=5, steady=16) == 1.0
    assert capacity_share(40, ready=5, steady=16) == 1.0


def test_a_team_ready_at_steady_delivery_has_no_ramp():
    assert capacity_share(5, ready=5, steady=5) == 1.0


def test_a_team_orders_its_plan_in_an_ordinary_month():
    assert monthly_order_p(1_000_000, 10_000, headroom=1.5, share=1.0, rush=False) == 10_000


def test_an_order_beyond_a_teams_capacity_is_filled_only_up_to_capacity():
    # In the rush the council wants everything it holds; its team can do 1.5 x the plan.
    assert monthly_order_p(1_000_000, 10_000, headroom=1.5, share=1.0, rush=True) == 15_000


def test_the_deadline_rush_never_exceeds_the_team_headroom():
    for headroom in (1.0, 1.2, 2.0, 3.0):
        assert monthly_order_p(10**9, 10_000, headroom=headroom, share=1.0, rush=True) == int(10_000 * headroom)


def test_a_team_in_its_ramp_orders_less_than_its_plan():
    # Capacity is 1.5 x plan x 1/3 = half the plan.
    assert monthly_order_p(1_000_000, 12_000, headroom=1.5, share=1 / 3, rush=False) == 6_000


def test_a_team_never_orders_more_than_it_holds():
    assert monthly_order_p(7_000, 10_000, headroom=1.5, share=1.0, rush=True) == 7_000
    assert monthly_order_p(0, 10_000, headroom=1.5, share=1.0, rush=False) == 0
