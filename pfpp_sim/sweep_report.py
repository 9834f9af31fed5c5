"""What a sweep's folder gets written about it: the sensitivity analysis and PRIM's boxes (``pfpp analyse``)."""

from __future__ import annotations

from pathlib import Path

from pfpp_sim.analysis import ALL_PLACES
from pfpp_sim.charts import png_bytes
from pfpp_sim.design import MEASURES, WIDE_SOBOL_CI
from pfpp_sim.discovery import Discovery
from pfpp_sim.sensitivity import every_place, format_index, sensitivity_figure, top_levers
from pfpp_sim.storage import write_bytes, write_parquet, write_text
from pfpp_sim.sweep import read_sweep

__all__ = ["write_analysis", "write_discovery"]


def write_analysis(sweep_dir: str | Path) -> dict[str, Path]:
    """Analyse a sweep and write ``analysis.parquet``, ``analysis.md`` and ``sensitivity.png``.

    The indices are computed for all places together and, when the sweep kept places,
    for each place (``place_code`` says which); the chart shows all places together.
    """
    sweep_dir = Path(sweep_dir)
    sweep = read_sweep(sweep_dir)
    spec, indices = sweep.spec, every_place(sweep)
    together = indices[indices["place_code"] == ALL_PLACES]
    label = MEASURES[spec.design][1]
    files = {"indices": write_parquet(indices, sweep_dir / "analysis.parquet")}

    def shown(row) -> str:
        return format_index(MEASURES[spec.design][0], row.output, row.value, row.conf)

    lines = [f"# Sensitivity of sweep {spec.name} ({spec.design} design)", "", f"Headline measure: {label}.", "",
             "## Which lever matters most for which outcome (all places)", "", "| Outcome | Most influential | Value | Next |",
             "|---|---|---:|---|"]
    for output, group in top_levers(together, spec.design).groupby("output", sort=False):
        first = group.iloc[0]
        nxt = f"{group.iloc[1].parameter} ({shown(group.iloc[1])})" if len(group) > 1 else "-"
        lines.append(f"| {output} | {first.parameter} | {shown(first)} | {nxt} |")
    places = [p for p in indices["place_code"].unique() if p != ALL_PLACES]
    if places:
        lines += ["", "## Most influential lever by place", "", "| Place | Outcome | Most influential | Value |", "|---|---|---|---:|"]
        for place in places:
            firsts = top_levers(indices[indices["place_code"] == place], spec.design)
            for row in firsts[firsts["rank"] == 1].itertuples():
                lines.append(f"| {place} | {row.output} | {row.parameter} | {shown(row)} |")
    flagged = indices[indices["flag"] != ""]
    if len(flagged):
        lines += ["", f"**{len(flagged)} of {len(indices)} indices are flagged** (outside [0, 1], or a 95% CI wider than "
                  f"+/-{WIDE_SOBOL_CI}): read them as imprecise and rerun with more samples."]
    lines += ["", "## All indices", "", "| Place | Outcome | Parameter | Measure | Value | Flag |", "|---|---|---|---|---:|---|"]
    for row in indices.itertuples():
        lines.append(f"| {row.place_code} | {row.output} | {row.parameter} | {row.measure} | "
                     f"{format_index(row.measure, row.output, row.value, row.conf)} | {row.flag} |")
    files["report"] = write_text("\n".join(lines) + "\n", sweep_dir / "analysis.md")

    files["chart"] = write_bytes(png_bytes(sensitivity_figure(spec, together)), sweep_dir / "sensitivity.png")
    return files


def write_discovery(sweep_dir: str | Path, found: Discovery) -> Path:
    """Write ``prim-<output>.md`` into the sweep folder and return its path."""
    lines = [
        f"# Scenario discovery (PRIM): {found.output}",
        "",
        f"Cases of interest: {found.cases}; {found.n_cases} of {found.n_runs} runs.",
        "",
        f"The box below holds {found.mass:.0%} of runs; {found.density:.0%} of the runs in it are cases "
        f"(density), and it captures {found.coverage:.0%} of all cases (coverage).",
        "",
        "| Parameter | From | To |",
        "|---|---|---|",
        *[f"| `{r.parameter}` | {r.min} | {r.max} |" for r in found.limits.itertuples()],
        "",
    ]
    return write_text("\n".join(lines), Path(sweep_dir) / f"prim-{found.output}.md")
