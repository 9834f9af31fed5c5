"""What the room has chosen, and the two runs it drives: siloed baseline and the room's settings.

Both runs use the same place, scale and seed, so they start from the same residents and
differ only by levers (common random numbers). Changing any setting replays both runs
to the month the room has reached, so the charts always show one consistent story.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache, lru_cache
from typing import Any

import numpy as np

from pfpp_sim import data
from pfpp_sim.errors import PfppError
from pfpp_sim.model import PfppModel
from pfpp_sim.scenario import Levers, Scenario, list_presets, load_scenario

__all__ = [
    "BASELINE",
    "DEFAULT_PRESET",
    "LEVER_CHOICES",
    "LEVER_LABELS",
    "MONEY",
    "PRESET_LABELS",
    "SCALES",
    "SHOWN_RATES",
    "Settings",
    "baseline_scenario",
    "changed_levers",
    "chosen_scenario",
    "lever_text",
    "money_to_date",
    "parse_month",
    "parse_seed",
    "pilot_places",
    "preset",
    "preset_label",
    "preset_order",
    "rate_series",
    "run_differences",
    "start_run",
    "your_side_title",
]

BASELINE = "siloed_baseline"
DEFAULT_PRESET = "pfpp_joined_up"
SCALES = (0.002, 0.005, 0.01, 0.02, 0.05)
"""Simulated residents per real resident the room may choose."""
SHOWN_RATES = ("fuel_poverty_rate", "neet_16_24_rate", "youth_mh_rate")
MONEY = ("delivered_gbp", "overhead_gbp", "returned_gbp", "duplicated_gbp")
LEVER_LABELS = {
    "pooling": "Pooling (share of each stream)",
    "data_sharing": "Data sharing",
    "local_priority_weight": "Weight on local need",
    "timeline_alignment": "Aligned timelines",
    "carry_over": "Carry-over of unspent money",
    "single_point_of_contact": "Single point of contact",
    "policy_campus": "Policy campus",
    "secondments": "Secondments",
    "senior_contact": "Contact with senior officials",
    "funding_mapping": "Funding mapping",
    "funding_period_months": "Funding period",
    "competitive_share": "Share allocated by competition",
    "stream_churn": "Streams discontinued each year",
}
"""Each lever as the room reads it, on the controls and in 'Why do the two sides differ?'."""
LEVER_CHOICES = {
    "funding_period_months": (None, 12, 24, 36),
    "competitive_share": (None, 0.0, 0.25, 0.5, 1.0),
    "stream_churn": (None, 0.0, 0.1, 0.5),
}
"""The values the room may choose for the levers that override every stream's own (None keeps each stream's), beside its preset's."""
PRESET_LABELS = {
    "siloed_baseline": "Siloed baseline",
    "pfpp_joined_up": "PfPP joined up",
    "pfpp_as_delivered": "PfPP as delivered",
    "funding_simplification": "Funding simplification",
    "policy_campus": "Policy campus",
    "stop_start": "Stop-start funding",
    "hastings_fuel_poverty": "Hastings fuel poverty",
    "luton_asb": "Luton anti-social behaviour",
    "bradford_youth_mh": "Bradford youth mental health",
}
"""Presets as the room reads them; another preset reads as its name with spaces."""


@cache
def preset(name: str) -> Scenario:
    """A shipped preset, loaded once (scenarios are frozen, so sharing is safe)."""
    return load_scenario(name)


def preset_label(name: str) -> str:
    """A preset as the room reads it: ``pfpp_joined_up`` -> ``PfPP joined up``."""
    return PRESET_LABELS.get(name, name.replace("_", " ").capitalize())


@lru_cache(maxsize=1)
def pilot_places() -> tuple[tuple[str, str], ...]:
    """The 14 default places as ``(ONS code, name)`` pairs."""
    table = data.places("pilots")
    return tuple(zip(table["area_code"], table["area_name"]))


