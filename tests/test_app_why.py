"""'Why do the two sides differ?': the app's split of the difference between its two sides among the factors."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from html import unescape

import numpy as np
import pytest
from widgets import render_page, widgets_with_class

from pfpp_sim.app.session import Settings, baseline_scenario, chosen_scenario, money_to_date, rate_series, start_run
from pfpp_sim.app.why import (
    BUDGET_RUN_MONTHS,
    BUILD_MONTHS,
    MAX_REPLICATES,
    METRICS,
    explain_sides,
    factor_label,
    plan,
    side_values,
)
from pfpp_sim.app.why_panel import panel_html, signed
from pfpp_sim.errors import PfppError
from pfpp_sim.factors import ABSENT, Factor, factor_set

HASTINGS = "E07000062"
MONTH = 21
"""Past the second April deadline: every shown value differs between the sides below (at months 13 to 20 NEET 16-24
or mental disorder, and at 22 and 23 fuel poverty, are the same on both sides)."""
THREE_LEVERS = (
    Settings(place=HASTINGS, scale=0.002, seed=1)
    .with_preset("siloed_baseline")
    .with_lever("timeline_alignment", True)
    .with_lever("carry_over", True)
    .with_lever("data_sharing", 0.8)
)
"""The smallest scale; the siloed baseline with three levers moved: 22 runs for an exact split in three histories."""


def shown_sides(settings: Settings, month: int):
    left = start_run(baseline_scenario(settings), seed=settings.seed, months=month)
    right = start_run(chosen_scenario(settings), seed=settings.seed, months=month)
    return left, right


@pytest.fixture(scope="module")
def sides():
    return shown_sides(THREE_LEVERS, MONTH)


@pytest.fixture(scope="module")
def shown(sides):
    left, right = sides
    return side_values(left, MONTH), side_values(right, MONTH)


@pytest.fixture(scope="module")
def exact_why(shown):
    return explain_sides(THREE_LEVERS, MONTH, shown=shown, executor="serial")


@pytest.fixture(scope="module")
def sampled_why(shown):
    """A budget of one run-month leaves room only for the fewest sampled orderings (two)."""
    return explain_sides(THREE_LEVERS, MONTH, shown=shown, executor="serial", budget_run_months=1)


# ------------------------------------------------------------------ the split


@pytest.mark.parametrize("design", ["exact_why", "sampled_why"])
def test_contributions_add_up_to_the_shown_difference_for_every_metric(design, shown, request):
    why = request.getfixturevalue(design)
    left, right = shown
    assert why.exact == (design == "exact_why")
    assert why.contribution.shape == (len(METRICS), 3)
    assert np.all(right != left), "every shown value should differ, or the sum is not tested"
    np.testing.assert_allclose(why.contribution.sum(axis=1), right - left, rtol=1e-12, atol=1e-6)
    np.testing.assert_array_equal(why.difference, right - left)


def test_rerunning_no_factor_and_every_factor_reproduces_the_two_shown_sides(shown):
    factors = factor_set(baseline_scenario(THREE_LEVERS), chosen_scenario(THREE_LEVERS))
    full = (1 << len(factors.factors)) - 1
    for mask, side in ((0, shown[0]), (full, shown[1])):
        rerun = start_run(factors.combination(mask), seed=THREE_LEVERS.seed, months=MONTH)
        np.testing.assert_array_equal(side_values(rerun, MONTH), side)


def test_each_contribution_is_its_effect_alone_plus_its_share_of_interactions(exact_why):
    np.testing.assert_allclose(exact_why.alone + exact_why.interaction, exact_why.contribution, atol=1e-6)


def test_the_exact_split_is_repeated_in_other_histories_whose_range_holds_the_shown_one(exact_why):
    assert exact_why.replicates == MAX_REPLICATES
    assert exact_why.runs == (2**3 - 2) + (MAX_REPLICATES - 1) * 2**3
    low, high = exact_why.spread[..., 0], exact_why.spread[..., 1]
    shown = np.concatenate([exact_why.contribution, exact_why.difference[:, None]], axis=1)
    assert np.all(low <= shown + 1e-9) and np.all(shown <= high + 1e-9)
    assert np.any(low < high), "other histories should differ somewhere"


def test_a_sampled_split_says_how_many_orderings_and_keeps_one_history(sampled_why):
    assert (sampled_why.permutations, sampled_why.replicates, sampled_why.spread) == (2, 1, None)
    assert sampled_why.runs == 5  # two antithetic orderings of three factors: 7 combinations, less the two sides


def test_identical_sides_give_no_factors_and_no_runs():
    settings = Settings(place=HASTINGS, scale=0.002, seed=3).with_preset("siloed_baseline")
    left, right = shown_sides(settings, 2)
    why = explain_sides(settings, 2, shown=(side_values(left, 2), side_values(right, 2)), executor="serial")
    assert why.factors == ()
    assert why.runs == 0
    assert why.contribution.shape == (len(METRICS), 0)
    assert not why.difference.any()
    assert "The two sides are the same" in panel_html(why, place="Hastings", dates=left.exo.dates)


def test_results_do_not_depend_on_the_executor(shown, sampled_why):
    pooled = explain_sides(THREE_LEVERS, MONTH, shown=shown, executor="processes", workers=2, budget_run_months=1)
    np.testing.assert_array_equal(pooled.contribution, sampled_why.contribution)
    np.testing.assert_array_equal(pooled.alone, sampled_why.alone)


# --------------------------------------------------------------------- plan


@pytest.mark.parametrize("k", range(1, 11))
@pytest.mark.parametrize("month", [1, 12, 36, 60])
def test_plan_keeps_within_the_budget_and_prefers_every_combination(k, month):
    chosen = plan(k, month, seed=1)
    per_run = month + BUILD_MONTHS
    every_combination_fits = (2**k - 2) * per_run <= BUDGET_RUN_MONTHS
    assert chosen.design.exact == every_combination_fits
    assert chosen.runs == len(chosen.design.masks) * chosen.replicates - 2
    if chosen.design.permutations != 2:  # two orderings are the least ever run, budget or not
        assert chosen.runs * per_run <= BUDGET_RUN_MONTHS
    if chosen.design.exact and chosen.replicates < MAX_REPLICATES:
        assert (2**k * (chosen.replicates + 1) - 2) * per_run > BUDGET_RUN_MONTHS, "one more history would have fitted"
    if not chosen.design.exact:
        more = plan(k, month, seed=1, budget_run_months=(chosen.runs + 2**k) * per_run)
        assert more.design.exact or more.design.permutations > chosen.design.permutations


def test_plan_adds_other_histories_only_when_every_combination_of_them_fits():
    assert (plan(3, 12, seed=1).replicates, plan(3, 12, seed=1).runs) == (3, 6 + 2 * 8)
    tight = plan(3, 12, seed=1, budget_run_months=(6 + 8) * (12 + BUILD_MONTHS))
    assert (tight.design.exact, tight.replicates, tight.runs) == (True, 2, 14)
    assert plan(3, 12, seed=1, budget_run_months=1).design.permutations == 2


# ------------------------------------------------------------------ labels


@pytest.mark.parametrize(
    ("factor", "expected"),
    [
        (Factor("levers.data_sharing", (("levers.data_sharing", 0.0, 0.8),)), ("Data sharing", "0 → 0.8")),
        (Factor("levers.carry_over", (("levers.carry_over", False, True),)), ("Carry-over of unspent money", "off → on")),
        (
            Factor("levers.funding_period_months", (("levers.funding_period_months", None, 36),)),
            ("Funding period", "each stream's own → 36 months"),
        ),
        (
            Factor("levers.competitive_share", (("levers.competitive_share", None, 0.6),)),
            ("Share allocated by competition", "each stream's own → 60%"),
        ),
        (
            Factor("levers.stream_churn", (("levers.stream_churn", None, 0.5),)),
            ("Streams discontinued each year", "baseline rate → 50% a year"),
        ),
        (
            Factor("programmes.careers", (("programmes.careers.ring_fenced", False, True),)),
            ("Careers programme", "ring fenced: off → on"),
        ),
        (
            Factor("programmes.pfpp_grant", (("programmes.pfpp_grant.department", ABSENT, "MHCLG"),)),
            ("PfPP grant programme", "on your side only"),
        ),
        (
            Factor("programmes.home_upgrade", (("programmes.home_upgrade.department", "DESNZ", ABSENT),)),
            ("Home upgrade programme", "in the baseline only"),
        ),
        (
            Factor(
                "programmes.home_upgrade",
                (("programmes.home_upgrade.window_months", 2, 3), ("programmes.home_upgrade.ring_fenced", True, False)),
            ),
            ("Home upgrade programme", "2 settings differ"),
        ),
        (Factor("mechanisms.bid_cost", (("mechanisms.bid_cost.value", 20000.0, 30000.0),)), ("Bid cost", "value: 20000 → 30000")),
    ],
)
def test_factor_labels_read_as_the_room_would(factor, expected):
    assert factor_label(factor) == expected


def test_every_factor_of_every_preset_gets_a_readable_label():
    for preset in ("pfpp_joined_up", "pfpp_as_delivered", "hastings_fuel_poverty", "stop_start", "funding_simplification"):
        settings = Settings(place=HASTINGS).with_preset(preset)
        for factor in factor_set(baseline_scenario(settings), chosen_scenario(settings)).factors:
            name, change = factor_label(factor)
            assert name and change and "_" not in name and "levers" not in name, (preset, factor.name, name)


# ------------------------------------------------------------ shown values


def test_side_values_are_the_numbers_on_the_charts_and_cards(sides):
    left, _ = sides
    rates, money = rate_series(left), money_to_date(left)
    for month in (1, 9, MONTH):
        values = dict(zip(METRICS, side_values(left, month)))
        for name in ("fuel_poverty_rate", "neet_16_24_rate", "youth_mh_rate"):
            assert values[name] == rates[name][month - 1] == 100 * left.records[month - 1][name][0]
        for name in ("returned_gbp", "overhead_gbp", "delivered_gbp"):
            assert values[name] == money[name][month - 1] == pytest.approx(sum(r[name][0] for r in left.records[:month]))
    assert side_values(left, MONTH)[0] == 100 * left.records[-1]["fuel_poverty_rate"][0]  # the card shows the latest month


def test_side_values_refuse_a_month_the_run_has_not_reached(sides):
    with pytest.raises(PfppError, match=rf"month = {MONTH + 1}: expected 1 to {MONTH} \(the months this run has reached\)"):
        side_values(sides[0], MONTH + 1)


# ----------------------------------------------------- cancel and bad input


def test_a_cancelled_explanation_stops_and_returns_none(shown):
    cancel = threading.Event()
    calls = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))
        cancel.set()

    assert explain_sides(THREE_LEVERS, MONTH, shown=shown, executor="serial", progress=progress, cancel=cancel) is None
    assert calls == [(1, 22)]


@pytest.mark.parametrize("month", [0, -1, 61])
def test_a_month_outside_the_run_is_refused_in_one_clear_line(month, shown):
    with pytest.raises(PfppError, match=rf"^month = {month}: expected 1 to 60 \(the months both sides have run\)$"):
        explain_sides(THREE_LEVERS, month, shown=shown, executor="serial")


def test_shown_values_of_the_wrong_shape_are_refused(shown):
    with pytest.raises(PfppError, match=r"expected \(6,\) each, one value per metric"):
        explain_sides(THREE_LEVERS, MONTH, shown=(shown[0][:3], shown[1]), executor="serial")


def test_sides_run_over_other_months_are_refused_naming_what_differs(shown):
    settings = replace(Settings(place=HASTINGS, scale=0.002), preset="baseline_history")  # the drawer no longer offers it
    with pytest.raises(PfppError, match=r"run differently \(start 2021-04 on the left, 2019-01 on your side; .*choose another preset"):
        explain_sides(settings, MONTH, shown=shown, executor="serial")


# -------------------------------------------------------------------- panel


@pytest.mark.parametrize("design", ["exact_why", "sampled_why"])
def test_panel_names_every_factor_and_its_change_and_draws_every_metric(design, sides, request):
    why = request.getfixturevalue(design)
    html = panel_html(why, place="Hastings", dates=sides[0].exo.dates)
    text = unescape(html)
    assert "Why do the two sides differ? Hastings, Month 21 (Dec 2022)" in text
    for name, change in why.factors:
        assert f"<b>{name}</b> {change}" in text
    assert {"Aligned timelines", "Carry-over of unspent money", "Data sharing"} == {name for name, _ in why.factors}
    for metric in METRICS:
        assert f"pfpp-why-chart-{metric}" in html
    assert ("Estimated from 2 random orderings" in text) == (design == "sampled_why")
    assert ("over the 3 histories" in text) == (design == "exact_why")


def test_panel_bars_carry_each_contribution_and_the_ends_each_side(exact_why, sides):
    text = unescape(panel_html(exact_why, place="Hastings", dates=sides[0].exo.dates))
    for i, metric in enumerate(METRICS):
        assert f"{METRICS[metric]}: {signed(metric, exact_why.difference[i])}" in text
        for j, (name, _) in enumerate(exact_why.factors):
            if exact_why.contribution[i, j] != 0:
                assert f"{name} {signed(metric, exact_why.contribution[i, j])}" in text


def test_signed_differences_read_as_points_or_pounds():
    assert signed("fuel_poverty_rate", -0.153) == "-0.15 pp"
    assert signed("returned_gbp", -29_660.1) == "-£29,660"
    assert signed("delivered_gbp", 1_472_000) == "+£1.47m"
    assert signed("overhead_gbp", 0.0) == "£0"


# --------------------------------------------------------------------- page


def test_the_page_explains_the_month_shown_after_a_step():
    box, context = render_page()
    try:
        button = widgets_with_class(box, "pfpp-why-button")[0]
        assert button.disabled, "nothing to explain at month 0"
        widgets_with_class(box, "pfpp-preset-policy_campus")[0].fire_event("click", {})
        widgets_with_class(box, "pfpp-step")[0].fire_event("click", {})
        button = widgets_with_class(box, "pfpp-why-button")[0]
        assert not button.disabled
        button.fire_event("click", {})
        deadline = time.monotonic() + 120
        while not (panels := widgets_with_class(box, "pfpp-why-panel")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert panels, [w.unsafe_innerHTML for w in widgets_with_class(box, "pfpp-why-status")]
        text = unescape(panels[0].unsafe_innerHTML)
        assert "Why do the two sides differ? Hastings, Month 1 (Apr 2021)" in text
        for name in ("Data sharing", "Policy campus", "Secondments"):
            assert f"<b>{name}</b>" in text
    finally:
        context.close()
