"""The teaching app's controls: Play speed, pause each April, run to month, and levers that show their value and whether they changed."""

from __future__ import annotations

import threading
import time
from html import escape

import numpy as np
import pytest
from widgets import render_page, widgets_with_class

from pfpp_sim.app.controls import lever_heading
from pfpp_sim.app.playing import DEFAULT_SPEED, SPEEDS, play, year_end
from pfpp_sim.app.session import (
    LEVER_LABELS,
    Settings,
    baseline_scenario,
    changed_levers,
    chosen_scenario,
    lever_text,
    parse_month,
    preset,
    rate_series,
    start_run,
    your_side_title,
)
from pfpp_sim.app.sides import Sides
from pfpp_sim.errors import PfppError

HASTINGS = "E07000062"
SMALL = Settings(place=HASTINGS, scale=0.002)  # the smallest scale the room may choose: quick to replay


def month_name(sides: Sides) -> str:
    with sides.reading() as now:
        return f"{now.left.exo.dates[now.month - 1]:%B %Y}"


def played(sides: Sides, *, pause_each_april: bool = False, interval_s: float = 0.0, shown=lambda: None) -> str:
    return play(
        sides, sides.play(), interval_s=lambda: interval_s, pause_each_april=lambda: pause_each_april,
        cancel=threading.Event(), shown=shown,
    )


# --------------------------------------------------------------------- Play


@pytest.mark.parametrize(("months", "expected"), [(0, False), (1, False), (12, False), (13, True), (14, False), (25, True)])
def test_a_year_end_is_an_april_run_but_not_the_runs_first_month(months, expected):
    model = start_run(baseline_scenario(SMALL), seed=1, months=months)
    assert year_end(model) is expected


def test_pause_each_april_stops_play_at_the_first_april_reached_then_the_next():
    sides = Sides.start(SMALL)
    assert played(sides, pause_each_april=True) == "april"
    with sides.reading() as now:
        assert (now.left.month, now.right.month) == (13, 13)
    assert month_name(sides) == "April 2022"
    assert any(month == 12 and "clawed back" in text for month, text in now.left.events), "April is when money is clawed back"
    assert played(sides, pause_each_april=True) == "april"
    assert month_name(sides) == "April 2023"


def test_play_started_on_an_april_goes_on_to_the_next_one():
    sides = Sides.start(SMALL)
    sides.run_to(13)
    assert played(sides, pause_each_april=True) == "april"
    with sides.reading() as now:
        assert now.month == 25


def test_without_pause_each_april_play_runs_to_the_horizon():
    sides = Sides.start(SMALL)
    assert played(sides) == "horizon"
    with sides.reading() as now:
        assert now.left.month == now.right.month == now.left.horizon


def test_a_pause_stops_play_after_the_month_being_stepped():
    sides = Sides.start(SMALL)
    months = []

    def shown() -> None:
        with sides.reading() as now:
            months.append(now.month)
        if len(months) == 3:
            sides.pause()

    assert played(sides, shown=shown) == "paused"
    with sides.reading() as now:
        assert now.month == 3
    assert months == [1, 2, 3, 3]


def test_the_play_speed_sets_the_time_from_one_month_to_the_next_and_is_read_before_each():
    sides = Sides.start(SMALL)
    asked = []

    def interval_s() -> float:
        asked.append(len(asked))
        if len(asked) == 3:
            sides.pause()
        return 0.3

    started = time.perf_counter()
    assert play(sides, sides.play(), interval_s=interval_s, pause_each_april=lambda: False, cancel=threading.Event()) == "paused"
    assert time.perf_counter() - started >= 3 * 0.3 - 0.01
    assert len(asked) == 3
    assert SPEEDS[DEFAULT_SPEED] == 0.4 and min(SPEEDS.values()) == 0.0


# -------------------------------------------------------------- run to month


def test_run_to_month_leaves_both_sides_at_month_n_forwards_and_backwards():
    sides = Sides.start(SMALL)
    for target in (14, 5, 5, 0, 20):
        assert sides.run_to(target) == target
        with sides.reading() as now:
            assert (now.left.month, now.right.month) == (target, target)
            fresh = start_run(chosen_scenario(SMALL), seed=SMALL.seed, months=target)
            np.testing.assert_array_equal(rate_series(now.right)["fuel_poverty_rate"], rate_series(fresh)["fuel_poverty_rate"])


