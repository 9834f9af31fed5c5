"""Morris elementary effects per full range of each parameter."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from SALib.sample import morris as morris_sample

from pfpp_sim.morris import morris_indices


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
    x = np.array([[0.0, 0.5], [1.0, 0.5], [1.0, 0.5]])  # the second step maps to the same level
    res = morris_indices(x, x[:, 0], seed=0)
    assert res["mu_star"][0] == 1.0 and np.isnan(res["sigma"][0]), "moved once: an effect but no spread"
    assert np.isnan(res["mu_star"][1])


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.zeros((5, 2)), "expected whole trajectories of 3 rows, got 5 rows"),
        (np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 1.0]]), "a step of a Morris trajectory moves more than one parameter"),
    ],
)
def test_a_design_that_is_not_morris_trajectories_is_refused(x, message):
    with pytest.raises(ValueError, match=message):
        morris_indices(x, np.zeros(len(x)), seed=0)
