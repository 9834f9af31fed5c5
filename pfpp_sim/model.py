"""The model: Mesa departments and councils over vectorised residents, one month a step."""

from __future__ import annotations

import dataclasses

import mesa
import numpy as np

from pfpp_sim import dynamics
from pfpp_sim.agents import Council, Department
from pfpp_sim.agents.council import POOLED_BIT
from pfpp_sim.errors import InvariantError
from pfpp_sim.exogenous import exogenous_paths
from pfpp_sim.funding import Award, Round, to_pence
from pfpp_sim.interventions import HOUSEHOLD_KEYS, PendingEffects, apply_effects
from pfpp_sim.outcomes import FLOWS, OVERHEADS, equity_groups, resident_equity, resident_rates
from pfpp_sim.population import AGE_18, EMPLOYED, NEET, build_population, count_by_place
from pfpp_sim.scenario import DEPARTMENTS, DOMAINS, INTERVENTION_KEYS, Scenario
from pfpp_sim.streams import stream
from pfpp_sim.targeting import KEY_INDEX, WAVES, RecipientRecords, Targeting, select_recipients, target_groups

__all__ = ["PfppModel"]


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
        self.residents_per_place = self._count_residents()
        self.band_cost = np.asarray(scenario.world.households.band_cost.as_list())
        self.young_place = self.population.young.place.astype(np.intp)  # young people keep their place
        self.young_per_place = np.maximum([s.stop - s.start for s in self.population.young.slices], 1)
        places = self.population.places
        # Real young people per real household a simulated young person stands for, in its household.
        self.youth_link = (places.youth_weight / places.household_weight)[self.young_place]
        trend = self.population.places.income_trend
        self.income_growth = np.exp(trend / 12.0)[self.population.households.place] if trend.any() else None
        self.income_trend_months = self._months_before(scenario.calibration, "fuel_poverty_rate")
        self.neet_trend_months = self._months_before(scenario.calibration, "neet_16_17_rate")
        self.equity_groups = equity_groups(self.population, self._update_fuel_poverty(0))
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
        self._open: list[Award] = []
        self._open_by_place: list[list[Award]] = [[] for _ in range(places.n)]
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

    # ------------------------------------------------------------------ setup
    def _months_before(self, calibration, metric: str) -> int:
        """Months of the run before a series' fitted trends stop (the horizon if they never do)."""
        end = calibration.trend_end(metric) if calibration else None
        if end is None:
            return self.horizon
        return int(np.searchsorted(self.exo.dates, np.datetime64(f"{end}-01")))

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
        awards = self._open if place is None else self._open_by_place[place]
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
        self._open.append(award)
        self._open_by_place[award.place].append(award)
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
        for award in self._open_by_place[council.place]:
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
        self._open.remove(award)
        self._open_by_place[award.place].remove(award)
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
        groups = target_groups(self.population, self.recipients, sorted({INTERVENTION_KEYS[k] for k in keys[live].tolist()}))
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
        h, y = self.population.households, self.population.young
        hw = self.scenario.world.households
        working = y.status == EMPLOYED
        employed = np.bincount(y.household[working], weights=self.youth_link[working], minlength=h.n)
        support = h.means_tested * self.exo.means_tested_gbp[t]
        income = dynamics.household_income(
            h.base_income, h.income_dev, h.income_gain, employed, self.scenario.world.young_people.youth_earnings.value, support
        )
        discount = np.where(h.bill_support_until > t, h.bill_support, 0.0) + self.exo.bill_discount_gbp[t]
        cost = dynamics.fuel_cost(h.band, float(self.exo.price_gbp[t]), self.band_cost, discount)
        h.fuel_poor = dynamics.fuel_poor(h.band, income, cost, hw.poverty_line_share.value * hw.median_income.value)
        return income

    def _step_residents(self, t: int) -> None:
        pop = self.population
        h, y = pop.households, pop.young
        hw, yw = self.scenario.world.households, self.scenario.world.young_people
        apply_effects(self.pending.pop(t), pop, self.effect, self.duration, t, self.rng_interventions)
        h.income_dev = dynamics.income_shock(h.income_dev, hw.income_persistence.value, hw.income_shock_sd.value, self.rng_households)
        if self.income_growth is not None and t < self.income_trend_months:  # fitted income trend, in its data years
            h.base_income *= self.income_growth
        # Fitted 16-17 NEET trend per place, in its data years (then held).
        neet_drift = np.exp(pop.places.neet_trend * min(t + 1, self.neet_trend_months) / 12.0)

        older = (y.age_months >= AGE_18).astype(np.intp)
        exit_h = dynamics.neet_exit_hazard(
            y.months_neet, y.mh_disorder, y.ips_until > t,
            base=yw.neet_exit_hazard.value, scarring=yw.neet_scarring.value,
            mh_multiplier=yw.mh_job_finding_multiplier.value, ips_risk_ratio=self.effect["employment_support"],
        )
        entry_h = dynamics.neet_entry_hazard(
            (self.entry_hazard * np.stack([neet_drift, np.ones_like(neet_drift)], axis=1))[self.young_place, older],
            y.careers_until > t, y.asb_until > t,
            careers_effect=self.effect["careers_guidance"], asb_effect=self.effect["asb_outreach"],
        )
        y.status, y.months_neet = dynamics.youth_transition(
            y.status, y.months_neet, y.age_months, exit_h, entry_h, yw.employed_share_of_eet.value, self.rng_young
        )
        cold = h.fuel_poor[y.household]
        cold_share = count_by_place(cold, y.slices) / self.young_per_place
        prevalence = float(self.exo.mh_prevalence[t])
        recovery = yw.mh_recovery_hazard.value
        base_onset = recovery * prevalence / (1 - prevalence) / (1 + (self.cold_home_odds_ratio - 1) * cold_share)
        y.mh_disorder = dynamics.mental_health_transition(
            y.mh_disorder, cold, np.clip(base_onset, 0, 0.5)[self.young_place], recovery, self.cold_home_odds_ratio, self.rng_young
        )
        y.age_months, y.status, y.months_neet, replaced = dynamics.age_and_replace(
            y.age_months, y.status, y.months_neet, np.minimum(pop.places.target_neet_16_17 * neet_drift, 1.0)[self.young_place],
            self.rng_young
        )
        if replaced.any():
            y.mh_disorder[replaced] = self.rng_young.random(int(replaced.sum())) < prevalence
            for arr in (y.careers_until, y.ips_until, y.asb_until):
                arr[replaced] = 0
            for key in INTERVENTION_KEYS:
                if key not in HOUSEHOLD_KEYS:
                    self.recipients.received[key][replaced] = False
                    self.recipients.served_by[key][replaced] = 0
        self._update_fuel_poverty(t)
        h.months_cold += h.fuel_poor

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
        self._step_residents(t)
        self.rates = resident_rates(self.population)
        self.flows["overhead_gbp"] = sum(self.flows[k] for k in OVERHEADS)
        held = np.zeros(self.population.places.n)
        for award in self._open:
            held[award.place] += award.held_total_p / 100
        self.records.append({**self.rates, **{k: v.copy() for k, v in self.flows.items()}, "held_gbp": held})
        self.equity_records.append(resident_equity(self.population, self.equity_groups))
        self.check_invariants()
        self.month += 1

    def _count_residents(self) -> tuple[np.ndarray, np.ndarray]:
        """Households and young people in each place."""
        n = self.population.places.n
        return np.bincount(self.population.households.place, minlength=n), np.bincount(self.population.young.place, minlength=n)

    def _check_residents(self, t: int) -> None:
        """Residents are conserved: every column holds every resident, each place keeps its count, each young person has a status."""
        pop = self.population
        codes = pop.places.codes
        for label, group, start in zip(("households", "young people"), (pop.households, pop.young), self.residents_per_place):
            for column in dataclasses.fields(group):
                values = getattr(group, column.name)
                if isinstance(values, np.ndarray) and values.shape != group.place.shape:
                    raise InvariantError(
                        f"residents not conserved: {label} column {column.name} holds {values.shape[0]} of {group.n}, month {t}, place all"
                    )
            moved = np.flatnonzero(np.bincount(group.place, minlength=start.size) != start)
            if moved.size:
                raise InvariantError(f"residents not conserved: {label} count changed, month {t}, place {codes[moved[0]]}")
        lost = np.flatnonzero(pop.young.status > NEET)
        if lost.size:
            raise InvariantError(f"residents not conserved: a young person has no status, month {t}, place {codes[pop.young.place[lost[0]]]}")

    def check_invariants(self) -> None:
        """Cheap run-time checks; raise :class:`InvariantError` naming invariant, month and place.

        Checked every month: each open award's ledger (balance to the penny, no negative
        balance, no spend after its deadline), residents conserved, and every rate in [0, 1].
        """
        t = self.month
        for award in self._open:
            award.check(t)
        self._check_residents(t)
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
