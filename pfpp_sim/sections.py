"""The sections of a report: tables, figures and alt text built from a results folder's tables.

Each builder takes saved tables (and the manifest) and returns a :class:`Section` with
an HTML body and matplotlib figures; :mod:`pfpp_sim.report` assembles them into a page.
Numbers are shown as people read them (:func:`format_value`, :func:`format_difference`),
the same way as on the terminal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pfpp_sim.analysis import (
    ALL_PLACES,
    equity_rates,
    mean_interval,
    paired_differences,
    repeated_place,
    trajectory_bands,
    trajectory_differences,
)
from pfpp_sim.design import MEASURES
from pfpp_sim.outcomes import OUTCOMES, display_scale, is_rate
from pfpp_sim.sensitivity import analyse, format_index, sensitivity_figure, top_levers
from pfpp_sim.sweep import spec_from_manifest

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "HEADLINE",
    "Section",
    "attribution_section",
    "equity_section",
    "forest_section",
    "format_difference",
    "format_value",
    "manifest_section",
    "summary_section",
    "sweep_sections",
    "trajectory_section",
]

HEADLINE = (
    ("fuel_poverty_rate", "Fuel poverty"),
    ("neet_16_17_rate", "NEET 16-17"),
    ("neet_16_24_rate", "NEET 16-24"),
    ("youth_unemployment_rate", "Youth unemployment 16-24 (ILO: unemployed / economically active)"),
    ("youth_mh_rate", "Youth probable mental disorder"),
    ("delivered_gbp", "Money delivered"),
    ("returned_gbp", "Money returned"),
    ("overhead_gbp", "Overhead (grants, bids, recruitment, governance, levers)"),
    ("duplicated_gbp", "Duplicated spend"),
    ("mobilisation_months_lost", "Team-months lost to mobilisation"),
    ("months_to_first_delivery", "Months from award to first delivery"),
    ("retrofit_fuel_poor_share", "Share of retrofits reaching fuel-poor homes"),
)
"""Summary metrics in the report's headline table, with their titles."""
TRAJECTORIES = {
    "fuel_poverty_rate": "Fuel poverty",
    "neet_16_17_rate": "NEET 16-17",
    "youth_mh_rate": "Youth probable mental disorder",
}
FOREST = {
    "fuel_poverty_rate": ("Fuel poverty", 100, "pp"),
    "neet_16_17_rate": ("NEET 16-17", 100, "pp"),
    "youth_mh_rate": ("Youth mental disorder", 100, "pp"),
    "returned_gbp": ("Money returned", 1e-6, "£m"),
}
EQUITY_METRICS = {
    "fuel_poverty_rate": "Fuel poverty",
    "neet_16_17_rate": "NEET 16-17",
    "neet_16_24_rate": "NEET 16-24",
    "youth_mh_rate": "Youth mental disorder",
}
EQUITY_GROUP_LABELS = {
    "tenure": {"owner": "Owner", "social_rent": "Social rent", "private_rent": "Private rent"},
    "income_quintile": {"Q1": "Q1 lowest", "Q2": "Q2", "Q3": "Q3", "Q4": "Q4", "Q5": "Q5 highest"},
}


@dataclass
class Section:
    """One section of a report: a heading, HTML body and figures ``(name, alt text, figure)``."""

    title: str
    body: str = ""
    figures: list[tuple[str, str, Figure]] = field(default_factory=list)


def format_value(metric: str, value: float) -> str:
    """A summary value as people read it: ``17.8%``, ``£90.39m``, ``2.6 mo``, ``1,234``."""
    if value is None or not np.isfinite(value):
        return "n/a"
    if is_rate(metric):
        return f"{100 * value:.1f}%"
    if metric.endswith("_gbp") or (metric in OUTCOMES and OUTCOMES[metric].unit == "GBP"):
        return f"£{value / 1e6:,.2f}m"
    if metric == "months_to_first_delivery":
        return f"{value:.1f} mo"
    return f"{value:,.0f}"


def format_difference(metric: str, diff: float, low: float, high: float) -> str:
    """A paired difference with its confidence interval: ``-0.45 pp [-0.53, -0.38]``, ``-£87.74m [-101.03, -74.45]``."""
    scale, unit, digits = display_scale(metric)
    if metric.endswith("_gbp") and not np.isfinite(low):
        return f"{'+' if diff >= 0 else '-'}£{abs(diff) * scale:.{digits}f}m"
    if not np.isfinite(low):
        return f"{diff * scale:+.{digits}f}{unit}"
    if metric.endswith("_gbp"):
        return (
            f"{'+' if diff >= 0 else '-'}£{abs(diff) * scale:.{digits}f}m [{low * scale:+.{digits}f}, {high * scale:+.{digits}f}]"
        )
    return f"{diff * scale:+.{digits}f}{unit} [{low * scale:+.{digits}f}, {high * scale:+.{digits}f}]"


