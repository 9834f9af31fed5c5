"""Targeting: who interventions reach (M4 data sharing, M7 duplication, M8 bundling).

A share ``q`` of recipients comes from the *intended* group (e.g. fuel-poor households),
the rest from the wider group outreach reaches; ``q`` rises with data sharing towards a
ceiling below 1 (M4, :func:`targeting_precision`). A
stream always knows its own past recipients; others' only through shared data, so siloed
streams serve the same people twice (duplication, M7). Pooled teams serve people who
already had a complementary intervention from the same pot first (bundling, M8); no bonus
is added: bundles work better only through the resident rules (e.g. retrofit and income
both move a household across the fuel-poverty line).

Deliveries are chosen in batches of requests, at most one per place and intervention,
with vectorised sampling: see :func:`select_recipients`.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from pfpp_sim.interventions import HOUSEHOLD_KEYS
from pfpp_sim.population import AGE_18, BAND_D, EDUCATION, ILO_UNEMPLOYED, NEET, Population
from pfpp_sim.scenario import INTERVENTION_KEYS

__all__ = [
    "COMPLEMENTS",
    "KEY_INDEX",
    "WAVES",
    "Delivery",
    "RecipientRecords",
    "TargetGroups",
    "Targeting",
    "select_recipients",
    "target_groups",
    "targeting_precision",
]

COMPLEMENTS = {
    "retrofit": "income_advice",
    "income_advice": "retrofit",
    "bill_support": "retrofit",
    "employment_support": "mh_hub",
    "mh_hub": "employment_support",
    "careers_guidance": "mh_hub",
    "asb_outreach": "employment_support",
}
"""M8: the complementary intervention a pooled team serves first."""


def _waves() -> tuple[int, ...]:
    wave: dict[str, int] = {}
    for i, key in enumerate(INTERVENTION_KEYS):
        complement = COMPLEMENTS[key]
        wave[key] = wave[complement] + 1 if INTERVENTION_KEYS.index(complement) < i else 0
    return tuple(wave[k] for k in INTERVENTION_KEYS)


WAVES = _waves()
"""Wave of each intervention (in ``INTERVENTION_KEYS`` order) within one round of delivery.

