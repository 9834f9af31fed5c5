"""Walks: uniform samples of the open residents of groups, found without listing them.

A request that wants ``w`` of a group's residents that are still open to it (M7: not
already served by its team, and not known through shared data to be served by another
stream) walks the group in a uniformly random order and keeps the first ``w`` open
residents it meets: a uniform sample of the open residents. :func:`choose` chooses the
recipients of every request of one batch (:func:`~pfpp_sim.targeting.select_recipients`)
with three walks per request, walked together stage by stage:

- ``intended``: the request's intended group or, for a pooled team (M8), the intended
  residents who had the complementary intervention, listed for it first;
- ``intended_rest``: a pooled team's other intended residents (none for other teams);
- ``others``: the other reachable residents.

Each walk first looks at about ``2 * want + 8`` residents drawn at random from its group
(all of a smaller group, in a random order), then, if it kept too few, goes on in a
random order through the residents not yet looked at. The stages draw their numbers in
turn over every walk of the batch (walk after walk, in the order above), so the choice
depends only on the batch and the stream's state.

The functions are compiled loops (numba), each one pass where NumPy would need many
calls with a fixed cost each: a batch is chosen in one call. They are compiled on first
use and cached beside this file, and with ``NUMBA_DISABLE_JIT=1`` run as plain Python.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["choose"]


def choose(
    candidates, spare, in_start, in_size, out_start, out_size, n, precision, bundle_first,
    offset, complement_offset, known_bits, stream_bit, sees_others, had, streams, rng, batch_first,
):
    """M4, M7, M8: choose up to ``n[r]`` recipients for each request ``r``, batch after batch, and record them.

    The requests of one batch are for distinct interventions and places, so they are
    chosen together; a batch sees the recipients the batches before it recorded.

    Parameters
    ----------
    candidates : ndarray of int32 or int64
        The month's target groups (:class:`~pfpp_sim.targeting.TargetGroups`); a pooled
        team's complement recipients are listed from ``spare`` on (written).
    spare : int
        Start of the room left in ``candidates``.
    in_start, in_size, out_start, out_size : ndarray of int64, shape (R,)
        Each request's intended group and its other reachable residents in ``candidates``.
    n : ndarray of int64, shape (R,)
        Recipients wanted.
    precision : ndarray of float64, shape (R,)
        Share of recipients to draw from the intended group (below 0 counts as 0, above 1 as 1).
    bundle_first : ndarray of bool, shape (R,)
        Pooled teams, which serve the complement's recipients first.
    offset, complement_offset : ndarray of int64, shape (R,)
        Flat position in ``had`` of the first resident of each request's intervention, and
        of its complementary intervention.
    known_bits, stream_bit : ndarray of uint16, shape (R,)
        Streams whose recipients each request's team knows; the bit it records.
    sees_others : float
        Chance that another stream's recipient is known (shared data), drawn once per
        request and resident looked at.
    had : ndarray of bool
        Who has had each intervention (:attr:`~pfpp_sim.targeting.RecipientRecords.had`); written.
    streams : ndarray of uint16
        Which streams served them (:attr:`~pfpp_sim.targeting.RecipientRecords.streams`); written.
    rng : numpy.random.Generator
        The ``councils`` stream.
    batch_first : ndarray of int64
        Where each batch starts among the requests, in the order they are chosen.

    Returns
    -------
    recipients, request : ndarray of int64
        Residents served for the first time with their request's intervention (by any
        stream), batch after batch, and the request that served each.
    served, duplicated, intended : ndarray of int64, shape (R,)
        Residents each request served, of them those another stream had served already,
        and those in the intended group.
    """
    served, duplicated, intended = np.zeros(n.size, dtype=np.int64), np.zeros(n.size, dtype=np.int64), np.zeros(n.size, dtype=np.int64)
    recipients, request = np.empty(n.sum(), dtype=np.int64), np.empty(n.sum(), dtype=np.int64)
    fresh = 0
    for b in range(batch_first.size):
        first, end = batch_first[b], batch_first[b + 1] if b + 1 < batch_first.size else n.size
        new, by, served[first:end], duplicated[first:end], intended[first:end] = _choose_batch(
            candidates, spare, in_start[first:end], in_size[first:end], out_start[first:end], out_size[first:end],
            n[first:end], precision[first:end], bundle_first[first:end], offset[first:end], complement_offset[first:end],
            known_bits[first:end], stream_bit[first:end], sees_others, had, streams, rng,
        )
        recipients[fresh : fresh + new.size], request[fresh : fresh + new.size] = new, first + by
        fresh += new.size
    return recipients[:fresh], request[:fresh], served, duplicated, intended


def _choose_batch(
    candidates, spare, in_start, in_size, out_start, out_size, n, precision, bundle_first,
    offset, complement_offset, known_bits, stream_bit, sees_others, had, streams, rng,
):
    """Choose the recipients of one batch of requests (for distinct interventions and places), and record them.

    Parameters and results as in :func:`choose`, for the batch's requests (``request``
    indexes them) and without ``batch_first``.
    """
    requests = n.size
    n_in = _intended_counts(n, precision, rng)
    start, size, skip = _walk_groups(candidates, spare, in_start, in_size, out_start, out_size, bundle_first, complement_offset, had)
    partner_shift = complement_offset - offset
    look = (offset, known_bits, skip, partner_shift, sees_others, had, streams)
    want = np.concatenate((n, n, n))
    sampled, drawn_first, drawn_at, first_idx, first_had, first_found = _begin(candidates, start, size, want, look, rng)
    found_in, found_rest, found_out = first_found[:requests], first_found[requests : 2 * requests], first_found[2 * requests :]
    # Walk on as far as the fill-in between the groups may need (over-walking is harmless:
    # only the first residents of each walk are taken).
    in_need = np.minimum(n, np.maximum(n_in, n - found_out))
    want = np.concatenate((in_need, in_need - found_in, n - np.minimum(n_in, found_in + found_rest)))
    more_idx, more_had, more_found = _extend(candidates, start, size, want, sampled, first_found, drawn_first, drawn_at, look, rng)
    found = first_found + more_found
    found_in, found_rest, found_out = found[:requests], found[requests : 2 * requests], found[2 * requests :]
    found_in_all = np.minimum(found_in + found_rest, n)
    take_out = np.minimum(n - np.minimum(n_in, found_in_all), found_out)
    take_in = np.minimum(found_in_all, n - take_out)
    take_first = np.minimum(found_in, take_in)
    taken = np.concatenate((take_first, take_in - take_first, take_out))
    recipients, request, duplicated = _take(taken, first_idx, first_had, first_found, more_idx, more_had, more_found, offset, stream_bit, had, streams)
    return recipients, request, take_in + take_out, duplicated, take_in


def _intended_counts(n, precision, rng):
    """M4: how many of each request's ``n`` recipients should be intended: binomial(n, precision), as a sum of Bernoulli draws."""
    n_in = np.zeros(n.size, dtype=np.int64)
    for r in range(n.size):
        for _ in range(n[r]):
            if rng.random() < precision[r]:
                n_in[r] += 1
    return n_in


