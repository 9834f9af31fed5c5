"""'What is happening': plain sentences from a run's events, for the teaching app.

A run records events as ``(month, text)`` pairs (:attr:`PfppModel.events`). This module
recognises the kinds a room cares about (clawbacks at deadlines, discontinued streams,
missed bid windows, failed bids), rewrites them for people who do not know the
programme keys, and prefixes the month number and calendar month.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

__all__ = ["Happening", "happenings", "label", "money", "month_label", "recent_sentences"]

_CLAWBACK = re.compile(r"^(?P<department>\S+) clawed back GBP (?P<amount>[\d,]+) unspent on (?P<programme>\S+) from (?P<place>.+)$")
_DISCONTINUED = re.compile(r"^(?P<department>\S+) discontinued (?P<programme>\S+); a replacement stream opens after (?P<gap>\d+) months$")
_MISSED = re.compile(r"^(?P<place>.+) missed the (?P<department>\S+) (?P<programme>\S+) window: no contact yet$")
_BID_FAILED = re.compile(r"^(?P<department>\S+) (?P<programme>\S+): (?P<place>.+) bid failed$")
_SCALED_DOWN = re.compile(r"^(?P<department>\S+) (?P<programme>\S+): (?P<place>.+) bid scaled down to GBP (?P<amount>[\d,]+) of GBP (?P<asked>[\d,]+)$")
_NOT_AWARDED = re.compile(r"^(?P<department>\S+) (?P<programme>\S+): GBP (?P<amount>[\d,]+) of a GBP (?P<pot>[\d,]+) pot not awarded \(too few bids\)$")
_SPECIAL_LABELS = {
    "HomeOffice": "Home Office",
    "pooled": "Pooled budget",
    "mh_hub": "Mental-health hub",
    "asb_outreach": "ASB outreach",
    "neet": "NEET",
    "mental_health": "Youth mental health",
    "pfpp_grant": "PfPP grant",
}


def label(key: str) -> str:
    """A key as a room would read it: ``home_upgrade`` -> ``Home upgrade``, ``HomeOffice`` -> ``Home Office``."""
    if key in _SPECIAL_LABELS:
        return _SPECIAL_LABELS[key]
    if "_" not in key and any(c.isupper() for c in key):
        return key  # department acronyms: DESNZ, DWP, DfE
    return key.replace("_", " ").capitalize()


def money(gbp: float) -> str:
    """Pounds for a projector: ``£950``, ``£92,925``, ``£1.25m``."""
    if abs(gbp) >= 1e6:
        return f"£{gbp / 1e6:,.2f}m"
    return f"£{gbp:,.0f}"


def month_label(month: int, dates: pd.DatetimeIndex) -> str:
    """``Month 14 (May 2022)`` for month index 13 of a run starting April 2021 (months count from 1)."""
    return f"Month {month + 1} ({dates[month]:%b %Y})"


@dataclass(frozen=True)
class Happening:
    """One event of a run, recognised and rewritten as a sentence.

    ``kind`` is ``"clawback"``, ``"discontinued"``, ``"missed_window"``, ``"bid_failed"``,
    ``"bid_scaled_down"``, ``"not_awarded"`` or ``"other"``; ``month`` is the month index
    (0 = first month of the run).
    """

    month: int
    kind: str
    sentence: str
    headline: str = ""  # a shorter sentence, for annotations
    department: str = ""
    programme: str = ""
    amount_gbp: float = 0.0


def _happening(month: int, text: str) -> Happening:
    if m := _CLAWBACK.match(text):
        amount = float(m["amount"].replace(",", ""))
        if m["department"] == "pooled":
            sentence = f"the pooled budget returned {money(amount)} unspent from {m['place']} at its deadline"
        else:
            sentence = (
                f"{label(m['department'])} clawed back {money(amount)} unspent on {label(m['programme'])} "
                f"from {m['place']} at the deadline"
            )
        headline = f"{label(m['department'])} clawed back {money(amount)}" + ("" if m["department"] == "pooled" else f" ({label(m['programme'])})")
        return Happening(month, "clawback", sentence, headline, m["department"], m["programme"], amount)
    if m := _DISCONTINUED.match(text):
        sentence = (
            f"{label(m['department'])} discontinued {label(m['programme'])}; "
            f"a replacement opens after {m['gap']} months and councils must find the new team"
        )
        headline = f"{label(m['department'])} discontinued {label(m['programme'])}"
        return Happening(month, "discontinued", sentence, headline, m["department"], m["programme"])
    if m := _MISSED.match(text):
        sentence = f"{m['place']} missed the {label(m['department'])} {label(m['programme'])} bid window: no contact in the department yet"
        return Happening(month, "missed_window", sentence, f"{m['place']} missed a bid window", m["department"], m["programme"])
    if m := _BID_FAILED.match(text):
        sentence = f"{m['place']}'s bid to {label(m['department'])} {label(m['programme'])} failed; the bid cost is lost"
        return Happening(month, "bid_failed", sentence, f"{m['place']}'s bid failed", m["department"], m["programme"])
    if m := _SCALED_DOWN.match(text):
        amount, asked = (float(m[k].replace(",", "")) for k in ("amount", "asked"))
        sentence = f"{m['place']}'s bid to {label(m['department'])} {label(m['programme'])} won {money(amount)} of the {money(asked)} asked for: the pot ran out"
        return Happening(month, "bid_scaled_down", sentence, f"{m['place']}'s bid scaled down", m["department"], m["programme"], amount)
    if m := _NOT_AWARDED.match(text):
        amount, pot = (float(m[k].replace(",", "")) for k in ("amount", "pot"))
        sentence = f"{label(m['department'])} left {money(amount)} of its {money(pot)} {label(m['programme'])} pot unawarded: too few councils bid"
        headline = f"{label(m['department'])} left {money(amount)} unawarded ({label(m['programme'])})"
        return Happening(month, "not_awarded", sentence, headline, m["department"], m["programme"], amount)
    return Happening(month, "other", text, text)


def happenings(events: Sequence[tuple[int, str]], *, since: int = 0) -> list[Happening]:
    """Recognise the events of a run from month index ``since`` on, in the order they happened.

    Parameters
    ----------
    events : sequence of (int, str)
        ``PfppModel.events``: month index and text.
    since : int, default=0
        First month index to include.

    Returns
    -------
    list of Happening
    """
    return [_happening(month, text) for month, text in events if month >= since]


def recent_sentences(
    events: Sequence[tuple[int, str]],
    dates: pd.DatetimeIndex,
    *,
    month: int,
    window_months: int = 6,
    limit: int = 8,
) -> list[str]:
    """Sentences for the events of the last ``window_months`` months before ``month``, newest first.

    Parameters
    ----------
    events : sequence of (int, str)
        ``PfppModel.events``.
    dates : DatetimeIndex
        Calendar month of each month index (``PfppModel.exo.dates``).
    month : int
        Months simulated so far (``PfppModel.month``); events of month indices
        ``month - window_months`` to ``month - 1`` are described.
    window_months : int, default=6
    limit : int, default=8
        At most this many sentences; clawbacks, discontinued streams and unawarded pots
        come before missed windows and failed or scaled-down bids of the same month.

    Returns
    -------
    list of str
        E.g. ``"Month 13 (Apr 2022): DWP clawed back £92,925 unspent on Household support
        from Hastings at the deadline"``.
    """
    priority = {"clawback": 0, "discontinued": 1, "not_awarded": 2, "missed_window": 3, "bid_failed": 4, "bid_scaled_down": 5, "other": 6}
    recent = [h for h in happenings(events, since=max(month - window_months, 0)) if h.month < month]
    recent.sort(key=lambda h: (-h.month, priority[h.kind]))
    return [f"{month_label(h.month, dates)}: {h.sentence}" for h in recent[:limit]]
