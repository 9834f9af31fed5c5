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

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from pfpp_sim import charts
from pfpp_sim.analysis import ALL_PLACES, equity_rates, mean_interval, paired_differences, trajectory_bands
from pfpp_sim.app.flows import funding_flows
from pfpp_sim.evidence import ASSUMPTIONS, assumed_parameters, calibrated_parameters
from pfpp_sim.funding import Award, to_pence
from pfpp_sim.outcomes import OUTCOMES
from pfpp_sim.scenario import INTERVENTION_KEYS, Scenario
from pfpp_sim.sensitivity import MEASURES, analyse, format_index, sensitivity_figure, top_levers
from pfpp_sim.sweep import spec_from_manifest

__all__ = [
    "HEADLINE",
    "Section",
    "assumptions_section",
    "attribution_section",
    "equity_section",
    "flow_section",
    "forest_section",
    "format_difference",
    "format_value",
    "manifest_section",
    "money_section",
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
EQUITY_METRICS = {"fuel_poverty_rate": "Fuel poverty", "neet_16_24_rate": "NEET 16-24", "youth_mh_rate": "Youth mental disorder"}
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
    if metric.endswith(("_rate", "_share")):
        return f"{100 * value:.1f}%"
    if metric.endswith("_gbp") or (metric in OUTCOMES and OUTCOMES[metric].unit == "GBP"):
        return f"£{value / 1e6:,.2f}m"
    if metric == "months_to_first_delivery":
        return f"{value:.1f} mo"
    return f"{value:,.0f}"


def format_difference(metric: str, diff: float, low: float, high: float) -> str:
    """A paired difference with its confidence interval: ``-0.45 pp [-0.53, -0.38]``, ``-£87.74m [-101.03, -74.45]``."""
    if metric.endswith(("_rate", "_share")):
        scale, unit, digits = 100, " pp", 2
    elif metric.endswith("_gbp"):
        scale, unit, digits = 1e-6, "m", 2
    else:
        scale, unit, digits = 1, "", 1
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


def trajectory_section(monthly: pd.DataFrame, places: pd.DataFrame, names: dict[str, str], scenarios: list[str]) -> Section:
    section = Section(
        "Trajectories",
        "<p>Each panel is one place (all places first, weighted by real residents). "
        "Lines are means over replicates; shaded bands hold the central 95% of replicates.</p>",
    )
    for metric, title in TRAJECTORIES.items():
        bands = trajectory_bands(monthly, places, metric)
        last = bands[(bands["place_code"] == ALL_PLACES) & (bands["month"] == bands["month"].max())].set_index("scenario")
        ends = "; ".join(
            f"{s} {100 * last.at[s, 'mean']:.1f}% (95% of replicates {100 * last.at[s, 'low']:.1f}-{100 * last.at[s, 'high']:.1f}%)"
            for s in scenarios
        )
        alt = (
            f"Line charts of the {title.lower()} rate by month from {bands['date'].min()} to {bands['date'].max()}, one panel per place "
            f"and one for all places, a line per scenario with a shaded band. All places in the last month: {ends}."
        )
        section.figures.append(
            (f"trajectory_{metric}", alt, charts.trajectory_chart(bands, names, title=title, scenarios=scenarios))
        )
    return section


def forest_section(comparison: pd.DataFrame, names: dict[str, str]) -> Section:
    overall = comparison[comparison["place_code"] == ALL_PLACES].set_index("metric")
    headline = "; ".join(
        f"{title} {format_difference(m, *overall.loc[m, ['difference', 'ci_low', 'ci_high']])}"
        for m, (title, _, _) in FOREST.items()
    )
    alt = (
        f"Forest plot: for each place and for all places, the paired difference (alternative - base) and its 95% confidence "
        f"interval, in four panels. All places: {headline}."
    )
    body = "<p>A point left of the zero line means the alternative lowers the quantity. Intervals are over paired replicates.</p>"
    return Section("Paired differences", body, [("forest", alt, charts.forest_chart(comparison, names, FOREST))])


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


def money_section(awards: pd.DataFrame, replicates: int, scenarios: list[str]) -> Section:
    columns = [c for c, _, _ in charts.WATERFALL_STEPS]
    money = awards.groupby("scenario")[columns].sum().reindex(scenarios) / replicates
    alt = (
        "Waterfall chart per scenario, GBP millions over the whole run: "
        + "; ".join(
            f"{s}: " + ", ".join(f"{label.lower()} £{money.at[s, c] / 1e6:,.1f}m" for c, label, _ in charts.WATERFALL_STEPS)
            for s in scenarios
        )
        + "."
    )
    body = (
        "<p>Money awarded to councils (mean over replicates, all places): grant overhead is top-sliced for reporting and governance, "
        "unspent money is clawed back at deadlines, some is still held when the run ends, and the rest is delivered. "
        "Bid, recruitment and pooled-governance costs, and the cost of the levers in use, are paid outside the awards. "
        "Money that awards made before the run still held at its start is counted as awarded in month 0.</p>"
    )
    return Section("Where the money went", body, [("waterfall", alt, charts.waterfall_chart(money))])


def _programme_ledgers(awards: pd.DataFrame, spending: pd.DataFrame, replicates: int) -> list[Award]:
    """One ledger per department and programme: all places together, mean over replicates, in pence."""
    money = awards.groupby(["department", "programme"])[["allocated_gbp", "grant_overhead_gbp"]].sum() / replicates
    lines = spending.merge(awards[["replicate", "award_id", "department", "programme"]], on=["replicate", "award_id"])
    spent = (
        lines.groupby(["department", "programme", "intervention"])[["delivered_gbp", "returned_gbp", "held_gbp"]].sum()
        / replicates
    )
    ledgers = {}
    for i, ((department, programme), row) in enumerate(money.iterrows()):
        ledgers[(department, programme)] = Award(
            award_id=i,
            programme=programme,
            department=department,
            place=0,
            round=0,
            pooled=department == "pooled",
            competitive=False,
            award_month=0,
            period_start=0,
            deadline=0,
            allocated_p=to_pence(row["allocated_gbp"]),
            overhead_p=to_pence(row["grant_overhead_gbp"]),
        )
    for (department, programme, key), row in spent.iterrows():
        ledger = ledgers[(department, programme)]
        ledger.delivered_by_p[key] = to_pence(row["delivered_gbp"])
        ledger.returned_by_p[key] = to_pence(row["returned_gbp"])
        ledger.held_p[key] = to_pence(row["held_gbp"])
    return list(ledgers.values())


def flow_section(awards: pd.DataFrame, spending: pd.DataFrame, scenarios: list[str], manifest: dict) -> Section:
    section = Section(
        "Funding flows",
        "<p>Money from departments through programmes to the councils (all places together), "
        "the interventions they fund and the outcome domains they serve, as a mean over replicates.</p>",
    )
    n_places = awards["place_code"].nunique()
    for name in scenarios:
        ledgers = _programme_ledgers(
            awards[awards["scenario"] == name], spending[spending["scenario"] == name], manifest["replicates"]
        )
        domains = {k: manifest["scenarios"][name]["parameters"]["interventions"][k]["domain"] for k in INTERVENTION_KEYS}
        nodes, links = funding_flows(ledgers, domains=domains, place_names=[f"{n_places} councils"])
        totals = {
            kind: sum(link.value_p for link in links if link.kind == kind) / 100 for kind in ("delivered", "returned", "overhead")
        }
        allocated = sum(link.value_p for link in links if link.source.startswith("department:")) / 100
        alt = (
            f"Sankey diagram for {name}: money flows from {sum(n.kind == 'department' for n in nodes)} department nodes through "
            f"{sum(n.kind == 'programme' for n in nodes)} programmes to {n_places} councils, then to interventions and outcome domains. "
            f"Allocated £{allocated / 1e6:,.1f}m; delivered £{totals['delivered'] / 1e6:,.1f}m; grant overhead £{totals['overhead'] / 1e6:,.1f}m; "
            f"returned £{totals['returned'] / 1e6:,.1f}m."
        )
        section.figures.append((f"flows_{name}", alt, charts.flow_chart(nodes, links, title=f"{name}: where the money went")))
    return section


def equity_section(equity: pd.DataFrame, places: pd.DataFrame, scenarios: list[str]) -> Section:
    rates = equity_rates(equity, places)
    intervals = mean_interval(rates, ["scenario", "breakdown", "group", "metric"])
    lookup = intervals.set_index(["scenario", "breakdown", "group", "metric"])["mean"]
    gap = "; ".join(
        f"{s}: Q1 {100 * lookup[(s, 'income_quintile', 'Q1', 'fuel_poverty_rate')]:.1f}%, "
        f"Q5 {100 * lookup[(s, 'income_quintile', 'Q5', 'fuel_poverty_rate')]:.1f}%"
        for s in scenarios
    )
    alt = (
        "Grouped bar charts of fuel poverty, NEET 16-24 and youth mental disorder rates, by tenure (top row) and by household "
        f"income quintile (bottom row), one bar per scenario with 95% confidence intervals. Fuel poverty by income quintile, {gap}."
    )
    body = (
        "<p>Households are grouped by tenure and by income quintile within their place at the start of the run (so the same "
        "households are compared across scenarios); young people by their household's group. Rates are over the last 12 months, "
        "all places, weighted by real residents.</p>"
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


def assumptions_section(manifest: dict, scenarios: list[str]) -> Section:
    loaded = {s: Scenario.model_validate(manifest["scenarios"][s]["parameters"]) for s in scenarios}
    assumed = {s: dict(assumed_parameters(sc)) for s, sc in loaded.items()}
    paths = list(dict.fromkeys(p for s in scenarios for p in assumed[s]))
    rows = []
    for path in paths:
        any_value = next(assumed[s][path] for s in scenarios if path in assumed[s])
        key = any_value.source.split(":", 1)[1]
        rows.append(
            [
                path,
                any_value.unit,
                *[f"{assumed[s][path].value:g}" if path in assumed[s] else "-" for s in scenarios],
                f"{key}: {ASSUMPTIONS[key].description}",
            ]
        )
    body = (
        f"<p>{len(paths)} parameters rest on an assumption rather than evidence; every other real-world quantity cites an "
        "EVIDENCE.md key or a fitted calibration. Each names its entry in the assumptions registry.</p>"
    )
    body += _table(["Parameter", "Unit", *scenarios, "Assumption"], rows, numeric_from=99)
    calibrated = [
        [s, sc.calibration.name, sc.calibration.fitted_on, str(len(sc.calibration.places)),
         "; ".join(f"{path} = {value.value:.3g}" for path, value in calibrated_parameters(sc)) or "-"]
        for s, sc in loaded.items() if sc.calibration
    ]
    if calibrated:
        body += (
            "<p>Calibrated: per-place income and NEET trends, and the global values listed, come from a fit to official "
            "statistics (<code>pfpp calibrate</code>; see its report for errors and standard errors).</p>"
            + _table(["Scenario", "Fit", "Fitted on", "Places with trends", "Global values"], calibrated, numeric_from=99)
        )
    return Section("Assumptions", body)


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