@dataclass(frozen=True)
class Settings:
    """Everything the room has chosen. Frozen and hashable, so it can key caches.

    ``preset`` is the scenario the right-hand run starts from (its programmes, e.g.
    ring-fences); ``levers`` are the levers actually used, changed one by one.
    """

    place: str = "E07000062"
    preset: str = DEFAULT_PRESET
    levers: Levers = field(default_factory=lambda: preset(DEFAULT_PRESET).levers)
    scale: float = 0.01
    seed: int = 1

    def with_lever(self, name: str, value: Any) -> Settings:
        """These settings with one lever changed (validated)."""
        return replace(self, levers=Levers.model_validate({**self.levers.model_dump(), name: value}))

    def with_preset(self, name: str) -> Settings:
        """These settings with a preset's levers; a preset made for one place also selects it.

        Raises
        ------
        PfppError
            If the preset is run over other months than the siloed side (see
            :func:`run_differences`): its dates would not line up with the left side's.
        """
        differences = run_differences(name)
        if differences:
            raise PfppError(
                f"preset {name} cannot be your side: it {'; '.join(differences)}, so the two sides would not show the same "
                "months of the same residents; choose a preset run as the siloed side is"
            )
        chosen = preset(name)
        places = chosen.run.places
        place = places[0] if isinstance(places, list) and len(places) == 1 else self.place
        return replace(self, preset=name, levers=chosen.levers, place=place)

    def run_overrides(self) -> dict[str, Any]:
        return {"run.places": [self.place], "run.scale": self.scale}


_SEED_DIGITS = 18


def parse_seed(text: str) -> int:
    """The seed a room typed, or an error saying what is expected.

    Parameters
    ----------
    text : str
        What is in the seed box; spaces around it are ignored.

    Returns
    -------
    int
        0 or more (0 is a valid seed).

    Raises
    ------
    PfppError
        If ``text`` is empty, negative, not a whole number or longer than 18 digits:
        nothing is rounded, clipped or read as 0.
    """
    typed = text.strip()
    if not re.fullmatch(r"[0-9]+", typed):
        raise PfppError(f"seed {repr(typed) if typed else '(empty)'}: expected a whole number, 0 or more (e.g. 7)")
    if len(typed) > _SEED_DIGITS:
        raise PfppError(f"seed {typed[:8]}...: expected at most {_SEED_DIGITS} digits")
    return int(typed)


def changed_levers(settings: Settings) -> list[str]:
    """The levers of ``settings`` that differ from its preset's, in :data:`LEVER_LABELS` order."""
    chosen = preset(settings.preset).levers
    return [name for name in LEVER_LABELS if getattr(settings.levers, name) != getattr(chosen, name)]


def lever_text(name: str, value: Any) -> str:
    """A lever's value as the room reads it: ``80%`` for a share, ``0.5`` for a weight, ``on``/``off``, ``24 months``.

    Parameters
    ----------
    name : str
        A key of :data:`LEVER_LABELS`.
    value : float, bool, int or None
        None, for the levers that override each stream's own value, reads ``each stream's
        own`` (``the baseline's (33% a year)`` for streams discontinued each year).

    Returns
    -------
    str
    """
    if value is None and name == "stream_churn":
        return f"the baseline's ({preset(BASELINE).mechanisms.stream_churn.value:.0%} a year)"
    if value is None:
        return "each stream's own"
    if isinstance(value, bool):
        return "on" if value else "off"
    if name == "funding_period_months":
        return f"{value} months"
    if name == "local_priority_weight":
        return f"{value:.1f}"
    suffix = " a year" if name == "stream_churn" else ""
    return f"{value:.0%}{suffix}"


def your_side_title(settings: Settings) -> str:
    """The right-hand heading: ``Your settings (from PfPP joined up)``, with how many levers the room changed since.

    E.g. ``Your settings (from PfPP joined up, 2 levers changed)`` once the levers no
    longer match the preset's.
    """
    changed = len(changed_levers(settings))
    more = f", {changed} lever{'s' if changed > 1 else ''} changed" if changed else ""
    return f"Your settings (from {preset_label(settings.preset)}{more})"


