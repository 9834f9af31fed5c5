"""The report of a robustness folder: "Would it hold?" and what was sampled.

Built from what :func:`pfpp_sim.robustness.robustness` saved; :mod:`pfpp_sim.report`
adds the assumptions of both scenarios and the manifest.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import numpy as np

from pfpp_sim import charts
from pfpp_sim.analysis import ALL_PLACES
from pfpp_sim.evidence import ASSUMPTIONS, is_assumption, is_user_source
from pfpp_sim.robustness import TITLES, Robustness, load_robustness
from pfpp_sim.robustness_analysis import CORRELATIONS, MEASURES
from pfpp_sim.sections import Section, _table, format_difference

__all__ = ["SPREAD", "robustness_sections"]

SPREAD = {
    "fuel_poverty_rate": ("Fuel poverty", 100, "pp"),
    "neet_16_17_rate": ("NEET 16-17", 100, "pp"),
    "youth_unemployment_rate": ("Youth unemployment", 100, "pp"),
    "youth_mh_rate": ("Youth mental disorder", 100, "pp"),
    "delivered_gbp": ("Money delivered", 1e-6, "£m"),
    "returned_gbp": ("Money returned", 1e-6, "£m"),
    "overhead_gbp": ("Overhead", 1e-6, "£m"),
    "duplicated_gbp": ("Duplicated spend", 1e-6, "£m"),
}
"""Outcomes drawn in the chart of the spread of differences: title, scale and unit."""


def _pct(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:.0%}"


def _hold_section(result: Robustness) -> Section:
    n = result.sampled_worlds
    totals = result.summary[result.summary["place_code"] == ALL_PLACES]
    nan = float("nan")
    rows = []
    for r in totals.itertuples():
        holds = "no difference as given" if r.direction == "no difference" else (
            "n/a" if not np.isfinite(r.sign_holds) else f"{r.direction} in {r.sign_holds:.0%}")
        rows.append([
            TITLES.get(r.metric, r.metric),
            format_difference(r.metric, r.default_difference, r.default_ci_low, r.default_ci_high),
            holds,
            f"{format_difference(r.metric, r.q05, nan, nan)} to {format_difference(r.metric, r.q95, nan, nan)}",
            _pct(r.ci_below_zero),
            _pct(r.ci_above_zero),
            _pct(r.noise_share),
        ])
    intro = (
        f"{result.alternative} compared with {result.base} in {n:,} worlds sampled over {len(result.space.factors)} assumptions "
        f"({result.method} design, seed {result.seed}), all places. A world sets every sampled assumption to one value in its "
        f"plausible range, the same in both scenarios; each world runs both scenarios for {result.replicates} paired replicates "
        "on common random numbers. The default is the comparison with the scenarios as given."
    )
    reading = (
        "Same sign: the share of worlds in which the difference (alternative - base) points the same way as with the scenarios "
        "as given. CI below / above zero: the share of worlds whose 95% confidence interval over replicates lies wholly on that "
        "side. Noise share: how much of the spread across worlds replicate noise alone would give (near 0: the worlds differ "
        "because of their assumptions; near 1: mostly noise, so more replicates are needed before reading the spread)."
    )
    body = f"<p>{escape(intro)}</p>" + _table(
        ["Outcome", "Default [95% CI]", f"Same sign, of {n:,} worlds", "5-95% of worlds", "CI below 0", "CI above 0", "Noise share"], rows
    ) + f"<p>{escape(reading)}</p>"
    shown = {m: spec for m, spec in SPREAD.items() if m in set(totals["metric"])}
    holding = "; ".join(
        f"{TITLES.get(r.metric, r.metric)}: {r.direction} in {r.sign_holds:.0%}" for r in totals.itertuples()
        if r.metric in shown and np.isfinite(r.sign_holds)
    )
    alt = (
        f"Histograms of the paired difference across {n:,} sampled worlds for {len(shown)} outcomes, with zero and the "
        f"difference with the scenarios as given marked. Share of worlds where the alternative keeps its default direction: "
        f"{holding or 'none has a direction with the scenarios as given'}."
    )
    all_places = result.worlds[result.worlds["place_code"] == ALL_PLACES]
    figure = charts.difference_spread_chart(all_places, shown, worlds_label=f"{n:,} sampled worlds")
    return Section("Would it hold?", body, [("robustness_spread", alt, figure)] if shown else [])


def _influence_cell(row) -> str:
    """An assumption's influence as the report shows it: a correlation signed, marked when it cannot be told from zero."""
    if row.measure not in CORRELATIONS:
        return f"{row.factor} ({row.value:.2f})"
    return f"{row.factor} ({row.value:+.2f}{', within noise' if row.within_noise else ''})"


