"""A replicate's starting residents, kept for the process's next runs.

Common random numbers make a replicate's starting residents the same for every scenario
with the same run settings, world and calibration on the same seed and replicate: the
levers, mechanisms, interventions and programmes do not enter them. So a sweep's worker
builds them once for all its design points, and each run steps its own copy.
Populations of more than :data:`~pfpp_sim.speed.KEEP_HOUSEHOLDS` households are built
for each run.
"""

from __future__ import annotations

import copy
from functools import lru_cache

from pfpp_sim import data
from pfpp_sim.exogenous import Exogenous
from pfpp_sim.population import Population, build_population, place_sizes
from pfpp_sim.scenario import Scenario
from pfpp_sim.speed import KEEP_HOUSEHOLDS
from pfpp_sim.streams import stream

__all__ = ["starting_population"]

KEPT_REPLICATES = 4
"""Most replicates' starting residents kept at once (the least recently used goes first)."""


class _Start:
    """What builds a replicate's residents, equal to another when they build the same residents.

    That is the scenario's run settings, world and calibration, the seed and replicate,
    and the start month's price, prevalence, payments and income index.
    """

    def __init__(self, scenario: Scenario, seed: int, replicate: int, first_month: dict[str, float]) -> None:
        self.scenario, self.seed, self.replicate, self.first_month = scenario, seed, replicate, first_month
        world = scenario.model_dump_json(include={"run", "world", "calibration"})
        self.key = (world, seed, replicate, tuple(first_month.items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Start) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


def _build(start: _Start) -> Population:
    return build_population(start.scenario, stream(start.seed, start.replicate, "population"), **start.first_month)


_kept = lru_cache(maxsize=KEPT_REPLICATES)(_build)


def starting_population(scenario: Scenario, exo: Exogenous, *, seed: int, replicate: int) -> Population:
    """The starting residents of one replicate of a scenario, the caller's own to step.

    Parameters
    ----------
    scenario : Scenario
    exo : Exogenous
        The scenario's exogenous paths (:func:`~pfpp_sim.exogenous.exogenous_paths`): the
        residents are built at the start month's price, prevalence, payments and income index.
    seed : int
        Root seed (0 is valid).
    replicate : int
        Replicate number; the residents are drawn from its ``population`` stream.

    Returns
    -------
    Population
        As :func:`~pfpp_sim.population.build_population` builds it: a copy of the one
        kept in this process when it has at most :data:`~pfpp_sim.speed.KEEP_HOUSEHOLDS`
        households.
    """
    first_month = {
        "fuel_price_gbp": float(exo.price_gbp[0]),
        "mh_prevalence": float(exo.mh_prevalence[0]),
        "bill_discount_gbp": float(exo.bill_discount_gbp[0]),
        "means_tested_gbp": float(exo.means_tested_gbp[0]),
        "income_index": float(exo.income_index[0]),
    }
    start = _Start(scenario, seed, replicate, first_month)
    if int(place_sizes(scenario.run, data.places(scenario.run.places))[0].sum()) > KEEP_HOUSEHOLDS:
        return _build(start)
    return copy.deepcopy(_kept(start))
