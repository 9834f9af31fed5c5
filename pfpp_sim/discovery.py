"""Scenario discovery with PRIM (EMA Workbench, the optional ``ema`` extra).

Finds the box of lever ranges in which an outcome is most often in its worst (or best)
tail: e.g. the region of a sweep where joined-up levers fail to lower fuel poverty.
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pfpp_sim.errors import PfppError
from pfpp_sim.sweep import read_sweep

__all__ = ["Discovery", "discover", "ema_available", "find_box"]


@dataclass(frozen=True)
class Discovery:
    """A PRIM box: the restricted parameter ranges and how well they capture the cases."""

    output: str
    cases: str  # description of the cases of interest
    n_cases: int
    n_runs: int
    coverage: float  # share of all cases of interest inside the box
    density: float  # share of runs inside the box that are cases of interest
    mass: float  # share of all runs inside the box
    limits: pd.DataFrame  # parameter, min, max (restricted parameters only)


def discover(sweep_dir: str | Path, output: str, *, tail: float = 0.2, high: bool = True, threshold: float = 0.8) -> Discovery:
    """Find the parameter box where ``output`` falls in its top (or bottom) tail.

    Parameters
    ----------
    sweep_dir : str or Path
        A finished sweep folder.
    output : str
        A kept output of the sweep.
    tail : float, default=0.2
        Share of runs that count as cases of interest.
    high : bool, default=True
        Cases are the highest values (worst for rates, money returned, overhead);
        ``False`` for the lowest.
    threshold : float, default=0.8
        PRIM's density threshold.

    Raises
    ------
    PfppError
        If the ``ema`` extra is missing, the folder is not a finished sweep, or the
        output was not kept.
    """
    _prim()
    sweep = read_sweep(sweep_dir)
    spec, results = sweep.spec, sweep.results
    if output not in results:
        raise PfppError(f"output {output!r} was not kept by sweep {spec.name}; kept: {', '.join(spec.outputs)}")
    names = list(spec.parameters)
    x = results[names].copy()
    for name in names:
        if x[name].map(lambda v: isinstance(v, (list, np.ndarray))).any():
            x[name] = x[name].map(lambda v: ",".join(map(str, v))).astype("category")
        elif x[name].dtype == bool or x[name].dtype == object:
            x[name] = x[name].astype(str).astype("category")
        else:
            x[name] = x[name].astype(np.float64)  # PRIM writes box limits back into the frame
    y_values = results[output].to_numpy(dtype=np.float64)
    cut = np.nanquantile(y_values, 1 - tail if high else tail)
    y = (y_values >= cut) if high else (y_values <= cut)
    if y.all() or not y.any():
        raise PfppError(f"{output} does not vary across the sweep: no tail to discover")
    cases = f"{output} {'>=' if high else '<='} {cut:.4g} ({'top' if high else 'bottom'} {tail:.0%} of runs)"
    return find_box(x, y, output=output, cases=cases, threshold=threshold)


def ema_available() -> bool:
    """Whether the ``ema`` extra (EMA Workbench, for PRIM) is installed."""
    return importlib.util.find_spec("ema_workbench") is not None


def _prim():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import prim
    except ImportError as err:
        raise PfppError("scenario discovery needs the 'ema' extra: pip install 'pfpp_sim[ema]'") from err
    return prim


def find_box(x: pd.DataFrame, y: np.ndarray, *, output: str, cases: str, threshold: float = 0.8) -> Discovery:
    """PRIM's first box: the input ranges in which the cases of interest concentrate.

    Parameters
    ----------
    x : DataFrame
        One row per run, one column per input (float64 or category); PRIM writes box
        limits into it, so pass a copy.
    y : ndarray of bool, shape (n_runs,)
        The cases of interest; at least one, and not all.
    output, cases : str
        What the box is about, for :class:`Discovery`.
    threshold : float, default=0.8
        PRIM's density threshold.

    Raises
    ------
    PfppError
        If the ``ema`` extra is missing.

    References
    ----------
    Friedman, J. H. and Fisher, N. I. (1999). Bump hunting in high-dimensional data.
    Statistics and Computing 9, 123-143. https://doi.org/10.1023/A:1008894516817
    """
    prim = _prim()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        box = prim.Prim(x, y, threshold=threshold).find_box()
        stats_row, limits = box.inspect(style="data")[0]
    lims = limits.droplevel(0, axis=1) if isinstance(limits.columns, pd.MultiIndex) else limits
    table = pd.DataFrame(
        {"parameter": lims.index, "min": lims.iloc[:, 0].map(_show), "max": lims.iloc[:, 1].map(_show)}
    ).reset_index(drop=True)
    return Discovery(
        output=output,
        cases=cases,
        n_cases=int(np.sum(y)),
        n_runs=int(np.size(y)),
        coverage=float(stats_row["coverage"]),
        density=float(stats_row["density"]),
        mass=float(stats_row["mass"]),
        limits=table,
    )


def _show(value) -> str:
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(map(str, value))) + "}"
    return f"{value:.4g}" if isinstance(value, (int, float, np.number)) else str(value)
