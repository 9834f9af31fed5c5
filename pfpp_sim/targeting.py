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

from pfpp_sim import listing, walks
from pfpp_sim.interventions import HOUSEHOLD_KEYS
from pfpp_sim.population import Block, Population, place_blocks
from pfpp_sim.scenario import INTERVENTION_KEYS, KEY_INDEX
from pfpp_sim.speed import BLOCK_HOUSEHOLDS

__all__ = [
    "COMPLEMENTS",
    "ListingBuffer",
    "WAVES",
    "Delivery",
    "RecipientRecords",
    "TargetGroups",
    "Targeting",
    "order_precision",
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
"""M8: the complementary intervention a pooled team serves first (assumption:complementary_interventions)."""


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


def order_precision(
    pooled: np.ndarray, *, hit_rate: float, data_sharing: float, match_ceiling: float, pooled_penalty: float
) -> np.ndarray:
    """M4: share of each delivery order's recipients to draw from the intended group.

    Every team targets with :func:`targeting_precision`; a pooled team serves several
    interventions and targets each less precisely than a specialist team would, so its
    precision is multiplied by ``pooled_penalty`` (the ``pooled_targeting_penalty``
    mechanism).

    Parameters
    ----------
    pooled : ndarray of bool, shape (n_orders,)
        Whether a pooled team delivers each order.
    hit_rate, data_sharing, match_ceiling : float
        As in :func:`targeting_precision`.
    pooled_penalty : float
        Multiplier of a pooled team's precision, in [0, 1].

    Returns
    -------
    ndarray of float64, shape (n_orders,)
        Share of each order's recipients drawn from the intended group, in [0, 1].
    """
    precision = targeting_precision(hit_rate, data_sharing, match_ceiling)
    return np.where(pooled, precision * pooled_penalty, precision)


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
        self._ending: dict[int, list[tuple[str, np.ndarray]]] = defaultdict(list)
        self._views()

    def _views(self) -> None:
        ends = np.append(self.base[1:], self.had.size)
        self.received = {k: self.had[b:e] for k, b, e in zip(INTERVENTION_KEYS, self.base, ends)}
        """Who has ever had each intervention (any stream): views of ``had``."""
        self.served_by = {k: self.streams[b:e] for k, b, e in zip(INTERVENTION_KEYS, self.base, ends)}
        """Bitmask of the streams that served each resident with each intervention: views of ``streams``."""

    def __getstate__(self) -> dict:
        """The records without the views, which a copy (or unpickling) makes again over its own columns."""
        return {k: v for k, v in self.__dict__.items() if k not in ("received", "served_by")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._views()

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


class ListingBuffer:
    """Memory for a month's target groups (:func:`target_groups`), kept from one month to the next.

    A national run lists most of its households in every month that delivers (about 200 MB);
    writing over the same memory each month spares the kernel handing out, and zeroing, as
    many fresh pages every time.
    """

    def __init__(self) -> None:
        self._array = np.empty(0, dtype=np.int32)

    def take(self, size: int, dtype: type) -> np.ndarray:
        """An uninitialised array of ``size`` entries of ``dtype``, over the kept memory when it is large enough."""
        if self._array.size < size or self._array.dtype != dtype:
            self._array = np.empty(size + size // 4, dtype=dtype)  # room for the next months' growth
        return self._array[:size]


def target_groups(
    pop: Population,
    keys: list[str] | None = None,
    *,
    cold: np.ndarray | None = None,
    executor: Executor | None = None,
    blocks: list[Block] | None = None,
    buffer: ListingBuffer | None = None,
) -> TargetGroups:
    """Every place's intended and other reachable residents for each intervention.

    The groups are counted in every place, then listed, block of places by block
    (:func:`~pfpp_sim.population.place_blocks`), by compiled loops that work out each
    resident's groups as they go (:mod:`~pfpp_sim.listing`, where the groups are defined).

    Parameters
    ----------
    pop : Population
    keys : list of str, optional
        Interventions to compute (default: all); the others get empty groups.
    cold : ndarray of bool, shape (n_young,), optional
        Whether each young person's home is fuel poor (default: looked up now).
    executor : concurrent.futures.Executor, optional
        Counts and lists the blocks in its threads (the result does not depend on it).
    blocks : list of Block, optional
        The population's blocks (default: blocks of :data:`~pfpp_sim.speed.BLOCK_HOUSEHOLDS`
        households).
    buffer : ListingBuffer, optional
        Memory to list into (default: new memory).

    Returns
    -------
    TargetGroups
        ``candidates`` is int32 when every resident index fits (fewer than 2**31), else int64.
    """
    h, y = pop.households, pop.young
    if cold is None:
        cold = np.take(h.fuel_poor, y.household)
    blocks = place_blocks(pop, BLOCK_HOUSEHOLDS) if blocks is None else blocks
    listed = [key for key in INTERVENTION_KEYS if keys is None or key in keys]
    names = list(dict.fromkeys(_group_name(key) for key in listed))  # each group once, in the order of its first intervention
    group = [names.index(_group_name(key)) for key in listed]  # each listed intervention's
    groups = np.array([listing.GROUPS.index(name) for name in names], dtype=np.int64)
    bounds = (
        np.array([s.start for s in h.slices] + [h.n], dtype=np.int64),
        np.array([s.start for s in y.slices] + [y.n], dtype=np.int64),
    )
    residents = ((h.band, h.fuel_poor), (y.status, y.age_months, y.mh_disorder, y.ilo_status, cold))
    counts = np.zeros((groups.size, 2, pop.places.n), dtype=np.int64)
    run = map if executor is None else executor.map

    def count(block: Block) -> None:
        listing.count_groups(groups, (block.places.start, block.places.stop), *bounds, *residents, counts)

    list(run(count, blocks))
    # Each group's intended residents, place after place, then its other reachable ones, group after group.
    starts = (np.cumsum(counts) - counts.ravel()).reshape(counts.shape)
    filled, spare = int(counts.sum()), int(counts[group, 0].sum())
    dtype = np.int32 if max(h.n, y.n) < 2**31 else np.int64
    candidates = np.empty(filled + spare, dtype=dtype) if buffer is None else buffer.take(filled + spare, dtype)

    def fill(block: Block) -> None:
        listing.list_groups(groups, (block.places.start, block.places.stop), *bounds, *residents, starts, counts, candidates)

    list(run(fill, blocks))
    shape = (len(INTERVENTION_KEYS), pop.places.n)
    in_start, in_size = np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=np.int64)
    out_start, out_size = np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=np.int64)
    rows = [KEY_INDEX[key] for key in listed]
    in_start[rows], in_size[rows] = starts[group, 0], counts[group, 0]
    out_start[rows], out_size[rows] = starts[group, 1], counts[group, 1]
    return TargetGroups(candidates, filled, in_start, in_size, out_start, out_size)


def select_recipients(
    keys: np.ndarray,
    places: np.ndarray,
    n: np.ndarray,
    groups: TargetGroups,
    records: RecipientRecords,
    targeting: Targeting,
    rng: np.random.Generator,
    batches: np.ndarray | None = None,
) -> Delivery:
    """M4, M7, M8: choose up to ``n[r]`` recipients of intervention ``keys[r]`` in place ``places[r]``.

    Requests come in batches, each for distinct (intervention, place) pairs, so a batch's
    requests are independent and chosen together (:func:`~pfpp_sim.walks.choose`); a
    batch sees who the batches before it served. Each request draws how many recipients
    should be intended (binomial with its precision, M4), takes them at random from the open intended
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
    batches : ndarray of int, optional
        Where each batch starts among the requests, in the order the batches are chosen
        (default: the requests are one batch).

    Returns
    -------
    Delivery
        ``request`` indexes the requests.
    """
    keys = np.asarray(keys, dtype=np.intp)
    n = np.asarray(n, dtype=np.int64)
    cell = keys * groups.in_start.shape[1] + np.asarray(places, dtype=np.intp)  # flat index of each request's (intervention, place)
    offset = records.base[keys]
    recipients, request, served, duplicated, intended = walks.choose(
        groups.candidates,
        groups.spare,
        groups.in_start.take(cell),
        groups.in_size.take(cell),
        groups.out_start.take(cell),
        groups.out_size.take(cell),
        n,
        np.asarray(targeting.precision, dtype=np.float64),
        np.asarray(targeting.bundle_first, dtype=bool),
        offset,
        records.base[_COMPLEMENT_INDEX[keys]],
        np.asarray(targeting.known_bits, dtype=np.uint16),
        np.asarray(targeting.stream_bit, dtype=np.uint16),
        float(targeting.sees_others),
        records.had,
        records.streams,
        rng,
        np.zeros(1, dtype=np.int64) if batches is None else np.asarray(batches, dtype=np.int64),
    )
    return Delivery(recipients=recipients, request=request, served=served, duplicated=duplicated, intended=intended)