def _table(headers: list[str], rows: list[list[str]], *, numeric_from: int = 1) -> str:
    head = "".join(f"<th scope='col'{' class=num' if i >= numeric_from else ''}>{escape(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=num' if i >= numeric_from else ''}>{escape(str(c))}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def summary_section(
    summary: pd.DataFrame, comparison: pd.DataFrame | None, manifest: dict, scenarios: list[str], nesting_note: str = ""
) -> Section:
    replicates, seed = manifest["replicates"], manifest["seed"]
    if comparison is not None:
        base, alternative = scenarios
        table = comparison[comparison["place_code"] == ALL_PLACES].set_index("metric")
        rows = [
            [
                title,
                format_value(m, table.at[m, "base_mean"]),
                format_value(m, table.at[m, "alternative_mean"]),
                format_difference(m, table.at[m, "difference"], table.at[m, "ci_low"], table.at[m, "ci_high"]),
            ]
            for m, title in HEADLINE
            if m in table.index
        ]
        worse = [title for m, title in HEADLINE if m in table.index and m.endswith("_rate") and table.at[m, "ci_low"] > 0]
        verdict = (
            f"Here the alternative is worse, beyond the 95% CI, on: {', '.join(worse)}."
            if worse
            else "No resident outcome is worse under the alternative beyond the 95% CI in this comparison."
        )
        intro = (
            f"{alternative} compared with {base} over {replicates} paired replicates (seed {seed}; common random numbers). "
            "Rates are means of the last 12 months; money and counts are totals over the run, at real scale. "
            "Difference = alternative - base, with a 95% confidence interval over replicates."
        )
        body = (
            _table(["All places", base, alternative, "Difference [95% CI]"], rows)
            + f"<p>Joined-up is not assumed to win. {escape(verdict)}</p>"
        )
    else:
        values = summary[summary["place_code"] == ALL_PLACES].rename(columns={"metric": "m"})
        intervals = mean_interval(values, ["scenario", "m"]).set_index(["scenario", "m"])
        rows = [
            [
                title,
                *[
                    f"{format_value(m, intervals.at[(s, m), 'mean'])} [{format_value(m, intervals.at[(s, m), 'ci_low'])}, "
                    f"{format_value(m, intervals.at[(s, m), 'ci_high'])}]"
                    if (s, m) in intervals.index
                    else "n/a"
                    for s in scenarios
                ],
            ]
            for m, title in HEADLINE
        ]
        intro = (
            f"Mean of {replicates} replicate(s) (seed {seed}), all places, with a 95% confidence interval over replicates. "
            "Rates are means of the last 12 months; money and counts are totals over the run, at real scale."
        )
        body = _table(["All places", *scenarios], rows)
    note = f"<p>{escape(nesting_note)}</p>" if nesting_note else ""
    return Section(
        "Summary", f"<p>{escape(intro)}</p>{body}{note}<p>These are model results under stated assumptions, not forecasts.</p>"
    )


