"""Shapley arithmetic on games whose values are known, apart from any model run."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pfpp_sim import shapley


def values_of(design: shapley.Design, game) -> np.ndarray:
    """The game's value on each coalition of the design, as a vector."""
    return np.array([game({i for i in range(design.k) if mask >> i & 1}) for mask in design.masks], dtype=float)


def polynomial_game(a, b, c):
    """v(S) = sum of a_i over S + sum of b_ij over pairs in S + c if factors 0, 1 and 2 are all in S."""
    def game(members):
        value = sum(a[i] for i in members)
        value += sum(b[i, j] for i in members for j in members if i < j)
        return value + (c if {0, 1, 2} <= members else 0.0)
    return game


def polynomial_shapley(a, b, c):
    """Known Shapley values of :func:`polynomial_game`: each interaction split equally among its members."""
    upper = np.triu(b, 1)
    phi = np.array(a, dtype=float) + (upper.sum(axis=0) + upper.sum(axis=1)) / 2
    phi[:3] += c / 3
    return phi


def test_a_product_of_two_factors_is_split_half_and_half_as_interaction():
    design = shapley.exact(2)
    v = values_of(design, lambda s: float(s == {0, 1}))  # f = a * b
    np.testing.assert_allclose(design.shapley_values(v), [0.5, 0.5])
    np.testing.assert_allclose(design.main_effects(v), [0.0, 0.0])
    np.testing.assert_allclose(design.interactions(v), [0.5, 0.5])
    np.testing.assert_allclose(design.pair_interactions(v), [1.0])


def test_an_additive_game_gives_each_factor_its_own_effect_and_no_interaction():
    a = [3.0, -1.0, 0.5, 2.0]
    design = shapley.exact(4)
    v = values_of(design, lambda s: sum(a[i] for i in s) + 10.0)
    np.testing.assert_allclose(design.shapley_values(v), a)
    np.testing.assert_allclose(design.main_effects(v), a)
    np.testing.assert_allclose(design.interactions(v), 0.0, atol=1e-12)
    np.testing.assert_allclose(design.pair_interactions(v), 0.0, atol=1e-12)


def test_weighted_voting_game_has_its_textbook_shapley_values():
    # Quota 3, weights (2, 1, 1): the big player is pivotal in 4 of 6 orderings.
    weights = [2, 1, 1]
    design = shapley.exact(3)
    v = values_of(design, lambda s: float(sum(weights[i] for i in s) >= 3))
    np.testing.assert_allclose(design.shapley_values(v), [2 / 3, 1 / 6, 1 / 6])


def test_a_factor_that_changes_nothing_gets_exactly_zero_in_every_measure():
    rng = np.random.default_rng(4)
    design = shapley.exact(4)
    without_1 = {frozenset(s) for s in itertools.chain.from_iterable(itertools.combinations((0, 2, 3), n) for n in range(4))}
    game = {s: rng.normal() * 1e6 for s in without_1}  # any values at all, in GBP say
    v = values_of(design, lambda s: game[frozenset(s - {1})])  # factor 1 changes nothing
    for estimates in (design.shapley_values(v), design.main_effects(v), design.interactions(v)):
        assert estimates[1] == 0.0
    pair_values = design.pair_interactions(v)
    assert all(pair_values[p] == 0.0 for p, pair in enumerate(shapley.pairs(4)) if 1 in pair)
    assert np.all(design.shapley_values(v)[[0, 2, 3]] != 0.0)


def test_exact_shapley_matches_the_known_values_of_a_game_with_pair_and_triple_interactions():
    rng = np.random.default_rng(3)
    k = 6
    a, b, c = rng.normal(size=k), rng.normal(size=(k, k)), 1.7
    design = shapley.exact(k)
    v = values_of(design, polynomial_game(a, b, c))
    np.testing.assert_allclose(design.shapley_values(v), polynomial_shapley(a, b, c), atol=1e-12)
    # Interaction index of a pair: b_ij, plus half the triple's c for the pairs inside it.
    expected = [b[i, j] + (c / 2 if {i, j} <= {0, 1, 2} else 0.0) for i, j in shapley.pairs(k)]
    np.testing.assert_allclose(design.pair_interactions(v), expected, atol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 5, 8])
