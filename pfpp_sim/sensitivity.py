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

from pfpp_sim.charts import png_bytes, sensitivity_chart
from pfpp_sim.errors import PfppError
from pfpp_sim.morris import morris_indices
from pfpp_sim.storage import read_json, read_table, write_bytes, write_parquet, write_text
from pfpp_sim.sweep import SweepSpec, problem, spec_from_manifest

__all__ = ["WIDE_SOBOL_CI", "analyse", "load_finished_sweep", "sensitivity_figure", "top_levers", "write_analysis"]

MEASURES = {"sobol": ("ST", "total-order Sobol index"), "morris": ("mu_star", "Morris mu*"), "lhs": ("abs_spearman", "|Spearman rank correlation|"), "grid": ("abs_spearman", "|Spearman rank correlation|")}


def load_finished_sweep(sweep_dir: Path) -> tuple[SweepSpec, pd.DataFrame]:
    """The spec and per-run results of a finished sweep folder.

    Raises
    ------
    PfppError
        If the folder is not a sweep, or the sweep is unfinished.
    """
    manifest_path = sweep_dir / "manifest.json"
    if not sweep_dir.is_dir() or not manifest_path.is_file():
        raise PfppError(f"{sweep_dir} is not a sweep folder (expected manifest.json and runs/ written by 'pfpp sweep')")
    manifest = read_json(manifest_path)
    if manifest.get("kind") != "sweep":
        raise PfppError(f"{sweep_dir} holds a run or comparison, not a sweep (expected a folder written by 'pfpp sweep')")
    if "spec" not in manifest:
        raise PfppError(f"{manifest_path} lacks spec (expected the manifest 'pfpp sweep' writes; rerun the sweep)")
    if not manifest.get("complete"):
        raise PfppError(f"{sweep_dir} holds an unfinished sweep: complete it with 'pfpp sweep {manifest.get('spec_file')} --out {sweep_dir} --resume'")
    return spec_from_manifest(manifest), read_table(sweep_dir / "results.parquet")


def analyse(sweep_dir: str | Path) -> pd.DataFrame:
    """Sensitivity indices of every kept output to every swept parameter.

    Parameters
    ----------
    sweep_dir : str or Path
        A finished sweep folder.

    Returns
    -------
    DataFrame
        ``output, parameter, measure, value, conf, flag``: conf is a 95% half-width where
        the method gives one; flag says why a Sobol index should not be read as it stands
        (outside [0, 1], or a CI wider than :data:`WIDE_SOBOL_CI`), else "".

    Raises
    ------
    PfppError
        If the folder is not a finished sweep.
    """
    return _indices(*load_finished_sweep(Path(sweep_dir)))


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
            index = values.map(lambda v: lookup[json.dumps(v.item() if isinstance(v, np.generic) else v)])
            columns.append(index.to_numpy(dtype=np.float64) / max(len(parameter.levels) - 1, 1))
        else:
            columns.append((values.to_numpy(dtype=np.float64) - parameter.low) / (parameter.high - parameter.low))
    return np.column_stack(columns)


def top_levers(indices: pd.DataFrame, design: str) -> pd.DataFrame:
    """For each output, the parameters ranked by the design's headline measure.

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
    """Analyse a sweep and write ``analysis.parquet``, ``analysis.md`` and ``sensitivity.png``."""
    sweep_dir = Path(sweep_dir)
    spec, results = load_finished_sweep(sweep_dir)
    indices = _indices(spec, results)
    ranked = top_levers(indices, spec.design)
    label = MEASURES[spec.design][1]
    files = {"indices": write_parquet(indices, sweep_dir / "analysis.parquet")}

    lines = [f"# Sensitivity of sweep {spec.name} ({spec.design} design)", "", f"Headline measure: {label}.", "",
             "## Which lever matters most for which outcome", "", "| Outcome | Most influential | Value | Next |", "|---|---|---:|---|"]
    for output, group in ranked.groupby("output", sort=False):
        first = group.iloc[0]
        nxt = f"{group.iloc[1].parameter} ({group.iloc[1].value:.3f})" if len(group) > 1 else "-"
        lines.append(f"| {output} | {first.parameter} | {first.value:.3f} | {nxt} |")
    flagged = indices[indices["flag"] != ""]
    if len(flagged):
        lines += ["", f"**{len(flagged)} of {len(indices)} indices are flagged** (outside [0, 1], or a 95% CI wider than "
                  f"+/-{WIDE_SOBOL_CI}): read them as imprecise and rerun with more samples."]
    lines += ["", "## All indices", "", "| Outcome | Parameter | Measure | Value | 95% half-width | Flag |", "|---|---|---|---:|---:|---|"]
    for row in indices.itertuples():
        conf = "" if not np.isfinite(row.conf) else f"{row.conf:.3f}"
        lines.append(f"| {row.output} | {row.parameter} | {row.measure} | {row.value:.3f} | {conf} | {row.flag} |")
    files["report"] = write_text("\n".join(lines) + "\n", sweep_dir / "analysis.md")

    files["chart"] = write_bytes(png_bytes(sensitivity_figure(spec, indices)), sweep_dir / "sensitivity.png")
    return files
