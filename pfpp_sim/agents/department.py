"""Government departments: own streams, run rounds, allocate, claw back, discontinue."""

from __future__ import annotations

from dataclasses import dataclass, replace

import mesa
import numpy as np

from pfpp_sim.competition import award_pot
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
    award_lags: tuple[int, int]  # months into the funding period: first round, later rounds
    next_round: Round | None
    round_no: int = 0
    first_round_done: bool = False  # later rounds take the later award lag; a replacement stream starts again
    discontinued: bool = False


@dataclass(frozen=True)
class _Bid:
    council: object
    ask_p: int


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

    Attributes
    ----------
    unawarded_p : dict of str to int
        Pence of each stream's competitive pots that no bid claimed, over the run so far.
    """

    def __init__(self, model, name: str, programmes: dict[str, Programme], bits: dict[str, int]) -> None:
        super().__init__(model)
        self.name = name
        self.streams = []
        self.unawarded_p = {key: 0 for key in programmes}
        for key, programme in programmes.items():
            # Departments are made for the siloed years before the run: each stream runs
            # as its programme says until the run's levers act (:meth:`start_run`).
            stream = Stream(
                key=key,
                programme=programme,
                bit=bits[key],
                period_months=programme.funding_period_months,
                competitive_share=programme.competitive_share,
                award_lags=model.award_lags[key],
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
        Rounds are numbered from the run's first (round 0), and pots left unawarded are
        counted from month 0.
        """
        model = self.model
        levers = model.scenario.levers
        self.unawarded_p = dict.fromkeys(self.unawarded_p, 0)  # the run's accounts start at month 0
        for stream in self.streams:
            programme = stream.programme
            stream.round_no = 0
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
        """The stream's round whose funding period starts at ``period_start`` (None past the horizon).

        M6: a stream's first round lands with its first-year award lag, later rounds with
        the lag of later years (E70 against E94 for UKSPF).
        """
        if period_start >= self.model.horizon:
            return None
        first, later = stream.award_lags
        return round_timing(
            period_start,
            period_months=stream.period_months,
            window_months=stream.programme.window_months,
            award_lag=later if stream.first_round_done else first,
            aligned=self.model.scenario.levers.timeline_alignment,
            aligned_lag=round(self.model.mech["aligned_award_lag_months"]),
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
                stream.first_round_done = True
                last = stream.programme.rounds is not None and stream.round_no >= stream.programme.rounds
                stream.next_round = None if last else self._round_from(stream, rnd.period_start + stream.period_months)
        for award in model.awards_due(self.name):
            model.close_award(award)

    def _churn(self, t: int) -> None:
        model = self.model
        churn = model.scenario.levers.stream_churn
        churn = model.mech["stream_churn"] if churn is None else churn
        gap = int(round(model.mech["stream_gap_months"]))
        for stream in self.streams:  # a stream of a set number of rounds is committed for them all
            if stream.next_round is None or stream.programme.rounds or model.rng_departments.random() >= churn:
                continue
            replacement = model.next_fy_start(t + gap)  # funding periods start in April: the first at least gap months on
            model.log_event(t, f"{self.name} discontinued {stream.key}; a replacement stream opens after {replacement - t} months")
            stream.first_round_done = False
            stream.next_round = self._round_from(stream, replacement)
            for council in model.councils:
                council.lose_contact(self.name, t)

    def _allocate(self, stream: Stream, rnd: Round) -> None:
        """Allocate one round, grant by grant: pooled, formula and competitive parts (M2, M3).

        M3: a programme paid as several grants gives each council one award per grant,
        each with its own reporting cost and, if competitive, its own bid and competition.
        """
        for _ in range(stream.programme.grant_count):
            self._allocate_grant(stream, rnd)

    def _allocate_grant(self, stream: Stream, rnd: Round) -> None:
        model = self.model
        programme = stream.programme
        years = stream.period_months / 12.0
        p_success = model.mech["bid_success_probability"]
        places = model.population.places
        basis = {"households": places.real_households, "young_people": places.real_young_people}.get(programme.budget_basis)
        basis = [1.0] * places.n if basis is None else basis.tolist()  # Python numbers: cheaper to read one at a time
        budget, grants = programme.budget.value, programme.grant_count
        pot_p, bids = 0, []
        for council in model.councils:
            amount_p = to_pence(budget * basis[council.place] * years / grants)
            pooled = 0.0
            if not programme.ring_fenced and council.can_pool(self.name, model.month):
                pooled = model.scenario.levers.pooling
            pooled_p = int(round(amount_p * pooled))
            rest_p = amount_p - pooled_p
            competitive_p = int(round(rest_p * stream.competitive_share))
            formula_p = rest_p - competitive_p
            pot_p += competitive_p
            if formula_p > 0:
                model.open_award(stream, rnd, council, formula_p, competitive=False)
            if competitive_p > 0 and p_success > 0:
                ask_p = int(round(competitive_p / p_success))
                if council.decides_to_bid(self.name, stream.key, ask_p=ask_p, expected_p=competitive_p):
                    bids.append(_Bid(council, ask_p))
            if pooled_p > 0:
                council.receive_pooled(pooled_p, programme.interventions, rnd, stream.bit)
        scores = model.rng_departments.random(len(model.councils))  # one per council, bid or not (CRN)
        if pot_p > 0:
            self._compete(stream, rnd, bids, scores, pot_p)

    def _compete(self, stream: Stream, rnd: Round, bids: list[_Bid], scores: np.ndarray, pot_p: int) -> None:
        """M3: share a competition's fixed pot among the best-scored bids; record failures and what is left."""
        model = self.model
        asks = np.array([bid.ask_p for bid in bids], dtype=np.int64)
        grants = award_pot(asks, scores[[bid.council.place for bid in bids]], pot_p=pot_p)
        for bid, grant_p in zip(bids, grants.tolist()):
            if grant_p > 0:
                model.open_award(stream, rnd, bid.council, grant_p, competitive=True)
                if grant_p < bid.ask_p:
                    model.log_event(
                        model.month,
                        f"{self.name} {stream.key}: {bid.council.label} bid scaled down to GBP {grant_p / 100:,.0f} of GBP {bid.ask_p / 100:,.0f}",
                    )
            else:
                model.log_event(model.month, f"{self.name} {stream.key}: {bid.council.label} bid failed")
        unawarded_p = pot_p - int(grants.sum())
        if unawarded_p > 0:
            self.unawarded_p[stream.key] += unawarded_p
            model.log_event(
                model.month,
                f"{self.name} {stream.key}: GBP {unawarded_p / 100:,.0f} of a GBP {pot_p / 100:,.0f} pot not awarded (too few bids)",
            )
