"""Councils: find teams, bid, pool, mobilise, target and deliver, return underspend."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import mesa
import numba
import numpy as np

from pfpp_sim.competition import bid_cost_p
from pfpp_sim.funding import Award, Round, to_pence
from pfpp_sim.ledger import NOT_MOBILISED, Ledger
from pfpp_sim.scenario import DEPARTMENTS, DOMAINS, INTERVENTION_KEYS

__all__ = ["NEED_RATES", "POOLED_BIT", "Council", "need_shares", "order_lines"]

POOLED_BIT = 1 << 15
NEED_RATES = {"fuel_poverty": "fuel_poverty_rate", "neet": "neet_16_24_rate", "mental_health": "youth_mh_rate"}
"""M2: the rate that measures local need in each outcome domain."""


def need_shares(rates: Mapping[str, np.ndarray], place: int, keys_by_domain: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """M2: local need as intervention shares, each domain by its rate relative to the mean over places (assumption:local_need_shares).

    Each domain's share is its rate in ``place`` over the rate's mean over the run's
    places (1 where that mean is 0), normalised over the domains, and is shared equally
    by the domain's interventions. A pooled budget blends these shares with the
    departments' by the ``local_priority_weight`` lever (:meth:`Council.receive_pooled`).

    Parameters
    ----------
    rates : mapping of str to ndarray of float64, shape (n_places,)
        The latest monthly rates by place, holding those named in :data:`NEED_RATES`.
    place : int
        Index of the place in the run.
    keys_by_domain : mapping of str to sequence of str
        The interventions of each outcome domain.

    Returns
    -------
    dict of str to float
        Share of each intervention of ``keys_by_domain``; they sum to 1 when every domain has interventions.
    """
    relative = {}
    for domain in DOMAINS:
        values = rates[NEED_RATES[domain]]
        mean = float(values.sum() / values.size)  # what values.mean() gives, without its overhead
        relative[domain] = float(values[place] / mean) if mean > 0 else 1.0
    total = sum(relative.values())
    return {k: relative[d] / total / len(keys) for d, keys in keys_by_domain.items() for k in keys}


class Council(mesa.Agent):
    """The council of one place.

    Parameters
    ----------
    model : PfppModel
    place : int
        Index of the place in the run.
    """

    def __init__(self, model, place: int) -> None:
        super().__init__(model)
        self.place = place
        self.label = model.population.places.names[place]
        mech = model.mech
        self.trust = {d: mech["initial_trust"] for d in DEPARTMENTS}
        self.contact_from = {d: model.month + self.months_to_find_team() for d in DEPARTMENTS}
        self.team_until = dict.fromkeys(INTERVENTION_KEYS, -math.inf)  # last month each team is funded: none yet
        self.pooling = False
        programmes = model.scenario.programmes.values()
        self.funders = {p.department for p in programmes}
        self.poolable = {p.department for p in programmes if not p.ring_fenced}
        self._need_month: int | None = None  # the month of the local need last worked out (need)
        self._need: dict[str, float] = {}
        self._take_levers()

    def months_to_find_team(self) -> int:
        """M1: months to find the right team in a department, given the contact levers."""
        levers, mech = self.model.scenario.levers, self.model.mech
        months = mech["months_to_find_team"]
        if levers.single_point_of_contact:
            months = min(months, mech["months_to_find_team_spoc"])
        if levers.policy_campus:
            months = min(months, mech["months_to_find_team_campus"])
        if levers.senior_contact:
            months = min(months, mech["months_to_find_team_senior"])
        return int(round(months))

    def lose_contact(self, department: str, month: int) -> None:
        """M1: a stream was replaced, so the council must find the new team; a funding map shortens the search."""
        months = self.months_to_find_team()
        if self.model.scenario.levers.funding_mapping:
            months = min(months, int(round(self.model.mech["months_to_find_replacement_mapped"])))
        self.contact_from[department] = month + months

    def start_run(self) -> None:
        """M1: at month 0 the run's contact levers act: a council still looking for a team finds it within their months."""
        for department, found in self.contact_from.items():
            self.contact_from[department] = min(found, self.model.month + self.months_to_find_team())
        self._take_levers()

    def _take_levers(self) -> None:
        """What the levers make of every month of this council, worked out when they take effect (at set-up and month 0).

        The levers' monthly cost (:meth:`lever_cost_gbp`), the trust a month of joint work
        builds (:meth:`_build_trust`), and the departments joint work may be with
        (:meth:`joint_work`): None for every department, whether its team is found or not.
        """
        levers, mech = self.model.scenario.levers, self.model.mech
        self._monthly_lever_cost_gbp = self.lever_cost_gbp() / 12
        gain = mech["trust_gain"]
        if levers.secondments:
            gain *= mech["secondment_trust_multiplier"]
        if levers.policy_campus:
            gain *= mech["campus_trust_multiplier"]
        self._trust_gain = min(gain, 1.0)
        if levers.secondments or levers.policy_campus:
            self._partners = None
        else:
            self._partners = tuple((self.poolable if levers.pooling > 0 else set()) | (self.funders if levers.timeline_alignment else set()))

    def has_contact(self, department: str, month: int) -> bool:
        return month >= self.contact_from[department]

    def decides_to_bid(self, department: str, stream_key: str, *, ask_p: int, expected_p: int) -> bool:
        """M3: bid when the team is known and the expected grant exceeds what the bid costs.

        The bid cost grows with what the bid asks for, less than in proportion
        (:func:`~pfpp_sim.competition.bid_cost_p`), so a small council pays a larger share of
        a small bid. It is paid whatever the outcome.

        Parameters
        ----------
        department, stream_key : str
        ask_p : int
            What the bid asks for, pence.
        expected_p : int
            Expected grant (the ask times the chance of success), pence.
        """
        model = self.model
        if not self.has_contact(department, model.month):
            model.log_event(model.month, f"{self.label} missed the {department} {stream_key} window: no contact yet")
            return False
        mech = model.mech
        cost_p = bid_cost_p(
            ask_p,
            typical_cost_gbp=mech["bid_cost"],
            typical_scheme_gbp=mech["bid_cost_scheme_value"],
            elasticity=mech["bid_cost_elasticity"],
        )
        if expected_p <= cost_p:
            return False
        model.add_flow("bid_cost_gbp", self.place, cost_p / 100)
        model.add_flow("bids", self.place, 1)
        return True

    def can_pool(self, department: str, month: int) -> bool:
        """M5: trust gates pooling; pooling also needs the lever, finished negotiation and contact."""
        model = self.model
        return (
            model.scenario.levers.pooling > 0
            and month >= model.mech["pooling_negotiation_months"]
            and self.has_contact(department, month)
            and self.trust[department] >= model.mech["trust_threshold"]
        )

    def receive_pooled(self, amount_p: int, shares: dict[str, float], rnd: Round, stream_bit: int) -> None:
        """M2: add a stream's contribution to this place's pooled budget, blended with local need.

        The pooled team inherits the recipient records of the contributing stream. The
        budget's first contribution pays its reporting for its whole funding period:
        ``reporting_cost`` times ``pooled_reporting_burden`` a year, however many streams join.
        """
        model = self.model
        weight = model.scenario.levers.local_priority_weight
        need = self.need()
        blended = {}
        for key in INTERVENTION_KEYS:
            share = (1 - weight) * shares.get(key, 0.0) + weight * need[key]
            if share > 0:
                blended[key] = share
        award = model.pooled_award(self, rnd)
        award.known_bits |= stream_bit | POOLED_BIT
        years = (award.deadline - award.period_start) / 12.0
        overhead = model.mech["reporting_cost"] * model.mech["pooled_reporting_burden"] * years if award.allocated_p == 0 else 0.0
        model.fund(award, amount_p, blended, to_pence(overhead))
        self.pooling = True
        self.mobilise(award)

    def need(self) -> dict[str, float]:
        """M2: local need as intervention shares (:func:`need_shares`), for this place and the latest rates.

        Worked out once a month: the model records new rates only after its departments
        and councils have acted (:meth:`PfppModel.step <pfpp_sim.model.PfppModel.step>`).
        """
        model = self.model
        if self._need_month != model.month:
            self._need_month, self._need = model.month, need_shares(model.rates, self.place, model.keys_by_domain)
        return self._need

    def mobilise(self, award: Award) -> None:
        """M6: set when each intervention's team first delivers and when it reaches its steady rate.

        A team kept on from earlier funding delivers at its steady rate at once; a new
        team is recruited, first delivers ``mobilisation_months`` after the award and ramps
        up to its steady rate ``months_to_steady`` after it (:mod:`pfpp_sim.capacity`).
        The award's teams are then kept until its deadline (:meth:`keep_teams`).
        """
        model = self.model
        start = max(model.month, award.period_start)
        retention = model.mech["staff_retention_months"]
        ready, steady = award.ledger.by_line.data["ready"], award.ledger.by_line.data["steady"]
        team_until, last = self.team_until, award.deadline - 1
        for key, line in award.lines.items():
            if ready.item(line) == NOT_MOBILISED:
                if team_until[key] + retention >= start:
                    ready[line] = steady[line] = start
                else:
                    ready[line] = start + model.mobilisation[key]
                    steady[line] = start + model.months_to_steady[key]
                    model.add_flow("recruitment_cost_gbp", self.place, model.mech["recruitment_cost"])
            team_until[key] = max(team_until[key], last)  # kept until the deadline (keep_teams)

    def keep_teams(self, award: Award) -> None:
        """Keep the award's delivery teams funded until its (possibly extended) deadline."""
        last = award.deadline - 1
        for key in award.lines:
            self.team_until[key] = max(self.team_until[key], last)

    def step(self) -> None:
        """Pay pooled governance yearly and the levers monthly, build or lose trust.

        Once every council has stepped, each closes its pooled awards at their deadline
        and orders the month's deliveries, in the order they stepped (:func:`order_lines`,
        :meth:`PfppModel._place_orders <pfpp_sim.model.PfppModel._place_orders>`), and the
        model fulfils the orders of all places together.
        """
        model = self.model
        if self.pooling and model.is_fy_start(model.month):
            model.add_flow("governance_cost_gbp", self.place, model.mech["pooled_governance_cost"])
        model.add_flow("lever_cost_gbp", self.place, self._monthly_lever_cost_gbp)
        self._build_trust(self.joint_work())

    def lever_cost_gbp(self) -> float:
        """The yearly cost of the levers in use for this council (GBP): data sharing in proportion to its share, the others whole."""
        levers, mech = self.model.scenario.levers, self.model.mech
        switched = {
            "contact_cost": levers.single_point_of_contact,
            "senior_contact_cost": levers.senior_contact,
            "funding_mapping_cost": levers.funding_mapping,
            "secondment_cost": levers.secondments,
            "campus_cost": levers.policy_campus,
        }
        return levers.data_sharing * mech["data_sharing_cost"] + sum(mech[cost] for cost, on in switched.items() if on)

    def joint_work(self) -> set[str]:
        """M5: departments this council works jointly with this month.

        Joint work is: secondments or a policy campus (with every department);
        negotiating or running a pooled budget with a department whose team it has
        found and whose streams may be pooled; and, with aligned timelines, planning
        each round with a department that funds it before the funding period starts.
        A siloed award alone is not joint work.
        """
        if self._partners is None:
            return set(DEPARTMENTS)
        t = self.model.month
        return {d for d in self._partners if self.has_contact(d, t)}

    def _build_trust(self, joint: set[str]) -> None:
        """M5: trust grows with joint work (faster with secondments and a campus) and decays towards its floor without it."""
        mech, gain = self.model.mech, self._trust_gain
        for department, trust in self.trust.items():
            if department in joint:
                self.trust[department] = trust + gain * (1.0 - trust)
            else:
                self.trust[department] = trust + mech["trust_decay"] * (mech["trust_floor"] - trust)