def _walk_groups(candidates, spare, in_start, in_size, out_start, out_size, bundle_first, complement_offset, had):
    """Each walk's group in ``candidates`` (start and size) and whether it skips the complement's recipients.

    Walk ``r`` of request ``r`` is ``intended``, ``R + r`` is ``intended_rest`` and
    ``2R + r`` is ``others``. A pooled request's ``intended`` walk goes through its
    intended residents who had the complement (M8), listed from ``spare`` on, request
    after request; its ``intended_rest`` walk goes through the whole intended group,
    skipping them.
    """
    requests = in_start.size
    start, size = np.zeros(3 * requests, dtype=np.int64), np.zeros(3 * requests, dtype=np.int64)
    skip = np.zeros(3 * requests, dtype=np.bool_)
    listed = spare
    for r in range(requests):
        start[r], size[r] = in_start[r], in_size[r]
        start[requests + r] = in_start[r]
        start[2 * requests + r], size[2 * requests + r] = out_start[r], out_size[r]
        if bundle_first[r]:
            size[requests + r], skip[requests + r] = in_size[r], True
            start[r] = listed
            for c in range(in_start[r], in_start[r] + in_size[r]):
                if had[candidates[c] + complement_offset[r]]:
                    candidates[listed] = candidates[c]
                    listed += 1
            size[r] = listed - start[r]
    return start, size, skip


