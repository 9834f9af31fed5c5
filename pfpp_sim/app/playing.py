"""Play: both sides stepped a month at a time, at the room's speed, until Pause, the horizon or a year end.

The loop needs no Solara: the page runs :func:`play` in a thread and redraws after each
month, and tests run it directly. Speed and "pause each April" are read before every
month, so changing them during Play takes effect at the next month. April is when
deadlines fall and unspent money is clawed back, the moment a trainer stops to talk
about; the run's first month (April 2021) is its start, not a year end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from pfpp_sim.app.sides import Sides
from pfpp_sim.model import PfppModel

__all__ = ["DEFAULT_SPEED", "SPEEDS", "play", "year_end"]

SPEEDS = {"slow": 1.0, "normal": 0.4, "fast": 0.2, "fastest": 0.0}
"""Play speeds the room may choose: seconds from the start of one month to the next (1, 2.5, 5 months a second, or as fast as the runs go)."""
DEFAULT_SPEED = "normal"
MIN_WAIT_S = 0.05
"""Seconds left between months even at full speed, so the browser can draw each one."""


def year_end(model: PfppModel) -> bool:
    """True when the month last run is an April other than the run's first month: deadlines fell, money was clawed back.

    Parameters
    ----------
    model : PfppModel

    Returns
    -------
    bool
    """
    return model.month > 1 and model.exo.dates[model.month - 1].month == 4


def play(
    sides: Sides,
    token: int,
    *,
    interval_s: Callable[[], float],
    pause_each_april: Callable[[], bool],
    cancel: threading.Event,
    shown: Callable[[], None] = lambda: None,
) -> str:
    """Step both sides a month at a time until something stops Play, and say what did.

    Parameters
    ----------
    sides : Sides
    token : int
        From :meth:`Sides.play`; a Pause or Reset since makes the next step do nothing.
    interval_s : callable returning float
        Seconds from the start of one month to the next (:data:`SPEEDS`), read before each.
    pause_each_april : callable returning bool
        Whether to stop after a year-end April (:func:`year_end`), read after each month.
    cancel : threading.Event
        Set to stop at once (the page's thread being cancelled).
    shown : callable, optional
        Called after every month stepped, to redraw.

    Returns
    -------
    str
        ``"horizon"`` (the last month was run), ``"paused"`` (Pause or Reset), ``"april"``
        (a year end, with ``pause_each_april``) or ``"cancelled"``.
    """
    while not cancel.is_set():
        started = time.perf_counter()
        stepped = sides.step(1, play=token)
        shown()
        if not stepped:
            with sides.reading() as now:
                return "horizon" if now.month >= now.left.horizon else "paused"
        if pause_each_april():
            with sides.reading() as now:
                if year_end(now.left):
                    return "april"
        cancel.wait(max(interval_s() - (time.perf_counter() - started), MIN_WAIT_S))
    return "cancelled"