def parse_month(text: str, horizon: int) -> int:
    """The month a room typed into "Run to month", or an error saying what is expected.

    Parameters
    ----------
    text : str
        What is in the box; spaces around it are ignored.
    horizon : int
        The last month of the runs.

    Returns
    -------
    int
        0 to ``horizon``: months both sides will have run.

    Raises
    ------
    PfppError
        If ``text`` is not a whole number from 0 to ``horizon``.
    """
    typed = text.strip()
    if not re.fullmatch(r"[0-9]{1,4}", typed) or int(typed) > horizon:
        shown = repr(typed[:8]) if typed else "(empty)"
        raise PfppError(f"month {shown}: expected a whole number from 0 to {horizon}")
    return int(typed)


def baseline_scenario(settings: Settings) -> Scenario:
    """The siloed baseline for the chosen place and scale."""
    return preset(BASELINE).with_overrides(settings.run_overrides())


def chosen_scenario(settings: Settings) -> Scenario:
    """The room's scenario: the chosen preset with the chosen levers, place and scale."""
    levers = {f"levers.{k}": v for k, v in settings.levers.model_dump().items()}
    return preset(settings.preset).with_overrides({**settings.run_overrides(), **levers}, name="your_settings")


def start_run(scenario: Scenario, *, seed: int, months: int, replicate: int = 0) -> PfppModel:
    """A new run, stepped ``months`` months (at most its horizon).

    The two sides are replicate 0 of ``seed``; another replicate is another history of
    the same place on other random numbers.
    """
    model = PfppModel(scenario, seed=seed, replicate=replicate)
    while model.month < min(months, model.horizon):
        model.step()
    return model


def rate_series(model: PfppModel) -> dict[str, np.ndarray]:
    """Each shown rate of the first place, month by month so far (percent, float64)."""
    return {name: np.array([100.0 * r[name][0] for r in model.records]) for name in SHOWN_RATES}


def money_to_date(model: PfppModel) -> dict[str, np.ndarray]:
    """Cumulative money flows of the first place, month by month so far (GBP, float64)."""
    names = (*MONEY, "mobilisation_months_lost")
    return {name: np.cumsum([r[name][0] for r in model.records]) for name in names}


def _month_name(start: str) -> str:
    return f"{date(int(start[:4]), int(start[5:7]), 1):%B %Y}"


def run_differences(name: str) -> list[str]:
    """How a preset is run differently from the siloed side, in words, beyond what the room chooses for both.

    The room chooses the place and scale of both sides; everything else about how a run
    is run (its start, its horizon, the smallest samples, the calibration) must match
    the siloed side's, or the two sides would show other months, or other residents.

    Parameters
    ----------
    name : str
        A preset.

    Returns
    -------
    list of str
        E.g. ``["starts in January 2019, not April 2021", "runs 96 months, not 60"]``;
        empty when the preset can be compared with the siloed side month by month.
    """
    base, other = preset(BASELINE), preset(name)
    differences = []
    if other.run.start != base.run.start:
        differences.append(f"starts in {_month_name(other.run.start)}, not {_month_name(base.run.start)}")
    if other.run.horizon_months != base.run.horizon_months:
        differences.append(f"runs {other.run.horizon_months} months, not {base.run.horizon_months}")
    for key, who in (("min_households_per_place", "households"), ("min_young_people_per_place", "young people")):
        if getattr(other.run, key) != getattr(base.run, key):
            differences.append(f"simulates at least {getattr(other.run, key):,} {who} a place, not {getattr(base.run, key):,}")
    if other.calibration != base.calibration:
        differences.append("uses another calibration")
    return differences


def preset_order() -> list[str]:
    """The presets the room may choose for its side, in display order: the baseline first, then the others alphabetically.

    Only presets run over the same months as the siloed side (:func:`run_differences`
    is empty) are offered.
    """
    return [BASELINE, *(p for p in list_presets() if p != BASELINE and not run_differences(p))]