An intervention whose complement comes before it in ``INTERVENTION_KEYS`` is delivered
in a later wave, so a pooled team sees who had the complement this month, as when one
award delivers its interventions in turn.
"""
KEY_INDEX = {key: i for i, key in enumerate(INTERVENTION_KEYS)}
"""Position of each intervention in ``INTERVENTION_KEYS`` (its index in arrays by intervention)."""
_COMPLEMENT_INDEX = np.array([INTERVENTION_KEYS.index(COMPLEMENTS[k]) for k in INTERVENTION_KEYS])


def targeting_precision(hit_rate: float, data_sharing: float, match_ceiling: float) -> float:
    """M4: shared data raise the share of recipients from the intended group, short of 1.

    Outreach alone finds the intended group at ``hit_rate``; shared administrative data
    close the share ``data_sharing x match_ceiling`` of the rest of the gap. The ceiling
    is below 1 because the data match the intended group imperfectly (benefits data
    identify low income, not a home's energy efficiency).

    Parameters
    ----------
    hit_rate : float
        Share of outreach recipients in the intended group without shared data, in [0, 1].
    data_sharing : float
        The ``data_sharing`` lever, in [0, 1].
    match_ceiling : float
        Share of the gap that fully shared data close, in [0, 1].

    Returns
    -------
    float
        Share of recipients drawn from the intended group, in [0, 1].
    """
    return hit_rate + (1.0 - hit_rate) * data_sharing * match_ceiling


class RecipientRecords:
    """Who has had each intervention (one-off) or has it now (time-limited), and which streams served them.

    One flat column of each kind holds every intervention's residents in turn
    (``base[k]`` is where intervention ``k`` starts), so that one batch can serve several
    interventions; :attr:`received` and :attr:`served_by` give each intervention's view.

    Parameters
    ----------
    n_households, n_young : int
        Residents of each kind.
    """

    def __init__(self, n_households: int, n_young: int) -> None:
        sizes = np.array([n_households if k in HOUSEHOLD_KEYS else n_young for k in INTERVENTION_KEYS], dtype=np.int64)
        self.base = np.cumsum(sizes) - sizes
        self.had = np.zeros(int(sizes.sum()), dtype=bool)
        self.streams = np.zeros(int(sizes.sum()), dtype=np.uint16)
        self.received = {k: self.had[b : b + s] for k, b, s in zip(INTERVENTION_KEYS, self.base, sizes)}
        """Who has ever had each intervention (any stream): views of ``had``."""
        self.served_by = {k: self.streams[b : b + s] for k, b, s in zip(INTERVENTION_KEYS, self.base, sizes)}
        """Bitmask of the streams that served each resident with each intervention: views of ``streams``."""
        self._ending: dict[int, list[tuple[str, np.ndarray]]] = defaultdict(list)

    def expire_at(self, month: int, key: str, residents: np.ndarray) -> None:
        """Schedule the end of time-limited support: from ``month`` the residents may be served again.

        A queue of indices by month, so expiry costs O(recipients), not a pass over
        every resident.
        """
        if residents.size:
            self._ending[month].append((key, residents))

    def expire(self, month: int, until: dict[str, np.ndarray]) -> None:
        """Forget who had support that ends at ``month``: they are eligible again, and serving
        them again is not duplication (M7 counts only support still running).

        Parameters
        ----------
        month : int
            The month from which the support no longer runs.
        until : dict of str to ndarray of int32
            Each time-limited intervention's end month per resident
            (:func:`~pfpp_sim.interventions.support_until`). Only residents whose support
            still ends at ``month`` are forgotten: one renewed since, or replaced by a
            newcomer, keeps its record.
        """
        for key, residents in self._ending.pop(month, []):
            ended = residents[until[key][residents] == month] + self.base[KEY_INDEX[key]]
            self.had[ended] = False
            self.streams[ended] = 0


@dataclass
class Delivery:
    """What one batch of delivery did, per request and in all.

    Attributes
    ----------
    recipients : ndarray of int64
        Residents (household or young-person indices) served for the first time with the
        request's intervention (by any stream), over all requests.
    request : ndarray of int64, same shape as ``recipients``
        Request that served each of them.
    served : ndarray of int64, shape (n_requests,)
        Residents each request served, duplicates included.
    duplicated : ndarray of int64, shape (n_requests,)
        Of those, residents another stream had already served.
    intended : ndarray of int64, shape (n_requests,)
        Of those, residents in the intended group.
    """

    recipients: np.ndarray
    request: np.ndarray
    served: np.ndarray
    duplicated: np.ndarray
    intended: np.ndarray


@dataclass
class Targeting:
    """Targeting settings of the requests of one batch, one entry per request."""

    precision: np.ndarray  # float64: share of recipients drawn from the intended group
    sees_others: float  # chance that another stream's recipient is known (shared data)
    bundle_first: np.ndarray  # bool: pooled team, serve complement recipients first
    known_bits: np.ndarray  # uint16: streams whose recipient records the serving team holds
    stream_bit: np.ndarray  # uint16: bit recorded in ``served_by`` for this delivery


@dataclass(frozen=True)
class TargetGroups:
    """Each intervention's reachable residents in every place, split into intended and others.

    ``candidates`` holds residents (household or young-person indices). Intervention
    ``k``'s intended residents in place ``p`` are
    ``candidates[in_start[k, p]:in_start[k, p] + in_size[k, p]]``, its other reachable
    residents likewise with ``out_``; interventions that reach the same residents share
    one listing. A resident's position in the flat columns of :class:`RecipientRecords`
    is ``candidate + records.base[k]``. The groups only depend on resident state, so
    they are computed once a month and shared by every delivery of the month.
    ``candidates`` ends with room (from ``spare``) for the groups one batch of
    deliveries lists for itself (:func:`select_recipients`).
    """

    candidates: np.ndarray  # int32 (int64 past 2**31 residents)
    spare: int  # start of the room left for one batch's own groups
    in_start: np.ndarray  # int64, (K, P)
    in_size: np.ndarray  # int64, (K, P)
    out_start: np.ndarray  # int64, (K, P)
    out_size: np.ndarray  # int64, (K, P)


def _group_name(key: str) -> str:
    """Interventions with the same group name reach the same residents."""
    return "households" if key in HOUSEHOLD_KEYS and key != "retrofit" else key


def _masks(key: str, pop: Population, cold: np.ndarray) -> tuple[str, np.ndarray | None, np.ndarray]:
    """Name, reachable (None: everyone) and intended masks of every resident for an intervention.

    Interventions with the same name have the same groups. ``cold`` says whether each
    young person's home is fuel poor.
    """
    h, y = pop.households, pop.young
    if key == "retrofit":
        reachable = h.band >= BAND_D
        return key, reachable, reachable & h.fuel_poor
    if key in HOUSEHOLD_KEYS:
        return "households", None, h.fuel_poor
    if key == "careers_guidance":
        reachable = (y.status != NEET) & (y.age_months < 20 * 12)
        return key, reachable, reachable & (y.mh_disorder | cold)
    if key == "employment_support":  # NEET young people seeking work (ILO unemployed) first
        return key, (y.status != EDUCATION) | (y.age_months >= AGE_18), (y.status == NEET) & (y.ilo_status == ILO_UNEMPLOYED)
    if key == "mh_hub":
        return key, None, y.mh_disorder
    return key, None, (y.status == NEET) | cold  # asb_outreach


def target_groups(
    pop: Population,
    keys: list[str] | None = None,
    *,
    cold: np.ndarray | None = None,
    executor: Executor | None = None,
) -> TargetGroups:
    """Every place's intended and other reachable residents for each intervention.

    Parameters
    ----------
    pop : Population
    keys : list of str, optional
        Interventions to compute (default: all); the others get empty groups.
    cold : ndarray of bool, shape (n_young,), optional
        Whether each young person's home is fuel poor (default: looked up now).
    executor : concurrent.futures.Executor, optional
        Lists the groups in its threads (the result does not depend on it).

    Returns
    -------
    TargetGroups
        ``candidates`` is int32 when every resident index fits (fewer than 2**31), else int64.
    """
    h, y = pop.households, pop.young
    if cold is None:
        cold = np.take(h.fuel_poor, y.household)
    n_places = pop.places.n
    shape = (len(INTERVENTION_KEYS), n_places)
    in_start, in_size = np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=np.int64)
    out_start, out_size = np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=np.int64)
    first_key: dict[str, str] = {}  # each group name and the first intervention that has it
    for key in INTERVENTION_KEYS:
        if keys is None or key in keys:
            first_key.setdefault(_group_name(key), key)

    def members(key: str) -> tuple[np.ndarray, np.ndarray]:
        _, reachable, intended = _masks(key, pop, cold)
        return np.flatnonzero(intended), np.flatnonzero(~intended if reachable is None else reachable & ~intended)

    run = map if executor is None else executor.map
    listed = dict(zip(first_key, run(members, first_key.values())))
    parts: list[np.ndarray] = [part for pair in listed.values() for part in pair]  # in candidates order
    offsets = np.cumsum([0, *(part.size for part in parts)])
    where: dict[str, list[np.ndarray]] = {}
    for i, (name, key) in enumerate(first_key.items()):
        people = h if key in HOUSEHOLD_KEYS else y
        bounds = np.array([s.start for s in people.slices] + [people.n])
        where[name] = []
        for part, offset in zip(listed[name], offsets[2 * i : 2 * i + 2].tolist()):
            edges = np.searchsorted(part, bounds)
            where[name] += [offset + edges[:-1], np.diff(edges)]
    for k, key in enumerate(INTERVENTION_KEYS):
        if keys is None or key in keys:
            in_start[k], in_size[k], out_start[k], out_size[k] = where[_group_name(key)]
    filled, spare = int(offsets[-1]), int(in_size.sum())
    candidates = np.empty(filled + spare, dtype=np.int32 if max(h.n, y.n) < 2**31 else np.int64)

    def copy(i: int) -> None:
        candidates[offsets[i] : offsets[i + 1]] = parts[i]

    list(run(copy, range(len(parts))))
    return TargetGroups(candidates, filled, in_start, in_size, out_start, out_size)


def _repeats(values: np.ndarray) -> np.ndarray:
    """Positions of the entries of ``values`` (non-negative ints) that an earlier entry equals.

    Sorts ``value << bits | position`` as plain integers (several times faster than a
    stable argsort) when that fits in 63 bits; the repeats found are the same.
    """
    n = values.size
    if n < 2:
        return np.zeros(0, dtype=np.intp)
    bits = int(n - 1).bit_length()
    if int(values.min()) >= 0 and int(values.max()).bit_length() + bits <= 63:
        key = np.sort((values.astype(np.int64) << bits) | np.arange(n, dtype=np.int64))
        value = key >> bits
        return (key[1:] & ((1 << bits) - 1))[value[1:] == value[:-1]]
    later = np.argsort(values, kind="stable")
    return later[1:][values[later[1:]] == values[later[:-1]]]


def _first_per_request(
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
    in ``in_order`` have their rows' ``order`` rising already, so only the others' rows
    are sorted.

    Returns the rows kept, by request and then order.
    """
    if many:
        r = req[rows]
        count = np.bincount(r, minlength=want.size)
        below = order[rows] < np.minimum(1.0, (2 * want + 10) / np.maximum(count, 1))[r]
        short = np.bincount(r[below], minlength=want.size) < np.minimum(want, count)
        rows = rows[below | short[r]]
    if in_order is None:
        rows = rows[np.argsort(req[rows] + order[rows])]
    else:  # sort each other request's rows in place: requests keep their places along rows
        shuffled = np.flatnonzero(~in_order[req[rows]])
        some = rows[shuffled]
        rows = rows.copy()
        rows[shuffled] = some[np.argsort(req[some] + order[some])]
    r = req[rows]
    count = np.bincount(r, minlength=want.size)
    rank = np.arange(rows.size) - (np.cumsum(count) - count)[r]
    return rows[rank < want[r]]


class _Walks:
    """Walks through uniformly random orders of groups, keeping the first open residents.

    Request ``r`` walks ``candidates[start[r]:start[r] + size[r]]``, residents at flat
    positions ``candidate + offset[r]`` in ``records``. A resident is open
    unless the request's team knows it served them (``streams & known_bits``), or
    another stream served them and shared data reveals it (probability ``sees_others``,
    drawn once per request and resident). Requests marked in ``skip_partner`` also skip
    residents who had the complementary intervention; ``partner_shift[r]`` is the
    distance from a resident's flat position for the request's intervention to the
    complement's. Keeping the first ``want`` open residents of a random order is a
    uniform sample of the open residents, found without listing them: :meth:`begin`
    looks at about ``2 * want + 8`` residents drawn at random from each group (all of a
    smaller group); :meth:`extend` goes on, in random order, through the residents not
    yet looked at when a request needs more.

    Attributes
    ----------
    req, idx, had : ndarray
        Request, flat position and whether another stream had served the resident, of
        every open resident kept: by request, then in walk order.
    found : ndarray of int64, shape (R,)
        Open residents kept per request.
    """

    def __init__(
        self,
        candidates: np.ndarray,
        start: np.ndarray,
        size: np.ndarray,
        offset: np.ndarray,
        *,
        known_bits: np.ndarray,
        sees_others: float,
        records: RecipientRecords,
        rng: np.random.Generator,
        skip_partner: np.ndarray | None = None,
        partner_shift: np.ndarray | None = None,
    ) -> None:
        self.candidates, self.first, self.size, self.offset = candidates, start, size, offset
        self.known_bits, self.sees_others, self.records, self.rng = known_bits, sees_others, records, rng
        self.skip_partner, self.partner_shift = skip_partner, partner_shift

    def _look(self, req: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Flat position, openness and ``had`` of the residents at ``pos`` in each request's group."""
        idx = self.candidates[self.first[req] + pos] + self.offset[req]
        had = self.records.had[idx]
        ok = (self.records.streams[idx] & self.known_bits[req]) == 0
        if self.sees_others > 0:
            ok &= ~(had & (self.rng.random(req.size) < self.sees_others))
        if self.skip_partner is not None:
            skip = np.flatnonzero(self.skip_partner[req])
            ok[skip] &= ~self.records.had[idx[skip] + self.partner_shift[req[skip]]]
        return idx, ok, had

    def begin(self, want: np.ndarray) -> None:
        """Look at a random sample of each group and keep up to ``want`` open residents."""
        size = self.size
        m = np.where(want > 0, np.minimum(size, 2 * want + 8), 0)
        self.whole = m == size  # groups looked at in full (also empty groups)
        req = np.repeat(np.arange(want.size), m)
        off = np.arange(req.size) - np.repeat(np.cumsum(m) - m, m)
        u = self.rng.random(req.size)
        whole = self.whole[req]
        pos = np.where(whole, off, (u * size[req]).astype(np.int64))
        idx, ok, had = self._look(req, pos)
        # Larger groups are drawn with replacement: only the first draw of a resident counts.
        ok[_repeats(idx)] = False
        # A sample's draws come in draw order (off); a whole group's order is its random u.
        keep = _first_per_request(
            req, np.where(whole, u, off / np.maximum(m[req], 1)), np.flatnonzero(ok), want, in_order=~self.whole
        )
        self.req, self.idx, self.had = req[keep], idx[keep], had[keep]
        self.found = np.bincount(self.req, minlength=want.size)
        self._looked_req, self._looked_pos = req[~whole], pos[~whole]

    def extend(self, want: np.ndarray) -> None:
        """Walk on where fewer than ``want`` open residents were kept and some are unseen."""
        more = ~self.whole & (self.found < want)
        if not more.any():
            return
        rest_size = np.where(more, self.size, 0)
        base = np.cumsum(rest_size) - rest_size
        req = np.repeat(np.arange(want.size), rest_size)
        seen = np.zeros(req.size, dtype=bool)
        looked = more[self._looked_req]
        seen[base[self._looked_req[looked]] + self._looked_pos[looked]] = True
        rest = np.flatnonzero(~seen)
        req = req[rest]
        idx, ok, had = self._look(req, rest - base[req])
        keep = _first_per_request(req, self.rng.random(req.size), np.flatnonzero(ok), want - self.found, many=True)
        by_req = np.argsort(np.concatenate([self.req, req[keep]]), kind="stable")
        self.req = np.concatenate([self.req, req[keep]])[by_req]
        self.idx = np.concatenate([self.idx, idx[keep]])[by_req]
        self.had = np.concatenate([self.had, had[keep]])[by_req]
        self.found = np.bincount(self.req, minlength=want.size)
        self.whole = self.whole | more


def select_recipients(
    keys: np.ndarray,
    places: np.ndarray,
    n: np.ndarray,
    groups: TargetGroups,
    records: RecipientRecords,
    targeting: Targeting,
    rng: np.random.Generator,
) -> Delivery:
    """M4, M7, M8: choose up to ``n[r]`` recipients of intervention ``keys[r]`` in place ``places[r]``.

    Requests are for distinct (intervention, place) pairs, so they are independent and
    chosen together. Each request draws how many recipients should be intended
    (binomial with its precision, M4), takes them at random from the open intended
    residents, the rest from the open other reachable residents, and fills from one
    group when the other runs short. Pooled teams (``bundle_first``) take the intended
    residents who had the complementary intervention first (M8). Residents a team
    knows it served are not served again; others' recipients are known only through
    shared data, so some are served twice (duplication, M7). ``records`` is updated in
    place.

    Parameters
    ----------
    keys : ndarray of int, shape (R,)
        Intervention of each request, as an index into ``INTERVENTION_KEYS``.
    places : ndarray of int, shape (R,)
        Place of each request.
    n : ndarray of int64, shape (R,)
        Recipients wanted by each request.
    groups : TargetGroups
        This month's groups (see :func:`target_groups`).
    records : RecipientRecords
    targeting : Targeting
    rng : numpy.random.Generator
        The ``councils`` stream.

    Returns
    -------
    Delivery
    """
    keys = np.asarray(keys, dtype=np.intp)
    places = np.asarray(places, dtype=np.intp)
    n = np.asarray(n, dtype=np.int64)
    count = places.size
    # Intended recipients: binomial(n, precision) as a sum of Bernoulli draws.
    owner = np.repeat(np.arange(count), n)
    hit = rng.random(owner.size) < np.clip(targeting.precision, 0.0, 1.0)[owner]
    n_in = np.bincount(owner[hit], minlength=count)
    # Three walks per request: (a) its intended group, or for a pooled team the intended
    # residents who had the complement, (b) a pooled team's other intended residents,
    # (c) the other reachable residents. The intended walk is (a) then (b).
    start_a, size_a = groups.in_start[keys, places], groups.in_size[keys, places]
    start_b, size_b = start_a.copy(), np.zeros(count, dtype=np.int64)
    pooled = np.flatnonzero(targeting.bundle_first)
    partner = shift = None
    if pooled.size:
        # (a) is listed in the spare room of ``candidates``; (b) walks the intended group
        # skipping (a).
        size = size_a[pooled]
        who = np.repeat(np.arange(pooled.size), size)
        members = groups.candidates[np.repeat(start_a[pooled] - (np.cumsum(size) - size), size) + np.arange(who.size)]
        shift = records.base[_COMPLEMENT_INDEX[keys]] - records.base[keys]
        had_partner = records.had[members + records.base[_COMPLEMENT_INDEX[keys[pooled]]][who]]
        with_partner = members[had_partner]
        groups.candidates[groups.spare : groups.spare + with_partner.size] = with_partner
        counts = np.bincount(who[had_partner], minlength=pooled.size)
        size_b[pooled] = size
        start_a[pooled] = groups.spare + np.cumsum(counts) - counts
        size_a[pooled] = counts
        partner = np.zeros(3 * count, dtype=bool)
        partner[count + pooled] = True
        shift = np.concatenate([shift, shift, shift])
    walks = _Walks(
        groups.candidates,
        np.concatenate([start_a, start_b, groups.out_start[keys, places]]),
        np.concatenate([size_a, size_b, groups.out_size[keys, places]]),
        np.concatenate([records.base[keys]] * 3),
        known_bits=np.concatenate([targeting.known_bits] * 3).astype(np.uint16),
        sees_others=float(targeting.sees_others),
        records=records,
        rng=rng,
        skip_partner=partner,
        partner_shift=shift,
    )
    walks.begin(np.concatenate([n, n, n]))
    found_a, found_b, found_out = walks.found[:count], walks.found[count : 2 * count], walks.found[2 * count :]
    # Walk on as far as the fill-in between the groups may need (over-walking is harmless:
    # only the first residents of each walk are taken).
    in_need = np.minimum(n, np.maximum(n_in, n - found_out))
    walks.extend(np.concatenate([in_need, in_need - found_a, n - np.minimum(n_in, found_a + found_b)]))
    found = walks.found
    found_a, found_b, found_out = found[:count], found[count : 2 * count], found[2 * count :]
    found_in = np.minimum(found_a + found_b, n)
    take_out = np.minimum(n - np.minimum(n_in, found_in), found_out)
    take_in = np.minimum(found_in, n - take_out)
    take_a = np.minimum(found_a, take_in)
    rank = np.arange(walks.req.size) - (np.cumsum(found) - found)[walks.req]
    chosen = rank < np.concatenate([take_a, take_in - take_a, take_out])[walks.req]
    request = walks.req[chosen] % max(count, 1)
    idx, had = walks.idx[chosen], walks.had[chosen]
    records.had[idx] = True
    records.streams[idx] |= np.asarray(targeting.stream_bit, dtype=np.uint16)[request]
    fresh = ~had
    return Delivery(
        recipients=idx[fresh] - records.base[keys[request[fresh]]],
        request=request[fresh],
        served=take_in + take_out,
        duplicated=np.bincount(request, weights=had, minlength=count).astype(np.int64),
        intended=take_in,
    )
