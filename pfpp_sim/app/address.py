"""The app's state in its address: place, scale, seed, preset, levers and month as a query string, and back.

A reload, or a link shared with the room, shows the same place, settings and month:
``?place=E07000062&scale=0.01&seed=1&preset=pfpp_joined_up&month=27&carry_over=off``.
Only the levers that differ from the preset's are written, so a link reads as "this
preset, with these changes". Reading a link checks every value as the drawer would:
a place outside the 14, a seed that is not a whole number, a preset not offered, a lever
out of its range, a month beyond the horizon, an unknown or repeated key are each
refused with one line naming the key, the value and what was expected.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlencode

from pydantic import ValidationError

from pfpp_sim.app.session import (
    BASELINE,
    LEVER_CHOICES,
    LEVER_LABELS,
    SCALES,
    Settings,
    changed_levers,
    parse_month,
    parse_seed,
    pilot_places,
    preset,
    preset_order,
)
from pfpp_sim.errors import PfppError
from pfpp_sim.scenario import Levers

__all__ = ["DEFAULT_WORD", "MAX_QUERY_CHARS", "address", "read_address"]

DEFAULT_WORD = "default"
"""How a link writes None for a lever that overrides each stream's own (``funding_period_months=default``)."""
MAX_QUERY_CHARS = 2_000
"""Longest query string read; a link the app writes is a few hundred characters at most."""
_RUN_KEYS = ("place", "scale", "seed", "preset", "month")
_NUMBER = re.compile(r"[0-9]*\.?[0-9]+(e-?[0-9]+)?")


def _lever_word(value: Any) -> str:
    if value is None:
        return DEFAULT_WORD
    if isinstance(value, bool):
        return "on" if value else "off"
    return repr(value)  # the shortest text that reads back as the same float


def address(settings: Settings, month: int) -> str:
    """The query string (without ``?``) that :func:`read_address` reads back as ``settings`` and ``month``.

    Parameters
    ----------
    settings : Settings
    month : int
        Months both sides have run.

    Returns
    -------
    str
        ``place``, ``scale``, ``seed``, ``preset`` and ``month``, then each lever that
        differs from the preset's, in :data:`~pfpp_sim.app.session.LEVER_LABELS` order.
    """
    pairs = [("place", settings.place), ("scale", repr(settings.scale)), ("seed", str(settings.seed)), ("preset", settings.preset), ("month", str(month))]
    pairs += [(name, _lever_word(getattr(settings.levers, name))) for name in changed_levers(settings)]
    return urlencode(pairs)


def _refuse(key: str, value: str, expected: str) -> PfppError:
    shown = value if len(value) <= 40 else value[:40] + "..."
    return PfppError(f"{key} = {shown!r}: expected {expected}")


def _lever_value(name: str, text: str, ours: Any) -> Any:
    """A lever's value from its text in a link, checked as the drawer would allow it."""
    kind = Levers.model_fields[name].annotation
    if kind is bool:
        if text not in ("on", "off"):
            raise _refuse(name, text, "on or off")
        return text == "on"
    if name in LEVER_CHOICES:
        choices = [*LEVER_CHOICES[name], ours]
        value = None if text == DEFAULT_WORD else float(text) if _NUMBER.fullmatch(text) else math.nan
        if name == "funding_period_months" and value is not None and value.is_integer():
            value = int(value)
        if value not in choices:
            offered = ", ".join(DEFAULT_WORD if c is None else repr(c) for c in dict.fromkeys(choices))
            raise _refuse(name, text, f"one of {offered}")
        return value
    value = float(text) if _NUMBER.fullmatch(text) else math.nan
    if not 0.0 <= value <= 1.0:
        raise _refuse(name, text, "a number from 0 to 1")
    return value


def read_address(query: str) -> tuple[Settings, int]:
    """The settings and month a link asks for; keys it leaves out keep the app's defaults.

    Parameters
    ----------
    query : str
        The query string, with or without its leading ``?``.

    Returns
    -------
    settings : Settings
    month : int
        0 to the horizon.

    Raises
    ------
    PfppError
        One line naming the key, the value and what was expected, for an unknown or
        repeated key, a place that is not one of the 14, a scale the drawer does not
        offer, a bad seed, a preset not offered, a lever out of range or a month beyond
        the horizon; or a query longer than :data:`MAX_QUERY_CHARS`.
    """
    query = query.removeprefix("?")
    if len(query) > MAX_QUERY_CHARS:
        raise PfppError(f"the link's settings are {len(query):,} characters long: expected at most {MAX_QUERY_CHARS:,}")
    try:
        found = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query), max_num_fields=len(_RUN_KEYS) + len(LEVER_LABELS))
    except ValueError as err:
        raise PfppError(f"the link's settings {query[:40]!r}: expected key=value pairs joined by & ({err})") from err
    for key, values in found.items():
        if key not in _RUN_KEYS and key not in LEVER_LABELS:
            raise _refuse(key, values[0], f"no such key: one of {', '.join((*_RUN_KEYS, *LEVER_LABELS))}")
        if len(values) > 1:
            raise _refuse(key, values[1], "the key once")
    given = {key: values[0] for key, values in found.items()}
    settings = Settings()
    if "preset" in given:
        if given["preset"] not in preset_order():
            raise _refuse("preset", given["preset"], f"a preset run as the siloed side is: {', '.join(preset_order())}")
        settings = settings.with_preset(given["preset"])
    if "place" in given:
        places = dict(pilot_places())
        if given["place"] not in places:
            raise _refuse("place", given["place"], f"the ONS code of one of the {len(places)} places (e.g. {Settings().place} for {places[Settings().place]})")
        settings = replace(settings, place=given["place"])
    if "scale" in given:
        scales = {repr(s): s for s in SCALES}
        if given["scale"] not in scales:
            raise _refuse("scale", given["scale"], f"one of {', '.join(scales)}")
        settings = replace(settings, scale=scales[given["scale"]])
    if "seed" in given:
        settings = replace(settings, seed=parse_seed(given["seed"]))
    ours = preset(settings.preset).levers
    for name in LEVER_LABELS:
        if name in given:
            try:
                settings = settings.with_lever(name, _lever_value(name, given[name], getattr(ours, name)))
            except ValidationError as err:
                raise _refuse(name, given[name], err.errors()[0]["msg"].lower()) from err
    month = parse_month(given.get("month", "0"), preset(BASELINE).run.horizon_months)
    return settings, month
