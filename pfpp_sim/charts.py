"""Report charts as matplotlib figures, in the Government Analysis Function style.

Figures use the ``afcharts`` style sheet (left-aligned titles, light horizontal grid, no
box) and its accessible colour palettes. Scenarios also differ in line style and
marker, so nothing rests on colour alone. Figures are built with
:class:`matplotlib.figure.Figure`, not pyplot, so no global figure state is kept.

References
----------
Government Analysis Function, "Data visualisation: charts" and "Data visualisation:
colours" (2024), https://analysisfunction.civilservice.gov.uk/policy-store/data-visualisation-charts/
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd
from afcharts.af_colours import get_af_colours
from matplotlib import style
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path as CurvePath
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Affine2D

from pfpp_sim.analysis import ALL_PLACES
from pfpp_sim.app.flows import COLUMNS, Link, Node, layout, link_bands, spread_labels
from pfpp_sim.app.narrative import money

__all__ = [
    "PALETTE",
    "attribution_chart",
    "difference_spread_chart",
    "equity_chart",
    "flow_chart",
    "forest_chart",
    "png_bytes",
    "scenario_styles",
    "sensitivity_chart",
    "trajectory_chart",
    "waterfall_chart",
]

PALETTE = tuple(get_af_colours("categorical"))
"""The Analysis Function categorical palette: dark blue, turquoise, dark pink, orange, dark grey, light purple."""
DARK_BLUE, TURQUOISE, DARK_PINK, ORANGE, DARK_GREY, LIGHT_PURPLE = PALETTE
_MARKERS = ("o", "s", "^", "D")
_FLOW_COLOURS = {
    "allocated": "#9BB3C9",
    "overhead": LIGHT_PURPLE,
    "delivered": TURQUOISE,
    "held": "#BDBDBD",
    "returned": DARK_PINK,
}


@contextmanager
def _style() -> Iterator[None]:
    with style.context("afcharts.afcharts"), style.context({"font.size": 10, "axes.titlesize": 11, "figure.dpi": 100}):
        yield


def scenario_styles(scenarios: Sequence[str]) -> dict[str, dict[str, str]]:
    """Colour, line style and marker of each scenario: the base is orange and dashed, the next dark blue and solid.

    Returns
    -------
    dict of str to dict
        Keyword arguments for ``Axes.plot``.
    """
    colours = (ORANGE, DARK_BLUE, TURQUOISE, DARK_PINK) if len(scenarios) > 1 else (DARK_BLUE,)
    styles = ("--", "-", ":", "-.") if len(scenarios) > 1 else ("-",)
    return {
        s: {"color": colours[i % len(colours)], "linestyle": styles[i % len(styles)], "marker": _MARKERS[i % 4]}
        for i, s in enumerate(scenarios)
    }


def png_bytes(figure: Figure, *, dpi: int = 110) -> bytes:
    """Render a figure as PNG bytes."""
    buffer = io.BytesIO()
    with _style():
        figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def _grid(panels: int, columns: int, *, width: float, row_height: float, **kwargs) -> tuple[Figure, np.ndarray]:
    rows = -(-panels // columns)
    figure = Figure(figsize=(width, 0.8 + row_height * rows), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False, **kwargs).ravel())
    for ax in axes[panels:]:
        ax.set_visible(False)
    return figure, axes


def _place_order(codes: pd.Series) -> list[str]:
    """Place codes in order of appearance, all places first when present."""
    present = list(dict.fromkeys(codes))
    return ([ALL_PLACES] if ALL_PLACES in present else []) + [c for c in present if c != ALL_PLACES]


def _decimal_years(dates: pd.Series) -> pd.Series:
    """First-of-month dates as decimal years (these draw much faster than date axes)."""
    dates = pd.to_datetime(dates)
    return dates.dt.year + (dates.dt.month - 1) / 12


def _level_and_difference_axes(panels: int, columns: int) -> tuple[Figure, np.ndarray, np.ndarray]:
    """A grid with, for each panel, a level axes above a shorter difference axes; each kind shares its y scale."""
    rows = -(-panels // columns)
    figure = Figure(figsize=(11, 0.9 + 3.5 * rows), layout="constrained")
    grid = figure.subplots(2 * rows, columns, squeeze=False, sharex=True, gridspec_kw={"height_ratios": [2.3, 1.2] * rows})
    levels, differences = grid[0::2].ravel(), grid[1::2].ravel()
    for ax in [*levels[panels:], *differences[panels:]]:
        ax.set_visible(False)
    for ax in levels:
        ax.tick_params(labelbottom=False)
    for ax in levels[1:panels]:
        ax.sharey(levels[0])
    for ax in differences[1:panels]:
        ax.sharey(differences[0])
    return figure, levels, differences


def trajectory_chart(
    bands: pd.DataFrame,
    place_names: Mapping[str, str],
    *,
    title: str,
    scenarios: Sequence[str],
    differences: pd.DataFrame | None = None,
) -> Figure:
    """Small multiples of a monthly rate: one panel per place (all places first, when given), a line and band per scenario.

    Parameters
    ----------
    bands : DataFrame
        From :func:`pfpp_sim.analysis.trajectory_bands`: ``scenario, place_code, date, mean, low, high``.
    place_names : mapping of str to str
        Name of each place code (and of ``"ALL"``).
    title : str
        What the rate is, e.g. ``"Fuel poverty"``.
    scenarios : sequence of str
        Scenario names, base first.
    differences : DataFrame, optional
        From :func:`pfpp_sim.analysis.trajectory_differences`: ``place_code, date, mean,
        low, high``. When given, each place's panel has a difference panel beneath it
        (alternative - base, percentage points, with its confidence interval shaded), on
        one scale for all places, so differences stay readable where the bands overlap.

    Returns
    -------
    Figure
    """
    codes = _place_order(bands["place_code"])
    styles = scenario_styles(scenarios)
    columns = min(4, len(codes))
    with _style():
        if differences is None:
            figure, axes = _grid(len(codes), columns, width=11, row_height=2.3, sharex=True, sharey=True)
            beneath = [None] * len(codes)
        else:
            figure, axes, beneath = _level_and_difference_axes(len(codes), columns)
        for ax, below, code in zip(axes, beneath, codes):
            rows = bands[bands["place_code"] == code]
            for name in scenarios:
                line = rows[rows["scenario"] == name]
                dates = _decimal_years(line["date"])
                kwargs = {**styles[name], "marker": None}
                ax.fill_between(dates, 100 * line["low"], 100 * line["high"], color=kwargs["color"], alpha=0.2, linewidth=0)
                ax.plot(dates, 100 * line["mean"], label=name, linewidth=1.8, **kwargs)
            ax.set_title(place_names.get(code, code), fontweight="bold" if code == ALL_PLACES else "normal")
            if below is not None:
                line = differences[differences["place_code"] == code]
                dates = _decimal_years(line["date"])
                below.fill_between(dates, 100 * line["low"], 100 * line["high"], color=DARK_BLUE, alpha=0.2, linewidth=0)
                below.plot(dates, 100 * line["mean"], color=DARK_BLUE, linewidth=1.5)
                below.axhline(0, color=DARK_GREY, linewidth=1)
        axes[0].xaxis.set_major_locator(MaxNLocator(integer=True))
        axes[0].set_ylabel("%")
        axes[0].legend(loc="best", fontsize=8)
        heading = f"{title}, % by month: mean and 95% of replicates (shaded)"
        if differences is not None:
            beneath[0].set_ylabel("difference, pp")
            heading += f"\nBeneath: {scenarios[-1]} - {scenarios[0]}, pp, mean of paired replicates and 95% confidence interval (shaded)"
        figure.suptitle(heading, x=0.01, ha="left", fontsize=12)
    return figure


def forest_chart(
    comparison: pd.DataFrame, place_names: Mapping[str, str], metrics: Mapping[str, tuple[str, float, str]]
) -> Figure:
    """Paired differences (alternative - base) with 95% confidence intervals, one row per place.

    Each outcome is one panel with one axis for all its places, holding zero and labelled
    with its unit, so places are read against each other on the same scale.
    All places is the first row (a diamond) when ``comparison`` holds it.

    Parameters
    ----------
    comparison : DataFrame
        ``place_code, metric, difference, ci_low, ci_high``.
    place_names : mapping of str to str
    metrics : mapping of str to (title, scale, unit)
        One panel per metric, e.g. ``{"fuel_poverty_rate": ("Fuel poverty", 100, "pp")}``.

    Returns
    -------
    Figure
    """
    codes = _place_order(comparison["place_code"])
    y = np.arange(len(codes))[::-1]
    with _style(), style.context({"axes.grid.axis": "x"}):
        figure, axes = _grid(len(metrics), len(metrics), width=11, row_height=0.35 * len(codes) + 0.6, sharey=True)
        for ax, (metric, (title, scale, unit)) in zip(axes, metrics.items()):
            rows = comparison[comparison["metric"] == metric].set_index("place_code").reindex(codes)
            diff, low, high = (scale * rows[c].to_numpy(dtype=float) for c in ("difference", "ci_low", "ci_high"))
            error = np.vstack([diff - low, high - diff])
            ax.errorbar(diff, y, xerr=np.nan_to_num(error), fmt="o", color=DARK_BLUE, ecolor=DARK_BLUE, capsize=3, markersize=4)
            if codes[0] == ALL_PLACES:
                ax.plot(diff[:1], y[:1], "D", color=DARK_PINK, markersize=7)
            ax.axvline(0, color=DARK_GREY, linewidth=1)
            left, right = ax.get_xlim()
            margin = 0.05 * (right - left)  # the zero line inside the panel, not on its edge
            ax.set_xlim(min(left, -margin), max(right, margin))
            ax.set_title(title)
            ax.set_xlabel(f"alternative - base, {unit}")
        axes[0].set_yticks(y, [place_names.get(c, c) for c in codes])
        figure.suptitle(
            "Paired difference, alternative - base, with 95% confidence interval"
            + (" (all places: diamond)" if codes[0] == ALL_PLACES else ""),
            x=0.01,
            ha="left",
            fontsize=12,
        )
    return figure


WATERFALL_STEPS = (
    ("allocated_gbp", "Allocated", 1),
    ("grant_overhead_gbp", "Grant overhead", -1),
    ("returned_gbp", "Returned", -1),
    ("held_gbp", "Held, unspent", -1),
    ("delivered_gbp", "Delivered", 0),
)
"""Waterfall bars: award ledger column, label, and +1 (total), -1 (taken away) or 0 (what is left)."""


def waterfall_chart(money_gbp: pd.DataFrame) -> Figure:
    """Where awarded money went, per scenario: allocated, minus overhead, returned and held, leaves delivered.

    Parameters
    ----------
    money_gbp : DataFrame
        Index: scenario names; columns: the ledger columns of :data:`WATERFALL_STEPS` (GBP).

    Returns
    -------
    Figure
    """
    with _style():
        figure, axes = _grid(len(money_gbp), len(money_gbp), width=11, row_height=3.6, sharey=True)
        for ax, (name, row) in zip(axes, money_gbp.iterrows()):
            level = 0.0
            for i, (column, _, sign) in enumerate(WATERFALL_STEPS):
                value = row[column] / 1e6
                if sign == -1:
                    bottom, level = level - value, level - value
                    colour = DARK_PINK if column == "returned_gbp" else (LIGHT_PURPLE if column == "grant_overhead_gbp" else "#8C8C8C")
                else:
                    bottom, level = 0.0, value
                    colour = DARK_BLUE if sign == 1 else TURQUOISE
                ax.bar(i, value, bottom=bottom, color=colour, width=0.7)
                ax.annotate(
                    f"£{value:,.1f}m",
                    (i, bottom + value),
                    ha="center",
                    va="bottom",
                    fontsize=8,
                    xytext=(0, 2),
                    textcoords="offset points",
                )
            ax.set_xticks(range(len(WATERFALL_STEPS)), [s[1] for s in WATERFALL_STEPS], rotation=30, ha="right")
            ax.set_title(name)
        axes[0].set_ylabel("£ million, whole run, real scale")
        figure.suptitle("Where awarded money went (mean over replicates, all places)", x=0.01, ha="left", fontsize=12)
    return figure


def flow_chart(nodes: Sequence[Node], links: Sequence[Link], *, title: str) -> Figure:
    """The funding flow, department -> programme -> council -> intervention -> outcome, as a Sankey diagram.

    Parameters
    ----------
    nodes, links
        From :func:`pfpp_sim.app.flows.funding_flows`; values in pence.
    title : str

    Returns
    -------
    Figure
    """
    height, gap, bar, step, line = 400.0, 10.0, 10.0, 150.0, 13.0
    placed, scale, value = layout(nodes, links, height=height, gap=gap)
    column_of = {n.key: n.column for n in nodes}
    with _style(), style.context({"axes.grid": False, "axes.spines.bottom": False}):
        figure = Figure(figsize=(11, 6.2), layout="constrained")
        ax = figure.subplots()
        for link, y0, y1, size in link_bands(nodes, links, placed, scale):
            x0, x1 = column_of[link.source] * step + bar, column_of[link.target] * step
            mid = (x0 + x1) / 2
            vertices = [
                (x0, y0),
                (mid, y0),
                (mid, y1),
                (x1, y1),
                (x1, y1 + size),
                (mid, y1 + size),
                (mid, y0 + size),
                (x0, y0 + size),
                (x0, y0),
            ]
            codes = [CurvePath.MOVETO, *[CurvePath.CURVE4] * 3, CurvePath.LINETO, *[CurvePath.CURVE4] * 3, CurvePath.CLOSEPOLY]
            ax.add_patch(PathPatch(CurvePath(vertices, codes), facecolor=_FLOW_COLOURS[link.kind], alpha=0.6, linewidth=0))
        lines = {n.key: [n.label, money(value[n.key] / 100)] for n in nodes}
        centres = spread_labels(nodes, placed, lines, height=height, line_height=line)
        node_colours = {"overhead": LIGHT_PURPLE, "domain": TURQUOISE, "held": "#8C8C8C", "returned": DARK_PINK}
        for node in nodes:
            top, size = placed[node.key]
            box = CurvePath.unit_rectangle().transformed(Affine2D().scale(bar, size).translate(node.column * step, top))
            ax.add_patch(PathPatch(box, color=node_colours.get(node.kind, DARK_GREY), linewidth=0))
            ax.text(
                node.column * step + bar + 3,
                centres[node.key],
                "\n".join(lines[node.key]),
                va="center",
                fontsize=7.5,
                linespacing=1.1,
            )
        for i, heading in enumerate(COLUMNS):
            ax.text(i * step, -22, heading, fontweight="bold", fontsize=9, color="#505050")
        ax.set_xlim(-5, (len(COLUMNS) - 1) * step + 115)
        ax.set_ylim(height + 30, -32)
        ax.set_axis_off()
        ax.set_title(title, fontsize=12)
    return figure


def equity_chart(
    intervals: pd.DataFrame, *, scenarios: Sequence[str], metrics: Mapping[str, str], groups: Mapping[str, Mapping[str, str]]
) -> Figure:
    """Rates by tenure and by household income quintile, per scenario, with 95% confidence intervals.

    Parameters
    ----------
    intervals : DataFrame
        ``scenario, breakdown, group, metric, mean, ci_low, ci_high`` (rates in [0, 1]).
    scenarios : sequence of str
        Base first.
    metrics : mapping of str to str
        Metric -> title, one column of panels each.
    groups : mapping of str to mapping of str to str
        Breakdown -> (group -> label), one row of panels each, groups in order.

    Returns
    -------
    Figure
    """
    styles = scenario_styles(scenarios)
    width = 0.8 / len(scenarios)
    with _style():
        figure, axes = _grid(len(groups) * len(metrics), len(metrics), width=11, row_height=3.0)
        for ax, (breakdown, metric) in zip(axes, [(b, m) for b in groups for m in metrics]):
            labels = groups[breakdown]
            x = np.arange(len(labels))
            for i, name in enumerate(scenarios):
                rows = intervals[
                    (intervals["scenario"] == name) & (intervals["breakdown"] == breakdown) & (intervals["metric"] == metric)
                ]
                rows = rows.set_index("group").reindex(list(labels))
                mean = 100 * rows["mean"].to_numpy(dtype=float)
                error = np.nan_to_num(100 * np.vstack([rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]]))
                hatch = "//" if styles[name]["linestyle"] == "--" else None
                ax.bar(
                    x + (i - (len(scenarios) - 1) / 2) * width,
                    mean,
                    width,
                    yerr=error,
                    capsize=2,
                    label=name,
                    color=styles[name]["color"],
                    hatch=hatch,
                    edgecolor="white",
                    error_kw={"elinewidth": 1},
                )
            ax.set_xticks(x, [label.replace(" ", "\n", 1) for label in labels.values()], fontsize=8)
            ax.set_title(f"{metrics[metric]}\nby {breakdown.replace('_', ' ')}", fontsize=10)
            ax.set_ylim(bottom=0)  # a rate is never negative, whatever a t interval over few replicates says
            ax.set_ylabel("%")
        figure.legend(*axes[0].get_legend_handles_labels(), loc="outside upper right", ncols=len(scenarios), fontsize=8)
        figure.suptitle(
            "Who is affected: rates in the last 12 months, all places (95% confidence intervals)", x=0.01, ha="left", fontsize=12
        )
    return figure


def sensitivity_chart(indices: pd.DataFrame, *, measure: str, label: str, title: str) -> Figure:
    """Horizontal bars of a sensitivity measure: one group per outcome, one bar per parameter.

    Parameters
    ----------
    indices : DataFrame
        ``output, parameter, measure, value``.
    measure : str
        The measure to draw, e.g. ``"ST"``.
    label : str
        Axis label, e.g. ``"total-order Sobol index"``.
    title : str

    Returns
    -------
    Figure
    """
    table = indices[indices["measure"] == measure].pivot(index="output", columns="parameter", values="value")
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(table.columns))]
    with _style(), style.context({"axes.grid.axis": "x"}):
        figure = Figure(figsize=(9, 0.8 + 0.55 * len(table) * max(1, len(table.columns) / 3)), layout="constrained")
        ax = figure.subplots()
        table.plot.barh(ax=ax, width=0.8, color=colours)
        ax.set_xlabel(label)
        ax.set_ylabel("")
        ax.set_title(title)
        ax.legend(title="parameter", loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    return figure


def difference_spread_chart(worlds: pd.DataFrame, metrics: Mapping[str, tuple[str, float, str]], *, worlds_label: str) -> Figure:
    """Histograms of a paired difference across sampled worlds, one panel per outcome.

    Parameters
    ----------
    worlds : DataFrame
        ``world, metric, difference`` for all places; world 0 (the scenarios as given)
        is drawn as a dashed line, the sampled worlds as the histogram.
    metrics : mapping of str to (title, scale, unit)
        One panel per metric, e.g. ``{"fuel_poverty_rate": ("Fuel poverty", 100, "pp")}``.
    worlds_label : str
        What the histogram counts, e.g. ``"256 worlds"``.

    Returns
    -------
    Figure
    """
    with _style():
        figure, axes = _grid(len(metrics), min(4, len(metrics)), width=11, row_height=2.4)
        for ax, (metric, (title, scale, unit)) in zip(axes, metrics.items()):
            rows = worlds[worlds["metric"] == metric]
            sampled = scale * rows.loc[rows["world"] > 0, "difference"].to_numpy(dtype=float)
            sampled = sampled[np.isfinite(sampled)]
            if sampled.size:
                ax.hist(sampled, bins=min(30, max(5, sampled.size // 8)), color=DARK_BLUE, edgecolor="white")
            ax.axvline(0, color=DARK_GREY, linewidth=1)
            default = scale * rows.loc[rows["world"] == 0, "difference"].to_numpy(dtype=float)
            if default.size and np.isfinite(default[0]):
                ax.axvline(default[0], color=ORANGE, linestyle="--", linewidth=1.8, label="scenarios as given")
            ax.set_title(title)
            ax.set_xlabel(f"difference, {unit}")
        axes[0].set_ylabel("worlds")
        handles = {label: handle for ax in axes for handle, label in zip(*ax.get_legend_handles_labels())}
        if handles:
            figure.legend(list(handles.values()), list(handles), loc="outside upper right", fontsize=8)
        figure.suptitle(f"Paired difference, alternative - base, across {worlds_label} (zero: grey line)", x=0.01, ha="left", fontsize=12)
    return figure

def attribution_chart(contributions: pd.DataFrame, total: pd.Series, *, title: str, scale: float, unit: str) -> Figure:
    """What drives a difference, as a waterfall: each factor's contribution with its 95% CI, then the total.

    Bars run from the base (0) factor by factor, largest contribution first, each
    starting where the one above ended; the last bar is the whole difference.

    Parameters
    ----------
    contributions : DataFrame
        One row per factor: ``factor, contribution, ci_low, ci_high``.
    total : Series
        The difference: ``contribution, ci_low, ci_high``.
    title : str
    scale : float
        Multiplies values for display (100 for percentage points, 1e-6 for £ million).
    unit : str
        Axis unit, e.g. ``"pp"``.

    Returns
    -------
    Figure
    """
    ordered = contributions.iloc[np.argsort(-contributions["contribution"].abs().to_numpy(), kind="stable")]
    labels = [*ordered["factor"], "Total (alternative - base)"]
    y = np.arange(len(labels))[::-1]
    with _style(), style.context({"axes.grid.axis": "x"}):
        figure = Figure(figsize=(9, 1.4 + 0.42 * len(labels)), layout="constrained")
        ax = figure.subplots()
        start = 0.0
        bars = [(row.contribution, row.ci_low, row.ci_high) for row in ordered.itertuples()]
        for i, (value, low, high) in enumerate([*bars, (total["contribution"], total["ci_low"], total["ci_high"])]):
            last = i == len(bars)
            left = 0.0 if last else start
            value, low, high = value * scale, low * scale, high * scale
            colour = DARK_GREY if last else (DARK_BLUE if value < 0 else ORANGE)
            ax.barh(y[i], value, left=left, color=colour, height=0.6, hatch=None if last or value < 0 else "//", edgecolor="white")
            if np.isfinite(low):
                ax.errorbar(left + value, y[i], xerr=[[value - low], [high - value]], fmt="none", ecolor="#0b0c0c", capsize=3, linewidth=1)
            ax.annotate(f"{value:+.2f}", (left + value, y[i]), xytext=(4 if value >= 0 else -4, 7), textcoords="offset points",
                        ha="left" if value >= 0 else "right", fontsize=8)
            if not last:
                ax.plot([start + value] * 2, [y[i] - 0.3, y[i] - 0.7], color=DARK_GREY, linewidth=0.8, linestyle=":")
                start += value
        ax.axvline(0, color=DARK_GREY, linewidth=1)
        low_x, high_x = ax.get_xlim()
        if high_x - low_x < 0.1:  # differences that round to zero at the two decimals shown: no axis of rounding noise
            ax.set_xlim((low_x + high_x) / 2 - 0.05, (low_x + high_x) / 2 + 0.05)
        ax.set_yticks(y, labels)
        ax.set_xlabel(f"change from the base, {unit}")
        ax.set_title(title, loc="left")
    return figure
