"""What the room sees at one moment: both sides' month, cards, charts, narrative and money flows, as markup.

A frame is built from both runs at once, while :meth:`pfpp_sim.app.sides.Sides.reading`
holds the lock, so the two columns on screen always come from the same month: a step
or a change of settings made meanwhile waits for the frame and shows in the next one.
Building it needs no Solara, so tests read the frame directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from pfpp_sim.app.causes import causes_html, money_causes
from pfpp_sim.app.charts import BASELINE_COLOUR, CHOSEN_COLOUR, FLOW_PLOT, MONEY_STYLES, Series, flow_chart, line_chart
from pfpp_sim.app.differences import differences, strip_html
from pfpp_sim.app.flows import Link, Node, fitting_scale, funding_flows
from pfpp_sim.app.narrative import happenings, money, month_label, recent_sentences
from pfpp_sim.app.session import SHOWN_RATES, Settings, money_to_date, rate_series
from pfpp_sim.app.sides import Now
from pfpp_sim.model import PfppModel
from pfpp_sim.scenario import INTERVENTION_KEYS

__all__ = ["RATE_TITLES", "Frame", "SideFrame", "build_frame", "month_text", "period_text", "shared_flow_scale"]

RATE_TITLES = {
    "fuel_poverty_rate": ("Fuel poverty", "% of households"),
    "neet_16_24_rate": ("NEET, aged 16-24", "% of 16-24 year olds"),
    "youth_mh_rate": ("Probable mental disorder, 16-24", "% of 16-24 year olds"),
}
"""Title and unit of each rate chart."""


@dataclass(frozen=True)
class SideFrame:
    """One column at one moment: its month line, cards, charts, narrative and funding flow (HTML and SVG markup)."""

    month: int
    month_text: str
    cards_html: str
    charts: tuple[str, ...]
    narrative_html: str
    flow_svg: str


@dataclass(frozen=True)
class Frame:
    """Both columns at one moment, with the settings and month they show.

    ``version`` is :attr:`pfpp_sim.app.sides.Sides.version` when it was built; ``dates``
    are the months of the runs (the same on both sides); ``difference_html`` is the strip
    of your settings minus the siloed side (:mod:`pfpp_sim.app.differences`);
    ``causes_html`` the table of what happened to each side's money over the whole run
    (:mod:`pfpp_sim.app.causes`).
    """

    settings: Settings
    version: int
    month: int
    horizon: int
    dates: pd.DatetimeIndex
    month_text: str
    difference_html: str
    causes_html: str
    left: SideFrame
    right: SideFrame


def month_text(model: PfppModel) -> str:
    """``Month 33 of 60: December 2023``: months run and the calendar month last run (``starts April 2021`` at month 0)."""
    if model.month == 0:
        return f"Month 0 of {model.horizon}: starts {model.exo.dates[0]:%B %Y}"
    return f"Month {model.month} of {model.horizon}: {model.exo.dates[model.month - 1]:%B %Y}"


def period_text(model: PfppModel) -> str:
    """The months run so far: ``April 2021 to June 2023``, ``April 2021`` after one month, ``no months yet`` at month 0."""
    if model.month == 0:
        return "no months yet"
    first, last = model.exo.dates[0], model.exo.dates[model.month - 1]
    return f"{first:%B %Y}" if model.month == 1 else f"{first:%B %Y} to {last:%B %Y}"


def build_frame(now: Now) -> Frame:
    """Both columns of ``now``, drawn on shared axes: the same limits for each chart, one scale for both funding flows.

    Parameters
    ----------
    now : Now
        From :meth:`pfpp_sim.app.sides.Sides.reading`, whose lock must still be held.

    Returns
    -------
    Frame
    """
    left, right = now.left, now.right
    limits = _limits(left, right)
    graphs = {side: _graph(model) for side, model in (("left", left), ("right", right))}
    scale = shared_flow_scale(graphs.values())
    return Frame(
        settings=now.settings, version=now.version, month=now.month, horizon=left.horizon, dates=left.exo.dates,
        month_text=month_text(left), difference_html=strip_html(differences(left, right), month_text=month_text(left)),
        causes_html=causes_html(money_causes(left), money_causes(right), period=period_text(left)),
        left=_side(left, right, baseline=True, limits=limits, flow=_flow_svg(left, *graphs["left"], scale=scale)),
        right=_side(right, left, baseline=False, limits=limits, flow=_flow_svg(right, *graphs["right"], scale=scale)),
    )


def shared_flow_scale(graphs: Iterable[tuple[Sequence[Node], Sequence[Link]]]) -> float | None:
    """Pixels per penny for funding-flow diagrams shown side by side: the same amount is the same height in each.

    Parameters
    ----------
    graphs : iterable of (nodes, links)
        From :func:`pfpp_sim.app.flows.funding_flows`, one per diagram.

    Returns
    -------
    float or None
        The smallest of the diagrams' :func:`~pfpp_sim.app.flows.fitting_scale` (so the
        diagram with the most money fills its height and the others fit), or None when
        no diagram has money yet.
    """
    scales = [fitting_scale(nodes, links, height=FLOW_PLOT["height"], gap=FLOW_PLOT["gap"]) for nodes, links in graphs if links]
    return min(scales, default=None)


def _side(model: PfppModel, other: PfppModel, *, baseline: bool, limits: dict[str, tuple[float, float]], flow: str) -> SideFrame:
    return SideFrame(
        month=model.month, month_text=month_text(model), cards_html=_cards(model),
        charts=_charts(model, other, baseline=baseline, limits=limits), narrative_html=_narrative(model), flow_svg=flow,
    )


def _latest(model: PfppModel, name: str) -> float:
    source = model.records[-1] if model.records else model.initial_rates
    return float(source[name][0])


def _limits(left: PfppModel, right: PfppModel) -> dict[str, tuple[float, float]]:
    """y ranges shared by both sides: each rate (percent) padded to at least 3 points, and money (GBP)."""
    limits = {}
    for name in SHOWN_RATES:
        values = [100 * _latest(m, name) for m in (left, right)]
        values += [100 * float(r[name][0]) for m in (left, right) for r in m.records]
        low, high = min(values) - 0.5, max(values) + 0.5
        widen = max(3.0 - (high - low), 0.0) / 2
        limits[name] = (max(low - widen, 0.0), high + widen)
    peak = max((float(money_to_date(m)[k][-1]) for m in (left, right) if m.records for k in MONEY_STYLES), default=0.0)
    limits["money"] = (0.0, max(peak * 1.05, 10_000.0))
    return limits


def _cards(model: PfppModel) -> str:
    """Latest rates and money to date of one run."""
    totals = {k: float(v[-1]) for k, v in money_to_date(model).items()} if model.records else {}
    cards = [
        ("fuel_poverty", "Fuel poverty", f"{100 * _latest(model, 'fuel_poverty_rate'):.1f}%"),
        ("neet", "NEET 16-24", f"{100 * _latest(model, 'neet_16_24_rate'):.1f}%"),
        ("mental_health", "Mental disorder", f"{100 * _latest(model, 'youth_mh_rate'):.1f}%"),
        ("months_lost", "Team-months lost", f"{totals.get('mobilisation_months_lost', 0.0):,.0f}"),
        ("delivered", "Delivered to date", money(totals.get("delivered_gbp", 0.0))),
        ("overhead", "All overhead to date", money(totals.get("overhead_gbp", 0.0))),
        ("returned", "Returned to date", money(totals.get("returned_gbp", 0.0))),
        ("duplicated", "Duplicated to date", money(totals.get("duplicated_gbp", 0.0))),
    ]
    return "".join(
        f"<div class='pfpp-monitor pfpp-monitor-{key}'><div class='pfpp-label'>{title}</div><div class='pfpp-value'>{value}</div></div>"
        for key, title, value in cards
    )


def _charts(model: PfppModel, other: PfppModel, *, baseline: bool, limits: dict[str, tuple[float, float]]) -> tuple[str, ...]:
    colour, other_colour = (BASELINE_COLOUR, CHOSEN_COLOUR) if baseline else (CHOSEN_COLOUR, BASELINE_COLOUR)
    name, other_name = ("Siloed baseline", "Your settings") if baseline else ("Your settings", "Siloed baseline")
    dates = model.exo.dates
    mine, theirs = rate_series(model), rate_series(other)
    svgs = [
        line_chart(
            title, unit,
            [Series(other_name, theirs[key], other_colour, dash="6 4", width=1.6), Series(name, mine[key], colour)],
            dates=dates, limits=limits[key], classes=f"pfpp-chart pfpp-chart-{key}",
        )
        for key, (title, unit) in RATE_TITLES.items()
    ]
    to_date = money_to_date(model)
    scale, unit = (1e6, "£ million") if limits["money"][1] >= 2e6 else (1e3, "£ thousand")
    svgs.append(
        line_chart(
            "Money to date", f"{unit}, real scale",
            [Series(lbl, to_date[key], c, dash=d, width=2.2) for key, (lbl, c, d) in MONEY_STYLES.items()],
            dates=dates, limits=limits["money"], scale=scale, legend=True, classes="pfpp-chart pfpp-chart-money",
        )
    )
    return tuple(svgs)


def _graph(model: PfppModel) -> tuple[list[Node], list[Link]]:
    domains = {k: model.scenario.interventions.get(k).domain for k in INTERVENTION_KEYS}
    return funding_flows(model.awards, domains=domains, place_names=model.population.places.names)


def _flow_svg(model: PfppModel, nodes: list[Node], links: list[Link], *, scale: float | None) -> str:
    dates = model.exo.dates
    events = happenings(model.events)
    marks = {f"programme:{h.programme}": f"stopped month {h.month + 1}" for h in events if h.kind == "discontinued"}
    recent = [h for h in events if h.kind in ("clawback", "discontinued") and h.month >= model.month - 3]
    recent.sort(key=lambda h: (-h.month, h.kind != "clawback"))
    notes = [f"{month_label(h.month, dates)}: {h.headline}" for h in recent]
    if len(notes) > 3:
        notes = [*notes[:2], f"and {len(notes) - 2} more clawbacks or discontinued streams in the last 3 months"]
    return flow_chart(nodes, links, notes=notes, marks=marks, scale=scale, classes="pfpp-flow")


def _narrative(model: PfppModel) -> str:
    if not model.records:
        return "<p>Nothing yet: press <b>Step</b> or <b>Play</b>.</p>"
    last = model.records[-1]
    status = (
        f"{month_label(model.month - 1, model.exo.dates)}: {money(float(last['delivered_gbp'][0]))} delivered this month; "
        f"{money(float(last['held_gbp'][0]))} awarded and not yet spent."
    )
    sentences = recent_sentences(model.events, model.exo.dates, month=model.month, window_months=6, limit=5)
    return "<ul>" + "".join(f"<li>{s}</li>" for s in [status, *sentences]) + "</ul>"
