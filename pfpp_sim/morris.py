"""Morris elementary effects, per full range of each parameter, for every kind of parameter.

SALib samples Morris trajectories, but its analysis divides every change in the output by
the grid step (2/3 of the range at four levels), which is right only for a parameter that
moves by exactly that step. A switch or a list of levels moves by its whole range at each
step, so SALib would inflate its effect (by 1.5 for an on/off lever at four levels) and
tilt rankings towards switches. Here each elementary effect is the change in the output
divided by how far the parameter actually moved, as a share of its range: every effect
then reads as "the change from the parameter's low to its high", for sliders and switches
alike.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["BOOTSTRAP", "morris_indices"]

BOOTSTRAP = 1000
"""Bootstrap resamples behind the 95% half-width of mu* (as SALib)."""


def morris_indices(x: np.ndarray, y: np.ndarray, *, seed: int) -> dict[str, np.ndarray]:
    """Morris indices from trajectories whose parameters are scaled to [0, 1].

    Parameters
    ----------
    x : ndarray, shape (trajectories * (d + 1), d)
        The design in SALib's order, each parameter as a share of its range (a level as its
        index over the last index). Consecutive rows of a trajectory differ in at most one
        parameter; a step that moves none (two values mapped to one level) carries no effect.
    y : ndarray, shape (trajectories * (d + 1),)
        The output at each row.
    seed : int
        Seeds the bootstrap of mu*'s half-width.

    Returns
    -------
    dict
        ``mu``, ``mu_star``, ``sigma`` (sample standard deviation) and ``mu_star_conf``
        (95% bootstrap half-width), one value per parameter, in the output's units per full
        range; NaN for a parameter no step moved (``sigma`` also for one moved once).
    """
    rows, d = x.shape
    if rows % (d + 1):
        raise ValueError(f"expected whole trajectories of {d + 1} rows, got {rows} rows")
    dx = np.diff(x.reshape(-1, d + 1, d), axis=1).reshape(-1, d)
    dy = np.diff(y.reshape(-1, d + 1), axis=1).reshape(-1)
    moved = dx != 0
    if (moved.sum(axis=1) > 1).any():
        raise ValueError("a step of a Morris trajectory moves more than one parameter")
    rng = np.random.default_rng(seed)
    out = {name: np.full(d, np.nan) for name in ("mu", "mu_star", "sigma", "mu_star_conf")}
    for i in range(d):
        effects = dy[moved[:, i]] / dx[moved[:, i], i]
        if not len(effects):
            continue
        out["mu"][i] = effects.mean()
        out["mu_star"][i] = np.abs(effects).mean()
        if len(effects) > 1:
            out["sigma"][i] = effects.std(ddof=1)
        resampled = np.abs(effects)[rng.integers(len(effects), size=(BOOTSTRAP, len(effects)))].mean(axis=1)
        out["mu_star_conf"][i] = stats.norm.ppf(0.975) * resampled.std(ddof=1)
    return out
