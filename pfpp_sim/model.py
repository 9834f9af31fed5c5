"""The model: Mesa departments and councils over vectorised residents, one month a step.

The residents' side (stepping households and young people block by block) is a
:class:`~pfpp_sim.residents.ResidentEngine` the model owns: the model hands it each month's
due effects and takes back the month's outcome counts.

A run starts from the institutions, and the support they deliver, as the years before it
left them: departments and councils first step through ``run_in_months`` months before
month 0 under siloed levers (the pre-start world, the same for every scenario on the same
seed), delivering time-limited support to residents who are not yet stepped; each place's
incomes are then scaled to keep its starting fuel-poverty rate with that support running,
and the scenario's levers act from month 0. See :meth:`PfppModel._run_in` and
:meth:`PfppModel._start_with_support`.
"""

from __future__ import annotations

import dataclasses
import io
import math
import pickle
from collections.abc import Sequence
from functools import cache, cached_property, lru_cache

import mesa
import numpy as np

from pfpp_sim import compiled
from pfpp_sim.agents import Council, Department
from pfpp_sim.agents.council import order_lines
from pfpp_sim.delivery import Orders, deliver, delivery_flows
from pfpp_sim.errors import InvariantError
from pfpp_sim.exogenous import exogenous_paths
from pfpp_sim.funding import Award, Round, to_pence
from pfpp_sim.interventions import TIME_LIMITED, PendingEffects, apply_effects, support_until
from pfpp_sim.ledger import Ledger
from pfpp_sim.outcomes import FLOWS, OVERHEADS, equity_from_counts, rates_from_counts
from pfpp_sim.population import NEET, slice_sizes
from pfpp_sim.residents import ResidentEngine, ResidentParameters
from pfpp_sim.scenario import DEPARTMENTS, DOMAINS, INTERVENTION_KEYS, KEY_INDEX, Levers, Scenario
from pfpp_sim.speed import BLOCK_HOUSEHOLDS, thread_pool
from pfpp_sim.starting import KEPT_REPLICATES, StartKey, keeps, starting_population
from pfpp_sim.streams import restart, stream
from pfpp_sim.targeting import ListingBuffer, RecipientRecords, order_precision

__all__ = ["PfppModel"]

CARRIED_LINE = ("held_p", "plan_p", "ready", "steady")
"""What a line of an award open at month 0 carries into the run (:meth:`PfppModel._carry_open_awards`)."""


_SET_UP_READS = {"run", "world", "mechanisms", "interventions", "programmes", "calibration"}
"""The settings a model's set-up before month 0 reads: not the levers, nor the name, description and sources."""


class _KeptSetUp:
    """A model set up until month 0, kept as pickled bytes from which each run takes its own copy.

    Unpickling a copy takes about half the time of a deep copy of the model. The parts no
    run changes are not in the bytes: every copy shares them (the scenario, its world and
    programmes, the exogenous paths and the residents' kept numbers).

    Parameters
    ----------
    model : PfppModel
        Set up, never run.
    """

    def __init__(self, model: PfppModel) -> None:
        self.shared = (model.scenario, model.scenario.world, model.exo, model.residents.kept_numbers, *model.scenario.programmes.values())
        buffer = io.BytesIO()
        _SharingPickler(buffer, {id(part): i for i, part in enumerate(self.shared)}).dump(model)
        self.pickled = buffer.getvalue()

    def copy(self) -> PfppModel:
        """A copy of the model, the caller's own."""
        return _SharingUnpickler(io.BytesIO(self.pickled), self.shared).load()