def test_run_to_a_month_beyond_the_horizon_is_refused_and_moves_nothing():
    sides = Sides.start(SMALL)
    sides.run_to(3)
    version = sides.version
    with pytest.raises(ValueError, match="month 61: expected 0 to 60"):
        sides.run_to(61)
    with sides.reading() as now:
        assert now.month == 3
    assert sides.version == version


def test_run_to_month_stops_play():
    sides = Sides.start(SMALL)
    token = sides.play()
    sides.run_to(2)
    assert sides.step(1, play=token) == 0


@pytest.mark.parametrize(("typed", "month"), [("0", 0), (" 27 ", 27), ("60", 60), ("007", 7)])
def test_a_whole_number_up_to_the_horizon_is_a_month_to_run_to(typed, month):
    assert parse_month(typed, 60) == month


@pytest.mark.parametrize("typed", ["61", "-1", "abc", "", "2.5", "1e1", "99999"])
def test_any_other_month_is_refused_naming_what_was_typed_and_the_range(typed):
    with pytest.raises(PfppError, match=r"month .*: expected a whole number from 0 to 60") as caught:
        parse_month(typed, 60)
    assert (typed.strip()[:8] or "(empty)") in str(caught.value)


# ------------------------------------------------------------------- levers


def test_levers_changed_from_the_preset_are_named_and_the_heading_counts_them():
    settings = Settings()
    assert changed_levers(settings) == []
    assert your_side_title(settings) == "Your settings (from PfPP joined up)"
    once = settings.with_lever("pooling", 0.5)
    assert changed_levers(once) == ["pooling"]
    assert your_side_title(once) == "Your settings (from PfPP joined up, 1 lever changed)"
    twice = once.with_lever("carry_over", not settings.levers.carry_over)
    assert changed_levers(twice) == ["pooling", "carry_over"]
    assert your_side_title(twice) == "Your settings (from PfPP joined up, 2 levers changed)"
    back = twice.with_lever("pooling", settings.levers.pooling).with_lever("carry_over", settings.levers.carry_over)
    assert your_side_title(back) == "Your settings (from PfPP joined up)"
    assert your_side_title(twice.with_preset("stop_start")) == "Your settings (from Stop-start funding)"


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("pooling", 0.8, "80%"), ("data_sharing", 0.0, "0%"), ("local_priority_weight", 0.5, "0.5"), ("carry_over", True, "on"),
        ("secondments", False, "off"), ("funding_period_months", 24, "24 months"), ("funding_period_months", None, "each stream's own"),
        ("competitive_share", 0.25, "25%"), ("stream_churn", 0.1, "10% a year"),
    ],
)
def test_a_levers_value_reads_as_the_room_would_say_it(name, value, text):
    assert lever_text(name, value) == text


def test_streams_discontinued_at_the_baselines_rate_read_as_that_rate():
    churn = preset("siloed_baseline").mechanisms.stream_churn.value
    assert lever_text("stream_churn", None) == f"the baseline's ({churn:.0%} a year)"


def test_a_changed_lever_shows_its_value_and_the_presets():
    settings = Settings().with_lever("pooling", 0.5)
    assert lever_heading(settings, "pooling") == (
        "Pooling (share of each stream): <b class='pfpp-lever-value'>50%</b> <span class='pfpp-changed'>changed; preset 100%</span>"
    )
    assert "pfpp-changed" not in lever_heading(settings, "carry_over")


# -------------------------------------------------------------------- page


def months_on_screen(box) -> tuple[str, str, str]:
    toolbar = widgets_with_class(box, "pfpp-month")[0].unsafe_innerHTML.split(" &middot; ")[-1]
    sides = [widgets_with_class(widgets_with_class(box, f"pfpp-side-{s}")[0], "pfpp-side-month")[0].unsafe_innerHTML for s in ("siloed", "yours")]
    return toolbar, *sides


