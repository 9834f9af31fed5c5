"""The teaching app's difference strip: your settings minus the siloed side, figure by figure."""

from __future__ import annotations

import pytest
from widgets import render_page, widgets_with_class

from pfpp_sim.app.differences import DIFFERENCES, MINUS, differences, signed
from pfpp_sim.app.session import SHOWN_RATES, Settings, baseline_scenario, chosen_scenario, money_to_date, rate_series, start_run

HASTINGS = "E07000062"


@pytest.fixture(scope="module")
def sides():
    """Hastings at month 26, siloed and joined up: two April deadlines have passed."""
    settings = Settings(place=HASTINGS)
    return (start_run(baseline_scenario(settings), seed=1, months=26), start_run(chosen_scenario(settings), seed=1, months=26))


def test_each_figure_is_the_right_hand_side_minus_the_left_hand_side(sides):
    left, right = sides
    found = {d.key: d for d in differences(left, right)}
    assert list(found) == list(DIFFERENCES)
    for key, difference in found.items():
        if key in SHOWN_RATES:
            expected = rate_series(right)[key][-1] - rate_series(left)[key][-1]
        elif key == "allocated_gbp":  # the flow diagrams' money awarded so far
            expected = (sum(a.allocated_p for a in right.awards) - sum(a.allocated_p for a in left.awards)) / 100
        else:  # the cards
            expected = money_to_date(right)[key][-1] - money_to_date(left)[key][-1]
        assert difference.value == pytest.approx(expected), key
    assert found["returned_gbp"].value < 0, "the joined-up preset carries money over instead of handing it back"


def test_two_sides_run_alike_differ_by_nothing_and_carry_no_sign():
    settings = Settings(place=HASTINGS, scale=0.002)
    left = start_run(baseline_scenario(settings), seed=2, months=14)
    right = start_run(chosen_scenario(settings.with_preset("siloed_baseline")), seed=2, months=14)
    for difference in differences(left, right):
        assert difference.value == 0, difference
        assert difference.text[0] not in ("+", MINUS), difference


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1234.4, "GBP", "+£1,234"),
        (-299_025.0, "GBP", f"{MINUS}£299,025"),
        (2_770_000.0, "GBP", "+£2.77m"),
        (0.3, "GBP", "£0"),
        (-11.0, "team-months", f"{MINUS}11"),
        (-0.26, "percentage points", f"{MINUS}0.3 pp"),
        (0.04, "percentage points", "0.0 pp"),
    ],
)
def test_a_difference_carries_a_sign_only_when_one_shows(value, unit, text):
    assert signed(value, unit) == text


def test_the_page_shows_the_strip_for_the_month_on_screen():
    box, _ = render_page()
    widgets_with_class(box, "pfpp-step-year")[0].fire_event("click", {})
    (strip,) = widgets_with_class(box, "pfpp-difference")
    toolbar = widgets_with_class(box, "pfpp-month")[0].unsafe_innerHTML.split(" &middot; ")[-1]
    assert toolbar in strip.unsafe_innerHTML
    for key in DIFFERENCES:
        assert f"pfpp-difference-{key}" in strip.unsafe_innerHTML
    assert ">+" in strip.unsafe_innerHTML or f">{MINUS}" in strip.unsafe_innerHTML, "the joined-up preset differs by month 12"
    widgets_with_class(box, "pfpp-preset-siloed_baseline")[0].fire_event("click", {})
    (strip,) = widgets_with_class(box, "pfpp-difference")
    assert ">+" not in strip.unsafe_innerHTML and f">{MINUS}" not in strip.unsafe_innerHTML
