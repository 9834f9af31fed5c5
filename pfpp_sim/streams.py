"""One root seed, named random streams (common random numbers).

Each random process gets its own ``SeedSequence(seed, spawn_key=(replicate, id))``, so
changing a lever that one process reads does not re-draw the others' randomness.
Processes whose number of draws depends on the state (councils' targeting, departments'
decisions, intervention effects) take a fresh stream each month
(``spawn_key=(replicate, id, month)``), so a difference in one month's draws does not
shift every later month's random numbers.

A month's resident rules draw one number per person from their stream for each event.
:class:`DrawnAhead` lets the model draw those numbers for everyone first and then run
the rules place-group by place-group (to bound memory and keep arrays in cache) with
exactly the numbers each person would get from a whole-population call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")

__all__ = ["STREAM_IDS", "DrawingAhead", "DrawnAhead", "KeptNumbers", "MonthNumbers", "YoungDraws", "draw_shocks", "draw_young", "restart", "stream"]

STREAM_IDS = {
    "population": 0,
    "households": 1,
    "young_people": 2,
    "councils": 3,
    "departments": 4,
    "interventions": 5,
    "parameters": 6,
    "mesa": 7,
    "run_in": 8,
    "attribution": 9,
    "job_search": 10,
    "run_in_councils": 11,
}
"""Fixed stream ids: append new ones, never renumber."""


def stream(seed: int, replicate: int, name: str, month: int | None = None) -> np.random.Generator:
    """Return the generator for one random process of one replicate.

    Parameters
    ----------
    seed : int
        Root seed of the experiment (0 is a valid seed).
    replicate : int
        Replicate number, from 0.
    name : str
        A key of :data:`STREAM_IDS`.
    month : int, optional
        For a monthly stream, the month (from 0).

    Returns
    -------
    numpy.random.Generator
    """
    key = (replicate, STREAM_IDS[name]) if month is None else (replicate, STREAM_IDS[name], month)
    ss = np.random.SeedSequence(seed, spawn_key=key)
    return np.random.default_rng(ss)


@lru_cache(maxsize=4096)
def _first_state(seed: int, replicate: int, name: str, month: int | None) -> dict:
    """``bit_generator.state`` of a new :func:`stream` (read only by :func:`restart`, which never changes it)."""
    return stream(seed, replicate, name, month).bit_generator.state


def restart(rng: np.random.Generator | None, seed: int, replicate: int, name: str, month: int | None = None) -> np.random.Generator:
    """The generator :func:`stream` returns, made from ``rng`` instead of anew.

    ``rng``, a generator of any stream (or ``None``: then a new one), is put in the state
    ``stream(seed, replicate, name, month)`` starts in, and draws the same numbers from
    then on. Making a generator costs more than a month of some processes' draws; the
    first states are kept in the process (a sweep's runs share their seed and
    replicates). Only the state changes: ``rng.spawn`` would still spawn from the seed
    sequence ``rng`` was made with.

    Parameters
    ----------
    rng : numpy.random.Generator or None
        Made by :func:`stream` (its ``bit_generator`` is a PCG64), and no longer needed as it is.
    seed, replicate, name, month
        As for :func:`stream`.

    Returns
    -------
    numpy.random.Generator
        ``rng``, or a new generator if it was ``None``.
    """
    if rng is None:
        return stream(seed, replicate, name, month)
    rng.bit_generator.state = _first_state(seed, replicate, name, month)
    return rng


class DrawnAhead:
    """Random numbers drawn ahead, handed out in order to a rule that asks its generator for them.

    A stand-in for a ``numpy.random.Generator`` in a rule that only calls ``random(size)``
    or ``standard_normal(size, dtype=...)``: the k-th call returns the k-th array given
    here, which must have the size (and dtype) asked for.

    Parameters
    ----------
    *parts : ndarray
        The numbers of each call, in the order the rule makes its calls.

    Raises
    ------
    ValueError
        From a call, if the rule asks for more calls, or another size or dtype, than given.
    """

    def __init__(self, *parts: np.ndarray) -> None:
        self.parts = list(parts)

    def _next(self, size: int, dtype) -> np.ndarray:
        if not self.parts or self.parts[0].size != size or self.parts[0].dtype != np.dtype(dtype):
            given = f"{self.parts[0].size} of {self.parts[0].dtype}" if self.parts else "none"
            raise ValueError(f"the rule asked for {size} numbers of {np.dtype(dtype)} drawn ahead, the next part has {given}")
        return self.parts.pop(0)

    def random(self, size: int) -> np.ndarray:
        """The next part: ``size`` uniform numbers in [0, 1), float64."""
        return self._next(size, np.float64)

    def standard_normal(self, size: int, dtype=np.float64) -> np.ndarray:
        """The next part: ``size`` standard normal numbers of ``dtype``."""
        return self._next(size, dtype)


def draw_shocks(households: np.random.Generator, *, out: np.ndarray) -> np.ndarray:
    """A month's income shocks: one standard normal per household, in household order.

    Parameters
    ----------
    households : numpy.random.Generator
        The ``households`` stream.
    out : ndarray of float32 or float64, shape (n_households,)
        Filled with the shocks (of the income deviations' dtype); the numbers are those
        ``standard_normal(n_households, dtype=out.dtype)`` would return.

    Returns
    -------
    ndarray
        ``out``.
    """
    return households.standard_normal(out=out, dtype=out.dtype)


@dataclass(frozen=True)
class YoungDraws:
    """One month's numbers for the young people's rules, in the order the rules use them.

    Attributes
    ----------
    move, mind : ndarray of float64, shape (n_young,)
        One uniform per person for leaving NEET (to education or to work) or entering
        it, and one for mental-health onset or recovery.
    entry : ndarray of float64, shape (n_young,) or (0,)
        In a month that ends on 1 September, one uniform per person for starting Year 12
        NEET (:func:`~pfpp_sim.dynamics.september_entry`); none in other months.
    newcomer_mind : ndarray of float64, shape (n_newcomers,)
        Then one uniform per newcomer (a young person turning 25 replaced by a
        16-year-old, in person order) for mental health.
    """

    move: np.ndarray
    mind: np.ndarray
    entry: np.ndarray
    newcomer_mind: np.ndarray


def draw_young(young: np.random.Generator, *, out: tuple[np.ndarray, np.ndarray], n_newcomers: int, september: bool) -> YoungDraws:
    """A month's young people's numbers: the same numbers, in the same order, as the rules would draw.

    Parameters
    ----------
    young : numpy.random.Generator
        The ``young_people`` stream.
    out : tuple of two ndarrays of float64, shape (n_young,)
        Filled with the ``move`` and ``mind`` numbers (reused month after month,
        so the month's largest arrays are not allocated again).
    n_newcomers : int
        Young people who turn 25 this month.
    september : bool
        Whether the month ends on 1 September (a year group starts Year 12).

    Returns
    -------
    YoungDraws
    """
    move, mind = (young.random(out=part) for part in out)
    entry = young.random(move.size if september else 0)
    return YoungDraws(move, mind, entry, young.random(n_newcomers))


class DrawingAhead(Generic[T]):
    """Run ``func(*args, **kwargs)`` in a helper thread now; :meth:`result` waits for it.

    Used to draw next month's resident numbers while the model does the rest of its
    work (numpy releases the GIL while it fills arrays). The numbers are those a call
    made later would give, as long as nothing else uses the generators meanwhile.

    Parameters
    ----------
    func : callable
    *args, **kwargs
        Passed to ``func``.
    """

    def __init__(self, func: Callable[..., T], *args, **kwargs) -> None:
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(func, args, kwargs), name="pfpp-drawing-ahead", daemon=True)
        self._thread.start()

    def _run(self, func, args, kwargs) -> None:
        try:
            self._value = func(*args, **kwargs)
        except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread by result()
            self._error = err

    def result(self) -> T:
        """Wait for the helper thread; return what ``func`` returned, or raise what it raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


@dataclass(frozen=True)
class MonthNumbers:
    """One month's resident numbers, read-only, and the states their streams are left in.

    Attributes
    ----------
    young : YoungDraws
        The young people's numbers (:func:`draw_young`).
    ranks : ndarray of uint16, shape (n_newcomers,)
        The newcomers' job-search ranks, in person order.
    shocks : ndarray, shape (n_households,)
        The households' income shocks (:func:`draw_shocks`).
    states : tuple of dict
        ``bit_generator.state`` of the ``young_people``, ``job_search`` and ``households``
        streams after the month's draws.
    """

    young: YoungDraws
    ranks: np.ndarray
    shocks: np.ndarray
    states: tuple[dict, dict, dict]


class KeptNumbers:
    """A replicate's resident numbers, month by month, shared by the runs that start from one kept set-up.

    How many numbers the residents' rules draw in a month depends only on the month and
    on the residents' ages, never on the levers or on what was delivered, so every run
    from the same set-up (:meth:`~pfpp_sim.model.PfppModel.at_start`) draws the same
    numbers: the first run to reach a month keeps them, and the next runs read them
    instead of drawing them again (common random numbers, reused). Filled by
    :class:`~pfpp_sim.residents.ResidentEngine`; never changed once kept.
    """

    def __init__(self) -> None:
        self._months: dict[int, MonthNumbers] = {}

    def __len__(self) -> int:
        return len(self._months)

    def get(self, month: int) -> MonthNumbers | None:
        """The numbers of ``month``, if a run has kept them."""
        return self._months.get(month)

    def keep(self, month: int, numbers: MonthNumbers) -> None:
        """Keep ``month``'s numbers (made read-only) for the next runs."""
        for part in (*vars(numbers.young).values(), numbers.ranks, numbers.shocks):
            part.flags.writeable = False
        self._months[month] = numbers