def order_lines(
    ledger: Ledger, month: int, rank: np.ndarray, *, skip: np.ndarray, headroom: float, rush_months: float,
) -> tuple[np.ndarray, ...]:
    """M6: every council's delivery orders of the month, from each open award line whose team delivers.

    A line orders its monthly plan, or in the last ``rush_months`` months before its
    award's deadline all it holds, never more than the team's capacity
    (:func:`~pfpp_sim.capacity.capacity_share`, :func:`~pfpp_sim.capacity.monthly_order_p`);
    the model turns the money into recipients at the place's unit cost. Councils order one
    after another by ``rank``, each its awards oldest first and each award's interventions
    in the order they were funded. A line that holds money but whose team is not
    delivering yet loses a mobilisation month, once its award's money may be spent.
    One compiled pass over the lines (:func:`_line_orders`) does what those rules do.

    Parameters
    ----------
    ledger : Ledger
        The run's awards.
    month : int
    rank : ndarray of int64, shape (n_places,)
        Each place's council's turn this month.
    skip : ndarray of bool, shape (n_awards,)
        Awards that order nothing this month (pooled awards closed at their deadline, or extended then).
    headroom : float
        A team's steady capacity as a multiple of its plan (``team_headroom``).
    rush_months : float
        Months before a deadline in which a line orders all it holds (``deadline_rush_months``):
        it rushes when the deadline is at most this many months away.

    Returns
    -------
    lines : ndarray of int64, shape (n_orders,)
        Award line of each order, in the order placed.
    budget_p : ndarray of int64, shape (n_orders,)
        What each order may spend, pence.
    lost : ndarray of int64, shape (n_places,)
        Mobilisation months lost in each place this month.
    """
    a, line = ledger.by_award, ledger.by_line
    return _line_orders(
        month, line["award"], line["held_p"], line["plan_p"], line["ready"], line["steady"],
        a["deadline"], a["start"], a["closed"], a["place"], skip, rank.astype(np.int64, copy=False), float(headroom),
        float(rush_months),
    )


