"""The residents' side of the model: households and young people stepped block by block.

:class:`ResidentSteps` is mixed into :class:`~pfpp_sim.model.PfppModel`; it uses the
model's scenario, population, exogenous paths, drawn parameters and random streams, and
writes the residents' monthly state back. Residents are stepped in blocks of whole places
(:func:`~pfpp_sim.population.place_blocks`), with each month's random numbers drawn for
everyone first in the rules' order, so results do not depend on the blocks or on the
threads that step them.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import numpy as np

from pfpp_sim import dynamics, labour_market
from pfpp_sim.interventions import HOUSEHOLD_KEYS, apply_effects, support_until
from pfpp_sim.outcomes import count_outcomes, equity_groups, resident_rates
from pfpp_sim.population import AGE_18, AGE_25, EMPLOYED, NEET, RANK_LEVELS, Block, leaving_education_hazard, place_blocks
from pfpp_sim.scenario import INTERVENTION_KEYS
from pfpp_sim.streams import DrawingAhead, DrawnAhead, YoungDraws, draw_shocks, draw_young, stream

__all__ = ["BLOCK_HOUSEHOLDS", "BLOCK_THREADS", "DRAW_AHEAD_HOUSEHOLDS", "REFERENCE_SAMPLE", "ResidentSteps"]

BLOCK_HOUSEHOLDS = 1 << 17
"""Households at which a block of places closes: residents are stepped block by block
(:func:`~pfpp_sim.population.place_blocks`), so a month's temporary arrays stay small
and in cache whatever the number of residents. Results do not depend on it."""

DRAW_AHEAD_HOUSEHOLDS = 1 << 18
"""From this many households, next month's resident random numbers are drawn in a helper
thread while the model does the rest of its month (:class:`~pfpp_sim.streams.DrawingAhead`),
and blocks of residents are stepped by up to :data:`BLOCK_THREADS` threads. Blocks write
disjoint rows and use numbers drawn beforehand, so the results are the same either way."""

BLOCK_THREADS = 4
"""Most threads stepping blocks at once (no more than the machine's CPUs)."""

REFERENCE_SAMPLE = 2000
"""Young people per place whose homes make the reference cold-home path of the baseline
mental-health onset (:meth:`ResidentSteps._reference_cold_share`): enough to measure a
share of a few per cent to about a point, and cheap at national scale."""


def _keep_freed_memory() -> None:
    """Ask glibc's malloc to keep freed memory for reuse instead of returning it to the system.

    Every month allocates and frees block-sized temporaries many times; by default glibc
    hands memory above a moving threshold back to the system and takes it back page by
    page (six times the page faults of a default run, and in threads the faults
    serialise). This keeps up to 256 MB of freed memory per arena and serves
    allocations below 32 MB from the arenas, for the rest of the process. It also caps
    the arenas at two: each thread that draws numbers or steps a block would otherwise
    get an arena of its own, each keeping its freed memory (at national scale, 0.3 GB
    more peak memory in one measurement). Linux with glibc only; a no-op elsewhere. It
    changes no result.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_trim_threshold, m_top_pad, m_mmap_threshold, m_arena_max = -1, -2, -3, -8  # glibc's mallopt parameters
    libc.mallopt(m_arena_max, 2)
    libc.mallopt(m_mmap_threshold, 32 << 20)
    libc.mallopt(m_trim_threshold, 256 << 20)
    libc.mallopt(m_top_pad, 64 << 20)


def _run_all(jobs: list[Callable[[], None]], pool: ThreadPoolExecutor | None) -> None:
    """Run independent jobs, in a thread pool if given; re-raise the first failure."""
    if pool is None:
        for job in jobs:
            job()
        return
    for future in [pool.submit(job) for job in jobs]:
        future.result()


class ResidentSteps:
    """Stepping a model's residents: set-up, the monthly rules block by block, outcome counts."""

    def _set_up_residents(self) -> None:
        """Blocks, per-place factors, starting fuel poverty and ILO status, equity groups, rates and NEET hazards."""
        _keep_freed_memory()
        self.band_cost = np.asarray(self.scenario.world.households.band_cost.as_list())
        self.blocks = place_blocks(self.population, BLOCK_HOUSEHOLDS)
        places = self.population.places
        # Real young people per real household a simulated young person stands for, in its household.
        self.youth_link = places.youth_weight / places.household_weight
        trend = self.population.places.income_trend
        # Monthly growth factor of base incomes by place (fitted trend, in its data years); None without trends.
        self.income_growth = np.exp(trend / 12.0) if trend.any() else None
        self.equity_groups = equity_groups(self.population, self._update_fuel_poverty(0))
        # Whether each young person's home is fuel poor, as of the last fuel-poverty update.
        self.cold_home = np.take(self.population.households.fuel_poor, self.population.young.household)
        self._block_counts: list[dict[str, np.ndarray]] = [{} for _ in self.blocks]
        self.leave_education = leaving_education_hazard(self.scenario.world.young_people.employed_share_of_eet.value)
        self.job_seeking = labour_market.job_seeking(self.scenario, places.unemployment_relative, self.exo.dates)
        # Job-search ranks of the 16-year-olds who replace those turning 25, month by month.
        self.rng_job_search = stream(self.seed, self.replicate, "job_search")
        for block in self.blocks:
            self._update_ilo_status(0, block)
        self.initial_rates = resident_rates(self.population)
        self.rates = self.initial_rates
        self._set_hazards()
        self.base_onset = self._baseline_onset()

    def _start_drawing_ahead(self) -> None:
        """For a large run (:data:`DRAW_AHEAD_HOUSEHOLDS`), start drawing the first month's numbers in helper threads."""
        self._draw_ahead = self.population.households.n >= DRAW_AHEAD_HOUSEHOLDS
        # Numbers being drawn ahead in helper threads: the young people's for the next month
        # they step, the households' income shocks likewise.
        self._drawing_young: DrawingAhead[YoungDraws] | None = None
        self._drawing_shocks: DrawingAhead[np.ndarray] | None = None
        # The month's largest arrays of numbers, filled again each month: the young people's
        # (used up before next month's are drawn) and the shocks (two, as next month's are
        # drawn while this month's households step).
        h, y = self.population.households, self.population.young
        self._young_numbers = tuple(np.empty(y.n) for _ in range(2))
        self._shock_numbers = [np.empty(h.n, dtype=h.income_dev.dtype) for _ in range(2 if self._draw_ahead else 1)]
        if self._draw_ahead:
            self._drawing_young = DrawingAhead(draw_young, self.rng_young, **self._young_draw_args())
            self._drawing_shocks = DrawingAhead(draw_shocks, self.rng_households, out=self._shock_numbers[0])

    def _set_hazards(self) -> None:
        """Per-place NEET entry hazards that keep each place's starting NEET shares steady."""
        yw = self.scenario.world.young_people
        y = self.population.young
        n = self.population.places.n
        exit_h = sum(dynamics.neet_exit_hazard(
            y.months_neet, y.mh_disorder, np.zeros(y.n, dtype=bool), y.age_months, **self._exit_parameters(),
        ))
        older = y.age_months >= AGE_18
        neet = y.status == NEET
        self.entry_hazard = np.zeros((n, 2))
        for group, mask in enumerate((~older, older)):
            people = np.bincount(y.place[mask], minlength=n).astype(float)
            in_neet = np.bincount(y.place[mask & neet], minlength=n).astype(float)
            exit_sum = np.bincount(y.place[mask & neet], weights=exit_h[mask & neet], minlength=n)
            mean_exit = np.divide(exit_sum, in_neet, out=np.full(n, yw.neet_exit_hazard.value), where=in_neet > 0)
            share = np.divide(in_neet, people, out=np.zeros(n), where=people > 0)
            hazard = mean_exit * share / np.maximum(1 - share, 1e-9)
            self.entry_hazard[:, group] = np.maximum(hazard, yw.neet_entry_hazard_floor.value)

    def _reference_cold_share(self) -> np.ndarray:
        """Share of each place's young people whose home would be fuel poor each month with no interventions.

        The reference world of :meth:`_baseline_onset`: the starting households (a sample
        of at most :data:`REFERENCE_SAMPLE` young people's homes per place) under the
        exogenous drivers alone: the price paid, universal bill support, means-tested
        payments, the national median income and the fitted income trend (damped beyond
        its data, as households' incomes are: :meth:`_income_growth_in`); starting
        incomes, bands and jobs otherwise. Month ``t`` has the state the young people's
        step of month ``t`` sees (the households' step of month ``t - 1``; month 0, the
        set-up). It depends on the starting residents and the world only, so every
        scenario compared on the same seed has the same reference (common random numbers).

        Returns
        -------
        ndarray of float64, shape (horizon, n_places)
        """
        pop, exo = self.population, self.exo
        h, y = pop.households, pop.young
        n_places = pop.places.n
        sample = np.concatenate([
            np.linspace(s.start, s.stop - 1, min(s.stop - s.start, REFERENCE_SAMPLE)).astype(np.int64) for s in y.slices
        ])
        place = y.place[sample]
        home = y.household[sample]
        link = self.youth_link[y.place]
        employed = np.bincount(y.household, weights=np.where(y.status == EMPLOYED, link, 0.0), minlength=h.n)[home]
        real = h.base_income[home] * np.exp(h.income_dev[home].astype(np.float64))
        band, means = h.band[home], h.means_tested[home]
        earnings = self.scenario.world.young_people.youth_earnings.value
        growth = np.ones(n_places) if self.income_growth is None else self.income_growth
        income_trend = pop.places.income_trend
        counted = np.maximum(np.bincount(place, minlength=n_places), 1)
        share = np.empty((self.horizon, n_places))
        for t in range(self.horizon):
            s = max(t - 1, 0)
            index = exo.income_index[s]
            trend = growth ** min(t, self.income_trend_months) * np.exp(income_trend * self.income_beyond_years[t])
            income = real * trend[place] * index
            income += (earnings * index) * employed + means * exo.means_tested_gbp[s]
            cost = dynamics.fuel_cost(band, float(exo.price_gbp[s]), self.band_cost, float(exo.bill_discount_gbp[s]))
            cold = dynamics.fuel_poor(band, income, cost, float(exo.poverty_line_gbp[s]))
            share[t] = np.bincount(place[cold], minlength=n_places) / counted
        return share

    def _baseline_onset(self) -> np.ndarray:
        """Cold home -> mental health: each place's monthly baseline onset of probable disorder.

        Solved once, at set-up, so that in the reference world (:meth:`_reference_cold_share`)
        prevalence follows the exogenous path: at steady state, onset ``o`` (raised by the
        cold-home odds ratio in cold homes) balances recovery ``r``, so
        ``o * (1 + (OR - 1) * cold_share) = r * P / (1 - P)``. It is not solved again from
        the run's own cold homes: when interventions (or income churn) leave fewer young
        people in cold homes than the reference, fewer fall ill, and prevalence in the
        place falls below the path.

        Returns
        -------
        ndarray of float64, shape (horizon, n_places)
            Probability per month, at most 0.5.
        """
        prevalence = self.exo.mh_prevalence[:, None]
        recovery = self.scenario.world.young_people.mh_recovery_hazard.value
        onset = recovery * prevalence / (1 - prevalence) / (1 + (self.cold_home_odds_ratio - 1) * self._reference_cold_share())
        return np.clip(onset, 0.0, 0.5)

    def _exit_parameters(self) -> dict[str, float]:
        """Parameters of :func:`~pfpp_sim.dynamics.neet_exit_hazard`: world values and drawn employment-support effects."""
        yw = self.scenario.world.young_people
        return {
            "base": yw.neet_exit_hazard.value, "scarring": yw.neet_scarring.value,
            "mh_multiplier": yw.mh_job_finding_multiplier.value, "work_share": yw.employed_share_of_eet.value,
            "ips_risk_ratio_disorder": self.effect["employment_support"],
            "ips_risk_ratio_other": self.effect_without_disorder["employment_support"],
        }

    def _update_fuel_poverty(self, t: int) -> np.ndarray:
        """Flag fuel-poor households in month ``t``; return equivalised incomes (GBP/year)."""
        income = np.empty(self.population.households.n)
        for block in self.blocks:
            income[block.households] = self._block_fuel_poverty(t, block)
        return income

    def _block_fuel_poverty(self, t: int, block: Block) -> np.ndarray:
        """Flag a block's fuel-poor households in month ``t``; return their incomes (GBP/year)."""
        h, y = self.population.households, self.population.young
        hs, ys = block.households, block.young
        # Young people live in a household of their own place, so of their own block. Those not
        # working add 0.0 to their household's sum, which changes no sum.
        link = np.repeat(self.youth_link[block.places], block.young_sizes)
        employed = np.bincount(
            y.household[ys] - hs.start, weights=np.where(y.status[ys] == EMPLOYED, link, 0.0), minlength=hs.stop - hs.start
        )
        # Payments and bill support as one number when every household of the block gets the same
        # (adding 0.0 changes no income, so the flags are the same as with whole columns).
        payment = self.exo.means_tested_gbp[t]
        support = h.means_tested[hs] * payment if payment else 0.0
        index = float(self.exo.income_index[t])  # nominal incomes move with the national median (and the line)
        gain_until = h.income_gain_until[hs]  # one income-advice gain at most, while it lasts
        gain = np.where(gain_until > t, self.effect["income_advice"], 0.0) if gain_until.size and gain_until.max() > t else 0.0
        income = dynamics.household_income(
            h.base_income[hs], h.income_dev[hs], gain, employed,
            self.scenario.world.young_people.youth_earnings.value * index, support, income_index=index,
        )
        until = h.bill_support_until[hs]
        if until.size and until.max() > t:
            discount = np.where(until > t, h.bill_support[hs], 0.0) + self.exo.bill_discount_gbp[t]
        else:
            discount = 0.0 + self.exo.bill_discount_gbp[t]
        cost = dynamics.fuel_cost(h.band[hs], float(self.exo.price_gbp[t]), self.band_cost, discount)
        h.fuel_poor[hs] = dynamics.fuel_poor(h.band[hs], income, cost, float(self.exo.poverty_line_gbp[t]))
        return income

    def _thread_pool(self):
        """A pool of threads for a large run (see :data:`DRAW_AHEAD_HOUSEHOLDS`), else ``None`` as a context."""
        threads = min(BLOCK_THREADS, os.cpu_count() or 1) if self._draw_ahead and len(self.blocks) > 1 else 1
        return ThreadPoolExecutor(threads) if threads > 1 else nullcontext()

    def _young_draw_args(self) -> dict:
        n_newcomers = int(np.count_nonzero(self.population.young.age_months >= AGE_25 - 1))
        return {"out": self._young_numbers, "n_newcomers": n_newcomers}

    def step_residents(self, t: int) -> None:
        """Apply due effects, then step young people and households block by block.

        :meth:`PfppModel.step <pfpp_sim.model.PfppModel.step>` calls this after the month's deliveries; on its own it
        advances the residents by their rules only. Each block runs the same rules on its
        residents with the random numbers the whole-population rules would give them: the
        month's numbers are drawn for everyone first, in the rules' order
        (:func:`~pfpp_sim.streams.draw_young`, :func:`~pfpp_sim.streams.draw_shocks`, handed
        out by :class:`~pfpp_sim.streams.DrawnAhead`); for large runs they are drawn a month
        ahead in helper threads and blocks are stepped by several threads
        (:data:`DRAW_AHEAD_HOUSEHOLDS`). Young people see last month's cold homes;
        households see this month's jobs.

        Parameters
        ----------
        t : int
            The month (from 0).
        """
        pop = self.population
        y, yw = pop.young, self.scenario.world.young_people
        apply_effects(self.pending.pop(t), pop, self.effect, self.duration, t, self.rng_interventions, records=self.recipients)
        # Fitted 16-17 NEET trend per place: in its data years, then held or damped beyond them.
        neet_years = min(t + 1, self.neet_trend_months) / 12.0 + self.neet_beyond_years[t + 1]
        neet_drift = np.exp(pop.places.neet_trend * neet_years)
        entry_base = self.entry_hazard * np.stack([neet_drift, np.ones_like(neet_drift)], axis=1)
        neet_at_16 = np.minimum(pop.places.target_neet_16_17 * neet_drift, 1.0)
        prevalence = float(self.exo.mh_prevalence[t])
        recovery = yw.mh_recovery_hazard.value
        if self._drawing_young is not None:
            draws, self._drawing_young = self._drawing_young.result(), None
        else:
            draws = draw_young(self.rng_young, **self._young_draw_args())
        turning = [int(np.count_nonzero(y.age_months[b.young] >= AGE_25 - 1)) for b in self.blocks]
        ranks = self.rng_job_search.integers(0, RANK_LEVELS, size=sum(turning), dtype=np.uint16)
        with self._thread_pool() as pool:
            young = [
                lambda block=block, k0=k0, k=k, d=draws: self._step_young(
                    t, block, DrawnAhead(d.move[block.young]), DrawnAhead(d.mind[block.young]),
                    DrawnAhead(d.start[k0 : k0 + k]), d.newcomer_mind[k0 : k0 + k], ranks[k0 : k0 + k],
                    entry_base=entry_base, neet_at_16=neet_at_16, prevalence=prevalence, recovery=recovery,
                )
                for block, k0, k in zip(self.blocks, np.cumsum([0, *turning]).tolist(), turning)
            ]
            _run_all(young, pool)
            del draws, young
            if self._drawing_shocks is not None:
                shocks, self._drawing_shocks = self._drawing_shocks.result(), None
            else:
                shocks = draw_shocks(self.rng_households, out=self._shock_numbers[0])
            if self._draw_ahead and t + 1 < self.horizon:
                # Next month's numbers, drawn while this month's households step and the model
                # records, decides and delivers (ages are final: next month's newcomers are known).
                self._drawing_young = DrawingAhead(draw_young, self.rng_young, **self._young_draw_args())
                self._drawing_shocks = DrawingAhead(draw_shocks, self.rng_households, out=self._shock_numbers[(t + 1) % 2])
            _run_all([lambda i=i: self._step_households(t, i, shocks) for i in range(len(self.blocks))], pool)
        # Support that ends now may be given again from next month's deliveries on (D9).
        self.recipients.expire(t + 1, support_until(pop))

    def _step_households(self, t: int, i: int, shocks: np.ndarray) -> None:
        """Step block ``i``'s households (income shock and trend, fuel poverty, months in a cold
        home), then count the block's outcomes for the month (:meth:`outcome_counts`)."""
        h = self.population.households
        hw = self.scenario.world.households
        block = self.blocks[i]
        hs = block.households
        h.income_dev[hs] = dynamics.income_shock(
            h.income_dev[hs], hw.income_persistence.value, hw.income_shock_sd.value, DrawnAhead(shocks[hs])
        )
        growth = self._income_growth_in(t)
        if growth is not None:
            for p in range(block.places.start, block.places.stop):
                if growth[p] != 1.0:
                    h.base_income[h.slices[p]] *= growth[p]
        self._block_fuel_poverty(t, block)
        h.months_cold[hs] += h.fuel_poor[hs]
        self.cold_home[block.young] = np.take(h.fuel_poor, self.population.young.household[block.young])
        self._block_counts[i] = count_outcomes(self.population, self.equity_groups, block)

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
        """Set a block's young people's ILO status from their status, job-search rank and month ``t``'s limits."""
        y, js = self.population.young, self.job_seeking
        limits = js.unemployed_below[t]
        for p, s in zip(range(block.places.start, block.places.stop), y.slices[block.places]):
            y.ilo_status[s] = dynamics.ilo_status(y.status[s], y.job_search_rank[s], limits[p], js.employed_from)

    def _step_young(self, t: int, block: Block, transition, mind, start, mh_draw, new_rank, *, entry_base, neet_at_16, prevalence, recovery):
        """Step one block's young people: NEET moves and leaving education, mental health, ageing and replacement, ILO status."""
        y = self.population.young
        ys, places, sizes = block.young, block.places, block.young_sizes
        to_work, to_education = dynamics.neet_exit_hazard(
            y.months_neet[ys], y.mh_disorder[ys], y.ips_until[ys] > t, y.age_months[ys], **self._exit_parameters(),
        )
        older = y.age_months[ys] >= AGE_18
        entry_h = dynamics.neet_entry_hazard(
            np.where(older, np.repeat(entry_base[places, 1], sizes), np.repeat(entry_base[places, 0], sizes)),
            y.careers_until[ys] > t, y.asb_until[ys] > t,
            careers_effect=self.effect["careers_guidance"], asb_effect=self.effect["asb_outreach"],
        )
        y.status[ys], y.months_neet[ys] = dynamics.youth_transition(
            y.status[ys], y.months_neet[ys], y.age_months[ys], to_work, to_education, entry_h, transition,
            leave_education=self.leave_education,
        )
        y.mh_disorder[ys] = dynamics.mental_health_transition(
            y.mh_disorder[ys], self.cold_home[ys], np.repeat(self.base_onset[t, places], sizes), recovery,
            self.cold_home_odds_ratio, mind,
        )
        y.age_months[ys], y.status[ys], y.months_neet[ys], replaced = dynamics.age_and_replace(
            y.age_months[ys], y.status[ys], y.months_neet[ys], np.repeat(neet_at_16[places], sizes), start
        )
        if replaced.any():
            new = np.flatnonzero(replaced) + ys.start
            y.mh_disorder[new] = mh_draw < prevalence
            y.job_search_rank[new] = new_rank
            for arr in (y.careers_until, y.ips_until, y.asb_until):
                arr[new] = 0
            for key in INTERVENTION_KEYS:
                if key not in HOUSEHOLD_KEYS:
                    self.recipients.received[key][new] = False
                    self.recipients.served_by[key][new] = 0
        self._update_ilo_status(t, block)

    def outcome_counts(self) -> dict[str, np.ndarray]:
        """The month's outcome counts of every place (:func:`~pfpp_sim.outcomes.count_outcomes`),
        joined from the counts each block made at the end of its households' step."""
        return {k: np.concatenate([c[k] for c in self._block_counts]) for k in self._block_counts[0]}
