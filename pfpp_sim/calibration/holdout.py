"""Scoring a held-out year: the model's forecast against persistence and a pooled AR(1).

A fit made without each series' last year forecasts that year. The model forecasts as
``baseline_forecast`` does, from the latest data: the last observed value plus the change
the model expects from the year before to the held-out year (its trends damped beyond
their data). A few replicates of a sampled population estimate a place's expected change
with Monte Carlo error, so each place's simulated change is pooled towards the mean over
places by the share of their spread that is not that error (:func:`change_weight`, the
empirical Bayes estimate of a place's expected change). Its simulated level itself
(``baseline_history``'s reading) is scored beside it. Two simple forecasts set the bar,
from the same years of data:

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

Beside them, the *same-change floor* is the lowest mean absolute error that any forecast
predicting one change for every place can reach: the last observed value plus the median
of the observed changes (the median minimises a sum of absolute deviations). It reads the
held-out year, so it is a bound, not a forecast. How far persistence lies above it is all
that getting the change common to all places right can gain; below it, only a forecast
that tells the places' own changes apart can go.

The model's forecast carries a 90% prediction interval, ``forecast +- 1.645 sd``, whose
variance adds four parts: the spread of the published series' own year-on-year changes in
the in-sample years, around each year's mean change over places (what a forecast of a
place's change misses when it gets the common change right: the estimates' noise and
local movement); the size of those yearly mean changes (the common change, which one year
does not predict for the next); the variance of the predicted change owed to the error
of the place's fitted trend (delta method); and the Monte Carlo error left in the expected
change after pooling, from the spread of the change over the replicates
(:func:`monte_carlo_change_sd`, times the root of :func:`change_weight`). The fit's own in-sample
errors would understate the first part: with two or three years a trend fits a place's
changes almost exactly. Its coverage is the share of held-out observations inside it: near 90% when the interval is
honest, far below when it is too narrow.

Beside the scores, :func:`change_correlation` says whether a place's change one year
carries into the next: the evidence for how far ``baseline_forecast`` carries fitted place
trends beyond their data (``world.trend_damping``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "FORECASTS", "Z90", "change_correlation", "change_spread", "change_weight", "common_change_spread", "monte_carlo_change_sd",
    "pooled_ar1",
    "score", "with_forecasts", "with_intervals",
]

FORECASTS = ("forecast", "simulated", "persistence", "ar1")
"""Columns of a held-out table holding a forecast: the model's from the latest data, the model's
simulated level, persistence's and the pooled AR(1)'s."""
Z90 = 1.6448536269514722
"""Half-width of a central 90% normal interval, in standard deviations."""


def _year_pairs(observed: pd.DataFrame) -> list[tuple[pd.Series, pd.Series]]:
    """Each place's values in every two consecutive years of one series: ``(earlier, later)``, by place."""
    wide = observed.pivot_table(index="place_code", columns="year", values="observed")
    years = sorted(wide.columns)
    return [(wide[y0], wide[y1]) for y0, y1 in zip(years, years[1:]) if y1 == y0 + 1]


def _per_series(observed: pd.DataFrame, statistic: Callable[[list[pd.Series]], float | None]) -> pd.Series:
    """``statistic`` of each series' one-year changes (one Series by place per consecutive pair of years).

    A series whose statistic is None is left out.
    """
    out = {}
    for metric, g in observed.groupby("metric"):
        value = statistic([later - earlier for earlier, later in _year_pairs(g)])
        if value is not None:
            out[metric] = value
    return pd.Series(out, dtype=float)


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
    pairs = _year_pairs(observed)
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


