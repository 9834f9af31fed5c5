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
from pfpp_sim.exogenous import Exogenous, exogenous_paths, month_dates
from pfpp_sim.population import Population, build_population, fuel_poverty_target_year, place_sizes
from pfpp_sim.scenario import Scenario
from pfpp_sim.speed import KEEP_HOUSEHOLDS
from pfpp_sim.streams import stream

__all__ = ["StartKey", "keeps", "solved_at", "starting_population"]

KEPT_REPLICATES = 4
"""Most replicates' starting residents, and most set-ups of a model (:meth:`~pfpp_sim.model.PfppModel.at_start`),
kept at once (the least recently used goes first)."""


_SOLVED_AT = {
    "fuel_price_gbp": "price_gbp",
    "bill_discount_gbp": "bill_discount_gbp",
    "means_tested_gbp": "means_tested_gbp",
    "income_index": "income_index",
}
"""Arguments of :func:`~pfpp_sim.population.build_population` -> the exogenous path each is read from."""


class StartKey:
    """A scenario, seed and replicate, equal to another when they start the same.

    That is the scenario's settings named in ``read`` (the parts of it that what is kept is
    built from), the seed and replicate, and ``terms`` (for the residents: the prices,
    prevalence, payments and income index they are solved at).
    """

    def __init__(self, scenario: Scenario, seed: int, replicate: int, *, read: set[str], terms: dict[str, float] | None = None) -> None:
        self.scenario, self.seed, self.replicate, self.terms = scenario, seed, replicate, terms or {}
        self.key = (scenario.model_dump_json(include=read), seed, replicate, tuple(self.terms.items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StartKey) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


def solved_at(scenario: Scenario, exo: Exogenous) -> dict[str, float]:
    """The prices, payments and income index the starting residents are solved at.

    A published LILEE rate stands for its whole data year's bills, so a run that starts
    in or before the data year it reproduces (:func:`~pfpp_sim.population.fuel_poverty_target_year`)
    is solved at that calendar year's mean price paid, bill support, payments and income
    index, the months the annual figure averages (:data:`~pfpp_sim.outcomes.ANNUAL_BASIS`).
    A run that starts after it starts from the latest rate carried to its first month,
    so it is solved at its first month's. Prevalence is always the first month's.

    Parameters
    ----------
    scenario : Scenario
    exo : Exogenous
        The scenario's exogenous paths (:func:`~pfpp_sim.exogenous.exogenous_paths`).

    Returns
    -------
    dict of str to float
        Keyword arguments of :func:`~pfpp_sim.population.build_population`.
    """
    data_year = fuel_poverty_target_year(scenario.run.start_year)
    if scenario.run.start_year > data_year:
        terms = {arg: float(getattr(exo, path)[0]) for arg, path in _SOLVED_AT.items()}
    else:
        year = exogenous_paths(scenario, month_dates(f"{data_year}-01", 12))
        terms = {arg: float(getattr(year, path).mean()) for arg, path in _SOLVED_AT.items()}
    return {**terms, "mh_prevalence": float(exo.mh_prevalence[0])}


def _build(start: StartKey) -> Population:
    return build_population(start.scenario, stream(start.seed, start.replicate, "population"), **start.terms)


_kept = lru_cache(maxsize=KEPT_REPLICATES)(_build)


def starting_population(scenario: Scenario, exo: Exogenous, *, seed: int, replicate: int) -> Population:
    """The starting residents of one replicate of a scenario, the caller's own to step.

    Parameters
    ----------
    scenario : Scenario
    exo : Exogenous
        The scenario's exogenous paths (:func:`~pfpp_sim.exogenous.exogenous_paths`): the
        residents are solved at the prices, payments and income index :func:`solved_at` gives.
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
    start = StartKey(scenario, seed, replicate, read={"run", "world", "calibration"}, terms=solved_at(scenario, exo))
    if not keeps(scenario):
        return _build(start)
    return copy.deepcopy(_kept(start))


def keeps(scenario: Scenario) -> bool:
    """Whether a process keeps what a scenario's runs start from: its places have at most :data:`~pfpp_sim.speed.KEEP_HOUSEHOLDS` simulated households."""
    return int(place_sizes(scenario.run, data.places(scenario.run.places))[0].sum()) <= KEEP_HOUSEHOLDS
