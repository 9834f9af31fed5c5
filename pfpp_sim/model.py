"""The model: Mesa departments and councils over vectorised residents, one month a step."""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import mesa
import numpy as np

from pfpp_sim import dynamics
from pfpp_sim.agents import Council, Department
from pfpp_sim.agents.council import POOLED_BIT
from pfpp_sim.errors import InvariantError
from pfpp_sim.exogenous import exogenous_paths
from pfpp_sim.funding import Award, Round, to_pence
from pfpp_sim.interventions import HOUSEHOLD_KEYS, PendingEffects, apply_effects
from pfpp_sim.outcomes import (
    FLOWS,
    OVERHEADS,
    count_outcomes,
    equity_from_counts,
    equity_groups,
    rates_from_counts,
    resident_rates,
)
from pfpp_sim.population import AGE_18, AGE_25, EMPLOYED, NEET, Block, build_population, count_by_place, place_blocks
from pfpp_sim.scenario import DEPARTMENTS, DOMAINS, INTERVENTION_KEYS, Scenario
from pfpp_sim.streams import DrawingAhead, DrawnAhead, YoungDraws, draw_shocks, draw_young, stream
from pfpp_sim.targeting import KEY_INDEX, WAVES, RecipientRecords, Targeting, select_recipients, target_groups

__all__ = ["BLOCK_HOUSEHOLDS", "DRAW_AHEAD_HOUSEHOLDS", "PfppModel"]

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


def _batches(orders: np.ndarray, places: np.ndarray, keys: np.ndarray, pooled: np.ndarray) -> list[np.ndarray]:
    """Split orders (in the order placed) into batches with one order per place and intervention.

    The k-th order of a place for an intervention goes into round k; within a round,
    pooled teams' orders go in the :data:`~pfpp_sim.targeting.WAVES` of their
    intervention (only pooled teams serve complement recipients first).
    """
    pair = places * len(INTERVENTION_KEYS) + keys
    by_pair = np.argsort(pair, kind="stable")
    first = np.flatnonzero(np.r_[True, pair[by_pair][1:] != pair[by_pair][:-1]])
    rank = np.empty(orders.size, dtype=np.int64)
    rank[by_pair] = np.arange(orders.size) - np.repeat(first, np.diff(np.r_[first, orders.size]))
    batch = rank * (max(WAVES) + 1) + np.where(pooled, np.asarray(WAVES)[keys], 0)
    in_batches = np.argsort(batch, kind="stable")
    return np.split(orders[in_batches], np.flatnonzero(np.diff(batch[in_batches])) + 1)