def with_forecasts(table: pd.DataFrame) -> pd.DataFrame:
    """The held-out rows of a fit's table, with each forecast of them.

    Parameters
    ----------
    table : pandas.DataFrame
        Every moment of a fit made without each series' last year: ``place_code, metric,
        year, observed, simulated, used`` (``used`` False for the held-out rows), and
        optionally one ``replicate_<r>`` column per replicate (see :func:`change_weight`).

    Returns
    -------
    pandas.DataFrame
        The held-out rows with ``last_observed`` and ``last_simulated`` (the year before;
        NaN if not published), ``change_weight`` (of the series, :func:`change_weight`),
        ``forecast`` (the model's, from the latest data: ``last_observed`` plus the mean
        simulated change over the series' places plus ``change_weight`` times the place's
        own simulated change, ``simulated - last_simulated``, less that mean),
        ``persistence`` and ``ar1``.
    """
    before = table.set_index(["place_code", "metric", "year"])
    out = table[~table["used"]].copy()
    keys = pd.MultiIndex.from_arrays([out.place_code, out.metric, out.year - 1])
    out["last_observed"] = before["observed"].reindex(keys).to_numpy()
    out["last_simulated"] = before["simulated"].reindex(keys).to_numpy()
    out["change_weight"] = out.metric.map(change_weight(table)).fillna(1.0)
    change = out.simulated - out.last_simulated
    common = change.groupby(out.metric).transform("mean")
    out["forecast"] = out.last_observed + change - (1.0 - out.change_weight) * (change - common)
    out["persistence"] = out["last_observed"]
    out["ar1"] = np.nan
    for metric, g in out.groupby("metric"):
        in_sample = table[(table.metric == metric) & table["used"]]
        a, b = pooled_ar1(in_sample)
        out.loc[g.index, "ar1"] = a + b * out.loc[g.index, "last_observed"]
    return out


def change_spread(in_sample: pd.DataFrame) -> pd.Series:
    """Root mean square of the published one-year changes around each year's mean change.

    Parameters
    ----------
    in_sample : pandas.DataFrame
        ``place_code, metric, year, observed`` of the years fitted.

    Returns
    -------
    pandas.Series
        Per metric, in rate units (fractions); a series with no consecutive pair of years
        is left out.
    """
    def spread(changes: list[pd.Series]) -> float | None:
        centred = pd.concat([c - c.mean() for c in changes]).dropna() if changes else pd.Series(dtype=float)
        return float(np.sqrt(np.mean(centred**2))) if len(centred) else None

    return _per_series(in_sample, spread)


def common_change_spread(in_sample: pd.DataFrame) -> pd.Series:
    """Root mean square of each in-sample year's mean one-year change over places.

    A forecast predicts the change common to all places no better than its typical size:
    the national change of one year says little about the next (NEET 16-17 fell 0.24
    points on average in 2022 and rose 0.23 in 2023), so this is the interval's part for
    the common change.

    Parameters
    ----------
    in_sample : pandas.DataFrame
        ``place_code, metric, year, observed`` of the years fitted.

    Returns
    -------
    pandas.Series
        Per metric, in rate units (fractions); a series with no consecutive pair of years
        is left out.
    """
    return _per_series(in_sample, lambda changes: float(np.sqrt(np.mean([c.mean() ** 2 for c in changes]))) if changes else None)


def change_correlation(observed: pd.DataFrame) -> pd.Series:
    """Correlation over places of each one-year change with the next one, averaged over years.

    Near 1 when places that moved one year move the same way the next (a place trend that
    goes on), near 0 when a place's change says nothing of its next, and negative when
    changes undo each other (noise in the published estimates). It is the evidence for how
    far a fitted place trend should be carried beyond its data (``world.trend_damping``).

    Parameters
    ----------
    observed : pandas.DataFrame
        ``place_code, metric, year, observed``.

    Returns
    -------
    pandas.Series
        Per metric; a series with fewer than three consecutive years is left out.
    """
    def persistence(changes: list[pd.Series]) -> float | None:
        pairs = [r for r in (first.corr(second) for first, second in zip(changes, changes[1:])) if np.isfinite(r)]
        return float(np.mean(pairs)) if pairs else None

    return _per_series(observed, persistence)


