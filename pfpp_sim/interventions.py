"""Interventions: what they do to residents once delivered (effects and their timing).

Who receives them is decided in :mod:`pfpp_sim.targeting`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from pfpp_sim.population import BAND_C, BAND_D, Population

__all__ = [
    "HOUSEHOLD_KEYS",
    "PendingEffects",
    "apply_effects",
]

HOUSEHOLD_KEYS = ("retrofit", "income_advice", "bill_support")


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
