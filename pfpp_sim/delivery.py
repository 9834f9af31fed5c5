"""Delivery: one month's orders of every council turned into recipients and spending.

Once every council has stepped, the councils order the month's deliveries from their award
lines (:func:`~pfpp_sim.agents.council.order_lines`), the model gathers the orders into
:class:`Orders` and :func:`deliver` fulfils them together: each order's budget buys recipients at the place's
unit cost, chosen by :func:`~pfpp_sim.targeting.select_recipients` (M4, M7, M8). The model
then spends what :func:`deliver` returns from each award, adds :func:`delivery_flows` to the
month's flows and queues the recipients' effects.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from pfpp_sim.agents.council import POOLED_BIT
from pfpp_sim.funding import order_spend_p
from pfpp_sim.ledger import Ledger
from pfpp_sim.population import Block, Population
from pfpp_sim.scenario import INTERVENTION_KEYS, KEY_INDEX
from pfpp_sim.targeting import WAVES, ListingBuffer, RecipientRecords, Targeting, select_recipients, target_groups

__all__ = ["Fulfilment", "Orders", "deliver", "delivery_flows"]


@dataclass(frozen=True)
class Orders:
    """One month's delivery orders as columns, one entry per order in the order placed.

    Attributes
    ----------
    line : ndarray of int64, shape (n_orders,)
        The award line (:class:`~pfpp_sim.ledger.Ledger`) each order spends from.
    key : ndarray of int64, shape (n_orders,)
        Intervention, as an index into ``INTERVENTION_KEYS``.
    place : ndarray of int64, shape (n_orders,)
        Place of the ordering council.
    budget_p : ndarray of int64, shape (n_orders,)
        What the order may spend, pence.
    pooled : ndarray of bool, shape (n_orders,)
        Whether a pooled team delivers it.
    known_bits : ndarray of int64, shape (n_orders,)
        Streams whose recipient records the delivering team holds (bitmask).
    stream_bit : ndarray of int64, shape (n_orders,)
        Bit recorded for the residents it serves: its stream's, or
        :data:`~pfpp_sim.agents.council.POOLED_BIT`.
    """

    line: np.ndarray
    key: np.ndarray
    place: np.ndarray
    budget_p: np.ndarray
    pooled: np.ndarray
    known_bits: np.ndarray
    stream_bit: np.ndarray

    @classmethod
    def of(cls, ledger: Ledger, lines: np.ndarray, budget_p: np.ndarray) -> Orders:
        """Orders of ``budget_p`` pence from each of award ``lines`` of ``ledger``."""
        award = ledger.by_line["award"][lines]
        a = ledger.by_award
        pooled = a["pooled"][award]
        return cls(
            line=lines, key=ledger.by_line["key"][lines], place=a["place"][award], budget_p=budget_p, pooled=pooled,
            known_bits=a["known_bits"][award], stream_bit=np.where(pooled, POOLED_BIT, a["stream_bit"][award]),
        )

    def take(self, which: np.ndarray) -> Orders:
        """The orders ``which`` selects (a mask or indices), in their order."""
        return Orders(**{name: getattr(self, name)[which] for name in self.__dataclass_fields__})

    @property
    def size(self) -> int:
        """Number of orders."""
        return self.line.size


@dataclass(frozen=True)
class Fulfilment:
    """What one month's orders delivered, per order, and whom they served for the first time.

    Attributes
    ----------
    served, duplicated, intended : ndarray of int64, shape (n_orders,)
        Simulated residents each order served (duplicates included); of them, those
        another stream had already served; and those in the intended group.
    spend_p, duplicated_p : ndarray of int64, shape (n_orders,)
        Pence each order spends, and the part of it spent on duplicates.
    recipients : ndarray of int
        Residents (household or young-person indices) served for the first time with an
        intervention, by any stream.
    recipient_key : ndarray of int64, same shape as ``recipients``
        The intervention each of them had, as an index into ``INTERVENTION_KEYS``.
    """

    served: np.ndarray
    duplicated: np.ndarray
    intended: np.ndarray
    spend_p: np.ndarray
    duplicated_p: np.ndarray
    recipients: np.ndarray
    recipient_key: np.ndarray

    def by_intervention(self) -> Iterator[tuple[str, np.ndarray]]:
        """Each intervention with new recipients, in ``INTERVENTION_KEYS`` order, and those recipients (in their order here)."""
        recipients = self.recipients[np.argsort(self.recipient_key, kind="stable")]  # one sort, not a pass per intervention
        start = 0
        for k, stop in enumerate(np.cumsum(np.bincount(self.recipient_key)).tolist()):
            if stop > start:
                yield INTERVENTION_KEYS[k], recipients[start:stop]
            start = stop


def _batches(orders: np.ndarray, places: np.ndarray, keys: np.ndarray, pooled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """M8: split orders (in the order placed) into batches with one order per place and intervention.

    The k-th order of a place for an intervention goes into round k; within a round,
    pooled teams' orders go in the :data:`~pfpp_sim.targeting.WAVES` of their
    intervention (only pooled teams serve complement recipients first).

    Parameters
    ----------
    orders : ndarray of int, shape (n,)
        Order numbers, in the order placed.
    places, keys : ndarray of int, shape (n,)
        Place and intervention (index into ``INTERVENTION_KEYS``) of each order.
    pooled : ndarray of bool, shape (n,)
        Whether a pooled team delivers each order.

    Returns
    -------
    chosen : ndarray of int
        The order numbers, batch after batch, in the order the batches are to be chosen.
    first : ndarray of int64
        Where each batch starts in ``chosen``.
    """
    pair = places * len(INTERVENTION_KEYS) + keys
    by_pair = np.argsort(pair, kind="stable")
    row = np.arange(orders.size)
    rank = np.empty(orders.size, dtype=np.int64)
    rank[by_pair] = row - np.maximum.accumulate(np.where(_run_starts(pair[by_pair]), row, 0))  # k-th order of its pair: k
    batch = rank * (max(WAVES) + 1) + np.where(pooled, np.asarray(WAVES)[keys], 0)
    in_batches = np.argsort(batch, kind="stable")
    return orders[in_batches], np.flatnonzero(_run_starts(batch[in_batches]))


def _run_starts(values: np.ndarray) -> np.ndarray:
    """Whether each value starts a run of equal values (is first, or differs from the one before): ndarray of bool."""
    starts = np.ones(values.size, dtype=bool)
    np.not_equal(values[1:], values[:-1], out=starts[1:])
    return starts


def _recipients_wanted(budget_p: np.ndarray, cost_p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Simulated recipients each order asks for: its budget over the unit cost, rounded up or down by its own draw.

    Rounded up with probability equal to the fraction, so the expected number is exact.

    Parameters
    ----------
    budget_p : ndarray of int64, shape (n_orders,)
    cost_p : ndarray of float64, shape (n_orders,)
        Cost of one simulated recipient, pence.
    rng : numpy.random.Generator
        One draw per order.

    Returns
    -------
    ndarray of int64, shape (n_orders,)
    """
    wanted = budget_p / cost_p
    whole = np.floor(wanted)
    return (whole + (rng.random(wanted.size) < wanted - whole)).astype(np.int64)


