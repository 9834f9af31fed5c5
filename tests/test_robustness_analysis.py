"""What a robustness run says per outcome, checked on hand-made and synthetic tables (no model runs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pfpp_sim import robustness_analysis
from pfpp_sim.robustness_analysis import flip_boxes, influence, partial_rank_correlation, sign_holding
from pfpp_sim.worlds import Factor, Space, sample

T3 = stats.t.ppf(0.975, 3)


def worlds_table(metric: str, differences: list[float], half_widths: list[float], *, place: str = "ALL") -> pd.DataFrame:
    """World 0 first; a 95% CI of ``difference +- half_width`` over 4 replicates."""
    d, h = np.array(differences), np.array(half_widths)
    return pd.DataFrame(
        {"world": np.arange(len(d)), "place_code": place, "metric": metric, "difference": d, "ci_low": d - h, "ci_high": d + h, "n": 4}
    )


@pytest.fixture
def hand_made() -> pd.DataFrame:
    return pd.concat(
        [
            # default -1; sampled: two keep the sign, 0.3 flips, exactly 0 does not hold, -1 holds
            worlds_table("fuel_poverty_rate", [-1.0, -2.0, -0.5, 0.3, 0.0, -1.0], [0.5, 0.5, 1.0, 0.1, 0.2, 2.0]),
            # default +2; a missing world is not counted
            worlds_table("returned_gbp", [2.0, 1.0, 3.0, -1.0, np.nan, 2.0], [0.1] * 6),
            # no difference with the scenarios as given
            worlds_table("bids", [0.0, 1.0, -1.0, 0.0, 0.0, 0.0], [0.0] * 6),
        ],
        ignore_index=True,
    )


def test_the_sign_holding_share_counts_the_worlds_that_keep_the_default_sign(hand_made):
    table = sign_holding(hand_made).set_index("metric")
    fuel, money, bids = table.loc["fuel_poverty_rate"], table.loc["returned_gbp"], table.loc["bids"]
    assert (fuel.direction, fuel.worlds, fuel.sign_holds, fuel.flips) == ("lower", 5, 3 / 5, 2)
    assert (money.direction, money.worlds, money.sign_holds, money.flips) == ("higher", 4, 3 / 4, 1)
    assert bids.direction == "no difference" and np.isnan(bids.sign_holds) and np.isnan(bids.flips)
    assert (fuel.default_difference, fuel.default_ci_low, fuel.default_ci_high) == (-1.0, -1.5, -0.5)


def test_the_spread_and_the_ci_shares_are_those_of_the_sampled_worlds_only(hand_made):
    fuel = sign_holding(hand_made).set_index("metric").loc["fuel_poverty_rate"]
    sampled = np.array([-2.0, -0.5, 0.3, 0.0, -1.0])
    assert fuel["median"] == np.median(sampled)
    assert fuel.q05 == pytest.approx(np.quantile(sampled, 0.05)) and fuel.q95 == pytest.approx(np.quantile(sampled, 0.95))
    # CIs: [-2.5, -1.5], [-1.5, 0.5], [0.2, 0.4], [-0.2, 0.2], [-3, 1]
    assert fuel.ci_below_zero == 1 / 5 and fuel.ci_above_zero == 1 / 5


def test_the_noise_share_compares_replicate_noise_with_the_spread_across_worlds(hand_made):
    fuel = sign_holding(hand_made).set_index("metric").loc["fuel_poverty_rate"]
    se2 = (np.array([0.5, 1.0, 0.1, 0.2, 2.0]) / T3) ** 2
    assert fuel.noise_share == pytest.approx(se2.mean() / np.var([-2.0, -0.5, 0.3, 0.0, -1.0], ddof=1))
    noisy = worlds_table("youth_mh_rate", [0.1, 0.1, 0.2, 0.1, 0.2], [5.0] * 5)
    assert sign_holding(noisy)["noise_share"].iloc[0] == 1.0, "capped at 1: all noise"



def test_an_outcome_without_a_default_difference_has_no_direction_and_one_without_sampled_differences_no_worlds():
    table = pd.concat([worlds_table("fuel_poverty_rate", [np.nan, -1.0, 1.0], [0.1] * 3),
                       worlds_table("youth_mh_rate", [-1.0, np.nan, np.nan], [0.1] * 3)], ignore_index=True)
    found = sign_holding(table).set_index("metric")
    undefined, unsampled = found.loc["fuel_poverty_rate"], found.loc["youth_mh_rate"]
    assert undefined.direction == "undefined" and np.isnan(undefined.sign_holds) and np.isnan(undefined.flips)
    assert undefined.worlds == 2
    assert unsampled.direction == "lower" and unsampled.worlds == 0 and found["worlds"].dtype == np.int64

def test_places_are_summarised_separately():
    table = pd.concat([worlds_table("fuel_poverty_rate", [-1, -1, -1], [0.1] * 3),
                       worlds_table("fuel_poverty_rate", [1, -1, 1], [0.1] * 3, place="E07000062")])
    shares = sign_holding(table).set_index("place_code")["sign_holds"]
    assert shares["ALL"] == 1.0 and shares["E07000062"] == 0.5


def test_partial_rank_correlation_finds_the_inputs_that_drive_the_output_and_not_the_others():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(300, 4))
    y = 5 * x[:, 0] - 2 * x[:, 2] ** 3 + rng.normal(scale=0.3, size=300)
    prcc, threshold = partial_rank_correlation(x, y)
    ranks = stats.rankdata(np.column_stack([x, y]), axis=0)
    for i in range(4):  # the definition: correlate what the other inputs' ranks leave unexplained
        others = np.column_stack([np.ones(300), np.delete(ranks[:, :4], i, axis=1)])
        x_left, y_left = (r - others @ np.linalg.lstsq(others, r, rcond=None)[0] for r in (ranks[:, i], ranks[:, 4]))
        assert prcc[i] == pytest.approx(np.corrcoef(x_left, y_left)[0, 1])
    assert prcc[0] > 0.9 and prcc[2] < -0.7
    assert abs(prcc[1]) < threshold and abs(prcc[3]) < threshold
    assert threshold == pytest.approx(np.tanh(1.959964 / np.sqrt(300 - 3 - 3)))
    one, _ = partial_rank_correlation(x[:, :1], y)
    assert one[0] == pytest.approx(stats.spearmanr(x[:, 0], y).statistic), "with one input it is Spearman's rho"



@pytest.mark.parametrize("seed", range(6))
def test_an_output_that_rises_or_falls_with_one_input_alone_has_a_partial_rank_correlation_of_one_with_its_sign(seed):
    x = np.random.default_rng(seed).uniform(size=(30, 3))
    rising, _ = partial_rank_correlation(x, 5 * x[:, 1])  # its ranks are that input's: the correlation matrix is singular
    falling, _ = partial_rank_correlation(x, -x[:, 1] ** 3)
    np.testing.assert_allclose(rising, [0.0, 1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(falling, [0.0, -1.0, 0.0], atol=1e-12)
    assert np.abs(rising).max() <= 1.0 and np.abs(falling).max() <= 1.0, "rounding never takes a correlation beyond 1"



def test_only_a_singular_correlation_matrix_is_regressed_input_by_input(monkeypatch):
    """Inverting the ranks' correlation matrix once is hundreds of times faster with a hundred assumptions."""

    def regressed(_ranks):
        raise AssertionError("regressed input by input")

    monkeypatch.setattr(robustness_analysis, "_correlated_residuals", regressed)
    x = np.random.default_rng(1).uniform(size=(40, 3))
    partial_rank_correlation(x, x[:, 0] + x[:, 1] ** 2)
    with pytest.raises(AssertionError, match="input by input"):
        partial_rank_correlation(x, x[:, 2])

