"""Competitive rounds: what a bid costs and how a fixed pot is shared among winners (M3)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfpp_sim.competition import award_pot, bid_cost_p

SCALING = {"typical_cost_gbp": 25_000.0, "typical_scheme_gbp": 625_000.0, "elasticity": 0.5}


# ------------------------------------------------------------------ bid cost


def test_a_bid_for_the_typical_scheme_costs_the_typical_bid_cost():
    assert bid_cost_p(62_500_000, **SCALING) == 2_500_000


def test_bid_cost_rises_with_bid_value_less_than_proportionally():
    # Elasticity 0.5: four times the scheme costs twice as much, a quarter costs half.
    assert bid_cost_p(4 * 62_500_000, **SCALING) == 5_000_000
    assert bid_cost_p(62_500_000 // 4, **SCALING) == 1_250_000
    small, large = 10_000_000, 1_000_000_000  # GBP 100k and GBP 10m asks
    assert bid_cost_p(small, **SCALING) / small > bid_cost_p(large, **SCALING) / large


def test_an_elasticity_of_one_makes_bid_cost_proportional():
    proportional = {**SCALING, "elasticity": 1.0}
    assert bid_cost_p(3 * 62_500_000, **proportional) == 3 * 2_500_000


@pytest.mark.parametrize("elasticity", [0.0, 0.46])
def test_nothing_asked_costs_nothing_whatever_the_elasticity(elasticity):
    assert bid_cost_p(0, **{**SCALING, "elasticity": elasticity}) == 0


def test_a_bid_for_a_penny_still_costs_something():
    assert bid_cost_p(1, **SCALING) > 0


# ------------------------------------------------------------------ the pot


def test_bids_are_funded_in_order_of_score_until_the_pot_is_spent():
    asks = np.array([400, 300, 500, 200])
    scores = np.array([0.1, 0.9, 0.5, 0.7])  # rank: 1, 3, 2, 0
    grants = award_pot(asks, scores, pot_p=1_000)
    # 300 (score 0.9) and 200 (0.7) in full, then the 500 gets the 500 left; the 400 fails.
    np.testing.assert_array_equal(grants, [0, 300, 500, 200])


def test_the_marginal_bid_gets_what_is_left_of_the_pot():
    grants = award_pot(np.array([600, 600]), np.array([0.2, 0.8]), pot_p=1_000)
    np.testing.assert_array_equal(grants, [400, 600])


def test_a_pot_larger_than_all_bids_leaves_the_rest_unawarded():
    grants = award_pot(np.array([100, 250]), np.array([0.3, 0.6]), pot_p=1_000)
    np.testing.assert_array_equal(grants, [100, 250])
    assert 1_000 - grants.sum() == 650


def test_equal_scores_are_ranked_in_council_order():
    grants = award_pot(np.array([700, 700, 700]), np.array([0.5, 0.5, 0.5]), pot_p=1_000)
    np.testing.assert_array_equal(grants, [700, 300, 0])


def test_among_many_bids_with_equal_scores_the_earlier_councils_are_funded_first():
    # A hundred bids of 1p scored 0, 1 or 2, and a pot of 60p: every bid scored 2 is
    # funded, then the bids scored 1 in council order until the pot is spent.
    scores = np.random.default_rng(3).integers(0, 3, 100).astype(float)
    grants = award_pot(np.ones(100, dtype=np.int64), scores, pot_p=60)
    top, middle = np.flatnonzero(scores == 2), np.flatnonzero(scores == 1)
    funded = np.concatenate([top, middle[: 60 - top.size]])
    assert top.size < 60 < top.size + middle.size
    np.testing.assert_array_equal(np.flatnonzero(grants), np.sort(funded))


def test_no_bids_award_nothing():
    assert award_pot(np.array([], dtype=np.int64), np.array([]), pot_p=1_000).sum() == 0


@given(
    asks=st.lists(st.integers(0, 10**12), min_size=1, max_size=40),
    seed=st.integers(0, 2**32 - 1),
    pot_p=st.integers(0, 10**13),
)
def test_a_round_never_awards_more_than_its_pot_or_any_bid_more_than_it_asked(asks, seed, pot_p):
    asks = np.array(asks, dtype=np.int64)
    scores = np.random.default_rng(seed).random(asks.size)
    grants = award_pot(asks, scores, pot_p=pot_p)
    assert grants.sum() <= pot_p
    assert np.all((grants >= 0) & (grants <= asks))
    # The pot is spent whenever the bids ask for at least all of it.
    assert grants.sum() == min(pot_p, int(asks.sum()))


@given(asks=st.lists(st.integers(1, 10**9), min_size=2, max_size=20), seed=st.integers(0, 2**32 - 1))
def test_with_enough_bids_every_draw_of_scores_awards_the_same_total(asks, seed):
    # The total a department awards does not depend on who wins: it is the pot.
    asks = np.array(asks, dtype=np.int64)
    pot_p = int(asks.sum()) // 2
    totals = {int(award_pot(asks, np.random.default_rng(seed + k).random(asks.size), pot_p=pot_p).sum()) for k in range(5)}
    assert totals == {pot_p}


@pytest.mark.parametrize("bad", [np.array([0.5]), np.array([0.1, 0.2, 0.3])])
def test_scores_must_match_the_bids(bad):
    with pytest.raises(ValueError, match=f"expected one score per bid: 2 bids, {bad.size} scores"):
        award_pot(np.array([10, 20]), bad, pot_p=100)
