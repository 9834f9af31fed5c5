"""Named random streams: one root seed, one stream per process and replicate (common random numbers)."""

from __future__ import annotations

import numpy as np
import pytest

from pfpp_sim.streams import STREAM_IDS, DrawingAhead, DrawnAhead, draw_young, restart, stream


def test_the_same_seed_replicate_and_name_give_the_same_numbers_and_seed_0_is_a_seed():
    np.testing.assert_array_equal(stream(0, 0, "households").random(8), stream(0, 0, "households").random(8))
    assert not np.array_equal(stream(0, 0, "households").random(8), stream(1, 0, "households").random(8))


def test_another_replicate_or_month_gives_other_numbers():
    first = stream(7, 0, "councils", 3).random(8)
    assert not np.array_equal(first, stream(7, 1, "councils", 3).random(8))
    assert not np.array_equal(first, stream(7, 0, "councils", 4).random(8))
    assert not np.array_equal(stream(7, 0, "councils").random(8), first), "a monthly stream is not the plain one"


def test_each_name_has_its_own_numbers_and_drawing_from_one_does_not_move_another():
    names = list(STREAM_IDS)
    draws = [stream(5, 0, name).random(4) for name in names]
    assert len({d.tobytes() for d in draws}) == len(names)
    young, households = stream(5, 0, "young_people"), stream(5, 0, "households")
    young.random(1000)
    np.testing.assert_array_equal(households.random(4), draws[names.index("households")])


def _mixed_draws(rng: np.random.Generator) -> list:
    """Numbers of several kinds, 32-bit integers among them (PCG64 keeps half of a 64-bit draw for the next)."""
    return [*rng.random(3).tolist(), *rng.integers(0, 2**31, size=3, dtype=np.int32).tolist(), *rng.standard_normal(3).tolist()]


@pytest.mark.parametrize("month", [None, 0, 11])
def test_a_restarted_generator_draws_what_a_new_stream_would_whatever_it_drew_before(month):
    used = stream(5, 0, "councils", 4)
    used.random(7)
    used.integers(0, 10, dtype=np.int32)  # leaves half a draw kept
    again = restart(used, 5, 1, "departments", month)
    assert again is used
    assert _mixed_draws(again) == _mixed_draws(stream(5, 1, "departments", month))
    assert _mixed_draws(restart(again, 5, 1, "departments", month)) == _mixed_draws(stream(5, 1, "departments", month))
    assert _mixed_draws(restart(None, 5, 1, "departments", month)) == _mixed_draws(stream(5, 1, "departments", month))


@pytest.mark.parametrize("september", [False, True])
def test_young_peoples_numbers_drawn_for_the_month_are_those_the_rules_would_draw_in_turn(september):
    direct = stream(2, 0, "young_people")
    move, mind = direct.random(6), direct.random(6)
    entry, newcomer = direct.random(6 if september else 0), direct.random(2)
    drawn = draw_young(stream(2, 0, "young_people"), out=(np.empty(6), np.empty(6)), n_newcomers=2, september=september)
    for got, expected in zip((drawn.move, drawn.mind, drawn.entry, drawn.newcomer_mind), (move, mind, entry, newcomer)):
        np.testing.assert_array_equal(got, expected)


def test_numbers_drawn_ahead_are_handed_out_in_order_and_a_wrong_request_is_refused():
    first, second = np.arange(3.0), np.arange(2.0)
    ahead = DrawnAhead(first, second)
    np.testing.assert_array_equal(ahead.random(3), first)
    with pytest.raises(ValueError, match="asked for 3 numbers"):
        ahead.random(3)


def test_numbers_drawn_ahead_refuse_another_size_or_dtype_and_say_what_they_hold():
    drawn = DrawnAhead(np.zeros(3), np.zeros(2, dtype=np.float32))
    with pytest.raises(ValueError, match="asked for 3 numbers of float32 drawn ahead, the next part has 3 of float64"):
        drawn.standard_normal(3, dtype=np.float32)
    np.testing.assert_array_equal(drawn.random(3), np.zeros(3))
    with pytest.raises(ValueError, match="asked for 2 numbers of float64 drawn ahead, the next part has 2 of float32"):
        drawn.standard_normal(2)
    assert drawn.standard_normal(2, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="asked for 1 numbers of float64 drawn ahead, the next part has none"):
        drawn.random(1)


def test_numbers_being_drawn_ahead_give_what_was_drawn_or_raise_what_failed():
    assert DrawingAhead(lambda n: np.arange(n), 4).result().tolist() == [0, 1, 2, 3]

    def fail():
        raise RuntimeError("no numbers")

    with pytest.raises(RuntimeError, match="no numbers"):
        DrawingAhead(fail).result()