def test_the_residuals_give_the_partial_rank_correlation_where_the_inverse_does():
    rng = np.random.default_rng(3)
    x = rng.uniform(size=(80, 4))
    y = x[:, 0] - x[:, 3] ** 2 + rng.normal(scale=0.2, size=80)
    ranks = stats.rankdata(np.column_stack([x, y]), axis=0)
    np.testing.assert_allclose(robustness_analysis._correlated_residuals(ranks), partial_rank_correlation(x, y)[0], atol=1e-12)
    constant = np.column_stack([ranks[:, :4], ranks[:, 2]])  # the output is an input: the other inputs leave it nothing
    np.testing.assert_allclose(robustness_analysis._correlated_residuals(constant), [0.0, 0.0, 1.0, 0.0], atol=1e-12)

SPACE = Space((Factor("trust", "fraction", "assumption:trust", 0.5, 0.0, 1.0), Factor("lag", "months", "assumption:award_lag", 3.0, 1.0, 9.0),
               Factor("cost", "GBP", "assumption:ips_cost", 100.0, 50.0, 400.0)))


def synthetic(design: pd.DataFrame, difference) -> pd.DataFrame:
    d = np.asarray(difference(design), dtype=float)
    return pd.DataFrame({"world": design["world"], "place_code": "ALL", "metric": "fuel_poverty_rate", "difference": d,
                         "ci_low": d - 0.01, "ci_high": d + 0.01, "n": 4})


