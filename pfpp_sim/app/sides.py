"""The two runs the room watches, stepped and rebuilt together under one lock.

The left side is the siloed baseline, the right side the room's settings. Play steps
both from a thread while the room changes levers, presets or the place from another,
so every action (a step, a change of settings, a reset, reading what to show) holds
one lock: a change made during Play waits for the month being stepped, then rebuilds
the sides it affects and replays them to the month the runs have actually reached, not
the month last drawn on screen. After every action both sides are checked to be at the
same month of the same calendar (:func:`check_same_month`); a difference is a bug and
raises :class:`SidesApart` rather than showing two months side by side.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pfpp_sim.app.session import Settings, baseline_scenario, chosen_scenario, start_run
from pfpp_sim.model import PfppModel

__all__ = ["Now", "Sides", "SidesApart", "check_same_month"]

logger = logging.getLogger(__name__)


class SidesApart(RuntimeError):
    """The two sides have reached different months or run on different calendars (a bug in the app, not a user error)."""


def check_same_month(left: PfppModel, right: PfppModel) -> int:
    """The month both sides have reached, after checking that they agree.

    Parameters
    ----------
    left, right : PfppModel
        The siloed side and the room's side.

    Returns
    -------
    int
        Months both have run.

    Raises
    ------
    SidesApart
        If they have run different numbers of months, or their months fall on different
        calendar dates (another start or horizon); it is logged as an error first.
    """
    if left.month != right.month or not left.exo.dates.equals(right.exo.dates):
        message = (
            f"the two sides are apart: the siloed side has run {left.month} months from {left.exo.dates[0]:%B %Y}, "
            f"your side {right.month} from {right.exo.dates[0]:%B %Y}"
        )
        logger.error(message)
        raise SidesApart(message)
    return left.month


@dataclass(frozen=True)
class Now:
    """The state of both sides at one moment, valid only inside :meth:`Sides.reading`."""

    settings: Settings
    left: PfppModel
    right: PfppModel
    version: int

    @property
    def month(self) -> int:
        return self.left.month


class Sides:
    """The siloed side and the room's side, driven together.

    Build with :meth:`start`. Every method takes the same lock, so a step, a change of
    settings and a reset never interleave, whichever threads call them. ``version``
    counts the actions that changed what is shown.
    """

    def __init__(self, settings: Settings, left: PfppModel, right: PfppModel) -> None:
        self._settings = settings
        self._left = left
        self._right = right
        self._lock = threading.Lock()
        self._version = 0
        self._play = 0

    @classmethod
    def start(cls, settings: Settings) -> Sides:
        """Both sides of ``settings`` at month 0."""
        return cls(settings, *_build(settings, months=0))

    @property
    def version(self) -> int:
        return self._version

    @property
    def settings(self) -> Settings:
        return self._settings

    def step(self, months: int = 1, *, play: int | None = None) -> int:
        """Step both sides ``months`` months (fewer at the horizon).

        Parameters
        ----------
        months : int, default=1
        play : int, optional
            The token :meth:`play` returned: the step is skipped if the room paused
            or reset since, so a Play thread never steps past a Pause or a Reset.

        Returns
        -------
        int
            Months stepped: 0 at the horizon or after a pause.
        """
        with self._lock:
            if play is not None and play != self._play:
                return 0
            stepped = 0
            while stepped < months and self._left.month < self._left.horizon:
                self._left.step()
                self._right.step()
                stepped += 1
            self._finish(changed=stepped > 0)
            return stepped

    def run_to(self, month: int) -> int:
        """Stop playing and bring both sides to ``month``: stepped on if it is ahead, replayed from the start if it is behind.

        Parameters
        ----------
        month : int
            0 to the horizon (see :func:`pfpp_sim.app.session.parse_month`).

        Returns
        -------
        int
            The month both sides have reached, ``month``.

        Raises
        ------
        ValueError
            If ``month`` is outside 0 to the horizon; the sides are left as they were.
        """
        with self._lock:
            if not 0 <= month <= self._left.horizon:
                raise ValueError(f"month {month}: expected 0 to {self._left.horizon}")
            self._play += 1
            before = self._left.month
            if month < before:
                self._left, self._right = _build(self._settings, months=month)
            while self._left.month < month:
                self._left.step()
                self._right.step()
            self._finish(changed=month != before)
            return self._left.month

    def change(self, settings: Settings) -> None:
        """Use ``settings`` from now on: rebuild the sides they change and replay them to the month reached.

        The left side is rebuilt only when the place, scale or seed changes; the right
        side whenever the settings change. Both are replayed to the month the runs have
        reached when the lock is taken, so a step under way finishes first and counts.
        """
        with self._lock:
            if settings == self._settings:
                return
            reached, left = self._left.month, self._left
            if (settings.place, settings.scale, settings.seed) != (self._settings.place, self._settings.scale, self._settings.seed):
                left = start_run(baseline_scenario(settings), seed=settings.seed, months=reached)
            right = start_run(chosen_scenario(settings), seed=settings.seed, months=reached)
            check_same_month(left, right)  # before they replace the sides shown
            self._settings, self._left, self._right = settings, left, right
            self._finish(changed=True)

    def reset(self) -> None:
        """Pause, and return both sides to month 0 (keeping the settings)."""
        with self._lock:
            self._play += 1
            self._left, self._right = _build(self._settings, months=0)
            self._finish(changed=True)

    def play(self) -> int:
        """Start playing: a token for :meth:`step` that :meth:`pause` and :meth:`reset` invalidate."""
        with self._lock:
            self._play += 1
            return self._play

    def pause(self) -> None:
        """Stop playing: steps with an earlier :meth:`play` token are skipped."""
        with self._lock:
            self._play += 1

    @contextmanager
    def reading(self) -> Iterator[Now]:
        """Hold the lock while reading both sides, so no step or change lands halfway through.

        Yields
        ------
        Now
            The settings and both runs; do not keep the runs beyond the ``with`` block.
        """
        with self._lock:
            check_same_month(self._left, self._right)
            yield Now(self._settings, self._left, self._right, self._version)

    def _finish(self, *, changed: bool) -> None:
        check_same_month(self._left, self._right)
        if changed:
            self._version += 1


def _build(settings: Settings, *, months: int) -> tuple[PfppModel, PfppModel]:
    left = start_run(baseline_scenario(settings), seed=settings.seed, months=months)
    right = start_run(chosen_scenario(settings), seed=settings.seed, months=months)
    return left, right