def deliver(
    orders: Orders,
    population: Population,
    *,
    cold: np.ndarray,
    records: RecipientRecords,
    unit_cost_p: np.ndarray,
    precision: np.ndarray,
    sees_others: float,
    rng: np.random.Generator,
    executor: Executor | None = None,
    blocks: list[Block] | None = None,
    buffer: ListingBuffer | None = None,
) -> Fulfilment:
    """M4, M7, M8: fulfil one month's delivery orders of every council.

    Each order's number of recipients is its budget over the unit cost, rounded
    stochastically. A council's orders for one intervention are fulfilled in the order
    it placed them: the k-th orders of every place are chosen together, pooled teams'
    in waves so that an intervention comes after its complement
    (:data:`~pfpp_sim.targeting.WAVES`, :func:`~pfpp_sim.targeting.select_recipients`).
    Each order then spends its budget, or the unit cost of every resident served,
    duplicates included, if it found fewer than it asked for
    (:func:`~pfpp_sim.funding.order_spend_p`). Resident state does not change while
    delivering, so the month's target groups are listed once.

    Parameters
    ----------
    orders : Orders
        The month's orders (at least one).
    population : Population
    cold : ndarray of bool, shape (n_young,)
        Whether each young person's home is fuel poor.
    records : RecipientRecords
        Who has had each intervention and from which streams; updated in place.
    unit_cost_p : ndarray of float64, shape (n_interventions, n_places)
        Cost of one simulated recipient, pence.
    precision : ndarray of float64, shape (n_orders,)
        Share of each order's recipients to draw from the intended group
        (:func:`~pfpp_sim.targeting.order_precision`).
    sees_others : float
        Chance that another stream's recipient is known to a team (the ``data_sharing`` lever).
    rng : numpy.random.Generator
        The ``councils`` stream.
    executor : concurrent.futures.Executor, optional
        Lists the target groups in its threads (the result does not depend on it).
    blocks : list of Block, optional
        The population's blocks of places, by which the target groups are listed.
    buffer : ListingBuffer, optional
        Memory kept between months for the target groups.

    Returns
    -------
    Fulfilment
    """
    keys, places = orders.key, orders.place
    cost_p = unit_cost_p[keys, places]
    n = _recipients_wanted(orders.budget_p, cost_p, rng)
    served, duplicated, intended = (np.zeros(n.size, dtype=np.int64) for _ in range(3))
    fresh, fresh_keys = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    live = np.flatnonzero(n > 0)
    if live.size:
        groups = target_groups(
            population, sorted({INTERVENTION_KEYS[k] for k in keys[live].tolist()}), cold=cold, executor=executor, blocks=blocks, buffer=buffer,
        )
        chosen, batches = _batches(live, places[live], keys[live], orders.pooled[live])
        targeting = Targeting(
            precision=precision[chosen],
            sees_others=sees_others,
            bundle_first=orders.pooled[chosen],
            known_bits=orders.known_bits[chosen],
            stream_bit=orders.stream_bit[chosen],
        )
        done = select_recipients(keys[chosen], places[chosen], n[chosen], groups, records, targeting, rng, batches=batches)
        served[chosen], duplicated[chosen], intended[chosen] = done.served, done.duplicated, done.intended
        fresh, fresh_keys = done.recipients, keys[chosen][done.request]
    spend_p = order_spend_p(served, n, cost_p, orders.budget_p)
    return Fulfilment(
        served=served,
        duplicated=duplicated,
        intended=intended,
        spend_p=spend_p,
        duplicated_p=np.minimum(spend_p, np.rint(duplicated * cost_p).astype(np.int64)),
        recipients=fresh,
        recipient_key=fresh_keys,
    )


