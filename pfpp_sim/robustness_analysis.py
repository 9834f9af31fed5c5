"""What a robustness run says per outcome: does the sign hold, what moves it, where it flips.

Works on the paired differences of every world (:func:`pfpp_sim.robustness.run_worlds`)
and the design that made them (:func:`pfpp_sim.worlds.sample`); world 0 is the default
world, the scenarios as given.

- **Sign holding**: the share of sampled worlds in which the difference has the sign it
  has in the default world, with the spread of the difference across worlds and the
  share of worlds whose confidence interval (over replicates) excludes zero on each side.
- **Influence** of each assumption on each outcome's difference (all places): partial
  rank correlation coefficients for LHS designs, first- and total-order Sobol indices
  for Sobol designs (SALib), Morris mu* per full range of each assumption for Morris
  designs (:mod:`pfpp_sim.morris`).
- **Flips**: with the ``ema`` extra, PRIM's box of the assumptions' ranges in which the
  sign flips (EMA Workbench).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from pfpp_sim.analysis import ALL_PLACES
from pfpp_sim.discovery import ema_available, find_box
from pfpp_sim.morris import morris_indices
from pfpp_sim.worlds import Space

__all__ = ["CORRELATIONS", "Analysis", "MEASURES", "QUANTILES", "analyze", "influence", "partial_rank_correlation", "sign_holding", "flip_boxes"]

QUANTILES = {"q05": 0.05, "q25": 0.25, "median": 0.5, "q75": 0.75, "q95": 0.95}
"""Quantiles of the difference across sampled worlds, by column name."""
MEASURES = {
    "lhs": ("prcc", "partial rank correlation with the difference"),
    "sobol": ("ST", "total-order Sobol index of the difference"),
    "morris": ("mu_star", "Morris mu* of the difference"),
}
"""Headline influence measure of each design, and what it is."""
CORRELATIONS = ("prcc", "spearman")
"""The measures of influence that are signed correlations, with ``conf`` the size below which one cannot be told from zero."""
PRIM_THRESHOLD = 0.8
"""PRIM's density threshold: at least this share of the worlds in a box flip."""


@dataclass(frozen=True)
class Analysis:
    """The findings of a robustness run (see :class:`pfpp_sim.robustness.Robustness` for the columns)."""

    summary: pd.DataFrame
    influence: pd.DataFrame
    flips: pd.DataFrame
    prim: str


def sign_holding(worlds: pd.DataFrame) -> pd.DataFrame:
    """Per place and outcome: does the default world's sign hold across the sampled worlds?

    Parameters
    ----------
    worlds : DataFrame
        ``world, place_code, metric, difference, ci_low, ci_high, n``; world 0 is the
        default world, the others are sampled.

    Returns
    -------
    DataFrame
        ``place_code, metric, default_difference, default_ci_low, default_ci_high,
        direction`` ("lower", "higher" or "no difference": the alternative against the
        base in the default world; "undefined" where that difference is missing), ``worlds`` (sampled worlds with a finite
        difference), ``sign_holds`` (share of them with the default's sign; a
        difference of exactly zero does not hold; NaN when the default has no
        difference), ``flips`` (worlds where it does not hold), the quantiles of
        :data:`QUANTILES`, ``ci_below_zero`` and ``ci_above_zero`` (shares of worlds
        whose 95% CI lies wholly below or above zero) and ``noise_share``: the mean
        squared standard error of a world's difference over the variance of the
        difference across worlds, capped at 1. Near 0, worlds differ by their
        assumptions; near 1, the spread across worlds is mostly replicate noise.
    """
    keys = ["place_code", "metric"]
    default = worlds[worlds["world"] == 0].set_index(keys)
    sign0 = np.sign(default["difference"]).rename("sign0")
    sampled = worlds[(worlds["world"] > 0) & np.isfinite(worlds["difference"])].join(sign0, on=keys)
    t = stats.t.ppf(0.975, np.maximum(sampled["n"] - 1, 1))
    sampled = sampled.assign(
        holds=np.sign(sampled["difference"]) == sampled["sign0"],
        noise=((sampled["ci_high"] - sampled["ci_low"]) / (2 * t)) ** 2,
        below=sampled["ci_high"] < 0,
        above=sampled["ci_low"] > 0,
    )
    grouped = sampled.groupby(keys, sort=False)
    spread = grouped["difference"].var()
    found = pd.DataFrame(
        {
            "worlds": grouped.size(),
            "sign_holds": grouped["holds"].mean(),
            "flips": grouped.size() - grouped["holds"].sum(),
            **{name: grouped["difference"].quantile(q) for name, q in QUANTILES.items()},
            "ci_below_zero": grouped["below"].mean(),
            "ci_above_zero": grouped["above"].mean(),
            "noise_share": (grouped["noise"].mean() / spread.where(spread > 0)).clip(upper=1.0),
        }
    )
    table = default[["difference", "ci_low", "ci_high"]].add_prefix("default_")
    table["direction"] = np.select([sign0 < 0, sign0 > 0, sign0 == 0], ["lower", "higher", "no difference"], "undefined")
    table = table.join(found)
    table["worlds"] = table["worlds"].fillna(0).astype(np.int64)
    no_sign = ~np.isin(table["direction"], ["lower", "higher"])
    table.loc[no_sign, ["sign_holds", "flips"]] = np.nan
    return table.reset_index()