def _moves_section(result: Robustness) -> Section:
    measure, label = MEASURES[result.method]
    totals = result.summary[result.summary["place_code"] == ALL_PLACES]
    rows = []
    for r in totals.itertuples():
        top = result.top_factors(r.metric)
        cells = [_influence_cell(t) for t in top.itertuples()]
        if not cells:
            cells = ["does not vary across worlds" if r.q05 == r.q95 else "-"]
        rows.append([TITLES.get(r.metric, r.metric), *cells, *[""] * (3 - len(cells))])
    note = (
        f"Measure: {label} ({measure}). A positive partial rank correlation means the difference grows (becomes less negative) "
        "as the assumption grows, the other assumptions held fixed; one marked <i>within noise</i> is smaller than the "
        "<code>conf</code> column of influence.parquet and cannot be told from zero."
        if result.method == "lhs" else f"Measure: {label} ({measure}), with 95% half-widths in influence.parquet."
    )
    body = _table(["Outcome", "Moves it most", "Second", "Third"], rows, numeric_from=99) + f"<p>{note}</p>"

    flips = []
    for r in totals.itertuples():
        if not np.isfinite(r.flips):
            continue
        title = TITLES.get(r.metric, r.metric)
        if r.flips == 0:
            flips.append(f"<li>{escape(title)}: never flips in {int(r.worlds):,} worlds.</li>")
            continue
        box = result.flips[result.flips["metric"] == r.metric]
        if box.empty:
            where = "every world flips" if r.flips == r.worlds else f"no box: PRIM {result.prim}"
        elif not box["factor"].iloc[0]:
            where = "spread over the whole space (PRIM finds no box that holds most of them)"
        else:
            first = box.iloc[0]
            limits = "; ".join(f"{b.factor} from {b.min:.4g} to {b.max:.4g}" for b in box.itertuples())
            where = (f"mostly where {limits} (this box holds {first.mass:.0%} of worlds; {first.density:.0%} of them flip, "
                     f"{first.coverage:.0%} of all flips)")
        flips.append(f"<li>{escape(title)}: flips in {int(r.flips):,} of {int(r.worlds):,} worlds, {escape(where)}.</li>")
    body += "<h3>Where the sign flips</h3><ul>" + "".join(flips) + "</ul>"
    if result.prim != "ran":
        body += f"<p>PRIM {escape(result.prim)}.</p>"
    return Section("What moves the difference", body)


def _range_reason(source: str, own: dict) -> str:
    """Why a factor's range is what it is: its registry entry, the analyst's own source, or its evidence key."""
    name = source.split(":", 1)[1] if is_assumption(source) else ""
    if is_user_source(source):
        entry = own[name]
        return f"the analyst's own: {entry.get('range_reason') or entry['description']} ({entry['reference']})"
    entry = ASSUMPTIONS.get(name)
    return (entry.range_reason or entry.description) if entry else source


def _space_section(result: Robustness) -> Section:
    own = result.manifest["scenarios"][result.base]["parameters"].get("user_sources", {})
    rows = [
        [f.path, f.unit, f.source, f"{f.value:g}", f"{f.low:g}", f"{f.high:g}", _range_reason(f.source, own)]
        for f in result.space.factors
    ]
    body = (
        f"<p>{len(result.space.factors)} quantities, each sampled uniformly over its range (a range says what is plausible, not "
        "what is likely). They are found in the base scenario: every value resting on an assumption that carries a range, "
        "the analyst's own sources (<code>user:KEY</code>) as well as the registry's"
        + (", and every evidence value with a published range" if result.space.include_evidence else "")
        + ". The sampled values of every world are in design.parquet.</p>"
        + _table(["Key path", "Unit", "Source", "As given", "Low", "High", "Why this range"], rows, numeric_from=99)
    )
    if result.space.not_sampled:
        body += "<p>Not sampled:</p>" + _table(["Key path", "Why"], [list(r) for r in result.space.not_sampled], numeric_from=99)
    return Section("Sampled assumptions", body)


def robustness_sections(folder: Path) -> list[Section]:
    """The robustness sections of a report: would it hold, what moves it, what was sampled.

    Raises
    ------
    PfppError
        If the folder does not hold a finished robustness run.
    """
    result = load_robustness(folder)
    return [_hold_section(result), _moves_section(result), _space_section(result)]