def _keep_freed_memory() -> None:
    """Ask glibc's malloc to keep freed memory for reuse instead of returning it to the system.

    Every month allocates and frees block-sized temporaries many times; by default glibc
    hands memory above a moving threshold back to the system and takes it back page by
    page (six times the page faults of a default run, and in threads the faults
    serialise). This keeps up to 256 MB of freed memory per arena and serves
    allocations below 32 MB from the arenas, for the rest of the process. Linux with
    glibc only; a no-op elsewhere. It changes no result.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3  # glibc's mallopt parameters
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


class PfppModel(mesa.Model):
    """Departments, councils and residents of the places in one scenario.

    Parameters
    ----------
    scenario : Scenario
    seed : int, default=0
        Root seed; 0 is valid.
    replicate : int, default=0
        Replicate number; each replicate has its own random streams.
    """

    def __init__(self, scenario: Scenario, *, seed: int = 0, replicate: int = 0) -> None:
        super().__init__(seed=int(stream(seed, replicate, "mesa").integers(2**31)))
        self.scenario = scenario
        self.seed = seed
        self.replicate = replicate
        self.horizon = scenario.run.horizon_months
        self.month = 0
        self.rng_households = stream(seed, replicate, "households")
        self.rng_young = stream(seed, replicate, "young_people")
        self._monthly_streams(0)
        self._draw_parameters(stream(seed, replicate, "parameters"))
        self.exo = exogenous_paths(scenario)
        self.population = build_population(
            scenario,
            stream(seed, replicate, "population"),
            fuel_price_gbp=float(self.exo.price_gbp[0]),
            mh_prevalence=float(self.exo.mh_prevalence[0]),
            bill_discount_gbp=float(self.exo.bill_discount_gbp[0]),
            means_tested_gbp=float(self.exo.means_tested_gbp[0]),
        )
        self.band_cost = np.asarray(scenario.world.households.band_cost.as_list())
        self.blocks = place_blocks(self.population, BLOCK_HOUSEHOLDS)
        self.young_per_place = np.maximum([s.stop - s.start for s in self.population.young.slices], 1)
        places = self.population.places
        # Real young people per real household a simulated young person stands for, in its household.
        self.youth_link = places.youth_weight / places.household_weight
        trend = self.population.places.income_trend
        # Monthly growth factor of base incomes by place (fitted trend); None without trends.
        self.income_growth = np.exp(trend / 12.0) if trend.any() else None
        self.equity_groups = equity_groups(self.population, self._update_fuel_poverty(0))
        # Whether each young person's home is fuel poor, as of the last fuel-poverty update.
        self.cold_home = np.take(self.population.households.fuel_poor, self.population.young.household)
        self._block_counts: list[dict[str, np.ndarray]] = [{} for _ in self.blocks]
        self.initial_rates = resident_rates(self.population)
        self.rates = self.initial_rates
        self._set_hazards()
        n_h, n_y = self.population.households.n, self.population.young.n
        self.recipients = RecipientRecords(n_h, n_y)
        self.pending = PendingEffects()
        places = self.population.places
        # Real residents per simulated recipient, and unit cost in pence, by intervention and place.
        self.recipient_weight = np.array(
            [
                places.household_weight if scenario.interventions.get(k).target == "households" else places.youth_weight
                for k in INTERVENTION_KEYS
            ]
        )
        self.unit_cost_p = np.array([self.unit_cost[k] * 100.0 for k in INTERVENTION_KEYS])[:, None] * self.recipient_weight
        self.awards: list[Award] = []
        # Open awards by id, oldest first (dicts: closing one is O(1), order is kept).
        self._open: dict[int, Award] = {}
        self._open_by_place: list[dict[int, Award]] = [{} for _ in range(places.n)]
        self._orders: list[tuple] = []  # (award, key, wanted, key index, place, known bits, stream bit, held)
        self.events: list[tuple[int, str]] = []
        self.records: list[dict[str, np.ndarray]] = []
        self.equity_records: list[dict[str, np.ndarray]] = []
        self.flows = {name: np.zeros(self.population.places.n) for name in FLOWS}

        programmes = scenario.programmes
        self.stream_bits = {key: 1 << i for i, key in enumerate(programmes)}
        self.first_fy_start = self.next_fy_start(0)
        for name in DEPARTMENTS:
            owned = {k: p for k, p in programmes.items() if p.department == name}
            if owned:
                Department(self, name, owned, self.stream_bits)
        self.councils = [Council(self, p) for p in range(self.population.places.n)]
        self._draw_ahead = self.population.households.n >= DRAW_AHEAD_HOUSEHOLDS
        _keep_freed_memory()
        # Numbers being drawn ahead in helper threads: the young people's for the next month
        # they step, the households' income shocks likewise.
        self._drawing_young: DrawingAhead[YoungDraws] | None = None
        self._drawing_shocks: DrawingAhead[np.ndarray] | None = None
        if self._draw_ahead:
            self._drawing_young = DrawingAhead(draw_young, self.rng_young, **self._young_sizes())
            self._drawing_shocks = DrawingAhead(draw_shocks, self.rng_households, **self._shock_sizes())

    # ------------------------------------------------------------------ setup
    def _monthly_streams(self, month: int) -> None:
        """Fresh streams for the processes whose number of draws depends on the state."""
        self.rng_councils = stream(self.seed, self.replicate, "councils", month)
        self.rng_departments = stream(self.seed, self.replicate, "departments", month)
        self.rng_interventions = stream(self.seed, self.replicate, "interventions", month)

    def _draw_parameters(self, rng: np.random.Generator) -> None:
        """Draw uncertain parameters once per replicate (point values where no range)."""
        sc = self.scenario
        self.mech = {name: getattr(sc.mechanisms, name).draw(rng) for name in type(sc.mechanisms).model_fields}
        self.unit_cost, self.effect, self.months_to_effect, self.mobilisation, self.duration = {}, {}, {}, {}, {}
        for key in INTERVENTION_KEYS:
            item = sc.interventions.get(key)
            self.unit_cost[key] = item.unit_cost.draw(rng)
            self.effect[key] = item.effect.draw(rng)
            self.months_to_effect[key] = int(round(item.months_to_effect.draw(rng)))
            self.mobilisation[key] = int(round(item.mobilisation_months.draw(rng)))
            self.duration[key] = int(round(item.duration_months.draw(rng))) if item.duration_months else 0
        self.cold_home_odds_ratio = sc.world.young_people.cold_home_odds_ratio.draw(rng)
        self.keys_by_domain = {d: [k for k in INTERVENTION_KEYS if sc.interventions.get(k).domain == d] for d in DOMAINS}

    def _set_hazards(self) -> None:
        """Per-place NEET entry hazards that keep each place's starting NEET shares steady."""
        yw = self.scenario.world.young_people
        y = self.population.young
        n = self.population.places.n
        exit_h = dynamics.neet_exit_hazard(
            y.months_neet, y.mh_disorder, np.zeros(y.n, dtype=bool),
            base=yw.neet_exit_hazard.value, scarring=yw.neet_scarring.value,
            mh_multiplier=yw.mh_job_finding_multiplier.value, ips_risk_ratio=1.0,
        )
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

    # --------------------------------------------------------------- calendar
    def is_fy_start(self, month: int) -> bool:
        """True when ``month`` is an April (start of a financial year)."""
        return (self.scenario.run.start_month - 1 + month) % 12 == 3

    def next_fy_start(self, month: int) -> int:
        """First April at or after ``month``."""
        offset = (4 - (self.scenario.run.start_month + month - 1) % 12 - 1) % 12
        return month + offset

    # ------------------------------------------------------------ bookkeeping
    def add_flow(self, name: str, place: int, amount: float) -> None:
        """Add to this month's flow ``name`` for a place (real scale)."""
        self.flows[name][place] += amount

    def log_event(self, month: int, text: str) -> None:
        """Record a notable event for the 'what is happening' narrative."""
        self.events.append((month, text))

    def open_awards(self, *, department: str | None = None, place: int | None = None) -> list[Award]:
        """Awards not yet closed (oldest first), optionally for one department or place."""
        awards = (self._open if place is None else self._open_by_place[place]).values()
        return [a for a in awards if department is None or a.department == department]

    def fund(self, award: Award, amount_p: int, shares: dict[str, float], overhead_p: int) -> None:
        """Add money to an award and record the flows."""
        before_alloc, before_over = award.allocated_p, award.overhead_p
        award.add_funds(amount_p, shares, overhead_p, self.month)
        self.add_flow("allocated_gbp", award.place, (award.allocated_p - before_alloc) / 100)
        self.add_flow("grant_overhead_gbp", award.place, (award.overhead_p - before_over) / 100)

    def _new_award(self, **fields) -> Award:
        award = Award(award_id=len(self.awards), allocated_p=0, place_code=self.population.places.codes[fields['place']], **fields)
        self.awards.append(award)
        self._open[award.award_id] = award
        self._open_by_place[award.place][award.award_id] = award
        return award

    def open_award(self, stream_state, rnd: Round, council: Council, amount_p: int, *, competitive: bool) -> Award:
        """Create and fund a siloed award, and mobilise the council's teams for it."""
        programme = stream_state.programme
        award = self._new_award(
            programme=stream_state.key, department=programme.department, place=council.place,
            round=stream_state.round_no, pooled=False, competitive=competitive, award_month=self.month,
            period_start=rnd.period_start, deadline=rnd.deadline, known_bits=stream_state.bit,
        )
        years = (rnd.deadline - rnd.period_start) / 12.0
        overhead = self.mech["reporting_cost"] * programme.reporting_burden * years
        self.fund(award, amount_p, programme.interventions, to_pence(overhead))
        council.mobilise(award)
        return award

    def pooled_award(self, council: Council, rnd: Round) -> Award:
        """The council's pooled award for this month and deadline (created on first use)."""
        for award in self._open_by_place[council.place].values():
            if award.pooled and award.award_month == self.month and award.deadline == rnd.deadline:
                return award
        return self._new_award(
            programme="pooled", department="pooled", place=council.place, round=0, pooled=True,
            competitive=False, award_month=self.month, period_start=rnd.period_start, deadline=rnd.deadline,
        )

    def close_award(self, award: Award) -> None:
        """Deadline reached: extend once under carry-over, else claw back what is held."""
        levers = self.scenario.levers
        returned = award.close(self.month, carry_over=levers.carry_over, carry_over_months=int(round(self.mech["carry_over_months"])))
        if award.extended and not award.closed:
            self.councils[award.place].keep_teams(award)
            return
        del self._open[award.award_id]
        del self._open_by_place[award.place][award.award_id]
        if returned:
            self.add_flow("returned_gbp", award.place, returned / 100)
            self.log_event(
                self.month,
                f"{award.department} clawed back GBP {returned / 100:,.0f} unspent on {award.programme} "
                f"from {self.councils[award.place].label}",
            )

    def need_shares(self, place: int) -> dict[str, float]:
        """Local need as intervention shares: each domain by its rate relative to the run's mean (M2)."""
        rates = self.rates
        key_rate = {"fuel_poverty": "fuel_poverty_rate", "neet": "neet_16_24_rate", "mental_health": "youth_mh_rate"}
        relative = {}
        for domain in DOMAINS:
            values = rates[key_rate[domain]]
            mean = float(values.mean())
            relative[domain] = float(values[place] / mean) if mean > 0 else 1.0
        total = sum(relative.values())
        return {k: relative[d] / total / len(keys) for d, keys in self.keys_by_domain.items() for k in keys}

    # ---------------------------------------------------------------- delivery
    def order_delivery(self, award: Award, key: str, wanted: float) -> None:
        """Queue this month's delivery of ``wanted`` recipients (expected) of ``key`` from an award."""
        bit = POOLED_BIT if award.pooled else self.stream_bits[award.programme]
        self._orders.append((award, key, wanted, KEY_INDEX[key], award.place, award.known_bits, bit, award.held_p[key]))

    def deliver_orders(self) -> None:
        """Fulfil the month's delivery orders of all councils, then clear them.

        Each order's number of recipients is its expected number rounded stochastically.
        A council's orders for one intervention are fulfilled in the order it placed
        them: the k-th orders of every place are chosen together, pooled teams' in waves
        so that an intervention comes after its complement
        (:data:`~pfpp_sim.targeting.WAVES`, :func:`~pfpp_sim.targeting.select_recipients`). Each award then spends the
        unit cost of every resident served, duplicates included.
        """
        orders, self._orders = self._orders, []
        if not orders:
            return
        t = self.month
        _, _, wanted, keys, places, known_bits, bits, held = (np.array(column) for column in zip(*orders))
        whole = np.floor(wanted)
        n = (whole + (self.rng_councils.random(wanted.size) < wanted - whole)).astype(np.int64)
        live = np.flatnonzero(n > 0)
        if not live.size:
            return
        # Resident state does not change while delivering: one set of groups for the month.
        with self._thread_pool() as pool:
            groups = target_groups(
                self.population, self.recipients, sorted({INTERVENTION_KEYS[k] for k in keys[live].tolist()}),
                cold=self.cold_home, executor=pool,
            )
        levers, mech = self.scenario.levers, self.mech
        precision = mech["outreach_hit_rate"] + (1 - mech["outreach_hit_rate"]) * levers.data_sharing
        served, duplicated, intended = (np.zeros(len(orders), dtype=np.int64) for _ in range(3))
        fresh, fresh_keys = [], []
        for chosen in _batches(live, places[live], keys[live], bits[live] == POOLED_BIT):
            pooled = bits[chosen] == POOLED_BIT
            targeting = Targeting(
                precision=np.where(pooled, precision * mech["pooled_targeting_penalty"], precision),
                sees_others=levers.data_sharing,
                bundle_first=pooled,
                known_bits=known_bits[chosen],
                stream_bit=bits[chosen],
            )
            delivery = select_recipients(
                keys[chosen], places[chosen], n[chosen], groups, self.recipients, targeting, self.rng_councils
            )
            served[chosen], duplicated[chosen], intended[chosen] = delivery.served, delivery.duplicated, delivery.intended
            fresh.append(delivery.recipients)
            fresh_keys.append(keys[chosen][delivery.request])
        fresh, fresh_keys = np.concatenate(fresh), np.concatenate(fresh_keys)
        for k in np.unique(fresh_keys).tolist():
            key = INTERVENTION_KEYS[k]
            self.pending.add(t + self.months_to_effect[key], key, fresh[fresh_keys == k])
        cost_p = self.unit_cost_p[keys, places]
        spend_p = np.minimum(held, np.rint(served * cost_p).astype(np.int64))
        duplicated_p = np.minimum(spend_p, np.rint(duplicated * cost_p).astype(np.int64))
        for i in np.flatnonzero(served).tolist():
            orders[i][0].spend(orders[i][1], int(spend_p[i]), int(duplicated_p[i]), t)
        weight = self.recipient_weight[keys, places]
        n_places = self.population.places.n
        self.flows["deliveries"] += np.bincount(places, weights=served * weight, minlength=n_places)
        self.flows["delivered_gbp"] += np.bincount(places, weights=spend_p / 100, minlength=n_places)
        self.flows["duplicated_gbp"] += np.bincount(places, weights=duplicated_p / 100, minlength=n_places)
        retrofit = keys == KEY_INDEX["retrofit"]
        self.flows["retrofits"] += np.bincount(places[retrofit], weights=(served * weight)[retrofit], minlength=n_places)
        self.flows["retrofits_to_fuel_poor"] += np.bincount(
            places[retrofit], weights=(intended * weight)[retrofit], minlength=n_places
        )

    # --------------------------------------------------------------- residents
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
        hw = self.scenario.world.households
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
        income = dynamics.household_income(
            h.base_income[hs], h.income_dev[hs], h.income_gain[hs], employed,
            self.scenario.world.young_people.youth_earnings.value, support,
        )
        until = h.bill_support_until[hs]
        if until.size and until.max() > t:
            discount = np.where(until > t, h.bill_support[hs], 0.0) + self.exo.bill_discount_gbp[t]
        else:
            discount = 0.0 + self.exo.bill_discount_gbp[t]
        cost = dynamics.fuel_cost(h.band[hs], float(self.exo.price_gbp[t]), self.band_cost, discount)
        h.fuel_poor[hs] = dynamics.fuel_poor(h.band[hs], income, cost, hw.poverty_line_share.value * hw.median_income.value)
        return income

    def _thread_pool(self):
        """A pool of threads for a large run (see :data:`DRAW_AHEAD_HOUSEHOLDS`), else ``None`` as a context."""
        threads = min(BLOCK_THREADS, os.cpu_count() or 1) if self._draw_ahead and len(self.blocks) > 1 else 1
        return ThreadPoolExecutor(threads) if threads > 1 else nullcontext()

    def _young_sizes(self) -> dict[str, int]:
        y = self.population.young
        return {"n_young": y.n, "n_newcomers": int(np.count_nonzero(y.age_months >= AGE_25 - 1))}

    def _shock_sizes(self) -> dict:
        h = self.population.households
        return {"n_households": h.n, "dtype": h.income_dev.dtype}

    def step_residents(self, t: int) -> None:
        """Apply due effects, then step young people and households block by block.

        The model's :meth:`step` calls this after the month's deliveries; on its own it
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
        apply_effects(self.pending.pop(t), pop, self.effect, self.duration, t, self.rng_interventions)
        neet_drift = np.exp(pop.places.neet_trend * (t + 1) / 12.0)  # fitted 16-17 NEET trend, per place
        entry_base = self.entry_hazard * np.stack([neet_drift, np.ones_like(neet_drift)], axis=1)
        neet_at_16 = np.minimum(pop.places.target_neet_16_17 * neet_drift, 1.0)
        prevalence = float(self.exo.mh_prevalence[t])
        recovery = yw.mh_recovery_hazard.value
        if self._drawing_young is not None:
            draws, self._drawing_young = self._drawing_young.result(), None
        else:
            draws = draw_young(self.rng_young, **self._young_sizes())
        turning = [int(np.count_nonzero(y.age_months[b.young] >= AGE_25 - 1)) for b in self.blocks]
        with self._thread_pool() as pool:
            young = [
                lambda block=block, k0=k0, k=k, d=draws: self._step_young(
                    t, block, DrawnAhead(d.move[block.young], d.work[block.young]), DrawnAhead(d.mind[block.young]),
                    DrawnAhead(d.start[k0 : k0 + k]), d.newcomer_mind[k0 : k0 + k],
                    entry_base=entry_base, neet_at_16=neet_at_16, prevalence=prevalence, recovery=recovery,
                )
                for block, k0, k in zip(self.blocks, np.cumsum([0, *turning]).tolist(), turning)
            ]
            _run_all(young, pool)
            del draws, young
            if self._drawing_shocks is not None:
                shocks, self._drawing_shocks = self._drawing_shocks.result(), None
            else:
                shocks = draw_shocks(self.rng_households, **self._shock_sizes())
            if self._draw_ahead and t + 1 < self.horizon:
                # Next month's numbers, drawn while this month's households step and the model
                # records, decides and delivers (ages are final: next month's newcomers are known).
                self._drawing_young = DrawingAhead(draw_young, self.rng_young, **self._young_sizes())
                self._drawing_shocks = DrawingAhead(draw_shocks, self.rng_households, **self._shock_sizes())
            _run_all([lambda i=i: self._step_households(t, i, shocks) for i in range(len(self.blocks))], pool)

    def _step_households(self, t: int, i: int, shocks: np.ndarray) -> None:
        """Step block ``i``'s households (income shock and trend, fuel poverty, months in a cold
        home), then count the block's outcomes for the month (:attr:`outcome_counts`)."""
        h = self.population.households
        hw = self.scenario.world.households
        block = self.blocks[i]
        hs = block.households
        h.income_dev[hs] = dynamics.income_shock(
            h.income_dev[hs], hw.income_persistence.value, hw.income_shock_sd.value, DrawnAhead(shocks[hs])
        )
        growth = self.income_growth
        if growth is not None:  # fitted income trend relative to the poverty line; 1.0 elsewhere
            for p in range(block.places.start, block.places.stop):
                if growth[p] != 1.0:
                    h.base_income[h.slices[p]] *= growth[p]
        self._block_fuel_poverty(t, block)
        h.months_cold[hs] += h.fuel_poor[hs]
        self.cold_home[block.young] = np.take(h.fuel_poor, self.population.young.household[block.young])
        self._block_counts[i] = count_outcomes(self.population, self.equity_groups, block)

    def _step_young(self, t: int, block: Block, transition, mind, start, mh_draw, *, entry_base, neet_at_16, prevalence, recovery):
        """Step one block's young people: NEET moves, mental health, ageing and replacement."""
        y = self.population.young
        yw = self.scenario.world.young_people
        ys, places, sizes = block.young, block.places, block.young_sizes
        exit_h = dynamics.neet_exit_hazard(
            y.months_neet[ys], y.mh_disorder[ys], y.ips_until[ys] > t,
            base=yw.neet_exit_hazard.value, scarring=yw.neet_scarring.value,
            mh_multiplier=yw.mh_job_finding_multiplier.value, ips_risk_ratio=self.effect["employment_support"],
        )
        older = y.age_months[ys] >= AGE_18
        entry_h = dynamics.neet_entry_hazard(
            np.where(older, np.repeat(entry_base[places, 1], sizes), np.repeat(entry_base[places, 0], sizes)),
            y.careers_until[ys] > t, y.asb_until[ys] > t,
            careers_effect=self.effect["careers_guidance"], asb_effect=self.effect["asb_outreach"],
        )
        y.status[ys], y.months_neet[ys] = dynamics.youth_transition(
            y.status[ys], y.months_neet[ys], y.age_months[ys], exit_h, entry_h, yw.employed_share_of_eet.value, transition
        )
        cold = self.cold_home[ys]
        cold_share = count_by_place(cold, block.young_slices) / self.young_per_place[places]
        base_onset = recovery * prevalence / (1 - prevalence) / (1 + (self.cold_home_odds_ratio - 1) * cold_share)
        y.mh_disorder[ys] = dynamics.mental_health_transition(
            y.mh_disorder[ys], cold, np.repeat(np.clip(base_onset, 0, 0.5), sizes), recovery, self.cold_home_odds_ratio, mind
        )
        y.age_months[ys], y.status[ys], y.months_neet[ys], replaced = dynamics.age_and_replace(
            y.age_months[ys], y.status[ys], y.months_neet[ys], np.repeat(neet_at_16[places], sizes), start
        )
        if replaced.any():
            new = np.flatnonzero(replaced) + ys.start
            y.mh_disorder[new] = mh_draw < prevalence
            for arr in (y.careers_until, y.ips_until, y.asb_until):
                arr[new] = 0
            for key in INTERVENTION_KEYS:
                if key not in HOUSEHOLD_KEYS:
                    self.recipients.received[key][new] = False
                    self.recipients.served_by[key][new] = 0

    # -------------------------------------------------------------------- step
    def step(self) -> None:
        """Advance one month: departments, councils (who order deliveries), deliveries, residents; record and check."""
        t = self.month
        if t:
            self._monthly_streams(t)
        for values in self.flows.values():
            values[:] = 0.0
        self.agents_by_type[Department].do("step")
        self.agents_by_type[Council].shuffle_do("step")
        self.deliver_orders()
        self.step_residents(t)
        counts = self.outcome_counts()
        self.rates = rates_from_counts(counts)
        self.flows["overhead_gbp"] = sum(self.flows[k] for k in OVERHEADS)
        held = np.zeros(self.population.places.n)
        for award in self._open.values():
            held[award.place] += award.held_total_p / 100
        self.records.append({**self.rates, **{k: v.copy() for k, v in self.flows.items()}, "held_gbp": held})
        self.equity_records.append(equity_from_counts(counts))
        self.check_invariants()
        self.month += 1

    def outcome_counts(self) -> dict[str, np.ndarray]:
        """The month's outcome counts of every place (:func:`~pfpp_sim.outcomes.count_outcomes`),
        joined from the counts each block made at the end of its households' step."""
        return {k: np.concatenate([c[k] for c in self._block_counts]) for k in self._block_counts[0]}

    def check_invariants(self) -> None:
        """Cheap run-time checks; raise :class:`InvariantError` naming invariant, month and place."""
        t = self.month
        for award in self._open.values():
            award.check(t)
        for name, values in self.rates.items():
            bad = np.flatnonzero((values < 0) | (values > 1) | ~np.isfinite(values))
            if bad.size:
                raise InvariantError(f"rate out of [0, 1]: {name} = {values[bad[0]]}, month {t}, place {self.population.places.codes[bad[0]]}")

    def run(self) -> PfppModel:
        """Run to the horizon and return self."""
        while self.month < self.horizon:
            self.step()
        for award in self.awards:
            award.check(self.month)
        return self
