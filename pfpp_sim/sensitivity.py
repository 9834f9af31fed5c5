"""Sensitivity analysis of a finished sweep: which levers matter most for which outcome.

Sobol designs give first- and total-order indices (SALib), Morris designs mu* and sigma
of elementary effects per full range of each parameter (:mod:`pfpp_sim.morris`, so that
switches and sliders compare). LHS and grid designs give Spearman rank correlations between each parameter
and each outcome, a screening measure. Replicates are averaged per design point first.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from pfpp_sim.analysis import ALL_PLACES
from pfpp_sim.charts import png_bytes, sensitivity_chart
from pfpp_sim.errors import PfppError
from pfpp_sim.morris import morris_indices
from pfpp_sim.outcomes import display_scale
from pfpp_sim.storage import write_bytes, write_parquet, write_text
from pfpp_sim.sweep import Sweep, SweepSpec, problem, read_sweep

__all__ = ["COLUMNS", "WIDE_SOBOL_CI", "analyse", "analyse_places", "check_place", "format_index", "sensitivity_figure", "top_levers", "write_analysis"]

MEASURES = {"sobol": ("ST", "total-order Sobol index"), "morris": ("mu_star", "Morris mu*"), "lhs": ("abs_spearman", "|Spearman rank correlation|"), "grid": ("abs_spearman", "|Spearman rank correlation|")}


def analyse(sweep_dir: str | Path, *, place: str = ALL_PLACES) -> pd.DataFrame:
    """Sensitivity indices of every kept output to every swept parameter, in one place.

    Parameters
    ----------
    sweep_dir : str or Path
        A finished sweep folder.
    place : str, default="ALL"
        All places together, or the ONS code of a place the sweep kept
        (``keep_places = true``).

    Returns
    -------
    DataFrame
        ``place_code, output, parameter, measure, value, conf, flag``: conf is a 95%
        half-width where the method gives one; flag says why a Sobol index should not be
        read as it stands (outside [0, 1], or a CI wider than :data:`WIDE_SOBOL_CI`), else "".
        Morris ``mu_star`` and ``sigma`` are in the output's unit (per full range of the
        parameter); the other measures have none.

    Raises
    ------
    PfppError
        If the folder is not a finished sweep, or did not keep ``place``.
    """
    sweep = read_sweep(sweep_dir)
    return _indices(sweep.spec, _place_results(sweep, place)).assign(place_code=place)[COLUMNS]


def analyse_places(sweep_dir: str | Path) -> pd.DataFrame:
    """:func:`analyse` for all places together, then for each place the sweep kept, in one table."""
    return _every_place(read_sweep(sweep_dir))


def _every_place(sweep: Sweep) -> pd.DataFrame:
    places = [ALL_PLACES] if sweep.by_place is None else list(dict.fromkeys([ALL_PLACES, *sweep.by_place["place_code"]]))
    frames = [_indices(sweep.spec, _place_results(sweep, p)).assign(place_code=p) for p in places]
    return pd.concat(frames, ignore_index=True)[COLUMNS]


COLUMNS = ["place_code", "output", "parameter", "measure", "value", "conf", "flag"]
"""Columns of ``analysis.parquet``."""


def check_place(sweep: Sweep, place: str) -> None:
    """Refuse a place the sweep has no results for (``"ALL"`` it always has).

    Raises
    ------
    PfppError
        Naming the place, the sweep and the places it kept.
    """
    kept = [] if sweep.by_place is None else sorted(set(sweep.by_place["place_code"]) - {ALL_PLACES})
    if place != ALL_PLACES and place not in kept:
        hint = f"it kept {', '.join(kept)}" if kept else "it kept all places together only (set keep_places = true in the spec)"
        raise PfppError(f"--place {place}: sweep {sweep.spec.name} has no results for this place; {hint}")


def _place_results(sweep: Sweep, place: str) -> pd.DataFrame:
    check_place(sweep, place)
    return sweep.results if place == ALL_PLACES else sweep.by_place[sweep.by_place["place_code"] == place]


def format_index(measure: str, output: str, value: float, conf: float = np.nan) -> str:
    """An index as people read it: Morris effects in the output's unit (``1.25 pp``, ``£18.92m``), others to two decimals.

    Parameters
    ----------
    measure : str
        ``mu_star`` and ``sigma`` are in the output's unit; ``S1``, ``ST``, ``spearman``
        and ``abs_spearman`` have none.
    output : str
        A summary metric.
    value, conf : float
        The index and its 95% half-width (NaN: none).
    """
    if measure not in ("mu_star", "sigma"):
        return f"{value:.2f}" + (f" ±{conf:.2f}" if np.isfinite(conf) else "")
    scale, unit, digits = display_scale(output)
    money = "£" if output.endswith("_gbp") else ""
    text = f"{money}{value * scale:,.{digits}f}{unit}"
    return text + (f" ±{money}{conf * scale:,.{digits}f}{unit}" if np.isfinite(conf) else "")


def _indices(spec: SweepSpec, results: pd.DataFrame) -> pd.DataFrame:
    names = list(spec.parameters)
    by_point = results.groupby("point")
    per_point = by_point[[o for o in spec.outputs if o in results]].mean().sort_index()
    design = by_point[names].first().sort_index()
    rows = []
    for output in spec.outputs:
        if output not in per_point:
            continue
        y = per_point[output].to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(y)):
            y = np.where(np.isfinite(y), y, np.nanmean(y) if np.isfinite(y).any() else 0.0)
        if np.ptp(y) == 0:
            rows += [(output, n, m, 0.0, np.nan) for n in names for m in (MEASURES[spec.design][0],)]
            continue
        if spec.design == "sobol":
            from SALib.analyze import sobol

            res = sobol.analyze(problem(spec), y, calc_second_order=False, seed=spec.seed)
            for i, n in enumerate(names):
                rows += [(output, n, "S1", res["S1"][i], res["S1_conf"][i]), (output, n, "ST", res["ST"][i], res["ST_conf"][i])]
        elif spec.design == "morris":
            res = morris_indices(_scaled_design(spec, design), y, seed=spec.seed)
            for i, n in enumerate(names):
                rows += [(output, n, "mu_star", res["mu_star"][i], res["mu_star_conf"][i]), (output, n, "sigma", res["sigma"][i], np.nan)]
        else:
            x = _scaled_design(spec, design)
            for i, n in enumerate(names):
                rho = stats.spearmanr(x[:, i], y).statistic if np.ptp(x[:, i]) > 0 else 0.0
                rows += [(output, n, "spearman", rho, np.nan), (output, n, "abs_spearman", abs(rho), np.nan)]
    indices = pd.DataFrame(rows, columns=["output", "parameter", "measure", "value", "conf"])
    return indices.assign(flag=[_flag(r.measure, r.value, r.conf) for r in indices.itertuples()])


WIDE_SOBOL_CI = 0.1
"""Half-width of a Sobol index's 95% CI beyond which the index is flagged as imprecise."""


