"""Interventions: what they do to residents once delivered (effects and their timing).

Who receives them is decided in :mod:`pfpp_sim.targeting`. Time-limited support
(:data:`TIME_LIMITED`) lasts its ``duration_months`` and does not stack: delivering it
again sets its end again. When it ends the resident may be served again: the effect
schedules the end in the recipient records (:meth:`RecipientRecords.expire_at
<pfpp_sim.targeting.RecipientRecords.expire_at>`), which then forget it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from pfpp_sim.population import BAND_C, BAND_D, Population

if TYPE_CHECKING:
    from pfpp_sim.targeting import RecipientRecords

__all__ = [
    "HOUSEHOLD_KEYS",
    "TIME_LIMITED",
    "PendingEffects",
    "apply_effects",
    "support_until",
]

HOUSEHOLD_KEYS = ("retrofit", "income_advice", "bill_support")
TIME_LIMITED = ("income_advice", "bill_support", "careers_guidance", "employment_support", "asb_outreach")
"""Interventions whose support ends (after ``duration_months``); retrofit and the
mental-health hub's course are one-off."""


def support_until(pop: Population) -> dict[str, np.ndarray]:
    """The column holding, for each resident, the month each time-limited support ends (exclusive).

    Returns
    -------
    dict of str to ndarray of int32
        Views of the population's columns, by intervention key of :data:`TIME_LIMITED`.
    """
    h, y = pop.households, pop.young
    return {
        "income_advice": h.income_gain_until,
        "bill_support": h.bill_support_until,
        "careers_guidance": y.careers_until,
        "employment_support": y.ips_until,
        "asb_outreach": y.asb_until,
    }


@dataclass
class PendingEffects:
    """Effects waiting for their month: month -> list of (key, indices)."""

    due: dict[int, list[tuple[str, np.ndarray]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, month: int, key: str, indices: np.ndarray) -> None:
        if indices.size:
            self.due[month].append((key, indices))

    def pop(self, month: int) -> list[tuple[str, np.ndarray]]:
        return self.due.pop(month, [])


def apply_effects(
    pending: list[tuple[str, np.ndarray]],
    pop: Population,
    effects: dict[str, float],
    durations: dict[str, int],
    month: int,
    rng: np.random.Generator,
    *,
    records: RecipientRecords | None = None,
) -> None:
    """Apply the effects due this month to the population, in place.

    Time-limited support starts this month and lasts ``durations[key]`` months; given
    again, it is renewed from now (income-advice gains do not stack). With ``records``,
    its end is scheduled there, so the resident is eligible again when it ends.

    Parameters
    ----------
    pending : list of (str, ndarray of int64)
        Intervention key and recipients whose effect is due.
    effects : dict of str to float
        Drawn effect size of each intervention (units as in the scenario).
    durations : dict of str to int
        Months an effect lasts, for time-limited interventions.
    month : int
        This month.
    rng : numpy.random.Generator
        The ``interventions`` stream.
    records : RecipientRecords, optional
        Recipient records in which the end of time-limited support is scheduled.
    """
    h, y = pop.households, pop.young
    until = support_until(pop)
    for key, idx in pending:
        if key == "retrofit":
            idx = idx[h.band[idx] >= BAND_D]
            to_c = rng.random(idx.size) < effects[key]  # others gain one band: assumption:retrofit_partial_gain
            h.band[idx] = np.where(to_c, BAND_C, h.band[idx] - 1).astype(np.uint8)
        elif key == "mh_hub":
            recovered = rng.random(idx.size) < effects[key]
            y.mh_disorder[idx[recovered]] = False
        else:
            end = month + durations[key]
            until[key][idx] = end
            if key == "bill_support":
                h.bill_support[idx] = effects[key]
            if records is not None:
                records.expire_at(end, key, idx)
