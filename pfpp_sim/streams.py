"""One root seed, named random streams (common random numbers).

Each random process gets its own ``SeedSequence(seed, spawn_key=(replicate, id))``, so
changing a lever that one process reads does not re-draw the others' randomness.
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


def stream(seed: int, replicate: int, name: str) -> np.random.Generator:
    """Return the generator for one random process of one replicate.

    Parameters
    ----------
    seed : int
        Root seed of the experiment (0 is a valid seed).
    replicate : int
        Replicate number, from 0.
    name : str
        A key of :data:`STREAM_IDS`.

    Returns
    -------
    numpy.random.Generator
    """
    ss = np.random.SeedSequence(seed, spawn_key=(replicate, STREAM_IDS[name]))
    return np.random.default_rng(ss)