def delivery_flows(orders: Orders, done: Fulfilment, recipient_weight: np.ndarray, n_places: int) -> dict[str, np.ndarray]:
    """The month's delivery flows by place, at real scale.

    Parameters
    ----------
    orders : Orders
    done : Fulfilment
        What ``orders`` delivered.
    recipient_weight : ndarray of float64, shape (n_interventions, n_places)
        Real residents per simulated recipient.
    n_places : int

    Returns
    -------
    dict of str to ndarray of float64, shape (n_places,)
        ``deliveries``, ``delivered_gbp``, ``duplicated_gbp``, ``retrofits`` and
        ``retrofits_to_fuel_poor``, to add to the month's flows of those names.
    """
    keys, places = orders.key, orders.place
    weight = recipient_weight[keys, places]
    retrofit = keys == KEY_INDEX["retrofit"]
    return {
        "deliveries": np.bincount(places, weights=done.served * weight, minlength=n_places),
        "delivered_gbp": np.bincount(places, weights=done.spend_p / 100, minlength=n_places),
        "duplicated_gbp": np.bincount(places, weights=done.duplicated_p / 100, minlength=n_places),
        "retrofits": np.bincount(places[retrofit], weights=(done.served * weight)[retrofit], minlength=n_places),
        "retrofits_to_fuel_poor": np.bincount(places[retrofit], weights=(done.intended * weight)[retrofit], minlength=n_places),
    }
