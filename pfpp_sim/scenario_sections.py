"""The report's section about the scenarios themselves: what they are and what differs between them.

A decision-maker reads first what was compared: each scenario's description, every
setting in which they differ, with both values and a readable name, and how both were
run. What differs comes from :func:`pfpp_sim.factors.factor_set`, the same comparison
that ``pfpp explain`` attributes the difference to; run settings and calibration, which
``factor_set`` requires to be the same, are compared here beside it. The scenarios are
read back from the parameters in ``manifest.json``.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from datetime import date
from html import escape
from typing import Any, NamedTuple

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from pfpp_sim.evidence import Sourced
from pfpp_sim.factors import ABSENT, factor_set
from pfpp_sim.scenario import Scenario
from pfpp_sim.sections import Section, _table

__all__ = [
    "Difference",
    "differences",
    "readable_name",
    "what_differs_section",
]

_KINDS = {
    "run": "run setting",
    "calibration": "calibration",
    "levers": "policy lever",
    "programmes": "funding programme",
    "world": "world",
    "mechanisms": "mechanism",
    "interventions": "intervention",
}
_WORDS = {"neet": "NEET", "mh": "mental health", "asb": "ASB", "ips": "IPS", "pfpp": "PfPP", "eet": "EET", "spoc": "SPOC"}
_RUN_NAMES = {
    "start": "Start",
    "horizon_months": "Horizon",
    "places": "Places",
    "scale": "Scale",
    "min_households_per_place": "Fewest households a place",
    "min_young_people_per_place": "Fewest young people a place",
}


class Difference(NamedTuple):
    """One thing that differs between two scenarios, as a reader sees it.

    Attributes
    ----------
    name : str
        Readable name, e.g. ``"Data sharing"``.
    kind : str
        ``"policy lever"``, ``"funding programme"``, ``"world"``, ``"mechanism"``,
        ``"intervention"``, ``"run setting"`` or ``"calibration"``.
    key : str
        Dotted key path in scenario files, e.g. ``"levers.data_sharing"``.
    meaning : str
        What the key means (its field description), or "".
    base, alternative : str
        Each scenario's value, formatted.
    """

    name: str
    kind: str
    key: str
    meaning: str
    base: str
    alternative: str


def _words(key: str) -> str:
    words = [_WORDS.get(word, word) for word in key.split("_")]
    return " ".join(words[:-1]) + " (months)" if len(words) > 1 and words[-1] == "months" else " ".join(words)


def readable_name(key: str) -> str:
    """A key path as words: ``"levers.single_point_of_contact"`` -> ``"Single point of contact"``.

    ``"world.young_people.neet_exit_hazard"`` -> ``"Young people: NEET exit hazard"``;
    ``"programmes.pfpp_grant.budget"`` -> ``"PfPP grant programme: budget"``.
    """
    root, *rest = key.split(".")
    if root == "run" and rest and rest[0] in _RUN_NAMES:
        return _RUN_NAMES[rest[0]]
    if not rest:
        return _words(root).capitalize()
    if rest[-1] == "value":
        rest = rest[:-1]
    parts = [f"{_words(rest[0])} programme" if root == "programmes" else _words(rest[0]), *map(_words, rest[1:])]
    text = ": ".join(parts)
    return text[0].upper() + text[1:]


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The pydantic model a field holds (inside Optional or a dict's values), and whether it is a dict."""
    if typing.get_origin(annotation) is dict:
        return _model_of(typing.get_args(annotation)[1])[0], True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [_model_of(a)[0] for a in typing.get_args(annotation)]
        return next((m for m in inner if m is not None), None), False
    return (annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None), False


def _field(key: str) -> FieldInfo | None:
    """The pydantic field of a key path of :class:`Scenario` (None past a free-form key)."""
    model, field, in_dict = Scenario, None, False
    for part in key.split("."):
        if in_dict:
            in_dict = False
            continue
        if model is None or part not in model.model_fields:
            return None
        field = model.model_fields[part]
        model, in_dict = _model_of(field.annotation)
    return field


def _meaning(field: FieldInfo | None) -> str:
    return (field.description or "") if field is not None else ""


