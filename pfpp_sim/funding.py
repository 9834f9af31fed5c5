"""Funding streams, awards and their ledger (money in integer pence).

Every award keeps the invariant ``allocated = delivered + overhead + returned + held``
to the penny; :meth:`Award.check` raises :class:`InvariantError` otherwise.
Spending after a deadline is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from pfpp_sim.errors import InvariantError

__all__ = ["Award", "Round", "order_spend_p", "round_timing", "split_pence", "to_pence"]


def to_pence(gbp: float) -> int:
    """Round a GBP amount to whole pence."""
    return int(round(gbp * 100))


def split_pence(total_p: int, shares: dict[str, float]) -> dict[str, int]:
    """Split ``total_p`` pence by ``shares`` exactly (largest remainder).

    Plain Python: an award has a handful of shares, too few for arrays to pay. The shares
    are summed one after another, in order.

    Returns
    -------
    dict of str to int
        Parts that sum to ``total_p``.

    Raises
    ------
    ValueError
        If there are no shares, or they are not finite, or they sum to 0.
    """
    raw = [float(share) for share in shares.values()]
    whole = 0.0
    for share in raw:
        whole += share
    if not raw or not all(math.isfinite(share) for share in raw) or whole <= 0:
        raise ValueError(f"shares must be finite and sum to more than 0, got {shares}")
    raw = [share / whole * total_p for share in raw]
    parts = [math.floor(value) for value in raw]
    short = total_p - sum(parts)
    by_remainder = sorted(range(len(raw)), key=lambda i: -(raw[i] - parts[i]))  # stable: ties keep their order
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


def round_timing(period_start: int, *, period_months: int, window_months: int, award_lag: int, aligned: bool) -> Round:
    """Place a round's window and award relative to its funding period (M6).

    When timelines are aligned, bids run before the period and the award lands on its
    first month; otherwise the award comes ``award_lag`` months into the period while
    the spend deadline stays fixed.
    """
    award = period_start if aligned else period_start + award_lag
    return Round(
        period_start=period_start,
        window_open=award - window_months,
        award_month=award,
        deadline=period_start + period_months,
    )


@dataclass(slots=True)
class Award:
    """One grant to one council: a ledger in pence plus its delivery plan."""

    award_id: int
    programme: str
    department: str
    place: int
    round: int
    pooled: bool
    competitive: bool
    award_month: int
    period_start: int
    deadline: int
    allocated_p: int
    place_code: str = ""
    known_bits: int = 0  # streams whose recipient records this award's team holds
    overhead_p: int = 0
    delivered_p: int = 0
    returned_p: int = 0
    duplicated_p: int = 0
    held_p: dict[str, int] = field(default_factory=dict)
    plan_p: dict[str, int] = field(default_factory=dict)
    delivered_by_p: dict[str, int] = field(default_factory=dict)  # delivered_p by intervention
    returned_by_p: dict[str, int] = field(default_factory=dict)  # returned_p by intervention
    ready: dict[str, int] = field(default_factory=dict)  # month of each team's first delivery
    steady: dict[str, int] = field(default_factory=dict)  # month each team reaches its steady rate
    first_delivery: int = -1
    last_delivery: int = -1
    extended: bool = False
    closed: bool = False

    @property
    def held_total_p(self) -> int:
        return sum(self.held_p.values())

    def add_funds(self, amount_p: int, shares: dict[str, float], overhead_p: int, month: int) -> None:
        """Add money in ``month``: ``overhead_p`` is top-sliced, the rest split by intervention shares.

        The planned monthly spend of each intervention grows by its part spread over
        the months left to the deadline.
        """
        overhead_p = min(overhead_p, amount_p)
        self.allocated_p += amount_p
        self.overhead_p += overhead_p
        months = max(self.deadline - max(month, self.period_start), 1)
        for key, part in split_pence(amount_p - overhead_p, shares).items():
            self.held_p[key] = self.held_p.get(key, 0) + part
            self.plan_p[key] = self.plan_p.get(key, 0) + part // months

    def spend(self, key: str, amount_p: int, duplicated_p: int, month: int) -> None:
        """Move money from held to delivered.

        Raises
        ------
        InvariantError
            If the award is past its deadline or the amount exceeds what is held.
        """
        if month >= self.deadline or self.closed:
            raise InvariantError(f"spend after deadline: award {self.award_id} ({self.programme}), month {month}, place {self.place_code or self.place}")
        if amount_p > self.held_p.get(key, 0) or amount_p < 0 or duplicated_p > amount_p:
            raise InvariantError(f"overspend: award {self.award_id} ({self.programme}) {key}, month {month}, place {self.place_code or self.place}")
        if amount_p == 0:
            return
        self.held_p[key] -= amount_p
        self.delivered_p += amount_p
        self.delivered_by_p[key] = self.delivered_by_p.get(key, 0) + amount_p
        self.duplicated_p += duplicated_p
        if self.first_delivery < 0:
            self.first_delivery = month
        self.last_delivery = month

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
        returned = self.held_total_p
        self.returned_p += returned
        for key, part in self.held_p.items():
            if part:
                self.returned_by_p[key] = self.returned_by_p.get(key, 0) + part
        self.held_p = {k: 0 for k in self.held_p}
        self.closed = True
        return returned

    def check(self, month: int) -> None:
        """Raise :class:`InvariantError` naming the award, month and place if the ledger is wrong.

        The ledger is wrong if it does not balance to the penny, if any balance (the money
        held for each intervention included) is negative, or if money was delivered in or
        after the deadline month.
        """
        held = self.held_total_p
        if min(*self.held_p.values(), self.delivered_p, self.overhead_p, self.returned_p) < 0:
            raise InvariantError(f"negative balance: award {self.award_id} ({self.programme}), month {month}, place {self.place_code or self.place}")
        if self.allocated_p != self.delivered_p + self.overhead_p + self.returned_p + held:
            raise InvariantError(
                f"ledger does not balance: award {self.award_id} ({self.programme}), month {month}, place {self.place_code or self.place}: "
                f"allocated {self.allocated_p} != delivered {self.delivered_p} + overhead {self.overhead_p} "
                f"+ returned {self.returned_p} + held {held} (pence)"
            )
        if self.last_delivery >= self.deadline:
            raise InvariantError(f"spend after deadline: award {self.award_id} ({self.programme}), month {month}, place {self.place_code or self.place}")



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
