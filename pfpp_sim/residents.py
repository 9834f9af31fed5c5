"""The residents' engine: households and young people stepped block by block.

:class:`ResidentEngine` owns the residents' monthly state (blocks of places, NEET
hazards, mental-health onset, job seeking, cold homes, each block's counts, numbers
drawn ahead). :class:`~pfpp_sim.model.PfppModel` builds one and steps it each month
with what the month's deliveries changed; it returns the month's outcome counts. It
reads nothing of the model and writes nothing to it: its inputs are in its signature.

Residents are stepped in blocks of whole places
(:func:`~pfpp_sim.population.place_blocks`), with each month's random numbers drawn for
everyone first in the rules' order, so results do not depend on the blocks, on the
threads that step them or on drawing ahead (:mod:`pfpp_sim.speed`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, partial
from itertools import accumulate

import numpy as np

from pfpp_sim import compiled, dynamics, labour_market
from pfpp_sim.exogenous import Exogenous
from pfpp_sim.hazards import baseline_onset, reference_cold_share, steady_neet_entry
from pfpp_sim.interventions import HOUSEHOLD_KEYS, apply_effects, support_until
from pfpp_sim.outcomes import counts_from_cells, equity_groups, household_tally, resident_rates, young_tally
from pfpp_sim.population import (
    AGE_25,
    BAND_D,
    RANK_LEVELS,
    Block,
    Population,
    leaving_education_hazard,
    place_blocks,
    since_september,
    solve_income_level,
)
from pfpp_sim.scenario import INTERVENTION_KEYS, Scenario
from pfpp_sim.speed import (
    BLOCK_HOUSEHOLDS,
    BLOCK_THREADS,
    DRAW_AHEAD_HOUSEHOLDS,
    KEEP_NUMBERS_BYTES,
    run_all,
    submit,
    thread_pool,
)
from pfpp_sim.streams import DrawingAhead, KeptNumbers, MonthNumbers, YoungDraws, draw_shocks, draw_young, stream
from pfpp_sim.targeting import RecipientRecords
from pfpp_sim.trends import years_beyond_data

__all__ = ["ResidentEngine", "ResidentParameters"]

@dataclass(frozen=True)
class ResidentParameters:
    """A replicate's drawn parameters that the residents' rules use.

    Attributes
    ----------
    effect : mapping of str to float
        Effect size of each intervention (units as in the scenario).
    effect_without_disorder : mapping of str to float
        Effect for recipients outside the population the main effect's evidence covers.
    duration : mapping of str to int
        Months each time-limited intervention's support lasts.
    cold_home_odds_ratio : float
        Odds ratio of mental-health onset in a cold home.
    """

    effect: Mapping[str, float]
    effect_without_disorder: Mapping[str, float]
    duration: Mapping[str, int]
    cold_home_odds_ratio: float


def _months_before(scenario: Scenario, exo: Exogenous, metric: str) -> int:
    """Months of the run before a series' fitted trends stop (the horizon if they never do)."""
    end = scenario.calibration.trend_end(metric) if scenario.calibration else None
    if end is None:
        return scenario.run.horizon_months
    return int(np.searchsorted(exo.dates, np.datetime64(f"{end}-01")))


def _years_beyond(scenario: Scenario, metric: str) -> np.ndarray:
    """Years a series' fitted trends act beyond their data end, from the start to each month 0 ... horizon.

    Damped by ``world.trend_damping`` (:func:`~pfpp_sim.trends.years_beyond_data`); all
    zero when the trends are held (the default) or never end.
    """
    end = scenario.calibration.trend_end(metric) if scenario.calibration else None
    return years_beyond_data(scenario.run.start, end, scenario.run.horizon_months, scenario.world.trend_damping_per_year)