def _is_fraction(field: FieldInfo | None) -> bool:
    return field is not None and field.annotation is not bool and any(getattr(m, "le", None) == 1 for m in field.metadata)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4g}"


def _shown(value: Any, field: FieldInfo | None = None) -> str:
    """A value as a reader sees it: yes/no, a share as a percentage, a sourced quantity with its unit."""
    if value is ABSENT:
        return "not in this scenario"
    if value is None:
        overrides = field is not None and (field.description or "").startswith("override")
        return "not set (each stream's own)" if overrides else "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{100 * value:g}%" if _is_fraction(field) else _number(value)
    if isinstance(value, dict) and set(value) == set(Sourced.model_fields):
        spread = f", range {_number(value['low'])} to {_number(value['high'])}" if value["low"] != value["high"] else ""
        return f"{_number(value['value'])} {value['unit']} (source {value['source']}{spread})"
    if isinstance(value, dict):
        return "; ".join(f"{k} {_shown(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _at(data: Any, key: str) -> Any:
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return ABSENT
        data = data[part]
    return data


def _quantity(dumps: list[dict], key: str) -> str:
    """The sourced quantity a key is part of (``"...budget.value"`` -> ``"...budget"``), else the key."""
    parts = key.split(".")
    for end in range(1, len(parts)):
        prefix = ".".join(parts[:end])
        if any(isinstance(n := _at(d, prefix), dict) and set(n) == set(Sourced.model_fields) for d in dumps):
            return prefix
    return key


def _programme(value: Any) -> str:
    if value is ABSENT:
        return "not run"
    budget = value["budget"]
    return (
        f"{value['description']} ({value['department']}; {_number(budget['value'])} {budget['unit']}, "
        f"{value['funding_period_months']}-month funding periods)"
    )


def _run_text(key: str, scenario: Scenario, place_names: Mapping[str, str]) -> str:
    run = scenario.run
    if key == "horizon_months":
        months = run.start_year * 12 + run.start_month - 1 + run.horizon_months - 1
        return f"{run.horizon_months} months ({run.start} to {date(months // 12, months % 12 + 1, 1):%Y-%m})"
    if key == "places":
        if isinstance(run.places, str):
            return {"pilots": "the pilot places", "all": "every place in England"}[run.places]
        return ", ".join(f"{place_names[c]} ({c})" if c in place_names else c for c in run.places)
    if key == "scale":
        per = 1 / run.scale
        if abs(per - round(per)) < 1e-9:
            return f"1 in {round(per):,} real residents simulated"
        return f"{run.scale:g} simulated residents per real resident"
    if key == "calibration":
        fit = scenario.calibration
        return f"{fit.name} (fitted {fit.fitted_on})" if fit else "none"
    return _shown(getattr(run, key))


_SETTINGS = (*(f"run.{k}" for k in _RUN_NAMES), "calibration")
_SHOWN = ("run.start", "run.horizon_months", "run.places", "run.scale", "calibration")
"""Settings shown for every report; the others only where the scenarios differ in them."""


def _setting_differences(base: Scenario, alternative: Scenario, place_names: Mapping[str, str]) -> list[Difference]:
    rows = []
    for key in _SETTINGS:
        short = key.removeprefix("run.")
        values = [_run_text(short, sc, place_names) for sc in (base, alternative)]
        if values[0] != values[1]:
            rows.append(Difference(readable_name(key), _KINDS[key.split(".")[0]], key, _meaning(_field(key)), *values))
    return rows


def differences(base: Scenario, alternative: Scenario, place_names: Mapping[str, str] | None = None) -> list[Difference]:
    """Everything that differs between two scenarios, with both values.

    Run settings and calibration come first, then what :func:`~pfpp_sim.factors.factor_set`
    finds, in its order.
    Each lever, sourced quantity and other key is one row; a programme that only one
    scenario runs is one row (its description, department, budget and funding period);
    a programme both run has a row per key that differs.

    Parameters
    ----------
    base, alternative : Scenario
    place_names : mapping of str to str, optional
        Place names by code, to name the places a run covers.

    Returns
    -------
    list of Difference
        Empty if the scenarios differ only in name, description or ``extends``.
    """
    rows = _setting_differences(base, alternative, place_names or {})
    aligned = alternative.model_copy(update={"run": base.run, "calibration": base.calibration})
    if aligned.scenario_hash() == base.scenario_hash():
        return rows
    dumps = [sc.model_dump(mode="python") for sc in (base, aligned)]
    for factor in factor_set(base, aligned, limit=None).factors:
        root = factor.name.split(".")[0]
        values = [_at(d, factor.name) for d in dumps]
        field = _field(factor.name)
        if root == "programmes" and ABSENT in values:
            shown = [_programme(v) for v in values]
            rows.append(Difference(readable_name(factor.name), _KINDS[root], factor.name, _meaning(field), *shown))
        elif root == "programmes":
            for key in dict.fromkeys(_quantity(dumps, key) for key, _, _ in factor.changes):
                inner = _field(key)
                shown = [_shown(_at(d, key), inner) for d in dumps]
                rows.append(Difference(readable_name(key), _KINDS[root], key, _meaning(inner), *shown))
        else:
            shown = [_shown(v, field) for v in values]
            rows.append(Difference(readable_name(factor.name), _KINDS[root], factor.name, _meaning(field), *shown))
    return rows


def _scenarios(manifest: dict, names: list[str]) -> dict[str, Scenario]:
    return {s: Scenario.model_validate(manifest["scenarios"][s]["parameters"]) for s in names}


def _difference_table(rows: list[Difference], base: str, alternative: str) -> str:
    head = "".join(
        f"<th scope='col'>{escape(h)}</th>" for h in ("What differs", f"Base: {base}", f"Alternative: {alternative}")
    )
    body = "".join(
        f"<tr><th scope='row'>{escape(r.name)} <span class='kind'>({escape(r.kind)})</span>"
        + f"<br><small>{escape(r.meaning) + ' · ' if r.meaning else ''}<code>{escape(r.key)}</code></small></th>"
        f"<td>{escape(r.base)}</td><td>{escape(r.alternative)}</td></tr>"
        for r in rows
    )
    return f"<table class='differs'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def what_differs_section(manifest: dict, scenarios: list[str], place_names: Mapping[str, str] | None = None) -> Section:
    """The opening panel: what the scenarios are, every setting in which they differ, and how both were run.

    Parameters
    ----------
    manifest : dict
        Of a run, comparison, explanation or robustness run (with each scenario's parameters).
    scenarios : list of str
        One scenario, or the base and the alternative.
    place_names : mapping of str to str, optional
        Place names by code.

    Returns
    -------
    Section
        "What differs" for two scenarios, "What was run" for one.
    """
    place_names = place_names or {}
    loaded = _scenarios(manifest, scenarios)
    first = loaded[scenarios[0]]
    roles = ("Base", "Alternative") if len(scenarios) == 2 else ("Scenario",)
    body = "".join(
        f"<p><strong>{role}:</strong> {escape(loaded[s].description)} "
        f"<small>(<code>{escape(s)}</code> in tables and charts)</small></p>"
        for role, s in zip(roles, scenarios)
    )
    rows: list[Difference] = []
    if len(scenarios) == 2:
        rows = differences(first, loaded[scenarios[1]], place_names)
        if rows:
            settings = f"{len(rows)} setting{'s' if len(rows) > 1 else ''}"
            body += f"<p>They differ in {settings}:</p>" + _difference_table(rows, *scenarios)
        else:
            body += "<p>Nothing differs between them but their names: the same settings, run on the same seeds.</p>"
    differing = {r.key for r in rows}
    shared = [[readable_name(k), _run_text(k.removeprefix("run."), first, place_names)] for k in _SHOWN if k not in differing]
    shared += [["Replicates", str(manifest["replicates"])], ["Seed", str(manifest["seed"])]]
    body += f"<p>{'Both were' if len(scenarios) == 2 else 'It was'} run with:</p>"
    body += _table(["Setting", "Value"], shared, numeric_from=99)
    return Section("What differs" if len(scenarios) == 2 else "What was run", body)
