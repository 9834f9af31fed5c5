"""Charts for the teaching app as SVG markup: outcome lines and the funding-flow (Sankey) diagram.

Plain SVG, built in Python and drawn by the browser: it needs no chart library or CDN
(rooms are often offline), costs milliseconds per update instead of the ~0.2 s a
matplotlib figure takes on a 2-core laptop, stays sharp on a projector, and its text
is real text that screen readers (and the browser tests) can read. Colours are the
Government Analysis Function's accessible categorical palette; lines also differ in
dash and width, so nothing rests on colour alone.

References
----------
Government Analysis Function, "Data visualisation: colours" (2024),
https://analysisfunction.civilservice.gov.uk/policy-store/data-visualisation-colours-in-charts/
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd

from pfpp_sim.app.flows import COLUMNS, Link, Node, layout, link_bands, spread_labels
from pfpp_sim.app.narrative import money

__all__ = ["BASELINE_COLOUR", "CHOSEN_COLOUR", "FLOW_PLOT", "MONEY_STYLES", "Series", "Step", "flow_chart", "line_chart", "nice_ticks", "waterfall_chart"]

DARK_BLUE, TURQUOISE, DARK_PINK, ORANGE, DARK_GREY, LIGHT_PURPLE = "#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1"
BASELINE_COLOUR = ORANGE
"""Siloed baseline, in every chart."""
CHOSEN_COLOUR = DARK_BLUE
"""The room's settings, in every chart."""
MONEY_STYLES = {
    "delivered_gbp": ("Delivered", TURQUOISE, ""),
    "overhead_gbp": ("All overhead", LIGHT_PURPLE, "7 4"),
    "returned_gbp": ("Returned", DARK_PINK, ""),
    "duplicated_gbp": ("Duplicated", DARK_GREY, "2 3"),
}
"""Label, colour and dash pattern of each money flow."""
_LINK_COLOUR = {"allocated": "#9BB3C9", "overhead": LIGHT_PURPLE, "delivered": TURQUOISE, "held": "#BDBDBD", "returned": DARK_PINK}
_NODE_COLOUR = {"overhead": LIGHT_PURPLE, "domain": TURQUOISE, "held": "#8C8C8C", "returned": DARK_PINK}
_FONT = "font-family='Arial, Helvetica, sans-serif'"
_LINE_PX = 14  # line height of flow-chart labels
FLOW_PLOT = {"height": 330.0, "gap": 14.0}
"""Pixels of the funding-flow diagram's nodes: the height the fullest column may fill, and the gap between nodes."""


@dataclass(frozen=True)
class Series:
    """One line: values by month index (NaN-free), colour, SVG dash pattern ('' = solid), width."""

    label: str
    values: np.ndarray
    colour: str
    dash: str = ""
    width: float = 2.5


@dataclass(frozen=True)
class Step:
    """One bar of a waterfall: a factor's label, a detail line under it, its value and how to print it."""

    label: str
    detail: str
    value: float
    text: str


def nice_ticks(low: float, high: float, *, count: int = 5) -> list[float]:
    """Round tick values from at or below ``low`` to at or above ``high``, about ``count`` of them (steps 1, 2, 2.5 or 5 x 10^k)."""
    if not high > low:
        high = low + 1.0
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    return [round(first + i * step, 10) for i in range(int(round((last - first) / step)) + 1)]


def _svg(width: int, height: int, body: list[str], label: str, classes: str) -> str:
    return (
        f"<svg class='{classes}' viewBox='0 0 {width} {height}' role='img' aria-label='{escape(label, quote=True)}' "
        f"xmlns='http://www.w3.org/2000/svg' style='width:100%;height:auto;display:block' {_FONT}>"
        + "".join(body)
        + "</svg>"
    )


def _text(x: float, y: float, text: str, *, size: float = 12, anchor: str = "start", colour: str = "#1A1A1A", weight: str = "normal") -> str:
    return (
        f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' text-anchor='{anchor}' fill='{colour}' font-weight='{weight}'>"
        f"{escape(text)}</text>"
    )