def _look(candidates, walk, at, look, rng):
    """Flat position, openness and ``had`` of the residents ``candidates[at]`` met by each walk.

    A resident is closed to a request when its team knows it served them, when another
    stream served them and shared data reveal it (a draw for every resident looked at,
    in turn, when ``sees_others`` is above 0), or, on a walk that skips them, when they
    had the complement.
    """
    offset, known_bits, skip, partner_shift, sees_others, had, streams = look
    request = np.arange(skip.size) % offset.size  # each walk's request: a division per walk, not per resident
    idx = np.empty(at.size, dtype=np.int64)
    is_open, was_had = np.empty(at.size, dtype=np.bool_), np.empty(at.size, dtype=np.bool_)
    for j in range(at.size):
        r = request[walk[j]]
        i = candidates[at[j]] + offset[r]
        idx[j], was_had[j] = i, had[i]
        is_open[j] = (streams[i] & known_bits[r]) == 0 and not (skip[walk[j]] and had[i + partner_shift[r]])
    if sees_others > 0:
        for j in range(at.size):
            if rng.random() < sees_others and was_had[j]:
                is_open[j] = False
    return idx, is_open, was_had


def _begin(candidates, start, size, want, look, rng):
    """First looks: about ``2 * want + 8`` residents of each walk's group, and up to ``want`` open ones kept.

    A larger group is drawn with replacement, in the order drawn (a resident met again
    counts once); a smaller one is looked at whole, ordered by a draw per resident.

    Returns
    -------
    sampled : ndarray of bool
        Walks whose group was not looked at whole.
    drawn_first, drawn_at : ndarray of int64
        Where each walk's draws start among the draws (one more entry: the end), and each
        draw's position in ``candidates``.
    kept_idx, kept_had : ndarray
        The residents kept, walk after walk: flat position, and whether another stream had served them.
    found : ndarray of int64
        Residents kept by each walk.
    """
    walks = start.size
    looks = np.zeros(walks, dtype=np.int64)
    drawn_first = np.zeros(walks + 1, dtype=np.int64)
    most = 0  # draws of the walk that draws most
    for w in range(walks):
        if want[w] > 0:
            looks[w] = min(size[w], 2 * want[w] + 8)
            most = max(most, looks[w])
        drawn_first[w + 1] = drawn_first[w] + looks[w]
    sampled = looks < size
    walk = np.empty(drawn_first[walks], dtype=np.int64)
    at, u = np.empty(walk.size, dtype=np.int64), np.empty(walk.size)
    for w in range(walks):
        for j in range(drawn_first[w], drawn_first[w + 1]):
            u[j] = rng.random()
            walk[j] = w
            at[j] = start[w] + (np.int64(u[j] * size[w]) if sampled[w] else j - drawn_first[w])
    idx, is_open, was_had = _look(candidates, walk, at, look, rng)
    kept = np.empty(walk.size, dtype=np.int64)
    found = np.zeros(walks, dtype=np.int64)
    table = np.empty(_slots(most), dtype=np.int64)  # room for any walk's repeats, shared by them all: see _close_repeats
    filled = 0
    for w in range(walks):
        first, end = drawn_first[w], drawn_first[w + 1]
        if first == end:  # drew nothing, so keeps no one
            continue
        if sampled[w]:  # in the order drawn
            _close_repeats(at, first, end, is_open, table)
            for j in range(first, end):
                if found[w] < want[w] and is_open[j]:
                    kept[filled] = j
                    filled += 1
                    found[w] += 1
        else:  # in the order of the draws
            rows = _lowest(first + np.flatnonzero(is_open[first:end]), u, w, want[w])
            found[w] = rows.size
            kept[filled : filled + found[w]] = rows
            filled += found[w]
    kept = kept[:filled]
    return sampled, drawn_first, at, idx[kept], was_had[kept], found


def _slots(draws):
    """Slots of the hash table of a walk of ``draws`` draws: a power of 2, at least 16 and twice the draws."""
    slots = 16
    while slots < 2 * draws:
        slots *= 2
    return slots


def _close_repeats(at, first, end, is_open, table):
    """Close the draws ``first:end`` of a walk (drawn with replacement) that met a position an earlier draw met.

    A resident met again counts once. A group lists each resident once, and walks of
    different groups meet the same resident only as a pooled team's two intended walks
    do, where the second skips them anyway, so repeats are looked for within a walk.
    ``table`` is room for the hash table, at least :func:`_slots` of the walk's draws
    long (shared by the walks: allocating one for each would cost more than the walk).
    """
    slots = _slots(end - first)
    table[:slots] = -1  # positions met, by their low bits (positions drawn uniformly)
    for j in range(first, end):
        slot = at[j] & (slots - 1)
        while table[slot] != -1 and table[slot] != at[j]:
            slot = (slot + 1) & (slots - 1)
        if table[slot] == at[j]:
            is_open[j] = False
        table[slot] = at[j]