def partial_rank_correlation(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Partial rank correlation of each input with the output, the others held fixed.

    The correlation of what the other inputs' ranks leave unexplained of an input's
    ranks and of the output's (by least squares), worked out from the inverse of the
    ranks' correlation matrix. When that matrix is singular (the output's ranks are a
    linear function of the inputs', as when the output rises or falls with one input
    alone), its inverse does not exist and the residuals are correlated directly: an
    output the other inputs explain whole leaves nothing to correlate, and an input
    gets 0.

    Parameters
    ----------
    x : ndarray of float64, shape (n, k)
    y : ndarray of float64, shape (n,)
        Requires ``n > k + 3``.

    Returns
    -------
    prcc : ndarray of float64, shape (k,)
    threshold : float
        The absolute PRCC that differs from zero at the 5% level (Fisher's z with ``k``
        variables held fixed); smaller values cannot be told from noise.

    References
    ----------
    Marino, S., Hogue, I. B., Ray, C. J. and Kirschner, D. E. (2008). A methodology for
    performing global uncertainty and sensitivity analysis in systems biology. Journal
    of Theoretical Biology 254, 178-196. https://doi.org/10.1016/j.jtbi.2008.04.011
    """
    n, k = x.shape
    ranks = stats.rankdata(np.column_stack([x, y]), axis=0)
    correlation = np.corrcoef(ranks, rowvar=False)
    if np.linalg.matrix_rank(correlation) == k + 1:
        precision = np.linalg.pinv(correlation)
        scale = np.sqrt(np.diag(precision))
        prcc = -precision[:-1, -1] / (scale[:-1] * scale[-1])
    else:
        prcc = _correlated_residuals(ranks)
    return np.clip(prcc, -1.0, 1.0), _noise_threshold(n, held_fixed=k - 1)


def _noise_threshold(n: int, *, held_fixed: int) -> float:
    """The absolute rank correlation of ``n`` worlds, ``held_fixed`` variables held fixed, that differs from zero at the 5% level (Fisher's z)."""
    return float(np.tanh(1.959964 / np.sqrt(n - 3 - held_fixed)))


def _correlated_residuals(ranks: np.ndarray) -> np.ndarray:
    """Partial correlation of each of the first ``k`` columns with the last, from the residuals of regressions on the other ``k - 1``.

    0 where either residual is nothing: its sum of squares below 1e-12 of its column's.
    """
    k = ranks.shape[1] - 1
    centred = ranks - ranks.mean(axis=0)
    prcc = np.zeros(k)
    for i in range(k):
        others, pair = np.delete(centred[:, :k], i, axis=1), centred[:, [i, k]]
        left = pair - others @ np.linalg.lstsq(others, pair, rcond=None)[0]
        spread = (left**2).sum(axis=0)
        if (spread > 1e-12 * (pair**2).sum(axis=0)).all():
            prcc[i] = left[:, 0] @ left[:, 1] / np.sqrt(spread[0] * spread[1])
    return prcc


def influence(space: Space, design: pd.DataFrame, worlds: pd.DataFrame, *, method: str, seed: int) -> pd.DataFrame:
    """How much each assumption moves each outcome's difference (all places).

    LHS designs give the partial rank correlation (``prcc``, with ``conf`` the absolute
    value below which it cannot be told from zero), or Spearman's rank correlation
    (``spearman``, with ``conf`` likewise by Fisher's z from 4 worlds) when there are too
    few worlds for the partial one; Sobol designs ``S1`` and ``ST`` with 95%
    half-widths; Morris designs ``mu_star`` (with its 95% half-width) and ``sigma``. An
    outcome whose difference is the same in every world gets 0 for every assumption; one
    with a missing difference in a Sobol or Morris design (whose worlds must all be
    present) gets NaN.

    Returns
    -------
    DataFrame
        ``metric, factor, measure, value, conf``.
    """
    names = space.names
    points = design[design["sampled"]].sort_values("world")
    x = points[names].to_numpy(dtype=np.float64)
    table = worlds[(worlds["place_code"] == ALL_PLACES) & (worlds["world"] > 0)]
    y_by_metric = table.pivot(index="world", columns="metric", values="difference").reindex(points["world"])
    rows: list[tuple] = []
    for metric in dict.fromkeys(table["metric"]):
        y = y_by_metric[metric].to_numpy(dtype=np.float64)
        ok = np.isfinite(y)
        if method == "lhs":
            if ok.sum() > len(names) + 3 and np.ptp(y[ok]) > 0:
                prcc, threshold = partial_rank_correlation(x[ok], y[ok])
                rows += [(metric, n, "prcc", float(v), threshold) for n, v in zip(names, prcc)]
            elif ok.sum() > 2 and np.ptp(y[ok]) > 0:
                rho = [stats.spearmanr(x[ok, i], y[ok]).statistic if np.ptp(x[ok, i]) > 0 else 0.0 for i in range(len(names))]
                threshold = _noise_threshold(int(ok.sum()), held_fixed=0) if ok.sum() > 3 else np.nan
                rows += [(metric, n, "spearman", float(v), threshold) for n, v in zip(names, rho)]
            else:
                rows += [(metric, n, "prcc", 0.0 if ok.any() else np.nan, np.nan) for n in names]
            continue
        if not ok.all() or np.ptp(y) == 0:
            value = np.nan if not ok.all() else 0.0
            measures = ("S1", "ST") if method == "sobol" else ("mu_star", "sigma")
            rows += [(metric, n, m, value, np.nan) for n in names for m in measures]
        elif method == "sobol":
            from SALib.analyze import sobol

            res = sobol.analyze(space.problem(), y, calc_second_order=False, seed=seed)
            for i, n in enumerate(names):
                rows += [(metric, n, "S1", res["S1"][i], res["S1_conf"][i]), (metric, n, "ST", res["ST"][i], res["ST_conf"][i])]
        else:
            res = morris_indices(space.shares(points), y, seed=seed)
            for i, n in enumerate(names):
                rows += [(metric, n, "mu_star", res["mu_star"][i], res["mu_star_conf"][i]), (metric, n, "sigma", res["sigma"][i], np.nan)]
    frame = pd.DataFrame(rows, columns=["metric", "factor", "measure", "value", "conf"])
    return frame.astype({"value": np.float64, "conf": np.float64})


FLIP_COLUMNS = ["metric", "factor", "min", "max", "coverage", "density", "mass", "cases", "worlds"]


def flip_boxes(space: Space, design: pd.DataFrame, worlds: pd.DataFrame, summary: pd.DataFrame, *, alternative: str) -> tuple[pd.DataFrame, str]:
    """PRIM's box of assumption ranges in which each outcome's sign flips (all places).

    Only outcomes whose sign flips in some sampled worlds, not all, get a box. A box
    that restricts no assumption (the flips are spread over the whole space) is one row
    with an empty ``factor``.

    Returns
    -------
    flips : DataFrame
        ``metric, factor, min, max, coverage, density, mass, cases, worlds``: one row
        per restricted assumption.
    prim : str
        ``"ran"``, or why PRIM was skipped (the ``ema`` extra is not installed).
    """
    if not ema_available():
        return pd.DataFrame(columns=FLIP_COLUMNS), "skipped: the 'ema' extra (EMA Workbench) is not installed"
    points = design[design["sampled"]].set_index("world")
    rows: list[tuple] = []
    totals = summary[summary["place_code"] == ALL_PLACES].set_index("metric")
    table = worlds[(worlds["place_code"] == ALL_PLACES) & (worlds["world"] > 0) & np.isfinite(worlds["difference"])]
    for metric, group in table.groupby("metric", sort=False):
        if metric not in totals.index:  # no difference in the scenarios as given (e.g. a share of no retrofits)
            continue
        row = totals.loc[metric]
        if not (row["flips"] > 0 and row["flips"] < row["worlds"]):
            continue
        sign0 = 1.0 if row["direction"] == "higher" else -1.0
        y = (np.sign(group["difference"]) != sign0).to_numpy()
        x = points.loc[group["world"], space.names].reset_index(drop=True).astype(np.float64)
        cases = f"worlds where {alternative} is not {row['direction']} on {metric}"
        found = find_box(x, y, output=metric, cases=cases, threshold=PRIM_THRESHOLD)
        stats_row = (found.coverage, found.density, found.mass, found.n_cases, found.n_runs)
        if found.limits.empty:
            rows.append((metric, "", np.nan, np.nan, *stats_row))
        rows += [(metric, r.parameter, float(r.min), float(r.max), *stats_row) for r in found.limits.itertuples()]
    return pd.DataFrame(rows, columns=FLIP_COLUMNS), "ran"


def analyze(space: Space, design: pd.DataFrame, worlds: pd.DataFrame, *, method: str, seed: int, alternative: str) -> Analysis:
    """Sign holding, influence and flips of a robustness run.

    Parameters
    ----------
    space : Space
    design : DataFrame
        From :func:`pfpp_sim.worlds.sample`.
    worlds : DataFrame
        From :func:`pfpp_sim.robustness.run_worlds`.
    method : {"lhs", "sobol", "morris"}
        The design's method.
    seed : int
        Seeds the bootstrap of Sobol and Morris confidence intervals.
    alternative : str
        Name of the alternative, for the descriptions of flips.

    Returns
    -------
    Analysis
    """
    summary = sign_holding(worlds)
    flips, prim = flip_boxes(space, design, worlds, summary, alternative=alternative)
    return Analysis(summary, influence(space, design, worlds, method=method, seed=seed), flips, prim)