def line_chart(
    title: str,
    unit: str,
    series: Sequence[Series],
    *,
    dates: pd.DatetimeIndex,
    limits: tuple[float, float],
    scale: float = 1.0,
    legend: bool = False,
    classes: str = "",
) -> str:
    """A small line chart over the whole run, as SVG markup.

    Parameters
    ----------
    title : str
    unit : str
        y-axis unit, e.g. ``"% of households"``; shown under the title.
    series : sequence of Series
        Lines to draw, last on top; values are divided by ``scale`` for display.
    dates : DatetimeIndex, shape (horizon,)
        Calendar month of each month index; the x axis spans the whole run.
    limits : (float, float)
        y range before dividing by ``scale``.
    scale : float, default=1.0
    legend : bool, default=False
        Draw a legend of the series inside the plot, top left.
    classes : str
        CSS classes of the ``<svg>`` element.

    Returns
    -------
    str
    """
    width, height = 300, 200
    left, right, top, bottom = 44, 14, 44, 22
    plot_w, plot_h = width - left - right, height - top - bottom
    low, high = limits[0] / scale, limits[1] / scale
    ticks = nice_ticks(low, high)
    low, high = min(low, ticks[0]), max(high, ticks[-1])
    months = len(dates)

    def px(i: np.ndarray | int) -> np.ndarray | float:
        return left + plot_w * np.asarray(i) / max(months - 1, 1)

    def py(v: np.ndarray | float) -> np.ndarray | float:
        return top + plot_h * (1 - (np.asarray(v) - low) / (high - low))

    body = [_text(2, 15, title, size=14, weight="bold"), _text(2, 32, unit, size=11.5, colour="#505050")]
    decimals = 0 if all(float(t).is_integer() for t in ticks) else 1
    for tick in ticks:
        y = py(tick)
        body.append(f"<line x1='{left}' x2='{width - right}' y1='{y:.1f}' y2='{y:.1f}' stroke='#E3E3E3' stroke-width='1'/>")
        body.append(_text(left - 5, y + 4, f"{tick:,.{decimals}f}", size=11, anchor="end", colour="#505050"))
    for i, date in enumerate(dates):
        if date.month == 1:
            body.append(f"<line x1='{px(i):.1f}' x2='{px(i):.1f}' y1='{top + plot_h}' y2='{top + plot_h + 4}' stroke='#505050'/>")
            body.append(_text(px(i), height - 6, str(date.year), size=11, anchor="middle", colour="#505050"))
    body.append(f"<line x1='{left}' x2='{width - right}' y1='{top + plot_h}' y2='{top + plot_h}' stroke='#505050'/>")
    if legend:  # two columns at the top right, beside the title
        for i, line in enumerate(series):
            x, y = width - right - 150 + 78 * (i % 2), 13 + 16 * (i // 2)
            dash = f" stroke-dasharray='{line.dash}'" if line.dash else ""
            body.append(f"<line x1='{x}' x2='{x + 18}' y1='{y - 4}' y2='{y - 4}' stroke='{line.colour}' stroke-width='{line.width}'{dash}/>")
            body.append(_text(x + 22, y, line.label, size=11))
    for line in series:
        values = np.asarray(line.values, dtype=np.float64) / scale
        if values.size == 0:
            continue
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(px(np.arange(values.size)), py(values)))
        dash = f" stroke-dasharray='{line.dash}'" if line.dash else ""
        body.append(f"<polyline points='{points}' fill='none' stroke='{line.colour}' stroke-width='{line.width}'{dash} stroke-linejoin='round'/>")
    latest = "; ".join(f"{s.label} {float(s.values[-1]) / scale:,.1f}" for s in series if len(s.values))
    return _svg(width, height, body, f"{title} ({unit}): {latest or 'no months yet'}", classes)


def flow_chart(
    nodes: Sequence[Node],
    links: Sequence[Link],
    *,
    notes: Sequence[str] = (),
    marks: Mapping[str, str] | None = None,
    scale: float | None = None,
    classes: str = "",
) -> str:
    """The funding flow (department -> programme -> council -> intervention -> outcome) as SVG markup.

    Parameters
    ----------
    nodes, links
        From :func:`pfpp_sim.app.flows.funding_flows`; values in pence, real scale.
    notes : sequence of str
        Lines printed under the diagram in dark pink, e.g. recent clawbacks.
    marks : mapping of str to str, optional
        Extra label text by node key, e.g. ``{"programme:careers": "stopped in month 13"}``.
    scale : float, optional
        Pixels per penny. Give the same one to diagrams shown side by side (see
        :func:`pfpp_sim.app.flows.fitting_scale` and :data:`FLOW_PLOT`) so the same amount
        is the same height in each; by default the fullest column fills the diagram.
    classes : str
        CSS classes of the ``<svg>`` element.

    Returns
    -------
    str
    """
    width, step, bar = 660, 128, 12
    top, plot_h = 34, FLOW_PLOT["height"]
    height = top + plot_h + 30 + 18 * len(notes)
    body = [_text(i * step, 18, title, size=13, colour="#505050", weight="bold") for i, title in enumerate(COLUMNS)]
    for i, note in enumerate(notes):
        body.append(_text(0, top + plot_h + 44 + 18 * i, note, size=12.5, colour=DARK_PINK))
    if not links:
        body.append(_text(width / 2, top + plot_h / 2, "No money awarded yet: rounds open at the start of the financial year", size=15, anchor="middle"))
        return _svg(width, height, body, "Where the money went: nothing awarded yet", classes)
    placed, scale, value = layout(nodes, links, height=plot_h, gap=FLOW_PLOT["gap"], scale=scale)
    column_of = {n.key: n.column for n in nodes}
    for link, y0, y1, size in link_bands(nodes, links, placed, scale):
        y0, y1 = top + y0, top + y1
        x0, x1 = column_of[link.source] * step + bar, column_of[link.target] * step
        mid = (x0 + x1) / 2
        body.append(
            f"<path d='M{x0:.1f},{y0:.2f} C{mid:.1f},{y0:.2f} {mid:.1f},{y1:.2f} {x1:.1f},{y1:.2f} "
            f"L{x1:.1f},{y1 + size:.2f} C{mid:.1f},{y1 + size:.2f} {mid:.1f},{y0 + size:.2f} {x0:.1f},{y0 + size:.2f} Z' "
            f"fill='{_LINK_COLOUR[link.kind]}' fill-opacity='0.6'><title>{escape(link.kind)}: {money(link.value_p / 100)}</title></path>"
        )
    marks = marks or {}
    lines = {n.key: [n.label, money(value[n.key] / 100), *([marks[n.key]] if n.key in marks else [])] for n in nodes}
    centres = spread_labels(nodes, placed, lines, height=plot_h, line_height=_LINE_PX)
    for node in nodes:
        y, size = placed[node.key]
        x = node.column * step
        highlighted = node.kind == "returned" or node.key in marks
        body.append(
            f"<rect x='{x}' y='{top + y:.2f}' width='{bar}' height='{size:.2f}' fill='{_NODE_COLOUR.get(node.kind, DARK_GREY)}' "
            f"data-node='{escape(node.key, quote=True)}'/>"
        )
        first = top + centres[node.key] - _LINE_PX / 2 * (len(lines[node.key]) - 1) + 4
        colour = DARK_PINK if highlighted else "#1A1A1A"
        body.append(
            f"<text x='{x + bar + 4}' y='{first:.1f}' font-size='12.5' fill='{colour}' paint-order='stroke' stroke='white' "
            f"stroke-width='3' stroke-linejoin='round' class='pfpp-node' data-node='{escape(node.key, quote=True)}'>"
            + "".join(f"<tspan x='{x + bar + 4}' dy='{0 if i == 0 else _LINE_PX}'>{escape(line)}</tspan>" for i, line in enumerate(lines[node.key]))
            + "</text>"
        )
    total = sum(value[n.key] for n in nodes if n.column == 0)
    return _svg(width, height, body, f"Where the money went: {money(total / 100)} awarded so far", classes)


