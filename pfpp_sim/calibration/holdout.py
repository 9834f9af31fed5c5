"""Scoring a held-out year: the model against persistence and a pooled AR(1).

A fit made without each series' last year forecasts that year. Two simple forecasts set
the bar it has to clear, from the same years of data:

- **persistence**: the last observed value carried forward;
- **pooled AR(1)**: ``y[t+1] = a + b * y[t]``, one ``(a, b)`` per series fitted by least
  squares to every consecutive pair of in-sample years of every place fitted. With two or
  three years a place has too few pairs of its own; pooling over places borrows strength
  and keeps each place's level (``b`` near 1) while letting rates drift toward the
  average of the places (``b`` below 1) and share a common change (``a``).

Each is scored on its mean absolute error and on the Spearman rank correlation of the
change it predicted (forecast minus last observed value) with the change observed: does
it put the places that moved most at the top? Persistence predicts no change, so it has
no rank correlation.

The model's forecast carries a 90% prediction interval, ``simulated +- 1.645 sd``, whose
variance adds two parts: the spread of the fit's own in-sample errors for that series
(what a fitted year misses by: the data's noise, the simulation's Monte Carlo error and
what the model leaves out) and the variance owed to the error of the place's fitted trend
(delta method). Its coverage is the share of held-out observations inside it: near 90% when
the interval is honest, far below when it is too narrow.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["FORECASTS", "Z90", "pooled_ar1", "score", "with_forecasts", "with_intervals"]

FORECASTS = ("simulated", "persistence", "ar1")
"""Columns of a held-out table holding a forecast: the model's, persistence's, the pooled AR(1)'s."""
Z90 = 1.6448536269514722
"""Half-width of a central 90% normal interval, in standard deviations."""


def pooled_ar1(observed: pd.DataFrame) -> tuple[float, float]:
    """Intercept and slope of ``y[t+1] = a + b * y[t]`` over every consecutive pair of years.

    Parameters
    ----------
    observed : pandas.DataFrame
        One series' in-sample data: ``place_code, year, observed``.

    Returns
    -------
    tuple of float
        ``(a, b)``; ``(0.0, 1.0)`` (persistence) when there are fewer than three pairs
        or the earlier values do not vary.
    """
    wide = observed.pivot_table(index="place_code", columns="year", values="observed")
    years = sorted(wide.columns)
    pairs = [(wide[y0], wide[y1]) for y0, y1 in zip(years, years[1:]) if y1 == y0 + 1]
    if not pairs:
        return 0.0, 1.0
    x = pd.concat([p[0] for p in pairs]).to_numpy()
    y = pd.concat([p[1] for p in pairs]).to_numpy()
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) < 3 or np.ptp(x) == 0:
        return 0.0, 1.0
    b, a = np.polyfit(x, y, 1)
    return float(a), float(b)


def with_forecasts(held: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """Add the last observed value, persistence and the pooled AR(1) to a held-out table.

    Parameters
    ----------
    held : pandas.DataFrame
        The held-out moments with the model's forecast: ``place_code, metric, year,
        observed, simulated``.
    targets : pandas.DataFrame
        All observed moments (``place_code, metric, year, observed``); the AR(1) is fitted
        to those before each series' held-out year.

    Returns
    -------
    pandas.DataFrame
        ``held`` with ``last_observed`` (the year before; NaN if not published), and the
        ``persistence`` and ``ar1`` forecasts.
    """
    previous = targets.set_index(["place_code", "metric", "year"])["observed"]
    out = held.copy()
    out["last_observed"] = [previous.get((c, m, y - 1), np.nan) for c, m, y in held[["place_code", "metric", "year"]].itertuples(index=False)]
    out["persistence"] = out["last_observed"]
    out["ar1"] = np.nan
    for metric, g in held.groupby("metric"):
        in_sample = targets[(targets.metric == metric) & (targets.year < g.year.min())]
        a, b = pooled_ar1(in_sample)
        out.loc[g.index, "ar1"] = a + b * out.loc[g.index, "last_observed"]
    return out


def with_intervals(held: pd.DataFrame, in_sample: pd.DataFrame, trend_sd: pd.Series) -> pd.DataFrame:
    """Add the model forecast's 90% prediction interval to a held-out table.

    Parameters
    ----------
    held : pandas.DataFrame
        Held-out moments with the model's forecast (``place_code, metric, observed, simulated``).
    in_sample : pandas.DataFrame
        The same fit's in-sample moments (``metric, observed, simulated``): their root mean
        squared error per series is the interval's first part.
    trend_sd : pandas.Series
        Indexed by ``(place_code, metric)``: the forecast's standard deviation owed to the
        place's fitted trend; a place without one adds nothing.

    Returns
    -------
    pandas.DataFrame
        ``held`` with ``forecast_sd``, ``low_90``, ``high_90`` and ``inside_90`` (the
        observation lies within the interval, ends included).
    """
    rmse = ((in_sample.simulated - in_sample.observed) ** 2).groupby(in_sample.metric).mean() ** 0.5
    own = np.array([trend_sd.get((c, m), 0.0) for c, m in held[["place_code", "metric"]].itertuples(index=False)])
    out = held.copy()
    out["forecast_sd"] = np.sqrt(held.metric.map(rmse).to_numpy(dtype=float) ** 2 + own**2)
    out["low_90"] = out.simulated - Z90 * out.forecast_sd
    out["high_90"] = out.simulated + Z90 * out.forecast_sd
    out["inside_90"] = (out.observed >= out.low_90) & (out.observed <= out.high_90)
    return out


def _rank_correlation(predicted_change: pd.Series, observed_change: pd.Series) -> float:
    keep = predicted_change.notna() & observed_change.notna()
    if keep.sum() < 3 or predicted_change[keep].nunique() < 2 or observed_change[keep].nunique() < 2:
        return float("nan")
    return float(stats.spearmanr(predicted_change[keep], observed_change[keep]).statistic)


def score(held: pd.DataFrame) -> pd.DataFrame:
    """Mean absolute errors and rank correlations of each forecast, per series.

    Parameters
    ----------
    held : pandas.DataFrame
        A table from :func:`with_forecasts`.

    Returns
    -------
    pandas.DataFrame
        One row per metric: ``metric, held_out_year, places, model_mae, persistence_mae,
        ar1_mae`` (fractions), ``model_rank_correlation, ar1_rank_correlation`` (Spearman,
        predicted against observed change), ``better`` (``"model"`` when its MAE is below
        persistence's, else ``"persistence"``) and ``best`` (the forecast with the lowest
        MAE: ``"model"``, ``"persistence"`` or ``"ar1"``).
    """
    rows = []
    for metric, g in held.groupby("metric", sort=False):
        g = g[g["last_observed"].notna()]
        mae = {name: float((g[name] - g.observed).abs().mean()) for name in FORECASTS}
        change = g.observed - g.last_observed
        best = min(mae, key=mae.get)
        rows.append({
            "metric": metric,
            "held_out_year": int(g.year.max()),
            "places": int(g.place_code.nunique()),
            "model_mae": mae["simulated"],
            "persistence_mae": mae["persistence"],
            "ar1_mae": mae["ar1"],
            "model_rank_correlation": _rank_correlation(g.simulated - g.last_observed, change),
            "ar1_rank_correlation": _rank_correlation(g.ar1 - g.last_observed, change),
            "coverage_90": float(g["inside_90"].mean()) if "inside_90" in g else float("nan"),
            "better": "model" if mae["simulated"] < mae["persistence"] else "persistence",
            "best": "model" if best == "simulated" else best,
        })
    return pd.DataFrame(rows)