@pytest.mark.parametrize(("design", "n", "measure"), [("lhs", 64, "prcc"), ("sobol", 64, "ST"), ("morris", 20, "mu_star")])
def test_each_design_ranks_the_assumption_that_drives_the_difference_first(design, n, measure):
    table = sample(SPACE, n, 1, design=design)
    worlds = synthetic(table, lambda t: -1 + 0.2 * t["lag"] + 0.001 * t["cost"])
    found = influence(SPACE, table, worlds, method=design, seed=1)
    head = found[found["measure"] == measure].set_index("factor")["value"].abs()
    assert head.idxmax() == "lag"
    assert head["trust"] < head["cost"] < head["lag"]


def test_a_difference_that_never_varies_has_no_influential_assumption():
    table = sample(SPACE, 16, 1)
    found = influence(SPACE, table, synthetic(table, lambda t: 0 * t["lag"] - 1), method="lhs", seed=1)
    assert (found["value"] == 0).all()


def test_prim_boxes_the_assumption_range_where_the_sign_flips():
    pytest.importorskip("ema_workbench", reason="the ema extra is part of make test")
    table = sample(SPACE, 200, 3)
    worlds = pd.concat([synthetic(table, lambda t: np.where(t["lag"] > 7, 0.5, -1.0)),
                        synthetic(table, lambda t: -1 - 0.1 * t["lag"]).assign(metric="youth_mh_rate")])
    summary = sign_holding(worlds)
    flips, prim = flip_boxes(SPACE, table, worlds, summary, alternative="joined")
    assert prim == "ran"
    assert set(flips["metric"]) == {"fuel_poverty_rate"}, "youth mental health never flips: no box"
    box = flips.set_index("factor")
    assert box.loc["lag", "min"] == pytest.approx(7, abs=0.2) and box.loc["lag", "density"] > 0.9
    assert box["cases"].iloc[0] == summary.set_index("metric").loc["fuel_poverty_rate", "flips"]


def test_without_the_ema_extra_prim_is_skipped_and_says_so(monkeypatch):
    monkeypatch.setattr(robustness_analysis, "ema_available", lambda: False)
    table = sample(SPACE, 20, 3)
    worlds = synthetic(table, lambda t: np.where(t["lag"] > 7, 0.5, -1.0))
    flips, prim = flip_boxes(SPACE, table, worlds, sign_holding(worlds), alternative="joined")
    assert flips.empty and prim == "skipped: the 'ema' extra (EMA Workbench) is not installed"


def with_noise(worlds: pd.DataFrame) -> pd.DataFrame:
    """``worlds`` with rows that every measure of influence and flips must ignore.

    The default world with another difference, another place's rows and a missing
    difference, in an order other than by world.
    """
    garbage = worlds.assign(difference=worlds["difference"] * -7.0 + 3.0)
    other_place = garbage[garbage["world"] > 0].assign(place_code="E07000062")
    default_moved = garbage[garbage["world"] == 0].assign(place_code="E07000063")
    return pd.concat([worlds, other_place, default_moved], ignore_index=True).iloc[::-1].reset_index(drop=True)


def test_analyze_gives_sign_holding_influence_and_flips_of_its_inputs():
    table = sample(SPACE, 64, 2)
    worlds = pd.concat([synthetic(table, lambda t: np.where(t["lag"] > 7, 0.5, -1.0)),
                        synthetic(table, lambda t: -1 - 0.1 * t["cost"]).assign(metric="youth_mh_rate")], ignore_index=True)
    found = robustness_analysis.analyze(SPACE, table, worlds, method="lhs", seed=5, alternative="joined")
    summary = sign_holding(worlds)
    pd.testing.assert_frame_equal(found.summary, summary)
    pd.testing.assert_frame_equal(found.influence, influence(SPACE, table, worlds, method="lhs", seed=5))
    flips, prim = flip_boxes(SPACE, table, worlds, summary, alternative="joined")
    pd.testing.assert_frame_equal(found.flips, flips)
    assert found.prim == prim


def test_analyze_passes_the_method_and_the_seed_to_the_measures_of_influence():
    table = sample(SPACE, 16, 2, design="sobol")
    worlds = synthetic(table, lambda t: -1 + 0.2 * t["lag"] + 0.001 * t["cost"] * t["trust"])
    found = robustness_analysis.analyze(SPACE, table, worlds, method="sobol", seed=3, alternative="joined").influence
    pd.testing.assert_frame_equal(found, influence(SPACE, table, worlds, method="sobol", seed=3))
    other_seed = influence(SPACE, table, worlds, method="sobol", seed=4)
    assert not np.allclose(found["conf"], other_seed["conf"]), "the bootstrap's half-widths follow the seed"