def waterfall_chart(
    title: str,
    start: tuple[str, float, str],
    steps: Sequence[Step],
    end: tuple[str, float, str],
    *,
    classes: str = "",
) -> str:
    """A horizontal waterfall, as SVG markup: from a start value, one bar per step, to an end value.

    Each step's bar starts where the previous one ended; the start and end are marked
    with a line in their side's colour. The axis spans only the values reached (it need
    not include zero), so the bars show the steps, not the levels.

    Parameters
    ----------
    title : str
    start, end : (str, float, str)
        Label, value and printed value of the first and last rows, e.g. the two sides.
    steps : sequence of Step
        Bars, top to bottom.
    classes : str
        CSS classes of the ``<svg>`` element.

    Returns
    -------
    str
    """
    width, label_w, value_w, top, ends_h, step_h = 470, 208, 92, 24, 22, 34
    bar_x0, bar_x1 = label_w, width - value_w
    levels = np.concatenate([[start[1]], start[1] + np.cumsum([s.value for s in steps]), [end[1]]])
    low, high = float(levels.min()), float(levels.max())
    pad = (high - low) * 0.04 or 1.0
    low, high = low - pad, high + pad
    height = top + 2 * ends_h + step_h * len(steps) + 4

    def px(value: float) -> float:
        return bar_x0 + (bar_x1 - bar_x0) * (value - low) / (high - low)

    body = [_text(2, 15, title, size=14, weight="bold")]
    y = top

    def ends_row(row: tuple[str, float, str], colour: str) -> None:
        body.append(_text(2, y + 15, row[0], size=12.5, weight="bold", colour=colour))
        body.append(f"<line x1='{px(row[1]):.1f}' x2='{px(row[1]):.1f}' y1='{y + 2}' y2='{y + ends_h - 2}' stroke='{colour}' stroke-width='3'/>")
        body.append(_text(width - 2, y + 15, row[2], size=12.5, anchor="end", weight="bold", colour=colour))

    ends_row(start, BASELINE_COLOUR)
    y += ends_h
    level = start[1]
    for step in steps:
        x0, x1 = sorted((px(level), px(level + step.value)))
        body.append(f"<line x1='{px(level):.1f}' x2='{px(level):.1f}' y1='{y - 1}' y2='{y + 3}' stroke='#505050' stroke-dasharray='2 2'/>")
        colour = CHOSEN_COLOUR if step.value > 0 else TURQUOISE
        body.append(f"<rect x='{x0:.1f}' y='{y + 3}' width='{max(x1 - x0, 1.0):.1f}' height='13' fill='{colour}'/>")
        body.append(_text(2, y + 14, step.label, size=12.5))
        body.append(_text(width - 2, y + 14, step.text, size=12.5, anchor="end"))
        body.append(_text(12, y + 29, step.detail, size=11, colour="#505050"))
        level += step.value
        y += step_h
    ends_row(end, CHOSEN_COLOUR)
    described = "; ".join(f"{s.label} {s.text}" for s in steps)
    return _svg(width, height, body, f"{title}: {start[0]} {start[2]}, {described}; {end[0]} {end[2]}", classes)
