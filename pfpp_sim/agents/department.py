"""Government departments: own streams, run rounds, allocate, claw back, discontinue."""

from __future__ import annotations

from dataclasses import dataclass, replace

import mesa

from pfpp_sim.funding import Round, round_timing, to_pence
from pfpp_sim.scenario import Programme

__all__ = ["Department", "Stream"]


@dataclass
class Stream:
    """A programme as a department runs it: its next round and whether it continues."""

    key: str
    programme: Programme
    bit: int
    period_months: int
    competitive_share: float
    award_lag: int
    next_round: Round | None
    round_no: int = 0
    discontinued: bool = False


class Department(mesa.Agent):
    """A department that owns funding streams (DESNZ, DWP, DfE, DHSC, Home Office, MHCLG).

    Parameters
    ----------
    model : PfppModel
    name : str
        Department name.
    programmes : dict of str to Programme
        The streams this department owns, by key.
    bits : dict of str to int
        Stream bit of each programme (used by targeting to know a stream's recipients).
    """

    def __init__(self, model, name: str, programmes: dict[str, Programme], bits: dict[str, int]) -> None:
        super().__init__(model)
        self.name = name
        levers = model.scenario.levers
        self.streams = []
        for key, programme in programmes.items():
            stream = Stream(
                key=key,
                programme=programme,
                bit=bits[key],
                period_months=levers.funding_period_months or programme.funding_period_months,
                competitive_share=programme.competitive_share if levers.competitive_share is None else levers.competitive_share,
                award_lag=int(round(programme.award_lag.value)),
                next_round=None,
            )
            # A new stream (a set number of rounds) opens at the run start (:meth:`start_run`).
            stream.next_round = None if programme.rounds else self._round_from(stream, model.first_fy_start)
            self.streams.append(stream)

    def start_run(self) -> None:
        """At month 0 the run's levers replace the siloed ones of the years before (the run-in).

        Every stream takes the run's funding period and competitive share; a round not
        yet awarded is timed again under the run's levers (an aligned round whose period
        has already begun is awarded at once), and new streams open their first round.
        """
        model = self.model
        levers = model.scenario.levers
        for stream in self.streams:
            programme = stream.programme
            stream.period_months = levers.funding_period_months or programme.funding_period_months
            stream.competitive_share = programme.competitive_share if levers.competitive_share is None else levers.competitive_share
            if programme.rounds:
                rnd = self._round_from(stream, model.next_fy_start(model.month))
            elif stream.next_round is not None:
                rnd = self._round_from(stream, stream.next_round.period_start)
            else:
                rnd = None
            late = 0 if rnd is None else max(model.month - rnd.award_month, 0)
            stream.next_round = rnd if not late else replace(rnd, award_month=rnd.award_month + late, window_open=rnd.window_open + late)

    def _round_from(self, stream: Stream, period_start: int) -> Round | None:
        """The stream's round whose funding period starts at ``period_start`` (None past the horizon)."""
        if period_start >= self.model.horizon:
            return None
        return round_timing(
            period_start,
            period_months=stream.period_months,
            window_months=stream.programme.window_months,
            award_lag=stream.award_lag,
            aligned=self.model.scenario.levers.timeline_alignment,
        )

    def step(self) -> None:
        """Churn streams at the financial year start, award due rounds, claw back at deadlines."""
        model = self.model
        t = model.month
        if t > -model.run_in_months and model.is_fy_start(t):
            self._churn(t)
        for stream in self.streams:
            rnd = stream.next_round
            if rnd is not None and t == rnd.award_month:
                self._allocate(stream, rnd)
                stream.round_no += 1
                last = stream.programme.rounds is not None and stream.round_no >= stream.programme.rounds
                stream.next_round = None if last else self._round_from(stream, rnd.period_start + stream.period_months)
        for award in model.open_awards(department=self.name):
            if t >= award.deadline:
                model.close_award(award)

    def _churn(self, t: int) -> None:
        model = self.model
        churn = model.scenario.levers.stream_churn
        churn = model.mech["stream_churn"] if churn is None else churn
        gap = int(round(model.mech["stream_gap_months"]))
        for stream in self.streams:  # a stream of a set number of rounds is committed for them all
            if stream.next_round is None or stream.programme.rounds or model.rng_departments.random() >= churn:
                continue
            model.log_event(t, f"{self.name} discontinued {stream.key}; a replacement stream opens after {gap} months")
            stream.next_round = self._round_from(stream, model.next_fy_start(t + gap))
            for council in model.councils:
                council.lose_contact(self.name, t)

    def _allocate(self, stream: Stream, rnd: Round) -> None:
        """Allocate one round to every council: pooled, formula and competitive parts (M2, M3)."""
        model = self.model
        programme = stream.programme
        years = stream.period_months / 12.0
        p_success = model.mech["bid_success_probability"]
        places = model.population.places
        basis = {"households": places.real_households, "young_people": places.real_young_people}.get(programme.budget_basis)
        for council in model.councils:
            amount_p = to_pence(programme.budget.value * (1.0 if basis is None else basis[council.place]) * years)
            pooled = 0.0
            if not programme.ring_fenced and council.can_pool(self.name, model.month):
                pooled = model.scenario.levers.pooling
            pooled_p = int(round(amount_p * pooled))
            rest_p = amount_p - pooled_p
            competitive_p = int(round(rest_p * stream.competitive_share))
            formula_p = rest_p - competitive_p
            if formula_p > 0:
                model.open_award(stream, rnd, council, formula_p, competitive=False)
            if competitive_p > 0 and council.decides_to_bid(self.name, competitive_p, stream.key):
                if model.rng_departments.random() < p_success:
                    model.open_award(stream, rnd, council, int(round(competitive_p / p_success)), competitive=True)
                else:
                    model.log_event(model.month, f"{self.name} {stream.key}: {council.label} bid failed")
            if pooled_p > 0:
                council.receive_pooled(pooled_p, programme.interventions, rnd, stream.bit)
