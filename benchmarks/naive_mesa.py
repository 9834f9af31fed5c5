"""The household fuel-poverty rule twice: one Mesa agent per household, and vectorised.

Both advance the same households month by month with the model's rule: log income
follows an AR(1) (``pfpp_sim.dynamics.income_shock``), income is the base income times
``exp`` of it, the required fuel cost is the price times the band's cost ratio, and a
household is fuel poor under LILEE when its band is D-G and income less fuel cost is
below the poverty line (``pfpp_sim.dynamics.fuel_poor``). Parameters come from the
``siloed_baseline`` preset. The naive version exists only as a reference for the
benchmarks; the model never uses it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import mesa
import numpy as np

from pfpp_sim import dynamics
from pfpp_sim.exogenous import exogenous_paths
from pfpp_sim.population import BAND_D
from pfpp_sim.scenario import load_scenario

__all__ = [
    "Households",
    "NaiveFuelPovertyModel",
    "NaiveHousehold",
    "RuleParameters",
    "RuleRun",
    "rule_parameters",
    "run_naive",
    "run_vectorised",
    "sample_households",
]


@dataclass(frozen=True)
class RuleParameters:
    """Parameters of the household fuel-poverty rule (units as in the scenario)."""

    persistence: float  # AR(1) coefficient of log income per month
    shock_sd: float  # standard deviation of the monthly log-income shock
    price_gbp: float  # typical (band D) fuel price paid, GBP/year
    band_cost: tuple[float, ...]  # cost of each FPEER band relative to band D
    poverty_line_gbp: float  # GBP/year
    median_income_gbp: float  # GBP/year
    income_spread: float  # standard deviation of log income


@dataclass(frozen=True)
class Households:
    """Starting state of the benchmark households, each column shape (n,)."""

    base_income: np.ndarray  # float64, GBP/year
    income_dev: np.ndarray  # float32, log deviation
    band: np.ndarray  # uint8, 0 = A ... 6 = G

    @property
    def n(self) -> int:
        return self.band.size


def rule_parameters(preset: str = "siloed_baseline") -> RuleParameters:
    """The rule's parameters from a preset, at its start month."""
    scenario = load_scenario(preset)
    hw = scenario.world.households
    return RuleParameters(
        persistence=hw.income_persistence.value,
        shock_sd=hw.income_shock_sd.value,
        price_gbp=float(exogenous_paths(scenario).price_gbp[0]),
        band_cost=tuple(hw.band_cost.as_list()),
        poverty_line_gbp=hw.poverty_line_share.value * hw.median_income.value,
        median_income_gbp=hw.median_income.value,
        income_spread=hw.income_spread.value,
    )


def sample_households(n: int, params: RuleParameters, seed: int) -> Households:
    """Draw ``n`` households: log-normal incomes, stationary deviations, English-like bands."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
    band_shares = np.array([0.02, 0.05, 0.38, 0.37, 0.13, 0.04, 0.01])  # A..G, an England-like mix
    stationary_sd = params.shock_sd / math.sqrt(max(1.0 - params.persistence**2, 1e-9))
    return Households(
        base_income=params.median_income_gbp * np.exp(params.income_spread * rng.standard_normal(n)),
        income_dev=(stationary_sd * rng.standard_normal(n)).astype(np.float32),
        band=rng.choice(7, size=n, p=band_shares).astype(np.uint8),
    )


class NaiveHousehold(mesa.Agent):
    """One household as a Mesa agent, with its own scalar state and update."""

    def __init__(self, model: NaiveFuelPovertyModel, base_income: float, income_dev: float, band: int) -> None:
        super().__init__(model)
        self.base_income = base_income
        self.income_dev = income_dev
        self.band = band
        self.fuel_poor = False

    def step(self) -> None:
        p = self.model.params
        self.income_dev = p.persistence * self.income_dev + p.shock_sd * self.model.rng.standard_normal()
        income = self.base_income * math.exp(self.income_dev)
        cost = max(p.price_gbp * p.band_cost[self.band], 0.0)
        self.fuel_poor = self.band >= BAND_D and income - cost < p.poverty_line_gbp


class NaiveFuelPovertyModel(mesa.Model):
    """Every household an agent; each month every agent steps.

    Parameters
    ----------
    households : Households
    params : RuleParameters
    seed : int
    """

    def __init__(self, households: Households, params: RuleParameters, *, seed: int) -> None:
        super().__init__(rng=np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,))))
        self.params = params
        for base, dev, band in zip(households.base_income.tolist(), households.income_dev.tolist(), households.band.tolist()):
            NaiveHousehold(self, base, dev, band)

    def step(self) -> None:
        self.agents.do("step")

    def fuel_poverty_rate(self) -> float:
        """Share of households fuel poor after the last step."""
        return sum(agent.fuel_poor for agent in self.agents) / len(self.agents)


@dataclass(frozen=True)
class RuleRun:
    """Fuel-poverty rate after each month and the seconds spent."""

    rates: np.ndarray  # float64, shape (months,)
    build_seconds: float  # creating the agents or arrays
    step_seconds: float  # advancing every household ``months`` times (rates not included)


def run_vectorised(households: Households, params: RuleParameters, months: int, seed: int) -> RuleRun:
    """Advance the households with the vectorised rule (``pfpp_sim.dynamics``)."""
    started = time.perf_counter()
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2,)))
    band_cost = np.asarray(params.band_cost)
    no_support = np.zeros(households.n)
    dev = households.income_dev.copy()
    built = time.perf_counter()
    rates = np.empty(months)
    stepping = 0.0
    for month in range(months):
        begin = time.perf_counter()
        dev = dynamics.income_shock(dev, params.persistence, params.shock_sd, rng)
        income = households.base_income * np.exp(dev)
        cost = dynamics.fuel_cost(households.band, params.price_gbp, band_cost, no_support)
        fuel_poor = dynamics.fuel_poor(households.band, income, cost, params.poverty_line_gbp)
        stepping += time.perf_counter() - begin
        rates[month] = fuel_poor.mean()
    return RuleRun(rates, built - started, stepping)


def run_naive(households: Households, params: RuleParameters, months: int, seed: int) -> RuleRun:
    """Advance the households as one Mesa agent each."""
    started = time.perf_counter()
    model = NaiveFuelPovertyModel(households, params, seed=seed)
    built = time.perf_counter()
    rates = np.empty(months)
    stepping = 0.0
    for month in range(months):
        begin = time.perf_counter()
        model.step()
        stepping += time.perf_counter() - begin
        rates[month] = model.fuel_poverty_rate()
    return RuleRun(rates, built - started, stepping)
