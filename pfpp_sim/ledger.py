"""Every award's money as arrays: one row per award and one per award line (in pence).

An award line is the money of one intervention of one award: what it holds, its planned
monthly spend, what it delivered and returned, and when its team first delivers and
reaches its steady rate. Keeping them as columns lets a month's orders, spending, ledger
checks and money held be a few array operations over every open award at once, however
many awards a run has. :class:`~pfpp_sim.funding.Award` is the view of one award's rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pfpp_sim.errors import InvariantError
from pfpp_sim.scenario import INTERVENTION_KEYS, KEY_INDEX

if TYPE_CHECKING:
    from pfpp_sim.funding import Award

__all__ = ["NOT_MOBILISED", "Columns", "Ledger"]

NOT_MOBILISED = np.iinfo(np.int64).min
"""``ready`` and ``steady`` of a line whose team has not been mobilised yet."""

_AWARD_COLUMNS = {
    "place": (np.int64, 0),
    "start": (np.int64, 0),  # first month the award's teams may deliver: max(award month, period start)
    "deadline": (np.int64, 0),  # exclusive
    "allocated_p": (np.int64, 0),
    "overhead_p": (np.int64, 0),
    "delivered_p": (np.int64, 0),
    "returned_p": (np.int64, 0),
    "duplicated_p": (np.int64, 0),
    "first_delivery": (np.int64, -1),
    "last_delivery": (np.int64, -1),
    "known_bits": (np.int64, 0),  # streams whose recipient records the award's team holds
    "stream_bit": (np.int64, 0),  # its stream's bit (0 for a pooled award)
    "pooled": (np.bool_, False),
    "closed": (np.bool_, False),
}
_LINE_COLUMNS = {
    "award": (np.int64, 0),
    "key": (np.int64, 0),  # index into INTERVENTION_KEYS
    "held_p": (np.int64, 0),
    "plan_p": (np.int64, 0),
    "delivered_p": (np.int64, 0),
    "returned_p": (np.int64, 0),
    "ready": (np.int64, NOT_MOBILISED),  # month of the team's first delivery
    "steady": (np.int64, NOT_MOBILISED),  # month the team reaches its steady rate
}


class Columns:
    """Columns of equal length that grow a row at a time (their memory doubles when full).

    Parameters
    ----------
    spec : dict of str to (dtype, default)
        Each column's dtype and the value of a new row where none is given.
    """

    def __init__(self, spec: dict[str, tuple[type, object]]) -> None:
        self.spec = spec
        self.n = 0
        self.capacity = 8  # rows each column has room for
        # Each column with its spare rows: reading and writing a row here is cheaper than through a view of the first n.
        self.data = {name: np.full(self.capacity, default, dtype=dtype) for name, (dtype, default) in spec.items()}

    def __getitem__(self, name: str) -> np.ndarray:
        """Column ``name``, as a view of its ``n`` rows (writing to it writes the column)."""
        return self.data[name][: self.n]

    def append(self, values: dict[str, object]) -> int:
        """Add a row with ``values``, by column name (defaults elsewhere); return its index."""
        row = self.n
        if row == self.capacity:
            self.capacity *= 2
            for name, (dtype, default) in self.spec.items():
                grown = np.full(self.capacity, default, dtype=dtype)
                grown[:row] = self.data[name]
                self.data[name] = grown
        data = self.data
        for name, value in values.items():
            data[name][row] = value
        self.n = row + 1
        return row


class Ledger:
    """The money of a run's awards: columns by award (:attr:`by_award`) and by award line (:attr:`by_line`).

    Awards are numbered by row in the order they were made; :attr:`awards` holds their
    :class:`~pfpp_sim.funding.Award` views, so that a problem can be reported by name.
    """

    def __init__(self) -> None:
        self.by_award = Columns(_AWARD_COLUMNS)
        self.by_line = Columns(_LINE_COLUMNS)
        self.awards: list[Award] = []

    def add_line(self, award: int, key: str, **values) -> int:
        """A new line of intervention ``key`` for award row ``award``, empty but for ``values``; return its row."""
        values["award"], values["key"] = award, KEY_INDEX[key]
        return self.by_line.append(values)

    def held_by_award(self, rows: np.ndarray) -> np.ndarray:
        """Pence held by each award of ``rows`` (ndarray of int64, in the order of ``rows``)."""
        held = np.zeros(self.by_award.n, dtype=np.int64)
        np.add.at(held, self.by_line["award"], self.by_line["held_p"])
        return held[rows]

    def check(self, rows: np.ndarray, month: int, *, held_p: np.ndarray | None = None) -> None:
        """Raise :class:`InvariantError` naming the first of award ``rows`` whose ledger is wrong in ``month``.

        Wrong is: a negative balance (the money held for each intervention included), a
        ledger that does not balance to the penny (allocated = delivered + overhead +
        returned + held), or money delivered in or after the deadline month.

        Parameters
        ----------
        rows : ndarray of int64
            Awards to check, in the order to report them.
        month : int
        held_p : ndarray of int64, optional
            What :meth:`held_by_award` gives for ``rows`` now, if the caller has it.

        Raises
        ------
        InvariantError
            ``negative balance``, ``ledger does not balance`` or ``spend after deadline``,
            naming the award, the month and the place (:meth:`describe`).
        """
        a, line = self.by_award, self.by_line
        negative_line = np.zeros(a.n, dtype=bool)
        negative_line[line["award"][line["held_p"] < 0]] = True
        delivered, overhead, returned = a["delivered_p"][rows], a["overhead_p"][rows], a["returned_p"][rows]
        held = self.held_by_award(rows) if held_p is None else held_p
        negative = negative_line[rows] | (np.minimum(np.minimum(delivered, overhead), returned) < 0)
        unbalanced = a["allocated_p"][rows] != delivered + overhead + returned + held
        late = a["last_delivery"][rows] >= a["deadline"][rows]
        wrong = np.flatnonzero(negative | unbalanced | late)
        if not wrong.size:
            return
        i = wrong[0]
        where = self.describe(int(rows[i]), month)
        if negative[i]:
            raise InvariantError(f"negative balance: {where}")
        if unbalanced[i]:
            raise InvariantError(
                f"ledger does not balance: {where}: allocated {a['allocated_p'][rows[i]]} != delivered {delivered[i]} "
                f"+ overhead {overhead[i]} + returned {returned[i]} + held {held[i]} (pence)"
            )
        raise InvariantError(f"spend after deadline: {where}")

    def spend(self, lines: np.ndarray, amount_p: np.ndarray, duplicated_p: np.ndarray, month: int) -> None:
        """Move ``amount_p`` pence of each of ``lines`` (distinct rows) from held to delivered in ``month``.

        Parameters
        ----------
        lines : ndarray of int64, shape (n,)
            Award lines, each at most once.
        amount_p, duplicated_p : ndarray of int64, shape (n,)
            Pence each line spends, and the part of it spent on residents served twice.
        month : int

        Raises
        ------
        InvariantError
            Naming the first line whose award is past its deadline or closed, or whose
            amount is negative, more than the line holds or less than its ``duplicated_p``;
            then nothing is spent.
        """
        a, line = self.by_award, self.by_line
        award = line["award"][lines]
        late = (month >= a["deadline"][award]) | a["closed"][award]
        over = (amount_p > line["held_p"][lines]) | (amount_p < 0) | (duplicated_p > amount_p)
        bad = np.flatnonzero(late | over)
        if bad.size:
            first = bad[0]
            if late[first]:
                raise InvariantError(f"spend after deadline: {self.describe(int(award[first]), month)}")
            raise InvariantError(f"overspend: {self.describe(int(award[first]), month, INTERVENTION_KEYS[line['key'][lines[first]]])}")
        spent = amount_p > 0
        lines, amount_p, award = lines[spent], amount_p[spent], award[spent]
        line["held_p"][lines] -= amount_p
        line["delivered_p"][lines] += amount_p
        np.add.at(a["delivered_p"], award, amount_p)
        np.add.at(a["duplicated_p"], award, duplicated_p[spent])
        first = a["first_delivery"]
        first[award[first[award] < 0]] = month
        a["last_delivery"][award] = month

    def describe(self, row: int, month: int, key: str = "") -> str:
        """``award <id> (<programme>) [<key>], month <month>, place <code>`` for award ``row``."""
        award = self.awards[row]
        return f"award {award.award_id} ({award.programme}){' ' + key if key else ''}, month {month}, place {award.place_code or award.place}"