def _line_orders(month, award, held, plan, ready, steady, deadline, start, closed, place, skip, rank, headroom, rush_months):
    """:func:`order_lines` over the ledger's columns, line by line, with the operations of the capacity rules.

    Parameters
    ----------
    month : int
    award, held, plan, ready, steady : ndarray of int64, shape (n_lines,)
        Each line's award, pence held, planned monthly spend, first delivery and steady months.
    deadline, start, place : ndarray of int64, shape (n_awards,)
    closed, skip : ndarray of bool, shape (n_awards,)
    rank : ndarray of int64, shape (n_places,)
    headroom, rush_months : float

    Returns
    -------
    lines, budget_p, lost : ndarray of int64
        As :func:`order_lines`.
    """
    lines = np.empty(award.size, dtype=np.int64)
    budget_p = np.empty(award.size, dtype=np.int64)
    lost = np.zeros(rank.size, dtype=np.int64)
    n = 0
    for i in range(award.size):
        a = award[i]
        if held[i] <= 0 or month >= deadline[a] or closed[a] or skip[a]:
            continue
        if month < ready[i]:
            if month >= start[a]:
                lost[place[a]] += 1
            continue
        share = 1.0 if month >= steady[i] else (month - ready[i] + 1) / (steady[i] - ready[i] + 1)
        capacity_p = np.int64(plan[i] * headroom * share)
        rush = deadline[a] - month <= rush_months
        wanted_p = held[i] if rush else plan[i]
        ordered_p = max(0, min(min(held[i], wanted_p), capacity_p))
        if ordered_p > 0:
            lines[n], budget_p[n] = i, ordered_p
            n += 1
    lines, budget_p = lines[:n], budget_p[:n]
    # Sorted by council's rank, then award, then line: one number per order, distinct
    # (far below 2**63 for any run: places x awards x lines), so any sort gives that order.
    turn = np.empty(n, dtype=np.int64)
    for j in range(n):
        a = award[lines[j]]
        turn[j] = (rank[place[a]] * deadline.size + a) * award.size + lines[j]
    placed = np.argsort(turn)
    return lines[placed], budget_p[placed], lost


# Compiled here, not by a decorator, so that mutation testing mutates it too; with
# NUMBA_DISABLE_JIT=1 it runs as plain Python.
_line_orders = numba.njit(cache=True, nogil=True)(_line_orders)
