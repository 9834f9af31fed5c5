"""Morris elementary effects per full range of each parameter."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from SALib.sample import morris as morris_sample
from scipy import stats

from pfpp_sim.morris import BOOTSTRAP, morris_indices


@settings(max_examples=30, deadline=None)
@given(
    slopes=st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=5),
    trajectories=st.integers(2, 6),
    levels=st.sampled_from([4, 6, 8]),
    seed=st.integers(0, 2**16),
)
def test_a_linear_output_gives_each_slope_as_mu_and_its_size_as_mu_star(slopes, trajectories, levels, seed):
    d = len(slopes)
    problem = {"num_vars": d, "names": [f"p{i}" for i in range(d)], "bounds": [[0.0, 1.0]] * d}
    x = morris_sample.sample(problem, trajectories, num_levels=levels, seed=seed)
    res = morris_indices(x, x @ np.array(slopes), seed=0)
    np.testing.assert_allclose(res["mu"], slopes, atol=1e-9)
    np.testing.assert_allclose(res["mu_star"], np.abs(slopes), atol=1e-9)
    np.testing.assert_allclose(res["sigma"], 0.0, atol=1e-9)


def test_a_switch_counts_its_whole_change_once_not_divided_by_the_grid_step():
    # One trajectory per row pair: the switch goes 0 -> 1, then the slider 0 -> 2/3.
    x = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 2 / 3], [1.0, 1 / 3], [0.0, 1 / 3], [0.0, 1.0]])
    y = 3.0 * x[:, 0] + 2.0 * x[:, 1]
    res = morris_indices(x, y, seed=0)
    np.testing.assert_allclose(res["mu_star"], [3.0, 2.0])


def test_a_parameter_no_step_moved_has_no_effect_rather_than_zero():
    # The first parameter never moves (both its steps map to one level); the second moves once.
    x = np.array([[0.5, 0.0], [0.5, 1.0], [0.5, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a spread of one effect is not computed (and warned about), it is left NaN
        res = morris_indices(x, x[:, 1], seed=0)
    assert np.isnan(res["mu_star"][0]) and np.isnan(res["mu"][0]) and np.isnan(res["mu_star_conf"][0])
    assert res["mu_star"][1] == 1.0 and np.isnan(res["sigma"][1]), "moved once: an effect but no spread"


def test_mu_stars_half_width_is_the_normal_quantile_times_the_spread_of_bootstrapped_means():
    x = np.array([[0.0], [1.0], [1.0], [0.0], [0.0], [1 / 3]])  # three trajectories of two rows
    y = np.array([0.0, 2.0, 5.0, 1.0, 7.0, 6.0])
    effects = np.abs(np.array([2.0, 4.0, -3.0]))  # each change divided by how far the parameter moved
    rng = np.random.default_rng(4)
    means = effects[rng.integers(3, size=(BOOTSTRAP, 3))].mean(axis=1)
    res = morris_indices(x, y, seed=4)
    assert res["mu_star"][0] == pytest.approx(3.0) and res["mu"][0] == pytest.approx(1.0)
    assert res["mu_star_conf"][0] == pytest.approx(stats.norm.ppf(0.975) * means.std(ddof=1), rel=1e-12)


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.zeros((5, 2)), "expected whole trajectories of 3 rows, got 5 rows"),
        (np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 1.0]]), "a step of a Morris trajectory moves more than one parameter"),
    ],
)
def test_a_design_that_is_not_morris_trajectories_is_refused(x, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        morris_indices(x, np.zeros(len(x)), seed=0)