def test_lhs_influence_reads_the_sampled_worlds_of_all_places_only():
    table = sample(SPACE, 40, 4)
    worlds = synthetic(table, lambda t: -1 + 0.2 * t["lag"] - 0.002 * t["cost"])
    worlds.loc[worlds["world"] == 7, "difference"] = np.nan  # a world without a difference is left out
    found = influence(SPACE, table, with_noise(worlds), method="lhs", seed=1)
    points = table[table["sampled"]]
    kept = (points["world"] != 7).to_numpy()
    y = worlds[worlds["world"] > 0]["difference"].to_numpy()[kept]
    prcc, threshold = partial_rank_correlation(points[SPACE.names].to_numpy()[kept], y)
    assert list(found["measure"]) == ["prcc"] * 3 and list(found["factor"]) == SPACE.names
    assert list(found["metric"]) == ["fuel_poverty_rate"] * 3
    np.testing.assert_allclose(found["value"], prcc)
    np.testing.assert_allclose(found["conf"], threshold)
    assert (found.dtypes[["value", "conf"]] == np.float64).all()


def test_lhs_influence_with_too_few_worlds_for_the_partial_correlation_is_spearmans():
    table = sample(SPACE, 6, 4)  # 3 assumptions: the partial correlation needs more than 6 worlds
    worlds = synthetic(table, lambda t: -1 + 0.2 * t["lag"] - 0.002 * t["cost"])
    found = influence(SPACE, table, with_noise(worlds), method="lhs", seed=1)
    points = table[table["sampled"]]
    y = worlds[worlds["world"] > 0]["difference"].to_numpy()
    rho = [stats.spearmanr(points[name], y).statistic for name in SPACE.names]
    assert list(found["measure"]) == ["spearman"] * 3
    np.testing.assert_allclose(found["value"], rho)
    np.testing.assert_allclose(found["conf"], np.tanh(1.959964 / np.sqrt(6 - 3)))
    three = sample(SPACE, 3, 4)
    assert influence(SPACE, three, synthetic(three, lambda t: t["lag"]), method="lhs", seed=1)["conf"].isna().all(), (
        "three worlds give no threshold"
    )
    seven = sample(SPACE, 7, 4)
    assert set(influence(SPACE, seven, synthetic(seven, lambda t: t["lag"]), method="lhs", seed=1)["measure"]) == {"prcc"}


def test_lhs_influence_is_missing_without_differences_and_zero_without_variation():
    table = sample(SPACE, 3, 4)
    few = synthetic(table, lambda t: t["lag"])
    few.loc[few["world"] > 1, "difference"] = np.nan  # one sampled world left: no correlation can be measured
    assert (influence(SPACE, table, few, method="lhs", seed=1)["value"] == 0).all()
    none = few.assign(difference=np.where(few["world"] == 0, 1.0, np.nan))
    found = influence(SPACE, table, none, method="lhs", seed=1)
    assert found["value"].isna().all() and list(found["measure"]) == ["prcc"] * 3
    spearman_constant = synthetic(table, lambda t: 0 * t["lag"] + 2.0)
    assert (influence(SPACE, table, spearman_constant, method="lhs", seed=1)["value"] == 0).all()


@pytest.mark.parametrize(("design", "n", "measures"), [("sobol", 8, ("S1", "ST")), ("morris", 4, ("mu_star", "sigma"))])
def test_sobol_and_morris_influence_is_missing_when_a_world_is_and_zero_without_variation(design, n, measures):
    table = sample(SPACE, n, 2, design=design)
    flat = synthetic(table, lambda t: 0 * t["lag"] - 1)
    found = influence(SPACE, table, flat, method=design, seed=1)
    assert list(found["measure"]) == list(measures) * 3
    assert list(found["factor"]) == [name for name in SPACE.names for _ in measures]
    assert (found["value"] == 0).all() and found["conf"].isna().all()
    gap = synthetic(table, lambda t: t["lag"])
    gap.loc[gap["world"] == 3, "difference"] = np.nan
    found = influence(SPACE, table, gap, method=design, seed=1)
    assert found["value"].isna().all() and found["conf"].isna().all() and len(found) == 2 * 3


