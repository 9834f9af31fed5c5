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
