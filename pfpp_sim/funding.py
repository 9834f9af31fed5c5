"""Funding streams, awards and their ledger (money in integer pence).

Every award keeps the invariant ``allocated = delivered + overhead + returned + held``
to the penny; :meth:`Award.check` raises :class:`InvariantError` otherwise.
Spending after a deadline is refused.
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping
from dataclasses import dataclass

import numpy as np

from pfpp_sim.errors import InvariantError
from pfpp_sim.ledger import NOT_MOBILISED, Ledger

__all__ = ["Award", "Round", "order_spend_p", "round_timing", "split_pence", "to_pence"]


def to_pence(gbp: float) -> int:
    """Round a GBP amount to whole pence."""
    return int(round(gbp * 100))


def split_pence(total_p: int, shares: dict[str, float]) -> dict[str, int]:
    """Split ``total_p`` pence by ``shares`` exactly (largest remainder).

    Plain Python: an award has a handful of shares, too few for arrays to pay. The shares
    are summed one after another, in order. A single share takes the whole total, as the
    split would give it (exactly, for totals below 2**53 pence).

    Returns
    -------
    dict of str to int
        Parts that sum to ``total_p``.

    Raises
    ------
    ValueError
        If there are no shares, or they are not finite, or they sum to 0.
    """
    if len(shares) == 1:
        ((key, share),) = shares.items()
        if not (math.isfinite(share) and share > 0):
            raise ValueError(f"shares must be finite and sum to more than 0, got {shares}")
        return {key: total_p}
    raw = [float(share) for share in shares.values()]
    whole = 0.0
    for share in raw:
        whole += share
    if not raw or not all(map(math.isfinite, raw)) or whole <= 0:
        raise ValueError(f"shares must be finite and sum to more than 0, got {shares}")
    parts, remainder, short = [], [], total_p
    for share in raw:  # one pass: cheaper than a list for each step
        value = share / whole * total_p
        part = math.floor(value)
        parts.append(part)
        remainder.append(value - part)
        short -= part
    if short:
        by_remainder = sorted(range(len(raw)), key=remainder.__getitem__, reverse=True)  # stable: ties keep their order
        for i in by_remainder[:short]:
            parts[i] += 1
    return dict(zip(shares, parts))


@dataclass(frozen=True)
class Round:
    """Timing of one funding round, as month indices from the run start."""

    period_start: int
    window_open: int
    award_month: int
    deadline: int  # exclusive: last month money may be spent is deadline - 1


def round_timing(
    period_start: int, *, period_months: int, window_months: int, award_lag: int, aligned: bool, aligned_lag: int,
) -> Round:
    """Place a round's window and award relative to its funding period (M6).

    When timelines are aligned, bids run before the period and the award lands
    ``aligned_lag`` months into it (``aligned_award_lag_months``, 0 by default: its first
    month), never later than it would unaligned; otherwise the award comes ``award_lag``
    months into the period. The spend deadline stays fixed either way.
    """
    award = period_start + (min(aligned_lag, award_lag) if aligned else award_lag)
    return Round(
        period_start=period_start,
        window_open=award - window_months,
        award_month=award,
        deadline=period_start + period_months,
    )


class _Column:
    """An award's value in a column of its ledger's :attr:`~pfpp_sim.ledger.Ledger.by_award`, as a Python scalar."""

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, award, owner=None):
        return self if award is None else award.columns[self.name].item(award.row)

    def __set__(self, award, value) -> None:
        award.columns[self.name][award.row] = value


class _Lines(MutableMapping):
    """An award's lines in one column of its ledger's :attr:`~pfpp_sim.ledger.Ledger.by_line`, by intervention.

    Holds every line's intervention (``held_p``, ``plan_p``), only those with a value
    other than 0 (``delivered_by_p``, ``returned_by_p``: delivered or returned), or only
    those whose team is mobilised (``ready``, ``steady``). Setting an intervention the
    award has no line for adds one.
    """

    def __init__(self, award: Award, column: str, absent: int | None) -> None:
        self.award, self.column, self.absent = award, column, absent

    def __getitem__(self, key: str) -> int:
        value = self.award.ledger.by_line.data[self.column].item(self.award.lines[key])
        if value == self.absent:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        line = self.award.lines.get(key)
        return line is not None and self.award.ledger.by_line.data[self.column][line] != self.absent

    def __setitem__(self, key: str, value: int) -> None:
        award = self.award
        if key not in award.lines:
            award.lines[key] = award.ledger.add_line(award.row, key)
        award.ledger.by_line[self.column][award.lines[key]] = value

    def __delitem__(self, key: str) -> None:
        raise TypeError("an award's lines are never removed")

    def __iter__(self):
        values = self.award.ledger.by_line[self.column]
        return (key for key, line in self.award.lines.items() if values[line] != self.absent)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _LinesOf:
    """An award's :class:`_Lines` of one column of its ledger's lines, with ``absent`` the value of a line it does not hold."""

    def __init__(self, column: str, absent: int | None = None) -> None:
        self.column, self.absent = column, absent

    def __get__(self, award, owner=None):
        return self if award is None else _Lines(award, self.column, self.absent)

    def __set__(self, award, value) -> None:
        raise AttributeError(f"an award's {self.column} are set one intervention at a time, not replaced")


class Award:
    """One grant to one council: a ledger in pence plus its delivery plan.

    A view of the award's rows in a :class:`~pfpp_sim.ledger.Ledger` (a run's, or one of
    its own): its money, deadline and delivery bits are read and written there.
    """

    __slots__ = (
        "award_id", "programme", "department", "round", "competitive", "award_month", "period_start", "place_code", "extended",
        "ledger", "columns", "lines", "row",
    )
    place = _Column()
    deadline = _Column()  # exclusive: last month money may be spent is deadline - 1
    allocated_p = _Column()
    overhead_p = _Column()
    delivered_p = _Column()
    returned_p = _Column()
    duplicated_p = _Column()
    first_delivery = _Column()
    last_delivery = _Column()
    known_bits = _Column()  # streams whose recipient records this award's team holds
    pooled = _Column()
    closed = _Column()
    held_p = _LinesOf("held_p")  # pence held for each intervention
    plan_p = _LinesOf("plan_p")  # planned monthly spend of each intervention, pence
    delivered_by_p = _LinesOf("delivered_p", 0)  # delivered_p by intervention (those delivered)
    returned_by_p = _LinesOf("returned_p", 0)  # returned_p by intervention (those returned)
    ready = _LinesOf("ready", NOT_MOBILISED)  # month of each mobilised team's first delivery
    steady = _LinesOf("steady", NOT_MOBILISED)  # month each mobilised team reaches its steady rate

    def __init__(
        self, *, award_id: int, programme: str, department: str, place: int, round: int, pooled: bool, competitive: bool,
        award_month: int, period_start: int, deadline: int, allocated_p: int, place_code: str = "", known_bits: int = 0,
        overhead_p: int = 0, stream_bit: int = 0, ledger: Ledger | None = None,
    ) -> None:
        self.award_id, self.programme, self.department, self.round = award_id, programme, department, round
        self.competitive, self.award_month, self.period_start = competitive, award_month, period_start
        self.place_code, self.extended = place_code, False
        self.ledger = Ledger() if ledger is None else ledger
        self.columns = self.ledger.by_award.data  # this award's values are at its row of each column
        self.lines: dict[str, int] = {}  # each intervention's line in the ledger, in the order added
        self.row = self.ledger.by_award.append(
            {
                "place": place, "start": max(award_month, period_start), "deadline": deadline, "allocated_p": allocated_p,
                "overhead_p": overhead_p, "known_bits": known_bits, "stream_bit": stream_bit, "pooled": pooled,
            }
        )
        self.ledger.awards.append(self)

    @property
    def held_total_p(self) -> int:
        """Pence held for all interventions."""
        held = self.ledger.by_line.data["held_p"]
        return sum(held.item(line) for line in self.lines.values())  # a handful of lines, too few for arrays to pay

    def add_funds(self, amount_p: int, shares: dict[str, float], overhead_p: int, month: int) -> int:
        """Add money in ``month``: ``overhead_p`` is top-sliced, the rest split by intervention shares.

        The planned monthly spend of each intervention grows by its part spread over
        the months left to the deadline.

        Returns
        -------
        int
            The overhead top-sliced, pence (never more than ``amount_p``).
        """
        overhead_p = min(overhead_p, amount_p)
        columns, row = self.columns, self.row
        columns["allocated_p"][row] += amount_p
        columns["overhead_p"][row] += overhead_p
        months = max(columns["deadline"].item(row) - max(month, self.period_start), 1)
        lines = self.ledger.by_line.data  # read each column after any line is added: adding one may grow them
        for key, part in split_pence(amount_p - overhead_p, shares).items():
            line = self.lines.get(key)
            if line is None:
                self.lines[key] = self.ledger.add_line(row, key, held_p=part, plan_p=part // months)
            else:
                lines["held_p"][line] += part
                lines["plan_p"][line] += part // months
        return overhead_p

    def spend(self, key: str, amount_p: int, duplicated_p: int, month: int) -> None:
        """Move money from held to delivered (:meth:`Ledger.spend <pfpp_sim.ledger.Ledger.spend>` for one line).

        Raises
        ------
        InvariantError
            If the award is past its deadline or the amount exceeds what is held.
        """
        if key not in self.lines:  # holds nothing for ``key``: only spending nothing is allowed
            if month >= self.deadline or self.closed:
                raise InvariantError(f"spend after deadline: {self.ledger.describe(self.row, month)}")
            if amount_p != 0 or duplicated_p > 0:
                raise InvariantError(f"overspend: {self.ledger.describe(self.row, month, key)}")
            return
        self.ledger.spend(np.array([self.lines[key]]), np.array([amount_p]), np.array([duplicated_p]), month)

    def close(self, *, carry_over: bool, carry_over_months: int) -> int:
        """At the deadline: extend once if carry-over is allowed, else claw back what is held.

        Returns
        -------
        int
            Pence returned to the department.
        """
        if carry_over and not self.extended and self.held_total_p > 0:
            self.extended = True
            self.deadline += carry_over_months
            return 0
        held, returned_by = self.ledger.by_line.data["held_p"], self.ledger.by_line.data["returned_p"]
        returned = 0
        for line in self.lines.values():  # a handful of lines, too few for arrays to pay
            part = held.item(line)
            returned_by[line] += part
            held[line] = 0
            returned += part
        self.returned_p += returned
        self.closed = True
        return returned

    def check(self, month: int) -> None:
        """Raise :class:`InvariantError` naming the award, month and place if the ledger is wrong (:meth:`Ledger.check <pfpp_sim.ledger.Ledger.check>`)."""
        self.ledger.check(np.array([self.row]), month)


def order_spend_p(served: np.ndarray, requested: np.ndarray, cost_p: np.ndarray, budget_p: np.ndarray) -> np.ndarray:
    """Pence each delivery order spends.

    An order asks for ``budget / unit cost`` simulated recipients, rounded up or down at
    random so that the expected number is exact; when it serves all it asked for it
    spends its budget, so that recipients delivered times unit cost equals spend in
    expectation at any scale. (Spending served x unit cost instead would deliver a
    recipient for free whenever the rounding goes up at the end of an award, or strand
    up to one simulated recipient's cost in every award.) An order that finds fewer
    residents to serve than it asked for spends the unit cost of those it serves.

    Parameters
    ----------
    served : ndarray of int64, shape (n_orders,)
        Simulated recipients served.
    requested : ndarray of int64, shape (n_orders,)
        Simulated recipients asked for.
    cost_p : ndarray of float64, shape (n_orders,)
        Cost of one simulated recipient, pence.
    budget_p : ndarray of int64, shape (n_orders,)
        The order's budget, pence (never more than the award holds).

    Returns
    -------
    ndarray of int64, shape (n_orders,)
        Pence, at most ``budget_p``.

    Examples
    --------
    >>> order_spend_p(np.array([1, 0, 1]), np.array([1, 0, 2]), np.array([300.0, 300.0, 300.0]), np.array([250, 100, 500]))
    array([250, 100, 300])
    """
    short_p = np.minimum(budget_p, np.rint(served * cost_p).astype(np.int64))
    return np.where(served == requested, budget_p, short_p)
