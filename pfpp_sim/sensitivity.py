"""Sensitivity analysis of a finished sweep: which levers matter most for which outcome.

Sobol designs give first- and total-order indices (SALib), Morris designs mu* and sigma
of elementary effects per full range of each parameter (:mod:`pfpp_sim.morris`, so that
switches and sliders compare). LHS and grid designs give Spearman rank correlations between each parameter
and each outcome, a screening measure. Replicates are averaged per design point first.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pfpp_sim.analysis import ALL_PLACES
from pfpp_sim.design import MEASURES, analyze
from pfpp_sim.errors import PfppError
from pfpp_sim.outcomes import display_scale
from pfpp_sim.sweep import Sweep, SweepSpec, read_sweep

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["COLUMNS", "analyse", "analyse_places", "check_place", "every_place", "format_index", "sensitivity_figure", "sweep_indices", "top_levers"]


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
        read as it stands (outside [0, 1], or a CI wider than :data:`pfpp_sim.design.WIDE_SOBOL_CI`), else "".
        Morris ``mu_star`` and ``sigma`` are in the output's unit (per full range of the
        parameter); the other measures have none.

    Raises
    ------
    PfppError
        If the folder is not a finished sweep, or did not keep ``place``.
    """
    sweep = read_sweep(sweep_dir)
    return sweep_indices(sweep.spec, _place_results(sweep, place)).assign(place_code=place)[COLUMNS]


def analyse_places(sweep_dir: str | Path) -> pd.DataFrame:
    """:func:`analyse` for all places together, then for each place the sweep kept, in one table."""
    return every_place(read_sweep(sweep_dir))


def every_place(sweep: Sweep) -> pd.DataFrame:
    """:func:`analyse_places` of a sweep already read."""
    places = [ALL_PLACES] if sweep.by_place is None else list(dict.fromkeys([ALL_PLACES, *sweep.by_place["place_code"]]))
    frames = [sweep_indices(sweep.spec, _place_results(sweep, p)).assign(place_code=p) for p in places]
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


def sweep_indices(spec: SweepSpec, results: pd.DataFrame) -> pd.DataFrame:
    """:func:`pfpp_sim.design.analyze` of a sweep's results, by its spec's space, method, seed and outputs."""
    return analyze(spec.space, results, method=spec.design, seed=spec.seed, outputs=spec.outputs)


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
    from pfpp_sim.charts import sensitivity_chart  # here, not at the top: the command line never draws
    measure, label = MEASURES[spec.design]
    return sensitivity_chart(indices, measure=measure, label=label, title=f"Sensitivity of each outcome to each lever ({spec.name})")