def test_exact_contributions_and_main_effects_plus_interactions_add_up_to_the_total(k):
    rng = np.random.default_rng(k)
    design = shapley.exact(k)
    v = rng.normal(size=(4, len(design.masks)))  # any game at all, four at once
    total = design.totals(v)
    np.testing.assert_allclose((design.shapley_values(v)).sum(axis=1), total, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose((design.main_effects(v)).sum(axis=1) + (design.interactions(v)).sum(axis=1), total, atol=1e-12)


def test_sampled_estimates_add_up_to_the_total_for_any_game_and_any_number_of_permutations():
    rng = np.random.default_rng(0)
    for permutations in (2, 4, 10):
        design = shapley.sampled(9, permutations, rng)
        assert {0, (1 << 9) - 1} <= set(design.masks.tolist())
        v = rng.normal(size=len(design.masks))
        assert np.isclose((design.shapley_values(v)).sum(), design.totals(v), rtol=0, atol=1e-12)


def test_sampled_estimate_converges_to_the_exact_shapley_values():
    rng = np.random.default_rng(11)
    k = 10
    a, b, c = rng.normal(size=k), rng.normal(size=(k, k)), 2.0
    game = polynomial_game(a, b, c)
    exact = polynomial_shapley(a, b, c)
    few = shapley.sampled(k, 4, np.random.default_rng(1))
    many = shapley.sampled(k, 2000, np.random.default_rng(1))
    error_few = np.abs(few.shapley_values(values_of(few, game)) - exact).max()
    error_many = np.abs(many.shapley_values(values_of(many, game)) - exact).max()
    assert error_many < 0.05 < error_few
    assert not many.exact and many.pair_interactions(np.zeros(len(many.masks))) is None and many.permutations == 2000


def test_sampled_estimate_is_unbiased_over_independent_draws():
    rng = np.random.default_rng(5)
    k = 7
    a, b, c = rng.normal(size=k), rng.normal(size=(k, k)), -1.5
    game = polynomial_game(a, b, c)
    estimates = []
    for seed in range(300):
        design = shapley.sampled(k, 2, np.random.default_rng(seed))
        estimates.append(design.shapley_values(values_of(design, game)))
    estimates = np.array(estimates)
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(len(estimates))
    assert np.all(np.abs(estimates.mean(axis=0) - polynomial_shapley(a, b, c)) < 4 * standard_error + 1e-9)


def test_main_effects_of_a_sampled_design_are_exact():
    design = shapley.sampled(12, 2, np.random.default_rng(2))
    v = values_of(design, lambda s: sum((i + 1.0) for i in s) + 3.0 * (0 in s and 1 in s))
    np.testing.assert_allclose(design.main_effects(v), np.arange(1.0, 13.0))


@pytest.mark.parametrize("permutations", [0, 1, 3])
def test_sampling_needs_an_even_number_of_permutations(permutations):
    with pytest.raises(ValueError, match="even number of permutations"):
        shapley.sampled(4, permutations, np.random.default_rng(0))


def test_a_design_needs_between_one_and_sixty_two_factors():
    with pytest.raises(ValueError, match="expected 1 to 62 factors, got 0"):
        shapley.exact(0)
    with pytest.raises(ValueError, match="got 63"):
        shapley.sampled(63, 2, np.random.default_rng(0))


def test_orderings_come_in_antithetic_pairs_so_one_pair_is_exact_for_two_factors():
    game = lambda s: 1.0 * (0 in s) + 3.0 * (s == {0, 1})
    for seed in range(5):
        design = shapley.sampled(2, 2, np.random.default_rng(seed))
        np.testing.assert_allclose(design.shapley_values(values_of(design, game)), [2.5, 1.5])


@pytest.mark.parametrize("k", [1, 3, 7])
def test_every_design_evaluates_the_empty_and_full_coalitions_and_each_factor_alone(k):
    # They give the total effect and each factor's main effect, whatever permutations drew.
    for design in (shapley.exact(k), shapley.sampled(k, 2, np.random.default_rng(0))):
        needed = {0, (1 << k) - 1, *(1 << i for i in range(k))}
        assert needed <= set(design.masks.tolist())
        assert design.masks.dtype == np.int64 and np.all(np.diff(design.masks) > 0)
        assert design.masks[0] == 0 and design.masks[-1] == (1 << k) - 1  # no coalition outside the factors


def test_a_design_says_whether_it_is_exact_and_an_exact_one_of_one_factor_has_no_pairs():
    one = shapley.exact(1)
    assert one.exact is True and one.pair_terms.shape == (0, 4)
    drawn = shapley.sampled(3, 4, np.random.default_rng(1))
    assert drawn.exact is False and drawn.permutations == 4


def test_a_sampled_design_takes_up_to_the_most_factors_a_mask_holds():
    design = shapley.sampled(shapley.MAX_FACTORS, 2, np.random.default_rng(2))
    assert design.k == shapley.MAX_FACTORS
    with pytest.raises(ValueError, match="expected 1 to 62 factors, got 63"):
        shapley.sampled(shapley.MAX_FACTORS + 1, 2, np.random.default_rng(2))
