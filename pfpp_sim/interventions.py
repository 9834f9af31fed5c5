"""Interventions: who they reach (targeting, M4/M7/M8) and what they do (effects).

Targeting picks recipients inside one place. A share ``q`` of recipients comes from the
*intended* group (e.g. fuel-poor households), the rest from the wider group outreach
reaches; ``q`` rises with data sharing (M4). A stream always knows its own past
recipients; others' only through shared data, so siloed streams serve the same people
twice (duplication, M7). Pooled teams serve people who already had a complementary
intervention from the same pot first (bundling, M8); no bonus is added: bundles work
better only through the resident rules (e.g. retrofit and income both move a household
across the fuel-poverty line).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from pfpp_sim.population import AGE_18, BAND_C, BAND_D, EDUCATION, NEET, Population

__all__ = ["COMPLEMENTS", "HOUSEHOLD_KEYS", "Delivery", "PendingEffects", "Targeting", "apply_effects", "select_recipients"]

HOUSEHOLD_KEYS = ("retrofit", "income_advice", "bill_support")
COMPLEMENTS = {
    "retrofit": "income_advice",
    "income_advice": "retrofit",
    "bill_support": "retrofit",
    "employment_support": "mh_hub",
    "mh_hub": "employment_support",
    "careers_guidance": "mh_hub",
    "asb_outreach": "employment_support",
}
"""Complementary intervention served first by a pooled team (M8)."""


@dataclass
class Delivery:
    """What one batch of delivery did."""

    recipients: np.ndarray  # int64 global indices
    duplicated: int
    intended: int


@dataclass
class Targeting:
    """Targeting settings of one delivery batch."""

    precision: float  # share of recipients drawn from the intended group
    sees_others: float  # chance that another stream's recipient is known (shared data)
    bundle_first: bool  # pooled team: serve complement recipients first
    known_bits: int  # streams whose recipient records the serving team holds
    stream_bit: int  # bit recorded in ``served_by`` for this delivery


@dataclass
class PendingEffects:
    """Effects waiting for their month: month -> list of (key, indices)."""

    due: dict[int, list[tuple[str, np.ndarray]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, month: int, key: str, indices: np.ndarray) -> None:
        if indices.size:
            self.due[month].append((key, indices))

    def pop(self, month: int) -> list[tuple[str, np.ndarray]]:
        return self.due.pop(month, [])


def _groups(key: str, pop: Population, sl: slice) -> tuple[np.ndarray, np.ndarray]:
    """Reachable and intended masks of one place's residents for an intervention."""
    h, y = pop.households, pop.young
    if key in HOUSEHOLD_KEYS:
        fuel_poor = h.fuel_poor[sl]
        if key == "retrofit":
            reachable = h.band[sl] >= BAND_D
        else:
            reachable = np.ones(fuel_poor.size, dtype=bool)
        return reachable, reachable & fuel_poor
    status, age, mh = y.status[sl], y.age_months[sl], y.mh_disorder[sl]
    cold = h.fuel_poor[y.household[sl]]
    if key == "careers_guidance":
        reachable = (status != NEET) & (age < 20 * 12)
        return reachable, reachable & (mh | cold)
    if key == "employment_support":
        reachable = (status != EDUCATION) | (age >= AGE_18)
        return reachable, status == NEET
    if key == "mh_hub":
        return np.ones(status.size, dtype=bool), mh
    reachable = np.ones(status.size, dtype=bool)  # asb_outreach
    return reachable, (status == NEET) | cold


def select_recipients(
    key: str,
    n: int,
    pop: Population,
    place: int,
    received: dict[str, np.ndarray],
    served_by: dict[str, np.ndarray],
    targeting: Targeting,
    rng: np.random.Generator,
) -> Delivery:
    """Choose up to ``n`` recipients of intervention ``key`` in one place.

    Parameters
    ----------
    received : dict of str to ndarray of bool
        Who has ever had each intervention (any stream).
    served_by : dict of str to ndarray of uint16
        Bitmask of the streams that served each resident with each intervention.
    targeting : Targeting

    Returns
    -------
    Delivery
        Recipients (global indices), how many were duplicates, how many intended.
    """
    sl = (pop.households if key in HOUSEHOLD_KEYS else pop.young).slices[place]
    reachable, intended = _groups(key, pop, sl)
    had = received[key][sl].copy()
    own = (served_by[key][sl] & targeting.known_bits) != 0
    known_other = had & ~own & (rng.random(had.size) < targeting.sees_others)
    open_ = reachable & ~own & ~known_other
    pool_in = np.flatnonzero(open_ & intended)
    pool_out = np.flatnonzero(open_ & ~intended)
    n_in = int(rng.binomial(n, min(max(targeting.precision, 0.0), 1.0))) if n > 0 else 0
    n_in = min(n_in, pool_in.size)
    n_out = min(n - n_in, pool_out.size)
    if n_in + n_out < n:  # one group ran short: fill from the other
        n_in = min(n - n_out, pool_in.size)
    if targeting.bundle_first and n_in:
        partner = received[COMPLEMENTS[key]][sl][pool_in]
        order = np.concatenate([rng.permutation(pool_in[partner]), rng.permutation(pool_in[~partner])])
        chosen_in = order[:n_in]
    else:
        chosen_in = rng.choice(pool_in, size=n_in, replace=False) if n_in else pool_in[:0]
    chosen_out = rng.choice(pool_out, size=n_out, replace=False) if n_out else pool_out[:0]
    local = np.concatenate([chosen_in, chosen_out]).astype(np.int64)
    duplicated = int(had[local].sum())
    recipients = local + sl.start
    received[key][recipients] = True
    served_by[key][recipients] |= np.uint16(targeting.stream_bit)
    fresh = recipients[~had[local]]
    return Delivery(recipients=fresh, duplicated=duplicated, intended=int(intended[local].sum()))


def apply_effects(
    pending: list[tuple[str, np.ndarray]],
    pop: Population,
    effects: dict[str, float],
    durations: dict[str, int],
    month: int,
    rng: np.random.Generator,
) -> None:
    """Apply the effects due this month to the population, in place.

    Parameters
    ----------
    pending : list of (str, ndarray of int64)
        Intervention key and recipients whose effect is due.
    effects : dict of str to float
        Drawn effect size of each intervention (units as in the scenario).
    durations : dict of str to int
        Months an effect lasts, for time-limited interventions.
    """
    h, y = pop.households, pop.young
    for key, idx in pending:
        if key == "retrofit":
            idx = idx[h.band[idx] >= BAND_D]
            to_c = rng.random(idx.size) < effects[key]  # others gain one band: assumption:retrofit_partial_gain
            h.band[idx] = np.where(to_c, BAND_C, h.band[idx] - 1).astype(np.uint8)
        elif key == "income_advice":
            h.income_gain[idx] += effects[key]
        elif key == "bill_support":
            h.bill_support[idx] = effects[key]
            h.bill_support_until[idx] = month + durations[key]
        elif key == "careers_guidance":
            y.careers_until[idx] = month + durations[key]
        elif key == "employment_support":
            y.ips_until[idx] = month + durations[key]
        elif key == "asb_outreach":
            y.asb_until[idx] = month + durations[key]
        elif key == "mh_hub":
            recovered = rng.random(idx.size) < effects[key]
            y.mh_disorder[idx[recovered]] = False
