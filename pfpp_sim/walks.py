"""Walks: uniform samples of the open residents of groups, found without listing them.

A request that wants ``w`` of a group's residents that are still open to it (M7: not
already served by its team, and not known through shared data to be served by another
stream) walks the group in a uniformly random order and keeps the first ``w`` open
residents it meets: a uniform sample of the open residents. :class:`Walks` runs the
named walks of every request of one batch together (for example a request's intended
group and its other reachable residents), with vectorised draws over all of them, as
:func:`~pfpp_sim.targeting.select_recipients` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pfpp_sim.targeting import RecipientRecords

__all__ = ["Walk", "Walks", "first_per_request", "repeats"]


def repeats(values: np.ndarray) -> np.ndarray:
    """Positions of the entries of ``values`` (non-negative ints) that an earlier entry equals.

    Sorts ``value << bits | position`` as plain integers (several times faster than a
    stable argsort) when that fits in 63 bits; the repeats found are the same.

    Parameters
    ----------
    values : ndarray of int, shape (n,)

    Returns
    -------
    ndarray of intp
        Positions, in no particular order.
    """
    n = values.size
    if n < 2:
        return np.zeros(0, dtype=np.intp)
    bits = int(n - 1).bit_length()
    # The OR of the values is negative if any value is, and otherwise as wide as the largest.
    top = int(np.bitwise_or.reduce(values))
    if top >= 0 and top.bit_length() + bits <= 63:
        key = (values.astype(np.int64) << bits) | np.arange(n, dtype=np.int64)
        key.sort()
        value = key >> bits
        return (key[1:] & ((1 << bits) - 1))[value[1:] == value[:-1]]
    later = np.argsort(values, kind="stable")
    return later[1:][values[later[1:]] == values[later[:-1]]]


def first_per_request(
    req: np.ndarray,
    order: np.ndarray,
    rows: np.ndarray,
    want: np.ndarray,
    *,
    many: bool = False,
    in_order: np.ndarray | None = None,
) -> np.ndarray:
    """Of ``rows``, the first ``want[r]`` of each request ``r`` by ``order`` (in [0, 1)).

    ``rows`` are ascending and ``req`` does not decrease along them. With ``many`` (far
    more rows than wanted, ``order`` uniform), only rows whose order falls below a
    threshold that leaves about ``2 * want + 10`` per request are sorted; requests left
    short by the threshold sort all their rows, so the result is exact. Requests marked
    in ``in_order`` keep their rows in the order given (their ``order`` is not read), so
    only the others' rows are sorted.

    Parameters
    ----------
    req : ndarray of int, shape (n,)
        Request of each row.
    order : ndarray of float64, shape (n,)
        Sort key of each row within its request, in [0, 1).
    rows : ndarray of int
        The rows to choose from, ascending.
    want : ndarray of int64, shape (n_requests,)
    many : bool, default=False
    in_order : ndarray of bool, shape (n_requests,), optional
        Requests whose rows are in order already (not with ``many``).

    Returns
    -------
    ndarray of int
        The rows kept, by request and then order.
    """
    if many:
        r = req[rows]
        count = np.bincount(r, minlength=want.size)
        below = order[rows] < np.minimum(1.0, (2 * want + 10) / np.maximum(count, 1))[r]
        short = np.bincount(r[below], minlength=want.size) < np.minimum(want, count)
        rows = rows[below | short[r]]
    if in_order is None:
        rows = rows[(req[rows] + order[rows]).argsort()]
    else:  # sort each other request's rows in place: requests keep their places along rows
        shuffled = (~in_order[req[rows]]).nonzero()[0]
        if shuffled.size:
            some = rows[shuffled]
            rows = rows.copy()
            rows[shuffled] = some[(req[some] + order[some]).argsort()]
    r = req[rows]
    count = np.bincount(r, minlength=want.size)
    # Keep a row when its rank in its request (its position less the request's first) is below want[r].
    return rows[np.arange(rows.size) < (count.cumsum() - count + want)[r]]


@dataclass(frozen=True)
class Walk:
    """One walk for each request of a batch: request ``r`` walks ``candidates[start[r]:start[r] + size[r]]``.

    Attributes
    ----------
    start, size : ndarray of int64, shape (n_requests,)
        Where each request's group starts in the candidates, and its size.
    skip_partner : ndarray of bool, shape (n_requests,), optional
        M8: requests whose walk also skips residents who had the complementary
        intervention (default: none).
    """

    start: np.ndarray
    size: np.ndarray
    skip_partner: np.ndarray | None = None


class Walks:
    """M7: named walks of every request through uniformly random orders of groups, keeping the first open residents.

    Request ``r``'s walk ``name`` goes through ``walks[name]``'s group of ``candidates``,
    residents at flat positions ``candidate + offset[r]`` in ``records``. A resident is
    open unless the request's team knows it served them (``streams & known_bits``), or
    another stream served them and shared data reveals it (probability ``sees_others``,
    drawn once per request and resident). A walk with ``skip_partner`` also skips
    residents who had the complementary intervention, at ``partner_shift[r]`` from a
    resident's flat position for the request's intervention. :meth:`begin` looks at
    about ``2 * want + 8`` residents drawn at random from each group (all of a smaller
    group); :meth:`extend` goes on, in random order, through the residents not yet looked
    at when a walk needs more.

    Every walk of every request is walked at once: draws are made over all of them
    together, walk after walk in the order of ``walks``, so the names only say which part
    of the batch is which.

    Parameters
    ----------
    candidates : ndarray of int
        Residents (household or young-person indices), the groups one after another.
    walks : dict of str to Walk
        Each walk, by name.
    offset : ndarray of int64, shape (n_requests,)
        Flat position in ``records`` of each request's intervention's first resident.
    known_bits : ndarray of int, shape (n_requests,)
        Streams whose recipient records each request's team holds.
    sees_others : float
        Chance that another stream's recipient is known (shared data).
    records : RecipientRecords
    rng : numpy.random.Generator
    partner_shift : ndarray of int64, shape (n_requests,), optional
        Needed when a walk has ``skip_partner``.
    """

    def __init__(
        self,
        candidates: np.ndarray,
        walks: dict[str, Walk],
        *,
        offset: np.ndarray,
        known_bits: np.ndarray,
        sees_others: float,
        records: RecipientRecords,
        rng: np.random.Generator,
        partner_shift: np.ndarray | None = None,
    ) -> None:
        self.names, self.requests = tuple(walks), offset.size
        each = len(walks)
        self.candidates, self.records, self.rng, self.sees_others = candidates, records, rng, sees_others
        self.start = np.concatenate([walk.start for walk in walks.values()])
        self.size = np.concatenate([walk.size for walk in walks.values()])
        self.offset = np.concatenate([offset] * each)
        self.known_bits = np.concatenate([known_bits] * each).astype(np.uint16)
        skips = [walk.skip_partner for walk in walks.values()]
        self.skip_partner = None if all(skip is None for skip in skips) else np.concatenate(
            [np.zeros(self.requests, dtype=bool) if skip is None else skip for skip in skips]
        )
        # Walks that do not skip look at their own residents (shift 0), so that _look can read
        # a partner for every resident in one go and mask the reads it does not need.
        self.partner_shift = None if self.skip_partner is None else np.where(
            self.skip_partner, np.concatenate([partner_shift] * each), 0
        )

    def _stacked(self, per_walk: dict[str, np.ndarray]) -> np.ndarray:
        """One array of every walk's values, walk after walk."""
        return np.concatenate([per_walk[name] for name in self.names])

    def found(self) -> dict[str, np.ndarray]:
        """Open residents kept so far by each walk, per request: ndarray of int64, shape (n_requests,)."""
        n = self.requests
        return {name: self._found[i * n : (i + 1) * n] for i, name in enumerate(self.names)}

    def _look(self, walk: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Flat position, openness and ``had`` of the residents ``candidates[at]`` met by each walk."""
        idx = self.candidates[at] + self.offset[walk]
        had = self.records.had[idx]
        ok = (self.records.streams[idx] & self.known_bits[walk]) == 0
        if self.sees_others > 0:
            ok &= ~(had & (self.rng.random(walk.size) < self.sees_others))
        if self.skip_partner is not None:
            ok &= ~(self.skip_partner[walk] & self.records.had[idx + self.partner_shift[walk]])
        return idx, ok, had

    def begin(self, wanted: dict[str, np.ndarray]) -> None:
        """Look at a random sample of each group and keep up to ``wanted[name][r]`` open residents in each walk."""
        want, size = self._stacked(wanted), self.size
        m = np.where(want > 0, np.minimum(size, 2 * want + 8), 0)
        self.sampled = m < size  # groups not looked at in full (empty groups are looked at in full)
        walk = np.arange(want.size).repeat(m)
        u = self.rng.random(walk.size)
        at = self.start[walk] + (u * size[walk]).astype(np.int64)
        whole = (~self.sampled[walk]).nonzero()[0]
        if whole.size:  # a whole group is looked at in turn, from its start
            at[whole] = whole + (self.start - (m.cumsum() - m))[walk[whole]]
        idx, ok, had = self._look(walk, at)
        # Larger groups are drawn with replacement: only the first draw of a resident counts.
        ok[repeats(idx)] = False
        # A sample's draws are kept in the order drawn; a whole group's are ordered by their u.
        keep = first_per_request(walk, u, ok.nonzero()[0], want, in_order=self.sampled)
        self.walk, self.idx, self.had = walk[keep], idx[keep], had[keep]
        self._found = np.bincount(self.walk, minlength=want.size)
        self._drawn_walk, self._drawn_at = walk, at  # every draw; extend reads those of the sampled walks it goes on with

    def extend(self, wanted: dict[str, np.ndarray]) -> None:
        """Walk on where fewer than ``wanted[name][r]`` open residents were kept and some are unseen (once, after :meth:`begin`)."""
        want = self._stacked(wanted)
        more = self.sampled & (self._found < want)
        if not more.any():
            return
        rest_size = np.where(more, self.size, 0)
        walk = np.arange(want.size).repeat(rest_size)
        # The walked-on groups are listed one after another; shift takes a walk's position in
        # the candidates to its position in that list.
        shift = rest_size.cumsum() - rest_size - self.start
        seen = np.zeros(walk.size, dtype=bool)
        looked = more[self._drawn_walk]
        seen[shift[self._drawn_walk[looked]] + self._drawn_at[looked]] = True
        rest = (~seen).nonzero()[0]
        walk = walk[rest]
        idx, ok, had = self._look(walk, rest - shift[walk])
        keep = first_per_request(walk, self.rng.random(walk.size), ok.nonzero()[0], want - self._found, many=True)
        walk = np.concatenate([self.walk, walk[keep]])
        by_walk = walk.argsort(kind="stable")
        self.walk = walk[by_walk]
        self.idx = np.concatenate([self.idx, idx[keep]])[by_walk]
        self.had = np.concatenate([self.had, had[keep]])[by_walk]
        self._found = np.bincount(self.walk, minlength=want.size)

    def first(self, taken: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The first ``taken[name][r]`` residents kept by each walk, in walk order.

        Returns
        -------
        request, idx, had : ndarray
            Request of each resident taken, its flat position in ``records``, and whether
            another stream had already served it.
        """
        found = self._found
        chosen = np.arange(self.walk.size) < (found.cumsum() - found + self._stacked(taken))[self.walk]
        return self.walk[chosen] % max(self.requests, 1), self.idx[chosen], self.had[chosen]