def test_sobol_influence_is_salibs_on_the_sampled_worlds_of_all_places():
    from SALib.analyze import sobol

    table = sample(SPACE, 16, 2, design="sobol")
    worlds = synthetic(table, lambda t: -1 + 0.2 * t["lag"] + 0.001 * t["cost"] * t["trust"])
    found = influence(SPACE, table, with_noise(worlds), method="sobol", seed=6).set_index(["factor", "measure"])
    y = worlds[worlds["world"] > 0].sort_values("world")["difference"].to_numpy()
    res = sobol.analyze(SPACE.problem(), y, calc_second_order=False, seed=6)
    for i, name in enumerate(SPACE.names):
        for measure in ("S1", "ST"):
            assert found.loc[(name, measure), "value"] == pytest.approx(res[measure][i])
            assert found.loc[(name, measure), "conf"] == pytest.approx(res[f"{measure}_conf"][i])


def test_morris_influence_is_mu_star_and_sigma_on_the_shares_of_each_range():
    from pfpp_sim.morris import morris_indices

    table = sample(SPACE, 6, 2, design="morris")
    worlds = synthetic(table, lambda t: -1 + 0.2 * t["lag"] + 0.001 * t["cost"] ** 2)
    found = influence(SPACE, table, with_noise(worlds), method="morris", seed=6).set_index(["factor", "measure"])
    points = table[table["sampled"]]
    res = morris_indices(SPACE.shares(points), worlds[worlds["world"] > 0]["difference"].to_numpy(), seed=6)
    for i, name in enumerate(SPACE.names):
        assert found.loc[(name, "mu_star"), "value"] == pytest.approx(res["mu_star"][i])
        assert found.loc[(name, "mu_star"), "conf"] == pytest.approx(res["mu_star_conf"][i])
        assert found.loc[(name, "sigma"), "value"] == pytest.approx(res["sigma"][i])
        assert np.isnan(found.loc[(name, "sigma"), "conf"])


def test_prim_boxes_a_higher_difference_where_it_turns_lower_and_ignores_other_places_and_gaps():
    pytest.importorskip("ema_workbench", reason="the ema extra is part of make test")
    table = sample(SPACE, 200, 3)
    worlds = synthetic(table, lambda t: np.where(t["lag"] < 3, -0.5, 1.0))
    worlds.loc[worlds["world"].isin([5, 6]), "difference"] = np.nan
    summary = sign_holding(worlds)
    flips, _ = flip_boxes(SPACE, table, with_noise(worlds), summary, alternative="joined")
    box = flips.set_index("factor")
    assert summary["direction"].iloc[0] == "higher"
    assert box.loc["lag", "max"] == pytest.approx(3, abs=0.2) and box.loc["lag", "density"] > 0.9
    assert (box["worlds"] == 198).all(), "the sampled worlds of all places with a difference"
    assert (box["cases"] == summary["flips"].iloc[0]).all()


def test_prim_boxes_no_outcome_that_flips_everywhere_or_has_no_default_sign():
    pytest.importorskip("ema_workbench", reason="the ema extra is part of make test")
    table = sample(SPACE, 60, 3)
    everywhere = synthetic(table, lambda t: np.where(t["world"] == 0, -1.0, 1.0 + 0 * t["lag"]))
    unsigned = synthetic(table, lambda t: np.where(t["world"] == 0, 0.0, np.where(t["lag"] > 7, 0.5, -1.0))).assign(metric="bids")
    worlds = pd.concat([everywhere, unsigned], ignore_index=True)
    flips, prim = flip_boxes(SPACE, table, worlds, sign_holding(worlds), alternative="joined")
    assert prim == "ran" and flips.empty
    some = synthetic(table, lambda t: np.where(t["lag"] > 7, 0.5, -1.0))
    summary = sign_holding(some).assign(metric="youth_mh_rate")  # no summary of this outcome: nothing to box
    assert flip_boxes(SPACE, table, some, summary, alternative="joined")[0].empty


def test_prim_gives_one_unrestricted_row_when_the_flips_fill_the_whole_space():
    pytest.importorskip("ema_workbench", reason="the ema extra is part of make test")
    table = sample(SPACE, 100, 3)
    off_centre = ((SPACE.shares(table) - 0.5) ** 2).sum(axis=1)
    off_centre[0] = np.inf
    held = np.argsort(off_centre)[:2]  # the sign holds only in the two worlds nearest the centre: no peel raises the density
    worlds = synthetic(table, lambda t: np.where((t["world"] > 0) & ~np.isin(t["world"], held), 1.0, -1.0))
    flips, _ = flip_boxes(SPACE, table, worlds, sign_holding(worlds), alternative="joined")
    assert len(flips) == 1 and flips["factor"].iloc[0] == ""
    assert np.isnan(flips["min"].iloc[0]) and np.isnan(flips["max"].iloc[0])
    assert tuple(flips[["coverage", "density", "mass", "cases", "worlds"]].iloc[0]) == (1.0, 0.98, 1.0, 98, 100)
