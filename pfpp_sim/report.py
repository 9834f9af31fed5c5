"""Reports: a Markdown summary of a run or comparison, with its assumptions and manifest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from pfpp_sim.analysis import ALL_PLACES
from pfpp_sim.evidence import ASSUMPTIONS, Sourced, is_assumption
from pfpp_sim.experiment import Comparison, Results
from pfpp_sim.scenario import Scenario
from pfpp_sim.storage import write_text

__all__ = ["assumed_parameters", "markdown_report", "write_report"]

HEADLINE = (
    ("fuel_poverty_rate", "Fuel poverty", 100, "pp"),
    ("neet_16_17_rate", "NEET 16-17", 100, "pp"),
    ("neet_16_24_rate", "NEET 16-24", 100, "pp"),
    ("youth_mh_rate", "Youth probable mental disorder", 100, "pp"),
    ("delivered_gbp", "Money delivered", 1e-6, "GBP m"),
    ("returned_gbp", "Money returned", 1e-6, "GBP m"),
    ("overhead_gbp", "Overhead (grants, bids, recruitment, governance)", 1e-6, "GBP m"),
    ("duplicated_gbp", "Duplicated spend", 1e-6, "GBP m"),
    ("mobilisation_months_lost", "Team-months lost to mobilisation", 1, "months"),
    ("months_to_first_delivery", "Months from award to first delivery", 1, "months"),
    ("retrofit_fuel_poor_share", "Share of retrofits reaching fuel-poor homes", 100, "pp"),
)


def _walk(node, path: str) -> Iterator[tuple[str, Sourced]]:
    if isinstance(node, Sourced):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif hasattr(node, "model_fields"):
        for key in type(node).model_fields:
            yield from _walk(getattr(node, key), f"{path}.{key}" if path else key)


def assumed_parameters(scenario: Scenario) -> list[tuple[str, Sourced]]:
    """Every parameter of a scenario that rests on an assumption rather than evidence.

    Returns
    -------
    list of (key path, Sourced)
    """
    return [(path, value) for path, value in _walk(scenario, "") if is_assumption(value.source)]


def _cell(value: float, scale: float) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value * scale:,.2f}"


def markdown_report(result: Results) -> str:
    """Render a run or comparison as Markdown: headline table, assumptions, manifest."""
    manifest = result.manifest()
    lines = [f"# pfpp_sim report: {' vs '.join(reversed(list(result.scenarios)))}", ""]
    if isinstance(result, Comparison) and result.comparison is not None:
        lines += [
            f"{result.alternative} compared with {result.base} over {result.replicates} paired replicates "
            f"(seed {result.seed}; common random numbers). Rates are means of the last 12 months; money and "
            "counts are totals over the run, at real scale. Difference = alternative - base, with a 95% "
            "confidence interval over replicates.",
            "",
            "## All places",
            "",
            f"| Outcome | Unit | {result.base} | {result.alternative} | Difference | 95% CI |",
            "|---|---|---:|---:|---:|---|",
        ]
        table = result.comparison.set_index(["place_code", "metric"])
        for metric, title, scale, unit in HEADLINE:
            if (ALL_PLACES, metric) not in table.index:
                continue
            row = table.loc[(ALL_PLACES, metric)]
            ci = f"[{_cell(row.ci_low, scale)}, {_cell(row.ci_high, scale)}]"
            unit_shown = "%" if unit == "pp" else unit
            lines.append(
                f"| {title} | {unit_shown} | {_cell(row.base_mean, scale)} | {_cell(row.alternative_mean, scale)} "
                f"| {_cell(row.difference, scale)} | {ci} |"
            )
        worse = [
            title for metric, title, _, _ in HEADLINE
            if (ALL_PLACES, metric) in table.index and metric.endswith("_rate")
            and table.loc[(ALL_PLACES, metric)].ci_low > 0
        ]
        lines += ["", "Joined-up is not assumed to win. " + (
            f"Here the alternative is worse, beyond the 95% CI, on: {', '.join(worse)}." if worse
            else "No resident outcome is worse under the alternative beyond the 95% CI in this comparison."
        ), ""]
    else:
        summary = result.summary[result.summary["place_code"] == ALL_PLACES].groupby("metric")["value"].mean()
        lines += [f"Mean of {result.replicates} replicate(s), seed {result.seed}, all places.", "", "| Outcome | Value |", "|---|---:|"]
        for metric, title, scale, _ in HEADLINE:
            if metric in summary.index:
                lines.append(f"| {title} | {_cell(summary[metric], scale)} |")
        lines.append("")
    lines += ["## Parameters resting on assumptions", "", "Every other real-world quantity cites an EVIDENCE.md key.", ""]
    for name, scenario in result.scenarios.items():
        lines += [f"### {name}", "", "| Parameter | Value | Unit | Assumption |", "|---|---:|---|---|"]
        for path, value in assumed_parameters(scenario):
            key = value.source.split(":", 1)[1]
            lines.append(f"| `{path}` | {value.value:g} | {value.unit} | {key}: {ASSUMPTIONS[key]} |")
        lines.append("")
    lines += [
        "## Manifest",
        "",
        f"- pfpp_sim version: {manifest['pfpp_sim_version']}",
        f"- git commit: {manifest['git_commit']}",
        f"- seed: {manifest['seed']}; replicates: {manifest['replicates']}",
        *[f"- scenario {name}: hash {info['hash']}" for name, info in manifest["scenarios"].items()],
        f"- run time: {manifest['seconds']} s",
        "",
    ]
    return "\n".join(lines)


def write_report(result: Results, out: str | Path) -> Path:
    """Write ``report.md`` into ``out`` (atomically) and return its path."""
    return write_text(markdown_report(result), Path(out) / "report.md")