class _SharingPickler(pickle.Pickler):
    """Pickles the parts numbered in ``shared`` (by ``id``) as their numbers."""

    def __init__(self, file: io.BytesIO, shared: dict[int, int]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.shared = shared

    def persistent_id(self, obj: object) -> int | None:
        return self.shared.get(id(obj))


class _SharingUnpickler(pickle.Unpickler):
    """Unpickles :class:`_SharingPickler`'s numbers as the parts of ``shared`` they stand for."""

    def __init__(self, file: io.BytesIO, shared: tuple) -> None:
        super().__init__(file)
        self.shared = shared

    def persistent_load(self, pid: int) -> object:
        return self.shared[pid]


@lru_cache(maxsize=KEPT_REPLICATES)
def _kept_set_up(set_up: StartKey) -> _KeptSetUp | None:
    """A model set up until month 0 (:meth:`PfppModel.at_start`), kept; never run. None: too large to keep (:func:`keeps`)."""
    if not keeps(set_up.scenario):  # it reads the run settings only, which are part of the key
        return None
    model = PfppModel.__new__(PfppModel)
    model._set_up(
        set_up.scenario, seed=set_up.seed, replicate=set_up.replicate, block_households=BLOCK_HOUSEHOLDS, threads=None, draw_ahead=None,
    )
    model.residents.keep_numbers()
    model.events = []  # the run-in's, which each run drops (_start_run): not copied for every run
    return _KeptSetUp(model)


def _slice_ends(slices: list[slice]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First row, last row and place of each place's non-empty slice of residents."""
    filled = [(s.start, s.stop - 1, p) for p, s in enumerate(slices) if s.stop > s.start]
    return tuple(np.array([row[i] for row in filled], dtype=np.intp) for i in range(3))


@cache
def _fields(group_type: type) -> tuple[str, ...]:
    """Field names of a dataclass of residents (:class:`~pfpp_sim.population.Households` or :class:`~pfpp_sim.population.YoungPeople`)."""
    return tuple(field.name for field in dataclasses.fields(group_type))


class PfppModel(mesa.Model):
    """Departments, councils and residents of the places in one scenario.

    Parameters
    ----------
    scenario : Scenario
    seed : int, default=0
        Root seed; 0 is valid.
    replicate : int, default=0
        Replicate number; each replicate has its own random streams.
    block_households : int, default=:data:`~pfpp_sim.speed.BLOCK_HOUSEHOLDS`
    threads : int, optional
    draw_ahead : bool, optional
        Speed settings of the residents' engine (:class:`~pfpp_sim.residents.ResidentEngine`);
        they change no result. ``threads=1, draw_ahead=False`` is the plain serial path.

    Attributes
    ----------
    residents : ResidentEngine
        The residents' engine, built here and stepped by :meth:`step`.
    initial_rates : dict of str to ndarray of float64, shape (n_places,)
        The residents' rates before the first month.
    rates : dict of str to ndarray of float64, shape (n_places,)
        The rates of the last month recorded (before the first, the starting rates).
    counts : dict of str to ndarray
        The last month's outcome counts (:func:`~pfpp_sim.outcomes.count_outcomes`), once a month is recorded.
    equity_groups : EquityGroups
        Each resident's tenure and starting income quintile.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int = 0,
        replicate: int = 0,
        block_households: int = BLOCK_HOUSEHOLDS,
        threads: int | None = None,
        draw_ahead: bool | None = None,
    ) -> None:
        self._set_up(scenario, seed=seed, replicate=replicate, block_households=block_households, threads=threads, draw_ahead=draw_ahead)
        self._start_run(scenario)

    @classmethod
    def at_start(cls, scenario: Scenario, *, seed: int = 0, replicate: int = 0) -> PfppModel:
        """``PfppModel(scenario, seed=seed, replicate=replicate)``, copied from a set-up kept in this process.

        What a model does before month 0 (drawing the replicate's parameters, building the
        residents, the run-in under siloed levers, starting with the support it left) is
        the same for every scenario that differs from another only in its levers (or its
        name and description). The first run of such scenarios on a seed and replicate
        keeps that set-up; each run steps its own copy, started with its scenario's levers.
        The residents' random numbers, the same in every such run, are kept too: the first
        run to reach a month draws them, the next runs read them
        (:meth:`ResidentEngine.keep_numbers <pfpp_sim.residents.ResidentEngine.keep_numbers>`).
        The model is the one the constructor builds (default speed settings), and its run
        gives the same results.
        A scenario whose places have more than :data:`~pfpp_sim.speed.KEEP_HOUSEHOLDS`
        households (:func:`~pfpp_sim.starting.keeps`) is built afresh.

        Parameters
        ----------
        scenario : Scenario
        seed : int, default=0
            Root seed; 0 is valid.
        replicate : int, default=0
            Replicate number.

        Returns
        -------
        PfppModel
            At month 0, the caller's own to run.
        """
        kept = _kept_set_up(StartKey(scenario, seed, replicate, read=_SET_UP_READS))
        if kept is None:
            return cls(scenario, seed=seed, replicate=replicate)
        model = kept.copy()
        model._start_run(scenario)
        return model

    def _set_up(self, scenario: Scenario, *, seed: int, replicate: int, block_households: int, threads: int | None, draw_ahead: bool | None) -> None:
        """Everything before month 0, under siloed levers: the residents, the agents and the run-in; the levers do not enter it."""
        super().__init__(seed=int(stream(seed, replicate, "mesa").integers(2**31)))
        self.scenario = scenario
        self.seed = seed
        self.replicate = replicate
        self.horizon = scenario.run.horizon_months
        self._monthly_streams(0)
        self._draw_parameters(stream(seed, replicate, "parameters"))
        self.run_in_months = int(round(self.mech["run_in_months"]))
        self.month = -self.run_in_months
        self.exo = exogenous_paths(scenario)
        self.population = starting_population(scenario, self.exo, seed=seed, replicate=replicate)
        self.residents_per_place = self._count_residents()
        self._engine_settings = {
            "seed": seed, "replicate": replicate, "block_households": block_households, "threads": threads, "draw_ahead": draw_ahead,
        }
        self._start_residents(onset=False)  # for the run-in; set up again for the run (_start_with_support)
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
        self.ledger = Ledger()
        self.awards: list[Award] = self.ledger.awards
        # Open awards by row of the ledger, oldest first (dicts: closing one is O(1), order is kept).
        self._open: dict[int, Award] = {}
        self._open_by_place: list[dict[int, Award]] = [{} for _ in range(places.n)]
        self._open_by_department: dict[str, dict[int, Award]] = {}  # a department's, or "pooled"
        self._due_from: dict[str, float] = {}  # by department: no open award of it is due before this month (awards_due)
        self._pooled_by_month: dict[tuple[int, int], list[Award]] = {}  # pooled awards by place and award month, oldest first
        self._listing = ListingBuffer()  # where each month's target groups are listed
        self.events: list[tuple[int, str]] = []
        self.records: list[dict[str, np.ndarray]] = []
        self.equity_records: list[dict[str, np.ndarray]] = []
        self.flows = {name: np.zeros(self.population.places.n) for name in FLOWS}

        programmes = scenario.programmes
        self.stream_bits = {key: 1 << i for i, key in enumerate(programmes)}
        self.first_fy_start = self.next_fy_start(self.month)
        self.scenario = scenario.model_copy(update={"levers": Levers()})  # the pre-start world: siloed levers
        self.departments = [
            Department(self, name, owned, self.stream_bits)
            for name in DEPARTMENTS
            if (owned := {k: p for k, p in programmes.items() if p.department == name})
        ]
        self.councils = [Council(self, p) for p in range(self.population.places.n)]
        # Mesa 3.3 numbers agents with a counter per model kept on the Agent class, which
        # keeps every model alive (about 4 MB a 14-place run, gigabytes over a long sweep).
        # Every agent of this model exists by now, so its counter is dropped.
        mesa.Agent._ids.pop(self, None)
        self._run_in()
        self._start_with_support()
        self._carry_open_awards()

    # ------------------------------------------------------------------ setup
    def _monthly_streams(self, month: int) -> None:
        """Fresh streams for the processes whose number of draws depends on the state.

        Once the model has generators, they are restarted in the month's streams
        (:func:`~pfpp_sim.streams.restart`: the same numbers as new ones, for less).
        """
        seed, replicate = self.seed, self.replicate
        self.rng_councils = restart(getattr(self, "rng_councils", None), seed, replicate, "councils", month)
        self.rng_departments = restart(getattr(self, "rng_departments", None), seed, replicate, "departments", month)
        self.rng_interventions = restart(getattr(self, "rng_interventions", None), seed, replicate, "interventions", month)

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
        # Effects for recipients outside the population the main effect's evidence covers (D10).
        self.effect_without_disorder = {
            key: sc.interventions.get(key).effect_without_disorder.draw(rng) if sc.interventions.get(key).effect_without_disorder
            else self.effect[key] for key in INTERVENTION_KEYS
        }
        self.cold_home_odds_ratio = sc.world.young_people.cold_home_odds_ratio.draw(rng)
        self.months_to_steady = {
            key: max(int(round(item.months_to_steady.draw(rng))), self.mobilisation[key]) if item.months_to_steady else self.mobilisation[key]
            for key, item in ((k, sc.interventions.get(k)) for k in INTERVENTION_KEYS)
        }
        self.award_lags = {}  # programme -> (first round, later rounds), months
        for key, programme in sc.programmes.items():
            first = int(round(programme.award_lag.draw(rng)))
            later = programme.later_award_lag
            self.award_lags[key] = (first, first if later is None else int(round(later.draw(rng))))
        self.keys_by_domain = {d: [k for k in INTERVENTION_KEYS if sc.interventions.get(k).domain == d] for d in DOMAINS}

    def _start_residents(self, *, onset: bool) -> None:
        """Set up the residents' engine on the residents as they are now, and take their starting rates.

        ``onset``: whether the engine solves the baseline onset of mental disorder, which
        only the engine that steps the run needs (:class:`~pfpp_sim.residents.ResidentEngine`).
        """
        self.residents = ResidentEngine(
            self.population, self.scenario, self.exo,
            ResidentParameters(self.effect, self.effect_without_disorder, self.duration, self.cold_home_odds_ratio),
            **self._engine_settings, onset=onset,
        )
        self.initial_rates = self.residents.initial_rates
        self.rates = self.initial_rates
        self.equity_groups = self.residents.equity_groups

    # ----------------------------------------------------------------- run-in
    def _run_in(self) -> None:
        """Step departments and councils from ``-run_in_months`` to month 0 under siloed levers.

        Streams run their rounds, councils find teams, bid, mobilise and spend, trust
        evolves and streams are discontinued, with the run-in's own random streams. The
        residents are not stepped, but time-limited support is delivered to them, so what
        runs at month 0 is what the years before left running (:meth:`_run_in_deliveries`).
        What the run-in leaves at month 0 (contacts, teams, trust, stream timings, money
        held, support running) is the same for every scenario on the same seed, whatever its
        levers; new streams (programmes with ``rounds``) first open in the run.
        """
        departments, councils = self.agents_by_type[Department], self.agents_by_type[Council]
        while self.month < 0:
            self.rng_departments = stream(self.seed, self.replicate, "run_in", -self.month)
            self.rng_councils = stream(self.seed, self.replicate, "run_in_councils", -self.month)
            departments.do("step")
            councils.do("step")
            self._run_in_deliveries(self._place_orders(councils))
            self.month += 1
        for award in self.open_awards():
            if award.deadline <= self.month:  # the last year's clawback belongs to the years before
                self.close_award(award)

    def _run_in_deliveries(self, orders: Orders) -> None:
        """A run-in month's deliveries: time-limited support reaches residents, one-off interventions only spend.

        Time-limited support (:data:`~pfpp_sim.interventions.TIME_LIMITED`) is delivered
        as in the run (:meth:`deliver_orders`) and starts when due, before month 0 or in
        its first months; its end is scheduled in the recipient records. The money of
        one-off interventions (retrofits, the mental-health hub's course) is spent without
        choosing anyone: what they did before the start is in the data the residents are
        built from (homes' energy bands, the prevalence of disorder).
        """
        reach = np.isin(orders.key, [KEY_INDEX[key] for key in TIME_LIMITED])
        spent = orders.take(~reach)
        self.ledger.spend(spent.line, spent.budget_p, np.zeros_like(spent.budget_p), self.month)
        self.deliver_orders(orders.take(reach))
        t = self.month
        apply_effects(self.pending.pop(t), self.population, self.effect, self.duration, t, self.rng_councils, records=self.recipients)
        self.recipients.expire(t + 1, support_until(self.population))

    def _start_with_support(self) -> None:
        """Month 0 with the support the run-in left running: each place keeps its starting fuel-poverty rate.

        The residents were built to reproduce each place's fuel-poverty rate with no support
        running. Income advice and bill support running at month 0 lift some households out
        of fuel poverty, so each place's base incomes are scaled (down) until its fuel-poor
        count is the one it started with (:meth:`ResidentEngine.income_scale
        <pfpp_sim.residents.ResidentEngine.income_scale>`), and the residents' engine is set
        up again on them: the run then starts in the steady state of the support, not from
        none.
        """
        h, places = self.population.households, self.population.places
        fuel_poor = np.array([np.count_nonzero(h.fuel_poor[rows]) for rows in h.slices], dtype=np.int64)
        scale = self.residents.income_scale(fuel_poor)
        del self.residents  # its buffers, and the run-in's lists of target groups, go before the new engine's are made
        self._listing = ListingBuffer()
        for rows, factor in zip(h.slices, scale.tolist()):  # place by place: no copy of every household's factor
            h.base_income[rows] *= factor
        places.income_level = places.income_level * scale
        self._start_residents(onset=True)

    def _carry_open_awards(self) -> None:
        """Month 0: awards still open carry their money into the run, in a ledger of their own.

        The accounts of the run start at month 0: an award made before it enters the
        run as an award of month 0 and round -1 holding what it had left, with its
        teams and plan (its earlier spending, overhead and returns belong to the years
        before and are not counted). The run-in's other awards are dropped.
        """
        carried = list(self._open.values())
        self.ledger = Ledger()
        self.awards, self._open = self.ledger.awards, {}
        self._open_by_place = [{} for _ in self._open_by_place]
        self._open_by_department, self._due_from = {}, {}
        for before in carried:
            award = self._register(
                Award(
                    award_id=len(self.awards), programme=before.programme, department=before.department, place=before.place, round=-1,
                    pooled=before.pooled, competitive=before.competitive, award_month=self.month, period_start=before.period_start,
                    deadline=before.deadline, allocated_p=before.held_total_p, place_code=before.place_code,
                    known_bits=before.known_bits, stream_bit=before.ledger.by_award["stream_bit"][before.row], ledger=self.ledger,
                )
            )
            award.extended = before.extended
            for key, line in before.lines.items():
                award.lines[key] = self.ledger.add_line(award.row, key, **{c: before.ledger.by_line[c][line] for c in CARRIED_LINE})

    def _start_run(self, scenario: Scenario) -> None:
        """Month 0: the scenario's levers take over; the money the carried awards hold is counted as allocated in month 0.

        See :meth:`_carry_open_awards`. Run-in events are dropped.
        """
        self.scenario = scenario
        for department in self.agents_by_type[Department]:
            department.start_run()
        for council in self.councils:
            council.start_run()
        for values in self.flows.values():
            values[:] = 0.0
        for award in self.awards:
            self.add_flow("allocated_gbp", award.place, award.allocated_p / 100)
        self.events = []
        self._monthly_streams(self.month)

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

    def open_awards(self, *, place: int | None = None) -> list[Award]:
        """Awards not yet closed (oldest first), optionally of one place."""
        return list((self._open if place is None else self._open_by_place[place]).values())

    def _open_rows(self) -> np.ndarray:
        """Ledger rows of the awards not yet closed, oldest first."""
        return np.fromiter(self._open, dtype=np.int64, count=len(self._open))

    def awards_due(self, department: str) -> list[Award]:
        """A department's open awards whose deadline has come (oldest first).

        Most months none has: the deadlines are read only from the month the earliest
        could be due (an award's deadline only moves later, when carry-over extends it).
        """
        if self.month < self._due_from.get(department, self.month):
            return []
        rows = np.fromiter(self._open_by_department.get(department, {}), dtype=np.int64)
        deadline = self.ledger.by_award["deadline"][rows]
        self._due_from[department] = int(deadline.min()) if rows.size else math.inf
        return [self.awards[row] for row in rows[deadline <= self.month].tolist()]

    def fund(self, award: Award, amount_p: int, shares: dict[str, float], overhead_p: int) -> None:
        """Add money to an award and record the flows."""
        overhead_p = award.add_funds(amount_p, shares, overhead_p, self.month)
        place = award.place
        self.add_flow("allocated_gbp", place, amount_p / 100)
        self.add_flow("grant_overhead_gbp", place, overhead_p / 100)

    def _new_award(
        self, *, programme: str, department: str, place: int, round: int, pooled: bool, competitive: bool, award_month: int,
        period_start: int, deadline: int, known_bits: int = 0,
    ) -> Award:
        """A new award of the run's ledger, holding nothing yet, added to the open awards."""
        return self._register(
            Award(
                award_id=len(self.awards), programme=programme, department=department, place=place, round=round, pooled=pooled,
                competitive=competitive, award_month=award_month, period_start=period_start, deadline=deadline, allocated_p=0,
                place_code=self.population.places.codes[place], known_bits=known_bits, stream_bit=self.stream_bits.get(programme, 0),
                ledger=self.ledger,
            )
        )

    def _register(self, award: Award) -> Award:
        """Add an award of the run's ledger (and so of its list) to the open awards."""
        self._open[award.row] = award
        self._open_by_place[award.place][award.row] = award
        department, deadline = award.department, award.deadline
        self._open_by_department.setdefault(department, {})[award.row] = award
        self._due_from[department] = min(self._due_from.get(department, deadline), deadline)
        if award.pooled:
            self._pooled_by_month.setdefault((award.place, award.award_month), []).append(award)
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
        for award in self._pooled_by_month.get((council.place, self.month), ()):
            if award.deadline == rnd.deadline and not award.closed:
                return award
        return self._new_award(
            programme="pooled", department="pooled", place=council.place, round=0, pooled=True,
            competitive=False, award_month=self.month, period_start=rnd.period_start, deadline=rnd.deadline,
        )

    def close_award(self, award: Award) -> None:
        """Deadline reached: extend once under carry-over, else claw back what is held."""
        levers = self.scenario.levers
        returned = award.close(carry_over=levers.carry_over, carry_over_months=int(round(self.mech["carry_over_months"])))
        place = award.place
        if award.extended and not award.closed:
            self.councils[place].keep_teams(award)
            return
        del self._open[award.row]
        del self._open_by_place[place][award.row]
        del self._open_by_department[award.department][award.row]
        if returned:
            self.add_flow("returned_gbp", place, returned / 100)
            self.log_event(
                self.month,
                f"{award.department} clawed back GBP {returned / 100:,.0f} unspent on {award.programme} "
                f"from {self.councils[place].label}",
            )

    # ---------------------------------------------------------------- delivery
    def _place_orders(self, councils: Sequence[Council]) -> Orders:
        """The month's delivery orders: each council, in the order of ``councils`` (all of them), closes its pooled awards at their deadline and orders.

        A pooled award closed at its deadline orders nothing that month, even if carry-over
        extends it. The councils' orders are :func:`~pfpp_sim.agents.council.order_lines`;
        their mobilisation months lost are added to the month's flows.
        """
        t, a = self.month, self.ledger.by_award
        rank = np.empty(self.population.places.n, dtype=np.int64)
        rank[[council.place for council in councils]] = np.arange(len(councils))
        due = a["pooled"] & ~a["closed"] & (t >= a["deadline"])
        for row in sorted(np.flatnonzero(due).tolist(), key=lambda row: rank[a["place"][row]]):  # stable: oldest first in each place
            self.close_award(self.awards[row])
        lines, budget_p, lost = order_lines(
            self.ledger, t, rank, skip=due, headroom=self.mech["team_headroom"], rush_months=self.mech["deadline_rush_months"],
        )
        self.flows["mobilisation_months_lost"] += lost
        return Orders.of(self.ledger, lines, budget_p)

    def deliver_orders(self, orders: Orders) -> None:
        """Fulfil the month's delivery orders of all councils together (:func:`~pfpp_sim.delivery.deliver`).

        Each award line then spends what its orders cost, the month's flows count what was
        delivered, and the new recipients' effects are queued for when they start.
        """
        if not orders.size:
            return
        t, levers, mech = self.month, self.scenario.levers, self.mech
        precision = order_precision(
            orders.pooled, hit_rate=mech["outreach_hit_rate"], data_sharing=levers.data_sharing,
            match_ceiling=mech["data_match_ceiling"], pooled_penalty=mech["pooled_targeting_penalty"],
        )
        # A team knows another stream's recipient with chance data_sharing (assumption:shared_recipient_records).
        with thread_pool(self.residents.threads) as pool:
            done = deliver(
                orders, self.population, cold=self.residents.cold_home, records=self.recipients, unit_cost_p=self.unit_cost_p,
                precision=precision, sees_others=levers.data_sharing, rng=self.rng_councils, executor=pool,
                blocks=self.residents.blocks, buffer=self._listing,
            )
        for key, residents in done.by_intervention():
            self.pending.add(t + self.months_to_effect[key], key, residents)
        spent = done.spend_p != 0
        self.ledger.spend(orders.line[spent], done.spend_p[spent], done.duplicated_p[spent], t)
        for name, values in delivery_flows(orders, done, self.recipient_weight, self.population.places.n).items():
            self.flows[name] += values

    # -------------------------------------------------------------------- step
    def step(self) -> None:
        """Advance one month: departments, councils (who then order deliveries), deliveries, residents; record and check."""
        t = self.month
        if t:
            self._monthly_streams(t)
        self.agents_by_type[Department].do("step")
        councils = self.agents_by_type[Council].shuffle()
        councils.do("step")
        self.deliver_orders(self._place_orders(councils))
        counts = self.step_residents(t)
        rows = self._open_rows()
        held_p = self.ledger.held_by_award(rows)  # read by the record and the check
        self._record(counts, rows, held_p)
        self._check(rows, held_p)
        self.month += 1

    def step_residents(self, t: int) -> dict[str, np.ndarray]:
        """Step the residents through month ``t`` with the effects due then; return the month's outcome counts.

        :meth:`step` calls this after the month's deliveries; on its own it advances the
        residents by their rules and the effects already queued
        (:meth:`ResidentEngine.step <pfpp_sim.residents.ResidentEngine.step>`).
        """
        return self.residents.step(t, self.pending.pop(t), records=self.recipients, rng=self.rng_interventions)

    def _record(self, counts: dict[str, np.ndarray], rows: np.ndarray, held_p: np.ndarray) -> None:
        """Record the month's rates (from the residents' ``counts``), flows and money held, and its equity counts; start the next month's flows from zero.

        ``rows`` are the open awards, oldest first (:meth:`_open_rows`: each place's money
        held is summed in that order), and ``held_p`` the pence each holds.
        """
        self.counts = counts
        self.rates = rates_from_counts(counts)
        self.flows["overhead_gbp"] = sum(self.flows[k] for k in OVERHEADS)
        held = np.bincount(self.ledger.by_award["place"][rows], weights=held_p / 100, minlength=self.population.places.n)
        self.records.append({**self.rates, **self.flows, "held_gbp": held})
        self.flows = dict(zip(self.flows, np.zeros((len(self.flows), self.population.places.n))))
        self.equity_records.append(equity_from_counts(counts))

    def _count_residents(self) -> tuple[np.ndarray, np.ndarray]:
        """Households and young people in each place: the lengths of the places' slices."""
        return slice_sizes(self.population.households.slices), slice_sizes(self.population.young.slices)

    @cached_property
    def _resident_ends(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """For households, then young people: the rows that start and end each place's slice (:func:`_slice_ends`), and the place of each.

        Slices are fixed for the run (the residents of a place stay in its slice).
        """
        ends = []
        for slices in (self.population.households.slices, self.population.young.slices):
            first, last, owner = _slice_ends(slices)
            ends.append((np.concatenate([first, last]), np.concatenate([owner, owner])))
        return tuple(ends)

    def _check_residents(self, t: int) -> None:
        """Residents are conserved: every column holds every resident, each place keeps its count, each young person has a status.

        Residents are sorted by place, each place's in its slice, so each place keeps its
        count when the place column still rises and every non-empty slice starts and ends
        with its place (a few reads and one pass, not a count of every resident).
        """
        pop = self.population
        codes = pop.places.codes
        groups = zip(("households", "young people"), (pop.households, pop.young), self.residents_per_place, self._resident_ends)
        for label, group, start, (ends, owner) in groups:
            place = group.place
            for name in _fields(type(group)):
                values = getattr(group, name)
                if isinstance(values, np.ndarray) and values.shape != place.shape:
                    raise InvariantError(
                        f"residents not conserved: {label} column {name} holds {values.shape[0]} of {group.n}, month {t}, place all"
                    )
            if compiled.falls(place) or (place[ends] != owner).any():
                moved = np.flatnonzero(np.bincount(place, minlength=start.size) != start)
                where = codes[moved[0]] if moved.size else "all"
                raise InvariantError(f"residents not conserved: {label} count changed, month {t}, place {where}")
        if pop.young.n and pop.young.status.max() > NEET:
            lost = np.flatnonzero(pop.young.status > NEET)
            raise InvariantError(f"residents not conserved: a young person has no status, month {t}, place {codes[pop.young.place[lost[0]]]}")

    def check_invariants(self) -> None:
        """Cheap run-time checks; raise :class:`InvariantError` naming invariant, month and place.

        Checked every month: each open award's ledger (balance to the penny, no negative
        balance, no spend after its deadline), residents conserved, and every rate in [0, 1].
        """
        rows = self._open_rows()
        self._check(rows, self.ledger.held_by_award(rows))

    def _check(self, rows: np.ndarray, held_p: np.ndarray) -> None:
        """:meth:`check_invariants`, given the open awards' ``rows`` (:meth:`_open_rows`) and the pence each holds."""
        t = self.month
        self.ledger.check(rows, t, held_p=held_p)
        self._check_residents(t)
        rates = np.concatenate(list(self.rates.values()))
        if rates.min() >= 0 and rates.max() <= 1:  # a NaN fails both
            return
        for name, values in self.rates.items():
            bad = np.flatnonzero((values < 0) | (values > 1) | ~np.isfinite(values))
            if bad.size:
                raise InvariantError(f"rate out of [0, 1]: {name} = {values[bad[0]]}, month {t}, place {self.population.places.codes[bad[0]]}")

    def run(self) -> PfppModel:
        """Run to the horizon and return self."""
        while self.month < self.horizon:
            self.step()
        self.ledger.check(np.arange(len(self.awards)), self.month)
        return self