def _extend(candidates, start, size, want, sampled, found, drawn_first, drawn_at, look, rng):
    """Walk on where a sampled walk kept fewer than ``want`` open residents: through the rest of its group in a random order.

    Draws nothing when no walk goes on.

    Returns
    -------
    kept_idx, kept_had : ndarray
        The residents kept, walk after walk, as in :func:`_begin`.
    more : ndarray of int64
        Residents kept by each walk.
    """
    walks = start.size
    goes_on = sampled & (found < want)
    more = np.zeros(walks, dtype=np.int64)
    if not goes_on.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.bool_), more
    rest_first = np.zeros(walks + 1, dtype=np.int64)
    at = np.empty(np.where(goes_on, size, 0).sum(), dtype=np.int64)
    filled = 0
    for w in range(walks):
        if goes_on[w]:
            seen = np.zeros(size[w], dtype=np.bool_)
            for j in range(drawn_first[w], drawn_first[w + 1]):
                seen[drawn_at[j] - start[w]] = True
            for p in range(size[w]):
                if not seen[p]:
                    at[filled] = start[w] + p
                    filled += 1
        rest_first[w + 1] = filled
    at = at[:filled]
    walk = np.empty(filled, dtype=np.int64)
    for w in range(walks):
        walk[rest_first[w] : rest_first[w + 1]] = w
    idx, is_open, was_had = _look(candidates, walk, at, look, rng)
    order = np.empty(filled)
    for j in range(filled):
        order[j] = rng.random()
    kept = np.empty(filled, dtype=np.int64)
    kept_so_far = 0
    for w in range(walks):
        if not goes_on[w]:  # walked on through no one
            continue
        rows = _lowest(rest_first[w] + np.flatnonzero(is_open[rest_first[w] : rest_first[w + 1]]), order, w, want[w] - found[w])
        more[w] = rows.size
        kept[kept_so_far : kept_so_far + more[w]] = rows
        kept_so_far += more[w]
    kept = kept[:kept_so_far]
    return idx[kept], was_had[kept], more


def _lowest(rows, order, w, count):
    """The (up to) ``count`` of ``rows`` of lowest ``w + order[row]``, in rising order (ties in the order given).

    Only the rows whose order falls below a threshold leaving about twice as many as
    wanted are sorted, or all of them when too few fall below it, so the result is exact.
    The key is the floating-point sum ``w + order``, as if the walks of a batch were
    sorted together; orders the sum rounds alike keep the order given.
    """
    count = min(max(count, 0), rows.size)
    below = rows[order[rows] < (2 * count + 10) / max(rows.size, 1)]
    if below.size >= count:
        rows = below
    return rows[np.argsort(w + order[rows], kind="mergesort")][:count]


def _take(taken, first_idx, first_had, first_found, more_idx, more_had, more_found, offset, stream_bit, had, streams):
    """The first ``taken[w]`` residents kept by each walk (first looks, then walking on), recorded as served.

    Returns
    -------
    recipients, request : ndarray of int64
        Residents no stream had served, and their request.
    duplicated : ndarray of int64, shape (R,)
        Residents each request served that another stream had served already.
    """
    requests = offset.size
    recipients = np.empty(taken.sum(), dtype=np.int64)
    request = np.empty(taken.sum(), dtype=np.int64)
    duplicated = np.zeros(requests, dtype=np.int64)
    fresh, first_at, more_at = 0, 0, 0
    for w in range(taken.size):
        r = w % requests
        for j in range(taken[w]):
            if j < first_found[w]:
                i, was = first_idx[first_at + j], first_had[first_at + j]
            else:
                i, was = more_idx[more_at + j - first_found[w]], more_had[more_at + j - first_found[w]]
            had[i] = True
            streams[i] |= stream_bit[r]
            if was:
                duplicated[r] += 1
            else:
                recipients[fresh], request[fresh] = i - offset[r], r
                fresh += 1
        first_at += first_found[w]
        more_at += more_found[w]
    return recipients[:fresh], request[:fresh], duplicated


# Compiled here, not by decorators, so that mutation testing (which leaves decorated functions
# alone) mutates them too; with NUMBA_DISABLE_JIT=1 they run as plain Python.
_compile = numba.njit(cache=True, nogil=True)
_intended_counts = _compile(_intended_counts)
_walk_groups = _compile(_walk_groups)
_look = _compile(_look)
_begin = _compile(_begin)
_slots = _compile(_slots)
_close_repeats = _compile(_close_repeats)
_extend = _compile(_extend)
_lowest = _compile(_lowest)
_take = _compile(_take)
_choose_batch = _compile(_choose_batch)
choose = _compile(choose)