def _flag(measure: str, value: float, conf: float) -> str:
    """Why a Sobol index should not be read as it stands ("" if it can be)."""
    if measure not in ("S1", "ST"):
        return ""
    if value < 0 or value > 1:
        return "outside [0, 1]: more samples needed"
    if np.isfinite(conf) and conf > WIDE_SOBOL_CI:
        return f"wide CI (+/-{conf:.2f}): more samples needed"
    return ""


def _scaled_design(spec: SweepSpec, design: pd.DataFrame) -> np.ndarray:
    """Design values as shares of each parameter's range (a level as its index over the last), in SALib's order."""
    columns = []
    for name, parameter in spec.parameters.items():
        values = design[name]
        if parameter.levels is not None:
            lookup = {json.dumps(v): i for i, v in enumerate(parameter.levels)}
            index = values.map(lambda v, lookup=lookup: lookup[json.dumps(v.item() if isinstance(v, np.generic) else v)])
            columns.append(index.to_numpy(dtype=np.float64) / max(len(parameter.levels) - 1, 1))
        else:
            columns.append((values.to_numpy(dtype=np.float64) - parameter.low) / (parameter.high - parameter.low))
    return np.column_stack(columns)


def top_levers(indices: pd.DataFrame, design: str) -> pd.DataFrame:
    """For each output, the parameters ranked by the design's headline measure (indices of one place).

    Returns
    -------
    DataFrame
        ``output, rank, parameter, value, conf, flag``.
    """
    measure = MEASURES[design][0]
    head = indices[indices["measure"] == measure].sort_values(["output", "value"], ascending=[True, False])
    head = head.assign(rank=head.groupby("output").cumcount() + 1)
    return head[["output", "rank", "parameter", "value", "conf", "flag"]].reset_index(drop=True)


def sensitivity_figure(spec: SweepSpec, indices: pd.DataFrame) -> Figure:
    """Bars of the design's headline measure: one group per outcome, one bar per swept parameter."""
    measure, label = MEASURES[spec.design]
    return sensitivity_chart(indices, measure=measure, label=label, title=f"Sensitivity of each outcome to each lever ({spec.name})")


def write_analysis(sweep_dir: str | Path) -> dict[str, Path]:
    """Analyse a sweep and write ``analysis.parquet``, ``analysis.md`` and ``sensitivity.png``.

    The indices are computed for all places together and, when the sweep kept places,
    for each place (``place_code`` says which); the chart shows all places together.
    """
    sweep_dir = Path(sweep_dir)
    sweep = read_sweep(sweep_dir)
    spec, indices = sweep.spec, _every_place(sweep)
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