def _shown_places(frame: pd.DataFrame, places: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Rows to draw, without "All places" where it would repeat a single place, and the code of the headline row."""
    repeated = repeated_place(places)
    if repeated is None:
        return frame, ALL_PLACES
    return frame[frame["place_code"] != ALL_PLACES], repeated


def trajectory_section(monthly: pd.DataFrame, places: pd.DataFrame, names: dict[str, str], scenarios: list[str]) -> Section:
    from pfpp_sim import charts  # here, not at the top: the command line and workers never draw
    paired = len(scenarios) == 2
    body = (
        "<p>Each panel is one place (all places first, weighted by real residents, when the run has more than one). "
        "Lines are means over replicates; shaded bands hold the central 95% of replicates.</p>"
    )
    if paired:
        body += (
            f"<p>Beneath each panel, the difference {escape(scenarios[1])} - {escape(scenarios[0])} in percentage points: the "
            "mean of the paired replicates (same seeds) with its 95% confidence interval shaded, on one scale for all places. "
            "It shows what overlapping bands can hide: on the same seeds, much of the spread between replicates is shared by "
            "both scenarios.</p>"
        )
    section = Section("Trajectories", body)
    for metric, title in TRAJECTORIES.items():
        bands, headline = _shown_places(trajectory_bands(monthly, places, metric), places)
        last_month = bands["month"].max()
        last = bands[(bands["place_code"] == headline) & (bands["month"] == last_month)].set_index("scenario")
        ends = "; ".join(
            f"{s} {100 * last.at[s, 'mean']:.1f}% (95% of replicates {100 * last.at[s, 'low']:.1f}-{100 * last.at[s, 'high']:.1f}%)"
            for s in scenarios
        )
        alt = (
            f"Line charts of the {title.lower()} rate by month from {bands['date'].min()} to {bands['date'].max()}, one panel per place"
            f"{' and one for all places' if headline == ALL_PLACES else ''}, a line per scenario with a shaded band. "
            f"{names.get(headline, headline)} in the last month: {ends}."
        )
        differences = None
        if paired:
            differences, _ = _shown_places(trajectory_differences(monthly, places, metric, *scenarios), places)
            end = differences[(differences["place_code"] == headline) & (differences["month"] == last_month)].iloc[0]
            alt += (
                f" Beneath each, the paired difference {scenarios[1]} - {scenarios[0]} by month with its 95% confidence interval; "
                f"in the last month {format_difference(metric, end['mean'], end['low'], end['high'])}."
            )
        figure = charts.trajectory_chart(bands, names, title=title, scenarios=scenarios, differences=differences)
        section.figures.append((f"trajectory_{metric}", alt, figure))
    return section


def forest_section(comparison: pd.DataFrame, names: dict[str, str], places: pd.DataFrame) -> Section:
    from pfpp_sim import charts  # here, not at the top: the command line and workers never draw
    shown, headline = _shown_places(comparison, places)
    overall = shown[shown["place_code"] == headline].set_index("metric")
    summary = "; ".join(
        f"{title} {format_difference(m, *overall.loc[m, ['difference', 'ci_low', 'ci_high']])}"
        for m, (title, _, _) in FOREST.items()
    )
    alt = (
        f"Forest plot: for each place{' and for all places' if headline == ALL_PLACES else ''}, the paired difference "
        f"(alternative - base) and its 95% confidence interval, in {len(FOREST)} panels, one per outcome with one axis shared by "
        f"every place (percentage points for rates, £ millions for money). {names.get(headline, headline)}: {summary}."
    )
    body = (
        "<p>One panel per outcome; within a panel every place is on the same axis, with its unit "
        "(pp: percentage points; £m: £ millions over the run). A point left of the zero line means the alternative "
        "lowers the quantity. Intervals are 95% confidence intervals over paired replicates.</p>"
    )
    return Section("Paired differences", body, [("forest", alt, charts.forest_chart(shown, names, FOREST))])


def _contribution(metric: str, frame: pd.DataFrame, factor: str) -> str:
    return format_difference(metric, *frame.loc[factor, ["contribution", "ci_low", "ci_high"]])


def attribution_section(attribution: pd.DataFrame, combinations: pd.DataFrame, manifest: dict) -> Section:
    """What drives the difference: each headline outcome's Shapley attribution (all places), a table and a waterfall each.

    Parameters
    ----------
    attribution, combinations : DataFrame
        ``attribution.parquet`` and ``combinations.parquet`` of an explanation.
    manifest : dict
        Its manifest (kind ``explain``).
    """
    from pfpp_sim import charts  # here, not at the top: the command line and workers never draw
    table = attribution[attribution["place_code"] == ALL_PLACES]
    levels = combinations[combinations["place_code"] == ALL_PLACES].groupby(["metric", "combination"])["value"].mean()
    k = len(manifest["factors"])
    same = {f["name"] for f in manifest["factors"] if not f["changes"]}
    how = (
        f"exactly, over all {2 ** k} combinations of them"
        if manifest["method"] == "exact"
        else f"as an estimate from {manifest['permutations']} sampled orderings per replicate (not exact: more orderings narrow the intervals)"
    )
    body = (
        f"<p>Each outcome's paired difference ({escape(manifest['alternative'])} - {escape(manifest['base'])}, all places) is split among "
        f"the {k} factors that differ between the two scenarios by Shapley values, computed {escape(how)}; every combination ran on "
        f"the same {manifest['replicates']} replicates' random numbers (seed {manifest['seed']}). A factor's contribution is its effect "
        "averaged over every order in which the factors could be switched from the base to the alternative, so the contributions "
        "add up to the difference. <em>Alone</em> is the factor switched on its own from the base; <em>interaction</em> is "
        "contribution minus alone: the part of its effect that depends on other factors being switched too. Alone effects plus "
        "interactions also add up to the difference. Intervals are 95% over replicates.</p>"
    )
    rows, pairs_text = [], []
    section = Section("What drives the difference")
    for metric, (title, scale, unit) in FOREST.items():
        cells = table[table["metric"] == metric]
        by_measure = {m: cells[cells["measure"] == m].set_index("factor") for m in ("shapley", "main_effect", "interaction")}
        total = cells[cells["measure"] == "total"].iloc[0]
        shapley = by_measure["shapley"]
        ranked = shapley.index[np.argsort(-shapley["contribution"].abs().to_numpy(), kind="stable")]
        for factor in ranked:
            label = f"{factor} (same in both)" if factor in same else factor
            rows.append([title, label, *(_contribution(metric, by_measure[m], factor) for m in ("shapley", "main_effect", "interaction"))])
        rows.append([title, "Total (alternative - base)", format_difference(metric, total.contribution, total.ci_low, total.ci_high), "", ""])
        pairs = cells[cells["measure"] == "pair_interaction"]
        if len(pairs):
            top = pairs.loc[pairs["contribution"].abs().idxmax()]
            pairs_text.append(f"{title}: {top.factor} {format_difference(metric, top.contribution, top.ci_low, top.ci_high)}")
        base_value = format_value(metric, levels.get((metric, 0), np.nan))
        alternative_value = format_value(metric, levels.get((metric, 2 ** k - 1), np.nan))
        steps = "; ".join(f"{f} {_contribution(metric, shapley, f)}" for f in ranked)
        alt = (
            f"Waterfall chart of what drives the difference in {title.lower()}, all places: from the base ({base_value}), each factor's "
            f"contribution with its 95% confidence interval, largest first: {steps}; total "
            f"{format_difference(metric, total.contribution, total.ci_low, total.ci_high)}, to the alternative ({alternative_value})."
        )
        figure = charts.attribution_chart(
            shapley.reset_index(), total, scale=scale, unit=unit,
            title=f"{title}, all places: {base_value} (base) to {alternative_value} (alternative)",
        )
        section.figures.append((f"attribution_{metric}", alt, figure))
    section.body = body + _table(["Outcome", "Factor", "Contribution [95% CI]", "Alone [95% CI]", "Interaction [95% CI]"], rows, numeric_from=2)
    if pairs_text:
        section.body += (
            "<p>Strongest pairwise interaction (Shapley interaction index: positive when two factors together add more than "
            f"each alone, negative when they overlap): {escape('; '.join(pairs_text))}.</p>"
        )
    return section


def equity_section(equity: pd.DataFrame, places: pd.DataFrame, scenarios: list[str]) -> Section:
    from pfpp_sim import charts  # here, not at the top: the command line and workers never draw
    rates = equity_rates(equity, places)
    intervals = mean_interval(rates, ["scenario", "breakdown", "group", "metric"])
    lookup = intervals.set_index(["scenario", "breakdown", "group", "metric"])["mean"]
    gap = "; ".join(
        f"{s}: Q1 {100 * lookup[(s, 'income_quintile', 'Q1', 'fuel_poverty_rate')]:.1f}%, "
        f"Q5 {100 * lookup[(s, 'income_quintile', 'Q5', 'fuel_poverty_rate')]:.1f}%"
        for s in scenarios
    )
    titles = list(EQUITY_METRICS.values())
    alt = (
        f"Grouped bar charts of {', '.join(titles[:-1]).lower().replace('neet', 'NEET')} and {titles[-1].lower()} rates, by tenure "
        "(top row) and by household income quintile (bottom row), one bar per scenario with 95% confidence intervals. "
        f"Fuel poverty by income quintile, {gap}."
    )
    body = (
        "<p>Households are grouped by tenure and by income quintile within their place at the start of the run (so the same "
        "households are compared across scenarios); young people by their household's group. Rates are over the last 12 months, "
        "all places, weighted by real residents. NEET 16-17 is the share of the group's Years 12-13 (academic age 16-17) over those "
        "months together (who is in them changes as people age), so it can differ slightly from the summary's mean of monthly rates.</p>"
    )
    if len(scenarios) == 2:
        base, alternative = scenarios
        diffs = paired_differences(rates, base, alternative, by=("breakdown", "group"))
        rows = [
            [
                EQUITY_GROUP_LABELS[r.breakdown][r.group],
                EQUITY_METRICS[r.metric],
                format_value(r.metric, r.base_mean),
                format_value(r.metric, r.alternative_mean),
                format_difference(r.metric, r.difference, r.ci_low, r.ci_high),
            ]
            for r in diffs.itertuples()
        ]
        body += _table(["Group", "Outcome", base, alternative, "Difference [95% CI]"], rows, numeric_from=2)
    else:
        rows = [
            [EQUITY_GROUP_LABELS[r.breakdown][r.group], EQUITY_METRICS[r.metric], format_value(r.metric, r.mean)]
            for r in intervals.itertuples()
        ]
        body += _table(["Group", "Outcome", scenarios[0]], rows, numeric_from=2)
    figure = charts.equity_chart(intervals, scenarios=scenarios, metrics=EQUITY_METRICS, groups=EQUITY_GROUP_LABELS)
    return Section("Equity", body, [("equity", alt, figure)])


def manifest_section(manifest: dict, folder: Path) -> Section:
    rows = [
        ["kind", manifest["kind"]],
        ["pfpp_sim version", manifest["pfpp_sim_version"]],
        ["git commit", manifest["git_commit"]],
        ["seed", manifest["seed"]],
    ]
    if manifest["kind"] == "sweep":
        rows += [
            ["sweep", f"{manifest['name']} (spec hash {manifest['spec_hash']}, file {manifest['spec_file']})"],
            ["base scenario", f"{manifest['base_scenario']} (hash {manifest['base_scenario_hash']})"],
            ["runs", manifest["runs"]],
        ]
    else:
        rows += [["replicates", manifest["replicates"]]]
        if manifest["kind"] == "explain":
            rows += [
                ["attribution", f"{manifest['method']}" + (f", {manifest['permutations']} orderings per replicate" if manifest["permutations"] else "")],
                ["factors", ", ".join(f["name"] for f in manifest["factors"])],
                ["runs", manifest["runs"]],
            ]
        rows += [
            [f"scenario {name}", f"hash {info['hash']}, extends {info['extends'] or '-'}"]
            for name, info in manifest["scenarios"].items()
        ]
    rows += [["run time", f"{manifest.get('seconds', 'n/a')} s"], ["folder", folder.name]]
    rows += [[f"{lib} version", version] for lib, version in manifest["environment"].items()]
    return Section("Manifest", _table(["Item", "Value"], [[str(k), str(v)] for k, v in rows], numeric_from=99))


def sweep_sections(folder: Path, manifest: dict) -> list[Section]:
    spec = spec_from_manifest(manifest)
    settings = [
        ["design", spec.design],
        ["base scenario", spec.base],
        *([["samples", spec.samples]] if spec.design != "grid" else []),
        ["replicates", spec.replicates],
        ["runs", manifest["runs"]],
        ["seed", spec.seed],
        ["outputs", ", ".join(spec.outputs)],
    ]
    settings += [[f"override {k}", json.dumps(v)] for k, v in spec.overrides.items()]
    params = [
        [k, f"{p.low:g} to {p.high:g}" if p.levels is None else ", ".join(json.dumps(v) for v in p.levels)]
        for k, p in spec.parameters.items()
    ]
    design = Section(
        "Design",
        f"<p>{escape(spec.description or spec.name)}</p>"
        + _table(["Setting", "Value"], [[k, str(v)] for k, v in settings], numeric_from=99)
        + _table(["Parameter", "Range or levels"], params, numeric_from=99),
    )
    indices = analyse(folder)
    label = MEASURES[spec.design][1]
    ranked = top_levers(indices, spec.design)
    firsts = ranked[ranked["rank"] == 1]
    measure = MEASURES[spec.design][0]
    rows = [[r.output, r.parameter, format_index(measure, r.output, r.value, r.conf)] for r in firsts.itertuples()]
    alt = (
        f"Horizontal bar chart of the {label} of each outcome for each of {len(spec.parameters)} swept parameters. Most influential: "
        + "; ".join(f"{r.output}: {r.parameter} ({format_index(measure, r.output, r.value)})" for r in firsts.itertuples())
        + "."
    )
    figure = sensitivity_figure(spec, indices)
    sensitivity = Section(
        "Sensitivity",
        f"<p>Headline measure: {escape(label)}; replicates are averaged per design point first.</p>"
        + _table(["Outcome", "Most influential parameter", "Value"], rows),
        [("sensitivity", alt, figure)],
    )
    return [design, sensitivity]
