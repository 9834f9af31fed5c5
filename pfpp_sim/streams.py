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

import numpy as np

__all__ = ["STREAM_IDS", "DrawnAhead", "stream"]

STREAM_IDS = {
    "population": 0,
    "households": 1,
    "young_people": 2,
    "councils": 3,
    "departments": 4,
    "interventions": 5,
    "parameters": 6,
    "mesa": 7,
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
