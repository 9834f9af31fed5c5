"""One root seed, named random streams (common random numbers).

Each random process gets its own ``SeedSequence(seed, spawn_key=(replicate, id))``, so
changing a lever that one process reads does not re-draw the others' randomness.
Processes whose number of draws depends on the state (councils' targeting, departments'
decisions, intervention effects) take a fresh stream each month
(``spawn_key=(replicate, id, month)``), so a difference in one month's draws does not
shift every later month's random numbers.
"""

from __future__ import annotations

import numpy as np

__all__ = ["STREAM_IDS", "stream"]

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
