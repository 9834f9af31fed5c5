"""The difference strip: your settings minus the siloed side, for the money and the outcomes on screen.

One line a room can read from the back: how much more (or less) was awarded, delivered,
handed back and spent on overhead to date, how many more team-months were lost, and how
far each rate differs this month. Each figure is the right-hand card minus the left-hand
one (money awarded is the flow diagrams' "awarded so far"), so the strip never says
something the two columns do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from pfpp_sim.app.narrative import money
from pfpp_sim.app.session import SHOWN_RATES
from pfpp_sim.model import PfppModel

__all__ = ["DIFFERENCES", "Difference", "differences", "signed", "strip_html"]

MINUS = "\u2212"
DIFFERENCES = {
    "allocated_gbp": ("Awarded", "GBP"),
    "delivered_gbp": ("Delivered", "GBP"),
    "returned_gbp": ("Returned", "GBP"),
    "overhead_gbp": ("All overhead", "GBP"),
    "mobilisation_months_lost": ("Team-months lost", "team-months"),
    "fuel_poverty_rate": ("Fuel poverty", "percentage points"),
    "neet_16_24_rate": ("NEET 16-24", "percentage points"),
    "youth_mh_rate": ("Mental disorder", "percentage points"),
}
"""Each figure of the strip, in order: its label and the unit of its difference."""


@dataclass(frozen=True)
class Difference:
    """One figure of the strip: your settings minus the siloed side, in ``unit``."""

    key: str
    label: str
    value: float
    unit: str

    @property
    def text(self) -> str:
        return signed(self.value, self.unit)


def signed(value: float, unit: str) -> str:
    """A difference as the strip prints it: ``+£2.77m``, ``−£299,025``, ``−11``, ``+0.3 pp``, or ``0`` when there is none shown.

    Parameters
    ----------
    value : float
        In ``unit``.
    unit : {"GBP", "team-months", "percentage points"}

    Returns
    -------
    str
    """
    if unit == "GBP":
        text = money(abs(value))
        zero = text == "£0"
    elif unit == "percentage points":
        text = f"{abs(value):.1f} pp"
        zero = text == "0.0 pp"
    else:
        text = f"{abs(value):,.0f}"
        zero = text == "0"
    if zero:
        return text
    return ("+" if value > 0 else MINUS) + text


def differences(left: PfppModel, right: PfppModel) -> list[Difference]:
    """Your settings (``right``) minus the siloed side (``left``): money and team-months to date, rates this month.

    Parameters
    ----------
    left, right : PfppModel
        Both sides, at the same month.

    Returns
    -------
    list of Difference
        In :data:`DIFFERENCES` order; rates in percentage points, money in GBP at real scale.
    """
    found = []
    for key, (title, unit) in DIFFERENCES.items():
        if key in SHOWN_RATES:
            value = 100 * (_rate_now(right, key) - _rate_now(left, key))
        else:
            value = _to_date(right, key) - _to_date(left, key)
        found.append(Difference(key, title, value, unit))
    return found


def strip_html(found: list[Difference], *, month_text: str) -> str:
    """The strip as HTML: a title naming the month, then one cell per figure (class ``pfpp-difference-<key>``)."""
    cells = "".join(
        f"<div class='pfpp-difference-cell pfpp-difference-{d.key}'><div class='pfpp-label'>{escape(d.label)}</div>"
        f"<div class='pfpp-value'>{escape(d.text)}</div></div>"
        for d in found
    )
    title = f"Your settings {MINUS} siloed, {escape(month_text)} (money and team-months to date, rates this month)"
    return f"<div class='pfpp-difference-title'>{title}</div><div class='pfpp-difference-cells'>{cells}</div>"


def _rate_now(model: PfppModel, name: str) -> float:
    source = model.records[-1] if model.records else model.initial_rates
    return float(source[name][0])


def _to_date(model: PfppModel, name: str) -> float:
    """The sum of a monthly flow of the first place over the months run (0 at month 0)."""
    return float(sum(r[name][0] for r in model.records))
