"""The teaching app's two sides: stepped, changed and reset together, never a month apart."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

import numpy as np
import pytest

from pfpp_sim.app.session import Settings, baseline_scenario, chosen_scenario, preset, rate_series, start_run
from pfpp_sim.app.sides import Sides, SidesApart, check_same_month
from pfpp_sim.model import PfppModel

HASTINGS, LUTON = "E07000062", "E06000032"
SMALL = Settings(place=HASTINGS, scale=0.002)  # the smallest scale the room may choose: quick to replay


class HeldStep:
    """Once armed, holds the next ``PfppModel.step`` (the siloed side's, the first a step of both makes) until released.

    Installed before the runs are built: Mesa binds a model's step when it is made.
    """

    def __init__(self, monkeypatch) -> None:
        self.entered, self.released = threading.Event(), threading.Event()
        self._armed = False
        step = PfppModel.step

        def held(model: PfppModel) -> None:
            if self._armed:
                self._armed = False
                self.entered.set()
                self.released.wait(timeout=30)
            step(model)

        monkeypatch.setattr(PfppModel, "step", held)

    def arm(self) -> None:
        self._armed = True


def fuel_poverty(model: PfppModel) -> np.ndarray:
    return rate_series(model)["fuel_poverty_rate"]


def test_a_change_made_while_a_month_is_stepped_waits_for_it_and_replays_to_that_month(monkeypatch):
    held = HeldStep(monkeypatch)
    sides = Sides.start(SMALL)
    sides.step(2)
    held.arm()
    stepping = threading.Thread(target=sides.step, args=(1,))
    stepping.start()
    assert held.entered.wait(timeout=30), "the step did not start"
    changed = SMALL.with_lever("carry_over", False)
    changing = threading.Thread(target=sides.change, args=(changed,))
    changing.start()
    changing.join(timeout=1.0)
    still_waiting = changing.is_alive()
    held.released.set()
    stepping.join(timeout=60)
    changing.join(timeout=60)
    assert still_waiting, "the change went ahead while a month was being stepped"
    with sides.reading() as now:
        assert (now.left.month, now.right.month) == (3, 3)
        assert now.settings == changed
        fresh = start_run(chosen_scenario(changed), seed=changed.seed, months=3)
        np.testing.assert_array_equal(fuel_poverty(now.right), fuel_poverty(fresh))


def test_levers_changed_while_another_thread_plays_leave_both_sides_at_the_month_played():
    sides = Sides.start(SMALL)
    token = sides.play()

    def play() -> None:
        for _ in range(18):
            sides.step(1, play=token)

    player = threading.Thread(target=play)
    player.start()
    settings = SMALL
    for lever, value in [("carry_over", False), ("secondments", False), ("pooling", 0.4), ("carry_over", True)]:
        settings = settings.with_lever(lever, value)
        sides.change(settings)
    sides.change(settings.with_preset("stop_start"))
    sides.change(replace(sides.settings, place=LUTON))
    player.join(timeout=120)
    with sides.reading() as now:
        assert (now.left.month, now.right.month) == (18, 18)
        assert now.settings.place == LUTON


def test_a_lever_change_replays_only_the_right_side_and_a_place_change_both():
    sides = Sides.start(SMALL)
    sides.step(4)
    with sides.reading() as now:
        left_before, right_before = now.left, now.right
    sides.change(SMALL.with_lever("pooling", 0.2))
    with sides.reading() as now:
        assert now.left is left_before and now.right is not right_before
        assert now.right.month == 4
    sides.change(replace(sides.settings, place=LUTON))
    with sides.reading() as now:
        assert now.left is not left_before
        assert (now.left.month, now.right.month) == (4, 4)
        fresh = start_run(baseline_scenario(now.settings), seed=now.settings.seed, months=4)
        np.testing.assert_array_equal(fuel_poverty(now.left), fuel_poverty(fresh))


def test_a_play_step_after_a_pause_or_a_reset_does_nothing():
    sides = Sides.start(SMALL)
    token = sides.play()
    assert sides.step(1, play=token) == 1
    sides.pause()
    assert sides.step(1, play=token) == 0
    token = sides.play()
    sides.step(1, play=token)
    sides.reset()
    assert sides.step(1, play=token) == 0
    with sides.reading() as now:
        assert now.month == 0


def test_stepping_stops_at_the_horizon():
    settings = Settings(place=HASTINGS, scale=0.002)
    sides = Sides.start(settings)
    horizon = baseline_scenario(settings).run.horizon_months
    assert sides.step(horizon + 5) == horizon
    assert sides.step(1) == 0


def test_every_action_that_changes_the_sides_counts_a_new_version():
    sides = Sides.start(SMALL)
    versions = [sides.version]
    sides.step(1)
    versions.append(sides.version)
    sides.change(SMALL.with_lever("pooling", 0.1))
    versions.append(sides.version)
    sides.change(sides.settings)  # the same settings: nothing to rebuild
    versions.append(sides.version)
    sides.reset()
    versions.append(sides.version)
    assert versions == [0, 1, 2, 2, 3]


def test_sides_at_different_months_are_refused_loudly(caplog):
    left = start_run(baseline_scenario(SMALL), seed=1, months=2)
    right = start_run(chosen_scenario(SMALL), seed=1, months=1)
    start = f"{left.exo.dates[0]:%B %Y}"
    with caplog.at_level(logging.ERROR, logger="pfpp_sim.app.sides"), pytest.raises(SidesApart, match=f"run 2 months from {start}, your side 1 from {start}"):
        check_same_month(left, right)
    assert "apart" in caplog.text
    right.step()
    assert check_same_month(left, right) == 2


def test_sides_on_different_calendars_are_refused_loudly():
    history = preset("baseline_history").with_overrides(SMALL.run_overrides())
    left = start_run(baseline_scenario(SMALL), seed=1, months=3)
    right = start_run(history, seed=1, months=3)
    with pytest.raises(SidesApart, match=f"your side 3 from {right.exo.dates[0]:%B %Y}"):
        check_same_month(left, right)


def test_a_change_to_settings_the_siloed_side_cannot_be_compared_with_is_refused_and_changes_nothing():
    sides = Sides.start(SMALL)
    sides.step(3)
    version = sides.version
    with pytest.raises(SidesApart):
        sides.change(replace(SMALL, preset="baseline_history"))
    assert (sides.settings, sides.version) == (SMALL, version)
    with sides.reading() as now:
        assert now.month == 3