def test_the_drawer_shows_every_levers_value_and_marks_the_one_the_room_changed():
    box, _ = render_page()
    levers = preset("pfpp_joined_up").levers
    for name in LEVER_LABELS:
        (heading,) = widgets_with_class(box, f"pfpp-lever-label-{name}")
        assert f">{escape(lever_text(name, getattr(levers, name)))}</b>" in heading.unsafe_innerHTML, name
    assert not widgets_with_class(box, "pfpp-lever-changed")
    widgets_with_class(box, "pfpp-lever-carry_over")[0].v_model = False
    (changed,) = widgets_with_class(box, "pfpp-lever-changed")
    assert "pfpp-lever-carry_over" in changed.class_.split()
    assert "changed; preset on" in widgets_with_class(box, "pfpp-lever-label-carry_over")[0].unsafe_innerHTML
    heading = widgets_with_class(box, "pfpp-side-yours")[0].children[0].unsafe_innerHTML
    assert heading == "Your settings (from PfPP joined up, 1 lever changed)"
    widgets_with_class(box, "pfpp-preset-pfpp_joined_up")[0].fire_event("click", {})
    assert not widgets_with_class(box, "pfpp-lever-changed")


def test_run_to_month_on_the_page_brings_both_sides_to_it_and_refuses_a_bad_month_beside_the_box():
    box, _ = render_page()
    (field,) = widgets_with_class(box, "pfpp-run-to-month")
    assert field.v_model == "12", "a year on, until the room types a month"
    field.v_model = "30"
    widgets_with_class(box, "pfpp-run-to")[0].fire_event("click", {})
    toolbar, siloed, yours = months_on_screen(box)
    assert toolbar == siloed == yours and toolbar.startswith("Month 30 of 60")
    assert widgets_with_class(box, "pfpp-run-to-month")[0].v_model == "30", "the box keeps what was typed"
    for bad in ("61", "abc"):
        field = widgets_with_class(box, "pfpp-run-to-month")[0]
        field.v_model = bad
        widgets_with_class(box, "pfpp-run-to")[0].fire_event("click", {})
        field = widgets_with_class(box, "pfpp-run-to-month")[0]
        assert field.error and "expected a whole number from 0 to 60; still at month 30" in field.messages[0], field.messages
        assert months_on_screen(box)[0].startswith("Month 30 of 60")


def test_the_page_pauses_play_at_the_first_april_when_asked(monkeypatch):
    monkeypatch.setitem(SPEEDS, "fastest", 0.0)
    box, context = render_page()
    try:
        (speed,) = widgets_with_class(box, "pfpp-speed")
        speed.v_model = "fastest"
        (april,) = widgets_with_class(box, "pfpp-pause-april")
        april.children[0].v_model = True
        play = widgets_with_class(box, "pfpp-play")[0]
        play.fire_event("click", {})
        deadline = time.monotonic() + 60
        while play.children[-1] != "Play" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert play.children[-1] == "Play", "Play did not stop"
        toolbar, siloed, yours = months_on_screen(box)
        assert toolbar == siloed == yours == "Month 13 of 60: April 2022"
    finally:
        context.close()


def test_presentation_mode_closes_the_drawer_keeps_the_month_and_the_controls_button_opens_it_again():
    box, _ = render_page()
    widgets_with_class(box, "pfpp-step-year")[0].fire_event("click", {})
    (drawer,) = widgets_with_class(box, "pfpp-drawer")
    assert "pfpp-drawer-closed" not in drawer.class_.split()
    widgets_with_class(box, "pfpp-present")[0].fire_event("click", {})
    assert widgets_with_class(box, "pfpp-presenting")
    assert "pfpp-drawer-closed" in widgets_with_class(box, "pfpp-drawer")[0].class_.split()
    assert months_on_screen(box)[0].startswith("Month 12 of 60")
    (toggle,) = widgets_with_class(box, "pfpp-drawer-toggle")
    assert toggle.attributes["aria-expanded"] == "false"
    toggle.fire_event("click", {})
    assert "pfpp-drawer-closed" not in widgets_with_class(box, "pfpp-drawer")[0].class_.split()
    assert widgets_with_class(box, "pfpp-presenting"), "still presenting, with the controls open"
    widgets_with_class(box, "pfpp-present")[0].fire_event("click", {})
    assert not widgets_with_class(box, "pfpp-presenting")
