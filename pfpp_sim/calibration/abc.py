"""ABC-SMC posteriors of one place's trends (pyabc; the optional ``abc`` extra).

Where :func:`~pfpp_sim.calibration.fit.calibrate` gives point estimates with approximate
standard errors, approximate Bayesian computation gives a posterior: particles are drawn
from uniform priors, simulated on fresh random numbers each (no common random numbers
here: the spread of the simulator is part of the likelihood) and kept while their
standardised distance to the data falls over the generations.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pfpp_sim.calibration.fit import PLACE_BOUNDS, Settings, _Problem
from pfpp_sim.calibration.targets import observed_targets
from pfpp_sim.errors import PfppError
from pfpp_sim.scenario import Scenario

__all__ = ["Posterior", "abc_posterior"]

PARAMETERS = ("income_trend", "neet_trend")


@dataclass
class Posterior:
    """Weighted posterior particles of a place's trends from the last ABC-SMC generation."""

    place_code: str
    particles: pd.DataFrame  # income_trend, neet_trend, weight
    epsilons: list[float]  # acceptance threshold of each generation
    simulations: int
    seconds: float

    def summary(self) -> pd.DataFrame:
        """Weighted mean, standard deviation and 5-95% interval of each parameter."""
        w = self.particles["weight"].to_numpy()
        rows = []
        for name in PARAMETERS:
            x = self.particles[name].to_numpy()
            order = np.argsort(x)
            cdf = np.cumsum(w[order]) / w.sum()
            mean = float(np.average(x, weights=w))
            sd = float(np.sqrt(np.average((x - mean) ** 2, weights=w)))
            low, high = (float(x[order][np.searchsorted(cdf, q)]) for q in (0.05, 0.95))
            rows.append((name, mean, sd, low, high))
        return pd.DataFrame(rows, columns=["parameter", "mean", "sd", "q05", "q95"])


def abc_posterior(
    base: Scenario,
    code: str,
    *,
    database: str | Path,
    settings: Settings | None = None,
    population_size: int = 40,
    generations: int = 4,
    seed: int = 1,
) -> Posterior:
    """Run ABC-SMC for the income and NEET trends of one place.

    Parameters
    ----------
    base : Scenario
        The baseline replayed (global parameters are taken from it, not fitted).
    code : str
        ONS code of the place.
    database : str or Path
        SQLite file where pyabc keeps its history (overwritten).
    settings : Settings, optional
        Simulation settings; ``seed`` and ``replicates`` are ignored (each particle runs
        one replicate with its own stream).
    population_size, generations : int
        Particles per generation and number of generations.
    seed : int
        Seeds numpy's global generator, which pyabc samples from, for this run only (its
        state before is restored after), so a run is repeatable.

    Returns
    -------
    Posterior

    Raises
    ------
    PfppError
        If pyabc is not installed.
    """
    settings = settings or Settings(replicates=1, fit_globals=())
    try:
        import pyabc
    except ImportError as err:
        raise PfppError("ABC-SMC needs the 'abc' extra: pip install -e '.[abc]'") from err
    started = time.perf_counter()
    targets = observed_targets([code])
    problem = _Problem(base, [code], targets, Settings(**{**settings.__dict__, "replicates": 1, "fit_globals": ()}), None, None)
    sd = targets["sd"].to_numpy()
    calls = iter(range(10**9))

    def model(parameters: dict) -> dict:
        x = np.array([parameters[name] for name in PARAMETERS])
        problem.settings = Settings(**{**problem.settings.__dict__, "seed": seed + next(calls)})
        return {"z": problem.simulate(x, targets) / sd}

    # Uniform priors over the middle half of each trend's fitting bounds.
    prior = pyabc.Distribution(
        **{name: pyabc.RV("uniform", PLACE_BOUNDS[name][0] / 2, (PLACE_BOUNDS[name][1] - PLACE_BOUNDS[name][0]) / 2)
           for name in PARAMETERS}
    )
    logging.getLogger("ABC").setLevel(logging.WARNING)  # pyabc reports every generation at INFO
    outside = np.random.get_state()  # pyabc draws from numpy's global generator: seed it for this run only
    np.random.seed(seed)
    try:
        history = _run_abc(pyabc, model, prior, population_size, database, targets["observed"].to_numpy() / sd, generations)
    finally:
        np.random.set_state(outside)
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    populations = history.get_all_populations()
    particles = frame.reset_index(drop=True)[list(PARAMETERS)].assign(weight=np.asarray(weights))
    return Posterior(
        place_code=code,
        particles=particles,
        epsilons=[float(e) for e in populations.loc[populations.t >= 0, "epsilon"]],
        simulations=int(history.total_nr_simulations),
        seconds=time.perf_counter() - started,
    )


def _run_abc(pyabc, model, prior, population_size: int, database: str | Path, observed: np.ndarray, generations: int):
    """Run pyabc's ABC-SMC on one core, its history in a fresh SQLite file."""
    abc = pyabc.ABCSMC(model, prior, pyabc.PNormDistance(p=2), population_size=population_size, sampler=pyabc.sampler.SingleCoreSampler())
    path = Path(database).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    abc.new(f"sqlite:///{path}", {"z": observed})
    return abc.run(max_nr_populations=generations)