class ResidentEngine:
    """The residents of a run's places, stepped a month at a time by their rules.

    Building it flags the starting fuel-poor households and sets each young person's
    ILO status (in ``population``), and works out the starting rates and (with ``onset``)
    the equity groups, the NEET exit hazards (:func:`~pfpp_sim.dynamics.neet_exit_tables`),
    the NEET entry hazards that keep each place's NEET shares steady, the baseline
    mental-health onset and each month's NEET hazards (:meth:`neet_hazards`).
    It starts no thread: drawing ahead and block threads start with the first :meth:`step`.

    Parameters
    ----------
    population : Population
        The residents; stepped in place.
    scenario : Scenario
        Its world (the residents' rates and prices), run settings and fitted trends.
    exo : Exogenous
        The run's exogenous paths (:func:`~pfpp_sim.exogenous.exogenous_paths`).
    parameters : ResidentParameters
        The replicate's drawn effects, durations and cold-home odds ratio.
    seed : int
        Root seed (0 is valid).
    replicate : int
        Replicate number; the engine draws from this replicate's ``households``,
        ``young_people`` and ``job_search`` streams.
    block_households : int, default=:data:`~pfpp_sim.speed.BLOCK_HOUSEHOLDS`
        Households at which a block of places closes (at least 1).
    threads : int, optional
        Threads stepping blocks (1: one after another). Default: up to
        :data:`~pfpp_sim.speed.BLOCK_THREADS`, no more than the CPUs, when drawing ahead
        with several blocks; else 1.
    draw_ahead : bool, optional
        Whether next month's numbers are drawn in helper threads while the rest of the
        month runs. Default: from :data:`~pfpp_sim.speed.DRAW_AHEAD_HOUSEHOLDS` households.
    onset : bool, default=True
        Whether to solve the baseline onset of mental disorder (``base_onset``,
        :func:`~pfpp_sim.hazards.baseline_onset`) and the NEET exit and entry hazards from
        these residents, and to make the equity groups and each month's NEET hazards. An
        engine that only serves before the run starts (the run-in and
        :meth:`income_scale`) is built without them and cannot :meth:`step`.

    Raises
    ------
    ValueError
        If ``block_households`` or ``threads`` is below 1.
    """

    def __init__(
        self,
        population: Population,
        scenario: Scenario,
        exo: Exogenous,
        parameters: ResidentParameters,
        *,
        seed: int,
        replicate: int,
        block_households: int = BLOCK_HOUSEHOLDS,
        threads: int | None = None,
        draw_ahead: bool | None = None,
        onset: bool = True,
    ) -> None:
        if block_households < 1 or (threads is not None and threads < 1):
            raise ValueError(f"block_households and threads: expected at least 1, got {block_households} and {threads}")
        self.population, self.exo, self.parameters = population, exo, parameters
        self.world = scenario.world
        self.horizon = scenario.run.horizon_months
        self.effect, self.cold_home_odds_ratio = parameters.effect, parameters.cold_home_odds_ratio
        self.income_trend_months = _months_before(scenario, exo, "fuel_poverty_rate")
        self.neet_trend_months = _months_before(scenario, exo, "neet_16_17_rate")
        self.income_beyond_years = _years_beyond(scenario, "fuel_poverty_rate")
        self.neet_beyond_years = _years_beyond(scenario, "neet_16_17_rate")
        # Months since 1 September on the first day of months 0 ... horizon: the step of month t
        # starts with ages on the first of month t and ends with those of month t + 1.
        self.since_september = since_september((scenario.run.start_month - 1 + np.arange(self.horizon + 1)) % 12 + 1)
        self.rng_households = stream(seed, replicate, "households")
        self.rng_young = stream(seed, replicate, "young_people")
        # Job-search ranks of the 16-year-olds who replace those turning 25, month by month.
        self.rng_job_search = stream(seed, replicate, "job_search")
        self.band_cost = np.asarray(self.world.households.band_cost.as_list())
        # Each band's fuel cost under each month's universal discount (_cost_by_band), worked out once, not every month.
        self.cost_by_band = np.array([self._cost_by_band(t) for t in range(exo.price_gbp.size)])
        self.blocks = place_blocks(population, block_households)
        self.draw_ahead = population.households.n >= DRAW_AHEAD_HOUSEHOLDS if draw_ahead is None else draw_ahead
        if threads is None:
            threads = min(BLOCK_THREADS, os.cpu_count() or 1) if self.draw_ahead and len(self.blocks) > 1 else 1
        self.threads = threads
        places = population.places
        # Real young people per real household a simulated young person stands for, in its household.
        self.youth_link = places.youth_weight / places.household_weight
        # Monthly growth factor of base incomes by place (fitted trend, in its data years); None without trends.
        self.income_growth = np.exp(places.income_trend / 12.0) if places.income_trend.any() else None
        income = self.update_fuel_poverty(0)
        # The groups the run's outcomes are counted by (by starting income): only an engine
        # that steps counts them. Worked out beside the rest of setting up when drawing ahead.
        with thread_pool(2 if onset and self.draw_ahead else 1) as pool:
            grouping = submit(pool, partial(equity_groups, population, income)) if onset else None
            # Whether each young person's home is fuel poor, as of the last fuel-poverty update.
            self.cold_home = np.take(population.households.fuel_poor, population.young.household)
            self._block_counts: list[dict[str, np.ndarray]] = [{} for _ in self.blocks]
            # Each block's young people by cell and state as the month ends, counted as they step.
            self._young_by_state: list[np.ndarray | None] = [None for _ in self.blocks]
            self.job_seeking = labour_market.job_seeking(scenario, places.unemployment_relative, exo.dates)
            for block in self.blocks:
                self._update_ilo_status(0, block)
            self.initial_rates = resident_rates(population, int(self.since_september[0]))
            if onset:
                self._solve_hazards(exo)
            self.equity_groups = grouping.result() if onset else None
        # Numbers being drawn ahead in helper threads: the young people's for the next month
        # they step, the households' income shocks likewise (none until the first step).
        self._drawing_young: DrawingAhead[YoungDraws] | None = None
        self._drawing_shocks: DrawingAhead[np.ndarray] | None = None
        # The month's largest arrays of numbers, filled again each month: the young people's
        # (used up before next month's are drawn) and the shocks (two, as next month's are
        # drawn while this month's households step).
        h, y = population.households, population.young
        self._young_numbers = tuple(np.empty(y.n) for _ in range(2))
        self._shock_numbers = [np.empty(h.n, dtype=h.income_dev.dtype) for _ in range(2 if self.draw_ahead else 1)]
        self.kept_numbers: KeptNumbers | None = None  # see keep_numbers

    def _solve_hazards(self, exo: Exogenous) -> None:
        """Solve what only stepping needs: the NEET exit and steady entry hazards, the baseline onset of mental disorder and each month's NEET hazards."""
        population, places = self.population, self.population.places
        yw, y = self.world.young_people, population.young
        self.leave_education = leaving_education_hazard(yw.employed_share_of_eet.value)
        # The NEET exit hazards of every (months NEET, disorder, support), the same all run.
        self.exit_tables = dynamics.neet_exit_tables(**self._exit_parameters())
        exit_hazard = sum(dynamics.neet_exits_looked_up(
            y.months_neet, y.mh_disorder, y.ips_until > 0, y.age_months, self.exit_tables,
        ))
        # Per-place NEET entry hazards (Years 12-13, past them) that keep each place's starting NEET
        # shares steady, with the support running at the start (what the run-in delivered).
        self.entry_hazard = steady_neet_entry(
            y, places.n, exit_hazard, months_since_september=int(self.since_september[0]),
            floor=yw.neet_entry_hazard_floor.value,
            entry_factor=self._with_prevention(0, slice(0, y.n), np.ones(y.n)),
        )
        cold_share = reference_cold_share(
            population, exo, youth_link=self.youth_link, band_cost=self.band_cost, youth_earnings_gbp=yw.youth_earnings.value,
            income_growth=self.income_growth, income_trend_months=self.income_trend_months,
            income_beyond_years=self.income_beyond_years,
        )
        # Each place's monthly baseline onset of probable mental disorder, shape (horizon, n_places).
        self.base_onset = baseline_onset(exo.mh_prevalence, yw.mh_recovery_hazard.value, self.cold_home_odds_ratio, cold_share)
        # Each month's NEET entry hazards and Year 12 NEET share (neet_hazards), worked out once, not every month.
        self.neet_by_month = tuple(np.array(part) for part in zip(*map(self.neet_hazards, range(self.horizon))))

    def keep_numbers(self) -> bool:
        """Keep each month's numbers, once drawn, for the copies of this engine (:class:`~pfpp_sim.streams.KeptNumbers`).

        For an engine kept as the set-up of later runs. Not when drawing ahead, nor when
        the run's numbers would take more than :data:`~pfpp_sim.speed.KEEP_NUMBERS_BYTES`.

        Returns
        -------
        bool
            Whether the numbers are kept.
        """
        month_bytes = 3 * self._young_numbers[0].nbytes + self._shock_numbers[0].nbytes  # with September's entry numbers
        if self.draw_ahead or month_bytes * self.horizon > KEEP_NUMBERS_BYTES:
            return False
        self.kept_numbers = KeptNumbers()
        return True

    def _numbers_kept(self, t: int) -> MonthNumbers:
        """Month ``t``'s numbers from the kept ones, drawn and kept by the first engine to need them.

        An engine that reads them leaves its streams where drawing them would have, so it
        draws on correctly from the first month not kept.
        """
        streams = (self.rng_young, self.rng_job_search, self.rng_households)
        numbers = self.kept_numbers.get(t)
        if numbers is not None:
            for rng, state in zip(streams, numbers.states):
                rng.bit_generator.state = state
            return numbers
        h, y = self.population.households, self.population.young
        args = self._young_draw_args(t)
        young = draw_young(self.rng_young, **{**args, "out": (np.empty(y.n), np.empty(y.n))})
        ranks = self._newcomer_ranks(args["n_newcomers"])
        shocks = draw_shocks(self.rng_households, out=np.empty(h.n, dtype=h.income_dev.dtype))
        numbers = MonthNumbers(young, ranks, shocks, tuple(rng.bit_generator.state for rng in streams))
        self.kept_numbers.keep(t, numbers)
        return numbers

    def _exit_parameters(self) -> dict[str, float]:
        """Parameters of :func:`~pfpp_sim.dynamics.neet_exit_hazard`: world values and drawn employment-support effects."""
        yw = self.world.young_people
        return {
            "base": yw.neet_exit_hazard.value, "scarring": yw.neet_scarring.value,
            "mh_multiplier": yw.mh_job_finding_multiplier.value, "work_share": yw.employed_share_of_eet.value,
            "ips_risk_ratio_disorder": self.effect["employment_support"],
            "ips_risk_ratio_other": self.parameters.effect_without_disorder["employment_support"],
        }

    def update_fuel_poverty(self, t: int) -> np.ndarray:
        """Flag fuel-poor households in month ``t`` (in the population); return their equivalised incomes.

        Parameters
        ----------
        t : int
            The month (from 0) whose prices, payments and income index apply.

        Returns
        -------
        ndarray of float64, shape (n_households,)
            GBP/year.
        """
        income = np.empty(self.population.households.n)
        for block in self.blocks:
            income[block.households] = self._block_fuel_poverty(t, block)
        return income

    def income_scale(self, fuel_poor: np.ndarray) -> np.ndarray:
        """Factor on each place's base incomes that makes ``fuel_poor[p]`` of its households fuel poor in month 0.

        With the support running in month 0 (income-advice gains, bill support), as the
        month's fuel-poverty update counts it: the factor scales each household's own
        income (base income, its deviation and the income index), not the gains, earnings
        and payments added to it (:func:`~pfpp_sim.population.solve_income_level`).

        Parameters
        ----------
        fuel_poor : ndarray of int, shape (n_places,)
            Fuel-poor households wanted in each place.

        Returns
        -------
        ndarray of float64, shape (n_places,)
        """
        h = self.population.households
        index, line = float(self.exo.income_index[0]), float(self.exo.poverty_line_gbp[0])
        scale = np.ones(self.population.places.n)
        for block in self.blocks:
            hs = block.households
            income = self._block_income(0, block)
            own = h.base_income[hs] * np.exp(h.income_dev[hs])
            own *= index
            room = line + self._block_fuel_cost(0, block) - (income - own)  # fuel poor while the scaled own income is below it
            eligible = h.band[hs] >= BAND_D
            for p, rows in zip(range(block.places.start, block.places.stop), block.household_slices):
                scale[p] = solve_income_level(own[rows], room[rows], eligible[rows], int(fuel_poor[p]))
        return scale

    def _block_fuel_poverty(self, t: int, block: Block) -> np.ndarray:
        """Flag a block's fuel-poor households in month ``t``; return their incomes (GBP/year).

        :func:`~pfpp_sim.dynamics.fuel_poor` of every household with its own fuel cost, less
        the bill support running and the universal discount, as one compiled loop
        (:func:`~pfpp_sim.compiled.flag_fuel_poor`).
        """
        h, hs = self.population.households, block.households
        income = self._block_income(t, block)
        *_, price, discount, line = self._month_gbp(t)
        compiled.flag_fuel_poor(
            h.fuel_poor[hs], h.band[hs], income, self.cost_by_band[t], h.bill_support_until[hs], h.bill_support[hs], t, price,
            self.band_cost, discount, line,
        )
        return income

    def _month_gbp(self, t: int) -> tuple[float, ...]:
        """Month ``t``'s income index, then in GBP/year: the income-advice gain, a working young
        person's equivalised earnings, the means-tested payment, the price a band D household
        pays, the universal discount and the poverty line (``month`` of
        :func:`~pfpp_sim.compiled.step_households`)."""
        exo, index = self.exo, float(self.exo.income_index[t])  # nominal incomes move with the national median (and the line)
        return (
            index, float(self.effect["income_advice"]), self.world.young_people.youth_earnings.value * index, float(exo.means_tested_gbp[t]),
            float(exo.price_gbp[t]), float(exo.bill_discount_gbp[t]), float(exo.poverty_line_gbp[t]),
        )

    def _cost_by_band(self, t: int) -> np.ndarray:
        """Each band's fuel cost in month ``t`` under the universal discount, GBP/year, and minus infinity for bands A-C (never fuel poor)."""
        bands = np.arange(self.band_cost.size)
        price, discount = float(self.exo.price_gbp[t]), float(self.exo.bill_discount_gbp[t])
        return np.where(bands >= BAND_D, dynamics.fuel_cost(bands, price, self.band_cost, 0.0 + discount), -np.inf)

    def _block_fuel_cost(self, t: int, block: Block) -> np.ndarray:
        """Each of a block's households' required fuel cost in month ``t``, less the bill support running then (GBP/year)."""
        h, hs = self.population.households, block.households
        discount = np.where(h.bill_support_until[hs] > t, h.bill_support[hs], 0.0) + self.exo.bill_discount_gbp[t]
        return dynamics.fuel_cost(h.band[hs], float(self.exo.price_gbp[t]), self.band_cost, discount)

    def _block_income(self, t: int, block: Block) -> np.ndarray:
        """Each of a block's households' equivalised income in month ``t`` (GBP/year).

        :func:`~pfpp_sim.dynamics.household_income` with each household's employed young
        people (who live in a household of their own place, so of their own block), the
        income-advice gain while it runs and the means-tested payment, as one compiled
        loop (:func:`~pfpp_sim.compiled.household_incomes`).
        """
        h, y = self.population.households, self.population.young
        hs, ys = block.households, block.young
        index, gain, youth, payment, *_ = self._month_gbp(t)
        return compiled.household_incomes(
            h.base_income[hs], np.exp(h.income_dev[hs]), index, h.income_gain_until[hs], t, gain, youth, y.household[ys], y.status[ys],
            y.place[ys], self.youth_link, hs.start, h.means_tested[hs], payment,
        )

    def _newcomer_ranks(self, n: int) -> np.ndarray:
        """Job-search ranks of a month's ``n`` newcomers (16-year-olds replacing those turning 25), in person order."""
        return self.rng_job_search.integers(0, RANK_LEVELS, size=n, dtype=np.uint16)

    def _young_draw_args(self, t: int) -> dict:
        """Arguments of :func:`~pfpp_sim.streams.draw_young` for month ``t`` (ages as that month starts)."""
        n_newcomers = int(np.count_nonzero(self.population.young.age_months >= AGE_25 - 1))
        return {"out": self._young_numbers, "n_newcomers": n_newcomers, "september": bool(self.since_september[t + 1] == 0)}

    def step(
        self, month: int, due: list[tuple[str, np.ndarray]], *, records: RecipientRecords, rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Apply the effects due, then step young people and households block by block; count the month's outcomes.

        Each block runs the same rules on its residents with the random numbers the
        whole-population rules would give them: the month's numbers are drawn for everyone
        first, in the rules' order (:func:`~pfpp_sim.streams.draw_young`,
        :func:`~pfpp_sim.streams.draw_shocks`, handed out by
        :class:`~pfpp_sim.streams.DrawnAhead`); when drawing ahead, next month's are drawn
        in helper threads while the rest of the month runs, and blocks may be stepped by
        several threads. Young people see last month's cold homes; households see this
        month's jobs.

        Parameters
        ----------
        month : int
            The month (from 0).
        due : list of (str, ndarray of int64)
            Interventions whose effects start this month and their recipients
            (:meth:`PendingEffects.pop <pfpp_sim.interventions.PendingEffects.pop>`).
        records : RecipientRecords
            Who has had each intervention; the ends of support are scheduled and expired
            here, and newcomers (16-year-olds replacing those turning 25) have had nothing.
        rng : numpy.random.Generator
            The month's ``interventions`` stream (for the effects that are chances).

        Returns
        -------
        dict of str to ndarray of float64
            The month's outcome counts of every place (:func:`~pfpp_sim.outcomes.count_outcomes`).
        """
        t, pop = month, self.population
        y, yw = pop.young, self.world.young_people
        apply_effects(due, pop, self.effect, self.parameters.duration, t, rng, records=records)
        entry_base, year_12_neet = (by_month[t] for by_month in self.neet_by_month)
        prevalence = float(self.exo.mh_prevalence[t])
        recovery = yw.mh_recovery_hazard.value
        onset = tuple(by_month[t] for by_month in self.onset_in_homes)
        turning = [int(np.count_nonzero(y.age_months[b.young] >= AGE_25 - 1)) for b in self.blocks]
        if self.kept_numbers is not None:
            kept = self._numbers_kept(t)
            draws, ranks, shocks = kept.young, kept.ranks, kept.shocks
        else:
            if self._drawing_young is not None:
                draws, self._drawing_young = self._drawing_young.result(), None
            else:
                draws = draw_young(self.rng_young, **self._young_draw_args(t))
            ranks = self._newcomer_ranks(sum(turning))
            shocks = None  # drawn once the young people have stepped (when drawing ahead, they may still be being drawn)
        with thread_pool(self.threads) as pool:
            young = [
                lambda i=i, ys=block.young, k0=k0, k=k, d=draws: self._step_young(
                    t, i, d.move[ys], d.mind[ys], d.entry[ys], d.newcomer_mind[k0 : k0 + k], ranks[k0 : k0 + k], records,
                    entry_base=entry_base, year_12_neet=year_12_neet, onset=onset, prevalence=prevalence, recovery=recovery,
                )
                for i, (block, k0, k) in enumerate(zip(self.blocks, accumulate(turning, initial=0), turning))
            ]
            run_all(young, pool)
            del draws, young
            if shocks is None and self._drawing_shocks is not None:
                shocks, self._drawing_shocks = self._drawing_shocks.result(), None
            elif shocks is None:
                shocks = draw_shocks(self.rng_households, out=self._shock_numbers[0])
            if self.draw_ahead and t + 1 < self.horizon:
                # Next month's numbers, drawn while this month's households step and the model
                # records, decides and delivers (ages are final: next month's newcomers are known).
                self._drawing_young = DrawingAhead(draw_young, self.rng_young, **self._young_draw_args(t + 1))
                self._drawing_shocks = DrawingAhead(draw_shocks, self.rng_households, out=self._shock_numbers[(t + 1) % 2])
            run_all([lambda i=i: self._step_households(t, i, shocks) for i in range(len(self.blocks))], pool)
        # Support that ends now may be given again from next month's deliveries on (D9).
        records.expire(t + 1, support_until(pop))
        if len(self.blocks) == 1:  # its counts are every place's, made this month
            return self._block_counts[0]
        return {k: np.concatenate([c[k] for c in self._block_counts]) for k in self._block_counts[0]}

    @cached_property
    def onset_in_homes(self) -> tuple[np.ndarray, np.ndarray]:
        """Each place's monthly onset of mental disorder in a warm home and in a cold one, shape (horizon, n_places) each.

        :func:`~pfpp_sim.dynamics.onset_in_home` of ``base_onset`` for every month at once,
        when the engine first steps: neither changes during a run.
        """
        return tuple(dynamics.onset_in_home(self.base_onset, ratio) for ratio in (1.0, self.cold_home_odds_ratio))

    def neet_hazards(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Each place's NEET entry hazards and Year 12 NEET share in month ``t``, moved by its fitted NEET 16-17 trend.

        The trend acts a month at a time in its data years (to the end of month ``t``),
        then is held or damped beyond them (:func:`~pfpp_sim.trends.years_beyond_data`).
        It moves the entry hazard of Years 12-13 (the DfE NEET 16-17 cohort), not of those
        past them, and the share of a year group starting Year 12 NEET.

        Returns
        -------
        entry : ndarray of float64, shape (n_places, 2)
            Monthly entry hazards of Years 12-13 and of those past them.
        year_12 : ndarray of float64, shape (n_places,)
            Share starting Year 12 NEET, at most 1.
        """
        places = self.population.places
        years = min(t + 1, self.neet_trend_months) / 12.0 + self.neet_beyond_years[t + 1]
        drift = np.exp(places.neet_trend * years)
        entry = self.entry_hazard.copy()
        entry[:, 0] *= drift  # Years 12-13 only
        return entry, np.minimum(places.target_neet_16_17 * drift, 1.0)

    def _step_households(self, t: int, i: int, shocks: np.ndarray) -> None:
        """Step block ``i``'s households (income shock and trend, fuel poverty, months in a cold
        home), then count the block's outcomes for the month.

        The rules of :mod:`~pfpp_sim.dynamics` as compiled loops (:mod:`~pfpp_sim.compiled`):
        the income shocks, then the month's fuel poverty and its counts by cell in one pass
        (:func:`~pfpp_sim.compiled.step_households`).
        """
        h, y = self.population.households, self.population.young
        hw = self.world.households
        block = self.blocks[i]
        hs, ys = block.households, block.young
        as_dev = h.income_dev.dtype.type  # as NumPy turns the parameters in arithmetic with the deviations
        compiled.income_shocks(h.income_dev[hs], as_dev(hw.income_persistence.value), as_dev(hw.income_shock_sd.value), shocks[hs])
        growth = self._income_growth_in(t)
        if growth is not None:
            h.base_income[hs] *= np.repeat(growth[block.places], block.household_sizes)
        tally = household_tally(self.equity_groups, block)
        compiled.step_households(
            tuple(column[hs] for column in (
                h.base_income, h.income_gain_until, h.means_tested, h.band, h.bill_support_until, h.bill_support, h.fuel_poor, h.months_cold,
            )),
            (y.household[ys], y.status[ys], y.place[ys], self.cold_home[ys]), hs.start, t, np.exp(h.income_dev[hs]), self._month_gbp(t),
            (self.youth_link, self.cost_by_band[t], self.band_cost), tally,
        )
        self._block_counts[i] = counts_from_cells(self.population, block, self._young_by_state[i], tally[2])

    def _income_growth_in(self, t: int) -> np.ndarray | None:
        """Growth factor of each place's base incomes in month ``t`` (None: no growth anywhere).

        The fitted income trend a month at a time in its data years; beyond them, the
        month's step of the damped trend (:func:`~pfpp_sim.trends.years_beyond_data`), or
        none when it is held.
        """
        if self.income_growth is None or t < self.income_trend_months:
            return self.income_growth
        step = self.income_beyond_years[t + 1] - self.income_beyond_years[t]
        return np.exp(self.population.places.income_trend * step) if step > 0 else None

    def _update_ilo_status(self, t: int, block: Block) -> None:
        """Set a block's young people's ILO status from their status, job-search rank and month ``t``'s limits in their place."""
        y, js, ys = self.population.young, self.job_seeking, block.young
        y.ilo_status[ys] = dynamics.ilo_status(y.status[ys], y.job_search_rank[ys], js.unemployed_below[t], js.employed_from, y.place[ys])

    def _step_young(
        self, t: int, i: int, transition, mind, entry, mh_draw, new_rank, records: RecipientRecords, *,
        entry_base, year_12_neet, onset, prevalence, recovery,
    ) -> None:
        """Step block ``i``'s young people: NEET moves and leaving education, mental health, ageing and replacement, ILO status.

        One compiled loop (:func:`~pfpp_sim.compiled.young_month`) of the rules of
        :mod:`~pfpp_sim.dynamics`, which also counts them by cell and state for the month's
        outcome counts; newcomers have had no intervention.
        """
        block = self.blocks[i]
        y, ys = self.population.young, block.young
        tally = young_tally(self.equity_groups, block)
        columns = (
            y.status, y.months_neet, y.age_months, y.mh_disorder, y.careers_until, y.ips_until, y.asb_until, y.job_search_rank,
            y.ilo_status, y.place,
        )
        new = compiled.young_month(
            tuple(column[ys] for column in columns), t, (transition, mind, entry), (mh_draw, new_rank), self.cold_home[ys],
            self.exit_tables, (entry_base, year_12_neet, *onset, self.job_seeking.unemployed_below[t], self.job_seeking.employed_from),
            (self.effect["careers_guidance"], self.effect["asb_outreach"], recovery, prevalence, self.leave_education),
            int(self.since_september[t]), bool(self.since_september[t + 1] == 0), tally,
        )
        self._young_by_state[i] = tally[2]
        if new.size != mh_draw.size:  # the numbers were drawn for those turning 25 as the month starts
            raise ValueError(f"{new.size} young people replaced in month {t}, {mh_draw.size} newcomers' numbers drawn")
        if new.size:
            new += ys.start
            for key in INTERVENTION_KEYS:
                if key not in HOUSEHOLD_KEYS:
                    records.received[key][new] = False
                    records.served_by[key][new] = 0

    def _with_prevention(self, t: int, young: slice, hazard: np.ndarray) -> np.ndarray:
        """NEET entry ``hazard`` (float64, one per young person of ``young``) lowered where careers guidance or outreach is active in month ``t``.

        :func:`~pfpp_sim.dynamics.neet_entry_hazard` of those with either active only:
        for anyone else it would multiply the hazard by 1.0, which changes no number.
        """
        y = self.population.young
        careers, asb = y.careers_until[young], y.asb_until[young]
        active = np.flatnonzero((careers > t) | (asb > t))
        if active.size:
            hazard[active] = dynamics.neet_entry_hazard(
                hazard[active], careers[active] > t, asb[active] > t,
                careers_effect=self.effect["careers_guidance"], asb_effect=self.effect["asb_outreach"],
            )
        return hazard
