"""Whether a run's places are the places its calibration was fitted on.

A fit estimates trends for the places it was fitted on. A place outside them still runs,
with zero trends (:meth:`pfpp_sim.scenario.Calibration.place`) and the fit's global
values, so its baseline is not calibrated to its own data. Runs say so:
:func:`run_warnings` is what ``pfpp run``, ``compare``, ``explain``, ``robustness`` and
``sweep`` print once and record under ``warnings`` in their manifests.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pfpp_sim import data
from pfpp_sim.scenario import Scenario

__all__ = ["NAMED_PLACES", "places_outside_fit", "run_warnings"]

NAMED_PLACES = 10
"""Most places a warning's message names; its ``places`` list holds them all."""


def places_outside_fit(scenario: Scenario) -> list[str]:
    """ONS codes of the places a scenario runs that its calibration was not fitted on.

    Parameters
    ----------
    scenario : Scenario

    Returns
    -------
    list of str
        In the run's order; empty when every place was fitted or the scenario has no
        calibration (``calibration = "none"``).

    Raises
    ------
    DataError
        If ``run.places`` names an unknown place.
    """
    if scenario.calibration is None:
        return []
    codes = data.places(scenario.run.places)["area_code"]
    return [code for code in codes if code not in scenario.calibration.places]


def run_warnings(scenarios: Iterable[Scenario]) -> list[dict[str, Any]]:
    """Warnings for scenarios that run places outside their calibration, one per fit and set of places.

    Scenarios that share a fit and places (the two sides of a comparison) share one
    warning, which names them all.

    Parameters
    ----------
    scenarios : iterable of Scenario

    Returns
    -------
    list of dict
        Each with ``kind`` (``"places_outside_calibration"``), ``calibration`` (the fit's
        name), ``scenarios``, ``places`` (every code outside the fit), ``fitted_places``
        and ``run_places`` (counts) and ``message`` (one line naming the scenarios, the fit,
        the counts and up to :data:`NAMED_PLACES` places with their names).
    """
    groups: dict[tuple, list[str]] = {}
    for sc in scenarios:
        outside = places_outside_fit(sc)
        if outside:
            run_places = len(data.places(sc.run.places))
            key = (sc.calibration.name, tuple(sc.calibration.places), run_places, tuple(outside))
            groups.setdefault(key, []).append(sc.name)
    return [_warning(list(dict.fromkeys(names)), *key) for key, names in groups.items()]


def _warning(
    scenarios: list[str], fit: str, fitted: tuple[str, ...], run_places: int, outside: tuple[str, ...]
) -> dict[str, Any]:
    named = data.places(list(outside[:NAMED_PLACES]))
    listed = ", ".join(f"{code} ({name})" for code, name in zip(named["area_code"], named["area_name"]))
    more = f" and {len(outside) - NAMED_PLACES} more (the manifest lists them all)" if len(outside) > NAMED_PLACES else ""
    which = f"scenario {scenarios[0]}" if len(scenarios) == 1 else f"scenarios {', '.join(scenarios)}"
    message = (
        f"{which}: calibration {fit} was fitted on {len(fitted)} places, and {len(outside)} of the {run_places} places in the "
        f"run {'is' if len(outside) == 1 else 'are'} not among them: {listed}{more}. They run with zero fitted trends (income and "
        "NEET 16-17) and the fit's global values, so their baselines are not calibrated to their own data."
    )
    return {
        "kind": "places_outside_calibration",
        "calibration": fit,
        "scenarios": scenarios,
        "places": list(outside),
        "fitted_places": len(fitted),
        "run_places": run_places,
        "message": message,
    }