def _held_changes(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Each column's change from the year before into the held-out year, one row per held-out moment, indexed by metric."""
    values = table.set_index(["place_code", "metric", "year"])[columns]
    held = table.loc[~table["used"], ["place_code", "metric", "year"]]
    later = values.reindex(pd.MultiIndex.from_frame(held)).to_numpy()
    earlier = values.reindex(pd.MultiIndex.from_arrays([held.place_code, held.metric, held.year - 1])).to_numpy()
    return pd.DataFrame(later - earlier, columns=columns, index=held.metric.to_numpy())


def monte_carlo_change_sd(table: pd.DataFrame) -> pd.Series:
    """Monte Carlo standard deviation of the model's predicted one-year change, per series.

    The change a replicate simulates from the last in-sample year to the held-out year
    varies between replicates; its variance over them, divided by their number, is the
    variance of the mean the forecast uses. With few replicates a place's own estimate is
    rough, so it is pooled over places (the root of their mean variance).

    Parameters
    ----------
    table : pandas.DataFrame
        A fit's table as for :func:`with_forecasts`, with one ``replicate_<r>`` column per
        replicate (at least two).

    Returns
    -------
    pandas.Series
        Per metric, in rate units (fractions); empty with fewer than two replicates.
    """
    columns = [c for c in table if c.startswith("replicate_")]
    if len(columns) < 2:
        return pd.Series(dtype=float)
    changes = _held_changes(table, columns)
    variance = pd.Series(np.var(changes.to_numpy(), axis=1, ddof=1) / len(columns), index=changes.index)
    return np.sqrt(variance.dropna().groupby(level=0).mean())


def change_weight(table: pd.DataFrame) -> pd.Series:
    """How much of the places' spread in simulated change into the held-out year is not Monte Carlo error.

    Across places the simulated changes ``d`` spread with variance ``s2``; each is the mean
    of a few replicates, off its expected change by Monte Carlo error of pooled variance
    ``m2`` (:func:`monte_carlo_change_sd` squared). The expected changes then spread with
    ``t2 = max(s2 - m2, 0)``, and the best linear estimate of a place's expected change
    weights its own simulated change, about the mean over places, by ``t2 / (t2 + m2)``
    (empirical Bayes; James & Stein 1961). The remaining error of that estimate has
    variance ``weight * m2``. 1 (no pooling) when there are fewer than two replicates.

    Parameters
    ----------
    table : pandas.DataFrame
        A fit's table as for :func:`monte_carlo_change_sd`.

    Returns
    -------
    pandas.Series
        Per metric, in [0, 1]; empty with fewer than two replicates.
    """
    noise = monte_carlo_change_sd(table) ** 2
    if noise.empty:
        return noise
    spread = _held_changes(table, ["simulated"])["simulated"].dropna().groupby(level=0).var(ddof=1)
    signal = (spread - noise).clip(lower=0.0)
    return (signal / (signal + noise)).fillna(1.0).reindex(noise.index)


def with_intervals(
    held: pd.DataFrame, in_sample: pd.DataFrame, trend_sd: pd.Series, monte_carlo_sd: pd.Series | None = None,
) -> pd.DataFrame:
    """Add the model forecast's 90% prediction interval to a held-out table.

    Parameters
    ----------
    held : pandas.DataFrame
        A table from :func:`with_forecasts`.
    in_sample : pandas.DataFrame
        The published moments of the years fitted (``place_code, metric, year, observed``):
        the spread of their one-year changes about each year's mean (:func:`change_spread`)
        and the size of those means (:func:`common_change_spread`) are the interval's first
        two parts.
    trend_sd : pandas.Series
        Indexed by ``(place_code, metric)``: the standard deviation of the predicted change
        owed to the place's fitted trend; a place without one adds nothing.
    monte_carlo_sd : pandas.Series, optional
        Per metric: the Monte Carlo standard deviation of the simulated change
        (:func:`monte_carlo_change_sd`); a metric without one adds nothing. The forecast
        carries it times the root of its ``change_weight`` (what pooling leaves).

    Returns
    -------
    pandas.DataFrame
        ``held`` with ``forecast_sd``, ``low_90``, ``high_90`` and ``inside_90`` (the
        observation lies within the interval around ``forecast``, ends included).
    """
    spread, common = change_spread(in_sample), common_change_spread(in_sample)
    own = np.array([trend_sd.get((c, m), 0.0) for c, m in held[["place_code", "metric"]].itertuples(index=False)])
    out = held.copy()
    chance = held.metric.map(pd.Series(dtype=float) if monte_carlo_sd is None else monte_carlo_sd).fillna(0.0).to_numpy(dtype=float)
    chance = chance * np.sqrt(held["change_weight"].to_numpy(dtype=float))
    parts = [held.metric.map(part).to_numpy(dtype=float) for part in (spread, common)]
    out["forecast_sd"] = np.sqrt(parts[0] ** 2 + parts[1] ** 2 + own**2 + chance**2)
    out["low_90"] = out.forecast - Z90 * out.forecast_sd
    out["high_90"] = out.forecast + Z90 * out.forecast_sd
    out["inside_90"] = (out.observed >= out.low_90) & (out.observed <= out.high_90)
    return out


def _rank_correlation(predicted_change: pd.Series, observed_change: pd.Series) -> float:
    keep = predicted_change.notna() & observed_change.notna()
    if keep.sum() < 3 or predicted_change[keep].nunique() < 2 or observed_change[keep].nunique() < 2:
        return float("nan")
    return float(stats.spearmanr(predicted_change[keep], observed_change[keep]).statistic)


def score(held: pd.DataFrame, observed: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mean absolute errors and rank correlations of each forecast, per series.

    Parameters
    ----------
    held : pandas.DataFrame
        A table from :func:`with_forecasts`.
    observed : pandas.DataFrame, optional
        Every published year of the series (``place_code, metric, year, observed``), for
        their :func:`change_correlation`; NaN without it.

    Returns
    -------
    pandas.DataFrame
        One row per metric: ``metric, held_out_year, places, model_mae`` (the model's
        forecast from the latest data), ``model_level_mae`` (its simulated level),
        ``persistence_mae, ar1_mae``, ``same_change_floor_mae`` (the same-change floor, see
        the module's docstring; fractions), ``model_rank_correlation,
        ar1_rank_correlation`` (Spearman, predicted against observed change),
        ``change_weight`` (:func:`change_weight`), ``coverage_90``, ``change_correlation``, ``better`` (``"model"`` when its forecast's MAE is below
        persistence's, else ``"persistence"``) and ``best`` (the forecast with the lowest
        MAE: ``"model"``, ``"persistence"`` or ``"ar1"``; the level is not a contender).
    """
    persists = change_correlation(observed) if observed is not None else pd.Series(dtype=float)
    rows = []
    for metric, g in held.groupby("metric", sort=False):
        g = g[g["last_observed"].notna()]
        mae = {name: float((g[name] - g.observed).abs().mean()) for name in FORECASTS}
        change = g.observed - g.last_observed
        best = min(("forecast", "persistence", "ar1"), key=mae.get)
        rows.append({
            "metric": metric,
            "held_out_year": int(g.year.max()),
            "places": int(g.place_code.nunique()),
            "model_mae": mae["forecast"],
            "model_level_mae": mae["simulated"],
            "persistence_mae": mae["persistence"],
            "ar1_mae": mae["ar1"],
            "same_change_floor_mae": float((change - change.median()).abs().mean()),
            "model_rank_correlation": _rank_correlation(g.forecast - g.last_observed, change),
            "ar1_rank_correlation": _rank_correlation(g.ar1 - g.last_observed, change),
            "change_weight": float(g["change_weight"].iloc[0]),
            "coverage_90": float(g["inside_90"].mean()) if "inside_90" in g else float("nan"),
            "change_correlation": float(persists.get(metric, np.nan)),
            "better": "model" if mae["forecast"] < mae["persistence"] else "persistence",
            "best": "model" if best == "forecast" else best,
        })
    return pd.DataFrame(rows)
